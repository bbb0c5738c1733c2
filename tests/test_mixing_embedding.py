"""Tests for zmixlib.mixing.embedding: MultiMix and Dense MultiMix."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from mixing_fixtures import FAST, gen

from zmixlib.engine.metrics import soft_cross_entropy
from zmixlib.mixing import dense_multimix, multimix, multimix_attention, multimix_weights

pytestmark = pytest.mark.filterwarnings("error")


# ----------------------------------------------------------------------------------------------
# MultiMix and Dense MultiMix
# ----------------------------------------------------------------------------------------------


class TestMultiMix:
    @FAST
    @given(b=st.integers(2, 16), n=st.integers(1, 64), seed=st.integers(0, 2**31))
    def test_convex_combinations(self, b, n, seed):
        z = torch.randn(b, 5, dtype=torch.float64)
        zm, ym = multimix(z, torch.arange(b), n=n, num_classes=b, generator=gen(seed))
        assert zm.shape == (n, 5) and ym.shape == (n, b)
        assert (ym >= 0).all()
        torch.testing.assert_close(ym.sum(1), torch.ones(n, dtype=torch.float64))
        torch.testing.assert_close(zm, ym @ z)

    def test_equals_weights(self):
        z, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
        zm, ym = multimix(z, y, n=50, alpha=(0.5, 2.0), num_classes=3, generator=gen(1))
        lam = multimix_weights(8, n=50, generator=gen(1))
        torch.testing.assert_close(zm, lam @ z)
        torch.testing.assert_close(ym, lam @ torch.eye(3)[y])

    def test_errors(self):
        z, y = torch.randn(8, 4), torch.arange(8)
        with pytest.raises(ValueError, match=r"n must be >= 1, got 0"):
            multimix(z, y, n=0, num_classes=8)
        with pytest.raises(ValueError, match=r"alpha must be > 0, got \(0.0, 2.0\)"):
            multimix(z, y, alpha=(0.0, 2.0), num_classes=8)


class TestDenseMultiMix:
    def test_equations_10_to_14(self):
        b, d, r, n = 6, 4, 5, 9
        z = torch.randn(b, d, r, dtype=torch.float64)
        a = multimix_attention(z)
        zm, ym, s = dense_multimix(z, torch.arange(b), a, n=n, num_classes=b, generator=gen(2))
        assert zm.shape == (n, d, r) and ym.shape == (n, r, b) and s.shape == (n, r)
        assert (ym >= 0).all()
        torch.testing.assert_close(ym.sum(-1), torch.ones(n, r, dtype=torch.float64))
        # with distinct labels y_mix holds M̂ (13); z̃^j = Z^j M̂^j (12)
        torch.testing.assert_close(zm, torch.einsum("nrb,bdr->ndr", ym, z))
        # s^j = Σ_i a_i^j λ_i^j is a convex combination of the attention values at j
        assert (s <= a.max(0).values + 1e-12).all() and (s >= a.min(0).values - 1e-12).all()

    def test_uniform_attention(self):
        z = torch.randn(4, 3, 6)
        _, _, s = dense_multimix(z, torch.arange(4), n=5, num_classes=4, generator=gen())
        torch.testing.assert_close(s, torch.full((5, 6), 1 / 6))

    def test_zero_attention_example_is_never_mixed(self):
        z = torch.randn(4, 3, 6)
        a = torch.rand(4, 6)
        a[0] = 0
        _, ym, _ = dense_multimix(z, torch.arange(4), a, n=5, num_classes=4, generator=gen())
        assert (ym[..., 0] == 0).all()

    def test_loss_eq_14(self):
        z = torch.randn(4, 3, 6)
        _, ym, s = dense_multimix(z, torch.arange(4), multimix_attention(z), n=5, num_classes=4, generator=gen())
        logits = torch.randn(5, 6, 4)
        ce = -(ym * torch.log_softmax(logits, -1)).sum(-1)  # (n, r)
        ref = ((ce * s).sum(0) / s.sum(0)).mean()
        torch.testing.assert_close(soft_cross_entropy(logits, ym, weight=s), ref)

    def test_attention(self):
        z = torch.randn(3, 4, 5)
        for h in ("softmax", "relu"):
            a = multimix_attention(z, nonlinearity=h)
            assert a.shape == (3, 5) and (a >= 0).all()
            torch.testing.assert_close(a.sum(1), torch.ones(3))

    def test_errors(self):
        z = torch.randn(4, 3, 6)
        with pytest.raises(ValueError, match=r"z_map must have shape \(B, d, r\).*got \(4, 3, 2, 3\)"):
            dense_multimix(z.reshape(4, 3, 2, 3), torch.arange(4), num_classes=4)
        with pytest.raises(ValueError, match=r"attention must have shape \(B, r\) = \(4, 6\), got \(4, 5\)"):
            dense_multimix(z, torch.arange(4), torch.rand(4, 5), num_classes=4)
