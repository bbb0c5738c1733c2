"""MultiMix and Dense MultiMix (Venkataramanan et al.) as their paper trains them (MultiMix with probability 0.5,
input mixup otherwise; n = 1000 generated embeddings; α ~ U[0.5, 2]), beside the paper's Table 2."""

from __future__ import annotations

from typing import Any

import pandas as pd

from zmixlib.analysis.stats import mean_sd
from zmixlib.core.vocab import method_label
from zmixlib.protocol import recipes
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.tables import paper
from zmixlib.tables.report import device_text, paired_summary

from ._shared import SOURCES, ZETA_GAMMA, drop_unsupported, matrix, overrides

__all__ = ["MULTIMIX_METHODS", "TABLE2_ROWS", "multimix_matrix", "table2", "multimix_reading"]

#: the rows of the MultiMix paper's Table 2 that the engine trains
MULTIMIX_METHODS = ("erm", "manifold_mixup", "zeta_mixup", "multimix", "dense_multimix")


#: Table 2's row names -> ours
TABLE2_ROWS = {
    "Baseline": "erm",
    "Manifold mixup": "manifold_mixup",
    "zeta-mixup (reproduced by MultiMix authors)": "zeta_mixup",
    "MultiMix": "multimix",
    "Dense MultiMix": "dense_multimix",
}


def multimix_matrix(params: Any) -> RunMatrix:
    """Table 2's rows that the engine trains (:data:`MULTIMIX_METHODS`) on ``multimix_datasets`` with the
    leaderboard's recipe (section ``peers``); Dense MultiMix only where the model has a pooled feature map."""
    ov = overrides(params, datasets=params.multimix_datasets, methods=list(MULTIMIX_METHODS), gammas=[ZETA_GAMMA])
    m = recipes.resolve("peers", params.profile, **ov)
    kept, dropped = drop_unsupported(m)
    out = matrix(params, kept, **m.overrides)
    out.dropped = dropped
    return out


def table2(runs: pd.DataFrame, *, profile: str) -> pd.DataFrame:
    """The MultiMix paper's Table 2 (top-1 accuracy, %, mean of 5 runs; PreActResNet-18 and WRN16-8) beside ours
    (mean ± sd over seeds, per dataset and architecture). Rows: Table 2's methods we train, then those we do not
    (paper columns only)."""
    p = paper.paper_table(SOURCES["table2"])
    p = p.assign(_m=p["method"].map(TABLE2_ROWS))
    p = p.assign(
        _label=[
            method_label(m) if isinstance(m, str) else f"{r} (not trained here)" for m, r in zip(p["_m"], p["method"])
        ]
    )
    table = p.pivot_table(
        index="_label", columns=p["dataset"] + " · " + p["arch"] + " (paper)", values="value", aggfunc="first"
    )
    table = table.map(lambda v: f"{v:.2f}")
    if runs is not None and len(runs):
        r = runs.assign(_acc=runs["test_acc"].astype(float) * 100.0, _label=[method_label(m) for m in runs["method"]])
        for (d, arch), g in r.groupby(["dataset", "arch"], sort=False):
            n = int(g["seed"].nunique())
            col = f"{d} · {arch} (ours: {profile}, {n} seed{'s' * (n != 1)}, {device_text(g)})"
            table = table.join(g.groupby("_label")["_acc"].apply(mean_sd).rename(col), how="outer")
    order = [method_label(m) for m in MULTIMIX_METHODS]
    table = table.loc[sorted(table.index, key=lambda lab: (order.index(lab) if lab in order else len(order), lab))]
    table.index.name = "method"
    return table.fillna("—")


def multimix_reading(pairs: pd.DataFrame) -> str:
    """The seed-paired accuracy differences MultiMix / Dense MultiMix − ζ-mixup in words (``pairs``:
    :func:`zmixlib.tables.paper.paired` with ``metric="top1_acc_percent"``)."""
    summary = paired_summary(pairs, lower_is_better=False) if pairs is not None and len(pairs) else pd.DataFrame()
    parts = [
        f"{d} ({a}): {c} {r['mean difference']:+.2f}"
        + ("" if pd.isna(r["sd"]) else f" ± {r['sd']:.2f}")
        + f" points (seeds better / tied / worse: {r['better / tied / worse']})"
        for (d, a, c), r in summary.iterrows()
    ]
    return "; ".join(parts) or "no pair of runs finished in this build"
