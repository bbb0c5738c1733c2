"""Chapter 05's protocol: skin lesion diagnosis (J Big Data 2024 Table 6; arXiv Tables 2 and A3; MIDL 2023
Table 2) and the feature-space neighbourhoods of Fig. 8.

* **Table 6 / A3** — ERM, mixup and ζ-mixup (γ ∈ {2.4, 2.8, 4.0}) with ResNet-18 and ResNet-50 on the ten skin
  lesion sets: balanced accuracy (the headline: arXiv Table 2 reports it alone), F1-micro and F1-macro (PH2 and
  MED-NODE: balanced accuracy only). MIDL Table 2 is Table A3's F1-micro at γ = 2.8 on ISIC 2016/2017/2018 and
  DermoFit (the same numbers). :func:`matrix` resolves the ``skin`` section of :mod:`zmixlib.protocol.recipes`;
  :func:`zmixlib.tables.report.train_checked` runs it, keeping the trained weights of :func:`knn_matrix`'s runs (the
  ones the neighbourhood analysis reads); :func:`beside_paper` and :func:`paired` make the tables
  (:func:`zmixlib.tables.report.paired_summary` and :func:`zmixlib.tables.report.reading` the summary and the text).
* **Fig. 8** (:mod:`zmixlib.chapters.skin.fig8`, re-exported here) — for every test image, how many of its
  ``k = 128`` nearest training samples, by cosine similarity in the trained model's feature space
  (:mod:`zmixlib.chapters.skin.neighbours`), share its label (:func:`neighbourhoods`; :func:`chapter_neighbourhoods` for the page).
  As in the paper, the neighbours of a mixup (ζ-mixup) model are mixup- (ζ-mixup-) synthesized training
  samples, each labelled by its largest label weight (pool ``"synthesized"``); ERM synthesizes nothing, so its
  neighbours are the training images. Pool ``"train"`` — the training images themselves, in each model's
  feature space — is shown beside it. The paper looks at the test images misclassified by ERM and mixup but
  classified correctly by ζ-mixup for every γ (:func:`paper_selection`); its numbers (:data:`FIG8_PAPER`) are
  in its text, not in a table, and are given here as it states them.

Evidence for the claims ledger (chapter 12): ``skin`` and ``skin_f1`` (seed-paired ζ-mixup − ERM and ζ-mixup −
mixup in balanced accuracy and F1, negated: higher is better, at the γ chosen on the ``val`` split the offline runs
hold out of training — 10 % of ``train``, the runs fit on the rest — the same γ against both baselines; runs
without a validation split use MIDL Table 2's fixed γ = 2.8) and ``knn_neighbourhoods`` (seed-paired ζ-mixup −
mixup mean number of same-label neighbours per test image, pool ``"synthesized"``, negated; every test image, not
the paper's selection).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from zmixlib import data
from zmixlib.chapters.skin.fig8 import (
    FIG8_PAPER,
    METHODS,
    POOLS,
    Neighbourhoods,
    fig8_figure,
    fig8_paper_table,
    knn_reading,
    neighbour_figure,
    neighbour_pairs,
    neighbour_summary,
    neighbourhoods,
    paper_selection,
)
from zmixlib.core.checks import check_choice, check_int
from zmixlib.core.util import torch_threads
from zmixlib.core.vocab import ARCHS, method_label
from zmixlib.engine.runspec import RunSpec
from zmixlib.protocol import config, recipes
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.protocol.regime import RegimeCheck
from zmixlib.tables import paper, plots, report
from zmixlib.tables.report import provenance

__all__ = [
    "METHODS",
    "HEADLINE",
    "METRICS",
    "SOURCES",
    "POOLS",
    "FIG8_PAPER",
    "IMAGE_STAND_IN",
    "check_knobs",
    "matrix",
    "knn_matrix",
    "train",
    "provenance",
    "beside_paper",
    "paper_differences",
    "summary",
    "reading",
    "stand_ins",
    "paper_wins",
    "paired",
    "Neighbourhoods",
    "neighbourhoods",
    "chapter_neighbourhoods",
    "neighbour_summary",
    "neighbour_pairs",
    "paper_selection",
    "knn_reading",
    "fig8_paper_table",
    "curves_figure",
    "neighbour_figure",
    "fig8_figure",
]

#: the page's headline metric: balanced accuracy (arXiv Table 2 reports it alone)
HEADLINE = "ACC_bal_percent"
#: Table A3's metrics, in its column order
METRICS = ("ACC_bal_percent", "F1_micro", "F1_macro")
#: the paper tables this chapter reproduces (``paper_results.csv`` sources)
SOURCES = ("skin-tableA3", "skin-table2")
#: where Fashion-MNIST is absent, digits stands in for the class-imbalanced subset (with its own small CNN)
IMAGE_STAND_IN = {"Fashion-MNIST-imb5": ("digits", "digits_cnn")}
# ------------------------------------------------------------------------------------------------ parameters


def matrix(params: Any) -> RunMatrix:
    """The ``skin`` section's run matrix from the resolved parameters (datasets × archs × methods (× γ) × seeds)."""
    return recipes.resolve_params("skin", params)


