"""Notebook ``11_robustness`` cell by cell: which runs (chapter 10's leaderboard and MultiMix runs, chapter 04's
ζ-mixup at its γ, k-mixup's MNIST protocol), training only what has no record or no stored weights, the evaluation
under noise, FGSM and PGD, and the tables, figure and readings. Each function is given the notebook's resolved
parameters ``P`` (:func:`zmixlib.protocol.config.setup`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zmixlib.chapters.peers import leaderboard_matrix, multimix_matrix
from zmixlib.core.checks import check_float, check_int
from zmixlib.engine import store
from zmixlib.protocol import recipes, regime
from zmixlib.protocol.recipes import RunMatrix
from zmixlib.tables import report

from .evaluate import evaluate_parallel
from .figures import PAPER_TABLES, error_vs_eps, for_runs

__all__ = [
    "Sweep",
    "check_knobs",
    "board_matrix",
    "mnist_matrix",
    "peer_matrices",
    "train_chapter",
    "describe",
    "curves",
    "mnist_table",
    "beside_paper",
    "headline",
    "glue_readings",
    "figure",
    "mnist_figure",
    "mnist_beside_paper",
]


def _list(name: str, value: Any) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"{name} must be a non-empty list, got {value!r}")
    return list(value)


def check_knobs(params: Any) -> None:
    """Fail in the setup cell on a knob this chapter cannot run, naming the knob, the value and what is allowed."""
    for knob in ("noise_eps", "fgsm_eps"):
        for i, e in enumerate(_list(knob, getattr(params, knob))):
            check_float(f"{knob}[{i}]", e, min=0.0, min_open=True, max=255.0)
    check_float("pgd_eps", params.pgd_eps, min=0.0, min_open=True, max=255.0)
    check_float("pgd_step", params.pgd_step, min=0.0, min_open=True, max=255.0)
    check_int("pgd_steps", params.pgd_steps, min=1)
    for knob in ("test_subset", "pgd_subset"):
        if getattr(params, knob) is not None:
            check_int(knob, getattr(params, knob), min=1)
    for i, k in enumerate(_list("mnist_ks", params.mnist_ks)):
        if k not in recipes.KMIXUP_MNIST_KS:
            raise ValueError(f"mnist_ks[{i}] must be one of k-mixup Table 2's {recipes.KMIXUP_MNIST_KS}, got {k!r}")
    for i, a in enumerate(_list("mnist_alphas", params.mnist_alphas)):
        if a not in recipes.KMIXUP_MNIST_ALPHAS:
            raise ValueError(
                f"mnist_alphas[{i}] must be one of k-mixup Table 2's {recipes.KMIXUP_MNIST_ALPHAS}, got {a!r}"
            )
    for i, s in enumerate(_list("mnist_seeds", params.mnist_seeds)):
        check_int(f"mnist_seeds[{i}]", s, min=0)
    for i, g in enumerate(_list("gammas", params.gammas)):
        check_float(f"gammas[{i}]", g, min=0.0, min_open=True)
    board_matrix(params), mnist_matrix(params)


def board_matrix(params: Any) -> RunMatrix:
    """Chapter 10's leaderboard (:func:`zmixlib.chapters.peers.leaderboard_matrix`: its runs, by their ids) plus
    ζ-mixup at the other ``gammas`` with the same recipe (chapter 04's runs, where the protocol is ``natural``)."""
    board = leaderboard_matrix(params)
    extra = [g for g in params.gammas if g not in {s.gamma for s in board if s.method == "zeta_mixup"}]
    specs = list(board)
    if extra and "zeta_mixup" in params.methods:
        ov = {k: board.overrides[k] for k in board.overrides if k not in ("methods", "gammas")}
        specs += recipes.resolve("peers", params.profile, **ov, methods=["zeta_mixup"], gammas=extra)
    out = RunMatrix(specs, section="peers", profile=params.profile, overrides=board.overrides)
    out.dropped = board.dropped
    return out


def mnist_matrix(params: Any) -> RunMatrix:
    """k-mixup's MNIST protocol (section ``kmixup_mnist``): ERM and k-mixup at each ``mnist_ks`` × ``mnist_alphas``
    on ``mnist_datasets``, seeds ``mnist_seeds``."""
    m = recipes.resolve(
        "kmixup_mnist",
        params.profile,
        datasets=params.mnist_datasets,
        seeds=params.mnist_seeds,
        device=params.device,
        data_root=params.data_root,
    )
    keep = [
        s
        for s in m
        if s.method == "erm" or (dict(s.extra).get("k") in params.mnist_ks and s.alpha in params.mnist_alphas)
    ]
    return RunMatrix(keep, section="kmixup_mnist", profile=params.profile, overrides=m.overrides)


def peer_matrices(params: Any) -> tuple[RunMatrix, RunMatrix]:
    """The peers' own protocols (sections ``multimix_paper`` and ``kmixup_cifar``: MultiMix Tables 2 and 4, k-mixup
    Tables 6 and 7a) when ``params.peer_protocols``, else two empty matrices."""
    out = []
    for section in ("multimix_paper", "kmixup_cifar"):
        if params.peer_protocols:
            m = recipes.resolve(section, params.profile, device=params.device, data_root=params.data_root)
        else:
            m = RunMatrix([], section=section, profile=params.profile)
        out.append(m)
    return out[0], out[1]


@dataclass(frozen=True)
class Sweep:
    """The chapter's matrices, their runs read back, regime checks, and the evaluation frames."""

    board: RunMatrix
    multimix: RunMatrix
    mnist: RunMatrix
    multimix_paper: RunMatrix
    kmixup_cifar: RunMatrix
    out: Path
    board_runs: pd.DataFrame
    mnist_runs: pd.DataFrame
    board_regime: Any
    mnist_regime: Any
    robust: pd.DataFrame
    mnist_robust: pd.DataFrame
    retrained: list = field(default_factory=list)


def train_chapter(P: Any) -> Sweep:
    """Trains every run of the chapter that has no record or no valid stored weights (:func:`store.require_weights`
    moves the record of a run without weights aside, so the ordinary sweep trains it again), then evaluates every
    model under every shift (:func:`zmixlib.chapters.robustness.evaluate.evaluate_parallel` on ``P.workers`` processes; PGD for MultiMix
    Table 4's runs) and returns a :class:`Sweep`."""
    board, mm, mnist = board_matrix(P), multimix_matrix(P), mnist_matrix(P)
    mm_paper, km_cifar = peer_matrices(P)
    out = report.sweep_dir(P.results_dir, P.profile)
    specs = list({s.run_id: s for m in (board, mm, mnist, mm_paper, km_cifar) for s in m}.values())
    retrained = store.require_weights(specs, out)
    report.train(specs, P)
    evaluated = list({s.run_id: s for s in (*board, *mm, *mm_paper, *km_cifar)}.values())
    board_runs, board_history = report.load_runs(evaluated, out)
    mnist_runs, mnist_history = report.load_runs(mnist, out)
    pgd = {s.run_id for s in (*mm, *mm_paper)}
    par = {"device": P.torch_device, "workers": P.workers, "threads": P.threads}
    robust = evaluate_parallel(evaluated, out, P, pgd_ids=pgd, **par)
    mnist_robust = evaluate_parallel(mnist, out, P, **par)
    return Sweep(
        board=board,
        multimix=mm,
        mnist=mnist,
        multimix_paper=mm_paper,
        kmixup_cifar=km_cifar,
        out=out,
        board_runs=board_runs,
        mnist_runs=mnist_runs,
        board_regime=regime.check(board_history),
        mnist_regime=regime.check(mnist_history),
        robust=robust,
        mnist_robust=mnist_robust,
        retrained=[s.run_id for s in retrained],
    )


def _mean_sd(v: pd.Series) -> str:
    sd = v.std(ddof=1) if len(v) > 1 else math.nan
    return f"{v.mean():.2f}" + ("" if math.isnan(sd) else f" ± {sd:.2f}")


def curves(robust: pd.DataFrame) -> pd.DataFrame:
    """Error (%) per method (rows) and shift (columns), mean ± sd over seeds, one block per dataset."""
    if robust is None or not len(robust):
        return pd.DataFrame()
    order = list(dict.fromkeys(robust["shift"]))
    t = robust.groupby(["dataset", "arch", "label", "shift"], sort=False)["error"].apply(_mean_sd).unstack("shift")
    return t[[c for c in order if c in t.columns]].fillna("—")


def mnist_table(robust: pd.DataFrame) -> pd.DataFrame:
    """k-mixup Table 7(b)'s layout on our MNIST runs: one row per method (ERM, k at each α), columns clean and FGSM
    at each ε (error, %, mean ± sd over seeds)."""
    return curves(robust)


def describe(sweep: Sweep, P: Any) -> None:
    """Prints what the page measured: the profile, datasets, models, seeds and device of the runs read, how many
    test images each shift used, what was (re)trained for want of stored weights, and the evaluation's wall time."""
    for name, runs, frame in (
        ("leaderboard and MultiMix models", sweep.board_runs, sweep.robust),
        ("k-mixup's MNIST protocol", sweep.mnist_runs, sweep.mnist_robust),
    ):
        print(f"{name}: {report.provenance(runs, P.profile)}; {len(runs)} runs")
        if len(frame):
            n = frame.groupby("attack")["n_test"].agg(lambda v: ", ".join(str(int(x)) for x in sorted(set(v))))
            print("  test images per shift: " + "; ".join(f"{a}: {t}" for a, t in n.items()))
    if sweep.retrained:
        print(f"{len(sweep.retrained)} run(s) had a record but no stored weights and were trained again")
    spent = sweep.robust.attrs.get("eval_s", 0.0) + sweep.mnist_robust.attrs.get("eval_s", 0.0)
    print(f"evaluation this build: {spent:.1f} s wall (results cached per run under {sweep.out / 'robustness'})")


def beside_paper(robust: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Our error (mean ± sd over seeds) beside the papers' at the same method, shift and ε: one row per (method,
    shift); the paper's columns name their table, dataset and architecture (α where the table varies it)."""
    if robust is None or not len(robust) or points is None or not len(points):
        return pd.DataFrame()
    ours = robust.assign(col="ours: " + robust["dataset"] + " (" + robust["arch"] + ")")
    key = ["label", "attack", "eps"]
    t = ours.groupby([*key, "col"], sort=False)["error"].apply(_mean_sd).unstack("col")
    points = for_runs(points, robust)
    p = points[points["label"].isin(set(robust["label"]))]
    alpha = p["alpha"].map(lambda a: "" if pd.isna(a) else f", α = {a:g}")
    p = p.assign(col="paper: " + p["table"] + " (" + p["dataset"] + ", " + p["arch"] + alpha + ")")
    pt = p.groupby([*key, "col"], sort=False)["error"].first().map(lambda v: f"{v:.2f}").unstack("col")
    out = t.join(pt, how="inner")
    return out.fillna("—")


def headline(sweep: Sweep, P: Any) -> str:
    """The page's result in a sentence, from this build's evaluation: MultiMix against ζ-mixup under FGSM 8/255 and
    the largest k against k = 1 on MNIST at the largest FGSM ε (mean over seeds, points); guarded by the regime."""
    parts = []
    r = sweep.robust
    if len(r):
        g = r[(r["attack"] == "fgsm") & np.isclose(r["eps"], 8.0)]
        for (d, a), h in g.groupby(["dataset", "arch"], sort=False):
            mm = h.loc[h["method"] == "multimix", "error"]
            zr = h[h["method"] == "zeta_mixup"]
            z = zr.loc[np.isclose(zr["gamma"].astype(float), 2.8), "error"]
            if len(mm) and len(z):
                parts.append(
                    f"FGSM 8/255 on {d} ({a}): MultiMix {mm.mean():.1f} % vs ζ-mixup (γ = 2.8) {z.mean():.1f} % "
                    f"({mm.mean() - z.mean():+.1f} points, {mm.size} seed{'s' * (mm.size != 1)})"
                )
    text = "; ".join(parts) or "no MultiMix / ζ-mixup pair evaluated"
    text = report.guarded(sweep.board_regime, text)
    m = sweep.mnist_robust
    if len(m):
        f = m[(m["attack"] == "fgsm") & (m["method"] == "kmixup")]
        if len(f) and f["k"].nunique() > 1:
            eps = float(f["eps"].max())
            h = f[np.isclose(f["eps"], eps)]
            hi, lo = int(h["k"].max()), int(h["k"].min())
            e_hi, e_lo = h.loc[h["k"] == hi, "error"], h.loc[h["k"] == lo, "error"]
            mn = (
                f"FGSM {eps:g}/255 on {h['dataset'].iloc[0]}: k = {hi} {e_hi.mean():.1f} % vs k = {lo} "
                f"{e_lo.mean():.1f} % ({e_hi.mean() - e_lo.mean():+.1f} points, {e_hi.size} seeds)"
            )
            text += ". " + report.guarded(sweep.mnist_regime, mn)
    return f"{P.profile}: {text}"


def glue_readings(sweep: Sweep, P: Any) -> None:
    """Glues ``robust_result`` (:func:`headline`) into the page's opening; returns nothing."""
    from myst_nb import glue  # only where a notebook shows the result

    glue("robust_result", headline(sweep, P), display=False)


def figure(sweep: Sweep, P: Any, points: pd.DataFrame) -> None:
    """Draws the leaderboard's and MultiMix's error against ε per shift, with the papers' points
    (:func:`error_vs_eps`); returns nothing (the notebook shows the figure)."""
    error_vs_eps(sweep.robust, for_runs(points, sweep.robust), label=report.provenance(sweep.board_runs, P.profile))


def mnist_figure(sweep: Sweep, P: Any, points: pd.DataFrame) -> None:
    """Draws the MNIST protocol's FGSM error against ε per k, with k-mixup Table 7b's points; returns nothing."""
    fgsm = sweep.mnist_robust[sweep.mnist_robust["attack"] == "fgsm"] if len(sweep.mnist_robust) else sweep.mnist_robust
    t7b = points[points["table"] == PAPER_TABLES["kmixup-table7b"]] if len(points) else points
    error_vs_eps(fgsm, t7b, label=report.provenance(sweep.mnist_runs, P.profile))


def mnist_beside_paper(sweep: Sweep, points: pd.DataFrame) -> pd.DataFrame:
    """:func:`beside_paper` of the MNIST protocol against k-mixup Table 7b."""
    return beside_paper(sweep.mnist_robust, points[points["table"] == PAPER_TABLES["kmixup-table7b"]])
