"""The book runner: execute the notebooks with papermill under a profile, then build the HTML.

``python -m zmixlib book --profile offline`` (what ``make book`` calls):

1. discovers ``notebooks/NN_*.ipynb`` (or the ones named by ``--notebooks 00 03``);
2. validates the parameters it injects against each notebook's ``parameters`` cell
   (``papermill.inspect_notebook``): an unknown name or a bad profile/device is an error;
3. stages ``book/`` into ``build/<profile>/`` and executes each notebook into ``build/<profile>/notebooks/``
   (one console line per notebook: code cell k of n, elapsed seconds), writing ``NN_name.params.yaml``
   (parameters, device, wall time, commit) beside it;
4. checks every executed notebook for stderr output and warning text (the book shows neither), and tags
   papermill's parameter cells so the pages open with results, not plumbing;
5. writes a build report page and a table of contents holding only the executed notebooks;
6. runs ``jb build --all -W -n --keep-going`` (a Sphinx warning fails the build) inside the staging
   folder, with MathJax served from the build (:mod:`zmixlib.bookhtml`: fetched with ``npm pack`` into
   ``data/mathjax`` before any notebook runs, a clear error when it cannot be);
7. checks the HTML (:func:`zmixlib.bookhtml.check_book`: nothing loaded from another host, pages that open
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
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from zmixlib import bookhtml
from zmixlib._checks import check_choice
from zmixlib._util import ROOT, atomic_write_text, git_info
from zmixlib.config import DEVICES, PROFILES, resolve_device
from zmixlib.data import sources as data_sources

__all__ = [
    "ROOT",
    "HTML_DIRS",
    "BuildPaths",
    "paths_for",
    "NotebookFailed",
    "NotebookNoisy",
    "ConsoleProgress",
    "discover",
    "obtain_offline_data",
    "validate_parameters",
    "output_noise",
    "tag_parameter_cells",
    "execute",
    "write_run_record",
    "build_html",
    "publish_html",
    "run",
    "main",
]

#: Where each profile's HTML is published, relative to the project folder. Distinct and never nested,
#: so that ``make test`` (smoke) cannot overwrite the book ``make book`` (offline) built, nor either the
#: paper-scale one.
HTML_DIRS: dict[str, Path] = {
    "offline": Path("_build/html"),
    "smoke": Path("_build/smoke/html"),
    "paper": Path("_build/paper/html"),
}

#: What the kernels the runner starts get on top of the runner's environment. ``TQDM_DISABLE``: progress
#: bars are for the terminal, and ``tqdm.auto`` in a kernel without ipywidgets warns "IProgress not found";
#: the runner's own console line says how far a notebook is.
KERNEL_ENV = {"TQDM_DISABLE": "1"}
#: Warnings filtered in the kernels (``PYTHONWARNINGS`` entries, ``action:message-start``). ``tqdm.auto``
#: warns "IProgress not found" when *imported* in a kernel without ipywidgets, even with bars disabled.
KERNEL_IGNORED_WARNINGS = ("ignore:IProgress not found",)
#: Variables removed from the kernels' environment: ``make`` exports ``MPLBACKEND=Agg`` for the tests, which
#: would keep every figure out of the book.
KERNEL_ENV_UNSET = ("MPLBACKEND",)
#: torch loggers set to ERROR in the kernels (``TORCH_LOGS="-name"``): ``torch.utils.cpp_extension`` warns
#: "No CUDA runtime is found" on import (``torch.utils.benchmark`` imports it) on any machine with a CUDA
#: toolkit and no GPU. Errors from these loggers still show.
KERNEL_QUIET_TORCH_LOGGERS = ("torch.utils.cpp_extension",)

#: Text that marks a warning in a cell's output: ``UserWarning: …`` (``warnings``), ``WARNING`` (``logging``).
WARNING_TEXT = re.compile(r"\b\w*Warning:|\bWARNING\b")

#: Tags given after execution so Jupyter Book hides papermill's cells: the injected cell (what this page
#: ran with) one click away, the notebook's own defaults (overridden, so misleading on the page) removed.
#: A notebook run at its defaults has no injected cell; its ``parameters`` cell is then the one folded.
PARAMETER_TAGS = {"injected-parameters": "hide-cell", "parameters": "remove-cell"}

_ENGINE = "zmix"


class NotebookFailed(RuntimeError):
    """A notebook raised while executing: carries its name, the failing cell and the error."""


class NotebookNoisy(NotebookFailed):
    """A notebook ran but wrote to stderr or printed a warning: names the notebook and the cells."""


@dataclass
class Executed:
    name: str
    path: Path
    parameters: dict[str, Any]
    wall_s: float


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
# The console line
# ----------------------------------------------------------------------------------------------


class ConsoleProgress:
    """One console line per notebook while it runs: code cell k of n and the seconds elapsed.

    On a terminal (``live``; the default unless ``TQDM_DISABLE`` is set) the line is rewritten in place
    every second. Otherwise (CI logs, pipes, ``TQDM_DISABLE=1``) it prints a plain line at the start,
    one every ``every`` seconds while the notebook runs, and one at the end.
    """

    def __init__(self, label: str, *, stream: IO[str] | None = None, live: bool | None = None, every: float = 30.0):
        self.label = label
        self.stream = stream if stream is not None else sys.stdout
        if live is None:
            live = _isatty(self.stream) and os.environ.get("TQDM_DISABLE", "").lower() in ("", "0", "false")
        self.live = live
        self.every = every
        self.cell_k = 0
        self.cells_n = 0
        self._t0 = time.perf_counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def line(self) -> str:
        where = f"cell {self.cell_k}/{self.cells_n}" if self.cells_n else "starting kernel"
        return f"{self.label}  {where}  {self.elapsed:.0f} s"

    def start(self) -> ConsoleProgress:
        self._t0 = time.perf_counter()
        self._emit(self.line() if self.live else f"{self.label}  started")
        self._thread = threading.Thread(target=self._tick, name=f"progress {self.label}", daemon=True)
        self._thread.start()
        return self

    def cell(self, k: int, n: int) -> None:
        """Code cell ``k`` (1-based) of ``n`` has started."""
        self.cell_k, self.cells_n = k, n
        if self.live:
            self._emit(self.line())

    def stop(self, ok: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if ok:
            text = f"{self.label}  done: {self.cells_n} code cells in {self.elapsed:.1f} s"
        else:
            text = f"{self.label}  FAILED in cell {self.cell_k}/{self.cells_n} after {self.elapsed:.1f} s"
        self._emit(text, end=True)

    def _tick(self) -> None:
        while not self._stop.wait(1.0 if self.live else self.every):
            self._emit(self.line())

    def _emit(self, text: str, end: bool = False) -> None:
        with self._lock:
            if self.live:
                self.stream.write("\r" + text + "\x1b[K" + ("\n" if end else ""))
            else:
                self.stream.write(text + "\n")
            self.stream.flush()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@functools.cache
def _register_engine() -> str:
    """Register (once) a papermill engine that reports each code cell's start to a ``ConsoleProgress``."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, progress: ConsoleProgress | None = None, **kw):
            if progress is not None:
                code = [i for i, c in enumerate(nb_man.nb.cells) if c.cell_type == "code"]
                rank = {index: k for k, index in enumerate(code, 1)}
                cell_start = nb_man.cell_start

                def report_start(cell, cell_index=None, **kwargs):
                    if cell_index in rank:
                        progress.cell(rank[cell_index], len(code))
                    return cell_start(cell, cell_index, **kwargs)

                nb_man.cell_start = report_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kw)

    papermill_engines.register(_ENGINE, ProgressEngine)
    return _ENGINE


