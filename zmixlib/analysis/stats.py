"""Seed-paired statistics: the interval and test every comparison in the book uses, and the one mean ± sd.

Runs that differ only in the method share a seed (same data order, same initialisation), so the book
compares methods through the per-seed differences ``d_i = ours_i − baseline_i`` rather than through two
independent means: the pairing removes most of the seed-to-seed variance.

* :func:`paired_interval` — Student-t confidence interval of the mean difference and the two-sided
  paired t-test (``H0: E[d] = 0``), from the differences themselves.
* :func:`summary_interval` — the same from a reported mean, sd and n (the papers print mean ± sd).
* :func:`welch_interval` — two independent groups given as mean, sd, n each (a paper's table): Welch's t.
* :func:`paired_power`, :func:`detectable_effect`, :func:`seeds_needed` — the power of the two-sided paired
  t-test (noncentral t, ``scipy.stats.nct``): the smallest mean difference a given number of seeds detects at
  80 % power, and the seeds a given difference needs.
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

__all__ = [
    "PairedStat",
    "p_text",
    "paired_interval",
    "summary_interval",
    "welch_interval",
    "paired_power",
    "detectable_effect",
    "seeds_needed",
    "interval_se",
    "normal_power",
    "POWER",
    "pm_text",
    "mean_sd",
]


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


def p_text(p: float) -> str:
    """A p-value as every table prints it: ``"0.012"``, ``"< 0.001"``, "—" where undefined."""
    return "—" if math.isnan(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _p_text(p: float) -> str:
    """:func:`p_text` after "p" in a sentence: ``"= 0.012"``, ``"< 0.001"``, ``"= n/a"``."""
    text = p_text(p)
    return "= n/a" if text == "—" else (text if text.startswith("<") else f"= {text}")


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
    lo, hi = _st.t.interval(level, n - 1, loc=mean, scale=se)
    p = float(2 * _st.t.sf(abs(mean / se), n - 1))
    return PairedStat(n, mean, sd, se, float(lo), float(hi), p, level)


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
    if n < 2 or sd == 0:  # no interval, or a point: scipy's test is undefined there (see summary_interval)
        return summary_interval(float(d.mean()) if n else math.nan, sd, n, level=level)
    res = _st.ttest_1samp(d, 0.0)
    ci = res.confidence_interval(level)
    mean = float(d.mean())
    return PairedStat(n, mean, sd, sd / math.sqrt(n), float(ci.low), float(ci.high), float(res.pvalue), level)


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
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))  # Welch–Satterthwaite (scipy does not expose it)
    lo, hi = _st.t.interval(level, df, loc=mean, scale=se)
    p = _st.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=False).pvalue
    return PairedStat(min(n1, n2), mean, sd, se, float(lo), float(hi), float(p), level, "welch")


#: the power every "seeds needed" and "detectable effect" of the book is at (two-sided test at 1 − LEVEL)
POWER = 0.8


def _check_power_args(sd: float, n: int, alpha: float, power: float) -> None:
    if not isinstance(sd, (int, float, np.floating)) or not math.isfinite(float(sd)) or float(sd) <= 0:
        raise ValueError(f"sd must be a finite number > 0, got {sd!r}")
    if isinstance(n, bool) or int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2 (a paired t-test needs two pairs), got {n!r}")
    if not 0 < float(alpha) < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not 0 < float(power) < 1:
        raise ValueError(f"power must be in (0, 1), got {power!r}")


def paired_power(effect: float, sd: float, n: int, *, alpha: float = 0.05) -> float:
    """Power of the two-sided paired t-test at level ``alpha`` to detect a true mean difference ``effect``
    when the per-pair differences have sd ``sd`` and there are ``n`` pairs.

    Exact under normal differences: the statistic ``t = mean / (s / √n)`` is noncentral t with ``n − 1``
    degrees of freedom and noncentrality ``effect · √n / sd`` (``scipy.stats.nct``); the power is
    ``P(|t| > t_{1−α/2, n−1})``, both tails.

    Raises:
        ValueError: ``sd`` not > 0, ``n < 2`` or ``alpha`` outside (0, 1).
    """
    _check_power_args(sd, n, alpha, 0.5)
    df, nc = int(n) - 1, abs(float(effect)) * math.sqrt(int(n)) / float(sd)  # the power is even in the effect
    q = float(_st.t.ppf(1 - float(alpha) / 2, df))
    near = float(_st.nct.sf(q, df, nc))
    # the far tail P(t < −q) = P(t' > q) for t' ~ nct(df, −nc); scipy's nct.cdf returns NaN deep in that tail
    far = float(_st.nct.sf(q, df, -nc))
    return near + (far if math.isfinite(far) else 0.0)


def detectable_effect(sd: float, n: int, *, alpha: float = 0.05, power: float = POWER) -> float:
    """The smallest mean difference (> 0, in the units of ``sd``) the two-sided paired t-test at ``alpha``
    detects with probability ``power`` from ``n`` pairs of sd ``sd`` (:func:`paired_power` solved for the
    effect). The test is symmetric: the same size holds for a negative difference.

    Raises:
        ValueError: ``sd`` not > 0, ``n < 2``, ``alpha`` or ``power`` outside (0, 1), or ``power`` ≤ ``alpha``.
    """
    from scipy.optimize import brentq

    _check_power_args(sd, n, alpha, power)
    if power <= alpha:
        raise ValueError(f"power must exceed alpha ({alpha!r}), got {power!r}")
    hi = float(sd)
    while paired_power(hi, sd, n, alpha=alpha) < power:
        hi *= 2
    return float(brentq(lambda e: paired_power(e, sd, n, alpha=alpha) - power, 0.0, hi, xtol=1e-12 * hi))


def interval_se(lo: float, hi: float, *, level: float = 0.95) -> float:
    """The standard error behind a normal ``level`` interval ``[lo, hi]``: ``(hi − lo) / (2 z)``.

    Raises:
        ValueError: ``lo``/``hi`` not finite or ``hi < lo``, or ``level`` outside (0, 1).
    """
    if not (math.isfinite(float(lo)) and math.isfinite(float(hi))) or float(hi) < float(lo):
        raise ValueError(f"the interval must be finite with lo <= hi, got [{lo!r}, {hi!r}]")
    if not 0 < float(level) < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return (float(hi) - float(lo)) / (2 * float(_st.norm.ppf(1 - (1 - level) / 2)))


def normal_power(
    se: float, n: int, effect: float | None, *, level: float = 0.95, power: float = POWER
) -> tuple[float, int | None]:
    """``(detectable, needed)`` of an estimate with standard error ``se`` over ``n`` units (points of a bootstrap,
    say), by the normal approximation: the smallest difference a two-sided test at ``1 − level`` detects with
    probability ``power``, ``(z + z_power) · se``, and the units ``effect`` would need, ``n · (detectable / effect)²``
    (the se falling as ``1/√n``; at least 2) — ``None`` without an effect.

    Raises:
        ValueError: ``se`` not finite or < 0, ``n < 1``, ``level`` or ``power`` outside (0, 1), or ``effect`` zero or
            not finite.
    """
    if not math.isfinite(float(se)) or float(se) < 0:
        raise ValueError(f"se must be a finite number >= 0, got {se!r}")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    for name, v in (("level", level), ("power", power)):
        if not 0 < float(v) < 1:
            raise ValueError(f"{name} must be in (0, 1), got {v!r}")
    if effect is not None and (not math.isfinite(float(effect)) or float(effect) == 0):
        raise ValueError(f"effect must be a finite non-zero number or None, got {effect!r}")
    detectable = (float(_st.norm.ppf(1 - (1 - level) / 2)) + float(_st.norm.ppf(power))) * float(se)
    needed = None if effect is None else max(2, math.ceil(n * (detectable / abs(float(effect))) ** 2))
    return detectable, needed


def seeds_needed(effect: float, sd: float, *, alpha: float = 0.05, power: float = POWER, n_max: int = 10_000) -> int:
    """The smallest number of seed pairs (≥ 2) at which the two-sided paired t-test at ``alpha`` detects a true
    mean difference ``effect`` with probability ≥ ``power``, the differences having sd ``sd``.

    Raises:
        ValueError: ``effect`` zero or not finite, ``sd`` not > 0, ``alpha`` / ``power`` outside (0, 1), or no
            ``n ≤ n_max`` reaches ``power`` (the message gives the power at ``n_max``).
    """
    if not math.isfinite(float(effect)) or float(effect) == 0:
        raise ValueError(f"effect must be a finite non-zero number, got {effect!r}")
    _check_power_args(sd, 2, alpha, power)

    def ok(n: int) -> bool:
        return paired_power(effect, sd, n, alpha=alpha) >= power

    if not ok(n_max):
        got = paired_power(effect, sd, n_max, alpha=alpha)
        raise ValueError(f"effect {effect!r} with sd {sd!r} needs more than n_max = {n_max} pairs (power {got:.3f})")
    lo, hi = 1, 2  # power grows with n: double, then bisect to the first n that reaches it
    while not ok(hi):
        lo, hi = hi, min(2 * hi, n_max)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


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
