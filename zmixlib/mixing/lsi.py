"""Local synthetic instances (LSI), the ancestor of ζ-mixup and the timing baseline of its Table 9.

Brown, Miller, Booth, Poskitt, Chau, Synnes, Zwicker, Grunau, Hamarneh. *Prediction of motor function in very
preterm infants using connectome features and local synthetic instances.* MICCAI 2015, pp. 69–76. Code:
github.com/colinjosephbrown/LSI. Timed against ζ-mixup in Abhishek, Brown, Hamarneh, J Big Data 2024 (Table 9).
"""

from __future__ import annotations

import torch
from torch import Tensor

from zmixlib.core.checks import check_float, check_int, check_range
from zmixlib.mixing._apply import _prepare
from zmixlib.mixing._sampling import _gen_device, _Range

__all__ = ["local_synthetic_instances"]


def local_synthetic_instances(
    x: Tensor,
    y: Tensor,
    num_classes: int | None = None,
    *,
    p_range: _Range = (1.2, 3.0),
    num_mix: int | None = None,
    num_synthetic: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Local synthetic instances (LSI; Brown et al., MICCAI 2015), the ancestor of ζ-mixup.

    A faithful, **deliberately unoptimised** per-sample Python reference of the authors' LSI code
    (github.com/colinjosephbrown/LSI), which the ζ-mixup paper (J Big Data 2024) times in Table 9 (≈110×
    slower than ζ-mixup).
    For synthetic instance ``i = 0..N−1``:

    * ``p_i = p_min + (i / N)(p_max − p_min)`` — ``p`` swept linearly over ``p_range``;
    * ``w_j = j^-p_i / Σ_{l=1}^{T} l^-p_i``, ``j = 1..T`` (normalised p-series);
    * a random ordered subset ``s_1..s_T`` of the batch (without replacement), and
      ``x̂_i = Σ_j w_j x_{s_j}``, ``ŷ_i = Σ_j w_j y_{s_j}``, summed one sample at a time.

    Unlike ζ-mixup no output is tied to an input (the subset is not anchored) and ``p`` is swept
    rather than fixed.

    Args:
        x: inputs ``(B, ...)``; y: indices ``(B,)`` or probabilities ``(B, K)``.
        p_range: ``(p_min, p_max)`` with ``0 ≤ p_min ≤ p_max`` or a single ``p`` (default
            ``(1.2, 3.0)``, the authors' default).
        num_mix: ``T``, samples per synthetic instance, ``2 ≤ T ≤ B`` (default ``B``).
        num_synthetic: ``N``, number of synthetic instances (default ``B``).
        num_classes: ``K`` for index labels. generator: randomness.

    Returns:
        ``x_syn`` ``(N, ...)`` like ``x`` and ``y_syn`` ``(N, K)`` with rows summing to 1.

    Used in notebook 09 (timing, Table 9).
    """
    batch, ys = _prepare(x, y, num_classes)
    if isinstance(p_range, (tuple, list)):
        p_min, p_max = check_range("p_range", p_range, min=0.0)
    else:
        p_min = p_max = check_float("p_range", p_range, min=0.0)
    num_mix = batch if num_mix is None else check_int("num_mix", num_mix, min=2, max=batch)
    n_syn = batch if num_synthetic is None else check_int("num_synthetic", num_synthetic, min=1)
    gdev = _gen_device(generator, x.device)
    b = torch.arange(1, num_mix + 1, dtype=torch.float64)
    x_out, y_out = [], []
    for i in range(n_syn):
        p = p_min + (i / n_syn) * (p_max - p_min)
        w = b.pow(-p)
        w = (w / w.sum()).tolist()
        inds = torch.randperm(batch, generator=generator, device=gdev)[:num_mix].tolist()
        x_out.append(sum(w[j] * x[inds[j]] for j in range(num_mix)))
        y_out.append(sum(w[j] * ys[inds[j]] for j in range(num_mix)))
    x_syn = torch.stack(x_out)
    if x.ndim == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        x_syn = x_syn.contiguous(memory_format=torch.channels_last)
    return x_syn, torch.stack(y_out)
