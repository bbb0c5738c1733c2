"""Timing harness: side-by-side, interleaved timings of mixing methods, with hardware limits.

Everything here is built on ``torch.utils.benchmark.Timer`` (which synchronises CUDA around every
measurement) and is made for noisy, shared machines:

* :func:`compare` times several candidates **in one run**, interleaved: ``rounds`` rounds, each
  visiting every candidate (in a rotated order) for ``blocks`` blocks of ``number`` calls. Ratios
  are computed *per round* and then summarised (median, IQR), so a load spike that hits one round
  hits every candidate of that round alike.
* ``limit_for=x`` adds the two hardware reference points of ζ-mixup, measured in the same run: a
  memory-bound copy of the batch (``x.clone()``) and a compute roofline (a square ``n × n`` matmul
  gives the machine's FLOP/s; ζ-mixup's ``(B × B)·(B × D)`` product needs ``2 B² D`` flops). The
  limit for ζ-mixup is the larger of the two times, per round.

Also here: the authors' published construction of the ζ-weights (argsort + FFT circular shift, the
``zeta_mixup_weights`` of the official code, github.com/kakumarabhishek/zeta-mixup, called in paper 001's
Listing A1) as a reference to time ours against; Table 9's candidates (ours, torchvision v2, timm);
the cost-growth sweep; the training-step overhead; and ``python -m zmixlib bench``.

Used by notebook 09 (timing, Table 9).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from zmixlib._checks import check_choice, check_float, check_int

__all__ = [
    "COPY",
    "MATMUL",
    "TARGETS",
    "compare",
    "time_fn",
    "machine_info",
    "load_warning",
    "authors_zeta_weights",
    "authors_zeta_mixup",
    "table9_candidates",
    "table9",
    "paper_table9",
    "paper_training_times",
    "paper_training_overhead",
    "table9_view",
    "target_notes",
    "parse_duration",
    "weights_comparison",
    "scaling",
    "training_overhead",
    "targets",
    "dtype_supported",
    "main",
]

#: Names of the two hardware reference points that ``compare(..., limit_for=x)`` adds.
COPY = "copy (x.clone())"
MATMUL = "matmul roofline"

#: The issue's targets (benchmark figures, not timed tests): name -> (threshold, direction, text).
TARGETS: dict[str, tuple[float, str, str]] = {
    "zeta_vs_limit": (1.5, "<=", "ζ-mixup time / its hardware limit (max of copy, roofline)"),
    "torchvision_vs_zeta": (3.0, ">=", "torchvision v2.MixUp time / ζ-mixup time"),
    "timm_vs_zeta": (3.0, ">=", "timm Mixup time (minus its input clone) / ζ-mixup time"),
    "authors_weights_vs_ours": (3.0, ">=", "authors' ζ-weights (B=512) time / ours"),
    "train_overhead_pct": (3.0, "<=", "ζ-mixup training-step overhead vs ERM, %"),
}


# ----------------------------------------------------------------------------------------------
# Timing core
# ----------------------------------------------------------------------------------------------


def _timer(fn: Callable[[], Any], num_threads: int):
    from torch.utils import benchmark

    return benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=num_threads, label="zmixlib.bench")


def _block_seconds(timer, number: int) -> float:
    """Seconds per call, averaged over one block of ``number`` calls (synchronised on CUDA)."""
    return float(timer.timeit(number).raw_times[0]) / number


def time_fn(fn: Callable[[], Any], *, min_run_time: float = 0.2, num_threads: int | None = None) -> dict[str, float]:
    """Time one zero-argument callable with ``Timer.blocked_autorange``.

    Returns:
        ``{"median_ms", "iqr_ms", "mean_ms", "blocks", "number"}`` — per-call times in milliseconds.
    """
    check_float("min_run_time", min_run_time, min=0.0, min_open=True)
    m = _timer(fn, num_threads or torch.get_num_threads()).blocked_autorange(min_run_time=min_run_time)
    return {
        "median_ms": m.median * 1e3,
        "iqr_ms": m.iqr * 1e3,
        "mean_ms": m.mean * 1e3,
        "blocks": len(m.raw_times),
        "number": m.number_per_run,
    }


def _matmul_size(device: torch.device) -> int:
    return 8192 if device.type == "cuda" else 1024


def _reference_points(x: torch.Tensor, matmul_size: int | None) -> tuple[dict[str, Callable[[], Any]], int]:
    n = matmul_size or _matmul_size(x.device)
    gen = torch.Generator(device=x.device).manual_seed(0)
    a = torch.randn(n, n, generator=gen, device=x.device, dtype=torch.float32).to(x.dtype)
    b = torch.randn(n, n, generator=gen, device=x.device, dtype=torch.float32).to(x.dtype)
    return {COPY: lambda: x.clone(), MATMUL: lambda: torch.mm(a, b)}, n


def _q(v: np.ndarray, q: float) -> float:
    return float(np.quantile(v, q)) if v.size else float("nan")


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def compare(
    fns: Mapping[str, Callable[[], Any]],
    *,
    reference: str | None = "zeta_mixup",
    rounds: int = 7,
    blocks: int = 3,
    block_time: float | None = None,
    subtract: Mapping[str, str] | None = None,
    limit_for: torch.Tensor | None = None,
    matmul_size: int | None = None,
    num_threads: int | None = None,
    warmup: int = 2,
    verbose: bool = False,
):
    """Time candidates side by side, interleaved, and compute ratios within the run.

    Each candidate is warmed up (``warmup`` calls), calibrated to ``number`` calls per block (a block
    lasts about ``block_time``), then timed for ``rounds`` rounds × ``blocks`` blocks; round ``r``
    visits the candidates starting at offset ``r`` (rotation), so no candidate always runs first.

    Args:
        fns: ``name -> zero-argument callable``; each call does the whole work being timed.
        reference: the candidate every ratio is taken against (``None``: no ratios).
        rounds, blocks: repetitions (see above). block_time: seconds per block (default 0.005: short
            blocks, so that the median over blocks filters out the ones a busy machine stalled).
        subtract: ``{name: other}`` — subtract ``other``'s per-round median from ``name``'s times
            (e.g. timm's ``Mixup`` mutates its input, so it is timed on a fresh clone and the clone
            is subtracted).
        limit_for: the batch ``x`` ``(B, ...)`` ζ-mixup mixes; adds the rows :data:`COPY` and
            :data:`MATMUL` (measured in the same rounds) and the column ``ratio_to_limit``; the limit
            of round ``r`` is ``max(copy_r, 2 B² D / flops_r)``, ``flops_r = 2 n³ / matmul_r``.
        matmul_size: ``n`` of the roofline matmul (default 1024 on CPU, 8192 on CUDA).
        num_threads: torch intra-op threads while timing (default: ``torch.get_num_threads()``).

    Returns:
        ``pandas.DataFrame`` indexed by candidate with ``median_ms``, ``q1_ms``, ``q3_ms``,
        ``iqr_ms`` (pooled over all blocks), ``ratio_to_reference`` with ``ratio_q1``/``ratio_q3``
        (over per-round ratios), ``ratio_to_limit`` (with ``limit_for``), ``number``, ``samples``
        and ``minus`` (what was subtracted). ``df.attrs`` holds ``reference``, ``rounds``,
        ``num_threads``, ``device``, ``load_before``/``load_after`` (1-min load average) and, with
        ``limit_for``, ``limit`` = ``{copy_ms, matmul_gflops, roofline_ms, limit_ms, bound, flops}``.
    """
    import pandas as pd

    rounds = check_int("rounds", rounds, min=1)
    blocks = check_int("blocks", blocks, min=1)
    fns = dict(fns)
    if not fns:
        raise ValueError("fns must hold at least one candidate, got an empty mapping")
    if reference is not None and reference not in fns:
        raise ValueError(f"reference must be one of {list(fns)}, got {reference!r}")
    device = torch.device("cpu")
    flops = None
    if limit_for is not None:
        if not isinstance(limit_for, torch.Tensor) or limit_for.ndim < 1:
            raise TypeError(f"limit_for must be a batch tensor (B, ...), got {type(limit_for).__name__}")
        device = limit_for.device
        refs, n = _reference_points(limit_for, matmul_size)
        fns.update(refs)
        b = limit_for.shape[0]
        flops = 2.0 * b * b * (limit_for.numel() // max(b, 1))
    subtract = dict(subtract or {})
    for name, other in subtract.items():
        if name not in fns or other not in fns or name == other:
            raise ValueError(f"subtract must map a candidate to another candidate, got {name!r} -> {other!r}")
    threads = num_threads or torch.get_num_threads()
    if block_time is None:
        block_time = 0.005
    load_before = _loadavg()

    timers = {name: _timer(fn, threads) for name, fn in fns.items()}
    numbers: dict[str, int] = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        one = _block_seconds(timers[name], 1)
        numbers[name] = max(1, min(10_000, math.ceil(block_time / max(one, 1e-7))))
        if verbose:
            print(f"  calibrated {name}: {one * 1e3:.3f} ms/call, {numbers[name]} call(s)/block", flush=True)

    names = list(fns)
    per_block = {k: np.empty((rounds, blocks)) for k in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            for j in range(blocks):
                per_block[name][r, j] = _block_seconds(timers[name], numbers[name])
        if verbose:
            print(f"  round {r + 1}/{rounds} done (load {_loadavg()})", flush=True)
    round_med = {k: np.median(v, axis=1) for k, v in per_block.items()}
    for name, other in subtract.items():
        per_block[name] = per_block[name] - round_med[other][:, None]
        round_med[name] = round_med[name] - round_med[other]

    limit_r = None
    attrs: dict[str, Any] = {}
    if flops is not None:
        gflops_r = 2.0 * n**3 / round_med[MATMUL] / 1e9
        roof_r = flops / (gflops_r * 1e9)
        limit_r = np.maximum(round_med[COPY], roof_r)
        copy_ms, roof_ms = float(np.median(round_med[COPY])) * 1e3, float(np.median(roof_r)) * 1e3
        attrs["limit"] = {
            "copy_ms": copy_ms,
            "matmul_gflops": float(np.median(gflops_r)),
            "roofline_ms": roof_ms,
            "limit_ms": float(np.median(limit_r)) * 1e3,
            "bound": "memory (copy)" if copy_ms >= roof_ms else "compute (roofline)",
            "flops": flops,
            "matmul_size": n,
        }

    rows = []
    for name in names:
        v = per_block[name].ravel()
        row = {
            "median_ms": float(np.median(v)) * 1e3,
            "q1_ms": _q(v, 0.25) * 1e3,
            "q3_ms": _q(v, 0.75) * 1e3,
        }
        row["iqr_ms"] = row["q3_ms"] - row["q1_ms"]
        if reference is not None:
            ratios = round_med[name] / round_med[reference]
            row.update(
                ratio_to_reference=float(np.median(ratios)), ratio_q1=_q(ratios, 0.25), ratio_q3=_q(ratios, 0.75)
            )
        if limit_r is not None:
            row["ratio_to_limit"] = float(np.median(round_med[name] / limit_r))
        row.update(number=numbers[name], samples=v.size, minus=subtract.get(name, ""))
        rows.append(row)
    df = pd.DataFrame(rows, index=pd.Index(names, name="method"))
    df.attrs.update(
        reference=reference,
        rounds=rounds,
        blocks=blocks,
        num_threads=threads,
        device=str(device),
        load_before=load_before,
        load_after=_loadavg(),
        **attrs,
    )
    return df


def machine_info(device: torch.device | str = "cpu") -> dict[str, Any]:
    """What the timings were measured on: CPU/GPU name, cores, torch threads, versions, load."""
    device = torch.device(device)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "device": str(device),
        "cpu": cpu,
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_1min": _loadavg(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def load_warning(num_threads: int | None = None) -> str | None:
    """A warning when the machine is busy: with every core already loaded, a multi-threaded kernel waits
    for its slowest thread, so timings with several threads measure the scheduler. ``None`` when idle enough."""
    load, cores = _loadavg(), os.cpu_count() or 1
    threads = num_threads or torch.get_num_threads()
    if load is None or load + threads <= cores + 0.5:
        return None
    return (
        f"machine busy: 1-min load {load} on {cores} cores before timing with {threads} thread(s); "
        "multi-threaded timings will be inflated and noisy — num_threads=1 gives steadier ratios."
    )


def dtype_supported(dtype: torch.dtype, device: torch.device | str = "cpu") -> bool:
    """Whether a matmul in ``dtype`` runs on ``device`` (bf16 needs sm80+ on CUDA)."""
    device = torch.device(device)
    if device.type == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        return False
    try:
        a = torch.ones(4, 4, device=device, dtype=dtype)
        torch.mm(a, a)
        return True
    except (RuntimeError, TypeError):
        return False


# ----------------------------------------------------------------------------------------------
# The authors' construction (reference for timing and for the tests)
# ----------------------------------------------------------------------------------------------


def authors_zeta_weights(
    batch_size: int, gamma: float = 2.8, *, rng: np.random.Generator | None = None
) -> torch.Tensor:
    """The ζ-weights as the authors build them (``zeta_mixup_weights`` of the official code).

    Reproduced from its description, on the CPU in NumPy like the original: (1) per row a random
    ranking ``1..B`` — the argsort of uniform noise, plus 1; (2) the column where rank 1 fell, and
    the shift ``s_i = col_i − i`` that moves it onto the diagonal; (3) each row circularly shifted
    left by ``s_i`` *via the FFT* (``ifft(fft(row) · exp(2πi s_i k / B))``, real part, rounded);
    (4) ``w = rank^-γ``; (5) rows normalised to sum to 1. The original divides by the row sums
    broadcast along the wrong axis (harmless: all rows are permutations of one p-series, so every
    row sum is the same); here each row is divided by its own sum.

    Returns:
        ``(B, B)`` float32 CPU tensor: rows are permutations of the normalised p-series with the
        largest weight on the diagonal — the same distribution as ``zmixlib.mixing.zeta_weights``.
    """
    batch_size = check_int("batch_size", batch_size, min=2)
    rng = np.random.default_rng() if rng is None else rng
    ranks = np.argsort(rng.random((batch_size, batch_size)), axis=1) + 1
    _, col = np.nonzero(ranks == 1)
    shift = col - np.arange(batch_size)
    k = np.arange(batch_size)
    phase = np.exp(2j * np.pi / batch_size * shift[:, None] * k[None, :])
    ranks = np.real(np.fft.ifft(np.fft.fft(ranks, axis=1) * phase, axis=1)).round()
    w = torch.reciprocal(torch.from_numpy(ranks).pow(gamma).float())
    return w / w.sum(dim=1, keepdim=True)


def authors_zeta_mixup(
    x: torch.Tensor, y: torch.Tensor, *, num_classes: int, gamma: float = 2.8
) -> tuple[torch.Tensor, torch.Tensor]:
    """ζ-mixup as in paper 001's Listing A1: CPU weights moved to ``x``'s device, two einsums.

    ``X̂ = einsum("ijkl,pi->pjkl", X, W)``, ``Ŷ = W · one_hot(Y)``. A timing reference only.
    """
    w = authors_zeta_weights(x.shape[0], gamma).to(device=x.device, dtype=x.dtype)
    x_new = torch.einsum("ijkl,pi->pjkl", x, w)
    y_onehot = torch.nn.functional.one_hot(y, num_classes).to(w.dtype)
    return x_new, torch.einsum("pq,qj->pj", w, y_onehot)


# ----------------------------------------------------------------------------------------------
# Table 9
# ----------------------------------------------------------------------------------------------

#: Our method name -> the paper's name in ``paper_results.csv`` (source ``timing-table9``).
PAPER_NAMES = {
    "zeta_mixup": "zeta-mixup",
    "mixup": "mixup",
    "cutmix": "CutMix",
    "cutmix_zeta": "CutMix+zeta-mixup",
    "local_synthetic_instances": "local-synthetic-instances",
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
    authors' ζ-mixup (Listing A1 with :func:`authors_zeta_weights`); torchvision
    ``v2.MixUp``/``v2.CutMix`` called on ``(images, labels)``; timm ``Mixup`` (batch mode, α = 1,
    no label smoothing). timm mutates ``x`` in place, so it runs on a fresh ``x.clone()`` each call
    and the clone, timed as its own candidate, is subtracted.

    Returns:
        ``(fns, subtract)`` for :func:`compare`.
    """
    from zmixlib import mixing

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
    from torchvision.transforms import v2

    tv_mixup, tv_cutmix = v2.MixUp(num_classes=k), v2.CutMix(num_classes=k)
    fns["torchvision MixUp"] = lambda: tv_mixup(x, y)
    fns["torchvision CutMix"] = lambda: tv_cutmix(x, y)
    subtract: dict[str, str] = {}
    try:
        from timm.data import Mixup
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
    import pandas as pd


    df = paper.paper_table("timing-table9")
    df = df[df["metric"] == "augment_time_us"]
    rows = {}
    for ours, theirs in PAPER_NAMES.items():
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
    import pandas as pd


    df = paper.paper_table("timing-table9")
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
            why = (
                f"not met: the limit is {lim['limit_ms']:.3g} ms ({lim['bound']}); ζ-mixup's matmul must both stream "
                f"the batch (copy {lim['copy_ms']:.3g} ms) and do its flops (roofline {lim['roofline_ms']:.3g} ms), "
                f"which overlap only partly on this device: without any overlap it would be {both:.2f}× the limit."
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
    paper = paper_table9()
    attrs = dict(df.attrs)
    df = df.join(paper)
    df.attrs.update(attrs)
    if "zeta_mixup" in paper.index:
        df["paper_ratio_to_zeta"] = df["paper_ms"] / paper.loc["zeta_mixup", "paper_ms"]
    df.attrs.update(machine_info(device))
    df.attrs.update(batch_shape=list(x.shape), dtype=str(dtype).replace("torch.", ""), device=str(device))
    return df


# ----------------------------------------------------------------------------------------------
# Weight generation, growth, training overhead
# ----------------------------------------------------------------------------------------------


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
    import pandas as pd

    from zmixlib import mixing

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
    seed: int = 0,
    verbose: bool = False,
):
    """How the cost grows: ζ-mixup vs mixup vs torchvision ``v2.MixUp``, with the hardware limit.

    Two sweeps: over ``batch_sizes`` at ``fixed_resolution`` (sweep ``"batch"``) and over
    ``resolutions`` at ``fixed_batch`` (sweep ``"resolution"``), for every dtype the device supports.
    Each configuration is one :func:`compare` run (interleaved, with the copy and roofline points).

    Returns:
        long frame: ``sweep, dtype, batch_size, resolution, method, median_ms, iqr_ms,
        ratio_to_reference, ratio_to_limit, limit_ms, copy_ms, roofline_ms`` (methods include the
        two reference points).
    """
    import pandas as pd
    from torchvision.transforms import v2

    from zmixlib import mixing

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
            df = compare(fns, rounds=rounds, blocks=blocks, block_time=block_time, limit_for=x, num_threads=num_threads)
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
    import pandas as pd

    from zmixlib import mixing, models

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
                loss = mixing.soft_cross_entropy(model(xm), ym)
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


