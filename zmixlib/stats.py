"""Seed-paired statistics: the interval and test every comparison in the book uses, and the one mean ± sd.

Runs that differ only in the method share a seed (same data order, same initialisation), so the book
compares methods through the per-seed differences ``d_i = ours_i − baseline_i`` rather than through two
independent means: the pairing removes most of the seed-to-seed variance.

* :func:`paired_interval` — Student-t confidence interval of the mean difference and the two-sided
  paired t-test (``H0: E[d] = 0``), from the differences themselves.
* :func:`summary_interval` — the same from a reported mean, sd and n (the papers print mean ± sd).
* :func:`welch_interval` — two independent groups given as mean, sd, n each (a paper's table): Welch's t.
* :func:`mean_sd` — the one formatter of "mean ± sd" (``"12.34 ± 0.56"``; ``"12.34"`` for one value), over
  values; :func:`pm_text` the same from a mean and sd already computed.

Used by :mod:`zmixlib.chapters.ledger` (chapter 11) and the chapter tables of notebooks 04–10.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

__all__ = ["PairedStat", "paired_interval", "summary_interval", "welch_interval", "pm_text", "mean_sd"]


@dataclass(frozen=True)
class PairedStat:
    """Mean of seed-paired differences with its Student-t interval and two-sided paired t-test.

    ``n`` differences; ``mean``, ``sd`` (sample, ``ddof=1``), ``se = sd / sqrt(n)``; ``[lo, hi]`` the
    ``level`` confidence interval ``mean ± t_{(1+level)/2, n−1} · se``; ``p`` the two-sided p-value of
    ``H0: mean difference = 0``. With ``n = 1`` (or ``n = 0``) ``sd``/``se``/``lo``/``hi``/``p`` are NaN:
    one seed says nothing about noise. With ``sd = 0`` (every difference equal) the interval is the point
    and ``p`` is 0 (a non-zero mean) or 1 (a zero mean). ``method`` names the procedure (``"t"``).
    """

    n: int
    mean: float
    sd: float
    se: float
    lo: float
    hi: float
    p: float
    level: float
    method: str = "t"

    def excludes_zero(self) -> int:
        """+1 if the interval lies above 0, −1 if below, 0 if it contains 0 or is undefined (NaN)."""
        if math.isnan(self.lo) or math.isnan(self.hi):
            return 0
        if self.lo > 0:
            return 1
        if self.hi < 0:
            return -1
        return 0

    def text(self, digits: int = 2) -> str:
        """``"-1.23 [-2.00, -0.46] (95 % t-interval), p = 0.012, n = 3"`` (the interval at ``level``)."""
        if self.n == 0:
            return "no pairs"
        if self.n == 1 or math.isnan(self.lo):
            return f"{self.mean:+.{digits}f} (n = {self.n}: no interval)"
        pct = f"{100 * self.level:g} %"
        name = "Welch t-interval" if self.method == "welch" else "t-interval"
        return (
            f"{self.mean:+.{digits}f} [{self.lo:+.{digits}f}, {self.hi:+.{digits}f}] ({pct} {name}), "
            f"p {_p_text(self.p)}, n = {self.n}"
        )


def _p_text(p: float) -> str:
    if math.isnan(p):
        return "= n/a"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < float(level) < 1:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    return float(level)


def summary_interval(mean: float, sd: float, n: int, *, level: float = 0.95) -> PairedStat:
    """:class:`PairedStat` from a reported mean, sample sd and number of pairs (no raw values needed).

    Raises:
        ValueError: ``n < 0``, a negative ``sd`` or ``level`` outside (0, 1).
    """
    level = _check_level(level)
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    n = int(n)
    mean = float(mean) if n else math.nan
    if n < 2:
        return PairedStat(n, mean, math.nan, math.nan, math.nan, math.nan, math.nan, level)
    sd = float(sd)
    if sd < 0:
        raise ValueError(f"sd must be >= 0, got {sd!r}")
    se = sd / math.sqrt(n)
    if se == 0:
        p = 1.0 if mean == 0 else 0.0
        return PairedStat(n, mean, sd, se, mean, mean, p, level)
    q = float(_st.t.ppf(0.5 + level / 2, n - 1))
    t = mean / se
    p = float(2 * _st.t.sf(abs(t), n - 1))
    return PairedStat(n, mean, sd, se, mean - q * se, mean + q * se, p, level)


def paired_interval(diffs: Iterable[float], level: float = 0.95) -> PairedStat:
    """Student-t interval and two-sided paired t-test of seed-paired differences.

    Args:
        diffs: per-seed differences ``ours − baseline`` (NaNs are dropped).
        level: confidence level of ``[lo, hi]``.

    Returns:
        :class:`PairedStat`; ``p`` equals ``scipy.stats.ttest_1samp(diffs, 0).pvalue`` and
        ``[lo, hi] = mean ± t.ppf((1 + level) / 2, n − 1) · sd / sqrt(n)``.

    Raises:
        ValueError: ``level`` outside (0, 1) or ``diffs`` not one-dimensional.
    """
    level = _check_level(level)
    d = np.asarray(list(diffs) if not hasattr(diffs, "__array__") else diffs, dtype=float)
    if d.ndim != 1:
        raise ValueError(f"diffs must be one-dimensional, got shape {d.shape}")
    d = d[~np.isnan(d)]
    n = int(d.size)
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    return summary_interval(float(d.mean()) if n else math.nan, sd, n, level=level)


def welch_interval(
    mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int, *, level: float = 0.95
) -> PairedStat:
    """Welch's interval and two-sided test of ``mean1 − mean2`` from two groups' means, sample sds and sizes.

    For a paper's table, which prints mean ± sd per method but not the per-seed pairs: treating the groups as
    independent can only widen the interval of a positively correlated (seed-paired) difference. ``method`` is
    ``"welch"``, ``sd`` the pooled ``sqrt(sd1² + sd2²)`` and ``n`` the smaller group; the degrees of freedom are
    Welch–Satterthwaite's. ``p`` equals ``scipy.stats.ttest_ind_from_stats(..., equal_var=False).pvalue``.
    """
    level = _check_level(level)
    if min(n1, n2) < 2:
        raise ValueError(f"n1 and n2 must be >= 2, got {n1!r} and {n2!r}")
    v1, v2 = float(sd1) ** 2 / n1, float(sd2) ** 2 / n2
    mean = float(mean1) - float(mean2)
    se = math.sqrt(v1 + v2)
    sd = math.sqrt(float(sd1) ** 2 + float(sd2) ** 2)
    if se == 0:
        return PairedStat(min(n1, n2), mean, sd, se, mean, mean, 1.0 if mean == 0 else 0.0, level, "welch")
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    q = float(_st.t.ppf(0.5 + level / 2, df))
    p = float(2 * _st.t.sf(abs(mean / se), df))
    return PairedStat(min(n1, n2), mean, sd, se, mean - q * se, mean + q * se, p, level, "welch")


def pm_text(mean: float, sd: float | None, digits: int = 2, *, sign: bool = False) -> str:
    """``"12.34 ± 0.56"`` from a mean and an sd already computed (``"+1.23 ± 0.45"`` with ``sign``); the mean alone
    where the sd is missing or not finite; ``"—"`` where the mean is. The one place "mean ± sd" is spelt."""
    if mean is None or not math.isfinite(mean):
        return "—"
    text = f"{mean:+.{digits}f}" if sign else f"{mean:.{digits}f}"
    return text + ("" if sd is None or not math.isfinite(sd) else f" ± {sd:.{digits}f}")


def mean_sd(values: Iterable[float], digits: int = 2, *, n_max: int | None = None, sign: bool = False) -> str:
    """``"12.34 ± 0.56"`` (mean ± sample sd, :func:`pm_text`); ``"12.34"`` for one value; ``"—"`` for none. NaNs
    are dropped. ``sign``: the mean with its sign (a difference). ``n_max``: the number of values a full cell has;
    a cell with another count says so, ``"12.34 ± 0.56 (n = 2)"``."""
    v = np.asarray(list(values) if not hasattr(values, "__array__") else values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    if v.size == 0:
        return "—"
    text = pm_text(float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else None, digits, sign=sign)
    return text + (f" (n = {v.size})" if n_max is not None and v.size != n_max else "")
