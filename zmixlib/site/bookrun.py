"""Executing one notebook of the book: papermill in a kernel whose environment the runner sets, one console
line while it runs, its outputs checked for stderr and warning text, papermill's parameter cells tagged, and
``NN_name.params.yaml`` (parameters, device, wall time, commit) written beside the executed copy.

:mod:`zmixlib.site.book` runs the whole book with :func:`execute`; ``make nbval-outputs`` (tools/nbval_outputs.py)
refreshes the outputs
nbval compares in a source notebook.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import re
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

from zmixlib.core.device import resolve_device
from zmixlib.core.util import ROOT, atomic_write_text, environ, git_info

__all__ = [
    "KERNEL_ENV",
    "KERNEL_IGNORED_WARNINGS",
    "KERNEL_ENV_UNSET",
    "KERNEL_QUIET_TORCH_LOGGERS",
    "WARNING_TEXT",
    "PARAMETER_TAGS",
    "NotebookFailed",
    "NotebookNoisy",
    "Executed",
    "ConsoleProgress",
    "kernel_environment",
    "output_noise",
    "tag_parameter_cells",
    "execute",
    "write_run_record",
]

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
    with tempfile.TemporaryDirectory(prefix="zmix-kernel-") as sockets, environ(env, unset=KERNEL_ENV_UNSET):
        yield Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}})


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
