"""Tests for zmixlib.mixing: invariants of every mixing method, the theorems, and error messages."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader, TensorDataset

from zmixlib import mixing as M
from zmixlib.mixing import (
    GAMMA_MIN,
    MIXERS,
    Mixer,
    apply_weights,
    cutmix,
    cutmix_zeta,
    dense_multimix,
    dirichlet_mixup,
    dirichlet_weights,
    kmixup,
    kmixup_alpha_for_xi,
    local_synthetic_instances,
    mixup,
    multimix,
    multimix_attention,
    multimix_weights,
    optimal_matching,
    pair_weights,
    sample_cutmix,
    sample_kmixup,
    sample_mixup,
    soft_cross_entropy,
    soft_labels,
    zeta_mixup,
    zeta_weights,
)

pytestmark = pytest.mark.filterwarnings("error")

FAST = settings(max_examples=30, deadline=None)

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def p_series(t: int, gamma: float) -> torch.Tensor:
    w = torch.arange(1, t + 1, dtype=torch.float64).pow(-gamma)
    return w / w.sum()


@pytest.fixture
def batch():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 8, 8)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    return x, y


# Hyperparameters that keep every registry entry fast and valid on an (8, 3, 8, 8) batch.
HP = {"kmixup": {"k": 4}, "multimix": {"n": 12}, "local_synthetic_instances": {"num_mix": 4}}


# ----------------------------------------------------------------------------------------------
# soft labels
# ----------------------------------------------------------------------------------------------


class TestSoftLabels:
    def test_indices_become_one_hot(self):
        y = soft_labels(torch.tensor([2, 0, 1]), num_classes=4)
        assert torch.equal(y, torch.eye(4)[[2, 0, 1]])
        assert y.dtype == torch.float32

    def test_probabilities_are_copied(self):
        p = torch.softmax(torch.randn(3, 5), 1)
        out = soft_labels(p)
        assert torch.equal(out, p) and out.data_ptr() != p.data_ptr()

    @pytest.mark.parametrize(
        ("y", "kw", "exc", "match"),
        [
            (torch.tensor([0, 1]), {}, ValueError, r"num_classes is required when y holds class indices"),
            (torch.tensor([0, 5]), {"num_classes": 5}, ValueError, r"y must hold class indices in \[0, 4\].*\[0, 5\]"),
            (torch.tensor([-1, 2]), {"num_classes": 5}, ValueError, r"got values in \[-1, 2\]"),
            (torch.tensor([0, 1]), {"num_classes": 2, "batch_size": 3}, ValueError, r"y must have 3 rows.*got 2"),
            (
                torch.tensor([0.0, 1.0]),
                {"num_classes": 2},
                TypeError,
                r"integer class indices, got dtype torch.float32",
            ),
            (torch.zeros(2, 3), {"num_classes": 4}, ValueError, r"y has 3 columns but num_classes is 4"),
            (torch.zeros(2, 3, 1), {}, ValueError, r"shape \(B,\) or probabilities of shape \(B, K\)"),
            ([0, 1], {"num_classes": 2}, TypeError, r"y must be a torch.Tensor, got list"),
        ],
    )
    def test_errors(self, y, kw, exc, match):
        with pytest.raises(exc, match=match):
            soft_labels(y, **kw)


# ----------------------------------------------------------------------------------------------
# ζ-weights and the theorems
# ----------------------------------------------------------------------------------------------


class TestZetaWeights:
    @FAST
    @given(
        b=st.integers(2, 40),
        frac=st.floats(0, 1),
        gamma=st.floats(0, 8),
        seed=st.integers(0, 2**31),
    )
    def test_rows_are_permuted_p_series(self, b, frac, gamma, seed):
        t = 2 + round(frac * (b - 2))
        w = zeta_weights(b, gamma, num_mix=t, generator=gen(seed), dtype=torch.float64)
        assert w.shape == (b, b) and w.dtype == torch.float64
        torch.testing.assert_close(w.sum(1), torch.ones(b, dtype=torch.float64))
        assert ((w > 0).sum(1) == t).all()
        ref = torch.cat([p_series(t, gamma), torch.zeros(b - t, dtype=torch.float64)])
        torch.testing.assert_close(w.sort(dim=1, descending=True).values, ref.expand(b, b))
        assert (w.diagonal() == w.max(dim=1).values).all()

    @FAST
    @given(b=st.integers(2, 300), gamma=st.floats(1.72865, 12), seed=st.integers(0, 2**31))
    def test_theorem_1_diagonal_dominates(self, b, gamma, seed):
        w = zeta_weights(b, gamma, generator=gen(seed), dtype=torch.float64)
        diag = w.diagonal()
        assert (diag > w.sum(1) - diag).all()

    def test_gamma_min_is_root_of_zeta_equals_two(self):
        from scipy.special import zeta

        assert zeta(GAMMA_MIN) == pytest.approx(2.0, abs=1e-12)
        assert zeta(1.72865) < 2.0  # the paper's rounded value satisfies Theorem 1 too

    def test_gamma_min_has_one_definition(self):
        from zmixlib import theory

        assert M.GAMMA_MIN is theory.GAMMA_MIN  # a re-export, not a copy
        assert theory.GAMMA_MIN == theory.gamma_min()  # the literal is exactly the brentq root

    @FAST
    @given(lam=st.floats(0.5, 0.999), b=st.integers(2, 16), seed=st.integers(0, 2**31))
    def test_theorem_2_two_samples_reproduce_mixup(self, lam, b, seed):
        gamma = math.log2(lam / (1 - lam))
        w = zeta_weights(b, gamma, num_mix=2, generator=gen(seed), dtype=torch.float64)
        top = w.sort(dim=1, descending=True).values[:, :2]
        torch.testing.assert_close(top, torch.tensor([lam, 1 - lam], dtype=torch.float64).expand(b, 2))
        torch.testing.assert_close(w.diagonal(), torch.full((b,), lam, dtype=torch.float64))

    def test_gamma_zero_is_uniform_average(self):
        w = zeta_weights(7, 0.0, generator=gen())
        torch.testing.assert_close(w, torch.full((7, 7), 1 / 7))

    def test_large_gamma_is_identity(self):
        torch.testing.assert_close(zeta_weights(9, 60.0, generator=gen(), dtype=torch.float64), torch.eye(9).double())

    def test_gamma_range_draws_one_gamma_in_range(self):
        for seed in range(5):
            w = zeta_weights(6, (2.0, 3.0), generator=gen(seed), dtype=torch.float64)
            top = w.sort(dim=1, descending=True).values
            g = torch.log2(top[:, 0] / top[:, 1])
            assert 2.0 - 1e-9 <= g[0] <= 3.0 + 1e-9
            torch.testing.assert_close(g, g[0].expand(6))  # one γ for the whole matrix
            torch.testing.assert_close(top[0], p_series(6, float(g[0])))

    def test_seeded(self):
        a, b = zeta_weights(16, generator=gen(1)), zeta_weights(16, generator=gen(1))
        assert torch.equal(a, b)
        assert not torch.equal(a, zeta_weights(16, generator=gen(2)))

    def test_other_ranks_are_uniformly_placed(self):
        g = gen(3)
        hits = torch.zeros(4)
        for _ in range(600):
            w = zeta_weights(4, 2.0, generator=g)
            hits[w[0, 1:].argmax() + 1] += 1
        assert hits[0] == 0
        assert ((hits[1:] / 600 - 1 / 3).abs() < 0.07).all()

    def test_device_and_dtype(self):
        w = zeta_weights(5, device="cpu", dtype=torch.float16, generator=gen())
        assert w.device.type == "cpu" and w.dtype == torch.float16

    @pytest.mark.parametrize(
        ("kw", "exc", "match"),
        [
            ({"batch_size": 4, "gamma": -1.0}, ValueError, r"gamma must be >= 0.0, got -1.0"),
            ({"batch_size": 4, "gamma": float("nan")}, ValueError, r"gamma must be a number, got nan"),
            ({"batch_size": 4, "gamma": (3.0, 2.0)}, ValueError, r"gamma must satisfy low <= high, got \(3.0, 2.0\)"),
            ({"batch_size": 4, "gamma": (-1.0, 2.0)}, ValueError, r"gamma\[0\] must be >= 0.0, got -1.0"),
            ({"batch_size": 4, "gamma": "big"}, TypeError, r"gamma must be a real number, got 'big'"),
            ({"batch_size": 1}, ValueError, r"batch_size must be >= 2, got 1"),
            ({"batch_size": 4, "num_mix": 1}, ValueError, r"num_mix must be >= 2, got 1"),
            ({"batch_size": 4, "num_mix": 5}, ValueError, r"num_mix must be <= 4, got 5"),
            ({"batch_size": 4.0}, TypeError, r"batch_size must be an integer, got 4.0"),
        ],
    )
    def test_errors(self, kw, exc, match):
        with pytest.raises(exc, match=match):
            zeta_weights(**kw)


# ----------------------------------------------------------------------------------------------
# ζ-mixup
# ----------------------------------------------------------------------------------------------


class TestZetaMixup:
    def test_equals_apply_weights_and_listing_a1(self, batch):
        x, y = batch
        xm, ym = zeta_mixup(x, y, gamma=2.4, num_classes=4, generator=gen(5))
        w = zeta_weights(8, 2.4, generator=gen(5))
        xa, ya = apply_weights(x, y, w, num_classes=4)
        assert torch.equal(xm, xa) and torch.equal(ym, ya)
        # the authors' Listing A1
        torch.testing.assert_close(xm, torch.einsum("ijkl,pi->pjkl", x, w))
        torch.testing.assert_close(ym, torch.einsum("pq,qj->pj", w, torch.eye(4)[y]))

    def test_gamma_range_equals_zeta_weights_with_range(self, batch):
        x, y = batch
        xm, _ = zeta_mixup(x, y, gamma=(GAMMA_MIN, 4.0), num_classes=4, generator=gen(5))
        w = zeta_weights(8, (GAMMA_MIN, 4.0), generator=gen(5))
        torch.testing.assert_close(xm, apply_weights(x, y, w, num_classes=4)[0])

    @FAST
    @given(b=st.integers(2, 24), frac=st.floats(0, 1), gamma=st.floats(0, 6), seed=st.integers(0, 2**31))
    def test_distinct_labels_have_exactly_t_nonzeros(self, b, frac, gamma, seed):
        t = 2 + round(frac * (b - 2))
        x = torch.randn(b, 5, dtype=torch.float64)
        xm, ym = zeta_mixup(x, torch.arange(b), gamma=gamma, num_mix=t, num_classes=b, generator=gen(seed))
        assert ym.dtype == torch.float64
        torch.testing.assert_close(ym.sum(1), torch.ones(b, dtype=torch.float64))
        assert (ym >= 0).all() and ((ym > 0).sum(1) == t).all()
        torch.testing.assert_close(xm, ym @ x)  # the labels record the weights of the inputs

    def test_num_mix_two_is_the_pairwise_ablation(self, batch):
        x, y = batch
        lam = 0.8
        _, ym = zeta_mixup(x, torch.arange(8), gamma=math.log2(lam / (1 - lam)), num_mix=2, num_classes=8)
        torch.testing.assert_close(ym.diagonal(), torch.full((8,), lam))
        assert ((ym > 0).sum(1) == 2).all()

    @pytest.mark.parametrize("shape", [(6,), (6, 4), (6, 3, 5, 5), (6, 2, 3, 4, 5)])
    def test_any_shape(self, shape):
        x = torch.randn(shape)
        xm, ym = zeta_mixup(x, torch.arange(6), num_classes=6, generator=gen())
        assert xm.shape == x.shape and xm.is_contiguous()
        torch.testing.assert_close(xm.reshape(6, -1), ym @ x.reshape(6, -1))

    def test_channels_last_equals_contiguous(self, batch):
        x, y = batch
        xc = x.contiguous(memory_format=torch.channels_last)
        a, ya = zeta_mixup(x, y, num_classes=4, generator=gen(1))
        b, yb = zeta_mixup(xc, y, num_classes=4, generator=gen(1))
        assert b.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(a, b)
        assert torch.equal(ya, yb)

    def test_channels_last_3d_and_strided_inputs(self):
        x = torch.randn(4, 2, 3, 4, 5)
        x3 = x.contiguous(memory_format=torch.channels_last_3d)
        ref, _ = zeta_mixup(x, torch.arange(4), num_classes=4, generator=gen(1))
        out, _ = zeta_mixup(x3, torch.arange(4), num_classes=4, generator=gen(1))
        assert out.is_contiguous(memory_format=torch.channels_last_3d)
        torch.testing.assert_close(out, ref)
        xt = torch.randn(7, 4).t()  # (4, 7), batch dim not outermost in memory
        out, _ = zeta_mixup(xt, torch.arange(4), num_classes=4, generator=gen(1))
        ref, _ = zeta_mixup(xt.contiguous(), torch.arange(4), num_classes=4, generator=gen(1))
        torch.testing.assert_close(out, ref)

    def test_probability_labels(self, batch):
        x, _ = batch
        p = torch.softmax(torch.randn(8, 3, dtype=torch.float64), 1)
        _, ym = zeta_mixup(x, p, generator=gen())
        assert ym.shape == (8, 3) and ym.dtype == torch.float64
        torch.testing.assert_close(ym.sum(1), torch.ones(8, dtype=torch.float64))

    def test_bfloat16_matmul_in_input_dtype_labels_in_float32(self, batch):
        x, y = batch
        xm, ym = zeta_mixup(x.bfloat16(), y, num_classes=4, generator=gen(2))
        ref, yref = zeta_mixup(x, y, num_classes=4, generator=gen(2))
        assert xm.dtype == torch.bfloat16 and ym.dtype == torch.float32
        torch.testing.assert_close(xm.float(), ref, atol=0.05, rtol=0.05)
        assert torch.equal(ym, yref)

    @pytest.mark.parametrize("threads", [1, 2])
    @pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
    def test_cpu_column_blocks_equal_one_matmul(self, monkeypatch, threads, dtype):
        # small blocks (256 columns) so that a small batch takes the blocked path: 4 blocks + a remainder
        monkeypatch.setattr(M, "_CPU_BLOCK_BYTES", 1024)
        x = torch.randn(8, 3, 20, 20, generator=gen(0), dtype=dtype)
        keep = x.clone()
        w = zeta_weights(8, 2.4, generator=gen(3), dtype=dtype)
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            xm, ym = zeta_mixup(x, torch.arange(8), gamma=2.4, num_classes=8, generator=gen(3))
            xc, _ = zeta_mixup(
                x.contiguous(memory_format=torch.channels_last),
                torch.arange(8),
                gamma=2.4,
                num_classes=8,
                generator=gen(3),
            )
            xa, _ = apply_weights(x, torch.arange(8), w[:5], num_classes=8)  # B' = 5 outputs
        finally:
            torch.set_num_threads(before)
        ref = (w.double() @ x.double().reshape(8, -1)).reshape(x.shape).to(dtype)
        torch.testing.assert_close(xm, ref)
        torch.testing.assert_close(ym, w.to(ym.dtype))
        assert xm.is_contiguous() and xc.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(xc, ref)
        torch.testing.assert_close(xa, ref[:5])
        assert torch.equal(x, keep)

    def test_cpu_column_blocks_at_the_benchmark_size(self):
        # Table 9's batch [32, 3, 224, 224]: the single-threaded blocked product equals one matmul
        x = torch.randn(32, 3, 224, 224, generator=gen(0))
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            xm, w = zeta_mixup(x, torch.arange(32), num_classes=32, generator=gen(1))
        finally:
            torch.set_num_threads(before)
        torch.testing.assert_close(xm.reshape(32, -1), torch.mm(w, x.reshape(32, -1)))

    def test_gradient_flows_through_the_blocked_path_too(self, monkeypatch):
        monkeypatch.setattr(M, "_CPU_BLOCK_BYTES", 1024)
        h = torch.randn(8, 600, requires_grad=True)
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            xm, w = zeta_mixup(h, torch.arange(8), num_classes=8, generator=gen())
            with torch.no_grad():
                xn, _ = zeta_mixup(h, torch.arange(8), num_classes=8, generator=gen())
        finally:
            torch.set_num_threads(before)
        torch.testing.assert_close(xn, xm.detach())
        xm.sum().backward()
        torch.testing.assert_close(h.grad, w.sum(0, keepdim=True).t().expand(8, 600))

    def test_gradient_flows(self):
        h = torch.randn(6, 4, requires_grad=True)
        xm, w = zeta_mixup(h, torch.arange(6), num_classes=6, generator=gen())  # distinct labels: y_mix = W
        xm.sum().backward()
        torch.testing.assert_close(h.grad, w.sum(0, keepdim=True).t().expand(6, 4))  # ∂/∂x_j = Σ_i W_ij

    @pytest.mark.parametrize(
        ("x", "y", "kw", "exc", "match"),
        [
            (torch.randn(4, 2), torch.arange(4), {"gamma": -1.0}, ValueError, r"gamma must be >= 0.0, got -1.0"),
            (torch.randn(4, 2), torch.arange(4), {"num_mix": 5}, ValueError, r"num_mix must be <= 4, got 5"),
            (torch.randn(4, 2), torch.arange(4), {"num_mix": 1}, ValueError, r"num_mix must be >= 2, got 1"),
            (torch.randn(1, 2), torch.arange(1), {}, ValueError, r"batch size must be >= 2, got 1"),
            (
                torch.ones(4, 2, dtype=torch.uint8),
                torch.arange(4),
                {},
                TypeError,
                r"x must have a floating-point dtype, got torch.uint8",
            ),
            (torch.randn(4, 2), torch.arange(3), {}, ValueError, r"y must have 4 rows \(the batch size of x\), got 3"),
            (
                torch.randn(4, 2),
                torch.tensor([0, 1, 2, 9]),
                {},
                ValueError,
                r"class indices in \[0, 3\].*got values in \[0, 9\]",
            ),
            (torch.randn(4, 2), torch.arange(4), {"num_classes": None}, ValueError, r"num_classes is required"),
            ("x", torch.arange(4), {}, TypeError, r"x must be a torch.Tensor, got str"),
        ],
    )
    def test_errors(self, x, y, kw, exc, match):
        kw = {"num_classes": 4, **kw}
        with pytest.raises(exc, match=match):
            zeta_mixup(x, y, **kw)


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


# ----------------------------------------------------------------------------------------------
# Local synthetic instances
# ----------------------------------------------------------------------------------------------


class TestLocalSyntheticInstances:
    @pytest.mark.parametrize("num_mix", [2, 5, 10])
    def test_p_swept_over_random_ordered_subsets(self, num_mix):
        b, n = 10, 7
        x = torch.randn(b, 3, dtype=torch.float64)
        xs, ys = local_synthetic_instances(
            x, torch.arange(b), p_range=(1.0, 4.0), num_mix=num_mix, num_synthetic=n, num_classes=b, generator=gen(1)
        )
        assert xs.shape == (n, 3) and ys.shape == (n, b)
        for i in range(n):
            p = 1.0 + (i / n) * 3.0
            ref = torch.cat([p_series(num_mix, p), torch.zeros(b - num_mix, dtype=torch.float64)])
            torch.testing.assert_close(ys[i].sort(descending=True).values, ref)
        torch.testing.assert_close(xs, ys @ x)

    def test_images_and_seed(self, batch):
        x, y = batch
        a = local_synthetic_instances(x, y, num_classes=4, generator=gen(3))
        b = local_synthetic_instances(x, y, num_classes=4, generator=gen(3))
        assert torch.equal(a[0], b[0]) and a[0].shape == x.shape
        torch.testing.assert_close(a[1].sum(1), torch.ones(8))

    def test_errors(self, batch):
        x, y = batch
        with pytest.raises(ValueError, match=r"p_range must satisfy low <= high, got \(3.0, 1.0\)"):
            local_synthetic_instances(x, y, p_range=(3.0, 1.0), num_classes=4)
        with pytest.raises(ValueError, match=r"num_synthetic must be >= 1, got 0"):
            local_synthetic_instances(x, y, num_synthetic=0, num_classes=4)


# ----------------------------------------------------------------------------------------------
# k-mixup
# ----------------------------------------------------------------------------------------------


def brute_force_cost(a, b, metric):
    d = torch.cdist(a.double(), b.double())
    if metric == "sqeuclidean":
        d = d.square()
    k = a.shape[0]
    return min(float(sum(d[i, p[i]] for i in range(k))) for p in itertools.permutations(range(k)))


class TestKMixup:
    @FAST
    @given(
        k=st.integers(1, 6),
        d=st.integers(1, 5),
        metric=st.sampled_from(["euclidean", "sqeuclidean"]),
        seed=st.integers(0, 2**31),
    )
    def test_matching_is_optimal(self, k, d, metric, seed):
        g = gen(seed)
        a, b = torch.randn(k, d, generator=g), torch.randn(k, d, generator=g)
        sigma = optimal_matching(a, b, metric=metric)
        assert sorted(sigma.tolist()) == list(range(k))
        cost = torch.cdist(a.double(), b.double())[torch.arange(k), sigma]
        cost = cost.square() if metric == "sqeuclidean" else cost
        assert float(cost.sum()) == pytest.approx(brute_force_cost(a, b, metric), rel=1e-9, abs=1e-12)

    @FAST
    @given(k=st.sampled_from([1, 2, 4, 8]), seed=st.integers(0, 2**31))
    def test_matching_never_costlier_than_random_partner(self, k, seed):
        x = torch.randn(16, 2, 3, generator=gen(seed))
        s = sample_kmixup(x, k=k, lam_mode="subset", generator=gen(seed))
        assert sorted(s.partner.tolist()) == list(range(16))
        flat = x.reshape(16, -1).double()
        matched = (flat - flat[s.partner]).norm(dim=1).reshape(-1, k).sum(1)
        unmatched = (flat - flat[s.perm]).norm(dim=1).reshape(-1, k).sum(1)
        assert (matched <= unmatched + 1e-9).all()
        # partners of a subset come from the same random partner subset
        for blk in range(16 // k):
            assert set(s.partner[blk * k : (blk + 1) * k].tolist()) == set(s.perm[blk * k : (blk + 1) * k].tolist())
        # one λ per subset pair
        lam = s.lam.reshape(-1, k)
        assert torch.equal(lam, lam[:, :1].expand_as(lam))

    def test_k1_batch_lambda_is_mixup(self, batch):
        x, y = batch
        a = kmixup(x, y, k=1, lam_mode="batch", alpha=0.7, num_classes=4, generator=gen(9))
        b = mixup(x, y, alpha=0.7, num_classes=4, generator=gen(9))
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

    def test_k1_subset_lambda_is_per_pair_mixup(self, batch):
        x, _ = batch
        s = sample_kmixup(x, k=1, lam_mode="subset", generator=gen(4))
        assert torch.equal(s.partner, s.perm)
        xm, ym = kmixup(x, torch.arange(8), k=1, lam_mode="subset", num_classes=8, generator=gen(4))
        torch.testing.assert_close(ym, pair_weights(s.lam, s.perm).float())
        lam = s.lam.float().reshape(-1, 1, 1, 1)
        torch.testing.assert_close(xm, lam * x + (1 - lam) * x[s.perm])

    @pytest.mark.parametrize("lam_mode", ["batch", "subset"])
    def test_labels_follow_the_matching(self, batch, lam_mode):
        x, _ = batch
        xm, ym = kmixup(x, torch.arange(8), k=4, lam_mode=lam_mode, num_classes=8, generator=gen(6))
        s = sample_kmixup(x, k=4, lam_mode=lam_mode, generator=gen(6))
        w = pair_weights(s.lam, s.partner)
        torch.testing.assert_close(ym, w.float())
        torch.testing.assert_close(xm, apply_weights(x, torch.arange(8), w, num_classes=8)[0])

    @pytest.mark.parametrize(("m", "r"), [(0, 2), (0, 7), (0, 15), *itertools.product([1, 3], [0, 1, 2, 7, 15])])
    def test_batch_not_divisible_by_k(self, m, r):
        # the last short batch of an epoch: 16·m + r samples, k = 16; m = 0 is a batch smaller than k
        b = 16 * m + r
        x = torch.randn(b, 3, 4, 4, generator=gen(b))
        xm, ym = kmixup(x, torch.arange(b), k=16, num_classes=b, generator=gen(1))
        assert xm.shape == x.shape and ym.shape == (b, b)
        torch.testing.assert_close(ym.sum(1), torch.ones(b))
        s = sample_kmixup(x, k=16, generator=gen(1))
        assert sorted(s.partner.tolist()) == list(range(b))
        assert s.lam.shape == (b,) and s.lam.unique().numel() == 1  # one λ per batch (the default)
        torch.testing.assert_close(ym, pair_weights(s.lam, s.partner).float())
        # every subset — the full ones and the remainder — takes its partners from the same slice of π,
        # and the matching is optimal there (never costlier than the random partners)
        flat = x.reshape(b, -1).double()
        for lo in range(0, b, 16):
            hi = min(lo + 16, b)
            assert set(s.partner[lo:hi].tolist()) == set(s.perm[lo:hi].tolist())
            matched = (flat[lo:hi] - flat[s.partner[lo:hi]]).norm(dim=1).sum()
            assert matched <= (flat[lo:hi] - flat[s.perm[lo:hi]]).norm(dim=1).sum() + 1e-9
        assert torch.equal(x, torch.randn(b, 3, 4, 4, generator=gen(b)))  # input not modified

    def test_remainder_of_one_is_a_mixup_pair(self):
        x = torch.randn(17, 5, generator=gen(0))
        s = sample_kmixup(x, k=16, generator=gen(2))
        assert s.partner[16] == s.perm[16]

    def test_lambda_per_subset_option(self):
        x = torch.randn(16 * 3 + 5, 4, generator=gen(0))
        s = sample_kmixup(x, k=16, lam_mode="subset", generator=gen(3))
        blocks = s.lam.split([16, 16, 16, 5])
        assert all(blk.unique().numel() == 1 for blk in blocks)  # constant within a subset ...
        assert torch.stack([blk[0] for blk in blocks]).unique().numel() == 4  # ... and drawn per subset
        # same draws as the per-batch default up to λ: π comes first
        assert torch.equal(s.perm, sample_kmixup(x, k=16, generator=gen(3)).perm)

    def test_mixer_on_a_loader_with_a_short_last_batch(self):
        ds = TensorDataset(torch.randn(40, 3, 4, 4), torch.randint(0, 5, (40,)))
        mixer = Mixer("kmixup", num_classes=5, generator=gen(0), k=16)
        assert mixer.hparams["lam_mode"] == "batch"
        shapes = [(xm.shape[0], ym.shape) for xm, ym in DataLoader(ds, batch_size=32, collate_fn=mixer.collate_fn)]
        assert shapes == [(32, (32, 5)), (8, (8, 5))]

    @pytest.mark.parametrize(
        ("kw", "exc", "match"),
        [
            ({"k": 0}, ValueError, r"k must be >= 1, got 0"),
            ({"alpha": 0.0}, ValueError, r"alpha must be > 0.0, got 0.0"),
            ({"metric": "cosine"}, ValueError, r"metric must be one of \['euclidean', 'sqeuclidean'\], got 'cosine'"),
            ({"lam_mode": "pair"}, ValueError, r"lam_mode must be one of \['batch', 'subset'\], got 'pair'"),
        ],
    )
    def test_errors(self, batch, kw, exc, match):
        x, y = batch
        with pytest.raises(exc, match=match):
            kmixup(x, y, num_classes=4, **{"k": 4, **kw})


class TestKMixupAlphaForXi:
    def test_lambda_bar_for_uniform_lambda(self):
        data = torch.randn(64, 3, generator=gen(0))
        r = kmixup_alpha_for_xi(data, k=1, alpha=1.0, num_trials=20000, generator=gen(1))
        assert r.lam_1 == pytest.approx(1 / 12, abs=0.003)  # E min(λ², (1-λ)²) for λ ~ U[0, 1]
        exact = float(torch.cdist(data.double(), data.double()).square().mean())  # over all ordered pairs
        assert r.msd_1 == pytest.approx(exact, rel=0.05)

    def test_alpha_grows_to_keep_xi(self):
        # two far clusters: OT matches within clusters, so larger k shrinks ξ̄_k and α_k must grow
        g = gen(2)
        data = torch.cat([torch.randn(100, 2, generator=g), torch.randn(100, 2, generator=g) + 20])
        r1 = kmixup_alpha_for_xi(data, k=1, alpha=0.5, num_trials=400, generator=gen(3))
        r16 = kmixup_alpha_for_xi(data, k=16, alpha=0.5, num_trials=400, generator=gen(3))
        assert r16.msd_k < r1.msd_k
        assert r16.alpha > r1.alpha >= 0.5
        assert r16.xi_k >= r16.xi or r16.alpha >= 1000.0
        assert r16 == kmixup_alpha_for_xi(data, k=16, alpha=0.5, num_trials=400, generator=gen(3))

    def test_unreachable_xi_stops_at_threshold(self):
        data = torch.randn(32, 2, generator=gen(0))
        r = kmixup_alpha_for_xi(data, k=4, xi=100.0, c=2.0, alpha_max=50.0, num_trials=200, generator=gen(1))
        assert 50.0 <= r.alpha < 100.0 and r.xi == pytest.approx(100.0)
        assert r.lam_k <= 0.25

    @pytest.mark.parametrize(
        ("kw", "exc", "match"),
        [
            ({"k": 0}, ValueError, r"k must be >= 1, got 0"),
            ({"k": 40}, ValueError, r"data must hold at least max\(k, 2\) = 40 samples, got 32"),
            ({"alpha": -1.0}, ValueError, r"alpha must be > 0.0, got -1.0"),
            ({"c": 1.0}, ValueError, r"c must be > 1.0, got 1.0"),
            ({"num_trials": 0}, ValueError, r"num_trials must be >= 1, got 0"),
        ],
    )
    def test_errors(self, kw, exc, match):
        with pytest.raises(exc, match=match):
            kmixup_alpha_for_xi(torch.randn(32, 2), **{"k": 4, **kw})


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


# ----------------------------------------------------------------------------------------------
# Loss, registry, Mixer
# ----------------------------------------------------------------------------------------------


class TestSoftCrossEntropy:
    @pytest.mark.parametrize("eps", [0.0, 0.1])
    def test_matches_torch(self, eps):
        logits, p = torch.randn(6, 5), torch.softmax(torch.randn(6, 5), 1)
        ref = torch.nn.functional.cross_entropy(logits, p, label_smoothing=eps)
        torch.testing.assert_close(soft_cross_entropy(logits, p, label_smoothing=eps), ref)
        y = torch.randint(0, 5, (6,))
        torch.testing.assert_close(
            soft_cross_entropy(logits, torch.eye(5)[y], label_smoothing=eps),
            torch.nn.functional.cross_entropy(logits, y, label_smoothing=eps),
        )

    def test_bf16_logits_computed_in_float32(self):
        loss = soft_cross_entropy(torch.randn(4, 3).bfloat16(), torch.eye(3)[[0, 1, 2, 0]])
        assert loss.dtype == torch.float32

    def test_errors(self):
        with pytest.raises(ValueError, match=r"y_soft must have the shape of logits \(4, 3\), got \(4, 2\)"):
            soft_cross_entropy(torch.randn(4, 3), torch.rand(4, 2))
        with pytest.raises(ValueError, match=r"label_smoothing must be <= 1.0, got 2.0"):
            soft_cross_entropy(torch.randn(4, 3), torch.rand(4, 3), label_smoothing=2.0)


class TestMixer:
    def test_registry_names(self):
        assert set(MIXERS) == {
            "erm",
            "mixup",
            "zeta_mixup",
            "dirichlet_mixup",
            "cutmix",
            "cutmix_zeta",
            "kmixup",
            "local_synthetic_instances",
            "multimix",
        }

    def test_call_equals_function(self, batch):
        x, y = batch
        m = Mixer("zeta_mixup", num_classes=4, generator=gen(3), gamma=2.0)
        a = m(x, y)
        b = zeta_mixup(x, y, gamma=2.0, num_classes=4, generator=gen(3))
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        assert "gamma=2.0" in repr(m)

    def test_erm_is_identity_with_one_hot(self, batch):
        x, y = batch
        xm, ym = Mixer("erm", num_classes=4)(x, y)
        assert xm is x and torch.equal(ym, torch.eye(4)[y])

    @pytest.mark.parametrize("name", ["zeta_mixup", "mixup", "cutmix"])
    def test_as_collate_fn_in_a_dataloader(self, name):
        ds = TensorDataset(torch.randn(20, 3, 8, 8), torch.randint(0, 5, (20,)))
        mixer = Mixer(name, num_classes=5, generator=gen(0))
        loader = DataLoader(ds, batch_size=8, shuffle=True, collate_fn=mixer.collate_fn, drop_last=True)
        batches = list(loader)
        assert len(batches) == 2
        for xm, ym in batches:
            assert xm.shape == (8, 3, 8, 8) and ym.shape == (8, 5)
            torch.testing.assert_close(ym.sum(1), torch.ones(8))
        xm, ym = mixer.collate([ds[i] for i in range(4)])
        assert xm.shape == (4, 3, 8, 8)

    def test_unknown_name(self):
        with pytest.raises(ValueError, match=r"unknown mixer 'mixpu'; known mixers: \['cutmix', 'cutmix_zeta'"):
            Mixer("mixpu", num_classes=3)

    def test_unknown_hyperparameter(self):
        with pytest.raises(
            TypeError, match=r"zeta_mixup got an unexpected hyperparameter 'alpha'; allowed: \['gamma', 'num_mix'\]"
        ):
            Mixer("zeta_mixup", num_classes=3, alpha=1.0)


# ----------------------------------------------------------------------------------------------
# Invariants shared by every registered method
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MIXERS))
class TestAllMixers:
    def run(self, name, x, y, seed=0, **kw):
        return MIXERS[name](x, y, num_classes=4, generator=gen(seed), **{**HP.get(name, {}), **kw})

    @pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
    def test_dtype_device_shape_and_labels(self, name, dtype, batch):
        x, y = batch
        x = x.to(dtype)
        xm, ym = self.run(name, x, y)
        n = HP.get(name, {}).get("n", 8)
        assert xm.dtype == dtype and xm.device == x.device and xm.shape == (n, *x.shape[1:])
        assert ym.shape == (n, 4) and ym.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
        assert (ym >= 0).all()
        torch.testing.assert_close(ym.sum(1), torch.ones(n, dtype=ym.dtype))
        assert torch.isfinite(xm.float()).all()

    def test_inputs_unchanged(self, name, batch):
        x, y = batch
        p = torch.softmax(torch.randn(8, 4), 1)
        xc, yc, pc = x.clone(), y.clone(), p.clone()
        self.run(name, x, y)
        self.run(name, x, p)
        assert torch.equal(x, xc) and torch.equal(y, yc) and torch.equal(p, pc)

    def test_seeded(self, name, batch):
        x, y = batch
        a, b = self.run(name, x, y, seed=1), self.run(name, x, y, seed=1)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        if name != "erm":
            c = self.run(name, x, y, seed=2)
            assert not torch.equal(a[0], c[0])

    def test_channels_last(self, name, batch):
        x, y = batch
        xc = x.contiguous(memory_format=torch.channels_last)
        a, _ = self.run(name, x, y, seed=3)
        b, _ = self.run(name, xc, y, seed=3)
        torch.testing.assert_close(a, b)
        if b.shape == x.shape:
            assert b.is_contiguous(memory_format=torch.channels_last)

    def test_gradient_flows(self, name, batch):
        x, y = batch
        x = x.clone().requires_grad_(True)
        xm, _ = self.run(name, x, y)
        xm.sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()

    @CUDA
    def test_cpu_equals_cuda(self, name, batch):
        # with a CPU generator every draw happens on the CPU, so both devices mix identically
        x, y = batch
        a = self.run(name, x, y, seed=5)
        b = self.run(name, x.cuda(), y.cuda(), seed=5)
        assert b[0].device.type == "cuda" and b[1].device.type == "cuda"
        torch.testing.assert_close(a[0], b[0].cpu(), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(a[1], b[1].cpu(), atol=1e-6, rtol=1e-6)


@CUDA
class TestCuda:
    def test_zeta_weights_on_cuda_generator(self):
        g = torch.Generator(device="cuda").manual_seed(0)
        w = zeta_weights(16, 2.8, generator=g)
        assert w.device.type == "cuda"
        torch.testing.assert_close(w.sum(1), torch.ones(16, device="cuda"))
        assert (w.diagonal() == w.max(1).values).all()

    def test_zeta_mixup_cuda_generator(self):
        x = torch.randn(8, 3, 16, 16, device="cuda").contiguous(memory_format=torch.channels_last)
        g = torch.Generator(device="cuda").manual_seed(0)
        xm, ym = zeta_mixup(x, torch.arange(8, device="cuda"), num_classes=8, generator=g)
        assert xm.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(xm, torch.einsum("pi,ichw->pchw", ym, x), atol=1e-4, rtol=1e-4)

    def test_apply_weights_equal(self):
        x = torch.randn(8, 3, 16, 16)
        w = zeta_weights(8, generator=gen())
        a = apply_weights(x, torch.arange(8), w, num_classes=8)
        b = apply_weights(x.cuda(), torch.arange(8).cuda(), w.cuda(), num_classes=8)
        torch.testing.assert_close(a[0], b[0].cpu(), atol=1e-5, rtol=1e-5)


def test_public_api_is_exported():
    for name in M.__all__:
        assert hasattr(M, name), name


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
