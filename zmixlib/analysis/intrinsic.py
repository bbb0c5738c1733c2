"""Local intrinsic dimension (ID): Fukunaga–Olsen local PCA, batched in torch.

J Big Data 2024, Sec. "Preserving the intrinsic dimensionality" (Fig. 6) and MIDL 2023 (k = 128 on
CIFAR-10/100) estimate the local ID of every point with scikit-dimension's
``skdim.id.lPCA(ver="FO", alphaFO=0.05)`` applied pointwise (``fit_transform_pw(X, n_neighbors=k)``).
For point ``i`` with neighbourhood ``N_k(i)`` (its ``k`` nearest *other* points, Euclidean):

    λ_1 ≥ λ_2 ≥ … = eigenvalues of the covariance of the centred rows X[N_k(i)]
    ID(i) = #{ j : λ_j > α · λ_1 }                      (Fukunaga & Olsen 1971, α = 5 %)

This is exactly what skdim computes (``get_nn`` calls ``NearestNeighbors(k).kneighbors()`` with no
query, which leaves the point itself out; ``PCA().fit`` centres). :func:`local_id` gives the same
per-point values, but instead of one scikit-learn PCA per point it gets all spectra with one batched
``eigvalsh`` per block of points, of the ``D×D`` scatter matrix or, when ``k < D`` (images), of the
``k×k`` Gram matrix, which has the same non-zero eigenvalues. The neighbourhoods come from blocked
matrix products and ``topk`` in torch on a GPU, and from scikit-learn's own search on a CPU (its k-d
tree beats an ``N²`` distance matrix there); both give skdim's neighbourhoods, exact distance ties
included (:func:`knn_indices`). Everything is float64, so the reference is skdim run on the float64
data.

Values can differ from skdim's only at numerical ties: two neighbours whose distances differ in the
last bits and are rounded differently by the two searches, or an eigenvalue within rounding of
``α · λ_1``. ``tests/test_intrinsic.py`` pins the agreement (all points equal on the manifolds and on
digits, whose integer pixels make exact ties common).

Used by ``notebooks/03_intrinsic_dimension.ipynb``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import skdim
import torch
from sklearn.neighbors import KDTree, NearestNeighbors
from threadpoolctl import threadpool_limits

from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.core.util import torch_threads

__all__ = [
    "knn_indices",
    "local_id",
    "local_id_skdim",
    "local_id_summary",
    "agreement",
]

# Bytes of float64 working memory one block may use (neighbourhood tensor or distance block): on a
# CPU small enough to stay in cache, on a GPU large enough to fill it.
_BLOCK_BYTES = {"cpu": 8 * 2**20, "cuda": 512 * 2**20}
# ... and for a block of the distance matrix (topk over long rows prefers fewer, larger blocks)
_DIST_BLOCK_BYTES = {"cpu": 128 * 2**20, "cuda": 512 * 2**20}


def _as_points(x: Any, device: torch.device | str | None) -> torch.Tensor:
    """Validate ``x`` as a 2-D float array/tensor and return it as float64 on ``device``."""
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"x must be a float array, got dtype {x.dtype}")
        x = torch.from_numpy(np.ascontiguousarray(x))
    elif not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor or numpy array, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a float tensor, got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (N, D), got a tensor of shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x must be finite, got NaN or inf entries")
    dev = x.device if device is None else torch.device(device)
    return x.to(device=dev, dtype=torch.float64)


def _check_k(k: Any, n: int) -> int:
    k = check_int("k", k, min=2)
    if k >= n:
        raise ValueError(f"k must be < the number of points N={n}, got {k}")
    return k


def _rows_per_block(
    n_cols: int, requested: int | None, n_rows: int, device: torch.device, budgets: dict[str, int] = _BLOCK_BYTES
) -> int:
    if requested is not None:
        return check_int("block_size", requested, min=1)
    budget = budgets.get(device.type, budgets["cpu"])
    return max(1, min(n_rows, budget // (8 * max(1, n_cols))))


def knn_indices(
    x: torch.Tensor | np.ndarray,
    k: int,
    *,
    method: str = "auto",
    device: torch.device | str | None = None,
    block_size: int | None = None,
    sort: bool = True,
) -> torch.Tensor:
    """Indices of each point's ``k`` nearest other points (Euclidean), nearest first.

    The point itself is excluded, as ``sklearn.neighbors.NearestNeighbors.kneighbors()`` (what skdim
    calls) does. Two searches give the same neighbourhoods:

    * ``"torch"`` — blocked brute force: ``|b|² − 2 a·b`` (the squared distance less the row's constant
      ``|a|²``) in float64, one ``addmm`` and one ``topk`` per block of rows, on CPU or GPU. Where the
      k-th distance is shared by more points than fit (exact ties, e.g. integer pixels), the tie is
      broken as scikit-learn's single-threaded brute-force search breaks it, by replaying its bounded
      max-heap over that row.
    * ``"sklearn"`` — scikit-learn's own search as ``NearestNeighbors`` runs it (a k-d tree for
      ``D ≤ 15`` and ``k < N/2``, brute force with OpenMP held to one thread otherwise). On a CPU with
      low ``D`` the tree avoids the ``N²`` distance matrix and is several times faster than brute force.

    ``"auto"`` uses ``"sklearn"`` for CPU tensors and ``"torch"`` on a GPU.

    Args:
        x: ``(N, D)`` float points.
        k: neighbours per point, ``2 ≤ k < N``.
        method: ``"auto" | "torch" | "sklearn"``.
        device: where to compute (default: ``x``'s device).
        block_size: rows per distance block for ``"torch"`` (default: ~128 MiB of float64 on CPU,
            512 MiB on GPU).
        sort: order each row nearest first; ``False`` lets the k-d tree skip sorting (the set is the same).

    Returns:
        ``(N, k)`` int64 tensor on ``device``.
    """
    check_choice("method", method, ("auto", "torch", "sklearn"))
    x = _as_points(x, device)
    n = x.shape[0]
    k = _check_k(k, n)
    if method == "sklearn" or (method == "auto" and x.device.type == "cpu"):
        return _knn_sklearn(x, k, sort=sort)
    rows = _rows_per_block(n, block_size, n, x.device, _DIST_BLOCK_BYTES)
    sq = (x * x).sum(1)
    out = torch.empty((n, k), dtype=torch.long, device=x.device)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        rd = torch.addmm(sq[None, :], x[start:stop], x.T, alpha=-2.0)  # (b, N): |y|² − 2 x·y
        local = torch.arange(stop - start, device=x.device)
        rd[local, local + start] = torch.inf
        vals, idx = torch.topk(rd, min(k + 1, n - 1), dim=1, largest=False, sorted=True)
        out[start:stop] = idx[:, :k]
        if k + 1 < n:
            tied = (vals[:, k] == vals[:, k - 1]).nonzero().squeeze(1)  # (k+1)-th ties the k-th
            if tied.numel():
                rd[tied, tied + start] = -torch.inf  # the query, first in sklearn's k + 1 search
                tied_rd = rd[tied].cpu().numpy()
                heap = _sklearn_heap_select(tied_rd, k + 1)
                kept = heap[heap != (tied.cpu().numpy() + start)[:, None]].reshape(len(tied), k)  # drop self
                order = np.argsort(np.take_along_axis(tied_rd, kept, axis=1), axis=1, kind="stable")
                out[start + tied] = torch.from_numpy(np.take_along_axis(kept, order, axis=1)).to(x.device)
    return out


def _knn_sklearn(x: torch.Tensor, k: int, *, sort: bool = True) -> torch.Tensor:

    pts = x.cpu().numpy()
    n, dim = pts.shape
    if dim <= 15 and k < n // 2:
        # what NearestNeighbors(k).kneighbors() does here ("auto" picks a k-d tree, leaf_size 30), without
        # its sorting when the caller needs no order (a quarter of the query time for k = 128)
        tree = KDTree(pts, leaf_size=30)
        chunks = np.array_split(np.arange(n), min(n, os.cpu_count() or 1))  # the tree queries release the GIL
        with ThreadPoolExecutor(len(chunks)) as pool:
            parts = list(pool.map(lambda c: tree.query(pts[c], k=k + 1, sort_results=sort), chunks))
        dist, idx = np.concatenate([d for d, _ in parts]), np.concatenate([i for _, i in parts])
        return torch.from_numpy(_drop_self(dist, idx)).to(device=x.device, dtype=torch.long)
    # brute force: one OpenMP thread, because how it breaks exact distance ties depends on its thread count
    with threadpool_limits(1, user_api="openmp"):
        _, idx = NearestNeighbors(n_neighbors=k).fit(pts).kneighbors()
    return torch.from_numpy(idx).to(device=x.device, dtype=torch.long)


def _drop_self(dist: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Remove each query point from its own ``k + 1`` neighbours, as ``kneighbors()`` does (where
    duplicates crowd it out, the nearest entry goes instead), keeping the order of the rest."""
    n = idx.shape[0]
    own = idx == np.arange(n)[:, None]
    missing = ~own.any(axis=1)
    if missing.any():  # duplicates: drop one entry at the smallest distance (sklearn drops the first)
        own[missing, np.argmin(dist[missing], axis=1)] = True
    own &= np.cumsum(own, axis=1) == 1  # exactly one per row
    return idx[~own].reshape(n, idx.shape[1] - 1)


def _sklearn_heap_select(values: np.ndarray, size: int) -> np.ndarray:
    """Replay ``sklearn.utils._heap.heap_push`` over each row's columns in order (a max-heap of ``size``
    that rejects values ``>=`` its root) and return the indices it keeps, ``(R, size)``, in heap order.

    Vectorised over rows; only rows with ties at the k-th distance go through it.
    """
    r, n = values.shape
    heap_v = np.full((r, size), np.inf)
    heap_i = np.full((r, size), -1, dtype=np.int64)
    for j in range(n):
        rows = np.nonzero(values[:, j] < heap_v[:, 0])[0]
        if rows.size == 0:
            continue
        val = values[rows, j]
        cur = np.zeros(rows.size, dtype=np.int64)
        moving = np.ones(rows.size, dtype=bool)
        while moving.any():
            left = 2 * cur + 1
            right = left + 1
            lv = np.where(left < size, heap_v[rows, np.minimum(left, size - 1)], -np.inf)
            rv = np.where(right < size, heap_v[rows, np.minimum(right, size - 1)], -np.inf)
            child = np.where(lv >= rv, left, right)  # sklearn: left unless right is strictly larger
            moving &= (left < size) & (val < np.maximum(lv, rv))
            m_rows, m_cur, m_child = rows[moving], cur[moving], child[moving]
            heap_v[m_rows, m_cur] = heap_v[m_rows, m_child]
            heap_i[m_rows, m_cur] = heap_i[m_rows, m_child]
            cur[moving] = m_child
        heap_v[rows, cur] = val
        heap_i[rows, cur] = j
    return heap_i


def _fo_count(eigenvalues: torch.Tensor, alpha: float) -> torch.Tensor:
    """Fukunaga–Olsen: how many eigenvalues exceed ``alpha`` × the largest (per row)."""
    top = eigenvalues.amax(dim=1, keepdim=True)
    return (eigenvalues > alpha * top).sum(dim=1)


def local_id(
    x: torch.Tensor | np.ndarray,
    k: int,
    *,
    alpha: float = 0.05,
    device: torch.device | str | None = None,
    block_size: int | None = None,
    knn: torch.Tensor | None = None,
    method: str = "auto",
) -> torch.Tensor:
    """Per-point local ID by Fukunaga–Olsen PCA over each point's ``k`` nearest neighbours.

    Same values as ``skdim.id.lPCA(ver="FO", alphaFO=alpha).fit_transform_pw(x, n_neighbors=k)``
    (see the module docstring for the definition and where the two can differ).

    Args:
        x: ``(N, D)`` float points (tensor or numpy array); not modified.
        k: neighbourhood size, ``2 ≤ k < N`` (the point itself is not counted).
        alpha: an eigenvalue counts if it exceeds ``alpha`` × the largest one; in ``(0, 1)``.
        device: where to compute (default: ``x``'s device); e.g. ``"cuda"``.
        block_size: points per batched eigen-decomposition (default: ~8 MiB of neighbourhoods on CPU,
            512 MiB on GPU).
        knn: optional precomputed ``(N, k)`` neighbour indices (as from :func:`knn_indices`).
        method: the neighbour search of :func:`knn_indices` (``"auto"``: scikit-learn's on CPU, torch's
            blocked brute force on GPU).

    Returns:
        ``(N,)`` int64 tensor of local IDs, each in ``[0, min(k − 1, D)]``, on ``device``.
    """
    alpha = check_float("alpha", alpha, min=0.0, max=1.0, min_open=True, max_open=True)
    x = _as_points(x, device)
    n, dim = x.shape
    k = _check_k(k, n)
    if knn is None:
        knn = knn_indices(x, k, method=method, sort=False)  # PCA needs the set, not its order
    elif tuple(knn.shape) != (n, k):
        raise ValueError(f"knn must have shape (N, k) = {(n, k)}, got {tuple(knn.shape)}")
    knn = knn.to(x.device)
    rows = _rows_per_block(k * (dim + min(k, dim)), block_size, n, x.device)
    out = torch.empty(n, dtype=torch.long, device=x.device)
    # Small per-point work (k · min(k, D) · max(k, D) < 10⁷ flops) runs on one CPU thread: the batched
    # ops are too small to share, and spinning OpenMP threads on a busy machine made them 5–10× slower.
    single = x.device.type == "cpu" and k * min(k, dim) * max(k, dim) < 10_000_000
    with torch_threads(1 if single else None):
        for start in range(0, n, rows):
            nb = x[knn[start : start + rows]]  # (b, k, D)
            nb = nb - nb.mean(dim=1, keepdim=True)
            # the D×D scatter and the k×k Gram matrix share their non-zero eigenvalues: use the smaller
            gram = nb.transpose(1, 2) @ nb if dim <= k else nb @ nb.transpose(1, 2)
            out[start : start + rows] = _fo_count(torch.linalg.eigvalsh(gram), alpha)
    return out


def local_id_skdim(x: Any, k: int, *, alpha: float = 0.05, n_jobs: int = 1) -> np.ndarray:
    """The reference: scikit-dimension's ``lPCA(ver="FO", alphaFO=alpha).fit_transform_pw(x, n_neighbors=k)``.

    Slow (one scikit-learn PCA per point); for checks and timing. It runs on one thread (OpenMP and
    BLAS pools held to 1, the ``n_jobs=1`` setting): how scikit-learn's kNN search breaks exact distance
    ties depends on its thread count, and one thread is the order :func:`knn_indices` replays; and
    multithreaded BLAS only slows down its many tiny PCAs (3–8× on a busy 2-core machine).
    """

    x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
    est = skdim.id.lPCA(ver="FO", alphaFO=alpha)
    # skdim divides neighbouring eigenvalues (its `gaps_`), which warns on zero eigenvalues
    with threadpool_limits(1), np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(est.fit_transform_pw(x, n_neighbors=k, n_jobs=n_jobs)).astype(np.int64)


def agreement(ours: Any, reference: Any) -> float:
    """Fraction of points where two per-point ID arrays are equal."""
    a = np.asarray(ours.cpu() if isinstance(ours, torch.Tensor) else ours)
    b = np.asarray(reference)
    if a.shape != b.shape:
        raise ValueError(f"ours and reference must have the same shape, got {a.shape} and {b.shape}")
    return float((a == b).mean())


def local_id_summary(ids: torch.Tensor | np.ndarray) -> tuple[float, float]:
    """``(mean, sd)`` of per-point IDs (population sd, as ``np.std``)."""
    ids = torch.as_tensor(ids).double()
    return float(ids.mean()), float(ids.std(unbiased=False))
