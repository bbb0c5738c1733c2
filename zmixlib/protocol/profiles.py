"""The three profiles (:data:`PROFILES`) and every chapter's sizes under each, declared once, as data.

A chapter's notebook has a flat ``parameters`` cell (each knob ``None`` = "the profile's default") and a
setup cell ``P = config.setup("<chapter>", globals())`` that fills the knobs from this table. Each chapter
lists its ``paper`` sizes; ``offline`` states only what it changes from ``paper``, and ``smoke`` only what it
changes from ``offline``. ``tests/test_profiles.py`` checks that every knob of a notebook's parameters cell
is in every profile and vice versa.

Knobs every notebook has and no profile sets: :data:`COMMON_KNOBS`.
"""

from __future__ import annotations

from typing import Any

from zmixlib import data
from zmixlib.core.theory import GAMMA_MIN
from zmixlib.core.vocab import METHOD_NAMES

__all__ = ["PROFILES", "COMMON_KNOBS", "CHAPTERS", "STAND_INS", "SEEDS", "SMOKE_SIZES", "sizes"]

#: parameters of every notebook that are not profile sizes (``data_root``/``results_dir`` where used)
COMMON_KNOBS = ("profile", "device", "seed", "data_root", "results_dir")

#: The three profiles, and what each costs. Each notebook's default is ``smoke``.
PROFILES: dict[str, str] = {
    "smoke": "CI-fast: seconds per notebook, tiny subsets, 1 seed",
    "offline": "CPU laptop: synthetic manifolds at the papers' sizes, real Fashion-MNIST / MNIST-10k (make data) and "
    "scikit-learn's tables, >= 3 seeds",
    "paper": "the papers' exact recipes and data (needs datasets under data/ and, in practice, a GPU)",
}

#: the seeds of a run matrix unless a chapter says otherwise (the papers report 3 runs per cell)
SEEDS = (0, 1, 2)
#: the smoke profile's run sizes: every section's runs under ``smoke`` (zmixlib.protocol.recipes), and the chapters'
#: smoke knobs below
SMOKE_SIZES = {"epochs": 2, "train_subset": 256, "eval_subset": 128}
_SMOKE_RUN = {k: SMOKE_SIZES[k] for k in ("epochs", "train_subset")}

#: a real dataset -> what the offline profile runs when its files cannot be had (the page says so)
STAND_INS = {"Fashion-MNIST": "digits", "MNIST-10k": "digits", "MNIST": "digits"}
#: J Big Data Fig. 9's nine datasets (manifold mixup at 10× the epochs against ζ-mixup; section ``manifold``)
FIG9_DATASETS = (
    "CIFAR-10",
    "CIFAR-100",
    "BreastMNIST",
    "PathMNIST",
    "TissueMNIST",
    "derm7point-C",
    "MSK",
    "ISIC2017",
    "DermoFit",
)

_MANIFOLDS = ["helix1d_r3", "helix1d_r12", "paraboloid3d_r12"]
_MIDL_RANGE = [GAMMA_MIN, 4.0]  # MIDL 2023: γ ~ U[γ_min, 4.0] per mini-batch


def _chapter(paper: dict[str, Any], offline: dict[str, Any], smoke: dict[str, Any]) -> dict[str, dict[str, Any]]:
    offline = {**paper, **offline}
    return {"smoke": {**offline, **smoke}, "offline": offline, "paper": paper}


