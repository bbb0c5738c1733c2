"""Mixing methods: ζ-mixup and every method it is compared with.

Each method is a pure function over a batch of any shape ``(B, ...)`` — images, feature vectors,
tabular rows, hidden activations — that returns **new** tensors ``(x_mix, y_mix)``:

* labels in may be class indices ``(B,)`` (then ``num_classes`` is required) or probabilities
  ``(B, K)``; labels out are always float soft labels ``(B', K)`` whose rows sum to 1 (float32, or
  float64 when the inputs are float64);
* randomness comes only from the keyword ``generator: torch.Generator | None`` (``None``: the
  global generator of the input's device); draws happen on the generator's device;
* sampling is separate from applying: ``zeta_weights`` / ``dirichlet_weights`` /
  ``multimix_weights`` / ``sample_mixup`` / ``sample_cutmix`` / ``sample_kmixup`` draw the
  randomness, ``apply_weights`` (and the functions themselves) apply it;
* device, dtype and memory format (e.g. ``channels_last``) follow the input; inputs are never
  modified; everything is differentiable, so the same functions mix hidden tensors.

Papers and reference code:

* ζ-mixup — Abhishek, Brown, Hamarneh. *Multi-sample ζ-mixup: richer, more realistic synthetic
  samples from a p-series interpolant.* J Big Data 11:43 (2024); arXiv version; *ζ-mixup: richer,
  more realistic mixing of multiple images*, MIDL 2023. Code: github.com/kakumarabhishek/zeta-mixup.
* mixup — Zhang et al. *mixup: Beyond empirical risk minimization.* ICLR 2018.
* manifold mixup — Verma et al. ICML 2019 (``mixup`` applied to a hidden tensor).
* CutMix — Yun et al. *CutMix: regularization strategy to train strong classifiers with localizable
  features.* ICCV 2019.
* local synthetic instances — Brown et al. *Prediction of motor function in very preterm infants
  using connectome features and local synthetic instances.* MICCAI 2015. Code:
  github.com/colinjosephbrown/LSI.
* k-mixup — Greenewald et al. *k-Mixup regularization for deep learning via optimal transport.*
  TMLR 2023.
* MultiMix / Dense MultiMix — Venkataramanan et al. *Embedding space interpolation beyond
  mini-batch, beyond pairs and beyond examples.* NeurIPS 2023.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from zmixlib._checks import check_choice, check_float, check_int, check_range
from zmixlib._util import to_numpy
from zmixlib.theory import GAMMA_MIN

__all__ = [
    "GAMMA_MIN",
    "soft_labels",
    "check_hparams",
    "apply_weights",
    "zeta_weights",
    "zeta_mixup",
    "sample_mixup",
    "pair_weights",
    "mixup",
    "dirichlet_weights",
    "dirichlet_mixup",
    "sample_cutmix",
    "cutmix",
    "cutmix_zeta",
    "local_synthetic_instances",
    "optimal_matching",
    "sample_kmixup",
    "kmixup",
    "kmixup_alpha_for_xi",
    "multimix_weights",
    "multimix_coin",
    "multimix",
    "multimix_attention",
    "dense_multimix",
    "erm",
    "soft_cross_entropy",
    "MIXERS",
    "Mixer",
    "CutMixSample",
    "KMixupSample",
    "AlphaForXi",
]

# ``GAMMA_MIN`` (re-exported above from ``zmixlib.theory``, its only definition): γ_min of Theorem 1, the
# root of ζ(γ) = 2. For every γ ≥ γ_min the diagonal ζ-weight exceeds the rest of its row, for any T.

_Range = float | tuple[float, float]


# ----------------------------------------------------------------------------------------------
# Input checks and small helpers
# ----------------------------------------------------------------------------------------------


def _check_x(x: Any, name: str = "x") -> int:
    """Validate a batch tensor ``(B, ...)`` with a floating dtype and ``B >= 2``; return ``B``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must have a floating-point dtype, got {x.dtype}; convert it first, e.g. {name}.float()"
        )
    if x.ndim < 1:
        raise ValueError(f"{name} must have a batch dimension (B, ...), got a tensor of shape {tuple(x.shape)}")
    return check_int("batch size", x.shape[0], min=2)


def _label_dtype(x: Tensor, y: Tensor) -> torch.dtype:
    """float32, or float64 when x or y is float64 (labels never go below float32)."""
    dt = torch.promote_types(x.dtype, torch.float32) if x.is_floating_point() else torch.float32
    if y.is_floating_point():
        dt = torch.promote_types(dt, y.dtype)
    return dt


