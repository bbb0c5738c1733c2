"""Tests for zmixlib.mixing.zeta: ζ-weights, the theorems they satisfy, ζ-mixup and its row matmul."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from mixing_fixtures import FAST, gen, make_batch, p_series

from zmixlib import mixing as M
from zmixlib.mixing import GAMMA_MIN, _apply, apply_weights, zeta_mixup, zeta_weights

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def batch():
    return make_batch()


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
        from zmixlib.core import theory

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
        monkeypatch.setattr(_apply, "_CPU_BLOCK_BYTES", 1024)
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
        monkeypatch.setattr(_apply, "_CPU_BLOCK_BYTES", 1024)
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
