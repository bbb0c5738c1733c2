"""Run a matrix of runs — inline, on a local process pool, or on SLURM through submitit.

``run(matrix, executor=...)`` trains every :class:`~zmixlib.train.RunSpec` whose record
(``results/<section>/<run_id>.json``) does not exist yet, so rerunning a sweep only does what is
missing (and an interrupted run resumes from its checkpoint). A failed run is reported with its spec and
traceback; the others go on. Executors:

* ``"inline"`` — in this process, one after another (notebooks, CI);
* ``"process"`` — a ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method;
* ``"local"`` / ``"slurm"`` — submitit (``AutoExecutor``; ``"local"`` runs the jobs as local
  subprocesses, which is how the SLURM path is tested), one job per run, submitted as a job array;
  ``slurm={"partition": ..., "gpus_per_node": 1, ...}`` goes to ``update_parameters``.

CLI: ``python -m zmixlib sweep --section natural --profile offline [--executor process --workers 2]``.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zmixlib import store
from zmixlib._checks import check_choice, check_int

__all__ = ["EXECUTORS", "SweepReport", "pending", "run"]

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


def _run_one(spec_dict: dict[str, Any], results_dir: str, threads: int | None, progress: bool) -> tuple[str, str]:
    """Worker: train one run. Returns ``("done", "")`` or ``("failed", traceback)`` — never raises, so
    one run's failure (and unpicklable exceptions) cannot take the pool down; Ctrl-C still stops."""
    try:
        import torch

        from zmixlib.train import RunSpec, fit

        if threads:
            torch.set_num_threads(threads)
        fit(RunSpec.from_dict(spec_dict), results_dir=results_dir, progress=progress)
        return "done", ""
    except Exception:  # reported with the spec, the sweep goes on
        return "failed", traceback.format_exc()


def run(
    matrix: Iterable,
    *,
    executor: str = "inline",
    results_dir: str | os.PathLike = "results",
    max_workers: int | None = None,
    progress: bool = True,
    folder: str | os.PathLike | None = None,
    slurm: dict[str, Any] | None = None,
    verbose: bool = True,
) -> SweepReport:
    """Train every run of ``matrix`` that has no record yet.

    Args:
        matrix: ``RunSpec`` s (e.g. :func:`zmixlib.recipes.resolve`).
        executor: one of :data:`EXECUTORS`.
        results_dir: where records (and checkpoints) go.
        max_workers: process pool size (default: ``min(#runs, cpu_count)``); each worker gets
            ``cpu_count // max_workers`` torch threads.
        progress: per-run tqdm bars (inline and process pool).
        folder: submitit's log folder (default ``<results_dir>/submitit``).
        slurm: extra ``update_parameters`` for submitit (``partition``, ``gpus_per_node``,
            ``timeout_min``, ...).
        verbose: print one line per finished run and the summary.

    Returns:
        a :class:`SweepReport`.
    """
    check_choice("executor", executor, EXECUTORS)
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
            record(spec, *_run_one(spec.to_dict(), results_dir, None, progress))
    elif executor == "process":
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        cpus = os.cpu_count() or 1
        workers = check_int("max_workers", max_workers, min=1) if max_workers is not None else min(len(todo), cpus)
        threads = max(1, cpus // workers)
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_run_one, s.to_dict(), results_dir, threads, progress): s for s in todo}
            from concurrent.futures import as_completed

            for fut in as_completed(futures):
                try:
                    status, err = fut.result()
                except Exception:  # a worker died (killed, out of memory)
                    status, err = "failed", traceback.format_exc()
                record(futures[fut], status, err)
    else:
        import submitit

        log_folder = Path(folder) if folder is not None else Path(results_dir) / "submitit"
        ex = submitit.AutoExecutor(folder=str(log_folder), cluster=executor)
        params: dict[str, Any] = {"timeout_min": 24 * 60, "name": "zmix"}
        params.update(slurm or {})
        ex.update_parameters(**params)
        n = len(todo)
        jobs = ex.map_array(_run_one, [s.to_dict() for s in todo], [results_dir] * n, [None] * n, [False] * n)
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
