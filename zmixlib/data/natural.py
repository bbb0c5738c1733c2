"""Natural images: MNIST, MNIST-10k, Fashion-MNIST, CIFAR-10/100, STL-10, Imagenette, Imagewoof.

All are read by torchvision except MNIST-10k (:mod:`zmixlib.data.mnist10k`). On-disk layouts (under
``root``), as torchvision writes them:

- ``MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (and ``FashionMNIST/raw/...``)
- ``MNIST-10k/mnist10k.npz`` (ours; see :mod:`zmixlib.data.mnist10k`)
- ``cifar-10-batches-py/`` and ``cifar-100-python/`` (the python pickles)
- ``stl10_binary/{train,test}_{X,y}.bin``
- ``imagenette2[-320|-160]/{train,val}/<wnid>/*.JPEG``, ``imagewoof2[-320|-160]/{train,val}/<wnid>/*.JPEG``

Imagenette/Imagewoof have no official test split: ``split="test"`` is the official ``val`` folder,
which is what the papers report on.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from torch.utils.data import Subset

import zmixlib.data.mnist10k as mnist10k
from zmixlib.data._base import (
    HELD_OUT_SPLITS,
    DatasetInfo,
    check_idx,
    check_recorded_sha256,
    damaged_dataset_error,
    missing_dataset_error,
    recorded_sha256,
    split_of_train,
)

CIFAR100_CLASSES = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can "
    "castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin "
    "elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster "
    "man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck "
    "pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk "
    "skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger "
    "tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm"
).split()

# Sorted WordNet ids (the label order of torchvision's ImageFolder-style loaders).
IMAGENETTE_WNIDS = {
    "n01440764": "tench",
    "n02102040": "English springer",
    "n02979186": "cassette player",
    "n03000684": "chain saw",
    "n03028079": "church",
    "n03394916": "French horn",
    "n03417042": "garbage truck",
    "n03425413": "gas pump",
    "n03445777": "golf ball",
    "n03888257": "parachute",
}
# The ImageNet synsets (the label dictionary in the fastai README scrambles these names).
IMAGEWOOF_WNIDS = {
    "n02086240": "Shih-Tzu",
    "n02087394": "Rhodesian ridgeback",
    "n02088364": "beagle",
    "n02089973": "English foxhound",
    "n02093754": "Border terrier",
    "n02096294": "Australian terrier",
    "n02099601": "golden retriever",
    "n02105641": "Old English sheepdog",
    "n02111889": "Samoyed",
    "n02115641": "dingo",
}
FASTAI_URL = "https://s3.amazonaws.com/fast-ai-imageclas"
# Preferred first: the full-size archive, then the 320 px and 160 px ones (all resized to 224 for training).
IMAGENETTE_FOLDERS = {
    "Imagenette": ("imagenette2", "imagenette2-320", "imagenette2-160"),
    "Imagewoof": ("imagewoof2", "imagewoof2-320", "imagewoof2-160"),
}
TORCHVISION_SIZE = {"": "full", "-320": "320px", "-160": "160px"}


def _info(name, classes, channels, size, folder, source, licence, notes="", splits=("train", "test"), aliases=()):
    return DatasetInfo(
        name=name,
        family="natural",
        num_classes=len(classes),
        class_names=tuple(classes),
        channels=channels,
        image_size=size,
        feature_dim=None,
        splits=splits,
        folder=folder,
        source=source,
        licence=licence,
        obtain=f"make data DATASETS={name}  (torchvision download)",
        notes=notes,
        aliases=aliases,
    )


INFOS = [
    _info(
        "MNIST",
        [str(i) for i in range(10)],
        1,
        (28, 28),
        "MNIST",
        "LeCun, Cortes, Burges: http://yann.lecun.com/exdb/mnist/",
        "CC BY-SA 3.0",
        "60,000 train / 10,000 test handwritten digits.",
    ),
    mnist10k.INFO,
    _info(
        "Fashion-MNIST",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        1,
        (28, 28),
        "FashionMNIST",
        "Xiao, Rasul, Vollgraf 2017: https://github.com/zalandoresearch/fashion-mnist",
        "MIT",
        "60,000 train / 10,000 test Zalando article images; 'val' = a stratified 10 % of train "
        "(zmixlib.data._base.held_out_indices), 'fit' = the rest of train.",
        splits=("train", "test", *HELD_OUT_SPLITS),
        aliases=("F-MNIST", "FMNIST"),
    ),
    _info(
        "CIFAR-10",
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
        3,
        (32, 32),
        "cifar-10-batches-py",
        "Krizhevsky 2009: https://www.cs.toronto.edu/~kriz/cifar.html",
        "no licence stated (free for research use)",
        "50,000 train / 10,000 test.",
    ),
    _info(
        "CIFAR-100",
        CIFAR100_CLASSES,
        3,
        (32, 32),
        "cifar-100-python",
        "Krizhevsky 2009: https://www.cs.toronto.edu/~kriz/cifar.html",
        "no licence stated (free for research use)",
        "50,000 train / 10,000 test; the 100 fine labels.",
    ),
    _info(
        "STL-10",
        ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"],
        3,
        (96, 96),
        "stl10_binary",
        "Coates, Lee, Ng 2011: https://cs.stanford.edu/~acoates/stl10/",
        "no licence stated (images from ImageNet)",
        "5,000 labelled train / 8,000 test; the unlabelled images are not used.",
    ),
    _info(
        "Imagenette",
        IMAGENETTE_WNIDS.values(),
        3,
        (224, 224),
        "imagenette2",
        "fast.ai: https://github.com/fastai/imagenette",
        "Apache 2.0 (images from ImageNet)",
        "10 easy ImageNet classes; split 'test' is the official 'val' folder. Any of imagenette2, "
        "imagenette2-320, imagenette2-160 is used (first found); `make data` fetches the 320 px one. "
        "Resized to 224x224 by transform_for().",
    ),
    _info(
        "Imagewoof",
        IMAGEWOOF_WNIDS.values(),
        3,
        (224, 224),
        "imagewoof2",
        "fast.ai: https://github.com/fastai/imagenette",
        "Apache 2.0 (images from ImageNet)",
        "10 dog breeds; split 'test' is the official 'val' folder; read with ImageFolder and the fixed "
        "WordNet-id order above. Any of imagewoof2, imagewoof2-320, imagewoof2-160 is used; `make data` "
        "fetches the 320 px one. Resized to 224x224 by transform_for().",
    ),
]


def _existing(root: Path, folders) -> Path | None:
    for folder in folders:
        if (root / folder).is_dir():
            return root / folder
    return None


def _required(info: DatasetInfo, root: Path, split: str) -> list[Path]:
    name = info.name
    if name in ("MNIST", "Fashion-MNIST"):
        raw = root / info.folder / "raw"
        return [raw / f"{p}-{k}-ubyte" for p in ("train", "t10k") for k in ("images-idx3", "labels-idx1")]
    if name == "CIFAR-10":
        d = root / info.folder
        return [d / "batches.meta", *(d / f"data_batch_{i}" for i in range(1, 6)), d / "test_batch"]
    if name == "CIFAR-100":
        d = root / info.folder
        return [d / "meta", d / "train", d / "test"]
    if name == "STL-10":
        d = root / info.folder
        return [d / f"{s}_{k}.bin" for s in ("train", "test") for k in ("X", "y")]
    raise AssertionError(name)


def load(info: DatasetInfo, split: str, root: Path, download: bool, transform):
    """Build the torchvision dataset for ``info`` (see :func:`zmixlib.data.load`)."""
    name = info.name
    if name == mnist10k.NAME:
        return mnist10k.load(info, split, root, download, transform)
    if name in IMAGENETTE_FOLDERS:
        return _load_imagenette(info, split, root, download, transform)
    if split in HELD_OUT_SPLITS:  # "fit" / "val": fixed parts of the train split (MedMNIST's protocol, notebook 06)
        full = load(info, "train", root, download, transform)
        return Subset(full, split_of_train(full.targets, split).tolist())
    # deferred (as in the functions below): torchvision costs seconds to import, only these loaders need it
    import torchvision.datasets as tvd

    missing = [p for p in _required(info, root, split) if not p.is_file()]
    if missing and not download:
        folder = root / info.folder
        raise missing_dataset_error(
            info, folder, f"missing {missing[0].relative_to(folder).as_posix()}" if folder.is_dir() else ""
        )
    if download:
        root.mkdir(parents=True, exist_ok=True)
    train = split == "train"
    if name in ("MNIST", "Fashion-MNIST") and not missing:  # headers and sizes, before torchvision reads them
        _check_mnist_files(info, root, "train" if train else "t10k")
    try:
        if name == "MNIST":
            return tvd.MNIST(str(root), train=train, transform=transform, download=download)
        if name == "Fashion-MNIST":
            return tvd.FashionMNIST(str(root), train=train, transform=transform, download=download)
        if name == "CIFAR-10":
            return tvd.CIFAR10(str(root), train=train, transform=transform, download=download)
        if name == "CIFAR-100":
            return tvd.CIFAR100(str(root), train=train, transform=transform, download=download)
        if name == "STL-10":
            return tvd.STL10(str(root), split=split, transform=transform, download=download)
    except RuntimeError as err:  # torchvision: "Dataset not found or corrupted"
        if missing:
            raise missing_dataset_error(info, root / info.folder, f"torchvision says: {err}") from err
        raise damaged_dataset_error(info, root / info.folder, "files torchvision can read", f"{err}") from None
    except (EOFError, ValueError, OSError, pickle.UnpicklingError) as err:  # every file there, one unreadable
        if download:
            raise
        raise damaged_dataset_error(
            info, root / info.folder, "files torchvision can read", f"{type(err).__name__}: {err}"
        ) from None
    raise AssertionError(name)


#: items in MNIST's and Fashion-MNIST's official IDX files, per file prefix
OFFICIAL_COUNTS = {"train": 60000, "t10k": 10000}


def _check_mnist_files(info: DatasetInfo, root: Path, prefix: str) -> None:
    """The IDX pair of one split (``prefix`` ``train`` or ``t10k``): 28x28 images, as many labels as images, each
    label in ``0 .. 9``, and the recorded SHA-256 of files of the official size where one is recorded
    (Fashion-MNIST's); :class:`~zmixlib.data._base.DamagedDataError` naming the file otherwise."""
    raw = root / info.folder / "raw"
    images_path = raw / f"{prefix}-images-idx3-ubyte"
    n = check_idx(info, images_path, ndim=3, dims=(28, 28))
    labels_path = raw / f"{prefix}-labels-idx1-ubyte"
    check_idx(info, labels_path, ndim=1, count=n)
    recorded = recorded_sha256().get(info.name, {}).get("files", {})
    if n == OFFICIAL_COUNTS[prefix]:  # the official files (not a subset or a test's): their recorded SHA-256
        for path in (images_path, labels_path):
            rel = path.relative_to(root).as_posix()
            if rel in recorded:
                check_recorded_sha256(info, path, recorded[rel])
    labels = np.fromfile(labels_path, dtype=np.uint8, offset=8)
    if labels.size and int(labels.max()) >= info.num_classes:
        raise damaged_dataset_error(
            info, labels_path, f"labels in 0 .. {info.num_classes - 1}", f"label {int(labels.max())}"
        )


def _load_imagenette(info: DatasetInfo, split: str, root: Path, download: bool, transform):
    folders = IMAGENETTE_FOLDERS[info.name]
    base = _existing(root, folders)
    if base is None:
        if not download:
            raise missing_dataset_error(info, root / folders[0], f"nor {', '.join(folders[1:])}")
        base = download_imagenette(info.name, root)
    sub = "train" if split == "train" else "val"
    if not (base / sub).is_dir():
        raise missing_dataset_error(info, base / sub)
    if info.name == "Imagenette":
        import torchvision.datasets as tvd

        size = TORCHVISION_SIZE[base.name[len(folders[0]) :]]
        return tvd.Imagenette(str(root), split=sub, size=size, transform=transform)
    # deferred: _folders imports torchvision (seconds), needed only for Imagewoof
    from zmixlib.data._folders import FixedClassImageFolder

    return FixedClassImageFolder(str(base / sub), tuple(IMAGEWOOF_WNIDS), transform=transform)


def download_imagenette(name: str, root: Path, size: str = "-320") -> Path:
    """Download and extract the ``size`` archive of Imagenette/Imagewoof into ``root``."""
    from torchvision.datasets.utils import download_and_extract_archive

    folder = IMAGENETTE_FOLDERS[name][0] + size
    root.mkdir(parents=True, exist_ok=True)
    download_and_extract_archive(f"{FASTAI_URL}/{folder}.tgz", str(root))
    return root / folder


def download(info: DatasetInfo, root: Path) -> Path:
    """Download ``info`` into ``root`` (no-op when already there); return its folder."""
    if info.name in IMAGENETTE_FOLDERS:
        base = _existing(root, IMAGENETTE_FOLDERS[info.name])
        return base if base is not None else download_imagenette(info.name, root)
    for split in ("train", "test"):
        load(info, split, root, True, None)
    return root / info.folder
