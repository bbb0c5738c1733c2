"""Mixing under ``torch.autocast`` (labels stay float32, rows sum to 1 within 1e-6) and under
``torch.compile(fullgraph=True)`` (no graph break: index labels are range-checked only where that is free, the
Gamma sampler has a fixed-shape form, CutMix's box stays on the device). CPU here; CUDA versions need a GPU."""

from __future__ import annotations

import contextlib
import warnings

import pytest
import torch
from mixing_fixtures import CUDA, HP, gen

from zmixlib.mixing import MIXERS, cutmix, mixup, soft_labels, zeta_mixup
from zmixlib.mixing._sampling import _beta_symmetric

pytestmark = pytest.mark.filterwarnings("error")


@contextlib.contextmanager
def inductor_noise():
    """Inductor's own lowering (torch 2.14) warns about its internal use of a deprecated helper (cold cache only)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch._prims_common.check. is deprecated", category=FutureWarning)
        yield


COMPILED = (zeta_mixup, mixup, cutmix)


def images(device="cpu", b=8):
    g = gen(0)
    return torch.randn(b, 3, 8, 8, generator=g).to(device), (torch.arange(b) % 4).to(device)


def check_labels(ym, b=8, k=4):
    assert ym.dtype == torch.float32 and ym.shape == (b, k)
    assert (ym >= 0).all()
    assert float((ym.sum(1) - 1).abs().max()) <= 1e-6


class TestAutocast:
    @pytest.mark.parametrize("name", sorted(MIXERS))
    def test_labels_float32_under_bf16_cpu(self, name):
        # before: ζ-mixup's label matmul ran in bfloat16 under autocast (row sums off by ~2e-3)
        x, y = images()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            xm, ym = MIXERS[name](x, y, 4, generator=gen(1), **HP.get(name, {}))
        check_labels(ym, b=ym.shape[0])

    def test_inputs_follow_autocast(self):
        x, y = images()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            xm, ym = zeta_mixup(x, y, 4, generator=gen(1))
        assert xm.dtype == torch.bfloat16 and ym.dtype == torch.float32
        # outside autocast the same draws give the float32 result; the labels are the same bits
        xf, yf = zeta_mixup(x, y, 4, generator=gen(1))
        assert torch.equal(ym, yf)
        torch.testing.assert_close(xm.float(), xf, atol=5e-2, rtol=2e-2)

    @CUDA
    @pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
    @pytest.mark.parametrize("fn", COMPILED)
    def test_labels_float32_under_cuda_autocast(self, fn, dtype):
        x, y = images("cuda")
        with torch.autocast("cuda", dtype=dtype):
            xm, ym = fn(x, y, 4, generator=torch.Generator("cuda").manual_seed(0))
        check_labels(ym)


class TestCompile:
    @pytest.mark.parametrize("fn", COMPILED)
    def test_no_graph_break(self, fn):
        # fullgraph=True raises at the first graph break; the eager backend traces with Dynamo without Inductor
        torch._dynamo.reset()
        x, y = images()
        compiled = torch.compile(fn, fullgraph=True, backend="eager")
        xm, ym = compiled(x, y, 4)
        assert xm.shape == x.shape
        check_labels(ym)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            check_labels(compiled(x, y, 4)[1])

    def test_compiled_draws_vary_and_mix_convexly(self):
        # the fixed-shape Gamma sampler used under compile: λ of mixup varies per call and stays in [0, 1]
        torch._dynamo.reset()
        x, y = images()
        compiled = torch.compile(mixup, fullgraph=True, backend="eager")
        lams = []
        for _ in range(20):
            xm, ym = compiled(x, torch.eye(8)[torch.arange(8)], None)
            lams.append(float(ym.diagonal().min()))
        assert len(set(lams)) > 10 and all(0.0 <= v <= 1.0 for v in lams)

    def test_fixed_shape_gamma_sampler_has_the_right_law(self):
        # Beta(α, α) from the compile-time sampler (forced here by tracing a wrapper): mean 1/2, var 1/(4(2α+1))
        torch._dynamo.reset()
        for alpha in (0.4, 2.0):
            draw = torch.compile(
                lambda a=alpha: _beta_symmetric(a, (20000,), None, "cpu"), fullgraph=True, backend="eager"
            )
            lam = draw()
            assert abs(float(lam.mean()) - 0.5) < 0.01
            assert abs(float(lam.var()) - 1 / (4 * (2 * alpha + 1))) < 0.01

    def test_label_check_is_off_the_traced_path(self):
        # out-of-range indices are not checked inside the compiled graph (no data-dependent branch); eager CPU
        # calls still check them, and soft_labels(check=True) checks on request
        torch._dynamo.reset()
        y = torch.tensor([0, 1, 2, 3])
        traced = torch.compile(lambda t: soft_labels(t, num_classes=4), fullgraph=True, backend="eager")
        assert torch.equal(traced(y), torch.eye(4))
        with pytest.raises(ValueError, match="class indices"):
            soft_labels(torch.tensor([0, 4]), num_classes=4)

    @pytest.mark.slow  # ~21 s with a cold Inductor cache on the shared 2-core machine (8 s warm)
    def test_inductor_fullgraph_zeta_mixup(self):
        torch._dynamo.reset()
        x, y = images(b=4)
        compiled = torch.compile(zeta_mixup, fullgraph=True)
        with inductor_noise():
            xm, ym = compiled(x, y, 4)
        check_labels(ym, b=4)
        # x̂ = W x with W read back from the labels (distinct classes 0..3 make Y the identity)
        torch.testing.assert_close(xm, torch.einsum("ij,jchw->ichw", ym, x), atol=1e-5, rtol=1e-5)

    @CUDA
    @pytest.mark.slow
    @pytest.mark.parametrize("fn", COMPILED)
    def test_inductor_fullgraph_cuda(self, fn):
        torch._dynamo.reset()
        x, y = images("cuda")
        compiled = torch.compile(fn, fullgraph=True)
        for dtype in (torch.bfloat16, torch.float16):
            with torch.autocast("cuda", dtype=dtype), inductor_noise():
                xm, ym = compiled(x, y, 4)
            check_labels(ym)

    @CUDA
    def test_zeta_mixup_makes_no_device_sync(self):
        x, y = images("cuda")
        g = torch.Generator("cuda").manual_seed(0)
        zeta_mixup(x, y, 4, generator=g)  # warm-up (allocations, kernels)
        torch.cuda.set_sync_debug_mode("error")
        try:
            zeta_mixup(x, y, 4, generator=g)
        finally:
            torch.cuda.set_sync_debug_mode("default")
