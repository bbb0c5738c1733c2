"""zmixlib.core.theory: γ_min, the dominance of the first weight (Theorem 1), mixup as ζ-mixup (Theorem 2)."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import special

from zmixlib.core import theory


class TestGammaMin:
    def test_is_the_root_of_zeta_equals_two(self):
        g = theory.gamma_min()
        assert special.zeta(g, 1) == pytest.approx(2.0, abs=1e-13)
        # a sign change around the root proves it is bracketed to 1e-12
        assert special.zeta(g - 1e-12, 1) > 2.0 > special.zeta(g + 1e-12, 1)

    def test_matches_the_paper_to_its_five_decimals(self):
        assert round(theory.gamma_min(), 5) == theory.GAMMA_MIN_PAPER

    def test_dominance_is_zero_at_gamma_min(self):
        assert theory.dominance(theory.gamma_min()) == pytest.approx(0.0, abs=1e-13)


class TestDominance:
    @settings(max_examples=50, deadline=None)
    @given(st.floats(1.7287, 20.0), st.integers(2, 5000))
    def test_theorem_1_holds_for_any_T(self, gamma, T):
        w = theory.zeta_series_weights(T, gamma)
        assert w[0] > w[1:].sum()
        assert theory.dominance(gamma, T) == pytest.approx(w[0] - w[1:].sum(), abs=1e-12)

    def test_fails_below_gamma_min_for_large_T(self):
        # just below γ_min the infinite series no longer has a dominant first term
        assert theory.dominance(theory.gamma_min() - 1e-3) < 0

    @pytest.mark.parametrize("T", [3, 4, 8, 32, 128])
    def test_thresholds_are_where_dominance_changes_sign(self, T):
        g = theory.dominance_threshold(T)
        assert theory.dominance(g - 1e-9, T) < 0 < theory.dominance(g + 1e-9, T)

    def test_thresholds_grow_with_T_towards_gamma_min(self):
        ts = [theory.dominance_threshold(T) for T in (2, 3, 4, 8, 32, 128, 4096)]
        assert ts[0] == 0.0
        assert all(a < b for a, b in zip(ts, ts[1:]))
        assert ts[-1] < theory.gamma_min() == theory.dominance_threshold(math.inf)

    @settings(max_examples=30, deadline=None)
    @given(st.floats(1.01, 10.0), st.integers(2, 200))
    @example(9.7035, 64)  # ζ(γ) and H_64(γ) differ by ~1e-18 here: the two float64 values differ by round-off
    def test_dominance_decreases_with_T(self, gamma, T):
        check_decreasing_in_T(theory.dominance, gamma, T)

    @pytest.mark.parametrize(
        "broken",
        [
            lambda g, T: -theory.dominance(g, T),  # grows with T
            lambda g, T: theory.dominance(g, min(T, 3)),  # ignores T beyond 3
        ],
        ids=["increasing", "constant"],
    )
    def test_the_monotonicity_check_catches_a_wrong_dominance(self, broken):
        with pytest.raises(AssertionError):
            check_decreasing_in_T(broken, 2.0, 10)


#: float64 round-off allowed in one dominance value, in ulps of ``2 / H_T = dominance + 1`` (the quantity
#: the float computation rounds): ``H_T`` sums ≤ 201 powers pairwise (≲ 10 ulps), scipy's ζ a few more.
DOMINANCE_ULPS = 64


def check_decreasing_in_T(dominance, gamma: float, T: int) -> None:
    """``dominance(γ, T)`` falls as ``T`` grows: ``d(T+1) ≤ d(T)`` and ``d(∞) ≤ d(T)`` within round-off, and
    strictly wherever the exact fall is larger than the round-off of both values."""
    d_T, d_next, d_inf = dominance(gamma, T), dominance(gamma, T + 1), dominance(gamma, math.inf)
    tol = DOMINANCE_ULPS * math.ulp(d_T + 1.0)
    assert d_next <= d_T + tol, (d_next, d_T)
    assert d_inf <= d_T + tol, (d_inf, d_T)
    # exact falls 2·Δ / (H_T·H_T') with H ≤ ζ(γ); Δ = (T+1)^-γ, and the tail Σ_{j>T} j^-γ ≥ ∫_{T+1}^∞ x^-γ dx
    z2 = special.zeta(gamma, 1) ** 2
    if 2 * (T + 1) ** -gamma / z2 > 2 * tol:
        assert d_next < d_T, (d_next, d_T)
    if 2 * (T + 1) ** (1 - gamma) / (gamma - 1) / z2 > 2 * tol:
        assert d_inf < d_T, (d_inf, d_T)


class TestWeights:
    @settings(max_examples=50, deadline=None)
    @given(st.integers(1, 300), st.floats(-5.0, 30.0))
    def test_weights_are_a_probability_vector(self, T, gamma):
        w = theory.zeta_series_weights(T, gamma)
        assert w.shape == (T,)
        assert np.all(w >= 0)
        assert w.sum() == pytest.approx(1.0, abs=1e-12)

    def test_gamma_zero_is_uniform(self):
        np.testing.assert_allclose(theory.zeta_series_weights(7, 0.0), np.full(7, 1 / 7))

    def test_worked_example_T4_gamma_2_4(self):
        w = theory.zeta_series_weights(4, 2.4)
        expected = np.array([1, 2**-2.4, 3**-2.4, 4**-2.4])
        np.testing.assert_allclose(w, expected / expected.sum(), rtol=1e-15)
        assert theory.num_orderings(4) == 24


class TestTheorem2:
    @settings(max_examples=100, deadline=None)
    @given(st.floats(1e-6, 1 - 1e-6))
    def test_T2_weights_equal_mixup_lambda(self, lam):
        w = theory.zeta_series_weights(2, theory.gamma_for_lambda(lam))
        np.testing.assert_allclose(w, [lam, 1 - lam], rtol=1e-9, atol=1e-15)
        assert theory.lambda_for_gamma(theory.gamma_for_lambda(lam)) == pytest.approx(lam, rel=1e-12)

    def test_lambda_below_half_maps_to_negative_gamma(self):
        assert theory.gamma_for_lambda(0.3) < 0 < theory.gamma_for_lambda(0.7)
        assert theory.gamma_for_lambda(0.5) == 0.0


class TestBadInput:
    @pytest.mark.parametrize("gamma", [1.0, 0.5, -2.0])
    def test_infinite_series_needs_gamma_above_one(self, gamma):
        with pytest.raises(ValueError, match=r"gamma must be > 1\.0, got"):
            theory.zeta(gamma)
        with pytest.raises(ValueError, match="gamma must be > 1.0"):
            theory.dominance(gamma, math.inf)

    @pytest.mark.parametrize("lam", [0.0, 1.0, -0.1, 1.5])
    def test_lambda_outside_open_unit_interval(self, lam):
        with pytest.raises(ValueError, match=r"lam must be (>|<) [01]\.0, got"):
            theory.gamma_for_lambda(lam)

    def test_nan_and_wrong_types(self):
        with pytest.raises(ValueError, match="gamma must be a number, got nan"):
            theory.zeta_series_weights(4, float("nan"))
        with pytest.raises(TypeError, match="num_mix must be an integer, got '4'"):
            theory.zeta_series_weights("4", 2.0)
        with pytest.raises(ValueError, match="num_mix must be >= 1, got 0"):
            theory.dominance_threshold(0)


def test_mixing_uses_the_same_gamma_min():
    from zmixlib import mixing

    assert mixing.GAMMA_MIN == pytest.approx(theory.gamma_min(), abs=1e-15)


def test_top_level_reexports():
    import zmixlib

    assert zmixlib.zeta_mixup is zmixlib.mixing.zeta_mixup
    assert zmixlib.gamma_min is theory.gamma_min
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        zmixlib.nope  # noqa: B018
