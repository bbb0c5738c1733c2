"""The timing harness: timers, the speed targets, and training throughput.

* :mod:`~zmixlib.bench.harness` — :func:`compare` (candidates side by side in interleaved, rotated rounds, ratios
  taken per round, with ζ-mixup's copy/roofline limit), :func:`time_fn`, :func:`best_time`, :func:`quantile`,
  :func:`machine_info`, :func:`machine_text`, :func:`load_warning`, :func:`dtype_supported`;
* :mod:`~zmixlib.bench.speed_targets` — :data:`TARGETS`, the one table of speed targets, and :func:`targets`;
* :mod:`zmixlib.bench.throughput` — training images/s of the engine's own step in packed worker processes
  (imported on its own: it loads the training engine).

The protocols built on it are chapter 09's (:mod:`zmixlib.chapters.timing`); the command is
``python -m zmixlib bench`` (:func:`zmixlib.cli.bench_main`).
"""

from __future__ import annotations

from .harness import (
    COPY,
    GEMM,
    MATMUL,
    best_time,
    compare,
    dtype_supported,
    load_warning,
    machine_info,
    machine_text,
    quantile,
    time_fn,
)
from .speed_targets import TARGETS, TIMM_MIXUP, TORCHVISION_MIXUP, Target, targets

__all__ = [
    "COPY",
    "GEMM",
    "MATMUL",
    "TARGETS",
    "TIMM_MIXUP",
    "TORCHVISION_MIXUP",
    "Target",
    "best_time",
    "compare",
    "dtype_supported",
    "load_warning",
    "machine_info",
    "machine_text",
    "quantile",
    "targets",
    "time_fn",
]
