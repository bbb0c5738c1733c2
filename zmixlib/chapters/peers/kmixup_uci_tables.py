"""k-mixup's UCI table (Greenewald et al., Table 4) beside ours: the table, the claim cell by cell (k > 1 against
k = 1), the readings, and what the paper leaves open about its preprocessing and split (:func:`uci_xi_by_scaling`,
:func:`uci_consistent_test_sizes`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from zmixlib.analysis.stats import mean_sd
from zmixlib.tables import paper

from ._shared import SOURCES
from .kmixup_uci import UCI

__all__ = ["uci_table", "uci_diffs", "uci_reading", "uci_cost", "uci_xi_by_scaling", "uci_consistent_test_sizes"]


def _paper_uci() -> pd.DataFrame:
    p = paper.paper_table(SOURCES["uci"])
    p = p.assign(
        k=[None if m == "ERM" else int(m.split("-")[0]) for m in p["method"]],
        alpha=[float(n.split("alpha=")[1].split(",")[0]) if "alpha=" in str(n) else None for n in p["note"]],
        xi=[float(n.split("xi=")[1].split(";")[0]) if "xi=" in str(n) else None for n in p["note"]],
    )
    return p


def uci_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Table 4 beside ours: one row per (dataset, α) with the paper's ξ and ours (mean over trials), per k the
    paper's test error and ours (mean ± sd over trials, %); ERM in its own row."""
    if frame is None or len(frame) == 0:
        return pd.DataFrame()
    table4 = _paper_uci()
    rows = []
    for d, g in frame.groupby("dataset", sort=False):
        name = UCI[d].paper
        p = table4[table4["dataset"] == name]
        erm = g[g["k"].isna()]
        row = {"dataset": name, "α": "ERM", "ξ (paper)": "", "ξ (ours)": ""}
        pe = p.loc[p["k"].isna(), "value"]
        row.update({("ERM", "paper"): f"{pe.iloc[0]:.2f}" if len(pe) else "—", ("ERM", "ours"): mean_sd(erm["err"])})
        rows.append(row)
        for a, ga in g[g["k"].notna()].groupby("alpha", sort=True):
            pa = p[np.isclose(p["alpha"].astype(float), a)]
            xi_p = pa["xi"].dropna()
            row = {
                "dataset": name,
                "α": f"{a:g}",
                "ξ (paper)": f"{xi_p.iloc[0]:g}" if len(xi_p) else "—",
                "ξ (ours)": f"{ga['xi'].mean():.2f}",
            }
            for k, gk in ga.groupby("k", sort=True):
                pk = pa.loc[pa["k"] == int(k), "value"]
                row[(f"k = {int(k)}", "paper")] = f"{pk.iloc[0]:.2f}" if len(pk) else "—"
                row[(f"k = {int(k)}", "ours")] = mean_sd(gk["err"])
            rows.append(row)
    out = pd.DataFrame(rows).set_index(["dataset", "α", "ξ (paper)", "ξ (ours)"])
    out.columns = pd.MultiIndex.from_tuples([c if isinstance(c, tuple) else (c, "") for c in out.columns])
    return out.fillna("—")


