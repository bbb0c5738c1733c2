"""The ``train``, ``sweep``, ``bench`` and ``ledger`` commands (``python -m zmixlib train|sweep|bench|ledger ...``).

Every option reaches the :class:`~zmixlib.engine.runspec.RunSpec` (or the sweep's matrix) or is rejected with a
message naming it; ``--dry-run`` prints what would run without training (``tests/test_cli.py`` checks
every option that way).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from typing import Any

from zmixlib.core.util import ROOT
from zmixlib.core.vocab import METHOD_NAMES, SPACES
from zmixlib.data import DamagedDataError
from zmixlib.engine import store, sweep, train
from zmixlib.engine.runspec import RunRecord, RunSpec
from zmixlib.protocol import recipes

#: --results-dir's help: ROOT is the checkout, else $ZMIX_HOME, else the working folder (python -m zmixlib --help)
_RESULTS_HELP = f"default: {ROOT / 'results'} (python -m zmixlib --help says where files go)"

__all__ = [
    "train_parser",
    "train_spec",
    "train_main",
    "sweep_parser",
    "sweep_overrides",
    "sweep_main",
    "ledger_main",
    "BENCH_WHAT",
    "bench_parser",
    "bench_main",
]


def _csv(cast):
    return lambda s: [cast(v) for v in s.split(",") if v.strip()]


def _gamma(text: str) -> float | tuple[float, float]:
    """``2.8`` or a range ``1.7286,4.0`` (γ drawn per mini-batch)."""
    values = [float(v) for v in text.split(",") if v.strip()]
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return (values[0], values[1])
    raise argparse.ArgumentTypeError(f"--gamma expects a number or LOW,HIGH, got {text!r}")


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _pairs(items: list[str], what: str) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} expects KEY=VALUE, got {item!r}")
        out[key.strip()] = _literal(value.strip())
    return out


# ----------------------------------------------------------------------------------------------------- train

#: train options that are RunSpec fields (``--extra`` and ``--arch-kwarg`` are parsed into pairs)
_TRAIN_SPEC_OPTIONS = (
    "gamma alpha num_mix space arch section epochs batch_size lr milestones lr_gamma momentum weight_decay "
    "label_smoothing train_subset eval_subset eval_splits seed device data_root num_workers"
).split()


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zmixlib train",
        description="Train one run (dataset x method x seed) and write results/<section>/<run_id>.json. "
        "Unset options take the dataset's recipe under --profile (zmixlib.protocol.recipes).",
    )
    p.add_argument("--dataset", required=True, help="e.g. digits, iris, Fashion-MNIST, CIFAR-10 (zmixlib.data names)")
    p.add_argument("--method", default="erm", choices=METHOD_NAMES)
    p.add_argument("--gamma", type=_gamma, help="zeta-mixup gamma, or LOW,HIGH drawn per mini-batch")
    p.add_argument("--alpha", type=float, help="mixup / Dirichlet / manifold mixup / CutMix alpha")
    p.add_argument("--num-mix", type=int, help="T, samples per synthetic sample (default: the batch)")
    p.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE", help="further mixer keyword")
    p.add_argument("--space", choices=SPACES, help="where to mix (default: by method)")
    p.add_argument("--arch", help="zmixlib.engine.models name (default: the recipe's)")
    p.add_argument("--arch-kwarg", action="append", default=[], metavar="KEY=VALUE", help="model keyword")
    p.add_argument("--profile", default="offline", help="recipe profile for unset options (default offline)")
    p.add_argument("--section", help="results/<section>/ (default adhoc)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--milestones", type=lambda s: tuple(int(v) for v in s.split(",") if v), help="e.g. 80,120,160")
    p.add_argument("--lr-gamma", type=float, help="LR decay factor at each milestone")
    p.add_argument("--momentum", type=float)
    p.add_argument("--no-nesterov", dest="nesterov", action="store_false", default=None)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--label-smoothing", type=float)
    p.add_argument("--hflip", dest="hflip", action="store_true", default=None, help="random horizontal flips")
    p.add_argument("--no-hflip", dest="hflip", action="store_false")
    p.add_argument("--train-subset", type=int)
    p.add_argument("--eval-subset", type=int)
    p.add_argument("--eval-splits", type=lambda s: tuple(v for v in s.split(",") if v), help="e.g. val,test")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--data-root", help="default: the project's data/ (whatever the working folder)")
    p.add_argument("--num-workers", type=int)
    p.add_argument("--no-amp", dest="amp", action="store_false", default=None, help="no mixed precision on CUDA")
    p.add_argument("--no-channels-last", dest="channels_last", action="store_false", default=None)
    p.add_argument(
        "--device-resident",
        dest="device_resident",
        action="store_true",
        default=None,
        help="hold the splits on the device (default: wherever they fit)",
    )
    p.add_argument("--no-device-resident", dest="device_resident", action="store_false")
    p.add_argument(
        "--compile", action="store_true", default=None, help="torch.compile the model (falls back with a message)"
    )
    p.add_argument("--results-dir", default=str(ROOT / "results"), help=_RESULTS_HELP)
    p.add_argument("--force", action="store_true", help="train even if the record exists")
    p.add_argument("--dry-run", action="store_true", help="print the resolved RunSpec as JSON and stop")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--stop-after-epoch", type=int, help=argparse.SUPPRESS)
    return p


def train_spec(args: argparse.Namespace) -> RunSpec:
    """The :class:`RunSpec` the parsed ``train`` options describe (errors name the option)."""
    flags = ("nesterov", "hflip", "amp", "channels_last", "device_resident", "compile")
    overrides = {k: getattr(args, k) for k in (*_TRAIN_SPEC_OPTIONS, *flags)}
    if overrides["data_root"] is None:  # the project's data/, not the working folder's (README: Data)
        overrides["data_root"] = str(ROOT / "data")
    overrides["extra"] = _pairs(args.extra, "--extra") or None
    overrides["arch_kwargs"] = _pairs(args.arch_kwarg, "--arch-kwarg") or None
    return recipes.spec_for(args.dataset, profile=args.profile, method=args.method, **overrides)


def _summary(rec: RunRecord) -> str:
    m = rec.metrics
    parts = [f"{k}={v:.4f}" for k, v in m.items() if k.endswith(("_acc", "_err")) and "medmnist" not in k]
    return ", ".join(parts) + f", wall {rec.wall_time_s:.1f}s"


def _check_device(device: str) -> None:
    """``ValueError`` naming ``--device`` when it names a device this machine does not have."""
    import torch

    from zmixlib.core.device import resolve_device

    try:
        dev = resolve_device(device)
    except ValueError as err:
        raise ValueError(f"--device {device}: {err}") from None
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")


def train_main(argv: list[str] | None = None) -> int:
    args = train_parser().parse_args(argv)
    try:
        spec = train_spec(args)
        if not args.dry_run:
            _check_device(spec.device)
    except (TypeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps({"run_id": spec.run_id, **spec.to_dict()}, indent=1))
        return 0
    path = store.record_path(spec, args.results_dir)
    print(f"run {spec.run_id}: {spec.dataset} {spec.arch} {spec.label()} seed {spec.seed} -> {path}")
    done = None if args.force else store.finished(spec, args.results_dir)  # a damaged record is set aside, named
    if done is not None:
        print(f"skipped: record exists ({_summary(done)})")
        return 0
    try:
        rec = train.fit(
            spec, results_dir=args.results_dir, progress=not args.no_progress, stop_after_epoch=args.stop_after_epoch
        )
    except (FileNotFoundError, DamagedDataError) as err:  # the dataset's files: the message names them and the fix
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not rec.complete:
        print(f"stopped after epoch {len(rec.history)}; rerun the same command to resume")
        return 0
    print(f"done: {_summary(rec)}")
    return 0


# ----------------------------------------------------------------------------------------------------- sweep


def sweep_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zmixlib sweep",
        description="Run a section's matrix (zmixlib.protocol.recipes.resolve), skipping runs whose record exists.",
    )
    p.add_argument("--section", required=True, choices=list(recipes.SECTIONS))
    p.add_argument("--profile", default="smoke", help="smoke | offline | paper (default smoke)")
    p.add_argument("--executor", choices=sweep.EXECUTORS, help="default: inline, or process with --runs-per-device")
    p.add_argument(
        "--runs-per-device",
        type=int,
        help="runs at once per visible GPU (on CPU: worker processes); with --executor slurm: per GPU of each job",
    )
    p.add_argument("--workers", type=int, help="at most this many worker processes in all (executor process)")
    p.add_argument("--results-dir", default=str(ROOT / "results"), help=_RESULTS_HELP)
    p.add_argument(
        "--book",
        action="store_true",
        help="train what the section's chapter reads at its defaults under --profile, into the folder "
        "`make book PROFILE=...` reads (results/ for paper, results/<profile>/ otherwise): what `make paper` runs",
    )
    p.add_argument("--datasets", type=_csv(str), help="comma-separated")
    p.add_argument("--methods", type=_csv(str), help="comma-separated")
    p.add_argument("--gammas", type=_csv(float), help="comma-separated")
    p.add_argument("--archs", type=_csv(str), help="comma-separated")
    p.add_argument("--seeds", type=_csv(int), help="comma-separated")
    p.add_argument("--epochs", type=int)
    p.add_argument("--train-subset", type=int)
    p.add_argument("--device")
    p.add_argument("--data-root", help="default: the project's data/ (whatever the working folder)")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="any resolve() override, Python literal"
    )
    p.add_argument(
        "--slurm",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="job parameter: partition, time (minutes or [D-]HH:MM:SS), gpus, gres, cpus, mem, qos, account, "
        "runs_per_gpu (runs packed per GPU in one array task), or any submitit parameter",
    )
    p.add_argument("--dry-run", action="store_true", help="print the matrix and what would run")
    p.add_argument("--no-progress", action="store_true")
    return p


def sweep_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The :func:`zmixlib.protocol.recipes.resolve` overrides the parsed ``sweep`` options describe."""
    keys = ("datasets", "methods", "gammas", "archs", "seeds", "epochs", "train_subset", "device", "data_root")
    overrides = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    overrides.update(_pairs(args.set, "--set"))
    return overrides


