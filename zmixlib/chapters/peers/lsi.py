"""Table 9's timing claim for local synthetic instances (≈ 110× slower than ζ-mixup), in words: the measurement is
chapter 09's (:func:`zmixlib.chapters.timing.lsi_timing`, side by side in one run on the timing harness)."""

from __future__ import annotations

import pandas as pd

from zmixlib.core.vocab import method_label

__all__ = ["lsi_reading"]


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
