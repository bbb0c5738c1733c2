"""The rules: a claim's verdict and the statistic behind it, from its evidence (see :data:`.claims.RULES`).

Every difference is oriented: negative means "in the paper's direction" (e.g. ζ-mixup − mixup test error in
points; an accuracy, AUC or F1 difference negated).

Evidence formats (what ``record(claim_id, ..., cells=[...])`` stores and these rules read):

* a **cell** is one of

  - ``{"label": str, "diffs": [d_seed1, ...], "seeds": [s1, ...]}`` — this build's seed-paired differences: a
    paired Student-t interval per cell ("paired t");
  - ``{"label": str, "welch": [mean1, sd1, n1, mean2, sd2, n2]}`` — a paper's mean ± sd per method (``sd`` the
    sample sd of the runs, not the sd of the mean; difference ``mean1 − mean2``): Welch's interval per cell;
  - ``{"label": str, "interval": [lo, hi], "mean": m, "n": n_points, "how": "bootstrap over points"}`` — an
    interval computed by the evidence (e.g. a percentile bootstrap over the test points at :data:`.claims.LEVEL`)
    used as given; ``how`` names it (``local_id``: one such cell per dataset, ``mean`` = ζ-mixup's mean local ID
    − mixup's, ``interval`` the bootstrap interval of that difference over points);
  - ``{"label": str, "diffs": [d]}`` — a paper's mean without spread: no interval; such cells are counted by their
    means and judged by the exact sign test.

  Optional cell keys: ``"unit"`` — cells with the same unit form one counted unit, which is on the paper's side
  only if every one of its cells is (a *joint* count: "17 of the 18 models outperform their ERM **and** mixup
  counterparts"; default: the cell's label); ``"vs"`` — the baseline the cell compares with (a joint claim,
  :attr:`.claims.Claim.joint`, needs every unit to carry each of its baselines); ``"group"`` — units sharing a
  run (the same baseline model, the same trained model under several attack sizes) form one group, which counts
  once in the sign test, by the majority of its units (default: the unit).
* top-level keys: ``"cells"`` (or legacy ``"diffs"``: one single-number cell each), ``"comparisons"``
  (``compare``/``noninferior``: cells judged one by one), ``"ratios"`` (``ratio``: ``{"key", "value", "lo"?,
  "hi"?, "label"?}``), ``"checks"`` (+ optional ``"check_names"``, ``holds``), ``"ours_value"``/``"paper_value"``
  (``value``); optional ``"selection"`` (how γ / k / ξ was chosen — required by a claim whose
  :attr:`~.claims.Claim.selects` is set), ``"population"`` (``"paper"`` or the other population the evidence is
  on: such a verdict is shown and not counted, see :func:`counted`), ``"n_plausible"`` (a paper's mean ± sd whose
  runs per mean it does not state: the Welch comparisons are judged at each n listed), ``"regime_passed"``,
  ``"regime"``, ``"not_testable"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats as _st

from zmixlib.analysis.stats import paired_interval, welch_interval

from .claims import LEVEL, Claim

#: the size of every test (two-sided intervals at :data:`LEVEL`; the one-sided sign test at ``1 − LEVEL``)
ALPHA = 1.0 - LEVEL


def _finite(xs: Any) -> list[float]:
    return [float(x) for x in (xs or []) if x is not None and math.isfinite(float(x))]


def _cells(entry: dict[str, Any], key: str = "cells") -> list[dict[str, Any]]:
    """The entry's cells with non-finite differences dropped (and their seeds with them)."""
    if key in entry:
        out = []
        for c in entry[key]:
            if "welch" in c or "interval" in c:
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


@dataclass(frozen=True)
class CellStat:
    """One cell's difference: its mean and, where its evidence allows one, its interval at :data:`LEVEL`.

    ``how`` names the interval: ``"paired t"`` (seeds), ``"Welch"`` (a paper's mean ± sd), the evidence's own
    (e.g. ``"bootstrap over points"``) or ``"mean only"`` (no interval: ``lo``/``hi`` NaN)."""

    label: str
    mean: float
    lo: float
    hi: float
    p: float
    n: int
    how: str

    def side(self) -> int:
        """−1 if the interval lies below 0 (the paper's side), +1 above, 0 if it holds 0 or there is none."""
        if math.isnan(self.lo) or math.isnan(self.hi):
            return 0
        return -1 if self.hi < 0 else 1 if self.lo > 0 else 0

    def text(self) -> str:
        if math.isnan(self.lo):
            return f"{self.label}: {self.mean:+.3g} ({self.how})"
        p = "" if math.isnan(self.p) else (", p < 0.001" if self.p < 0.001 else f", p = {self.p:.3f}")
        return f"{self.label}: {self.mean:+.3g} [{self.lo:+.3g}, {self.hi:+.3g}] ({self.how}{p}, n = {self.n})"


