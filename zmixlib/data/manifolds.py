"""Synthetic data: two crescents, two spirals (ζ-mixup paper, Fig. 2) and manifolds of known intrinsic
dimension from scikit-dimension's benchmark generator (Hein & Audibert 2005; Campadelli et al. 2015).

:func:`synthetic` returns ``(X, y)`` tensors; :func:`dense_points` returns noise-free points with their
class labels (e.g. to fit a classifier of the class regions); through :func:`zmixlib.data.load` each
generator is also a dataset with splits ``train`` (seed 0) and ``test`` (seed 1) at its default size.

- ``crescents``: ``sklearn.datasets.make_moons`` (two interleaving half circles, Gaussian noise σ).
- ``spirals``: two interleaved Archimedean spirals of 1.5 turns, radius ``r = sqrt(u)`` in ``[0, 1]``
  (``u ~ U[0, 1]``, so points are near-uniform along the curve), class 1 = class 0 rotated by π,
  plus Gaussian noise σ.
- skdim manifolds (one class, label 0): ``skdim.datasets.BenchmarkManifolds(random_state=seed,
  noise_type="normal").generate(name, n, dim, d, noise)``. Embeddings in more dimensions than the
  generator's 3 pad with zero coordinates (the generator's own convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.data._base import ArrayDataset, DatasetInfo

__all__ = ["SYNTHETIC", "synthetic", "dense_points"]


@dataclass(frozen=True)
class _Gen:
    name: str
    n: int
    noise: float
    classes: tuple[str, ...]
    dim: int
    d: int  # intrinsic dimension
    skdim: str | None  # BenchmarkManifolds name
    about: str


SYNTHETIC = {
    g.name: g
    for g in [
        _Gen("crescents", 512, 0.1, ("upper", "lower"), 2, 1, None, "two moons (sklearn make_moons)"),
        _Gen("spirals", 512, 0.1, ("spiral 0", "spiral 1"), 2, 1, None, "two interleaved spirals, 1.5 turns"),
        _Gen("helix1d_r3", 8192, 0.0, ("helix",), 3, 1, "M5a_Helix1d", "1-D helix in R^3 (skdim M5a)"),
        _Gen("helix1d_r12", 8192, 0.0, ("helix",), 12, 1, "M5a_Helix1d", "1-D helix in R^12 (skdim M5a, zero-padded)"),
        _Gen("helix2d_r3", 8192, 0.0, ("helicoid",), 3, 2, "M5b_Helix2d", "2-D helix surface in R^3 (skdim M5b)"),
        _Gen("swissroll2d_r3", 8192, 0.0, ("roll",), 3, 2, "M7_Roll", "Swiss roll in R^3 (skdim M7)"),
        _Gen("moebius2d_r3", 8192, 0.0, ("band",), 3, 2, "M11_Moebius", "Möbius band, 10 twists, in R^3 (skdim M11)"),
        _Gen("sphere10d_r11", 8192, 0.0, ("sphere",), 11, 10, "M1_Sphere", "10-sphere in R^11 (skdim M1)"),
        _Gen(
            "paraboloid3d_r12",
            8192,
            0.0,
            ("paraboloid",),
            12,
            3,
            "Mp1_Paraboloid",
            "3-D paraboloid nonlinearly embedded in R^12 (skdim Mp1)",
        ),
    ]
}

INFOS = [
    DatasetInfo(
        name=g.name,
        family="synthetic",
        num_classes=len(g.classes),
        class_names=g.classes,
        channels=None,
        image_size=None,
        feature_dim=g.dim,
        splits=("train", "test"),
        folder=None,
        source="generated: " + ("scikit-dimension BenchmarkManifolds" if g.skdim else "zmixlib.data.manifolds"),
        licence="n/a (generated)",
        obtain="generated on the fly; nothing to download",
        notes=f"{g.about}; default n={g.n}, noise σ={g.noise}; splits train (seed 0) / test (seed 1).",
        intrinsic_dim=g.d,
    )
    for g in SYNTHETIC.values()
]


def _spirals(n: int, noise: float, rng):
    sizes = (n // 2, n - n // 2)
    xs, ys = [], []
    for k, m in enumerate(sizes):
        r = np.sqrt(rng.random(m))
        angle = 3 * np.pi * r + k * np.pi
        xs.append(np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1))
        ys.append(np.full(m, k))
    X, y = np.concatenate(xs), np.concatenate(ys)
    X = X + noise * rng.standard_normal(X.shape)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def synthetic(name: str, n: int | None = None, *, noise: float | None = None, seed: int = 0):
    """Sample ``n`` points of the synthetic set ``name``.

    Args:
        name: one of :data:`SYNTHETIC` (``"crescents"``, ``"spirals"``, ``"helix1d_r3"``,
            ``"helix1d_r12"``, ``"paraboloid3d_r12"``, ...).
        n: number of points (default: 512 for crescents/spirals, 8192 for the manifolds).
        noise: standard deviation σ of the Gaussian noise added to every coordinate (default: 0.1
            for crescents/spirals, 0 for the manifolds).
        seed: seed of the generator; the same arguments give the same points.

    Returns:
        ``(X, y)``: ``X`` float32 ``(n, D)`` with ``D`` the ambient dimension, ``y`` int64 ``(n,)``
        class labels (all 0 for the one-class manifolds); classes are balanced for crescents/spirals.
    """
    check_choice("name", name, SYNTHETIC)
    g = SYNTHETIC[name]
    n = g.n if n is None else check_int("n", n, min=2)
    noise = g.noise if noise is None else check_float("noise", noise, min=0.0)
    seed = check_int("seed", seed, min=0)
    if name == "crescents":
        # deferred (as skdim below): scikit-learn costs seconds to import and only this generator needs it
        from sklearn.datasets import make_moons

        X, y = make_moons(n_samples=n, noise=noise or None, random_state=seed)
    elif name == "spirals":
        X, y = _spirals(n, noise, np.random.default_rng(seed))
    else:
        from skdim.datasets import BenchmarkManifolds

        bm = BenchmarkManifolds(random_state=seed, noise_type="normal")
        X, y = bm.generate(g.skdim, n=n, dim=g.dim, d=g.d, noise=noise), np.zeros(n)
    return torch.as_tensor(np.asarray(X), dtype=torch.float32), torch.as_tensor(np.asarray(y), dtype=torch.int64)


def dense_points(name: str, n: int = 20000, *, seed: int = 0):
    """Noise-free points of ``name`` with their class labels: ``synthetic(name, n, noise=0.0, seed=seed)``.

    Meant for fitting a classifier of the class regions of crescents/spirals (a point mixed from
    several samples is "realistic" when it falls in the region of its label), or for plotting the
    clean curves.
    """
    return synthetic(name, n, noise=0.0, seed=seed)


def load(info: DatasetInfo, split: str, root, download: bool, transform):
    X, y = synthetic(info.name, seed=0 if split == "train" else 1)
    return ArrayDataset(X, y, classes=info.class_names, transform=transform)
