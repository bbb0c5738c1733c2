"""The table layer of the chapters: from a classification sweep to the page that reports it (notebooks 04–10).

* :func:`sweep_dir` — where a profile's records live: ``paper`` runs where ``make paper`` writes them
  (``results/<section>/``), ``smoke`` and ``offline`` runs under ``results/<profile>/<section>/`` so they
  never mix;
* :func:`raise_failures` — stop a notebook when a sweep had failures (a missing dataset raises
  ``FileNotFoundError`` naming the path and the ``make data`` command);
* :func:`load_runs` — the records and per-epoch histories of exactly the runs of a matrix;
* labels come from :func:`zmixlib.core.vocab.method_label` — one label per method and γ, shared by our rows
  and the papers' rows;
* :func:`beside_paper` — the papers' numbers in one column per dataset, ours (mean ± sd over seeds) beside
  them, labelled with profile, dataset, architecture, seeds and device;
* :func:`paired_summary` — the per-seed difference ζ-mixup − mixup (:func:`zmixlib.tables.paper.paired`) as mean ± sd,
  interval and test, with a count of seeds won (:func:`pair_labels` names its rows);
* :func:`provenance` / :func:`device_text` — the label of a measured number (profile, data, seeds, device);
* :func:`run_missing` / :func:`train` / :func:`train_checked` — a chapter's training cell: train what has no
  record yet, read the records of exactly its runs;
* :func:`curves` — per-epoch histories in the long form :func:`zmixlib.tables.plots.error_curves` draws.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from zmixlib.analysis.stats import PairedStat, mean_sd, p_text, paired_interval
from zmixlib.core.checks import check_choice
from zmixlib.core.util import torch_threads
from zmixlib.core.vocab import display_name, method_label, sort_key
from zmixlib.engine import store, sweep
from zmixlib.protocol.profiles import PROFILES
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.protocol.regime import RegimeCheck, baseline_matrix
from zmixlib.protocol.regime import check as regime_check
from zmixlib.tables.paper import PAPER_METRICS, compare, normalize_dataset_name, paper_table

__all__ = [
    "show",
    "sweep_dir",
    "run_missing",
    "train",
    "train_checked",
    "train_summary",
    "provenance",
    "device_text",
    "raise_failures",
    "load_runs",
    "beside_paper",
    "pair_labels",
    "paired_summary",
    "paper_differences",
    "paired_phrases",
    "interval_text",
    "reading",
    "guarded",
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


def run_missing(
    specs: Iterable, results_dir: str | os.PathLike, *, workers: int | None = None, keep_checkpoint: Iterable = ()
) -> sweep.SweepReport:
    """Train every run of ``specs`` that has no valid record under ``results_dir`` (:func:`zmixlib.engine.sweep.run`), on
    ``workers`` processes (``None``/1: inline) — the one "train what is missing" of the chapters. The runs of
    ``keep_checkpoint`` keep their trained weights (e.g. for chapter 05's neighbourhoods); the others do not.
    Returns one :class:`~zmixlib.engine.sweep.SweepReport` for all of them."""
    specs = list(specs)
    keep = {s.run_id for s in keep_checkpoint}
    pool = {"executor": "process", "max_workers": workers} if (workers or 1) > 1 else {"executor": "inline"}
    out = sweep.SweepReport()
    for part, kept in (
        ([s for s in specs if s.run_id in keep], True),
        ([s for s in specs if s.run_id not in keep], False),
    ):
        if part:
            r = sweep.run(part, results_dir=results_dir, progress=False, keep_checkpoint=kept, verbose=False, **pool)
            out.done += r.done
            out.skipped += r.skipped
            out.failed += r.failed
            out.wall_time_s += r.wall_time_s
    return out


def train(
    matrix: Iterable, params: Any, *, quiet: bool = False, keep_checkpoint: Iterable = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train what ``matrix`` lacks (:func:`run_missing`) and return ``(runs, history)`` of exactly its runs — a
    chapter's training cell. ``params`` (a :class:`zmixlib.protocol.config.Params`) gives ``profile``, ``results_dir`` and,
    where the chapter has them, ``workers`` (training processes; ``None``/1: inline) and ``threads`` (torch
    threads per process). Failures stop the notebook (:func:`raise_failures`); finished runs are never retrained.
    Prints one line (:func:`train_summary`) unless ``quiet``; the run list is ``matrix.table()``."""
    matrices = [matrix] if hasattr(matrix, "notes") else []
    specs = list(matrix)
    out = sweep_dir(params.results_dir, params.profile)
    before = _set_aside_files(specs, out)
    with torch_threads(getattr(params, "threads", None)):
        report = run_missing(specs, out, workers=getattr(params, "workers", None), keep_checkpoint=keep_checkpoint)
    raise_failures(report)
    runs, history = load_runs(specs, out)
    set_aside = sorted(_set_aside_files(specs, out) - before)
    if not quiet:
        print(train_summary(specs, report, runs, out, matrices, set_aside=set_aside))
    return runs, history


def train_checked(
    matrix: Iterable, params: Any, *, keep_checkpoint: Iterable = (), baseline_of: Iterable | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, RegimeCheck]:
    """:func:`train` plus the regime check (:func:`zmixlib.protocol.regime.check`): trains ``matrix`` and, where it has no
    ERM run of its own, the ERM runs of the same data, schedule and seeds (:func:`zmixlib.protocol.regime.baseline_matrix`:
    chapter 04's, read from their records when it ran first) — of ``baseline_of``'s runs where given (e.g. not a
    random search's, whose weight decays differ). Returns ``(runs, history, regime)`` — ``runs`` and ``history``
    of exactly ``matrix``'s runs."""
    specs = list(matrix)
    ids = {s.run_id for s in specs}
    base = baseline_matrix(specs if baseline_of is None else list(baseline_of))
    extra = [b for b in base if b.run_id not in ids]
    combined = RunMatrix([*specs, *extra])
    combined.notes = list(getattr(matrix, "notes", []))
    runs, history = train(combined, params, keep_checkpoint=keep_checkpoint)
    base_ids = {b.run_id for b in base}
    check = regime_check(history[history["run_id"].isin(base_ids)] if len(history) else history)
    keep = lambda f: f[f["run_id"].isin(ids)].reset_index(drop=True)  # noqa: E731
    return keep(runs), keep(history), check


def _set_aside_files(specs: list, folder: str | os.PathLike) -> set[Path]:
    """The damaged records set aside (:func:`zmixlib.engine.store.set_aside`) in the folders of ``specs``' sections."""
    return {p for sec in {s.section for s in specs} for p in (Path(folder) / sec).glob("*.json.corrupt-*")}


def train_summary(
    specs: list,
    report: Any,
    runs: pd.DataFrame,
    folder: str | os.PathLike,
    matrices: Iterable = (),
    *,
    set_aside: Iterable = (),
) -> str:
    """One line for a chapter's training cell: ``"36 runs (results/offline/natural): 30 trained in 283 s, 6 read
    from records, 0 failed; 1,234 s of training in the records"``. A record read, not trained, may be another
    chapter's: a run is its spec, so chapters that need the same run read one record. Damaged records that the
    sweep set aside (``set_aside``: their new names) are counted and named. The ``notes`` of
    ``matrices`` (what a matrix shortened, e.g. a dataset's seeds) follow, one line each."""
    n = len({s.run_id for s in specs})
    sections = sorted({s.section for s in specs})
    where = ", ".join(str(Path(folder) / s) for s in sections) or str(folder)
    total = float(runs["wall_time_s"].sum()) if len(runs) and "wall_time_s" in runs.columns else 0.0
    line = (
        f"{n} run{'s' * (n != 1)} ({where}): {len(report.done)} trained in {report.wall_time_s:.0f} s, "
        f"{len(report.skipped)} read from records, {len(report.failed)} failed; "
        f"{total:,.0f} s of training in the records"
    )
    set_aside = list(set_aside)
    if set_aside:
        line += (
            f"; {len(set_aside)} damaged record{'s' * (len(set_aside) != 1)} set aside (kept as "
            f"{', '.join(Path(p).name for p in set_aside[:3])}{', …' if len(set_aside) > 3 else ''}) and trained again"
        )
    notes = list(dict.fromkeys(n for m in matrices for n in getattr(m, "notes", ())))
    return "\n".join([line, *(f"shortened: {note}" for note in notes)])


def paper_differences(runs: pd.DataFrame, *, sources: Iterable[str], decimals: int = 2) -> pd.DataFrame | None:
    """Ours − the paper's per cell of the tables ``sources`` (:func:`zmixlib.tables.paper.compare`; for ζ-mixup also the
    seed-paired difference to mixup), rounded to ``decimals``. Where no run was on a paper dataset, prints so
    and returns ``None``."""
    cmp = pd.concat([compare(runs, source=s) for s in sources], ignore_index=True)
    if cmp.empty:
        print("No run on a paper dataset (the data stood in), so there is no cell to subtract from the paper's.")
        return None
    return cmp.round(decimals)


def raise_failures(report: Any) -> None:
    """Raise if a :class:`~zmixlib.engine.sweep.SweepReport` has failed runs; do nothing otherwise.

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


def show(obj: Any) -> None:
    """Show ``obj`` (a table, a regime check) as a notebook cell's output, for a chapter function that shows more
    than one result; returns ``None``."""
    from IPython.display import display  # deferred: only a notebook shows results

    display(obj)


def device_text(runs: pd.DataFrame) -> str:
    """The devices the records of ``runs`` ran on, as the tables' labels print them: ``"cpu"``,
    ``"NVIDIA H200"``, several joined by commas; ``"device unknown"`` where the records do not say."""
    names = runs["device_name"].dropna().unique() if "device_name" in runs.columns else []
    shown = sorted({"cpu" if str(n).lower() in _CPU_NAMES else str(n) for n in names})
    return ", ".join(shown) or "device unknown"


def provenance(runs: pd.DataFrame, profile: str, *, what: str | None = None) -> str:
    """The label of a measured number: ``"offline: Fashion-MNIST, MNIST-10k (lenet5), 5 seeds, cpu"`` — profile,
    datasets, architectures, the number of seeds and the devices, read from the records themselves; ``what``
    (e.g. ``"the first 8 draws"``) goes before the seeds."""
    if runs is None or len(runs) == 0:
        return f"{profile}: no runs"
    datasets = ", ".join(dict.fromkeys(runs["dataset"]))
    archs = ", ".join(dict.fromkeys(runs["arch"]))
    n = int(runs["seed"].nunique())
    extra = f"{what}, " if what else ""
    return f"{profile}: {datasets} ({archs}), {extra}{n} seed{'s' * (n != 1)}, {device_text(runs)}"


# -------------------------------------------------------------------------------------------------- tables


def beside_paper(
    runs: pd.DataFrame,
    *,
    profile: str,
    sources: tuple[str, ...],
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
        metric: a :data:`zmixlib.tables.paper.PAPER_METRICS` name; ours are converted to the paper's units.
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
    ran_paper = paper[
        paper["dataset"].map(normalize_dataset_name).isin(set(runs["dataset"].map(normalize_dataset_name)))
    ]
    if not ran_paper.empty:
        paper = ran_paper
    paper = paper.drop_duplicates(["dataset", "arch", "_label"], keep="first")
    paper = paper.assign(_col=[f"paper ({d}, {a})" for d, a in zip(paper["dataset"], paper["arch"])])
    out = paper.pivot(index="_label", columns="_col", values="value")
    out = out[list(dict.fromkeys(paper["_col"]))].map(lambda v: "—" if pd.isna(v) else f"{v:.{max(decimals, 2)}f}")
    ours = {}
    for (dataset, arch), g in runs.groupby(["dataset", "arch"], sort=False):
        n_max = int(g.groupby("_label")["seed"].nunique().max())
        name = f"ours ({profile}: {dataset}, {arch}, {n_max} seed{'s' * (n_max != 1)}, {device_text(g)})"
        ours[name] = g.groupby("_label")["_value"].apply(lambda v, n=n_max: mean_sd(v, decimals, n_max=n))
    ours = pd.DataFrame(ours)
    table = out.join(ours, how="right").fillna("—")
    order = {**_order_of(paper["method"], paper["gamma"]), **_order_of(runs["method"], runs["gamma"], _alphas(runs))}
    table = table.loc[sorted(table.index, key=lambda label: order.get(label, (99,)))]
    table.index.name = "method"
    return table


def pair_labels(pairs: pd.DataFrame) -> tuple[list[str], dict[str, tuple], str]:
    """``(labels, order, heading)`` of :func:`zmixlib.tables.paper.paired`'s rows: the label of each row's setting of the
    method (γ), label -> table position, and the heading ``"<method> − <baseline>"``."""
    labels = [method_label(m, g) for m, g in zip(pairs["method"], pairs["gamma"])]
    order = _order_of(pairs["method"], pairs["gamma"])
    first = pairs.iloc[0]
    heading = f"{display_name(first['method'])} − {display_name(first['baseline_method'])}"
    return labels, order, heading


def interval_text(st: PairedStat, decimals: int = 2) -> str:
    """``"[−1.23, −0.45]"`` (signed), or "—" where the interval is undefined (one seed)."""
    return "—" if math.isnan(st.lo) else f"[{st.lo:+.{decimals}f}, {st.hi:+.{decimals}f}]"


def paired_summary(
    pairs: pd.DataFrame,
    *,
    decimals: int = 2,
    lower_is_better: bool = True,
    level: float = 0.95,
    columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Per (dataset, arch, setting, baseline): mean ± sd of the per-seed difference method − baseline
    (:func:`zmixlib.tables.paper.paired`; several baselines may be stacked), its Student-t interval at ``level`` and the
    two-sided paired t-test (:func:`zmixlib.analysis.stats.paired_interval`; "—" with one seed), the number of pairs, and
    in how many seeds the method was better / tied / worse (better: lower when ``lower_is_better``, as for ERR;
    higher for accuracy, F1, AUC). Columns: ``mean difference``, ``sd``, ``95 % interval``, ``p (paired t)``,
    ``pairs (seeds)``, ``better / tied / worse``; the index names the comparisons ``"<method> (γ …) − <baseline>"``.

    ``pairs`` with a ``comparison`` column of its own (and no ``method``) keeps those names, in the order they
    come. ``columns`` renames the output's columns and index levels (a chapter's own headings)."""
    if pairs is None or len(pairs) == 0:
        return pd.DataFrame()
    if "comparison" in pairs.columns and "method" not in pairs.columns:
        p = pairs.assign(_o=pairs.groupby(["dataset", "arch", "comparison"], sort=False).ngroup())
        keys, name = ["dataset", "arch", "comparison"], lambda key: key[2]
    else:
        labels, order, _ = pair_labels(pairs)
        p = pairs.assign(setting=labels)
        p = p.assign(_o=[(order[s], sort_key(b)) for s, b in zip(p["setting"], p["baseline_method"])])
        keys, name = ["dataset", "arch", "setting", "baseline_method"], lambda key: f"{key[2]} − {display_name(key[3])}"
    rows = []
    for key, g in p.groupby(keys, sort=False):
        d = g["diff"].astype(float).dropna()
        better = int((d < 0).sum() if lower_is_better else (d > 0).sum())
        tied = int((d == 0).sum())
        st = paired_interval(d, level=level)
        rows.append(
            {
                "dataset": key[0],
                "arch": key[1],
                "comparison": name(key),
                "_o": g["_o"].iloc[0],
                "mean difference": round(d.mean(), decimals),
                "sd": round(d.std(ddof=1), decimals) if len(d) > 1 else math.nan,
                f"{100 * level:g} % interval": interval_text(st, decimals),
                "p (paired t)": p_text(st.p),
                "pairs (seeds)": len(d),
                "better / tied / worse": f"{better} / {tied} / {len(d) - better - tied}",
            }
        )
    out = pd.DataFrame(rows)
    if "setting" in p.columns:
        out = out.sort_values(["dataset", "arch", "_o"])
    out = out.drop(columns="_o").set_index(["dataset", "arch", "comparison"])
    return out.rename(columns=columns or {}).rename_axis(index=[(columns or {}).get(n, n) for n in out.index.names])


def paired_phrases(pairs: pd.DataFrame, *, decimals: int = 2, lower_is_better: bool = True) -> dict[tuple, str]:
    """(dataset, arch) -> the seed-paired differences of :func:`paired_summary` in words, as the pages' readings
    state them: ``"ζ-mixup (γ = 2.8) − mixup: −1.23 ± 0.45 (better / tied / worse: 3 / 0 / 0)"``, joined by ``;``."""
    summary = paired_summary(pairs, decimals=decimals, lower_is_better=lower_is_better)
    out = {}
    for key, s in summary.groupby(level=[0, 1], sort=False) if len(summary) else ():
        out[key] = "; ".join(
            f"{c}: {r['mean difference']:+.{decimals}f}"
            + ("" if pd.isna(r["sd"]) else f" ± {r['sd']:.{decimals}f}")
            + (
                ""
                if r["95 % interval"] == "—"
                else f", 95 % interval {r['95 % interval']}, p {_p_words(r['p (paired t)'])}"
            )
            + f" (better / tied / worse: {r['better / tied / worse']})"
            for (_, _, c), r in s.iterrows()
        )
    return out


def _p_words(p: str) -> str:
    return p if p.startswith("<") else f"= {p}"


#: how :func:`reading` names a paper metric, and whether lower is better
_METRIC_WORDS = {"ERR_percent": ("ERR", True), "ACC_bal_percent": ("balanced accuracy", False)}


def reading(
    runs: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    profile: str,
    metric: str = "ERR_percent",
    split: str = "test",
    regime: RegimeCheck | None = None,
) -> str:
    """One sentence per (dataset, architecture) for a page's reading, computed from the records: the method
    with the best mean (lowest ERR; highest accuracy, F1, AUC), and each seed-paired difference of ``pairs``
    (mean ± sd, interval, seeds where the method was better). The numbers are this build's, never typed. With a
    failed ``regime`` check the sentence opens by saying that these runs cannot test the claim, and why."""
    if runs is None or len(runs) == 0:
        return "no run finished in this build"
    if regime is not None and regime.passed is False:
        return guarded(regime, reading(runs, pairs, profile=profile, metric=metric, split=split))
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
        text = (
            f"{dataset} ({arch}, {profile}, {n} seed{'s' * (n != 1)}): {'lowest' if lower else 'highest'} mean {name} "
        )
        text += f"{best} at {means[best]:.2f}{unit}"
        if (dataset, arch) in phrases:
            text += "; seed-paired: " + phrases[(dataset, arch)]
        parts.append(text)
    return ". ".join(parts)


def guarded(regime: RegimeCheck | None, text: str) -> str:
    """A page's reading behind its regime check: ``text`` as it is where the check passes; where it fails, opened
    by "NOT TESTABLE AT THIS BUDGET" and why, the numbers kept for the record only."""
    if regime is None or regime.passed is not False:
        return text
    return f"NOT TESTABLE AT THIS BUDGET — {regime.why}. For the record only: {text}"


def curves(history: pd.DataFrame, *, metric: str = "test_err", scale: float = 100.0) -> pd.DataFrame:
    """Per-epoch histories (:func:`load_runs`) in long form for :func:`zmixlib.tables.plots.error_curves`:
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