def cell_stat(c: dict[str, Any]) -> CellStat:
    """:class:`CellStat` of one cell (see the module's evidence formats)."""
    label = str(c.get("label", ""))
    if "welch" in c:
        s = welch_interval(*c["welch"], level=LEVEL)
        return CellStat(label, s.mean, s.lo, s.hi, s.p, s.n, "Welch")
    if "interval" in c:
        lo, hi = (float(x) for x in c["interval"])
        if not lo <= hi:
            raise ValueError(f"cell {label!r}: interval must be [lo, hi] with lo <= hi, got {c['interval']!r}")
        mean = float(c.get("mean", (lo + hi) / 2))
        return CellStat(label, mean, lo, hi, math.nan, int(c.get("n", 0)), str(c.get("how", "given interval")))
    d = _finite(c.get("diffs"))
    if len(d) < 2:
        return CellStat(label, d[0] if d else math.nan, math.nan, math.nan, math.nan, len(d), "mean only")
    s = paired_interval(d, level=LEVEL)
    return CellStat(label, s.mean, s.lo, s.hi, s.p, s.n, "paired t")


def sign_test(k: int, n: int) -> float:
    """One-sided exact sign test: P(X ≥ k) for X ~ Binomial(n, 1/2) (``scipy.stats.binomtest``); 1 when n = 0."""
    return float(_st.binomtest(k, n, 0.5, alternative="greater").pvalue) if n else 1.0


def _on_side(means: Sequence[float], ties: bool) -> bool:
    return all(m < 0 or (ties and m == 0) for m in means)


def _rule_cells(claim: Claim, entry: dict[str, Any]) -> tuple[str, str]:
    """A count ("below mixup in 17 of the 18 cells", "in every setting").

    Each cell gets its own interval (:func:`cell_stat`); cells are gathered into units (``unit``: a joint count
    needs every cell of a unit on the paper's side) and units into groups (``group``: units sharing a run).

    * **reproduced** — at least the paper's count of units lies on the paper's side by their means, *and* either
      that many units lie there by their intervals, or the exact one-sided sign test over the groups (ties
      dropped) puts the paper's side above chance (p < 1 − LEVEL);
    * **contradicted** — more units lie wholly on the other side (an interval of one of their cells above 0) than
      the paper's count allows, or the count is not met and the sign test puts the *other* side above chance;
    * **inconclusive** otherwise.
    """
    cells = _cells(entry)
    if not cells:
        return "not run", "no paired difference could be formed"
    stats = [cell_stat(c) for c in cells]
    units: dict[str, list[tuple[dict[str, Any], CellStat]]] = {}
    for c, s in zip(cells, stats):
        units.setdefault(str(c.get("unit", c.get("label", ""))), []).append((c, s))
    if claim.joint:
        for u, members in units.items():
            missing = [b for b in claim.joint if b not in {c.get("vs") for c, _ in members}]
            if missing:
                return "not testable", (
                    f"the claim is joint (each unit against {' and '.join(claim.joint)}); unit {u!r} has no "
                    f"comparison with {', '.join(missing)}"
                )
    m = len(units)
    needed = math.ceil(claim.need * m - 1e-9)
    by_mean = {u: _on_side([s.mean for _, s in ms], claim.ties) for u, ms in units.items()}
    # by interval: wholly below 0 ("lower or equal" claims: at most 0, so an exact tie of every seed counts)
    by_int = {u: all(s.side() < 0 or (claim.ties and s.hi <= 0) for _, s in ms) for u, ms in units.items()}
    against = {u: any(s.side() > 0 for _, s in ms) for u, ms in units.items()}
    k_mean, k_int, k_against = sum(by_mean.values()), sum(by_int.values()), sum(against.values())
    # the sign of a unit: −1 every cell strictly below 0, +1 a cell above 0, 0 a tie (dropped from the test)
    sign = {
        u: 1 if any(s.mean > 0 for _, s in ms) else -1 if all(s.mean < 0 for _, s in ms) else 0
        for u, ms in units.items()
    }
    groups: dict[str, int] = {}
    for u, ms in units.items():
        g = str(ms[0][0].get("group", u))
        groups[g] = groups.get(g, 0) + sign[u]
    g_for, g_against = sum(v < 0 for v in groups.values()), sum(v > 0 for v in groups.values())
    p_for, p_against = sign_test(g_for, g_for + g_against), sign_test(g_against, g_for + g_against)
    hows = sorted({s.how for s in stats})
    word = "units (cells joined per unit)" if any(len(ms) > 1 for ms in units.values()) else "cells"
    grp = (
        f"{len(groups)} group{'s' * (len(groups) != 1)} (units sharing a run count once)"
        if len(groups) < m
        else f"{m} {word}"
    )
    stat = (
        f"count: {k_mean} of {m} {word} {'≤' if claim.ties else 'below'} 0 by their means, {k_int} by their "
        f"{100 * LEVEL:g} % intervals ({', '.join(hows)}), {k_against} above (need {needed}); exact sign test over "
        f"{grp}, ties dropped: {g_for} of {g_for + g_against} on the paper's side, one-sided p = {p_for:.3g}"
        f" | {'; '.join(s.text() for s in stats)}"
    )
    if k_mean >= needed and (k_int >= needed or p_for < ALPHA):
        why = "intervals" if k_int >= needed else "sign test"
        return "reproduced", f"{stat} → reproduced by the {why}"
    if k_against > m - needed or (k_mean < needed and p_against < ALPHA):
        return "contradicted", stat
    return "inconclusive", stat


