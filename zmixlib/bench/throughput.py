"""Training throughput on this device, and what it means for the paper's tables.

:func:`measure` times the engine's own training step (:meth:`zmixlib.train.Trainer.train_steps`: flip, mix,
forward, backward, update) in images/s for every combination of

* the data path — ``"loader"`` (a DataLoader decoding every image) or ``"device"`` (the whole split as one
  tensor on the device, :mod:`zmixlib.device_data`);
* eager or compiled (``torch.compile``; eager, with a note, where it is unavailable);
* runs per device — 1, 2, 4, 8 independent runs training at once on the one device, each in its own
  process (one CUDA context each), as ``python -m zmixlib sweep --runs-per-device N`` packs them.

All combinations are measured **in one run, interleaved**: each round visits every cell (in a rotated order)
for ``steps`` steps per run; a cell's rate is the images all its runs trained divided by the wall time from
the first run's start to the last run's end. Ratios are taken per round against the reference cell
(DataLoader, eager, one run) and summarised by their median, so a load spike that hits a round hits every
cell of it alike.

The data: Fashion-MNIST (the paper's recipe: ResNet-18 at 28 × 28, batch 32, ζ-mixup, flips) from
``<data_root>/FashionMNIST/raw`` when it is there, else a stand-in of the same shape — random 28 × 28 uint8
images written in Fashion-MNIST's own file format to a temporary folder, so that both data paths run exactly
the code they run on the real files (the result says which).

:func:`project` turns the measured rates into the wall time of each paper table on this device: every run
of ``zmixlib.recipes.resolve(section, "paper")`` needs ``epochs × training-set size`` images, each
costing its model's forward FLOPs (counted on the meta device) × 3 for the backward pass; the rate is the
FLOP/s the benchmarked model achieved. Used by ``python -m zmixlib bench --what throughput`` and
notebook 09.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import tempfile
import time
import traceback
from collections.abc import Sequence
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from medmnist.info import INFO as MEDMNIST_INFO
from torch.utils.flop_counter import FlopCounterMode

from zmixlib import data, models, recipes
from zmixlib._checks import check_choice, check_int
from zmixlib.bench import machine_info
from zmixlib.config import resolve_device
from zmixlib.runspec import RunSpec
from zmixlib.workers import cpu_count
from zmixlib.train import Trainer

__all__ = ["PATHS", "TARGETS", "TRAIN_SIZES", "measure", "project", "targets", "forward_flops", "fashion_mnist_root"]

#: The data paths: a DataLoader over the dataset, or the split held on the device.
PATHS = ("loader", "device")

#: The issue's targets (benchmark figures, not timed tests): name -> (threshold, device type, text).
TARGETS: dict[str, tuple[float, str, str]] = {
    "device_vs_loader": (1.3, "cpu", "device-resident / DataLoader images/s (eager, one run)"),
    "two_runs_vs_one": (1.5, "cpu", "2 runs per device / 1 run, total images/s (eager, best data path)"),
    "best_vs_baseline": (3.0, "cuda", "best cell / DataLoader + eager + one run, images/s"),
}

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


# ------------------------------------------------------------------------------------------------- data


def fashion_mnist_root(data_root: str | Path, *, images: int, seed: int = 0) -> tuple[Path, str, Path | None]:
    """Where Fashion-MNIST is read from: ``(root, description, temporary folder or None)``.

    The real files under ``data_root`` when they load; otherwise a stand-in of ``images`` random 28 × 28
    uint8 images with random labels, written in Fashion-MNIST's idx format to a temporary folder (the
    caller removes it).
    """
    try:
        n = len(data.load("Fashion-MNIST", "train", root=data_root))
        return Path(data_root), f"Fashion-MNIST ({n} training images under {data_root})", None
    except FileNotFoundError:
        pass
    tmp = Path(tempfile.mkdtemp(prefix="zmix-throughput-"))
    rng = np.random.default_rng(seed)
    raw = tmp / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", images), ("t10k", 256)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        for name, arr, magic in (("images-idx3", x, 0x803), ("labels-idx1", y, 0x801)):
            header = np.array([magic, *arr.shape], dtype=">u4").tobytes()
            (raw / f"{prefix}-{name}-ubyte").write_bytes(header + arr.tobytes())
    text = (
        f"stand-in: {images} random 28x28 uint8 images in Fashion-MNIST's file format "
        f"(no Fashion-MNIST under {data_root}; `make data DATASETS=Fashion-MNIST` fetches it)"
    )
    return tmp, text, tmp


# ---------------------------------------------------------------------------------------------- workers


def _worker(conn: Connection, verbose: bool) -> None:
    """A benchmark process: build trainers (``prepare``) and time their steps (``run``) when told to."""
    trainers: dict[str, Trainer] = {}
    while True:
        msg = conn.recv()
        if msg is None:
            return
        try:
            if msg[0] == "prepare":
                _, key, spec_dict, warmup, threads = msg
                torch.set_num_threads(threads)
                trainer = Trainer(RunSpec.from_dict(spec_dict), verbose=verbose)
                trainer.train_steps(warmup)  # compiles, tunes cuDNN, fills the allocator
                trainers[key] = trainer
                conn.send(("ok", trainer.execution))
            else:
                _, key, steps, threads = msg
                torch.set_num_threads(threads)
                t0 = time.perf_counter()
                n = trainers[key].train_steps(steps)
                conn.send(("ok", (t0, time.perf_counter(), n)))
        except Exception:  # reported to the parent, which stops the benchmark with it
            conn.send(("error", traceback.format_exc()))


class _Workers:
    """``n`` benchmark processes (``spawn``: one CUDA context each), driven in lock step."""

    def __init__(self, n: int):
        ctx = mp.get_context("spawn")
        self.conns, self.procs = [], []
        for i in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, i == 0), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    def ask(self, k: int, msg: tuple) -> list[Any]:
        """Send ``msg`` to the first ``k`` workers at once; their answers, in order."""
        for conn in self.conns[:k]:
            conn.send(msg)
        out = []
        for i, conn in enumerate(self.conns[:k]):
            try:
                status, value = conn.recv()
            except (EOFError, OSError):
                raise RuntimeError(f"benchmark worker {i} died (exit code {self.procs[i].exitcode})") from None
            if status == "error":
                raise RuntimeError(f"benchmark worker {i} failed:\n{value}")
            out.append(value)
        return out

    def close(self) -> None:
        for conn, proc in zip(self.conns, self.procs):
            try:
                conn.send(None)
            except OSError:
                pass
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join()


# ---------------------------------------------------------------------------------------------- measure


def _q(v: Sequence[float], q: float) -> float:
    return float(np.quantile(np.asarray(v, dtype=float), q))


def measure(
    *,
    arch: str = "resnet18_cifar",
    method: str = "zeta_mixup",
    batch_size: int | None = None,
    device: str = "auto",
    paths: Sequence[str] = PATHS,
    compile: Sequence[bool] = (False, True),
    runs_per_device: Sequence[int] = (1, 2, 4, 8),
    steps: int = 20,
    warmup: int = 3,
    rounds: int = 3,
    images: int | None = None,
    threads: int | None = None,
    data_root: str | Path = "data",
    seed: int = 0,
    verbose: bool = False,
) -> pd.DataFrame:
    """Training images/s on this device for every (data path × compile × runs per device) cell, interleaved.

    Args:
        arch: the model (a :mod:`zmixlib.models` name), trained on Fashion-MNIST with the paper's recipe
            (``zmixlib.recipes.spec_for("Fashion-MNIST", profile="paper")``: SGD-Nesterov, flips) and ``method``
            with its paper hyperparameters.
        batch_size: default the recipe's (32).
        device: ``auto | cpu | cuda | cuda:N`` — every run of a cell trains on this one device.
        paths: data paths among :data:`PATHS`. compile: ``False`` (eager) and/or ``True``.
        runs_per_device: numbers of concurrent runs (processes) to measure.
        steps: timed steps per run and cell, per round. warmup: untimed steps per run and cell first
            (compilation happens there). rounds: interleaved rounds.
        images: training images (default: the whole split, or 60,000 for the stand-in); rounded down to a
            multiple of the batch size so that every batch has the same shape.
        threads: torch threads per run (default: the cores split between the cell's runs, as
            ``sweep.run(..., runs_per_device=k)`` splits them; one run alone gets them all).
        data_root: where Fashion-MNIST is looked for (a stand-in otherwise: see :func:`fashion_mnist_root`).

    Returns:
        one row per cell, indexed by ``(path, compiled, runs_per_device)``: ``images_per_s`` (median over
        rounds, all runs together; with ``q1``/``q3``), ``per_run_images_per_s``, ``threads_per_run``,
        ``ratio_to_baseline``
        (per-round ratio to DataLoader + eager + one run, median, with ``ratio_q1``/``ratio_q3``; NaN if that
        cell is not measured), ``packing_gain`` (per-round ratio to the same path and mode with one run),
        ``execution`` (how the runs actually executed — e.g. compile unavailable). ``attrs``: ``data``
        (real or stand-in), ``arch``, ``method``, ``batch_size``, ``images``, ``steps``, ``rounds``,
        ``device`` and :func:`zmixlib.bench.machine_info`.
    """
    for p in paths:
        check_choice("paths[]", p, PATHS)
    if not paths or not compile or not runs_per_device:
        raise ValueError(f"paths, compile and runs_per_device must be non-empty, got {paths!r}, {compile!r}, "
                         f"{runs_per_device!r}")  # fmt: skip
    rpds = sorted({check_int("runs_per_device[]", k, min=1) for k in runs_per_device})
    steps, warmup, rounds = (check_int(n, v, min=1) for n, v in (("steps", steps), ("warmup", warmup), ("rounds", rounds)))
    if images is not None:
        images = check_int("images", images, min=2)
    if threads is not None:
        threads = check_int("threads", threads, min=1)
    torch_device = resolve_device(device)
    spec = recipes.spec_for("Fashion-MNIST", profile="paper", method=method, arch=arch, batch_size=batch_size)
    cells = [(p, bool(c), k) for p in paths for c in dict.fromkeys(compile) for k in rpds]
    root, text, tmp = fashion_mnist_root(data_root, images=images or 60_000, seed=seed)
    n_train = len(data.load("Fashion-MNIST", "train", root=root))
    n_train = min(n_train, images or n_train) // spec.batch_size * spec.batch_size
    if n_train < spec.batch_size:
        raise ValueError(f"images must be >= batch_size={spec.batch_size}, got {images!r}")
    spec = spec.replace(data_root=str(root), device=str(torch_device), epochs=1, seed=seed, train_subset=n_train,
                        eval_subset=spec.batch_size)  # fmt: skip
    cpus = cpu_count()
    per_run = {k: threads or max(1, cpus // k) for k in rpds}
    workers = _Workers(max(rpds))
    execution: dict[tuple[str, bool], str] = {}
    rates: dict[tuple[str, bool, int], list[float]] = {cell: [] for cell in cells}
    try:
        for p, c in dict.fromkeys((p, c) for p, c, _ in cells):
            cell_spec = spec.replace(device_resident=p == "device", compile=c)
            if verbose:
                print(f"  preparing {p}, {'compiled' if c else 'eager'} in {max(rpds)} process(es)", flush=True)
            ex = workers.ask(max(rpds), ("prepare", f"{p}/{c}", cell_spec.to_dict(), warmup, per_run[max(rpds)]))
            e = ex[0]
            execution[(p, c)] = f"{e['data'].split(' (')[0]}, {'compiled' if e['compiled'] else 'eager'}"
        for r in range(rounds):
            order = cells[r % len(cells) :] + cells[: r % len(cells)]
            for p, c, k in order:
                spans = workers.ask(k, ("run", f"{p}/{c}", steps, per_run[k]))
                wall = max(t1 for _, t1, _ in spans) - min(t0 for t0, _, _ in spans)
                rates[(p, c, k)].append(sum(n for _, _, n in spans) / wall)
            if verbose:
                print(f"  round {r + 1}/{rounds} done", flush=True)
    finally:
        workers.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    base = ("loader", False, 1)
    rows = []
    for p, c, k in cells:
        v = np.asarray(rates[(p, c, k)])
        row = {"path": p, "compiled": c, "runs_per_device": k, "images_per_s": float(np.median(v))}
        row.update(q1=_q(v, 0.25), q3=_q(v, 0.75), per_run_images_per_s=float(np.median(v)) / k)
        row["threads_per_run"] = per_run[k]
        ratio = v / np.asarray(rates[base]) if base in rates else np.full(len(v), np.nan)
        row.update(ratio_to_baseline=float(np.median(ratio)), ratio_q1=_q(ratio, 0.25), ratio_q3=_q(ratio, 0.75))
        row["packing_gain"] = float(np.median(v / np.asarray(rates[(p, c, rpds[0])]))) if rpds[0] == 1 else np.nan
        row["execution"] = execution[(p, c)]
        rows.append(row)
    out = pd.DataFrame(rows).set_index(["path", "compiled", "runs_per_device"])
    out.attrs.update(machine_info(torch_device))
    out.attrs.update(
        data=text, arch=arch, method=method, batch_size=spec.batch_size, images=n_train, steps=steps, rounds=rounds,
        device=str(torch_device), input_shape=(1, 28, 28), num_classes=10,
    )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------- project


@cache
def forward_flops(arch: str, shape: tuple[int, ...], num_classes: int, arch_kwargs: tuple = ()) -> float:
    """FLOPs of one forward pass of ``arch`` on one input of ``shape`` ``(C, H, W)`` (or ``(D,)``), counted
    with ``torch.utils.flop_counter`` on the meta device (nothing is computed)."""
    with torch.device("meta"):
        model = models.build(arch, num_classes=num_classes, in_channels=shape[0],
                             input_size=tuple(shape[1:]) or None, **dict(arch_kwargs))  # fmt: skip
        x = torch.empty(1, *shape)
    with FlopCounterMode(display=False) as counter:
        model(x)
    return float(counter.get_total_flops())


def project(table: pd.DataFrame, *, sections: Sequence[str] | None = None) -> pd.DataFrame:
    """The wall time of each paper table's runs on this device, from a :func:`measure` table.

    For every run of ``zmixlib.recipes.resolve(section, "paper")``: ``epochs × TRAIN_SIZES[dataset]``
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


