"""Chapter 03's protocol: local intrinsic dimension of the original data, of mixup's and of ζ-mixup's
output (Fig. 6, MIDL 2023, drawn by :func:`local_id_panels`), the check against scikit-dimension, and the timing
of our implementation (:func:`zmixlib.bench.best_time`).

The algorithm itself (:func:`zmixlib.analysis.intrinsic.local_id`) lives in :mod:`zmixlib.analysis.intrinsic`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import skdim
import torch

from zmixlib import data
from zmixlib.analysis.geometry import augment_dataset
from zmixlib.analysis.intrinsic import _as_points, agreement, local_id, local_id_skdim, local_id_summary
from zmixlib.bench import best_time
from zmixlib.core.theory import GAMMA_MIN
from zmixlib.core.vocab import gamma_text
from zmixlib.tables.paper import paper_table
from zmixlib.tables.plots import house_style, method_color

__all__ = [
    "Data",
    "chapter_data",
    "skdim_check",
    "benchmark",
    "fig6",
    "fig6_table",
    "midl",
    "benchmark_local_id",
    "benchmark_text",
    "check_against_skdim",
    "dataset_points",
    "local_id_sweep",
    "summarize_sweep",
    "midl_table",
    "bootstrap_difference",
    "BOOT_REPS",
    "local_id_panels",
]


def benchmark_local_id(
    n: int = 8192,
    dim: int = 12,
    k: int = 128,
    *,
    alpha: float = 0.05,
    x: torch.Tensor | np.ndarray | None = None,
    device: torch.device | str | None = "cpu",
    seed: int = 0,
    repeats: int = 1,
    method: str = "auto",
) -> dict[str, Any]:
    """Time :func:`local_id` against skdim (``n_jobs=1``) side by side on the same data.

    Default data: ``n`` points of skdim's 3-D paraboloid in ℝ¹² (``Mp1_Paraboloid``), or a 1-D helix
    padded with zeros for other ``dim``; pass ``x`` to time your own. Each side runs ``repeats`` times
    (best time kept); ours is warmed up once first. ``method`` is :func:`knn_indices`'s search.

    Returns:
        dict with ``n, dim, k, alpha, device, method, seconds_ours, seconds_skdim, speedup``
        (skdim / ours), ``agreement`` (fraction of points with equal ID) and ``load_average`` (the
        machine's 1-minute load average afterwards: on a busy machine treat the times as such).
    """
    if x is None:
        x = _benchmark_points(n, dim, seed)
    x64 = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    n, dim = x64.shape
    m = min(n, 4 * k)
    local_id(x64[:m], min(k, m - 1), alpha=alpha, device=device, method=method)  # warm-up
    t_ours, ours = best_time(lambda: local_id(x64, k, alpha=alpha, device=device, method=method), repeats)
    t_ref, ref = best_time(lambda: local_id_skdim(x64, k, alpha=alpha, n_jobs=1), repeats)
    return {
        "n": n,
        "dim": dim,
        "k": k,
        "alpha": alpha,
        "device": str(torch.device(device) if device is not None else "cpu"),
        "method": method,
        "seconds_ours": t_ours,
        "seconds_skdim": t_ref,
        "speedup": t_ref / t_ours,
        "agreement": agreement(ours, ref),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
    }


def benchmark_text(result: dict[str, Any], *, label: str) -> str:
    """Returns :func:`benchmark_local_id`'s ``result`` in two lines: the data, ``label`` (what was measured, where),
    both times, the speed-up, the agreement and the machine's load."""
    r = result
    return (
        f"{r['n']} points in R^{r['dim']}, k = {r['k']}, {label}:\n"
        f"  local_id {r['seconds_ours']:.3f} s, skdim {r['seconds_skdim']:.3f} s -> {r['speedup']:.1f}x faster;"
        f" agreement {r['agreement']:.4%} (1-minute load average {r['load_average']:.1f} on {os.cpu_count()} CPUs)"
    )


def _benchmark_points(n: int, dim: int, seed: int) -> np.ndarray:
    gen = skdim.datasets.BenchmarkManifolds(random_state=seed)
    if dim == 12:
        return gen.generate("Mp1_Paraboloid", n=n, dim=12, d=3)
    return gen.generate("M5a_Helix1d", n=n, dim=dim, d=1)


def check_against_skdim(
    sets: dict[str, Any], ks: Sequence[int], *, alpha: float = 0.05, device: torch.device | str | None = None
) -> Any:
    """Per-point agreement of :func:`local_id` with skdim on each named point set and each ``k``.

    Returns a ``pandas.DataFrame``: ``set, n, dim, k, agreement`` (fraction of points with the same ID),
    ``disagreeing`` (how many points differ), ``seconds_ours, seconds_skdim``.
    """
    rows = []
    for name, points in sets.items():
        pts = np.asarray(_as_points(points, "cpu").numpy())
        for k in ks:
            t_ours, ours = best_time(lambda p=pts, k=k: local_id(p, k, alpha=alpha, device=device))
            t_ref, ref = best_time(lambda p=pts, k=k: local_id_skdim(p, k, alpha=alpha))
            same = agreement(ours, ref)
            rows.append(
                dict(set=name, n=len(pts), dim=pts.shape[1], k=k, agreement=same)
                | dict(disagreeing=int(round((1 - same) * len(pts))), seconds_ours=t_ours, seconds_skdim=t_ref)
            )
    return pd.DataFrame(rows)


def dataset_points(
    name: str, *, n: int | None = None, limit: int | None = None, seed: int = 0, root: str = "data"
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Points of a dataset of notebook 03 as ``(X (N, D) float32, y (N,), num_classes)``.

    Synthetic sets (``zmixlib.data.SYNTHETIC``) are sampled with ``n`` points and ``seed``. Real ones are
    loaded whole through ``zmixlib.data.as_tensors`` (split ``all`` where there is one, else ``train``;
    images flattened) — ``n`` does not apply to them — and, with ``limit`` smaller than the set,
    subsampled at random (``seed``). A real set that is absent raises ``zmixlib.data``'s
    ``FileNotFoundError`` naming the path and ``make data``.
    """
    if name in data.SYNTHETIC:
        x, y = data.synthetic(name, n, seed=seed)
        return x, y, data.describe(name).num_classes
    info = data.describe(name)
    x, y = data.as_tensors(name, "all" if "all" in info.splits else "train", root=root)
    if limit is not None and limit < len(x):
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:limit]
        x, y = x[keep], y[keep]
    return x.reshape(len(x), -1), y, info.num_classes


def local_id_sweep(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    dataset: str,
    ks: Sequence[int] = (8, 128),
    gammas: Sequence[float | tuple[float, float]] = (),
    seeds: Sequence[int] = (0,),
    batch_size: int = 32,
    num_classes: int | None = None,
    alpha: float = 0.05,
    device: torch.device | str | None = None,
    include: Sequence[str] = ("original", "mixup"),
    keep_points: bool = False,
) -> Any:
    """Mean and sd of the local ID of ``x``, of mixup's output and of ζ-mixup's output for each γ.

    Each augmented set is the whole of ``x`` mixed batch by batch
    (:func:`zmixlib.analysis.geometry.augment_dataset`, shuffled with a generator seeded ``seed``; ζ-mixup mixes
    the whole batch, ``T = batch_size``); ``x`` is flattened to ``(N, D)``. A γ given as a range
    ``(low, high)`` draws one ``γ ~ U[low, high]`` per batch.

    Args:
        include: which of ``"original"``, ``"mixup"`` to measure besides ζ-mixup.
        keep_points: also keep every point's local ID (column ``values``, a float array), for
            :func:`bootstrap_difference`.

    Returns:
        a ``pandas.DataFrame`` with one row per (method, γ, k, seed): ``dataset, method, gamma`` (NaN
        for original, mixup and γ ranges), ``setting`` (:func:`zmixlib.core.vocab.gamma_text`; ``""`` for original and
        mixup), ``k, seed`` (NaN for original), ``n, mean, sd`` (over points).
    """
    x = x.reshape(x.shape[0], -1)
    rows = []

    def add(points: torch.Tensor, method: str, gamma: Any, seed: int | None) -> None:
        value = float(gamma) if isinstance(gamma, (int, float)) else None
        setting = "" if gamma is None else gamma_text(gamma)
        for k in ks:
            ids = local_id(points, k, alpha=alpha, device=device)
            mean, sd = local_id_summary(ids)
            rows.append(dict(dataset=dataset, method=method, gamma=value, setting=setting, k=k, seed=seed))
            rows[-1].update(n=len(points), mean=mean, sd=sd)
            if keep_points:
                rows[-1]["values"] = torch.as_tensor(ids).double().cpu().numpy()

    if "original" in include:
        add(x, "original", None, None)
    for seed in seeds:
        if "mixup" in include:
            gen = torch.Generator().manual_seed(seed)
            xm, _ = augment_dataset(x, y, "mixup", batch_size=batch_size, num_classes=num_classes, generator=gen)
            add(xm, "mixup", None, seed)
        for gamma in gammas:
            g = tuple(float(v) for v in gamma) if isinstance(gamma, (tuple, list)) else float(gamma)
            gen = torch.Generator().manual_seed(seed)
            xm, _ = augment_dataset(
                x, y, "zeta_mixup", gamma=g, batch_size=batch_size, num_classes=num_classes, generator=gen
            )
            add(xm, "zeta_mixup", g, seed)
    return pd.DataFrame(rows)


def summarize_sweep(frame: Any) -> Any:
    """Average a :func:`local_id_sweep` frame over seeds.

    Per (dataset, method, γ setting, k): the mean over seeds of the per-point ``mean`` and ``sd``, the
    sd over seeds of the mean (``seed_sd``, 0 with one seed) and ``seeds`` (rows averaged; 1 for the
    original data).
    """
    g = frame.groupby(["dataset", "method", "setting", "k"], dropna=False, sort=False)
    out = g.agg(
        gamma=("gamma", "first"), mean=("mean", "mean"), sd=("sd", "mean"), seed_sd=("mean", "std"), n=("n", "first")
    )
    out["seeds"] = g.size()
    return out.fillna({"seed_sd": 0.0}).reset_index()


#: bootstrap replicates of the per-dataset local-ID difference (:func:`bootstrap_difference`)
BOOT_REPS = 1000


def bootstrap_difference(sweep: pd.DataFrame, *, reps: int = BOOT_REPS, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Per dataset, ``reps`` bootstrap replicates of ζ-mixup's − mixup's mean local ID over points.

    ``sweep``: :func:`local_id_sweep` rows with ``keep_points`` (ζ-mixup at one setting, mixup; one row per seed,
    one ``k``). A replicate resamples the points of every set with replacement, independently, and averages the
    difference of means over the seeds. The replicates carry the sampling noise of the points (the local IDs of
    neighbouring points are not independent, so the spread is a lower bound); the seeds' is in the mean over them.

    Returns:
        ``{dataset: {"diffs": [replicate differences], "n": points per set}}`` for every dataset with both methods.
    """
    if "values" not in sweep.columns:
        raise ValueError("sweep must have per-point values: local_id_sweep(..., keep_points=True)")
    rng = np.random.default_rng(seed)
    out = {}
    for name, g in sweep.groupby("dataset", sort=False):
        zeta, mix = g[g["method"] == "zeta_mixup"], g[g["method"] == "mixup"]
        pairs = zeta.merge(mix, on="seed", suffixes=("_z", "_m"))
        if pairs.empty:
            continue
        total = np.zeros(reps)
        for _, r in pairs.iterrows():
            for v, sign in ((np.asarray(r["values_z"]), 1.0), (np.asarray(r["values_m"]), -1.0)):
                for lo in range(0, reps, 50):  # 50 replicates at a time: n × 50 indices in memory
                    idx = rng.integers(0, v.size, size=(min(50, reps - lo), v.size))
                    total[lo : lo + idx.shape[0]] += sign * v[idx].mean(axis=1)
        out[str(name)] = {"diffs": list(total / len(pairs)), "n": int(len(pairs.iloc[0]["values_z"]))}
    return out


def midl_table(summary: Any, *, gamma: float | tuple[float, float], k: int = 128) -> Any:
    """The MIDL 2023 local-ID numbers (k = 128, CIFAR-10/100) beside ours.

    Paper rows come from ``zmixlib.tables.paper.paper_table("midl-id")`` (the sd is in its note, "+- 9.47");
    ours are the rows of ``summary`` (:func:`summarize_sweep`) at ``k``: original, mixup and ζ-mixup at
    the setting ``gamma`` (MIDL does not state the γ behind its numbers; it trains with γ ~ U[γ_min, 4]).
    Columns: ``source, dataset, method, gamma, k, mean, sd, seeds``.
    """
    paper = paper_table("midl-id")
    rows = [
        dict(
            source="paper (MIDL 2023)",
            dataset=r.dataset,
            method=r.method.replace("-", "_"),
            gamma="not stated" if r.method == "zeta-mixup" else "",
            k=128,
            mean=float(r.value),
            sd=_sd_from_note(r.note),
            seeds=None,
        )
        for r in paper.itertuples()
    ]
    label = gamma_text(gamma)
    ours = summary[(summary["k"] == k) & summary["method"].isin(["original", "mixup", "zeta_mixup"])]
    ours = ours[(ours["method"] != "zeta_mixup") | (ours["setting"] == label)]
    order = {m: i for i, m in enumerate(["original", "mixup", "zeta_mixup"])}
    ours = ours.assign(
        _m=ours["method"].map(order), _d=ours["dataset"].map({d: i for i, d in enumerate(ours["dataset"].unique())})
    )
    for r in ours.sort_values(["_d", "_m"], kind="stable").itertuples():
        rows.append(dict(source="ours", dataset=r.dataset, method=r.method, gamma=r.setting, k=k, mean=r.mean, sd=r.sd))
        rows[-1]["seeds"] = r.seeds
    return pd.DataFrame(rows)


def _sd_from_note(note: Any) -> float:
    m = re.search(r"\+-\s*([0-9.]+)", str(note))
    return float(m.group(1)) if m else float("nan")


@house_style()
def local_id_panels(summary, *, gamma_min: float, label: str, paper: dict | None = None):
    """Fig. 6 of ζ-mixup (MIDL 2023): local ID against γ, one panel per (dataset, k).

    ``summary`` is :func:`summarize_sweep`'s frame: ζ-mixup is a line (mean over
    points) with a ± sd band, the original data and mixup are horizontal lines with their own bands;
    γ_min is a vertical dotted line. ``paper`` optionally maps ``(dataset, method)`` to a paper
    ``(mean, sd)`` drawn as a dashed line at k = 128 (MIDL 2023). ``label`` goes in the title.
    """

    panels = list(summary[["dataset", "k"]].drop_duplicates().itertuples(index=False, name=None))
    cols = len(summary["k"].unique())
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
    for ax, (dataset, k) in zip(axes.flat, panels):
        df = summary[(summary["dataset"] == dataset) & (summary["k"] == k)]
        zeta = df[df["method"] == "zeta_mixup"].sort_values("gamma")
        g = zeta["gamma"].to_numpy(float)
        color = method_color("zeta_mixup")
        ax.plot(g, zeta["mean"], color=color, lw=2, label="ζ-mixup")
        ax.fill_between(g, zeta["mean"] - zeta["sd"], zeta["mean"] + zeta["sd"], color=color, alpha=0.2)
        lo, hi = (g.min(), g.max()) if len(g) else (0.0, 1.0)
        for method, name, style in (("original", "original", "-"), ("mixup", "mixup", "-.")):
            row = df[df["method"] == method]
            if len(row):
                m, s = float(row["mean"].iloc[0]), float(row["sd"].iloc[0])
                ax.axhline(m, color=method_color(method), ls=style, lw=1.5, label=f"{name} ({m:.2f} ± {s:.2f})")
                ax.axhspan(m - s, m + s, color=method_color(method), alpha=0.08)
        for (p_dataset, p_method), (m, s) in (paper or {}).items():
            if p_dataset == dataset and k == 128:
                paper_label = f"paper {p_method} ({m:.2f} ± {s:.2f})"
                ax.axhline(m, color=method_color(p_method), ls="--", lw=1, label=paper_label)
        ax.axvline(gamma_min, color="black", ls=":", lw=1, label=f"γ_min = {gamma_min:.5f}")
        ax.set_xlim(lo, hi)
        ax.set_xlabel("γ (ζ-mixup)")
        ax.set_ylabel("local ID (mean ± sd over points)")
        ax.set_title(f"{dataset}, k = {k}")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(f"Local intrinsic dimension (Fukunaga–Olsen, α = 5 %) — {label}")
    fig.tight_layout()
    return fig


# ---- the chapter, cell by cell: each function is one cell of notebook 03 (``P``: its resolved parameters)

# γ values of the Fig. 6 sweep listed in the chapter's table (the others are drawn only)
SHOWN_GAMMAS = (1.0, 2.0, 3.0, 4.0, 6.0, 10.0, 15.0)


@dataclass
class Data:
    """The chapter's datasets and settings: ``data`` (the Fig. 6 sweep) and ``table_only`` (measured only for
    the MIDL table), each ``name -> (X (N, D), y (N,), num_classes)``."""

    seeds: list[int]
    midl_gamma: float | tuple[float, float]
    label: str
    data: dict[str, tuple[torch.Tensor, torch.Tensor, int]]
    table_only: dict[str, tuple[torch.Tensor, torch.Tensor, int]]

    def summary(self) -> pd.DataFrame:
        """Returns one row per dataset: ``dataset, points, dim, classes, used in``."""
        rows = [
            (name, *x.shape, K, "Fig. 6 + table" if name in self.data else "table (k = 128)")
            for name, (x, y, K) in {**self.data, **self.table_only}.items()
        ]
        return pd.DataFrame(rows, columns=["dataset", "points", "dim", "classes", "used in"])


def chapter_data(P) -> Data:
    """Returns the chapter's :class:`Data`: seeds ``P.seed, P.seed + 1, ...``, the MIDL γ (a number, or a
    ``(low, high)`` range), the label of every figure and table, and every dataset loaded up front (with
    ``profile="paper"`` a missing CIFAR stops here, naming the path and ``make data``)."""
    seeds = [P.seed + i for i in range(P.num_seeds)]
    g = P.midl_gamma
    midl_gamma = tuple(g) if isinstance(g, (list, tuple)) else float(g)
    label = f"profile {P.profile}, seeds {seeds}, device {P.torch_device}"

    def load(name):
        return dataset_points(name, n=P.n_points, limit=P.real_limit, seed=P.seed, root=P.data_root)

    sweep = {name: load(name) for name in P.datasets}
    table_only = {name: load(name) for name in P.table_datasets if name not in sweep}
    return Data(seeds, midl_gamma, label, sweep, table_only)


def skdim_check(P, D: Data) -> pd.DataFrame:
    """Prints the overall agreement of :func:`local_id` with skdim and returns :func:`check_against_skdim`'s
    table on the first ``P.check_points`` points of every set up to 1,024-D and one mixup output of each
    (skdim on CIFAR, 3,072-D and 50,000 points, would take hours)."""
    small = {name: (x[: P.check_points], y[: P.check_points], K) for name, (x, y, K) in D.data.items()}
    small = {name: v for name, v in small.items() if v[0].shape[1] <= 1024}
    sets = {name: x for name, (x, y, K) in small.items()}
    for name, (x, y, K) in small.items():
        gen = torch.Generator().manual_seed(P.seed)
        sets[f"{name} + mixup"] = augment_dataset(x, y, "mixup", num_classes=K, generator=gen)[0]
    check = check_against_skdim(sets, P.ks, device=P.torch_device)
    print(
        f"agreement with scikit-dimension ({D.label}): {check['agreement'].mean():.4%} of points over all sets, "
        f"{check['disagreeing'].sum()} points differ"
    )
    return check


def benchmark(P, D: Data) -> dict[str, Any]:
    """Prints and returns :func:`benchmark_local_id` at the chapter's sizes (the 3-D paraboloid in ℝ¹²)."""
    result = benchmark_local_id(n=P.bench_n, dim=12, k=P.bench_k, repeats=P.bench_repeats, device=P.torch_device)
    print(benchmark_text(result, label=D.label))
    return result


def _sweep(P, D: Data, sets: dict, *, include=lambda name: ("original", "mixup"), **kw) -> pd.DataFrame:
    """Returns :func:`local_id_sweep` over every set of ``sets`` at the chapter's seeds and batch size, the
    set ``name`` measuring ``include(name)`` besides ζ-mixup."""
    frames = [
        local_id_sweep(
            x,
            y,
            dataset=name,
            seeds=D.seeds,
            batch_size=P.batch_size,
            num_classes=K,
            device=P.torch_device,
            include=include(name),
            **kw,
        )
        for name, (x, y, K) in sets.items()
    ]
    return pd.concat(frames, ignore_index=True)


def fig6(P, D: Data) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draws Fig. 6 (:func:`local_id_panels`, γ_min marked) and returns ``(sweep, summary)``: the per-seed
    :func:`local_id_sweep` rows of every Fig. 6 dataset over ``P.ks`` × ``P.gammas``, and their
    :func:`summarize_sweep`."""
    sweep = _sweep(P, D, D.data, ks=P.ks, gammas=P.gammas)
    summary = summarize_sweep(sweep)
    local_id_panels(summary, gamma_min=GAMMA_MIN, label=D.label)
    return sweep, summary


def fig6_table(P, D: Data, summary: pd.DataFrame) -> pd.DataFrame:
    """Prints the table's caption and returns Fig. 6's numbers — mean ± sd local ID per dataset, method and
    setting (ζ-mixup at a few γ of the sweep: :data:`SHOWN_GAMMAS`), columns per k, rounded to 2 places."""
    shown = [g for g in P.gammas if g in SHOWN_GAMMAS]
    rows = summary[(summary["method"] != "zeta_mixup") | summary["gamma"].isin(shown)]
    print(f"local ID, mean ± sd over points (mean over seeds) — {D.label}")
    return rows.pivot_table(
        index=["dataset", "method", "setting"], columns="k", values=["mean", "sd"], sort=False
    ).round(2)


def midl(P, D: Data, summary: pd.DataFrame) -> pd.DataFrame:
    """Prints the table's caption and returns :func:`midl_table` at k = 128 and ζ-mixup's ``D.midl_gamma``: the
    Fig. 6 ``summary`` plus every dataset (the table-only ones: original and mixup) measured at that γ. Its
    ``attrs["boot"]`` holds :func:`bootstrap_difference` of the measured points (ζ-mixup − mixup per dataset)."""
    extra = _sweep(
        P,
        D,
        {**D.data, **D.table_only},
        ks=[128],
        gammas=[D.midl_gamma],
        include=lambda name: ("mixup",) if name in D.data else ("original", "mixup"),
        keep_points=True,
    )
    keys = ["dataset", "method", "setting", "k"]  # the Fig. 6 sets' mixup is measured again here, point by point
    midl_summary = pd.concat([summary, summarize_sweep(extra)], ignore_index=True).drop_duplicates(keys, keep="last")
    table = midl_table(midl_summary, gamma=D.midl_gamma, k=128)
    table.attrs["boot"] = bootstrap_difference(extra, seed=P.seed)
    print(f"ζ-mixup γ ~ {gamma_text(D.midl_gamma)} for 'ours'; ours: {D.label}; paper: MIDL 2023, CIFAR training sets")
    return table
