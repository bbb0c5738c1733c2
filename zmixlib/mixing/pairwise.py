"""Mixing two samples at a time — mixup (and manifold mixup), CutMix, CutMix + ζ-mixup — and Dirichlet mixup.

* mixup — Zhang, Cisse, Dauphin, Lopez-Paz. *mixup: Beyond empirical risk minimization.* ICLR 2018.
* manifold mixup — Verma et al. ICML 2019 (``mixup`` applied to a hidden tensor).
* CutMix — Yun et al. *CutMix: regularization strategy to train strong classifiers with localizable features.*
  ICCV 2019.
* Dirichlet mixup and CutMix + ζ-mixup — the ablation (Table 8) and the CutMix comparison (Table 5) of ζ-mixup
  (Abhishek, Brown, Hamarneh, J Big Data 2024; MIDL 2023).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.core.hparams import alpha_range, gamma_range
from zmixlib.core.theory import GAMMA_MIN
from zmixlib.mixing._apply import _as_rows, _label_mm, _mix_rows, _pairwise_mix, _prepare
from zmixlib.mixing._sampling import (
    _beta_symmetric,
    _dirichlet,
    _gen_device,
    _Range,
    _sample_in_range,
)
from zmixlib.mixing.zeta import zeta_mixup

__all__ = [
    "sample_mixup",
    "pair_weights",
    "mixup",
    "dirichlet_weights",
    "dirichlet_mixup",
    "CutMixSample",
    "sample_cutmix",
    "cutmix",
    "cutmix_zeta",
]


def sample_mixup(
    batch_size: int,
    *,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor]:
    """Draw mixup's randomness: a partner permutation ``π`` ``(B,)`` then ``λ ~ Beta(α, α)`` (0-d, float64).

    Both live on ``device`` (default: the generator's device). ``pair_weights(λ, π)`` turns them into
    the matrix form ``λ I + (1 − λ) Π`` (as the MultiMix paper, Venkataramanan et al. 2023, writes it: Eqs. 3–5).
    """
    batch_size = check_int("batch_size", batch_size, min=2)
    a, _ = alpha_range(alpha)
    gdev = _gen_device(generator, device)
    perm = torch.randperm(batch_size, generator=generator, device=gdev)
    lam = _beta_symmetric(a, (), generator, gdev)
    out = torch.device(device) if device is not None else gdev
    return lam.to(out), perm.to(out)


def pair_weights(lam: Tensor | float, perm: Tensor) -> Tensor:
    """Matrix form of pairwise mixing, ``W = diag(λ) + diag(1 − λ) Π`` ``(B, B)``, float64.

    ``lam`` is a scalar or one value per row ``(B,)``; row ``i`` puts ``λ_i`` on ``i`` and ``1 − λ_i``
    on ``perm[i]`` (1 on the diagonal when ``perm[i] == i``). Rows sum to 1. Tests and notebook 00 use
    it to compare mixup with ζ-mixup (Theorem 2).
    """
    batch = perm.shape[0]
    lam = torch.as_tensor(lam, dtype=torch.float64, device=perm.device).expand(batch)
    w = torch.zeros(batch, batch, dtype=torch.float64, device=perm.device)
    w.scatter_add_(1, perm.reshape(-1, 1), (1 - lam).reshape(-1, 1))
    w.diagonal().add_(lam)
    return w


def mixup(
    x: Tensor,
    y: Tensor,
    num_classes: int | None = None,
    *,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """mixup: ``x̂ = λ x + (1 − λ) x_π``, ``ŷ = λ y + (1 − λ) y_π``, ``λ ~ Beta(α, α)`` (Zhang et al. 2018).

    One ``λ`` per batch and a random partner permutation ``π``, as in the official mixup code (the
    papers' setting ``α = 1`` makes ``λ ~ U[0, 1]``). **Manifold mixup** is this same operation
    applied to a hidden tensor ``h = f(x)`` instead of ``x`` (it is differentiable; gradients flow to
    both endpoints). Equivalent to ``apply_weights(x, y, pair_weights(*sample_mixup(...)))`` with the
    same generator, and to ζ-mixup with ``T = 2`` and ``γ = log₂(λ/(1−λ))`` (Theorem 2).

    Args:
        x: inputs or hidden activations ``(B, ...)``, floating dtype.
        y: class indices ``(B,)`` or probabilities ``(B, K)``.
        alpha: ``α > 0`` of the Beta distribution. Default 1.0.
        num_classes: ``K`` for index labels.
        generator: source of randomness (draws ``π`` first, then ``λ``).

    Returns:
        ``x_mix`` like ``x`` and ``y_mix`` ``(B, K)``, rows summing to 1.

    Used in notebooks 01, 02, 03, 04–08 (baseline), 09 (timing), 10 (manifold mixup).
    """
    batch, ys = _prepare(x, y, num_classes)
    lam, perm = sample_mixup(batch, alpha=alpha, generator=generator)
    return _pairwise_mix(x, ys, lam.to(x.device), perm.to(x.device))


def dirichlet_weights(
    batch_size: int,
    alpha: _Range = 1.0,
    *,
    num_rows: int | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Rows ``w_k ~ Dir(α_k · 1_B)`` → ``(num_rows, B)`` (default ``num_rows = B``).

    ``alpha`` is ``α > 0`` or a range ``(low, high)``: then one ``α_k ~ U[low, high]`` per row
    (MultiMix's default). Rows are non-negative and sum to 1. Used by ``dirichlet_mixup`` (notebook
    08) and ``multimix`` (notebook 10).
    """
    batch_size = check_int("batch_size", batch_size, min=1)
    num_rows = batch_size if num_rows is None else check_int("num_rows", num_rows, min=1)
    lo, hi = alpha_range(alpha)
    gdev = _gen_device(generator, device)
    a = _sample_in_range(lo, hi, (num_rows,), generator, gdev, torch.float64)
    w = _dirichlet(a, batch_size, generator).to(dtype)
    return w.to(torch.device(device) if device is not None else gdev)


def dirichlet_mixup(
    x: Tensor,
    y: Tensor,
    num_classes: int | None = None,
    *,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Ablation of Table 8: mix the whole batch (``T = B``) with Dirichlet weights.

    ``x̂_i = Σ_s w_is x_s`` with ``w_i ~ Dir(α · 1_B)`` drawn independently per row — the multivariate
    generalisation of mixup's ``Beta(1, 1)`` for ``α = 1`` (the paper's setting). Unlike ζ-weights no
    sample dominates, so outputs leave the data manifold.

    Args:
        x: inputs ``(B, ...)``; y: indices ``(B,)`` or probabilities ``(B, K)``.
        alpha: ``α > 0`` (default 1.0). num_classes: ``K`` for index labels. generator: randomness.

    Returns:
        ``x_mix`` like ``x``, ``y_mix`` ``(B, K)`` with rows summing to 1.

    Used in notebooks 03 (intrinsic dimension) and 08 (ablation).
    """
    batch, ys = _prepare(x, y, num_classes)
    a = check_float("alpha", alpha, min=0.0, min_open=True)
    gdev = _gen_device(generator, x.device)
    conc = torch.full((batch,), a, dtype=torch.float64, device=gdev)
    w = _dirichlet(conc, batch, generator).to(device=x.device, dtype=ys.dtype)
    rows, unflatten = _as_rows(x)
    return unflatten(_mix_rows(w.to(x.dtype), rows)), _label_mm(w, ys)


class CutMixSample(NamedTuple):
    """CutMix randomness: ``perm`` ``(B,)``, the box ``[y0:y1, x0:x1]`` and the exact ``lam``."""

    perm: Tensor
    box: tuple[int, int, int, int]  # (y0, y1, x0, x1)
    lam: float  # 1 − box area / (H W): the fraction of each image that stays its own


def sample_cutmix(
    batch_size: int,
    height: int,
    width: int,
    *,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> CutMixSample:
    """Draw CutMix's box as in the CutMix paper's code (Yun et al. 2019, Alg. A1).

    ``λ ~ Beta(α, α)``; box size ``(⌊H √(1−λ)⌋, ⌊W √(1−λ)⌋)``; centre uniform over pixels; the box is
    clipped to the image and ``λ`` recomputed from the exact pasted area: ``λ = 1 − area / (H W)``.
    One box and one partner permutation per batch. Reads the box back to the host (one sync);
    :func:`cutmix` itself keeps the box on the device (the same draws and arithmetic, no sync).
    """
    batch_size = check_int("batch_size", batch_size, min=2)
    height = check_int("height", height, min=1)
    width = check_int("width", width, min=1)
    a, _ = alpha_range(alpha)
    gdev = _gen_device(generator, device)
    perm, box, lam = _draw_cutmix(batch_size, height, width, a, generator, gdev)
    y0, y1, x0, x1 = (int(v) for v in box)
    out = torch.device(device) if device is not None else gdev
    return CutMixSample(perm.to(out), (y0, y1, x0, x1), float(lam))


def _draw_cutmix(
    batch: int, height: int, width: int, alpha: float, generator: torch.Generator | None, gdev: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    """CutMix's draws (``π``, then ``λ₀``, then the centre) and its box as 0-d tensors on ``gdev``: ``perm``,
    ``box`` ``(4,)`` int64 ``(y0, y1, x0, x1)`` and the exact ``lam`` (float64). The arithmetic is the official
    code's in float64 and integers (``⌊H √(1−λ₀)⌋``, clipping, ``1 − area / (H W)``), so the values equal the
    host computation bit for bit, without reading anything back (no sync, no graph break)."""
    perm = torch.randperm(batch, generator=generator, device=gdev)
    lam0 = _beta_symmetric(alpha, (), generator, gdev)
    cy = torch.randint(height, (), generator=generator, device=gdev)
    cx = torch.randint(width, (), generator=generator, device=gdev)
    cut = torch.sqrt(1.0 - lam0)
    half_h = torch.floor(height * cut).long() // 2
    half_w = torch.floor(width * cut).long() // 2
    box = torch.stack([cy - half_h, cy + half_h, cx - half_w, cx + half_w])
    box = torch.minimum(box.clamp_min(0), torch.tensor([height, height, width, width], device=gdev))
    area = (box[1] - box[0]) * (box[3] - box[2])
    lam = 1.0 - area.to(torch.float64) / (height * width)
    return perm, box, lam


def _check_images(x: Any, fn: str) -> None:
    if isinstance(x, Tensor) and x.ndim != 4:
        raise ValueError(f"{fn} needs images of shape (B, C, H, W), got a tensor of shape {tuple(x.shape)}")


def cutmix(
    x: Tensor,
    y: Tensor,
    num_classes: int | None = None,
    *,
    alpha: float = 1.0,
    prob: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """CutMix: paste a box of the partner image ``x_π`` into ``x``; labels ``λ y + (1 − λ) y_π``.

    ``x̂ = M ⊙ x + (1 − M) ⊙ x_π`` with ``M`` zero inside the box of ``sample_cutmix`` and
    ``λ = 1 − box area / (H W)`` exactly (after clipping).

    Args:
        x: images ``(B, C, H, W)`` (any memory format, kept); other shapes raise ``ValueError``.
        y: indices ``(B,)`` or probabilities ``(B, K)``.
        alpha: ``α > 0`` of ``Beta(α, α)`` (default 1.0, the papers' setting).
        prob: probability in ``[0, 1]`` that the batch is mixed at all (the official CutMix CIFAR recipe
            trains with 0.5; otherwise the batch passes unmixed, one-hot labels). With ``prob < 1`` a coin
            is drawn from ``generator`` first; ``prob = 1`` (default) draws none.
        num_classes: ``K`` for index labels. generator: randomness.

    Returns:
        ``x_mix`` like ``x`` and ``y_mix`` ``(B, K)`` with rows summing to 1.

    Used in notebook 04 (Table 5, CutMix vs ζ-mixup).
    """
    prob = check_float("prob", prob, min=0.0, max=1.0)
    _check_images(x, "cutmix")
    batch, ys = _prepare(x, y, num_classes)
    gdev = _gen_device(generator, x.device)
    if prob < 1.0 and float(torch.rand((), generator=generator, device=gdev)) >= prob:
        return x.clone(), ys
    a, _ = alpha_range(alpha)
    perm, box, lam = _draw_cutmix(batch, x.shape[2], x.shape[3], a, generator, gdev)
    return _apply_cutmix(x, ys, perm.to(x.device), box.to(x.device), lam.to(x.device))


def _apply_cutmix(x: Tensor, ys: Tensor, perm: Tensor, box: Tensor, lam: Tensor) -> tuple[Tensor, Tensor]:
    """Paste the box ``[y0:y1, x0:x1]`` of ``x[perm]`` into a copy of ``x`` (a mask, so the box never leaves the
    device); labels ``lam · y + (1 − lam) · y_perm``."""
    rows = torch.arange(x.shape[2], device=x.device).reshape(-1, 1)
    cols = torch.arange(x.shape[3], device=x.device)
    inside = (rows >= box[0]) & (rows < box[1]) & (cols >= box[2]) & (cols < box[3])  # (H, W)
    x_mix = torch.where(inside, x[perm], x)
    y_mix = torch.lerp(ys[perm], ys, lam.to(ys.dtype))
    return x_mix, y_mix


def cutmix_zeta(
    x: Tensor,
    y: Tensor,
    num_classes: int | None = None,
    *,
    mode: str = "switch",
    prob: float = 0.5,
    alpha: float = 1.0,
    gamma: _Range = (GAMMA_MIN, 4.0),
    num_mix: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """CutMix combined with ζ-mixup (Table 5 of ζ-mixup, J Big Data 2024; the MIDL 2023 paper).

    **The papers do not define how the two are combined; this is our choice** (both readings are registered in
    ``zmixlib.core.vocab.METHODS``, ``cutmix_zeta`` and ``cutmix_zeta_compose``; notebook 04 trains both):

    * ``mode="switch"`` (default): per call (mini-batch), CutMix with probability ``prob`` (0.5),
      otherwise ζ-mixup with ``γ ~ U[γ_min, 4.0]`` (``gamma`` default).
    * ``mode="compose"``: CutMix, then ζ-mixup of the CutMix output (labels follow both steps).

    Args:
        x: images ``(B, C, H, W)``; y: indices ``(B,)`` or probabilities ``(B, K)``.
        mode: ``"switch"`` or ``"compose"``. prob: CutMix probability in ``[0, 1]`` for ``"switch"``.
        alpha: CutMix's ``Beta(α, α)``. gamma, num_mix: ζ-mixup's (see ``zeta_mixup``).
        num_classes: ``K`` for index labels. generator: randomness (the switch coin comes first).

    Returns:
        ``x_mix`` like ``x`` and ``y_mix`` ``(B, K)`` with rows summing to 1.

    Used in notebook 04 (Table 5).
    """
    check_choice("mode", mode, ("switch", "compose"))
    prob = check_float("prob", prob, min=0.0, max=1.0)
    _check_images(x, "cutmix_zeta")
    batch, ys = _prepare(x, y, num_classes)
    gamma_range(gamma)
    if num_mix is not None:
        check_int("num_mix", num_mix, min=2, max=batch)
    if mode == "switch":
        gdev = _gen_device(generator, x.device)
        coin = float(torch.rand((), generator=generator, device=gdev))
        if coin < prob:
            return cutmix(x, ys, alpha=alpha, generator=generator)
        return zeta_mixup(x, ys, gamma=gamma, num_mix=num_mix, generator=generator)
    x_c, y_c = cutmix(x, ys, alpha=alpha, generator=generator)
    return zeta_mixup(x_c, y_c, gamma=gamma, num_mix=num_mix, generator=generator)