#: ``sweep --book``: section -> (the chapter that reads it, the chapter's knobs that replace resolve() overrides)
BOOK_SECTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "natural": ("04_natural", {}),
    "cutmix": ("04_natural", {"datasets": "cutmix_datasets", "methods": None, "gammas": None}),  # Table 5's cell
    "medmnist": ("06_medmnist", {}),
    "ablation": ("08_ablation", {}),
}


def book_matrix(
    section: str, profile: str, *, device: str | None = None, data_root: str | None = None, **overrides: Any
) -> Any:
    """The runs the section's chapter reads when ``make book PROFILE=profile`` executes it at its defaults
    (:data:`BOOK_SECTIONS`; ``None`` for a section whose chapter builds its matrices its own way)."""
    from zmixlib.protocol import config, profiles

    if section not in BOOK_SECTIONS:
        return None
    chapter, knobs = BOOK_SECTIONS[section]
    namespace = {k: None for k in profiles.sizes(chapter)[profile]}
    namespace.update(profile=profile, device=device or "auto", seed=0, data_root=data_root or str(ROOT / "data"))
    namespace["results_dir"] = None
    params = config.setup(chapter, namespace, verbose=False)
    changes = {k: (params[v] if isinstance(v, str) else v) for k, v in knobs.items()}
    return recipes.resolve_params(section, params, **{**changes, **overrides})


