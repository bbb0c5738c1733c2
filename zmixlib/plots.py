"""Figure helpers shared by the notebooks: one style, labelled axes, nothing notebook-specific.

Add a helper here when a second notebook needs the same figure. Every helper returns the matplotlib
``Figure`` (or ``Axes``) it drew on and never calls ``plt.show()``.
"""

from __future__ import annotations

import matplotlib

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

#: One colour per method, the same on every page.
METHOD_COLORS = {
    "original": "#4d4d4d",
    "ERM": "#4d4d4d",
    "mixup": "#1f77b4",
    "zeta_mixup": "#d62728",
    "cutmix": "#2ca02c",
    "cutmix_zeta": "#9467bd",
    "dirichlet_mixup": "#8c564b",
    "kmixup": "#e377c2",
    "multimix": "#17becf",
    "manifold_mixup": "#bcbd22",
    "local_synthetic_instances": "#7f7f7f",
}


def method_color(name: str) -> str:
    """The colour of a method (``zeta_mixup(gamma=2.4)`` and ``zeta_mixup`` share one)."""
    return METHOD_COLORS.get(name.split("(")[0].strip(), "#000000")
