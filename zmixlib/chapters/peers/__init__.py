"""Chapter 10's protocol: ζ-mixup beside the methods it is compared with.

Five experiments, each through the same engine where it trains an image model:

1. **One leaderboard** (:mod:`.leaderboard`) — every method of :data:`zmixlib.core.vocab.METHODS` on the same data,
   model, schedule and seeds (section ``peers``, protocol ``natural``): a run that another chapter trains
   identically (ERM, mixup, ζ-mixup and CutMix in chapter 04, Dirichlet mixup in 08) has the same spec, hence the
   same record, and is read, not trained twice. Accuracy, training time per epoch relative to ERM (from the
   records), and the seed-paired difference to ζ-mixup.
2. **k-mixup's own evidence** (Greenewald et al.) — its UCI table (Table 4: fully connected networks, 20 random
   trials per cell) on Iris and Breast Cancer (:mod:`.kmixup_uci`, :mod:`.kmixup_uci_tables`), the 20 trials of a
   cell trained as one ensemble of MLPs (:mod:`zmixlib.chapters.peers.ensemble`, exactly 20 separate trainings); and its Table 1
   protocol (α chosen by Algorithm 1 to keep 1-mixup's root-mean-squared perturbation ξ) on an image set
   (:mod:`.kmixup_table1`).
3. **MultiMix and Dense MultiMix** (Venkataramanan et al.) as their paper trains them, beside its Table 2
   (:mod:`.multimix`).
4. **Manifold mixup vs ζ-mixup (J Big Data Fig. 9)** — manifold mixup (Verma et al.) trained 10× the epochs
   (section ``manifold``), ζ-mixup (γ = 2.8) with each dataset's own recipe (:mod:`.fig9`).
5. **Local synthetic instances** — Table 9's timing claim (≈ 110× slower than ζ-mixup), timed side by side in
   one run by chapter 09's harness (:func:`zmixlib.chapters.timing.lsi_timing`), read here (:mod:`.lsi`).
"""

from ._shared import SOURCES, ZETA_GAMMA
from .chapter import Sweep, display_options, glue_readings, show_fig9, show_table1, time_lsi, train_chapter
from .fig9 import cost_ratio, fig9, fig9_frame, fig9_reading, manifold_matrices
from .kmixup_table1 import k_of, kmixup_alphas, kmixup_matrix, kmixup_table1
from .kmixup_uci import UCI, UCI_RECIPE, UCISetup, uci_cell, uci_cells, uci_run
from .kmixup_uci_tables import (
    uci_consistent_test_sizes,
    uci_cost,
    uci_diffs,
    uci_reading,
    uci_table,
    uci_xi_by_scaling,
)
from .knobs import check_knobs
from .leaderboard import board_reading, engine_cost, leaderboard, leaderboard_matrix, run_summary
from .lsi import lsi_reading
from .multimix import MULTIMIX_METHODS, TABLE2_ROWS, multimix_matrix, multimix_reading, table2

__all__ = [
    "ZETA_GAMMA",
    "SOURCES",
    "check_knobs",
    "Sweep",
    "train_chapter",
    "display_options",
    "show_table1",
    "show_fig9",
    "time_lsi",
    "glue_readings",
    "leaderboard_matrix",
    "leaderboard",
    "board_reading",
    "run_summary",
    "engine_cost",
    "kmixup_alphas",
    "kmixup_matrix",
    "kmixup_table1",
    "k_of",
    "UCISetup",
    "UCI",
    "UCI_RECIPE",
    "uci_cells",
    "uci_cell",
    "uci_run",
    "uci_table",
    "uci_diffs",
    "uci_reading",
    "uci_cost",
    "uci_xi_by_scaling",
    "uci_consistent_test_sizes",
    "MULTIMIX_METHODS",
    "TABLE2_ROWS",
    "multimix_matrix",
    "table2",
    "multimix_reading",
    "manifold_matrices",
    "fig9_frame",
    "fig9",
    "cost_ratio",
    "fig9_reading",
    "lsi_reading",
]
