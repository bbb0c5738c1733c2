"""Tests for zmixlib.mixing.pairwise: mixup, Dirichlet mixup, CutMix and CutMix + ζ-mixup."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from mixing_fixtures import FAST, gen, make_batch

from zmixlib.mixing import (
    GAMMA_MIN,
    apply_weights,
    cutmix,
    cutmix_zeta,
    dirichlet_mixup,
    dirichlet_weights,
    mixup,
    pair_weights,
    sample_cutmix,
    sample_mixup,
    zeta_mixup,
    zeta_weights,
)

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def batch():
    return make_batch()


# ----------------------------------------------------------------------------------------------
# mixup and Dirichlet mixup
# ----------------------------------------------------------------------------------------------


class TestMixup:
    def test_equals_pair_weights(self, batch):
        x, y = batch
        xm, ym = mixup(x, y, alpha=0.4, num_classes=4, generator=gen(7))
        lam, perm = sample_mixup(8, alpha=0.4, generator=gen(7))
        xa, ya = apply_weights(x, y, pair_weights(lam, perm), num_classes=4)
        torch.testing.assert_close(xm, xa)
        torch.testing.assert_close(ym, ya)
        torch.testing.assert_close(xm, lam.float() * x + (1 - lam.float()) * x[perm])

    def test_theorem_2_mixup_is_zeta_with_two_samples(self):
        lam, perm = sample_mixup(6, generator=gen(4))
        lam = max(float(lam), 1 - float(lam))
        w = zeta_weights(6, math.log2(lam / (1 - lam)), num_mix=2, generator=gen(0), dtype=torch.float64)
        assert sorted(w[0][w[0] > 0].tolist()) == pytest.approx([1 - lam, lam])

    @pytest.mark.parametrize("alpha", [0.2, 1.0, 5.0])
    def test_beta_moments(self, alpha):
        # Dir(α, α) on two coordinates is Beta(α, α): mean 1/2, variance 1 / (4 (2α + 1)).
        lam = dirichlet_weights(2, alpha, num_rows=40000, generator=gen(1), dtype=torch.float64)[:, 0]
        assert float(lam.mean()) == pytest.approx(0.5, abs=0.01)
        assert float(lam.var()) == pytest.approx(1 / (4 * (2 * alpha + 1)), rel=0.05)

    def test_alpha_one_lambda_is_uniform(self):
        lams = torch.stack([sample_mixup(2, generator=g)[0] for g in (gen(s) for s in range(400))])
        assert float(lams.mean()) == pytest.approx(0.5, abs=0.05)
        assert float(lams.var()) == pytest.approx(1 / 12, rel=0.2)

    def test_channels_last_preserved(self, batch):
        x, y = batch
        xc = x.contiguous(memory_format=torch.channels_last)
        out, _ = mixup(xc, y, num_classes=4, generator=gen())
        assert out.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(out, mixup(x, y, num_classes=4, generator=gen())[0])

    @pytest.mark.parametrize("alpha", [0.0, -1.0])
    def test_alpha_must_be_positive(self, batch, alpha):
        x, y = batch
        with pytest.raises(ValueError, match=rf"alpha must be > 0.0, got {alpha}"):
            mixup(x, y, alpha=alpha, num_classes=4)


class TestDirichletMixup:
    def test_rows_are_dirichlet_convex_combinations(self, batch):
        x, y = batch
        xm, ym = dirichlet_mixup(x, torch.arange(8), num_classes=8, generator=gen(3))
        w = dirichlet_weights(8, 1.0, generator=gen(3))
        torch.testing.assert_close(ym, w)
        torch.testing.assert_close(xm, apply_weights(x, torch.arange(8), w, num_classes=8)[0])
        assert (ym > 0).all()
        torch.testing.assert_close(ym.sum(1), torch.ones(8))

    def test_small_alpha_is_finite(self):
        w = dirichlet_weights(32, 0.01, generator=gen(0), dtype=torch.float64)
        assert torch.isfinite(w).all()
        torch.testing.assert_close(w.sum(1), torch.ones(32, dtype=torch.float64))

    def test_mean_weight(self):
        w = dirichlet_weights(5, 2.0, num_rows=20000, generator=gen(2), dtype=torch.float64)
        torch.testing.assert_close(w.mean(0), torch.full((5,), 0.2, dtype=torch.float64), atol=0.01, rtol=0)

    def test_alpha_error(self, batch):
        x, y = batch
        with pytest.raises(ValueError, match=r"alpha must be > 0.0, got 0"):
            dirichlet_mixup(x, y, alpha=0, num_classes=4)


# ----------------------------------------------------------------------------------------------
# CutMix and CutMix + ζ-mixup
# ----------------------------------------------------------------------------------------------


class TestCutMix:
    @FAST
    @given(h=st.integers(1, 20), w=st.integers(1, 20), alpha=st.floats(0.1, 4), seed=st.integers(0, 2**31))
    def test_lambda_is_the_pasted_area(self, h, w, alpha, seed):
        b = 6
        x = torch.arange(1, b + 1, dtype=torch.float64).reshape(b, 1, 1, 1).expand(b, 2, h, w).contiguous()
        xm, ym = cutmix(x, torch.arange(b), alpha=alpha, num_classes=b, generator=gen(seed))
        s = sample_cutmix(b, h, w, alpha=alpha, generator=gen(seed))
        y0, y1, x0, x1 = s.box
        assert 0 <= y0 <= y1 <= h and 0 <= x0 <= x1 <= w
        assert s.lam == pytest.approx(1 - (y1 - y0) * (x1 - x0) / (h * w))
        for i in range(b):
            own = float((xm[i] == i + 1).double().mean())
            assert float(ym[i, i]) == pytest.approx(own)  # label weight = fraction of own pixels
            if s.perm[i] != i:
                assert own == pytest.approx(s.lam)
        torch.testing.assert_close(ym.sum(1), torch.ones(b, dtype=torch.float64))

    def test_box_region_comes_from_partner(self, batch):
        x, y = batch
        xm, _ = cutmix(x, y, num_classes=4, generator=gen(11))
        s = sample_cutmix(8, 8, 8, generator=gen(11))
        y0, y1, x0, x1 = s.box
        ref = x.clone()
        ref[:, :, y0:y1, x0:x1] = x[s.perm][:, :, y0:y1, x0:x1]
        assert torch.equal(xm, ref)

    def test_channels_last(self, batch):
        x, y = batch
        out, _ = cutmix(x.contiguous(memory_format=torch.channels_last), y, num_classes=4, generator=gen())
        assert out.is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(out, cutmix(x, y, num_classes=4, generator=gen())[0])

    @pytest.mark.parametrize("fn", [cutmix, cutmix_zeta])
    def test_images_only(self, fn):
        with pytest.raises(ValueError, match=r"needs images of shape \(B, C, H, W\), got a tensor of shape \(4, 10\)"):
            fn(torch.randn(4, 10), torch.arange(4), num_classes=4)


class TestCutMixZeta:
    def replay(self, x, y, seed):
        g = gen(seed)
        coin = float(torch.rand((), generator=g))
        if coin < 0.5:
            return "cutmix", cutmix(x, y, num_classes=4, generator=g)
        return "zeta", zeta_mixup(x, y, gamma=(GAMMA_MIN, 4.0), num_classes=4, generator=g)

    def test_switch_is_cutmix_or_zeta(self, batch):
        x, y = batch
        seen = set()
        for seed in range(8):
            kind, (xr, yr) = self.replay(x, y, seed)
            xm, ym = cutmix_zeta(x, y, num_classes=4, generator=gen(seed))
            torch.testing.assert_close(xm, xr)
            torch.testing.assert_close(ym, yr)
            seen.add(kind)
        assert seen == {"cutmix", "zeta"}

    def test_compose_is_zeta_of_cutmix(self, batch):
        x, y = batch
        g = gen(2)
        xc, yc = cutmix(x, y, num_classes=4, generator=g)
        xr, yr = zeta_mixup(xc, yc, gamma=(GAMMA_MIN, 4.0), generator=g)
        xm, ym = cutmix_zeta(x, y, mode="compose", num_classes=4, generator=gen(2))
        torch.testing.assert_close(xm, xr)
        torch.testing.assert_close(ym, yr)

    def test_prob_extremes(self, batch):
        x, y = batch
        xm, _ = cutmix_zeta(x, y, prob=1.0, num_classes=4, generator=gen(0))
        g = gen(0)
        torch.rand((), generator=g)
        torch.testing.assert_close(xm, cutmix(x, y, num_classes=4, generator=g)[0])

    @pytest.mark.parametrize(
        ("kw", "exc", "match"),
        [
            ({"mode": "mix"}, ValueError, r"mode must be one of \['switch', 'compose'\], got 'mix'"),
            ({"prob": 1.5}, ValueError, r"prob must be <= 1.0, got 1.5"),
            ({"gamma": -2.0}, ValueError, r"gamma must be >= 0.0, got -2.0"),
            ({"num_mix": 9}, ValueError, r"num_mix must be <= 8, got 9"),
        ],
    )
    def test_errors(self, batch, kw, exc, match):
        x, y = batch
        with pytest.raises(exc, match=match):
            cutmix_zeta(x, y, num_classes=4, **kw)


class TestCutMixProbability:
    """``cutmix(prob=p)``: the batch is mixed with probability p (the official CutMix CIFAR recipe: 0.5)."""

    def test_mixes_about_half_the_batches(self):
        x, y = torch.rand(8, 3, 8, 8), torch.arange(8)
        g = torch.Generator().manual_seed(0)
        mixed = sum(not torch.equal(cutmix(x, y, num_classes=8, prob=0.5, generator=g)[0], x) for _ in range(400))
        assert 160 < mixed < 240

    def test_unmixed_batch_keeps_images_and_one_hot_labels(self):
        x, y = torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 3])
        xm, ym = cutmix(x, y, num_classes=4, prob=0.0)
        assert torch.equal(xm, x) and xm is not x and torch.equal(ym, torch.eye(4))

    def test_prob_one_draws_no_coin(self):
        x, y = torch.rand(4, 3, 8, 8), torch.arange(4)
        a = cutmix(x, y, num_classes=4, generator=torch.Generator().manual_seed(3))
        b = cutmix(x, y, num_classes=4, prob=1.0, generator=torch.Generator().manual_seed(3))
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

    def test_bad_prob_is_named(self):
        with pytest.raises(ValueError, match="prob must be <= 1.0, got 1.5"):
            cutmix(torch.rand(2, 1, 4, 4), torch.arange(2), num_classes=2, prob=1.5)
