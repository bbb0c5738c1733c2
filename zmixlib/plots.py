"""Figure helpers shared by the notebooks: one style, labelled axes, nothing notebook-specific.

Add a helper here when a second notebook needs the same figure. Every helper returns the matplotlib
``Figure`` (or ``Axes``) it drew on and never calls ``plt.show()``.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from zmixlib.bench import COPY, GEMM, MATMUL
from zmixlib.vocab import color

matplotlib.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
    }
)

def method_color(name: str) -> str:
    """The colour of a method on every page (``zeta_mixup(gamma=2.4)`` and ``zeta_mixup`` share one)."""
    return color(name.split("(")[0].strip())


#: Line styles that tell the γ values of ζ-mixup apart (they share one colour).
ZETA_STYLES = ("-", "--", ":", "-.")


def dominance_curves(gammas, curves: dict, gamma_min: float, *, ax=None):
    """Theorem 1: ``w_1 − Σ_{i≥2} w_i`` against γ, one line per T, with γ_min marked (notebook 00)."""

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, values in curves.items():
        ax.plot(gammas, values, label=f"T = {label}")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.axvline(gamma_min, color="black", ls="--", lw=1, label=f"γ_min = {gamma_min:.5f}")
    ax.set_xlabel("γ")
    ax.set_ylabel(r"$w_1 - \sum_{i \geq 2} w_i$")
    ax.set_title("Theorem 1: the first weight dominates for γ ≥ γ_min, whatever T")
    ax.legend(ncol=2, fontsize=8)
    return ax.figure


def lambda_gamma_map(lams, gammas, *, ax=None):
    """Theorem 2: the γ at which T=2 ζ-mixup reproduces mixup's λ, with λ < ½ ↔ γ < 0 shaded (notebook 00)."""

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(lams, gammas, color=method_color("zeta_mixup"))
    ax.axvspan(0, 0.5, color="grey", alpha=0.15, label="λ < ½  →  γ < 0")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel("mixup λ")
    ax.set_ylabel(r"γ = log$_2$(λ / (1 − λ))")
    ax.set_title("Theorem 2: T = 2 ζ-mixup equals mixup at this γ")
    ax.legend(loc="upper left")
    return ax.figure


def timing_bars(table, *, label: str, paper_label: str = "paper (GTX TITAN X)", ax=None):
    """Table 9 as bars: median time per method (log axis) with IQR whiskers (notebook 09).

    ``table`` is ``zmixlib.timing.table9(...)``: ``median_ms``, ``q1_ms``, ``q3_ms``, optional
    ``paper_ms`` (drawn as black diamonds, labelled ``paper_label``) and ``attrs["limit"]`` (the
    hardware limit of ζ-mixup, a dashed line). The roofline matmul row (a calibration, not a method)
    is left out. ``label`` names what was measured (profile, device, dtype).
    """

    rows = table.drop(index=MATMUL, errors="ignore").iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 2))
    y = np.arange(len(rows))
    med = rows["median_ms"].clip(lower=1e-4)
    err = np.vstack([(med - rows["q1_ms"]).clip(lower=0), (rows["q3_ms"] - med).clip(lower=0)])

    def colour(m: str) -> str:
        if m.startswith(("copy", "clone")) or m == GEMM:
            return "#c7c7c7"
        return method_color(m) if method_color(m) != "#000000" else "#555555"

    ax.barh(y, med, xerr=err, color=[colour(m) for m in rows.index], alpha=0.85, label=label)
    if "paper_ms" in rows and rows["paper_ms"].notna().any():
        ax.scatter(rows["paper_ms"], y, marker="D", color="black", zorder=3, label=paper_label)
    lim = table.attrs.get("limit")
    if lim:
        ax.axvline(lim["limit_ms"], color="black", ls="--", lw=1, label=f"ζ-mixup limit here ({lim['bound']})")
    ax.set_yticks(y, rows.index)
    ax.set_xscale("log")
    ax.set_xlabel("time per batch (ms, log scale)")
    ax.set_title("Augmenting one batch")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.4, -0.12), ncol=2)
    return ax.figure


