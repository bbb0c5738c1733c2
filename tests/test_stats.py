"""zmixlib.analysis.stats: seed-paired interval and test against scipy; the one mean ± sd formatter."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats as st

from zmixlib.analysis.stats import PairedStat, mean_sd, paired_interval, pm_text, summary_interval, welch_interval


@pytest.mark.parametrize(
    "diffs",
    [[-1.2, -0.4, -0.9], [0.3, -0.2, 0.5, 0.1, -0.05], [2.0, 1.0], list(np.linspace(-3, 1, 20))],
)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_paired_interval_matches_scipy(diffs, level):
    s = paired_interval(diffs, level=level)
    d = np.asarray(diffs)
    n = d.size
    assert s.n == n and s.level == level and s.method == "t"
    assert s.mean == pytest.approx(d.mean())
    assert s.sd == pytest.approx(d.std(ddof=1))
    assert s.se == pytest.approx(d.std(ddof=1) / math.sqrt(n))
    assert s.p == pytest.approx(st.ttest_1samp(d, 0.0).pvalue, rel=1e-10)
    half = st.t.ppf((1 + level) / 2, n - 1) * d.std(ddof=1) / math.sqrt(n)
    assert (s.lo, s.hi) == pytest.approx((d.mean() - half, d.mean() + half))
    lo, hi = st.t.interval(level, n - 1, loc=d.mean(), scale=st.sem(d))
    assert (s.lo, s.hi) == pytest.approx((lo, hi))


def test_interval_excludes_zero_in_the_direction_of_the_effect():
    assert paired_interval([-1.2, -1.0, -1.1]).excludes_zero() == -1
    assert paired_interval([1.2, 1.0, 1.1]).excludes_zero() == 1
    assert paired_interval([-1.0, 0.8, 0.1]).excludes_zero() == 0
    # a wider level can swallow zero that a narrower one excludes
    d = [-1.0, -0.2, -0.6]
    assert paired_interval(d, level=0.8).excludes_zero() == -1
    assert paired_interval(d, level=0.999).excludes_zero() == 0


def test_one_pair_has_no_interval():
    s = paired_interval([0.7])
    assert s.n == 1 and s.mean == 0.7
    assert all(math.isnan(x) for x in (s.sd, s.se, s.lo, s.hi, s.p))
    assert s.excludes_zero() == 0
    assert "no interval" in s.text()


def test_nans_are_dropped_and_no_pairs_is_empty():
    assert paired_interval([1.0, math.nan, 3.0]).n == 2
    s = paired_interval([])
    assert s.n == 0 and math.isnan(s.mean) and s.text() == "no pairs"


def test_equal_differences_collapse_the_interval():
    s = paired_interval([0.5, 0.5, 0.5])
    assert (s.lo, s.hi, s.p) == (0.5, 0.5, 0.0)
    assert paired_interval([0.0, 0.0]).p == 1.0


def test_summary_interval_equals_the_raw_one():
    d = [0.4, -0.3, 1.1, 0.6]
    a = paired_interval(d)
    b = summary_interval(np.mean(d), np.std(d, ddof=1), len(d))
    assert dataclasses.astuple(a) == pytest.approx(dataclasses.astuple(b))


def test_paired_stat_is_frozen():
    s = paired_interval([1.0, 2.0])
    assert isinstance(s, PairedStat)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.mean = 0.0  # type: ignore[misc]


def test_text_states_mean_interval_p_and_n():
    t = paired_interval([-1.2, -0.4, -0.9]).text()
    assert t.startswith("-0.83 [") and "95 % t-interval" in t and t.endswith("n = 3")
    assert "p = 0.0" in t


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1, True, "0.95"])
def test_bad_level_is_refused(level):
    with pytest.raises(ValueError, match="level must be a number in \\(0, 1\\)"):
        paired_interval([1.0, 2.0], level=level)


def test_bad_shapes_and_counts_are_refused():
    with pytest.raises(ValueError, match="diffs must be one-dimensional, got shape \\(2, 2\\)"):
        paired_interval(np.ones((2, 2)))
    with pytest.raises(ValueError, match="n must be an integer >= 0, got -1"):
        summary_interval(0.0, 1.0, -1)
    with pytest.raises(ValueError, match="sd must be >= 0, got -1.0"):
        summary_interval(0.0, -1.0, 3)


def test_mean_sd_formats():
    assert mean_sd([12.0, 12.68]) == "12.34 ± 0.48"
    assert mean_sd([12.344]) == "12.34"
    assert mean_sd([1.0, 2.0, 3.0], digits=1) == "2.0 ± 1.0"
    assert mean_sd([1.0, math.nan, 3.0], digits=0) == "2 ± 1"
    assert mean_sd([]) == "—"
    assert mean_sd(np.array([5.0, 7.0]), digits=3) == "6.000 ± 1.414"
    assert mean_sd([1.0, 2.0], n_max=3) == "1.50 ± 0.71 (n = 2)" and mean_sd([1.0, 2.0], n_max=2) == "1.50 ± 0.71"
    assert mean_sd([-1.0, -2.0, math.nan], sign=True) == "-1.50 ± 0.71" and mean_sd([0.5], 1, sign=True) == "+0.5"


def test_pm_text_formats_given_mean_and_sd():
    assert pm_text(1.234, 0.5) == "1.23 ± 0.50" and pm_text(1.234, math.nan) == "1.23" and pm_text(1.0, None) == "1.00"
    assert (
        pm_text(math.nan, 1.0) == "—" and pm_text(None, None) == "—" and pm_text(2.0, 0.1, 1, sign=True) == "+2.0 ± 0.1"
    )


def test_welch_interval_matches_scipy():
    s = welch_interval(21.35, 0.02, 3, 21.85, 0.07, 3)
    ref = st.ttest_ind_from_stats(21.35, 0.02, 3, 21.85, 0.07, 3, equal_var=False)
    assert s.method == "welch" and s.mean == pytest.approx(-0.5)
    assert s.p == pytest.approx(ref.pvalue, rel=1e-10)
    se = math.sqrt(0.02**2 / 3 + 0.07**2 / 3)
    df = se**4 / ((0.02**2 / 3) ** 2 / 2 + (0.07**2 / 3) ** 2 / 2)
    assert s.hi == pytest.approx(-0.5 + st.t.ppf(0.975, df) * se)
    assert s.excludes_zero() == -1
    assert "Welch" in s.text()
    with pytest.raises(ValueError, match="n1 and n2 must be >= 2, got 1 and 3"):
        welch_interval(0, 1, 1, 0, 1, 3)


# ---- boundaries (issue 26): an interval touching 0 does not exclude it; exact ties; scipy's numbers from raw data


def _stat(lo, hi, mean=None):
    mean = (lo + hi) / 2 if mean is None else mean
    return PairedStat(n=3, mean=mean, sd=1.0, se=0.5, lo=lo, hi=hi, p=0.05, level=0.95)


@pytest.mark.parametrize(
    "lo,hi,expected",
    [
        (0.0, 1.0, 0),  # touches 0 from above: 0 is in [0, 1]
        (-1.0, 0.0, 0),  # touches 0 from below
        (-0.0, 1.0, 0),
        (-1.0, -0.0, 0),
        (0.0, 0.0, 0),  # the point 0
        (math.ulp(0.0), 1.0, 1),  # the smallest step above 0 excludes it
        (-1.0, -math.ulp(0.0), -1),
        (1e-12, 2.0, 1),
        (-2.0, -1e-12, -1),
        (math.nan, 1.0, 0),
        (-1.0, math.nan, 0),
    ],
)
def test_excludes_zero_at_the_boundary(lo, hi, expected):
    assert _stat(lo, hi).excludes_zero() == expected


def test_exact_ties_are_not_an_effect():
    # every difference 0 (the two methods tied on every seed): the interval is the point 0, p = 1
    s = paired_interval([0.0, 0.0, 0.0])
    assert (s.lo, s.hi) == (0.0, 0.0) and s.p == 1.0 and s.excludes_zero() == 0
    # tied in the mean, not per seed
    assert paired_interval([1.0, -1.0, 0.0]).excludes_zero() == 0
    # equal means and sds of two groups: Welch's interval is symmetric about 0
    w = welch_interval(21.5, 0.3, 3, 21.5, 0.3, 3)
    assert w.mean == 0.0 and w.lo == pytest.approx(-w.hi) and w.excludes_zero() == 0
    assert welch_interval(21.5, 0.0, 3, 21.5, 0.0, 3).excludes_zero() == 0  # no spread either: the point 0
    # a constant non-zero difference is an effect (the interval is that point)
    assert paired_interval([0.5, 0.5, 0.5]).excludes_zero() == 1
    assert paired_interval([-0.5, -0.5]).excludes_zero() == -1


def test_an_interval_whose_end_lands_on_zero_does_not_exclude_it():
    # summary_interval's lower end is mean − q·se: pick the mean that puts it on 0 (to rounding), both sides
    n, sd, level = 4, 1.0, 0.95
    q = st.t.ppf(0.5 + level / 2, n - 1)
    mean = q * sd / math.sqrt(n)
    up, down = summary_interval(mean, sd, n, level=level), summary_interval(-mean, sd, n, level=level)
    assert up.lo == pytest.approx(0.0, abs=1e-12) and down.hi == pytest.approx(0.0, abs=1e-12)
    assert up.excludes_zero() == (1 if up.lo > 0 else 0) and down.excludes_zero() == (-1 if down.hi < 0 else 0)
    assert _stat(0.0, up.hi).excludes_zero() == 0 and _stat(down.lo, 0.0).excludes_zero() == 0


_SAMPLES = [
    ([0.31, -0.12, 0.57], [0.11, 0.08, -0.3]),
    ([21.3, 21.9, 21.6, 22.4, 21.1], [21.0, 21.2, 21.7, 21.4, 20.9]),
    ([1.0, 2.0, 3.5, 4.0], [0.5, 1.0, 1.2, 3.0]),
    (list(np.linspace(-1.0, 2.0, 12)), list(np.cos(np.arange(12.0)))),
]


@pytest.mark.parametrize("a,b", _SAMPLES)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_paired_interval_equals_scipys_ttest_rel(a, b, level):
    a, b = np.asarray(a), np.asarray(b)
    s = paired_interval(a - b, level=level)
    ref = st.ttest_rel(a, b)
    lo, hi = ref.confidence_interval(level)
    assert s.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert (s.lo, s.hi) == pytest.approx((lo, hi), rel=1e-9)
    n = a.size
    lo_t, hi_t = st.t.interval(level, n - 1, loc=(a - b).mean(), scale=st.sem(a - b))
    assert (s.lo, s.hi) == pytest.approx((lo_t, hi_t), rel=1e-9)
    assert s.n == n and s.mean == pytest.approx((a - b).mean())


@pytest.mark.parametrize(
    "a,b",
    [
        *_SAMPLES,
        ([0.2, 0.4, 0.1, 0.35, 0.3], [1.0, -1.5, 2.0]),  # unequal sizes and spreads
        ([5.0, 5.1, 4.9], [3.0, 8.0, 1.0, 6.5, 2.0, 7.0, 4.4]),
    ],
)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_welch_interval_equals_scipys_ttest_ind_from_raw_samples(a, b, level):
    a, b = np.asarray(a), np.asarray(b)
    s = welch_interval(a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size, level=level)
    ref = st.ttest_ind(a, b, equal_var=False)
    lo, hi = ref.confidence_interval(level)
    assert s.method == "welch" and s.mean == pytest.approx(a.mean() - b.mean())
    assert s.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert (s.lo, s.hi) == pytest.approx((lo, hi), rel=1e-9)
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    lo_t, hi_t = st.t.interval(level, ref.df, loc=a.mean() - b.mean(), scale=se)
    assert (s.lo, s.hi) == pytest.approx((lo_t, hi_t), rel=1e-9)
    assert s.excludes_zero() == (1 if lo > 0 else -1 if hi < 0 else 0)
