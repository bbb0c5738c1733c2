"""The book runner: execute the notebooks with papermill under a profile, then build the HTML.

``python -m zmixlib book --profile offline`` (what ``make book`` calls):

1. discovers ``notebooks/NN_*.ipynb`` (or the ones named by ``--notebooks 00 03``);
2. validates the parameters it injects against each notebook's ``parameters`` cell
   (``papermill.inspect_notebook``): an unknown name or a bad profile/device is an error;
3. stages ``book/`` into ``build/<profile>/`` and executes each notebook into ``build/<profile>/notebooks/``
   (one console line per notebook: code cell k of n, elapsed seconds), writing ``NN_name.params.yaml``
   (parameters, device, wall time, commit) beside it (:mod:`zmixlib.site.bookrun` executes one notebook);
4. checks every executed notebook for stderr output and warning text (the book shows neither), and tags
   papermill's parameter cells so the pages open with results, not plumbing;
5. writes a build report page (:mod:`zmixlib.site.bookreport`) and a table of contents holding only the executed notebooks;
6. runs ``jb build --all -W -n --keep-going`` (a Sphinx warning fails the build) inside the staging
   folder, with MathJax served from the build (:mod:`zmixlib.site.bookhtml`: fetched with ``npm pack`` into
   ``data/mathjax`` before any notebook runs, a clear error when it cannot be);
7. checks the HTML (:func:`zmixlib.site.bookhtml.check_book`: nothing loaded from another host, pages that open
   with their results) and publishes it to the profile's own folder (:data:`HTML_DIRS`): ``_build/html``
   for ``offline`` (``make book``), ``_build/smoke/html`` for ``smoke`` (``make test``),
   ``_build/paper/html`` for ``paper``. One profile's build never overwrites another's; a build failing
   its checks is not published.

A failing or noisy notebook stops the run with its name, the cell and the error; its output is kept in
``build/<profile>/failed/`` for inspection and no HTML is built.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zmixlib.core.checks import check_choice
from zmixlib.core.device import DEVICES
from zmixlib.core.util import ROOT, atomic_write_text
from zmixlib.data import sources as data_sources
from zmixlib.protocol.profiles import PROFILES
from zmixlib.site import bookhtml
from zmixlib.site.bookreport import write_report
from zmixlib.site.bookrun import NotebookFailed, execute

__all__ = [
    "ROOT",
    "HTML_DIRS",
    "BuildPaths",
    "paths_for",
    "discover",
    "obtain_offline_data",
    "validate_parameters",
    "build_html",
    "publish_html",
    "run",
    "main",
]

#: so that ``make test`` (smoke) cannot overwrite the book ``make book`` (offline) built, nor either the
#: paper-scale one.
HTML_DIRS: dict[str, Path] = {
    "offline": Path("_build/html"),
    "smoke": Path("_build/smoke/html"),
    "paper": Path("_build/paper/html"),
}


@dataclass(frozen=True)
class BuildPaths:
    """Every folder one profile's build writes, all distinct from every other profile's."""

    profile: str
    stage: Path  # build/<profile>/: the Sphinx source (a copy of book/ plus the executed notebooks)
    notebooks: Path  # build/<profile>/notebooks/: executed notebooks and their .params.yaml
    failed: Path  # build/<profile>/failed/: output of a notebook that failed or was noisy
    sphinx_html: Path  # build/<profile>/_build/html: where jb writes (excluded from the source by jb)
    html: Path  # the published book, HTML_DIRS[profile]


def paths_for(profile: str, root: Path | None = None) -> BuildPaths:
    """The folders of ``profile``'s build under ``root`` (default: the project folder)."""
    check_choice("profile", profile, PROFILES)
    root = Path(root) if root is not None else ROOT
    stage = root / "build" / profile
    return BuildPaths(
        profile=profile,
        stage=stage,
        notebooks=stage / "notebooks",
        failed=stage / "failed",
        sphinx_html=stage / "_build" / "html",
        html=root / HTML_DIRS[profile],
    )


def discover(selection: list[str] | None = None, notebooks_dir: Path = ROOT / "notebooks") -> list[Path]:
    """The notebooks to run, in order. ``selection`` entries match a number prefix (``"03"``) or a name."""
    found = sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    if not selection:
        return found
    chosen = []
    for key in selection:
        hits = [p for p in found if p.stem == key or p.stem.split("_")[0] == key or p.name == key]
        if not hits:
            raise ValueError(f"notebooks: no notebook matches {key!r}; available: {[p.stem for p in found]}")
        chosen += [h for h in hits if h not in chosen]
    return sorted(chosen)


