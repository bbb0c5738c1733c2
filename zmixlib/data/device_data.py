"""Device-resident data: a whole split as one tensor on the training device, batched by index.

For data that fit in memory (MNIST-like, CIFAR, MedMNIST at 28–64 px) the DataLoader's per-item work (PIL
image, ``ToFloatTensor``, collate) costs more than a small model's step: measured on 2 CPU cores, it
delivers Fashion-MNIST at ~31,000 images/s where indexing one tensor delivers ~660,000. Here a split is
materialised once — ``uint8`` where the data is ``uint8`` — and each mini-batch is ``x[idx]`` on the
device, converted to float (``/ 255``) there.

**Same sampling as the DataLoader.** :func:`index_batches` draws each epoch's batches through
``DataLoader(range(n), shuffle=True, generator=g)``: the same ``RandomSampler``/``BatchSampler`` code,
consuming ``g`` exactly as the engine's DataLoader over the dataset does. For a given seed both paths see
the same batches in the same order, and — the per-item transform being deterministic — the same values:
a run's record does not depend on which path fed it (``tests/test_device_data.py``).

**Where it applies** (:func:`plan`): the per-item transform is deterministic (none, ``ToFloatTensor``,
resizes, centre crops, normalisation; a random or unknown one such as ``RandomHorizontalFlip`` stays in the
DataLoader — the engine draws flips on the device from its own generator, ``RunSpec.hflip`` — and so does a
dataset whose item changes from one read to the next), items are
feature vectors or images of side ≤ :data:`MAX_SIDE` px, and the split takes at most
:data:`MEMORY_FRACTION` of the device's free memory. Larger images keep the DataLoader path.

Used by :mod:`zmixlib.engine.train` (``RunSpec.device_resident``) and :mod:`zmixlib.bench.throughput`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from zmixlib.core.checks import check_int
from zmixlib.data import ArrayDataset
from zmixlib.data._base import first_int
from zmixlib.data.transforms import CentreSquareCrop, ToFloatTensor

__all__ = ["MAX_SIDE", "MEMORY_FRACTION", "DeviceData", "Plan", "plan", "materialize", "index_batches", "free_memory"]

#: Largest image side (px) kept on the device; larger images (skin lesions, Imagenette) use the DataLoader.
MAX_SIDE = 64
#: Largest share of the device's free memory one split may take.
MEMORY_FRACTION = 0.25

# Per-item transforms that give the same output for the same input (no random draw).
_DETERMINISTIC = (
    ToFloatTensor,
    CentreSquareCrop,
    T.ToTensor,
    T.PILToTensor,
    T.ConvertImageDtype,
    T.Resize,
    T.CenterCrop,
    T.Normalize,
    T.Grayscale,
)
# Transforms whose output is exactly the stored uint8 pixels / 255 (the fast paths read the pixels directly).
_PLAIN = (ToFloatTensor, T.ToTensor)
# torchvision datasets whose ``.data`` are the uint8 pixels ``__getitem__`` turns into a PIL image.
_MNIST_LIKE = (torchvision.datasets.MNIST, torchvision.datasets.FashionMNIST, torchvision.datasets.KMNIST)
_CIFAR_LIKE = (torchvision.datasets.CIFAR10, torchvision.datasets.CIFAR100)


class DeviceData:
    """A split held as tensors on one device: ``x`` ``(N, ...)`` (uint8 pixels or float), ``y`` ``(N,)`` int64.

    ``batch(idx)`` returns ``(x[idx] as float, y[idx])``; uint8 pixels are divided by 255 on the device,
    which is bit for bit what ``ToFloatTensor`` gives per item.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, *, source: str):
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
        self.x, self.y, self.source = x, y.long(), source

    def __len__(self) -> int:
        return len(self.y)

    @property
    def device(self) -> torch.device:
        return self.x.device

    @property
    def nbytes(self) -> int:
        return self.x.numel() * self.x.element_size() + self.y.numel() * self.y.element_size()

    @property
    def storage(self) -> str:
        return str(self.x.dtype).replace("torch.", "")

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` of the items ``idx`` (a tensor of indices on :attr:`device`)."""
        x = self.x.index_select(0, idx)
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        return x, self.y.index_select(0, idx)

    def sequential(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The split in order, ``batch_size`` items at a time (evaluation)."""
        for start in range(0, len(self), batch_size):
            x = self.x[start : start + batch_size]
            yield (x.float().div_(255.0) if x.dtype == torch.uint8 else x), self.y[start : start + batch_size]

    def __repr__(self) -> str:
        return f"DeviceData(n={len(self)}, x={tuple(self.x.shape[1:])} {self.storage}, {self.device}, {self.source})"


@dataclass(frozen=True)
class Plan:
    """Whether a split goes on the device: ``resident``, and why (``reason``), with its size in bytes."""

    resident: bool
    reason: str
    nbytes: int | None = None


def free_memory(device: torch.device) -> int:
    """Bytes free on ``device``: ``torch.cuda.mem_get_info`` on CUDA, ``MemAvailable`` on the host."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _unwrap(ds: Dataset) -> tuple[Dataset, list[int] | None]:
    """``Subset`` chains → (base dataset, indices into it or ``None`` for all)."""
    idx: list[int] | None = None
    while isinstance(ds, Subset):
        inner = list(ds.indices)
        idx = inner if idx is None else [inner[i] for i in idx]
        ds = ds.dataset
    return ds, idx


def _steps(transform) -> list | None:
    """The transform as a flat list of steps (``None`` stays ``[]``); ``None`` if it is not a plain callable chain."""
    if transform is None:
        return []
    if isinstance(transform, T.Compose):
        out = []
        for t in transform.transforms:
            inner = _steps(t)
            if inner is None:
                return None
            out += inner
        return out
    return [transform]


def _random_step(ds: Dataset) -> str | None:
    """The name of a per-item transform that is random or unknown, else ``None``."""
    for attr in ("transform", "target_transform"):
        steps = _steps(getattr(ds, attr, None))
        if steps is None:
            return type(getattr(ds, attr)).__name__
        for t in steps:
            if attr == "target_transform" and t is first_int:
                continue
            if not isinstance(t, _DETERMINISTIC):
                return getattr(t, "__name__", type(t).__name__)
    return None


def _plain(ds: Dataset) -> bool:
    steps = _steps(getattr(ds, "transform", None))
    return steps is not None and len(steps) <= 1 and all(isinstance(t, _PLAIN) for t in steps)


def _fast(base: Dataset) -> tuple[torch.Tensor, torch.Tensor, str] | None:
    """``(x, y, source)`` read straight from the dataset's arrays, or ``None`` where there is no such path."""
    if isinstance(base, TensorDataset) and len(base.tensors) == 2:
        return base.tensors[0], base.tensors[1].reshape(len(base), -1)[:, 0], "TensorDataset tensors"
    if isinstance(base, ArrayDataset) and base.transform is None:
        return base.X, base.y, "ArrayDataset tensors"
    pixels = getattr(base, "data", None)
    mnist_like = type(base) in _MNIST_LIKE or (  # or a dataset with MNIST's attributes (MNIST-10k)
        isinstance(pixels, torch.Tensor)
        and pixels.dtype == torch.uint8
        and pixels.ndim == 3
        and hasattr(base, "targets")
    )
    if mnist_like and _plain(base) and getattr(base, "target_transform", None) is None:
        return base.data.unsqueeze(1), torch.as_tensor(base.targets), f"uint8 pixels ({type(base).__name__} .data)"
    if type(base) in _CIFAR_LIKE and _plain(base) and base.target_transform is None:
        x = torch.from_numpy(base.data).permute(0, 3, 1, 2).contiguous()
        return x, torch.as_tensor(base.targets), f"uint8 pixels ({type(base).__name__} .data)"
    imgs, labels = getattr(base, "imgs", None), getattr(base, "labels", None)
    if (
        type(base).__module__.startswith("medmnist")
        and _plain(base)
        and getattr(base, "target_transform", None) is first_int
        and not getattr(base, "as_rgb", False)
        and getattr(imgs, "dtype", None) == "uint8"
        and getattr(labels, "ndim", 0) == 2
        and labels.shape[1] == 1
    ):
        x = torch.from_numpy(imgs)
        x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()
        return x, torch.from_numpy(labels[:, 0]).long(), "uint8 pixels (medmnist .imgs)"
    return None


def _item(ds: Dataset, i: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = ds[i]
    return torch.as_tensor(x), torch.as_tensor(y).reshape(-1)[0]


def _as_float(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def plan(dataset: Dataset, device: torch.device | str, *, requested: bool | None = None) -> Plan:
    """Whether ``dataset`` goes on ``device`` (``requested``: ``None`` = wherever it fits, ``False`` = never,
    ``True`` = always where the transforms allow; ``ValueError`` naming the reason otherwise)."""
    device = torch.device(device)
    if requested is False:
        return Plan(False, "device_resident=False")
    if len(dataset) == 0:
        return Plan(False, "empty split")
    base = _unwrap(dataset)[0]
    random_step = _random_step(base)
    why = None
    if random_step is not None:
        why = f"per-item transform {random_step} is random or unknown (it stays in the DataLoader)"
    else:
        x0 = torch.as_tensor(dataset[0][0])
        if x0.ndim not in (1, 3):
            why = f"items of shape {tuple(x0.shape)} are neither feature vectors (D,) nor images (C, H, W)"
        elif x0.ndim == 3 and max(x0.shape[1:]) > MAX_SIDE:
            why = f"images of {x0.shape[1]}x{x0.shape[2]} px exceed MAX_SIDE={MAX_SIDE}"
        elif _fast(base) is None and not torch.equal(x0, torch.as_tensor(dataset[0][0])):
            why = f"{type(base).__name__} gives a different item each time it is read (random augmentation)"
        else:
            fast = _fast(base)
            itemsize = fast[0].element_size() if fast is not None else x0.element_size()
            nbytes = len(dataset) * (x0.numel() * itemsize + 8)
            budget = int(MEMORY_FRACTION * free_memory(device))
            if nbytes > budget:
                why = f"the split needs {nbytes / 2**20:.0f} MiB, over {MEMORY_FRACTION:.0%} of free {device} memory"
            else:
                return Plan(True, f"{len(dataset)} items, {nbytes / 2**20:.1f} MiB on {device}", nbytes)
    if requested:
        raise ValueError(f"device_resident=True, but the split cannot be held on {device}: {why}")
    return Plan(False, why)


def materialize(dataset: Dataset, device: torch.device | str) -> DeviceData:
    """The whole of ``dataset`` (a ``Subset`` keeps its indices, in order) as :class:`DeviceData` on ``device``.

    Known layouts (``TensorDataset``, :class:`~zmixlib.data.ArrayDataset`, torchvision MNIST/F-MNIST/KMNIST
    and datasets with their ``data``/``targets`` attributes such as MNIST-10k, CIFAR-10/100, MedMNIST) are
    read from their arrays — uint8 pixels stay uint8 — after checking
    three items against ``dataset[i]``; anything else is read item by item once (its transform being
    deterministic, see :func:`plan`) and stacked.
    """
    device = torch.device(device)
    base, idx = _unwrap(dataset)
    fast = _fast(base)
    if fast is not None:
        x, y, source = fast
        probe = sorted({0, len(dataset) // 2, len(dataset) - 1})
        for i in probe:
            j = i if idx is None else idx[i]
            xi, yi = _item(dataset, i)
            if not (torch.equal(_as_float(x[j]), xi) and int(y[j]) == int(yi)):
                fast = None  # the dataset's __getitem__ is not what its arrays say: read it item by item
                break
    if fast is not None:
        if idx is not None:
            sel = torch.as_tensor(idx, dtype=torch.long)
            x, y = x.index_select(0, sel), y.index_select(0, sel)
    else:
        items = [_item(dataset, i) for i in range(len(dataset))]
        x = torch.stack([xi for xi, _ in items])
        y = torch.stack([yi for _, yi in items])
        source = "read item by item"
    return DeviceData(x.contiguous().to(device), y.long().to(device), source=source)


def index_batches(
    n: int, batch_size: int, *, generator: torch.Generator, drop_last: bool, device: torch.device | str = "cpu"
) -> list[torch.Tensor]:
    """One epoch's mini-batches of indices into ``range(n)``, exactly as
    ``DataLoader(dataset, batch_size, shuffle=True, generator=generator, drop_last=drop_last)`` draws them
    (same sampler code, same use of ``generator``), moved to ``device`` in one copy.

    Returns:
        a list of int64 index tensors on ``device``, the batches of the epoch in order.
    """
    n = check_int("n", n, min=1)
    batch_size = check_int("batch_size", batch_size, min=1)
    loader = DataLoader(
        range(n), batch_size=batch_size, shuffle=True, generator=generator, drop_last=drop_last, collate_fn=torch.tensor
    )
    batches = list(loader)
    if not batches:
        return []
    flat = torch.cat(batches).to(device, non_blocking=True)
    return list(flat.split([len(b) for b in batches]))
