"""The Table 1 protocol of k-mixup (Greenewald et al.) on an image set: for each α₁ of 1-mixup, Algorithm 1 chooses
the α that gives k-mixup the same root-mean-squared perturbation ξ (:func:`kmixup_alphas`); the runs
(:func:`kmixup_matrix`) go through the engine, and :func:`kmixup_table1` lays them out as the paper's tables."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch

from zmixlib import data, mixing
from zmixlib.analysis.stats import mean_sd
from zmixlib.protocol import recipes
from zmixlib.protocol.recipes import RunMatrix

from ._shared import matrix, overrides

__all__ = ["kmixup_alphas", "kmixup_matrix", "k_of", "kmixup_table1"]


def _train_sample(dataset: str, data_root: str | None, *, n: int = 4096, seed: int = 0) -> torch.Tensor:
    """Up to ``n`` random training inputs of ``dataset`` (fixed draw), preprocessed as the engine trains them."""
    name = recipes._canonical(dataset)
    ds = data.load(name, "train", root=data_root or "data", transform=data.transform_for(data.describe(name).name))
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[: min(n, len(ds))]
    return torch.stack([torch.as_tensor(ds[int(i)][0]) for i in idx]).float()


def kmixup_alphas(params: Any, *, num_trials: int = 1000, seed: int = 0) -> dict[tuple[str, float, int], float]:
    """``{(dataset, α₁, k): α_k}`` — Algorithm 1 of the k-mixup paper (:func:`zmixlib.mixing.kmixup_alpha_for_xi`,
    N = ``num_trials`` draws, c = 1.05) on 4,096 random training inputs: the α that gives k-mixup 1-mixup's
    root-mean-squared perturbation ξ at α₁. Rounded to 4 significant digits (the run's spec, and so its id,
    must not depend on float noise). k = 1 gives α₁ itself."""
    out = {}
    for dataset in params.kmixup_datasets:
        sample = _train_sample(dataset, params.data_root)
        for a1 in params.kmixup_alphas:
            for k in params.kmixup_ks:
                if int(k) == 1:
                    out[(dataset, float(a1), 1)] = float(a1)
                    continue
                gen = torch.Generator().manual_seed(seed)
                res = mixing.kmixup_alpha_for_xi(
                    sample, k=int(k), alpha=float(a1), num_trials=num_trials, generator=gen
                )
                out[(dataset, float(a1), int(k))] = float(f"{res.alpha:.4g}")
    return out


def kmixup_matrix(params: Any, *, alphas: dict[tuple[str, float, int], float]) -> RunMatrix:
    """The Table 1 protocol: for each dataset, ξ (set by α₁ ∈ ``kmixup_alphas``) and k ∈ ``kmixup_ks``, k-mixup
    with the α of :func:`kmixup_alphas` — k = 1 is mixup with α₁ (the same operation, one λ per mini-batch and
    a random partner) — plus ERM; protocol ``natural``, so runs other chapters train identically are read, not
    trained again. Without ``alphas`` (the setup cell's check) k > 1 runs use α₁."""
    ov = overrides(params, datasets=params.kmixup_datasets)
    base = recipes.resolve("peers", params.profile, methods=["erm", "mixup", "kmixup"], **ov)
    specs = []
    for s in base:
        if s.method == "erm":
            specs.append(s)
            continue
        for a1 in params.kmixup_alphas:
            for k in params.kmixup_ks:
                if int(k) == 1 and s.method == "mixup":
                    specs.append(s.replace(alpha=float(a1)))
                elif int(k) > 1 and s.method == "kmixup":
                    a = alphas.get((s.dataset, float(a1), int(k)), float(a1))
                    extra = tuple(sorted({**dict(s.extra), "k": int(k)}.items()))
                    specs.append(s.replace(alpha=a, extra=extra))
    return matrix(params, specs, **base.overrides)


def k_of(row: pd.Series) -> int | None:
    """The k of a Table 1 protocol run (a row of its records): 1 for mixup, the run's k for k-mixup, ``None``
    otherwise (ERM)."""
    if row["method"] == "mixup":
        return 1
    if row["method"] == "kmixup":
        return int(dict(row["extra"]).get("k", 16))
    return None


def kmixup_table1(runs: pd.DataFrame, *, params: Any, alphas: dict) -> tuple[pd.DataFrame, list[float]]:
    """The Table 1 protocol's runs as the k-mixup paper's Table 2 lays them out (rows k, columns α₁ with their
    ξ), test error (%) mean ± sd over seeds; and the ledger's differences (mean over k > 1 of k-mixup − 1-mixup,
    per (dataset, α₁) cell)."""
    if runs is None or len(runs) == 0:
        return pd.DataFrame(), []
    r = runs.assign(k=[k_of(row) for _, row in runs.iterrows()], err=runs["test_err"].astype(float) * 100.0)
    rows, diffs = [], []
    for dataset, g in r.groupby("dataset", sort=False):
        erm = g.loc[g["method"] == "erm", "err"]
        rows.append({"dataset": dataset, "k": "ERM", **{f"α₁ = {a:g}": mean_sd(erm) for a in params.kmixup_alphas}})
        for k in sorted({int(k) for k in params.kmixup_ks}):
            row = {"dataset": dataset, "k": str(k)}
            for a1 in params.kmixup_alphas:
                a = alphas.get((dataset, float(a1), k), float(a1)) if k > 1 else float(a1)
                sel = g[(g["k"] == k) & np.isclose(g["alpha"].astype(float), a)]
                row[f"α₁ = {a1:g}"] = mean_sd(sel["err"]) + (f" (α = {a:.3g})" if k > 1 else "")
            rows.append(row)
        for a1 in params.kmixup_alphas:
            one = g[(g["k"] == 1) & np.isclose(g["alpha"].astype(float), float(a1))].groupby("seed")["err"].mean()
            ks = [k for k in params.kmixup_ks if int(k) > 1]
            more = [
                g[
                    (g["k"] == int(k))
                    & np.isclose(g["alpha"].astype(float), alphas.get((dataset, float(a1), int(k)), a1))
                ]
                .groupby("seed")["err"]
                .mean()
                for k in ks
            ]
            d = [(m - one).dropna().mean() for m in more]
            d = [v for v in d if not math.isnan(v)]
            if d:
                diffs.append(float(np.mean(d)))
    return pd.DataFrame(rows).set_index(["dataset", "k"]), diffs
