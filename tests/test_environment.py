"""The environment is defined once: requirements.lock. environment.yml and the venv must agree with it."""

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def lock_entries() -> list[tuple[str, str, str, list[str]]]:
    """(name, version, marker, hashes) of each requirement of requirements.lock (``\\`` continuations joined)."""
    text = (ROOT / "requirements.lock").read_text().replace("\\\n", " ")
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not line:
            continue
        m = re.fullmatch(
            r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)\s*(?:;\s*(.*?))?\s*((?:--hash=sha256:[0-9a-f]{64}\s*)*)", line
        )
        assert m, f"requirements.lock line is not an exact pin with hashes: {line[:120]!r}"
        entries.append((m.group(1).lower().replace("_", "-"), m.group(2), m.group(3) or "", m.group(4).split()))
    return entries


def lock_pins() -> dict[str, str]:
    return {name: version for name, version, _, _ in lock_entries()}


def test_every_pin_of_the_lock_has_hashes_and_one_version():
    entries = lock_entries()
    assert len(entries) > 150
    for name, version, _, hashes in entries:
        assert hashes, f"{name}=={version} has no --hash: pip's hash-checking mode would refuse the lock"
    names = [e[0] for e in entries]
    assert len(names) == len(set(names)), "a package pinned twice (per-marker versions) would leave the venv ambiguous"


def test_the_lock_keeps_cuda_to_linux_and_installs_on_macos():
    """Universal: what PyPI's torch needs only on Linux (nvidia-*, triton, cuda-*) carries a Linux marker, so the
    lock installs on macOS and Windows; everything else the project requires has no platform marker."""
    from packaging.markers import Marker

    mac = {
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "platform_machine": "arm64",
        "python_full_version": "3.11.7",
        "python_version": "3.11",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
    }
    on_mac = {n for n, _, marker, _ in lock_entries() if not marker or Marker(marker).evaluate(mac)}
    cuda = {n for n, _, _, _ in lock_entries() if n.startswith(("nvidia-", "triton", "cuda-"))}
    assert cuda and not (cuda & on_mac)
    assert {"torch", "torchvision", "jupyter-book", "papermill", "scipy", "numpy"} <= on_mac


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
    # pip's hash-checking mode refuses an editable requirement in the same call: `-e .` is a second step (README)
    assert pip_section == ["-r requirements.lock"]
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
