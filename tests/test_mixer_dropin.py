"""``ZetaMix`` beside torchvision's ``v2.MixUp`` / ``v2.CutMix`` and timm's ``Mixup``: the call protocol, a batch
of one, apply / switch probabilities, label smoothing (timm's formula), uint8 collate (timm's rounding), and the
same label semantics where the methods coincide (ζ-mixup with ``T = 2`` is mixup with ``λ = 1 / (1 + 2^-γ)``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from mixing_fixtures import CUDA, gen
from torch.utils.data import DataLoader, TensorDataset
from torchvision.transforms import v2

from zmixlib.core.theory import lambda_for_gamma
from zmixlib.mixing import ZetaMix, cutmix, zeta_mixup

timm_mixup = pytest.importorskip("timm.data.mixup")

pytestmark = pytest.mark.filterwarnings("error")

K = 10


def batch(b: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(b, 3, 8, 8)`` and labels, distinct for ``b ≤ K``."""
    g = gen(seed)
    return torch.randn(b, 3, 8, 8, generator=g), torch.randperm(max(b, K), generator=g)[:b] % K


def pair_structure(x, y, xm, ym):
    """For outputs that mix two samples each: per row the own weight ``λ_i`` (from the label of ``y_i``) and the
    partner ``j`` (the other non-zero label); asserts ``x̂_i = λ_i x_i + (1 − λ_i) x_j``. Needs distinct labels."""
    lams, partners = [], []
    for i in range(x.shape[0]):
        lam = float(ym[i, y[i]])
        others = [int(c) for c in torch.nonzero(ym[i] > 1e-7).flatten() if c != y[i]]
        assert len(others) <= 1
        j = int(torch.nonzero(y == others[0])[0]) if others else i
        torch.testing.assert_close(xm[i], lam * x[i] + (1 - lam) * x[j], atol=1e-5, rtol=1e-5)
        lams.append(lam)
        partners.append(j)
    return torch.tensor(lams, dtype=torch.float64), partners


class TestProtocol:
    def test_pair_and_tuple_give_the_same(self):
        x, y = batch()
        a = ZetaMix(K, generator=gen(1))(x, y)
        b = ZetaMix(K, generator=gen(1))((x, y))
        c = ZetaMix(K, generator=gen(1))([x, y])
        assert isinstance(b, tuple) and len(b) == 2
        for u, v in ((a, b), (a, c)):
            assert torch.equal(u[0], v[0]) and torch.equal(u[1], v[1])

    def test_equals_the_function(self):
        # one method, prob 1: no coin is drawn, so the module is zeta_mixup with the same generator
        x, y = batch()
        a = ZetaMix(K, 2.4, generator=gen(3))(x, y)
        b = zeta_mixup(x, y, K, 2.4, generator=gen(3))
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

    def test_inside_random_choice_with_tv2(self):
        x, y = batch()
        torch.manual_seed(0)
        both = v2.RandomChoice([v2.MixUp(num_classes=K), ZetaMix(K)])
        for _ in range(4):
            xm, ym = both((x, y))
            assert xm.shape == x.shape and ym.shape == (8, K) and ym.dtype == torch.float32
            torch.testing.assert_close(ym.sum(1), torch.ones(8))
        # with p = (0, 1) RandomChoice calls our module with the single tuple: same result as calling it directly
        ours = v2.RandomChoice([v2.CutMix(num_classes=K), ZetaMix(K, generator=gen(4))], p=[0.0, 1.0])((x, y))
        direct = ZetaMix(K, generator=gen(4))(x, y)
        assert torch.equal(ours[0], direct[0]) and torch.equal(ours[1], direct[1])

    def test_is_a_module_without_parameters(self):
        m = ZetaMix(K)
        assert isinstance(m, torch.nn.Module) and not list(m.parameters())
        assert "zeta_mixup(gamma=2.8" in repr(m)

    @pytest.mark.parametrize(
        ("kw", "exc", "match"),
        [
            ({"gamma": None}, ValueError, r"nothing to mix"),
            ({"prob": 1.5}, ValueError, r"^prob must be <= 1\.0, got 1\.5$"),
            ({"switch_prob": -0.1}, ValueError, r"^switch_prob must be >= 0\.0, got -0\.1$"),
            ({"label_smoothing": 1.0}, ValueError, r"^label_smoothing must be < 1\.0, got 1\.0$"),
            ({"mixup_alpha": -1.0}, ValueError, r"^mixup_alpha must be >= 0\.0, got -1\.0$"),
            ({"gamma": -1.0}, ValueError, r"^gamma must be >= 0\.0, got -1\.0$"),
            ({"check": "once"}, ValueError, r"check must be one of \['first', 'always', 'auto'\], got 'once'"),
            ({"generator": 3}, TypeError, r"generator must be a torch.Generator or None, got int"),
        ],
    )
    def test_bad_arguments_fail_when_built(self, kw, exc, match):
        with pytest.raises(exc, match=match):
            ZetaMix(K, **kw)

    def test_bad_inputs(self):
        x, y = batch()
        with pytest.raises(TypeError, match=r"takes \(x, y\) or the tuple \(\(x, y\)\), got 3 inputs"):
            ZetaMix(K)(x, y, y)
        with pytest.raises(TypeError, match=r"floating-point dtype or uint8, got torch.int64"):
            ZetaMix(K)(x.long(), y)
        with pytest.raises(ValueError, match=r"needs images of shape \(B, C, H, W\), got shape \(8, 5\)"):
            ZetaMix(K, gamma=None, cutmix_alpha=1.0)(torch.randn(8, 5), y)

    def test_first_batch_labels_checked(self):
        x, y = batch()
        with pytest.raises(ValueError, match=r"class indices in \[0, 9\].*got values in \[0, 12\]"):
            ZetaMix(K, check="first")(x, torch.tensor([0, 1, 2, 3, 4, 5, 6, 12]))