def soft_labels(
    y: Tensor, *, batch_size: int | None = None, num_classes: int | None = None, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Return labels as float probabilities ``(B, K)`` on ``y``'s device.

    Args:
        y: class indices ``(B,)`` (any integer dtype) or probabilities / one-hot rows ``(B, K)``.
        batch_size: if given, ``y`` must have exactly this many rows.
        num_classes: ``K``; required for index labels, checked against ``y.shape[1]`` otherwise.
        dtype: floating dtype of the result.

    Returns:
        ``(B, K)`` tensor; one-hot rows for index labels, ``y`` converted (a copy) otherwise.

    Raises:
        ValueError: wrong length, indices outside ``[0, K-1]``, missing or mismatching ``num_classes``.
        TypeError: ``y`` is not a tensor, or 1-D but not integer.

    Index labels are range-checked, which reads two integers back from the device (one sync).
    """
    if not isinstance(y, Tensor):
        raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}")
    if y.ndim not in (1, 2):
        raise ValueError(
            f"y must be class indices of shape (B,) or probabilities of shape (B, K), got shape {tuple(y.shape)}"
        )
    if batch_size is not None and y.shape[0] != batch_size:
        raise ValueError(
            f"y must have {batch_size} rows (the batch size of x), got {y.shape[0]} (shape {tuple(y.shape)})"
        )
    if y.ndim == 2:
        if num_classes is not None and y.shape[1] != num_classes:
            raise ValueError(f"y has {y.shape[1]} columns but num_classes is {num_classes}")
        return y.to(dtype=dtype, copy=True)
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"y of shape (B,) must hold integer class indices, got dtype {y.dtype}")
    if num_classes is None:
        raise ValueError("num_classes is required when y holds class indices of shape (B,), got None")
    num_classes = check_int("num_classes", num_classes, min=1)
    if y.numel():
        lo, hi = (int(v) for v in torch.aminmax(y))
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"y must hold class indices in [0, {num_classes - 1}] (num_classes={num_classes}), "
                f"got values in [{lo}, {hi}]"
            )
    out = torch.zeros(y.shape[0], num_classes, dtype=dtype, device=y.device)
    return out.scatter_(1, y.long().unsqueeze(1), 1.0)


def _prepare(x: Tensor, y: Tensor, num_classes: int | None) -> tuple[int, Tensor]:
    batch = _check_x(x)
    return batch, soft_labels(y, batch_size=batch, num_classes=num_classes, dtype=_label_dtype(x, y)).to(x.device)


def _gen_device(generator: torch.Generator | None, device: torch.device | str | None) -> torch.device:
    """Device on which random numbers are drawn: the generator's, else ``device``, else CPU."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        return generator.device
    return torch.device(device) if device is not None else torch.device("cpu")


def _check_gamma(gamma: Any) -> tuple[float, float]:
    """``gamma`` as a (low, high) range; a number ``g`` becomes ``(g, g)``. ``γ = ∞`` (a number) is the identity,
    the limit of the p-series; a range needs finite ends (``U[low, ∞]`` is no distribution)."""
    if isinstance(gamma, (tuple, list)):
        lo, hi = check_range("gamma", gamma, min=0.0)
        if math.isinf(hi):
            raise ValueError(f"gamma range must have finite ends (gamma = inf alone is the identity), got {gamma!r}")
        return lo, hi
    g = check_float("gamma", gamma, min=0.0)
    return g, g


def _check_alpha_range(alpha: Any, name: str = "alpha") -> tuple[float, float]:
    if isinstance(alpha, (tuple, list)):
        lo, hi = check_range(name, alpha)
        if lo <= 0:
            raise ValueError(f"{name} must be > 0, got {alpha!r}")
        return lo, hi
    a = check_float(name, alpha, min=0.0, min_open=True)
    return a, a


def _sample_in_range(lo: float, hi: float, shape: tuple[int, ...], generator, device, dtype) -> Tensor:
    """``U[lo, hi]`` draws (no draw at all when ``lo == hi``)."""
    if lo == hi:
        return torch.full(shape, lo, dtype=dtype, device=device)
    u = torch.rand(shape, generator=generator, device=device, dtype=dtype)
    return u.mul_(hi - lo).add_(lo)


def _log_gamma(conc: Tensor, generator: torch.Generator | None) -> Tensor:
    """``log G`` with ``G ~ Gamma(conc, 1)`` elementwise (Marsaglia & Tsang 2000), in log space.

    ``torch.distributions`` cannot take a generator, hence this sampler. Concentrations below 1 use
    the boost ``G(a) = G(a + 1) · U^(1/a)``, done in log space so tiny ``a`` never gives 0/0.
    Vectorised rejection: each round redraws only the rejected entries (acceptance > 95 %).
    """
    dev, dt = conc.device, conc.dtype
    a = conc.reshape(-1)
    boost = a < 1
    a1 = torch.where(boost, a + 1, a)
    d = a1 - 1.0 / 3.0
    c = torch.rsqrt(9.0 * d)
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


def _beta_symmetric(alpha: float | Tensor, shape: tuple[int, ...], generator, device) -> Tensor:
    """``λ ~ Beta(α, α)`` of the given shape, float64, on ``device`` (the generator's device)."""
    conc = torch.as_tensor(alpha, dtype=torch.float64, device=device).expand(*shape, 2).contiguous()
    lg = _log_gamma(conc, generator)
    return torch.sigmoid(lg[..., 0] - lg[..., 1])


def _dirichlet(alpha: Tensor, size: int, generator) -> Tensor:
    """Rows ``~ Dir(α_i · 1_size)`` for a column of concentrations ``alpha`` ``(n,)`` → ``(n, size)``."""
    conc = alpha.reshape(-1, 1).expand(alpha.numel(), size).contiguous()
    return torch.softmax(_log_gamma(conc, generator), dim=1)


def _as_rows(x: Tensor) -> tuple[Tensor, Callable[[Tensor], Tensor]]:
    """View ``x`` ``(B, ...)`` as ``(B, D)`` in its own memory order; return the view and an un-flattener.

    For a contiguous tensor this is ``x.reshape(B, -1)``. For ``channels_last`` (or any dense,
    batch-outermost layout) the non-batch dims are permuted into memory order first, so no copy is
    made, and the un-flattener permutes back: the output has the input's memory format. Other
    layouts are copied once.
    """
    batch = x.shape[0]
    if x.ndim == 1:
        return x.reshape(batch, 1), lambda out: out.reshape(out.shape[0])
    order = sorted(range(1, x.ndim), key=lambda d: -x.stride(d))  # stable: ties keep logical order
    perm = [0, *order]
    xp = x.permute(perm)
    if not xp.is_contiguous():
        xp = xp.contiguous()
    inner = xp.shape[1:]
    inv = [0] * x.ndim
    for i, p in enumerate(perm):
        inv[p] = i

    def unflatten(out: Tensor) -> Tensor:
        return out.view(out.shape[0], *inner).permute(inv)

    return xp.view(batch, -1), unflatten


#: Bytes of input per column block of the single-threaded CPU mixing matmul (``_mix_rows``): half an L2.
_CPU_BLOCK_BYTES = 512 * 1024


def _mix_rows(w: Tensor, rows: Tensor) -> Tensor:
    """``w @ rows`` — ``(B', B) × (B, D) → (B', D)``, a new contiguous tensor in ``rows``' dtype.

    One matmul. On a single CPU thread (``torch.get_num_threads() == 1``: DataLoader workers, runs
    packed one thread each), for float32/float64 without autograd and a wide batch (at least two
    blocks of ``c = 512 KiB / (B · itemsize)`` columns, e.g. ``c = 4096`` for 32 float32 images), the
    same product is computed as one batched matmul over the column blocks — strided views of ``rows``
    and of the output, no copies; each output element is the same length-``B`` dot product.

    Why (measured for issue 13, notebook 09): with a small inner dimension ``B``, MKL's single GEMM
    over ``D ≈ 1.5·10⁵`` columns alternates phases that stream ``B`` strided rows from memory with
    phases that compute, and runs at about half the FLOP rate it reaches on cache-resident blocks;
    cache-sized blocks make it ~20–25 % faster on one thread. With more threads each block becomes
    its own parallel region (``bmm`` loops over the blocks), whose barriers cost far more than the
    gain when the cores are shared, so there the single GEMM is kept.
    """
    batch, width = rows.shape
    cols = max(256, _CPU_BLOCK_BYTES // (batch * rows.element_size()))
    if (
        rows.device.type != "cpu"
        or rows.dtype not in (torch.float32, torch.float64)
        or width < 2 * cols
        or torch.get_num_threads() != 1
        or (torch.is_grad_enabled() and (w.requires_grad or rows.requires_grad))
    ):
        return torch.mm(w, rows)
    n_blocks = width // cols
    main = n_blocks * cols
    out = torch.empty(w.shape[0], width, dtype=rows.dtype, device=rows.device)
    blocks = rows[:, :main].view(batch, n_blocks, cols).transpose(0, 1)  # (n, B, c), views
    out_blocks = out[:, :main].view(w.shape[0], n_blocks, cols).transpose(0, 1)  # (n, B', c)
    torch.bmm(w.expand(n_blocks, *w.shape), blocks, out=out_blocks)
    if main < width:
        torch.mm(w, rows[:, main:], out=out[:, main:])
    return out


# ----------------------------------------------------------------------------------------------
# Applying a weight matrix (shared by ζ-mixup, Dirichlet mixup, MultiMix)
# ----------------------------------------------------------------------------------------------


def apply_weights(x: Tensor, y: Tensor, weights: Tensor, *, num_classes: int | None = None) -> tuple[Tensor, Tensor]:
    """Mix a batch with a weight matrix: ``X̂ = W X``, ``Ŷ = W Y`` (paper 000 Eq. 5, one matmul).

    Args:
        x: inputs ``(B, ...)``, floating dtype, any memory format (``channels_last`` is kept without
            a copy: the matmul runs over the batch in its memory order).
        y: class indices ``(B,)`` (with ``num_classes``) or probabilities ``(B, K)``.
        weights: ``(B', B)``; row ``i`` holds the weights of output ``i``. Row-stochastic weights
            (rows ≥ 0 summing to 1) give convex combinations; nothing here checks that.
        num_classes: ``K`` for index labels.

    Returns:
        ``x_mix`` ``(B', ...)`` in ``x``'s dtype, device and memory format, and ``y_mix``
        ``(B', K)`` float. The input matmul runs in ``x``'s dtype (``weights`` cast to it); the
        label matmul in the label dtype (float32/float64), so label rows keep summing to 1 exactly
        up to rounding even for bf16 inputs.

    Used by every notebook through ``zeta_mixup`` / ``dirichlet_mixup`` / ``multimix``; notebook 09
    times it.
    """
    batch, ys = _prepare(x, y, num_classes)
    if not isinstance(weights, Tensor) or weights.ndim != 2 or weights.shape[1] != batch:
        shape = tuple(weights.shape) if isinstance(weights, Tensor) else type(weights).__name__
        raise ValueError(f"weights must have shape (B', {batch}) to mix a batch of {batch}, got {shape}")
    w = weights.to(device=x.device)
    rows, unflatten = _as_rows(x)
    x_mix = unflatten(_mix_rows(w.to(x.dtype), rows))
    y_mix = torch.mm(w.to(ys.dtype), ys)
    return x_mix, y_mix


# ----------------------------------------------------------------------------------------------
# ζ-mixup
# ----------------------------------------------------------------------------------------------


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
    """Sample the ζ-mixup weight matrix ``W`` ``(B, B)`` (paper 000 Eqs. 5–6).

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
    lo, hi = _check_gamma(gamma)
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
    *,
    gamma: _Range = 2.8,
    num_mix: int | None = None,
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """ζ-mixup: ``x̂_i = Σ_s w_is x_s``, ``ŷ_i = Σ_s w_is y_s`` with ζ-weights (paper 000 Eqs. 5–6).

    One ``(B, B) × (B, D)`` matmul over the flattened batch in its memory order (``channels_last``
    stays ``channels_last``, without a copy); labels are mixed by the same ``W``.

    Args:
        x: inputs ``(B, ...)``, floating dtype (float32, float64, bfloat16, float16); images, feature
            vectors, tabular rows or hidden activations.
        y: class indices ``(B,)`` or probabilities ``(B, K)``.
        gamma: ``γ ≥ 0`` or a range ``(low, high)`` with finite ends, sampled uniformly once per call. Default
            2.8. ``γ = ∞`` is the documented limit, the identity, exactly: ``x_mix`` equals ``x`` and ``y_mix``
            the one-hot labels (a run of it is ERM: :class:`~zmixlib.runspec.RunSpec` rejects it by name).
        num_mix: ``T`` (default ``B``, the papers' setting); ``num_mix=2`` is the Table 8 ablation.
        num_classes: ``K``, required for index labels.
        generator: source of randomness (see module docstring).

    Returns:
        ``x_mix`` ``(B, ...)`` like ``x`` (dtype, device, memory format) and ``y_mix`` ``(B, K)``
        float with rows summing to 1; with distinct labels each row has exactly ``T`` non-zeros.

    Used in notebooks 01, 02, 03 (mixing), 04–08 (training), 09 (timing), 10 (input-space baseline).
    """
    batch, ys = _prepare(x, y, num_classes)
    num_mix = batch if num_mix is None else check_int("num_mix", num_mix, min=2, max=batch)
    lo, hi = _check_gamma(gamma)
    gdev = _gen_device(generator, x.device)
    g = lo if lo == hi else _sample_in_range(lo, hi, (), generator, gdev, torch.float64)
    w = _zeta_weights(batch, num_mix, g, generator, gdev, ys.dtype).to(x.device, non_blocking=True)
    rows, unflatten = _as_rows(x)
    x_mix = unflatten(_mix_rows(w.to(x.dtype), rows))
    return x_mix, torch.mm(w, ys)


# ----------------------------------------------------------------------------------------------
# mixup (and manifold mixup)
# ----------------------------------------------------------------------------------------------


def sample_mixup(
    batch_size: int,
    *,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor]:
    """Draw mixup's randomness: a partner permutation ``π`` ``(B,)`` then ``λ ~ Beta(α, α)`` (0-d, float64).

    Both live on ``device`` (default: the generator's device). ``pair_weights(λ, π)`` turns them into
    the matrix form ``λ I + (1 − λ) Π`` (paper 003 Eqs. 3–5).
    """
    batch_size = check_int("batch_size", batch_size, min=2)
    a, _ = _check_alpha_range(alpha)
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


def _pairwise_mix(x: Tensor, ys: Tensor, lam: Tensor, partner: Tensor) -> tuple[Tensor, Tensor]:
    """``λ_i x_i + (1 − λ_i) x_partner(i)`` for a scalar or per-row ``λ`` (float64, on x's device)."""
    shape_x = (-1,) + (1,) * (x.ndim - 1) if lam.ndim else ()
    shape_y = (-1, 1) if lam.ndim else ()
    # gather the partners (one new tensor, memory format kept), then interpolate in place into it
    x_mix = x[partner].lerp_(x, lam.to(x.dtype).reshape(shape_x))
    y_mix = ys[partner].lerp_(ys, lam.to(ys.dtype).reshape(shape_y))
    return x_mix, y_mix


def mixup(
    x: Tensor,
    y: Tensor,
    *,
    alpha: float = 1.0,
    num_classes: int | None = None,
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


# ----------------------------------------------------------------------------------------------
# Dirichlet mixup (Table 8 ablation)
# ----------------------------------------------------------------------------------------------


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
    lo, hi = _check_alpha_range(alpha)
    gdev = _gen_device(generator, device)
    a = _sample_in_range(lo, hi, (num_rows,), generator, gdev, torch.float64)
    w = _dirichlet(a, batch_size, generator).to(dtype)
    return w.to(torch.device(device) if device is not None else gdev)


def dirichlet_mixup(
    x: Tensor,
    y: Tensor,
    *,
    alpha: float = 1.0,
    num_classes: int | None = None,
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
    return unflatten(_mix_rows(w.to(x.dtype), rows)), torch.mm(w, ys)


# ----------------------------------------------------------------------------------------------
# CutMix and CutMix + ζ-mixup
# ----------------------------------------------------------------------------------------------


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
    One box and one partner permutation per batch. Reads the box back to the host (one sync).
    """
    batch_size = check_int("batch_size", batch_size, min=2)
    height = check_int("height", height, min=1)
    width = check_int("width", width, min=1)
    a, _ = _check_alpha_range(alpha)
    gdev = _gen_device(generator, device)
    perm = torch.randperm(batch_size, generator=generator, device=gdev)
    lam0 = _beta_symmetric(a, (), generator, gdev)
    cy = torch.randint(height, (), generator=generator, device=gdev)
    cx = torch.randint(width, (), generator=generator, device=gdev)
    lam0, cy, cx = float(lam0), int(cy), int(cx)
    cut = math.sqrt(1.0 - lam0)
    cut_h, cut_w = int(height * cut), int(width * cut)
    y0, y1 = min(max(cy - cut_h // 2, 0), height), min(max(cy + cut_h // 2, 0), height)
    x0, x1 = min(max(cx - cut_w // 2, 0), width), min(max(cx + cut_w // 2, 0), width)
    lam = 1.0 - (y1 - y0) * (x1 - x0) / (height * width)
    out = torch.device(device) if device is not None else gdev
    return CutMixSample(perm.to(out), (y0, y1, x0, x1), lam)


def _check_images(x: Any, fn: str) -> None:
    if isinstance(x, Tensor) and x.ndim != 4:
        raise ValueError(f"{fn} needs images of shape (B, C, H, W), got a tensor of shape {tuple(x.shape)}")


def cutmix(
    x: Tensor,
    y: Tensor,
    *,
    alpha: float = 1.0,
    prob: float = 1.0,
    num_classes: int | None = None,
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
    if prob < 1.0 and float(torch.rand((), generator=generator, device=_gen_device(generator, x.device))) >= prob:
        return x.clone(), ys
    s = sample_cutmix(batch, x.shape[2], x.shape[3], alpha=alpha, generator=generator)
    return _apply_cutmix(x, ys, s)


def _apply_cutmix(x: Tensor, ys: Tensor, s: CutMixSample) -> tuple[Tensor, Tensor]:
    perm = s.perm.to(x.device)
    y0, y1, x0, x1 = s.box
    x_mix = x.clone()  # preserve_format
    if y1 > y0 and x1 > x0:
        x_mix[:, :, y0:y1, x0:x1] = x[:, :, y0:y1, x0:x1][perm]
    y_mix = torch.lerp(ys[perm], ys, s.lam)
    return x_mix, y_mix


def cutmix_zeta(
    x: Tensor,
    y: Tensor,
    *,
    mode: str = "switch",
    prob: float = 0.5,
    alpha: float = 1.0,
    gamma: _Range = (GAMMA_MIN, 4.0),
    num_mix: int | None = None,
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """CutMix combined with ζ-mixup (paper 000 Table 5; MIDL paper).

    **The papers do not define how the two are combined; this is our choice** (DESIGN.md):

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
    _check_gamma(gamma)
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


# ----------------------------------------------------------------------------------------------
# Local synthetic instances (Brown et al. 2015) — the timing baseline of Table 9
# ----------------------------------------------------------------------------------------------


def local_synthetic_instances(
    x: Tensor,
    y: Tensor,
    *,
    p_range: _Range = (1.2, 3.0),
    num_mix: int | None = None,
    num_synthetic: int | None = None,
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Local synthetic instances (LSI; Brown et al., MICCAI 2015), the ancestor of ζ-mixup.

    A faithful, **deliberately unoptimised** per-sample Python reference of the authors' LSI code
    (github.com/colinjosephbrown/LSI), which paper 000 times in Table 9 (≈110× slower than ζ-mixup).
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


# ----------------------------------------------------------------------------------------------
# k-mixup (Greenewald et al. 2023)
# ----------------------------------------------------------------------------------------------


def _cost(a: Tensor, b: Tensor, metric: str) -> Tensor:
    """Batched cost ``(..., k, k)`` between rows of ``a`` and ``b`` ``(..., k, D)``, float64, exact."""
    a, b = a.to(torch.float64), b.to(torch.float64)
    d = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")
    return d if metric == "euclidean" else d.square()


def optimal_matching(a: Tensor, b: Tensor, *, metric: str = "euclidean") -> Tensor:
    """Exact optimal assignment ``σ`` between two equal-size sets (Hungarian; scipy).

    Minimises ``Σ_i c(a_i, b_σ(i))`` with ``c`` the Euclidean (``metric="euclidean"``, as in the
    k-mixup code's ``scipy.spatial.distance_matrix``) or squared Euclidean distance
    (``"sqeuclidean"``, the ``W₂²`` of the k-mixup paper's text).

    Args:
        a, b: one problem ``(k, D)`` (1-D or 2-D), or a batch of ``n`` problems ``(n, k, ...)``
            (3-D or more; dims after the second are flattened into the feature dim).
        metric: ``"euclidean"`` or ``"sqeuclidean"``.

    Returns:
        ``σ`` ``(k,)`` or ``(n, k)`` int64 on ``a``'s device: ``a[i]`` is matched to ``b[σ[i]]``.
    """
    from scipy.optimize import linear_sum_assignment

    check_choice("metric", metric, ("euclidean", "sqeuclidean"))
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    single = a.ndim <= 2
    if single:
        a, b = a.reshape(1, a.shape[0], -1), b.reshape(1, b.shape[0], -1)
    else:
        a, b = a.reshape(a.shape[0], a.shape[1], -1), b.reshape(b.shape[0], b.shape[1], -1)
    cost = to_numpy(_cost(a, b, metric))
    sigma = torch.empty(cost.shape[:2], dtype=torch.long)
    for n, c in enumerate(cost):
        rows, cols = linear_sum_assignment(c)
        sigma[n, torch.as_tensor(rows)] = torch.as_tensor(cols)
    sigma = sigma.to(a.device)
    return sigma[0] if single else sigma


class KMixupSample(NamedTuple):
    """k-mixup randomness: random partner ``perm``, OT-matched ``partner`` ``(B,)``, ``lam`` ``(B,)`` float64."""

    perm: Tensor
    partner: Tensor
    lam: Tensor


def _subset_sizes(batch: int, k: int) -> list[int]:
    """Sizes of the consecutive k-subsets of a batch: ``⌊B/k⌋`` times ``k``, then the remainder ``B mod k`` if any."""
    return [k] * (batch // k) + ([batch % k] if batch % k else [])


def sample_kmixup(
    x: Tensor,
    *,
    k: int = 16,
    alpha: float = 1.0,
    lam_mode: str = "batch",
    metric: str = "euclidean",
    generator: torch.Generator | None = None,
) -> KMixupSample:
    """Draw k-mixup's randomness for a batch ``x`` ``(B, ...)``.

    The batch (already shuffled by the loader) is split into consecutive subsets of size ``k``; a
    random permutation ``π`` of the batch, split the same way, supplies the random partner subsets
    (the k-mixup code draws the two from two shuffled loaders — equivalent). Within each subset pair
    the partner is re-ordered by the exact optimal matching on the flattened inputs.

    **A batch size not divisible by k** (the last, short batch of an epoch) is handled as the authors'
    code does (github.com/AnmingGu/kmixup-cifar10, ``mixup_data``: ``⌈B/k⌉`` diagonal blocks of the
    cost matrix): the ``r = B mod k`` trailing samples form one smaller subset, matched optimally with
    the last ``r`` entries of ``π``. A batch smaller than ``k`` is one subset of size ``B``. Every
    sample is mixed; ``r = 1`` pairs the last sample with ``π``'s last entry (plain mixup).

    ``λ ~ Beta(α, α)``: one per batch (``lam_mode="batch"``, default — the paper's pseudocode and
    the authors' code draw ``np.random.beta(α, α)`` once per batch) or one per subset pair
    (``"subset"``, the remainder subset included: ``⌈B/k⌉`` draws). Draw order: ``π``, then ``λ``.
    With ``k = 1`` and ``lam_mode="batch"`` this is exactly ``sample_mixup``.

    Args:
        x: the batch ``(B, ...)``, ``B ≥ 2``, floating dtype (read only, never modified).
        k: subset size ``≥ 1`` (any ``k``: ``B`` need not be divisible by it).
        alpha: ``α > 0``. lam_mode: ``"batch"`` or ``"subset"``.
        metric: matching cost, ``"euclidean"`` or ``"sqeuclidean"`` (see ``optimal_matching``).
        generator: randomness.

    Returns:
        ``KMixupSample(perm, partner, lam)``: output ``i`` mixes ``x[i]`` with ``x[partner[i]]`` by
        ``lam[i]``; ``partner`` is a permutation of the batch that maps each subset onto the
        matching subset of ``perm``; ``lam`` ``(B,)`` float64 (one value throughout for ``"batch"``).
    """
    batch = _check_x(x)
    k = check_int("k", k, min=1)
    a, _ = _check_alpha_range(alpha)
    check_choice("lam_mode", lam_mode, ("batch", "subset"))
    check_choice("metric", metric, ("euclidean", "sqeuclidean"))
    gdev = _gen_device(generator, x.device)
    perm = torch.randperm(batch, generator=generator, device=gdev).to(x.device)
    sizes = _subset_sizes(batch, k)
    if lam_mode == "subset":
        lam = _beta_symmetric(a, (len(sizes),), generator, gdev)
        lam = lam.repeat_interleave(torch.tensor(sizes, device=gdev), output_size=batch)
    else:
        lam = _beta_symmetric(a, (), generator, gdev).expand(batch)
    partner = perm
    if k > 1:
        with torch.no_grad():
            flat = x.detach().reshape(batch, -1)
            n_full, full = batch // k, (batch // k) * k
            parts = []
            if n_full:  # the full k-subsets, as one batch of assignment problems
                sigma = optimal_matching(
                    flat[:full].reshape(n_full, k, -1), flat[perm[:full]].reshape(n_full, k, -1), metric=metric
                )
                parts.append(perm[:full].reshape(n_full, k).gather(1, sigma).reshape(full))
            if full < batch:  # the remainder subset, matched the same way
                rest = perm[full:]
                parts.append(rest[optimal_matching(flat[full:], flat[rest], metric=metric)])
            partner = torch.cat(parts)
    return KMixupSample(perm, partner, lam.to(x.device))


def kmixup(
    x: Tensor,
    y: Tensor,
    *,
    k: int = 16,
    alpha: float = 1.0,
    lam_mode: str = "batch",
    metric: str = "euclidean",
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """k-mixup: displacement interpolation between optimally matched k-subsets (paper 004 §2).

    ``x̂_i = λ x_i + (1 − λ) x_σ(i)`` where ``σ`` is the optimal assignment (Hungarian,
    ``scipy.optimize.linear_sum_assignment`` on the Euclidean distances of the flattened inputs)
    between the subset containing ``i`` and a random partner subset; labels likewise. ``k = 1`` is
    mixup. See ``sample_kmixup`` for the sampling (including a batch size not divisible by ``k``: the
    remainder is matched as one smaller subset, as in the authors' code) and
    ``kmixup_alpha_for_xi`` for choosing ``α``.

    Args:
        x: inputs ``(B, ...)``, any ``B ≥ 2``.
        y: indices ``(B,)`` or probabilities ``(B, K)``.
        k: subset size ``≥ 1`` (default 16, the paper's heuristic).
        alpha: ``α > 0`` of ``Beta(α, α)``.
        lam_mode: ``"batch"`` (one ``λ`` per batch, default: the paper's pseudocode and the authors'
            code) or ``"subset"`` (one ``λ`` per subset pair).
        metric: matching cost, ``"euclidean"`` (default, as the authors' code) or ``"sqeuclidean"``.
        num_classes: ``K`` for index labels. generator: randomness.

    Returns:
        ``x_mix`` like ``x`` and ``y_mix`` ``(B, K)`` with rows summing to 1.

    Used in notebook 10 (peers).
    """
    _, ys = _prepare(x, y, num_classes)
    s = sample_kmixup(x, k=k, alpha=alpha, lam_mode=lam_mode, metric=metric, generator=generator)
    lam = s.lam if lam_mode == "subset" else s.lam[0]
    return _pairwise_mix(x, ys, lam, s.partner)


class AlphaForXi(NamedTuple):
    """Result of ``kmixup_alpha_for_xi`` (paper 004, Algorithm 1)."""

    alpha: float  # α_k, the output of Algorithm 1
    xi: float  # target root-mean-squared perturbation √(ξ̄₁ λ̄₁) (the ξ of the paper's tables)
    xi_k: float  # achieved √(ξ̄_k λ̄_k) at α_k
    msd_1: float  # ξ̄₁: mean squared distance between two random points
    msd_k: float  # ξ̄_k: mean squared W₂ distance between two random k-samples
    lam_1: float  # λ̄₁ = E min(λ², (1−λ)²), λ ~ Beta(α₁, α₁)
    lam_k: float  # λ̄_k at α_k


def kmixup_alpha_for_xi(
    data: Tensor,
    *,
    k: int,
    alpha: float = 1.0,
    xi: float | None = None,
    num_trials: int = 1000,
    c: float = 1.05,
    alpha_max: float = 1000.0,
    generator: torch.Generator | None = None,
) -> AlphaForXi:
    """Choose ``α_k`` so k-mixup keeps 1-mixup's root-mean-squared perturbation ``ξ`` (paper 004, Alg. 1).

    Algorithm 1 (``N = num_trials``, ``c > 1``, threshold ``γ = alpha_max``):

    1. ``ξ̄₁`` ← mean over ``N`` trials of ``‖x_i − x_j‖²`` for two random points of ``data``;
    2. ``ξ̄_k`` ← mean over ``⌈N/k⌉`` trials of ``W₂²`` between two random ``k``-samples (each drawn
       without replacement; exact assignment on squared Euclidean costs, ``W₂² = (1/k) Σ ‖·‖²``);
    3. ``λ̄₁`` ← mean over ``N`` draws of ``min(λ², (1−λ)²)``, ``λ ~ Beta(α₁, α₁)``;
    4. ``ξ² ← ξ̄₁ λ̄₁`` (or ``xi²`` when ``xi`` is given: a target RMS perturbation directly);
    5. ``α_k ← α₁``, ``λ̄_k ← λ̄₁``;
    6. while ``λ̄_k ξ̄_k < ξ²`` and ``α_k < γ``: ``α_k ← c α_k`` and re-estimate ``λ̄_k`` (``N`` draws).

    The product ``λ̄ ξ̄`` is the mean squared distance of a mixed point from its nearest endpoint.
    Since ``λ̄ ≤ 1/4``, a large ``ξ`` may be unreachable for large ``k``: the loop then stops at
    ``alpha_max``.

    Args:
        data: the dataset of interest ``(N_data, ...)`` (flattened per sample), ``N_data ≥ k``.
        k: subset size ``≥ 1``.
        alpha: ``α₁`` used by 1-mixup (``> 0``).
        xi: optional target RMS perturbation ``> 0`` replacing steps 1, 3, 4.
        num_trials: ``N ≥ 1``. c: growth factor ``> 1``. alpha_max: threshold ``γ > 0``.
        generator: randomness.

    Returns:
        ``AlphaForXi(alpha, xi, xi_k, msd_1, msd_k, lam_1, lam_k)`` — ``alpha`` is ``α_k``.

    Used in notebook 10 (k-mixup sweeps over ``k`` at fixed ``ξ``).
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"data must be a torch.Tensor, got {type(data).__name__}")
    n_data = data.shape[0] if data.ndim else 0
    k = check_int("k", k, min=1)
    if n_data < max(k, 2):
        raise ValueError(f"data must hold at least max(k, 2) = {max(k, 2)} samples, got {n_data}")
    a1 = check_float("alpha", alpha, min=0.0, min_open=True)
    num_trials = check_int("num_trials", num_trials, min=1)
    c = check_float("c", c, min=1.0, min_open=True)
    alpha_max = check_float("alpha_max", alpha_max, min=0.0, min_open=True)
    if xi is not None:
        xi = check_float("xi", xi, min=0.0, min_open=True)
    gdev = _gen_device(generator, data.device)
    flat = data.detach().reshape(n_data, -1).to(torch.float64)

    def lam_bar(a: float) -> float:
        lam = _beta_symmetric(a, (num_trials,), generator, gdev)
        return float(torch.minimum(lam.square(), (1 - lam).square()).mean())

    i = torch.randint(n_data, (num_trials,), generator=generator, device=gdev).to(flat.device)
    j = torch.randint(n_data, (num_trials,), generator=generator, device=gdev).to(flat.device)
    msd_1 = float((flat[i] - flat[j]).square().sum(1).mean())
    n_k = max(1, math.ceil(num_trials / k))
    if k == 1:  # a 1-sample is a random point; the matching is trivial
        idx = torch.randint(n_data, (2 * n_k, 1), generator=generator, device=gdev)
    else:  # k distinct points per sample
        idx = torch.stack([torch.randperm(n_data, generator=generator, device=gdev)[:k] for _ in range(2 * n_k)])
    sets = flat[idx.to(flat.device)].reshape(2, n_k, k, -1)
    if k > 1:
        sigma = optimal_matching(sets[0], sets[1], metric="sqeuclidean")
        sets[1] = sets[1].gather(1, sigma.unsqueeze(-1).expand_as(sets[1]))
    msd_k = float((sets[0] - sets[1]).square().sum(-1).mean())
    lam_1 = lam_bar(a1)
    target = xi * xi if xi is not None else msd_1 * lam_1
    alpha_k, lam_k = a1, lam_1
    while lam_k * msd_k < target and alpha_k < alpha_max:
        alpha_k *= c
        lam_k = lam_bar(alpha_k)
    return AlphaForXi(alpha_k, math.sqrt(target), math.sqrt(lam_k * msd_k), msd_1, msd_k, lam_1, lam_k)


# ----------------------------------------------------------------------------------------------
# MultiMix and Dense MultiMix (Venkataramanan et al. 2023)
# ----------------------------------------------------------------------------------------------


def multimix_weights(
    batch_size: int,
    *,
    n: int = 1000,
    alpha: _Range = (0.5, 2.0),
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """MultiMix interpolation vectors ``Λᵀ`` ``(n, B)``: row ``k`` is ``λ_k ~ Dir(α_k · 1_B)``, ``α_k ~ U[alpha]``.

    Rows are non-negative and sum to 1 (paper 003 §3.2 and §4.6: ``α ~ U[0.5, 2]`` per vector).
    """
    n = check_int("n", n, min=1)
    return dirichlet_weights(batch_size, alpha, num_rows=n, generator=generator, device=device, dtype=dtype)


def multimix_coin(prob: float, *, generator: torch.Generator | None = None, device: Any = None) -> bool:
    """The per-mini-batch branch of MultiMix's training protocol (paper 003 §4.1, after manifold mixup):
    ``True`` — MultiMix — with probability ``prob``, ``False`` — mixup — otherwise.

    One uniform draw from ``generator`` when ``prob < 1`` (read back to the host: one sync on CUDA); none when
    ``prob = 1``. :func:`multimix` draws it first; the engine (``zmixlib.train``) draws it itself to apply
    the mixup branch to the *inputs*, as the paper does.
    """
    prob = check_float("prob", prob, min=0.0, max=1.0)
    if prob >= 1.0:
        return True
    return float(torch.rand((), generator=generator, device=_gen_device(generator, device))) < prob


def multimix(
    z: Tensor,
    y: Tensor,
    *,
    n: int = 1000,
    alpha: _Range = (0.5, 2.0),
    prob: float = 1.0,
    mixup_alpha: float = 1.0,
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """MultiMix: ``n ≫ B`` convex combinations of the whole batch in embedding space (paper 003 Eqs. 6–7).

    ``Z̃ = Z Λ``, ``Ỹ = Y Λ`` with ``Λ = (λ_1 … λ_n) ∈ R^{B×n}``, ``λ_k ~ Dir(α_k 1_B)`` and
    ``α_k ~ U[0.5, 2]`` per generated example (``alpha`` may also be a fixed ``α > 0``). Here in
    row-major form: ``z_mix = Λᵀ z``.

    The paper trains with MultiMix on a mini-batch with probability 0.5 and input mixup otherwise (§4.1):
    ``prob < 1`` draws that coin first (:func:`multimix_coin`); on the mixup branch this function returns
    ``mixup(z, y, alpha=mixup_alpha)`` of the tensor it was given (``B`` examples, not ``n``). Called on
    embeddings, that branch is embedding-space mixup; ``zmixlib.train`` instead draws the coin itself and
    mixes the *inputs* on that branch, as the paper does.

    Args:
        z: embeddings ``(B, d)`` (any ``(B, ...)`` works), floating dtype.
        y: indices ``(B,)`` or probabilities ``(B, K)``.
        n: number of generated examples ``≥ 1`` (default 1000, the paper's).
        alpha: Dirichlet ``α`` range ``(low, high)`` or a fixed ``α > 0``.
        prob: probability in ``[0, 1]`` of MultiMix per call (default 1: always; the paper trains with 0.5).
        mixup_alpha: ``Beta(α, α)`` of the mixup branch (``prob < 1``).
        num_classes: ``K`` for index labels. generator: randomness (the coin comes first).

    Returns:
        ``z_mix`` ``(n, d)`` and ``y_mix`` ``(n, K)``: convex combinations (rows sum to 1) — ``(B, d)`` and
        ``(B, K)`` on the mixup branch.

    Used in notebook 10 (peers).
    """
    batch, ys = _prepare(z, y, num_classes)
    n = check_int("n", n, min=1)
    if not multimix_coin(prob, generator=generator, device=z.device):
        return mixup(z, ys, alpha=mixup_alpha, generator=generator)
    lam = multimix_weights(batch, n=n, alpha=alpha, generator=generator, dtype=ys.dtype).to(z.device)
    rows, unflatten = _as_rows(z)
    return unflatten(_mix_rows(lam.to(z.dtype), rows)), torch.mm(lam, ys)


def multimix_attention(z_map: Tensor, *, nonlinearity: str = "softmax") -> Tensor:
    """Attention maps of Dense MultiMix, ``a_i = h(z_iᵀ u_i)`` with ``u_i = z_i 1_r / r`` (GAP), Eq. 9.

    Args:
        z_map: embeddings ``(B, d, r)``.
        nonlinearity: ``h``: ``"softmax"`` over positions, or ``"relu"`` followed by ℓ1 normalisation.

    Returns:
        ``(B, r)`` non-negative, rows summing to 1 (a ReLU row of zeros falls back to uniform).
    """
    check_choice("nonlinearity", nonlinearity, ("softmax", "relu"))
    if not isinstance(z_map, Tensor) or z_map.ndim != 3:
        shape = tuple(z_map.shape) if isinstance(z_map, Tensor) else type(z_map).__name__
        raise ValueError(f"z_map must have shape (B, d, r), got {shape}")
    u = z_map.mean(dim=2, keepdim=True)  # (B, d, 1)
    s = (z_map * u).sum(dim=1)  # (B, r)
    if nonlinearity == "softmax":
        return torch.softmax(s, dim=1)
    a = F.relu(s)
    tot = a.sum(dim=1, keepdim=True)
    return torch.where(tot > 0, a / tot.clamp_min(torch.finfo(a.dtype).tiny), torch.full_like(a, 1.0 / a.shape[1]))


def dense_multimix(
    z_map: Tensor,
    y: Tensor,
    attention: Tensor | None = None,
    *,
    n: int = 1000,
    alpha: _Range = (0.5, 2.0),
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Dense MultiMix: attention-weighted interpolation at every spatial position (paper 003 Eqs. 10–14).

    For each position ``j = 1..r`` and generated example ``k = 1..n``: ``λ_k^j ~ Dir(α 1_B)`` (``α``
    drawn per interpolation vector from ``alpha``), then

    * ``M^j = diag(a^j) Λ^j`` (10) — rows scaled by the attention ``a^j = (a_1^j … a_B^j)``,
    * ``M̂^j = M^j diag(1_Bᵀ M^j)^{-1}`` (11) — columns ℓ1-renormalised to convex combinations,
    * ``Z̃^j = Z^j M̂^j`` (12), ``Ỹ^j = Y M̂^j`` (13) — each position inherits its example's label,
    * loss weights ``s^j = 1_Bᵀ M^j`` (14): positions mixed from low-attention examples count less.

    The loss (14) is ``Σ_k s_kj CE(ỹ_kj, p_kj) / Σ_k s_kj`` at each position, averaged over
    positions: ``soft_cross_entropy(logits (n, r, K), y_mix, weight=s)`` computes exactly that.

    Args:
        z_map: embeddings ``(B, d, r)`` (flatten spatial dims first: ``z.flatten(2)``).
        y: indices ``(B,)`` or probabilities ``(B, K)``.
        attention: ``(B, r)`` non-negative (e.g. ``multimix_attention(z_map)``); ``None`` = uniform.
        n: generated examples per position. alpha: Dirichlet ``α`` range or fixed value.
        num_classes: ``K`` for index labels. generator: randomness.

    Returns:
        ``z_mix`` ``(n, d, r)``, ``y_mix`` ``(n, r, K)`` (rows sum to 1) and weights ``s`` ``(n, r)``.

    Used in notebook 10 (peers).
    """
    if isinstance(z_map, Tensor) and z_map.ndim != 3:
        raise ValueError(
            f"z_map must have shape (B, d, r) (flatten spatial dims: z.flatten(2)), got {tuple(z_map.shape)}"
        )
    batch, ys = _prepare(z_map, y, num_classes)
    r = z_map.shape[2]
    n = check_int("n", n, min=1)
    lo, hi = _check_alpha_range(alpha)
    if attention is None:
        attention = torch.full((batch, r), 1.0 / r, dtype=ys.dtype, device=z_map.device)
    elif not isinstance(attention, Tensor) or tuple(attention.shape) != (batch, r):
        shape = tuple(attention.shape) if isinstance(attention, Tensor) else type(attention).__name__
        raise ValueError(f"attention must have shape (B, r) = ({batch}, {r}), got {shape}")
    gdev = _gen_device(generator, z_map.device)
    a_k = _sample_in_range(lo, hi, (n * r,), generator, gdev, torch.float64)
    lam = _dirichlet(a_k, batch, generator).reshape(n, r, batch).to(device=z_map.device, dtype=ys.dtype)
    m = lam * attention.to(ys.dtype).t().unsqueeze(0)  # (n, r, B): M^j_{ik} = a_i^j λ_{ik}^j  (10)
    s = m.sum(dim=2)  # (n, r)  (14)
    # (11); where the attention of every mixed example is 0 at a position (a softmax over wide-spread scores,
    # e.g. ResNet-18's 512 channels, underflows), M^j has a zero column: that position keeps the plain
    # interpolation λ (still a convex combination) and its loss weight s stays 0 (soft_cross_entropy leaves it out)
    tiny = torch.finfo(s.dtype).tiny  # below the smallest normal number, s counts as 0 (1/s would overflow)
    m_hat = torch.where((s >= tiny).unsqueeze(2), m / s.clamp_min(tiny).unsqueeze(2), lam)
    z_mix = torch.bmm(m_hat.transpose(0, 1).to(z_map.dtype), z_map.permute(2, 0, 1))  # (r, n, d)  (12)
    z_mix = z_mix.permute(1, 2, 0).contiguous()  # (n, d, r)
    y_mix = torch.matmul(m_hat, ys)  # (n, r, K)  (13)
    return z_mix, y_mix, s


# ----------------------------------------------------------------------------------------------
# ERM, loss, registry, Mixer
# ----------------------------------------------------------------------------------------------


def erm(
    x: Tensor, y: Tensor, *, num_classes: int | None = None, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """No mixing (empirical risk minimisation): returns ``x`` itself (not a copy) and one-hot soft labels ``(B, K)``.

    ``generator`` is accepted for a uniform interface and unused. Used in notebooks 04–08.
    """
    _, ys = _prepare(x, y, num_classes)
    return x, ys


def soft_cross_entropy(
    logits: Tensor, y_soft: Tensor, *, label_smoothing: float = 0.0, weight: Tensor | None = None
) -> Tensor:
    """Cross-entropy against soft labels: ``mean_i −Σ_c ỹ_ic log softmax(z_i)_c``.

    ``ỹ = (1 − ε) y + ε / K`` with ``ε = label_smoothing``. Computed in at least float32.

    Args:
        logits: ``(N, K)`` or ``(N, r, K)`` (dense, e.g. Dense MultiMix).
        y_soft: probabilities of the same shape.
        label_smoothing: ``ε ∈ [0, 1]``.
        weight: optional ``(N,)`` or ``(N, r)`` non-negative weights over dim 0: the loss is then
            ``Σ_i w_i ℓ_i / Σ_i w_i`` (per position, then averaged over positions) — MultiMix Eq. 14. A position
            whose weights are all 0 (or sum below the smallest normal float) is left out of the average (not
            0 / 0); all of them 0 gives a loss of 0.

    Returns:
        0-d tensor, the mean loss. Used by ``zmixlib.train`` (notebooks 04–08, 10).
    """
    if not isinstance(logits, Tensor) or not isinstance(y_soft, Tensor):
        raise TypeError("logits and y_soft must be torch.Tensors")
    if logits.shape != y_soft.shape:
        raise ValueError(f"y_soft must have the shape of logits {tuple(logits.shape)}, got {tuple(y_soft.shape)}")
    eps = check_float("label_smoothing", label_smoothing, min=0.0, max=1.0)
    dt = torch.promote_types(logits.dtype, torch.float32)
    logp = torch.log_softmax(logits.to(dt), dim=-1)
    target = y_soft.to(dt)
    if eps:
        target = target * (1.0 - eps) + eps / logits.shape[-1]
    loss = -(target * logp).sum(dim=-1)  # (N,) or (N, r)
    if weight is None:
        return loss.mean()
    if weight.shape != loss.shape:
        raise ValueError(f"weight must have shape {tuple(loss.shape)}, got {tuple(weight.shape)}")
    w = weight.to(dt)
    total = w.sum(dim=0)  # () or (r,)
    # a position whose weights are all 0 (or sum below the smallest normal number, whose inverse overflows in the
    # gradient) has no loss to average: it is left out, never 0 / 0
    ok = total >= torch.finfo(dt).tiny
    per = (w * loss).sum(dim=0) / torch.where(ok, total, torch.ones_like(total))
    guarded = (per * ok).sum() / ok.sum().clamp_min(1)
    return torch.where(ok.all(), per.mean(), guarded)  # no sync; with every total > 0 exactly the plain mean


#: name → mixing function ``f(x, y, *, num_classes, generator, **hyperparameters) -> (x_mix, y_mix)``.
MIXERS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {
    "erm": erm,
    "mixup": mixup,
    "zeta_mixup": zeta_mixup,
    "dirichlet_mixup": dirichlet_mixup,
    "cutmix": cutmix,
    "cutmix_zeta": cutmix_zeta,
    "kmixup": kmixup,
    "local_synthetic_instances": local_synthetic_instances,
    "multimix": multimix,
}


def _finite_alpha(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        lo, hi = _check_alpha_range(value, name)
        if math.isinf(hi):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return value

    return check


def _optional_int(name: str, min: int) -> Callable[[Any], Any]:
    return lambda value: value if value is None else check_int(name, value, min=min)


def _p_range(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return check_range("p_range", value, min=0.0)
    return check_float("p_range", value, min=0.0)


#: hyperparameter -> its check, applied once when a :class:`Mixer` is built (the functions check again when called,
#: against the batch: ``num_mix <= B``, image shapes); ``alpha`` of ``dirichlet_mixup`` is a number only
_HP_CHECKS: dict[str, Callable[[Any], Any]] = {
    "gamma": _check_gamma,
    "alpha": _finite_alpha("alpha"),
    "mixup_alpha": _finite_alpha("mixup_alpha"),
    "num_mix": _optional_int("num_mix", 2),
    "num_synthetic": _optional_int("num_synthetic", 1),
    "prob": lambda v: check_float("prob", v, min=0.0, max=1.0),
    "mode": lambda v: check_choice("mode", v, ("switch", "compose")),
    "k": lambda v: check_int("k", v, min=1),
    "n": lambda v: check_int("n", v, min=1),
    "lam_mode": lambda v: check_choice("lam_mode", v, ("batch", "subset")),
    "metric": lambda v: check_choice("metric", v, ("euclidean", "sqeuclidean")),
    "p_range": _p_range,
}


def check_hparams(name: str, hp: dict[str, Any]) -> None:
    """Check every hyperparameter of mixer ``name`` at once — every branch's, whatever a coin would pick
    (``cutmix_zeta``'s ``alpha`` and ``gamma`` both): ``ValueError``/``TypeError`` naming the parameter and value.
    Called by :class:`Mixer` when it is built."""
    for key, value in hp.items():
        if name == "dirichlet_mixup" and key == "alpha":
            check_float("alpha", value, min=0.0, min_open=True)
            if math.isinf(value):
                raise ValueError(f"alpha must be finite, got {value!r}")
        elif key in _HP_CHECKS:
            _HP_CHECKS[key](value)


def _hyperparameters(fn: Callable[..., Any]) -> dict[str, Any]:
    sig = inspect.signature(fn)
    return {
        name: p.default
        for name, p in sig.parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("num_classes", "generator")
    }


class Mixer:
    """A mixing method bound to its hyperparameters, for training loops and DataLoaders.

    >>> mixer = Mixer("zeta_mixup", num_classes=10, gamma=2.4)
    >>> x_mix, y_mix = mixer(x, y)                                   # in a training loop
    >>> loader = DataLoader(ds, batch_size=32, collate_fn=mixer.collate_fn)   # or at collate time

    As a ``collate_fn`` with ``num_workers > 0``, every worker gets a copy of ``generator`` in the
    same state, so workers would repeat each other's draws: pass ``generator=None`` there (the
    DataLoader seeds each worker's global generator) or mix in the main process.

    Args:
        name: a key of ``MIXERS`` (``ValueError`` listing the known names otherwise).
        num_classes: ``K`` for index labels.
        generator: randomness for every call.
        **hp: the method's keyword hyperparameters (``TypeError`` naming an unknown one); all of them are
            checked here, at construction (:func:`check_hparams`: ``ValueError``/``TypeError`` naming the value).

    Used by ``zmixlib.train`` (notebooks 04–08, 10).
    """

    def __init__(
        self, name: str, *, num_classes: int | None = None, generator: torch.Generator | None = None, **hp: Any
    ):
        if name not in MIXERS:
            raise ValueError(f"unknown mixer {name!r}; known mixers: {sorted(MIXERS)}")
        allowed = _hyperparameters(MIXERS[name])
        for key in hp:
            if key not in allowed:
                raise TypeError(f"{name} got an unexpected hyperparameter {key!r}; allowed: {sorted(allowed)}")
        if num_classes is not None:
            num_classes = check_int("num_classes", num_classes, min=1)
        check_hparams(name, {**allowed, **hp})  # once, here: every branch's, not only the one a coin picks
        self.name = name
        self.fn = MIXERS[name]
        self.num_classes = num_classes
        self.generator = generator
        self.hparams = {**allowed, **hp}

    def __call__(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return self.fn(x, y, num_classes=self.num_classes, generator=self.generator, **self.hparams)

    def collate(self, batch: Sequence[Any]) -> tuple[Tensor, Tensor]:
        """Stack a list of ``(x, y)`` samples (``default_collate``), then mix: use as ``collate_fn``."""
        from torch.utils.data import default_collate

        x, y = default_collate(batch)
        return self(x, y)

    @property
    def collate_fn(self) -> Callable[[Sequence[Any]], tuple[Tensor, Tensor]]:
        return self.collate

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        return f"Mixer({self.name!r}, num_classes={self.num_classes}{', ' + hp if hp else ''})"
