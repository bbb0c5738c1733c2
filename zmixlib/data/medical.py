"""MedMNIST v2 (28x28) through the medmnist package's own dataset classes.

Files live at ``root/medmnist/<flag>.npz`` (``flag`` = lower-case name, e.g. ``pathmnist.npz``), the
official Zenodo archives; the official train/val/test splits are used. Labels come out as plain
ints (medmnist gives arrays of shape ``(1,)``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from zmixlib.data._base import DatasetInfo, damaged_dataset_error, first_int, missing_dataset_error

NAMES = (
    "PathMNIST",
    "DermaMNIST",
    "OCTMNIST",
    "PneumoniaMNIST",
    "BloodMNIST",
    "TissueMNIST",
    "BreastMNIST",
    "OrganAMNIST",
    "OrganCMNIST",
    "OrganSMNIST",
)
FOLDER = "medmnist"


def flag(name: str) -> str:
    return name.lower()


def make_info(name: str) -> DatasetInfo:
    # deferred (here and in load): medmnist costs seconds to import and only the MedMNIST sets need it
    from medmnist.info import HOMEPAGE, INFO

    meta = INFO[flag(name)]
    labels = meta["label"]
    classes = tuple(labels[str(i)] for i in range(len(labels)))
    n = meta["n_samples"]
    return DatasetInfo(
        name=name,
        family="medmnist",
        num_classes=len(classes),
        class_names=classes,
        channels=meta["n_channels"],
        image_size=(28, 28),
        feature_dim=None,
        splits=("train", "val", "test"),
        folder=f"{FOLDER}/{flag(name)}.npz",
        source=f"Yang et al., MedMNIST v2, Sci Data 2023: {HOMEPAGE}; {meta['url']}",
        licence=meta["license"],
        obtain=f"make data DATASETS={name}  (medmnist download from Zenodo)",
        notes=f"{meta['task']}; official splits train/val/test = {n['train']}/{n['val']}/{n['test']}.",
        task=meta["task"],
    )


def load(info: DatasetInfo, split: str, root: Path, download: bool, transform):
    """The medmnist dataset object for ``info`` (see :func:`zmixlib.data.load`)."""
    import medmnist
    from medmnist.info import INFO

    folder = root / FOLDER
    path = root / info.folder
    if download:
        folder.mkdir(parents=True, exist_ok=True)
    elif not path.is_file():
        raise missing_dataset_error(info, path)
    cls = getattr(medmnist, INFO[flag(info.name)]["python_class"])
    try:
        return cls(split=split, transform=transform, target_transform=first_int, download=download, root=str(folder))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:  # there, but unreadable
        if download or not path.is_file():
            raise
        raise damaged_dataset_error(
            info,
            path,
            f"a MedMNIST .npz archive holding {split}_images and {split}_labels",
            f"{type(err).__name__}: {err} ({path.stat().st_size} bytes)",
        ) from None


def download(info: DatasetInfo, root: Path) -> Path:
    load(info, "train", root, True, None)
    return root / info.folder
