"""Chapter 08's protocol: the ablation of ζ-mixup's two components (J Big Data 2024, Table 8).

ζ-mixup differs from mixup in two ways: it mixes all ``T = m`` samples of the mini-batch (mixup: 2), and it
weights them by a normalised p-series (Eq. 6; mixup: λ ~ Beta(1, 1)). Table 8 (CIFAR-100, ResNet-18,
γ = 2.8, m = 128, 200 epochs) removes one component at a time — four rows, :data:`VARIANTS`:

* **mixup** — neither component (T = 2, Beta(1, 1) weights);
* **p-series weights, T = 2** — ζ-mixup's weights on 2 samples (``zeta_mixup`` with ``num_mix=2``);
* **Dirichlet(1) weights, T = m** — the whole batch with weights ~ Dir(1, …, 1), the multivariate Beta(1, 1)
  (``dirichlet_mixup``);
* **ζ-mixup** — both (``zeta_mixup``, T = m).

The paper's numbers are ERR (%), mean ± sd (``paper_table("ablation-table8")``). Its Dirichlet row, 94.69, is
an error rate like the other rows — 5.31 % accuracy on 100 classes, where guessing errs 99 % of the time —
which is what the text calls "very poor performance"; it is not an accuracy.

Both ζ-mixup rows are method ``zeta_mixup`` with γ = 2.8 and differ only in ``num_mix``, so rows are told
apart by :func:`variant_of` (method and ``num_mix``), never by the method label alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from zmixlib.analysis.stats import mean_sd
from zmixlib.core.vocab import METHODS, method_label
from zmixlib.protocol import recipes
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.protocol.regime import RegimeCheck
from zmixlib.tables import paper, plots, report
from zmixlib.tables.report import device_text, guarded

__all__ = [
    "Variant",
    "VARIANTS",
    "PAPER_SOURCE",
    "variant_of",
    "check_knobs",
    "matrix",
    "train",
    "guarded",
    "label_runs",
    "table",
    "paired",
    "paired_summary",
    "paired_table",
    "curves",
    "curves_figure",
    "reading",
]

PAPER_SOURCE = "ablation-table8"


@dataclass(frozen=True)
class Variant:
    """One row of Table 8: the method that runs it, its ``T`` (``num_mix``; ``None`` = the batch), the row as
    ``paper_results.csv`` spells it, and what it mixes."""

    key: str
    method: str
    num_mix: int | None
    paper_row: str
    mixes: str
    weights: str

    def label(self, gamma: Any = None) -> str:
        """The row's label in tables and legends, from the vocabulary plus its T."""
        base = method_label(self.method, gamma if self.method == "zeta_mixup" else None)
        return base if self.method == "mixup" else f"{base}, {self.mixes}"


#: Table 8's rows, in its order
VARIANTS: tuple[Variant, ...] = (
    Variant("mixup", "mixup", None, METHODS["mixup"].paper, "T = 2", "λ ~ Beta(1, 1)"),
    Variant("pseries_t2", "zeta_mixup", 2, "p-series weights, T=2", "T = 2", "normalised p-series (Eq. 6)"),
    Variant("dirichlet_tm", "dirichlet_mixup", None, METHODS["dirichlet_mixup"].paper, "T = m", "Dir(1, …, 1)"),
    Variant("zeta", "zeta_mixup", None, METHODS["zeta_mixup"].paper, "T = m", "normalised p-series (Eq. 6)"),
)
_BY_KEY = {v.key: v for v in VARIANTS}
_ZETA = _BY_KEY["zeta"]
#: the seed-paired comparisons shown: ζ-mixup − each ablated variant (the ledger's), and the paper's
#: intermediate step p-series T = 2 − mixup
COMPARISONS = (("zeta", "mixup"), ("zeta", "pseries_t2"), ("zeta", "dirichlet_tm"), ("pseries_t2", "mixup"))


def variant_of(method: str, num_mix: Any = None) -> Variant:
    """The Table 8 row a run belongs to (``ValueError`` for a run that is none of them)."""
    n = None if num_mix is None or (isinstance(num_mix, float) and math.isnan(num_mix)) else int(num_mix)
    for v in VARIANTS:
        if v.method == method and v.num_mix == n:
            return v
    raise ValueError(
        f"a run of the ablation must be one of {[(v.method, v.num_mix) for v in VARIANTS]}, got {(method, num_mix)!r}"
    )


# ------------------------------------------------------------------------------------------------- runs


def matrix(params: Any) -> RunMatrix:
    """The ablation's run matrix (section ``ablation``) from the chapter's resolved parameters."""
    return recipes.resolve_params("ablation", params)


