"""Inputs and the arithmetic every mixing method shares: checks, soft labels, mixing rows by a weight matrix.

``apply_weights`` is the matrix form ``X̂ = W X``, ``Ŷ = W Y`` of ζ-mixup (Abhishek, Brown, Hamarneh, J Big Data
2024, Eq. 5), Dirichlet mixup and MultiMix (Venkataramanan et al., NeurIPS 2023); ``_pairwise_mix`` is the
``λ x + (1 − λ) x_partner`` of mixup (Zhang et al., ICLR 2018) and k-mixup (Greenewald et al., TMLR 2023).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from zmixlib.core.checks import check_int


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
    y: Tensor,
    *,
    batch_size: int | None = None,
    num_classes: int | None = None,
    dtype: torch.dtype = torch.float32,
    check: bool | None = None,
) -> Tensor:
    """Return labels as float probabilities ``(B, K)`` on ``y``'s device.

    Args:
        y: class indices ``(B,)`` (any integer dtype) or probabilities / one-hot rows ``(B, K)``.
        batch_size: if given, ``y`` must have exactly this many rows.
        num_classes: ``K``; required for index labels, checked against ``y.shape[1]`` otherwise.
        dtype: floating dtype of the result.
        check: range-check index labels against ``[0, K-1]`` — ``True``: always (on an accelerator this reads
            two integers back: one device sync); ``False``: never; ``None`` (default): only where it is free,
            i.e. for labels on the CPU outside ``torch.compile``. Unchecked out-of-range indices on an
            accelerator stop at the one-hot ``scatter_`` (a device-side assert, not silently wrong labels);
            check once, e.g. the first batch, with ``check=True`` (:class:`ZetaMix` does).

    Returns:
        ``(B, K)`` tensor; one-hot rows for index labels, ``y`` converted (a copy) otherwise.

    Raises:
        ValueError: wrong length, indices outside ``[0, K-1]`` (when checked), missing or mismatching
            ``num_classes``.
        TypeError: ``y`` is not a tensor, or 1-D but not integer.

    Everything but the range check depends on shapes and dtypes only, so under ``torch.compile`` this adds no
    graph break and no device sync.
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
    if check is None:
        check = y.device.type == "cpu" and not torch.compiler.is_compiling()
    if check and y.numel():
        lo, hi = (int(v) for v in torch.aminmax(y))
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"y must hold class indices in [0, {num_classes - 1}] (num_classes={num_classes}), "
                f"got values in [{lo}, {hi}]"
            )
    out = torch.zeros(y.shape[0], num_classes, dtype=dtype, device=y.device)
    return out.scatter_(1, y.long().unsqueeze(1), 1.0)


def _prepare(x: Tensor, y: Tensor, num_classes: int | None, check: bool | None = None) -> tuple[int, Tensor]:
    batch = _check_x(x)
    ys = soft_labels(y, batch_size=batch, num_classes=num_classes, dtype=_label_dtype(x, y), check=check)
    return batch, ys.to(x.device)


def _label_mm(w: Tensor, ys: Tensor) -> Tensor:
    """``w @ ys`` in the labels' own dtype, also inside ``torch.autocast``: labels stay float32 (or float64) with
    rows summing to 1 up to that dtype's rounding, whatever precision autocast gives the inputs' matmul."""
    with torch.autocast(ys.device.type, enabled=False):
        return torch.mm(w.to(ys.dtype), ys)


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

    Why (measured in notebook 09): with a small inner dimension ``B``, MKL's single GEMM
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


def apply_weights(x: Tensor, y: Tensor, weights: Tensor, *, num_classes: int | None = None) -> tuple[Tensor, Tensor]:
    """Mix a batch with a weight matrix: ``X̂ = W X``, ``Ŷ = W Y`` (ζ-mixup, J Big Data 2024, Eq. 5; one matmul).

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
    y_mix = _label_mm(w, ys)
    return x_mix, y_mix


def _pairwise_mix(x: Tensor, ys: Tensor, lam: Tensor, partner: Tensor) -> tuple[Tensor, Tensor]:
    """``λ_i x_i + (1 − λ_i) x_partner(i)`` for a scalar or per-row ``λ`` (float64, on x's device)."""
    shape_x = (-1,) + (1,) * (x.ndim - 1) if lam.ndim else ()
    shape_y = (-1, 1) if lam.ndim else ()
    # gather the partners (one new tensor, memory format kept), then interpolate in place into it
    x_mix = x[partner].lerp_(x, lam.to(x.dtype).reshape(shape_x))
    y_mix = ys[partner].lerp_(ys, lam.to(ys.dtype).reshape(shape_y))
    return x_mix, y_mix
