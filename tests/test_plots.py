"""zmixlib.tables.plots and the figures of chapters 00 and 01: importing changes no global matplotlib setting, every
figure is drawn in the house style, with labelled axes."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from zmixlib.chapters import synthetic_manifolds, theorems
from zmixlib.core import theory
from zmixlib.tables import plots

matplotlib.use("Agg")


def test_importing_plots_changes_no_rcparams():
    code = (
        "import matplotlib, matplotlib.pyplot\n"
        "before = dict(matplotlib.rcParams)\n"
        "import zmixlib.tables.plots, zmixlib.chapters.theorems, zmixlib.chapters.synthetic_manifolds\n"
        "after = dict(matplotlib.rcParams)\n"
        "changed = sorted(k for k in before if before[k] != after[k])\n"
        "assert not changed, changed\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_house_style_is_a_context_that_restores():
    before = dict(matplotlib.rcParams)
    with plots.house_style():
        assert all(matplotlib.rcParams[k] == v for k, v in plots.HOUSE_STYLE.items())
    assert dict(matplotlib.rcParams) == before


def test_the_house_style_keeps_what_changes_inside_it():
    # the inline backend turns interactive mode on at a notebook's first figure: later figures need it on
    interactive = matplotlib.rcParams["interactive"]
    try:
        with plots.house_style():
            matplotlib.rcParams["interactive"] = not interactive
        assert matplotlib.rcParams["interactive"] is (not interactive)
    finally:
        matplotlib.rcParams["interactive"] = interactive


def test_method_colour_ignores_hyperparameters():
    assert plots.method_color("zeta_mixup(gamma=2.4)") == plots.method_color("zeta_mixup") != "#000000"


def _curves_frame():
    rows = []
    for method, curve in (("erm", "ERM"), ("zeta_mixup", "ζ-mixup (γ = 2.4)"), ("zeta_mixup", "ζ-mixup (γ = 4.0)")):
        for seed in (0, 1):
            for epoch in (1, 2, 3):
                value = 20.0 / epoch + seed + (method == "erm")
                rows.append(dict(panel="CIFAR-10", curve=curve, method=method, seed=seed, epoch=epoch, value=value))
    return pd.DataFrame(rows)


def _helix(n=64):
    t = torch.linspace(0, 6.28, n)
    return torch.stack([t.cos(), t.sin(), t / 6.28], dim=1)


def _figures():
    """(name, a function returning a figure) for every figure helper."""
    gammas = np.linspace(0.0, 6.0, 7)
    lams, g_of_lam, _ = theorems.theorem2(5)
    helix = _helix()
    xy = torch.rand(32, 2)
    return {
        "plots.error_curves": lambda: plots.error_curves(_curves_frame(), label="test"),
        "theorems.dominance_curves": lambda: theorems.dominance_curves(
            gammas, theorems.dominance_by_T(gammas), theory.gamma_min()
        ),
        "theorems.lambda_gamma_map": lambda: theorems.lambda_gamma_map(lams, g_of_lam),
        "synthetic_manifolds.mixed_scatter_grid": lambda: synthetic_manifolds.mixed_scatter_grid(
            {"crescents": {"original": (xy, torch.rand(32)), "mixup": (xy, torch.rand(32))}}, label="test"
        ),
        "synthetic_manifolds.helix_projections": lambda: synthetic_manifolds.helix_projections(
            {"original": (helix, "original"), "mixup": (helix * 0.9, "mixup")}, original=helix, label="test"
        ),
        "synthetic_manifolds.mix_grid": lambda: synthetic_manifolds.mix_grid(
            {(2, 2.4): helix, (4, 2.4): helix, (2, 4.0): helix, (4, 4.0): helix},
            row_key="T",
            col_key="γ",
            original=helix,
            annotate={(2, 2.4): "d = 0.1"},
            label="test",
        ),
    }


@pytest.mark.parametrize("name", list(_figures()))
def test_figures_have_labelled_axes_and_the_house_style(name):
    before = dict(matplotlib.rcParams)
    fig = _figures()[name]()
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert dict(matplotlib.rcParams) == before, "a helper left the house style on"
        axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        assert axes
        for ax in axes:
            assert ax.get_xlabel() and ax.get_ylabel(), f"{name}: an axis without a label"
        fig.canvas.draw()  # ticks and grid lines are made when drawn: they keep the style they were made in
        flat = [ax for ax in axes if ax.name != "3d"]
        for ax in flat:
            assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
            lines = ax.xaxis.get_gridlines()
            assert lines and all(line.get_visible() and line.get_alpha() == 0.3 for line in lines)
            if ax.get_legend() is not None:
                assert not ax.get_legend().get_frame_on()
    finally:
        plt.close(fig)


def test_every_function_that_makes_a_figure_draws_in_the_house_style():
    """plots sets no global style: a helper that makes a figure outside ``house_style`` would lose it."""
    bare = []
    for path in sorted(Path(plots.__file__).resolve().parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            calls = {ast.unparse(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
            if not calls & {"plt.subplots", "plt.figure", "plt.subplot_mosaic"}:
                continue
            styled = any("house_style" in ast.unparse(d) for d in node.decorator_list) or any(
                isinstance(w, ast.With) and any("house_style" in ast.unparse(i.context_expr) for i in w.items)
                for w in ast.walk(node)
            )
            if not styled:
                bare.append(f"{path.name}:{node.lineno} {node.name}")
    assert not bare, bare