def train(params: Any) -> tuple[RunMatrix, pd.DataFrame, pd.DataFrame, RegimeCheck]:
    """Table 8's runs trained where a record is missing (chapter 04's mixup and ζ-mixup runs are read), with the
    regime check from chapter 04's ERM runs: ``(matrix, runs, history, regime check)``."""
    m = matrix(params)
    return (m, *report.train_checked(m, params))


def check_knobs(params: Any) -> None:
    """Fail in the setup cell on a knob this chapter cannot run (dataset, seeds, epochs, …), naming it, and
    check that the matrix holds the four rows of Table 8 for every dataset."""
    m = matrix(params)
    for spec in m:
        variant_of(spec.method, spec.num_mix)
    found = {(s.dataset, variant_of(s.method, s.num_mix).key) for s in m}
    missing = sorted({(d, v.key) for d, _ in found for v in VARIANTS} - found)
    if missing:
        raise ValueError(f"the ablation matrix lacks the variants {missing}")


def label_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with ``variant`` (a :data:`VARIANTS` key), ``label`` and ``err`` (ERR, %) columns."""
    if runs is None or len(runs) == 0:
        return pd.DataFrame(columns=["dataset", "arch", "seed", "variant", "label", "err"])
    num_mix = runs["num_mix"] if "num_mix" in runs.columns else [None] * len(runs)
    variants = [variant_of(m, n) for m, n in zip(runs["method"], num_mix)]
    gammas = runs["gamma"] if "gamma" in runs.columns else [None] * len(runs)
    return runs.assign(
        variant=[v.key for v in variants],
        label=[v.label(g) for v, g in zip(variants, gammas)],
        err=runs["test_err"].astype(float) * 100.0,
    )


# ------------------------------------------------------------------------------------------------ tables


def _paper_cells() -> dict[str, str]:
    """Table 8 row -> ``"mean ± sd"`` as the paper prints it (ERR, %)."""
    t = paper.paper_table(PAPER_SOURCE)
    cells = {}
    for _, r in t.iterrows():
        sd = re.search(r"\+-\s*([0-9.]+)", str(r["note"]))
        cells[r["method"]] = f"{r['value']:.2f}" + (f" ± {sd.group(1)}" if sd else "")
    return cells


def table(runs: pd.DataFrame, *, profile: str, decimals: int = 2) -> pd.DataFrame:
    """Table 8 beside ours: one row per variant — its T and weights, the paper's ERR (%) mean ± sd (CIFAR-100,
    ResNet-18, m = 128), and ours (mean ± sd over seeds) per (dataset, model), labelled with the profile,
    the batch m, the number of seeds and the device."""
    lab = label_runs(runs)
    cells = _paper_cells()
    gamma = float(lab.loc[lab["variant"] == "zeta", "gamma"].iloc[0]) if (lab["variant"] == "zeta").any() else 2.8
    out = pd.DataFrame(
        {
            "Table 8 row": [v.paper_row for v in VARIANTS],
            "mixes": [v.mixes for v in VARIANTS],
            "weights": [v.weights for v in VARIANTS],
            "paper ERR (%) (Table 8: CIFAR-100, ResNet-18, m = 128)": [cells.get(v.paper_row, "—") for v in VARIANTS],
        },
        index=pd.Index([v.label(gamma) for v in VARIANTS], name="variant"),
    )
    for (dataset, arch), g in lab.groupby(["dataset", "arch"], sort=False):
        n_max = int(g.groupby("variant")["seed"].nunique().max())
        m = ", ".join(str(b) for b in sorted(g["batch_size"].unique())) if "batch_size" in g.columns else "?"
        name = (
            f"ours ERR (%) ({profile}: {dataset}, {arch}, m = {m}, {n_max} seed{'s' * (n_max != 1)}, {device_text(g)})"
        )
        out[name] = [mean_sd(g.loc[g["variant"] == v.key, "err"], decimals, n_max=n_max) for v in VARIANTS]
    return out


def paired(runs: pd.DataFrame) -> pd.DataFrame:
    """Seed-paired differences in ERR (points) for :data:`COMPARISONS`: one row per (dataset, arch,
    comparison, seed) with ``diff`` = ERR(first) − ERR(second); negative: the first errs less."""
    lab = label_runs(runs)
    cols = ["dataset", "arch", "comparison", "first", "second", "seed", "diff"]
    rows = []
    for (dataset, arch), g in lab.groupby(["dataset", "arch"], sort=False):
        by = g.pivot_table(index="seed", columns="variant", values="err", aggfunc="mean")
        for first, second in COMPARISONS:
            if first not in by.columns or second not in by.columns:
                continue
            d = (by[first] - by[second]).dropna()
            name = f"{_label(first, g)} − {_label(second, g)}"
            rows += [
                {
                    "dataset": dataset,
                    "arch": arch,
                    "comparison": name,
                    "first": first,
                    "second": second,
                    "seed": int(s),
                    "diff": float(v),
                }
                for s, v in d.items()
            ]
    return pd.DataFrame(rows, columns=cols)


def _label(key: str, runs: pd.DataFrame) -> str:
    g = runs.loc[runs["variant"] == key, "gamma"] if "gamma" in runs.columns else pd.Series(dtype=float)
    return _BY_KEY[key].label(g.iloc[0] if len(g) else None)


#: :func:`zmixlib.tables.report.paired_summary`'s headings as Table 8's page names them
_SUMMARY_COLUMNS = {
    "arch": "model",
    "comparison": "difference in ERR (points)",
    "mean difference": "mean",
    "pairs (seeds)": "seeds",
    "better / tied / worse": "first lower / tied / higher",
}


def paired_summary(pairs: pd.DataFrame, *, decimals: int = 2) -> pd.DataFrame:
    """Per (dataset, model, comparison): mean ± sd of the per-seed difference, its 95 % Student-t interval and
    two-sided paired t-test, the number of seeds, and in how many the first variant's ERR was lower / equal /
    higher — :func:`zmixlib.tables.report.paired_summary` under this chapter's headings."""
    return report.paired_summary(pairs, decimals=decimals, columns=_SUMMARY_COLUMNS)