def train(params: Any) -> tuple[RunMatrix, pd.DataFrame, pd.DataFrame, RegimeCheck]:
    """The section's runs trained where a record is missing (Fig. 8's runs keep their weights), with the regime
    check: ``(matrix, runs, history, regime check)``."""
    m = matrix(params)
    return (m, *report.train_checked(m, params, keep_checkpoint=knn_matrix(m, params.knn_runs)))


def paper_differences(runs: pd.DataFrame) -> pd.DataFrame | None:
    """Ours − the paper's per cell of Tables A3 / 2 (:func:`zmixlib.tables.report.paper_differences`)."""
    return report.paper_differences(runs, sources=SOURCES, decimals=4)


def summary(pairs: pd.DataFrame, *, decimals: int = 2) -> pd.DataFrame:
    """A seed-paired summary of ζ-mixup − a baseline where higher is better (balanced accuracy, F1, kNN counts)."""
    return report.paired_summary(pairs, decimals=decimals, lower_is_better=False)


def reading(runs: pd.DataFrame, pairs: pd.DataFrame, *, profile: str, regime: RegimeCheck | None) -> str:
    """The page's reading of the headline metric, from this build's records."""
    return report.reading(runs, pairs, profile=profile, metric=HEADLINE, regime=regime)


def stand_ins() -> dict[str, tuple[str, ...]]:
    """The SKIN datasets and what the offline profile runs in their place."""
    return recipes.stand_ins("skin")


def check_knobs(params: Any) -> None:
    """Fail in the setup cell on a knob this chapter cannot run, naming it and what is allowed.

    ``methods`` (Table 6's only), ``knn_runs`` (``[dataset, arch]`` pairs the chapter trains), ``knn_k`` (1 to
    the training set's size); every run field (datasets, γ, seeds, epochs, …) through :func:`matrix`. Under
    ``offline`` / ``smoke``, where Fashion-MNIST is absent, digits stands in for ``Fashion-MNIST-imb5`` (a
    printed note; ``params`` is updated). Under ``paper``, a skin set that is not under ``data_root`` stops here
    with its path and the ``make data`` command.
    """
    methods = params.methods
    if isinstance(methods, (str, bytes)) or not isinstance(methods, (list, tuple)) or not methods:
        raise TypeError(f"methods must be a non-empty list, got {methods!r}")
    for i, m in enumerate(methods):
        check_choice(f"methods[{i}]", m, METHODS)
    k = check_int("knn_k", params.knn_k, min=1)
    runs = params.knn_runs
    if isinstance(runs, (str, bytes)) or not isinstance(runs, (list, tuple)):
        raise TypeError(f"knn_runs must be a list of [dataset, arch] pairs, got {runs!r}")
    for i, pair in enumerate(runs):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"knn_runs[{i}] must be a [dataset, arch] pair, got {pair!r}")
        check_choice(f"knn_runs[{i}][1]", pair[1], ARCHS)
    if params.profile != "paper" and params.sources.get("datasets") != "parameter":
        _stand_in(params)
    specs = matrix(params)
    trained = sorted({(s.dataset, s.arch) for s in specs})
    for i, (dataset, arch) in enumerate(params.knn_runs):
        if (data.resolve(dataset), arch) not in trained:
            raise ValueError(
                f"knn_runs[{i}] must be one of the [dataset, arch] pairs this chapter trains {[list(p) for p in trained]}, "
                f"got {[dataset, arch]!r}"
            )
        size = min(_train_size(s) for s in specs if (s.dataset, s.arch) == (data.resolve(dataset), arch))
        if size is not None and k > size:
            raise ValueError(f"knn_k must be <= the {size} training samples of {dataset}, got {k}")
    if params.profile == "paper":
        for name in params.datasets:
            data.load(name, data.describe(name).splits[0], root=params.data_root)  # absent: its path + `make data`


def _train_size(spec: RunSpec) -> int | float:
    return spec.train_subset if spec.train_subset is not None else math.inf


def _stand_in(params: Any) -> None:
    for name, (stand_in, arch) in IMAGE_STAND_IN.items():
        if name in params.datasets and not config.dataset_present(name, params.data_root):
            params.values["datasets"] = list(dict.fromkeys(stand_in if d == name else d for d in params.datasets))
            params.values["knn_runs"] = [[stand_in, arch] if d == name else [d, a] for d, a in params.knn_runs]
            params.values["stand_ins"] = {**params.stand_ins, name: stand_in}
            print(
                f"NOTE: {name} is drawn from Fashion-MNIST, which is not under the data folder: {stand_in} stands in "
                "for it (balanced, not imbalanced; make data DATASETS=Fashion-MNIST fetches Fashion-MNIST)"
            )


def knn_matrix(specs: Sequence[RunSpec], knn_runs: Sequence[Sequence[str]]) -> RunMatrix:
    """The runs of ``specs`` whose trained weights the neighbourhood analysis reads (the ``[dataset, arch]``
    pairs of ``knn_runs``)."""
    wanted = {(data.resolve(d), a) for d, a in knn_runs}
    return RunMatrix(
        [s for s in specs if (s.dataset, s.arch) in wanted],
        section=getattr(specs, "section", ""),
        profile=getattr(specs, "profile", ""),
    )


