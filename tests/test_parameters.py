"""Notebook parameters: typed for ``papermill --help-notebook``; an undeclared name or a count below 1 stops the run.

``config.setup`` is the cell right after the parameters (and imports): it compares the names papermill injected
(IPython's ``In`` history) with the annotated names of the ``parameters`` cell.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from zmixlib.protocol import config, profiles

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: what each annotation of a knob accepts (the base type inside ``Optional[...]``)
BASE = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,), "list": (list, tuple), "dict": (dict,)}
COMMON_TYPES = {"profile": "str", "device": "str", "seed": "int", "data_root": "Optional[str]"}
COMMON_TYPES["results_dir"] = "Optional[str]"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_parameter_has_a_type_and_a_help_text(path):
    params = papermill.inspect_notebook(str(path))
    assert params, f"{path.stem}: papermill finds no parameters"
    for name, p in params.items():
        assert p["inferred_type_name"] not in ("None", ""), f"{path.stem}: {name} has no type annotation"
        assert p["help"], f"{path.stem}: {name} has no '# help' comment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_types_match_the_profile_defaults(path):
    params = papermill.inspect_notebook(str(path))
    table = profiles.sizes(path.stem)
    for name, p in params.items():
        annotation = p["inferred_type_name"]
        if name in COMMON_TYPES:
            assert annotation == COMMON_TYPES[name], f"{path.stem}: {name}: {annotation}"
            continue
        assert annotation.startswith("Optional[") and p["default"] == "None", f"{path.stem}: {name}: {annotation}"
        base = annotation.removeprefix("Optional[").removesuffix("]")
        for profile, sizes in table.items():
            value = sizes[name]
            assert value is None or (
                isinstance(value, BASE[base]) and not (base != "bool" and isinstance(value, bool))
            ), f"{path.stem}: {name} is annotated {annotation} but its {profile!r} default is {value!r}"


def test_help_notebook_shows_the_types():
    out = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(ROOT / "notebooks" / "04_natural.ipynb")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Unknown type" not in out
    assert "epochs: Optional[int] (default None)" in out and 'profile: str (default "smoke")' in out


def _namespace(chapter: str, injected: str | None = None, **given) -> dict:
    """A kernel's globals after the parameters cell (annotated) and, if given, papermill's injected cell."""
    names = ["profile", "device", "seed", "data_root", "results_dir", *profiles.sizes(chapter)["paper"]]
    ns = {"profile": "smoke", "device": "cpu", "seed": 0, "data_root": None, "results_dir": None}
    ns.update({k: None for k in names if k not in ns})
    ns["__annotations__"] = {k: object for k in names}
    ns["In"] = [
        "",
        "profile: str = 'smoke'\n...",
        *([injected] if injected else []),
        "from zmixlib.protocol import config",
    ]
    ns.update(given)
    return ns


class TestUnknownName:
    def test_names_the_unknown_parameter_and_the_nearest_declared_one(self):
        ns = _namespace("04_natural", "# Parameters\nepoch = 3\n", epoch=3)
        with pytest.raises(ValueError) as err:
            config.setup("04_natural", ns, verbose=False)
        message = str(err.value)
        assert message.startswith("04_natural: unknown parameter 'epoch' (nearest: 'epochs')")
        assert "\n" not in message

    def test_several_unknown_names(self):
        ns = _namespace("00_theorems", "# Parameters\nn_lambd = 7\nsed = 1\nprofile = 'smoke'\n")
        with pytest.raises(ValueError, match=r"'n_lambd' \(nearest: 'n_lambda'\), 'sed' \(nearest: 'seed'\);"):
            config.check_parameter_names("00_theorems", ns)

    def test_declared_names_pass(self):
        ns = _namespace("04_natural", "# Parameters\nepochs = 3\nprofile = 'smoke'\n", epochs=3)
        assert config.setup("04_natural", ns, verbose=False).epochs == 3

    def test_only_papermills_cell_counts(self):
        # our own parameters cells start "# Parameters (papermill: ...)": not an injected cell
        ns = _namespace("00_theorems", "# Parameters (papermill: -p NAME VALUE)\nanything = 1\n")
        config.check_parameter_names("00_theorems", ns)
        config.check_parameter_names("00_theorems", {k: v for k, v in ns.items() if k != "In"})  # not a kernel

    def test_without_annotations_the_chapters_knobs_are_the_declared_names(self):
        ns = _namespace("00_theorems", "# Parameters\nn_gama = 5\n")
        del ns["__annotations__"]
        with pytest.raises(ValueError, match=r"unknown parameter 'n_gama' \(nearest: 'n_gamma'\)"):
            config.check_parameter_names("00_theorems", ns)


@pytest.mark.parametrize("name", ["workers", "threads"])
@pytest.mark.parametrize("value", [0, -1, 1.5])
def test_counts_below_one_are_refused(name, value):
    with pytest.raises(ValueError, match=rf"{name} must be an integer >= 1 or None \(.+\), got {value!r}"):
        config.setup("04_natural", _namespace("04_natural", **{name: value}), verbose=False)


def test_counts_of_one_and_more_pass():
    p = config.setup("04_natural", _namespace("04_natural", workers=2, threads=1), verbose=False)
    assert p.workers == 2 and p.threads == 1


@pytest.mark.slow
def test_plain_papermill_stops_a_misspelled_parameter_in_the_setup_cell(tmp_path):
    out = tmp_path / "out.ipynb"
    nb_path = ROOT / "notebooks" / "00_theorems.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(nb_path), str(out), "-p", "n_lambd", "7", "-k", "python3"]
    run = subprocess.run([*cmd, "--cwd", str(ROOT), "--no-progress-bar"], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "00_theorems: unknown parameter 'n_lambd' (nearest: 'n_lambda')" in run.stdout + run.stderr
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    failed = [i for i, c in enumerate(code) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(failed) == 1
    tags = [c.metadata.get("tags", []) for c in code]
    assert "parameters" in tags[0] and "injected-parameters" in tags[1]
    cell = code[failed[0]]
    assert "config.setup(" in cell.source and failed[0] == 3  # parameters, injected, imports, then setup
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    assert error.ename == "ValueError"
