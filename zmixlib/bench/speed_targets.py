"""The speed targets that notebook 09 and ``make bench`` check: one table, :data:`TARGETS`.

They are benchmark figures, not timed tests: a target missed on a shared or slow machine is reported with the
measured ratio (and, in chapter 09, why), never failed. Each row says what is measured, the goal and where the
goal comes from:

============================  ======  ==========================================================  ==========
target                        goal    what is measured                                            device
============================  ======  ==========================================================  ==========
``zeta_vs_limit``             ≤ 1.5   ζ-mixup time / its hardware limit (max of copy, roofline)   any
``torchvision_vs_zeta``       ≥ 3     torchvision ``v2.MixUp`` time / ζ-mixup time                 any
``timm_vs_zeta``              ≥ 3     timm ``Mixup`` time (minus its input clone) / ζ-mixup time   any
``authors_weights_vs_ours``   ≥ 3     the authors' ζ-weights (B = 512) time / ours                 any
``train_overhead_pct``        ≤ 3     ζ-mixup's training-step overhead over ERM, %                 any
``device_vs_loader``          ≥ 1.3   device-resident / DataLoader training images/s               CPU
``two_runs_vs_one``           ≥ 1.5   2 runs per device / 1 run, total training images/s           CPU
``best_vs_baseline``          ≥ 3     best throughput cell / DataLoader + eager + one run          CUDA
============================  ======  ==========================================================  ==========

The first five are the timing harness's goals on a [32, 3, 224, 224] fp32 batch (Table 9's setting), measured
by :mod:`zmixlib.chapters.timing`; the last three the training engine's throughput goals, measured by
:func:`zmixlib.bench.throughput.measure`. :func:`targets` evaluates whichever of them the given frames measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

__all__ = ["Target", "TARGETS", "TIMM_MIXUP", "TORCHVISION_MIXUP", "targets"]

#: Row names of Table 9's frame that the targets read
TIMM_MIXUP = "timm Mixup"
TORCHVISION_MIXUP = "torchvision MixUp"

_HARNESS = "the timing harness's goal for Table 9's setting ([32, 3, 224, 224] fp32, side by side in one run)"
_ENGINE = "the training engine's throughput goal (ResNet-18 / offline models on Fashion-MNIST, paper recipe)"


@dataclass(frozen=True)
class Target:
    """One speed target: ``measured op goal`` is met (``op`` is ``"<="`` or ``">="``)."""

    goal: float
    op: str
    what: str
    source: str
    device: str | None = None  # the device type it applies to; None: any

    def met(self, value: float) -> bool:
        """Whether ``value`` meets the goal."""
        return bool(value <= self.goal if self.op == "<=" else value >= self.goal)


#: Every speed target, by name (see the module's table).
TARGETS: dict[str, Target] = {
    "zeta_vs_limit": Target(1.5, "<=", "ζ-mixup time / its hardware limit (max of copy, roofline)", _HARNESS),
    "torchvision_vs_zeta": Target(3.0, ">=", "torchvision v2.MixUp time / ζ-mixup time", _HARNESS),
    "timm_vs_zeta": Target(3.0, ">=", "timm Mixup time (minus its input clone) / ζ-mixup time", _HARNESS),
    "authors_weights_vs_ours": Target(3.0, ">=", "authors' ζ-weights (B=512) time / ours", _HARNESS),
    "train_overhead_pct": Target(3.0, "<=", "ζ-mixup training-step overhead vs ERM, %", _HARNESS),
    "device_vs_loader": Target(1.3, ">=", "device-resident / DataLoader images/s (eager, one run)", _ENGINE, "cpu"),
    "two_runs_vs_one": Target(
        1.5, ">=", "2 runs per device / 1 run, total images/s (eager, best data path)", _ENGINE, "cpu"
    ),
    "best_vs_baseline": Target(3.0, ">=", "best cell / DataLoader + eager + one run, images/s", _ENGINE, "cuda"),
}

_BASE = ("loader", False, 1)


def _timing_figures(table, weights, training) -> dict[str, float]:
    measured: dict[str, float] = {}
    if table is not None:
        measured["zeta_vs_limit"] = table.loc["zeta_mixup", "ratio_to_limit"]
        if TORCHVISION_MIXUP in table.index:
            measured["torchvision_vs_zeta"] = table.loc[TORCHVISION_MIXUP, "ratio_to_reference"]
        if TIMM_MIXUP in table.index:
            measured["timm_vs_zeta"] = table.loc[TIMM_MIXUP, "ratio_to_reference"]
    if weights is not None and len(weights):
        b = 512 if 512 in weights.index else max(weights.index)
        measured["authors_weights_vs_ours"] = weights.loc[b, "speedup"]
    if training is not None and "zeta_mixup" in training.index:
        measured["train_overhead_pct"] = training.loc["zeta_mixup", "overhead_pct"]
    return measured


def _throughput_figures(table) -> dict[str, float]:
    device = torch.device(table.attrs.get("device", "cpu")).type
    idx = set(table.index)
    measured: dict[str, float] = {}
    if device == "cpu" and {_BASE, ("device", False, 1)} <= idx:
        measured["device_vs_loader"] = table.loc[("device", False, 1), "ratio_to_baseline"]
    paths = dict.fromkeys(p for p, _, _ in idx)
    gains = [table.loc[(p, False, 2), "packing_gain"] for p in paths if {(p, False, 1), (p, False, 2)} <= idx]
    if device == "cpu" and gains:
        measured["two_runs_vs_one"] = max(gains)
    if device == "cuda" and _BASE in idx:
        measured["best_vs_baseline"] = table["ratio_to_baseline"].max()
    return measured


def targets(table=None, weights=None, training=None, throughput=None) -> pd.DataFrame:
    """The targets of :data:`TARGETS` that the given frames measure, against their goals.

    Args:
        table: Table 9's frame (``zmixlib.chapters.timing.table9``); weights: the ζ-weight comparison;
            training: the training-step overhead; throughput: :func:`zmixlib.bench.throughput.measure`'s frame
            (its targets apply to the device it was measured on).

    Returns:
        frame indexed by target name: ``measured``, ``goal`` (e.g. ``"<= 1.5"``), ``met``, ``description``.
    """
    measured = _timing_figures(table, weights, training)
    if throughput is not None:
        measured.update(_throughput_figures(throughput))
    rows = []
    for name, value in measured.items():
        t = TARGETS[name]
        rows.append(
            {
                "target": name,
                "measured": float(value),
                "goal": f"{t.op} {t.goal:g}",
                "met": t.met(value),
                "description": t.what,
            }
        )
    cols = ["measured", "goal", "met", "description"]
    return pd.DataFrame(rows).set_index("target") if rows else pd.DataFrame(columns=cols)
