"""Figure helpers shared by the notebooks: one style, labelled axes, nothing notebook-specific.

Add a helper here when a second notebook needs the same figure. Every helper returns the matplotlib
``Figure`` (or ``Axes``) it drew on and never calls ``plt.show()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from zmixlib.core.vocab import color

#: The house style of every figure: light grid, no top/right spines, legends without frames.
HOUSE_STYLE: dict[str, object] = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """A context (also a decorator: ``@house_style()``) in which figures are drawn in :data:`HOUSE_STYLE`.

    The style is applied per figure and undone on exit: importing this module changes no global matplotlib
    setting. Every figure helper, here and in ``zmixlib.chapters``, draws inside it (``@plots.house_style()``
    on the helper, or ``with plots.house_style():`` around the drawing). Returns nothing to the ``with``.
    """
    # restores the style's keys only: matplotlib.rc_context would also undo what happens inside it, e.g. the
    # inline backend switching interactive mode on at the first figure (then no later figure is shown)
    saved = {key: matplotlib.rcParams[key] for key in HOUSE_STYLE}
    matplotlib.rcParams.update(HOUSE_STYLE)
    try:
        yield
    finally:
        matplotlib.rcParams.update(saved)


def method_color(name: str) -> str:
    """The colour of a method on every page (``zeta_mixup(gamma=2.4)`` and ``zeta_mixup`` share one)."""
    return color(name.split("(")[0].strip())


#: Line styles that tell the γ values of ζ-mixup apart (they share one colour).
ZETA_STYLES = ("-", "--", ":", "-.")


# ------------------------------------------------------------------ classification sweeps


@house_style()
def error_curves(frame, *, label: str, ylabel: str = "test error (%)", log: bool = True, ax_width: float = 6.5):
    """Test error per epoch, one line per method (mean over seeds) with a ± sd band, one panel per dataset.

    ``frame`` is :func:`zmixlib.tables.report.curves`'s long form (``panel``, ``curve``, ``method``, ``seed``,
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
