"""Table 9 on this machine: the mixing methods timed side by side, beside the paper's numbers.

The protocol of notebook 09 (J Big Data Table 9 = arXiv Table A1), on the harness of :mod:`zmixlib.bench`:

* :func:`table9` — augmenting one ``[B, 3, H, H]`` batch with every method (ours, the authors' code of
  :mod:`zmixlib.reference_impl`, torchvision ``v2``, timm), with ζ-mixup's hardware limit, joined with the
  paper's times (:func:`paper_table9`, GTX TITAN X);
* :func:`weights_comparison` — ζ-weight generation, ours vs the authors';
* :func:`scaling` — how the cost grows with the batch size and the resolution;
* :func:`training_overhead` — one SGD step with each method against ERM, beside the paper's whole-run
  training times (:func:`paper_training_overhead`);
* :func:`targets` / :func:`target_notes` — the issue's targets against the measured figures.

The paper's numbers come from :func:`zmixlib.paper.paper_table` (source ``timing-table9``), its method
names from :data:`zmixlib.vocab.METHODS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torchvision.transforms import v2

from zmixlib import metrics, mixing, models
from zmixlib._checks import check_choice
from zmixlib.bench import compare, dtype_supported, machine_info
from zmixlib.paper import paper_table
from zmixlib.reference_impl import authors_zeta_mixup, authors_zeta_weights
from zmixlib.vocab import METHODS

__all__ = [
    "TARGETS",
    "table9_candidates",
    "table9",
    "paper_table9",
    "paper_training_times",
    "paper_training_overhead",
    "table9_view",
    "parse_duration",
    "weights_comparison",
    "scaling",
    "training_overhead",
    "targets",
    "target_notes",
]

#: The issue's targets (benchmark figures, not timed tests): name -> (threshold, direction, text).
TARGETS: dict[str, tuple[float, str, str]] = {
    "zeta_vs_limit": (1.5, "<=", "ζ-mixup time / its hardware limit (max of copy, roofline)"),
    "torchvision_vs_zeta": (3.0, ">=", "torchvision v2.MixUp time / ζ-mixup time"),
    "timm_vs_zeta": (3.0, ">=", "timm Mixup time (minus its input clone) / ζ-mixup time"),
    "authors_weights_vs_ours": (3.0, ">=", "authors' ζ-weights (B=512) time / ours"),
    "train_overhead_pct": (3.0, "<=", "ζ-mixup training-step overhead vs ERM, %"),
}

_TIMM_NAME = "timm Mixup"
_CLONE_NAME = "clone for timm (x.clone())"


def table9_candidates(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    num_classes: int,
    include_slow: bool = True,
    include_kmixup: bool = True,
    seed: int = 0,
) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """Table 9's candidates on one batch ``x`` ``(B, C, H, W)`` with index labels ``y`` ``(B,)``.

    Ours (``zmixlib.mixing``): ζ-mixup (γ = 2.8), mixup (α = 1), CutMix, CutMix + ζ-mixup
    (``mode="switch"``: a per-call coin picks one, so its time is a mixture), Dirichlet mixup,
    k-mixup (k = 16, needs ``B % 16 == 0``), local synthetic instances (``include_slow``); the
    authors' ζ-mixup (Listing A1 with :func:`~zmixlib.reference_impl.authors_zeta_weights`); torchvision
    ``v2.MixUp``/``v2.CutMix`` called on ``(images, labels)``; timm ``Mixup`` (batch mode, α = 1,
    no label smoothing). timm mutates ``x`` in place, so it runs on a fresh ``x.clone()`` each call
    and the clone, timed as its own candidate, is subtracted.

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
    fns["torchvision MixUp"] = lambda: tv_mixup(x, y)
    fns["torchvision CutMix"] = lambda: tv_cutmix(x, y)
    subtract: dict[str, str] = {}
    try:
        from timm.data import Mixup  # deferred: timm is optional (and slow to import)
    except ImportError:  # timm is optional
        return fns, subtract
    timm_mixup = Mixup(mixup_alpha=1.0, cutmix_alpha=0.0, prob=1.0, label_smoothing=0.0, num_classes=k)
    fns[_TIMM_NAME] = lambda: timm_mixup(x.clone(), y)
    fns[_CLONE_NAME] = lambda: x.clone()
    subtract[_TIMM_NAME] = _CLONE_NAME
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


