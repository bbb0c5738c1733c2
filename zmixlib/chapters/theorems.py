"""Chapter 00, the theorems of ζ-mixup (Abhishek et al., J Big Data 2024): their tables and figures.

Theorem 1: with weights ``w_s = s^{-γ} / H_T(γ)`` the first weight outweighs all the others together for
``γ ≥ γ_min`` whatever ``T`` (:func:`dominance_curves`, :func:`threshold_table`). Theorem 2: for ``T = 2``,
ζ-mixup at ``γ = log2(λ / (1 − λ))`` equals mixup with weight λ (:func:`theorem2`, :func:`lambda_gamma_map`).
The number of distinct weight assignments is ``T!`` (:func:`ordering_counts`). The arithmetic is
:mod:`zmixlib.core.theory`'s; this module arranges it for notebook 00.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zmixlib.core import theory
from zmixlib.tables.plots import house_style, method_color

__all__ = [
    "THEOREM1_TS",
    "dominance_by_T",
    "threshold_table",
    "theorem2",
    "weight_assignments",
    "ordering_counts",
    "dominance_curves",
    "lambda_gamma_map",
]

#: The mixing sizes T of Theorem 1's figure and table (``math.inf``: the limit of ζ(γ)).
THEOREM1_TS = (2, 4, 8, 32, 128, math.inf)


def _t_name(T: float) -> int | str:
    return "∞" if T == math.inf else T


def dominance_by_T(gammas: np.ndarray, Ts: Sequence[float] = THEOREM1_TS) -> dict[int | str, list[float]]:
    """Returns ``{T: [w_1 − Σ_{i≥2} w_i at each γ]}`` (``"∞"`` for the limit, NaN where γ ≤ 1 diverges)."""
    return {_t_name(T): [theory.dominance(g, T) if (T != math.inf or g > 1) else np.nan for g in gammas] for T in Ts}


def threshold_table(gamma_min: float, Ts: Sequence[float] = THEOREM1_TS) -> pd.DataFrame:
    """Returns, per T, the smallest γ at which ``w_1 ≥ Σ_{i≥2} w_i`` and the margin at ``gamma_min`` (6 decimals)."""
    return pd.DataFrame(
        {
            "T": [_t_name(T) for T in Ts],
            "smallest γ with w1 ≥ Σ others": [round(theory.dominance_threshold(T), 6) for T in Ts],
            "w1 − Σ others at γ_min": [round(theory.dominance(gamma_min, T), 6) + 0.0 for T in Ts],
        }
    ).set_index("T")


def theorem2(n_lambda: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Theorem 2 checked at ``n_lambda`` values of λ evenly inside (0, 1).

    Returns:
        ``(lams, gammas, err)``: the λ values, the γ at which T = 2 ζ-mixup reproduces each, and the largest
        ``|w − (λ, 1 − λ)|`` over them (float64).
    """
    lams = np.linspace(0.0, 1.0, n_lambda + 2)[1:-1]  # the open interval (0, 1)
    gammas = np.array([theory.gamma_for_lambda(lam) for lam in lams])
    weights = np.array([theory.zeta_series_weights(2, g) for g in gammas])
    err = float(np.abs(weights - np.stack([lams, 1 - lams], axis=1)).max())
    return lams, gammas, err


def weight_assignments(T: int, gamma: float) -> tuple[pd.Series, int]:
    """ζ-mixup's weights for one output (ranks 1..T, 6 decimals) and how many distinct assignments of them to
    the T inputs there are (``T!``: every ordering gives another sample).

    Returns:
        ``(weights by rank, number of distinct assignments)``.
    """
    w = theory.zeta_series_weights(T, gamma)
    weights = pd.Series(w.round(6), index=[f"rank {s}" for s in range(1, T + 1)], name=f"w (T={T}, γ={gamma})")
    distinct = {tuple(w[list(p)]) for p in itertools.permutations(range(T))}
    return weights, len(distinct)


def ordering_counts(Ts: Sequence[int] = (2, 3, 4, 8, 16)) -> pd.DataFrame:
    """Returns, per T, the synthetic samples per γ of ζ-mixup (T!) beside mixup's per λ (one per pair)."""
    return pd.DataFrame(
        {
            "T": list(Ts),
            "ζ-mixup: samples per γ (T!)": [theory.num_orderings(T) for T in Ts],
            "mixup: samples per λ (one per pair)": [math.comb(T, 2) for T in Ts],
        }
    ).set_index("T")


@house_style()
def dominance_curves(gammas, curves: dict, gamma_min: float, *, ax=None):
    """Theorem 1: ``w_1 − Σ_{i≥2} w_i`` against γ, one line per T, with γ_min marked (notebook 00)."""

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, values in curves.items():
        ax.plot(gammas, values, label=f"T = {label}")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.axvline(gamma_min, color="black", ls="--", lw=1, label=f"γ_min = {gamma_min:.5f}")
    ax.set_xlabel("γ")
    ax.set_ylabel(r"$w_1 - \sum_{i \geq 2} w_i$")
    ax.set_title("Theorem 1: the first weight dominates for γ ≥ γ_min, whatever T")
    ax.legend(ncol=2, fontsize=8)
    return ax.figure


@house_style()
def lambda_gamma_map(lams, gammas, *, ax=None):
    """Theorem 2: the γ at which T=2 ζ-mixup reproduces mixup's λ, with λ < ½ ↔ γ < 0 shaded (notebook 00)."""

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(lams, gammas, color=method_color("zeta_mixup"))
    ax.axvspan(0, 0.5, color="grey", alpha=0.15, label="λ < ½  →  γ < 0")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel("mixup λ")
    ax.set_ylabel(r"γ = log$_2$(λ / (1 − λ))")
    ax.set_title("Theorem 2: T = 2 ζ-mixup equals mixup at this γ")
    ax.legend(loc="upper left")
    return ax.figure
