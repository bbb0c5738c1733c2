"""Chapter 10's knobs, checked in the notebook's setup cell."""

from __future__ import annotations

from typing import Any

from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.core.vocab import METHOD_NAMES

from .fig9 import manifold_matrices
from .kmixup_table1 import kmixup_matrix
from .kmixup_uci import UCI
from .leaderboard import leaderboard_matrix
from .multimix import multimix_matrix

__all__ = ["check_knobs"]


def _names(name: str, value: Any) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"{name} must be a non-empty list, got {value!r}")
    return list(value)


def check_knobs(params: Any) -> None:
    """Fail in the setup cell on a knob this chapter cannot run, naming the knob, the value and what is allowed
    (dataset names and RunSpec fields are checked by :func:`zmixlib.protocol.recipes.resolve` when the matrices resolve)."""
    for i, m in enumerate(_names("methods", params.methods)):
        check_choice(f"methods[{i}]", m, METHOD_NAMES)
    for i, d in enumerate(_names("uci_datasets", params.uci_datasets)):
        check_choice(f"uci_datasets[{i}]", d, UCI)
    for i, k in enumerate(_names("uci_ks", params.uci_ks)):
        check_int(f"uci_ks[{i}]", k, min=1)
    for i, a in enumerate(_names("uci_alphas", params.uci_alphas)):
        check_float(f"uci_alphas[{i}]", a, min=0.0, min_open=True)
    check_int("uci_trials", params.uci_trials, min=1)
    check_int("uci_epochs", params.uci_epochs, min=1)
    for i, k in enumerate(_names("kmixup_ks", params.kmixup_ks)):
        check_int(f"kmixup_ks[{i}]", k, min=1)
    for i, a in enumerate(_names("kmixup_alphas", params.kmixup_alphas)):
        check_float(f"kmixup_alphas[{i}]", a, min=0.0, min_open=True)
    for knob in ("kmixup_datasets", "multimix_datasets", "manifold_datasets"):
        _names(knob, getattr(params, knob))
    shape = _names("lsi_batch", params.lsi_batch)
    if len(shape) != 4:
        raise ValueError(f"lsi_batch must be [B, C, H, W], got {params.lsi_batch!r}")
    check_int("lsi_batch[0]", shape[0], min=2)
    for i in (1, 2, 3):
        check_int(f"lsi_batch[{i}]", shape[i], min=1)
    check_int("lsi_rounds", params.lsi_rounds, min=1)
    for build in (leaderboard_matrix, kmixup_matrix, multimix_matrix, manifold_matrices):
        build(params, alphas={}) if build is kmixup_matrix else build(params)
