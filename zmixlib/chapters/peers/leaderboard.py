"""Chapter 10's leaderboard: every method of :data:`zmixlib.core.vocab.METHODS` on the same data, model, schedule and
seeds (section ``peers``, protocol ``natural``) — accuracy, training time per epoch relative to ERM, and the
seed-paired difference to ζ-mixup; and what the chapter's engine runs are and cost."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from zmixlib.analysis.stats import mean_sd
from zmixlib.core.vocab import METHOD_NAMES, display_name, method_label
from zmixlib.engine.runspec import RunSpec
from zmixlib.protocol import recipes
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.tables.paper import paired
from zmixlib.tables.report import device_text, paired_summary

from ._shared import ZETA_GAMMA, drop_unsupported, matrix, overrides

__all__ = ["leaderboard_matrix", "leaderboard", "board_reading", "run_summary", "engine_cost"]


def leaderboard_matrix(params: Any) -> RunMatrix:
    """Every method of ``params.methods`` on ``params.datasets`` with section ``peers``'s recipe (ζ-mixup with
    γ = 2.8); runs other chapters train identically are theirs (one protocol, one record: ``Section.protocol``);
    Dense MultiMix only on models whose embedding is a pooled feature map. ``matrix.dropped`` says what was left out and why."""
    ov = overrides(params, datasets=params.datasets, methods=params.methods, gammas=[ZETA_GAMMA])
    m = recipes.resolve("peers", params.profile, **ov)
    kept, dropped = drop_unsupported(m)
    for d in {s.dataset for s in m}:
        for method in METHOD_NAMES:
            if method not in params.methods:
                dropped[(d, method)] = "not among this profile's methods (the `methods` knob)"
    out = matrix(params, kept, **m.overrides)
    out.dropped = dropped
    return out


def _epoch_time(history: pd.DataFrame) -> pd.Series:
    """run_id -> the training time of an epoch in units of the same epoch's evaluation time (median over epochs).

    Every run of a dataset evaluates the same model on the same test images after each epoch — a fixed workload
    — so dividing by its time cancels how loaded a shared machine was while that run trained (runs read from
    other chapters trained at other moments)."""
    if "test_acc" in history.columns:  # the epochs that were evaluated (every epoch, or every eval_every-th)
        history = history.dropna(subset=["test_acc"])
    h = history.assign(_r=history["train_time_s"] / (history["epoch_time_s"] - history["train_time_s"]))
    return h.groupby("run_id")["_r"].median()


def leaderboard(
    runs: pd.DataFrame, history: pd.DataFrame, *, profile: str, dropped: dict | None = None
) -> pd.DataFrame:
    """One row per method and dataset: top-1 accuracy (mean ± sd over seeds), training time per epoch relative
    to ERM (from the records' per-epoch times, normalised by each epoch's evaluation time: :func:`_epoch_time`;
    averaged over seeds), and the seed-paired accuracy
    difference method − ζ-mixup (mean ± sd, seeds better / tied / worse: higher accuracy is better)."""
    if runs is None or len(runs) == 0:
        return pd.DataFrame()
    runs = runs.assign(_acc=runs["test_acc"].astype(float) * 100.0, _t=runs["run_id"].map(_epoch_time(history)))
    rows = []
    for (dataset, arch), g in runs.groupby(["dataset", "arch"], sort=False):
        erm_t = g.loc[g["method"] == "erm", "_t"].mean()
        n = int(g["seed"].nunique())
        for method in METHOD_NAMES:
            r = g[g["method"] == method]
            why = (dropped or {}).get((dataset, method))
            if r.empty and why is None:
                continue
            row = {
                "dataset": f"{dataset} ({arch})",
                "method": method_label(method, r["gamma"].iloc[0] if len(r) else None),
            }
            if r.empty:
                rows.append(
                    {
                        **row,
                        **dict.fromkeys(("accuracy (%)", "time / epoch vs ERM", "− ζ-mixup (points)"), "—"),
                        "note": why,
                    }
                )
                continue
            acc = r["_acc"]
            text = mean_sd(acc)
            ratio = r["_t"].mean() / erm_t if erm_t and not math.isnan(erm_t) else math.nan
            diff = "—"
            if method != "zeta_mixup":
                p = paired(g, metric="top1_acc_percent", method=method, baseline="zeta_mixup")
                s = paired_summary(p, lower_is_better=False)
                if len(s):
                    s = s.iloc[0]
                    diff = f"{s['mean difference']:+.2f}" + ("" if pd.isna(s["sd"]) else f" ± {s['sd']:.2f}")
                    diff += f" ({s['better / tied / worse']})"
            rows.append(
                {
                    **row,
                    "accuracy (%)": text + (f" (n = {len(acc)})" if len(acc) != n else ""),
                    "time / epoch vs ERM": f"{ratio:.2f}×" if not math.isnan(ratio) else "—",
                    "− ζ-mixup (points)": diff,
                    "note": f"{profile}, {n} seed{'s' * (n != 1)}, {device_text(r)}",
                }
            )
    return pd.DataFrame(rows).set_index(["dataset", "method"])


def board_reading(runs: pd.DataFrame, history: pd.DataFrame, *, profile: str) -> str:
    """The leaderboard in a sentence per dataset, from the records: the most accurate method, ζ-mixup's place,
    and the slowest method per epoch relative to ERM."""
    if runs is None or len(runs) == 0:
        return "no leaderboard run finished in this build"
    runs = runs.assign(_acc=runs["test_acc"].astype(float) * 100.0, _t=runs["run_id"].map(_epoch_time(history)))
    parts = []
    for (d, arch), g in runs.groupby(["dataset", "arch"], sort=False):
        acc = g.groupby("method")["_acc"].mean().sort_values(ascending=False)
        t = g.groupby("method")["_t"].mean()
        place = list(acc.index).index("zeta_mixup") + 1 if "zeta_mixup" in acc.index else None
        slow = (t / t.get("erm", math.nan)).dropna().sort_values(ascending=False)
        n = int(g["seed"].nunique())
        text = f"{d} ({arch}, {profile}, {n} seed{'s' * (n != 1)}): most accurate {display_name(acc.index[0])}"
        text += f" at {acc.iloc[0]:.2f} %"
        if place is not None:
            text += f"; ζ-mixup {place} of {len(acc)} at {acc['zeta_mixup']:.2f} %"
        if len(slow):
            text += f"; slowest per epoch {display_name(slow.index[0])}, {slow.iloc[0]:.1f}× ERM"
        parts.append(text)
    return ". ".join(parts)


def run_summary(experiments: dict[str, Sequence[RunSpec]]) -> pd.DataFrame:
    """How many runs each experiment has per section, dataset, architecture, method and epochs (a run that two
    experiments share is counted in both)."""
    rows = [
        {
            "experiment": e,
            "section": s.section,
            "dataset": s.dataset,
            "arch": s.arch,
            "method": s.method,
            "epochs": s.epochs,
        }
        for e, m in experiments.items()
        for s in m
    ]
    keys = ["experiment", "section", "dataset", "arch", "method", "epochs"]
    return pd.DataFrame(rows, columns=keys).groupby(keys, sort=False).size().rename("runs").to_frame()


def engine_cost(*runs: pd.DataFrame) -> str:
    """What the engine runs of the page cost, from their records: the chapter's own (sections ``peers`` and
    ``manifold``) and those read from other chapters' sections, in worker-minutes (the sum of the runs' wall times)."""
    frame = (
        pd.concat([r for r in runs if r is not None and len(r)], ignore_index=True)
        if any(len(r) for r in runs)
        else None
    )
    if frame is None:
        return "no run"
    frame = frame.drop_duplicates("run_id")
    own = frame["section"].isin(["peers", "manifold"])
    parts = [
        f"{int(own.sum())} runs of this chapter's own ({frame.loc[own, 'wall_time_s'].sum() / 60:.1f} worker-minutes)"
    ]
    if (~own).any():
        secs = ", ".join(sorted(frame.loc[~own, "section"].unique()))
        parts.append(
            f"{int((~own).sum())} runs shared with other chapters' sections ({secs}; "
            f"{frame.loc[~own, 'wall_time_s'].sum() / 60:.1f} worker-minutes when they trained)"
        )
    return "; ".join(parts)
