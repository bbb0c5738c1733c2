"""Chapter 06's protocol: Table 7 of the J Big Data paper (MEDMNIST) — ERM, mixup (α = 1) and ζ-mixup (γ = 2.8)
with ResNet-18 on the ten 2-D MedMNIST sets at 28×28, AUC and ACC by MedMNIST's official definitions.

**The MedMNIST protocol.** Every run evaluates the validation split and the test split after every epoch (the
engine records ``val_auc``, ``val_medmnist_acc``, ``test_auc``, ``test_medmnist_acc`` per epoch in the run's
history, by :func:`zmixlib.engine.metrics.medmnist_auc` / :func:`~zmixlib.engine.metrics.medmnist_acc` for the dataset's
task). Two epochs are reported per run (:func:`epoch_choice`): the **last** epoch, and the epoch of the **best
validation AUC** (the first epoch reaching the maximum, as MedMNIST's training script keeps the first model with
a strictly higher validation AUC); the test metrics at each are averaged over seeds (mean ± sd).

The paper's Table 7 gives one AUC and one ACC per (dataset, method) and does not say at which epoch; our copies
of it (``paper_results.csv``, source ``medmnist-table7``) hold no values for BloodMNIST and TissueMNIST
(:func:`paper_table7` marks them). Offline, the stand-ins (MNIST-10k, Fashion-MNIST, digits) have no validation
split of their own: the ``medmnist`` section's offline recipes train on ``fit`` (train minus a fixed stratified
10 %) and evaluate ``val`` (that 10 %) and ``test`` (:func:`zmixlib.data._base.held_out_indices`).

Evidence for the claims ledger (claim ``medmnist``, kind ``lower``): per (dataset, seed), ζ-mixup − ERM and
ζ-mixup − mixup in test AUC at the validation-selected epoch, negated (AUC: higher is better) —
the ledger (chapter 11) reads these frames through zmixlib.chapters.ledger.record_claims.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from zmixlib import data
from zmixlib.analysis.stats import mean_sd
from zmixlib.core.vocab import color, method_label, sort_key
from zmixlib.engine.runspec import check_gamma
from zmixlib.protocol import recipes
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.protocol.regime import RegimeCheck
from zmixlib.tables import report
from zmixlib.tables.paper import paired, paper_table
from zmixlib.tables.plots import house_style
from zmixlib.tables.report import device_text, guarded, provenance

__all__ = [
    "METHODS",
    "PAPER_SOURCE",
    "SELECT",
    "check_knobs",
    "matrix",
    "train",
    "provenance",
    "stand_ins",
    "epoch_choice",
    "at_epoch",
    "paper_table7",
    "beside_paper",
    "paired_diffs",
    "paired_summary",
    "reading",
    "curves_figure",
]

#: the methods of Table 7 (ζ-mixup with γ = 2.8 only)
METHODS = ("erm", "mixup", "zeta_mixup")
#: the paper table this chapter reproduces
PAPER_SOURCE = "medmnist-table7"
#: the history column the epoch is selected by (MedMNIST: validation AUC)
SELECT = "val_auc"
#: the two reported epochs per run: key -> words
EPOCHS = {"best": "val-selected epoch", "last": "last epoch"}
#: test metrics reported: history column -> (table name, factor to the paper's units)
REPORTED = {"test_auc": ("AUC", 1.0), "test_medmnist_acc": ("ACC (%)", 100.0)}
#: what the paper's Table 7 prints for the datasets our copies have no numbers of
NO_PAPER_VALUE = "not in our copies"


# ------------------------------------------------------------------------------------------------- runs


def matrix(params: Any) -> RunMatrix:
    """The run matrix of the notebook's parameters ``params`` (:class:`zmixlib.protocol.config.Params`): the
    ``medmnist`` section of :mod:`zmixlib.protocol.recipes` under ``params.profile`` with the chapter's knobs."""
    return recipes.resolve_params("medmnist", params)


def train(params: Any) -> tuple[RunMatrix, pd.DataFrame, pd.DataFrame, RegimeCheck]:
    """The chapter's runs trained where a record is missing, with the regime check (ERM's training accuracy on
    its training split): ``(matrix, runs, history, regime check)``."""
    m = matrix(params)
    return (m, *report.train_checked(m, params))


def stand_ins() -> dict[str, tuple[str, ...]]:
    """The MedMNIST datasets and what the offline profile runs in their place."""
    return recipes.stand_ins("medmnist")


