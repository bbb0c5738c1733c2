"""Run a matrix of runs — inline, on local worker processes packed onto the devices, or on SLURM (submitit).

``run(matrix, executor=...)`` trains every :class:`~zmixlib.runspec.RunSpec` whose record
(``results/<section>/<run_id>.json``) does not exist yet, so rerunning a sweep only does what is missing (and
an interrupted run resumes from its checkpoint). A failed run is reported with its spec and traceback; the
others go on. Executors:

* ``"inline"`` — in this process, one after another (notebooks, CI);
* ``"process"`` — local worker processes (``spawn``), ``runs_per_device`` at a time on each visible GPU,
  each worker with one CUDA context and ``CUDA_VISIBLE_DEVICES`` set to its GPU — small models leave a
  modern GPU mostly idle, so several runs share it. Without a GPU, ``runs_per_device`` worker processes
  share the CPU cores, torch threads split between them. A run that dies with its worker (killed, out of
  memory, a crash in native code) is reported as failed, and a fresh worker takes the next run;
* ``"local"`` / ``"slurm"`` — submitit (``AutoExecutor``; ``"local"`` runs the jobs as local
  subprocesses, which is how the SLURM path is tested), one job per run, submitted as a job array;
  ``slurm={"partition": ..., "gpus_per_node": 1, ...}`` goes to ``update_parameters``.

Each run trains as it would alone (:func:`zmixlib.train.fit` with the same spec): the records do not depend
on the executor or on how many runs share a device (``tests/test_sweep.py``).

CLI: ``python -m zmixlib sweep --section natural --profile paper --runs-per-device 4`` (:mod:`zmixlib.cli`).
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import torch

from zmixlib import store
from zmixlib._checks import check_choice, check_int
from zmixlib.runspec import RunSpec
from zmixlib.train import fit

__all__ = ["EXECUTORS", "SweepReport", "pending", "run", "worker_slots", "cpu_count"]

EXECUTORS = ("inline", "process", "local", "slurm")


@dataclass
class SweepReport:
    """What a sweep did: ``done`` (trained now), ``skipped`` (record existed), ``failed`` (spec, error)."""

    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    wall_time_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        lines = [
            f"{len(self.done)} trained, {len(self.skipped)} skipped (record exists), {len(self.failed)} failed "
            f"in {self.wall_time_s:.1f}s"
        ]
        for spec, err in self.failed:
            last = err.strip().splitlines()[-1] if err.strip() else "?"
            lines.append(f"  FAILED {spec.run_id} {spec.dataset} {spec.arch} {spec.label()} seed {spec.seed}: {last}")
        return "\n".join(lines)

    __repr__ = __str__


def _unique(matrix: Iterable) -> list:
    seen, out = set(), []
    for spec in matrix:
        if spec.run_id not in seen:
            seen.add(spec.run_id)
            out.append(spec)
    return out


def pending(matrix: Iterable, results_dir: str | os.PathLike = "results") -> list:
    """The runs of ``matrix`` without a record on disk (duplicates removed)."""
    return [s for s in _unique(matrix) if not store.exists(s, results_dir)]


def _run_one(
    spec_dict: dict[str, Any], results_dir: str, threads: int | None, progress: bool, keep_checkpoint: bool = False
) -> tuple[str, str]:
    """Train one run. Returns ``("done", "")`` or ``("failed", traceback)`` — never raises, so one run's
    failure (and unpicklable exceptions) cannot take a pool down; Ctrl-C still stops."""
    try:
        if threads:
            torch.set_num_threads(threads)
        fit(RunSpec.from_dict(spec_dict), results_dir=results_dir, progress=progress, keep_checkpoint=keep_checkpoint)
        return "done", ""
    except Exception:  # reported with the spec, the sweep goes on
        return "failed", traceback.format_exc()


# ---------------------------------------------------------------------------------------- packed workers


def cpu_count() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _visible_gpus() -> list[str]:
    """The GPUs this process sees, as the ids ``CUDA_VISIBLE_DEVICES`` takes (its own entries when it is set)."""
    if not torch.cuda.is_available():
        return []
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None and env.strip():
        return [g.strip() for g in env.split(",") if g.strip()][: torch.cuda.device_count()]
    return [str(i) for i in range(torch.cuda.device_count())]


def worker_slots(
    specs: list, *, runs_per_device: int | None = None, max_workers: int | None = None
) -> tuple[list[str | None], int]:
    """Where the worker processes of a packed sweep run: ``(gpus, threads)``.

    ``gpus`` has one entry per worker — the GPU id it sees (``CUDA_VISIBLE_DEVICES``), or ``None`` on the
    CPU — ``runs_per_device`` (default 1) per visible GPU when any run asks for CUDA (``device`` ``auto``,
    ``cuda`` or ``cuda:N``), else ``runs_per_device`` CPU workers (default: one per core). ``max_workers``
    caps the total, and there are never more workers than runs. ``threads``: torch threads per worker,
    the cores split evenly between the workers.
    """
    if runs_per_device is not None:
        runs_per_device = check_int("runs_per_device", runs_per_device, min=1)
    if max_workers is not None:
        max_workers = check_int("max_workers", max_workers, min=1)
    gpus = _visible_gpus() if any(s.device != "cpu" for s in specs) else []
    if gpus:
        slots: list[str | None] = [g for _ in range(runs_per_device or 1) for g in gpus]
    else:
        slots = [None] * (runs_per_device or max_workers or cpu_count())
    slots = slots[: min(len(slots), max_workers or len(slots), max(1, len(specs)))]
    return slots, max(1, cpu_count() // len(slots))


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set environment variables for the processes started in the block (a spawned child copies them)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _worker(conn: Connection, threads: int, results_dir: str, progress: bool, runner: Callable) -> None:
    """A worker process: train the specs it is sent, one at a time, until it is sent ``None``."""
    torch.set_num_threads(threads)
    while True:
        spec_dict = conn.recv()
        if spec_dict is None:
            return
        conn.send(runner(spec_dict, results_dir, None, progress))


def _pool(
    specs: list,
    gpus: list[str | None],
    threads: int,
    *,
    results_dir: str,
    progress: bool,
    on_result: Callable[[Any, str, str], None],
    runner: Callable = _run_one,
) -> None:
    """Train ``specs`` on one worker process per entry of ``gpus`` (a GPU id, or ``None`` for the CPU).

    A worker takes the next run as soon as it is free; a worker that dies is replaced, and its run reported
    as failed with the exit code. On CUDA each run's ``device`` becomes ``cuda`` — the worker's one GPU.
    """
    ctx = mp.get_context("spawn")
    queue = list(specs)
    procs: dict[int, tuple[Any, Connection]] = {}
    busy: dict[int, Any] = {}

    def start(slot: int) -> None:
        parent, child = ctx.Pipe()
        env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        if gpus[slot] is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpus[slot]
        with _environ(**env):  # before the child imports torch: one GPU per worker, no CUDA context here
            proc = ctx.Process(target=_worker, args=(child, threads, results_dir, progress, runner), daemon=True)
            proc.start()
        child.close()
        procs[slot] = (proc, parent)

    def give(slot: int) -> None:
        proc, conn = procs[slot]
        if not queue:
            with contextlib.suppress(OSError):
                conn.send(None)
            proc.join()
            del procs[slot]
            return
        if not proc.is_alive():  # it answered, then died: a fresh worker takes the next run
            proc.join()
            start(slot)
            proc, conn = procs[slot]
        spec = queue.pop(0)
        if gpus[slot] is not None and spec.device != "cpu":
            spec = spec.replace(device="cuda")  # execution field: the run_id is unchanged
        conn.send(spec.to_dict())
        busy[slot] = spec

    try:
        for slot in range(min(len(gpus), len(queue))):
            start(slot)
            give(slot)
        while busy:
            waiting = {}
            for slot in busy:
                proc, conn = procs[slot]
                waiting[conn] = waiting[proc.sentinel] = slot
            for slot in dict.fromkeys(waiting[obj] for obj in wait(list(waiting))):
                proc, conn = procs[slot]
                try:
                    status, err = conn.recv()
                except (EOFError, OSError):  # the worker died with the run
                    proc.join()
                    status, err = "failed", f"worker process died (exit code {proc.exitcode}) while training this run"
                    del procs[slot]
                    on_result(busy.pop(slot), status, err)
                    if queue:
                        start(slot)
                        give(slot)
                    continue
                on_result(busy.pop(slot), status, err)
                give(slot)
    finally:
        for proc, conn in procs.values():
            if proc.is_alive():
                proc.terminate()
            proc.join()
            conn.close()


# ------------------------------------------------------------------------------------------------------ run


def run(
    matrix: Iterable,
    *,
    executor: str | None = None,
    results_dir: str | os.PathLike = "results",
    runs_per_device: int | None = None,
    max_workers: int | None = None,
    progress: bool = True,
    folder: str | os.PathLike | None = None,
    slurm: dict[str, Any] | None = None,
    verbose: bool = True,
    keep_checkpoint: bool = False,
) -> SweepReport:
    """Train every run of ``matrix`` that has no record yet.

    Args:
        matrix: ``RunSpec`` s (e.g. :func:`zmixlib.recipes.resolve`).
        executor: one of :data:`EXECUTORS`; default ``"process"`` when ``runs_per_device`` or
            ``max_workers`` is given, else ``"inline"``.
        results_dir: where records (and checkpoints) go.
        runs_per_device: ``"process"`` executor: runs trained at once on each visible GPU (default 1), or
            worker processes on the CPU (default: one per core); see :func:`worker_slots`.
        max_workers: ``"process"`` executor: at most this many workers in all.
        progress: per-run tqdm bars (inline, and a process pool of one worker).
        folder: submitit's log folder (default ``<results_dir>/submitit``).
        slurm: extra ``update_parameters`` for submitit (``partition``, ``gpus_per_node``,
            ``timeout_min``, ...).
        verbose: print one line per finished run and the summary.
        keep_checkpoint: keep each trained run's last checkpoint (the trained weights,
            :func:`zmixlib.train.checkpoint_path`) for analyses of the model (notebook 05's neighbourhoods).

    Returns:
        a :class:`SweepReport`.
    """
    if executor is None:
        executor = "process" if runs_per_device is not None or max_workers is not None else "inline"
    check_choice("executor", executor, EXECUTORS)
    if executor != "process" and (runs_per_device is not None or max_workers is not None):
        name = "runs_per_device" if runs_per_device is not None else "max_workers"
        value = runs_per_device if runs_per_device is not None else max_workers
        raise ValueError(f"{name}={value!r} applies to executor 'process' only, got executor={executor!r}")
    t0 = time.perf_counter()
    results_dir = str(results_dir)
    specs = _unique(matrix)
    todo = pending(specs, results_dir)
    report = SweepReport(skipped=[s for s in specs if s not in todo])
    say = print if verbose else (lambda *a, **k: None)
    if report.skipped:
        say(f"skipping {len(report.skipped)} finished run(s) (records under {results_dir})")

    def record(spec, status: str, err: str) -> None:
        if status == "done":
            report.done.append(spec)
            say(f"done   {spec.run_id} {spec.dataset} {spec.label()} seed {spec.seed}")
        else:
            report.failed.append((spec, err))
            last = err.strip().splitlines()[-1] if err.strip() else "?"
            say(f"FAILED {spec.run_id} {spec.dataset} {spec.label()} seed {spec.seed}: {last}")

    if not todo:
        pass
    elif executor == "inline":
        for spec in todo:
            record(spec, *_run_one(spec.to_dict(), results_dir, None, progress, keep_checkpoint))
    elif executor == "process":
        gpus, threads = worker_slots(todo, runs_per_device=runs_per_device, max_workers=max_workers)
        where = f"GPU(s) {sorted(set(gpus))}" if gpus[0] is not None else "the CPU"
        say(f"{len(todo)} run(s) on {len(gpus)} worker process(es) on {where}, {threads} torch thread(s) each")
        runner = functools.partial(_run_one, keep_checkpoint=keep_checkpoint)
        _pool(todo, gpus, threads, results_dir=results_dir, progress=progress and len(gpus) == 1, on_result=record,
              runner=runner)  # fmt: skip
    else:
        import submitit  # deferred: an optional dependency, needed for the SLURM executors only

        log_folder = Path(folder) if folder is not None else Path(results_dir) / "submitit"
        ex = submitit.AutoExecutor(folder=str(log_folder), cluster=executor)
        params: dict[str, Any] = {"timeout_min": 24 * 60, "name": "zmix"}
        params.update(slurm or {})
        ex.update_parameters(**params)
        n = len(todo)
        jobs = ex.map_array(
            _run_one, [s.to_dict() for s in todo], [results_dir] * n, [None] * n, [False] * n, [keep_checkpoint] * n
        )
        say(f"submitted {n} job(s) to {executor} (logs: {log_folder})")
        for spec, job in zip(todo, jobs):
            try:
                status, err = job.result()
            except Exception:  # the job itself failed
                status, err = "failed", traceback.format_exc()
            record(spec, status, err)
    report.wall_time_s = time.perf_counter() - t0
    say(str(report))
    return report
