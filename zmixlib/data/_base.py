"""Shared pieces of :mod:`zmixlib.data`: the dataset description, the in-memory dataset, errors.

Imports no other module of :mod:`zmixlib.data` (the bottom of the package) and no torchvision/medmnist,
so that ``import zmixlib.data`` stays light.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zmixlib.core.util import DamagedFileError, sha256_of

__all__ = [
    "DatasetInfo",
    "ArrayDataset",
    "missing_dataset_error",
    "DamagedDataError",
    "damaged_dataset_error",
    "check_idx",
    "check_recorded_sha256",
    "to_tensor",
    "first_int",
    "ChecksumError",
    "verify_sha256",
    "file_mode",
    "FAMILIES",
    "HELD_OUT_SPLITS",
    "held_out_indices",
    "split_of_train",
]

FAMILIES = ("natural", "medmnist", "skin", "offline", "synthetic")
#: the two splits carved out of ``train`` for a validation protocol (MedMNIST's, notebook 06): ``fit`` = train
#: minus a stratified ``VAL_FRACTION`` held out, ``val`` = that held-out part (:func:`held_out_indices`)
HELD_OUT_SPLITS = ("fit", "val")
VAL_FRACTION = 0.1
VAL_SEED = 0


@dataclass(frozen=True)
class DatasetInfo:
    """What one registered dataset is, where it lives and how to get it.

    Attributes:
        name: the registry name (``"CIFAR-10"``, ``"ISIC2018"``, ``"crescents"``, ...).
        family: ``"natural" | "medmnist" | "skin" | "offline" | "synthetic"``.
        num_classes: number of classes ``K``; labels are ``0 .. K-1``.
        class_names: ``K`` names, ``class_names[y]`` is the name of label ``y``.
        channels: image channels (1 or 3); ``None`` for feature vectors.
        image_size: ``(H, W)`` the model sees: the native size, or the size after the papers'
            transform (:func:`zmixlib.data.transform_for`) where images vary in size; ``None`` for
            feature vectors.
        feature_dim: length of a feature vector (tabular, synthetic); ``None`` for images.
        splits: the split names :func:`zmixlib.data.load` accepts.
        folder: where the files live, relative to ``root`` (``None``: nothing on disk).
        source: citation / homepage.
        licence: the data's licence, as its publisher states it.
        obtain: how to obtain the data (the ``make data`` command, or manual steps).
        notes: label mapping, split protocol and other choices made here.
        intrinsic_dim: the manifold's intrinsic dimension (synthetic manifolds only).
        task: the MedMNIST task type (``"multi-class"``, ``"binary-class"``, ``"ordinal-regression"``, ...)
            for the MedMNIST sets, which their official metrics need; ``None`` otherwise.
    """

    name: str
    family: str
    num_classes: int
    class_names: tuple[str, ...]
    channels: int | None
    image_size: tuple[int, int] | None
    feature_dim: int | None
    splits: tuple[str, ...]
    folder: str | None
    source: str
    licence: str
    obtain: str
    notes: str = ""
    intrinsic_dim: int | None = None
    task: str | None = None
    aliases: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self):
        assert self.family in FAMILIES, self.family
        assert len(self.class_names) == self.num_classes, (self.name, len(self.class_names), self.num_classes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one ``x``: ``(C, H, W)`` for images, ``(D,)`` for feature vectors."""
        if self.feature_dim is not None:
            return (self.feature_dim,)
        return (self.channels, *self.image_size)


class ArrayDataset:
    """A ``torch.utils.data.Dataset`` over in-memory tensors; items are ``(x, int(y))``.

    ``X`` is float32 ``(N, ...)``, ``y`` int64 ``(N,)``; ``transform`` (optional) is applied to each
    ``x``. ``.X`` / ``.y`` give the whole set at once (used by :func:`zmixlib.data.as_tensors`).
    """

    def __init__(self, X, y, *, classes: tuple[str, ...] = (), transform=None):
        if len(X) != len(y):
            raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
        self.X = torch.as_tensor(X, dtype=torch.float32)
        self.y = torch.as_tensor(y, dtype=torch.int64)
        self.classes = list(classes)
        self.transform = transform

    @property
    def targets(self) -> list[int]:
        return self.y.tolist()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int):
        x = self.X[index]
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.y[index])

    def __repr__(self) -> str:
        return f"ArrayDataset(n={len(self)}, x_shape={tuple(self.X.shape[1:])}, classes={len(self.classes)})"


def make_command(name: str) -> str:
    return f"make data DATASETS={name}"


def missing_dataset_error(info: DatasetInfo, path: Path, detail: str = "") -> FileNotFoundError:
    """The error every loader raises when a dataset's files are absent (``download=False``)."""
    how = f"run `{make_command(info.name)}`"
    if info.family == "skin":
        how += " to see where to get it and the folder layout expected"
    else:
        how += " (or pass download=True)"
    msg = f"{info.name} not found at {path}"
    if detail:
        msg += f" ({detail})"
    return FileNotFoundError(f"{msg}; {how}.")


class DamagedDataError(DamagedFileError):
    """A dataset file that is there but damaged (truncated, overwritten, the wrong file): the message names the
    file, what was expected and what was found, and the ``make data`` command that repairs it."""


