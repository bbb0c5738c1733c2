"""Chapter 09's costs beyond Table 9: ζ-weight generation (ours vs the authors'), how the cost grows with the
batch size and the resolution, and one SGD step with each method against ERM."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torchvision.transforms import v2

from zmixlib import mixing
from zmixlib.bench import compare, dtype_supported, machine_info
from zmixlib.chapters.timing.reference_impl import authors_zeta_weights
from zmixlib.core.checks import check_choice
from zmixlib.engine import metrics, models

__all__ = ["weights_comparison", "scaling", "training_overhead"]


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
            df = compare(
                fns,
                rounds=rounds,
                blocks=blocks,
                block_time=block_time,
                limit_for=x,
                num_threads=num_threads,
                matmul_size=matmul_size,
            )
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
    (bf16 where supported) and channels_last are on by default, as in ``zmixlib.engine.train``.

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
