"""Chapter 09's figures: Table 9 as bars, the growth sweeps, the training-step overhead."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from zmixlib.bench import COPY, GEMM, MATMUL
from zmixlib.tables.plots import house_style, method_color

__all__ = ["timing_bars", "timing_growth", "timing_growth_grid", "overhead_bars"]


@house_style()
def timing_bars(table, *, label: str, paper_label: str = "paper (GTX TITAN X)", ax=None):
    """Table 9 as bars: median time per method (log axis) with IQR whiskers (notebook 09).

    ``table`` is ``zmixlib.chapters.timing.table9(...)``: ``median_ms``, ``q1_ms``, ``q3_ms``, optional
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


@house_style()
def timing_growth(frame, *, x: str, label: str, ax=None):
    """Cost against ``x`` (``"batch_size"`` or ``"resolution"``), log–log, one line per method (notebook 09).

    ``frame`` is one sweep and dtype of ``zmixlib.chapters.timing.scaling(...)``; the hardware limit
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


@house_style()
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


@house_style()
def timing_growth_grid(frame, *, label: str):
    """``zmixlib.chapters.timing.scaling(...)`` as a grid: one row per dtype, columns = batch-size and resolution sweeps (notebook 09)."""

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
