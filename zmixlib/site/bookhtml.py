"""What the built book carries and what its HTML must satisfy: a self-contained book that opens with results.

**MathJax, served from the build.** The pages typeset their math with MathJax 3, which Sphinx would load
from a public CDN; offline (an air-gapped cluster, an archived copy) the math would show as raw LaTeX.
:func:`obtain_mathjax` fetches the npm package :data:`MATHJAX_SPEC` once, like the datasets (``npm pack``:
downloads the tarball, installs nothing; checked against :data:`MATHJAX_TARBALL_SHA256`), into
:data:`MATHJAX_DIR` (``data/mathjax``, ignored by git); ``make data`` and every book build call it, and it
fails naming the command that fixes it. :func:`stage_mathjax` copies it into the staged book, where
``_config.yml`` (``html_static_path``, ``mathjax_path``) makes Sphinx serve it from ``_static/mathjax/``.

**Checks over the built HTML** (the book runner runs :func:`check_book` after every build):

- :func:`external_loads`: a page, or a stylesheet of the build, that loads a script, stylesheet, font,
  image or frame from another host. Links a reader clicks (``<a href>``, ``rel="next"``) are not loads.
- :func:`page_opening`: how many output lines a page shows before its first table or figure
  (:data:`MAX_OPENING_LINES` at most) and which run ids (16 hex digits) it shows outside folded content
  (:data:`MAX_VISIBLE_RUN_IDS` at most): a page opens with its result, and run lists are folded or on the
  build report. :data:`KNOWN_LONG_OPENINGS` lists the pages that do not yet; they are reported, not failed.
- :func:`first_table_width`: the pages of :data:`NARROW_FIRST_TABLE` (the ledger) open with a table narrow enough
  for the text column — at most :data:`NARROW_MAX_COLUMNS` columns and an estimated min-content width (the
  longest unbreakable word of each column, :data:`TABLE_CHAR_PX` per character plus :data:`CELL_PADDING_PX`) of
  at most :data:`TEXT_COLUMN_PX`. A table cannot be laid out narrower than its min-content width, so one over
  the column is cut off or scrolls; the estimate is of the theme's font, the screenshot test the ground truth.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from zmixlib.core.util import ROOT, sha256_of

__all__ = [
    "MATHJAX_SPEC",
    "MATHJAX_DIR",
    "MATHJAX_ENTRY",
    "STATIC_DIR",
    "MathJaxUnavailable",
    "mathjax_present",
    "obtain_mathjax",
    "stage_mathjax",
    "MAX_OPENING_LINES",
    "MAX_VISIBLE_RUN_IDS",
    "KNOWN_LONG_OPENINGS",
    "UNCHECKED_PAGES",
    "RUN_ID",
    "external_loads",
    "external_css_urls",
    "Opening",
    "page_opening",
    "opening_problems",
    "BookCheck",
    "check_book",
    "NARROW_FIRST_TABLE",
    "NARROW_MAX_COLUMNS",
    "TEXT_COLUMN_PX",
    "TABLE_CHAR_PX",
    "CELL_PADDING_PX",
    "first_table_width",
    "narrow_table_problems",
]

# ----------------------------------------------------------------------------------------------
# MathJax
# ----------------------------------------------------------------------------------------------

MATHJAX_VERSION = "3.2.2"
#: What ``npm pack`` fetches: the last MathJax 3 release (``mathjax@3`` resolves to it), pinned.
MATHJAX_SPEC = f"mathjax@{MATHJAX_VERSION}"
#: SHA-256 of ``mathjax-3.2.2.tgz`` as the npm registry serves it.
MATHJAX_TARBALL_SHA256 = "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
#: Where it is kept once fetched (ignored by git, like the datasets under ``data/``).
MATHJAX_DIR = ROOT / "data" / "mathjax"
#: The component the pages load (TeX and MathML in, CommonHTML out: what Sphinx's default CDN URL names).
MATHJAX_ENTRY = "es5/tex-mml-chtml.js"
#: The staged book's extra static folder (``html_static_path`` in ``_config.yml``); its ``mathjax/`` lands in
#: ``_static/mathjax/`` of the HTML, which ``mathjax_path: mathjax/es5/tex-mml-chtml.js`` names. Not
#: ``_static``: Jupyter Book adds every ``.js`` under a source ``_static`` folder to every page.
STATIC_DIR = "_offline_static"
#: Files of the package's ``es5/`` left out: the other combined components (the pages load one), the
#: SVG output, the node entry and ``latest.js`` (which loads from a CDN).
_MATHJAX_SKIP = re.compile(
    r"es5/(?:(?!tex-mml-chtml\.js$|core\.js$|loader\.js$|startup\.js$)[^/]+\.js$|output/svg(?:\.js$|/))"
)
_MATHJAX_FIX = (
    f"run `make data` (it runs `npm pack {MATHJAX_SPEC}`) on a machine that reaches the npm registry "
    f"(needs npm: `sudo apt-get install npm`), or copy {MATHJAX_DIR.relative_to(ROOT)}/ from a machine where it worked"
)


class MathJaxUnavailable(RuntimeError):
    """MathJax is not under :data:`MATHJAX_DIR` and could not be fetched; the message says how to fix it."""


def mathjax_present(folder: Path = MATHJAX_DIR) -> bool:
    """Whether ``folder`` holds a complete copy (written last: the ``VERSION`` stamp)."""
    stamp = folder / "VERSION"
    return (folder / MATHJAX_ENTRY).is_file() and stamp.is_file() and stamp.read_text().strip() == MATHJAX_SPEC


def obtain_mathjax(folder: Path = MATHJAX_DIR, *, npm: str = "npm", timeout: float = 300.0, log=print) -> Path:
    """Make :data:`MATHJAX_SPEC` present under ``folder`` (``npm pack``, checked, unpacked); return ``folder``.

    Nothing to do when it is there already. The tarball is unpacked beside ``folder`` and renamed into
    place, so a failed fetch leaves nothing. Raises :class:`MathJaxUnavailable` naming the fix.
    """
    folder = Path(folder)
    if mathjax_present(folder):
        log(f"MathJax: present ({MATHJAX_SPEC} in {folder})")
        return folder
    if shutil.which(npm) is None:
        raise MathJaxUnavailable(f"MathJax is not in {folder} and {npm} is not on PATH: {_MATHJAX_FIX}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".mathjax-", dir=folder.parent) as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false"}
        try:
            r = subprocess.run(
                [npm, "pack", MATHJAX_SPEC], cwd=tmp, capture_output=True, text=True, timeout=timeout, env=env
            )
        except subprocess.TimeoutExpired:
            raise MathJaxUnavailable(f"`{npm} pack {MATHJAX_SPEC}` took over {timeout:.0f} s: {_MATHJAX_FIX}") from None
        tarballs = sorted(tmp.glob("*.tgz"))
        if r.returncode != 0 or not tarballs:
            lines = [line.strip() for line in (r.stderr + r.stdout).splitlines() if line.strip()]
            errors = [line for line in lines if line.startswith(("npm ERR!", "npm error"))] or lines or ["no .tgz"]
            raise MathJaxUnavailable(f"`{npm} pack {MATHJAX_SPEC}` failed ({errors[-1]}): {_MATHJAX_FIX}")
        digest = sha256_of(tarballs[0])
        if digest != MATHJAX_TARBALL_SHA256:
            raise MathJaxUnavailable(
                f"{tarballs[0].name}: SHA-256 {digest}, expected {MATHJAX_TARBALL_SHA256}; not the published "
                f"{MATHJAX_SPEC}: {_MATHJAX_FIX}"
            )
        unpacked = tmp / "unpacked"
        with tarfile.open(tarballs[0]) as tar:
            keep = [
                m
                for m in tar.getmembers()
                if m.name in ("package/LICENSE", "package/package.json")
                or (m.name.startswith("package/es5/") and not _MATHJAX_SKIP.match(m.name.removeprefix("package/")))
            ]
            tar.extractall(unpacked, members=keep, filter="data")
        (unpacked / "package" / "VERSION").write_text(MATHJAX_SPEC + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.rename(unpacked / "package", folder)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    log(f"MathJax: fetched {MATHJAX_SPEC} with `npm pack` into {folder} ({size:.1f} MB kept)")
    return folder


def stage_mathjax(stage: Path, folder: Path = MATHJAX_DIR) -> Path:
    """Copy MathJax from ``folder`` into the staged book (``<stage>/_offline_static/mathjax``); return it."""
    if not mathjax_present(folder):
        raise MathJaxUnavailable(f"MathJax is not in {folder}: {_MATHJAX_FIX}")
    target = Path(stage) / STATIC_DIR / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("VERSION"))
    return target


# ----------------------------------------------------------------------------------------------
# External loads
# ----------------------------------------------------------------------------------------------

#: ``<link rel=…>`` values that make the browser fetch (or contact) ``href``; others (next, prev, index,
#: canonical, search) are links a reader follows.
_LOADING_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "preconnect",
    "dns-prefetch",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "manifest",
}
_SRC_TAGS = {"script", "img", "iframe", "embed", "source", "audio", "video", "track", "input"}
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, file://, //host
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.I)


def _remote(url: str | None) -> bool:
    return bool(url) and bool(_REMOTE.match(url))


def external_css_urls(css: str) -> list[str]:
    """The ``url(...)`` and ``@import`` targets of a stylesheet that live on another host."""
    return [u for m in _CSS_URL.finditer(css) for u in m.groups() if u and _remote(u)]


class _LoadFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        urls: list[tuple[str, str | None]] = []
        if tag in _SRC_TAGS:
            urls.append((f"<{tag} src>", a.get("src")))
            urls += [(f"<{tag} srcset>", u.split()[0]) for u in (a.get("srcset") or "").split(",") if u.strip()]
        if tag == "link" and _LOADING_RELS & set((a.get("rel") or "").lower().split()):
            urls.append((f"<link rel={a.get('rel')}>", a.get("href")))
        if tag == "object":
            urls.append(("<object data>", a.get("data")))
        if tag in ("video",):
            urls.append(("<video poster>", a.get("poster")))
        self.found += [f"{what} {url}" for what, url in urls if _remote(url)]
        self.found += [f"<{tag} style> url({u})" for u in external_css_urls(a.get("style") or "")]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += [f"<style> url({u})" for u in external_css_urls(data)]


def external_loads(html: str) -> list[str]:
    """What a page loads from another host, one ``"<tag attr> URL"`` entry each (empty: self-contained)."""
    finder = _LoadFinder()
    finder.feed(html)
    finder.close()
    return finder.found


# ----------------------------------------------------------------------------------------------
# How a page opens
# ----------------------------------------------------------------------------------------------

#: Output lines a page may show before its first table or figure (a provenance line, a short summary,
#: a claim printed with its numbers); one screen of 1,800 px holds the title, the claim and this much.
MAX_OPENING_LINES = 12
#: Distinct run ids a page may show outside folded content (a summary naming one or two runs); more is
#: a run list, which belongs folded (``hide-output``) or on the build report.
MAX_VISIBLE_RUN_IDS = 2
#: A run id: 16 hex digits standing alone, with a letter among them (commits are shown with 10 digits,
#: checksums with 64; 16 digits after a point are a float's: γ_min = 1.7286472389981835).
RUN_ID = re.compile(r"(?<![0-9A-Za-z.])(?=[0-9]*[a-f])[0-9a-f]{16}(?![0-9A-Za-z])")
#: Pages (``notebooks/NN_name.html``) known to open with more output than MAX_OPENING_LINES or to show a
#: run id list: the ONE place to list them while they are reworked. The book runner reports them without
#: failing the build; a listed page that passes is reported too, to leave the list. Empty: every page of
#: the smoke book passes (page 04 before it opened with its results: 17 lines, 6 run ids).
KNOWN_LONG_OPENINGS: frozenset[str] = frozenset()
#: Pages the opening check skips: Sphinx's own, and the build report (where run lists may go).
UNCHECKED_PAGES = frozenset({"genindex.html", "search.html", "build_report.html"})

_RESULT_TAGS = {"table", "img", "svg", "figure", "canvas", "video"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Opening:
    """How a page opens: ``lines``: output lines shown before ``first_result`` (the first visible table
    or figure; None: the page has none, and every shown output line counts); ``run_ids``: distinct run
    ids shown anywhere outside folded content, in page order; ``shown``: the output lines counted."""

    lines: int = 0
    first_result: str | None = None
    run_ids: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)


class _OpeningReader(HTMLParser):
    """Walks the page's article; tracks folded content (a closed ``<details>``, ``hidden``, a
    ``toggle-hidden`` class), output areas (``cell_output``) and their ``<pre>`` text."""

    def __init__(self, whole: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.opening = Opening()
        self._stack: list[tuple[str, bool, bool, bool]] = []  # tag, in article, hidden, in output
        self._pre: list[str] | None = None
        self._pre_depth = 0
        self._whole = whole

    def _state(self) -> tuple[bool, bool, bool]:
        return self._stack[-1][1:] if self._stack else (self._whole, False, False)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        article, hidden, output = self._state()
        classes = set((a.get("class") or "").split())
        article = article or tag == "article"
        hidden = hidden or (tag == "details" and "open" not in a) or "hidden" in a or "toggle-hidden" in classes
        hidden = hidden or "display:none" in (a.get("style") or "").replace(" ", "")
        output = output or "cell_output" in classes or "output" in classes
        if tag in _VOID:
            self._visit(tag, article, hidden, output)
            return
        self._stack.append((tag, article, hidden, output))
        self._visit(tag, article, hidden, output)

    def _visit(self, tag, article, hidden, output):
        o = self.opening
        if not article or hidden:
            return
        if tag in _RESULT_TAGS and o.first_result is None:
            o.first_result = tag
        if tag == "pre" and output:
            self._pre, self._pre_depth = [], len(self._stack)
        if tag in ("li", "p") and output and o.first_result is None:  # an item, a Markdown output's paragraph
            o.lines += 1

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        for i in range(len(self._stack) - 1, -1, -1):  # tolerate unclosed tags (<p> in HTML)
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break
        if tag == "pre" and self._pre is not None and len(self._stack) < self._pre_depth:
            text = "".join(self._pre).strip("\n")
            if self.opening.first_result is None and text.strip():
                lines = [line for line in text.splitlines()]
                self.opening.lines += len(lines)
                self.opening.shown += lines
            self._pre = None

    def handle_data(self, data):
        article, hidden, _ = self._state()
        if not article or hidden:
            return
        if self._pre is not None:
            self._pre.append(data)
        for rid in RUN_ID.findall(data):
            if rid not in self.opening.run_ids:
                self.opening.run_ids.append(rid)


def page_opening(html: str) -> Opening:
    """Read how a built page opens (see :class:`Opening`). Only the page's ``<article>`` is read (all of
    it when it has none: a snippet); text in a closed ``<details>`` is folded, not shown."""
    reader = _OpeningReader(whole=re.search(r"<article[\s>]", html, re.I) is None)
    reader.feed(html)
    reader.close()
    return reader.opening


def opening_problems(
    html: str, *, max_lines: int = MAX_OPENING_LINES, max_run_ids: int = MAX_VISIBLE_RUN_IDS
) -> list[str]:
    """Why a page does not open with its result: too many output lines before its first table or figure,
    or a visible run id list. Empty when it does."""
    o = page_opening(html)
    problems = []
    if o.lines > max_lines:
        where = f"before its first {o.first_result}" if o.first_result else "and no table or figure"
        first = next((line.strip() for line in o.shown if line.strip()), "")
        problems.append(f"{o.lines} output lines shown {where} (at most {max_lines}); first: {first[:80]!r}")
    if len(o.run_ids) > max_run_ids:
        problems.append(
            f"shows {len(o.run_ids)} run ids (at most {max_run_ids}; fold the run list with hide-output or move "
            f"it to the build report): {', '.join(o.run_ids[:4])}{' …' if len(o.run_ids) > 4 else ''}"
        )
    return problems


#: pages whose first table must fit the text column: the ledger, whose verdicts must be seen at a glance
NARROW_FIRST_TABLE = frozenset({"notebooks/12_ledger.html"})
#: at most this many columns in such a table
NARROW_MAX_COLUMNS = 6
#: the book theme's text column at a 1300 px window (headless Chromium, 1300 × 1800: about 690 px)
TEXT_COLUMN_PX = 690
#: width of one character of a table at the theme's 0.85 em (an upper estimate for its sans-serif), and of a
#: cell's horizontal padding
TABLE_CHAR_PX = 8.0
CELL_PADDING_PX = 16


class _TableReader(HTMLParser):
    """The cells' text of the first visible table of the page's article, per row."""

    def __init__(self, whole: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._stack: list[tuple[str, bool, bool]] = []  # tag, in article, hidden
        self._depth: int | None = None  # stack depth of the table once found
        self._cell: list[str] | None = None
        self._done = False
        self._whole = whole

    def handle_starttag(self, tag, attrs):
        if tag in _VOID or self._done:
            return
        a = dict(attrs)
        article, hidden = self._stack[-1][1:] if self._stack else (self._whole, False)
        article = article or tag == "article"
        hidden = hidden or (tag == "details" and "open" not in a) or "hidden" in a
        hidden = hidden or "display:none" in (a.get("style") or "").replace(" ", "")
        self._stack.append((tag, article, hidden))
        if tag == "table" and self._depth is None and article and not hidden:
            self._depth = len(self._stack)
        elif self._depth is not None and tag == "tr":
            self.rows.append([])
        elif self._depth is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in _VOID or self._done:
            return
        if self._depth is not None and tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break
        if self._depth is not None and len(self._stack) < self._depth:
            self._done = True

    def handle_data(self, data):
        if self._cell is not None and not self._done:
            self._cell.append(data)


def first_table_width(html: str) -> tuple[int, float]:
    """``(columns, min-content width in px)`` of the first visible table of the page's article (``(0, 0.0)``
    without one): per column, the longest unbreakable word of its cells × :data:`TABLE_CHAR_PX` plus
    :data:`CELL_PADDING_PX`, summed over the columns."""
    reader = _TableReader(whole=re.search(r"<article[\s>]", html, re.I) is None)
    reader.feed(html)
    reader.close()
    columns = max((len(r) for r in reader.rows), default=0)
    longest = [0] * columns
    for row in reader.rows:
        for i, text in enumerate(row):
            longest[i] = max(longest[i], max((len(w) for w in text.split()), default=0))
    return columns, float(sum(n * TABLE_CHAR_PX + CELL_PADDING_PX for n in longest))


def narrow_table_problems(html: str) -> list[str]:
    """Why a page's first table does not fit the text column (see :func:`first_table_width`); empty when it does."""
    columns, width = first_table_width(html)
    problems = []
    if columns == 0:
        problems.append("opens with no table")
    if columns > NARROW_MAX_COLUMNS:
        problems.append(f"its first table has {columns} columns (at most {NARROW_MAX_COLUMNS})")
    if width > TEXT_COLUMN_PX:
        problems.append(f"its first table is at least {width:.0f} px wide (the text column: {TEXT_COLUMN_PX} px)")
    return problems


