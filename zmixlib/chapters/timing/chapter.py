"""Notebook ``09_timing`` cell by cell: each function is one cell, given the notebook's resolved parameters ``P``
(:func:`zmixlib.protocol.config.setup`); it prints and displays what the cell shows and returns what later cells use."""

from __future__ import annotations

import pandas as pd
import torch

from zmixlib.bench import machine_text, targets, throughput
from zmixlib.core import util as _util
from zmixlib.tables.report import show

from .costs import scaling, training_overhead, weights_comparison
from .figures import overhead_bars, timing_bars, timing_growth_grid
from .projection import project
from .table9 import paper_training_overhead, table9, table9_caption, table9_view, target_notes, training_caption


def here(P) -> str:
    """Returns the label of every measurement of the chapter: ``"this machine: <profile> profile, <device>"``."""
    return f"this machine: {P.profile} profile, {P.torch_device}"


def setup_machine(P) -> None:
    """Sets torch's intra-op threads to ``P.num_threads`` (when given) and prints the machine
    (:func:`zmixlib.bench.machine_text`)."""
    if P.num_threads:
        torch.set_num_threads(P.num_threads)
    print(machine_text(P.torch_device, P.num_threads))


def run_table9(P) -> pd.DataFrame:
    """Prints the caption, displays :func:`table9_view` and returns :func:`table9` at the chapter's batch,
    resolution and dtype."""
    t9 = table9(
        batch_size=P.batch_size,
        resolution=P.resolution,
        device=P.torch_device,
        dtype=getattr(torch, P.dtype),
        include_slow=P.include_slow,
        rounds=P.rounds,
        seed=P.seed,
    )
    print(table9_caption(t9))
    show(table9_view(t9))
    return t9


def draw_table9(P, t9: pd.DataFrame):
    """Returns :func:`timing_bars` of ``t9``, labelled with the machine, dtype and batch shape."""
    return timing_bars(t9, label=f"{here(P)}, {P.dtype}, batch {t9.attrs['batch_shape']}")


def run_weights(P) -> pd.DataFrame:
    """Displays (rounded to 4 places) and returns :func:`weights_comparison` (ζ-weights, ours vs the authors') at
    ``P.weight_batch_sizes``."""
    wt = weights_comparison(P.weight_batch_sizes, device=P.torch_device, rounds=P.rounds, seed=P.seed)
    show(wt.round(4))
    return wt


def run_scaling(P) -> pd.DataFrame:
    """Displays the median times of :func:`scaling` per sweep, dtype, batch size and resolution (columns: methods),
    draws :func:`timing_growth_grid` and returns the frame."""
    sc = scaling(
        batch_sizes=P.batch_sizes,
        resolutions=P.resolutions,
        fixed_resolution=P.fixed_resolution,
        fixed_batch=P.fixed_batch,
        dtypes=P.dtypes,
        device=P.torch_device,
        rounds=P.scaling_rounds,
        seed=P.seed,
    )
    index = ["sweep", "dtype", "batch_size", "resolution"]
    show(sc.pivot_table(index=index, columns="method", values="median_ms").round(3))
    timing_growth_grid(sc, label=here(P))
    return sc


def run_training(P) -> pd.DataFrame:
    """Prints the caption, displays :func:`training_overhead` beside the paper's whole-run overheads, draws
    :func:`overhead_bars` and returns the measured frame."""
    tr = training_overhead(
        P.train_methods,
        batch_size=P.train_batch_size,
        image_size=P.train_image_size,
        device=P.torch_device,
        rounds=P.train_rounds,
        seed=P.seed,
    )
    print(training_caption(tr))
    show(tr.round(2))
    print("paper (GTX TITAN X), whole training runs:")
    show(paper_training_overhead().round(1))
    overhead_bars(tr, label=f"{here(P)}, B = {P.train_batch_size}, {P.train_image_size} px")
    return tr


def run_throughput(P) -> pd.DataFrame:
    """Prints what was trained, displays (rounded to 2 places) and returns :func:`zmixlib.bench.throughput.measure`
    at the chapter's ``tp_*`` settings (Fashion-MNIST under the project's ``data/``)."""
    tp = throughput.measure(
        arch=P.tp_arch,
        device=str(P.torch_device),
        compile=P.tp_compile,
        runs_per_device=P.tp_runs_per_device,
        steps=P.tp_steps,
        rounds=P.tp_rounds,
        images=P.tp_images,
        data_root=_util.ROOT / "data",
        seed=P.seed,
    )
    print(f"{tp.attrs['arch']} on {tp.attrs['data']}, batch {tp.attrs['batch_size']}, {tp.attrs['device']} — {here(P)}")
    show(tp.round(2))
    return tp


def show_projection(tp: pd.DataFrame) -> None:
    """Displays :func:`project` (each paper table's wall time at the measured rate) and the throughput targets."""
    show(project(tp).round(2))
    show(targets(throughput=tp).round(2))


def show_targets(t9: pd.DataFrame, wt: pd.DataFrame, tr: pd.DataFrame) -> pd.DataFrame:
    """Displays the speed targets (:func:`zmixlib.bench.targets`), prints one note per target
    (:func:`target_notes`) and returns the targets frame."""
    tg = targets(t9, wt, tr)
    show(tg.round(3))
    for note in target_notes(tg, t9):
        print("-", note)
    return tg