def sweep_main(argv: list[str] | None = None) -> int:
    args = sweep_parser().parse_args(argv)
    results_dir = args.results_dir
    try:
        slurm = _pairs(args.slurm, "--slurm")
        overrides = sweep_overrides(args)
        overrides.setdefault("data_root", str(ROOT / "data"))  # the project's data/, whatever the working folder
        matrix = None
        if args.book:
            from zmixlib.tables.report import sweep_dir

            results_dir = str(sweep_dir(args.results_dir, args.profile))
            matrix = book_matrix(args.section, args.profile, **overrides)
            if matrix is None:
                print(
                    f"note: the chapter of section {args.section!r} builds its own matrices; this trains the "
                    f"section's recipe matrix into {results_dir}, and the book trains whatever else its page needs"
                )
        if matrix is None:
            matrix = recipes.resolve(args.section, args.profile, **overrides)
    except (TypeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(matrix)
    if args.dry_run:
        print(
            f"{len(sweep.pending(matrix, results_dir))} of {len(matrix)} run(s) have no record yet (in {results_dir})"
        )
        return 0
    try:
        report = sweep.run(
            matrix,
            executor=args.executor,
            results_dir=results_dir,
            runs_per_device=args.runs_per_device,
            max_workers=args.workers,
            progress=not args.no_progress,
            slurm=slurm,
        )
    except (TypeError, ValueError) as err:  # the executor options (runs are reported, never raised)
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0 if report.ok else 1


# ----------------------------------------------------------------------------------------------------- bench

#: What ``bench --what`` can name (``all`` = every one).
BENCH_WHAT = ("table9", "weights", "scaling", "training", "throughput")


def bench_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zmixlib bench",
        description="Time the mixing methods side by side (Table 9), ζ-weight generation, growth, the "
        "training-step overhead and training throughput; print the tables and the speed targets (zmixlib.bench.speed_targets).",
    )
    p.add_argument("--what", default="table9,weights", help=f"comma list of {','.join(BENCH_WHAT)} or 'all'")
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
        "--throughput-compile",
        default="auto",
        help="eager, compiled or both (comma list); auto: both on CUDA, eager on CPU (compiling takes ~1 min there)",
    )
    g.add_argument("--throughput-runs-per-device", type=_csv(int), default=[1, 2, 4, 8], help="comma list")
    g.add_argument("--throughput-steps", type=int, default=None, help="timed steps per run, cell and round")
    g.add_argument("--throughput-warmup", type=int, default=3)
    g.add_argument("--throughput-rounds", type=int, default=3)
    g.add_argument("--throughput-images", type=int, default=None, help="training images (default: all)")
    g.add_argument("--throughput-threads", type=int, default=None, help="torch threads per run (default: split)")
    g.add_argument("--data-root", default="data")
    p.add_argument("--out", default=None, help="directory to write the frames as CSV")
    p.add_argument("--seed", type=int, default=0)
    return p