def timing_growth(frame, *, x: str, label: str, ax=None):
    """Cost against ``x`` (``"batch_size"`` or ``"resolution"``), log–log, one line per method (notebook 09).

    ``frame`` is one sweep and dtype of ``zmixlib.timing.scaling(...)``; the hardware limit
    (``limit_ms``, the larger of copy and roofline) is drawn dashed.
    """

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    refs = {COPY, MATMUL}
    for method, g in frame[~frame["method"].isin(refs)].groupby("method", sort=False):
        g = g.sort_values(x)
        ax.errorbar(
            g[x],
            g["median_ms"],
            yerr=g["iqr_ms"] / 2,
            marker="o",
            ms=4,
            capsize=2,
            color=method_color(method),
            label=method,
        )
    lim = frame.drop_duplicates(x).sort_values(x)
    ax.plot(lim[x], lim["limit_ms"], color="black", ls="--", lw=1, label="ζ-mixup limit (max of copy, roofline)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel({"batch_size": "batch size B", "resolution": "resolution H = W (px)"}.get(x, x))
    ax.set_ylabel("time per batch (ms)")
    ax.set_title(label, fontsize=10)
    ax.legend(fontsize=7)
    return ax.figure


def overhead_bars(frame, *, label: str, target_pct: float | None = 3.0, ax=None):
    """Training-step overhead vs ERM per method, % (bars with IQR over rounds), and the mixing's own share (notebook 09)."""

    rows = frame.drop(index="ERM", errors="ignore")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(rows))
    err = np.vstack(
        [
            (rows["overhead_pct"] - rows["overhead_q1_pct"]).clip(lower=0),
            (rows["overhead_q3_pct"] - rows["overhead_pct"]).clip(lower=0),
        ]
    )
    ax.bar(
        x,
        rows["overhead_pct"],
        yerr=err,
        capsize=3,
        color=[method_color(m) for m in rows.index],
        alpha=0.8,
        label="step time / ERM step − 1 (IQR over rounds)",
    )
    ax.scatter(x, rows["mix_share_pct"], marker="_", s=300, color="black", zorder=3, label="mixing alone / ERM step")
    if target_pct is not None:
        ax.axhline(target_pct, color="grey", ls="--", lw=1, label=f"{target_pct:g} % target")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, rows.index, rotation=20)
    ax.set_ylabel("overhead vs ERM (%)")
    ax.set_title(label, fontsize=10)
    ax.legend(fontsize=8)
    return ax.figure


def timing_growth_grid(frame, *, label: str):
    """``zmixlib.timing.scaling(...)`` as a grid: one row per dtype, columns = batch-size and resolution sweeps (notebook 09)."""

    dtypes = list(dict.fromkeys(frame["dtype"]))
    fig, axes = plt.subplots(len(dtypes), 2, figsize=(12, 4 * len(dtypes)), squeeze=False)
    for row, dt in zip(axes, dtypes):
        g = frame[frame["dtype"] == dt]
        for ax, (sweep, x) in zip(row, [("batch", "batch_size"), ("resolution", "resolution")]):
            part = g[g["sweep"] == sweep]
            if part.empty:
                ax.set_visible(False)
                continue
            fixed = f"H = {part['resolution'].iloc[0]} px" if sweep == "batch" else f"B = {part['batch_size'].iloc[0]}"
            timing_growth(part, x=x, label=f"{dt}, {fixed} — {label}", ax=ax)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- notebooks 01 and 03 (synthetic manifolds, local ID)