@dataclass
class BookCheck:
    """The checks of one built book: ``errors`` fail the build (external loads, openings of pages not in
    the known list); ``known``: pages of :data:`KNOWN_LONG_OPENINGS` that still fail; ``stale``: known
    pages that pass now (to leave the list)."""

    errors: list[str] = field(default_factory=list)
    known: dict[str, list[str]] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = []
        if self.known:
            lines.append(f"{len(self.known)} page(s) known not to open with their result yet (KNOWN_LONG_OPENINGS):")
            lines += [f"  {page}: {'; '.join(why)}" for page, why in sorted(self.known.items())]
        if self.stale:
            lines.append(f"open with their result now, remove from bookhtml.KNOWN_LONG_OPENINGS: {sorted(self.stale)}")
        if self.errors:
            lines.append("the built book fails its checks:")
            lines += [f"  {e}" for e in self.errors]
        return "\n".join(lines)


def check_book(html_dir: Path, known: frozenset[str] | set[str] = KNOWN_LONG_OPENINGS) -> BookCheck:
    """Check every page and stylesheet of the built book under ``html_dir`` (see the module docstring)."""
    html_dir = Path(html_dir)
    result = BookCheck()
    for css in sorted(html_dir.rglob("*.css")):
        for url in external_css_urls(css.read_text(encoding="utf-8", errors="replace")):
            result.errors.append(f"{css.relative_to(html_dir).as_posix()}: loads url({url}) from another host")
    for page in sorted(html_dir.rglob("*.html")):
        name = page.relative_to(html_dir).as_posix()
        if name.startswith("_static/") or name.startswith("_sources/"):
            continue
        html = page.read_text(encoding="utf-8", errors="replace")
        result.errors += [f"{name}: loads {load} from another host" for load in external_loads(html)]
        if name in NARROW_FIRST_TABLE:
            result.errors += [f"{name}: {p}" for p in narrow_table_problems(html)]
        if name in UNCHECKED_PAGES:
            continue
        problems = opening_problems(html)
        if name in known:
            if problems:
                result.known[name] = problems
            else:
                result.stale.append(name)
        else:
            result.errors += [f"{name}: {p}" for p in problems]
    return result