# ----------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------


@contextmanager
def kernel_environment(parameters: dict[str, Any] | None = None) -> Iterator[Any]:
    """Set up what the kernels started inside the block see; yields their jupyter_client config.

    The environment (:data:`KERNEL_ENV` minus :data:`KERNEL_ENV_UNSET`, :data:`KERNEL_IGNORED_WARNINGS`,
    :data:`KERNEL_QUIET_TORCH_LOGGERS`) is set in
    ``os.environ`` for the block only (the kernel inherits it at launch) and restored afterwards.
    The kernel talks over IPC sockets in a private temporary folder rather than TCP on localhost: nothing
    else on the machine can connect to it, and ipykernel's "Kernel is running over TCP without
    encryption" warning has no cause left to report.
    """
    from traitlets.config import Config

    env = dict(KERNEL_ENV)
    torch_logs = [s for s in os.environ.get("TORCH_LOGS", "").split(",") if s]
    env["TORCH_LOGS"] = ",".join(torch_logs + [f"-{name}" for name in KERNEL_QUIET_TORCH_LOGGERS])
    warnings = [s for s in os.environ.get("PYTHONWARNINGS", "").split(",") if s]
    env["PYTHONWARNINGS"] = ",".join(warnings + list(KERNEL_IGNORED_WARNINGS))
    if parameters:
        env["ZMIX_BOOK_RUN"] = ", ".join(f"{k}={v}" for k, v in parameters.items())
    saved = {k: os.environ.get(k) for k in [*env, *KERNEL_ENV_UNSET]}
    with tempfile.TemporaryDirectory(prefix="zmix-kernel-") as sockets:
        try:
            os.environ.update(env)
            for name in KERNEL_ENV_UNSET:
                os.environ.pop(name, None)
            yield Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}})
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


