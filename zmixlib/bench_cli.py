"""``python -m zmixlib bench``: the timing protocols of notebook 09 from the command line.

``--what`` picks among ``table9`` (the mixing methods side by side, :func:`zmixlib.timing.table9`),
``weights`` (ζ-weight generation, ours vs the authors'), ``scaling`` (growth with batch size and
resolution), ``training`` (the training-step overhead of each method) and ``throughput`` (training images/s
per data path × compile × runs per device, and the projected wall time of each paper table,
:mod:`zmixlib.throughput`); it prints each table and the issue's targets, and writes CSVs with ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import pandas as pd
import torch

from zmixlib import throughput, timing
from zmixlib._util import torch_threads
from zmixlib.bench import load_warning, machine_info
from zmixlib.config import resolve_device

__all__ = ["WHAT", "build_parser", "main"]

#: What ``--what`` can name (``all`` = every one).
WHAT = ("table9", "weights", "scaling", "training", "throughput")


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zmixlib bench",
        description="Time the mixing methods side by side (Table 9), ζ-weight generation, growth, the "
        "training-step overhead and training throughput; print the tables and the issue's targets.",
    )
    p.add_argument("--what", default="table9,weights", help=f"comma list of {','.join(WHAT)} or 'all'")
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
    g = p.add_argument_group("throughput (training images/s on Fashion-MNIST, or a stand-in of its shape)")
    g.add_argument("--throughput-arch", default="auto", help="model; auto: resnet18_cifar on CUDA, lenet5 on CPU")
    g.add_argument("--throughput-method", default="zeta_mixup")
    g.add_argument("--throughput-batch-size", type=int, default=None, help="default: the paper's recipe (32)")
    g.add_argument("--throughput-paths", default="loader,device", help="data paths: loader, device")
    g.add_argument(
        "--throughput-compile", default="auto",
        help="eager, compiled or both (comma list); auto: both on CUDA, eager on CPU (compiling takes ~1 min there)",
    )  # fmt: skip
    g.add_argument("--throughput-runs-per-device", type=_ints, default=[1, 2, 4, 8], help="comma list")
    g.add_argument("--throughput-steps", type=int, default=None, help="timed steps per run, cell and round")
    g.add_argument("--throughput-warmup", type=int, default=3)
    g.add_argument("--throughput-rounds", type=int, default=3)
    g.add_argument("--throughput-images", type=int, default=None, help="training images (default: all)")
    g.add_argument("--throughput-threads", type=int, default=None, help="torch threads per run (default: split)")
    g.add_argument("--data-root", default="data")
    p.add_argument("--out", default=None, help="directory to write the frames as CSV")
    p.add_argument("--seed", type=int, default=0)
    return p


def _throughput(args: argparse.Namespace, device: torch.device) -> tuple[pd.DataFrame, pd.DataFrame]:
    cuda = device.type == "cuda"
    arch = args.throughput_arch if args.throughput_arch != "auto" else ("resnet18_cifar" if cuda else "lenet5")
    modes = {"eager": False, "compiled": True}
    if args.throughput_compile == "auto":
        compile_ = [False, True] if cuda else [False]
    else:
        names = [m for m in args.throughput_compile.split(",") if m]
        bad = sorted(set(names) - set(modes))
        if bad or not names:
            raise ValueError(f"--throughput-compile must list eager and/or compiled, got {args.throughput_compile!r}")
        compile_ = [modes[m] for m in names]
    steps = args.throughput_steps or (50 if cuda else 10)
    print(
        f"\nTraining throughput: {arch}, {args.throughput_method}, {device}; paths {args.throughput_paths}, "
        f"{'/'.join('compiled' if c else 'eager' for c in compile_)}, runs per device "
        f"{args.throughput_runs_per_device}, {steps} steps x {args.throughput_rounds} rounds",
        flush=True,
    )
    table = throughput.measure(
        arch=arch,
        method=args.throughput_method,
        batch_size=args.throughput_batch_size,
        device=str(device),
        paths=[p for p in args.throughput_paths.split(",") if p],
        compile=compile_,
        runs_per_device=args.throughput_runs_per_device,
        steps=steps,
        warmup=args.throughput_warmup,
        rounds=args.throughput_rounds,
        images=args.throughput_images,
        threads=args.throughput_threads,
        data_root=args.data_root,
        seed=args.seed,
        verbose=True,
    )
    a = table.attrs
    print(f"data: {a['data']}; batch {a['batch_size']}, {a['images']} images, load {a['load_1min']}")
    print(table.round(3).to_string())
    proj = throughput.project(table)
    print(f"\nProjected training time of each paper table on {a['device']} ({a.get('gpu', a['cpu'])}), hours:")
    print(proj.drop(columns=["table"]).round(2).to_string())
    return table, proj


def main(argv: list[str] | None = None) -> int:
    """``python -m zmixlib bench [--what table9,weights,scaling,training,throughput|all] [--device cuda] ...``."""
    args = build_parser().parse_args(argv)
    what = set(WHAT) if args.what == "all" else {w for w in args.what.split(",") if w}
    unknown = what - set(WHAT)
    if unknown or not what:
        print(f"error: --what must list some of {list(WHAT)} (or 'all'), got {args.what!r}", file=sys.stderr)
        return 2
    device = resolve_device(args.device)
    pd.set_option("display.width", 200, "display.max_columns", 20)
    frames: dict[str, Any] = {}
    t0 = time.perf_counter()
    with torch_threads(args.num_threads):
        info = machine_info(device)
        print("machine:", ", ".join(f"{k}={v}" for k, v in info.items()), flush=True)
        if device.type == "cpu" and load_warning(args.num_threads):
            print("NOTE:", load_warning(args.num_threads))
        if "table9" in what:
            print(f"\nTable 9: [{args.batch_size}, 3, {args.resolution}, {args.resolution}] {args.dtype} on {device}")
            frames["table9"] = t9 = timing.table9(
                batch_size=args.batch_size,
                resolution=args.resolution,
                device=device,
                dtype=getattr(torch, args.dtype),
                include_slow=not args.no_slow,
                rounds=args.rounds,
                seed=args.seed,
            )
            print(timing.table9_view(t9).to_string())
            print("limit:", {k: (round(v, 3) if isinstance(v, float) else v) for k, v in t9.attrs["limit"].items()})
            print(f"load average: {t9.attrs['load_before']} -> {t9.attrs['load_after']}")
        if "weights" in what:
            print("\nζ-weight generation: ours vs the authors' (argsort + FFT shift)")
            frames["weights"] = w = timing.weights_comparison(
                _ints(args.weight_batch_sizes), device=device, rounds=args.rounds, seed=args.seed
            )
            print(w.round(4).to_string())
        if "scaling" in what:
            print("\nGrowth over batch size and resolution")
            frames["scaling"] = s = timing.scaling(
                device=device, rounds=max(3, args.rounds // 2), seed=args.seed, verbose=True
            )
            index = ["sweep", "dtype", "batch_size", "resolution"]
            print(s.pivot_table(index=index, columns="method", values="median_ms").round(3).to_string())
        if "training" in what:
            print(f"\nTraining step, resnet18_cifar, B={args.train_batch_size}, {args.train_image_size}px")
            frames["training"] = tr = timing.training_overhead(
                args.train_methods.split(","),
                batch_size=args.train_batch_size,
                image_size=args.train_image_size,
                device=device,
                rounds=args.train_rounds,
                seed=args.seed,
            )
            print(tr.round(3).to_string())
    if "throughput" in what:  # its worker processes set their own thread counts
        try:
            frames["throughput"], frames["projection"] = _throughput(args, device)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    tg = timing.targets(frames.get("table9"), frames.get("weights"), frames.get("training"))
    if "throughput" in frames:
        tg = pd.concat([tg, throughput.targets(frames["throughput"])]) if len(tg) else throughput.targets(frames["throughput"])
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
