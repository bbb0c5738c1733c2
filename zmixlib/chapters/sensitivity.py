"""Chapter 07's protocol: ζ-mixup's sensitivity to γ and to weight decay (J Big Data 2024, Fig. 10).

* **(a, b)** the test error (ERR) of ζ-mixup against γ on a grid (paper: γ = 1.8, 2.0, …, 5.0; ResNet-18 on
  CIFAR-10 and CIFAR-100), beside mixup trained by the same recipe (the ``natural`` section's mixup runs, i.e.
  Table 4's), γ_min marked — :func:`curve_stats`, :func:`gamma_curve_figure`;
* **(c, d)** the random search: γ ~ U[1, 6], weight decay log-uniform in [5·10⁻⁵, 10⁻³], one model per draw
  (paper: 200 per dataset from a Weights & Biases Bayesian search; here the fixed random draws of
  :func:`zmixlib.protocol.recipes.search_draws`, the first ``n`` of them: :func:`search_matrix`), drawn as the paper's
  parallel-coordinates figure (γ, weight decay, test accuracy; models with γ < γ_min in grey) —
  :func:`parallel_coordinates`, :func:`search_bands`.

Fig. 10 is a figure only: ``paper_results.csv`` holds no number of it. The paper's claims, in words: ERR is
about flat over γ ≥ γ_min (ζ-mixup "achieves lower or equal error rate than mixup" for almost all γ of the
grid), and models trained with γ < γ_min are worse (grey in Fig. 10c, d; the best models come from
γ ∈ [γ_min, 4] with the larger weight decays). :data:`RULE` states how this build checks the two claims
(:func:`checks`); the checks are the chapter's evidence for the claims ledger (claim ``sensitivity``, kind
``holds``).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

from zmixlib.analysis.stats import pm_text
from zmixlib.core.checks import check_float, check_int
from zmixlib.core.theory import GAMMA_MIN
from zmixlib.core.vocab import color, gamma_text, method_label
from zmixlib.protocol import recipes
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.protocol.regime import RegimeCheck
from zmixlib.tables import report
from zmixlib.tables.plots import house_style
from zmixlib.tables.report import device_text, guarded, provenance

__all__ = [
    "RULE",
    "SEARCH_GAMMA",
    "SEARCH_WEIGHT_DECAY",
    "check_knobs",
    "provenance",
    "guarded",
    "matrices",
    "train_chapter",
    "search_matrix",
    "curve_stats",
    "curve_table",
    "checks",
    "checks_table",
    "search_bands",
    "gamma_curve_figure",
    "parallel_coordinates",
    "reading",
]

#: the search's ranges (Fig. 10c, d): γ ~ U[1, 6], weight decay log-uniform in [5e-5, 1e-3]
SEARCH_GAMMA = (1.0, 6.0)
SEARCH_WEIGHT_DECAY = (5e-5, 1e-3)
#: the weight decay above which the paper finds the best models ("approximately in [5e-4, 1e-3]")
_WD_SPLIT = 5e-4
_GMIN = gamma_text(GAMMA_MIN)

#: how this build checks the paper's two claims, per dataset (printed on the page)
RULE = (
    f"**flat over γ ≥ γ_min**: the standard deviation across the grid's γ values (those ≥ γ_min = {_GMIN}) of "
    "the mean ERR per γ is at most the pooled seed-to-seed standard deviation (the square root of the mean "
    "of the per-γ variances over seeds) — differences between γ values no larger than between seeds; "
    "**γ < γ_min worse**: the median ERR of the search's models with γ < γ_min is above the median ERR of "
    "its models with γ ≥ γ_min. A check that the data cannot decide (one seed, or no search model on one "
    "side of γ_min) is not counted."
)


# ------------------------------------------------------------------------------------------------- runs


def _common(params: Any) -> dict[str, Any]:
    return {
        "datasets": params.datasets,
        "epochs": params.epochs,
        "train_subset": params.train_subset,
        "device": params.device,
        "data_root": params.data_root,
    }


def search_matrix(profile: str, n: int, **overrides: Any) -> RunMatrix:
    """The first ``n`` draws of the ``search`` section (per dataset, architecture and seed) under ``profile``.

    The draws are fixed (:func:`zmixlib.protocol.recipes.search_draws`), so the first ``n`` are the same models in
    every profile and build. ``ValueError`` naming ``search_models`` when the section has fewer draws.
    """
    n = check_int("search_models", n, min=1)
    full = recipes.resolve("search", profile, **overrides)
    kept, count = [], {}
    for spec in full:  # datasets × archs × draws × seeds, in the section's order
        key = (spec.dataset, spec.arch, spec.seed)
        count[key] = count.get(key, 0) + 1
        if count[key] <= n:
            kept.append(spec)
    available = max(count.values())
    if n > available:
        raise ValueError(
            f"search_models must be <= {available} (the fixed draws of the {profile!r} profile's search section), got {n}"
        )
    return RunMatrix(kept, section="search", profile=profile, overrides={**full.overrides, "search_models": n})


def check_knobs(params: Any) -> None:
    """Fail in the setup cell on a knob this chapter cannot run, naming it: ``gammas`` (numbers ≥ 0; a
    (low, high) range is not a point of a curve), ``search_models`` (1 to the section's draws), and every
    run field (datasets, seeds, epochs, …) through :func:`matrices`."""
    gammas = params.gammas
    if isinstance(gammas, (str, bytes)) or not isinstance(gammas, (list, tuple)) or not gammas:
        raise TypeError(f"gammas must be a non-empty list of numbers, got {gammas!r}")
    for i, g in enumerate(gammas):
        if isinstance(g, (list, tuple)):
            raise ValueError(
                f"gammas[{i}] must be a number (this chapter draws a curve over fixed γ values), got {g!r}"
            )
        check_float(f"gammas[{i}]", g, min=0.0)
    matrices(params)


def matrices(params: Any) -> dict[str, RunMatrix]:
    """The chapter's three run matrices from its resolved parameters: ``curve`` (ζ-mixup over ``gammas`` ×
    ``seeds``, section ``sensitivity``), ``mixup`` (the reference, section ``natural``: the same runs as
    chapter 04's mixup, so a build trains them once) and ``search`` (the first ``search_models`` draws)."""
    common = _common(params)
    return {
        "curve": recipes.resolve("sensitivity", params.profile, gammas=params.gammas, seeds=params.seeds, **common),
        "mixup": recipes.resolve("natural", params.profile, methods=["mixup"], seeds=params.seeds, **common),
        "search": search_matrix(params.profile, params.search_models, **common),
    }


def train_chapter(params: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, RegimeCheck]:
    """The page's training cell: trains what :func:`matrices` lacks (chapter 04's mixup runs are read where they
    exist) with the regime check from the curve's ERM twins (:func:`zmixlib.tables.report.train_checked`). Returns
    ``(curve, history, mixup_runs, search, regime)``: the records of each matrix and the curve's histories."""
    m = matrices(params)
    _, _, regime = report.train_checked([s for x in m.values() for s in x], params, baseline_of=m["curve"])
    out = report.sweep_dir(params.results_dir, params.profile)
    (curve, history), (mixup_runs, _), (search, _) = (report.load_runs(x, out) for x in m.values())
    return curve, history, mixup_runs, search, regime


def _err(runs: pd.DataFrame) -> pd.Series:
    return runs["test_err"].astype(float) * 100.0


# ------------------------------------------------------------------------------------------------ tables


def curve_stats(curve: pd.DataFrame, mixup: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, arch, γ): ζ-mixup's ERR (%) over seeds (``n``, ``mean``, ``sd``), mixup's mean ERR
    on the same dataset and arch, and the seed-paired difference ζ-mixup − mixup (``diff_mean``,
    ``diff_sd``, ``pairs``; ``better`` / ``tied`` / ``worse``: seeds where ζ-mixup's ERR is lower / equal /
    higher)."""
    cols = ["dataset", "arch", "gamma", "n", "mean", "sd", "mixup_mean", "diff_mean", "diff_sd", "pairs"]
    cols += ["better", "tied", "worse"]
    if curve is None or len(curve) == 0:
        return pd.DataFrame(columns=cols)
    z = curve.assign(err=_err(curve))
    m = (
        mixup.assign(err=_err(mixup))
        if mixup is not None and len(mixup)
        else pd.DataFrame(columns=["dataset", "arch", "seed", "err"])
    )
    rows = []
    for (dataset, arch, gamma), g in z.groupby(["dataset", "arch", "gamma"], sort=True):
        ref = m[(m["dataset"] == dataset) & (m["arch"] == arch)]
        paired = g.merge(ref[["seed", "err"]], on="seed", suffixes=("", "_mixup"))
        d = paired["err"] - paired["err_mixup"]
        rows.append(
            {
                "dataset": dataset,
                "arch": arch,
                "gamma": float(gamma),
                "n": int(g["err"].count()),
                "mean": g["err"].mean(),
                "sd": g["err"].std(ddof=1) if len(g) > 1 else math.nan,
                "mixup_mean": ref["err"].mean() if len(ref) else math.nan,
                "diff_mean": d.mean() if len(d) else math.nan,
                "diff_sd": d.std(ddof=1) if len(d) > 1 else math.nan,
                "pairs": int(len(d)),
                "better": int((d < 0).sum()),
                "tied": int((d == 0).sum()),
                "worse": int((d > 0).sum()),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def curve_table(stats: pd.DataFrame, *, profile: str, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`curve_stats` for the page: one row per (dataset, model, γ), mean ± sd strings; the header names
    the profile, the number of seeds and the device (from the records in ``runs``)."""
    if stats is None or len(stats) == 0:
        return pd.DataFrame()
    mixup_label = method_label("mixup")
    out = pd.DataFrame(
        {
            "dataset": stats["dataset"],
            "model": stats["arch"],
            "γ": [gamma_text(g) for g in stats["gamma"]],
            f"{method_label('zeta_mixup')} ERR (%)": [pm_text(m, s) for m, s in zip(stats["mean"], stats["sd"])],
            f"{mixup_label} ERR (%)": [pm_text(m, None) for m in stats["mixup_mean"]],
            f"{method_label('zeta_mixup')} − {mixup_label}, seed-paired": [
                pm_text(m, s, sign=True) for m, s in zip(stats["diff_mean"], stats["diff_sd"])
            ],
            "seeds better / tied / worse": [
                f"{b} / {t} / {w}" for b, t, w in zip(stats["better"], stats["tied"], stats["worse"])
            ],
        }
    ).set_index(["dataset", "model", "γ"])
    n = int(stats["n"].max())
    device = device_text(runs) if runs is not None and len(runs) else "device unknown"
    out.columns.name = f"ours — {profile}, {n} seed{'s' * (n != 1)}, {device}"
    return out


def checks(curve: pd.DataFrame, search: pd.DataFrame) -> pd.DataFrame:
    """The two checks of :data:`RULE` per (dataset, arch): ``check``, ``measured`` (the numbers, as text) and
    ``holds`` (``True`` / ``False``, or ``None`` where the data cannot decide)."""
    rows = []
    keys = []
    for frame in (curve, search):
        if frame is not None and len(frame):
            keys += [k for k in frame.groupby(["dataset", "arch"], sort=False).groups if k not in keys]
    for dataset, arch in keys:
        rows.append({"dataset": dataset, "arch": arch, **_flat_check(_select(curve, dataset, arch))})
        rows.append({"dataset": dataset, "arch": arch, **_below_check(_select(search, dataset, arch))})
    return pd.DataFrame(rows, columns=["dataset", "arch", "check", "measured", "holds"])


def checks_table(check_frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`checks` for the page: indexed by (dataset, arch, check), ``holds`` in words ("holds", "does not
    hold", "not decidable")."""
    holds = check_frame["holds"].map({True: "holds", False: "does not hold"}).fillna("not decidable")
    return check_frame.assign(holds=holds).set_index(["dataset", "arch", "check"])


def _select(frame: pd.DataFrame | None, dataset: str, arch: str) -> pd.DataFrame:
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=["gamma", "seed", "test_err"])
    return frame[(frame["dataset"] == dataset) & (frame["arch"] == arch)]


def _flat_check(curve: pd.DataFrame) -> dict[str, Any]:
    name = "flat over γ ≥ γ_min (γ grid)"
    c = curve[curve["gamma"].astype(float) >= GAMMA_MIN]
    c = c.assign(err=_err(c)) if len(c) else c.assign(err=[])
    per_gamma = c.groupby("gamma")["err"].agg(["mean", "var", "count"]) if len(c) else pd.DataFrame()
    if len(per_gamma) < 2 or per_gamma["count"].min() < 2:
        return {"check": name, "measured": "needs ≥ 2 γ values ≥ γ_min and ≥ 2 seeds each", "holds": None}
    across = float(per_gamma["mean"].std(ddof=1))
    within = float(math.sqrt(per_gamma["var"].mean()))
    holds = across <= within
    measured = (
        f"sd across γ of the mean ERR {across:.2f} {'≤' if holds else '>'} seed sd {within:.2f} "
        f"({len(per_gamma)} γ values, {int(per_gamma['count'].min())} seeds)"
    )
    return {"check": name, "measured": measured, "holds": holds}


def _below_check(search: pd.DataFrame) -> dict[str, Any]:
    name = "γ < γ_min worse (search)"
    if len(search) == 0:
        return {"check": name, "measured": "no search model", "holds": None}
    s = search.assign(err=_err(search))
    low, high = s[s["gamma"].astype(float) < GAMMA_MIN], s[s["gamma"].astype(float) >= GAMMA_MIN]
    if len(low) == 0 or len(high) == 0:
        return {
            "check": name,
            "measured": f"no search model with γ {'<' if len(low) == 0 else '≥'} γ_min",
            "holds": None,
        }
    a, b = float(low["err"].median()), float(high["err"].median())
    holds = a > b
    measured = (
        f"median ERR {a:.2f} ({len(low)} model{'s' * (len(low) != 1)} with γ < γ_min) {'>' if holds else '≤'} "
        f"{b:.2f} ({len(high)} with γ ≥ γ_min)"
    )
    return {"check": name, "measured": measured, "holds": holds}


def _band(gamma: float) -> str:
    if gamma < GAMMA_MIN:
        return f"γ < γ_min ({_GMIN})"
    return "γ_min ≤ γ < 4" if gamma < 4.0 else "γ ≥ 4"


def search_bands(search: pd.DataFrame) -> pd.DataFrame:
    """The search by γ band (γ < γ_min, [γ_min, 4), ≥ 4) per (dataset, model): number of models, median and
    best ERR (%), and the median ERR of the models with weight decay below and above 5·10⁻⁴ (the paper's
    best models: γ in [γ_min, 4] with the larger weight decays)."""
    if search is None or len(search) == 0:
        return pd.DataFrame()
    s = search.assign(err=_err(search), band=[_band(float(g)) for g in search["gamma"]])
    order = [_band(1.0), _band(2.0), _band(5.0)]
    rows = []
    for (dataset, arch), g in s.groupby(["dataset", "arch"], sort=False):
        for band in order:
            b = g[g["band"] == band]
            lo, hi = b[b["weight_decay"] < _WD_SPLIT], b[b["weight_decay"] >= _WD_SPLIT]
            med = lambda x: f"{x['err'].median():.2f} (n = {len(x)})" if len(x) else "—"  # noqa: E731
            rows.append(
                {
                    "dataset": dataset,
                    "model": arch,
                    "γ band": band,
                    "models": len(b),
                    "median ERR (%)": f"{b['err'].median():.2f}" if len(b) else "—",
                    "best ERR (%)": f"{b['err'].min():.2f}" if len(b) else "—",
                    "median ERR, weight decay < 5e-4": med(lo),
                    "median ERR, weight decay ≥ 5e-4": med(hi),
                }
            )
    return pd.DataFrame(rows).set_index(["dataset", "model", "γ band"])


# ----------------------------------------------------------------------------------------------- figures


def _panels(*frames: pd.DataFrame | None) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    for frame in frames:
        if frame is not None and len(frame):
            keys += [k for k in frame.groupby(["dataset", "arch"], sort=False).groups if k not in keys]
    return keys


@house_style()
def gamma_curve_figure(curve: pd.DataFrame, mixup: pd.DataFrame, *, label: str, ax_width: float = 5.5):
    """Fig. 10a, b: ζ-mixup's ERR (%) against γ — seeds as dots, mean ± sd — beside mixup's mean ± sd (a
    band), γ_min as a dashed vertical line; one panel per (dataset, model). Returns the figure."""
    keys = _panels(curve)
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(ax_width * max(1, len(keys)), 4.0), squeeze=False)
    zeta, mix = color("zeta_mixup"), color("mixup")
    for ax, (dataset, arch) in zip(axes[0], keys):
        c = _select(curve, dataset, arch)
        c = c.assign(err=_err(c), gamma=c["gamma"].astype(float))
        stats = c.groupby("gamma")["err"].agg(["mean", "std", "count"]).reset_index()
        ax.scatter(c["gamma"], c["err"], s=12, color=zeta, alpha=0.35, lw=0, label="one seed")
        n = int(stats["count"].max())
        ax.errorbar(
            stats["gamma"],
            stats["mean"],
            yerr=stats["std"].fillna(0.0),
            color=zeta,
            marker="o",
            ms=4,
            lw=1.6,
            capsize=3,
            label=f"{method_label('zeta_mixup')}, mean ± sd (n = {n})",
        )
        m = _select(mixup, dataset, arch)
        if len(m):
            e = _err(m)
            mean, sd = float(e.mean()), float(e.std(ddof=1)) if len(e) > 1 else 0.0
            ax.axhline(mean, color=mix, lw=1.4, label=f"{method_label('mixup')}, mean ± sd (n = {len(e)})")
            ax.axhspan(mean - sd, mean + sd, color=mix, alpha=0.12, lw=0)
        ax.axvline(GAMMA_MIN, color="0.3", ls="--", lw=1)
        ax.text(GAMMA_MIN, 0.02, f" γ_min = {_GMIN}", transform=ax.get_xaxis_transform(), fontsize=8, va="bottom")
        ax.set_xlim(min(GAMMA_MIN, float(stats["gamma"].min())) - 0.2, float(stats["gamma"].max()) + 0.2)
        ax.set_xlabel("γ")
        ax.set_ylabel("test error (%)")
        ax.set_title(f"{dataset} ({arch})", fontsize=10)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(f"ERR against γ (paper: Fig. 10a, b)\n{label}", fontsize=11)
    fig.tight_layout()
    return fig


def _smooth(y0: np.ndarray, y1: np.ndarray, x0: float, steps: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Curved lines between two parallel axes (flat where they meet an axis, as the paper's figure)."""
    t = np.linspace(0.0, 1.0, steps)
    s = 3 * t**2 - 2 * t**3
    return x0 + t, y0[:, None] + (y1 - y0)[:, None] * s[None, :]


@house_style()
def parallel_coordinates(search: pd.DataFrame, *, label: str, ax_width: float = 7.0, cmap: str = "viridis"):
    """Fig. 10c, d: one curve per search model through γ, weight decay (log scale) and test accuracy (%),
    coloured by accuracy (lighter = higher, as the paper; the colour scale spans the models with γ ≥ γ_min)
    and, where γ < γ_min, light grey. One panel per (dataset, model). Returns the figure."""
    keys = _panels(search)
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(ax_width * max(1, len(keys)), 4.4), squeeze=False)
    lg = np.log10(SEARCH_WEIGHT_DECAY)
    for ax, (dataset, arch) in zip(axes[0], keys):
        s = _select(search, dataset, arch)
        gam = s["gamma"].astype(float).to_numpy()
        wd = np.log10(s["weight_decay"].astype(float).to_numpy())
        acc = 100.0 - _err(s).to_numpy()
        lo, hi = float(acc.min()), float(acc.max())
        pad = max(0.5, 0.05 * (hi - lo))
        arange = (lo - pad, hi + pad)
        ys = [
            (gam - SEARCH_GAMMA[0]) / (SEARCH_GAMMA[1] - SEARCH_GAMMA[0]),
            (wd - lg[0]) / (lg[1] - lg[0]),
            (acc - arange[0]) / (arange[1] - arange[0]),
        ]
        grey = gam < GAMMA_MIN
        coloured = acc[~grey] if (~grey).any() else acc
        norm = Normalize(float(coloured.min()), float(coloured.max()))
        for i in (0, 1):
            xs, yy = _smooth(ys[i], ys[i + 1], float(i))
            for k in np.argsort(acc):  # the best models on top
                style = (
                    {"color": "0.8", "lw": 1.0, "zorder": 1}
                    if grey[k]
                    else {"color": plt.get_cmap(cmap)(norm(acc[k])), "lw": 1.3, "zorder": 2}
                )
                ax.plot(xs, yy[k], alpha=0.9, **style)
        ticks = [
            (
                "γ",
                [(v - SEARCH_GAMMA[0]) / (SEARCH_GAMMA[1] - SEARCH_GAMMA[0]) for v in range(1, 7)],
                [str(v) for v in range(1, 7)],
            ),
            (
                "weight decay",
                [(np.log10(v) - lg[0]) / (lg[1] - lg[0]) for v in (5e-5, 1e-4, 2e-4, 5e-4, 1e-3)],
                ["5e-5", "1e-4", "2e-4", "5e-4", "1e-3"],
            ),
            (
                "test accuracy (%)",
                list(np.linspace(0.0, 1.0, 5)),
                [f"{arange[0] + v * (arange[1] - arange[0]):.1f}" for v in np.linspace(0.0, 1.0, 5)],
            ),
        ]
        for x, (name, pos, text) in enumerate(ticks):
            ax.plot([x, x], [0, 1], color="black", lw=1.0, zorder=3)
            for p, t in zip(pos, text):
                ax.plot([x - 0.02, x], [p, p], color="black", lw=0.8, zorder=3)
                ax.text(x - 0.03, p, t, ha="right", va="center", fontsize=7)
            ax.text(x, 1.04, name, ha="center", va="bottom", fontsize=9)
        gmin = (GAMMA_MIN - SEARCH_GAMMA[0]) / (SEARCH_GAMMA[1] - SEARCH_GAMMA[0])
        ax.plot([0, 0.08], [gmin, gmin], color="0.3", ls="--", lw=1, zorder=3)
        ax.text(0.09, gmin, "γ_min", fontsize=7, va="center")
        fig.colorbar(
            ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04, pad=0.01, label="test accuracy (%), γ ≥ γ_min"
        )
        ax.set_xlim(-0.25, 2.3)
        ax.set_ylim(-0.04, 1.12)
        ax.axis("off")
        n_grey = int(grey.sum())
        ax.set_title(f"{dataset} ({arch}): {len(s)} models, {n_grey} with γ < γ_min (grey)", fontsize=10, pad=16)
    fig.suptitle(f"Random search over γ and weight decay (paper: Fig. 10c, d)\n{label}", fontsize=11)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------- reading, ledger


def reading(stats: pd.DataFrame, check_frame: pd.DataFrame, search: pd.DataFrame, *, profile: str) -> str:
    """One sentence per (dataset, model) for the page's reading, computed from this build's records: the
    range of ζ-mixup's mean ERR over γ, mixup's mean, at how many γ ζ-mixup's mean is at or below mixup's,
    and the two checks' numbers."""
    if stats is None or len(stats) == 0:
        return "no run finished in this build"
    parts = []
    for (dataset, arch), g in stats.groupby(["dataset", "arch"], sort=False):
        lo, hi = g.loc[g["mean"].idxmin()], g.loc[g["mean"].idxmax()]
        n = int(g["n"].max())
        text = (
            f"{dataset} ({arch}, {profile}, {n} seed{'s' * (n != 1)}): ζ-mixup's mean ERR runs from "
            f"{lo['mean']:.2f} % (γ = {gamma_text(lo['gamma'])}) to {hi['mean']:.2f} % (γ = {gamma_text(hi['gamma'])}) "
            f"over {len(g)} γ value{'s' * (len(g) != 1)}"
        )
        mix = g["mixup_mean"].dropna()
        if len(mix):
            below = int((g["mean"] <= g["mixup_mean"]).sum())
            text += f"; mixup's is {mix.iloc[0]:.2f} %, and ζ-mixup's mean is at or below it at {below} of {len(g)}"
        c = check_frame[(check_frame["dataset"] == dataset) & (check_frame["arch"] == arch)]
        for _, row in c.iterrows():
            verdict = "not decidable" if row["holds"] is None else ("holds" if row["holds"] else "does not hold")
            text += f"; {row['check']}: {verdict} ({row['measured']})"
        parts.append(text)
    return ". ".join(parts)