#: chapter (notebook file stem) -> profile -> knob -> default
CHAPTERS: dict[str, dict[str, dict[str, Any]]] = {
    "00_theorems": _chapter(
        paper={"n_gamma": 2000, "n_lambda": 100_001},
        offline={},
        smoke={"n_gamma": 200, "n_lambda": 101},
    ),
    "01_synthetic_manifolds": _chapter(
        paper={
            "num_seeds": 5,
            "n_points": 512,
            "noise": 0.1,
            "batch_size": 32,
            "gammas_2d": [2.4, 2.8, 4.0, 6.0],
            "n_dense": 20000,
            "helix_points": 8192,
            "helix_gammas": [2.0, 4.0, 6.0],
            "grid_T": [2, 4, 8, 32, 128],
            "grid_gammas": [1.8, 2.4, 4.0, 6.0],
            "grid_batch": 128,
            # the helix stands in by 20,000 noise-free samples: distances agree with 200,000 samples to 5 decimals
            # (mean 0.43714 at T = 128, γ = 1.8) while the k-d tree answers 45× faster for points inside the helix
            "helix_dense": 20000,
            "fig7_dataset": "crescents",
            "fig7_ks": [8, 16],
            "fig7_gammas": [2.4, 2.8, 4.0, 6.0],
            "n_test": 512,
        },
        offline={},
        smoke={
            "num_seeds": 1,
            "n_points": 256,
            "n_dense": 4000,
            "helix_points": 1024,
            "grid_T": [2, 8, 32],
            "grid_gammas": [1.8, 4.0],
            "grid_batch": 32,
            "fig7_gammas": [2.8],
            "n_test": 256,
        },
    ),
    "02_realism": _chapter(
        paper={
            "dataset": "MNIST",
            "oracle_epochs": 20,
            "num_synthetic": 10000,
            "seeds": list(SEEDS),
            "batch_size": 100,
            "gammas": [2.4, 2.8, 4.0],
            "alpha": 1.0,
            "skin_datasets": ["ISIC2017", "ISIC2018"],
        },
        offline={"dataset": "MNIST-10k", "oracle_epochs": 12, "num_synthetic": 4000},
        smoke={"dataset": "digits", "oracle_epochs": 2, "num_synthetic": 300, "seeds": [0]},
    ),
    "03_intrinsic_dimension": _chapter(
        paper={
            "datasets": _MANIFOLDS + ["digits", "CIFAR-10", "CIFAR-100"],
            "table_datasets": [],
            "real_limit": None,
            "n_points": 8192,
            "ks": [8, 128],
            "gammas": [g / 2 for g in range(31)],
            "num_seeds": 3,
            "batch_size": 32,
            "midl_gamma": _MIDL_RANGE,
            "check_points": 4096,
            "bench_n": 8192,
            "bench_k": 128,
            "bench_repeats": 3,
        },
        offline={
            "datasets": _MANIFOLDS + ["digits"],
            "table_datasets": ["MNIST-10k", "Fashion-MNIST"],
            "real_limit": 2048,
            "gammas": [float(g) for g in range(16)],  # Fig. 6's γ grid at step 1 (paper profile: step 0.5)
        },
        smoke={
            "table_datasets": [],
            "real_limit": 512,
            "n_points": 256,
            "gammas": [0.0, 2.0, 4.0, 15.0],
            "num_seeds": 1,
            "check_points": 200,
            "bench_n": 1024,
            "bench_k": 32,
            "bench_repeats": 1,
        },
    ),
    "04_natural": _chapter(
        paper={
            "datasets": ["CIFAR-10", "CIFAR-100", "Fashion-MNIST", "STL-10", "Imagenette", "Imagewoof"],
            "methods": ["erm", "mixup", "zeta_mixup"],
            "gammas": [2.4, 2.8, 4.0],  # what `make paper` runs; add the MIDL range to train the MIDL runs too
            "seeds": list(SEEDS),
            "epochs": None,
            "train_subset": None,
            "threads": None,
            "workers": None,
            "cutmix_datasets": ["CIFAR-10", "CIFAR-100"],
        },
        offline={
            "cutmix_datasets": ["Fashion-MNIST"],
            # Table 4's F-MNIST row on the real Fashion-MNIST, and the real MNIST-10k; 5 seeds for the headline
            "datasets": ["Fashion-MNIST", "MNIST-10k"],
            # Table 4's three γ, and MIDL Table 1's γ ~ U[γ_min, 4] per mini-batch (the paper's claim is on CIFAR:
            # a stand-in here; ten runs, what the ledger's midl_table1 needs to be testable)
            "gammas": [2.4, 2.8, 4.0, _MIDL_RANGE],
            # 7 seeds: ζ-mixup (γ 2.8) − mixup measured +0.83 points, paired sd 0.62 on this data; 7 seeds give 80 %
            # power for that effect (stats.seeds_needed; 5 gave 62 %). MNIST-10k stays at 3 (recipes' seed_cap)
            "seeds": [0, 1, 2, 3, 4, 5, 6],
            "epochs": None,  # the offline recipes' (zmixlib.protocol.recipes.OFFLINE_RECIPES)
            "train_subset": None,
            "threads": 1,
            "workers": 2,  # two training processes of one thread each: the 2 cores, busy
        },
        smoke={
            "datasets": ["digits"],
            "cutmix_datasets": ["digits"],
            "seeds": [0],
            "epochs": 3,
            "train_subset": 512,
            "workers": 1,
        },
    ),
    "09_timing": _chapter(
        paper={
            "batch_size": 32,
            "resolution": 224,
            "dtype": "float32",
            "rounds": 15,
            "include_slow": True,
            "weight_batch_sizes": [32, 128, 512],
            "batch_sizes": [8, 16, 32, 64, 128, 256, 512],
            "fixed_resolution": 224,
            "resolutions": [32, 64, 96, 128, 224],
            "fixed_batch": 32,
            "dtypes": ["float32", "bfloat16"],
            "scaling_rounds": 5,
            "train_methods": ["mixup", "zeta_mixup", "cutmix", "cutmix_zeta", "dirichlet_mixup"],
            "train_batch_size": 128,
            "train_image_size": 32,
            "train_rounds": 15,
            "num_threads": None,
            "tp_arch": "resnet18_cifar",
            "tp_runs_per_device": [1, 2, 4, 8],
            "tp_compile": [False, True],
            "tp_steps": 20,
            "tp_rounds": 3,
            "tp_images": None,
        },
        offline={
            # bfloat16 matmuls on a CPU without native bf16 run 6-60x slower than float32 here (B = 512, 32 px:
            # 2.2 s vs 0.04 s per product), so the offline growth sweep is float32 only; the paper profile adds bf16
            "dtypes": ["float32"],
            "rounds": 7,
            "fixed_resolution": 32,
            "scaling_rounds": 3,
            # the training-step overhead at half the paper's batch and 3 rounds: at B = 128 one CPU step of the CIFAR
            # ResNet-18 takes ~6 s, and the comparison needs (1 + methods) x (2 + rounds) of them
            "train_methods": ["mixup", "zeta_mixup", "cutmix_zeta"],
            "train_batch_size": 64,
            "train_rounds": 3,
            "tp_arch": "lenet5",
            "tp_runs_per_device": [1, 2],
            "tp_compile": [False],
            "tp_images": 8192,
        },
        smoke={
            "batch_size": 16,
            "resolution": 64,
            "rounds": 3,
            "include_slow": False,
            "weight_batch_sizes": [32, 512],
            "batch_sizes": [8, 64],
            "resolutions": [32, 64],
            "fixed_batch": 16,
            "dtypes": ["float32"],
            "scaling_rounds": 2,
            "train_methods": ["mixup", "zeta_mixup"],
            "train_batch_size": 8,
            "train_image_size": 16,
            "train_rounds": 2,
            "tp_runs_per_device": [1],
            "tp_steps": 3,
            "tp_rounds": 1,
            "tp_images": 256,
        },
    ),
    "05_skin": _chapter(
        paper={
            "datasets": list(data.available("skin")),  # Table 6's ten sets, in its order
            "methods": ["erm", "mixup", "zeta_mixup"],
            "gammas": [2.4, 2.8, 4.0],
            "seeds": list(SEEDS),
            "epochs": None,  # the recipes' (50; ISIC 2018: 20)
            "train_subset": None,
            "threads": None,
            "workers": None,
            # Fig. 8: ResNet-18 on derm7point-C and ResNet-50 on ISIC 2017, 128 nearest neighbours
            "knn_runs": [["derm7point-C", "resnet18"], ["ISIC2017", "resnet50"]],
            "knn_k": 128,
        },
        # breast cancer (MLP), like PH2 / MED-NODE, and a class-imbalanced 5-class subset of the real Fashion-MNIST in
        # ISIC 2018's proportions (LeNet-5, zmixlib.data.derived): 30 runs; Fig. 8 on the latter
        offline={
            "datasets": ["breast-cancer", "Fashion-MNIST-imb5"],
            "threads": 1,
            "workers": 2,
            "knn_runs": [["Fashion-MNIST-imb5", "lenet5"]],
        },
        smoke={
            "datasets": ["breast-cancer", "digits"],
            "gammas": [2.8],
            "seeds": [0],
            **_SMOKE_RUN,
            "workers": 1,
            "knn_runs": [["digits", "digits_cnn"]],
            "knn_k": 32,
        },
    ),
    "06_medmnist": _chapter(
        # Table 7: the ten 2-D MedMNIST sets, ResNet-18 (the recipe's 100 epochs), ERM / mixup / ζ-mixup with γ = 2.8
        paper={
            "datasets": list(data.available("medmnist")),
            "methods": ["erm", "mixup", "zeta_mixup"],
            "gammas": [2.8],
            "seeds": list(SEEDS),
            "epochs": None,  # the recipe's (zmixlib.protocol.recipes: 100, LR x 0.1 at 50/75)
            "train_subset": None,
            "threads": None,
            "workers": None,
        },
        # the real MNIST-10k and Fashion-MNIST with LeNet-5 (the offline recipes' schedule), trained on "fit" (2,000
        # fixed images) and validated on "val" after every epoch
        offline={"datasets": ["MNIST-10k", "Fashion-MNIST"], "train_subset": 2000, "threads": 1, "workers": 2},
        smoke={"datasets": ["digits"], "seeds": [0], **_SMOKE_RUN, "workers": 1},
    ),
    "07_sensitivity": _chapter(
        paper={
            "datasets": ["CIFAR-10", "CIFAR-100"],
            "gammas": [round(1.8 + 0.2 * i, 1) for i in range(17)],  # Fig. 10a-b: 1.8, 2.0, ..., 5.0
            "seeds": list(SEEDS),
            "search_models": 200,  # Fig. 10c-d: 200 models per dataset, one run each
            "epochs": None,  # the recipes' (NATURAL: 200)
            "train_subset": None,
            "threads": None,
            "workers": None,
        },
        # the real Fashion-MNIST with LeNet-5 (zmixlib.protocol.recipes.OFFLINE_RECIPES): every fifth γ of the grid and the
        # first 14 of the 200 fixed search draws (one with γ < γ_min) — 12 + 14 runs, + 3 mixup runs shared with 04
        offline={
            "datasets": ["Fashion-MNIST"],
            "gammas": [1.8, 2.8, 3.8, 4.8],
            "search_models": 14,
            "threads": 1,
            "workers": 2,
        },
        smoke={
            "datasets": ["digits"],
            "gammas": [1.8, 5.0],
            "seeds": [0],
            "search_models": 3,
            **_SMOKE_RUN,
            "workers": 1,
        },
    ),
    "08_ablation": _chapter(
        paper={
            "datasets": ["CIFAR-100"],
            "seeds": list(SEEDS),
            "epochs": None,
            "train_subset": None,
            "threads": None,
            "workers": None,
        },
        # the real Fashion-MNIST (LeNet-5, batch 32: T = m = 32); mixup and ζ-mixup are chapter 04's runs
        offline={"datasets": ["Fashion-MNIST"], "threads": 1, "workers": 2},
        smoke={"datasets": ["digits"], "seeds": [0], **_SMOKE_RUN, "workers": 1},
    ),
    "10_peers": _chapter(
        paper={
            # the leaderboard: every method of the vocabulary, NATURAL recipe (ResNet-18, 200 epochs)
            "datasets": ["CIFAR-10", "CIFAR-100"],
            "methods": list(METHOD_NAMES),
            "seeds": list(SEEDS),
            "epochs": None,
            "train_subset": None,
            "threads": None,
            "workers": None,
            # k-mixup paper Table 4: Iris and Breast Cancer, 20 trials per cell, 200 epochs
            "uci_datasets": ["iris", "breast-cancer"],
            "uci_ks": [1, 2, 4, 8, 16],
            "uci_alphas": [0.05, 0.1, 1.0],
            "uci_trials": 20,
            "uci_epochs": 200,
            # k-mixup paper Table 1 (its CIFAR-10 / ResNet-18 row: the grid of its Table 10)
            "kmixup_datasets": ["CIFAR-10"],
            "kmixup_ks": [1, 2, 4, 8, 16, 32],
            "kmixup_alphas": [0.05, 0.1, 0.2, 0.5, 1.0, 10.0, 100.0],
            # MultiMix paper Table 2 (CIFAR-10/100)
            "multimix_datasets": ["CIFAR-10", "CIFAR-100"],
            # J Big Data Fig. 9's nine datasets
            "manifold_datasets": list(FIG9_DATASETS),
            # Table 9's augmentation timing: one batch [B, C, H, W]
            "lsi_batch": [32, 3, 224, 224],
            "lsi_rounds": 15,
        },
        # the real Fashion-MNIST with LeNet-5 (notebook 04's recipe: its ERM / mixup / zeta-mixup / CutMix records and
        # notebook 08's Dirichlet records are read, not retrained); the UCI table at the paper's scale; the Table 1
        # protocol at one xi (alpha_1 = 1) and k = 16; Dense MultiMix on digits (LeNet-5 has no pooled feature map);
        # Fig. 9 on the breast-cancer table (10x its recipe's epochs; digits' 10x runs need ~5 CPU-minutes, Fashion-MNIST's
        # an hour; wine, tried, is learnt perfectly by both methods: 100 % vs 100 %, 3 seeds)
        offline={
            "datasets": ["Fashion-MNIST"],
            # local synthetic instances: its per-sample loop, several times an ERM epoch, does not fit the budget (timed instead)
            "methods": [m for m in METHOD_NAMES if m != "local_synthetic_instances"],
            "threads": 1,
            "workers": 2,
            "kmixup_datasets": ["Fashion-MNIST"],
            "kmixup_ks": [1, 16],
            "kmixup_alphas": [1.0],
            "multimix_datasets": ["Fashion-MNIST", "digits"],
            "manifold_datasets": ["breast-cancer"],
            "lsi_rounds": 5,
        },
        smoke={
            "datasets": ["digits"],
            "methods": list(METHOD_NAMES),
            "seeds": [0],
            "epochs": 1,
            "train_subset": 128,
            "workers": 1,
            "uci_datasets": ["iris"],
            "uci_ks": [1, 4],
            "uci_alphas": [1.0],
            "uci_trials": 2,
            "uci_epochs": 2,
            "kmixup_datasets": ["digits"],
            "multimix_datasets": ["digits"],
            "manifold_datasets": ["wine"],
            "lsi_batch": [8, 3, 32, 32],
            "lsi_rounds": 2,
        },
    ),
    "11_robustness": _chapter(
        paper={
            # chapter 10's leaderboard (its datasets, methods, seeds, epochs) plus ζ-mixup at the J Big Data Table 4's γ
            "datasets": ["CIFAR-10", "CIFAR-100"],
            "methods": list(METHOD_NAMES),
            "gammas": [2.4, 2.8, 4.0],
            "seeds": list(SEEDS),
            "epochs": None,
            "train_subset": None,
            "threads": None,
            "workers": None,
            "test_subset": None,  # None: the whole test split
            # k-mixup Table 6 (Gaussian noise, sd ε/255) and Table 7 (FGSM ε/255; MultiMix Table 4's 8/255 among them)
            "noise_eps": [8.0, 10.0, 12.0, 14.0],
            "fgsm_eps": [0.5, 1.0, 2.0, 4.0, 8.0, 16.0],
            # MultiMix Table 4: PGD, ε = 4/255, step 2/255 (steps: torchattacks' default 10; the text gives none)
            "pgd_eps": 4.0,
            "pgd_step": 2.0,
            "pgd_steps": 10,
            "pgd_subset": None,  # None: the whole test split
            # MultiMix Table 4's rows that the engine trains: chapter 10's MultiMix runs (FGSM and PGD)
            "multimix_datasets": ["CIFAR-10", "CIFAR-100"],
            # k-mixup's MNIST protocol (Tables 1, 2, 7b): LeNet, Table 2's k × α grid (Table 7b: α = 10, k ≤ 32), 20 trials
            "mnist_datasets": ["MNIST"],
            "mnist_ks": [1, 2, 4, 8, 16, 32, 64],
            "mnist_alphas": [0.05, 0.1, 0.2, 0.5, 1.0, 10.0, 100.0],
            "mnist_seeds": list(range(20)),
            # the peers' own protocols (sections multimix_paper, kmixup_cifar: PreActResNet-18 / WRN16-8), evaluated too
            "peer_protocols": True,
        },
        # chapter 10's offline leaderboard (the real Fashion-MNIST, LeNet-5: its records are read, not retrained) and
        # chapter 04's ζ-mixup at γ = 2.4 and 4.0; chapter 10's MultiMix runs (digits: Dense MultiMix needs a pooled
        # feature map, LeNet-5 has none); PGD (10 forward-backward passes) on 1,000 fixed test images (a binomial sd of
        # at most 1.6 points per model, against MultiMix Table 4's 18-point gap); MNIST-10k with k ∈ {1, 32} at
        # α = 10 (Table 7b's two ends)
        offline={
            "datasets": ["Fashion-MNIST"],
            "methods": [m for m in METHOD_NAMES if m != "local_synthetic_instances"],
            "threads": 1,
            "workers": 2,
            "pgd_subset": 1000,
            "multimix_datasets": ["Fashion-MNIST", "digits"],
            "mnist_datasets": ["MNIST-10k"],
            "mnist_ks": [1, 32],
            "mnist_alphas": [10.0],
            "mnist_seeds": [0, 1, 2, 3, 4],
            "peer_protocols": False,  # PreActResNet-18 / WRN16-8 for hundreds of epochs: not on a CPU
        },
        smoke={
            "datasets": ["digits"],
            "methods": list(METHOD_NAMES),
            "gammas": [2.8],
            "seeds": [0],
            "epochs": 1,
            "train_subset": 128,
            "workers": 1,
            "test_subset": 100,
            "noise_eps": [8.0],
            "fgsm_eps": [8.0],
            "pgd_steps": 2,
            "multimix_datasets": ["digits"],
            "mnist_datasets": ["digits"],
            "mnist_seeds": [0],
        },
    ),
    "12_ledger": _chapter(paper={}, offline={}, smoke={}),
}


def sizes(chapter: str) -> dict[str, dict[str, Any]]:
    """``{profile: {knob: default}}`` of ``chapter`` (a notebook's file stem, e.g. ``"04_natural"``)."""
    if chapter not in CHAPTERS:
        raise ValueError(f"chapter must be one of {sorted(CHAPTERS)}, got {chapter!r}")
    return CHAPTERS[chapter]
