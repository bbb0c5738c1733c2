"""Chapter 01, synthetic manifolds: ζ-mixup (Abhishek et al., J Big Data 2024) Figs. 2 and 7 on 2-D and 3-D sets.

What mixup and ζ-mixup make of points on a known manifold — crescents and spirals in 2-D (Fig. 2a:
:func:`scatter_panels`, :func:`mixed_scatter_grid`), a 1-D helix in ℝ³ (Fig. 2b: :func:`helix_projections`),
ζ-mixup over T × γ (:func:`mix_grid`) — and the evidence the claims ledger takes from them
(:func:`zeta_minus_mixup`). The measurements are :mod:`zmixlib.analysis.geometry`'s (chapter 03 uses them too);
this module draws and arranges them for notebook 01.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import torch

from zmixlib import data
from zmixlib.analysis import geometry
from zmixlib.tables.plots import house_style, method_color

__all__ = [
    "scatter_panels",
    "realism_tables",
    "helix_sets",
    "helix_views",
    "distances_to",
    "grid_cells",
    "Helix",
    "helix_study",
    "grid_study",
    "disagreement_pivot",
    "zeta_minus_mixup",
    "mixed_scatter_grid",
    "helix_projections",
    "mix_grid",
]


def scatter_panels(
    names: Sequence[str],
    *,
    n_points: int,
    noise: float,
    gammas: Sequence[float],
    seed: int,
    batch_size: int,
) -> dict[str, dict[str, tuple]]:
    """Fig. 2a's panels: each 2-class 2-D set ``names`` drawn with ``seed``, as is and mixed.

    Returns:
        ``{set: {"original" | "mixup" | "ζ-mixup (γ = …)": (X (N, 2), P(class 1) (N,))}}`` for
        :func:`mixed_scatter_grid`.
    """
    return {
        name: {
            title: (xs, ys[:, 1])
            for title, (xs, ys) in geometry.augmented_sets(
                *data.synthetic(name, n_points, noise=noise, seed=seed),
                gammas=gammas,
                seed=seed,
                batch_size=batch_size,
                num_classes=2,
            ).items()
        }
        for name in names
    }


def realism_tables(
    names: Sequence[str],
    *,
    gammas: Sequence[float],
    seeds: Sequence[int],
    n_points: int,
    noise: float,
    batch_size: int,
    n_dense: int,
) -> pd.DataFrame:
    """:func:`zmixlib.analysis.geometry.realism_table` of each 2-D set ``names``, one frame (one row per set, method,
    γ and seed)."""
    tables = [
        geometry.realism_table(
            name, gammas=gammas, seeds=seeds, n=n_points, noise=noise, batch_size=batch_size, n_dense=n_dense
        )
        for name in names
    ]
    return pd.concat(tables, ignore_index=True)


def helix_sets(helix: torch.Tensor, *, gammas: Sequence[float], seed: int, batch_size: int) -> dict[str, tuple]:
    """Fig. 2b's point sets: the helix ``(N, 3)`` as is, mixed by mixup and by ζ-mixup at each γ.

    Returns:
        ``{"original" | "mixup" | "ζ-mixup (γ = …)": (points (N, 3), soft labels (N, 1))}``.
    """
    labels = torch.zeros(len(helix), dtype=torch.long)
    return geometry.augmented_sets(helix, labels, gammas=gammas, seed=seed, batch_size=batch_size, num_classes=1)


def helix_views(sets: dict[str, tuple]) -> dict[str, tuple]:
    """Returns :func:`helix_sets`' sets as :func:`helix_projections` takes them: ``{title: (points, method)}``."""
    return {t: (xs, t if t in ("original", "mixup") else "zeta_mixup") for t, (xs, _) in sets.items()}


def distances_to(sets: dict[str, tuple], dense: torch.Tensor) -> dict[str, float]:
    """Returns each set's mean distance to the manifold, sampled densely by ``dense`` ``(M, D)``."""
    return {t: geometry.nearest_distance(xs, dense).mean().item() for t, (xs, _) in sets.items()}