def check_knobs(params: Any) -> None:
    """Fail on a knob this chapter cannot run, naming the parameter, the value and what is allowed: a method
    other than ERM / mixup / ζ-mixup, γ ≤ 0, a dataset without the splits the protocol needs (a validation
    split outside the training data), and every run field (:func:`matrix` resolves through ``RunSpec``)."""
    methods = params.methods
    if isinstance(methods, (str, bytes)) or not isinstance(methods, (list, tuple)) or not methods:
        raise TypeError(f"methods must be a non-empty list, a subset of {list(METHODS)}; got {methods!r}")
    for i, m in enumerate(methods):
        if m not in METHODS:
            raise ValueError(f"methods[{i}] must be one of {list(METHODS)} (the methods of Table 7), got {m!r}")
    for i, g in enumerate(params.gammas or ()):
        check_gamma(f"gammas[{i}]", g)
    m = matrix(params)  # unknown datasets, seeds < 0, epochs <= 0, ... raise here, naming the parameter
    for i, name in enumerate(params.datasets):
        spec = next(s for s in m if s.dataset == recipes._canonical(name))
        needed = (spec.train_split, *spec.eval_splits)
        has = data.describe(spec.dataset).splits
        if not set(needed) <= set(has):
            raise ValueError(
                f"datasets[{i}] {name!r} cannot run the MedMNIST protocol under profile {params.profile!r}: it needs "
                f"the splits {list(needed)}, it has {list(has)}; allowed: the MedMNIST sets "
                f"({', '.join(recipes.MEDMNIST_DATASETS)}) or a set with 'fit'/'val' splits (MNIST-10k, Fashion-MNIST, "
                "digits, ...)"
            )


# ------------------------------------------------------------------------------------------ epoch choice


def epoch_choice(history: pd.DataFrame, runs: pd.DataFrame | None = None, *, select: str = SELECT) -> pd.DataFrame:
    """Per run, the epoch of the best validation AUC and the last epoch, with the test metrics at each.

    Args:
        history: per-epoch rows (:func:`zmixlib.tables.report.load_runs`' second frame): ``run_id``, ``dataset``,
            ``arch``, ``method``, ``gamma``, ``seed``, ``epoch``, ``select`` and the :data:`REPORTED` columns.
        runs: the runs frame (first frame of ``load_runs``), for the device each run ran on (optional).
        select: the column the epoch is chosen by; its maximum wins, the **first** epoch reaching it on ties
            (MedMNIST's script keeps a model only when the validation AUC is strictly higher). A run whose
            ``select`` is undefined at every epoch (NaN: a class absent from a tiny validation split) takes its
            last epoch, flagged in ``selected_by``.

    Returns:
        one row per run: ``run_id, dataset, arch, method, gamma, alpha, seed, epochs, best_epoch, best_<select>,
        selected_by`` and, per reported column ``c`` (``test_auc``, ``test_medmnist_acc``), ``c@best`` and
        ``c@last``; ``device_name`` when ``runs`` is given. Sorted by dataset, method order, seed.
    """
    missing = sorted({"run_id", "epoch", select, *REPORTED} - set(history.columns))
    if missing:
        raise ValueError(f"history lacks the column(s) {missing} (the runs must evaluate 'val' and 'test' every epoch)")
    rows = []
    keys = ["dataset", "arch", "method", "gamma", "alpha", "seed"]
    for run_id, h in history.groupby("run_id", sort=False):
        h = h.sort_values("epoch")
        last = h.iloc[-1]
        sel = h[select].astype(float)
        if sel.notna().any():
            best, selected_by = h.loc[sel.idxmax()], select  # idxmax: the first maximum
        else:
            best, selected_by = last, f"last epoch ({select} undefined)"
        row = {"run_id": run_id, **{k: last.get(k) for k in keys}, "epochs": int(last["epoch"])}
        row.update(
            {"best_epoch": int(best["epoch"]), f"best_{select}": float(best[select]), "selected_by": selected_by}
        )
        for col in REPORTED:
            row[f"{col}@best"], row[f"{col}@last"] = float(best[col]), float(last[col])
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    if runs is not None and "device_name" in runs.columns:
        out = out.merge(runs[["run_id", "device_name"]], on="run_id", how="left")
    order = [sort_key(m, g, a) for m, g, a in zip(out["method"], out["gamma"], out["alpha"])]
    out = out.assign(_d=out["dataset"].map(_dataset_key), _o=order).sort_values(["_d", "_o", "seed"], kind="stable")
    return out.drop(columns=["_d", "_o"]).reset_index(drop=True)


