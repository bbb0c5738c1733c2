"""Branches a CPU-only suite would not reach (issue 26): ζ-mixup's device-dependent sort.

``zmixlib.mixing.zeta._zeta_weights`` ranks each row's samples by sorting uniform noise whose diagonal is forced
first: on the CPU with NumPy's ``argsort``, on an accelerator with ``torch.argsort`` on the device. The accelerator
branch is reached here on the CPU by drawing the noise as a tensor that reports a CUDA device (NumPy's sort is
made to fail, so the test knows which branch ran): it must give the very matrix the CPU branch gives for the same
draws — a sort the other way puts the smallest weight on the diagonal and fails. A real CUDA test (skipped
without a GPU) checks the same on the device.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zmixlib.mixing import zeta
from zmixlib.mixing.zeta import zeta_mixup, zeta_weights


class _ReportsCuda(torch.Tensor):
    """A CPU tensor that says it lives on CUDA: the device check takes the accelerator branch."""

    @property
    def device(self):
        return torch.device("cuda")

    @property
    def is_cuda(self):
        return True


def _take_the_accelerator_branch(monkeypatch) -> list[torch.Tensor]:
    """From here on, ``torch.rand`` returns :class:`_ReportsCuda` noise and NumPy's argsort is off limits; returns
    the list of the noise tensors drawn (to check the branch was taken)."""
    drawn = []
    real_rand = torch.rand

    def rand(*args, **kw):
        t = real_rand(*args, **kw).as_subclass(_ReportsCuda)
        drawn.append(t)
        return t

    def no_numpy(*args, **kw):
        raise AssertionError("the accelerator branch sorted with NumPy")

    monkeypatch.setattr(torch, "rand", rand)
    monkeypatch.setattr(zeta.np, "argsort", no_numpy)
    return drawn


def _plain(t: torch.Tensor) -> torch.Tensor:
    return t.as_subclass(torch.Tensor)


@pytest.mark.parametrize("batch,num_mix,gamma", [(6, None, 2.4), (16, 5, 2.8), (33, None, 1.0), (8, 2, 0.5)])
def test_the_accelerator_branch_gives_the_cpu_branchs_weights(batch, num_mix, gamma, monkeypatch):
    expected = zeta_weights(batch, gamma, num_mix=num_mix, generator=torch.Generator().manual_seed(7))  # CPU branch
    accelerator_branch = _take_the_accelerator_branch(monkeypatch)
    got = _plain(zeta_weights(batch, gamma, num_mix=num_mix, generator=torch.Generator().manual_seed(7)))
    assert accelerator_branch and all(t.device.type == "cuda" for t in accelerator_branch)  # the branch was taken
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    t = num_mix or batch
    p = zeta._p_series(t, gamma, torch.device("cpu"), torch.float32)
    assert torch.equal(got.diagonal(), torch.full((batch,), float(p[0])))  # rank 1, the largest, on the diagonal
    assert torch.equal(got.sort(dim=1, descending=True).values[:, :t], p.expand(batch, t))


def test_the_accelerator_branch_of_zeta_mixup_mixes_like_the_cpu_branch(monkeypatch):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 3, 4, 4, generator=g), torch.arange(12) % 5
    x_ref, y_ref = zeta_mixup(x, y, gamma=2.4, num_classes=5, generator=torch.Generator().manual_seed(3))
    accelerator_branch = _take_the_accelerator_branch(monkeypatch)
    x_mix, y_mix = zeta_mixup(x, y, gamma=2.4, num_classes=5, generator=torch.Generator().manual_seed(3))
    assert accelerator_branch
    torch.testing.assert_close(_plain(x_mix), x_ref, rtol=0, atol=0)
    torch.testing.assert_close(_plain(y_mix), y_ref, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("batch,num_mix", [(64, None), (512, 8)])
def test_zeta_weights_on_cuda_put_rank_one_on_the_diagonal(batch, num_mix):
    g = torch.Generator(device="cuda").manual_seed(0)
    w = zeta_weights(batch, 2.4, num_mix=num_mix, generator=g).cpu()
    t = num_mix or batch
    p = zeta._p_series(t, 2.4, torch.device("cpu"), torch.float32)
    torch.testing.assert_close(w.diagonal(), torch.full((batch,), float(p[0])), rtol=1e-6, atol=0)
    torch.testing.assert_close(w.sort(dim=1, descending=True).values[:, :t], p.expand(batch, t), rtol=1e-6, atol=0)
    assert int((w > 0).sum(1).min()) == t == int((w > 0).sum(1).max())
    torch.testing.assert_close(w.sum(1), torch.ones(batch), rtol=0, atol=1e-6)
    rank2 = w.clone().fill_diagonal_(0).argmax(1)  # per row, the sample holding rank 2: drawn at random
    assert len(set(rank2.tolist())) > batch // 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_zeta_mixup_on_cuda_matches_its_weights():
    g = torch.Generator(device="cuda").manual_seed(5)
    x = torch.randn(32, 3, 8, 8, device="cuda")
    y = torch.arange(32, device="cuda") % 10
    state = g.get_state()
    x_mix, y_mix = zeta_mixup(x, y, gamma=2.8, num_classes=10, generator=g)
    g.set_state(state)
    w = zeta_weights(32, 2.8, generator=g)
    torch.testing.assert_close(x_mix, (w @ x.flatten(1)).view_as(x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(y_mix, w @ torch.nn.functional.one_hot(y, 10).float(), rtol=1e-6, atol=1e-6)
    assert np.all(np.argmax(y_mix.cpu().numpy(), 1) == y.cpu().numpy())  # γ = 2.8 > γ_min: the own label dominates
