"""The authors' ζ-mixup, as published, for side-by-side timing and distribution tests — not for training.

The official code (github.com/kakumarabhishek/zeta-mixup, listed in ζ-mixup's Listing A1, Abhishek et al.) builds
the ζ-weights on the CPU in NumPy: a random ranking per row (argsort of uniform noise), circularly shifted *via
the FFT* so that rank 1 lands on the diagonal, then ``rank^-γ`` normalised per row; the batch is mixed with
two einsums. :func:`zmixlib.mixing.zeta_weights` samples the same distribution directly on the device.

Used by :mod:`zmixlib.chapters.timing` (Table 9, ζ-weight generation; notebook 09) and ``tests/test_reference_impl.py``.
"""

from __future__ import annotations

import numpy as np
import torch

from zmixlib.core.checks import check_int

__all__ = ["authors_zeta_weights", "authors_zeta_mixup"]


def authors_zeta_weights(
    batch_size: int, gamma: float = 2.8, *, rng: np.random.Generator | None = None
) -> torch.Tensor:
    """The ζ-weights as the authors build them (``zeta_mixup_weights`` of the official code).

    Reproduced from its description, on the CPU in NumPy like the original: (1) per row a random
    ranking ``1..B`` — the argsort of uniform noise, plus 1; (2) the column where rank 1 fell, and
    the shift ``s_i = col_i − i`` that moves it onto the diagonal; (3) each row circularly shifted
    left by ``s_i`` *via the FFT* (``ifft(fft(row) · exp(2πi s_i k / B))``, real part, rounded);
    (4) ``w = rank^-γ``; (5) rows normalised to sum to 1. The original divides by the row sums
    broadcast along the wrong axis (harmless: all rows are permutations of one p-series, so every
    row sum is the same); here each row is divided by its own sum.

    Returns:
        ``(B, B)`` float32 CPU tensor: rows are permutations of the normalised p-series with the
        largest weight on the diagonal — the same distribution as ``zmixlib.mixing.zeta_weights``.
    """
    batch_size = check_int("batch_size", batch_size, min=2)
    rng = np.random.default_rng() if rng is None else rng
    ranks = np.argsort(rng.random((batch_size, batch_size)), axis=1) + 1
    _, col = np.nonzero(ranks == 1)
    shift = col - np.arange(batch_size)
    k = np.arange(batch_size)
    phase = np.exp(2j * np.pi / batch_size * shift[:, None] * k[None, :])
    ranks = np.real(np.fft.ifft(np.fft.fft(ranks, axis=1) * phase, axis=1)).round()
    w = torch.reciprocal(torch.from_numpy(ranks).pow(gamma).float())
    return w / w.sum(dim=1, keepdim=True)


def authors_zeta_mixup(
    x: torch.Tensor, y: torch.Tensor, *, num_classes: int, gamma: float = 2.8
) -> tuple[torch.Tensor, torch.Tensor]:
    """ζ-mixup as in its paper's Listing A1 (Abhishek et al.): CPU weights moved to ``x``'s device, two einsums.

    ``X̂ = einsum("ijkl,pi->pjkl", X, W)``, ``Ŷ = W · one_hot(Y)``. A timing reference only.
    """
    w = authors_zeta_weights(x.shape[0], gamma).to(device=x.device, dtype=x.dtype)
    x_new = torch.einsum("ijkl,pi->pjkl", x, w)
    y_onehot = torch.nn.functional.one_hot(y, num_classes).to(w.dtype)
    return x_new, torch.einsum("pq,qj->pj", w, y_onehot)
