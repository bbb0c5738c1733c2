"""zmixlib.chapters.synthetic_manifolds: chapter 01's panels and its ζ-mixup − mixup differences."""

from __future__ import annotations

import pandas as pd
import pytest

from zmixlib import data
from zmixlib.chapters import synthetic_manifolds


def test_scatter_panels():
    panels = synthetic_manifolds.scatter_panels(
        ("crescents", "spirals"), n_points=64, noise=0.1, gammas=[2.4], seed=0, batch_size=16
    )
    assert list(panels) == ["crescents", "spirals"]
    for cols in panels.values():
        assert "original" in cols and "mixup" in cols and len(cols) == 3
        for xy, p in cols.values():
            assert xy.shape[1] == 2 and p.shape == (xy.shape[0],)
            assert ((p >= 0) & (p <= 1)).all()
        assert set(cols["original"][1].unique().tolist()) <= {0.0, 1.0}  # the data's labels are hard


def test_zeta_minus_mixup_pairs_by_the_other_keys():
    frame = pd.DataFrame(
        [
            dict(dataset="a", method="mixup", gamma=None, seed=0, err=0.5),
            dict(dataset="a", method="mixup", gamma=None, seed=1, err=0.4),
            dict(dataset="a", method="zeta_mixup", gamma=2.4, seed=0, err=0.3),
            dict(dataset="a", method="zeta_mixup", gamma=4.0, seed=0, err=0.2),
            dict(dataset="a", method="zeta_mixup", gamma=2.4, seed=1, err=0.1),
            dict(dataset="a", method="original", gamma=None, seed=0, err=0.0),
        ]
    )
    diffs = synthetic_manifolds.zeta_minus_mixup(frame, "err", ["dataset", "gamma", "seed"])
    assert diffs == pytest.approx([-0.2, -0.3, -0.3])


def test_helix_sets_views_and_distances():
    helix = data.synthetic("helix1d_r3", 128, seed=0)[0]
    dense = data.dense_points("helix1d_r3", 2000, seed=1)[0]
    sets = synthetic_manifolds.helix_sets(helix, gammas=[2.4], seed=0, batch_size=32)
    views = synthetic_manifolds.helix_views(sets)
    assert [m for _, m in views.values()] == ["original", "mixup", "zeta_mixup"]
    d = synthetic_manifolds.distances_to(sets, dense)
    assert list(d) == list(sets) and d["original"] < d["mixup"]  # mixup cuts through the helix's hollow


def test_helix_and_grid_studies(capsys):
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    P = SimpleNamespace(
        helix_points=64,
        helix_dense=256,
        helix_gammas=[2.4],
        grid_T=[2, 4],
        grid_gammas=[2.4, 4.0],
        grid_batch=8,
        batch_size=16,
        seed=0,
    )
    helix = synthetic_manifolds.helix_study(P)
    assert helix.points.shape == (64, 3) and set(helix.hollow) == set(helix.table["set"])
    assert helix.hollow["original"] < helix.hollow["mixup"]  # mixup leaves the helix, the points lie on it
    summary = synthetic_manifolds.grid_study(P, helix, seeds=[0, 1], label="test")
    assert len(summary) == 4 and "distance_to_manifold_mean" in summary
    assert "helix of 64 points, batches of 8" in capsys.readouterr().out
    plt.close("all")