def uci_diffs(frame: pd.DataFrame, *, source: str = "ours") -> pd.DataFrame:
    """Per (dataset, α): the mean over k > 1 of (error at k − error at k = 1), in points — ours from the trials
    (trial t of every k shares its split and initial weights, so the difference is paired), or the paper's
    (``source="paper"``, for the datasets and α of ``frame``; all of Table 4 without one). Negative: k-mixup with
    k > 1 below 1-mixup."""
    rows = []
    if source == "paper":
        p = _paper_uci().dropna(subset=["k"])
        if frame is not None and len(frame):  # the datasets and alphas we ran
            p = p[p["dataset"].isin([UCI[d].paper for d in frame["dataset"].unique()])]
            p = p[
                np.isclose(p["alpha"].astype(float).values[:, None], frame["alpha"].dropna().unique()[None, :]).any(1)
            ]
        for (d, a), g in p.groupby(["dataset", "alpha"]):
            one = g.loc[g["k"] == 1, "value"]
            more = g.loc[g["k"] > 1, "value"]
            if len(one) and len(more):
                rows.append(
                    {
                        "dataset": d,
                        "alpha": a,
                        "diff": float(more.mean() - one.iloc[0]),
                        "k > 1 below k = 1": int((more < one.iloc[0]).sum()),
                        "k > 1": len(more),
                    }
                )
        return pd.DataFrame(rows)
    f = frame[frame["k"].notna()]
    for (d, a), g in f.groupby(["dataset", "alpha"], sort=False):
        one = g[g["k"] == 1].set_index("trial")["err"]
        means = {int(k): gk.set_index("trial")["err"] for k, gk in g[g["k"] > 1].groupby("k")}
        if one.empty or not means:
            continue
        diffs = [float((v - one).mean()) for v in means.values()]
        rows.append(
            {
                "dataset": UCI[d].paper,
                "alpha": a,
                "diff": float(np.mean(diffs)),
                "k > 1 below k = 1": int(sum(x < 0 for x in diffs)),
                "k > 1": len(diffs),
            }
        )
    return pd.DataFrame(rows)


def uci_reading(frame: pd.DataFrame) -> str:
    """How often k > 1 beat k = 1 in our UCI table and in the paper's, and the ERM rows side by side."""
    if frame is None or len(frame) == 0:
        return "the UCI table did not run in this build"
    ours, theirs = uci_diffs(frame), uci_diffs(frame, source="paper")
    n_trials = int(frame["trial"].nunique())
    text = (
        f"over {n_trials} trials per cell, the mean over k > 1 is below k = 1 in {int((ours['diff'] < 0).sum())} of "
        f"{len(ours)} "
        f"(dataset, α) cells, and {int(ours['k > 1 below k = 1'].sum())} of {int(ours['k > 1'].sum())} single k > 1 are below "
        f"k = 1 (paper: {int((theirs['diff'] < 0).sum())} of {len(theirs)} cells, {int(theirs['k > 1 below k = 1'].sum())} of "
        f"{int(theirs['k > 1'].sum())} single k)"
    )
    table4 = _paper_uci()
    erm = []
    for d, g in frame[frame["k"].isna()].groupby("dataset", sort=False):
        pe = table4.loc[(table4["dataset"] == UCI[d].paper) & table4["k"].isna(), "value"]
        erm.append(
            f"{UCI[d].paper} {g['err'].mean():.2f} % (paper {pe.iloc[0]:.2f} %)"
            if len(pe)
            else f"{UCI[d].paper} {g['err'].mean():.2f} %"
        )
    return text + ("; ERM test error " + ", ".join(erm) if erm else "")


def uci_cost(frame: pd.DataFrame, *, workers: int | None) -> str:
    """What the UCI table cost to train (from the cells' results: the cost when they were trained)."""
    if frame is None or len(frame) == 0:
        return "nothing"
    cells = frame.drop_duplicates(["dataset", "k", "alpha"])
    n_models = len(frame)
    cpu, wall = cells["cpu_time_s"].sum(), cells["wall_time_s"].sum()
    w = max(1, int(workers or 1))
    return (
        f"{len(cells)} cells, {n_models} trained MLPs: {cpu / 60:.1f} CPU-minutes in all ({wall / 60:.1f} minutes of "
        f"wall time summed over the cells, about {wall / 60 / w:.1f} minutes on {w} process{'es' * (w != 1)})"
    )


#: feature scalings tried for Table 4's ξ (fitted on all rows; a training split's fit moves ξ by a few %)
_UCI_SCALINGS = (
    "raw",
    "minmax",
    "minmax [-1, 1]",
    "maxabs",
    "standard",
    "robust",
    "quantile",
    "log1p + minmax",
    "unit rows",
    "unit rows of minmax",
)


