"""``make wheel-check``: build the wheel, install it into a clean venv without extras, run the mixing tests there.

What a user of ``pip install zmixlib`` gets, checked the way they get it:

1. the wheel is built (``pip wheel --no-deps``) from a copy of the files git tracks or would track (of
   :data:`WHEEL_SOURCES`), so nothing ignored or stale (``build/lib``) gets in;
2. a new venv (no ``--system-site-packages``) gets the wheel with ``--no-deps``, and its dependencies:
   ``--deps link`` (default, seconds): the lock's torch, numpy and scipy, pytest and hypothesis, and the packages
   those require, linked from the project's ``.venv`` into one folder on the new venv's path (a ``.pth`` file) —
   nothing else of ``.venv`` is visible; ``--deps index``: ``pip install`` of the same pins from the package index
   (torch with its CUDA wheels: about 4 minutes and 5.6 GB, measured on the CI machine);
3. ``pip check`` (the wheel's requirements are met), then from an empty folder outside the checkout:
   ``import zmixlib.mixing`` loads no package of the extras, ``pandas`` is not importable at all, ``ROOT`` is that
   folder (or ``$ZMIX_HOME``), ``python -m zmixlib --help`` writes nothing into site-packages, and pytest runs
   the mixing and theory tests against the installed copy (``-m "not slow"``: the Inductor compile tests run in
   ``make test``; they test compilation, not the package).

Exit status 0 when every step passed; the first failing step's output is printed. Everything lives under
``build/wheel-check/`` (replaced on each run).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
T0 = time.perf_counter()
#: the test files that run against the installed wheel (and the helpers they import)
TESTS = ["conftest.py", "mixing_fixtures.py", "test_mixing*.py", "test_theory.py"]
#: what the wheel is built from (pyproject.toml names the rest: readme, license, packages)
WHEEL_SOURCES = ["pyproject.toml", "README.md", "LICENSE", "zmixlib"]
#: tests of those files that check the checkout, not the package: left out (--deselect), each with its reason
CHECKOUT_ONLY = {
    "tests/test_mixing.py::TestPackage::test_api_page_documents_every_name_and_its_examples_run": "reads the book's "
    "API page (book/api.md), whose examples use torchvision: the book extra",
}
#: packages the wheel's tests need beside the wheel's own requirements
TEST_REQUIREMENTS = ["pytest", "hypothesis"]
#: top-level modules of the extras that ``import zmixlib.mixing`` must not load
EXTRAS_MODULES = [
    "pandas",
    "papermill",
    "nbformat",
    "jupyter_core",
    "jupyter_client",
    "ipykernel",
    "IPython",
    "matplotlib",
    "seaborn",
    "torchvision",
    "sklearn",
    "skdim",
    "medmnist",
    "submitit",
    "yaml",
]

PROBE = r"""
import json, os, subprocess, sys
from pathlib import Path
before = set(sys.modules)
import zmixlib.mixing, zmixlib
loaded = sorted({m.split(".")[0] for m in set(sys.modules) - before})
site = Path(zmixlib.__file__).resolve().parent
try:
    import pandas
    pandas_importable = True
except ImportError:
    pandas_importable = False
