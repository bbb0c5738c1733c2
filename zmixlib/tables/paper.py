"""The papers' numbers and the comparison of ours with them.

* :func:`paper_table` reads the packaged ``resources/paper_results.csv`` (numbers transcribed from the
  papers' tables; the book's reproduce page gives the sources).
* :func:`compare` puts the paper's number beside our mean ± sd over seeds; :func:`paired` gives the
  per-seed difference ζ-mixup − mixup (same dataset, architecture and seed), which is what the
  notebooks plot: a seed-paired comparison removes most of the seed-to-seed variance.

Method, architecture and γ spellings come from :mod:`zmixlib.core.vocab`.
"""

from __future__ import annotations

import math
import re
from importlib.resources import files

import pandas as pd

from zmixlib.core.vocab import METHODS, arch_paper_name, gamma_text

__all__ = ["paper_table", "compare", "paired", "PAPER_METRICS", "normalize_dataset_name"]

#: paper metric -> (our record column suffix, factor): ERR_percent = 100 * test_err, ...
PAPER_METRICS = {
    "ERR_percent": ("err", 100.0),
    "ACC_percent": ("medmnist_acc", 100.0),
    "ACC_bal_percent": ("bal_acc", 100.0),
    "F1_micro": ("f1_micro", 1.0),
    "F1_macro": ("f1_macro", 1.0),
    "AUC": ("auc", 1.0),
    "top1_acc_percent": ("acc", 100.0),
}
_DATASET_ALIASES = {"fashionmnist": "fmnist", "tinyimagenet": "tinyimagenet"}


