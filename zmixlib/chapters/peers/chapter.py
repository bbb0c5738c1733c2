"""Chapter 10's engine sweep: the four experiments that train through the engine (the leaderboard, k-mixup's
Table 1 protocol, MultiMix and Fig. 9) trained together, then read back with their regime checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from zmixlib import regime, report
from zmixlib.recipes import RunMatrix

from .fig9 import manifold_matrices
from .kmixup_table1 import kmixup_alphas, kmixup_matrix
from .leaderboard import leaderboard_matrix
from .multimix import multimix_matrix

__all__ = ["Sweep", "train_chapter"]


@dataclass(frozen=True)
class Sweep:
    """The chapter's matrices, the runs and histories read from their records, and the regime checks."""

    alphas: dict
    board_matrix: RunMatrix
    table1_matrix: RunMatrix
    multimix_matrix: RunMatrix
    fig9_manifold_matrix: RunMatrix
    fig9_zeta_matrix: RunMatrix
    experiments: dict[str, RunMatrix]
    out: Path
    board_runs: pd.DataFrame
    board_history: pd.DataFrame
    table1_runs: pd.DataFrame
    multimix_runs: pd.DataFrame
    fig9_runs: pd.DataFrame
    fig9_zeta_runs: pd.DataFrame
    board_regime: Any
    table1_regime: Any
    multimix_regime: Any
    fig9_regime: Any


def train_chapter(P: Any) -> Sweep:
    """Builds the chapter's run matrices, trains in one sweep every run that has no record (chapters 04 and 08 train
    the shared runs) and returns a :class:`Sweep` of the matrices, the runs read back and their regime checks."""
    alphas = kmixup_alphas(P)  # Algorithm 1: the alpha that holds 1-mixup's xi, per (dataset, alpha_1, k)
    board_matrix = leaderboard_matrix(P)
    table1_matrix = kmixup_matrix(P, alphas=alphas)
    mm_matrix = multimix_matrix(P)
    fig9_manifold_matrix, fig9_zeta_matrix = manifold_matrices(P)
    experiments = {
        "leaderboard": board_matrix,
        "Table 1 protocol": table1_matrix,
        "MultiMix": mm_matrix,
        "Fig. 9 manifold": fig9_manifold_matrix,
        "Fig. 9 ζ-mixup": fig9_zeta_matrix,
    }
    fig9_baseline = regime.baseline_matrix(fig9_zeta_matrix)  # Fig. 9's regime check: ERM with the ζ-mixup recipe
    report.train([s for m in experiments.values() for s in m] + fig9_baseline, P)
    out = report.sweep_dir(P.results_dir, P.profile)
    board_runs, board_history = report.load_runs(board_matrix, out)
    table1_runs, table1_history = report.load_runs(table1_matrix, out)
    multimix_runs, multimix_history = report.load_runs(mm_matrix, out)
    fig9_runs, _ = report.load_runs(fig9_manifold_matrix, out)
    fig9_zeta_runs, _ = report.load_runs(fig9_zeta_matrix, out)
    return Sweep(
        alphas=alphas,
        board_matrix=board_matrix,
        table1_matrix=table1_matrix,
        multimix_matrix=mm_matrix,
        fig9_manifold_matrix=fig9_manifold_matrix,
        fig9_zeta_matrix=fig9_zeta_matrix,
        experiments=experiments,
        out=out,
        board_runs=board_runs,
        board_history=board_history,
        table1_runs=table1_runs,
        multimix_runs=multimix_runs,
        fig9_runs=fig9_runs,
        fig9_zeta_runs=fig9_zeta_runs,
        board_regime=regime.check(board_history),  # does ERM of the leaderboard fit its training set?
        table1_regime=regime.check(table1_history),
        multimix_regime=regime.check(multimix_history),
        fig9_regime=regime.check(report.load_runs(fig9_baseline, out)[1]),
    )
