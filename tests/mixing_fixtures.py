"""Helpers shared by the ``test_mixing*.py`` files: seeded generators, the p-series, a small image batch."""

from __future__ import annotations

import pytest
import torch
from hypothesis import settings

FAST = settings(max_examples=30, deadline=None)

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

# Hyperparameters that keep every registry entry fast and valid on an (8, 3, 8, 8) batch.
HP = {"kmixup": {"k": 4}, "multimix": {"n": 12}, "local_synthetic_instances": {"num_mix": 4}}


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def p_series(t: int, gamma: float) -> torch.Tensor:
    w = torch.arange(1, t + 1, dtype=torch.float64).pow(-gamma)
    return w / w.sum()


def make_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(8, 3, 8, 8)`` from the global generator seeded with 0, and labels ``0..3`` twice."""
    torch.manual_seed(0)
    x = torch.randn(8, 3, 8, 8)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    return x, y
