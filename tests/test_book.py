"""The book runner and the notebook conventions every chapter follows."""

from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from zmixlib import book, config

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
    assigned = {line.split("=")[0].strip() for line in code[0].source.splitlines() if "=" in line.split("#")[0]}
    assert assigned == set(params), f"papermill cannot parse parameter line(s) for {sorted(assigned - set(params))}"
    assert "config.setup(" in code[1].source, "the second code cell validates the parameters via config.setup"
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
        book.run("smoke", "cpu", ["00"], {"no_such_knob": 1}, html=False)


def test_failing_notebook_names_the_cell_and_error(tmp_path, monkeypatch):
    src = tmp_path / "99_broken.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('profile = "smoke"\ndevice = "auto"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise RuntimeError('boom')"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src)
    monkeypatch.setattr(book, "BUILD", tmp_path / "build")
    out = tmp_path / "out"
    with pytest.raises(book.NotebookFailed, match=r"(?s)99_broken.ipynb failed in cell \d.*RuntimeError: boom"):
        book.execute(src, {"profile": "smoke"}, out)
    assert not (out / src.name).exists(), "a failed notebook never lands among the executed ones"
    assert (tmp_path / "build" / "failed" / src.name).exists()


def test_execute_writes_parameters_beside_the_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(book, "BUILD", tmp_path / "build")
    done = book.execute(NOTEBOOKS[0], {"profile": "smoke", "device": "cpu"}, tmp_path / "out")
    meta = yaml.safe_load((tmp_path / "out" / "00_theorems.params.yaml").read_text())
    assert meta["parameters"] == {"profile": "smoke", "device": "cpu"}
    assert meta["wall_time_s"] == pytest.approx(done.wall_s, abs=0.01)
    executed = nbformat.read(done.path, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)


class TestConfig:
    def test_profile_defaults_and_overrides(self, capsys):
        sizes = {"smoke": {"n": 10}, "offline": {"n": 1000}}
        p = config.setup("offline", "cpu", sizes=sizes, n=None, data_root=None, verbose=True)
        assert p.n == 1000 and p.sources["n"] == "offline profile default"
        assert p.data_root == str(config.ROOT / "data")
        assert "profile 'offline'" in capsys.readouterr().out
        assert config.setup("smoke", "cpu", sizes=sizes, n=3, verbose=False).n == 3

    def test_bad_values_are_named(self):
        with pytest.raises(ValueError, match=r"profile must be one of \['smoke', 'offline', 'paper'\], got 'fast'"):
            config.setup("fast")
        with pytest.raises(ValueError, match=r"device must be one of"):
            config.setup("smoke", "gpu")
        with pytest.raises(TypeError, match=r"n must be int like its 'smoke' default 10, got 'ten'"):
            config.setup("smoke", sizes={"smoke": {"n": 10}}, n="ten", verbose=False)

    @pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the no-GPU error")
    def test_cuda_without_gpu_is_an_error(self):
        with pytest.raises(ValueError, match=r"device='cuda' was requested but torch.cuda.is_available\(\) is False"):
            config.resolve_device("cuda")


def test_executed_notebooks_keep_their_figures(tmp_path, monkeypatch):
    """make exports MPLBACKEND=Agg for the tests; the runner must not pass it to the book's kernels."""
    import nbformat as nbf

    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(book, "BUILD", tmp_path / "build")
    done = book.execute(NOTEBOOKS[0], {"profile": "smoke"}, tmp_path / "out")
    outputs = [o for c in nbf.read(done.path, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs)