def _dataset_key(name: str) -> tuple:
    """Table order of datasets: Table 7's, then the offline stand-ins', then by name."""
    known = [*recipes.MEDMNIST_DATASETS, *recipes.stand_ins("medmnist")["offline"]]
    return (known.index(name), "") if name in known else (len(known), str(name))


def at_epoch(choice: pd.DataFrame, which: str = "best") -> pd.DataFrame:
    """:func:`epoch_choice` as a runs frame at one of the two epochs (``which``: ``"best"`` = validation-selected,
    ``"last"``): the columns ``test_auc`` / ``test_medmnist_acc`` hold the values at that epoch, so that
    :func:`zmixlib.tables.paper.paired` and :func:`zmixlib.tables.paper.compare` read it like a record."""
    if which not in EPOCHS:
        raise ValueError(f"which must be one of {list(EPOCHS)}, got {which!r}")
    out = choice.drop(columns=[c for c in choice.columns if "@" in c])
    return out.assign(**{col: choice[f"{col}@{which}"] for col in REPORTED})


# ------------------------------------------------------------------------------------------------ tables


def _paper_cells() -> pd.DataFrame:
    p = paper_table(PAPER_SOURCE)
    return p.assign(_label=[method_label(m, g) for m, g in zip(p["method"], p["gamma"])])


def paper_table7(decimals: dict[str, int] | None = None) -> pd.DataFrame:
    """The paper's Table 7 (ResNet-18, γ = 2.8): one row per MedMNIST set in the paper's order, columns
    (method, metric); AUC as a fraction, ACC in percent. BloodMNIST and TissueMNIST, which the paper lists but
    our copies of Table 7 do not give, read :data:`NO_PAPER_VALUE`."""
    decimals = {"AUC": 3, "ACC_percent": 1, **(decimals or {})}
    p = _paper_cells()
    names = {"AUC": "AUC", "ACC_percent": "ACC (%)"}
    p = p.assign(_metric=p["metric"].map(names))
    p = p.assign(_text=[f"{v:.{decimals[m]}f}" for v, m in zip(p["value"], p["metric"])])
    table = p.pivot_table(index="dataset", columns=["_label", "_metric"], values="_text", aggfunc="first")
    order = {lab: sort_key(m, g) for lab, m, g in zip(p["_label"], p["method"], p["gamma"])}
    labels = sorted(order, key=order.__getitem__)
    table = table.reindex(columns=pd.MultiIndex.from_product([labels, ["AUC", "ACC (%)"]]))
    table = table.reindex(list(recipes.MEDMNIST_DATASETS)).fillna(NO_PAPER_VALUE)
    table.index.name = "dataset (paper, Table 7)"
    table.columns.names = ["method", "metric"]
    return table


def beside_paper(choice: pd.DataFrame, *, profile: str, auc_decimals: int = 4, acc_decimals: int = 2) -> pd.DataFrame:
    """Ours (mean ± sd over seeds of the test AUC and ACC at the validation-selected and at the last epoch)
    beside the paper's AUC and ACC of Table 7 where it has the dataset.

    Returns:
        a frame of strings indexed by (``dataset — ours: <profile>, <arch>, <n> seeds, <device>``, method);
        columns ``paper AUC``, ``paper ACC (%)`` (Table 7; ``—`` for a dataset the paper did not run,
        :data:`NO_PAPER_VALUE` for BloodMNIST / TissueMNIST), then AUC and ACC (%) at the
        :data:`EPOCHS`, and the selected epochs (one per seed, in seed order).
    """
    if choice is None or len(choice) == 0:
        return pd.DataFrame()
    p = _paper_cells()
    paper_sets = set(p["dataset"])
    rows = []
    for (dataset, arch), g in choice.groupby(["dataset", "arch"], sort=False):
        n_max = int(g.groupby("method")["seed"].nunique().max())
        device = device_text(g) if "device_name" in g.columns else "device unknown"
        head = f"{dataset} — ours: {profile}, {arch}, {n_max} seed{'s' * (n_max != 1)}, {device}"
        for (method, gamma), r in g.groupby(["method", "gamma"], sort=False, dropna=False):
            label = method_label(method, gamma)
            row: dict[str, Any] = {"dataset": head, "method": label}
            cell = p[(p["dataset"] == dataset) & (p["_label"] == label)]
            for metric, name, dec in (("AUC", "paper AUC", 3), ("ACC_percent", "paper ACC (%)", 1)):
                v = cell[cell["metric"] == metric]["value"]
                if len(v):
                    row[name] = f"{float(v.iloc[0]):.{dec}f}"
                elif dataset in recipes.MEDMNIST_DATASETS and dataset not in paper_sets:
                    row[name] = NO_PAPER_VALUE
                else:
                    row[name] = "—"
            for which, words in EPOCHS.items():
                for col, (name, factor) in REPORTED.items():
                    dec = auc_decimals if col == "test_auc" else acc_decimals
                    row[f"{name}, {words}"] = mean_sd(r[f"{col}@{which}"] * factor, dec, n_max=n_max)
            row["val-selected epoch (per seed)"] = ", ".join(str(e) for e in r.sort_values("seed")["best_epoch"])
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dataset", "method"])


