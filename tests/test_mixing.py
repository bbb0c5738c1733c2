"""Tests for zmixlib.mixing as a whole: soft labels, the registry and ``Mixer``, invariants every method shares,
and the package's flat API. Each method's own tests are in ``test_mixing_<submodule>.py``."""

from __future__ import annotations

import inspect

import pytest
import torch
from mixing_fixtures import CUDA, HP, gen, make_batch
from torch.utils.data import DataLoader, TensorDataset

from zmixlib import mixing as M
from zmixlib.mixing import MIXERS, Mixer, apply_weights, soft_labels, zeta_mixup, zeta_weights

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def batch():
    return make_batch()


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

    def test_range_check_on_request(self):
        # check=None (default) checks CPU labels (free); check=False skips: the bad index then fails in scatter_
        # with torch's own error, not with ours; check=True always checks
        y = torch.tensor([0, 7])
        with pytest.raises(ValueError, match=r"class indices in \[0, 3\]"):
            soft_labels(y, num_classes=4, check=True)
        with pytest.raises(RuntimeError) as info:
            soft_labels(y, num_classes=4, check=False)
        assert "class indices" not in str(info.value)
        assert torch.equal(soft_labels(torch.tensor([3, 0]), num_classes=4, check=False), torch.eye(4)[[3, 0]])


# ----------------------------------------------------------------------------------------------
# Registry and Mixer
# ----------------------------------------------------------------------------------------------


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

    def test_positional_num_classes_everywhere(self, batch):
        # the official code's call zeta_mixup(x, y, num_classes[, gamma]); every registered method takes K third
        x, y = batch
        for name, fn in MIXERS.items():
            a = fn(x, y, 4, generator=gen(1), **HP.get(name, {}))
            b = fn(x, y, num_classes=4, generator=gen(1), **HP.get(name, {}))
            assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]), name
        a = zeta_mixup(x, y, 4, 2.0, generator=gen(2))
        b = zeta_mixup(x, y, num_classes=4, gamma=2.0, generator=gen(2))
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        assert Mixer("zeta_mixup", num_classes=4).hparams == {"gamma": 2.8, "num_mix": None}

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

    @pytest.mark.parametrize(
        ("name", "hp", "match"),
        [
            ("mixup", {"alpha": -1}, r"^alpha must be > 0\.0, got -1$"),
            ("zeta_mixup", {"gamma": -0.5}, r"^gamma must be >= 0\.0, got -0\.5$"),
            ("cutmix_zeta", {"mode": "both"}, r"^mode must be one of \['switch', 'compose'\], got 'both'$"),
            ("kmixup", {"k": 0}, r"^k must be >= 1, got 0$"),
            ("multimix", {"prob": 1.5}, r"^prob must be <= 1\.0, got 1\.5$"),
            ("multimix", {"alpha": (2.0, 0.5)}, r"^alpha must satisfy low <= high, got \(2\.0, 0\.5\)$"),
        ],
    )
    def test_bad_hyperparameter_fails_when_built(self, name, hp, match):
        # the parameter, its value and what is allowed, at construction: before any batch is drawn
        with pytest.raises(ValueError, match=match):
            Mixer(name, num_classes=3, **hp)


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


# ----------------------------------------------------------------------------------------------
# The package: one flat API over one submodule per family of methods
# ----------------------------------------------------------------------------------------------


SUBMODULES = ("zeta", "pairwise", "transport", "embedding", "lsi", "mixer", "dropin", "_apply", "_sampling")


class TestPackage:
    def test_public_api_is_exported(self):
        for name in M.__all__:
            assert hasattr(M, name), name

    def test_each_name_is_defined_in_a_submodule(self):
        for name in M.__all__:
            if name in ("GAMMA_MIN", "MIXERS", "check_hparams"):  # re-exported from core (theory, hparams); a dict
                continue
            home = getattr(M, name).__module__
            assert home.removeprefix("zmixlib.mixing.") in SUBMODULES, (name, home)

    def test_submodules_are_not_shadowed_by_functions(self):
        for sub in SUBMODULES:
            assert inspect.ismodule(getattr(M, sub)), sub

    @pytest.mark.usefixtures("one_thread")  # dozens of tiny ops: one thread is far faster on shared cores
    def test_api_page_documents_every_name_and_its_examples_run(self):
        # book/api.md: an autodoc directive (or a data entry) per public name, and Python blocks that run in order
        import re
        from pathlib import Path

        page = (Path(__file__).resolve().parents[1] / "book" / "api.md").read_text()
        documented = set(re.findall(r"^\.\. (?:autofunction|autoclass|data):: (\w+)", page, re.M))
        assert documented == set(M.__all__), sorted(set(M.__all__) ^ documented)
        blocks = re.findall(r"^```python\n(.*?)^```", page, re.M | re.S)
        assert len(blocks) > len(M.__all__)
        namespace: dict = {}
        for block in blocks:
            exec(compile(block, "book/api.md", "exec"), namespace)
        for name in M.__all__:  # every public name is used by an example
            assert re.search(rf"\bM\.{name}\b", "".join(blocks)), name

    def test_the_loss_lives_in_metrics_only(self):
        import zmixlib
        from zmixlib.engine import metrics

        assert not hasattr(M, "soft_cross_entropy")
        assert zmixlib.soft_cross_entropy is metrics.soft_cross_entropy