from zmixlib.core.util import ROOT
files = lambda: sorted(str(p.relative_to(site)) for p in site.rglob("*"))
listing = files()
cli = subprocess.run([sys.executable, "-m", "zmixlib", "--help"], capture_output=True, text=True)
print(json.dumps({
    "file": zmixlib.__file__, "version": zmixlib.__version__, "loaded": loaded, "pandas_importable": pandas_importable,
    "root": str(ROOT), "cwd": os.getcwd(), "cli_rc": cli.returncode, "cli_out": cli.stdout + cli.stderr,
    "site_packages_written": sorted(set(files()) - set(listing)),
}))
"""


def _run(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    line = " ".join(str(c) for c in cmd).replace("\n", " ")
    print(f"+ {line[:150]}{' ...' if len(line) > 150 else ''}  [{time.perf_counter() - T0:.0f} s]", flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)


def _check(result: subprocess.CompletedProcess, step: str) -> subprocess.CompletedProcess:
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-6000:] + result.stderr[-6000:])
        raise SystemExit(f"wheel-check: {step} failed (exit {result.returncode})")
    return result


def lock_pins(names: list[str]) -> list[str]:
    """``name==version`` from requirements.lock for each name (unpinned when the lock lacks it)."""
    text = (ROOT / "requirements.lock").read_text()
    pins = []
    for name in names:
        m = re.search(rf"^{re.escape(name)}==(\S+)", text, re.M | re.I)
        pins.append(f"{name}=={m.group(1)}" if m else name)
    return pins


def closure(names: list[str]) -> list[md.Distribution]:
    """The installed distributions ``names`` need, transitively (markers evaluated here, extras left out)."""
    env = {**default_environment(), "extra": ""}
    seen: dict[str, md.Distribution] = {}
    todo = list(names)
    while todo:
        req = Requirement(todo.pop())
        key = req.name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            raise SystemExit(f"wheel-check: {req.name} is not installed in {sys.prefix} (make setup)") from None
        seen[key] = dist
        for spec in dist.requires or []:
            r = Requirement(spec)
            if r.marker is None or r.marker.evaluate(env):
                todo.append(str(r.name))
    return list(seen.values())


def link_dependencies(names: list[str], target: Path) -> int:
    """Symlink the top-level files and folders of ``names``' closure into ``target``; return how many."""
    target.mkdir(parents=True)
    count = 0
    for dist in closure(names):
        base = Path(dist.locate_file(""))
        tops = {Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            if (base / top).exists() and not (target / top).exists():
                (target / top).symlink_to(base / top)
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deps", choices=["link", "index"], default="link", help="how the clean venv gets torch & co")
    ap.add_argument("--out", default=str(ROOT / "build" / "wheel-check"), help="work folder (replaced)")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    src, dist_dir, venv, run_dir = out / "src", out / "dist", out / "venv", out / "run"

    listing = ["git", "ls-files", "-co", "--exclude-standard", "-z", "--", *WHEEL_SOURCES]
    tracked = _check(_run(listing, cwd=ROOT), "git ls-files")
    for rel in filter(None, tracked.stdout.split("\0")):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    py = sys.executable
    _check(_run([py, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "-q", "-w", dist_dir]), "build")
    (wheel,) = dist_dir.glob("zmixlib-*.whl")
    print(f"wheel: {wheel.name} ({wheel.stat().st_size / 1e3:.0f} kB)")

    _check(_run([py, "-m", "venv", venv]), "venv")
    vpy = venv / "bin" / "python"
    # the venv's own (older) setuptools would shadow the one torch requires
    _check(_run([vpy, "-m", "pip", "uninstall", "-q", "-y", "setuptools"]), "pip uninstall setuptools")
    core = [Requirement(r).name for r in _wheel_requirements(wheel)]
    if args.deps == "link":
        deps = out / "deps"
        n = link_dependencies([*core, *TEST_REQUIREMENTS], deps)
        site = Path(
            _check(_run([vpy, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]), "site").stdout.strip()
        )
        (site / "zz-wheel-check-deps.pth").write_text(f"{deps}\n")
        print(
            f"dependencies: {n} entries of {', '.join(core + TEST_REQUIREMENTS)} and what they need, from {sys.prefix}"
        )
    else:
        pins = lock_pins([*core, *TEST_REQUIREMENTS])
        _check(_run([vpy, "-m", "pip", "install", "-q", *pins]), f"pip install {' '.join(pins)}")
    _check(_run([vpy, "-m", "pip", "install", "-q", "--no-deps", wheel]), "pip install the wheel")
    _check(_run([vpy, "-m", "pip", "check"]), "pip check")

    run_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZMIX_HOME")}
    probe = json.loads(_check(_run([vpy, "-c", PROBE], cwd=run_dir, env=env), "probe").stdout)
    problems = []
    if not Path(probe["file"]).resolve().is_relative_to(venv.resolve()):
        problems.append(f"zmixlib imported from {probe['file']}, not from the clean venv")
    if bad := sorted(set(probe["loaded"]) & set(EXTRAS_MODULES)):
        problems.append(f"import zmixlib.mixing loaded {bad}")
    if probe["pandas_importable"]:
        problems.append("pandas is importable in the clean venv: it is not clean")
    if Path(probe["root"]) != run_dir.resolve():
        problems.append(f"ROOT is {probe['root']}, not the working folder {run_dir}")
    if probe["cli_rc"] != 0 or "ZMIX_HOME" not in probe["cli_out"]:
        problems.append(f"python -m zmixlib --help: exit {probe['cli_rc']}: {probe['cli_out'][-500:]}")
    if probe["site_packages_written"]:
        problems.append(f"running zmixlib wrote into site-packages: {probe['site_packages_written'][:5]}")
    home = out / "home"
    root_probe = "from zmixlib.core.util import ROOT; print(ROOT)"
    home_root = _check(_run([vpy, "-c", root_probe], cwd=run_dir, env={**env, "ZMIX_HOME": str(home)}), "probe")
    if Path(home_root.stdout.strip()) != home.resolve():
        problems.append(f"with ZMIX_HOME={home}, ROOT is {home_root.stdout.strip()}")
    if problems:
        print("\n".join(f"wheel-check: {p}" for p in problems))
        return 1
    print(
        f"installed {probe['version']} at {Path(probe['file']).parent}; import zmixlib.mixing loads "
        f"{len(probe['loaded'])} top-level modules, none of the extras; ROOT = the working folder, or $ZMIX_HOME"
    )

    tests = run_dir / "tests"
    tests.mkdir()
    (run_dir / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow\n    slurm\n")  # no nbval options
    for pattern in TESTS:
        for f in sorted((ROOT / "tests").glob(pattern)):
            shutil.copy2(f, tests / f.name)
    deselect = [arg for test in CHECKOUT_ONLY for arg in ("--deselect", test)]
    print("".join(f"left out: {test}: {why}\n" for test, why in CHECKOUT_ONLY.items()), end="")
    env_tests = {**env, "TQDM_DISABLE": "1", "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "ci")}
    result = _run(
        [
            vpy,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--durations=5",
            "-rf",
            "-m",
            "not slow",
            *deselect,
            "tests",
        ],
        cwd=run_dir,
        env=env_tests,
    )
    print(result.stdout[-8000:] + result.stderr[-3000:])
    print(f"wheel-check: {'passed' if result.returncode == 0 else 'FAILED'} in {time.perf_counter() - T0:.0f} s")
    return result.returncode


def _wheel_requirements(wheel: Path) -> list[str]:
    """``Requires-Dist`` lines of the wheel without an extra marker: what ``pip install zmixlib`` pulls."""
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(meta).decode().splitlines()
    return [
        line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]


if __name__ == "__main__":
    sys.exit(main())
