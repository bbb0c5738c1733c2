"""Training throughput on this device, and what it means for the paper's tables.

:func:`measure` times the engine's own training step (:meth:`zmixlib.engine.train.Trainer.train_steps`: flip, mix,
forward, backward, update) in images/s for every combination of

* the data path — ``"loader"`` (a DataLoader decoding every image) or ``"device"`` (the whole split as one
  tensor on the device, :mod:`zmixlib.data.device_data`);
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

The speed targets it is checked against are :data:`zmixlib.bench.TARGETS`; chapter 09
(:mod:`zmixlib.chapters.timing`) projects the measured rates onto the paper's tables. Used by
``python -m zmixlib bench --what throughput`` and notebook 09.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import tempfile
import time
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from zmixlib import data
from zmixlib.core.checks import check_choice, check_int
from zmixlib.core.device import resolve_device
from zmixlib.engine.runspec import RunSpec
from zmixlib.engine.train import Trainer
from zmixlib.engine.workers import cpu_count
from zmixlib.protocol import recipes

from .harness import machine_info, quantile

__all__ = ["PATHS", "measure", "fashion_mnist_root"]

#: The data paths: a DataLoader over the dataset, or the split held on the device.
PATHS = ("loader", "device")

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
        arch: the model (a :mod:`zmixlib.engine.models` name), trained on Fashion-MNIST with the paper's recipe
            (``zmixlib.protocol.recipes.spec_for("Fashion-MNIST", profile="paper")``: SGD-Nesterov, flips) and ``method``
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
        raise ValueError(
            f"paths, compile and runs_per_device must be non-empty, got {paths!r}, {compile!r}, {runs_per_device!r}"
        )
    rpds = sorted({check_int("runs_per_device[]", k, min=1) for k in runs_per_device})
    steps, warmup, rounds = (
        check_int(n, v, min=1) for n, v in (("steps", steps), ("warmup", warmup), ("rounds", rounds))
    )
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
    spec = spec.replace(
        data_root=str(root),
        device=str(torch_device),
        epochs=1,
        seed=seed,
        train_subset=n_train,
        eval_subset=spec.batch_size,
    )
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
        row.update(q1=quantile(v, 0.25), q3=quantile(v, 0.75), per_run_images_per_s=float(np.median(v)) / k)
        row["threads_per_run"] = per_run[k]
        ratio = v / np.asarray(rates[base]) if base in rates else np.full(len(v), np.nan)
        row.update(
            ratio_to_baseline=float(np.median(ratio)), ratio_q1=quantile(ratio, 0.25), ratio_q3=quantile(ratio, 0.75)
        )
        row["packing_gain"] = float(np.median(v / np.asarray(rates[(p, c, rpds[0])]))) if rpds[0] == 1 else np.nan
        row["execution"] = execution[(p, c)]
        rows.append(row)
    out = pd.DataFrame(rows).set_index(["path", "compiled", "runs_per_device"])
    out.attrs.update(machine_info(torch_device))
    out.attrs.update(
        data=text,
        arch=arch,
        method=method,
        batch_size=spec.batch_size,
        images=n_train,
        steps=steps,
        rounds=rounds,
        device=str(torch_device),
        input_shape=(1, 28, 28),
        num_classes=10,
    )
    return out