def validate_parameters(path: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """Check ``parameters`` against the notebook's ``parameters`` cell; return them unchanged.

    Raises ``ValueError`` for a notebook without a ``profile`` parameter, for a name the notebook does
    not declare, and for a bad ``profile`` or ``device``.
    """
    import papermill  # deferred here and below: importing papermill takes seconds, `--help` should not

    declared = papermill.inspect_notebook(str(path))
    if "profile" not in declared:
        raise ValueError(f"{path.name}: its 'parameters' cell must declare profile (found {sorted(declared)})")
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ValueError(f"{path.name}: unknown parameter(s) {unknown}; the notebook declares {sorted(declared)}")
    if "profile" in parameters:
        check_choice("profile", parameters["profile"], PROFILES)
    if "device" in parameters:
        check_choice("device", parameters["device"], DEVICES)
    return parameters


# ----------------------------------------------------------------------------------------------
# Building and publishing the HTML
# ----------------------------------------------------------------------------------------------


def build_html(paths: BuildPaths) -> Path:
    """``jb build`` the staged book strictly into ``paths.sphinx_html``; return that folder."""
    cmd = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(paths.stage),
        "--all",
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(paths.stage),
        "--config",
        str(ROOT / "_config.yml"),
        "--toc",
        str(paths.stage / "_toc.yml"),
    ]
    bookhtml.stage_mathjax(paths.stage)
    if (paths.stage / "_config.yml").is_file():  # the staged config (_write_config); the project's otherwise
        cmd[cmd.index("--config") + 1] = str(paths.stage / "_config.yml")
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}); see the warnings above")
    return paths.sphinx_html


def publish_html(built: Path, target: Path) -> Path:
    """Replace the folder ``target`` by a copy of ``built`` (only ``target``; its siblings are untouched).

    The copy is made beside ``target`` and renamed into place, so a reader never sees half a book.
    Returns ``target / "index.html"``.
    """
    if not (built / "index.html").is_file():
        raise RuntimeError(f"publish: {built} holds no index.html; the HTML build did not finish")
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.with_name(f".{target.name}.new-{os.getpid()}")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(built, fresh)
    if target.exists():
        os.rename(target, old)  # folders: moved aside, then the new one moved in (no file is overwritten)
    os.rename(fresh, target)
    shutil.rmtree(old, ignore_errors=True)
    return target / "index.html"


def run(
    profile: str = "offline",
    device: str = "auto",
    notebooks: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    html: bool = True,
    root: Path | None = None,
) -> Path | None:
    """Validate, execute and build; see the module docstring. Returns the HTML index (or None).

    ``root`` is where ``build/`` and ``_build/`` go (default: the project folder).
    """
    check_choice("profile", profile, PROFILES)
    check_choice("device", device, DEVICES)
    paths = paths_for(profile, root)
    sources = discover(notebooks)
    params = {"profile": profile, "device": device, **(extra or {})}
    for p in sources:  # validate everything before running anything
        validate_parameters(p, params)
    _stage_sources(paths)
    if html:  # before any notebook runs: a build that cannot serve its math stops now, naming the fix
        bookhtml.obtain_mathjax()
    if profile == "offline":
        obtain_offline_data(Path(params.get("data_root") or ROOT / "data"))
    print(f"executing {len(sources)} notebook(s), profile={profile} device={device}, into {paths.notebooks}")
    # one id for every notebook of this build: the claims ledger counts only evidence recorded under it
    build = f"{profile}-{_dt.datetime.now(_dt.UTC).strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    saved_build = os.environ.get("ZMIX_BUILD_ID")
    os.environ["ZMIX_BUILD_ID"] = build
    try:
        for i, p in enumerate(sources, 1):
            execute(p, params, paths.notebooks, failed_dir=paths.failed, label=f"[{i}/{len(sources)}] {p.stem}")
    finally:
        if saved_build is None:
            os.environ.pop("ZMIX_BUILD_ID", None)
        else:
            os.environ["ZMIX_BUILD_ID"] = saved_build
    write_report(paths.notebooks, paths.profile, paths.stage / "build_report.md")
    _write_config(paths, _write_toc(paths))
    if not html:
        return None
    built = build_html(paths)
    check = bookhtml.check_book(built)
    if check.report():
        print(check.report())
    if check.errors:
        raise RuntimeError(f"the HTML in {built} fails {len(check.errors)} check(s), listed above; not published")
    index = publish_html(built, paths.html)
    print(f"\nThe {profile} book is at {index}")
    return index


