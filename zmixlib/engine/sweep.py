"""Run a matrix of runs — inline, on local worker processes packed onto the devices, or on SLURM (submitit).

``run(matrix, executor=...)`` trains every :class:`~zmixlib.engine.runspec.RunSpec` whose record
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
  subprocesses): the missing runs as one job array (``map_array``), one run per task, or ``N · K`` runs per
  task with ``gpus=N`` and ``runs_per_gpu=K`` (:func:`array_tasks`); ``slurm={"partition": ..., "time": ...,
  "gpus": ..., "runs_per_gpu": ...}`` (:func:`slurm_parameters`). The job ids and a live pending / running /
  done / failed count are printed until the array ends; the status is read from ``squeue`` and the jobs' own
  result files (no ``sacct``: a cluster without accounting works). A requeued job resumes its runs from their
  checkpoints (:class:`ArrayTask`); a failed run's message names its log. Paths are made absolute before
  submitting, so jobs do not depend on their working folder. ``tests/test_slurm.py`` runs this through a real
  cluster (``make cluster``).

Each run trains as it would alone (:func:`zmixlib.engine.train.fit` with the same spec): the records do not depend
on the executor or on how many runs share a device (``tests/test_sweep.py``).

CLI: ``python -m zmixlib sweep --section natural --profile paper --runs-per-device 4`` (:mod:`zmixlib.cli`).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zmixlib.core.checks import check_choice, check_int
from zmixlib.engine import store
from zmixlib.engine.runspec import RunSpec
from zmixlib.engine.workers import pool, produced_by, run_one, worker_slots

__all__ = [
    "EXECUTORS",
    "SweepReport",
    "pending",
    "run",
    "slurm_parameters",
    "array_tasks",
    "ArrayTask",
    "squeue_states",
]

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


#: ``slurm=`` keys (``--slurm KEY=VALUE``) named for people, and the submitit parameter each sets. Any other
#: key is passed to submitit's ``update_parameters`` as it is (``slurm_additional_parameters``, ...).
SLURM_KEYS = {
    "partition": "slurm_partition",
    "time": "timeout_min",  # minutes, or SLURM's [D-]HH:MM:SS
    "gpus": "gpus_per_node",
    "gres": "slurm_gres",  # e.g. gpu:4 (the GPU count also sizes the packing)
    "cpus": "cpus_per_task",
    "mem": "mem_gb",
    "qos": "slurm_qos",
    "account": "slurm_account",
    "constraint": "slurm_constraint",
    "nodelist": "slurm_nodelist",
}
#: ``slurm=`` keys that pack several runs into one array task (runs per GPU; on a CPU node, worker processes)
PACKING_KEYS = ("runs_per_gpu", "runs_per_device")
#: squeue states of a task that has not started (anything else live counts as running)
_WAITING = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "PREEMPTED"}
#: the log folder's list of submitted tasks (job id -> run ids), so a second sweep waits for runs still queued
ARRAYS_FILE = "zmix_arrays.jsonl"


def _minutes(value: Any) -> int:
    """A time limit in whole minutes from minutes or SLURM's ``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"slurm time must be > 0 minutes, got {value!r}")
        return max(1, int(-(-value // 1)))
    text = str(value).strip()
    days, _, rest = text.rpartition("-") if "-" in text else ("", "", text)
    try:
        parts = [int(p) for p in rest.split(":")]
        d = int(days) if days else 0
    except ValueError:
        raise ValueError(f"slurm time must be minutes or [D-]HH:MM:SS, got {value!r}") from None
    if days:
        h, m, sec = (parts + [0, 0])[:3]
    elif len(parts) == 1:
        h, m, sec = 0, parts[0], 0
    elif len(parts) == 2:
        h, m, sec = 0, parts[0], parts[1]
    elif len(parts) == 3:
        h, m, sec = parts
    else:
        raise ValueError(f"slurm time must be minutes or [D-]HH:MM:SS, got {value!r}")
    total = ((d * 24 + h) * 60 + m) * 60 + sec
    if total <= 0:
        raise ValueError(f"slurm time must be > 0, got {value!r}")
    return -(-total // 60)


def slurm_parameters(slurm: dict[str, Any] | None, executor: str = "slurm") -> tuple[dict[str, Any], int | None, int]:
    """``(submitit parameters, runs per device, GPUs per node)`` from ``slurm=`` (``--slurm KEY=VALUE``).

    Keys: :data:`SLURM_KEYS` (``partition``, ``time``, ``gpus``, ``gres``, ``cpus``, ``mem``, ...),
    :data:`PACKING_KEYS` (``runs_per_gpu``), or any submitit parameter name (``slurm_partition``,
    ``timeout_min``, ``slurm_additional_parameters``, ...). Errors name the key and what is allowed.
    Defaults: 24 h time limit, job name ``zmix``.
    """
    from submitit.auto.auto import AutoExecutor  # deferred: needed for the SLURM executors only
    from submitit.core.plugins import get_executors

    valid = set(AutoExecutor._valid_parameters()) | {"name"}
    valid |= {f"{ex}_{arg}" for ex, cls in get_executors().items() for arg in cls._valid_parameters()}
    params: dict[str, Any] = {"timeout_min": 24 * 60, "name": "zmix"}
    runs_per_device = None
    for key, value in (slurm or {}).items():
        if key in PACKING_KEYS:
            runs_per_device = check_int(key, value, min=1)
            continue
        name = SLURM_KEYS.get(key, key)
        if name == "timeout_min":
            value = _minutes(value)
        if name not in valid:
            allowed = ", ".join([*SLURM_KEYS, *PACKING_KEYS])
            raise ValueError(
                f"slurm parameter {key}={value!r} is not known; allowed: {allowed}, or a submitit parameter "
                "(slurm_partition, timeout_min, slurm_additional_parameters, ...)"
            ) from None
        params[name] = value
    gpus = params.get("gpus_per_node") or params.get("slurm_gpus_per_node") or 0
    gres = str(params.get("slurm_gres") or "")
    if not gpus and gres.startswith("gpu"):
        gpus = int(gres.rsplit(":", 1)[-1]) if gres.rsplit(":", 1)[-1].isdigit() else 1
    gpus = check_int("gpus", gpus, min=0)
    return params, runs_per_device, gpus


def array_tasks(specs: list, *, gpus_per_node: int = 0, runs_per_device: int | None = None) -> list[list]:
    """How a job array packs the runs: one run per task, or with ``runs_per_device`` K, ``N · K`` runs per task on
    nodes of N GPUs (K runs share each GPU, the engine's packing; K worker processes on a CPU node) — so R runs take
    ⌈R / (N · K)⌉ tasks, in the order given."""
    gpus_per_node = check_int("gpus_per_node", gpus_per_node, min=0)
    per = 1 if runs_per_device is None else max(1, gpus_per_node) * check_int("runs_per_device", runs_per_device, min=1)
    return [list(specs[i : i + per]) for i in range(0, len(specs), per)]


class ArrayTask:
    """One array task: train its runs — one after another, or, with ``runs_per_device``, packed onto the job's GPUs
    (CPU: worker processes) — and return ``[(status, error), ...]`` in their order. Each record's ``environment``
    says how it was produced (:func:`produced_by`).

    Requeued (``scontrol requeue``, preemption, SIGUSR2 at the time limit: submitit calls :meth:`checkpoint` and
    requeues), the job starts again with the same runs: a run whose record is valid is not trained again, the
    others resume from their last epoch checkpoint (:func:`zmixlib.engine.train.fit`), so the record equals an
    uninterrupted run's.
    """

    def __call__(
        self, spec_dicts: list, results_dir: str, runs_per_device: int | None, keep_checkpoint: bool, executor: str
    ) -> list[tuple[str, str]]:
        where = produced_by(executor)
        specs = [RunSpec.from_dict(d) for d in spec_dicts]
        out: dict[str, tuple[str, str]] = {}
        todo = pending(specs, results_dir)
        for spec in specs:
            if spec not in todo:
                out[spec.run_id] = ("done", "")  # finished before this job was requeued
        if len(todo) > 1 and runs_per_device:
            gpus, threads = worker_slots(todo, runs_per_device=runs_per_device)
            runner = functools.partial(run_one, keep_checkpoint=keep_checkpoint, produced_by=where)
            pool(
                todo,
                gpus,
                threads,
                results_dir=results_dir,
                progress=False,
                on_result=lambda s, st, err: out.__setitem__(s.run_id, (st, err)),
                runner=runner,
            )
        else:
            for spec in todo:
                out[spec.run_id] = run_one(spec.to_dict(), results_dir, None, False, keep_checkpoint, where)
        for spec in specs:  # the job's own log holds each run's outcome (a FAILED line names that log)
            status, err = out[spec.run_id]
            print(f"{status} {spec.run_id} {spec.dataset} {spec.label()} seed {spec.seed}", flush=True)
            if status != "done":
                print(
                    f"run {spec.run_id} ({spec.dataset} {spec.label()} seed {spec.seed}) failed:\n{err}",
                    file=sys.stderr,
                    flush=True,
                )
        return [out[s.run_id] for s in specs]

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """submitit's preemption/time-out hook: requeue the same task (the runs' checkpoints are on disk)."""
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


@dataclass
class _Task:
    """A submitted array task being watched."""

    job_id: str
    specs: list
    stdout: Path
    stderr: Path
    result: Path
    state: str = "pending"
    missing: int = 0
    job: Any = None  # the submitit job (local executor: its process tells whether it is alive)


def _paths(folder: Path, job_id: str) -> dict[str, Path]:
    from submitit.core.utils import JobPaths

    p = JobPaths(folder, job_id=job_id, task_id=0)
    return {"stdout": p.stdout, "stderr": p.stderr, "result": p.result_pickle}


def squeue_states() -> dict[str, str] | None:
    """``{job id: state}`` of every live job and array task (``<array>_<task>``), from ``squeue`` — SLURM without
    accounting has no ``sacct``; ``None`` when squeue does not answer."""
    try:
        r = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return dict(line.split(None, 1) for line in r.stdout.splitlines() if len(line.split(None, 1)) == 2)


def _read_result(task: _Task) -> list[tuple[str, str]] | None:
    """The task's outcome from submitit's result file (``None`` while it is being written)."""
    from submitit.core.utils import pickle_load

    try:
        kind, value = pickle_load(task.result)
    except Exception:  # half-written: read again at the next poll
        return None
    if kind == "success" and isinstance(value, list) and len(value) == len(task.specs):
        return [tuple(v) for v in value]
    return [("failed", f"{value}" if kind == "error" else f"unexpected result {kind!r}")] * len(task.specs)


def _with_log(err: str, task: _Task) -> str:
    """The error with a last line naming the task's log file (what a FAILED line shows)."""
    lines = err.strip().splitlines()
    last = lines[-1] if lines else "failed"
    return f"{err.rstrip()}\n{last} (job {task.job_id}, log: {task.stderr})"


#: squeue states of a task whose work has ended (``COMPLETING``: the job is releasing its node, its result written)
_ENDED = {
    "COMPLETING",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "BOOT_FAIL",
    "DEADLINE",
    "SPECIAL_EXIT",
}


def _queued(folder: Path, todo: list, states: dict[str, str] | None) -> list[_Task]:
    """Tasks of an earlier sweep, still in the queue, that hold runs of ``todo`` (so they are not submitted twice).
    A task that has ended — its state in :data:`_ENDED` (squeue lists a task as ``COMPLETING`` for a moment after
    it failed), or its result file written — is not waited for: its runs without a record are submitted again."""
    path = folder / ARRAYS_FILE
    if not states or not path.is_file():
        return []
    by_id = {s.run_id: s for s in todo}
    tasks = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        job = entry.get("job_id")
        if job in states and states[job] not in _ENDED and any(r in by_id for r in entry.get("run_ids", [])):
            paths = _paths(folder, job)
            if paths["result"].exists():
                continue
            tasks.append(_Task(job, [by_id[r] for r in entry["run_ids"] if r in by_id], **paths))
    return tasks


def _submit_array(
    todo: list,
    *,
    executor: str,
    results_dir: str,
    folder: Path,
    slurm: dict[str, Any] | None,
    runs_per_device: int | None,
    keep_checkpoint: bool,
    on_result: Callable[[Any, str, str], None],
    say: Callable[..., None],
    poll_s: float = 2.0,
) -> None:
    """Submit ``todo`` as one job array (submitit ``map_array``), print the job ids and a live count of its runs
    (pending / running / done / failed) until every task ended, and report each run through ``on_result``."""
    import submitit  # deferred: needed for the SLURM executors only

    params, packing, gpus = slurm_parameters(slurm, executor)
    runs_per_device = runs_per_device or packing
    states = squeue_states() if executor == "slurm" else None
    tasks = _queued(folder, todo, states)
    attached = {s.run_id for t in tasks for s in t.specs}
    if tasks:
        say(
            f"{len(attached)} run(s) are still queued from an earlier sweep (job(s) "
            f"{', '.join(t.job_id for t in tasks)}): waiting for them, not submitting them again"
        )
    fresh = [s for s in todo if s.run_id not in attached]
    if fresh:
        groups = array_tasks(fresh, gpus_per_node=gpus, runs_per_device=runs_per_device)
        ex = submitit.AutoExecutor(folder=str(folder), cluster=executor)
        try:
            ex.update_parameters(**params)
        except (NameError, TypeError, ValueError) as err:  # a value of the wrong type
            raise ValueError(f"slurm parameters {params}: {str(err).splitlines()[0]}") from None
        n = len(groups)
        jobs = ex.map_array(
            ArrayTask(),
            [[s.to_dict() for s in g] for g in groups],
            [results_dir] * n,
            [runs_per_device] * n,
            [keep_checkpoint] * n,
            [executor] * n,
        )
        new = [_Task(j.job_id, g, **_paths(folder, j.job_id), job=j) for j, g in zip(jobs, groups)]
        with open(folder / ARRAYS_FILE, "a") as f:
            for t in new:
                f.write(json.dumps({"job_id": t.job_id, "run_ids": [s.run_id for s in t.specs]}) + "\n")
        array = new[0].job_id.split("_")[0]
        per = f", {len(fresh) / n:g} run(s) per task" if n != len(fresh) else ""
        where = f"partition {params['slurm_partition']}" if params.get("slurm_partition") else "default partition"
        ids = f"job ids {new[0].job_id} .. {new[-1].job_id}" if n > 1 else f"job id {new[0].job_id}"
        say(
            f"submitted job array {array} to {executor} ({where}): {n} task(s) for {len(fresh)} run(s){per}; "
            f"{ids}; logs {folder}/<job id>_0_log.err"
        )
        tasks += new
    _watch(tasks, executor=executor, on_result=on_result, say=say, poll_s=poll_s)


def _watch(tasks: list[_Task], *, executor: str, on_result: Callable, say: Callable, poll_s: float) -> None:
    """Poll until every task ended: its result file (done/failed per run), or the queue without it (failed)."""
    live = list(tasks)
    t0, last = time.perf_counter(), None
    counts = {"pending": 0, "running": 0, "done": 0, "failed": 0}
    try:
        while live:
            states = squeue_states() if executor == "slurm" else None
            for task in list(live):
                outcome = _read_result(task) if task.result.exists() else None
                if outcome is None:
                    if executor == "slurm":
                        state = None if states is None else states.get(task.job_id, "")
                        if state:
                            task.missing, task.state = 0, ("pending" if state in _WAITING else "running")
                        elif state == "":  # not in the queue, no result: gone unless it is being written
                            task.missing += 1
                            if task.missing >= 3:
                                outcome = [
                                    (
                                        "failed",
                                        f"job {task.job_id} left the queue without a result "
                                        "(cancelled, killed, node failure or out of memory)",
                                    )
                                ] * len(task.specs)
                    else:  # submitit's local executor: the job's own process
                        task.state = "running" if task.job is not None and task.job.state == "RUNNING" else task.state
                        if task.job is not None and task.job.done() and not task.result.exists():
                            outcome = [("failed", f"job {task.job_id} ended without a result")] * len(task.specs)
                if outcome is not None:
                    live.remove(task)
                    for spec, (status, err) in zip(task.specs, outcome):
                        counts[status if status in counts else "failed"] += 1
                        on_result(spec, status, _with_log(err, task) if status != "done" else err)
            counts["pending"] = sum(len(t.specs) for t in live if t.state == "pending")
            counts["running"] = sum(len(t.specs) for t in live if t.state == "running")
            line = ", ".join(f"{v} {k}" for k, v in counts.items())
            if line != last:
                say(f"[{time.perf_counter() - t0:6.0f} s] {line}")
                last = line
            if live:
                time.sleep(poll_s)
    except KeyboardInterrupt:
        ids = sorted({t.job_id.split("_")[0] for t in live})
        say(
            f"stopped watching; the job(s) {', '.join(ids)} keep running on the cluster (scancel {' '.join(ids)} "
            "stops them); the same command again waits for them, then submits only what is still missing"
        )
        raise


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
        matrix: ``RunSpec`` s (e.g. :func:`zmixlib.protocol.recipes.resolve`).
        executor: one of :data:`EXECUTORS`; default ``"process"`` when ``runs_per_device`` or
            ``max_workers`` is given, else ``"inline"``.
        results_dir: where records (and checkpoints) go.
        runs_per_device: ``"process"`` executor: runs trained at once on each visible GPU (default 1), or
            worker processes on the CPU (default: one per core); see :func:`zmixlib.engine.workers.worker_slots`.
        max_workers: ``"process"`` executor: at most this many workers in all.
        progress: per-run tqdm bars (inline, and a process pool of one worker).
        folder: submitit's log folder (default ``<results_dir>/submitit``).
        slurm: extra ``update_parameters`` for submitit (``partition``, ``gpus_per_node``,
            ``timeout_min``, ...).
        verbose: print one line per finished run and the summary.
        keep_checkpoint: keep each trained run's last checkpoint (the trained weights,
            :func:`zmixlib.engine.train.checkpoint_path`) for analyses of the model (notebook 05's neighbourhoods).

    Returns:
        a :class:`SweepReport`.
    """
    if executor is None:
        executor = "process" if runs_per_device is not None or max_workers is not None else "inline"
    check_choice("executor", executor, EXECUTORS)
    if executor != "process" and max_workers is not None:
        raise ValueError(f"max_workers={max_workers!r} applies to executor 'process' only, got executor={executor!r}")
    if executor == "inline" and runs_per_device is not None:
        raise ValueError(
            f"runs_per_device={runs_per_device!r} applies to executors 'process', 'local' and 'slurm' only, "
            f"got executor={executor!r}"
        )
    if runs_per_device is not None:
        runs_per_device = check_int("runs_per_device", runs_per_device, min=1)
    t0 = time.perf_counter()
    # jobs on other machines (or started elsewhere) read this folder as this process means it
    results_dir = str(Path(results_dir).resolve()) if executor in ("local", "slurm") else str(results_dir)
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
            record(spec, *run_one(spec.to_dict(), results_dir, None, progress, keep_checkpoint, produced_by("inline")))
    elif executor == "process":
        gpus, threads = worker_slots(todo, runs_per_device=runs_per_device, max_workers=max_workers)
        where = f"GPU(s) {sorted(set(gpus))}" if gpus[0] is not None else "the CPU"
        say(f"{len(todo)} run(s) on {len(gpus)} worker process(es) on {where}, {threads} torch thread(s) each")
        runner = functools.partial(run_one, keep_checkpoint=keep_checkpoint, produced_by=produced_by("process"))
        pool(
            todo,
            gpus,
            threads,
            results_dir=results_dir,
            progress=progress and len(gpus) == 1,
            on_result=record,
            runner=runner,
        )
    else:
        log_folder = Path(folder).resolve() if folder is not None else Path(results_dir) / "submitit"
        log_folder.mkdir(parents=True, exist_ok=True)
        # the jobs resolve nothing against their working folder: data roots as this process means them
        todo = [
            s if Path(s.data_root).is_absolute() else s.replace(data_root=str(Path(s.data_root).resolve()))
            for s in todo
        ]
        _submit_array(
            todo,
            executor=executor,
            results_dir=results_dir,
            folder=log_folder,
            slurm=slurm,
            runs_per_device=runs_per_device,
            keep_checkpoint=keep_checkpoint,
            on_result=record,
            say=say,
        )
    report.wall_time_s = time.perf_counter() - t0
    say(str(report))
    return report