# ----------------------------------------------------------------------------------------------
# Checking and tagging an executed notebook
# ----------------------------------------------------------------------------------------------


def output_noise(nb: Any) -> list[str]:
    """Every cell whose outputs hold a stderr stream or warning text, as ``"cell i (In [c]): first line"``.

    ``nb`` is an executed ``nbformat`` notebook. Checked: stream outputs (stderr always counts; stdout
    when it matches :data:`WARNING_TEXT`) and the ``text/plain`` of results and displays. Error outputs
    are the failing cell's business (``NotebookFailed``); images and HTML are not read.
    """
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                text = _text(out.get("text", ""))
                hit = text if out.get("name") == "stderr" else _warning_line(text)
                what = "stderr" if out.get("name") == "stderr" else "warning"
            elif kind in ("execute_result", "display_data"):
                hit, what = _warning_line(_text(out.get("data", {}).get("text/plain", ""))), "warning"
            else:
                continue
            if hit and hit.strip():
                first = next(line for line in hit.splitlines() if line.strip()).strip()
                found.append(f"cell {i} (In [{cell.get('execution_count')}]) {what}: {first[:160]}")
                break
    return found


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _warning_line(text: str) -> str:
    hits = [line for line in text.splitlines() if WARNING_TEXT.search(line)]
    return hits[0] if hits else ""


def tag_parameter_cells(nb: Any) -> None:
    """Tag papermill's cells per :data:`PARAMETER_TAGS` (in place; other tags are kept).

    Without an injected cell the notebook ran at its defaults: its ``parameters`` cell is folded instead.
    ``remove-cell`` replaces any ``hide-*`` tag the notebook gave the cell.
    """
    tagged = {t for c in nb.cells for t in c.get("metadata", {}).get("tags", [])}
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        for marker, tag in PARAMETER_TAGS.items():
            if marker in tags:
                if marker == "parameters" and "injected-parameters" not in tagged:
                    tag = "hide-cell"
                if tag == "remove-cell":  # stronger than a hide-* tag the notebook gave its defaults
                    tags[:] = [t for t in tags if not t.startswith("hide-")]
                if tag not in tags:
                    tags.append(tag)


# ----------------------------------------------------------------------------------------------
# Executing
# ----------------------------------------------------------------------------------------------