def damaged_dataset_error(info: DatasetInfo, path: Path, expected: str, found: str) -> DamagedDataError:
    """The error every loader raises for a damaged file (never "not found": the file is there)."""
    how = "to see where to get it again" if info.family == "skin" else "to fetch it again"
    return DamagedDataError(
        f"{info.name}: {path} is damaged: expected {expected}, found {found}; delete it and run "
        f"`{make_command(info.name)}` {how}."
    )


@cache
def recorded_sha256() -> dict:
    """``zmixlib/resources/data_checksums.json``: the SHA-256 sums recorded for the datasets that have them."""
    return json.loads(files("zmixlib").joinpath("resources/data_checksums.json").read_text(encoding="utf-8"))


_VERIFIED: set[tuple[str, int, int, str]] = set()  # (path, size, mtime_ns, sha256) already checked in this process


def check_recorded_sha256(info: DatasetInfo, path: Path, expected: str) -> None:
    """Raise :func:`damaged_dataset_error` unless ``path`` has the recorded SHA-256 ``expected`` (hashed once per
    process while the file's size and modification time stay the same)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, expected)
    if key in _VERIFIED:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise damaged_dataset_error(info, path, f"the recorded sha256 {expected}", f"sha256 {actual}")
    _VERIFIED.add(key)


#: IDX element types (the third byte of the magic number) -> NumPy dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def check_idx(info: DatasetInfo, path: Path, *, ndim: int, dims: tuple[int, ...] = (), count: int | None = None) -> int:
    """Check the IDX file ``path`` (MNIST's format: magic ``0 0 <type> <ndim>``, ``ndim`` big-endian sizes, data)
    without reading its data: the magic, the number of dimensions, the trailing sizes ``dims`` (e.g. 28, 28), the
    number of items ``count`` when given, and that the file's size is exactly what the header says (a truncated or
    padded file is damaged). Returns the number of items; raises :func:`damaged_dataset_error` otherwise."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4 + 4 * ndim)
    if len(head) < 4 + 4 * ndim:
        raise damaged_dataset_error(info, path, f"an IDX header of {4 + 4 * ndim} bytes", f"a file of {size} bytes")
    magic = head[:4]
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_TYPES or magic[3] != ndim:
        raise damaged_dataset_error(
            info, path, f"the IDX magic number 00 00 08 {ndim:02x} ({ndim}-d unsigned bytes)", f"{magic.hex(' ')}"
        )
    shape = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if dims and shape[1:] != tuple(dims):
        raise damaged_dataset_error(info, path, f"items of shape {tuple(dims)}", f"{shape[1:]}")
    if count is not None and shape[0] != count:
        raise damaged_dataset_error(info, path, f"{count} items (as its partner file)", f"{shape[0]}")
    itemsize = int(np.dtype(_IDX_TYPES[magic[2]]).itemsize)
    want = 4 + 4 * ndim + int(np.prod(shape)) * itemsize
    if size != want:
        raise damaged_dataset_error(
            info, path, f"{want} bytes (header: {shape[0]} items of shape {shape[1:]})", f"{size} bytes"
        )
    return shape[0]


def to_tensor(img: Any):
    """PIL image -> float tensor ``(C, H, W)`` in ``[0, 1]`` (the default image transform)."""
    # deferred: torchvision costs seconds to import and only image datasets need it
    from torchvision.transforms.functional import pil_to_tensor

    return pil_to_tensor(img).float().div_(255.0)


def first_int(target: Any) -> int:
    """medmnist gives labels as arrays of shape ``(1,)``: return the int inside."""
    return int(np.asarray(target).reshape(-1)[0])


class ChecksumError(DamagedDataError):
    """A file's SHA-256 differs from the recorded one (the message names the file, expected and actual digest)."""


def verify_sha256(path: str | Path, expected: str) -> None:
    """Raise :class:`ChecksumError` unless the file at ``path`` has SHA-256 ``expected``."""
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumError(f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}")


def file_mode() -> int:
    """The permission bits a new file gets under the current umask (``0o666 & ~umask``); the atomic writer's
    temporary files are created ``0600``, which a data file should not keep."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def held_out_indices(labels: Any, *, fraction: float = VAL_FRACTION, seed: int = VAL_SEED) -> np.ndarray:
    """Sorted positions (into ``labels``) of a stratified held-out part: for each class in increasing label
    order, a permutation of its positions by one ``numpy.random.RandomState(seed)`` (whose stream NumPy keeps
    frozen across versions), of which the first ``round(fraction * n_c)``. Derived from the labels alone, so
    the same on every machine; the splits ``val`` (these) and ``fit`` (the rest of ``train``) of
    Fashion-MNIST, MNIST-10k and the scikit-learn sets."""
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.RandomState(seed)
    held = [np.zeros(0, dtype=np.int64)]
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        held.append(idx[rng.permutation(len(idx))[: int(round(fraction * len(idx)))]])
    return np.sort(np.concatenate(held))


def split_of_train(train_labels: Any, split: str) -> np.ndarray:
    """Positions (into the ``train`` split) of ``split``: ``"fit"``, ``"val"`` (:func:`held_out_indices`) or
    ``"train"`` (all)."""
    n = len(np.asarray(train_labels).reshape(-1))
    if split == "train":
        return np.arange(n)
    val = held_out_indices(train_labels)
    if split == "val":
        return val
    if split == "fit":
        keep = np.ones(n, dtype=bool)
        keep[val] = False
        return np.flatnonzero(keep)
    raise ValueError(f"split must be one of ['train', 'fit', 'val'], got {split!r}")
