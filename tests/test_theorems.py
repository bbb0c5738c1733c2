"""zmixlib.chapters.theorems: chapter 00's tables agree with the theorems they show."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zmixlib.chapters import theorems
from zmixlib.core import theory


def test_dominance_curves_cross_zero_at_the_threshold():
    gammas = np.linspace(0.5, 6.0, 56)
    curves = theorems.dominance_by_T(gammas)
    assert list(curves) == [2, 4, 8, 32, 128, "∞"]
    assert all(len(v) == len(gammas) for v in curves.values())
    limit = np.array(curves["∞"])
    assert np.isnan(limit[gammas <= 1]).all() and not np.isnan(limit[gammas > 1]).any()
    above = gammas >= theory.gamma_min()
    for values in curves.values():
        assert (np.array(values)[above] >= -1e-12).all()


def test_threshold_table():
    g_min = theory.gamma_min()
    t = theorems.threshold_table(g_min)
    assert list(t.index) == [2, 4, 8, 32, 128, "∞"]
    smallest = t["smallest γ with w1 ≥ Σ others"]
    assert smallest.is_monotonic_increasing and smallest["∞"] == pytest.approx(g_min, abs=1e-6)
    assert (t["w1 − Σ others at γ_min"] >= 0).all()


def test_theorem2_reproduces_mixup():
    lams, gammas, err = theorems.theorem2(9)
    assert len(lams) == 9 and 0 < lams.min() and lams.max() < 1
    assert gammas == pytest.approx(np.log2(lams / (1 - lams)))
    assert err < 1e-12


def test_ordering_counts():
    t = theorems.ordering_counts((2, 3, 4))
    assert t.iloc[:, 0].tolist() == [math.factorial(T) for T in (2, 3, 4)]
    assert t.iloc[:, 1].tolist() == [1, 3, 6]


def test_weight_assignments():
    weights, distinct = theorems.weight_assignments(4, 2.4)
    assert list(weights.index) == ["rank 1", "rank 2", "rank 3", "rank 4"]
    assert weights.sum() == pytest.approx(1.0, abs=1e-5) and weights.is_monotonic_decreasing
    assert distinct == math.factorial(4)