def _scaled(x: np.ndarray, scaling: str) -> np.ndarray:
    from sklearn import preprocessing as pp

    fns = {
        "raw": lambda v: v,
        "minmax": lambda v: pp.MinMaxScaler().fit_transform(v),
        "minmax [-1, 1]": lambda v: pp.MinMaxScaler((-1, 1)).fit_transform(v),
        "maxabs": lambda v: pp.MaxAbsScaler().fit_transform(v),
        "standard": lambda v: pp.StandardScaler().fit_transform(v),
        "robust": lambda v: pp.RobustScaler().fit_transform(v),
        "quantile": lambda v: pp.QuantileTransformer(n_quantiles=min(200, len(v))).fit_transform(v),
        "log1p + minmax": lambda v: pp.MinMaxScaler().fit_transform(np.log1p(v - v.min(0))),
        "unit rows": lambda v: pp.normalize(v),
        "unit rows of minmax": lambda v: pp.normalize(pp.MinMaxScaler().fit_transform(v)),
    }
    return fns[scaling](x)


def uci_xi_by_scaling(
    scalings: Sequence[str] = _UCI_SCALINGS, *, draws: int = 1_000_000, seed: int = 0
) -> pd.DataFrame:
    """1-mixup's ξ (k-mixup paper, Alg. 1: ``ξ² = E‖x_i − x_j‖² · E[min(λ, 1 − λ)²]``, ``λ ~ Beta(α, α)``) of Iris
    and Breast Cancer under each feature scaling, beside Table 4's. The mean squared distance is exact (every pair);
    ``E[min(λ, 1 − λ)²]`` from ``draws`` Beta draws. One row per (dataset, scaling); ``matches``: every α's ξ within
    0.01 of the paper's (its last printed digit, lenient to rounding and to fitting the scaling on all rows)."""
    import sklearn.datasets as skd

    rng = np.random.default_rng(seed)
    table4 = _paper_uci().dropna(subset=["xi"]).drop_duplicates(["dataset", "alpha"])
    alphas = sorted(table4["alpha"].unique())
    lam = {a: float(np.mean(np.minimum(b := rng.beta(a, a, draws), 1 - b) ** 2)) for a in alphas}
    rows = []
    for key, loader in (("iris", skd.load_iris), ("breast-cancer", skd.load_breast_cancer)):
        name = UCI[key].paper
        want = table4[table4["dataset"] == name].set_index("alpha")["xi"]
        x0 = loader().data.astype(np.float64)
        for scaling in scalings:
            x = _scaled(x0, scaling)
            sq = (x * x).sum(1)
            n = len(x)
            msd = float((2 * n * sq.sum() - 2 * (x.sum(0) ** 2).sum()) / (n * (n - 1)))  # mean over pairs i != j
            xis = {a: math.sqrt(msd * lam[a]) for a in alphas}
            row = {"dataset": name, "scaling": scaling}
            row.update({f"ξ (α = {a:g})": round(xis[a], 3) for a in alphas})
            row.update({f"ξ paper (α = {a:g})": want.get(a, math.nan) for a in alphas})
            row["matches"] = all(abs(xis[a] - float(want[a])) <= 0.01 + 1e-9 for a in alphas if a in want.index)
            rows.append(row)
    return pd.DataFrame(rows)


def uci_consistent_test_sizes(dataset: str, *, trials: int = 20) -> list[int]:
    """Test-set sizes ``m`` for which every Table 4 mean of ``dataset`` (``"Iris"``, ``"Breast Cancer"``, …) is a
    whole number of errors over ``trials`` trials, rounded to the paper's two decimals: ``100 e / (trials m)``."""
    import sklearn.datasets as skd

    values = _paper_uci().query("dataset == @dataset")["value"].astype(float).tolist()
    if not values:
        raise ValueError(f"dataset must be one of {sorted(_paper_uci()['dataset'].unique())}, got {dataset!r}")
    n_rows = {"Iris": len(skd.load_iris().target), "Breast Cancer": len(skd.load_breast_cancer().target)}.get(
        dataset, 20_000
    )
    out = []
    for m in range(1, n_rows):
        total = trials * m
        if all(
            any(
                round(100 * e / total, 2) == round(v, 2)
                for e in (math.floor(v * total / 100), math.ceil(v * total / 100))
            )
            for v in values
        ):
            out.append(m)
    return out