# ----------------------------------------------------------------------------------------------
# Targets and the command line
# ----------------------------------------------------------------------------------------------


def targets(table=None, weights=None, training=None):
    """The issue's targets against the measured figures (whichever frames are given).

    Returns:
        frame indexed by target name: ``measured``, ``target`` (e.g. ``"<= 1.5"``), ``met``,
        ``description``.
    """
    import pandas as pd

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zmixlib bench",
        description="Time the mixing methods side by side (Table 9), ζ-weight generation, growth and "
        "training-step overhead; print the tables and the issue's targets.",
    )
    p.add_argument("--what", default="table9,weights", help="comma list of table9,weights,scaling,training or 'all'")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N]")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--resolution", type=int, default=224)
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--num-threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    p.add_argument("--no-slow", action="store_true", help="skip local synthetic instances")
    p.add_argument("--weight-batch-sizes", default="32,128,512", help="comma list for the ζ-weight comparison")
    p.add_argument("--train-methods", default="mixup,zeta_mixup,cutmix,cutmix_zeta,dirichlet_mixup")
    p.add_argument("--train-batch-size", type=int, default=128)
    p.add_argument("--train-image-size", type=int, default=32)
    p.add_argument("--train-rounds", type=int, default=5)
    p.add_argument("--out", default=None, help="directory to write the frames as CSV")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m zmixlib bench [--what table9,weights,scaling,training|all] [--device cuda] ...``."""
    import pandas as pd

    from zmixlib.config import resolve_device

    args = build_parser().parse_args(argv)
    what = {"table9", "weights", "scaling", "training"} if args.what == "all" else set(args.what.split(","))
    unknown = what - {"table9", "weights", "scaling", "training"}
    if unknown:
        print(f"error: unknown --what {sorted(unknown)}", file=sys.stderr)
        return 2
    device = resolve_device(args.device)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    pd.set_option("display.width", 200, "display.max_columns", 20)
    info = machine_info(device)
    print("machine:", ", ".join(f"{k}={v}" for k, v in info.items()), flush=True)
    frames: dict[str, Any] = {}
    t0 = time.perf_counter()
    if "table9" in what:
        print(f"\nTable 9: [{args.batch_size}, 3, {args.resolution}, {args.resolution}] {args.dtype} on {device}")
        frames["table9"] = t9 = table9(
            batch_size=args.batch_size,
            resolution=args.resolution,
            device=device,
            dtype=getattr(torch, args.dtype),
            include_slow=not args.no_slow,
            rounds=args.rounds,
            seed=args.seed,
        )
        cols = [
            "median_ms",
            "iqr_ms",
            "ratio_to_reference",
            "ratio_to_limit",
            "minus",
            "paper_ms",
            "paper_ratio_to_zeta",
        ]
        print(t9[[c for c in cols if c in t9]].round(3).to_string())
        print("limit:", {k: (round(v, 3) if isinstance(v, float) else v) for k, v in t9.attrs["limit"].items()})
        print(f"load average: {t9.attrs['load_before']} -> {t9.attrs['load_after']}")
    if "weights" in what:
        print("\nζ-weight generation: ours vs the authors' (argsort + FFT shift)")
        frames["weights"] = w = weights_comparison(
            [int(b) for b in args.weight_batch_sizes.split(",")], device=device, rounds=args.rounds, seed=args.seed
        )
        print(w.round(4).to_string())
    if "scaling" in what:
        print("\nGrowth over batch size and resolution")
        frames["scaling"] = s = scaling(device=device, rounds=max(3, args.rounds // 2), seed=args.seed, verbose=True)
        print(
            s.pivot_table(index=["sweep", "dtype", "batch_size", "resolution"], columns="method", values="median_ms")
            .round(3)
            .to_string()
        )
    if "training" in what:
        print(f"\nTraining step, resnet18_cifar, B={args.train_batch_size}, {args.train_image_size}px")
        frames["training"] = tr = training_overhead(
            args.train_methods.split(","),
            batch_size=args.train_batch_size,
            image_size=args.train_image_size,
            device=device,
            rounds=args.train_rounds,
            seed=args.seed,
        )
        print(tr.round(3).to_string())
    tg = targets(frames.get("table9"), frames.get("weights"), frames.get("training"))
    if len(tg):
        print("\nTargets (benchmark figures on this machine, not tests):")
        print(tg.round(3).to_string())
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for name, df in {**frames, "targets": tg}.items():
            df.to_csv(os.path.join(args.out, f"{name}.csv"))
        print(f"\nwrote {sorted(frames)} to {args.out}/")
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    return 0
