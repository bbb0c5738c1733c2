"""The timers: side-by-side, interleaved timings with the hardware limits of ζ-mixup.

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
* :func:`time_fn` (one callable, ``blocked_autorange``) and :func:`best_time` (best of a few calls of a
  long-running one, keeping its result).
* :func:`machine_info`, :func:`load_warning`, :func:`dtype_supported`: what a timing was measured on,
  and whether the machine was quiet enough; :func:`quantile` summarises every spread.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from zmixlib.core.checks import check_float, check_int

# torch.utils.benchmark imports torch.utils.cpp_extension, which logs "No CUDA runtime is found" on machines
# without CUDA — about building C++ extensions, which the harness never does: keep it off the pages.
_cpp_log = logging.getLogger("torch.utils.cpp_extension")
_cpp_level = _cpp_log.level
_cpp_log.setLevel(logging.ERROR)
try:
    from torch.utils import benchmark
finally:
    _cpp_log.setLevel(_cpp_level)

__all__ = [
    "COPY",
    "MATMUL",
    "GEMM",
    "compare",
    "time_fn",
    "best_time",
    "quantile",
    "machine_info",
    "machine_text",
    "load_warning",
    "dtype_supported",
]

#: Names of the reference points that ``compare(..., limit_for=x)`` adds: the two hardware ones, and ζ-mixup's
#: own kernel alone (the ``(B × B)·(B × D)`` product of a fixed weight matrix and the flattened batch)
COPY = "copy (x.clone())"
MATMUL = "matmul roofline"
GEMM = "ζ-mixup's GEMM alone (torch.mm)"


def _timer(fn: Callable[[], Any], num_threads: int):
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


def _sync(result: Any = None) -> None:
    """Wait for the CUDA device that ``result`` lives on (every initialised device when it is no tensor)."""
    if isinstance(result, torch.Tensor):
        if result.is_cuda:
            torch.cuda.synchronize(result.device)
    elif torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def best_time(fn: Callable[[], Any], repeats: int = 1) -> tuple[float, Any]:
    """Call ``fn`` ``repeats`` times (at least once), synchronising CUDA after each call.

    For calls that take seconds (a whole local-ID pass), where :func:`time_fn`'s blocks would repeat them
    too often. Returns:
        ``(seconds, result)``: the shortest wall time of one call, and the last call's result.
    """
    best, result = float("inf"), None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        _sync(result)
        best = min(best, time.perf_counter() - t0)
    return best, result


def _matmul_size(device: torch.device) -> int:
    return 8192 if device.type == "cuda" else 1024


def _reference_points(x: torch.Tensor, matmul_size: int | None) -> tuple[dict[str, Callable[[], Any]], int]:
    n = matmul_size or _matmul_size(x.device)
    gen = torch.Generator(device=x.device).manual_seed(0)
    a = torch.randn(n, n, generator=gen, device=x.device, dtype=torch.float32).to(x.dtype)
    b = torch.randn(n, n, generator=gen, device=x.device, dtype=torch.float32).to(x.dtype)
    w = torch.softmax(torch.randn(x.shape[0], x.shape[0], generator=gen, device=x.device), dim=1).to(x.dtype)
    flat = x.reshape(x.shape[0], -1)
    return {COPY: lambda: x.clone(), MATMUL: lambda: torch.mm(a, b), GEMM: lambda: torch.mm(w, flat)}, n


def quantile(values: Any, q: float) -> float:
    """The ``q`` quantile of ``values`` (any sequence of numbers) as a float; NaN when there are none."""
    v = np.asarray(values, dtype=float)
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
        limit_for: the batch ``x`` ``(B, ...)`` ζ-mixup mixes; adds the rows :data:`COPY`,
            :data:`MATMUL` and :data:`GEMM` (measured in the same rounds) and the column ``ratio_to_limit``;
            the limit of round ``r`` is ``max(copy_r, 2 B² D / flops_r)``, ``flops_r = 2 n³ / matmul_r``.
        matmul_size: ``n`` of the roofline matmul (default 1024 on CPU, 8192 on CUDA).
        num_threads: torch intra-op threads while timing (default: ``torch.get_num_threads()``).

    Returns:
        ``pandas.DataFrame`` indexed by candidate with ``median_ms``, ``q1_ms``, ``q3_ms``,
        ``iqr_ms`` (pooled over all blocks), ``ratio_to_reference`` with ``ratio_q1``/``ratio_q3``
        (over per-round ratios), ``ratio_to_limit`` (with ``limit_for``), ``number``, ``samples``
        and ``minus`` (what was subtracted). ``df.attrs`` holds ``reference``, ``rounds``,
        ``num_threads``, ``device``, ``load_before``/``load_after`` (1-min load average) and, with
        ``limit_for``, ``limit`` = ``{copy_ms, matmul_gflops, roofline_ms, limit_ms, bound, flops, gemm_ms,
        gemm_gflops}`` (``gemm_*``: ζ-mixup's own product alone, and the FLOP rate it reaches).
    """
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
            "gemm_ms": float(np.median(round_med[GEMM])) * 1e3,
            "gemm_gflops": float(np.median(flops / round_med[GEMM])) / 1e9,
        }

    rows = []
    for name in names:
        v = per_block[name].ravel()
        row = {
            "median_ms": float(np.median(v)) * 1e3,
            "q1_ms": quantile(v, 0.25) * 1e3,
            "q3_ms": quantile(v, 0.75) * 1e3,
        }
        row["iqr_ms"] = row["q3_ms"] - row["q1_ms"]
        if reference is not None:
            ratios = round_med[name] / round_med[reference]
            row.update(
                ratio_to_reference=float(np.median(ratios)),
                ratio_q1=quantile(ratios, 0.25),
                ratio_q3=quantile(ratios, 0.75),
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


def machine_text(device: torch.device | str = "cpu", num_threads: int | None = None) -> str:
    """Returns ``"machine: key=value, ..."`` (:func:`machine_info`) and, on a CPU too busy to time with
    ``num_threads`` threads, a second line ``"NOTE: ..."`` (:func:`load_warning`)."""
    device = torch.device(device)
    text = "machine: " + ", ".join(f"{k}={v}" for k, v in machine_info(device).items())
    warning = load_warning(num_threads) if device.type == "cpu" else None
    return text + (f"\nNOTE: {warning}" if warning else "")


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