def local_id_panels(summary, *, gamma_min: float, label: str, paper: dict | None = None):
    """Paper 000 Fig. 6: local ID against γ, one panel per (dataset, k).

    ``summary`` is :func:`zmixlib.intrinsic.summarize_sweep`'s frame: ζ-mixup is a line (mean over
    points) with a ± sd band, the original data and mixup are horizontal lines with their own bands;
    γ_min is a vertical dotted line. ``paper`` optionally maps ``(dataset, method)`` to a paper
    ``(mean, sd)`` drawn as a dashed line at k = 128 (MIDL 2023). ``label`` goes in the title.
    """

    panels = list(summary[["dataset", "k"]].drop_duplicates().itertuples(index=False, name=None))
    cols = len(summary["k"].unique())
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
    for ax, (dataset, k) in zip(axes.flat, panels):
        df = summary[(summary["dataset"] == dataset) & (summary["k"] == k)]
        zeta = df[df["method"] == "zeta_mixup"].sort_values("gamma")
        g = zeta["gamma"].to_numpy(float)
        color = method_color("zeta_mixup")
        ax.plot(g, zeta["mean"], color=color, lw=2, label="ζ-mixup")
        ax.fill_between(g, zeta["mean"] - zeta["sd"], zeta["mean"] + zeta["sd"], color=color, alpha=0.2)
        lo, hi = (g.min(), g.max()) if len(g) else (0.0, 1.0)
        for method, name, style in (("original", "original", "-"), ("mixup", "mixup", "-.")):
            row = df[df["method"] == method]
            if len(row):
                m, s = float(row["mean"].iloc[0]), float(row["sd"].iloc[0])
                ax.axhline(m, color=method_color(method), ls=style, lw=1.5, label=f"{name} ({m:.2f} ± {s:.2f})")
                ax.axhspan(m - s, m + s, color=method_color(method), alpha=0.08)
        for (p_dataset, p_method), (m, s) in (paper or {}).items():
            if p_dataset == dataset and k == 128:
                paper_label = f"paper {p_method} ({m:.2f} ± {s:.2f})"
                ax.axhline(m, color=method_color(p_method), ls="--", lw=1, label=paper_label)
        ax.axvline(gamma_min, color="black", ls=":", lw=1, label=f"γ_min = {gamma_min:.5f}")
        ax.set_xlim(lo, hi)
        ax.set_xlabel("γ (ζ-mixup)")
        ax.set_ylabel("local ID (mean ± sd over points)")
        ax.set_title(f"{dataset}, k = {k}")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(f"Local intrinsic dimension (Fukunaga–Olsen, α = 5 %) — {label}")
    fig.tight_layout()
    return fig


def mixed_scatter_grid(rows: dict, *, label: str, cmap: str = "coolwarm_r"):
    """Paper 000 Fig. 2a: 2-D point sets, one row per dataset and one column per method.

    ``rows`` maps a row title to ``{column title: (X (N, 2), p (N,))}`` where ``p`` is the soft-label
    probability of class 1 (the colour; its argmax is ``p > 0.5``). Returns the figure.
    """

    ncols = max(len(cols) for cols in rows.values())
    fig, axes = plt.subplots(
        len(rows), ncols, figsize=(2.7 * ncols + 1, 2.8 * len(rows)), squeeze=False, layout="constrained"
    )
    sc = None
    for r, (row_title, cols) in enumerate(rows.items()):
        for c, (title, (xy, p)) in enumerate(cols.items()):
            ax = axes[r, c]
            sc = ax.scatter(xy[:, 0], xy[:, 1], c=p, cmap=cmap, vmin=0, vmax=1, s=4)
            ax.set_title(f"{row_title}: {title}", fontsize=8)
            ax.set_xlabel("x₁", fontsize=7)
            ax.set_ylabel("x₂", fontsize=7)
            ax.tick_params(labelsize=6)
    if sc is not None:
        fig.colorbar(sc, ax=axes, shrink=0.6, label="soft label: P(class 1)")
    fig.suptitle(f"Original data, mixup and ζ-mixup (colour: soft label) — {label}")
    return fig


