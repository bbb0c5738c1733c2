"""Manifold mixup (Verma et al.) at 10× the epochs against ζ-mixup — J Big Data Fig. 9: the runs
(:func:`manifold_matrices`), the paired dots (:func:`fig9_frame`, :func:`fig9`) and their reading."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from zmixlib.core.vocab import color, display_name, method_label
from zmixlib.protocol import recipes
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.tables.plots import house_style
from zmixlib.tables.report import device_text

from ._shared import ZETA_GAMMA

__all__ = ["manifold_matrices", "fig9_frame", "fig9", "cost_ratio", "fig9_reading"]


def _zeta_section(dataset: str) -> str:
    """The section whose ζ-mixup run is Fig. 9's comparison on ``dataset``: its own table's recipe (MEDMNIST, SKIN
    — offline, breast cancer stands in for the SKIN sets, as in chapter 05 — or NATURAL)."""
    if dataset in recipes.MEDMNIST_DATASETS:
        return "medmnist"
    if dataset in recipes.SKIN_DATASETS or dataset == "breast-cancer":
        return "skin"
    return "natural"


def manifold_matrices(params: Any) -> tuple[RunMatrix, RunMatrix]:
    """Fig. 9's runs: manifold mixup (α = 2) on ``manifold_datasets`` with section ``manifold``'s schedule (10× the
    epochs: the paper's CIFAR, MedMNIST and SKIN settings; offline, 10× the stand-in recipe), and ζ-mixup (γ = 2.8)
    with the same dataset's own recipe and architecture (NATURAL, MEDMNIST or SKIN; offline, breast cancer
    stands in for SKIN) — the comparison Fig. 9 draws."""
    common = {"seeds": params.seeds, "device": params.device, "data_root": params.data_root}
    man = recipes.resolve("manifold", params.profile, datasets=params.manifold_datasets, **common)
    zeta = []
    for s in {(s.dataset, s.arch): s for s in man}.values():
        section = _zeta_section(s.dataset)
        zeta += recipes.resolve(
            section,
            params.profile,
            datasets=[s.dataset],
            methods=["zeta_mixup"],
            gammas=[ZETA_GAMMA],
            archs=[s.arch],
            **common,
        )
    return man, RunMatrix(zeta, section="natural/medmnist/skin", profile=params.profile, overrides=common)


def fig9_frame(manifold_runs: pd.DataFrame, zeta_runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: accuracy (%) mean and sd over seeds of ζ-mixup and of manifold mixup, the seed-paired
    error difference ζ-mixup − manifold mixup (points), and the cost ratio (wall time of the manifold runs /
    the ζ-mixup runs, from the records)."""
    rows = []
    both = pd.concat([manifold_runs, zeta_runs], ignore_index=True)
    for d, g in both.groupby("dataset", sort=False):
        z, m = g[g["method"] == "zeta_mixup"], g[g["method"] == "manifold_mixup"]
        if z.empty or m.empty:
            continue
        za, ma = z["test_acc"].astype(float) * 100, m["test_acc"].astype(float) * 100
        pz = z.set_index("seed")["test_err"].astype(float) * 100
        pm = m.set_index("seed")["test_err"].astype(float) * 100
        diff = (pz - pm).dropna()
        rows.append(
            {
                "dataset": d,
                "arch": z["arch"].iloc[0],
                "ζ-mixup acc": za.mean(),
                "ζ-mixup sd": za.std(ddof=1) if len(za) > 1 else math.nan,
                "manifold mixup acc": ma.mean(),
                "manifold mixup sd": ma.std(ddof=1) if len(ma) > 1 else math.nan,
                "epochs (ζ-mixup / manifold)": f"{int(z['epochs'].iloc[0])} / {int(m['epochs'].iloc[0])}",
                "seeds": int(len(diff)),
                "ζ − manifold error (points)": diff.mean(),
                "diffs": list(diff),
                "cost ratio (wall time)": m["wall_time_s"].sum() / z["wall_time_s"].sum(),
                "device": device_text(g),
            }
        )
    return pd.DataFrame(rows)


@house_style()
def fig9(frame: pd.DataFrame, *, label: str):
    """J Big Data Fig. 9 as the paper draws it: per dataset, ζ-mixup's and manifold mixup's accuracy (mean ± sd
    over seeds) as a pair of dots joined by a dotted line — green where manifold mixup is higher, red where
    ζ-mixup is. Returns the figure."""
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(frame) + 2), 4.2))
    for i, (_, r) in enumerate(frame.iterrows()):
        z, m = r["ζ-mixup acc"], r["manifold mixup acc"]
        ax.plot([i, i], [z, m], ls=":", lw=2, color="#2ca02c" if m > z else "#d62728", zorder=1)
        for dx, method, mean, sd, marker, text in (
            (-0.06, "zeta_mixup", z, r["ζ-mixup sd"], "o", method_label("zeta_mixup", ZETA_GAMMA)),
            (0.06, "manifold_mixup", m, r["manifold mixup sd"], "s", f"{display_name('manifold_mixup')} (10× epochs)"),
        ):
            ax.errorbar(
                i + dx,
                mean,
                yerr=None if pd.isna(sd) else sd,
                fmt=marker,
                color=color(method),
                ms=8,
                capsize=3,
                label=text if i == 0 else None,
                zorder=2,
            )
    ax.set_xticks(range(len(frame)))
    ax.set_xticklabels([f"{d}\n({a})" for d, a in zip(frame["dataset"], frame["arch"])])
    ax.set_xlim(-0.6, len(frame) - 0.4)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"ζ-mixup vs manifold mixup at 10× the epochs (Fig. 9) — {label}", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def cost_ratio(frame: pd.DataFrame) -> str:
    """The cost of manifold mixup's 10× epochs in words, per dataset, from :func:`fig9_frame`."""
    return (
        "; ".join(f"{r['dataset']}: {r['cost ratio (wall time)']:.1f}×" for _, r in frame.iterrows())
        or "no pair of runs"
    )


def fig9_reading(frame: pd.DataFrame, *, profile: str) -> str:
    """Fig. 9 in words: on how many datasets ζ-mixup's accuracy is at least manifold mixup's, and the cost."""
    if frame is None or len(frame) == 0:
        return "no pair of runs finished in this build"
    wins = int((frame["ζ-mixup acc"] >= frame["manifold mixup acc"]).sum())
    per = "; ".join(
        f"{r['dataset']}: ζ-mixup {r['ζ-mixup acc']:.2f} % vs manifold mixup {r['manifold mixup acc']:.2f} % "
        f"({r['cost ratio (wall time)']:.1f}× the training time)"
        for _, r in frame.iterrows()
    )
    return f"{profile}: ζ-mixup's mean accuracy is at least manifold mixup's on {wins} of {len(frame)} datasets: {per}"
