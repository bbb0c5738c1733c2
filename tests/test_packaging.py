"""Packaging: the wheel's requirements, what ``import zmixlib.mixing`` loads, where files go, the release files.

The wheel itself is built and installed into a clean venv by ``make wheel-check`` (tools/wheel_check.py, run by
.ci/run after ``make test``); these tests check the same promises from the checkout, in seconds.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import torch
import yaml

import zmixlib
from zmixlib.core import util as _util

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CORE = {"torch", "numpy", "scipy"}
#: the modules ``pip install zmixlib`` (no extras) must be able to import: the mixing library
LIBRARY = [
    "zmixlib/__init__.py",
    "zmixlib/core/checks.py",
    "zmixlib/core/util.py",
    "zmixlib/core/theory.py",
    "zmixlib/engine/metrics.py",
]
#: top-level modules that only the extras bring
EXTRAS_MODULES = {"pandas", "papermill", "nbformat", "jupyter_core", "jupyter_client", "ipykernel", "IPython"}
EXTRAS_MODULES |= {"matplotlib", "seaborn", "torchvision", "sklearn", "skdim", "medmnist", "submitit", "yaml"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower()


def test_the_wheel_requires_torch_numpy_and_scipy_only():
    assert {_name(r) for r in PYPROJECT["project"]["dependencies"]} == CORE


def test_extras():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"book", "cluster", "medical", "geometry", "robust", "test", "all"} <= set(extras)
    assert {"papermill", "pandas", "jupyter-book", "ipykernel", "nbval", "matplotlib", "torchvision"} <= {
        _name(r) for r in extras["book"]
    }
    assert {_name(r) for r in extras["cluster"]} == {"submitit"}
    assert {_name(r) for r in extras["medical"]} == {"medmnist"}
    assert "scikit-dimension" in {_name(r) for r in extras["geometry"]}
    assert {_name(r) for r in extras["robust"]} == {"torchattacks"}
    (everything,) = extras["all"]
    assert set(everything.split("[")[1].rstrip("]").split(",")) == set(extras) - {"all"}


def test_the_version_lives_in_one_place():
    assert PYPROJECT["project"]["dynamic"] == ["version"] and "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "zmixlib.__version__"}
    assert re.fullmatch(r"0\.\d+\.\d+", zmixlib.__version__)
    assert f"## [{zmixlib.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def _imports(path: Path) -> set[str]:
    """Top-level modules a file imports at module level or inside functions (relative imports left out)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", [*LIBRARY, *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "zmixlib" / "mixing").glob("*.py"))]
)
def test_the_library_imports_only_the_standard_library_and_its_requirements(path):
    allowed = CORE | set(sys.stdlib_module_names) | {"zmixlib"}
    assert _imports(ROOT / path) - allowed == set(), f"{path} needs a package the wheel does not require"


@pytest.mark.parametrize("statement", ["import zmixlib", "import zmixlib.mixing", "from zmixlib import zeta_mixup"])
def test_importing_the_library_loads_none_of_the_book(statement):
    code = f"import sys, json; {statement}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    )
    assert "torch" in loaded or statement == "import zmixlib"
    assert loaded & EXTRAS_MODULES == set()


def test_lazy_names_of_the_package_still_resolve():
    from zmixlib import Mixer, zeta_mixup
    from zmixlib.mixing import zeta_mixup as direct
    from zmixlib.protocol import config

    assert zeta_mixup is direct and callable(Mixer) and config.__name__ == "zmixlib.protocol.config"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        zmixlib.nothing  # noqa: B018