def helix_projections(sets: dict, *, views=((0, 0), (70, 0), (90, 0)), label: str, original=None):
    """Paper 000 Fig. 2b: 3-D point sets seen from several (elevation, azimuth) views.

    ``sets`` maps a row title to ``(points (N, 3), method)``, the method choosing the colour;
    ``original`` (optional) is drawn in grey under every set that is not the original. Returns the figure.
    """

    fig = plt.figure(figsize=(3.2 * len(views), 3.0 * len(sets)))
    for r, (title, (pts, method)) in enumerate(sets.items()):
        for c, (elev, azim) in enumerate(views):
            ax = fig.add_subplot(len(sets), len(views), r * len(views) + c + 1, projection="3d")
            if original is not None and method != "original":
                ax.scatter(*original[:, :3].T, s=0.3, color=method_color("original"), alpha=0.3)
            ax.scatter(*pts[:, :3].T, s=0.3, color=method_color(method), alpha=0.5)
            ax.view_init(elev=elev, azim=azim)
            ax.set_title(f"{title} (elev {elev}°, azim {azim}°)", fontsize=8)
            ax.set_xlabel("x", fontsize=7)
            ax.set_ylabel("y", fontsize=7)
            ax.set_zlabel("z", fontsize=7)
            ax.tick_params(labelsize=5)
    fig.suptitle(f"1-D helix in ℝ³: original, mixup and ζ-mixup — {label}")
    fig.tight_layout()
    return fig


def mix_grid(cells: dict, *, row_key: str, col_key: str, label: str, original=None, annotate: dict | None = None):
    """A grid of 2-D projections (x, y) of point sets keyed ``(row, col)`` — e.g. ζ-mixup over T × γ.

    ``annotate`` maps the same keys to a short text written in each panel (e.g. the mean distance to
    the manifold). ``original`` is drawn in grey underneath. Returns the figure.
    """

    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(2.6 * len(cols), 2.5 * len(rows)), squeeze=False)
    for (r, c), pts in cells.items():
        ax = axes[rows.index(r), cols.index(c)]
        if original is not None:
            ax.scatter(original[:, 0], original[:, 1], s=0.2, color=method_color("original"), alpha=0.3)
        ax.scatter(pts[:, 0], pts[:, 1], s=0.2, color=method_color("zeta_mixup"), alpha=0.5)
        ax.set_title(f"{row_key} = {r}, {col_key} = {c}", fontsize=8)
        ax.set_xlabel("x", fontsize=7)
        ax.set_ylabel("y", fontsize=7)
        ax.tick_params(labelsize=6)
        if annotate and (r, c) in annotate:
            ax.text(0.02, 0.02, annotate[(r, c)], transform=ax.transAxes, fontsize=7, va="bottom")
    fig.suptitle(f"ζ-mixup over {row_key} × {col_key} (top view, x–y) — {label}")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ classification sweeps (notebook 04)


def error_curves(frame, *, label: str, ylabel: str = "test error (%)", log: bool = True, ax_width: float = 6.5):
    """Test error per epoch, one line per method (mean over seeds) with a ± sd band, one panel per dataset.

    ``frame`` is :func:`zmixlib.report.curves`'s long form (``panel``, ``curve``, ``method``, ``seed``,
    ``epoch``, ``value``); ζ-mixup variants share a colour and differ in line style. ``label`` (profile,
    seeds, device) goes in the title; ``log`` puts the error on a log axis, so that the last epochs'
    differences of a few test images stay visible. Returns the figure.
    """

    log = log and bool((frame.groupby(["panel", "curve", "epoch"], observed=True)["value"].mean() > 0).all())
    panels = list(dict.fromkeys(frame["panel"]))
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(ax_width * max(1, len(panels)), 4.2), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        df = frame[frame["panel"] == panel]
        k = 0
        for curve, g in df.groupby("curve", sort=True, observed=True):
            stats = g.groupby("epoch")["value"].agg(["mean", "std", "count"]).reset_index()
            method = str(g["method"].iloc[0])
            ls = "-"
            if method == "zeta_mixup":
                ls, k = ZETA_STYLES[k % len(ZETA_STYLES)], k + 1
            n = int(stats["count"].max())
            color = method_color("ERM" if method == "erm" else method)
            ax.plot(stats["epoch"], stats["mean"], color=color, ls=ls, lw=1.6, label=f"{curve} (n = {n})")
            sd = stats["std"].fillna(0.0)
            low = (stats["mean"] - sd).clip(lower=stats["mean"] / 10) if log else stats["mean"] - sd
            ax.fill_between(stats["epoch"], low, stats["mean"] + sd, color=color, alpha=0.12)
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel + (" — log scale" if log else ""))
        ax.set_title(panel, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"Test error during training (mean ± sd over seeds) — {label}")
    fig.tight_layout()
    return fig