# ---------------------------------------------------------------------------------------------------- tables


def beside_paper(runs: pd.DataFrame, *, profile: str, metric: str = HEADLINE) -> pd.DataFrame:
    """The paper's ``metric`` (Table A3; for balanced accuracy also Table 2's PH2 and MED-NODE) beside ours:
    :func:`zmixlib.tables.report.beside_paper` turned on its side — one row per ``paper (<dataset>, <arch>)`` or
    ``ours (<profile>: <dataset>, <arch>, <n> seeds, <device>)``, one column per method (ten datasets × two
    ResNets read better as rows). Balanced accuracy in percent, F1 as a fraction, like the paper."""
    check_choice("metric", metric, METRICS)
    decimals = 2 if metric == HEADLINE else 4
    table = report.beside_paper(runs, profile=profile, sources=SOURCES, metric=metric, decimals=decimals)
    if table.empty:
        return table
    out = table.T
    out.index.name = metric
    out.columns.name = None
    return out


def paper_wins(metric: str = HEADLINE) -> pd.DataFrame:
    """Per (dataset, arch) of the paper's tables: the best of ERM and mixup, the best ζ-mixup over γ, and whether
    ζ-mixup's is higher (the paper: "for all the 10 SKIN datasets, ζ-mixup outperforms both")."""
    check_choice("metric", metric, METRICS)
    t = pd.concat([paper.paper_table(s) for s in SOURCES], ignore_index=True)
    t = t[t["metric"] == metric].drop_duplicates(["dataset", "arch", "method", "gamma"])
    rows = []
    for (dataset, arch), g in t.groupby(["dataset", "arch"], sort=False):
        base = float(g[g["method"].isin(["ERM", "mixup"])]["value"].max())
        zeta = float(g[g["method"] == "zeta-mixup"]["value"].max())
        rows.append(
            {
                "dataset": dataset,
                "arch": arch,
                "best of ERM, mixup": base,
                "best ζ-mixup": zeta,
                "ζ-mixup higher": zeta > base,
            }
        )
    return pd.DataFrame(rows)


def paired(runs: pd.DataFrame, *, metric: str = HEADLINE) -> pd.DataFrame:
    """Seed-paired ζ-mixup − ERM and ζ-mixup − mixup (:func:`zmixlib.tables.paper.paired`: same dataset, architecture
    and seed) stacked, in ``metric``'s paper units, for :func:`zmixlib.tables.report.paired_summary` and
    :func:`zmixlib.tables.report.reading`; ``baseline_method`` is the method subtracted, ``baseline`` its table label.
    Positive = ζ-mixup higher, i.e. better for every metric of this chapter."""
    cols = [
        "dataset",
        "arch",
        "method",
        "baseline_method",
        "gamma",
        "seed",
        "baseline",
        "ours",
        "baseline_value",
        "diff",
    ]
    frames = []
    for baseline in ("erm", "mixup"):
        p = paper.paired(runs, metric=metric, baseline=baseline) if len(runs) else pd.DataFrame()
        if len(p):
            frames.append(p.rename(columns={"baseline": "baseline_value"}).assign(baseline=method_label(baseline)))
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


# ------------------------------------------------------------------------------------------- neighbourhoods


def chapter_neighbourhoods(matrix: RunMatrix, params: Any, *, label: str) -> Neighbourhoods:
    """The page's Fig. 8 count: :func:`neighbourhoods` of ``matrix``'s runs named by ``params.knn_runs`` (``k`` =
    ``params.knn_k``, on ``params.threads`` torch threads), read from the profile's results folder. Prints one
    line: what was counted, under ``label``, or that no Fig. 8 run is in this build."""
    out = report.sweep_dir(params.results_dir, params.profile)
    with torch_threads(getattr(params, "threads", None)):
        nb = neighbourhoods(knn_matrix(matrix, params.knn_runs), out, k=params.knn_k, verbose=False)
    if nb.counts.empty:
        print("No Fig. 8 run in this build (knn_runs is empty or the methods lack ERM, mixup or ζ-mixup).")
    else:
        print(f"ours — {label}; {len(nb.counts)} (run, pool, test image) counts")
    return nb


# ---------------------------------------------------------------------------------------------------- figures


def curves_figure(history: pd.DataFrame, *, label: str, metric: str = "test_bal_acc", name: str = "balanced accuracy"):
    """The test ``metric`` (%) after every epoch, mean ± sd over seeds, one panel per (dataset, arch)
    (:func:`zmixlib.tables.plots.error_curves` on a linear axis, titled for what it shows). Returns the figure."""
    fig = plots.error_curves(report.curves(history, metric=metric), label=label, ylabel=f"test {name} (%)", log=False)
    fig.suptitle(f"Test {name} during training (mean ± sd over seeds) — {label}")
    return fig