def paired_diffs(choice: pd.DataFrame) -> pd.DataFrame:
    """Seed-paired differences ζ-mixup − baseline (ERM, mixup) on the same dataset, architecture and seed, in
    test AUC and ACC (percentage points), at each of the :data:`EPOCHS`.

    Returns:
        long form: ``dataset, arch, gamma, seed, baseline, epoch`` (``"best"`` / ``"last"``), ``metric``
        (``"AUC"`` / ``"ACC_percent"``), ``ours``, ``base``, ``diff`` (positive: ζ-mixup higher, i.e. better).
    """
    cols = ["dataset", "arch", "gamma", "seed", "baseline", "epoch", "metric", "ours", "base", "diff"]
    if choice is None or len(choice) == 0:
        return pd.DataFrame(columns=cols)
    parts = []
    for which in EPOCHS:
        runs = at_epoch(choice, which)
        for baseline in ("erm", "mixup"):
            for metric in ("AUC", "ACC_percent"):
                d = paired(runs, metric=metric, baseline=baseline)
                if len(d):
                    parts.append(
                        d.rename(columns={"baseline": "base"}).assign(baseline=baseline, epoch=which, metric=metric)
                    )
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def paired_summary(diffs: pd.DataFrame, *, auc_decimals: int = 4, acc_decimals: int = 2) -> pd.DataFrame:
    """:func:`paired_diffs` per (dataset, arch, comparison): mean ± sd over seeds of the AUC and ACC differences
    at the validation-selected and at the last epoch, the 95 % Student-t interval and two-sided paired t-test of
    the AUC difference at the validation-selected epoch (:func:`zmixlib.analysis.stats.paired_interval`), and in how many
    seeds ζ-mixup's test AUC at the validation-selected epoch was higher / tied / lower."""
    if diffs is None or len(diffs) == 0:
        return pd.DataFrame()
    diffs = diffs.assign(_d=diffs["dataset"].map(_dataset_key), _b=diffs["baseline"].map(["erm", "mixup"].index))
    diffs = diffs.sort_values(["_d", "arch", "_b"], kind="stable")
    diffs = diffs.assign(
        comparison=[
            f"{method_label('zeta_mixup', g)} − {method_label(b)}" for g, b in zip(diffs["gamma"], diffs["baseline"])
        ]
    )
    selected = diffs[(diffs["epoch"] == "best") & (diffs["metric"] == "AUC")]
    auc = report.paired_summary(
        selected[["dataset", "arch", "comparison", "diff"]], decimals=auc_decimals, lower_is_better=False
    )
    rows = []
    for (dataset, arch, comparison), g in diffs.groupby(["dataset", "arch", "comparison"], sort=False):
        row = {"dataset": dataset, "arch": arch, "comparison": comparison}
        for which, words in EPOCHS.items():
            for metric, name, dec in (("AUC", "Δ AUC", auc_decimals), ("ACC_percent", "Δ ACC (points)", acc_decimals)):
                d = g[(g["epoch"] == which) & (g["metric"] == metric)]["diff"]
                row[f"{name}, {words}"] = mean_sd(d, dec, sign=True)
        s = auc.loc[(dataset, arch, comparison)] if (dataset, arch, comparison) in auc.index else None
        row["Δ AUC val-selected: 95 % interval"] = "—" if s is None else s["95 % interval"]
        row["p (paired t)"] = "—" if s is None else s["p (paired t)"]
        row["seeds: ζ-mixup AUC higher / tied / lower (val-selected)"] = (
            "0 / 0 / 0" if s is None else s["better / tied / worse"]
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index(["dataset", "arch", "comparison"])


# ----------------------------------------------------------------------------------------------- reading


def reading(choice: pd.DataFrame, diffs: pd.DataFrame, *, profile: str, regime: RegimeCheck | None = None) -> str:
    """This build's numbers for the page's reading, one clause per dataset: each method's mean test AUC at the
    validation-selected epoch, the seed-paired ζ-mixup − ERM / − mixup AUC differences there (mean, seeds where
    ζ-mixup was higher), and in how many runs the validation-selected epoch was the last one. A failed
    ``regime`` check opens the sentence: these runs cannot test the claim."""
    if choice is None or len(choice) == 0:
        return "no run finished in this build"
    if regime is not None and regime.passed is False:
        return guarded(regime, reading(choice, diffs, profile=profile))
    parts = []
    for (dataset, arch), g in choice.groupby(["dataset", "arch"], sort=False):
        n = int(g["seed"].nunique())
        labels = [method_label(m, gm) for m, gm in zip(g["method"], g["gamma"])]
        means = g.groupby(labels, sort=False)["test_auc@best"].mean()
        text = f"{dataset} ({arch}, {profile}, {n} seed{'s' * (n != 1)}): mean test AUC at the val-selected epoch "
        text += ", ".join(f"{label} {v:.4f}" for label, v in means.items())
        d = diffs[(diffs["dataset"] == dataset) & (diffs["arch"] == arch) & (diffs["epoch"] == "best")]
        d = d[d["metric"] == "AUC"]
        for baseline in ("erm", "mixup"):
            db = d[d["baseline"] == baseline]["diff"].astype(float).dropna()
            if len(db):
                text += (
                    f"; ζ-mixup − {method_label(baseline)} {db.mean():+.4f} "
                    f"(ζ-mixup higher in {int((db > 0).sum())} of {len(db)} seeds)"
                )
        same = int((g["best_epoch"] == g["epochs"]).sum())
        text += f"; the val-selected epoch was the last in {same} of {len(g)} runs"
        parts.append(text)
    return ". ".join(parts)


# ------------------------------------------------------------------------------------------------ figure


@house_style()
def curves_figure(history: pd.DataFrame, choice: pd.DataFrame, *, label: str):
    """1 − AUC per epoch on the validation and the test split (mean over seeds, ± sd band, log scale), one row
    per (dataset, arch); dots mark each run's validation-selected epoch. Returns the figure."""
    panels = list(dict.fromkeys(zip(history["dataset"], history["arch"])))
    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 3.6 * len(panels)), squeeze=False)
    for row, (dataset, arch) in enumerate(panels):
        h = history[(history["dataset"] == dataset) & (history["arch"] == arch)]
        c = choice[(choice["dataset"] == dataset) & (choice["arch"] == arch)]
        for ax, split in zip(axes[row], ("val", "test")):
            for (method, gamma), g in sorted(
                h.groupby(["method", "gamma"], dropna=False), key=lambda kv: sort_key(kv[0][0], kv[0][1])
            ):
                err = 1.0 - g[f"{split}_auc"].astype(float)
                stats = err.groupby(g["epoch"]).agg(["mean", "std", "count"])
                col = color(method)
                n = int(stats["count"].max())
                ax.plot(stats.index, stats["mean"], color=col, lw=1.6, label=f"{method_label(method, gamma)} (n = {n})")
                sd = stats["std"].fillna(0.0)
                ax.fill_between(
                    stats.index,
                    (stats["mean"] - sd).clip(lower=stats["mean"] / 10),
                    stats["mean"] + sd,
                    color=col,
                    alpha=0.12,
                )
                sel = c[(c["method"] == method) & ((c["gamma"] == gamma) | (pd.isna(gamma) & c["gamma"].isna()))]
                at = [
                    1.0 - float(g[(g["seed"] == s) & (g["epoch"] == e)][f"{split}_auc"].iloc[0])
                    for s, e in zip(sel["seed"], sel["best_epoch"])
                ]
                ax.scatter(sel["best_epoch"], at, color=col, s=18, zorder=3, edgecolor="white", linewidth=0.5)
            if bool((h[f"{split}_auc"].astype(float) < 1.0).all()):
                ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylabel(f"1 − {split} AUC" + (" — log scale" if ax.get_yscale() == "log" else ""))
            ax.set_title(f"{dataset} ({arch}): {split} split", fontsize=10)
            ax.legend(fontsize=8)
    fig.suptitle(f"1 − AUC during training (mean ± sd over seeds; dots: val-selected epochs) — {label}")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------ ledger