def _with_n(comps: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [dict(c, welch=[*c["welch"][:2], n, *c["welch"][3:5], n]) if "welch" in c else c for c in comps]


def _rule_compare(claim: Claim, entry: dict[str, Any]) -> tuple[str, str]:
    """Named comparisons, each judged by its own interval: reproduced if every one lies below 0, contradicted if
    one lies above, else inconclusive. ``n_plausible``: a paper's mean ± sd whose runs per mean it does not state
    are judged at each n listed; the verdict is the one every n gives, else inconclusive."""
    raw = entry["comparisons"] if "comparisons" in entry else [{"label": "all pairs", "diffs": entry.get("diffs")}]
    comps = _cells({"cells": raw})
    if not comps:
        return "not run", "no paired difference could be formed"
    if entry.get("n_plausible"):
        results = [(n, _judge(claim, _with_n(comps, int(n)))) for n in entry["n_plausible"]]
        verdicts = {v for _, (v, _) in results}
        v = verdicts.pop() if len(verdicts) == 1 else "inconclusive"
        head = "runs per mean not stated by the paper; judged at each plausible n: "
        parts = [f"n = {n} → {w} ({s})" for n, (w, s) in results]
        tail = "" if len({w for _, (w, _) in results}) == 1 else " — the verdict depends on the unstated n"
        return v, head + " || ".join(parts) + tail
    return _judge(claim, comps)


def _judge(claim: Claim, comps: list[dict[str, Any]]) -> tuple[str, str]:
    words, parts = [], []
    for c in comps:
        s = cell_stat(c)
        if claim.kind == "noninferior":
            m = claim.need
            w = (
                "inconclusive"
                if math.isnan(s.hi)
                else "reproduced"
                if s.hi < m
                else "contradicted"
                if s.lo > m
                else "inconclusive"
            )
        else:
            w = {-1: "reproduced", 1: "contradicted", 0: "inconclusive"}[s.side()]
        words.append(w)
        parts.append(f"{s.text()} → {w}")
    if claim.kind == "noninferior":
        n_big = sum(w == "contradicted" for w in words)
        v = (
            "reproduced"
            if all(w == "reproduced" for w in words)
            else "contradicted"
            if n_big > len(words) / 2
            else "inconclusive"
        )
        head = (
            f"non-inferiority, margin {claim.need:g}: the baseline's gain (the difference) must have its "
            f"{100 * LEVEL:g} % upper bound below the margin in every cell; contradicted if its lower bound exceeds "
            f"the margin in most cells ({n_big} of {len(words)})"
        )
        return v, head + "; " + "; ".join(parts)
    return _combine(words), "; ".join(parts)


def _combine(words: Sequence[str]) -> str:
    if "contradicted" in words:
        return "contradicted"
    return "reproduced" if all(w == "reproduced" for w in words) else "inconclusive"


def _meets(op: str, bound: Any, lo: float, hi: float) -> tuple[bool, bool]:
    """``(wholly meets, wholly misses)`` of the interval ``[lo, hi]`` against ``op bound``."""
    if op == ">":
        return lo > bound, hi <= bound
    if op == ">=":
        return lo >= bound, hi < bound
    if op == "<":
        return hi < bound, lo >= bound
    if op == "<=":
        return hi <= bound, lo > bound
    if op == "in":
        b_lo, b_hi = bound
        return b_lo <= lo and hi <= b_hi, hi < b_lo or lo > b_hi
    raise ValueError(f"a ratio bound's op must be one of '>', '>=', '<', '<=', 'in', got {op!r}")


def _bound_text(op: str, bound: Any) -> str:
    return f"in [{bound[0]:g}, {bound[1]:g}]" if op == "in" else f"{op} {bound:g}"


def _rule_ratio(claim: Claim, entry: dict[str, Any]) -> tuple[str, str]:
    """Each ratio against the paper's bound: reproduced if every ratio (its interval ``[lo, hi]`` where measured)
    wholly meets its bound, contradicted if one wholly misses it, else inconclusive. A value at a strict bound
    (``>``, ``<``) misses it; at a closed one (``>=``, ``<=``) meets it."""
    ratios = [r for r in entry["ratios"] if r.get("key") in claim.bounds and r.get("value") is not None]
    if not ratios:
        return "not run", "no ratio was measured"
    words, parts = [], []
    for r in ratios:
        op, bound = claim.bounds[r["key"]]
        v = float(r["value"])
        lo, hi = float(r.get("lo", v)), float(r.get("hi", v))
        ok_all, ok_none = _meets(op, bound, lo, hi)
        w = "reproduced" if ok_all else "contradicted" if ok_none else "inconclusive"
        words.append(w)
        spread = f" [{lo:.4g}, {hi:.4g}]" if (lo, hi) != (v, v) else ""
        parts.append(f"{r.get('label', r['key'])} = {v:.4g}{spread} (need {_bound_text(op, bound)}) → {w}")
    return _combine(words), "ratio against the paper's bound: " + "; ".join(parts)


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
    labels = entry.get("check_names") or []
    marks = [f"{lab} {'holds' if c else 'fails'}" for lab, c in zip(labels, checks)]
    detail = f": {'; '.join(marks)}" if marks else ""
    stat = f"{held} of {len(checks)} checks hold{detail}"
    if held == len(checks):
        return "reproduced", stat
    return ("contradicted" if held < len(checks) / 2 else "inconclusive"), stat


_RULES: dict[str, Callable[[Claim, dict[str, Any]], tuple[str, str]]] = {
    "cells": _rule_cells,
    "compare": _rule_compare,
    "noninferior": _rule_compare,
    "ratio": _rule_ratio,
    "value": _rule_value,
    "holds": _rule_holds,
}


def counted(entry: dict[str, Any] | None) -> bool:
    """Whether a verdict on ``entry`` counts with the paper-population claims: evidence on another population
    (``population`` other than ``"paper"``) is shown, not counted."""
    return entry is None or entry.get("population") in (None, "paper")


def verdict(claim: Claim, entry: dict[str, Any] | None) -> tuple[str, str]:
    """``(verdict, statistic)`` of ``claim`` from its evidence by the claim's rule (:data:`.claims.RULES`).

    A claim that selects a setting (:attr:`~.claims.Claim.selects`: "ζ-mixup at its best γ") is judged only on
    evidence that says how the setting was chosen (``selection``: on a validation split, or the paper's fixed
    value) — never a choice made on the test split the rule then reads. Evidence on another population than the
    paper's says so in its statistic (see :func:`counted`)."""
    if entry is None:
        return "not run", f"chapter {claim.chapter} recorded no evidence in this build"
    if entry.get("regime_passed") is False:
        return "not testable", f"regime check failed: {entry.get('regime') or 'no reason recorded'}"
    if entry.get("not_testable"):
        return "not testable", str(entry["not_testable"])
    if claim.selects and not entry.get("selection"):
        return "not testable", (
            f"the evidence does not say how {claim.selects} was chosen; the rule judges only a choice made on a "
            "validation split (the same for every method) or the paper's fixed value, never on the test split"
        )
    v, stat = _RULES[claim.kind](claim, entry)
    pre = []
    if entry.get("selection"):
        pre.append(f"selection: {entry['selection']}")
    if not counted(entry):
        pre.append(f"population: {entry['population']} — not the paper's; shown, not counted")
    return v, "; ".join([*pre, stat]) if pre else stat


__all__ = ["ALPHA", "CellStat", "cell_stat", "counted", "sign_test", "verdict"]
