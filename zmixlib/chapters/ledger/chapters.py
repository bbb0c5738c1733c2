"""Evidence from every chapter: :func:`record_claims` builds every claim of a chapter from its frames and records
it (chapters 00–03's builders are in :mod:`.foundations`, chapter 10's in :mod:`.peers_evidence`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .cells import _best_gamma_cells, _regime_of, _run_text, _seed_cells, put_cells
from .foundations import _intrinsic_dimension, _realism, _synthetic_manifolds, _theorems
from .peers_evidence import _peers
from .store import record

#: chapter -> the claims a chapter-wide regime check applies to (default: every claim of the chapter); chapter 10's
#: check is its leaderboard's ERM, which MultiMix's runs share — the UCI, Table 1 and Fig. 9 runs have their own
_REGIME_CLAIMS = {"10_peers": {"multimix"}}


def record_claims(chapter: str, *, params: Any, regime: Any = None, **frames: Any) -> list[str]:
    """Build and record every claim of ``chapter`` from its frames; returns the ids recorded.

    ``params`` is the notebook's ``P`` (profile, results_dir, seeds, torch_device); ``regime`` the chapter's
    ``RegimeCheck`` (``None``: no check, the evidence counts as testable; in chapter 10 it applies to MultiMix
    only, see ``_REGIME_CLAIMS``) or a dict of them per claim id.
    Frames per chapter — ``00_theorems``: ``g_min``; ``01_synthetic_manifolds``: ``realism``, ``hollow``;
    ``02_realism``: ``checked``, ``oracle``; ``03_intrinsic_dimension``: ``table``, ``gamma``; ``04_natural``: ``runs``, ``pairs`` (ζ-mixup − mixup), ``runs5``, ``pairs5``;
    ``05_skin``: ``runs``, ``pairs`` (:func:`zmixlib.chapters.skin.paired`), ``knn_pairs``, optional
    ``runs_f1`` (not used yet); ``06_medmnist``: ``choice``, ``diffs``; ``07_sensitivity``: ``curve``,
    ``mixup_runs``, ``search``; ``08_ablation``: ``runs``, ``pairs``; ``09_timing``: ``t9``, ``tr``;
    ``10_peers``: ``uci``, ``runs_1`` (or the older ``t1_diffs``), ``runs_mm``, ``runs_m9``, ``f9``.
    """
    base = {"results_dir": getattr(params, "results_dir", None), "profile": params.profile}
    done: list[str] = []

    def put(claim_id: str, **kw: Any) -> None:
        applies = claim_id in _REGIME_CLAIMS.get(chapter, {claim_id}) or isinstance(regime, dict)
        ev = _regime_of(regime, claim_id) if applies else {}
        if record(claim_id, **base, **ev, **kw) is not None:
            done.append(claim_id)

    if chapter not in _BUILDERS:
        raise ValueError(f"chapter must be one of {sorted(_BUILDERS)}, got {chapter!r}")
    _BUILDERS[chapter](put, frames, params)
    return done


def _natural(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 04: Table 4 against mixup and against ERM, and Table 5's CutMix + ζ-mixup."""
    from zmixlib import paper

    runs = f.get("runs")
    keys = ["dataset", "arch", "gamma"]
    cells = _seed_cells(f.get("pairs"), keys)
    put_cells(put, "natural", cells, runs=runs, params=params, what="ζ-mixup − mixup ERR (points)")
    erm = paper.paired(runs, metric="ERR_percent", baseline="erm") if runs is not None and len(runs) else None
    put_cells(put, "natural_erm", _seed_cells(erm, keys), runs=runs, params=params, what="ζ-mixup − ERM ERR (points)")
    p5 = f.get("pairs5")
    if p5 is not None and len(p5):
        cells = _seed_cells(p5[p5["method"] == "cutmix_zeta"], ["dataset", "arch"])
        what = "CutMix + ζ-mixup (switch) − CutMix ERR (points)"
        put_cells(put, "cutmix_zeta", cells, runs=f.get("runs5"), params=params, what=what)


