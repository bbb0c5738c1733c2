"""Nearest neighbours in a trained model's feature space, by cosine similarity.

The J Big Data paper's Fig. 8 asks, for a test image, how many of its 128 nearest training samples — nearest in
the feature space of the trained classifier (the pooled embedding before the last layer, 512-D for ResNet-18,
2048-D for ResNet-50), by cosine similarity — carry the test image's label. This module computes exactly that:

* :func:`embed` — a model's features ``(N, D)`` (:meth:`zmixlib.engine.models.StagedNet.forward_features`) of a batch
  of inputs, in evaluation mode, without gradients;
* :func:`cosine_knn` — the ``k`` keys of largest cosine similarity ``<q, x> / (|q| |x|)`` to each query
  (exact, batched over the queries), with the similarities;
* :func:`same_label_counts` — per query, how many of its ``k`` neighbours share its label.

Not the input-space Euclidean neighbourhoods of :mod:`zmixlib.analysis.intrinsic` (local intrinsic dimension): cosine
similarity ignores the length of a feature vector, which for ReLU features mostly measures how strongly a
sample activates the network, not what it looks like. A zero feature vector has similarity 0 to every key.
Used by notebook 05 (:mod:`zmixlib.chapters.skin`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from zmixlib.core.checks import check_int

__all__ = ["embed", "cosine_knn", "same_label_counts"]


def _matrix(name: str, x: Any) -> torch.Tensor:
    t = torch.as_tensor(x)
    if t.ndim != 2 or not t.is_floating_point():
        raise ValueError(f"{name} must be a float matrix (N, D), got shape {tuple(t.shape)} and dtype {t.dtype}")
    return t


@torch.no_grad()
def embed(model: torch.nn.Module, x: torch.Tensor, *, batch_size: int = 512) -> torch.Tensor:
    """``model.forward_features`` of ``x`` ``(N, ...)`` in evaluation mode, ``batch_size`` at a time → ``(N, D)``
    float32 on ``x``'s device (the model must be there too). The model's training mode is restored."""
    batch_size = check_int("batch_size", batch_size, min=1)
    was_training = model.training
    model.eval()
    try:
        out = [model.forward_features(x[i : i + batch_size]).float() for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, getattr(model, "embedding_dim", 0), device=x.device)


@torch.no_grad()
def cosine_knn(queries: Any, keys: Any, k: int, *, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest keys of every query by cosine similarity.

    Args:
        queries: ``(Q, D)`` float features (a tensor or an array).
        keys: ``(N, D)`` float features in the same space, ``N >= k``.
        k: neighbours per query.
        batch_size: queries per similarity block (memory ``batch_size × N``).

    Returns:
        ``(similarity, index)``, both ``(Q, k)``: the cosine similarities in decreasing order and the keys'
        row indices, on the queries' device (float64 similarities when the features are float64, else float32).
    """
    q, x = _matrix("queries", queries), _matrix("keys", keys)
    if q.shape[1] != x.shape[1]:
        raise ValueError(f"queries and keys must have the same feature dimension, got {q.shape[1]} and {x.shape[1]}")
    k = check_int("k", k, min=1, max=len(x))
    batch_size = check_int("batch_size", batch_size, min=1)
    dtype = torch.float64 if torch.float64 in (q.dtype, x.dtype) else torch.float32
    qn = F.normalize(q.to(dtype), dim=1)  # zero rows stay zero: similarity 0 to everything
    xn = F.normalize(x.to(device=q.device, dtype=dtype), dim=1)
    sims, idx = [], []
    for start in range(0, len(qn), batch_size):
        s, i = torch.topk(qn[start : start + batch_size] @ xn.T, k, dim=1, largest=True, sorted=True)
        sims.append(s)
        idx.append(i)
    if not sims:
        return torch.empty(0, k, dtype=dtype, device=q.device), torch.empty(0, k, dtype=torch.long, device=q.device)
    return torch.cat(sims), torch.cat(idx)


def same_label_counts(query_labels: Any, key_labels: Any, index: Any) -> torch.Tensor:
    """Per query, the number of its neighbours (``index`` ``(Q, k)`` rows into the keys, from :func:`cosine_knn`)
    whose label equals the query's: ``(Q,)`` int64 in ``0 .. k``."""
    yq = torch.as_tensor(query_labels).reshape(-1).long()
    yk = torch.as_tensor(key_labels).reshape(-1).long()
    idx = torch.as_tensor(index).long()
    if idx.ndim != 2 or len(idx) != len(yq):
        raise ValueError(f"index must have shape (Q, k) with Q = {len(yq)} queries, got {tuple(idx.shape)}")
    return (yk.to(idx.device)[idx] == yq.to(idx.device)[:, None]).sum(dim=1)
