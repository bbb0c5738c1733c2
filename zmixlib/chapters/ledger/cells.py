"""Cells from a chapter's frames: seed-paired differences grouped per cell, and the words the ledger prints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .evidence_files import _plain


def _regime_of(regime: Any, claim_id: str) -> dict[str, Any]:
    """``{"regime_passed", "regime"}`` from a ``RegimeCheck`` (or a dict of them per claim id, or ``None``)."""
    if isinstance(regime, dict) and claim_id in regime:
        regime = regime[claim_id]
    elif isinstance(regime, dict) and "regime_passed" not in regime:
        regime = None
    if regime is None:
        return {}
    if hasattr(regime, "as_evidence"):
        return dict(regime.as_evidence())
    return {"regime_passed": regime.get("regime_passed"), "regime": regime.get("regime")}


def _key_text(key: Sequence[Any]) -> str:
    return ", ".join("—" if pd.isna(k) else str(k) for k in key)


def _seed_cells(
    pairs: pd.DataFrame,
    keys: Sequence[str],
    *,
    sign: float = 1.0,
    value: str = "diff",
    group: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One cell per ``keys`` group of a seed-paired frame: ``sign · diff`` per seed (with the seeds, so the
    rule can average over cells within a seed). ``group``: the keys (a prefix of ``keys``' meaning) whose cells
    share a baseline's runs — each cell then carries ``"group"`` (their values), which the sign test counts once
    (:mod:`.rules`)."""
    out = []
    if pairs is None or len(pairs) == 0:
        return out
    for key, g in pairs.groupby(list(keys), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        g = g[g[value].notna()]
        if len(g):
            cell = {"label": _key_text(key), "diffs": [sign * float(x) for x in g[value]]}
            if group:
                cell["group"] = _key_text([g[k].iloc[0] for k in group])
            if "seed" in g.columns and g["seed"].is_unique:
                cell["seeds"] = [_plain(x) for x in g["seed"]]
            out.append(cell)
    return out


def joint_cells(by_baseline: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Cells of a joint claim (:attr:`~.claims.Claim.joint`): ``{baseline: cells}`` with the same labels per
    baseline become one unit per label (``"unit"``: the label, ``"vs"``: the baseline, the label suffixed
    ``" vs <baseline>"``), in unit order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for vs, cells in by_baseline.items():
        for c in cells:
            out.setdefault(c["label"], []).append(dict(c, label=f"{c['label']} vs {vs}", unit=c["label"], vs=vs))
    return [c for unit in out.values() for c in unit]


def _run_text(runs: pd.DataFrame, params: Any) -> str:
    if runs is None or len(runs) == 0:
        return "no run"
    seeds = runs["seed"].nunique() if "seed" in runs.columns else len(getattr(params, "seeds", []))
    device = getattr(params, "torch_device", "")
    return f"{', '.join(map(str, dict.fromkeys(runs['dataset'])))}; {', '.join(map(str, dict.fromkeys(runs['arch'])))}; {seeds} seeds, {device}"


def _mean_text(cells: list[dict[str, Any]], sign: float = 1.0) -> str:
    d = [sign * x for c in cells for x in c["diffs"]]
    return f"{np.mean(d):+.2f} over {len(d)} seed-paired differences in {len(cells)} cell(s)"


def run_cost(runs: Any) -> dict[str, Any]:
    """What one more seed of ``runs`` costs on this machine, from the run records' wall time: ``run_seconds``
    (the median wall time of a run, this build) and ``runs_per_seed`` (runs per seed of the frame); ``{}`` where
    the frame has no wall times (a frame built by hand, a record without ``wall_time_s``)."""
    if runs is None or len(runs) == 0 or "wall_time_s" not in runs.columns or "seed" not in runs.columns:
        return {}
    wall = pd.to_numeric(runs["wall_time_s"], errors="coerce").dropna()
    if wall.empty:
        return {}
    return {"run_seconds": float(wall.median()), "runs_per_seed": float(len(runs) / runs["seed"].nunique())}


def put_cells(
    put: Callable[..., None],
    claim_id: str,
    cells: list[dict[str, Any]],
    *,
    runs: Any,
    params: Any,
    what: str,
    sign: float = 1.0,
    **extra: Any,
) -> None:
    """Records ``claim_id`` through ``put`` with ``cells`` as its evidence, ``runs`` as its data and ``what``
    followed by the mean difference as ours, and the runs' cost per seed (:func:`run_cost`); ``extra`` keys go
    into the evidence as they are (``selection``, ``population``). Records nothing where there are no cells."""
    if cells:
        ours = f"{what}: {_mean_text(cells, sign)}"
        put(claim_id, data=_run_text(runs, params), ours=ours, cells=cells, **run_cost(runs), **extra)
