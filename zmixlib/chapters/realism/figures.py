"""The figures of chapter 02 (:mod:`zmixlib.chapters.realism`): the image grids of Fig. 3a–c and Figs. 4–5,
the soft labels beside the oracle's probabilities (Fig. 3d–e) and the densities of realism and label
correctness (Fig. 3f–g)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import gaussian_kde
from torchvision.utils import make_grid

from zmixlib.core.util import to_numpy
from zmixlib.tables.plots import ZETA_STYLES, house_style, method_color

__all__ = ["image_grids", "soft_label_examples", "realism_densities"]


def _method_styles(names) -> dict:
    """``{name: (colour, linestyle)}``: the method's colour; ζ-mixup variants get successive line styles."""
    styles, k = {}, 0
    for name in names:
        ls = "-"
        if name.startswith("zeta_mixup("):
            ls, k = ZETA_STYLES[k % len(ZETA_STYLES)], k + 1
        elif name == "original":
            ls = (0, (1, 1))
        styles[name] = (method_color(name), ls)
    return styles


@house_style()
def image_grids(
    panels: dict, *, nrow: int = 10, cmap: str = "gray", max_side: int | None = None, title: str | None = None
):
    """One image grid per panel, side by side (the paper's Fig. 3a–c, Figs. 4–5).

    ``panels`` maps a panel title to images ``(N, C, H, W)`` in ``[0, 1]`` (``nrow`` per row);
    ``max_side`` downsamples each image (antialiased) so large images make a small figure.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    for ax, (name, x) in zip(axes[0], panels.items()):
        x = torch.as_tensor(x).detach().float().cpu().clamp(0, 1)
        if max_side is not None and max(x.shape[-2:]) > max_side:
            x = torch.nn.functional.interpolate(
                x, size=(max_side, max_side), mode="bilinear", antialias=True, align_corners=False
            )
        grid = make_grid(x, nrow=nrow, padding=1, pad_value=1.0)
        img = (grid[0] if x.shape[1] == 1 else grid.permute(1, 2, 0)).numpy()
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@house_style()
def soft_label_examples(examples: dict, *, class_names, title: str | None = None, cmap: str = "gray"):
    """Synthetic images above bar charts of their soft labels, with the oracle's probabilities (Fig. 3d–e).

    ``examples`` maps a method to ``(images (k, C, H, W), soft labels (k, K), oracle probabilities (k, K))``;
    one block of two rows per method, one column per image.
    """

    k = max(len(v[0]) for v in examples.values())
    n_classes = len(class_names)
    ratios = {"height_ratios": [1.2, 1.0] * len(examples)}
    size = (2.4 * k, 3.9 * len(examples))
    fig, axes = plt.subplots(2 * len(examples), k, figsize=size, squeeze=False, gridspec_kw=ratios)
    pos = np.arange(n_classes)
    for r, (name, (images, y_soft, probs)) in enumerate(examples.items()):
        for j in range(k):
            ax_im, ax_bar = axes[2 * r, j], axes[2 * r + 1, j]
            img = images[j].detach().float().cpu().clamp(0, 1).numpy()
            ax_im.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0), cmap=cmap, vmin=0, vmax=1)
            ax_im.set_axis_off()
            y, p = (to_numpy(t[j]) for t in (y_soft, probs))
            ax_im.set_title(f"{name}\nlabel {class_names[y.argmax()]} · oracle {class_names[p.argmax()]}", fontsize=8)
            ax_bar.bar(pos, y, color=method_color(name), label="soft label")
            ax_bar.plot(pos, p, "kx", ms=5, label="oracle p")
            ax_bar.set_xticks(pos, class_names, fontsize=7)
            ax_bar.set_ylim(0, 1.05)
            ax_bar.set_xlabel("class", fontsize=8)
            if j == 0:
                ax_bar.set_ylabel("probability", fontsize=8)
                ax_bar.legend(fontsize=7, loc="upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _kde_curve(values, clip, n: int = 256):
    """Gaussian KDE (Scott's bandwidth, as seaborn's ``kdeplot``) on a grid over the data's range within
    ``clip`` (seaborn's ``cut=0``); ``None`` when the values cannot be smoothed (fewer than 2, or all equal)."""

    values = np.asarray(values, dtype=float)
    lo, hi = (-np.inf if clip[0] is None else clip[0]), (np.inf if clip[1] is None else clip[1])
    values = values[(values >= lo) & (values <= hi)]
    if len(values) < 2 or np.ptp(values) == 0:
        return None
    grid = np.linspace(values.min(), values.max(), n)
    return grid, gaussian_kde(values)(grid)


def _density_with_log_inset(ax, groups: dict, *, xlabel: str, title: str, clip, styles: dict):
    """KDE of each group (normalised areas) on ``ax``, and the same with a log-density axis in an inset."""
    inset = ax.inset_axes([0.45, 0.4, 0.52, 0.55])
    for name, values in groups.items():
        curve = _kde_curve(values, clip)
        if curve is None:
            continue
        color, ls = styles[name]
        ax.plot(*curve, color=color, linestyle=ls, lw=1.6, label=f"{name} (n={len(values):,})")
        inset.plot(*curve, color=color, linestyle=ls, lw=1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")  # the tails are near 0 there; the inset sits above
    inset.set_yscale("log")
    inset.set_ylabel("log density", fontsize=7)
    inset.tick_params(labelsize=6)
    lo, hi = inset.get_ylim()
    inset.set_ylim(max(lo, hi * 1e-5), hi)


@house_style()
def realism_densities(frame, *, label: str, num_classes: int, h_max: float = 0.1, exclude=("original",)):
    """Fig. 3f–g: KDEs of the oracle's entropy H (realism) and of the cross-entropy CE between
    soft label and oracle (label correctness), and CE restricted to images with H < ``h_max``.

    ``frame`` has columns ``method``, ``H``, ``CE`` (:func:`realism_study`); ``num_classes``
    bounds H by log K; each panel has a log-density inset. Methods in ``exclude`` (the unmixed originals,
    whose spike at 0 would flatten the other curves) are left out. ``label`` (profile, dataset, seeds, device) goes in the title.
    """
    methods = frame["method"]
    names = list(methods.cat.categories) if hasattr(methods, "cat") else list(methods.unique())
    names = [m for m in names if m not in exclude]
    styles = _method_styles(names)
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    h_top = math.log(num_classes)  # entropy is at most log K
    realistic = frame[frame["H"] < h_max]
    ce = "cross-entropy CE(soft label, oracle p)"
    panels = [
        ("H", frame, "oracle entropy H (nats) — lower: more realistic", "(f) realism", (0.0, h_top)),
        ("CE", frame, f"{ce} — lower: label more correct", "(g) label correctness", (0.0, None)),
        ("CE", realistic, f"{ce}, only H < {h_max:g}", f"(g) label correctness, H < {h_max:g}", (0.0, None)),
    ]
    for ax, (col, df, xlabel, title, clip) in zip(axes, panels):
        groups = {m: df.loc[df["method"] == m, col].to_numpy() for m in names}
        _density_with_log_inset(ax, groups, xlabel=xlabel, title=title, clip=clip, styles=styles)
    fig.suptitle(f"Realism and label correctness judged by the oracle — {label}")
    fig.tight_layout()
    return fig
