"""Chapter 09's protocol (notebook ``09_timing``): Table 9 and the costs of mixing, measured on this machine.

Built on the timing harness :mod:`zmixlib.bench` (interleaved side-by-side rounds, ratios per round, the speed
targets :data:`zmixlib.bench.TARGETS`):

* :mod:`~zmixlib.chapters.timing.table9` — :func:`table9` (every mixing method on one batch, with ζ-mixup's
  hardware limit, beside the paper's GTX TITAN X times), :func:`lsi_timing` (Table 9's claim for local
  synthetic instances, read in chapter 10), the paper's training times, :func:`target_notes`;
* :mod:`~zmixlib.chapters.timing.costs` — :func:`weights_comparison` (ζ-weights, ours vs the authors'),
  :func:`scaling` (growth with batch size and resolution), :func:`training_overhead` (one SGD step vs ERM);
* :mod:`~zmixlib.chapters.timing.projection` — :func:`project`: the measured training throughput
  (:func:`zmixlib.bench.throughput.measure`) turned into the wall time of each paper table;
* :mod:`~zmixlib.chapters.timing.figures` — the chapter's figures;
* :mod:`~zmixlib.chapters.timing.chapter` — the notebook's cells, one function each (:func:`run_table9`, ...).
"""

from __future__ import annotations

from .chapter import (
    draw_table9,
    here,
    run_scaling,
    run_table9,
    run_throughput,
    run_training,
    run_weights,
    setup_machine,
    show_projection,
    show_targets,
)
from .costs import scaling, training_overhead, weights_comparison
from .figures import overhead_bars, timing_bars, timing_growth, timing_growth_grid
from .projection import TRAIN_SIZES, forward_flops, project
from .table9 import (
    LSI_METHODS,
    lsi_timing,
    paper_table9,
    paper_training_overhead,
    paper_training_times,
    parse_duration,
    table9,
    table9_candidates,
    table9_caption,
    table9_view,
    target_notes,
    training_caption,
)

__all__ = [
    "draw_table9",
    "here",
    "run_scaling",
    "run_table9",
    "run_throughput",
    "run_training",
    "run_weights",
    "setup_machine",
    "show_projection",
    "show_targets",
    "LSI_METHODS",
    "TRAIN_SIZES",
    "forward_flops",
    "lsi_timing",
    "overhead_bars",
    "paper_table9",
    "paper_training_overhead",
    "paper_training_times",
    "parse_duration",
    "project",
    "scaling",
    "table9",
    "table9_candidates",
    "table9_caption",
    "table9_view",
    "training_caption",
    "target_notes",
    "timing_bars",
    "timing_growth",
    "timing_growth_grid",
    "training_overhead",
    "weights_comparison",
]
