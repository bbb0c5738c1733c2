"""Chapter 04's tables and figure: ERM, mixup and ζ-mixup on natural images (J Big Data 2024, Table 4; MIDL 2023,
Table 1) and CutMix with ζ-mixup (Table 5).

The training cell and the tables every chapter shares are :mod:`zmixlib.tables.report`'s; this module holds what only
this chapter shows:

* :func:`paired_summary` — ζ-mixup − mixup and ζ-mixup − ERM, seed by seed (:func:`zmixlib.tables.report.paired_summary`
  over both baselines);
* :func:`paired_table` — every seed's difference, one column per γ;
* :func:`curves_figure` — the test error during training;
* :func:`cutmix_pairs` — Table 5's comparisons: each reading of CutMix + ζ-mixup − CutMix.
"""

from __future__ import annotations

import pandas as pd

from zmixlib.tables import paper, plots, report

__all__ = [
    "SOURCES",
    "CUTMIX_METHODS",
    "paired_summary",
    "paired_table",
    "curves_figure",
    "cutmix_pairs",
]

#: the papers' tables this chapter sets beside ours (earlier ones win where two give the same cell)
SOURCES = ("natural-table4", "midl-table1")
#: the two readings of "CutMix + ζ-mixup" (:func:`zmixlib.mixing.cutmix_zeta`), each compared with CutMix
CUTMIX_METHODS = ("cutmix_zeta", "cutmix_zeta_compose")


def paired_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """ζ-mixup − mixup and ζ-mixup − ERM in ERR points, seed-paired (:func:`zmixlib.tables.report.paired_summary`):
    mean ± sd, 95 % interval, paired t-test and the seeds won, one row per (dataset, arch, γ, baseline)."""
    pairs = [paper.paired(runs, metric="ERR_percent", baseline=b) for b in ("mixup", "erm")]
    return report.paired_summary(pd.concat(pairs, ignore_index=True))


def paired_table(pairs: pd.DataFrame, *, decimals: int = 2) -> pd.DataFrame:
    """:func:`zmixlib.tables.paper.paired` as one row per (dataset, arch, seed), one column per setting of the
    method (γ): method − baseline in the metric's units (negative ERR difference: the method better)."""
    if pairs is None or len(pairs) == 0:
        return pd.DataFrame()
    labels, order, heading = report.pair_labels(pairs)
    p = pairs.assign(setting=labels)
    cols = sorted(p["setting"].unique(), key=order.__getitem__)
    table = p.pivot_table(index=["dataset", "arch", "seed"], columns="setting", values="diff", aggfunc="first")
    table = table[cols].round(decimals)
    table.columns.name = heading
    return table


def curves_figure(runs: pd.DataFrame, history: pd.DataFrame, *, profile: str):
    """The test error (%) at the epochs each run was evaluated, mean over seeds with a ± sd band, one panel per
    (dataset, arch), labelled with :func:`zmixlib.tables.report.provenance`. Returns the figure."""
    frame = report.curves(history.dropna(subset=["test_err"]))
    return plots.error_curves(frame, label=report.provenance(runs, profile))


def cutmix_pairs(runs: pd.DataFrame) -> pd.DataFrame:
    """Table 5's seed-paired differences in ERR points: each of :data:`CUTMIX_METHODS` − CutMix, stacked."""
    pairs = [paper.paired(runs, metric="ERR_percent", method=m, baseline="cutmix") for m in CUTMIX_METHODS]
    return pd.concat(pairs, ignore_index=True)
