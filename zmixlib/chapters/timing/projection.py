"""Chapter 09's projection: the wall time of each paper table's runs on this device, from measured throughput."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd
import torch
from medmnist.info import INFO as MEDMNIST_INFO
from torch.utils.flop_counter import FlopCounterMode

from zmixlib import data
from zmixlib.engine import models
from zmixlib.protocol import recipes

__all__ = ["TRAIN_SIZES", "forward_flops", "project"]

#: Training-set sizes of the paper's datasets (the ``train`` split the recipes use). Natural images: the
#: official splits; MedMNIST: the medmnist package's own table; skin: the official training sets (ISIC
#: 2016/2017/2018 task 3, derm7pt's index files) or 70 % of the set (the 70:10:20 split of
#: :mod:`zmixlib.data.skin`). MSK and UDA are absent: their size depends on the archive downloaded.
TRAIN_SIZES: dict[str, int] = {
    "CIFAR-10": 50_000,
    "CIFAR-100": 50_000,
    "Fashion-MNIST": 60_000,
    "MNIST": 60_000,
    "STL-10": 5_000,
    "Imagenette": 9_469,
    "Imagewoof": 9_025,
    "ISIC2016": 900,
    "ISIC2017": 2_000,
    "ISIC2018": 10_015,
    "derm7point-C": 413,
    "derm7point-D": 413,
    "DermoFit": 910,
    "PH2": 140,
    "MED-NODE": 119,
    **{name: int(MEDMNIST_INFO[name.lower()]["n_samples"]["train"]) for name in recipes.MEDMNIST_DATASETS},
}


@cache
def forward_flops(arch: str, shape: tuple[int, ...], num_classes: int, arch_kwargs: tuple = ()) -> float:
    """FLOPs of one forward pass of ``arch`` on one input of ``shape`` ``(C, H, W)`` (or ``(D,)``), counted
    with ``torch.utils.flop_counter`` on the meta device (nothing is computed)."""
    with torch.device("meta"):
        model = models.build(
            arch,
            num_classes=num_classes,
            in_channels=shape[0],
            input_size=tuple(shape[1:]) or None,
            **dict(arch_kwargs),
        )
        x = torch.empty(1, *shape)
    with FlopCounterMode(display=False) as counter:
        model(x)
    return float(counter.get_total_flops())


def project(table: pd.DataFrame, *, sections: Sequence[str] | None = None) -> pd.DataFrame:
    """The wall time of each paper table's runs on this device, from a :func:`zmixlib.bench.throughput.measure` table.

    For every run of ``zmixlib.protocol.recipes.resolve(section, "paper")``: ``epochs × TRAIN_SIZES[dataset]``
    images × 3 × :func:`forward_flops` of its model at its dataset's shape; the rate is the FLOP/s the
    measured model reached in a cell. Two columns: the baseline cell (DataLoader, eager, one run) and the
    fastest cell measured. Evaluation, data loading of large images (JPEG decode) and start-up are not
    counted: a lower bound for the large-image sections.

    Returns:
        one row per section: ``runs``, ``runs_projected`` (those with a known training-set size),
        ``train_images``, ``train_pflop``, ``baseline_h``, ``best_h``, ``best_cell``, ``missing`` (datasets
        of unknown size).
    """
    a = table.attrs
    flops_per_image = 3 * forward_flops(a["arch"], tuple(a["input_shape"]), a["num_classes"])
    best = table["images_per_s"].idxmax()
    base = ("loader", False, 1)
    rate_best = table.loc[best, "images_per_s"] * flops_per_image
    rate_base = table.loc[base, "images_per_s"] * flops_per_image if base in table.index else np.nan
    rows = []
    for section in sections or recipes.SECTIONS:
        matrix = recipes.resolve(section, "paper")
        flop, imgs, known, missing = 0.0, 0, 0, set()
        for spec in matrix:
            if spec.dataset not in TRAIN_SIZES:
                missing.add(spec.dataset)
                continue
            info = data.describe(spec.dataset)
            n = spec.epochs * TRAIN_SIZES[spec.dataset]
            flop += n * 3 * forward_flops(spec.arch, tuple(info.shape), info.num_classes, spec.arch_kwargs)
            imgs, known = imgs + n, known + 1
        rows.append(
            {
                "section": section,
                "table": recipes.SECTIONS[section],
                "runs": len(matrix),
                "runs_projected": known,
                "train_images": imgs,
                "train_pflop": flop / 1e15,
                "baseline_h": flop / rate_base / 3600,
                "best_h": flop / rate_best / 3600,
                "best_cell": f"{best[0]}, {'compiled' if best[1] else 'eager'}, {best[2]} run(s)/device",
                "missing": ", ".join(sorted(missing)),
            }
        )
    out = pd.DataFrame(rows).set_index("section")
    out.attrs.update(device=a.get("device"), measured_arch=a["arch"], flops_per_image=flops_per_image)
    return out
