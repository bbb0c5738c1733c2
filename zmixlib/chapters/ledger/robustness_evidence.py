"""Evidence from chapter 11 (robustness): MultiMix Table 4 (FGSM, PGD), k-mixup Tables 6 and 7a (on the
leaderboard's models: stand-ins for CIFAR-10 / ResNet-18), k-mixup Table 7b and Tables 1–2's MNIST rows (k-mixup's
MNIST protocol on MNIST-10k). Every difference is seed-paired and oriented: negative = the paper's direction (the
method has the lower error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from zmixlib.core.vocab import display_name, gamma_text

from .cells import put_cells

__all__ = ["_robustness", "pair_cell"]

#: ζ-mixup's γ in MultiMix Table 4's comparison (chapter 10's MultiMix runs: ``peers._shared.ZETA_GAMMA``)
_ZETA_GAMMA = 2.8
#: MultiMix Table 4's rows -> the name its claim's comparisons use (:data:`.claims.MULTIMIX_ROBUST_VS`)
_T4 = {**{m: display_name(m) for m in ("zeta_mixup", "manifold_mixup")}, "erm": "baseline"}
_MM = {"multimix": "MultiMix", "dense_multimix": "Dense MultiMix"}


def _select(frame: pd.DataFrame, shift: str, method: str, **match: Any) -> pd.Series:
    """Error per seed of ``method`` (with ``match``'s column values, e.g. ``gamma=2.8``, ``k=32``) under ``shift``."""
    g = frame[(frame["shift"] == shift) & (frame["method"] == method)]
    for col, value in match.items():
        g = g[np.isclose(pd.to_numeric(g[col], errors="coerce"), value)]
    return g.groupby("seed")["error"].mean()


def pair_cell(a: pd.Series, b: pd.Series, label: str, **keys: Any) -> dict[str, Any] | None:
    """A cell of seed-paired differences ``a − b`` (errors per seed), with its seeds; ``None`` without a common
    seed."""
    seeds = sorted(set(a.index) & set(b.index))
    if not seeds:
        return None
    return {
        "label": label,
        "diffs": [float(a[s] - b[s]) for s in seeds],
        "seeds": [int(s) for s in seeds],
        **keys,
    }


def _multimix_cells(robust: pd.DataFrame, attack: str) -> tuple[list[dict[str, Any]], list[str]]:
    """MultiMix Table 4's six comparisons per (dataset, arch) under ``attack`` (``fgsm`` at 8/255 or ``pgd``), and
    the settings left out because a method was not trained there."""
    cells, left_out = [], []
    if robust is None or not len(robust):
        return cells, left_out
    r = robust[robust["attack"] == attack]
    if attack == "fgsm":
        r = r[np.isclose(r["eps"], 8.0)]
    for (d, a, shift), g in r.groupby(["dataset", "arch", "shift"], sort=False):
        unit = f"{d}, {a}"
        errs = {m: _select(g, shift, m) for m in (*_MM, "manifold_mixup", "erm")}
        errs["zeta_mixup"] = _select(g, shift, "zeta_mixup", gamma=_ZETA_GAMMA)
        missing = [m for m, e in errs.items() if e.empty]
        if missing:
            left_out.append(f"{unit} (no {', '.join(missing)} run)")
            continue
        for x, xn in _MM.items():
            for y, yn in _T4.items():
                vs = f"{xn} − {yn}"  # one of .claims.MULTIMIX_ROBUST_VS (tests/test_robustness.py)
                c = pair_cell(errs[x], errs[y], f"{unit}: {vs} ({shift})", vs=vs, unit=unit)
                if c is not None:
                    cells.append(c)
    return cells, left_out


def _kmixup_board_cells(robust: pd.DataFrame, attack: str, *, joint: bool) -> list[dict[str, Any]]:
    """16-mixup against 1-mixup — and ERM where ``joint`` — under ``attack`` at each ε, per (dataset, arch, α of the
    16-mixup runs). 1-mixup is k-mixup at k = 1 with the same α where those runs exist (k-mixup's own protocol,
    ``kmixup_cifar``), else the leaderboard's mixup (α = 1: k = 1 is mixup). The ε of one (setting, α) attack the
    same models: one group in the sign test."""
    cells = []
    if robust is None or not len(robust):
        return cells
    r = robust[robust["attack"] == attack]
    for (d, a), g in r.groupby(["dataset", "arch"], sort=False):
        k16 = g[(g["method"] == "kmixup") & (pd.to_numeric(g["k"], errors="coerce") == 16)]
        for al in dict.fromkeys(k16["alpha"]):
            for shift, h in g.groupby("shift", sort=False):
                eps = float(h["eps"].iloc[0])
                mine = _select(h, shift, "kmixup", k=16, alpha=al)
                one = _select(h, shift, "kmixup", k=1, alpha=al)
                one = one if len(one) else _select(h, shift, "mixup")
                unit = f"{d}, {a}, α = {al:g}, ε = {eps:g}"
                for vs, base in (("1-mixup", one), ("ERM", _select(h, shift, "erm"))):
                    if vs == "ERM" and not joint:
                        continue
                    c = pair_cell(mine, base, f"{unit}: 16 − {vs}", vs=vs, unit=unit, group=f"{d}, {a}, α = {al:g}")
                    if c is not None:
                        cells.append(c)
    return cells


#: k-mixup Table 7(b)'s setting: α = 10, k up to 32
_T7B_ALPHA, _T7B_K = 10.0, 32


def _kmixup_mnist_fgsm(mnist: pd.DataFrame) -> list[dict[str, Any]]:
    """Table 7(b): the largest k (≤ 32) − k = 1 under FGSM at each ε, per dataset, at α = 10 where it was trained
    (else at every α trained; one group per α: the ε attack the same models)."""
    cells = []
    if mnist is None or not len(mnist):
        return cells
    km = mnist[(mnist["method"] == "kmixup") & (mnist["attack"] == "fgsm")]
    if np.isclose(km["alpha"].astype(float), _T7B_ALPHA).any():
        km = km[np.isclose(km["alpha"].astype(float), _T7B_ALPHA)]
    for (d, al), g in km.groupby(["dataset", "alpha"], sort=False):
        ks = sorted(int(k) for k in g["k"].dropna().unique() if k <= _T7B_K)
        if 1 not in ks or len(ks) < 2:
            continue
        hi = ks[-1]
        for shift, h in g.groupby("shift", sort=False):
            eps = float(h["eps"].iloc[0])
            c = pair_cell(
                _select(h, shift, "kmixup", k=hi),
                _select(h, shift, "kmixup", k=1),
                f"{d}, α = {al:g}, ε = {eps:g}: k = {hi} − k = 1",
                group=f"{d}, α = {al:g}",
            )
            if c is not None:
                cells.append(c)
    return cells


def _best_k(g: pd.DataFrame) -> tuple[int, float] | None:
    """(k, α) of the k > 1 k-mixup runs of ``g`` with the lowest mean clean error; ``None`` without any."""
    c = g[(g["method"] == "kmixup") & (g["k"] > 1) & (g["attack"] == "clean")]
    if not len(c):
        return None
    best = c.groupby(["k", "alpha"])["error"].mean().idxmin()
    return int(best[0]), float(best[1])


def _kmixup_mnist_table2(mnist: pd.DataFrame) -> list[dict[str, Any]]:
    """Table 2: per α, the best k > 1 (lowest mean clean error) − k = 1, seed-paired."""
    cells = []
    if mnist is None or not len(mnist):
        return cells
    for (d, al), g in mnist[mnist["method"] == "kmixup"].groupby(["dataset", "alpha"], sort=False):
        best = _best_k(g)
        if best is None:
            continue
        one = _select(g, "clean", "kmixup", k=1)
        c = pair_cell(
            _select(g, "clean", "kmixup", k=best[0]), one, f"{d}, α = {al:g}: best k > 1 (k = {best[0]}) − k = 1"
        )
        if c is not None and len(one):
            cells.append(c)
    return cells


def _kmixup_mnist_table1(mnist: pd.DataFrame) -> list[dict[str, Any]]:
    """Table 1's MNIST row: k-mixup at its best (k > 1, α) against ERM and against 1-mixup at its best α."""
    cells = []
    if mnist is None or not len(mnist):
        return cells
    for d, g in mnist.groupby("dataset", sort=False):
        best = _best_k(g)
        ones = g[(g["method"] == "kmixup") & (g["k"] == 1) & (g["attack"] == "clean")]
        if best is None or not len(ones):
            continue
        one_alpha = float(ones.groupby("alpha")["error"].mean().idxmin())
        k = _select(g, "clean", "kmixup", k=best[0], alpha=best[1])
        unit = f"{d}: k-mixup (k = {best[0]}, α = {best[1]:g})"
        for vs, base in (
            ("ERM", _select(g, "clean", "erm")),
            ("1-mixup", _select(g, "clean", "kmixup", k=1, alpha=one_alpha)),
        ):
            c = pair_cell(k, base, f"{unit} − {vs}", vs=vs, unit=d)
            if c is not None:
                cells.append(c)
    return cells


def _n_text(frame: pd.DataFrame | None, attack: str) -> str:
    if frame is None or not len(frame):
        return "none"
    n = frame.loc[frame["attack"] == attack, "n_test"].dropna()
    return f"{int(n.min())}" if len(n) and n.min() == n.max() else "whole"


def _robustness(put: Callable[..., None], f: dict[str, Any], params: Any) -> None:
    """Chapter 11. Frames: ``robust`` and ``mnist`` (:func:`zmixlib.chapters.robustness.evaluate.evaluate_runs` of
    the leaderboard / MultiMix models and of the MNIST protocol), ``runs`` and ``mnist_runs`` (their records)."""
    robust, mnist = f.get("robust"), f.get("mnist")
    runs, mnist_runs = f.get("runs"), f.get("mnist_runs")
    # offline: Fashion-MNIST / digits with LeNet-5 / a small CNN stand in for CIFAR with ResNets; under the paper
    # profile the claim's own default (the paper's data)
    stand_in = {"data_kind": "stand-in"} if params.profile != "paper" else {}
    for claim_id, attack in (("robust_multimix_fgsm", "fgsm"), ("robust_multimix_pgd", "pgd")):
        cells, left_out = _multimix_cells(robust, attack)
        what = f"MultiMix / Dense MultiMix − ζ-mixup (γ = {gamma_text(_ZETA_GAMMA)}), manifold mixup, ERM: {attack.upper()} error (points)"
        population = (
            f"our settings ({', '.join(dict.fromkeys(c['unit'] for c in cells))}), test images: "
            f"{_n_text(robust, attack)}"
        )
        if left_out:
            population += f"; left out: {'; '.join(left_out)}"
        put_cells(put, claim_id, cells, runs=runs, params=params, what=what, population=population, **stand_in)
    sel = {
        "selection": "k = 16 at every α trained (the leaderboard's: α = 1, the paper's heuristic k; k-mixup's own "
        "protocol, where trained: its tables' α); 1-mixup = k = 1 at the same α, else mixup (α = 1)"
    }
    noise = _kmixup_board_cells(robust, "noise", joint=True)
    what = "16-mixup − ERM and − 1-mixup error under Gaussian noise (points)"
    put_cells(put, "kmixup_noise", noise, runs=runs, params=params, what=what, **stand_in, **sel)
    fgsm = _kmixup_board_cells(robust, "fgsm", joint=False)
    what = "16-mixup − 1-mixup error under FGSM (points)"
    put_cells(put, "kmixup_fgsm_cifar", fgsm, runs=runs, params=params, what=what, **stand_in, **sel)
    mnist_pop = {
        "data_kind": "paper",
        "population": "MNIST digits: MNIST-10k's fixed training subset, far fewer than MNIST's 60,000 (the "
        "protocol's recipe says how many), tested on its own 2,000 test digits",
    }
    if params.profile == "paper":
        mnist_pop = {"data_kind": "paper"}
    elif mnist_runs is not None and len(mnist_runs) and set(mnist_runs["dataset"]) - {"MNIST-10k", "MNIST"}:
        mnist_pop = {"data_kind": "stand-in"}
    cells = _kmixup_mnist_fgsm(mnist)
    what = "largest k − k = 1 error under FGSM (points)"
    sel = {"selection": "α = 10 for every k (Table 7b's caption), not Algorithm 1's ξ-matched α; the largest k ≤ 32"}
    put_cells(put, "kmixup_fgsm_mnist", cells, runs=mnist_runs, params=params, what=what, **mnist_pop, **sel)
    cells = _kmixup_mnist_table2(mnist)
    what = "best k > 1 − k = 1 clean test error per α (points)"
    sel = {
        "selection": "the best k > 1 per α column by its mean test error over seeds (as Table 2 reports its best); "
        "α held fixed across k, where Table 2 holds ξ fixed"
    }
    put_cells(put, "kmixup_mnist_table2", cells, runs=mnist_runs, params=params, what=what, **mnist_pop, **sel)
    cells = _kmixup_mnist_table1(mnist)
    what = "best k-mixup − ERM and − best 1-mixup clean test error (points)"
    sel = {"selection": "k > 1 and α with the lowest mean test error over seeds; 1-mixup at its best α likewise"}
    put_cells(put, "kmixup_mnist_table1", cells, runs=mnist_runs, params=params, what=what, **mnist_pop, **sel)
