"""The environment is defined once: requirements.lock. environment.yml and the venv must agree with it."""

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
        assert m, f"requirements.lock line is not an exact pin: {line!r}"
        pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_lock_pins_what_the_project_requires():
    pins = lock_pins()
    assert pins["torch"] == "2.14.1"
    assert pins["torchvision"] == "0.29.1"
    assert pins["jupyter-book"].startswith("1."), "jupyter-book 2.x is a different tool"
    for name in [
        "papermill",
        "nbval",
        "ipykernel",
        "seaborn",
        "pandas",
        "scikit-learn",
        "scipy",
        "scikit-dimension",
        "medmnist",
        "jupyterlab",
        "hypothesis",
        "pytest",
        "sphinxcontrib-bibtex",
    ]:
        assert name in pins, f"{name} is missing from requirements.lock"


def test_requirements_in_pins_agree_with_lock():
    pins = lock_pins()
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            assert pins[name.lower()] == version, f"requirements.in pins {line}, the lock has {pins[name.lower()]}"
        elif line:
            assert line.lower() in pins, f"requirements.in lists {line!r}, which the lock does not pin"


def test_environment_yml_takes_everything_from_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-r requirements.lock" in pip_section and "-e ." in pip_section
    pins = lock_pins()
    # anything else pinned in environment.yml must equal the lock (so the two cannot drift)
    for entry in [d for d in deps if isinstance(d, str)] + pip_section:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*==?\s*([^\s]+)", entry)
        if m and m.group(1) != "python":
            assert pins.get(m.group(1).lower()) == m.group(2), f"environment.yml pins {entry}; lock disagrees"


def test_python_version_matches_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11"' in text
    assert sys.version_info >= (3, 11)


@pytest.mark.parametrize("name", ["torch", "torchvision", "jupyter-book", "papermill", "nbval", "scikit-dimension"])
def test_installed_versions_are_the_locked_ones(name):
    installed = metadata.version(name).split("+")[0]
    assert installed == lock_pins()[name], (
        f"{name} {installed} installed, lock says {lock_pins()[name]}: run make setup"
    )
