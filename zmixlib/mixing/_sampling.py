"""Randomness shared by the mixing methods: where draws happen, parameter ranges, Gamma/Beta/Dirichlet samplers.

Every sampler takes an explicit ``torch.Generator`` (``torch.distributions`` cannot) and draws on that generator's
device, so a seeded call repeats exactly. Private: the public ``sample_*`` / ``*_weights`` functions use these.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: a hyperparameter given as one number or as a ``(low, high)`` range sampled uniformly
_Range = float | tuple[float, float]


def _gen_device(generator: torch.Generator | None, device: torch.device | str | None) -> torch.device:
    """Device on which random numbers are drawn: the generator's, else ``device``, else CPU."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        return generator.device
    return torch.device(device) if device is not None else torch.device("cpu")


def _sample_in_range(lo: float, hi: float, shape: tuple[int, ...], generator, device, dtype) -> Tensor:
    """``U[lo, hi]`` draws (no draw at all when ``lo == hi``)."""
    if lo == hi:
        return torch.full(shape, lo, dtype=dtype, device=device)
    u = torch.rand(shape, generator=generator, device=device, dtype=dtype)
    return u.mul_(hi - lo).add_(lo)


#: candidates per entry of the fixed-shape Gamma sampler used under ``torch.compile`` (see ``_log_gamma``)
_COMPILED_CANDIDATES = 16


def _log_gamma(conc: Tensor, generator: torch.Generator | None) -> Tensor:
    """``log G`` with ``G ~ Gamma(conc, 1)`` elementwise (Marsaglia & Tsang 2000), in log space.

    ``torch.distributions`` cannot take a generator, hence this sampler. Concentrations below 1 use
    the boost ``G(a) = G(a + 1) · U^(1/a)``, done in log space so tiny ``a`` never gives 0/0.
    Vectorised rejection: each round redraws only the rejected entries (acceptance > 95 %).

    Under ``torch.compile`` the rounds (data-dependent shapes: a graph break each) are replaced by
    ``_log_gamma_fixed``, the same sampler over a fixed number of candidates: the same distribution, drawn
    from the generator in another order (compiled code never repeats eager draws: inductor has its own RNG).
    """
    if torch.compiler.is_compiling():
        return _log_gamma_fixed(conc, generator)
    dev, dt = conc.device, conc.dtype
    a, boost, a1, d, c = _marsaglia_tsang(conc)
    out = torch.empty_like(a1)
    idx = torch.arange(a1.numel(), device=dev)
    while idx.numel():
        dd, cc = d[idx], c[idx]
        z = torch.randn(idx.shape, generator=generator, device=dev, dtype=dt)
        u = torch.rand(idx.shape, generator=generator, device=dev, dtype=dt)
        v = (1.0 + cc * z) ** 3
        v_safe = v.clamp_min(torch.finfo(dt).tiny)
        ok = (v > 0) & (torch.log(u) < 0.5 * z * z + dd - dd * v + dd * torch.log(v_safe))
        out[idx[ok]] = torch.log(dd[ok]) + torch.log(v_safe[ok])
        idx = idx[~ok]
    u = torch.rand(a.shape, generator=generator, device=dev, dtype=dt)
    out = torch.where(boost, out + torch.log(u) / a, out)
    return out.reshape(conc.shape)


def _marsaglia_tsang(conc: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Marsaglia–Tsang's constants for Gamma(``conc``), flattened: ``(a, boost, a1, d, c)`` — a concentration below
    1 is boosted by 1 (``boost``; corrected by ``U^(1/a)`` afterwards), ``d = a1 − 1/3``, ``c = 1/√(9d)``."""
    a = conc.reshape(-1)
    boost = a < 1
    a1 = torch.where(boost, a + 1, a)
    d = a1 - 1.0 / 3.0
    return a, boost, a1, d, torch.rsqrt(9.0 * d)


def _log_gamma_fixed(conc: Tensor, generator: torch.Generator | None) -> Tensor:
    """``_log_gamma`` with static shapes, for ``torch.compile``: ``R = _COMPILED_CANDIDATES`` Marsaglia–Tsang
    candidates per entry, the first accepted one kept (as the rounds would). Each candidate is accepted with
    probability > 0.95, so all ``R`` fail with probability < 0.05^16 ≈ 1.5e-21; then the last one is kept."""
    dev, dt = conc.device, conc.dtype
    a, boost, a1, d, c = _marsaglia_tsang(conc)
    shape = (_COMPILED_CANDIDATES, a.numel())
    z = torch.randn(shape, generator=generator, device=dev, dtype=dt)
    u = torch.rand(shape, generator=generator, device=dev, dtype=dt)
    v = (1.0 + c * z) ** 3
    v_safe = v.clamp_min(torch.finfo(dt).tiny)
    ok = (v > 0) & (torch.log(u) < 0.5 * z * z + d - d * v + d * torch.log(v_safe))
    ok[-1] = True
    first = ok.to(torch.uint8).argmax(dim=0, keepdim=True)  # the first accepted candidate of each entry
    out = torch.log(d) + torch.log(v_safe.gather(0, first)[0])
    u = torch.rand(a.shape, generator=generator, device=dev, dtype=dt)
    out = torch.where(boost, out + torch.log(u) / a, out)
    return out.reshape(conc.shape)


def _beta_symmetric(alpha: float | Tensor, shape: tuple[int, ...], generator, device) -> Tensor:
    """``λ ~ Beta(α, α)`` of the given shape, float64, on ``device`` (the generator's device)."""
    conc = torch.as_tensor(alpha, dtype=torch.float64, device=device).expand(*shape, 2).contiguous()
    lg = _log_gamma(conc, generator)
    return torch.sigmoid(lg[..., 0] - lg[..., 1])


def _dirichlet(alpha: Tensor, size: int, generator) -> Tensor:
    """Rows ``~ Dir(α_i · 1_size)`` for a column of concentrations ``alpha`` ``(n,)`` → ``(n, size)``."""
    conc = alpha.reshape(-1, 1).expand(alpha.numel(), size).contiguous()
    return torch.softmax(_log_gamma(conc, generator), dim=1)
