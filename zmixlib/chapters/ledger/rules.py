"""The rules: a claim's verdict and the statistic behind it, from its evidence (see :data:`.claims.RULES`).

Every difference is oriented: negative means "in the paper's direction"."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats as _st

from zmixlib.stats import PairedStat, paired_interval, welch_interval

from .claims import LEVEL, Claim


def _finite(xs: Any) -> list[float]:
    return [float(x) for x in (xs or []) if x is not None and math.isfinite(float(x))]


def _cells(entry: dict[str, Any]) -> list[dict[str, Any]]:
    if "cells" in entry:
        out = []
        for c in entry["cells"]:
            if "welch" in c:
                out.append(dict(c))
            elif c.get("seeds") is not None:
                kept = [
                    (s, float(d))
                    for s, d in zip(c["seeds"], c.get("diffs") or [])
                    if d is not None and math.isfinite(float(d))
                ]
                if kept:
                    out.append(dict(c, seeds=[s for s, _ in kept], diffs=[d for _, d in kept]))
            elif _finite(c.get("diffs")):
                out.append(dict(c, diffs=_finite(c.get("diffs"))))
        return out
    return [{"label": f"#{i + 1}", "diffs": [d]} for i, d in enumerate(_finite(entry.get("diffs")))]


def _comparisons(entry: dict[str, Any]) -> list[dict[str, Any]]:
    if "comparisons" in entry:
        return list(entry["comparisons"])
    return [{"label": "all pairs", "diffs": _finite(entry.get("diffs"))}]


def _stat(c: dict[str, Any]) -> PairedStat:
    if "welch" in c:  # a paper's mean ± sd per method: [mean1, sd1, n1, mean2, sd2, n2]
        return welch_interval(*c["welch"], level=LEVEL)
    return paired_interval(_finite(c.get("diffs")), level=LEVEL)


def _share(k: int, m: int) -> str:
    return f"{k} of {m}"


def _cells_stat(cells: list[dict[str, Any]]) -> tuple[PairedStat, str]:
    """The interval of the mean over cells, and what it is over.

    * Cells with the same seeds (ours): per seed, the mean over cells; a paired t-interval over seeds — the
      cells are the paper's fixed cells, the noise is the seeds', and a baseline shared by several cells of a
      seed stays paired.
    * Cells with their own spread (a paper's mean ± sd per method, ``welch``): the mean over cells with the
      cells' Welch variances summed (Welch–Satterthwaite degrees of freedom).
    * Otherwise (a paper's means only): a t-interval over the cell means (the cells are the replicates), or
      over the seeds when there is one cell.
    """
    seeds = [c.get("seeds") for c in cells]
    if len(cells) > 1 and all(s is not None and len(s) == len(c["diffs"]) for s, c in zip(seeds, cells)):
        common = set.intersection(*(set(s) for s in seeds))
        if len(common) >= 2:
            per = [np.mean([dict(zip(c["seeds"], c["diffs"]))[s] for c in cells]) for s in sorted(common)]
            return paired_interval(per, level=LEVEL), f"per-seed mean over cells ({len(common)} shared seeds)"
    if cells and all("welch" in c for c in cells):
        parts = [welch_interval(*c["welch"], level=LEVEL) for c in cells]
        m = len(parts)
        mean = float(np.mean([p.mean for p in parts]))
        var = [p.se**2 for p in parts]
        dfs = [_welch_df(c["welch"]) for c in cells]
        se = math.sqrt(sum(var)) / m
        df = sum(var) ** 2 / sum(v**2 / d for v, d in zip(var, dfs)) if sum(var) > 0 else math.inf
        q = float(_st.t.ppf(0.5 + LEVEL / 2, df)) if math.isfinite(df) else 0.0
        p = float(2 * _st.t.sf(abs(mean / se), df)) if se > 0 else (0.0 if mean else 1.0)
        stat = PairedStat(
            min(p_.n for p_ in parts), mean, math.nan, se, mean - q * se, mean + q * se, p, LEVEL, "welch"
        )
        return stat, "mean over cells, each cell's Welch variance (the paper's sd)"
    if len(cells) > 1:
        return paired_interval(
            [float(np.mean(c["diffs"])) for c in cells], level=LEVEL
        ), "cell means (no spread within cells)"
    return paired_interval(cells[0]["diffs"], level=LEVEL), "seeds of the one cell"


def _welch_df(w: Sequence[float]) -> float:
    _, s1, n1, _, s2, n2 = w
    v1, v2 = s1**2 / n1, s2**2 / n2
    return (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1)) if v1 + v2 > 0 else math.inf


def _cell_mean(c: dict[str, Any]) -> float:
    return float(c["welch"][0] - c["welch"][3]) if "welch" in c else float(np.mean(c["diffs"]))


def _rule_cells(claim: Claim, entry: dict[str, Any]) -> tuple[str, str]:
    cells = _cells(entry)
    if not cells:
        return "not run", "no paired difference could be formed"
    means = [_cell_mean(c) for c in cells]
    below = sum(m < 0 or (claim.ties and m == 0) for m in means)
    s, over = _cells_stat(cells)
    needed = math.ceil(claim.need * len(cells) - 1e-9)
    stat = f"{_share(below, len(cells))} cells {'≤' if claim.ties else 'below'} 0 (need {needed}); {over}: {s.text()}"
    if s.excludes_zero() > 0:
        return "contradicted", stat
    if s.excludes_zero() < 0 and below >= needed:
        return "reproduced", stat
    return "inconclusive", stat


def _rule_compare(claim: Claim, entry: dict[str, Any]) -> tuple[str, str]:
    comps = [c for c in _comparisons(entry) if "welch" in c or _finite(c.get("diffs"))]
    if not comps:
        return "not run", "no paired difference could be formed"
    words, parts = [], []
    for c in comps:
        s = _stat(c)
        if claim.kind == "equivalent":
            m = claim.need
            inside = not math.isnan(s.lo) and -m <= s.lo and s.hi <= m
            outside = not math.isnan(s.lo) and (s.lo > m or s.hi < -m)
            w = "reproduced" if inside else "contradicted" if outside else "inconclusive"
        else:
            w = {-1: "reproduced", 1: "contradicted", 0: "inconclusive"}[s.excludes_zero()]
        words.append(w)
        parts.append(f"{c.get('label', '')}: {s.text()} → {w}")
    if claim.kind == "equivalent":
        parts.insert(0, f"margin ±{claim.need:g}")
    return _combine(words), "; ".join(parts)


def _combine(words: Sequence[str]) -> str:
    if "contradicted" in words:
        return "contradicted"
    return "reproduced" if all(w == "reproduced" for w in words) else "inconclusive"


def _rule_ratio(claim: Claim, entry: dict[str, Any]) -> tuple[str, str]:
    ratios = [r for r in entry["ratios"] if r.get("key") in claim.bounds and r.get("value") is not None]
    if not ratios:
        return "not run", "no ratio was measured"
    words, parts = [], []
    for r in ratios:
        op, bound = claim.bounds[r["key"]]
        v = float(r["value"])
        lo, hi = float(r.get("lo", v)), float(r.get("hi", v))
        ok_all, ok_none = (lo >= bound, hi < bound) if op == ">=" else (hi <= bound, lo > bound)
        w = "reproduced" if ok_all else "contradicted" if ok_none else "inconclusive"
        words.append(w)
        spread = f" [{lo:.3g}, {hi:.3g}]" if (lo, hi) != (v, v) else ""
        parts.append(f"{r.get('label', r['key'])} = {v:.3g}{spread} (need {op} {bound:g}) → {w}")
    return _combine(words), "; ".join(parts)


def _rule_value(claim: Claim, entry: dict[str, Any]) -> tuple[str, str]:
    ours, paper = float(entry["ours_value"]), float(entry["paper_value"])
    tol = float(entry.get("tol", claim.need))
    ok = math.isfinite(ours) and abs(ours - paper) <= tol
    return ("reproduced" if ok else "not reproduced"), f"|{ours:.10g} − {paper:.10g}| {'≤' if ok else '>'} {tol:g}"


def _rule_holds(claim: Claim, entry: dict[str, Any]) -> tuple[str, str]:
    checks = [bool(c) for c in entry["checks"]]
    if not checks:
        return "not run", "no check could be decided"
    held = sum(checks)
    stat = f"{held} of {len(checks)} checks hold"
    if held == len(checks):
        return "reproduced", stat
    return ("contradicted" if held < len(checks) / 2 else "inconclusive"), stat


_RULES: dict[str, Callable[[Claim, dict[str, Any]], tuple[str, str]]] = {
    "cells": _rule_cells,
    "compare": _rule_compare,
    "equivalent": _rule_compare,
    "ratio": _rule_ratio,
    "value": _rule_value,
    "holds": _rule_holds,
}


def verdict(claim: Claim, entry: dict[str, Any] | None) -> tuple[str, str]:
    """``(verdict, statistic)`` of ``claim`` from its evidence by the claim's rule (:data:`RULES`)."""
    if entry is None:
        return "not run", f"chapter {claim.chapter} recorded no evidence in this build"
    if entry.get("regime_passed") is False:
        return "not testable", f"regime check failed: {entry.get('regime') or 'no reason recorded'}"
    if entry.get("not_testable"):
        return "not testable", str(entry["not_testable"])
    return _RULES[claim.kind](claim, entry)
