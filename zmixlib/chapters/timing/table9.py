"""Table 9 on this machine: the mixing methods timed side by side, beside the paper's numbers.

The protocol of notebook 09 (J Big Data Table 9 = arXiv Table A1), on the harness of :mod:`zmixlib.bench`:

* :func:`table9` — augmenting one ``[B, C, H, W]`` batch with every method (ours, the authors' code of
  :mod:`zmixlib.chapters.timing.reference_impl`, torchvision ``v2``, timm) or a chosen few, with ζ-mixup's hardware limit,
  joined with the paper's times (:func:`paper_table9`, GTX TITAN X);
* :func:`lsi_timing` — Table 9's claim for local synthetic instances (≈ 110× ζ-mixup's time), the same
  measurement on three methods, in chapter 10's words;
* :func:`paper_training_overhead` — the paper's whole-run training times;
* :func:`target_notes` — why a target of :data:`zmixlib.bench.TARGETS` is met or not.

The paper's numbers come from :func:`zmixlib.tables.paper.paper_table` (source ``timing-table9``), its method
names from :data:`zmixlib.core.vocab.METHODS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import torch
from torchvision.transforms import v2

from zmixlib import mixing
from zmixlib.bench import TARGETS, TIMM_MIXUP, TORCHVISION_MIXUP, compare, machine_info
from zmixlib.chapters.timing.reference_impl import authors_zeta_mixup
from zmixlib.core.vocab import METHODS, method_label
from zmixlib.tables.paper import paper_table

__all__ = [
    "LSI_METHODS",
    "table9_candidates",
    "table9",
    "lsi_timing",
    "paper_table9",
    "paper_training_times",
    "paper_training_overhead",
    "table9_view",
    "table9_caption",
    "training_caption",
    "parse_duration",
    "target_notes",
]

#: Table 9's claim for local synthetic instances compares these three
LSI_METHODS = ("zeta_mixup", "mixup", "local_synthetic_instances")

_CLONE_NAME = "clone for timm (x.clone())"


def table9_candidates(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    num_classes: int,
    include_slow: bool = True,
    include_kmixup: bool = True,
    methods: Sequence[str] | None = None,
    seed: int = 0,
) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """Table 9's candidates on one batch ``x`` ``(B, C, H, W)`` with index labels ``y`` ``(B,)``.

    Ours (``zmixlib.mixing``): ζ-mixup (γ = 2.8), mixup (α = 1), CutMix, CutMix + ζ-mixup
    (``mode="switch"``: a per-call coin picks one, so its time is a mixture), Dirichlet mixup,
    k-mixup (k = 16, needs ``B % 16 == 0``), local synthetic instances (``include_slow``); the
    authors' ζ-mixup (Listing A1 with :func:`~zmixlib.chapters.timing.reference_impl.authors_zeta_weights`); torchvision
    ``v2.MixUp``/``v2.CutMix`` called on ``(images, labels)``; timm ``Mixup`` (batch mode, α = 1,
    no label smoothing). timm mutates ``x`` in place, so it runs on a fresh ``x.clone()`` each call
    and the clone, timed as its own candidate, is subtracted. ``methods`` keeps only the candidates it names.

    Returns:
        ``(fns, subtract)`` for :func:`zmixlib.bench.compare`.
    """
    gen = torch.Generator(device=x.device).manual_seed(seed)
    k = num_classes
    fns: dict[str, Callable[[], Any]] = {
        "zeta_mixup": lambda: mixing.zeta_mixup(x, y, num_classes=k, generator=gen),
        "zeta_mixup (authors' code)": lambda: authors_zeta_mixup(x, y, num_classes=k),
        "mixup": lambda: mixing.mixup(x, y, num_classes=k, generator=gen),
        "cutmix": lambda: mixing.cutmix(x, y, num_classes=k, generator=gen),
        "cutmix_zeta": lambda: mixing.cutmix_zeta(x, y, num_classes=k, generator=gen),
        "dirichlet_mixup": lambda: mixing.dirichlet_mixup(x, y, num_classes=k, generator=gen),
    }
    if include_kmixup and x.shape[0] % 16 == 0:
        fns["kmixup (k=16)"] = lambda: mixing.kmixup(x, y, k=16, num_classes=k, generator=gen)
    if include_slow:
        fns["local_synthetic_instances"] = lambda: mixing.local_synthetic_instances(x, y, num_classes=k, generator=gen)
    tv_mixup, tv_cutmix = v2.MixUp(num_classes=k), v2.CutMix(num_classes=k)
    fns[TORCHVISION_MIXUP] = lambda: tv_mixup(x, y)
    fns["torchvision CutMix"] = lambda: tv_cutmix(x, y)
    subtract: dict[str, str] = {}
    if methods is not None:
        unknown = set(methods) - set(fns) - {TIMM_MIXUP}
        if unknown:
            raise ValueError(f"methods must name Table 9's candidates {[*fns, TIMM_MIXUP]}, got {sorted(unknown)}")
        fns = {name: fn for name, fn in fns.items() if name in methods}
        if TIMM_MIXUP not in methods:
            return fns, subtract
    try:
        from timm.data import Mixup  # deferred: timm is optional (and slow to import)
    except ImportError:  # timm is optional
        return fns, subtract
    timm_mixup = Mixup(mixup_alpha=1.0, cutmix_alpha=0.0, prob=1.0, label_smoothing=0.0, num_classes=k)
    fns[TIMM_MIXUP] = lambda: timm_mixup(x.clone(), y)
    fns[_CLONE_NAME] = lambda: x.clone()
    subtract[TIMM_MIXUP] = _CLONE_NAME
    return fns, subtract


def parse_duration(text: str) -> tuple[float, float]:
    """``"1h19m +- 30s"`` → ``(4740.0, 30.0)`` seconds; ``"745"`` → ``(745.0, nan)``; units h/m/s/ms/us/ns."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}

    def one(part: str) -> float:
        found = re.findall(r"([\d.]+)\s*(ms|us|µs|ns|h|m|s)?", part)
        vals = [float(v) * units[u] if u else float(v) for v, u in found if v]
        if not vals:
            raise ValueError(f"cannot parse a duration from {text!r}")
        return sum(vals)

    main, _, spread = str(text).partition("+-")
    spread = re.sub(r"\(.*?\)|,.*", "", spread)
    return one(re.sub(r"\(.*?\)", "", main)), (one(spread) if spread.strip() else float("nan"))