class TestRoot:
    """Where data/ and results/ go: the checkout, else $ZMIX_HOME, else the working directory."""

    def _checkout(self, tmp_path: Path) -> Path:
        for name in ("zmixlib", "notebooks"):
            (tmp_path / "clone" / name).mkdir(parents=True)
        (tmp_path / "clone" / "pyproject.toml").write_text("")
        return tmp_path / "clone"

    def test_a_checkout_is_its_own_root(self, tmp_path):
        clone = self._checkout(tmp_path)
        assert _util.find_root(clone / "zmixlib", {"ZMIX_HOME": str(tmp_path / "home")}, tmp_path) == clone
        assert _util.ROOT == ROOT  # these tests run from the checkout

    def test_an_installed_copy_uses_zmix_home_else_the_working_directory(self, tmp_path):
        site = tmp_path / "venv" / "lib" / "site-packages"
        (site / "zmixlib").mkdir(parents=True)
        (site / "pyproject.toml").write_text("")  # a stray file is not a checkout: notebooks/ is missing
        home, cwd = tmp_path / "home", tmp_path / "work"
        assert _util.find_root(site / "zmixlib", {"ZMIX_HOME": str(home)}, cwd) == home.resolve()
        assert _util.find_root(site / "zmixlib", {"ZMIX_HOME": ""}, cwd) == cwd.resolve()
        assert _util.find_root(site / "zmixlib", {}, cwd) == cwd.resolve()

    def test_the_rule_is_in_the_help(self):
        out = subprocess.run(
            [sys.executable, "-m", "zmixlib", "--help"], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout
        assert "ZMIX_HOME" in out and _util.ROOT_RULE in out and str(_util.ROOT) in out


def test_license_is_mit_as_pyproject_says():
    assert PYPROJECT["project"]["license"] == "MIT" and PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the zmix authors" in text and "WITHOUT WARRANTY" in text


def _bib_titles() -> set[str]:
    bib = (ROOT / "book" / "references.bib").read_text()
    return {_plain(t) for t in re.findall(r"^\s*title\s*=\s*\{(.*)\},?\s*$", bib, re.M)}


def _plain(title: str) -> str:
    """A title without LaTeX math, braces, case or punctuation, so CFF's ζ and BibTeX's $\\zeta$ compare equal."""
    title = title.replace("$\\zeta$", "zeta").replace("ζ", "zeta").replace("$p$", "p")
    return re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()


def test_citation_cff_cites_this_project_and_the_papers_it_reproduces():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software" and cff["license"] == "MIT"
    assert cff["version"] == zmixlib.__version__ and cff["authors"] and cff["message"]
    assert cff["preferred-citation"]["doi"] == "10.1186/s40537-024-00898-6"
    refs = cff["references"]
    for ref in refs:
        assert {"type", "authors", "title", "year"} <= set(ref), ref.get("title")
    titles = {_plain(r["title"]) for r in refs}
    assert titles <= _bib_titles(), f"not in book/references.bib: {titles - _bib_titles()}"
    wanted = ["zeta mixup", "multi sample", "mixup beyond", "cutmix", "manifold mixup", "k mixup", "embedding space"]
    for words in [*wanted, "local synthetic instances"]:
        assert any(words in t for t in titles), words


# ------------------------------------------------------------------------------------- make gpu-check


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="the no-CUDA path")
def test_gpu_check_without_cuda_says_so_in_one_line_and_exits_0(tmp_path):
    make = subprocess.run(["make", "-n", "gpu-check"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "tools/gpu_check.py" in make
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gpu_check.py"), "--out", str(tmp_path / "report")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stderr == ""
    (line,) = run.stdout.splitlines()
    assert line.startswith("gpu-check: no CUDA device here") and "torch.cuda.is_available() is False" in line
    assert not (tmp_path / "report").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a stage that fails for want of CUDA")
def test_gpu_check_records_a_failing_stage_and_a_timeout_and_goes_on(tmp_path):
    gc = _gpu_check()
    args = argparse.Namespace(data_root=str(tmp_path / "data"))
    crashed = gc.run_stage("autocast", 120, tmp_path, args)
    assert crashed["status"] == "failed" and crashed["summary"].startswith("exit 1 without a result")
    assert (tmp_path / "autocast.log").read_text().strip()
    stopped = gc.run_stage("cuda-tests", 0.5, tmp_path, args)
    assert stopped["status"] == "timeout" and stopped["seconds"] < 30


def test_gpu_check_report_names_the_device_and_every_stage():
    gc = _gpu_check()
    assert sum(limit for _, limit in gc.STAGES) <= 600 and [s for s, _ in gc.STAGES] == list(gc.STAGE_FUNCTIONS)
    report = {
        "device": {
            "gpu": "NVIDIA H100 80GB HBM3",
            "torch": "2.14.1",
            "cuda": "13.0",
            "driver": "580",
            "capability": "9.0",
        }
        | {"memory_gib": 79.1, "cpu_cores": 16},
        "git_commit": "abc",
        "git_dirty": False,
        "finished_at": "2026-12-06T04:00:00Z",
        "budget_s": 570,
        "seconds": 400.0,
        "verdict": "1 stage(s) failed: compile",
        "stages": [
            {"stage": "autocast", "status": "passed", "seconds": 9.0, "summary": "6/6 cases", "rows": [{"a": 1e-7}]},
            {"stage": "compile", "status": "failed", "seconds": 80.0, "summary": "a | b", "failed_tests": ["t::x"]},
        ],
    }
    text = gc.markdown(report)
    assert text.startswith("# gpu-check: NVIDIA H100 80GB HBM3\n")
    assert "| autocast | passed | 9.0 | 6/6 cases |" in text and "| compile | failed | 80.0 | a \\| b |" in text
    assert "| 1e-07 |" in text and "- `t::x`" in text