def _bench_throughput(args: argparse.Namespace, device: Any) -> tuple[Any, Any]:
    from zmixlib.bench.throughput import measure
    from zmixlib.chapters.timing import project

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
    table = measure(
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
    proj = project(table)
    print(f"\nProjected training time of each paper table on {a['device']} ({a.get('gpu', a['cpu'])}), hours:")
    print(proj.drop(columns=["table"]).round(2).to_string())
    return table, proj


def bench_main(argv: list[str] | None = None) -> int:
    """``python -m zmixlib bench [--what table9,weights,scaling,training,throughput|all] [--device cuda] ...``.

    Times what ``--what`` names — ``table9`` (the mixing methods side by side), ``weights`` (ζ-weight
    generation, ours vs the authors'), ``scaling`` (growth with batch size and resolution), ``training`` (the
    training-step overhead of each method), ``throughput`` (training images/s per data path × compile × runs per
    device, and the projected wall time of each paper table) — with chapter 09's protocols
    (:mod:`zmixlib.chapters.timing`); prints each table and the speed targets (:data:`zmixlib.bench.TARGETS`) and
    writes CSVs with ``--out``."""
    import pandas as pd
    import torch

    from zmixlib import bench
    from zmixlib.chapters import timing
    from zmixlib.core.device import resolve_device
    from zmixlib.core.util import torch_threads

    args = bench_parser().parse_args(argv)
    what = set(BENCH_WHAT) if args.what == "all" else {w for w in args.what.split(",") if w}
    unknown = what - set(BENCH_WHAT)
    if unknown or not what:
        print(f"error: --what must list some of {list(BENCH_WHAT)} (or 'all'), got {args.what!r}", file=sys.stderr)
        return 2
    device = resolve_device(args.device)
    pd.set_option("display.width", 200, "display.max_columns", 20)
    frames: dict[str, Any] = {}
    t0 = time.perf_counter()
    with torch_threads(args.num_threads):
        print(bench.machine_text(device, args.num_threads), flush=True)
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
                _csv(int)(args.weight_batch_sizes), device=device, rounds=args.rounds, seed=args.seed
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
            frames["throughput"], frames["projection"] = _bench_throughput(args, device)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    tg = bench.targets(frames.get("table9"), frames.get("weights"), frames.get("training"), frames.get("throughput"))
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


# ---------------------------------------------------------------------------------------------------- ledger


def ledger_main(argv: list[str] | None = None) -> int:
    """``python -m zmixlib ledger [--self-check] [--profile P] [--results-dir DIR]``.

    ``--self-check`` feeds every claim's rule the papers' own numbers and the same numbers swapped, prints the
    checkable claims and, apart, the not-checkable ones with their reasons; it exits 0 only if every checkable
    claim is reproduced on them and contradicted swapped (and no not-checkable one is reproduced). Without it: the
    ledger of ``--profile`` (its latest evidence)."""
    import pandas as pd

    from zmixlib.chapters import ledger

    p = argparse.ArgumentParser(prog="python -m zmixlib ledger", description=ledger_main.__doc__.split("\n\n")[0])
    p.add_argument(
        "--self-check", action="store_true", help="prove the rules on the papers' numbers (exit 1 on failure)"
    )
    p.add_argument("--profile", default="offline", help="whose evidence to print (default offline)")
    p.add_argument("--results-dir", default=None, help="results folder (default: the project's results/)")
    args = p.parse_args(argv)
    with pd.option_context("display.width", 250, "display.max_colwidth", 140, "display.max_rows", 200):
        if args.self_check:
            from zmixlib.chapters.ledger.paper_check import self_check_text

            frame, ok = ledger.self_check()
            print(self_check_text(frame, ok))
            return 0 if ok else 1
        claims = ledger.table(args.results_dir, args.profile, build="", links=False)
        print(claims[["claim (paper)", "data", "verdict", "statistic"]].to_string(index=False))
        print("\n" + ledger.headline(claims))
    return 0
