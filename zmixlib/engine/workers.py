"""Training runs in worker processes: one run that never raises (:func:`run_one`), how a record says where it
was produced (:func:`produced_by`), and the ``"process"`` executor's pool — worker processes packed onto the
visible GPUs, ``runs_per_device`` on each, or sharing the CPU cores (:func:`worker_slots`). A worker that dies
with its run is replaced and the run reported as failed. :mod:`zmixlib.engine.sweep` uses them for its ``"process"``
executor and inside each packed array task.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import platform
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

import torch

from zmixlib.core.checks import check_int
from zmixlib.core.util import environ
from zmixlib.engine.runspec import RunSpec
from zmixlib.engine.train import fit

__all__ = ["run_one", "produced_by", "cpu_count", "worker_slots", "pool"]


def run_one(
    spec_dict: dict[str, Any],
    results_dir: str,
    threads: int | None,
    progress: bool,
    keep_checkpoint: bool = False,
    produced_by: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """Train one run. Returns ``("done", "")`` or ``("failed", traceback)`` — never raises, so one run's
    failure (and unpicklable exceptions) cannot take a pool down; Ctrl-C still stops.

    ``produced_by`` (executor, job id, node, ...) is added to the record's ``environment``, so a record says
    how it was produced (:func:`produced_by`)."""
    try:
        if threads:
            torch.set_num_threads(threads)
        where = dict(produced_by or {})
        if where.get("executor") in ("local", "slurm"):  # this worker's own GPUs (packed runs: one each)
            where["visible_gpus"] = os.environ.get("CUDA_VISIBLE_DEVICES") or None
        fit(
            RunSpec.from_dict(spec_dict),
            results_dir=results_dir,
            progress=progress,
            keep_checkpoint=keep_checkpoint,
            produced_by=where or None,
        )
        return "done", ""
    except Exception:  # reported with the spec, the sweep goes on
        return "failed", traceback.format_exc()


def produced_by(executor: str) -> dict[str, Any]:
    """How the run trained in this process is produced: ``executor``, ``job_id`` (SLURM: ``<array>_<task>``,
    the same after a requeue; ``None`` inline), ``node`` and, on SLURM, ``slurm_restarts`` (how many times the
    job was requeued) and the GPUs it was given. Stored in each record's ``environment``."""
    env = os.environ
    job_id = None
    if env.get("SLURM_ARRAY_JOB_ID") and env.get("SLURM_ARRAY_TASK_ID"):
        job_id = f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    elif env.get("SLURM_JOB_ID"):
        job_id = env["SLURM_JOB_ID"]
    elif executor == "local" and env.get("SUBMITIT_LOCAL_JOB_ID"):
        job_id = env["SUBMITIT_LOCAL_JOB_ID"]
    out: dict[str, Any] = {
        "executor": executor,
        "job_id": job_id,
        "node": env.get("SLURMD_NODENAME") or platform.node(),
    }
    if executor == "slurm":
        out["slurm_restarts"] = int(env.get("SLURM_RESTART_COUNT") or 0)
    return out


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


def _worker(conn: Connection, threads: int, results_dir: str, progress: bool, runner: Callable) -> None:
    """A worker process: train the specs it is sent, one at a time, until it is sent ``None``."""
    torch.set_num_threads(threads)
    while True:
        spec_dict = conn.recv()
        if spec_dict is None:
            return
        conn.send(runner(spec_dict, results_dir, None, progress))


def pool(
    specs: list,
    gpus: list[str | None],
    threads: int,
    *,
    results_dir: str,
    progress: bool,
    on_result: Callable[[Any, str, str], None],
    runner: Callable = run_one,
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
        with environ(env):  # before the child imports torch: one GPU per worker, no CUDA context here
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
