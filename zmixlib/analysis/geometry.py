"""Geometry of synthetic samples: where mixing puts points, and whether their labels are right.

The J Big Data paper (Figs. 1, 2, 7) argues visually that mixup samples off the data manifold and
with wrong labels, while ζ-mixup (γ ≥ γ_min) stays near the original points. These functions turn
the figures into numbers:

* :func:`augment_dataset` — the papers' protocol for the figures: shuffle the whole set, cut it into
  batches, mix every batch (mixup, or ζ-mixup at a given γ and ``T``), concatenate.
* :func:`region_classifier` / :func:`label_error` — the fraction of synthetic points whose soft-label
  argmax disagrees with the class of the region they land in, the region being decided by a kNN
  classifier fitted on a dense, noise-free sample of the generator.
* :func:`nearest_distance` — each point's distance to the nearest point of a reference set (the
  original data, or a dense sample of the manifold as a stand-in for the distance to the manifold).
* :func:`knn_label_disagreement` — Fig. 7's argument: for test points, the fraction of their ``k``
  nearest augmented training points whose label disagrees with the test point's.

Used by ``notebooks/01_synthetic_manifolds.ipynb`` (and :func:`augment_dataset` by notebook 03).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.spatial import cKDTree
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from zmixlib import data, mixing
from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.core.util import to_numpy
from zmixlib.core.vocab import method_label

__all__ = [
    "METHODS",
    "augment_dataset",
    "region_classifier",
    "label_error",
    "nearest_distance",
    "knn_label_disagreement",
    "augmented_sets",
    "zeta_grid",
    "realism_table",
    "diversity_grid",
    "disagreement_table",
    "summarize",
]

#: The mixing methods the geometry functions know (``original`` leaves the data as it is).
METHODS = ("original", "mixup", "zeta_mixup")


def augment_dataset(
    x: torch.Tensor,
    y: torch.Tensor,
    method: str,
    *,
    gamma: float | None = None,
    num_mix: int | None = None,
    alpha: float = 1.0,
    batch_size: int = 32,
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
    return_order: bool = False,
) -> tuple[torch.Tensor, torch.Tensor] | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Augment a whole dataset batch by batch, as the papers' figures do.

    The points are shuffled (``generator``), cut into batches of ``batch_size`` and every batch is
    mixed: ``mixup`` (one ``λ ~ Beta(α, α)`` per batch) or ``zeta_mixup`` (``γ``, ``T = num_mix``,
    default the batch size; a smaller last batch mixes ``min(T, its size)``). A last batch of one point
    is kept as it is. ``method="original"`` returns the shuffled data with one-hot labels.

    Args:
        x: ``(N, ...)`` float points.
        y: ``(N,)`` class indices or ``(N, K)`` probabilities.
        method: one of :data:`METHODS`.
        gamma: ζ-mixup's ``γ`` (required for ``zeta_mixup``).
        num_mix: ζ-mixup's ``T`` (default: the batch size).
        alpha: mixup's ``α``.
        batch_size: points per batch, ``≥ 2``.
        num_classes: ``K`` for index labels.
        generator: randomness for the shuffle and the mixing.
        return_order: also return ``order`` ``(N,)``: output ``i`` is built around input ``order[i]``
            (ζ-mixup puts its largest weight there; mixup its λ).

    Returns:
        ``(x_mix, y_mix)`` (and ``order``): ``(N, ...)`` like ``x`` and ``(N, K)`` float soft labels, in
        shuffled order.
    """
    check_choice("method", method, METHODS)
    batch_size = check_int("batch_size", batch_size, min=2)
    if method == "zeta_mixup" and gamma is None:
        raise ValueError("gamma is required for method='zeta_mixup', got None")
    ys = mixing.soft_labels(y, batch_size=x.shape[0], num_classes=num_classes, dtype=torch.float32).to(x.device)
    perm = torch.randperm(x.shape[0], generator=generator).to(x.device)
    xs, ys = x[perm], ys[perm]
    if method == "original":
        return (xs, ys, perm) if return_order else (xs, ys)
    out_x, out_y = [], []
    for start in range(0, xs.shape[0], batch_size):
        xb, yb = xs[start : start + batch_size], ys[start : start + batch_size]
        if xb.shape[0] < 2:
            out_x.append(xb), out_y.append(yb)
        elif method == "mixup":
            xm, ym = mixing.mixup(xb, yb, alpha=alpha, generator=generator)
            out_x.append(xm), out_y.append(ym)
        else:
            t = None if num_mix is None else min(num_mix, xb.shape[0])
            xm, ym = mixing.zeta_mixup(xb, yb, gamma=gamma, num_mix=t, generator=generator)
            out_x.append(xm), out_y.append(ym)
    x_mix, y_mix = torch.cat(out_x), torch.cat(out_y)
    return (x_mix, y_mix, perm) if return_order else (x_mix, y_mix)