def paper_table9():
    """The paper's augmentation times (GTX TITAN X), one row per method, in ms.

    Columns: ``paper_name``, ``paper_ms``, ``paper_sd_ms``; indexed by our method name.
    Source: ``timing-table9`` rows of ``paper_results.csv`` (J Big Data Table 9 = arXiv Table A1).
    """
    df = paper_table("timing-table9")
    df = df[df["metric"] == "augment_time_us"]
    rows = {}
    for ours, method in METHODS.items():
        theirs = method.paper
        hit = df[df["method"] == theirs]
        if hit.empty:
            continue
        value = float(hit["value"].iloc[0])
        sd = re.search(r"\+-\s*([\d.]+\s*(?:ms|us|µs|ns|s))", str(hit["note"].iloc[0]))
        rows[ours] = {
            "paper_name": theirs,
            "paper_ms": value * 1e-3,
            "paper_sd_ms": parse_duration(sd.group(1))[0] * 1e3 if sd else float("nan"),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")


def paper_training_times():
    """The paper's training wall times (GTX TITAN X), seconds: ``dataset, method, seconds, sd``."""
    df = paper_table("timing-table9")
    df = df[df["metric"].str.startswith("train_time") & df["arch"].eq("ResNet-18")]
    out = []
    for _, r in df.iterrows():
        sec, sd = parse_duration(r["value_text"])
        out.append({"dataset": r["dataset"], "method": r["method"], "seconds": sec, "sd": sd})
    return pd.DataFrame(out)


def paper_training_overhead():
    """The paper's ζ-mixup / mixup training-time ratio per dataset (GTX TITAN X, whole runs).

    Returns:
        frame indexed by dataset: ``mixup_s``, ``zeta_mixup_s``, ``zeta_over_mixup_pct`` = 100 (ζ / mixup − 1).
    """
    t = paper_training_times()
    t = t[t["method"].isin(["mixup", "zeta-mixup"])].pivot_table(index="dataset", columns="method", values="seconds")
    out = t.rename(columns={"mixup": "mixup_s", "zeta-mixup": "zeta_mixup_s"})
    out["zeta_over_mixup_pct"] = 100 * (out["zeta_mixup_s"] / out["mixup_s"] - 1)
    return out


def table9_view(table):
    """Table 9 for display: ours (median, IQR, ratio to ζ-mixup and to its hardware limit) beside the paper's."""
    lab = f"{table.attrs.get('device', '?')}, {table.attrs.get('dtype', '?')}"
    cols = {
        "median_ms": f"ms here ({lab})",
        "iqr_ms": "IQR ms",
        "ratio_to_reference": "× ζ-mixup",
        "ratio_to_limit": "× ζ-limit",
        "minus": "minus",
        "paper_ms": "ms paper (GTX TITAN X)",
        "paper_ratio_to_zeta": "× ζ-mixup, paper",
    }
    return table[[c for c in cols if c in table]].rename(columns=cols).round(3)


def table9_caption(table) -> str:
    """Returns what a :func:`table9` frame measured: the batch, dtype, device, threads and load average, ζ-mixup's
    limit (when timed), and a line when local synthetic instances were left out."""
    a = table.attrs
    text = (
        f"batch {a['batch_shape']} {a['dtype']} on {a['device']}, {a['num_threads']} thread(s), "
        f"load average {a['load_before']} -> {a['load_after']}"
    )
    if "limit" in a:
        text += "\nζ-mixup limit: " + str(
            {k: round(v, 4) if isinstance(v, float) else v for k, v in a["limit"].items()}
        )
    if "local_synthetic_instances" not in table.index:
        text += "\nlocal synthetic instances: not timed (a per-sample Python loop; include_slow=True times it)"
    return text


def training_caption(training) -> str:
    """Returns what a :func:`~zmixlib.chapters.timing.training_overhead` frame measured: model, batch, image size,
    device, AMP and load average."""
    a = training.attrs
    return (
        f"{a['arch']}, B = {a['batch_size']}, {a['image_size']} px, {a['device']}, AMP {a['amp']}, "
        f"load average {a['load_before']} -> {a['load_after']}"
    )


def target_notes(tg, table=None) -> list[str]:
    """One sentence per target: met, or why not, computed from the measured figures.

    For the speed-ups over torchvision/timm the sentence gives the best ratio ζ-mixup could reach
    here even at its hardware limit (their time / ζ-mixup's limit); for the limit target, which bound
    binds.
    """
    notes = []
    lim = table.attrs.get("limit") if table is not None else None
    for name, r in tg.iterrows():
        thr = TARGETS[name].goal
        head = f"{name}: {r['measured']:.3g} (goal {r['goal']}) — "
        if r["met"]:
            notes.append(head + "met.")
            continue
        why = "not met."
        if name in ("torchvision_vs_zeta", "timm_vs_zeta") and lim and table is not None:
            other = TORCHVISION_MIXUP if name.startswith("torchvision") else TIMM_MIXUP
            best = table.loc[other, "median_ms"] / lim["limit_ms"]
            why = (
                f"not met: ζ-mixup is {table.loc['zeta_mixup', 'ratio_to_limit']:.2f}× its limit here and the "
                f"limit is {lim['bound']}-bound ({lim['limit_ms']:.3g} ms: {lim['matmul_gflops']:.0f} GFLOP/s "
                f"for 2·B²·D = {lim['flops'] / 1e9:.2f} GFLOP, copy {lim['copy_ms']:.3g} ms). {other} "
                f"({table.loc[other, 'median_ms']:.3g} ms) is a few memory passes with no arithmetic to speak of: "
                f"even a ζ-mixup exactly at its limit would be {best:.2f}× faster"
                + (
                    ", so the goal is out of reach on this device."
                    if best < thr
                    else "; the shortfall is ζ-mixup's distance from its limit."
                )
            )
        elif name == "zeta_vs_limit" and lim:
            both = (lim["copy_ms"] + lim["roofline_ms"]) / lim["limit_ms"]
            why = f"not met: the limit is {lim['limit_ms']:.3g} ms ({lim['bound']})"
            if "gemm_ms" in lim and table is not None:
                own = table.loc["zeta_mixup", "median_ms"] / lim["gemm_ms"]
                share = 100 * lim["gemm_gflops"] / lim["matmul_gflops"]
                why += (
                    f". ζ-mixup is {own:.2f}× its own kernel, the (B × B)·(B × D) torch.mm timed alone in the same rounds "
                    f"({lim['gemm_ms']:.3g} ms). That GEMM, with inner dimension K = B = {table.attrs['batch_shape'][0]}, "
                    f"runs at {lim['gemm_gflops']:.0f} GFLOP/s, {share:.0f} % of the square matmul's "
                    f"{lim['matmul_gflops']:.0f} GFLOP/s that the limit assumes, and "
                    f"{lim['gemm_ms'] / lim['copy_ms']:.2f}× the time of one copy of the batch. The limit is out of reach "
                    f"for any ζ-mixup built on this BLAS's small-K GEMM; what is left above the GEMM is ζ-mixup's own cost"
                    + ("." if own > 1.2 else " (small).")
                )
            else:
                why += (
                    f"; ζ-mixup's matmul must both stream the batch (copy {lim['copy_ms']:.3g} ms) and do its flops "
                    f"(roofline {lim['roofline_ms']:.3g} ms), which overlap only partly on this device: without any "
                    f"overlap it would be {both:.2f}× the limit."
                )
        elif name == "authors_weights_vs_ours":
            why = (
                "not met: at B = 512 ours is dominated by the per-row argsort of the (B, B) noise, and torch's CPU "
                "sort is several times slower than NumPy's (which the authors' construction uses); on CUDA the sort "
                "runs on the device."
            )
        elif name == "train_overhead_pct":
            why = "not met (compare with the mixing's own share of the step, which is not subject to step-time noise)."
        notes.append(head + why)
    return notes


def table9(
    *,
    batch_size: int = 32,
    resolution: int = 224,
    shape: Sequence[int] | None = None,
    num_classes: int = 10,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    include_slow: bool = True,
    include_kmixup: bool = True,
    methods: Sequence[str] | None = None,
    limit: bool = True,
    rounds: int = 7,
    blocks: int = 3,
    block_time: float | None = None,
    num_threads: int | None = None,
    seed: int = 0,
    verbose: bool = False,
):
    """Table 9 on this machine: augmenting one ``[B, 3, H, H]`` batch with every method.

    Args:
        shape: the batch ``[B, C, H, W]`` (default ``[batch_size, 3, resolution, resolution]``).
        methods: time only these candidates of :func:`table9_candidates` (default: all of them).
        limit: also time ζ-mixup's hardware limit (copy and roofline) in the same rounds.

    Returns:
        the :func:`compare` frame (reference ``zeta_mixup``, with the copy/roofline limit), joined
        with the paper's numbers (``paper_ms``, ``paper_ratio_to_zeta``; measured on a GTX TITAN X).
    """
    device = torch.device(device)
    shape = tuple(int(s) for s in shape) if shape is not None else (batch_size, 3, resolution, resolution)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(*shape, generator=gen).to(device=device, dtype=dtype)
    y = torch.randint(0, num_classes, (shape[0],), generator=gen).to(device)
    fns, subtract = table9_candidates(
        x,
        y,
        num_classes=num_classes,
        include_slow=include_slow,
        include_kmixup=include_kmixup,
        methods=methods,
        seed=seed,
    )
    df = compare(
        fns,
        reference="zeta_mixup",
        rounds=rounds,
        blocks=blocks,
        block_time=block_time,
        subtract=subtract,
        limit_for=x if limit else None,
        num_threads=num_threads,
        verbose=verbose,
    )
    theirs = paper_table9()
    attrs = dict(df.attrs)
    df = df.join(theirs)
    df.attrs.update(attrs)
    if "zeta_mixup" in theirs.index:
        df["paper_ratio_to_zeta"] = df["paper_ms"] / theirs.loc["zeta_mixup", "paper_ms"]
    df.attrs.update(machine_info(device))
    df.attrs.update(batch_shape=list(x.shape), dtype=str(dtype).replace("torch.", ""), device=str(device))
    return df


def lsi_timing(
    shape: Sequence[int], *, rounds: int, device: torch.device | str = "cpu", num_classes: int = 10, seed: int = 0
) -> pd.DataFrame:
    """Table 9's claim for local synthetic instances: :func:`table9` on :data:`LSI_METHODS` (ζ-mixup with γ = 2.8,
    mixup, LSI) on one batch of ``shape``, side by side in one run (ratios per round to ζ-mixup), beside the
    paper's times (µs, GTX TITAN X, batch [32, 3, 224, 224]).

    Returns:
        frame indexed by method label: ``paper (µs)``, ``paper × ζ-mixup``, ``ours (ms, median)``,
        ``ours × ζ-mixup (median over rounds)``, ``ours IQR of the ratio``; ``attrs`` those of :func:`table9`
        and ``shape``.
    """
    ours = table9(
        shape=shape,
        methods=LSI_METHODS,
        limit=False,
        rounds=rounds,
        blocks=2,
        device=device,
        num_classes=num_classes,
        seed=seed,
    )
    paper_us = ours["paper_ms"] * 1e3
    out = pd.DataFrame(
        {
            "method": [method_label(m, 2.8 if m == "zeta_mixup" else None) for m in ours.index],
            "paper (µs)": paper_us.values,
            "paper × ζ-mixup": ours["paper_ratio_to_zeta"].values,
            "ours (ms, median)": ours["median_ms"].values,
            "ours × ζ-mixup (median over rounds)": ours["ratio_to_reference"].values,
            "ours IQR of the ratio": [f"{a:.1f}–{b:.1f}" for a, b in zip(ours["ratio_q1"], ours["ratio_q3"])],
        }
    ).set_index("method")
    out.attrs.update(ours.attrs, shape=list(ours.attrs["batch_shape"]))
    return out