class TestBatchOfOne:
    @pytest.mark.parametrize("smoothing", [0.0, 0.1])
    def test_passes_through_like_tv2(self, smoothing):
        x, y = batch(1)
        xm, ym = ZetaMix(K, label_smoothing=smoothing)(x, y)
        xt, yt = v2.MixUp(num_classes=K)(x, y)  # tv2 mixes the sample with itself
        assert torch.equal(xm, x)
        torch.testing.assert_close(xt, x)
        torch.testing.assert_close(ym, yt * (1 - smoothing) + smoothing / K)
        assert ym.dtype == yt.dtype == torch.float32


class TestLabelsBesideTv2AndTimm:
    def test_zeta_with_two_samples_is_mixup_like_tv2(self):
        # ζ-mixup with T = 2 and γ: every row λ_γ x_i + (1 − λ_γ) x_j with λ_γ = 1 / (1 + 2^-γ) (Theorem 2);
        # tv2's MixUp: λ x_i + (1 − λ) x_(i−1) with one λ ~ Beta(α, α) per batch. Same label algebra and dtype.
        x, y = batch()
        gamma = 1.5
        xm, ym = ZetaMix(K, gamma, num_mix=2, generator=gen(5))(x, y)
        lams, partners = pair_structure(x, y, xm, ym)
        torch.testing.assert_close(lams, torch.full((8,), lambda_for_gamma(gamma), dtype=torch.float64))
        assert all(j != i for i, j in enumerate(partners))
        torch.manual_seed(0)
        xt, yt = v2.MixUp(num_classes=K, alpha=1.0)(x, y)
        lam_t, partners_t = pair_structure(x, y, xt, yt)
        assert partners_t == [(i - 1) % 8 for i in range(8)] and torch.allclose(lam_t, lam_t[0].expand(8))
        assert ym.dtype == yt.dtype == torch.float32 and ym.shape == yt.shape
        torch.testing.assert_close(ym.sum(1), yt.sum(1))

    def test_same_lambda_same_output_as_tv2_mixup(self):
        # fix tv2's λ and partner: our pairwise algebra (mixup's λ x + (1 − λ) x_π, here with π = roll) agrees
        from zmixlib.mixing import apply_weights, pair_weights

        x, y = batch()
        torch.manual_seed(7)
        xt, yt = v2.MixUp(num_classes=K, alpha=1.0)(x, y)
        torch.manual_seed(7)
        lam = float(torch.distributions.Beta(1.0, 1.0).sample(()))
        roll = torch.arange(8).roll(1)
        xo, yo = apply_weights(x, y, pair_weights(lam, roll), num_classes=K)
        torch.testing.assert_close(xo, xt, atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(yo, yt, atol=1e-6, rtol=1e-6)

    def test_cutmix_labels_like_tv2(self):
        # CutMix: λ = 1 − box area / (H W), own label λ, partner 1 − λ; pixels outside the box are the own image
        x, y = batch()
        xm, ym = ZetaMix(K, gamma=None, cutmix_alpha=1.0, generator=gen(2))(x, y)
        xt, yt = v2.CutMix(num_classes=K)(x, y)
        for xo, yo in ((xm, ym), (xt, yt)):
            own = (xo == x).all(dim=1)  # (B, H, W): pixels that stayed
            lam = own.flatten(1).float().mean(1)
            torch.testing.assert_close(yo[torch.arange(8), y], lam)
            assert yo.dtype == torch.float32
            torch.testing.assert_close(yo.sum(1), torch.ones(8))

    @pytest.mark.parametrize("smoothing", [0.1, 0.25])
    def test_smoothing_is_timms_mixup_target(self, smoothing):
        x, y = batch()
        # unmixed (prob = 0): exactly timm's targets at λ = 1
        _, ym = ZetaMix(K, prob=0.0, label_smoothing=smoothing)(x, y)
        torch.testing.assert_close(ym, timm_mixup.mixup_target(y, K, 1.0, smoothing))
        # mixed: timm's smoothed one-hot rows, combined by our weights (T = 2: λ_γ on own, 1 − λ_γ on partner)
        xm, ym = ZetaMix(K, 2.0, num_mix=2, label_smoothing=smoothing, generator=gen(6))(x, y)
        _, partners = pair_structure(x, y, xm, ZetaMix(K, 2.0, num_mix=2, generator=gen(6))(x, y)[1])
        lam = lambda_for_gamma(2.0)
        off = smoothing / K
        y1 = timm_mixup.one_hot(y, K, on_value=1.0 - smoothing + off, off_value=off)
        torch.testing.assert_close(ym, y1 * lam + y1[partners] * (1 - lam))
        torch.testing.assert_close(ym.sum(1), torch.ones(8))

    def test_mixup_only_labels_like_timm(self):
        # timm Mixup(mixup_alpha=1, cutmix_alpha=0): λ x + (1 − λ) x.flip(0), targets mixup_target(y, K, λ, s)
        x, y = batch()
        s = 0.1
        np.random.seed(3)
        xt, yt = timm_mixup.Mixup(mixup_alpha=1.0, cutmix_alpha=0.0, label_smoothing=s, num_classes=K)(x.clone(), y)
        lam_t, partners_t = pair_structure(x, y, xt, (yt - s / K) / (1 - s))
        assert partners_t == list(range(7, -1, -1))
        xm, ym = ZetaMix(K, gamma=None, mixup_alpha=1.0, label_smoothing=s, generator=gen(3))(x, y)
        lam, partners = pair_structure(x, y, xm, (ym - s / K) / (1 - s))
        lam = lam[[i for i, j in enumerate(partners) if j != i]]  # a sample drawn as its own partner reads 1
        assert torch.allclose(lam, lam[0].expand_as(lam)) and torch.allclose(lam_t, lam_t[0].expand(8))
        assert ym.dtype == yt.dtype == torch.float32
        torch.testing.assert_close(ym.sum(1), yt.sum(1))


@pytest.mark.usefixtures("one_thread")  # hundreds of tiny matmuls: one thread is far faster on shared cores
class TestProbabilities:
    @staticmethod
    def kind(x, xm):
        """'blend' (mixup, ζ-mixup: each image changed everywhere, or nowhere where mixup drew it as its own
        partner) or 'cut' (CutMix: an image changed in part — a box — or nothing changed, an empty box)."""
        changed = (xm != x).flatten(1).float().mean(1)  # (B,) fraction of each image's values changed
        if ((changed > 0) & (changed < 1)).any() or (changed == 0).all():
            return "cut"
        return "blend"

    def test_prob(self):
        x, y = batch()
        m = ZetaMix(K, prob=0.25, generator=gen(0))
        n = 400
        p = sum(not torch.equal(m(x, y)[0], x) for _ in range(n)) / n  # ζ-mixup changes every value
        assert abs(p - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n), p

    @pytest.mark.parametrize(("gamma", "mixup_alpha", "switch_prob"), [(2.8, 0.0, 0.3), (None, 1.0, 0.5)])
    def test_switch_to_cutmix(self, gamma, mixup_alpha, switch_prob):
        # the base (ζ-mixup, or mixup as in timm) with 1 − switch_prob, CutMix with switch_prob
        x, y = batch()
        m = ZetaMix(K, gamma, mixup_alpha=mixup_alpha, cutmix_alpha=1.0, switch_prob=switch_prob, generator=gen(1))
        n = 400
        kinds = [self.kind(x, m(x, y)[0]) for _ in range(n)]
        p = kinds.count("cut") / n
        assert abs(p - switch_prob) < 4 * math.sqrt(switch_prob * (1 - switch_prob) / n), p

    def test_three_methods_split_the_switch(self):
        x, y = batch()
        m = ZetaMix(K, 2.8, mixup_alpha=1.0, cutmix_alpha=1.0, switch_prob=0.6, generator=gen(2))
        n = 600
        pairs, cuts = 0, 0
        for _ in range(n):
            xm, ym = m(x, y)
            if self.kind(x, xm) == "cut":
                cuts += 1
            elif int((ym > 1e-7).sum(1).max()) == 2:  # mixup: two labels per row (ζ-mixup with T = B: eight)
                pairs += 1
        for count in (pairs, cuts):
            assert abs(count / n - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n), (pairs, cuts)


class TestCollate:
    def test_uint8_like_timms_fast_collate(self):
        # mixed in float32 and rounded half to even, as timm's FastCollateMixup; labels float32
        images = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8, generator=gen(0))
        labels = torch.arange(16) % K
        m = ZetaMix(K, generator=gen(9))
        loader = DataLoader(TensorDataset(images, labels), batch_size=8, collate_fn=m.collate)
        (xm, ym), _ = list(loader)
        assert xm.dtype == torch.uint8 and ym.dtype == torch.float32 and ym.shape == (8, K)
        xf, yf = zeta_mixup(images[:8].float(), labels[:8], K, generator=gen(9))
        assert torch.equal(xm, torch.round(xf).to(torch.uint8))
        assert torch.equal(ym, yf)
        # timm's own rounding of a float32 mix: np.rint == torch.round (both half to even)
        v = torch.tensor([0.5, 1.5, 2.5, 254.5])
        assert torch.equal(torch.round(v), torch.from_numpy(np.rint(v.numpy())))

    def test_uint8_cutmix_keeps_pixels(self):
        images = torch.randint(0, 256, (8, 3, 8, 8), dtype=torch.uint8, generator=gen(1))
        xm, ym = ZetaMix(K, gamma=None, cutmix_alpha=1.0, generator=gen(4))(images, torch.arange(8))
        xf, _ = cutmix(images.float(), torch.arange(8), K, generator=gen(4))
        assert xm.dtype == torch.uint8 and torch.equal(xm, xf.to(torch.uint8))


