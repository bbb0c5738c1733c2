"""Chapter 11's robustness table: every stored model of a run matrix evaluated under every shift, one row per
(run, shift), cached per run beside the records (``<results>/robustness/<run_id>.json``, checksummed; a damaged
or stale file is set aside and evaluated again)."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import torch

from zmixlib.core import util as _util
from zmixlib.core.vocab import method_label
from zmixlib.engine import store
from zmixlib.engine.runspec import RunSpec

from .attacks import EvalSplit, Shift, error_under, fgsm_errors, load_model, subsample, test_split

__all__ = ["shifts", "evaluate_runs", "evaluate_parallel", "cache_path"]


def shifts(params: Any, *, pgd: bool) -> list[Shift]:
    """The profile's shifts: clean, noise at each ``noise_eps``, FGSM at each ``fgsm_eps``, and (``pgd``) PGD at
    ``pgd_eps`` with step ``pgd_step`` and ``pgd_steps`` steps."""
    out = [Shift("clean")]
    out += [Shift("noise", float(e)) for e in params.noise_eps]
    out += [Shift("fgsm", float(e)) for e in params.fgsm_eps]
    if pgd:
        out.append(Shift("pgd", float(params.pgd_eps), float(params.pgd_step), int(params.pgd_steps)))
    return out


def cache_path(spec: RunSpec, results_dir: str | Path) -> Path:
    """``<results_dir>/robustness/<run_id>.json``: the run's errors under the shifts evaluated so far."""
    return Path(results_dir) / "robustness" / f"{spec.run_id}.json"


def _check_cache(d: dict[str, Any]) -> None:
    if not isinstance(d.get("errors"), dict) or not all(isinstance(v, (int, float)) for v in d["errors"].values()):
        raise ValueError("its 'errors' is not a {shift: error} object")


#: the knobs :func:`evaluate_runs` reads from ``params`` (what a worker process is given)
_KNOBS = ("test_subset", "pgd_subset", "noise_eps", "fgsm_eps", "pgd_eps", "pgd_step", "pgd_steps")


def _evaluate_part(specs: list[dict], results_dir: str, knobs: dict, pgd_ids: list, device: str, threads: int):
    """One worker's share of :func:`evaluate_runs` (a spawned process: plain arguments in, a frame out)."""
    torch.set_num_threads(threads)
    runs = [RunSpec.from_dict(d) for d in specs]
    return evaluate_runs(runs, results_dir, SimpleNamespace(**knobs), pgd_ids=set(pgd_ids), device=torch.device(device))


def evaluate_parallel(
    specs: Iterable[RunSpec],
    results_dir: str | Path,
    params: Any,
    *,
    pgd_ids: Collection[str] = (),
    device: torch.device | None = None,
    workers: int | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """:func:`evaluate_runs` on ``workers`` spawned processes of ``threads`` torch threads each (``None``/1 worker:
    in this process, on ``threads`` threads), the runs dealt round-robin; the rows in the order of ``specs``. On a
    GPU: in this process."""
    specs = list(specs)
    device = device or torch.device("cpu")
    if (workers or 1) <= 1 or len(specs) < 2 or device.type != "cpu":
        with _util.torch_threads(threads if device.type == "cpu" else None):
            return evaluate_runs(specs, results_dir, params, pgd_ids=pgd_ids, device=device)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    knobs = {k: getattr(params, k) for k in _KNOBS}
    parts = [specs[i :: int(workers)] for i in range(int(workers))]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=int(workers), mp_context=mp.get_context("spawn")) as pool:
        futures = [
            pool.submit(
                _evaluate_part,
                [sp.to_dict() for sp in part],
                str(results_dir),
                knobs,
                sorted(pgd_ids),
                str(device),
                int(threads or 1),
            )
            for part in parts
            if part
        ]
        frames = [f.result() for f in futures]
    out = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else frames[0]
    if len(out):
        order = {sp.run_id: i for i, sp in enumerate(specs)}
        out = out.sort_values("run_id", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)
    out.attrs["eval_s"] = time.perf_counter() - t0 if any(f.attrs.get("eval_s", 0) for f in frames) else 0.0
    return out


def evaluate_runs(
    specs: Iterable[RunSpec],
    results_dir: str | Path,
    params: Any,
    *,
    pgd_ids: Collection[str] = (),
    device: torch.device | None = None,
) -> pd.DataFrame:
    """One row per (run, shift): ``run_id, dataset, arch, method, gamma, alpha, k, label, seed, attack, eps, shift,
    error, n_test`` (top-1 error, %, on the whole test split or ``params.test_subset`` images of it; PGD, only for the
    runs ``pgd_ids`` names, on ``params.pgd_subset`` fixed images of that). Runs whose weights are missing are
    skipped (the chapter trains them first: :func:`zmixlib.engine.store.require_weights`). ``attrs["eval_s"]`` is the wall
    time spent evaluating (cached results cost nothing)."""
    device = device or torch.device("cpu")
    splits: dict[tuple, EvalSplit] = {}
    rows, spent = [], 0.0
    sizes = {"test_subset": params.test_subset, "pgd_subset": params.pgd_subset}
    for spec in specs:
        wanted = shifts(params, pgd=spec.run_id in pgd_ids)
        path = cache_path(spec, results_dir)
        cached = store.load_result(path, check=_check_cache, kind="robustness result") or {}
        same = all(cached.get(k) == v for k, v in sizes.items())
        errors, counts = (dict(cached["errors"]), dict(cached.get("n_test", {}))) if same else ({}, {})
        todo = [s for s in wanted if s.key not in errors]
        if todo:
            key = (spec.dataset, spec.data_root)
            if key not in splits:
                splits[key] = test_split(spec, subset=params.test_subset)
            model = load_model(spec, splits[key], results_dir, device=device)
            if model is None:
                continue
            t0 = time.perf_counter()
            fgsm = [s for s in todo if s.attack == "fgsm"]
            found = fgsm_errors(model, splits[key], [s.eps for s in fgsm], device=device)
            errors.update({s.key: found[s.eps] for s in fgsm})
            counts.update({s.key: len(splits[key].y) for s in fgsm})
            for s in todo:
                if s.attack != "fgsm":
                    split = splits[key] if s.attack != "pgd" else subsample(splits[key], params.pgd_subset)
                    errors[s.key] = error_under(model, split, s, seed=spec.seed, device=device)
                    counts[s.key] = len(split.y)
            spent += time.perf_counter() - t0
            store.save_result(path, {"run_id": spec.run_id, **sizes, "n_test": counts, "errors": errors})
        k = dict(spec.extra).get("k")
        for s in wanted:
            rows.append(
                {
                    "run_id": spec.run_id,
                    "dataset": spec.dataset,
                    "arch": spec.arch,
                    "method": spec.method,
                    "gamma": spec.gamma,
                    "alpha": spec.alpha,
                    "k": k,
                    "label": method_label(spec.method, spec.gamma) + (f" (k = {k})" if k is not None else ""),
                    "seed": spec.seed,
                    "attack": s.attack,
                    "eps": s.eps,
                    "shift": s.key,
                    "error": float(errors[s.key]),
                    "n_test": counts.get(s.key),
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["eval_s"] = spent
    return out