def region_classifier(x_dense: Any, y_dense: Any, *, k: int = 15):
    """A kNN classifier of the class regions, fitted on a dense noise-free sample of the generator.

    Returns a fitted ``sklearn.neighbors.KNeighborsClassifier`` (``k`` neighbours, uniform weights).
    """
    k = check_int("k", k, min=1)
    return KNeighborsClassifier(n_neighbors=k).fit(to_numpy(x_dense), to_numpy(y_dense))


def label_error(x_mix: Any, y_mix: Any, classifier) -> float:
    """Fraction of points whose label argmax differs from ``classifier.predict`` at their position.

    ``y_mix`` may be soft ``(N, K)`` (argmax taken; ties go to the lower class) or indices ``(N,)``.
    """
    labels = _hard(y_mix)
    return float((classifier.predict(to_numpy(x_mix)) != labels).mean())


def nearest_distance(points: Any, reference: Any) -> torch.Tensor:
    """Euclidean distance from each of ``points`` ``(N, D)`` to its nearest row of ``reference`` ``(M, D)``.

    Exact, by a k-d tree over ``reference`` (``scipy.spatial.cKDTree``) in float64. Returns ``(N,)``
    float64 (CPU).
    """
    p = to_numpy(points).astype(np.float64)
    r = to_numpy(reference).astype(np.float64)
    p, r = p.reshape(p.shape[0], -1), r.reshape(r.shape[0], -1)
    if p.shape[1] != r.shape[1]:
        raise ValueError(f"points and reference must have the same dimension, got {p.shape[1]} and {r.shape[1]}")
    if r.shape[0] == 0:
        raise ValueError("reference must hold at least one point, got 0")
    dist, _ = cKDTree(r).query(p, k=1)
    return torch.from_numpy(np.asarray(dist, dtype=np.float64))


def knn_label_disagreement(test_x: Any, test_y: Any, train_x: Any, train_y: Any, *, k: int = 8) -> float:
    """Fig. 7: mean over test points of the fraction of their ``k`` nearest training points (Euclidean)
    whose label (argmax of a soft label) differs from the test point's label."""
    k = check_int("k", k, min=1)
    train_labels, test_labels = _hard(train_y), _hard(test_y)
    _, idx = NearestNeighbors(n_neighbors=k).fit(to_numpy(train_x)).kneighbors(to_numpy(test_x))
    return float((train_labels[idx] != test_labels[:, None]).mean())