class TestAutocast:
    @pytest.mark.parametrize("kw", [{}, {"gamma": None, "mixup_alpha": 1.0}, {"gamma": None, "cutmix_alpha": 1.0}])
    def test_labels_float32_under_bf16(self, kw):
        x, y = batch(16)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            xm, ym = ZetaMix(K, label_smoothing=0.1, generator=gen(0), **kw)(x, y)
        assert ym.dtype == torch.float32
        assert (ym.sum(1) - 1).abs().max() <= 1e-6


@CUDA
class TestCuda:
    def test_on_cuda_with_a_cuda_generator(self):
        x, y = batch()
        g = torch.Generator(device="cuda").manual_seed(0)
        m = ZetaMix(K, mixup_alpha=1.0, prob=0.9, generator=g)
        for _ in range(5):
            xm, ym = m(x.cuda(), y.cuda())
            assert xm.device.type == "cuda" and ym.dtype == torch.float32
        assert m._coins.device.type == "cpu"  # the coins never touch the device

    def test_mixup_side_by_side_on_cuda(self):
        x, y = batch()
        a = ZetaMix(K, gamma=None, mixup_alpha=1.0, generator=gen(2))(x, y)
        b = ZetaMix(K, gamma=None, mixup_alpha=1.0, generator=gen(2))(x.cuda(), y.cuda())
        torch.testing.assert_close(a[0], b[0].cpu(), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(a[1], b[1].cpu(), atol=1e-6, rtol=1e-6)
