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


def dominance_curves(gammas, curves: dict, gamma_min: float, *, ax=None):
    """Theorem 1: ``w_1 − Σ_{i≥2} w_i`` against γ, one line per T, with γ_min marked (notebook 00)."""
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt

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
