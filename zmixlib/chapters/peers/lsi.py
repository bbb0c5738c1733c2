"""Table 9's timing claim for local synthetic instances (≈ 110× slower than ζ-mixup), timed side by side in one
run."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import torch

from zmixlib import bench, mixing, paper
from zmixlib.vocab import from_paper, method_label

from ._shared import SOURCES, ZETA_GAMMA

__all__ = ["lsi_timing", "lsi_reading"]


def lsi_timing(
    shape: Sequence[int], *, rounds: int, device: torch.device | str = "cpu", num_classes: int = 10, seed: int = 0
):
    """Table 9's per-batch augmentation time, side by side in one run (:func:`zmixlib.bench.compare`, ratios per
    round to ζ-mixup): ζ-mixup (γ = 2.8), mixup and local synthetic instances on one batch of ``shape``; the
    paper's times (µs, GTX TITAN X, batch [32, 3, 224, 224]) and ratios beside ours."""
    gen = torch.Generator(device=device).manual_seed(seed)
    x = torch.rand(tuple(int(s) for s in shape), generator=gen, device=device)
    y = torch.randint(num_classes, (x.shape[0],), generator=gen, device=device)
    fns = {
        "zeta_mixup": lambda: mixing.zeta_mixup(x, y, gamma=ZETA_GAMMA, num_classes=num_classes, generator=gen),
        "mixup": lambda: mixing.mixup(x, y, num_classes=num_classes, generator=gen),
        "local_synthetic_instances": lambda: mixing.local_synthetic_instances(
            x, y, num_classes=num_classes, generator=gen
        ),
    }
    ours = bench.compare(fns, reference="zeta_mixup", rounds=rounds, blocks=2)
    p = paper.paper_table(SOURCES["table9"])
    p = p[p["metric"] == "augment_time_us"]
    p = pd.Series(p["value"].values, index=p["method"].map(from_paper))  # our method name -> µs
    out = pd.DataFrame(
        {
            "method": [method_label(m, ZETA_GAMMA if m == "zeta_mixup" else None) for m in ours.index],
            "paper (µs)": [p.get(m, math.nan) for m in ours.index],
            "paper × ζ-mixup": [p.get(m, math.nan) / p.get("zeta_mixup", math.nan) for m in ours.index],
            "ours (ms, median)": ours["median_ms"].values,
            "ours × ζ-mixup (median over rounds)": ours["ratio_to_reference"].values,
            "ours IQR of the ratio": [f"{a:.1f}–{b:.1f}" for a, b in zip(ours["ratio_q1"], ours["ratio_q3"])],
        }
    ).set_index("method")
    out.attrs.update(ours.attrs, shape=list(x.shape))
    return out


def lsi_reading(table: pd.DataFrame) -> str:
    """Table 9's LSI claim beside our measurement, in words."""
    r = table.loc[method_label("local_synthetic_instances")]
    shape = "×".join(str(s) for s in table.attrs.get("shape", []))
    device = table.attrs.get("device", "?")
    return (
        f"local synthetic instances took {r['ours × ζ-mixup (median over rounds)']:.0f}× ζ-mixup's time per batch "
        f"(interquartile range over rounds {r['ours IQR of the ratio']}) on a [{shape}] batch on {device} with "
        f"{table.attrs.get('num_threads', '?')} thread(s); Table 9: {r['paper × ζ-mixup']:.0f}× on a GTX TITAN X"
    )
