"""The book runner: execute the notebooks with papermill under a profile, then build the HTML.

``python -m zmixlib book --profile offline`` (what ``make book`` calls):

1. discovers ``notebooks/NN_*.ipynb`` (or the ones named by ``--notebooks 00 03``);
2. validates the parameters it injects against each notebook's ``parameters`` cell
   (``papermill.inspect_notebook``): an unknown name or a bad profile/device is an error;
3. stages ``book/`` into ``build/book/`` and executes each notebook into ``build/book/notebooks/``,
   writing ``NN_name.params.yaml`` (parameters, wall time, status) beside it;
4. writes a build report page and a table of contents holding only the executed notebooks;
5. runs ``jb build --all -W -n --keep-going``: a Sphinx warning fails the build.

A failing notebook stops the run with its name, the failing cell and the error; its partial output is
kept in ``build/failed/`` for inspection and no HTML is built.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zmixlib._checks import check_choice
from zmixlib.config import DEVICES, PROFILES, ROOT, resolve_device

__all__ = ["ROOT", "NotebookFailed", "discover", "validate_parameters", "execute", "build_html", "run", "main"]

BUILD = ROOT / "build"
STAGE = BUILD / "book"


class NotebookFailed(RuntimeError):
    """A notebook raised while executing: carries its name, the failing cell and the error."""


@dataclass
class Executed:
    name: str
    path: Path
    parameters: dict[str, Any]
    wall_s: float


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
    import papermill

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


def execute(path: Path, parameters: dict[str, Any], out_dir: Path, *, log_output: bool = False) -> Executed:
    """Execute one notebook into ``out_dir`` with papermill (cwd = repo root); raise ``NotebookFailed``."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_dir.mkdir(parents=True, exist_ok=True)
    failed_dir = BUILD / "failed"
    tmp = failed_dir / path.name
    tmp.parent.mkdir(parents=True, exist_ok=True)
    os.environ["ZMIX_BOOK_RUN"] = ", ".join(f"{k}={v}" for k, v in parameters.items())
    os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars belong in the terminal, not the book
    os.environ.pop("MPLBACKEND", None)  # Agg (set for tests) would keep every figure out of the book
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(tmp),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(ROOT),
            progress_bar=not log_output,
            log_output=log_output,
        )
    except PapermillExecutionError as err:
        source = "\n".join("    " + line for line in err.source.splitlines()[:12])
        raise NotebookFailed(
            f"notebook {path.name} failed in cell {err.cell_index} (execution count {err.exec_count}):\n"
            f"{source}\n{err.ename}: {err.evalue}\n(partial output kept in {tmp})"
        ) from None
    wall = time.perf_counter() - t0
    target = out_dir / path.name
    os.replace(tmp, target)
    meta = {
        "notebook": path.name,
        "parameters": parameters,
        "wall_time_s": round(wall, 2),
        "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        "resolved_device": str(resolve_device(parameters.get("device", "auto"))),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
    }
    _atomic_write(out_dir / f"{path.stem}.params.yaml", yaml.safe_dump(meta, sort_keys=False))
    return Executed(path.stem, target, parameters, wall)


def build_html(stage: Path = STAGE, output: Path = ROOT) -> Path:
    """``jb build`` the staged book strictly; return the path of ``index.html``."""
    toc = stage / "_toc.yml"
    cmd = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(stage),
        "--all",
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(output),
        "--config",
        str(ROOT / "_config.yml"),
        "--toc",
        str(toc),
    ]
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}); see the warnings above")
    return output / "_build" / "html" / "index.html"


def run(
    profile: str = "offline",
    device: str = "auto",
    notebooks: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    html: bool = True,
) -> Path | None:
    """Validate, execute and build; see the module docstring. Returns the HTML index (or None)."""
    check_choice("profile", profile, PROFILES)
    check_choice("device", device, DEVICES)
    paths = discover(notebooks)
    params = {"profile": profile, "device": device, **(extra or {})}
    for p in paths:  # validate everything before running anything
        validate_parameters(p, params)
    _stage_sources()
    out_dir = STAGE / "notebooks"
    done = []
    for i, p in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {p.name}  profile={profile} device={device}", flush=True)
        done.append(execute(p, params, out_dir))
        print(f"      done in {done[-1].wall_s:.1f} s", flush=True)
    _write_report(out_dir)
    _write_toc(out_dir)
    if not html:
        return None
    index = build_html()
    print(f"\nThe book is at {index}")
    return index


