"""zmixlib — the library behind the zmix book: ζ-mixup and its peers, theory, experiments.

Papers: Abhishek, Brown, Hamarneh. *Multi-sample ζ-mixup: richer, more realistic synthetic samples
from a p-series interpolant.* J Big Data 11:43 (2024); *ζ-mixup: richer, more realistic mixing of
multiple images*, MIDL 2023.

``from zmixlib import zeta_mixup`` works; submodules (``zmixlib.mixing``, ``zmixlib.core.theory``, ...) are
imported on first use so that ``import zmixlib`` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> submodule that defines it (re-exported lazily)
_EXPORTS = {
    "gamma_min": "core.theory",
    "zeta": "core.theory",
    "gamma_for_lambda": "core.theory",
    "lambda_for_gamma": "core.theory",
    "zeta_series_weights": "core.theory",
    "zeta_mixup": "mixing",
    "zeta_weights": "mixing",
    "apply_weights": "mixing",
    "mixup": "mixing",
    "dirichlet_mixup": "mixing",
    "cutmix": "mixing",
    "cutmix_zeta": "mixing",
    "kmixup": "mixing",
    "kmixup_alpha_for_xi": "mixing",
    "multimix": "mixing",
    "dense_multimix": "mixing",
    "local_synthetic_instances": "mixing",
    "soft_cross_entropy": "engine.metrics",
    "Mixer": "mixing",
    "MIXERS": "mixing",
}
_SUBMODULES = {"core", "mixing", "data", "analysis", "engine", "protocol", "tables", "bench", "chapters", "site", "cli"}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"zmixlib.{_EXPORTS[name]}"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"zmixlib.{name}")
    raise AttributeError(f"module 'zmixlib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)
