"""The regime check: can these runs test a regulariser at all?

Mixing methods are regularisers: they pay off where the baseline fits its training set and overfits. Where ERM
still underfits (too few epochs, the LR decayed too early) every label-softening method loses to it whatever it
is worth, and a comparison says nothing about the papers' claims. So every classification table prints this
check beside it, computed from the records: per (dataset, architecture), ERM's final training accuracy (the last
epoch's, over every seed) and the first epoch at which it reached :data:`THRESHOLD`. It **passes** when every
ERM run ends at or above the threshold; a chapter whose check fails records "not testable at this budget" in the
claims ledger instead of a verdict.

``baseline_matrix(matrix)`` gives the ERM runs a check needs for a matrix that has none of its own (the ablation,
the γ curve): the same data, schedule and seeds, method ERM — the very runs chapter 04 trains, so a build trains
them once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from zmixlib.engine.runspec import RunSpec

__all__ = ["THRESHOLD", "RegimeCheck", "check", "baseline_matrix"]

#: ERM's final training accuracy at or above which it "fits its training set"
THRESHOLD = 0.99


@dataclass(frozen=True)
class RegimeCheck:
    """The outcome of :func:`check`.

    Attributes:
        passed: every ERM run ends at or above :data:`THRESHOLD` (``None``: no ERM run to judge by).
        text: one line for the page and the ledger, with the numbers.
        why: when it does not pass, why the runs cannot test the claims (empty otherwise).
        table: one row per (dataset, arch): seeds, final training accuracy (min and mean, %), first epoch at or above
            the threshold per seed, the number of epochs and the LR milestones, and whether it passes.
    """

    passed: bool | None
    text: str
    why: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def as_evidence(self) -> dict:
        """What a ledger entry carries: ``{"regime_passed": bool | None, "regime": text}``."""
        return {"regime_passed": self.passed, "regime": self.text}

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        mark = {True: "passes", False: "fails", None: "cannot be checked"}[self.passed]
        head = f"<p><b>Regime check ({mark}).</b> {_html(self.text)}</p>"
        return head + (self.table.to_html(index=False) if len(self.table) else "")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _first_at(h: pd.DataFrame, threshold: float) -> float:
    reached = h.loc[h["train_acc"].astype(float) >= threshold, "epoch"]
    return float(reached.min()) if len(reached) else math.nan


def _epochs_text(firsts: list[float]) -> str:
    shown = ["never" if math.isnan(f) else str(int(f)) for f in firsts]
    return ", ".join(shown)


def check(history: pd.DataFrame, *, baseline: str = "erm", threshold: float = THRESHOLD) -> RegimeCheck:
    """The regime check of a chapter's runs from their per-epoch histories (``report.load_runs``' second frame).

    Args:
        history: one row per (run, epoch) with ``method``, ``dataset``, ``arch``, ``seed``, ``epoch``, ``train_acc``
            (and ``run_id``); rows of other methods are ignored.
        baseline: the method that must fit its training set.
        threshold: the final training accuracy that counts as fitting.

    Returns:
        a :class:`RegimeCheck`; ``passed`` is ``None`` when ``history`` holds no run of ``baseline``.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    need = {"method", "dataset", "arch", "seed", "epoch", "train_acc", "run_id"}
    h = history if history is not None else pd.DataFrame()
    missing = sorted(need - set(h.columns)) if len(h) else []
    if missing:
        raise ValueError(f"history lacks column(s) {missing}; pass the history frame of report.load_runs")
    h = h[h["method"] == baseline] if len(h) else h
    if not len(h):
        return RegimeCheck(
            None, f"no {baseline} run among these records: the regime cannot be checked", "no baseline run"
        )
    rows, failing = [], []
    for (dataset, arch), g in h.groupby(["dataset", "arch"], sort=False):
        per_run = [(seed, r.sort_values("epoch")) for (seed, _), r in g.groupby(["seed", "run_id"], sort=True)]
        finals = [float(r["train_acc"].iloc[-1]) for _, r in per_run]
        firsts = [_first_at(r, threshold) for _, r in per_run]
        epochs = int(max(r["epoch"].max() for _, r in per_run))
        ok = min(finals) >= threshold
        rows.append(
            {
                "dataset": dataset,
                "arch": arch,
                f"{baseline} runs": len(per_run),
                "epochs": epochs,
                "final train acc, min (%)": round(100 * min(finals), 2),
                "final train acc, mean (%)": round(100 * sum(finals) / len(finals), 2),
                f"first epoch ≥ {100 * threshold:g} %": _epochs_text(firsts),
                "passes": "yes" if ok else "no",
            }
        )
        if not ok:
            failing.append(f"{dataset} ({arch}): {100 * min(finals):.1f} % after {epochs} epochs")
    table = pd.DataFrame(rows)
    parts = [
        f"{r['dataset']} ({r['arch']}): {r['final train acc, min (%)']:.1f} % final training accuracy "
        f"(min over {r[f'{baseline} runs']} seed{'s' * (r[f'{baseline} runs'] != 1)}), ≥ {100 * threshold:g} % from epoch "
        f"{r[f'first epoch ≥ {100 * threshold:g} %']}"
        for r in rows
    ]
    passed = not failing
    text = f"{baseline.upper() if baseline == 'erm' else baseline} fits its training set — " + "; ".join(parts)
    why = ""
    if not passed:
        why = (
            f"{baseline.upper() if baseline == 'erm' else baseline} does not fit its training set "
            f"(below {100 * threshold:g} %: {'; '.join(failing)}): it underfits, so a regulariser cannot show what it "
            "is for — these runs cannot test the claims (not testable at this budget)"
        )
        text = f"FAILS: {why}. " + "; ".join(parts)
    else:
        text = "passes: " + text
    return RegimeCheck(passed, text, why, table)


def baseline_matrix(matrix: Iterable[RunSpec]) -> list[RunSpec]:
    """The ERM runs a regime check of ``matrix`` needs: for every run, its twin with method ERM (same data,
    schedule, seed and section; method hyper-parameters cleared), each once."""
    out: dict[str, RunSpec] = {}
    for s in matrix:
        twin = s.replace(method="erm", gamma=None, alpha=None, num_mix=None, extra=(), space=None)
        out.setdefault(twin.run_id, twin)
    return list(out.values())
