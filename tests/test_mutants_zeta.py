"""ζ-mixup's documented behaviour that the mutation gate found untested (mutation/REPORT.md, `make mutate`).

Each test names the mutant class it kills: a changed default γ, γ = ∞ through ``zeta_mixup`` (the identity),
and the draws placed on the inputs' device rather than torch's default device.
"""

import math

import numpy as np
import pytest
import torch

from zmixlib.mixing.zeta import zeta_mixup, zeta_weights


def _batch(b=8, k=4):
    g = torch.Generator().manual_seed(3)
    return torch.randn(b, 3, 5, generator=g, dtype=torch.float64), torch.arange(b) % k


def test_default_gamma_is_the_papers_2_8():
    x, y = _batch()
    got = zeta_mixup(x, y, num_classes=4, generator=torch.Generator().manual_seed(0))
    want = zeta_mixup(x, y, num_classes=4, gamma=2.8, generator=torch.Generator().manual_seed(0))
    other = zeta_mixup(x, y, num_classes=4, gamma=3.8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    assert not torch.equal(got[1], other[1])  # the same draw with another γ gives other weights
    w = zeta_weights(6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(w, zeta_weights(6, 2.8, generator=torch.Generator().manual_seed(0), dtype=torch.float64))


@pytest.mark.parametrize("num_mix", [None, 2])
def test_gamma_infinity_is_the_identity_through_zeta_mixup(num_mix):
    """γ = ∞ (a number) is documented as the identity, exactly: x unchanged, the one-hot labels."""
    x, y = _batch()
    x_mix, y_mix = zeta_mixup(x, y, num_classes=4, gamma=math.inf, num_mix=num_mix, generator=torch.Generator())
    assert torch.equal(x_mix, x)
    assert torch.equal(y_mix, torch.nn.functional.one_hot(y, 4).to(y_mix.dtype))
    w = zeta_weights(8, math.inf, num_mix=num_mix, generator=torch.Generator(), dtype=torch.float64)
    assert torch.equal(w, torch.eye(8, dtype=torch.float64))


@pytest.mark.parametrize("gamma", [2.8, (1.7, 4.0), math.inf])
def test_draws_follow_the_inputs_device_not_torchs_default_device(gamma):
    """Inputs on the CPU under ``torch.device("meta")`` as the default: γ and the weights are drawn on the CPU."""
    x, y = _batch()
    with torch.device("meta"):
        x_mix, y_mix = zeta_mixup(x, y, num_classes=4, gamma=gamma, generator=torch.Generator().manual_seed(0))
        w = zeta_weights(8, gamma, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    want = zeta_mixup(x, y, num_classes=4, gamma=gamma, generator=torch.Generator().manual_seed(0))
    assert x_mix.device.type == "cpu" and torch.equal(x_mix, want[0]) and torch.equal(y_mix, want[1])
    want_w = zeta_weights(8, gamma, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert w.device.type == "cpu" and torch.equal(w, want_w)


def test_zeta_weights_lands_on_the_requested_device():
    """``device`` is the result's device, whatever the generator's (meta: a device with no data to compare)."""
    w = zeta_weights(8, generator=torch.Generator().manual_seed(0), device="meta")
    assert w.device.type == "meta" and w.shape == (8, 8)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: a second device")


@cuda
def test_a_cuda_generator_draws_on_cuda_for_cpu_results():
    """Draws happen on the generator's device, the result lands on the inputs' (or ``device``): the device mutants a
    CPU-only machine cannot tell apart (named in mutation/REPORT.md) fail here."""
    x, y = _batch()
    w = zeta_weights(8, generator=torch.Generator(device="cuda").manual_seed(0), dtype=torch.float64)
    w_cpu = zeta_weights(8, generator=torch.Generator(device="cuda").manual_seed(0), dtype=torch.float64, device="cpu")
    assert w.device.type == "cuda" and w_cpu.device.type == "cpu" and torch.equal(w_cpu, w.cpu())
    got = zeta_mixup(x, y, num_classes=4, generator=torch.Generator(device="cuda").manual_seed(0))
    assert got[0].device.type == "cpu" and got[1].device.type == "cpu"
    torch.testing.assert_close(got[1], w.cpu() @ torch.nn.functional.one_hot(y, 4).double())


@cuda
def test_without_a_generator_cuda_draws_come_from_the_cuda_rng():
    x, y = _batch()
    want = zeta_weights(8, generator=torch.Generator(device="cuda").manual_seed(0), dtype=torch.float64)
    torch.manual_seed(0)
    assert torch.equal(zeta_weights(8, device="cuda", dtype=torch.float64), want)
    torch.manual_seed(0)
    got = zeta_mixup(x.cuda(), y.cuda(), num_classes=4)
    torch.testing.assert_close(got[1], want @ torch.nn.functional.one_hot(y.cuda(), 4).double())


@pytest.mark.parametrize("gamma", [2.8, 1.728647238998])
def test_float64_weights_are_the_p_series_to_the_last_bits(gamma):
    """The p-series in float64 is γ in float64 too: γ rounded to float32 moves the weights by ~1e-7 (relative)."""
    w = zeta_weights(8, gamma, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    s = np.arange(1, 9, dtype=np.float64) ** -gamma
    np.testing.assert_allclose(np.sort(w.numpy(), axis=1)[:, ::-1], np.tile(s / s.sum(), (8, 1)), rtol=1e-13, atol=0)


def test_the_ranks_are_an_argsort_of_float64_noise_with_the_diagonal_first():
    """The construction the docstring states, draw for draw: float64 uniform noise (float32 would tie in ~1 % of rows
    at B = 512 and the sort would break ties by index), the diagonal forced first, ranks by argsort."""
    b, t = 12, 5
    noise = torch.rand(b, b, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    noise.diagonal().fill_(-1.0)
    order = noise.argsort(dim=1)[:, :t]
    s = torch.arange(1, t + 1, dtype=torch.float64) ** -2.8
    want = torch.zeros(b, b, dtype=torch.float64).scatter_(1, order, (s / s.sum()).expand(b, t))
    got = zeta_weights(b, 2.8, num_mix=t, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert torch.equal(got != 0, want != 0)
    torch.testing.assert_close(got, want, rtol=1e-13, atol=0)