def execute(
    path: Path,
    parameters: dict[str, Any],
    out_dir: Path,
    *,
    failed_dir: Path | None = None,
    label: str | None = None,
    live: bool | None = None,
    log_output: bool = False,
) -> Executed:
    """Execute one notebook into ``out_dir`` with papermill (cwd = project folder).

    Raises ``NotebookFailed`` when a cell raises and ``NotebookNoisy`` when the outputs hold stderr or
    warning text (:func:`output_noise`); either way the notebook is kept in ``failed_dir`` (default:
    ``out_dir/../failed``) and nothing lands in ``out_dir``. On success the parameter cells are tagged
    (:func:`tag_parameter_cells`) and ``NN_name.params.yaml`` is written beside the notebook.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_dir.mkdir(parents=True, exist_ok=True)
    failed_dir = failed_dir if failed_dir is not None else out_dir.parent / "failed"
    failed_dir.mkdir(parents=True, exist_ok=True)
    tmp = failed_dir / path.name
    console = ConsoleProgress(label or path.stem, live=False if log_output else live)
    t0 = time.perf_counter()
    with kernel_environment(parameters) as kernel_config:
        console.start()
        try:
            papermill.execute_notebook(
                str(path),
                str(tmp),
                parameters=parameters,
                engine_name=_register_engine(),
                kernel_name="python3",
                cwd=str(ROOT),
                progress_bar=False,
                log_output=log_output,
                progress=console,
                config=kernel_config,
            )
        except PapermillExecutionError as err:
            console.stop(ok=False)
            source = "\n".join("    " + line for line in err.source.splitlines()[:12])
            raise NotebookFailed(
                f"notebook {path.name} failed in cell {err.cell_index} (execution count {err.exec_count}):\n"
                f"{source}\n{err.ename}: {err.evalue}\n(partial output kept in {tmp})"
            ) from None
        except BaseException:
            console.stop(ok=False)
            raise
    wall = time.perf_counter() - t0
    nb = nbformat.read(tmp, as_version=4)
    noise = output_noise(nb)
    if noise:
        console.stop(ok=False)
        raise NotebookNoisy(
            f"notebook {path.name} wrote to stderr or printed a warning; the book shows neither:\n  "
            + "\n  ".join(noise)
            + "\nFix the cause, or filter a known-harmless warning in zmixlib saying why"
            + f" (output kept in {tmp})"
        )
    console.stop(ok=True)
    tag_parameter_cells(nb)
    target = atomic_write_text(out_dir / path.name, nbformat.writes(nb))
    tmp.unlink()
    write_run_record(target, parameters, wall)
    return Executed(path.stem, target, parameters, wall)


def write_run_record(executed: Path, parameters: dict[str, Any], wall_s: float) -> Path:
    """Write ``NN_name.params.yaml`` beside an executed notebook: parameters, device, wall time, commit."""
    git = git_info()
    meta = {
        "notebook": executed.name,
        "parameters": parameters,
        "wall_time_s": round(wall_s, 2),
        "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        "resolved_device": str(resolve_device(parameters.get("device", "auto"))),
        "git_commit": git["git_commit"],
        "git_dirty": git["git_dirty"],
        "python": platform.python_version(),
    }
    return atomic_write_text(executed.with_name(f"{executed.stem}.params.yaml"), yaml.safe_dump(meta, sort_keys=False))


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
    _write_report(paths)
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
    chapters that use it run their stand-in (:data:`zmixlib.profiles.STAND_INS`) and say so on the page.
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


def _write_report(paths: BuildPaths) -> None:
    """A page listing every executed notebook with its profile, device, wall time and commit."""
    import torch

    rows = []
    for meta_path in sorted(paths.notebooks.glob("*.params.yaml")):
        m = yaml.safe_load(meta_path.read_text())
        p = m["parameters"]
        rows.append(
            f"| {m['notebook']} | {p.get('profile')} | {p.get('device')} → {m.get('resolved_device', '?')} "
            f"| {m['wall_time_s']:.1f} | {m['finished']} | `{_short(m.get('git_commit'), m.get('git_dirty'))}` |"
        )
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    folders = []  # the run records these pages read: results_dir (default the project's results/) by profile
    for meta_path in sorted(paths.notebooks.glob("*.params.yaml")):
        p = yaml.safe_load(meta_path.read_text())["parameters"]
        base = Path(p.get("results_dir") or ROOT / "results")
        folders.append(base if paths.profile == "paper" else base / paths.profile)
    produced = produced_table(list(dict.fromkeys(folders)))
    text = "\n".join(
        [
            "# Build report",
            "",
            "Every page of this book was executed by `python -m zmixlib book` (papermill); this table says",
            "under which profile, on which device and how long each took. Parameters of each run are in",
            f"`build/{paths.profile}/notebooks/<name>.params.yaml`.",
            "",
            f"Machine: {platform.platform()}, Python {platform.python_version()}, torch {torch.__version__},",
            f"{os.cpu_count()} CPU cores, GPU: {gpu}.",
            "",
            "| notebook | profile | device | wall time (s) | finished | commit |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            *produced,
        ]
    )
    atomic_write_text(paths.stage / "build_report.md", text)


def _job_ids(ids: list[str]) -> str:
    """``12_0 … 12_5`` as ``12 (tasks 0-5)``; plain job ids as they are."""
    arrays: dict[str, list[int]] = {}
    plain = []
    for jid in dict.fromkeys(ids):
        head, sep, task = jid.partition("_")
        if sep and task.isdigit():
            arrays.setdefault(head, []).append(int(task))
        else:
            plain.append(jid)
    out = []
    for head, tasks in arrays.items():
        tasks.sort()
        spans, start = [], tasks[0]
        for a, b in zip(tasks, [*tasks[1:], None]):
            if b != a + 1:
                spans.append(f"{start}" if start == a else f"{start}-{a}")
                start = b
        out.append(f"{head} (task{'s' if len(tasks) > 1 else ''} {','.join(spans)})")
    return ", ".join([*out, *plain])


def produced_table(folders: list[Path]) -> list[str]:
    """Markdown lines: how the run records under ``folders`` (``<folder>/<section>/<run id>.json``) were produced —
    per section, executor, node and device: how many records and the job ids (SLURM arrays as ``array (tasks a-b)``).
    Records written before runs said how they were produced count as ``not recorded``."""
    groups: dict[tuple, list] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for section in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in ("submitit", "smoke", "offline")):
            for path in sorted(section.glob("*.json")):
                try:
                    d = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                if not isinstance(d, dict) or not isinstance(d.get("spec"), dict):
                    continue  # not a run record (the ledger's evidence, ...)
                env = d.get("environment") or {}
                key = (section.name, env.get("executor") or "not recorded", env.get("node") or env.get("hostname") or "?",
                       env.get("device") or "?")  # fmt: skip
                groups.setdefault(key, []).append(env.get("job_id"))
    if not groups:
        return []
    where = ", ".join(f"`{_relative(f)}`" for f in folders)
    lines = [
        "## How the runs were produced",
        "",
        f"The run records in the folder(s) the pages read ({where}), by section: the executor that trained them (`inline`, `process`,",
        "`local`, `slurm`: `make paper EXECUTOR=slurm`), the SLURM job ids, the node and the device.",
        "",
        "| section | records | executor | job ids | node | device |",
        "|---|---|---|---|---|---|",
    ]
    for (section, executor, node, device), ids in sorted(groups.items()):
        jobs = _job_ids([i for i in ids if i]) or "—"
        lines.append(f"| {section} | {len(ids)} | {executor} | {jobs} | {node} | {device} |")
    return [*lines, ""]


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _short(commit: str | None, dirty: bool | None = None) -> str:
    """``abcdef1234`` or ``abcdef1234+dirty`` (uncommitted changes when the notebook ran)."""
    if not commit:
        return "n/a"
    sha, _, legacy = commit.partition("+")  # records written before git_dirty had "sha+dirty"
    return sha[:10] + ("+dirty" if dirty or legacy else "")


def store_checked_outputs(path: Path) -> None:
    """Re-execute a source notebook at its defaults and keep only the outputs nbval compares.

    Cells containing ``# NBVAL_CHECK_OUTPUT`` keep their outputs and execution count; every other cell is
    cleared. Run after editing such a cell: ``python -m zmixlib book --store-checked-outputs NB``.
    """
    import nbformat

    refresh = ROOT / "build" / "refresh"
    done = execute(path, {}, refresh / "notebooks", failed_dir=refresh / "failed")
    ran = nbformat.read(done.path, as_version=4)
    src = nbformat.read(path, as_version=4)
    for cell, executed in zip(src.cells, ran.cells):
        if cell.cell_type != "code":
            continue
        checked = "NBVAL_CHECK_OUTPUT" in cell.source
        cell.outputs = executed.outputs if checked else []
        cell.execution_count = executed.execution_count if checked else None
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
    ap.add_argument(
        "--obtain-mathjax",
        action="store_true",
        help=f"fetch the MathJax the pages load (npm pack {bookhtml.MATHJAX_SPEC}) into data/mathjax, then exit",
    )
    ap.add_argument("--store-checked-outputs", nargs="+", metavar="NOTEBOOK", help=store_checked_outputs.__doc__)
    args = ap.parse_args(argv)
    try:
        if args.obtain_mathjax:
            bookhtml.obtain_mathjax()
            return 0
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