def _skin(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 05: ζ-mixup at its best γ against ERM and mixup (balanced accuracy, F1), and Fig. 8's neighbours."""
    from zmixlib import paper

    runs, pairs = f.get("runs"), f.get("pairs")
    f1 = []
    if runs is not None and len(runs):
        from zmixlib.chapters import skin

        for metric in ("F1_micro", "F1_macro"):
            if f"test_{paper.PAPER_METRICS[metric][0]}" in runs.columns:
                p = skin.paired(runs, metric=metric)
                f1.append(p.assign(diff=100 * p["diff"].astype(float), metric=metric))  # points, as balanced accuracy
    f1 = pd.concat(f1, ignore_index=True) if f1 else None
    for claim_id, frame, keys, measure in (
        ("skin_f1", f1, ["dataset", "arch", "metric", "baseline"], "F1-micro and F1-macro"),
        ("skin", pairs, ["dataset", "arch", "baseline"], "balanced accuracy"),
    ):
        if frame is not None and len(frame):
            cells = _best_gamma_cells(frame, keys)
            what = f"ζ-mixup (best γ) − baseline {measure} (points)"
            put_cells(put, claim_id, cells, runs=runs, params=params, what=what, sign=-1.0)
    knn = f.get("knn_pairs")
    cells = _seed_cells(knn, ["dataset", "arch", "gamma"], sign=-1.0)
    what = "ζ-mixup − mixup same-label neighbours per test image (all test images)"
    put_cells(put, "knn_neighbourhoods", cells, runs=knn, params=params, what=what, sign=-1.0)


def _medmnist(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 06: Table 7, AUC and ACC in points at the epoch chosen on validation."""
    diffs = f.get("diffs")
    if diffs is not None and len(diffs):
        d = diffs[diffs["epoch"] == "best"].dropna(subset=["diff"])
        d = d.assign(diff=np.where(d["metric"] == "AUC", 100 * d["diff"].astype(float), d["diff"].astype(float)))
        cells = _seed_cells(d, ["dataset", "metric", "baseline"], sign=-1.0)
        what = "ζ-mixup − baseline, AUC and ACC in points at the val-selected epoch"
        put_cells(put, "medmnist", cells, runs=f.get("choice"), params=params, what=what, sign=-1.0)


def _ablation(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 08: Table 8's comparisons, ζ-mixup's against each ablated variant and T = 2's against mixup."""
    runs, pairs = f.get("runs"), f.get("pairs")
    if pairs is not None and len(pairs):
        for claim_id, own in (("ablation", pairs["first"] == "zeta"), ("ablation_t2", pairs["first"] != "zeta")):
            comps = [
                {"label": name, "diffs": [float(x) for x in g["diff"]]}
                for name, g in pairs[own].groupby("comparison", sort=False)
            ]
            if comps:
                ours = "; ".join(f"{c['label']}: {np.mean(c['diffs']):+.2f}" for c in comps)
                put(
                    claim_id,
                    data=_run_text(runs, params),
                    ours=f"ERR differences (points) — {ours}",
                    comparisons=comps,
                )


def _timing(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 09: Table 9's speed ratios on the measured device, and the training-step time."""
    t9, tr = f.get("t9"), f.get("tr")
    if t9 is not None and len(t9):
        r = t9["ratio_to_reference"]  # method / ζ-mixup, median over interleaved rounds (IQR: ratio_q1, ratio_q3)
        spread = {"ratio_q1", "ratio_q3"} <= set(t9.columns)
        ratios = []
        for key, method, name in (
            ("mixup/zeta", "mixup", "mixup"),
            ("lsi/zeta", "local_synthetic_instances", "LSI"),
        ):
            if method in r.index:
                x = {
                    "key": key,
                    "label": f"{name} / ζ-mixup (median of rounds{', IQR' if spread else ''})",
                    "value": float(r[method]),
                }
                if spread:
                    x.update(lo=float(t9.loc[method, "ratio_q1"]), hi=float(t9.loc[method, "ratio_q3"]))
                ratios.append(x)
        data = f"batch {t9.attrs.get('batch_shape')} {t9.attrs.get('dtype')}, {t9.attrs.get('device')} (measured here)"
        shape = [int(x) for x in re.findall(r"\d+", str(t9.attrs.get("batch_shape")))]
        put(
            "speed",
            data=data,
            data_kind="paper" if shape == [32, 3, 224, 224] else "stand-in",  # Table 9's batch, or a smaller one
            ours="; ".join(f"{x['label']} = {x['value']:.2f}" for x in ratios),
            ratios=ratios,
        )
    if tr is not None and len(tr) and {"zeta_mixup", "mixup"} <= set(tr.index):
        v = float(tr.loc["zeta_mixup", "step_ms"] / tr.loc["mixup", "step_ms"])
        put(
            "train_time",
            data=f"one SGD step, {t9.attrs.get('device') if t9 is not None else ''} (measured here)",
            data_kind="stand-in",  # a step on a random batch, not the paper's full training runs
            ours=f"ζ-mixup / mixup training-step time = {v:.3f}",
            ratios=[{"key": "zeta/mixup", "label": "ζ-mixup / mixup step time (median of rounds)", "value": v}],
        )


#: Fig. 10c, d's box of the best models: γ ∈ [γ_min, 4.0], weight decay ∈ [5e-4, 1e-3]
SEARCH_BOX = {"gamma": (1.72865, 4.0), "weight_decay": (5e-4, 1e-3)}


def _sensitivity(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 07: ζ-mixup (each γ ≥ γ_min of the curve) − mixup per seed, one cell per (dataset, arch, γ); and
    the search's models inside :data:`SEARCH_BOX` against those outside it (Welch: one model per draw)."""
    from zmixlib import paper

    curve, mixup_runs, search = f.get("curve"), f.get("mixup_runs"), f.get("search")
    if curve is not None and len(curve) and mixup_runs is not None and len(mixup_runs):
        both = pd.concat([curve, mixup_runs], ignore_index=True)
        pairs = paper.paired(both, metric="ERR_percent")
        pairs = pairs[pd.to_numeric(pairs["gamma"], errors="coerce") >= SEARCH_BOX["gamma"][0]]
        cells = _seed_cells(pairs, ["dataset", "arch", "gamma"])
        what = "ζ-mixup (each γ) − mixup ERR (points)"
        put_cells(put, "sensitivity", cells, runs=curve, params=params, what=what)
    if search is not None and len(search) and {"gamma", "weight_decay", "test_err"} <= set(search.columns):
        g = pd.to_numeric(search["gamma"], errors="coerce")
        wd = pd.to_numeric(search["weight_decay"], errors="coerce")
        (g0, g1), (w0, w1) = SEARCH_BOX["gamma"], SEARCH_BOX["weight_decay"]
        inside = g.between(g0, g1) & wd.between(w0, w1)
        err = search["test_err"].astype(float) * 100
        comps = []
        for d, idx in search.groupby("dataset", sort=False).groups.items():
            a, b = err[idx][inside[idx]], err[idx][~inside[idx]]
            if len(a) >= 2 and len(b) >= 2:
                w = [a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b)]
                comps.append(
                    {"label": f"{d}: inside − outside ({len(a)} vs {len(b)} models)", "welch": [float(x) for x in w]}
                )
        if comps:
            put(
                "sensitivity_search",
                data=_run_text(search, params),
                ours="; ".join(f"{c['label']}: {c['welch'][0] - c['welch'][3]:+.2f} ERR points" for c in comps),
                comparisons=comps,
            )
        elif len(search):  # too few models on one side of the box for a Welch interval
            n_in = int(inside.sum())
            put(
                "sensitivity_search",
                data=_run_text(search, params),
                ours=f"{n_in} of {len(search)} models inside the box",
                comparisons=[],
                not_testable=f"{n_in} of the {len(search)} search models lie inside γ ∈ [{g0:g}, {g1:g}] × weight decay "
                f"∈ [{w0:g}, {w1:g}] and {len(search) - n_in} outside: a comparison needs at least 2 on each side "
                "(more search_models)",
            )


_BUILDERS: dict[str, Callable[[Callable[..., None], dict[str, Any], Any], None]] = {
    "00_theorems": _theorems,
    "01_synthetic_manifolds": _synthetic_manifolds,
    "02_realism": _realism,
    "03_intrinsic_dimension": _intrinsic_dimension,
    "04_natural": _natural,
    "05_skin": _skin,
    "06_medmnist": _medmnist,
    "07_sensitivity": _sensitivity,
    "08_ablation": _ablation,
    "09_timing": _timing,
    "10_peers": _peers,
}
