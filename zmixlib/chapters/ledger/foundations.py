"""Evidence from chapters 00–03 (the theorems, the synthetic manifolds, realism, local intrinsic dimension),
built from each notebook's results by :func:`zmixlib.chapters.ledger.record_claims`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .claims import LEVEL


def _theorems(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 00: γ_min (``g_min``, the computed root of ζ(γ) = 2) against Theorem 1's printed value."""
    from zmixlib import theory

    g_min = f.get("g_min")
    if g_min is not None:
        put(
            "gamma_min",
            data="brentq root of ζ(γ) = 2 (scipy ζ), float64",
            ours=f"γ_min = {g_min:.12f}",
            ours_value=g_min,
            paper_value=theory.GAMMA_MIN_PAPER,
            tol=5e-6,
        )


def _synthetic_manifolds(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 01: Fig. 2's label error (``realism``: ζ-mixup − mixup per (dataset, γ, seed)) and the helix's
    hollow (``hollow``: mean distance to the helix per set; ζ-mixup's sets against mixup's)."""
    from zmixlib.chapters import synthetic_manifolds

    seeds = [params.seed + i for i in range(params.num_seeds)]
    realism = f.get("realism")
    if realism is not None and len(realism):
        diffs = synthetic_manifolds.zeta_minus_mixup(realism, "label_error", ["dataset", "gamma", "seed"])
        put(
            "label_correctness_2d",
            data=f"crescents, spirals: n = {params.n_points}, σ = {params.noise}, seeds {seeds}",
            ours=f"ζ-mixup − mixup label error, mean {sum(diffs) / len(diffs):+.4f} over {len(diffs)} "
            "(dataset, γ, seed)",
            diffs=diffs,
        )
    hollow = f.get("hollow")
    if hollow:
        zeta = [d for t, d in hollow.items() if t not in ("original", "mixup")]
        put(
            "helix_hollow",
            data=f"1-D helix in ℝ³, {params.helix_points} points, seed {params.seed}",
            ours=f"mean distance to the helix: mixup {hollow['mixup']:.4f}, ζ-mixup {min(zeta):.4f}–{max(zeta):.4f}",
            diffs=[d - hollow["mixup"] for d in zeta],
        )


def _realism(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 02: Fig. 3's qualitative claims (``checked``: :func:`zmixlib.chapters.realism.claims`'s table,
    one row per (claim, γ) with ``holds``), with the oracle that scored them (``oracle``)."""
    checked, oracle = f.get("checked"), f.get("oracle")
    if checked is not None and len(checked):
        put(
            "realism_mnist",
            data=f"{params.dataset} test split, oracle {oracle.spec.arch} ({100 * oracle.test_acc:.2f} % test "
            f"accuracy), seeds {params.seeds}",
            ours=f"{int(checked['holds'].sum())} of {len(checked)} (claim, γ) checks hold",
            checks=list(checked["holds"]),
        )


def _intrinsic_dimension(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 03: the MIDL table's local ID at k = 128 (``table``, :func:`~zmixlib.chapters.intrinsic_dimension.
    midl`), ζ-mixup at ``gamma`` − mixup per dataset of our rows: one cell per dataset, its bootstrap replicates
    over points (``table.attrs["boot"]``, :func:`~zmixlib.chapters.intrinsic_dimension.bootstrap_difference`) as
    its percentile interval at :data:`~.claims.LEVEL` (an ``"interval"`` cell, :mod:`.rules`); a table without
    them gives one difference per dataset and no interval."""
    from zmixlib.vocab import gamma_text

    table = f.get("table")
    if table is None or not len(table):
        return
    ours = table[table["source"] == "ours"]
    boot = table.attrs.get("boot") or {}
    cells, texts = [], []
    for name, g in ours.groupby("dataset", sort=False):
        by = g.set_index("method")["mean"]
        if {"mixup", "zeta_mixup"} <= set(by.index):
            d = float(by["zeta_mixup"] - by["mixup"])
            if str(name) in boot:
                b = boot[str(name)]
                lo, hi = np.quantile(np.asarray(b["diffs"], dtype=float), [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
                cells.append(
                    {
                        "label": str(name),
                        "mean": d,
                        "interval": [float(lo), float(hi)],
                        "n": int(b["n"]),
                        "how": "bootstrap over points",
                    }
                )
            else:
                cells.append({"label": str(name), "diffs": [d]})
            texts.append(f"{name}: {by['zeta_mixup']:.2f} vs {by['mixup']:.2f}")
    reps = len(next(iter(boot.values()))["diffs"]) if boot else 0
    spread = f"; {100 * LEVEL:g} % percentile intervals of {reps} bootstrap replicates over points" if boot else ""
    put(
        "local_id",
        data=f"{', '.join(ours['dataset'].unique())}; k = 128, γ ~ {gamma_text(f.get('gamma'))}{spread}",
        ours="ζ-mixup vs mixup local ID — " + "; ".join(texts),
        cells=cells,
    )