def obtain_offline_data(root: Path, log=print) -> list[str]:
    """Make the real datasets of the offline profile (:data:`zmixlib.data.sources.CHAINS`: Fashion-MNIST,
    MNIST-10k) present under ``root`` where their source chains can (one line per source tried), before an
    offline build. Never fails the build: a dataset that cannot be had is reported on one line, and the
    chapters that use it run their stand-in (:data:`zmixlib.protocol.profiles.STAND_INS`) and say so on the page.
    Returns the names that could not be had."""
    missing = []
    for name in data_sources.CHAINS:
        try:
            data_sources.obtain(name, root, log=log)
        except (FileNotFoundError, data_sources.ChecksumError) as err:
            missing.append(name)
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            log(f"{name}: not available ({first}); its chapters run their stand-in and name it")
    return missing


def _stage_sources(paths: BuildPaths) -> None:
    paths.stage.mkdir(parents=True, exist_ok=True)
    for item in (ROOT / "book").iterdir():
        target = paths.stage / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)


def _write_toc(paths: BuildPaths) -> list[str]:
    """Copy ``book/_toc.yml`` keeping only notebook chapters that have an executed copy; return the others."""
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    missing = []

    def keep(entry: dict) -> bool:
        f = entry.get("file", "")
        if f.startswith("notebooks/") and not (paths.stage / f"{f}.ipynb").exists():
            missing.append(f)
            return False
        return True

    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part.get("chapters", []) if keep(c)]
    toc["parts"] = [p for p in toc.get("parts", []) if p["chapters"]]
    if missing:
        print(f"not executed yet under profile {paths.profile!r}, left out of this build: {missing}")
    atomic_write_text(paths.stage / "_toc.yml", yaml.safe_dump(toc, sort_keys=False))
    return missing


def _write_config(paths: BuildPaths, missing: list[str]) -> None:
    """Stage ``_config.yml``; with chapters left out (``--notebooks 00``), links to them are not warnings."""
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    if missing:
        sphinx = cfg.setdefault("sphinx", {}).setdefault("config", {})
        sphinx["suppress_warnings"] = [*sphinx.get("suppress_warnings", []), "myst.xref_missing"]
    atomic_write_text(paths.stage / "_config.yml", yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zmixlib book", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="offline", help=f"one of {list(PROFILES)} (default: offline)")
    ap.add_argument("--device", default="auto", help=f"one of {list(DEVICES)} (default: auto)")
    ap.add_argument("--notebooks", nargs="*", default=None, help="run only these (number prefix or name)")
    ap.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra parameter injected into every selected notebook (YAML value)",
    )
    ap.add_argument("--no-html", action="store_true", help="execute the notebooks but do not build the HTML")
    ap.add_argument("--list", action="store_true", help="list the notebooks and their parameters, then exit")
    ap.add_argument(
        "--obtain-mathjax",
        action="store_true",
        help=f"fetch the MathJax the pages load (npm pack {bookhtml.MATHJAX_SPEC}) into data/mathjax, then exit",
    )
    args = ap.parse_args(argv)
    try:
        if args.obtain_mathjax:
            bookhtml.obtain_mathjax()
            return 0
        if args.list:
            import papermill

            for p in discover(args.notebooks):
                declared = papermill.inspect_notebook(str(p))
                print(p.stem, json.dumps({k: v["default"] for k, v in declared.items()}))
            return 0
        extra = {}
        for item in args.param:
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--param must look like NAME=VALUE, got {item!r}")
            extra[name] = _parse_value(value)
        notebooks = [n for arg in (args.notebooks or []) for n in arg.split()] or None
        run(args.profile, args.device, notebooks, extra, html=not args.no_html)
    except (ValueError, NotebookFailed, RuntimeError) as err:
        print(f"\nerror: {err}", file=sys.stderr)
        return 1
    return 0
