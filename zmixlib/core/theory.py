"""The two theorems of ζ-mixup (J Big Data 2024, Sec. "ζ-mixup"; arXiv appendix A).

ζ-mixup weights ``T`` samples by the normalised p-series ``w_s = s^-γ / H_T(γ)`` with
``H_T(γ) = Σ_{j≤T} j^-γ`` (the T-truncated Riemann zeta function).

* **Theorem 1** — for ``γ ≥ γ_min``, the root of ``ζ(γ) = 2``, the largest weight exceeds the sum of
  all others for every T: ``w_1 − Σ_{i≥2} w_i = 2/H_T(γ) − 1 > 0``.
* **Theorem 2** — with ``T = 2`` and ``γ = log₂(λ / (1 − λ))`` the weights are ``(λ, 1 − λ)``: mixup is
  the special case of ζ-mixup.

Used by ``notebooks/00_theorems.ipynb``; the mixing code (``zmixlib.mixing``) builds on the same weights.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from zmixlib.core.checks import check_float, check_int

__all__ = [
    "GAMMA_MIN",
    "GAMMA_MIN_PAPER",
    "zeta",
    "truncated_zeta",
    "gamma_min",
    "zeta_series_weights",
    "dominance",
    "dominance_threshold",
    "gamma_for_lambda",
    "lambda_for_gamma",
    "num_orderings",
]

#: γ_min of Theorem 1, the root of ζ(γ) = 2 — the only definition in zmixlib (``mixing`` and ``recipes``
#: import it). A literal, so importing costs nothing; it is the float64 nearest to the true root
#: (1.72864723899818361813…) and equals ``gamma_min()`` exactly (tests check both).
GAMMA_MIN = 1.7286472389981836

#: γ_min as printed in the papers (5 decimals).
GAMMA_MIN_PAPER = 1.72865


def _check_num_mix(num_mix: int | float) -> int | float:
    if num_mix == math.inf:
        return math.inf
    return check_int("num_mix", num_mix, min=1)


def zeta(gamma: float) -> float:
    """Riemann zeta ``ζ(γ) = Σ_{j≥1} j^-γ``; the series converges only for ``γ > 1``."""
    gamma = check_float("gamma", gamma, min=1.0, min_open=True)
    return float(special.zeta(gamma, 1))


def truncated_zeta(gamma: float, num_mix: int | float) -> float:
    """``H_T(γ) = Σ_{j=1}^{T} j^-γ``, the normaliser of the ζ-mixup weights (``num_mix=math.inf`` gives ζ(γ))."""
    num_mix = _check_num_mix(num_mix)
    if num_mix == math.inf:
        return zeta(gamma)
    gamma = check_float("gamma", gamma)
    return float(np.sum(np.arange(1, num_mix + 1, dtype=np.float64) ** -gamma))


def gamma_min(xtol: float = 1e-15) -> float:
    """The root of ``ζ(γ) = 2`` (Theorem 1's threshold), by Brent's method on ``(1.5, 2)``.

    Returns ``1.7286472389...``; ``xtol`` is the absolute tolerance (default: machine precision).
    """
    return float(optimize.brentq(lambda g: special.zeta(g, 1) - 2.0, 1.5, 2.0, xtol=xtol, rtol=4 * np.finfo(float).eps))


def zeta_series_weights(num_mix: int, gamma: float) -> np.ndarray:
    """The sorted ζ-mixup weights ``w_s = s^-γ / H_T(γ)``, ``s = 1..T`` (float64, sums to 1).

    ``gamma`` may be any real number: ``γ = 0`` gives the uniform average, ``γ < 0`` puts the largest
    weight on the *last* rank (Theorem 2 with ``λ < ½``).
    """
    num_mix = check_int("num_mix", num_mix, min=1)
    gamma = check_float("gamma", gamma)
    w = np.arange(1, num_mix + 1, dtype=np.float64) ** -gamma
    return w / w.sum()


def dominance(gamma: float, num_mix: int | float = math.inf) -> float:
    """``w_1 − Σ_{i=2}^{T} w_i = 2 / H_T(γ) − 1`` — positive exactly when the first weight dominates.

    ``num_mix=math.inf`` is the infinite series of Theorem 1 and needs ``γ > 1``.
    """
    return 2.0 / truncated_zeta(gamma, num_mix) - 1.0


def dominance_threshold(num_mix: int | float) -> float:
    """The smallest ``γ ≥ 0`` with ``w_1 ≥ Σ_{i≥2} w_i`` for ``T = num_mix`` (``H_T(γ) = 2``).

    ``T ≤ 2`` gives 0 (one weight always dominates a pair for γ ≥ 0); the thresholds grow with T
    towards ``γ_min`` (``num_mix=math.inf``).
    """
    num_mix = _check_num_mix(num_mix)
    if num_mix == math.inf:
        return gamma_min()
    if num_mix <= 2:
        return 0.0
    return float(optimize.brentq(lambda g: truncated_zeta(g, num_mix) - 2.0, 0.0, 2.0, xtol=1e-15))


def gamma_for_lambda(lam: float) -> float:
    """Theorem 2: the γ at which T=2 ζ-mixup weights equal mixup's ``(λ, 1 − λ)``: ``log₂(λ / (1 − λ))``.

    ``λ`` must lie in the open interval (0, 1). ``λ < ½`` maps to ``γ < 0``.
    """
    lam = check_float("lam", lam, min=0.0, max=1.0, min_open=True, max_open=True)
    return math.log2(lam / (1.0 - lam))


def lambda_for_gamma(gamma: float) -> float:
    """Inverse of :func:`gamma_for_lambda`: the first T=2 weight ``1 / (1 + 2^-γ)``."""
    gamma = check_float("gamma", gamma)
    return 1.0 / (1.0 + 2.0**-gamma)


def num_orderings(num_mix: int) -> int:
    """Distinct ζ-mixup samples from ``T`` originals at one γ: the ``T!`` orderings of the weights."""
    return math.factorial(check_int("num_mix", num_mix, min=1))