def grid_cells(
    helix: torch.Tensor, *, num_mix: Sequence[int], gammas: Sequence[float], seed: int, batch_size: int
) -> dict[tuple[int, float], torch.Tensor]:
    """Returns ζ-mixup's output of the helix for every ``(T, γ)`` (:func:`zmixlib.analysis.geometry.zeta_grid`), for
    :func:`mix_grid`."""
    grid = geometry.zeta_grid(helix, num_mix=num_mix, gammas=gammas, seed=seed, batch_size=batch_size)
    return {key: xm for key, (xm, _) in grid.items()}


@dataclass(frozen=True)
class Helix:
    """Fig. 2b's helix: its points ``(N, 3)``, the dense noise-free sample standing in for the manifold, each set's
    mean distance to it (``hollow``) and that as a table."""

    points: torch.Tensor
    dense: torch.Tensor
    hollow: dict[str, float]
    table: pd.DataFrame


def helix_study(P: Any) -> Helix:
    """Draws Fig. 2b (:func:`helix_projections` of the helix, mixup and ζ-mixup at ``P.helix_gammas``) and returns
    the :class:`Helix`, its table rounded to 4 digits."""
    helix = data.synthetic("helix1d_r3", P.helix_points, seed=P.seed)[0]
    dense = data.dense_points("helix1d_r3", P.helix_dense, seed=P.seed + 10_000)[0]
    sets = helix_sets(helix, gammas=P.helix_gammas, seed=P.seed, batch_size=P.batch_size)
    helix_projections(
        helix_views(sets),
        original=helix,
        label=f"{P.helix_points} points, seed {P.seed}, batches of {P.batch_size}",
    )
    hollow = distances_to(sets, dense)
    table = pd.DataFrame({"set": list(hollow), "mean distance to the helix": list(hollow.values())}).round(4)
    return Helix(points=helix, dense=dense, hollow=hollow, table=table)


def grid_study(P: Any, helix: Helix, *, seeds: Sequence[int], label: str) -> pd.DataFrame:
    """Draws ζ-mixup's T × γ grid of the helix (:func:`mix_grid`, each cell noted with its distance to the
    manifold), prints the table's caption and returns the grid's summary (mean ± sd over ``seeds``), rounded."""
    grid = geometry.diversity_grid(
        helix.points, helix.dense, num_mix=P.grid_T, gammas=P.grid_gammas, seeds=seeds, batch_size=P.grid_batch
    )
    summary = geometry.summarize(grid, ["distance_to_manifold", "distance_to_original", "displacement"], ["T", "gamma"])
    cells = grid_cells(helix.points, num_mix=P.grid_T, gammas=P.grid_gammas, seed=P.seed, batch_size=P.grid_batch)
    notes = {(r.T, r.gamma): f"d(manifold) = {r.distance_to_manifold_mean:.3f}" for r in summary.itertuples()}
    mix_grid(cells, row_key="T", col_key="γ", original=helix.points, annotate=notes, label=f"seed {P.seed}, {label}")
    print(f"mean ± sd over seeds — {label}, helix of {P.helix_points} points, batches of {P.grid_batch}")
    return summary.round(4)


def disagreement_pivot(summary: pd.DataFrame) -> pd.DataFrame:
    """Fig. 7's table: mean and sd of the label disagreement per (dataset, method, γ), one column per k."""
    return summary.fillna({"gamma": "—"}).pivot_table(
        index=["dataset", "method", "gamma"], columns="k", values=["disagreement_mean", "disagreement_sd"], sort=False
    )


def zeta_minus_mixup(frame: pd.DataFrame, column: str, keys: Sequence[str]) -> list[float]:
    """Per ``keys`` (which include ``"gamma"``), ζ-mixup's ``column`` minus mixup's at the same other keys.

    ``frame`` holds one row per method and key (``method`` is ``"zeta_mixup"`` or ``"mixup"``; mixup rows
    have no γ). Returns the differences in ζ-mixup's row order.
    """
    keys = list(keys)
    zeta = frame[frame["method"] == "zeta_mixup"].set_index(keys)[column]
    mix = frame[frame["method"] == "mixup"].set_index([k for k in keys if k != "gamma"])[column]
    return [float(v - mix.loc[tuple(k[i] for i, name in enumerate(keys) if name != "gamma")]) for k, v in zeta.items()]


