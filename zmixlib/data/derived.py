"""Datasets derived from a real one by a fixed selection of its items.

``Fashion-MNIST-imb5`` — a class-imbalanced 5-class subset of the real Fashion-MNIST, the offline stand-in of
the skin lesion chapter (notebook 05): the five upper-body garments (T-shirt/top, Pullover, Dress, Coat,
Shirt: the classes Fashion-MNIST confuses most, as skin lesion classes are confused), with the class counts in
the proportions of the ISIC 2018 Task 3 training set in the 5-class scheme (:data:`ISIC2018_COUNTS`: NEV 67 %,
MEL 11 %, SK 11 %, MISC 6 %, BCC 5 %), so that balanced accuracy and F1-macro differ from accuracy as they
do on the skin sets. Each garment takes one skin class's share (:data:`ROLES`): the majority T-shirt/top that
of the nevi, Shirt (the hardest class) that of melanoma.

Selection (deterministic, derived from the base set's labels): within each chosen class, in increasing label
order, a permutation of its indices in the base split by one ``numpy.random.default_rng(SELECTION_SEED)``, of
which the first ``n_c`` (:func:`selection`); the items keep the base split's order. The SHA-256 of each split's
indices is stored (:data:`SELECTION_SHA256`) and checked on every load, so the selection can never drift
(another NumPy, other base files) unnoticed. ``train`` is drawn from Fashion-MNIST's training set (:data:`TRAIN_SIZE` images),
``test`` from its test set (:data:`TEST_SIZE`), both with the same proportions (the ISIC test sets are
imbalanced too). Labels are ``0 .. 4`` in the order of :data:`CLASSES`.

The items are Fashion-MNIST's own (a torchvision ``FashionMNIST`` restricted to the selection: same pixels,
same ``ToFloatTensor`` pipeline, the same device-resident fast path in :mod:`zmixlib.data.device_data`). When
Fashion-MNIST is absent the error names its folder and ``make data DATASETS=Fashion-MNIST``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Subset

import zmixlib.data.natural as natural
import zmixlib.data.sources as sources
from zmixlib.data._base import HELD_OUT_SPLITS, DatasetInfo, split_of_train

__all__ = [
    "NAME",
    "INFO",
    "INFOS",
    "NAMES",
    "CLASSES",
    "ROLES",
    "ISIC2018_COUNTS",
    "SELECTION_SHA256",
    "class_counts",
    "selection",
    "selection_sha256",
    "load",
    "download",
]

NAME = "Fashion-MNIST-imb5"
BASE = "Fashion-MNIST"
#: the ISIC 2018 Task 3 training set (HAM10000, 10,015 images) in the 5-class scheme: BCC; NV -> NEV; MEL;
#: BKL -> SK; AKIEC + DF + VASC (327 + 115 + 142) -> MISC (Codella et al. 2019; Tschandl et al. 2018)
ISIC2018_COUNTS = {"BCC": 514, "NEV": 6705, "MEL": 1113, "SK": 1099, "MISC": 584}
#: Fashion-MNIST label -> the skin class whose share it takes
ROLES = {0: "NEV", 2: "SK", 3: "BCC", 4: "MISC", 6: "MEL"}
_BASE_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CLASSES = tuple(_BASE_CLASSES[c] for c in sorted(ROLES))
TRAIN_SIZE = 3000
TEST_SIZE = 1400  # the largest class takes 937 of Fashion-MNIST's 1,000 test images of T-shirt/top
SELECTION_SEED = 0
#: SHA-256 of each split's selected indices (little-endian int64) into Fashion-MNIST's split
SELECTION_SHA256 = {
    "train": "9527f78329450a5bc55e8c2a79b530907768ff23603adebba71eb46c758a929c",
    "test": "fa2f8f0598c45c62e72257000aad2728f2774f876f24e28f5b0e0c059118372f",
}

INFO = DatasetInfo(
    name=NAME,
    family="natural",
    num_classes=len(CLASSES),
    class_names=CLASSES,
    channels=1,
    image_size=(28, 28),
    feature_dim=None,
    splits=("train", "test", *HELD_OUT_SPLITS),
    folder="FashionMNIST",
    source="a fixed class-imbalanced subset of Fashion-MNIST (Xiao, Rasul, Vollgraf 2017), in the class "
    "proportions of ISIC 2018 Task 3 (5-class scheme)",
    licence="MIT (Fashion-MNIST)",
    obtain=f"derived from {BASE}: make data DATASETS={BASE}",
    notes=f"5 Fashion-MNIST classes {', '.join(CLASSES)} taking the shares of "
    f"{', '.join(ROLES[c] for c in sorted(ROLES))} in ISIC 2018 (NEV 67 %, MEL 11 %, SK 11 %, MISC 6 %, BCC 5 %); "
    f"{TRAIN_SIZE} train images from Fashion-MNIST's training set, {TEST_SIZE} test images from its test set; "
    f"a fixed selection (numpy default_rng({SELECTION_SEED}) per class).",
    aliases=("FMNIST-imb5", "F-MNIST-imb5"),
)
INFOS = [INFO]
NAMES = tuple(i.name for i in INFOS)


def class_counts(total: int) -> dict[int, int]:
    """Fashion-MNIST label -> number of items, ``total`` split in the ISIC 2018 proportions (largest remainder)."""
    shares = {c: ISIC2018_COUNTS[role] / sum(ISIC2018_COUNTS.values()) * total for c, role in ROLES.items()}
    counts = {c: int(np.floor(s)) for c, s in shares.items()}
    by_remainder = sorted(shares, key=lambda c: (-(shares[c] - counts[c]), c))
    for c in by_remainder[: total - sum(counts.values())]:
        counts[c] += 1
    return counts


def selection(labels, total: int, *, seed: int = SELECTION_SEED) -> np.ndarray:
    """Sorted indices into ``labels`` (the base split's labels) of the derived split with ``total`` items.

    For each class of :data:`ROLES` in increasing label order, its indices permuted by one
    ``numpy.random.default_rng(seed)``, of which the first ``class_counts(total)[c]``.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for c, n in sorted(class_counts(total).items()):
        idx = np.flatnonzero(labels == c)
        if n > len(idx):
            raise ValueError(f"{NAME}: class {c} needs {n} items, the base split has {len(idx)}")
        chosen.append(idx[rng.permutation(len(idx))[:n]])
    return np.sort(np.concatenate(chosen))


def selection_sha256(idx: np.ndarray) -> str:
    """SHA-256 of indices as little-endian int64 (what :data:`SELECTION_SHA256` stores)."""
    return hashlib.sha256(np.asarray(idx).astype("<i8").tobytes()).hexdigest()


def download(info: DatasetInfo, root: Path) -> Path:
    """Make the base set present under ``root`` (Fashion-MNIST's source chain); return its folder."""
    sources.obtain(BASE, root)
    return Path(root) / info.folder


def load(info: DatasetInfo, split: str, root: Path, download: bool, transform):
    """The derived split: Fashion-MNIST's ``split`` (read by :mod:`zmixlib.data.natural`; absent -> its error,
    naming the folder and ``make data DATASETS=Fashion-MNIST``) restricted to :func:`selection`, labels
    renumbered ``0 .. 4`` in the order of :data:`CLASSES`.

    Raises:
        ValueError: the selection's checksum differs from :data:`SELECTION_SHA256` (not Fashion-MNIST's files).
    """
    if split in HELD_OUT_SPLITS:  # "fit" / "val": fixed parts of the derived train split (a validation split)
        full = load(info, "train", root, download, transform)
        return Subset(full, split_of_train(full.targets, split).tolist())
    if download:
        sources.obtain(BASE, root)
    base_info = next(i for i in natural.INFOS if i.name == BASE)
    ds = natural.load(base_info, split, Path(root), False, transform)
    labels = torch.as_tensor(ds.targets).numpy()
    idx = selection(labels, TRAIN_SIZE if split == "train" else TEST_SIZE)
    digest = selection_sha256(idx)
    if digest != SELECTION_SHA256[split]:
        raise ValueError(
            f"{NAME}: the {split} selection has sha256 {digest}, not the stored {SELECTION_SHA256[split]}: the files "
            f"under {Path(root) / info.folder} are not Fashion-MNIST's; rerun `make data DATASETS={BASE}`"
        )
    renumber = np.full(len(_BASE_CLASSES), -1, dtype=np.int64)
    renumber[sorted(ROLES)] = np.arange(len(ROLES))
    # the torchvision dataset itself, restricted: __getitem__ reads .data/.targets, so pixels and pipeline stay
    ds.data = ds.data[torch.from_numpy(idx)].clone()
    ds.targets = torch.from_numpy(renumber[labels[idx]])
    ds.classes = list(info.class_names)
    return ds
