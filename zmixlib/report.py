"""Thin glue between a classification sweep and the page that reports it (notebook 04 and its kind).

* :func:`sweep_dir` — where a profile's records live: ``paper`` runs where ``make paper`` writes them
  (``results/<section>/``), ``smoke`` and ``offline`` runs under ``results/<profile>/<section>/`` so they
  never mix;
* :func:`raise_failures` — stop a notebook when a sweep had failures (a missing dataset raises
  ``FileNotFoundError`` naming the path and the ``make data`` command);
* :func:`load_runs` — the records and per-epoch histories of exactly the runs of a matrix;
* labels come from :func:`zmixlib.vocab.method_label` — one label per method and γ, shared by our rows
  and the papers' rows;
* :func:`beside_paper` — the papers' numbers in one column per dataset, ours (mean ± sd over seeds) beside
  them, labelled with profile, dataset, architecture, seeds and device;
* :func:`paired_table` / :func:`paired_summary` — the per-seed difference ζ-mixup − mixup
  (:func:`zmixlib.paper.paired`) as a table and as mean ± sd with a count of seeds won;
* :func:`curves` — per-epoch histories in the long form :func:`zmixlib.plots.error_curves` draws.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from zmixlib import store, sweep
from zmixlib._checks import check_choice
from zmixlib._util import torch_threads
from zmixlib.config import PROFILES
from zmixlib.paper import PAPER_METRICS, normalize_dataset_name, paper_table
from zmixlib.vocab import display_name, method_label, sort_key

__all__ = [
    "sweep_dir",
    "train",
    "raise_failures",
    "load_runs",
    "beside_paper",
    "paired_table",
    "paired_summary",
    "paired_phrases",
    "reading",
    "curves",
]

#: CPU architecture names ``platform.processor()`` reports, printed as "cpu"
_CPU_NAMES = {"", "x86_64", "amd64", "aarch64", "arm64", "arm", "i386", "i686", "none"}


def sweep_dir(results_dir: str | os.PathLike, profile: str) -> Path:
    """The folder a sweep of ``profile`` writes to (the engine adds ``<section>/``).

    ``paper``: ``results_dir`` itself — where ``make paper`` / ``python -m zmixlib sweep`` put their
    records, so the book only aggregates them; ``smoke`` and ``offline``: ``results_dir/<profile>``.
    """
    check_choice("profile", profile, PROFILES)
    return Path(results_dir) if profile == "paper" else Path(results_dir) / profile


def train(matrix: Iterable, params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train what ``matrix`` lacks and return ``(runs, history)`` of exactly its runs — a chapter's training
    cell. ``params`` (a :class:`zmixlib.config.Params`) gives ``profile``, ``results_dir`` and, where the
    chapter has them, ``workers`` (training processes; ``None``/1: inline) and ``threads`` (torch threads
    per process). Failures stop the notebook (:func:`raise_failures`); finished runs are never retrained."""
    out = sweep_dir(params.results_dir, params.profile)
    workers = getattr(params, "workers", None) or 1
    pool = {"executor": "process", "max_workers": workers} if workers > 1 else {"executor": "inline"}
    with torch_threads(getattr(params, "threads", None)):
        raise_failures(sweep.run(matrix, results_dir=out, progress=False, **pool))
    return load_runs(matrix, out)


def raise_failures(report: Any) -> None:
    """Raise if a :class:`~zmixlib.sweep.SweepReport` has failed runs; do nothing otherwise.

    When every failure is a missing dataset the error is ``FileNotFoundError`` with the engine's
    message(s) (the path and the ``make data`` command); otherwise ``RuntimeError`` with each distinct
    last line of the tracebacks.
    """
    if not report.failed:
        return
    lasts = [err.strip().splitlines()[-1] if err.strip() else "?" for _, err in report.failed]
    distinct = list(dict.fromkeys(lasts))
    head = f"{len(report.failed)} of {len(report.failed) + len(report.done) + len(report.skipped)} run(s) failed"
    prefix = "FileNotFoundError: "
    if all(line.startswith(prefix) for line in distinct):
        raise FileNotFoundError(head + ":\n" + "\n".join(line[len(prefix) :] for line in distinct))
    raise RuntimeError(head + ":\n" + "\n".join(distinct))


