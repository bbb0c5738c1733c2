"""What chapter 10's experiments share: ζ-mixup's γ, the papers' table sources, the run matrices' overrides, and
which models Dense MultiMix can train."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from zmixlib.engine import models
from zmixlib.engine.runspec import RunSpec
from zmixlib.protocol.recipes import RunMatrix

#: ζ-mixup's γ wherever one ζ-mixup run stands for the method (the papers' middle value; Table 8's)
ZETA_GAMMA = 2.8
#: the papers' tables (``paper_results.csv`` sources) this chapter sets beside its numbers
SOURCES = {"uci": "kmixup-table4", "table1": "kmixup-table1", "table2": "multimix-table2", "table9": "timing-table9"}


@functools.cache
def _spatial(arch: str) -> bool:
    """Whether ``arch``'s embedding is a pooled feature map (Dense MultiMix needs one)."""
    return models.build(arch, num_classes=2, in_channels=3, input_size=32).spatial


def drop_unsupported(specs: Sequence[RunSpec]) -> tuple[list[RunSpec], dict[tuple[str, str], str]]:
    """``(kept, dropped)``: the runs of ``specs`` the engine can train, and ``{(dataset, method): why}`` for the
    Dense MultiMix runs on a model whose embedding is not a pooled feature map."""
    kept, dropped = [], {}
    for s in specs:
        if s.space == "dense" and not _spatial(s.arch):
            dropped[(s.dataset, s.method)] = f"not trainable on {s.arch}: its embedding is not a pooled feature map"
            continue
        kept.append(s)
    return kept, dropped


def overrides(params: Any, **extra: Any) -> dict[str, Any]:
    """The notebook's knobs every engine-trained matrix of the chapter takes, plus ``extra``."""
    return {
        "seeds": params.seeds,
        "epochs": params.epochs,
        "train_subset": params.train_subset,
        "device": params.device,
        "data_root": params.data_root,
        **extra,
    }


def matrix(params: Any, specs: Sequence[RunSpec], **changes: Any) -> RunMatrix:
    """``specs`` as a :class:`~zmixlib.protocol.recipes.RunMatrix` of section ``peers`` for ``params.profile``."""
    return RunMatrix(specs, section="peers", profile=params.profile, overrides=changes)