def targets(table: pd.DataFrame) -> pd.DataFrame:
    """The issue's throughput targets that apply to the measured device (:data:`TARGETS`).

    Returns:
        frame indexed by target: ``measured``, ``goal``, ``met``, ``description``.
    """
    device = torch.device(table.attrs.get("device", "cpu")).type
    idx = set(table.index)
    measured: dict[str, float] = {}
    base = ("loader", False, 1)
    if device == "cpu" and {base, ("device", False, 1)} <= idx:
        measured["device_vs_loader"] = table.loc[("device", False, 1), "ratio_to_baseline"]
    gains = [table.loc[(p, False, 2), "packing_gain"] for p in PATHS if {(p, False, 1), (p, False, 2)} <= idx]
    if device == "cpu" and gains:
        measured["two_runs_vs_one"] = max(gains)
    if device == "cuda" and base in idx:
        measured["best_vs_baseline"] = table["ratio_to_baseline"].max()
    rows = []
    for name, value in measured.items():
        thr, _, text = TARGETS[name]
        rows.append({"target": name, "measured": float(value), "goal": f">= {thr:g}", "met": bool(value >= thr),
                     "description": text})  # fmt: skip
    cols = ["measured", "goal", "met", "description"]
    return pd.DataFrame(rows).set_index("target") if rows else pd.DataFrame(columns=cols)