def paired_table(pairs: pd.DataFrame, *, decimals: int = 2) -> pd.DataFrame:
    """:func:`paired` as one row per (dataset, arch, seed), one column per comparison (in :data:`COMPARISONS`'
    order): the ERR difference in points."""
    if pairs is None or len(pairs) == 0:
        return pd.DataFrame()
    wide = pairs.pivot_table(index=["dataset", "arch", "seed"], columns="comparison", values="diff", sort=False)
    return wide.round(decimals)


def curves(runs: pd.DataFrame, history: pd.DataFrame, *, scale: float = 100.0) -> pd.DataFrame:
    """Per-epoch test error in the long form :func:`zmixlib.tables.plots.error_curves` draws, one curve per variant
    (the history has no ``num_mix``: it is taken from the run records)."""
    cols = ["panel", "curve", "method", "seed", "epoch", "value"]
    if history is None or len(history) == 0 or runs is None or len(runs) == 0:
        return pd.DataFrame(columns=cols)
    lab = label_runs(runs)[["run_id", "label", "variant"]]
    h = history.merge(lab, on="run_id", how="inner")
    order = list(dict.fromkeys(_label(v.key, label_runs(runs)) for v in VARIANTS))
    h = h.assign(
        panel=[f"{d} ({a})" for d, a in zip(h["dataset"], h["arch"])],
        curve=pd.Categorical(h["label"], categories=order, ordered=True),
        value=h["test_err"].astype(float) * scale,
    )
    return h[cols].sort_values(["panel", "curve", "seed", "epoch"]).reset_index(drop=True)


def curves_figure(runs: pd.DataFrame, history: pd.DataFrame, *, profile: str):
    """The test error (%) during training, one curve per variant (:func:`curves`), mean ± sd over seeds, labelled
    with :func:`zmixlib.tables.report.provenance`. Returns the figure."""
    return plots.error_curves(curves(runs, history.dropna(subset=["test_err"])), label=report.provenance(runs, profile))


# ------------------------------------------------------------------------------------- reading, ledger


def reading(runs: pd.DataFrame, pairs: pd.DataFrame, *, profile: str) -> str:
    """One sentence per (dataset, model), computed from this build's records: the variants ordered by mean
    ERR, and the seed-paired differences of ζ-mixup to each ablated variant."""
    lab = label_runs(runs)
    if len(lab) == 0:
        return "no run finished in this build"
    summary = paired_summary(pairs)
    parts = []
    for (dataset, arch), g in lab.groupby(["dataset", "arch"], sort=False):
        means = g.groupby("label")["err"].mean().sort_values()
        n = int(g["seed"].nunique())
        text = f"{dataset} ({arch}, {profile}, {n} seed{'s' * (n != 1)}): mean ERR from lowest to highest — "
        text += ", ".join(f"{k} {v:.2f} %" for k, v in means.items())
        if len(summary) and (dataset, arch) in summary.index.droplevel(2):
            rows = summary.loc[(dataset, arch)]
            diffs = [
                f"{name}: {r['mean']:+.2f}"
                + ("" if pd.isna(r["sd"]) else f" ± {r['sd']:.2f}")
                + f" ({r['first lower / tied / higher']})"
                for name, r in rows.iterrows()
                if name.startswith(_label("zeta", g))
            ]
            text += "; seed-paired (lower / tied / higher) " + "; ".join(diffs)
        parts.append(text)
    return ". ".join(parts)
