"""Notebook ``10_peers`` cell by cell: the chapter's engine sweep — the four experiments that train through the
engine (the leaderboard, k-mixup's Table 1 protocol, MultiMix and Fig. 9) trained together, then read back with
their regime checks — and the cells that show its tables, figure and readings. Each function is given the
notebook's resolved parameters ``P`` (:func:`zmixlib.protocol.config.setup`); it displays what the cell shows and returns
what later cells use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from zmixlib.chapters.timing import lsi_timing
from zmixlib.core import util as _util
from zmixlib.protocol import regime
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.tables import paper, report
from zmixlib.tables.report import show

from .fig9 import fig9, fig9_frame, fig9_reading, manifold_matrices
from .kmixup_table1 import kmixup_alphas, kmixup_matrix, kmixup_table1
from .kmixup_uci_tables import uci_cost, uci_reading
from .leaderboard import board_reading, engine_cost, leaderboard_matrix
from .lsi import lsi_reading
from .multimix import multimix_matrix, multimix_reading

__all__ = ["Sweep", "display_options", "train_chapter", "show_table1", "show_fig9", "time_lsi", "glue_readings"]


def display_options() -> None:
    """Sets pandas' display width, column count and column width for the chapter's wide tables; returns nothing."""
    pd.set_option("display.width", 220)
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.max_colwidth", 120)


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


def show_table1(sweep: Sweep, P: Any) -> pd.DataFrame:
    """Displays the α that Algorithm 1 chose, the Table 1 protocol's regime check and our Table 1 protocol
    (:func:`kmixup_table1`); returns the k-mixup paper's Table 1 (test error, %) with its four method columns."""
    alphas = {f"{d}, α₁ = {a:g}, k = {k}": v for (d, a, k), v in sweep.alphas.items()}
    show(pd.Series(alphas, name="α_k (Algorithm 1)").to_frame())
    show(sweep.table1_regime)
    table1, _ = kmixup_table1(sweep.table1_runs, params=P, alphas=sweep.alphas)
    show(table1)
    table1_paper = paper.paper_table("kmixup-table1").pivot_table(
        index=["dataset", "arch"], columns="method", values="value", aggfunc="first"
    )
    return table1_paper[["ERM", "1-mixup (xi opt.)", "k-mixup (k, xi opt.)", "16-mixup (xi opt.)"]]


def show_fig9(sweep: Sweep, P: Any) -> pd.DataFrame:
    """Displays Fig. 9's table (accuracy per dataset, rounded) and draws the figure; returns :func:`fig9_frame`."""
    frame = fig9_frame(sweep.fig9_runs, sweep.fig9_zeta_runs)
    show(frame.drop(columns="diffs").round(2).set_index("dataset"))
    fig9(frame, label=report.provenance(sweep.fig9_runs, P.profile))
    return frame


def time_lsi(P: Any) -> pd.DataFrame:
    """Returns Table 9's LSI timing (:func:`zmixlib.chapters.timing.lsi_timing`) on the profile's batch, rounds,
    device and threads."""
    with _util.torch_threads(P.threads):
        return lsi_timing(P.lsi_batch, rounds=P.lsi_rounds, device=P.torch_device)


def glue_readings(
    sweep: Sweep, P: Any, *, uci: Any, multimix_pairs: pd.DataFrame, f9: pd.DataFrame, lsi: pd.DataFrame
) -> None:
    """Glues the reading's numbers (``reading_board``, ``reading_uci``, ``uci_cost``, ``engine_cost``,
    ``reading_multimix``, ``reading_fig9``, ``reading_lsi``) into the page's text; returns nothing."""
    from myst_nb import glue  # only where a notebook shows the result

    board = report.guarded(sweep.board_regime, board_reading(sweep.board_runs, sweep.board_history, profile=P.profile))
    glue("reading_board", board, display=False)
    glue("reading_uci", uci_reading(uci), display=False)
    glue("uci_cost", uci_cost(uci, workers=P.workers), display=False)
    runs = (sweep.board_runs, sweep.table1_runs, sweep.multimix_runs, sweep.fig9_runs, sweep.fig9_zeta_runs)
    glue("engine_cost", engine_cost(*runs), display=False)
    glue("reading_multimix", multimix_reading(multimix_pairs), display=False)
    glue("reading_fig9", fig9_reading(f9, profile=P.profile), display=False)
    glue("reading_lsi", lsi_reading(lsi), display=False)
