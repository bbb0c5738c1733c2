"""The papers' training recipes as data, and the three profiles (``smoke``, ``offline``, ``paper``).

Sources (J Big Data 2024, "Training details" of each dataset group; arXiv appendix D):

* **NATURAL** (Table 4) — ResNet-18 at native resolution; CIFAR-10/100 and F-MNIST: 200 epochs, LR 0.1
  × 0.2 at epochs 80/120/160, batch 128 (F-MNIST 32); STL-10: 120 epochs, batch 32, LR 0.1 × 0.2 at 80;
  Imagenette/Imagewoof at 224 px: 80 epochs, batch 32, LR 0.01 × 0.2 at 25/50/65; random horizontal
  flips.
* **CutMix** (Table 5) — ResNet-18/50, MobileNetV2, EfficientNet-B0 on CIFAR-10/100: 200 epochs, LR 0.1 ×
  0.2 at 100/150, batch 128; CutMix vs CutMix + ζ-mixup with γ ~ U[γ_min, 4.0] per mini-batch.
* **SKIN** (Tables 6/A3) — ResNet-18 and ResNet-50, batch 32, 50 epochs, LR 0.01 × 0.1 every 10 epochs;
  ISIC 2018: 20 epochs, × 0.1 every 4.
* **MEDMNIST** (Table 7) — ResNet-18 (28 px), LR 0.01, batch 128; 100 epochs × 0.1 at 50/75 (the MedMNIST
  benchmark's schedule, which the paper follows).
* **manifold mixup** (Fig. 9) — Verma et al.'s CIFAR setting (2000 epochs, LR 0.1 × 0.1 at 1000/1500,
  batch 100, weight decay 1e-4, α = 2); MedMNIST 1000 epochs at LR 0.01; SKIN 500 epochs, LR 0.01 × 0.1
  every 100 — i.e. 10× the epochs of the other methods.
* **ablation** (Table 8) — CIFAR-100, NATURAL recipe: mixup, p-series weights with T = 2, Dirichlet(1)
  weights with T = m, ζ-mixup (γ = 2.8, T = m = 128).
* **sensitivity** (Fig. 10a/b) — ζ-mixup on CIFAR-10/100 with γ from 1.8 to 5.0.
* **peers** (notebook 10) — k-mixup and MultiMix beside ERM / mixup / ζ-mixup, NATURAL recipe.

All: SGD with Nesterov momentum 0.9, weight decay 5e-4, cross-entropy on soft targets; mixup α = 1;
ζ-mixup γ ∈ {2.4, 2.8, 4.0} with T = the batch; 3 seeds.

Profiles: ``paper`` runs the recipes above on the real data; ``offline`` keeps each section's structure
(methods, γ values, 3 seeds, the shape of the LR schedule) on data bundled with scikit-learn (digits
for images, breast-cancer / wine / iris for tabular data), minutes on a CPU; ``smoke`` is ``offline``
with one seed, 2 epochs and a few hundred samples (seconds). Datasets that stand in are listed by
:func:`stand_ins`.

``resolve(section, profile, **overrides)`` validates every override and returns the run matrix.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass, field
from typing import Any

from zmixlib import data
from zmixlib.core.checks import check_choice, check_int
from zmixlib.core.vocab import ARCHS, METHOD_NAMES, METHODS
from zmixlib.engine.runspec import RunSpec, check_gamma
from zmixlib.protocol.profiles import CHAPTERS, FIG9_DATASETS, PROFILES, SEEDS, SMOKE_SIZES

__all__ = [
    "Recipe",
    "Section",
    "RunMatrix",
    "PAPER_RECIPES",
    "OFFLINE_RECIPES",
    "SECTIONS",
    "OVERRIDES",
    "MATRIX_PARAMETERS",
    "recipe_for",
    "protocol",
    "resolve",
    "resolve_params",
    "spec_for",
    "stand_ins",
]

ZETA_GAMMAS = (2.4, 2.8, 4.0)


@dataclass(frozen=True)
class Recipe:
    """How one dataset is trained: architecture, schedule, batch size, optimiser, augmentation."""

    arch: str
    epochs: int
    batch_size: int
    lr: float
    milestones: tuple[int, ...]
    lr_gamma: float
    hflip: bool = False
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    eval_splits: tuple[str, ...] = ("test",)
    arch_kwargs: tuple[tuple[str, Any], ...] = ()
    train_subset: int | None = None  # a fixed subset (the same for every seed and method); None: all
    eval_subset: int | None = None
    eval_every: int | None = None  # evaluate every this many epochs and after the last (None: every epoch)

    def fields(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _natural(epochs, batch, lr, milestones, arch="resnet18_cifar") -> Recipe:
    return Recipe(arch, epochs, batch, lr, milestones, 0.2, hflip=True)


def _skin(epochs=50, step=10) -> Recipe:
    return Recipe("resnet18", epochs, 32, 0.01, tuple(range(step, epochs, step)), 0.1, hflip=False)


def _medmnist() -> Recipe:
    # the MedMNIST protocol: validation evaluated every epoch; the last epoch and the epoch of the best
    # validation AUC are both reported (zmixlib.chapters.medmnist.epoch_choice). The paper states ResNet-18 at 28 px,
    # SGD at LR 0.01 and batch 128 only; OUR ASSUMPTIONS (chapter 06 states them): 100 epochs x 0.1 at 50/75 (the
    # MedMNIST benchmark's schedule), Nesterov momentum 0.9 and weight decay 5e-4 (every other experiment's)
    return Recipe("resnet18_cifar", 100, 128, 0.01, (50, 75), 0.1, eval_splits=("val", "test"))


SKIN_DATASETS = data.available("skin")  # the ten skin lesion sets of Table 6, in its order
MEDMNIST_DATASETS = data.available("medmnist")  # the ten 2-D MedMNIST sets of Table 7

#: dataset -> the paper's recipe (``section`` recipes below may change the schedule, e.g. CutMix).
PAPER_RECIPES: dict[str, Recipe] = {
    "CIFAR-10": _natural(200, 128, 0.1, (80, 120, 160)),
    "CIFAR-100": _natural(200, 128, 0.1, (80, 120, 160)),
    "Fashion-MNIST": _natural(200, 32, 0.1, (80, 120, 160)),
    # 96 px: the papers train "at the original resolution"; we keep the 3x3-stem ResNet-18 there.
    "STL-10": _natural(120, 32, 0.1, (80,)),
    "Imagenette": _natural(80, 32, 0.01, (25, 50, 65), arch="resnet18"),
    "Imagewoof": _natural(80, 32, 0.01, (25, 50, 65), arch="resnet18"),
    **{name: _skin() for name in SKIN_DATASETS if name != "ISIC2018"},
    "ISIC2018": _skin(20, 4),
    **{name: _medmnist() for name in MEDMNIST_DATASETS},
    # k-mixup (Greenewald et al. 2023) §4: "200 epochs via a standard SGD optimizer, with learning rate 0.1 decreased at
    # epochs 100 and 150, momentum 0.9, and weight decay 1e-4"; the decay factor (0.1) and batch (128) are not in its
    # text (mixup's CIFAR code, which it follows, uses both); MNIST with "a slightly modified LeNet" (not specified:
    # LeNet-5, chapter 04's grayscale LeNet)
    "MNIST": Recipe("lenet5", 200, 128, 0.1, (100, 150), 0.1, nesterov=False, weight_decay=1e-4),
}

#: The offline regime (the question decides it): a regulariser is tested where the baseline fits its training
#: set. Each offline recipe trains at the full learning rate for half of its epochs and steps the LR late, so that
#: ERM reaches >= 99 % training accuracy (zmixlib.protocol.regime checks it from the records and prints it with every
#: table); the real 28 x 28 sets are evaluated on their whole test split (10,000 / 2,000 images) every tenth epoch
#: and after the last. Measured on the real Fashion-MNIST, LeNet-5 (shared/reference/regime_probe.md and
#: `python -m zmixlib train --dataset Fashion-MNIST --method erm --seed S --epochs E --milestones M`): with 10 epochs
#: (LR x 0.2 at 4/6/8) ERM ends at 88 % training accuracy and every mixing method loses to it; with 40 epochs
#: (x 0.2 at 20/30) on 2,000 images it passes 99 % at epochs 29-31 on most seeds, but seed 6 ends at 98.6 %; on that
#: seed 40 epochs at 25/35 end at 98.9 %, 50 epochs at 25/40 at 99.55 % and 60 at 30/45 at 99.7 %. 50 epochs (x 0.2
#: at 25 and 40) is the shortest of these in which every seed of Table 4 fits, at 1.25x the cost of 40. Training
#: trajectories differ between CPUs: on an Intel Xeon (AVX-512, 2026-12-06, same lock) seed 6 ended at 98.3 % after
#: 50 epochs at 25/40 and at 99.5 % after 60 at 30/45 (>= 99 % from epoch 48; seeds 0-5: 99.95-100 %, from epoch
#: 33-35). Fashion-MNIST therefore trains 60 epochs (x 0.2 at 30 and 45), the schedule in which every seed fitted on
#: both machines measured; the other sets fit well inside 50 (MNIST-10k from epoch 13-19).
OFFLINE_EPOCHS, OFFLINE_MILESTONES = 50, (25, 40)
FASHION_EPOCHS, FASHION_MILESTONES = 60, (30, 45)

#: dataset -> offline recipe: the papers' optimiser and LR decay factor, the regime's schedule, sized for a CPU.
OFFLINE_RECIPES: dict[str, Recipe] = {
    # digits: 360 of the 1,437 training images (on all of them every method errs on 0-3 of the 360 test images:
    # nothing to compare); NATURAL's LR x 0.2
    "digits": Recipe("digits_cnn", OFFLINE_EPOCHS, 32, 0.05, OFFLINE_MILESTONES, 0.2, train_subset=360),
    # the real 28 x 28 sets with LeNet-5 (a 200-epoch ResNet-18 run takes days on 2 cores): 2,000 fixed training
    # images, NATURAL's LR x 0.2, the whole test split
    "Fashion-MNIST": Recipe(
        "lenet5", FASHION_EPOCHS, 32, 0.05, FASHION_MILESTONES, 0.2, train_subset=2000, eval_every=10
    ),
    "MNIST-10k": Recipe("lenet5", OFFLINE_EPOCHS, 32, 0.05, OFFLINE_MILESTONES, 0.2, train_subset=2000, eval_every=10),
    # SKIN's stand-ins (notebook 05): breast cancer (MLP, SKIN's LR x 0.1) and a class-imbalanced 5-class subset of
    # the real Fashion-MNIST (its 3,000 training and 1,400 test images, LeNet-5) with NATURAL's x 0.2: with SKIN's
    # x 0.1 at 20/30 of 40 epochs, ERM ended at 98.1 % training accuracy (measured, seed 0) — below the regime
    "breast-cancer": Recipe("mlp", OFFLINE_EPOCHS, 32, 0.01, OFFLINE_MILESTONES, 0.1),
    "Fashion-MNIST-imb5": Recipe("lenet5", OFFLINE_EPOCHS, 32, 0.05, OFFLINE_MILESTONES, 0.2, eval_every=10),
    "wine": Recipe("mlp", OFFLINE_EPOCHS, 32, 0.01, OFFLINE_MILESTONES, 0.1),
    "iris": Recipe("mlp", OFFLINE_EPOCHS, 16, 0.01, OFFLINE_MILESTONES, 0.1),
}
_ALIASES = {"breast_cancer": "breast-cancer", "F-MNIST": "Fashion-MNIST", "FMNIST": "Fashion-MNIST"}


def _chapter(chapter: str, profile: str, knob: str = "datasets") -> tuple:
    """A section's datasets (seeds, γ grid) as its chapter reads them: :data:`zmixlib.protocol.profiles.CHAPTERS` is
    the one table of every chapter's sizes under every profile, and a section's matrix takes them from there."""
    return tuple(CHAPTERS[chapter][profile][knob])


@dataclass(frozen=True)
class Section:
    """One paper section's run matrix under one profile.

    ``methods`` are ``(method, hyperparameters)`` pairs; a ζ-mixup entry with ``gamma`` is expanded
    over the ``gammas`` override when one is given. ``schedule`` overrides recipe fields for the whole
    section (e.g. CutMix's 100/150 milestones); ``epoch_factor`` multiplies the recipe's epochs and
    milestones (manifold mixup's 10×). ``protocol`` names the section whose runs these are when the section trains
    with the same recipe (its records, ``results/<protocol>/``, and run ids): a run is its spec, so chapters that
    need the same ERM / mixup / ζ-mixup runs on the same data and schedule read one set (``None``: its own).
    ``seed_cap`` runs a dataset on the first few of the seeds only (the offline budget: 5 seeds for the headline
    row, 3 for the others); the matrix's ``notes`` say so, and the chapters print them.
    """

    datasets: tuple[str, ...]
    methods: tuple[tuple[str, dict[str, Any]], ...]
    archs: tuple[str, ...] | None = None  # None: the dataset recipe's
    seeds: tuple[int, ...] = SEEDS
    schedule: dict[str, Any] = field(default_factory=dict)
    per_dataset: dict[str, dict[str, Any]] = field(default_factory=dict)
    epoch_factor: float = 1.0
    protocol: str | None = None
    seed_cap: dict[str, int] = field(default_factory=dict)  # dataset -> at most this many seeds (budget; printed)


_BASE_METHODS = (("erm", {}), ("mixup", {"alpha": 1.0})) + tuple(("zeta_mixup", {"gamma": g}) for g in ZETA_GAMMAS)
# CutMix with probability 0.5 per mini-batch (the official CutMix CIFAR setting); CutMix + ζ-mixup: CutMix with
# probability 0.5, else ζ-mixup with γ ~ U[γ_min, 4.0] ("switch", our default reading) or CutMix then ζ-mixup
# ("compose") — the papers do not define the combination (both registered in zmixlib.core.vocab.METHODS)
_CUTMIX_METHODS = (
    ("cutmix", {"alpha": 1.0, "prob": 0.5}),
    ("cutmix_zeta", METHODS["cutmix_zeta"].hparams),
    ("cutmix_zeta_compose", METHODS["cutmix_zeta_compose"].hparams),
)
_ABLATION_METHODS = (
    ("mixup", {"alpha": 1.0}),
    ("zeta_mixup", {"gamma": 2.8, "num_mix": 2}),  # p-series weights, T = 2
    ("dirichlet_mixup", {"alpha": 1.0}),  # Dirichlet(1) weights, T = m
    ("zeta_mixup", {"gamma": 2.8}),
)
#: Fig. 10a-b: γ = 1.8, 2.0, ..., 5.0 (17 values)
_SENSITIVITY_GAMMAS = tuple(CHAPTERS["07_sensitivity"]["paper"]["gammas"])
#: Fig. 10c-d: the random search, γ ~ U[1, 6] and weight decay log-uniform in [5e-5, 1e-3], 200 models
SEARCH_MODELS = CHAPTERS["07_sensitivity"]["paper"]["search_models"]


def search_draws(n: int = SEARCH_MODELS, seed: int = 2024) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The random search of Fig. 10c-d as ``n`` fixed draws (the same for every build and machine)."""
    rng = random.Random(seed)
    draws = []
    for _ in range(n):
        gamma = round(rng.uniform(1.0, 6.0), 4)
        weight_decay = float(f"{10 ** rng.uniform(math.log10(5e-5), math.log10(1e-3)):.4g}")
        draws.append(("zeta_mixup", {"gamma": gamma, "weight_decay": weight_decay}))
    return tuple(draws)


_PEER_METHODS = (
    ("erm", {}),
    ("mixup", {"alpha": 1.0}),
    ("zeta_mixup", {"gamma": 2.8}),
    ("kmixup", {}),
    ("multimix", {}),
)
_MANIFOLD = (("manifold_mixup", {"alpha": 2.0}),)
#: k-mixup's MNIST grid: Table 2's k × α (α of 1-mixup; Table 7b uses α = 10 with k ≤ 32) and ERM; chapter 11 picks
#: its cells (the ``mnist_ks`` / ``mnist_alphas`` knobs). One α for every k (Table 7b's caption), not Algorithm 1's
KMIXUP_MNIST_KS = (1, 2, 4, 8, 16, 32, 64)
KMIXUP_MNIST_ALPHAS = (0.05, 0.1, 0.2, 0.5, 1.0, 10.0, 100.0)
_KMIXUP_MNIST = (("erm", {}),) + tuple(
    ("kmixup", {"k": k, "alpha": a}) for a in KMIXUP_MNIST_ALPHAS for k in KMIXUP_MNIST_KS
)
#: k-mixup's CIFAR-10 robustness cells: Table 7a (FGSM; α = 0.5, k ∈ {1, 2, 4, 8, 16}) and Table 6 (noise; α ∈ {2, 5,
#: 10}, k ∈ {1, 4, 16}), and ERM
_KMIXUP_CIFAR = (
    ("erm", {}),
    *(("kmixup", {"k": k, "alpha": 0.5}) for k in (1, 2, 4, 8, 16)),
    *(("kmixup", {"k": k, "alpha": a}) for a in (2.0, 5.0, 10.0) for k in (1, 4, 16)),
)
#: k-mixup §4: "200 epochs via a standard SGD optimizer, with learning rate 0.1 decreased at epochs 100 and 150,
#: momentum 0.9, and weight decay 1e-4" (the decay factor 0.1 and batch 128: mixup's CIFAR code, which it follows)
KMIXUP_SCHEDULE = {
    "epochs": 200,
    "lr": 0.1,
    "milestones": (100, 150),
    "lr_gamma": 0.1,
    "momentum": 0.9,
    "nesterov": False,
    "weight_decay": 1e-4,
    "batch_size": 128,
}
#: MultiMix Table 2 / 4's rows the engine trains (its §4.1: b = 128; MultiMix and Dense MultiMix with probability 0.5,
#: input mixup otherwise — the methods' own hyperparameters, zmixlib.core.vocab — with §4.6's defaults n = 1000, m = b,
#: α ~ U[0.5, 2])
_MULTIMIX_ROWS = (
    ("erm", {}),
    ("manifold_mixup", {"alpha": 2.0}),
    ("zeta_mixup", {"gamma": 2.8}),
    *((m, dict(METHODS[m].hparams)) for m in ("multimix", "dense_multimix")),
)
#: MultiMix's schedule: its text gives none ("we follow AlignMixup"); AlignMixup (CVPR 2022) trains CIFAR as manifold
#: mixup does — 2,000 epochs, LR 0.1 x 0.1 at 1,000 and 1,500, weight decay 1e-4 (NOT in this repository's paper texts:
#: check against AlignMixup's §4.1 before relying on it); batch 128 as MultiMix §4.1 states
MULTIMIX_SCHEDULE = {
    "epochs": 2000,
    "lr": 0.1,
    "milestones": (1000, 1500),
    "lr_gamma": 0.1,
    "weight_decay": 1e-4,
    "batch_size": 128,
}

_PAPER: dict[str, Section] = {
    "natural": Section(_chapter("04_natural", "paper"), _BASE_METHODS),
    "cutmix": Section(
        ("CIFAR-10", "CIFAR-100"),
        _CUTMIX_METHODS,
        archs=("resnet18_cifar", "resnet50_cifar", "mobilenet_v2", "efficientnet_b0"),
        schedule={"epochs": 200, "milestones": (100, 150), "lr_gamma": 0.2, "arch_kwargs": (("small_input", True),)},
    ),
    "skin": Section(SKIN_DATASETS, _BASE_METHODS, archs=("resnet18", "resnet50")),
    "medmnist": Section(
        MEDMNIST_DATASETS, (("erm", {}), ("mixup", {"alpha": 1.0}), ("zeta_mixup", {"gamma": 2.8}))
    ),  # Table 7: γ = 2.8 only
    "manifold": Section(
        FIG9_DATASETS,
        _MANIFOLD,
        per_dataset={
            # Verma et al. (ICML 2019), CIFAR: 2000 epochs, LR 0.1 x 0.1 at 1000/1500, batch 100, wd 1e-4
            "CIFAR-10": {
                "epochs": 2000,
                "milestones": (1000, 1500),
                "lr_gamma": 0.1,
                "batch_size": 100,
                "weight_decay": 1e-4,
            },
            "CIFAR-100": {
                "epochs": 2000,
                "milestones": (1000, 1500),
                "lr_gamma": 0.1,
                "batch_size": 100,
                "weight_decay": 1e-4,
            },
            **{d: {"epochs": 1000, "milestones": (500, 750)} for d in ("BreastMNIST", "PathMNIST", "TissueMNIST")},
            **{
                d: {"epochs": 500, "milestones": (100, 200, 300, 400)}
                for d in ("derm7point-C", "MSK", "ISIC2017", "DermoFit")
            },
        },
    ),
    "ablation": Section(_chapter("08_ablation", "paper"), _ABLATION_METHODS, protocol="natural"),
    "sensitivity": Section(
        _chapter("07_sensitivity", "paper"),
        tuple(("zeta_mixup", {"gamma": g}) for g in _SENSITIVITY_GAMMAS),
        protocol="natural",
    ),
    "search": Section(_chapter("07_sensitivity", "paper"), search_draws(), seeds=(0,), protocol="natural"),
    # notebook 10's leaderboard: every method of the vocabulary with the NATURAL recipe (CutMix with probability 0.5;
    # k-mixup k = 16, alpha = 1; MultiMix and Dense MultiMix by their paper: probability 0.5, else input mixup with
    # alpha = 2 as AlignMixup, n = 1000, alpha ~ U[0.5, 2]; manifold mixup alpha = 2)
    "peers": Section(
        ("CIFAR-10", "CIFAR-100"),
        (
            *_PEER_METHODS[:3],
            *_CUTMIX_METHODS,
            ("dirichlet_mixup", {"alpha": 1.0}),
            ("kmixup", {"k": 16, "alpha": 1.0}),
            *((m, dict(METHODS[m].hparams)) for m in ("multimix", "dense_multimix")),
            *_MANIFOLD,
            ("local_synthetic_instances", {}),
        ),
        protocol="natural",
    ),
    # k-mixup's MNIST protocol (Tables 1, 2, 7b; notebook 11): LeNet, the "MNIST" recipe above, 20 trials
    "kmixup_mnist": Section(("MNIST",), _KMIXUP_MNIST, seeds=tuple(range(20))),
    # MultiMix's own protocol (Tables 2, 4): PreActResNet-18 and WRN16-8 on CIFAR-10/100, 5 runs
    "multimix_paper": Section(
        ("CIFAR-10", "CIFAR-100"),
        _MULTIMIX_ROWS,
        archs=("preact_resnet18", "wrn16_8"),
        seeds=tuple(range(5)),
        schedule=MULTIMIX_SCHEDULE,
    ),
    # k-mixup's own CIFAR-10 protocol (Tables 6, 7a): PreAct ResNet-18 ("as in Zhang et al. (2018)"), 20 trials
    "kmixup_cifar": Section(
        ("CIFAR-10",), _KMIXUP_CIFAR, archs=("preact_resnet18",), seeds=tuple(range(20)), schedule=KMIXUP_SCHEDULE
    ),
}

_OFFLINE: dict[str, Section] = {
    # Table 4's F-MNIST row on the real Fashion-MNIST, and the real MNIST-10k (LeNet-5; the offline recipes)
    "natural": Section(
        _chapter("04_natural", "offline"),
        _BASE_METHODS,
        seeds=_chapter("04_natural", "offline", "seeds"),
        seed_cap={"MNIST-10k": 3},
    ),
    "cutmix": Section(
        _chapter("04_natural", "offline", "cutmix_datasets"),
        _CUTMIX_METHODS,
        protocol="natural",
        seed_cap={"Fashion-MNIST": 3},
    ),
    # Table 6 offline: breast cancer (a real binary medical task, like PH2 / MED-NODE) and a class-imbalanced 5-class
    # subset of the real Fashion-MNIST in ISIC 2018's class proportions (zmixlib.data.derived)
    # ζ-mixup's γ is chosen on "val" (a fixed stratified 10 % of train; the runs train on the other 90 %, "fit"), the
    # same γ against ERM and mixup, and the test split is read once (the ledger's skin claims)
    "skin": Section(
        _chapter("05_skin", "offline"),
        _BASE_METHODS,
        schedule={"train_split": "fit", "eval_splits": ("val", "test")},
    ),
    # the MedMNIST protocol on the real MNIST-10k and Fashion-MNIST (LeNet-5): the stand-ins have no validation split,
    # so every run trains on "fit" (train minus a fixed stratified 10 %) and evaluates the held-out "val" (that 10 %)
    # and "test" after every epoch, on 2,000 fixed images of each (the validation-selected epoch needs every epoch)
    "medmnist": Section(
        _chapter("06_medmnist", "offline"),
        (("erm", {}), ("mixup", {"alpha": 1.0}), ("zeta_mixup", {"gamma": 2.8})),
        schedule={"train_split": "fit", "eval_splits": ("val", "test"), "eval_subset": 2000, "eval_every": None},
    ),
    # Fig. 9's protocol, 10x the epochs of the stand-in's recipe: breast cancer (SKIN's stand-in)
    "manifold": Section(("breast-cancer",), _MANIFOLD, epoch_factor=10.0),
    # Table 8 on the real Fashion-MNIST (LeNet-5, batch 32: T = m = 32); mixup and ζ-mixup are chapter 04's runs
    "ablation": Section(_chapter("08_ablation", "offline"), _ABLATION_METHODS, protocol="natural"),
    # Fig. 10 on the real Fashion-MNIST: every fifth γ of the grid (1.8, 2.8, 3.8, 4.8) and the first 14 draws (the
    # 14th is the first with γ < γ_min) — what fits a few minutes on 2 cores
    "sensitivity": Section(
        _chapter("07_sensitivity", "offline"),
        tuple(("zeta_mixup", {"gamma": g}) for g in _chapter("07_sensitivity", "offline", "gammas")),
        protocol="natural",
    ),
    "search": Section(
        _chapter("07_sensitivity", "offline"),
        search_draws(CHAPTERS["07_sensitivity"]["offline"]["search_models"]),
        seeds=(0,),
        protocol="natural",
    ),
    # the real Fashion-MNIST, LeNet-5: chapter 04's recipe, so its ERM / mixup / ζ-mixup / CutMix runs are read
    "peers": Section(("Fashion-MNIST",), _PAPER["peers"].methods, protocol="natural"),
    # k-mixup's MNIST protocol on the real MNIST-10k (the recipe's 2,000 fixed training digits of its 8,000; MNIST
    # has 60,000): the offline regime's schedule (OFFLINE_EPOCHS, LR 0.05 x 0.2 at OFFLINE_MILESTONES) at batch 128
    # — k-mixup matches k-subsets within a batch, so k = 32 needs several per batch — with the paper's optimiser
    # (plain momentum 0.9, weight decay 1e-4)
    "kmixup_mnist": Section(
        ("MNIST-10k",),
        _KMIXUP_MNIST,
        schedule={"batch_size": 128, "nesterov": False, "weight_decay": 1e-4},
    ),
    # the peers' own protocols rehearsed on the offline data: their architecture (PreActResNet-18) and optimiser on
    # digits, the offline schedule (make paper PROFILE=smoke runs these end to end on a CPU)
    "multimix_paper": Section(
        ("digits",), _MULTIMIX_ROWS, schedule={"arch": "preact_resnet18", "weight_decay": 1e-4, "batch_size": 128}
    ),
    "kmixup_cifar": Section(
        ("digits",),
        _KMIXUP_CIFAR[:2] + _KMIXUP_CIFAR[5:6],  # a rehearsal: ERM, k = 1 and k = 16 at Table 7a's α = 0.5
        schedule={
            "arch": "preact_resnet18",
            **{k: v for k, v in KMIXUP_SCHEDULE.items() if k in ("nesterov", "weight_decay", "batch_size")},
        },
    ),
}

#: section -> short description (the keys :func:`resolve` accepts).
SECTIONS: dict[str, str] = {
    "natural": "NATURAL, Table 4: ERM / mixup / zeta-mixup on natural images (notebook 04)",
    "cutmix": "CutMix vs CutMix + zeta-mixup, Table 5 (notebook 04)",
    "skin": "SKIN, Tables 6/A3 (notebook 05)",
    "medmnist": "MEDMNIST, Table 7 (notebook 06)",
    "manifold": "manifold mixup at 10x epochs, Fig. 9 (notebook 10)",
    "ablation": "ablation on CIFAR-100, Table 8 (notebook 08)",
    "sensitivity": "gamma sensitivity, Fig. 10a-b (notebook 07)",
    "search": "random search over gamma and weight decay, Fig. 10c-d (notebook 07)",
    "peers": "every method of zmixlib.core.vocab side by side: k-mixup, MultiMix, Dense MultiMix, LSI (notebook 10)",
    "kmixup_mnist": "k-mixup's MNIST protocol: LeNet, k x alpha, FGSM (k-mixup Tables 1, 2, 7b; notebook 11)",
    "multimix_paper": "MultiMix's own protocol: PreActResNet-18 / WRN16-8, 5 runs (MultiMix Tables 2, 4; notebook 11)",
    "kmixup_cifar": "k-mixup's own CIFAR-10 protocol: PreAct ResNet-18, 20 trials (k-mixup Tables 6, 7a; notebook 11)",
}


def _canonical(dataset: str) -> str:
    return _ALIASES.get(dataset, dataset)


def recipe_for(dataset: str, profile: str = "paper") -> Recipe:
    """The recipe of ``dataset``: the profile's table first (``paper`` or offline), then the other."""
    check_choice("profile", profile, PROFILES)
    name = _canonical(dataset)
    first, second = (PAPER_RECIPES, OFFLINE_RECIPES) if profile == "paper" else (OFFLINE_RECIPES, PAPER_RECIPES)
    if name in first:
        return first[name]
    if name in second:
        return second[name]
    raise ValueError(f"dataset must be one of {sorted(PAPER_RECIPES) + sorted(OFFLINE_RECIPES)}, got {dataset!r}")


def protocol(section: str, profile: str = "paper") -> str:
    """The folder and ``RunSpec.section`` of ``section``'s runs under ``profile``: the section whose recipe it
    trains with (:attr:`Section.protocol`; e.g. the offline ablation is ``natural``), else itself."""
    check_choice("section", section, SECTIONS)
    check_choice("profile", profile, PROFILES)
    return (_PAPER if profile == "paper" else _OFFLINE)[section].protocol or section


def stand_ins(section: str) -> dict[str, tuple[str, ...]]:
    """``{"paper": datasets, "offline": datasets}`` — what the offline profile runs in their place."""
    check_choice("section", section, SECTIONS)
    return {"paper": _PAPER[section].datasets, "offline": _OFFLINE[section].datasets}


# ------------------------------------------------------------------------------------------ validation


def _list_of(name: str, value: Any, check) -> tuple:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list, got {value!r} ({type(value).__name__})")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(value))


def _str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty string, got {value!r}")
    return value


#: The matrix's own parameters (lists the matrix is expanded over) -> (check, what it means). Every other
#: override is a :class:`RunSpec` field and is validated by ``RunSpec`` itself, the only validator of a run.
MATRIX_PARAMETERS: dict[str, tuple[Any, str]] = {
    "datasets": (lambda n, v: _list_of(n, v, _str), "datasets to run (names of zmixlib.data)"),
    "methods": (lambda n, v: _list_of(n, v, lambda n2, m: check_choice(n2, m, METHOD_NAMES)), "methods to keep"),
    "gammas": (lambda n, v: _list_of(n, v, check_gamma), "zeta-mixup gamma values (replace the section's)"),
    "archs": (lambda n, v: _list_of(n, v, lambda n2, a: check_choice(n2, a, ARCHS)), "architectures"),
    "seeds": (lambda n, v: _list_of(n, v, lambda n2, s: check_int(n2, s, min=0)), "seeds"),
}
#: RunSpec fields a matrix may override for every run (``alpha`` applies to the methods that have one).
SPEC_OVERRIDES = (
    "alpha epochs batch_size lr milestones lr_gamma momentum nesterov weight_decay label_smoothing hflip "
    "train_subset eval_subset eval_splits device data_root num_workers amp channels_last device_resident compile"
).split()
#: every override :func:`resolve` accepts
OVERRIDES = (*MATRIX_PARAMETERS, *SPEC_OVERRIDES)


def _validate(overrides: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; allowed: {sorted(OVERRIDES)}")
    out = {}
    for name, value in overrides.items():
        if value is None:  # "the profile's default"
            continue
        out[name] = MATRIX_PARAMETERS[name][0](name, value) if name in MATRIX_PARAMETERS else value
    RunSpec(dataset="(override check)", **{k: v for k, v in out.items() if k in SPEC_OVERRIDES})  # the one validator
    return out


def _rescale(milestones: tuple[int, ...], old_epochs: int, new_epochs: int) -> tuple[int, ...]:
    if old_epochs == new_epochs:
        return tuple(milestones)
    scaled = sorted({max(1, round(m * new_epochs / old_epochs)) for m in milestones})
    return tuple(m for m in scaled if m < new_epochs)


def _schedule(recipe: Recipe, changes: dict[str, Any], epoch_factor: float = 1.0) -> dict[str, Any]:
    """Recipe fields with section/user changes; milestones follow the epochs unless given."""
    fields = recipe.fields()
    if epoch_factor != 1.0:
        epochs = max(1, round(fields["epochs"] * epoch_factor))
        fields["milestones"] = _rescale(fields["milestones"], fields["epochs"], epochs)
        fields["epochs"] = epochs
    if "epochs" in changes and "milestones" not in changes:
        fields["milestones"] = _rescale(fields["milestones"], fields["epochs"], changes["epochs"])
    fields.update(changes)
    fields["milestones"] = tuple(m for m in fields["milestones"] if m < fields["epochs"])
    return fields


# ---------------------------------------------------------------------------------------------- matrices


class RunMatrix(list):
    """A list of :class:`~zmixlib.engine.train.RunSpec` with a printable table (``print(matrix)``)."""

    def __init__(self, specs=(), *, section: str = "", profile: str = "", overrides: dict | None = None):
        super().__init__(specs)
        self.section, self.profile, self.overrides = section, profile, dict(overrides or {})
        self.notes: list[str] = []  # what the matrix shortened (e.g. a dataset's seeds), printed by the chapters

    def table(self):
        """One row per run: the fields that vary, plus run_id (a pandas DataFrame)."""
        import pandas as pd

        cols = ["dataset", "arch", "method", "gamma", "alpha", "num_mix", "seed", "epochs", "batch_size", "lr"]
        cols += ["milestones", "lr_gamma", "weight_decay", "train_subset", "eval_subset"]
        rows = [{"run_id": s.run_id, **{c: getattr(s, c) for c in cols}} for s in self]
        df = pd.DataFrame(rows, columns=["run_id", *cols])
        return df.dropna(axis=1, how="all")

    def __str__(self) -> str:
        head = f"section {self.section!r}, profile {self.profile!r}: {len(self)} runs"
        if self.overrides:
            head += f" (overrides: {', '.join(f'{k}={v!r}' for k, v in self.overrides.items())})"
        return head + "\n" + (self.table().to_string(index=False) if len(self) else "(empty)")

    __repr__ = __str__


def _expand_methods(section: Section, opts: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    methods = list(section.methods)
    if "methods" in opts:
        wanted = opts["methods"]
        methods = [(m, hp) for m, hp in methods if m in wanted]
        have = {m for m, _ in methods}
        methods += [(m, _default_hparams(m)) for m in wanted if m not in have]
    if "gammas" in opts:
        out, seen_zeta = [], False
        for m, hp in methods:
            if m == "zeta_mixup" and "num_mix" not in hp:
                if not seen_zeta:
                    out += [(m, {**hp, "gamma": g}) for g in opts["gammas"]]
                seen_zeta = True
            else:
                out.append((m, hp))
        methods = out
    if "alpha" in opts:
        methods = [(m, {**hp, "alpha": opts["alpha"]} if "alpha" in hp else hp) for m, hp in methods]
    return methods


def _default_hparams(method: str) -> dict[str, Any]:
    """The papers' hyperparameters of ``method`` (:mod:`zmixlib.core.vocab`); unknown methods are RunSpec's to reject."""
    return dict(METHODS[method].hparams) if method in METHODS else {}


def _spec_kwargs(hp: dict[str, Any]) -> dict[str, Any]:
    """A method entry's settings as RunSpec keywords: γ/α/T, other RunSpec fields (e.g. the random search's
    ``weight_decay``) as themselves, and the rest as the mixer's ``extra`` keywords."""
    fields = {f.name for f in dataclasses.fields(RunSpec)}
    named = {k: v for k, v in hp.items() if k in fields}
    extra = tuple(sorted((k, v) for k, v in hp.items() if k not in named))
    return {**named, "extra": extra}


def resolve(section: str, profile: str = "smoke", *, verbose: bool = False, **overrides: Any) -> RunMatrix:
    """Validate ``overrides`` and return the section's run matrix under ``profile``.

    Args:
        section: one of :data:`SECTIONS`.
        profile: ``"smoke" | "offline" | "paper"``.
        verbose: print the table.
        **overrides: any of :data:`OVERRIDES` (``None`` = the profile's default). Unknown names, wrong
            types and out-of-range values raise ``ValueError``/``TypeError`` naming the parameter.

    Returns:
        a :class:`RunMatrix` (list of ``RunSpec``), datasets × archs × methods (× γ) × seeds.
    """
    check_choice("section", section, SECTIONS)
    check_choice("profile", profile, PROFILES)
    opts = _validate(overrides)
    sec = (_PAPER if profile == "paper" else _OFFLINE)[section]
    datasets = opts.get("datasets", sec.datasets)
    for d in datasets:
        recipe_for(d, profile)  # unknown dataset -> error listing the known ones
    seeds = opts.get("seeds", sec.seeds[:1] if profile == "smoke" else sec.seeds)
    methods = _expand_methods(sec, opts)
    user = {k: v for k, v in opts.items() if k in SPEC_OVERRIDES and k != "alpha"}
    if profile == "smoke":
        user = {**SMOKE_SIZES, **user}
    specs = []
    for dataset in datasets:
        recipe = recipe_for(dataset, profile)
        # the section's own changes (paper sections: e.g. CutMix's milestones; offline sections: their protocol)
        changes = {**sec.schedule, **sec.per_dataset.get(_canonical(dataset), {})}
        fields = _schedule(recipe, {**changes, **user}, sec.epoch_factor if profile != "smoke" else 1.0)
        archs = opts.get("archs", sec.archs if profile == "paper" and sec.archs else (fields["arch"],))
        for arch in archs:
            arch_kwargs = fields["arch_kwargs"] if arch in ("mobilenet_v2", "efficientnet_b0") else ()
            for method, hp in methods:
                for seed in seeds[: sec.seed_cap.get(_canonical(dataset), len(seeds))]:
                    kw = {k: v for k, v in fields.items() if k not in ("arch", "arch_kwargs")}
                    specs.append(
                        RunSpec(
                            dataset=_canonical(dataset),
                            method=method,
                            arch=arch,
                            arch_kwargs=arch_kwargs,
                            section=protocol(section, profile),
                            seed=seed,
                            **{**kw, **_spec_kwargs(hp)},  # a method entry's own settings win
                        )
                    )
    matrix = RunMatrix(specs, section=section, profile=profile, overrides=opts)
    for dataset in datasets:
        cap = sec.seed_cap.get(_canonical(dataset))
        if cap is not None and cap < len(seeds) and profile != "paper":
            matrix.notes.append(
                f"{_canonical(dataset)}: the first {cap} of the {len(seeds)} seeds (the {profile} budget; "
                f"section {section!r}, zmixlib.protocol.recipes)"
            )
    if verbose:
        print(matrix)
    return matrix


def resolve_params(section: str, params: Any, **overrides: Any) -> RunMatrix:
    """:func:`resolve` for a notebook: ``section``'s matrix under ``params.profile`` (a
    :class:`zmixlib.protocol.config.Params`), with every knob of ``params`` that is a :data:`OVERRIDES` name passed
    on (``None`` = the profile's default), then ``overrides`` (e.g. ``datasets=params.cutmix_datasets``).
    An empty ``datasets`` list given by the notebook's parameters means "run none of this section's datasets"
    (e.g. ``-y 'cutmix_datasets: []'`` skips chapter 04's Table 5): the matrix is empty and says so."""
    knobs = params.values if isinstance(getattr(params, "values", None), dict) else vars(params)
    given = {k: v for k, v in knobs.items() if k in OVERRIDES}
    merged = {**given, **overrides}
    if isinstance(merged.get("datasets"), (list, tuple)) and len(merged["datasets"]) == 0:
        check_choice("profile", params.profile, PROFILES)
        check_choice("section", section, list(_PAPER))
        return RunMatrix([], section=section, profile=params.profile, overrides={"datasets": []})
    return resolve(section, params.profile, **merged)


def spec_for(dataset: str, *, profile: str = "offline", method: str = "erm", **overrides: Any) -> RunSpec:
    """One run of ``dataset`` with its recipe under ``profile`` and any :class:`RunSpec` field changed
    (the ``python -m zmixlib train`` command). The method's paper hyperparameters fill what is not given
    (mixup α = 1, ζ-mixup γ = 2.8, manifold mixup α = 2); changing ``epochs`` rescales the milestones.
    Every field given is honoured (``arch`` included); unknown names are an error naming them."""
    check_choice("profile", profile, PROFILES)
    names = {f.name for f in dataclasses.fields(RunSpec)} - {"dataset", "method"}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; allowed: {sorted(names)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    hp = {**_default_hparams(method), **{k: given.pop(k) for k in ("gamma", "alpha", "num_mix") if k in given}}
    named = _spec_kwargs(hp)
    if "extra" in given:
        named["extra"] = tuple(sorted({**dict(named["extra"]), **dict(given.pop("extra"))}.items()))
    if profile == "smoke":
        given = {**SMOKE_SIZES, **given}
    fields = _schedule(recipe_for(dataset, profile), given)
    return RunSpec(dataset=_canonical(dataset), method=method, **fields, **named)
