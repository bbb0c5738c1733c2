"""zmixlib.analysis.stats power: the two-sided paired t-test's power (noncentral t) against a Monte Carlo of the test
itself and against published sample sizes; the detectable effect and the seeds needed; the scipy-backed
intervals equal to the textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from zmixlib.analysis.stats import (
    PairedStat,
    detectable_effect,
    paired_interval,
    paired_power,
    seeds_needed,
    summary_interval,
    welch_interval,
)


def _monte_carlo_power(effect, sd, n, *, reps=200_000, seed=0):
    """The rejection rate of the two-sided 5 % one-sample t-test on ``reps`` simulated sets of ``n`` normal
    differences — computed from the test's own definition, independently of the noncentral t."""
    d = np.random.default_rng(seed).normal(effect, sd, size=(reps, n))
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n))
    return float(np.mean(np.abs(t) > st.t.ppf(0.975, n - 1)))


@pytest.mark.parametrize(("effect", "sd", "n"), [(0.83, 0.62, 3), (0.83, 0.62, 7), (1.0, 1.0, 5), (-0.4, 1.0, 12)])
def test_power_matches_a_monte_carlo_of_the_test(effect, sd, n):
    mc = _monte_carlo_power(effect, sd, n)
    assert paired_power(effect, sd, n) == pytest.approx(mc, abs=0.006)  # MC se ≤ 0.0012


def test_power_at_zero_effect_is_the_level_and_grows_with_n():
    assert paired_power(0.0, 1.0, 6) == pytest.approx(0.05, abs=1e-12)
    powers = [paired_power(0.5, 1.0, n) for n in range(2, 40)]
    assert all(a < b for a, b in zip(powers, powers[1:]))
    assert paired_power(0.5, 1.0, 10) == pytest.approx(paired_power(-0.5, 1.0, 10), abs=1e-14)


@pytest.mark.parametrize(("d", "n"), [(0.5, 34), (0.8, 15)])
def test_seeds_needed_matches_published_sample_sizes(d, n):
    # one-sample / paired t-test, two-sided α = 0.05, power 0.80: n = 34 for d = 0.5 and n = 15 for d = 0.8
    # (G*Power 3; Faul et al. 2007) — a normal approximation gives 32 and 13
    assert seeds_needed(d, 1.0) == n
    assert seeds_needed(2 * d, 2.0) == n  # only effect / sd matters
    assert math.ceil(((st.norm.ppf(0.975) + st.norm.ppf(0.8)) / d) ** 2) < n


def test_the_issues_example_needs_six_to_eight_seeds():
    # issue 25: Fashion-MNIST ζ-mixup (γ 2.8) − mixup +0.83 points, paired sd 0.62
    n = seeds_needed(0.83, 0.62)
    assert 6 <= n <= 8
    assert paired_power(0.83, 0.62, n) >= 0.8 > paired_power(0.83, 0.62, n - 1)
    assert _monte_carlo_power(0.83, 0.62, n) >= 0.79  # the simulated test, at the n found, has its power


def test_detectable_effect_is_where_the_power_is_80_percent():
    for sd, n in ((0.62, 3), (1.0, 5), (2.5, 20)):
        e = detectable_effect(sd, n)
        assert paired_power(e, sd, n) == pytest.approx(0.8, abs=1e-9)
        assert seeds_needed(e * 1.0001, sd) <= n and seeds_needed(e * 0.99, sd) > n
    assert detectable_effect(0.62, 3) > detectable_effect(0.62, 10)


def test_power_is_finite_where_scipys_lower_tail_is_not():
    # nct.cdf(-12.7, 1, 11.3) is NaN in scipy 1.17: n = 2 pairs, sd 0.028, effect 0.226 (a UCI cell of 2 trials)
    p = paired_power(0.2262741699796954, 0.028284271247461888, 2)
    assert math.isfinite(p) and p == pytest.approx(st.nct.sf(st.t.ppf(0.975, 1), 1, 0.2262741699796954 * 50), abs=1e-12)
    assert math.isfinite(detectable_effect(0.028284271247461888, 2))


