"""Each mixer's hyperparameters, and their one validator — torch-free, so a ``RunSpec``
is checked by the same code as a :class:`~zmixlib.mixing.Mixer` (``tests/test_integrity.py`` keeps
:data:`MIXER_HPARAMS` equal to the keyword parameters of :data:`zmixlib.mixing.MIXERS`' functions).

A method (:data:`zmixlib.core.vocab.METHODS`) names its mixer; a mixer takes the hyperparameters listed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from zmixlib.core.checks import check_choice, check_float, check_int, check_range

__all__ = ["MIXER_HPARAMS", "check_hparams", "gamma_range", "alpha_range"]

#: mixer -> its keyword hyperparameters (a run may set only its method's mixer's)
MIXER_HPARAMS: dict[str, tuple[str, ...]] = {
    "erm": (),
    "mixup": ("alpha",),
    "zeta_mixup": ("gamma", "num_mix"),
    "dirichlet_mixup": ("alpha",),
    "cutmix": ("alpha", "prob"),
    "cutmix_zeta": ("mode", "prob", "alpha", "gamma", "num_mix"),
    "kmixup": ("k", "alpha", "lam_mode", "metric"),
    "local_synthetic_instances": ("p_range", "num_mix", "num_synthetic"),
    "multimix": ("n", "alpha", "prob", "mixup_alpha"),
}


def gamma_range(gamma: Any) -> tuple[float, float]:
    """``gamma`` as a (low, high) range; a number ``g`` becomes ``(g, g)``. ``γ = ∞`` (a number) is the identity,
    the limit of the p-series; a range needs finite ends (``U[low, ∞]`` is no distribution)."""
    if isinstance(gamma, (tuple, list)):
        lo, hi = check_range("gamma", gamma, min=0.0)
        if math.isinf(hi):
            raise ValueError(f"gamma range must have finite ends (gamma = inf alone is the identity), got {gamma!r}")
        return lo, hi
    g = check_float("gamma", gamma, min=0.0)
    return g, g


def alpha_range(alpha: Any, name: str = "alpha") -> tuple[float, float]:
    """A Beta / Dirichlet concentration > 0 as a (low, high) range; a number ``a`` becomes ``(a, a)``."""
    if isinstance(alpha, (tuple, list)):
        lo, hi = check_range(name, alpha)
        if lo <= 0:
            raise ValueError(f"{name} must be > 0, got {alpha!r}")
        return lo, hi
    a = check_float(name, alpha, min=0.0, min_open=True)
    return a, a


def _finite_alpha(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        lo, hi = alpha_range(value, name)
        if math.isinf(hi):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return value

    return check


def _optional_int(name: str, min: int) -> Callable[[Any], Any]:
    return lambda value: value if value is None else check_int(name, value, min=min)


def _p_range(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return check_range("p_range", value, min=0.0)
    return check_float("p_range", value, min=0.0)


#: hyperparameter -> its check (the mixing functions check again when called, against the batch: ``num_mix <= B``,
#: image shapes); ``alpha`` of ``dirichlet_mixup`` is a number only
_HP_CHECKS: dict[str, Callable[[Any], Any]] = {
    "gamma": gamma_range,
    "alpha": _finite_alpha("alpha"),
    "mixup_alpha": _finite_alpha("mixup_alpha"),
    "num_mix": _optional_int("num_mix", 2),
    "num_synthetic": _optional_int("num_synthetic", 1),
    "prob": lambda v: check_float("prob", v, min=0.0, max=1.0),
    "mode": lambda v: check_choice("mode", v, ("switch", "compose")),
    "k": lambda v: check_int("k", v, min=1),
    "n": lambda v: check_int("n", v, min=1),
    "lam_mode": lambda v: check_choice("lam_mode", v, ("batch", "subset")),
    "metric": lambda v: check_choice("metric", v, ("euclidean", "sqeuclidean")),
    "p_range": _p_range,
}


def check_hparams(name: str, hp: dict[str, Any]) -> None:
    """Check every hyperparameter of mixer ``name`` at once — every branch's, whatever a coin would pick
    (``cutmix_zeta``'s ``alpha`` and ``gamma`` both): ``ValueError``/``TypeError`` naming the parameter and value.
    Called by :class:`zmixlib.mixing.Mixer` when it is built and by ``zmixlib.engine.runspec.RunSpec``."""
    check_choice("mixer", name, MIXER_HPARAMS)
    for key, value in hp.items():
        if name == "dirichlet_mixup" and key == "alpha":
            check_float("alpha", value, min=0.0, min_open=True)
            if math.isinf(value):
                raise ValueError(f"alpha must be finite, got {value!r}")
        elif key in _HP_CHECKS:
            _HP_CHECKS[key](value)
