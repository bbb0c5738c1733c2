"""Cells from a chapter's frames: seed-paired differences grouped per cell, and the words the ledger prints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .store import _plain


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


def _seed_cells(
    pairs: pd.DataFrame, keys: Sequence[str], *, sign: float = 1.0, value: str = "diff"
) -> list[dict[str, Any]]:
    """One cell per ``keys`` group of a seed-paired frame: ``sign · diff`` per seed (with the seeds, so the
    rule can average over cells within a seed)."""
    out = []
    if pairs is None or len(pairs) == 0:
        return out
    for key, g in pairs.groupby(list(keys), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        g = g[g[value].notna()]
        if len(g):
            cell = {
                "label": ", ".join("—" if pd.isna(k) else str(k) for k in key),
                "diffs": [sign * float(x) for x in g[value]],
            }
            if "seed" in g.columns and g["seed"].is_unique:
                cell["seeds"] = [_plain(x) for x in g["seed"]]
            out.append(cell)
    return out


def _best_gamma_cells(pairs: pd.DataFrame, keys: Sequence[str]) -> list[dict[str, Any]]:
    """One cell per ``keys`` at ζ-mixup's best γ (highest mean of ``diff``, higher is better), negated."""
    cells = []
    for key, g in pairs.groupby(list(keys), sort=False):
        best = g.groupby("gamma")["diff"].mean().idxmax()  # ζ-mixup's best γ, as the paper states its claim
        label = ", ".join(map(str, key if isinstance(key, tuple) else (key,))) + f" (γ = {best})"
        cells += _seed_cells(g[g["gamma"] == best].assign(label=label), ["label"], sign=-1.0)
    return cells


def _run_text(runs: pd.DataFrame, params: Any) -> str:
    if runs is None or len(runs) == 0:
        return "no run"
    seeds = runs["seed"].nunique() if "seed" in runs.columns else len(getattr(params, "seeds", []))
    device = getattr(params, "torch_device", "")
    return f"{', '.join(map(str, dict.fromkeys(runs['dataset'])))}; {', '.join(map(str, dict.fromkeys(runs['arch'])))}; {seeds} seeds, {device}"


def _mean_text(cells: list[dict[str, Any]], sign: float = 1.0) -> str:
    d = [sign * x for c in cells for x in c["diffs"]]
    return f"{np.mean(d):+.2f} over {len(d)} seed-paired differences in {len(cells)} cell(s)"


def put_cells(
    put: Callable[..., None],
    claim_id: str,
    cells: list[dict[str, Any]],
    *,
    runs: Any,
    params: Any,
    what: str,
    sign: float = 1.0,
) -> None:
    """Records ``claim_id`` through ``put`` with ``cells`` as its evidence, ``runs`` as its data and ``what``
    followed by the mean difference as ours; records nothing where there are no cells. Returns ``None``."""
    if cells:
        put(claim_id, data=_run_text(runs, params), ours=f"{what}: {_mean_text(cells, sign)}", cells=cells)