def test_power_rejects_bad_input():
    with pytest.raises(ValueError, match="sd must be a finite number > 0, got 0"):
        paired_power(1.0, 0, 5)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        detectable_effect(1.0, 1)
    with pytest.raises(ValueError, match="effect must be a finite non-zero number, got 0"):
        seeds_needed(0, 1.0)
    with pytest.raises(ValueError, match="needs more than n_max = 50 pairs"):
        seeds_needed(0.01, 1.0, n_max=50)
    with pytest.raises(ValueError, match="power must exceed alpha"):
        detectable_effect(1.0, 5, power=0.01)


@pytest.mark.parametrize(
    "diffs", [[-1.2, -0.4, -0.9], [0.3, -0.2, 0.5, 0.1, -0.05], [2.0, 1.0], list(np.linspace(-3, 1, 20))]
)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_scipy_backed_intervals_equal_the_textbook_formulas(diffs, level):
    d = np.asarray(diffs)
    n, m, sd = d.size, d.mean(), d.std(ddof=1)
    se = sd / math.sqrt(n)
    q = st.t.ppf(0.5 + level / 2, n - 1)
    p = 2 * st.t.sf(abs(m / se), n - 1)
    for s in (paired_interval(diffs, level=level), summary_interval(m, sd, n, level=level)):
        assert (s.lo, s.hi, s.p) == pytest.approx((m - q * se, m + q * se, p), abs=1e-12)
    m1, s1, n1, m2, s2, n2 = 10.0, 0.4, 5, 9.3, 0.9, 3
    v1, v2 = s1**2 / n1, s2**2 / n2
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    se = math.sqrt(v1 + v2)
    q = st.t.ppf(0.5 + level / 2, df)
    w = welch_interval(m1, s1, n1, m2, s2, n2, level=level)
    assert (w.lo, w.hi, w.p) == pytest.approx((0.7 - q * se, 0.7 + q * se, 2 * st.t.sf(0.7 / se, df)), abs=1e-12)


def test_an_interval_touching_zero_does_not_exclude_it():
    assert PairedStat(3, 1.0, 1.0, 0.5, 0.0, 2.0, 0.05, 0.95).excludes_zero() == 0
    assert PairedStat(3, -1.0, 1.0, 0.5, -2.0, 0.0, 0.05, 0.95).excludes_zero() == 0
    assert PairedStat(3, -1.0, 1.0, 0.5, -2.0, -1e-300, 0.05, 0.95).excludes_zero() == -1


def test_interval_se_and_normal_power_and_their_bad_input():
    from scipy.stats import norm

    from zmixlib.analysis.stats import interval_se, normal_power

    z, zp = norm.ppf(0.975), norm.ppf(0.8)
    assert interval_se(-3.0, 1.0) == pytest.approx(4.0 / (2 * z))
    assert normal_power(1.0, 500, None) == (pytest.approx(z + zp), None)
    assert normal_power(1.0, 500, -8.0)[1] == math.ceil(500 * ((z + zp) / 8.0) ** 2)
    assert normal_power(0.001, 500, -8.0)[1] == 2  # the floor
    for bad in ((1.0, 0.0), (float("nan"), 1.0)):
        with pytest.raises(ValueError, match="the interval must be finite with lo <= hi"):
            interval_se(*bad)
    with pytest.raises(ValueError, match="level must be in"):
        interval_se(0.0, 1.0, level=1.5)
    with pytest.raises(ValueError, match="se must be a finite number >= 0, got -1"):
        normal_power(-1.0, 5, None)
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        normal_power(1.0, 0, None)
    with pytest.raises(ValueError, match="effect must be a finite non-zero number or None, got 0"):
        normal_power(1.0, 5, 0.0)
    with pytest.raises(ValueError, match="power must be in"):
        normal_power(1.0, 5, None, power=1.0)