@house_style()
def mixed_scatter_grid(rows: dict, *, label: str, cmap: str = "coolwarm_r"):
    """ζ-mixup's Fig. 2a: 2-D point sets, one row per dataset and one column per method.

    ``rows`` maps a row title to ``{column title: (X (N, 2), p (N,))}`` where ``p`` is the soft-label
    probability of class 1 (the colour; its argmax is ``p > 0.5``). Returns the figure.
    """

    ncols = max(len(cols) for cols in rows.values())
    fig, axes = plt.subplots(
        len(rows), ncols, figsize=(2.7 * ncols + 1, 2.8 * len(rows)), squeeze=False, layout="constrained"
    )
    sc = None
    for r, (row_title, cols) in enumerate(rows.items()):
        for c, (title, (xy, p)) in enumerate(cols.items()):
            ax = axes[r, c]
            sc = ax.scatter(xy[:, 0], xy[:, 1], c=p, cmap=cmap, vmin=0, vmax=1, s=4)
            ax.set_title(f"{row_title}: {title}", fontsize=8)
            ax.set_xlabel("x₁", fontsize=7)
            ax.set_ylabel("x₂", fontsize=7)
            ax.tick_params(labelsize=6)
    if sc is not None:
        fig.colorbar(sc, ax=axes, shrink=0.6, label="soft label: P(class 1)")
    fig.suptitle(f"Original data, mixup and ζ-mixup (colour: soft label) — {label}")
    return fig


@house_style()
def helix_projections(sets: dict, *, views=((0, 0), (70, 0), (90, 0)), label: str, original=None):
    """ζ-mixup's Fig. 2b: 3-D point sets seen from several (elevation, azimuth) views.

    ``sets`` maps a row title to ``(points (N, 3), method)``, the method choosing the colour;
    ``original`` (optional) is drawn in grey under every set that is not the original. Returns the figure.
    """

    fig = plt.figure(figsize=(3.2 * len(views), 3.0 * len(sets)))
    for r, (title, (pts, method)) in enumerate(sets.items()):
        for c, (elev, azim) in enumerate(views):
            ax = fig.add_subplot(len(sets), len(views), r * len(views) + c + 1, projection="3d")
            if original is not None and method != "original":
                ax.scatter(*original[:, :3].T, s=0.3, color=method_color("original"), alpha=0.3)
            ax.scatter(*pts[:, :3].T, s=0.3, color=method_color(method), alpha=0.5)
            ax.view_init(elev=elev, azim=azim)
            ax.set_title(f"{title} (elev {elev}°, azim {azim}°)", fontsize=8)
            ax.set_xlabel("x", fontsize=7)
            ax.set_ylabel("y", fontsize=7)
            ax.set_zlabel("z", fontsize=7)
            ax.tick_params(labelsize=5)
    fig.suptitle(f"1-D helix in ℝ³: original, mixup and ζ-mixup — {label}")
    fig.tight_layout()
    return fig


@house_style()
def mix_grid(cells: dict, *, row_key: str, col_key: str, label: str, original=None, annotate: dict | None = None):
    """A grid of 2-D projections (x, y) of point sets keyed ``(row, col)`` — e.g. ζ-mixup over T × γ.

    ``annotate`` maps the same keys to a short text written in each panel (e.g. the mean distance to
    the manifold). ``original`` is drawn in grey underneath. Returns the figure.
    """

    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(2.6 * len(cols), 2.5 * len(rows)), squeeze=False)
    for (r, c), pts in cells.items():
        ax = axes[rows.index(r), cols.index(c)]
        if original is not None:
            ax.scatter(original[:, 0], original[:, 1], s=0.2, color=method_color("original"), alpha=0.3)
        ax.scatter(pts[:, 0], pts[:, 1], s=0.2, color=method_color("zeta_mixup"), alpha=0.5)
        ax.set_title(f"{row_key} = {r}, {col_key} = {c}", fontsize=8)
        ax.set_xlabel("x", fontsize=7)
        ax.set_ylabel("y", fontsize=7)
        ax.tick_params(labelsize=6)
        if annotate and (r, c) in annotate:
            ax.text(0.02, 0.02, annotate[(r, c)], transform=ax.transAxes, fontsize=7, va="bottom")
    fig.suptitle(f"ζ-mixup over {row_key} × {col_key} (top view, x–y) — {label}")
    fig.tight_layout()
    return fig
