"""Chapter 11 (notebook ``11_robustness``): every model of chapter 10's leaderboard (and its MultiMix runs) under
Gaussian noise, FGSM and PGD, beside MultiMix Table 4 and k-mixup Tables 6–7; k-mixup's MNIST protocol (Tables 1,
2, 7b) on MNIST-10k. The models are read from the run store's weights (:func:`zmixlib.engine.store.load_weights`), never
retrained when they are there.

May import: the engine (store, recipes, report, regime, models, train's data loading), ``chapters.peers`` (the
leaderboard's and MultiMix's matrices, whose runs these are), plots, vocab."""

from .attacks import ATTACKS, NOISE_SEED, EvalSplit, Shift, error_under, fgsm_errors, load_model, subsample, test_split
from .chapter import (
    Sweep,
    beside_paper,
    board_matrix,
    check_knobs,
    curves,
    describe,
    figure,
    glue_readings,
    headline,
    mnist_beside_paper,
    mnist_figure,
    mnist_matrix,
    mnist_table,
    peer_matrices,
    train_chapter,
)
from .evaluate import cache_path, evaluate_parallel, evaluate_runs, shifts
from .figures import PAPER_TABLES, error_vs_eps, for_runs, paper_points

__all__ = [
    "ATTACKS",
    "NOISE_SEED",
    "PAPER_TABLES",
    "Shift",
    "Sweep",
    "EvalSplit",
    "beside_paper",
    "board_matrix",
    "cache_path",
    "check_knobs",
    "curves",
    "describe",
    "error_under",
    "error_vs_eps",
    "evaluate_parallel",
    "evaluate_runs",
    "figure",
    "for_runs",
    "fgsm_errors",
    "glue_readings",
    "headline",
    "load_model",
    "mnist_beside_paper",
    "mnist_figure",
    "mnist_matrix",
    "mnist_table",
    "paper_points",
    "peer_matrices",
    "shifts",
    "subsample",
    "test_split",
    "train_chapter",
]
