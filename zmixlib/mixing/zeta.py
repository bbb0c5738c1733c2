"""ζ-mixup: every output a p-series-weighted combination of ``T`` samples, the largest weight on its own input.

Abhishek, Brown, Hamarneh. *Multi-sample ζ-mixup: richer, more realistic synthetic samples from a p-series
interpolant.* J Big Data 11:43 (2024); *ζ-mixup: richer, more realistic mixing of multiple images*, MIDL 2023.
Code: github.com/kakumarabhishek/zeta-mixup. Equations cited below are the J Big Data paper's.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from zmixlib.core.checks import check_int
from zmixlib.core.hparams import gamma_range
from zmixlib.core.util import to_numpy
from zmixlib.mixing._apply import _as_rows, _label_mm, _mix_rows, _prepare
from zmixlib.mixing._sampling import _gen_device, _Range, _sample_in_range

__all__ = ["zeta_weights", "zeta_mixup"]


def _p_series(num_mix: int, gamma: float | Tensor, device, dtype) -> Tensor:
    """Normalised p-series ``s^-γ / Σ_{j≤T} j^-γ`` for ``s = 1..T`` (computed in log space)."""
    if isinstance(gamma, float) and math.isinf(gamma):  # γ → ∞: every weight on rank 1 (not -∞ · log 1 = NaN)
        return torch.zeros(num_mix, device=device, dtype=dtype).index_fill_(0, torch.tensor([0], device=device), 1.0)
    log_s = torch.arange(1, num_mix + 1, device=device, dtype=torch.float64).log_()
    g = torch.as_tensor(gamma, dtype=torch.float64, device=device)
    return torch.softmax(-g * log_s, dim=0).to(dtype)


def zeta_weights(
    batch_size: int,
    gamma: _Range = 2.8,
    *,
    num_mix: int | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Sample the ζ-mixup weight matrix ``W`` ``(B, B)`` (ζ-mixup, J Big Data 2024, Eqs. 5–6).

    Row ``i`` holds the normalised p-series ``w_s = s^-γ / Σ_{j=1}^{T} j^-γ``, ``s = 1..T``: rank
    ``s = 1`` (the largest weight) sits on the diagonal — output ``i`` stays near input ``i``, as in
    the authors' code — and ranks ``2..T`` on ``T − 1`` distinct other samples drawn uniformly at
    random per row; the remaining ``B − T`` entries are 0. Built on the device without a Python loop:
    per row, an argsort of uniform noise with the diagonal forced first gives a random order of the
    other samples; the p-series is scattered into it.

    Args:
        batch_size: ``B ≥ 2``.
        gamma: ``γ ≥ 0`` (``γ = ∞``: the identity matrix), or a range ``(low, high)`` with finite ends from
            which one ``γ ~ U[low, high]`` is drawn for the whole matrix (the paper's ``γ ~ U[γ_min, 4]`` for
            CutMix + ζ-mixup).
        num_mix: ``T``, the number of samples each output mixes, ``2 ≤ T ≤ B`` (default ``B``).
            ``T = 2`` is the ablation "p-series weights, two samples" (Table 8).
        generator: source of randomness; draws happen on its device.
        device: device of the result (default: the generator's, else CPU).
        dtype: floating dtype of the result.

    Returns:
        ``W`` ``(B, B)``: rows are permutations of the normalised p-series, sum to 1, have exactly
        ``T`` non-zeros (unless ``s^-γ`` underflows for huge ``γ``) and their maximum on the
        diagonal. ``γ = 0`` gives uniform weights ``1/T``; ``γ → ∞`` the identity; for
        ``γ ≥ GAMMA_MIN`` the diagonal exceeds the rest of its row (Theorem 1); for ``T = 2`` and
        ``γ = log₂(λ/(1−λ))`` the row is ``(λ, 1−λ)`` (Theorem 2).

    Used in notebooks 00 (theorems), 01, 02, 03, 04–08, 09.
    """
    batch_size = check_int("batch_size", batch_size, min=2)
    num_mix = batch_size if num_mix is None else check_int("num_mix", num_mix, min=2, max=batch_size)
    lo, hi = gamma_range(gamma)
    gdev = _gen_device(generator, device)
    out_device = torch.device(device) if device is not None else gdev
    g = lo if lo == hi else _sample_in_range(lo, hi, (), generator, gdev, torch.float64)
    return _zeta_weights(batch_size, num_mix, g, generator, gdev, dtype).to(out_device)