def normalize_dataset_name(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", str(name).lower())
    return _DATASET_ALIASES.get(key, key)


def paper_table(source: str | None = None) -> pd.DataFrame:
    """The papers' numbers (packaged ``resources/paper_results.csv``).

    Columns: ``source, dataset, arch, method, gamma, metric, value, note`` plus ``value_text`` (the cell
    as written: timing rows hold strings like ``1h19m +- 30s``, for which ``value`` is NaN) and
    ``gamma_value`` (γ as a number where it is one). ``source`` filters to one table (e.g.
    ``"natural-table4"``).
    """
    with files("zmixlib").joinpath("resources/paper_results.csv").open("r", encoding="utf-8") as f:
        df = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
    if source is not None:
        known = sorted(df["source"].unique())
        if source not in known:
            raise ValueError(f"source must be one of {known}, got {source!r}")
        df = df[df["source"] == source].reset_index(drop=True)
    df["value_text"] = df["value"]
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    df["gamma_value"] = pd.to_numeric(df["gamma"], errors="coerce")
    return df


def _ours(runs: pd.DataFrame, metric: str, split: str) -> pd.Series:
    col, factor = PAPER_METRICS[metric]
    name = f"{split}_{col}"
    if name not in runs.columns:
        raise ValueError(f"runs have no column {name!r} (needed for {metric}); columns: {sorted(runs.columns)}")
    return runs[name].astype(float) * factor


def _keyed(runs: pd.DataFrame) -> pd.DataFrame:
    df = runs.copy()
    df["_ds"] = df["dataset"].map(normalize_dataset_name)
    df["_arch"] = df["arch"].map(arch_paper_name)
    df["_method"] = df["method"].map(lambda m: METHODS[m].paper if m in METHODS else m)
    df["_gamma"] = df["gamma"].map(gamma_text) if "gamma" in df.columns else None
    return df


def compare(
    runs: pd.DataFrame,
    *,
    source: str,
    metrics: list[str] | None = None,
    split: str = "test",
) -> pd.DataFrame:
    """The paper's number beside ours, per (dataset, arch, method, γ, metric).

    Args:
        runs: :func:`load` output (one row per run; several seeds per cell).
        source: the paper table, e.g. ``"natural-table4"``, ``"skin-tableA3"``, ``"medmnist-table7"``.
        metrics: paper metric names to include (default: every one in the table that we compute).
        split: the evaluated split whose metrics are compared.

    Returns:
        one row per paper cell we have runs for: ``dataset, arch, method, gamma, metric, paper,
        ours_mean, ours_sd, n_seeds, diff`` (ours − paper) and, for ζ-mixup rows, ``paired_mean`` /
        ``paired_sd`` / ``n_pairs`` of the per-seed difference ζ-mixup − mixup (see :func:`paired`).
        Our numbers use the paper's units (percent where the paper prints percent).
    """
    paper = paper_table(source)
    paper = paper[paper["metric"].isin(list(PAPER_METRICS))]
    if metrics is not None:
        bad = sorted(set(metrics) - set(PAPER_METRICS))
        if bad:
            raise ValueError(f"unknown metric(s) {bad}; allowed: {sorted(PAPER_METRICS)}")
        paper = paper[paper["metric"].isin(metrics)]
    columns = ["dataset", "arch", "method", "gamma", "metric", "paper", "ours_mean", "ours_sd", "n_seeds", "diff"]
    columns += ["paired_mean", "paired_sd", "n_pairs"]
    if runs is None or len(runs) == 0:
        return pd.DataFrame(columns=columns)
    ours = _keyed(runs)
    rows = []
    for _, p in paper.iterrows():
        sel = ours[
            (ours["_ds"] == normalize_dataset_name(p["dataset"]))
            & (ours["_arch"] == p["arch"])
            & (ours["_method"] == p["method"])
        ]
        gamma = gamma_text(p["gamma"])
        if gamma is not None:
            sel = sel[sel["_gamma"] == gamma]
        if sel.empty:
            continue
        vals = _ours(sel, p["metric"], split).dropna()
        row = {
            "dataset": p["dataset"],
            "arch": p["arch"],
            "method": p["method"],
            "gamma": p["gamma"],
            "metric": p["metric"],
            "paper": p["value"],
            "ours_mean": vals.mean(),
            "ours_sd": vals.std(ddof=1) if len(vals) > 1 else math.nan,
            "n_seeds": int(vals.size),
        }
        row["diff"] = row["ours_mean"] - row["paper"]
        row.update(paired_mean=math.nan, paired_sd=math.nan, n_pairs=0)
        if p["method"] == METHODS["zeta_mixup"].paper:
            d = paired(ours[ours["_ds"] == normalize_dataset_name(p["dataset"])], metric=p["metric"], split=split)
            if not d.empty:
                d = d[(d["_arch"] == p["arch"]) & (d["_gamma"] == gamma)]
            if not d.empty:
                row.update(
                    paired_mean=d["diff"].mean(),
                    paired_sd=d["diff"].std(ddof=1) if len(d) > 1 else math.nan,
                    n_pairs=int(len(d)),
                )
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def paired(
    runs: pd.DataFrame,
    *,
    metric: str = "ERR_percent",
    split: str = "test",
    method: str = "zeta_mixup",
    baseline: str = "mixup",
) -> pd.DataFrame:
    """Per-seed difference ``method − baseline`` on the same dataset, architecture and seed.

    Returns:
        one row per (dataset, arch, gamma, seed) with both values and ``diff`` (in the paper's units of
        ``metric``; negative ERR difference = ζ-mixup better); ``_arch`` / ``_gamma`` are the paper's
        architecture name and a comparable γ key. Empty if there are no pairs.
    """
    if metric not in PAPER_METRICS:
        raise ValueError(f"metric must be one of {sorted(PAPER_METRICS)}, got {metric!r}")
    cols = [
        "dataset",
        "arch",
        "_arch",
        "method",
        "baseline_method",
        "gamma",
        "_gamma",
        "seed",
        "ours",
        "baseline",
        "diff",
    ]
    if runs is None or len(runs) == 0:
        return pd.DataFrame(columns=cols)
    df = runs if "_arch" in runs.columns else _keyed(runs)
    df = df.assign(_value=_ours(df, metric, split))
    a = df[df["method"] == method]
    b = df[df["method"] == baseline]
    if a.empty or b.empty:
        return pd.DataFrame(columns=cols)
    b = b.groupby(["_ds", "_arch", "seed"], as_index=False)["_value"].mean().rename(columns={"_value": "baseline"})
    m = a.merge(b, on=["_ds", "_arch", "seed"], how="inner")
    m = m.rename(columns={"_value": "ours"})
    m["diff"] = m["ours"] - m["baseline"]
    m["baseline_method"] = baseline
    m = m.assign(_order=m["_gamma"].fillna(""))
    return m.sort_values(["dataset", "arch", "_order", "seed"])[cols].reset_index(drop=True)