def target_notes(tg, table=None) -> list[str]:
    """One sentence per target: met, or why not, computed from the measured figures.

    For the speed-ups over torchvision/timm the sentence gives the best ratio ζ-mixup could reach
    here even at its hardware limit (their time / ζ-mixup's limit); for the limit target, which bound
    binds.
    """
    notes = []
    lim = table.attrs.get("limit") if table is not None else None
    for name, r in tg.iterrows():
        thr = TARGETS[name][0]
        head = f"{name}: {r['measured']:.3g} (goal {r['goal']}) — "
        if r["met"]:
            notes.append(head + "met.")
            continue
        why = "not met."
        if name in ("torchvision_vs_zeta", "timm_vs_zeta") and lim and table is not None:
            other = "torchvision MixUp" if name.startswith("torchvision") else _TIMM_NAME
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
    num_classes: int = 10,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    include_slow: bool = True,
    include_kmixup: bool = True,
    rounds: int = 7,
    blocks: int = 3,
    block_time: float | None = None,
    num_threads: int | None = None,
    seed: int = 0,
    verbose: bool = False,
):
    """Table 9 on this machine: augmenting one ``[B, 3, H, H]`` batch with every method.

    Returns:
        the :func:`compare` frame (reference ``zeta_mixup``, with the copy/roofline limit), joined
        with the paper's numbers (``paper_ms``, ``paper_ratio_to_zeta``; measured on a GTX TITAN X).
    """
    device = torch.device(device)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(batch_size, 3, resolution, resolution, generator=gen).to(device=device, dtype=dtype)
    y = torch.randint(0, num_classes, (batch_size,), generator=gen).to(device)
    fns, subtract = table9_candidates(
        x, y, num_classes=num_classes, include_slow=include_slow, include_kmixup=include_kmixup, seed=seed
    )
    df = compare(
        fns,
        reference="zeta_mixup",
        rounds=rounds,
        blocks=blocks,
        block_time=block_time,
        subtract=subtract,
        limit_for=x,
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


def weights_comparison(
    batch_sizes: Sequence[int] = (32, 128, 512),
    *,
    gamma: float = 2.8,
    device: torch.device | str = "cpu",
    rounds: int = 7,
    blocks: int = 3,
    num_threads: int | None = None,
    seed: int = 0,
):
    """Time ``zmixlib.mixing.zeta_weights`` against :func:`authors_zeta_weights` per batch size.

    On CUDA ours is generated on the device and the authors' on the CPU then copied over (as in
    their listing). Returns one row per batch size: ``ours_ms``, ``authors_ms`` (medians, with IQR)
    and ``speedup`` = median over rounds of authors / ours (with ``speedup_q1``/``speedup_q3``).
    """
    device = torch.device(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    rng = np.random.default_rng(seed)
    rows = []
    for b in batch_sizes:
        fns = {
            "ours": lambda b=b: mixing.zeta_weights(b, gamma, generator=gen, device=device),
            "authors": lambda b=b: authors_zeta_weights(b, gamma, rng=rng).to(device),
        }
        df = compare(fns, reference="ours", rounds=rounds, blocks=blocks, num_threads=num_threads)
        rows.append(
            {
                "batch_size": b,
                "ours_ms": df.loc["ours", "median_ms"],
                "ours_iqr_ms": df.loc["ours", "iqr_ms"],
                "authors_ms": df.loc["authors", "median_ms"],
                "authors_iqr_ms": df.loc["authors", "iqr_ms"],
                "speedup": df.loc["authors", "ratio_to_reference"],
                "speedup_q1": df.loc["authors", "ratio_q1"],
                "speedup_q3": df.loc["authors", "ratio_q3"],
            }
        )
    out = pd.DataFrame(rows).set_index("batch_size")
    out.attrs.update(machine_info(device))
    return out


def scaling(
    *,
    batch_sizes: Sequence[int] = (8, 32, 128, 512),
    resolutions: Sequence[int] = (32, 64, 128, 224),
    fixed_resolution: int = 32,
    fixed_batch: int = 32,
    dtypes: Sequence[str] = ("float32", "bfloat16"),
    device: torch.device | str = "cpu",
    num_classes: int = 10,
    rounds: int = 5,
    blocks: int = 3,
    block_time: float | None = None,
    num_threads: int | None = None,
    matmul_size: int | None = None,
    seed: int = 0,
    verbose: bool = False,
):
    """How the cost grows: ζ-mixup vs mixup vs torchvision ``v2.MixUp``, with the hardware limit.

    Two sweeps: over ``batch_sizes`` at ``fixed_resolution`` (sweep ``"batch"``) and over
    ``resolutions`` at ``fixed_batch`` (sweep ``"resolution"``), for every dtype the device supports.
    Each configuration is one :func:`~zmixlib.bench.compare` run (interleaved, with the copy and roofline
    points; ``matmul_size`` is the roofline matmul's ``n``, default 1024 on CPU, 8192 on CUDA).

    Returns:
        long frame: ``sweep, dtype, batch_size, resolution, method, median_ms, iqr_ms,
        ratio_to_reference, ratio_to_limit, limit_ms, copy_ms, roofline_ms`` (methods include the
        two reference points).
    """
    device = torch.device(device)
    configs = [("batch", b, fixed_resolution) for b in batch_sizes]
    configs += [("resolution", fixed_batch, r) for r in resolutions]
    rows = []
    for dname in dtypes:
        dtype = getattr(torch, dname)
        if not dtype_supported(dtype, device):
            if verbose:
                print(f"skipping {dname}: not supported on {device}")
            continue
        for sweep, b, res in configs:
            gen = torch.Generator(device=device).manual_seed(seed)
            x = torch.randn(b, 3, res, res, generator=gen, device=device, dtype=torch.float32).to(dtype)
            y = torch.randint(0, num_classes, (b,), generator=gen, device=device)
            tv = v2.MixUp(num_classes=num_classes)
            fns = {
                "zeta_mixup": lambda x=x, y=y, g=gen: mixing.zeta_mixup(x, y, num_classes=num_classes, generator=g),
                "mixup": lambda x=x, y=y, g=gen: mixing.mixup(x, y, num_classes=num_classes, generator=g),
                "torchvision MixUp": lambda x=x, y=y, tv=tv: tv(x, y),
            }
            df = compare(fns, rounds=rounds, blocks=blocks, block_time=block_time, limit_for=x, num_threads=num_threads,
                         matmul_size=matmul_size)  # fmt: skip
            lim = df.attrs["limit"]
            if verbose:
                print(
                    f"{sweep:>10} {dname} B={b:<4} {res:>3}px: ζ {df.loc['zeta_mixup', 'median_ms']:.3f} ms, "
                    f"limit {lim['limit_ms']:.3f} ms ({lim['bound']})",
                    flush=True,
                )
            for method, r in df.iterrows():
                rows.append(
                    {
                        "sweep": sweep,
                        "dtype": dname,
                        "batch_size": b,
                        "resolution": res,
                        "method": method,
                        "median_ms": r["median_ms"],
                        "iqr_ms": r["iqr_ms"],
                        "ratio_to_reference": r["ratio_to_reference"],
                        "ratio_to_limit": r["ratio_to_limit"],
                        "limit_ms": lim["limit_ms"],
                        "copy_ms": lim["copy_ms"],
                        "roofline_ms": lim["roofline_ms"],
                    }
                )
    out = pd.DataFrame(rows)
    out.attrs.update(machine_info(device))
    return out


def training_overhead(
    methods: Sequence[str] = ("mixup", "zeta_mixup", "cutmix", "cutmix_zeta", "dirichlet_mixup"),
    *,
    arch: str = "resnet18_cifar",
    batch_size: int = 128,
    image_size: int = 32,
    num_classes: int = 10,
    device: torch.device | str = "cpu",
    amp: bool | None = None,
    channels_last: bool | None = None,
    rounds: int = 5,
    blocks: int = 1,
    warmup: int = 1,
    num_threads: int | None = None,
    seed: int = 0,
    verbose: bool = False,
):
    """Time one SGD step of ``arch`` with each mixing method against ERM (no mixing).

    A step is: mix the batch, forward, soft-target cross-entropy, backward, SGD-Nesterov update. The
    model and batch are shared by all candidates; steps are interleaved by :func:`compare`
    (reference ``"ERM"``). The mixing alone (``"mix only: <method>"``) is timed in the same rounds,
    which gives a low-noise second estimate of the overhead: ``mix_ms / ERM step``. On CUDA, AMP
    (bf16 where supported) and channels_last are on by default, as in ``zmixlib.train``.

    Returns:
        one row per method (ERM first): ``step_ms``, ``step_iqr_ms``, ``ratio_to_erm`` (+q1/q3),
        ``overhead_pct`` = 100 (ratio − 1) (+q1/q3), ``mix_ms``, ``mix_share_pct`` = 100 mix / ERM step.
    """
    device = torch.device(device)
    amp = device.type == "cuda" if amp is None else amp
    channels_last = device.type == "cuda" if channels_last is None else channels_last
    for m in methods:
        check_choice("method", m, list(mixing.MIXERS))
    torch.manual_seed(seed)
    model = models.build(arch, num_classes=num_classes, in_channels=3).to(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    x = torch.randn(batch_size, 3, image_size, image_size, generator=gen, device=device)
    y = torch.randint(0, num_classes, (batch_size,), generator=gen, device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    amp_dtype = torch.bfloat16 if device.type != "cuda" or torch.cuda.is_bf16_supported() else torch.float16
    model.train()

    def make_step(name: str) -> Callable[[], Any]:
        mixer = mixing.Mixer(name, num_classes=num_classes, generator=gen)

        def step() -> None:
            xm, ym = mixer(x, y)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                loss = metrics.soft_cross_entropy(model(xm), ym)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        return step

    fns: dict[str, Callable[[], Any]] = {"ERM": make_step("erm")}
    for m in methods:
        fns[m] = make_step(m)
    for m in methods:
        mixer = mixing.Mixer(m, num_classes=num_classes, generator=gen)
        fns[f"mix only: {m}"] = lambda mixer=mixer: mixer(x, y)
    df = compare(
        fns,
        reference="ERM",
        rounds=rounds,
        blocks=blocks,
        block_time=1e-9,
        warmup=warmup,
        num_threads=num_threads,
        verbose=verbose,
    )
    erm_ms = df.loc["ERM", "median_ms"]
    rows = []
    for name in ["ERM", *methods]:
        r = df.loc[name]
        mix_ms = df.loc[f"mix only: {name}", "median_ms"] if name != "ERM" else 0.0
        rows.append(
            {
                "method": name,
                "step_ms": r["median_ms"],
                "step_iqr_ms": r["iqr_ms"],
                "ratio_to_erm": r["ratio_to_reference"],
                "ratio_q1": r["ratio_q1"],
                "ratio_q3": r["ratio_q3"],
                "overhead_pct": 100 * (r["ratio_to_reference"] - 1),
                "overhead_q1_pct": 100 * (r["ratio_q1"] - 1),
                "overhead_q3_pct": 100 * (r["ratio_q3"] - 1),
                "mix_ms": mix_ms,
                "mix_share_pct": 100 * mix_ms / erm_ms,
            }
        )
    out = pd.DataFrame(rows).set_index("method")
    out.attrs.update(
        df.attrs, arch=arch, batch_size=batch_size, image_size=image_size, amp=amp, channels_last=channels_last
    )
    out.attrs.update(machine_info(device))
    return out


def targets(table=None, weights=None, training=None):
    """The issue's targets against the measured figures (whichever frames are given).

    Returns:
        frame indexed by target name: ``measured``, ``target`` (e.g. ``"<= 1.5"``), ``met``,
        ``description``.
    """
    measured: dict[str, float] = {}
    if table is not None:
        measured["zeta_vs_limit"] = table.loc["zeta_mixup", "ratio_to_limit"]
        if "torchvision MixUp" in table.index:
            measured["torchvision_vs_zeta"] = table.loc["torchvision MixUp", "ratio_to_reference"]
        if _TIMM_NAME in table.index:
            measured["timm_vs_zeta"] = table.loc[_TIMM_NAME, "ratio_to_reference"]
    if weights is not None and len(weights):
        b = 512 if 512 in weights.index else max(weights.index)
        measured["authors_weights_vs_ours"] = weights.loc[b, "speedup"]
    if training is not None and "zeta_mixup" in training.index:
        measured["train_overhead_pct"] = training.loc["zeta_mixup", "overhead_pct"]
    rows = []
    for name, value in measured.items():
        thr, op, text = TARGETS[name]
        met = value <= thr if op == "<=" else value >= thr
        rows.append(
            {"target": name, "measured": float(value), "goal": f"{op} {thr:g}", "met": bool(met), "description": text}
        )
    return (
        pd.DataFrame(rows).set_index("target")
        if rows
        else pd.DataFrame(columns=["measured", "goal", "met", "description"])
    )