def _zeta_weights(batch: int, num_mix: int, gamma, generator, gdev, dtype) -> Tensor:
    # float64 noise: float32 ``rand`` lives on a 24-bit grid, so at B = 512 ~1 % of rows would hold a
    # tie, which the sort breaks by index (a small bias); float64 makes ties practically impossible.
    noise = torch.rand(batch, batch, generator=generator, device=gdev, dtype=torch.float64)
    noise.diagonal().fill_(-1.0)  # rand ∈ [0, 1): the diagonal sorts first → rank 1
    if noise.device.type == "cpu":
        # Same computation on the same memory (zero-copy views): NumPy's row-wise argsort is ~5x faster
        # than torch 2.14's CPU sort at B = 512 (measured in notebook 09); on CUDA torch sorts on device.
        order = torch.from_numpy(np.argsort(to_numpy(noise), axis=1)[:, :num_mix])
    else:
        order = noise.argsort(dim=1)[:, :num_mix]  # (B, T): column holding rank s+1 in row i
    w = _p_series(num_mix, gamma, gdev, dtype)
    out = torch.zeros(batch, batch, device=gdev, dtype=dtype)
    return out.scatter_(1, order, w.expand(batch, num_mix))


def zeta_mixup(
    x: Tensor,
    y: Tensor,
    num_classes: int | None = None,
    gamma: _Range = 2.8,
    *,
    num_mix: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """ζ-mixup: ``x̂_i = Σ_s w_is x_s``, ``ŷ_i = Σ_s w_is y_s`` with ζ-weights (J Big Data 2024, Eqs. 5–6).

    One ``(B, B) × (B, D)`` matmul over the flattened batch in its memory order (``channels_last``
    stays ``channels_last``, without a copy); labels are mixed by the same ``W``. The official code's call
    ``zeta_mixup(x, y, num_classes, gamma)`` works as it is (both may be given by position); the rest is keyword-only.

    Args:
        x: inputs ``(B, ...)``, floating dtype (float32, float64, bfloat16, float16); images, feature
            vectors, tabular rows or hidden activations.
        y: class indices ``(B,)`` or probabilities ``(B, K)``.
        num_classes: ``K``, required for index labels.
        gamma: ``γ ≥ 0`` or a range ``(low, high)`` with finite ends, sampled uniformly once per call. Default
            2.8. ``γ = ∞`` is the documented limit, the identity, exactly: ``x_mix`` equals ``x`` and ``y_mix``
            the one-hot labels (a run of it is ERM: ``zmixlib.engine.runspec.RunSpec`` rejects it by name).
        num_mix: ``T`` (default ``B``, the papers' setting); ``num_mix=2`` is the Table 8 ablation.
        generator: source of randomness (see module docstring).

    Returns:
        ``x_mix`` ``(B, ...)`` like ``x`` (dtype, device, memory format) and ``y_mix`` ``(B, K)``
        float with rows summing to 1; with distinct labels each row has exactly ``T`` non-zeros. Labels are float32
        (float64 for float64 inputs) also inside ``torch.autocast``; ``x_mix`` follows autocast there.

    Used in notebooks 01, 02, 03 (mixing), 04–08 (training), 09 (timing), 10 (input-space baseline).
    """
    batch, ys = _prepare(x, y, num_classes)
    num_mix = batch if num_mix is None else check_int("num_mix", num_mix, min=2, max=batch)
    lo, hi = gamma_range(gamma)
    gdev = _gen_device(generator, x.device)
    g = lo if lo == hi else _sample_in_range(lo, hi, (), generator, gdev, torch.float64)
    w = _zeta_weights(batch, num_mix, g, generator, gdev, ys.dtype).to(x.device, non_blocking=True)
    rows, unflatten = _as_rows(x)
    x_mix = unflatten(_mix_rows(w.to(x.dtype), rows))
    return x_mix, _label_mm(w, ys)
