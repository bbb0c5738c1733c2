"""The registry of mixing methods (``MIXERS``) and ``Mixer``, a method bound to checked hyperparameters.

``Mixer`` is what the engine (``zmixlib.engine.train``) and a DataLoader's ``collate_fn`` call; every hyperparameter is
checked when it is built, so a bad value fails before the first batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from zmixlib.core.checks import check_int
from zmixlib.core.hparams import check_hparams
from zmixlib.mixing._apply import _prepare
from zmixlib.mixing.embedding import multimix
from zmixlib.mixing.lsi import local_synthetic_instances
from zmixlib.mixing.pairwise import cutmix, cutmix_zeta, dirichlet_mixup, mixup
from zmixlib.mixing.transport import kmixup
from zmixlib.mixing.zeta import zeta_mixup

__all__ = ["erm", "MIXERS", "check_hparams", "Mixer"]


def erm(
    x: Tensor, y: Tensor, num_classes: int | None = None, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """No mixing (empirical risk minimisation): returns ``x`` itself (not a copy) and one-hot soft labels ``(B, K)``.

    ``generator`` is accepted for a uniform interface and unused. Used in notebooks 04–08.
    """
    _, ys = _prepare(x, y, num_classes)
    return x, ys


#: name → mixing function ``f(x, y, *, num_classes, generator, **hyperparameters) -> (x_mix, y_mix)``.
MIXERS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {
    "erm": erm,
    "mixup": mixup,
    "zeta_mixup": zeta_mixup,
    "dirichlet_mixup": dirichlet_mixup,
    "cutmix": cutmix,
    "cutmix_zeta": cutmix_zeta,
    "kmixup": kmixup,
    "local_synthetic_instances": local_synthetic_instances,
    "multimix": multimix,
}


def _hyperparameters(fn: Callable[..., Any]) -> dict[str, Any]:
    """The method's hyperparameters and their defaults: every parameter with a default but ``num_classes`` and
    ``generator`` (``zeta_mixup``'s ``gamma`` may also be given by position, as in the official code)."""
    sig = inspect.signature(fn)
    return {
        name: p.default
        for name, p in sig.parameters.items()
        if p.default is not inspect.Parameter.empty and name not in ("num_classes", "generator")
    }


class Mixer:
    """A mixing method bound to its hyperparameters, for training loops and DataLoaders.

    >>> mixer = Mixer("zeta_mixup", num_classes=10, gamma=2.4)
    >>> x_mix, y_mix = mixer(x, y)                                   # in a training loop
    >>> loader = DataLoader(ds, batch_size=32, collate_fn=mixer.collate_fn)   # or at collate time

    As a ``collate_fn`` with ``num_workers > 0``, every worker gets a copy of ``generator`` in the
    same state, so workers would repeat each other's draws: pass ``generator=None`` there (the
    DataLoader seeds each worker's global generator) or mix in the main process.

    Args:
        name: a key of ``MIXERS`` (``ValueError`` listing the known names otherwise).
        num_classes: ``K`` for index labels.
        generator: randomness for every call.
        **hp: the method's keyword hyperparameters (``TypeError`` naming an unknown one); all of them are
            checked here, at construction (:func:`check_hparams`: ``ValueError``/``TypeError`` naming the value).

    Used by ``zmixlib.engine.train`` (notebooks 04–08, 10). For torchvision / timm conventions (the ``((x, y))`` tuple,
    apply and switch probabilities, label smoothing, uint8 collate) use :class:`~zmixlib.mixing.ZetaMix`.
    """

    def __init__(
        self, name: str, *, num_classes: int | None = None, generator: torch.Generator | None = None, **hp: Any
    ):
        if name not in MIXERS:
            raise ValueError(f"unknown mixer {name!r}; known mixers: {sorted(MIXERS)}")
        allowed = _hyperparameters(MIXERS[name])
        for key in hp:
            if key not in allowed:
                raise TypeError(f"{name} got an unexpected hyperparameter {key!r}; allowed: {sorted(allowed)}")
        if num_classes is not None:
            num_classes = check_int("num_classes", num_classes, min=1)
        check_hparams(name, {**allowed, **hp})  # once, here: every branch's, not only the one a coin picks
        self.name = name
        self.fn = MIXERS[name]
        self.num_classes = num_classes
        self.generator = generator
        self.hparams = {**allowed, **hp}

    def __call__(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return self.fn(x, y, num_classes=self.num_classes, generator=self.generator, **self.hparams)

    def collate(self, batch: Sequence[Any]) -> tuple[Tensor, Tensor]:
        """Stack a list of ``(x, y)`` samples (``default_collate``), then mix: use as ``collate_fn``."""
        from torch.utils.data import default_collate

        x, y = default_collate(batch)
        return self(x, y)

    @property
    def collate_fn(self) -> Callable[[Sequence[Any]], tuple[Tensor, Tensor]]:
        return self.collate

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        return f"Mixer({self.name!r}, num_classes={self.num_classes}{', ' + hp if hp else ''})"
