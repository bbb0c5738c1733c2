"""Chapter 04's tables and figure: ERM, mixup and ζ-mixup on natural images (J Big Data 2024, Table 4; MIDL 2023,
Table 1) and CutMix with ζ-mixup (Table 5).

The notebook's cells each call this module (the training and the tables every chapter shares come from
:mod:`zmixlib.tables.report`, bound here to this chapter's sections and paper tables):

* :func:`train` / :func:`train_cutmix` — Table 4's and Table 5's run matrices under the notebook's parameters, trained
  where a record is missing, with the regime check;
* :func:`beside_paper` / :func:`cutmix_beside_paper` / :func:`paper_differences` — our runs beside the papers';
* :func:`pairs`, :func:`cutmix_summary`, :func:`reading`, :func:`stand_ins`;

* :func:`summary_vs_baselines` — ζ-mixup − mixup and ζ-mixup − ERM, seed by seed (:func:`zmixlib.tables.report.paired_summary`
  over both baselines);
* :func:`paired_table` — every seed's difference, one column per γ;
* :func:`curves_figure` — the test error during training;
* :func:`cutmix_pairs` — Table 5's comparisons: each reading of CutMix + ζ-mixup − CutMix.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from zmixlib.protocol import recipes
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.protocol.regime import RegimeCheck
from zmixlib.tables import paper, plots, report
from zmixlib.tables.report import reading

__all__ = [
    "SOURCES",
    "CUTMIX_SOURCES",
    "CUTMIX_METHODS",
    "matrix",
    "cutmix_matrix",
    "train",
    "train_cutmix",
    "beside_paper",
    "cutmix_beside_paper",
    "paper_differences",
    "pairs",
    "cutmix_summary",
    "reading",
    "stand_ins",
    "summary_vs_baselines",
    "paired_table",
    "curves_figure",
    "cutmix_pairs",
]

#: the papers' tables this chapter sets beside ours (earlier ones win where two give the same cell)
SOURCES = ("natural-table4", "midl-table1")
#: Table 5's source in ``paper_results.csv``
CUTMIX_SOURCES = ("cutmix-table5",)
#: the two readings of "CutMix + ζ-mixup" (:func:`zmixlib.mixing.cutmix_zeta`), each compared with CutMix
CUTMIX_METHODS = ("cutmix_zeta", "cutmix_zeta_compose")


Trained = tuple[RunMatrix, pd.DataFrame, pd.DataFrame, RegimeCheck]


def matrix(params: Any) -> RunMatrix:
    """Table 4's run matrix under the notebook's parameters (section ``natural``)."""
    return recipes.resolve_params("natural", params)


def cutmix_matrix(params: Any) -> RunMatrix:
    """Table 5's run matrix (section ``cutmix``: its own methods, on ``params.cutmix_datasets``)."""
    return recipes.resolve_params("cutmix", params, datasets=params.cutmix_datasets, methods=None, gammas=None)


def train(params: Any) -> Trained:
    """:func:`matrix` trained where a record is missing (runs are shared by spec with chapters 07, 08, 10 and 11):
    ``(matrix, runs, history, regime check)``."""
    m = matrix(params)
    return (m, *report.train_checked(m, params))


def train_cutmix(params: Any) -> Trained:
    """:func:`cutmix_matrix` trained where a record is missing, as :func:`train`."""
    m = cutmix_matrix(params)
    return (m, *report.train_checked(m, params))


def beside_paper(runs: pd.DataFrame, *, profile: str) -> pd.DataFrame:
    """Table 4 (and MIDL Table 1): our ERR beside the paper's (:func:`zmixlib.tables.report.beside_paper`)."""
    return report.beside_paper(runs, profile=profile, sources=SOURCES)


def cutmix_beside_paper(runs: pd.DataFrame, *, profile: str) -> pd.DataFrame:
    """Table 5: our ERR beside the paper's."""
    return report.beside_paper(runs, profile=profile, sources=CUTMIX_SOURCES)


def paper_differences(runs: pd.DataFrame) -> pd.DataFrame | None:
    """The paper's own differences (ζ-mixup − mixup, − ERM) beside ours, where our runs have the paper's datasets."""
    return report.paper_differences(runs, sources=SOURCES)


def pairs(runs: pd.DataFrame) -> pd.DataFrame:
    """ζ-mixup − mixup in ERR points, seed by seed (:func:`zmixlib.tables.paper.paired`): the reading's and the
    ledger's comparison."""
    return paper.paired(runs, metric="ERR_percent")


def cutmix_summary(pairs: pd.DataFrame) -> pd.DataFrame:
    """Table 5's seed-paired summary (:func:`cutmix_pairs` in, one row per comparison out)."""
    return report.paired_summary(pairs)


def stand_ins() -> dict[str, tuple[str, ...]]:
    """The paper's datasets of Table 4 and what the offline profile runs in their place."""
    return recipes.stand_ins("natural")


def summary_vs_baselines(runs: pd.DataFrame) -> pd.DataFrame:
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