def load_runs(matrix: Iterable, results_dir: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(runs, history)`` of the runs of ``matrix`` found under ``results_dir``.

    Records of other matrices in the same folder (other epochs, subsets, seeds) are left out, so a
    table never averages runs of different protocols.
    """
    specs = list(matrix)
    ids = {s.run_id for s in specs}
    sections = sorted({s.section for s in specs})
    runs = [store.load(results_dir, section=s) for s in sections]
    hist = [store.load_history(results_dir, section=s) for s in sections]
    runs = pd.concat([r for r in runs if len(r)] or [pd.DataFrame(columns=["run_id"])], ignore_index=True)
    hist = pd.concat([h for h in hist if len(h)] or [pd.DataFrame(columns=["run_id"])], ignore_index=True)
    return runs[runs["run_id"].isin(ids)].reset_index(drop=True), hist[hist["run_id"].isin(ids)].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------- labels


def _order_of(methods, gammas, alphas=None) -> dict[str, tuple]:
    """label -> table position, from the structured values (labels are never parsed back)."""
    alphas = [None] * len(methods) if alphas is None else alphas
    return {method_label(m, g, a): sort_key(m, g, a) for m, g, a in zip(methods, gammas, alphas)}


def _alphas(frame: pd.DataFrame) -> list:
    return list(frame["alpha"]) if "alpha" in frame.columns else [None] * len(frame)


def _labels(frame: pd.DataFrame) -> list[str]:
    return [method_label(m, g, a) for m, g, a in zip(frame["method"], frame["gamma"], _alphas(frame))]


def _device_text(runs: pd.DataFrame) -> str:
    names = runs["device_name"].dropna().unique() if "device_name" in runs.columns else []
    shown = sorted({"cpu" if str(n).lower() in _CPU_NAMES else str(n) for n in names})
    return ", ".join(shown) or "device unknown"


def _mean_sd(values: pd.Series, n_max: int, decimals: int) -> str:
    v = values.dropna()
    if v.empty:
        return "—"
    text = f"{v.mean():.{decimals}f}"
    if len(v) > 1:
        text += f" ± {v.std(ddof=1):.{decimals}f}"
    return text + (f" (n = {len(v)})" if len(v) != n_max else "")


# -------------------------------------------------------------------------------------------------- tables


def beside_paper(
    runs: pd.DataFrame,
    *,
    profile: str,
    sources: tuple[str, ...] = ("natural-table4", "midl-table1"),
    metric: str = "ERR_percent",
    split: str = "test",
    decimals: int = 2,
) -> pd.DataFrame:
    """The papers' numbers beside ours, one row per method (and γ).

    Args:
        runs: :func:`load_runs` (one row per run, several seeds per cell).
        profile: printed in our columns' labels.
        sources: paper tables (``paper_results.csv``), earlier ones win where two give the same cell
            (Table 4 and MIDL Table 1 share ERM and mixup).
        metric: a :data:`zmixlib.paper.PAPER_METRICS` name; ours are converted to the paper's units.
        split: the evaluated split (the last epoch's value).
        decimals: digits after the point in our cells (and the paper's, at least 2: F1 needs 4).

    Returns:
        a frame of strings indexed by method label: ``paper (<dataset>, <arch>)`` columns (only the
        datasets we ran when we ran any paper dataset, else all of them), then one
        ``ours (<profile>: <dataset>, <arch>, <n> seeds, <device>)`` column per dataset and architecture
        (``mean ± sd``; ``(n = k)`` where fewer seeds finished). Rows: the methods we ran.
    """
    if metric not in PAPER_METRICS:
        raise ValueError(f"metric must be one of {sorted(PAPER_METRICS)}, got {metric!r}")
    if runs is None or len(runs) == 0:
        return pd.DataFrame()
    col, factor = PAPER_METRICS[metric]
    runs = runs.assign(_label=_labels(runs), _value=runs[f"{split}_{col}"].astype(float) * factor)
    paper = pd.concat([paper_table(s) for s in sources], ignore_index=True)
    paper = paper[paper["metric"] == metric]
    paper = paper.assign(_label=[method_label(m, g) for m, g in zip(paper["method"], paper["gamma"])])
    ran_paper = paper[paper["dataset"].map(normalize_dataset_name).isin(set(runs["dataset"].map(normalize_dataset_name)))]
    if not ran_paper.empty:
        paper = ran_paper
    paper = paper.drop_duplicates(["dataset", "arch", "_label"], keep="first")
    paper = paper.assign(_col=[f"paper ({d}, {a})" for d, a in zip(paper["dataset"], paper["arch"])])
    out = paper.pivot(index="_label", columns="_col", values="value")
    out = out[list(dict.fromkeys(paper["_col"]))].map(lambda v: "—" if pd.isna(v) else f"{v:.{max(decimals, 2)}f}")
    ours = {}
    for (dataset, arch), g in runs.groupby(["dataset", "arch"], sort=False):
        n_max = int(g.groupby("_label")["seed"].nunique().max())
        name = f"ours ({profile}: {dataset}, {arch}, {n_max} seed{'s' * (n_max != 1)}, {_device_text(g)})"
        ours[name] = g.groupby("_label")["_value"].apply(lambda v, n=n_max: _mean_sd(v, n, decimals))
    ours = pd.DataFrame(ours)
    table = out.join(ours, how="right").fillna("—")
    order = {**_order_of(paper["method"], paper["gamma"]), **_order_of(runs["method"], runs["gamma"], _alphas(runs))}
    table = table.loc[sorted(table.index, key=lambda label: order.get(label, (99,)))]
    table.index.name = "method"
    return table


def _pair_labels(pairs: pd.DataFrame) -> tuple[list[str], dict[str, tuple], str]:
    """Labels of the paired method's settings, their table order, and the heading "method − baseline"."""
    labels = [method_label(m, g) for m, g in zip(pairs["method"], pairs["gamma"])]
    order = _order_of(pairs["method"], pairs["gamma"])
    first = pairs.iloc[0]
    heading = f"{display_name(first['method'])} − {display_name(first['baseline_method'])}"
    return labels, order, heading


def paired_table(pairs: pd.DataFrame, *, decimals: int = 2) -> pd.DataFrame:
    """:func:`zmixlib.paper.paired` as one row per (dataset, arch, seed), one column per setting of the
    method (γ): method − baseline in the metric's units (negative ERR difference: the method better)."""
    if pairs is None or len(pairs) == 0:
        return pd.DataFrame()
    labels, order, heading = _pair_labels(pairs)
    p = pairs.assign(setting=labels)
    cols = sorted(p["setting"].unique(), key=order.__getitem__)
    table = p.pivot_table(index=["dataset", "arch", "seed"], columns="setting", values="diff", aggfunc="first")
    table = table[cols].round(decimals)
    table.columns.name = heading
    return table


def paired_summary(pairs: pd.DataFrame, *, decimals: int = 2, lower_is_better: bool = True) -> pd.DataFrame:
    """Per (dataset, arch, setting, baseline): mean ± sd of the per-seed difference method − baseline
    (:func:`zmixlib.paper.paired`; several baselines may be stacked), the number of pairs, and in how many seeds
    the method was better / tied / worse (better: lower when ``lower_is_better``, as for ERR; higher for
    accuracy, F1, AUC). Columns: ``mean difference``, ``sd``, ``pairs (seeds)``, ``better / tied / worse``;
    the index names the comparisons ``"<method> (γ …) − <baseline>"``."""
    if pairs is None or len(pairs) == 0:
        return pd.DataFrame()
    labels, order, _ = _pair_labels(pairs)
    p = pairs.assign(setting=labels)
    rows = []
    for (dataset, arch, setting, base), g in p.groupby(["dataset", "arch", "setting", "baseline_method"], sort=False):
        d = g["diff"].astype(float).dropna()
        better = int((d < 0).sum() if lower_is_better else (d > 0).sum())
        tied = int((d == 0).sum())
        rows.append(
            {
                "dataset": dataset,
                "arch": arch,
                "comparison": f"{setting} − {display_name(base)}",
                "_o": (order[setting], sort_key(base)),
                "mean difference": round(d.mean(), decimals),
                "sd": round(d.std(ddof=1), decimals) if len(d) > 1 else math.nan,
                "pairs (seeds)": len(d),
                "better / tied / worse": f"{better} / {tied} / {len(d) - better - tied}",
            }
        )
    out = pd.DataFrame(rows).sort_values(["dataset", "arch", "_o"])
    return out.drop(columns="_o").set_index(["dataset", "arch", "comparison"])


def paired_phrases(pairs: pd.DataFrame, *, decimals: int = 2, lower_is_better: bool = True) -> dict[tuple, str]:
    """(dataset, arch) -> the seed-paired differences of :func:`paired_summary` in words, as the pages' readings
    state them: ``"ζ-mixup (γ = 2.8) − mixup: −1.23 ± 0.45 (better / tied / worse: 3 / 0 / 0)"``, joined by ``;``."""
    summary = paired_summary(pairs, decimals=decimals, lower_is_better=lower_is_better)
    out = {}
    for key, s in summary.groupby(level=[0, 1], sort=False) if len(summary) else ():
        out[key] = "; ".join(
            f"{c}: {r['mean difference']:+.{decimals}f}"
            + ("" if pd.isna(r["sd"]) else f" ± {r['sd']:.{decimals}f}")
            + f" (better / tied / worse: {r['better / tied / worse']})"
            for (_, _, c), r in s.iterrows()
        )
    return out


#: how :func:`reading` names a paper metric, and whether lower is better
_METRIC_WORDS = {"ERR_percent": ("ERR", True), "ACC_bal_percent": ("balanced accuracy", False)}


def reading(
    runs: pd.DataFrame, pairs: pd.DataFrame, *, profile: str, metric: str = "ERR_percent", split: str = "test"
) -> str:
    """One sentence per (dataset, architecture) for a page's reading, computed from the records: the method
    with the best mean (lowest ERR; highest accuracy, F1, AUC), and each seed-paired difference of ``pairs``
    (mean ± sd, seeds where the method was better). The numbers are this build's, never typed."""
    if runs is None or len(runs) == 0:
        return "no run finished in this build"
    col, factor = PAPER_METRICS[metric]
    name, lower = _METRIC_WORDS.get(metric, (metric.removesuffix("_percent").replace("_", " "), False))
    runs = runs.assign(_label=_labels(runs), _value=runs[f"{split}_{col}"].astype(float) * factor)
    phrases = paired_phrases(pairs, lower_is_better=lower) if pairs is not None and len(pairs) else {}
    unit = " %" if metric.endswith("_percent") else ""
    parts = []
    for (dataset, arch), g in runs.groupby(["dataset", "arch"], sort=False):
        means = g.groupby("_label")["_value"].mean()
        best = means.idxmin() if lower else means.idxmax()
        n = int(g["seed"].nunique())
        text = f"{dataset} ({arch}, {profile}, {n} seed{'s' * (n != 1)}): {'lowest' if lower else 'highest'} mean {name} "
        text += f"{best} at {means[best]:.2f}{unit}"
        if (dataset, arch) in phrases:
            text += "; seed-paired: " + phrases[(dataset, arch)]
        parts.append(text)
    return ". ".join(parts)


def curves(history: pd.DataFrame, *, metric: str = "test_err", scale: float = 100.0) -> pd.DataFrame:
    """Per-epoch histories (:func:`load_runs`) in long form for :func:`zmixlib.plots.error_curves`:
    ``panel`` (``"<dataset> (<arch>)"``), ``curve`` (method label), ``method``, ``seed``, ``epoch``,
    ``value`` (``metric`` × ``scale``: percent by default)."""
    if history is None or len(history) == 0:
        return pd.DataFrame(columns=["panel", "curve", "method", "seed", "epoch", "value"])
    if metric not in history.columns:
        raise ValueError(f"history has no column {metric!r}; columns: {sorted(history.columns)}")
    h = history.assign(
        panel=[f"{d} ({a})" for d, a in zip(history["dataset"], history["arch"])],
        curve=_labels(history),
        value=history[metric].astype(float) * scale,
    )
    order = _order_of(history["method"], history["gamma"], _alphas(history))
    h["curve"] = pd.Categorical(h["curve"], categories=sorted(order, key=order.__getitem__), ordered=True)
    return h[["panel", "curve", "method", "seed", "epoch", "value"]].sort_values(["panel", "curve", "seed", "epoch"])