def augmented_sets(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    gammas: Sequence[float],
    seed: int,
    batch_size: int = 32,
    num_classes: int | None = None,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The original set, mixup's output and ζ-mixup's output for each γ, as ``{title: (x, y_soft)}``.

    Titles: ``"original"``, ``"mixup"``, ``"ζ-mixup (γ = <γ>)"`` (:func:`~zmixlib.core.vocab.method_label`). Every set is the whole of ``x`` augmented by
    :func:`augment_dataset` with a generator seeded ``seed``.
    """
    out = {}
    for method, gamma in _configs(gammas):
        gen = torch.Generator().manual_seed(seed)
        title = method if gamma is None else method_label("zeta_mixup", gamma)
        out[title] = augment_dataset(
            x, y, method, gamma=gamma, batch_size=batch_size, num_classes=num_classes, generator=gen
        )
    return out


def zeta_grid(
    x: torch.Tensor, *, num_mix: Sequence[int], gammas: Sequence[float], seed: int, batch_size: int = 128
) -> dict[tuple[int, float], tuple[torch.Tensor, torch.Tensor]]:
    """ζ-mixup's output of the whole of ``x`` for every ``(T, γ)``: ``{(T, γ): (x_mix, order)}``.

    Batches hold ``max(batch_size, T)`` points and each output mixes ``T`` of them; every cell uses a
    generator seeded ``seed`` (so the cells share the shuffle). ``order[i]`` is the input output ``i``
    is built around (:func:`augment_dataset`).
    """
    dummy = torch.zeros(x.shape[0], dtype=torch.long)
    out = {}
    for t in num_mix:
        for gamma in gammas:
            gen = torch.Generator().manual_seed(seed)
            out[(t, float(gamma))] = augment_dataset(
                x,
                dummy,
                "zeta_mixup",
                gamma=float(gamma),
                num_mix=t,
                batch_size=max(batch_size, t),
                num_classes=1,
                generator=gen,
                return_order=True,
            )[::2]
    return out


def realism_table(
    name: str,
    *,
    gammas: Sequence[float],
    seeds: Sequence[int],
    n: int = 512,
    noise: float = 0.1,
    batch_size: int = 32,
    n_dense: int = 20000,
    k_region: int = 15,
) -> Any:
    """Label error and distance to the nearest original point of the augmented CRESCENTS/SPIRALS.

    Per seed ``s``: ``synthetic(name, n, noise, seed=s)``, augmented whole by :func:`augment_dataset`
    (mixup, and ζ-mixup for each γ) with a generator seeded ``s``. The region classifier is fitted once
    on ``dense_points(name, n_dense)``. The original data is scored the same way (its label error is the
    noise's). Returns one row per (method, γ, seed): ``dataset, method, gamma, seed, label_error,
    mean_distance`` (mean over points of the distance to the nearest original point; 0 for original).
    """

    clf = region_classifier(*data.dense_points(name, n_dense, seed=10_000), k=k_region)
    rows = []
    for seed in seeds:
        x, y = data.synthetic(name, n, noise=noise, seed=seed)
        for method, gamma in _configs(gammas):
            gen = torch.Generator().manual_seed(seed)
            xm, ym = augment_dataset(x, y, method, gamma=gamma, batch_size=batch_size, num_classes=2, generator=gen)
            dist = nearest_distance(xm, x).mean().item() if method != "original" else 0.0
            rows.append(
                {
                    "dataset": name,
                    "method": method,
                    "gamma": gamma,
                    "seed": seed,
                    "label_error": label_error(xm, ym, clf),
                    "mean_distance": dist,
                }
            )
    return pd.DataFrame(rows)


def diversity_grid(
    x: torch.Tensor,
    dense: torch.Tensor,
    *,
    num_mix: Sequence[int],
    gammas: Sequence[float],
    seeds: Sequence[int],
    batch_size: int = 128,
) -> Any:
    """ζ-mixup on a manifold for every (T, γ) (:func:`zeta_grid`): how far the synthetic points go.

    Returns one row per (T, γ, seed) with ``distance_to_manifold`` (mean distance to the nearest point
    of ``dense``, a dense sample of the manifold standing in for the manifold itself — an overestimate
    by at most half its spacing), ``distance_to_original`` (mean distance to the nearest point of ``x``)
    and ``displacement`` (mean distance of each synthetic point from the input it is built around —
    how far ζ-mixup moves a sample: the diversity it adds).
    """
    dense_tree, original_tree = cKDTree(to_numpy(dense).astype(np.float64)), cKDTree(to_numpy(x).astype(np.float64))
    rows = []
    for seed in seeds:
        cells = zeta_grid(x, num_mix=num_mix, gammas=gammas, seed=seed, batch_size=batch_size)
        for (t, gamma), (xm, order) in cells.items():
            rows.append(
                {
                    "T": t,
                    "gamma": gamma,
                    "seed": seed,
                    "distance_to_manifold": float(dense_tree.query(to_numpy(xm).astype(np.float64))[0].mean()),
                    "distance_to_original": float(original_tree.query(to_numpy(xm).astype(np.float64))[0].mean()),
                    "displacement": (xm.double() - x[order].double()).norm(dim=1).mean().item(),
                }
            )
    return pd.DataFrame(rows)


def disagreement_table(
    name: str,
    *,
    gammas: Sequence[float],
    seeds: Sequence[int],
    ks: Sequence[int] = (8, 16),
    n: int = 512,
    n_test: int = 512,
    noise: float = 0.1,
    batch_size: int = 32,
) -> Any:
    """Fig. 7 in numbers: for test points of a 2-class 2-D set, the fraction of the ``k`` nearest
    augmented training points whose label (soft-label argmax) disagrees with the test point's.

    Per seed ``s``: training set ``synthetic(name, n, noise, seed=s)``, test set (seed ``s + 1000``),
    augmented training set by :func:`augment_dataset`. Returns one row per (method, γ, k, seed).
    """

    rows = []
    for seed in seeds:
        x, y = data.synthetic(name, n, noise=noise, seed=seed)
        xt, yt = data.synthetic(name, n_test, noise=noise, seed=seed + 1000)
        for method, gamma in _configs(gammas):
            gen = torch.Generator().manual_seed(seed)
            xm, ym = augment_dataset(x, y, method, gamma=gamma, batch_size=batch_size, num_classes=2, generator=gen)
            for k in ks:
                rows.append(
                    {
                        "dataset": name,
                        "method": method,
                        "gamma": gamma,
                        "k": k,
                        "seed": seed,
                        "disagreement": knn_label_disagreement(xt, yt, xm, ym, k=k),
                    }
                )
    return pd.DataFrame(rows)


def summarize(frame: Any, values: Sequence[str], by: Sequence[str]) -> Any:
    """Mean ± sd over seeds: one row per ``by`` group with ``<value>_mean``, ``<value>_sd`` (sample sd,
    0 with one seed) and ``seeds`` (how many). ``NaN`` in a ``by`` column (e.g. γ of mixup) is a group."""
    g = frame.groupby(list(by), dropna=False, sort=False)
    out = g[list(values)].agg(["mean", "std"])
    out.columns = [f"{v}_{'sd' if s == 'std' else s}" for v, s in out.columns]
    out = out.fillna({f"{v}_sd": 0.0 for v in values})
    out["seeds"] = g.size()
    return out.reset_index()


def _configs(gammas: Sequence[float]) -> list[tuple[str, float | None]]:
    for gamma in gammas:
        check_float("gamma", gamma, min=0.0)
    return [("original", None), ("mixup", None)] + [("zeta_mixup", float(g)) for g in gammas]


def _hard(y: Any) -> np.ndarray:
    y = to_numpy(y)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)
