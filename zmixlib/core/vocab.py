"""The one vocabulary: every training method's names, colour, paper hyperparameters and space, and the
one formatter for γ and for run labels.

Every other module reads this table — the engine (which methods exist, where they mix), recipes (the
papers' default hyperparameters), the paper store (how ``paper_results.csv`` spells a method), tables
and figures (display name, colour, order). Nothing parses a label back: order and identity come from
the structured values (:func:`sort_key`).

The mixing *functions* live in :mod:`zmixlib.mixing` (``MIXERS[method.mixer]``); this module names them
and imports nothing of the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from zmixlib.core.theory import GAMMA_MIN

__all__ = [
    "Method",
    "METHODS",
    "METHOD_NAMES",
    "MULTIMIX_HPARAMS",
    "SPACES",
    "method",
    "from_paper",
    "display_name",
    "color",
    "gamma_text",
    "method_label",
    "run_label",
    "sort_key",
    "Arch",
    "ARCHS",
    "arch_paper_name",
]

#: Where a method mixes: the input batch, the pooled embedding, a random eligible block, or every position of the
#: embedding before its global average pooling (Dense MultiMix).
SPACES = ("input", "embedding", "manifold", "dense")


@dataclass(frozen=True)
class Method:
    """One training method.

    Attributes:
        name: the code's name (``RunSpec.method``, notebook parameters, CLI).
        display: the name printed in tables and legends.
        paper: how ``paper_results.csv`` (and the papers' tables) spell it.
        color: its colour on every figure.
        hparams: the papers' default hyperparameters (``gamma``, ``alpha``, …).
        space: where it mixes (:data:`SPACES`).
        mixer: the :data:`zmixlib.mixing.MIXERS` operator it applies (manifold mixup applies ``mixup``).
    """

    name: str
    display: str
    paper: str
    color: str
    hparams: dict[str, Any] = field(default_factory=dict)
    space: str = "input"
    mixer: str = ""

    def __post_init__(self) -> None:
        if not self.mixer:
            object.__setattr__(self, "mixer", self.name)


#: MultiMix's and Dense MultiMix's hyperparameters as MultiMix (Venkataramanan et al., §4.1) trains them.
MULTIMIX_HPARAMS: dict[str, Any] = {"n": 1000, "alpha": (0.5, 2.0), "prob": 0.5, "mixup_alpha": 2.0}

#: Every method the engine trains, in the order tables list them.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("erm", "ERM", "ERM", "#4d4d4d"),
        Method("mixup", "mixup", "mixup", "#1f77b4", {"alpha": 1.0}),
        Method("zeta_mixup", "ζ-mixup", "zeta-mixup", "#d62728", {"gamma": 2.8}),
        Method("cutmix", "CutMix", "CutMix", "#2ca02c", {"alpha": 1.0}),  # recipes add prob 0.5 (Table 5)
        # CutMix + ζ-mixup is not defined by the papers: our default reading switches per mini-batch (CutMix with
        # probability 0.5, else ζ-mixup); the other composes them (CutMix, then ζ-mixup of its output)
        Method(
            "cutmix_zeta",
            "CutMix + ζ-mixup",
            "CutMix+zeta-mixup",
            "#9467bd",
            {"alpha": 1.0, "gamma": (GAMMA_MIN, 4.0), "mode": "switch", "prob": 0.5},
        ),
        Method(
            "cutmix_zeta_compose",
            "CutMix then ζ-mixup",
            "CutMix then zeta-mixup (compose)",
            "#c5b0d5",
            {"alpha": 1.0, "gamma": (GAMMA_MIN, 4.0), "mode": "compose"},
            mixer="cutmix_zeta",
        ),
        Method("dirichlet_mixup", "Dirichlet mixup", "Dirichlet(1) weights, T=m", "#8c564b", {"alpha": 1.0}),
        Method("kmixup", "k-mixup", "k-mixup (k, xi opt.)", "#e377c2"),
        # MultiMix's protocol (Venkataramanan et al. §4.1, after AlignMixup): n = 1000 examples per batch,
        # α ~ U[0.5, 2]; MultiMix on a mini-batch with probability 0.5, else input mixup with α = 2
        Method("multimix", "MultiMix", "MultiMix", "#17becf", dict(MULTIMIX_HPARAMS), space="embedding"),
        # Dense MultiMix applies MultiMix's sampling at every spatial position (zmixlib.mixing.dense_multimix; the
        # engine's "dense" space); its hyperparameters are MultiMix's
        Method(
            "dense_multimix",
            "Dense MultiMix",
            "Dense MultiMix",
            "#9edae5",
            dict(MULTIMIX_HPARAMS),
            space="dense",
            mixer="multimix",
        ),
        Method("manifold_mixup", "manifold mixup", "manifold mixup", "#bcbd22", {"alpha": 2.0}, "manifold", "mixup"),
        Method("local_synthetic_instances", "local synthetic instances", "local-synthetic-instances", "#7f7f7f"),
    )
}
#: The engine's method names, in table order.
METHOD_NAMES = tuple(METHODS)
#: Non-training rows that figures also colour (the un-mixed data).
_EXTRA_COLORS = {"original": "#4d4d4d"}
_BY_PAPER = {m.paper: m for m in METHODS.values()}
_BY_DISPLAY = {m.display: m for m in METHODS.values()}


@dataclass(frozen=True)
class Arch:
    """One architecture of :mod:`zmixlib.engine.models`: what it is, and how the papers write it."""

    description: str
    paper: str


#: Every architecture :func:`zmixlib.engine.models.build` knows (the registry it dispatches on).
ARCHS: dict[str, Arch] = {
    "resnet18_cifar": Arch("ResNet-18, 3x3 stem, no max-pool (inputs <= 64 px)", "ResNet-18"),
    "resnet50_cifar": Arch("ResNet-50, 3x3 stem, no max-pool (inputs <= 64 px)", "ResNet-50"),
    "resnet18": Arch("torchvision ResNet-18 (large images)", "ResNet-18"),
    "resnet50": Arch("torchvision ResNet-50 (large images)", "ResNet-50"),
    "mobilenet_v2": Arch("torchvision MobileNetV2", "MobileNetV2"),
    "efficientnet_b0": Arch("torchvision EfficientNet-B0", "EfficientNet-B0"),
    "lenet5": Arch("LeNet-5 (MNIST oracle)", "LeNet"),
    "digits_cnn": Arch("small CNN for 8x8 digits (offline oracle)", "small CNN"),
    "mlp": Arch("ReLU MLP for tabular / synthetic data", "MLP"),
    "preact_resnet18": Arch("PreActResNet-18, 3x3 stem (CIFAR; MultiMix, k-mixup)", "PreActResNet-18"),
    "wrn16_8": Arch("Wide ResNet WRN-16-8 (CIFAR; MultiMix)", "WRN16-8"),
}


def method(name: str) -> Method:
    """The :class:`Method` called ``name`` — ours (``zeta_mixup``), the paper's (``zeta-mixup``) or the
    display name (``ζ-mixup``); ``ValueError`` listing the known names otherwise."""
    found = METHODS.get(name) or _BY_PAPER.get(name) or _BY_DISPLAY.get(name)
    if found is None:
        raise ValueError(f"method must be one of {list(METHODS)}, got {name!r}")
    return found


def from_paper(name: str) -> str:
    """Our name for a paper spelling (``"zeta-mixup"`` → ``"zeta_mixup"``); unknown spellings unchanged."""
    found = _BY_PAPER.get(name)
    return found.name if found is not None else name


def display_name(name: str) -> str:
    """The printed name of a method (ours or the paper's spelling); unknown names unchanged."""
    found = METHODS.get(name) or _BY_PAPER.get(name)
    return found.display if found is not None else name


def color(name: str) -> str:
    """The colour of a method on every figure (``original`` included); black for anything else."""
    if name in _EXTRA_COLORS:
        return _EXTRA_COLORS[name]
    found = METHODS.get(name) or _BY_PAPER.get(name) or _BY_DISPLAY.get(name)
    return found.color if found is not None else "#000000"


def arch_paper_name(arch: str) -> str:
    """How the papers write an architecture (``resnet18_cifar`` → ``ResNet-18``); unknown names unchanged."""
    found = ARCHS.get(arch)
    return found.paper if found is not None else arch


# --------------------------------------------------------------------------------------------- γ and labels


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _num(x: float) -> str:
    x = float(x)
    return f"{x:.1f}" if abs(x * 10 - round(x * 10)) < 1e-9 else f"{x:.4g}"


def _parse_gamma(value: Any) -> float | tuple[float, float] | str | None:
    """A γ setting from our values (number, (low, high)) or the paper table's text ("2.4", "U[1.72865,4.0]")."""
    if _missing(value):
        return None
    if isinstance(value, str):
        text = value.strip().rstrip("?")
        if text.startswith("U[") and text.endswith("]"):
            low, high = (float(v) for v in text[2:-1].split(","))
            return (low, high)
        try:
            return float(text)
        except ValueError:
            return text
    if isinstance(value, (tuple, list)):
        low, high = value
        return (float(low), float(high))
    return float(value)


def gamma_text(gamma: Any) -> str | None:
    """γ as written everywhere (tables, legends, run labels, comparison keys): ``"2.4"``, ``"U[1.729, 4.0]"``
    for a range drawn per mini-batch, ``None`` when unset. Equal settings give equal text, whether they come
    from a run (float, tuple) or from the paper table's strings."""
    g = _parse_gamma(gamma)
    if g is None or isinstance(g, str):
        return g
    if isinstance(g, tuple):
        return f"U[{_num(g[0])}, {_num(g[1])}]"
    return _num(g)


def method_label(name: str, gamma: Any = None, alpha: Any = None) -> str:
    """``"ERM"``, ``"mixup"``, ``"ζ-mixup (γ = 2.4)"``, ``"ζ-mixup (γ ~ U[1.729, 4.0])"`` — the label of
    tables and legends. ``name`` is ours or the paper's spelling; α is shown only when it is not 1."""
    parts = []
    g = gamma_text(gamma)
    if g is not None:
        parts.append(f"γ ~ {g}" if g.startswith("U[") else f"γ = {g}")
    if not _missing(alpha) and not isinstance(alpha, (tuple, list)) and float(alpha) != 1.0:
        parts.append(f"α = {_num(alpha)}")
    text = display_name(name)
    return f"{text} ({', '.join(parts)})" if parts else text


def run_label(name: str, hparams: dict[str, Any]) -> str:
    """The console label of a run: ``"zeta_mixup(gamma=2.8)"``, ``"kmixup(alpha=1.0, k=16)"``."""
    shown = []
    for key, value in hparams.items():
        if key == "gamma":
            value = gamma_text(value)
        shown.append(f"{key}={value}")
    return f"{name}({', '.join(shown)})" if shown else name


def sort_key(name: str, gamma: Any = None, alpha: Any = None) -> tuple:
    """Table order: methods as in :data:`METHODS`, then fixed γ ascending, then γ ranges, then α."""
    found = METHODS.get(name) or _BY_PAPER.get(name) or _BY_DISPLAY.get(name)
    rank = list(METHODS).index(found.name) if found is not None else len(METHODS)
    g = _parse_gamma(gamma)
    g_key = (0, g, 0.0) if isinstance(g, float) else (1, g[0], g[1]) if isinstance(g, tuple) else (-1, 0.0, 0.0)
    a = float(alpha) if not _missing(alpha) and not isinstance(alpha, (tuple, list)) else 0.0
    return (rank, str(name) if found is None else "", g_key, a)