def _stage_sources() -> None:
    STAGE.mkdir(parents=True, exist_ok=True)
    for item in (ROOT / "book").iterdir():
        target = STAGE / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)


def _write_toc(out_dir: Path) -> None:
    """Copy ``book/_toc.yml`` keeping only notebook chapters that have an executed copy."""
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    missing = []

    def keep(entry: dict) -> bool:
        f = entry.get("file", "")
        if f.startswith("notebooks/") and not (STAGE / f"{f}.ipynb").exists():
            missing.append(f)
            return False
        return True

    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part.get("chapters", []) if keep(c)]
    toc["parts"] = [p for p in toc.get("parts", []) if p["chapters"]]
    if missing:
        print(f"not executed yet, left out of this build: {missing}")
    _atomic_write(STAGE / "_toc.yml", yaml.safe_dump(toc, sort_keys=False))


def _write_report(out_dir: Path) -> None:
    """A page listing every executed notebook with its profile, device, wall time and commit."""
    import torch

    rows = []
    for meta_path in sorted(out_dir.glob("*.params.yaml")):
        m = yaml.safe_load(meta_path.read_text())
        p = m["parameters"]
        rows.append(
            f"| {m['notebook']} | {p.get('profile')} | {p.get('device')} → {m.get('resolved_device', '?')} "
            f"| {m['wall_time_s']:.1f} | {m['finished']} | `{_short(m.get('git_commit'))}` |"
        )
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    text = "\n".join(
        [
            "# Build report",
            "",
            "Every page of this book was executed by `python -m zmixlib book` (papermill); this table says",
            "under which profile, on which device and how long each took. Parameters of each run are in",
            "`build/book/notebooks/<name>.params.yaml`.",
            "",
            f"Machine: {platform.platform()}, Python {platform.python_version()}, torch {torch.__version__},",
            f"{os.cpu_count()} CPU cores, GPU: {gpu}.",
            "",
            "| notebook | profile | device | wall time (s) | finished | commit |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    _atomic_write(STAGE / "build_report.md", text)


def _short(commit: str | None) -> str:
    """``abcdef1234`` or ``abcdef1234+dirty`` (uncommitted changes when the notebook ran)."""
    if not commit:
        return "n/a"
    sha, _, dirty = commit.partition("+")
    return sha[:10] + (f"+{dirty}" if dirty else "")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return out.stdout.strip() + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def store_checked_outputs(path: Path) -> None:
    """Re-execute a source notebook at its defaults and keep only the outputs nbval compares.

    Cells containing ``# NBVAL_CHECK_OUTPUT`` keep their outputs and execution count; every other cell is
    cleared. Run after editing such a cell: ``python -m zmixlib book --store-checked-outputs NB``.
    """
    import nbformat
    import papermill

    tmp = BUILD / "refresh" / path.name
    tmp.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(path), str(tmp), kernel_name="python3", cwd=str(ROOT), progress_bar=False)
    ran = nbformat.read(tmp, as_version=4)
    src = nbformat.read(path, as_version=4)
    for cell, done in zip(src.cells, ran.cells):
        if cell.cell_type != "code":
            continue
        checked = "NBVAL_CHECK_OUTPUT" in cell.source
        cell.outputs = done.outputs if checked else []
        cell.execution_count = done.execution_count if checked else None
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(src, path)


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
    ap.add_argument("--store-checked-outputs", nargs="+", metavar="NOTEBOOK", help=store_checked_outputs.__doc__)
    args = ap.parse_args(argv)
    try:
        if args.store_checked_outputs:
            for nb in args.store_checked_outputs:
                store_checked_outputs(Path(nb).resolve())
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
