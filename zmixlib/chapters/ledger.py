"""Chapter 11's ledger: every claim of the papers as the papers state it, this build's evidence, and a verdict
computed by a stated rule with its statistic — a rule first proven on the papers' own numbers.

Chapters record their evidence while they run (:func:`record`, or :func:`record_claims` which builds it from a
chapter's frames): one JSON per chapter under ``<results_dir>/<profile>/ledger/<chapter>.json``, written atomically
and stamped with the build (``ZMIX_BUILD_ID``). The ledger page (:func:`table`) reads them back; a claim whose
chapter did not record evidence *in this build* reads **not run**, never a stale value.

Every difference is *oriented*: negative means "in the paper's direction" (ERR lower; an accuracy, AUC or F1
difference is negated). The rules (:data:`RULES`), each at :data:`LEVEL`:

* ``cells`` — the paper's count ("ζ-mixup below mixup in 17 of 18 cells"): each cell (dataset, γ, …) is the mean
  of its seed-paired differences; the statistic is the interval of the mean over cells — a paired t-interval over
  seeds of the per-seed mean over cells (ours), Welch's from the cells' mean ± sd (a paper that prints them), or a
  t-interval over the cell means (a paper's means alone) — see :func:`_cells_stat`. **reproduced**: at least the
  paper's share of cells below 0 (or at 0, for "lower or equal") *and* the interval below 0; **contradicted**: the
  interval above 0; **inconclusive** otherwise.
* ``compare`` — named comparisons (the ablation's): each is judged by its seed-paired t-interval (a paper's mean ±
  sd: Welch's); the claim is reproduced when every comparison is, contradicted when one is contradicted.
* ``equivalent`` — "matches": the interval inside ±margin is reproduced, wholly outside it contradicted.
* ``ratio`` — speed: each ratio against the paper's bound ("≥ 2× mixup", "≥ 110× LSI"), on the measured device.
* ``value`` — a number within a tolerance of the paper's: reproduced / **not reproduced**.
* ``holds`` — named checks: all hold reproduced, most fail contradicted, else inconclusive.

Evidence whose regime check failed (``regime_passed=False``: ERM did not fit its training set) is **not
testable**, with the regime's text as the reason. Every entry says whether it rests on the paper's data or a
stand-in (``data_kind``); the page counts them apart. :func:`self_check` feeds every rule the papers' numbers
(``paper_results.csv``) and the same numbers with the compared methods swapped
(``python -m zmixlib ledger --self-check``).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from zmixlib._checks import check_choice
from zmixlib._util import ROOT, atomic_write_text
from zmixlib.stats import PairedStat, paired_interval, welch_interval

__all__ = [
    "Claim",
    "CLAIMS",
    "RETIRED",
    "RULES",
    "VERDICTS",
    "DATA_KINDS",
    "LEVEL",
    "record",
    "record_claims",
    "evidence",
    "verdict",
    "table",
    "headline",
    "build_id",
    "paper_evidence",
    "self_check",
]

LEVEL = 0.95
VERDICTS = ("reproduced", "contradicted", "inconclusive", "not reproduced", "not testable", "not run")
DATA_KINDS = ("paper", "stand-in")
RULES = {
    "cells": "reproduced if ≥ the paper's share of cells is below 0 and the 95 % t-interval of the mean cell "
    "difference is below 0; contradicted if that interval is above 0; else inconclusive",
    "compare": "each comparison: reproduced if its 95 % paired t-interval is below 0, contradicted if above; the "
    "claim is reproduced if every comparison is, contradicted if one is, else inconclusive",
    "equivalent": "reproduced if the 95 % paired t-interval lies within ±margin; contradicted if it lies wholly "
    "outside; else inconclusive",
    "ratio": "reproduced if every ratio meets the paper's bound (its spread over the interleaved rounds, where "
    "measured, wholly on the paper's side); contradicted if one misses it wholly; else inconclusive",
    "value": "reproduced if |ours − paper| ≤ tolerance, else not reproduced",
    "holds": "reproduced if every check holds; contradicted if most fail; else inconclusive",
}


@dataclass(frozen=True)
class Claim:
    """One claim of the papers.

    ``paper`` is the statement with its table or figure; ``chapter`` the notebook that records its evidence;
    ``kind`` one of :data:`RULES`. ``need`` is the share of cells the paper states (``cells``), the margin
    (``equivalent``) or the tolerance (``value``); ``bounds`` maps a ratio's key to ``(">=" or "<=", bound)``.
    ``data_kind`` fixes the kind of data where it does not depend on the profile (a theorem, the papers'
    synthetic sets, the UCI tables). ``paper_supports`` says whether the paper's own numbers support the claim
    under its rule; when ``False``, ``why_not`` says why (the self-check then expects no *reproduced*).
    """

    id: str
    chapter: str
    paper: str
    kind: str
    need: float = 1.0
    need_text: str = ""
    bounds: dict[str, tuple[str, float]] = field(default_factory=dict)
    data_kind: str | None = None
    ties: bool = False  # cells: a tie counts as the paper's direction ("lower or equal")
    paper_supports: bool | None = True
    why_not: str = ""


def _c(id, chapter, paper, kind, **kw) -> Claim:
    return Claim(id, chapter, paper, kind, **kw)


#: Every claim the ledger tracks, in the papers' order.
CLAIMS: tuple[Claim, ...] = (
    _c(
        "gamma_min",
        "00_theorems",
        "γ_min = 1.72865: the largest weight dominates for γ ≥ γ_min, any T (Theorem 1)",
        "value",
        need=5e-6,
        data_kind="paper",
    ),
    _c(
        "label_correctness_2d",
        "01_synthetic_manifolds",
        "ζ-mixup's samples carry fewer wrong labels than mixup's on crescents and spirals (Fig. 1)",
        "compare",
        data_kind="paper",
        paper_supports=None,
        why_not="Fig. 1 is a picture: no numbers",
    ),
    _c(
        "helix_hollow",
        "01_synthetic_manifolds",
        "mixup fills the helix's hollow; ζ-mixup stays near the manifold (Fig. 2)",
        "compare",
        data_kind="paper",
        paper_supports=None,
        why_not="Fig. 2 is a picture: no numbers",
    ),
    _c(
        "realism_mnist",
        "02_realism",
        "ζ-mixup's images are more realistic and better labelled than mixup's, by an MNIST oracle (Fig. 3f–g)",
        "holds",
        paper_supports=None,
        why_not="Fig. 3 is a picture: no numbers",
    ),
    _c(
        "local_id",
        "03_intrinsic_dimension",
        "ζ-mixup's output has a lower local intrinsic dimension than mixup's, on every dataset (MIDL: 26.83 vs 35.43 on CIFAR-10, 24.76 vs 32.41 on CIFAR-100)",
        "cells",
        need_text="every dataset",
    ),
    _c(
        "natural",
        "04_natural",
        "ζ-mixup is below mixup in 17 of the 18 (dataset, γ) cells of Table 4 (the exception ties)",
        "cells",
        need=17 / 18,
        need_text="≥ 17 of 18 cells",
    ),
    _c(
        "natural_erm",
        "04_natural",
        "ζ-mixup is below ERM in the (dataset, γ) cells of Table 4 (“17 of the 18 … outperform their ERM and mixup counterparts”)",
        "cells",
        need=17 / 18,
        need_text="≥ 17 of 18 cells",
    ),
    _c(
        "cutmix_zeta",
        "04_natural",
        "CutMix + ζ-mixup is below CutMix in every (dataset, architecture) of Table 5",
        "cells",
        need_text="every cell",
    ),
    _c(
        "skin",
        "05_skin",
        "ζ-mixup (its best γ) beats both ERM and mixup in balanced accuracy on every SKIN dataset, both architectures (Table 6 / A3)",
        "cells",
        need_text="every (dataset, arch, baseline)",
        paper_supports=False,
        why_not="the paper's own cells: MED-NODE ResNet-50, ζ-mixup's best γ ties mixup",
    ),
    _c(
        "skin_f1",
        "05_skin",
        "ζ-mixup (its best γ) beats ERM and mixup in F1-micro and F1-macro on the SKIN datasets (Table A3)",
        "cells",
        need_text="every (dataset, arch, metric, baseline)",
        paper_supports=False,
        why_not="the paper's own cells: derm7point-D ResNet-50, ζ-mixup's best F1-micro ties mixup's",
    ),
    _c(
        "knn_neighbourhoods",
        "05_skin",
        "ζ-mixup's features keep more correctly labelled neighbours than mixup's around selected test images (Fig. 8: 12 of 14 on derm7point, 14 of 14 on ISIC 2017)",
        "cells",
        need=26 / 28,
        need_text="≥ 26 of 28 images (signs only in the paper)",
    ),
    _c(
        "medmnist",
        "06_medmnist",
        "ζ-mixup beats ERM and mixup on both AUC and ACC in 8 of 10 MedMNIST datasets, on one metric in the other 2 (Table 7)",
        "cells",
        need=0.9,
        need_text="≥ 36 of 40 (dataset, metric, baseline) cells",
    ),
    _c(
        "sensitivity",
        "07_sensitivity",
        "ζ-mixup's ERR is lower than or equal to mixup's for almost every γ ∈ [1.8, 5.0] (Fig. 10a, b)",
        "cells",
        need=0.9,
        need_text="≥ 90 % of the (dataset, γ) cells ('almost every γ'), ties counted",
        ties=True,
        paper_supports=None,
        why_not="Fig. 10a, b is a picture: no numbers",
    ),
    _c(
        "sensitivity_search",
        "07_sensitivity",
        "the best models of the (γ, weight decay) search come from γ ≈ [γ_min, 4] and weight decay ≈ [5e-4, 1e-3] "
        "(Fig. 10c, d; ours: the ERR of the models inside that box − outside it)",
        "compare",
        paper_supports=None,
        why_not="Fig. 10c, d is a picture: no numbers",
    ),
    _c(
        "ablation",
        "08_ablation",
        "ζ-mixup beats each ablated variant: mixup, p-series weights with T = 2 and Dirichlet weights with T = m (Table 8)",
        "compare",
    ),
    _c(
        "ablation_t2",
        "08_ablation",
        "p-series weights with T = 2 (mixup with ζ-mixup's weights) beat mixup (Table 8)",
        "compare",
        paper_supports=False,
        why_not="the paper's own mean ± sd (runs per mean not stated; 3 assumed) give an interval that holds 0",
    ),
    _c(
        "speed",
        "09_timing",
        "ζ-mixup is over twice as fast as mixup and over 110 times faster than local synthetic instances on a [32, 3, 224, 224] batch (Table 9)",
        "ratio",
        bounds={"mixup/zeta": (">=", 2.0), "lsi/zeta": (">=", 110.0)},
    ),
    _c(
        "train_time",
        "09_timing",
        "training with ζ-mixup is as fast as, if not faster than, with mixup (Table 9; ours: ζ-mixup / mixup time ≤ 1.05, a 5 % margin we state)",
        "ratio",
        bounds={"zeta/mixup": ("<=", 1.05)},
    ),
    _c(
        "kmixup_table1",
        "10_peers",
        "k-mixup (k and ξ tuned) is below 1-mixup in every (dataset, architecture) of the k-mixup paper's Table 1",
        "cells",
        need_text="every cell",
        paper_supports=False,
        why_not="means without spreads, gains of very different size across the 7 cells: the interval over cells holds 0",
    ),
    _c(
        "kmixup_uci",
        "10_peers",
        "k-mixup improves over 1-mixup on every UCI dataset (k-mixup paper, Table 4: best k > 1 vs best k = 1)",
        "cells",
        data_kind="paper",
        need_text="every dataset",
        paper_supports=False,
        why_not="means of 20 trials without spreads, 5 cells of very different size: the interval over cells holds 0",
    ),
    _c(
        "kmixup_arrhythmia",
        "10_peers",
        "on Arrhythmia no mixup (ERM) beats every mixup (k-mixup paper, Table 4)",
        "cells",
        data_kind="paper",
        need_text="the one cell",
        paper_supports=False,
        why_not="one mean of 20 trials, no spread: the paper's numbers allow no interval",
    ),
    _c(
        "multimix",
        "10_peers",
        "MultiMix is above ζ-mixup in every setting of the MultiMix paper's Table 2 (81.82 vs 80.46 on CIFAR-100, R-18)",
        "cells",
        need_text="every cell",
    ),
    _c(
        "manifold_mixup",
        "10_peers",
        "manifold mixup trained 10× longer shows no clear, consistent gain over ζ-mixup (Fig. 9; ours: ERR within ±1 point, a margin we state)",
        "equivalent",
        need=1.0,
        paper_supports=None,
        why_not="Fig. 9 is a picture: no numbers",
    ),
)
_BY_ID = {c.id: c for c in CLAIMS}
#: claims dropped from the ledger (they test nothing): :func:`record` accepts and ignores them
RETIRED = {"mixup_is_T2": "an identity (Theorem 2), not an empirical claim; chapter 00 proves it"}


def build_id() -> str | None:
    """The id of the book build this process belongs to (``ZMIX_BUILD_ID``; ``None`` outside a build)."""
    return os.environ.get("ZMIX_BUILD_ID") or None


def _path(results_dir: str | os.PathLike | None, profile: str, chapter: str) -> Path:
    return Path(ROOT / "results" if results_dir is None else results_dir) / profile / "ledger" / f"{chapter}.json"


# ------------------------------------------------------------------------------------------------ recording

_NEEDED = {
    "value": (("ours_value", "paper_value"),),
    "cells": (("cells",), ("diffs",)),
    "compare": (("comparisons",), ("diffs",)),
    "equivalent": (("comparisons",), ("diffs",)),
    "ratio": (("ratios",),),
    "holds": (("checks",),),
}


def record(
    claim_id: str,
    *,
    results_dir: str | os.PathLike | None = None,
    profile: str,
    data: str,
    ours: str,
    data_kind: str | None = None,
    regime_passed: bool | None = None,
    regime: str | None = None,
    **values: Any,
) -> dict[str, Any] | None:
    """Record this run's evidence for one claim (merged into its chapter's ledger file, atomically).

    Args:
        claim_id: a :data:`CLAIMS` id (a :data:`RETIRED` one is accepted and ignored: returns ``None``).
        results_dir: the results folder (``None``: the project's ``results/``).
        profile: the profile the evidence was measured under.
        data: what it ran on, e.g. ``"Fashion-MNIST (LeNet-5, 3 seeds, cpu)"``.
        ours: our side in words and numbers, as the ledger prints it.
        data_kind: ``"paper"`` (the paper's dataset) or ``"stand-in"``; default: the claim's own
            (:attr:`Claim.data_kind`), else ``"paper"`` under the ``paper`` profile and ``"stand-in"`` otherwise.
        regime_passed, regime: the chapter's regime check (``RegimeCheck.as_evidence()``); ``False`` makes
            the claim *not testable*, with ``regime`` as the reason.
        **values: what the rule reads (oriented: negative = the paper's direction) — ``cells``: ``cells``
            (``[{"label", "diffs"}]``) or ``diffs`` (one cell each); ``compare`` / ``equivalent``:
            ``comparisons`` (``[{"label", "diffs"}]``) or ``diffs`` (one comparison); ``ratio``: ``ratios``
            (``[{"key", "label", "value"}]``, optional ``lo``/``hi``); ``value``: ``ours_value``, ``paper_value``
            (``tol`` optional, default the claim's); ``holds``: ``checks`` (booleans; optional ``check_names``).

    Returns:
        the stored entry.
    """
    if claim_id in RETIRED:
        return None
    check_choice("claim_id", claim_id, _BY_ID)
    claim = _BY_ID[claim_id]
    if not any(all(k in values for k in opt) for opt in _NEEDED[claim.kind]):
        want = " or ".join(str(list(o)) for o in _NEEDED[claim.kind])
        raise ValueError(f"claim {claim_id!r} ({claim.kind}) needs {want}; got {sorted(values)}")
    kind = data_kind or claim.data_kind or ("paper" if profile == "paper" else "stand-in")
    check_choice("data_kind", kind, DATA_KINDS)
    if regime_passed is not None and not isinstance(regime_passed, (bool, np.bool_)):
        raise TypeError(f"regime_passed must be a bool or None, got {regime_passed!r}")
    entry = {
        "claim": claim_id,
        "profile": profile,
        "data": data,
        "data_kind": kind,
        "ours": ours,
        "regime_passed": None if regime_passed is None else bool(regime_passed),
        "regime": regime,
        "build": build_id(),
        "recorded_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **{k: _plain(v) for k, v in values.items()},
    }
    path = _path(results_dir, profile, claim.chapter)
    stored = json.loads(path.read_text()) if path.is_file() else {}
    stored[claim_id] = entry
    atomic_write_text(path, json.dumps(stored, indent=1, allow_nan=True) + "\n")
    return entry


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray, pd.Series)):
        return [_plain(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    return v


def evidence(results_dir: str | os.PathLike | None, profile: str) -> dict[str, dict[str, Any]]:
    """Every recorded entry of ``profile`` (claim id -> entry)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(_path(results_dir, profile, "x").parent.glob("*.json")):
        out.update(json.loads(path.read_text()))
    return out


# ------------------------------------------------------------------------------------------------ the rules


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


# ------------------------------------------------------------------------------------------------ the page


def table(
    results_dir: str | os.PathLike | None, profile: str, *, build: str | None = None, links: bool = True
) -> pd.DataFrame:
    """One row per claim of :data:`CLAIMS`: the paper's statement, the data kind (paper / stand-in), ours, the
    profile and data, the verdict, the statistic behind it and the rule. With ``build`` (default: this
    process's :func:`build_id`), evidence of other builds counts as "not run"; ``build=""`` (or no build id)
    reads the latest evidence of every chapter."""
    build = build_id() if build is None else build
    found = evidence(results_dir, profile)
    rows = []
    for claim in CLAIMS:
        entry = found.get(claim.id)
        if entry is not None and build and entry.get("build") != build:
            entry = None
        v, stat = verdict(claim, entry)
        chapter = f'<a href="{claim.chapter}.html">{claim.chapter[:2]}</a>' if links else claim.chapter
        rows.append(
            {
                "claim (paper)": claim.paper,
                "data": entry.get("data_kind", "stand-in") if entry else "—",
                "ours": entry["ours"] if entry else "—",
                "profile, data": (
                    f"{entry['profile']}: {entry['data']}"
                    + (f"; regime: {entry['regime']}" if entry.get("regime") else "")
                )
                if entry
                else "—",
                "verdict": v,
                "statistic": stat,
                "rule": _rule_text(claim),
                "chapter": chapter,
            }
        )
    return pd.DataFrame(rows)


def _rule_text(claim: Claim) -> str:
    text = RULES[claim.kind]
    if claim.need_text:
        text = f"{claim.need_text}: {text}"
    return text


def headline(claims: pd.DataFrame) -> str:
    """``"on paper data: 3 reproduced, 1 inconclusive; on stand-ins: …; not run: 4"`` from :func:`table`."""
    parts = []
    for kind, name in (("paper", "on paper data"), ("stand-in", "on stand-ins")):
        v = claims.loc[claims["data"] == kind, "verdict"].value_counts()
        words = ", ".join(f"{int(v[w])} {w}" for w in VERDICTS if w in v.index)
        parts.append(f"{name}: {words or 'none'}")
    missing = int((claims["data"] == "—").sum())
    if missing:
        parts.append(f"not run: {missing}")
    return "; ".join(parts)


# ----------------------------------------------------------------------------------- the papers' numbers


def _p(source: str) -> pd.DataFrame:
    from zmixlib.paper import paper_table

    return paper_table(source)


def _cell(label: str, d: float) -> dict[str, Any]:
    return {"label": label, "diffs": [float(d)]}


def _versus(
    df: pd.DataFrame, method: str, baseline: str, keys: Sequence[str], *, sign: float = 1.0, best: bool = False
) -> list[dict[str, Any]]:
    """Cells ``sign · (method − baseline)`` per ``keys``; ``best``: the method's best value over γ (sign > 0: min)."""
    out = []
    for key, g in df.groupby(list(keys), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        a, b = g.loc[g["method"] == method, "value"], g.loc[g["method"] == baseline, "value"]
        if a.empty or b.empty:
            continue
        vals = [sign * (x - b.iloc[0]) for x in a]
        for i, v in enumerate([min(vals)] if best else vals):
            gam = "" if best else f", γ = {g.loc[g['method'] == method, 'gamma'].iloc[i]}"
            out.append(_cell(", ".join(map(str, key)) + gam, v))
    return out


def _swap(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in cells:
        if "welch" in c:
            w = c["welch"]
            out.append(dict(c, welch=[*w[3:], *w[:3]]))
        else:
            out.append(dict(c, diffs=[-d for d in c["diffs"]]))
    return out


def _sd_of(note: str) -> float:
    m = re.search(r"\+-\s*([0-9.]+)", str(note))
    return float(m.group(1)) if m else math.nan


def _seconds(text: str) -> float:
    main = str(text).split("+-")[0]
    h = re.search(r"(\d+)h", main)
    m = re.search(r"(\d+)m(?!s)", main)
    s = re.search(r"(\d+(?:\.\d+)?)s", main)
    return 3600 * float(h.group(1) if h else 0) + 60 * float(m.group(1) if m else 0) + float(s.group(1) if s else 0)


#: the sds the MultiMix paper prints beside Table 2's means (5 runs; the csv keeps the means)
MULTIMIX_SD = {
    ("CIFAR-10", "PreActResNet-18", "MultiMix"): 0.03,
    ("CIFAR-10", "WRN16-8", "MultiMix"): 0.02,
    ("CIFAR-100", "PreActResNet-18", "MultiMix"): 0.04,
    ("CIFAR-100", "WRN16-8", "MultiMix"): 0.03,
    ("TinyImageNet", "PreActResNet-18", "MultiMix"): 0.04,
    ("CIFAR-10", "PreActResNet-18", "zeta-mixup"): 0.04,
    ("CIFAR-10", "WRN16-8", "zeta-mixup"): 0.04,
    ("CIFAR-100", "PreActResNet-18", "zeta-mixup"): 0.26,
    ("CIFAR-100", "WRN16-8", "zeta-mixup"): 0.15,
    ("TinyImageNet", "PreActResNet-18", "zeta-mixup"): 0.14,
}

#: runs behind each mean of Table 8 (the paper does not say; Table 4's means are of 3 runs)
ABLATION_RUNS_ASSUMED = 3


def paper_evidence(claim_id: str) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """The papers' numbers as evidence for ``claim_id``'s rule, the same with the compared methods swapped
    (or, for a value or parity claim, moved off the paper's side), and what the swap is; ``None`` where the
    paper gives no numbers (a figure)."""
    claim = _BY_ID[claim_id]
    Z, M, E = "zeta-mixup", "mixup", "ERM"
    if claim_id == "gamma_min":
        v = float(_p("theorem-1")["value"].iloc[0])
        return (
            {"ours_value": v, "paper_value": v},
            {"ours_value": v + 10 * claim.need, "paper_value": v},
            "the paper's value moved by 10 × the tolerance",
        )
    cells: list[dict[str, Any]] | None = None
    swap_text = "compared methods swapped"
    if claim_id == "local_id":
        cells = _versus(_p("midl-id"), Z, M, ["dataset"])
    elif claim_id in ("natural", "natural_erm"):
        cells = _versus(_p("natural-table4"), Z, M if claim_id == "natural" else E, ["dataset"])
    elif claim_id == "cutmix_zeta":
        cells = _versus(_p("cutmix-table5"), "CutMix+zeta-mixup", "CutMix", ["dataset", "arch"])
    elif claim_id == "skin":
        df = pd.concat([_p("skin-tableA3"), _p("skin-table2")])
        df = df[df["metric"] == "ACC_bal_percent"]
        cells = [
            dict(c, label=f"{c['label']} vs {b}")
            for b in (E, M)
            for c in _versus(df, Z, b, ["dataset", "arch"], sign=-1.0, best=True)
        ]
    elif claim_id == "skin_f1":
        df = _p("skin-tableA3")
        df = df[df["metric"].isin(["F1_micro", "F1_macro"])].assign(value=lambda d: d["value"] * 100)
        cells = [
            dict(c, label=f"{c['label']} vs {b}")
            for b in (E, M)
            for c in _versus(df, Z, b, ["dataset", "arch", "metric"], sign=-1.0, best=True)
        ]
    elif claim_id == "knn_neighbourhoods":  # the paper's counts: 12 of 14 and 14 of 14 images (signs only)
        cells = [_cell(f"derm7point #{i + 1}", -1.0 if i < 12 else 1.0) for i in range(14)]
        cells += [_cell(f"ISIC 2017 #{i + 1}", -1.0) for i in range(14)]
    elif claim_id == "medmnist":
        df = _p("medmnist-table7")
        df = df.assign(value=np.where(df["metric"] == "AUC", df["value"] * 100, df["value"]))
        cells = [
            dict(c, label=f"{c['label']} vs {b}")
            for b in (E, M)
            for c in _versus(df, Z, b, ["dataset", "metric"], sign=-1.0)
        ]
    elif claim_id in ("ablation", "ablation_t2"):
        df = _p("ablation-table8").set_index("method")
        n = ABLATION_RUNS_ASSUMED
        row = {
            "zeta": (df.loc[Z, "value"], _sd_of(df.loc[Z, "note"])),
            "mixup": (df.loc[M, "value"], _sd_of(df.loc[M, "note"])),
            "T2": (df.loc["p-series weights, T=2", "value"], _sd_of(df.loc["p-series weights, T=2", "note"])),
            "Dir": (df.loc["Dirichlet(1) weights, T=m", "value"], _sd_of(df.loc["Dirichlet(1) weights, T=m", "note"])),
        }
        pairs = [("zeta", "mixup"), ("zeta", "T2"), ("zeta", "Dir")] if claim_id == "ablation" else [("T2", "mixup")]

        def comps(swapped: bool) -> list[dict[str, Any]]:
            out = []
            for a, b in pairs:
                a, b = (b, a) if swapped else (a, b)
                out.append({"label": f"{a} − {b}", "welch": [*row[a], n, *row[b], n]})
            return out

        return {"comparisons": comps(False)}, {"comparisons": comps(True)}, swap_text
    elif claim_id == "speed":
        df = _p("timing-table9")
        t = df[df["metric"] == "augment_time_us"].set_index("method")["value"]
        ours = [
            {"key": "mixup/zeta", "label": "mixup / ζ-mixup", "value": t[M] / t[Z]},
            {"key": "lsi/zeta", "label": "LSI / ζ-mixup", "value": t["local-synthetic-instances"] / t[Z]},
        ]
        swapped = [dict(r, value=1.0 / r["value"]) for r in ours]
        return {"ratios": ours}, {"ratios": swapped}, swap_text
    elif claim_id == "train_time":
        df = _p("timing-table9")
        df = df[df["metric"].str.startswith("train_time_")]
        ours = []
        for d, g in df.groupby("dataset", sort=False):
            by = g.set_index("method")["value_text"]
            if Z in by and M in by:
                ours.append(
                    {"key": "zeta/mixup", "label": f"{d}: ζ-mixup / mixup", "value": _seconds(by[Z]) / _seconds(by[M])}
                )
        moved = [dict(r, value=r["value"] * 1.2) for r in ours]
        return (
            {"ratios": ours},
            {"ratios": moved},
            "ζ-mixup's times made 20 % longer (parity is symmetric under a swap)",
        )
    elif claim_id == "kmixup_table1":
        cells = _versus(_p("kmixup-table1"), "k-mixup (k, xi opt.)", "1-mixup (xi opt.)", ["dataset", "arch"])
    elif claim_id in ("kmixup_uci", "kmixup_arrhythmia"):
        df = _p("kmixup-table4")
        df = df.assign(k=df["method"].str.extract(r"^(\d+)-mixup")[0].astype(float))
        cells = []
        for d, g in df.groupby("dataset", sort=False):
            one, more, erm = (
                g.loc[g["k"] == 1, "value"].min(),
                g.loc[g["k"] > 1, "value"].min(),
                g.loc[g["method"] == E, "value"],
            )
            if claim_id == "kmixup_uci":
                cells.append(_cell(f"{d}: best k > 1 − best k = 1", more - one))
            elif d == "Arrhythmia":
                cells.append(_cell(f"{d}: ERM − best mixup", erm.iloc[0] - min(one, more)))
    elif claim_id == "multimix":  # mean ± sd of 5 runs (the paper's Table 2); ERR = 100 − accuracy
        df = _p("multimix-table2").set_index(["dataset", "arch", "method"])
        cells = []
        for d, a in dict.fromkeys((d, a) for d, a, _ in df.index):
            mm, zz = df.loc[(d, a, "MultiMix")], df.loc[(d, a, "zeta-mixup (reproduced by MultiMix authors)")]
            w = [
                100 - mm["value"],
                MULTIMIX_SD[(d, a, "MultiMix")],
                5,
                100 - zz["value"],
                MULTIMIX_SD[(d, a, "zeta-mixup")],
                5,
            ]
            cells.append({"label": f"{d}, {a}", "welch": w})
    if cells is None:
        return None
    return {"cells": cells}, {"cells": _swap(cells)}, swap_text


def self_check() -> tuple[pd.DataFrame, bool]:
    """Every claim's rule on the papers' own numbers, and on the same numbers swapped.

    Returns:
        ``(frame, ok)``: one row per claim — its rule, the verdict on the paper's numbers and its statistic, the
        verdict swapped, what the paper's numbers are expected to give, and ``ok``. ``ok`` is ``True`` only if
        each claim the papers support (:attr:`Claim.paper_supports`) is *reproduced* and *contradicted* (or
        *not reproduced*) swapped, and each claim they do not support is not *reproduced*.
    """
    rows = []
    for claim in CLAIMS:
        got = paper_evidence(claim.id)
        if got is None:
            rows.append(
                {
                    "claim": claim.id,
                    "rule": claim.kind,
                    "paper's numbers": "—",
                    "statistic": claim.why_not,
                    "swapped": "—",
                    "expected": "no numbers",
                    "ok": True,
                }
            )
            continue
        entry, swapped, how = got
        v, stat = _RULES[claim.kind](claim, entry)
        vs, _ = _RULES[claim.kind](claim, swapped)
        if claim.paper_supports:
            expected = "reproduced; swapped: " + ("not reproduced" if claim.kind == "value" else "contradicted")
            ok = v == "reproduced" and vs == ("not reproduced" if claim.kind == "value" else "contradicted")
        else:
            expected = f"anything but reproduced: {claim.why_not}"
            ok = v != "reproduced"
        rows.append(
            {
                "claim": claim.id,
                "rule": claim.kind,
                "paper's numbers": v,
                "statistic": stat,
                "swapped": f"{vs} ({how})",
                "expected": expected,
                "ok": ok,
            }
        )
    frame = pd.DataFrame(rows)
    return frame, bool(frame["ok"].all())


# --------------------------------------------------------------------------------- evidence from chapters


def _regime_of(regime: Any, claim_id: str) -> dict[str, Any]:
    """``{"regime_passed", "regime"}`` from a ``RegimeCheck`` (or a dict of them per claim id, or ``None``)."""
    if isinstance(regime, dict) and claim_id in regime:
        regime = regime[claim_id]
    elif isinstance(regime, dict) and "regime_passed" not in regime:
        regime = None
    if regime is None:
        return {}
    if hasattr(regime, "as_evidence"):
        return dict(regime.as_evidence())
    return {"regime_passed": regime.get("regime_passed"), "regime": regime.get("regime")}


def _seed_cells(
    pairs: pd.DataFrame, keys: Sequence[str], *, sign: float = 1.0, value: str = "diff"
) -> list[dict[str, Any]]:
    """One cell per ``keys`` group of a seed-paired frame: ``sign · diff`` per seed (with the seeds, so the
    rule can average over cells within a seed)."""
    out = []
    if pairs is None or len(pairs) == 0:
        return out
    for key, g in pairs.groupby(list(keys), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        g = g[g[value].notna()]
        if len(g):
            cell = {
                "label": ", ".join("—" if pd.isna(k) else str(k) for k in key),
                "diffs": [sign * float(x) for x in g[value]],
            }
            if "seed" in g.columns and g["seed"].is_unique:
                cell["seeds"] = [_plain(x) for x in g["seed"]]
            out.append(cell)
    return out


def _best_gamma_cells(pairs: pd.DataFrame, keys: Sequence[str]) -> list[dict[str, Any]]:
    """One cell per ``keys`` at ζ-mixup's best γ (highest mean of ``diff``, higher is better), negated."""
    cells = []
    for key, g in pairs.groupby(list(keys), sort=False):
        best = g.groupby("gamma")["diff"].mean().idxmax()  # ζ-mixup's best γ, as the paper states its claim
        label = ", ".join(map(str, key if isinstance(key, tuple) else (key,))) + f" (γ = {best})"
        cells += _seed_cells(g[g["gamma"] == best].assign(label=label), ["label"], sign=-1.0)
    return cells


def _run_text(runs: pd.DataFrame, params: Any) -> str:
    if runs is None or len(runs) == 0:
        return "no run"
    seeds = runs["seed"].nunique() if "seed" in runs.columns else len(getattr(params, "seeds", []))
    device = getattr(params, "torch_device", "")
    return f"{', '.join(map(str, dict.fromkeys(runs['dataset'])))}; {', '.join(map(str, dict.fromkeys(runs['arch'])))}; {seeds} seeds, {device}"


def _mean_text(cells: list[dict[str, Any]], sign: float = 1.0) -> str:
    d = [sign * x for c in cells for x in c["diffs"]]
    return f"{np.mean(d):+.2f} over {len(d)} seed-paired differences in {len(cells)} cell(s)"


#: chapter -> the claims a chapter-wide regime check applies to (default: every claim of the chapter); chapter 10's
#: check is its leaderboard's ERM, which MultiMix's runs share — the UCI, Table 1 and Fig. 9 runs have their own
_REGIME_CLAIMS = {"10_peers": {"multimix"}}


def record_claims(chapter: str, *, params: Any, regime: Any = None, **frames: Any) -> list[str]:
    """Build and record every claim of ``chapter`` from its frames; returns the ids recorded.

    ``params`` is the notebook's ``P`` (profile, results_dir, seeds, torch_device); ``regime`` the chapter's
    ``RegimeCheck`` (``None``: no check, the evidence counts as testable; in chapter 10 it applies to MultiMix
    only, see ``_REGIME_CLAIMS``) or a dict of them per claim id.
    Frames per chapter — ``04_natural``: ``runs``, ``pairs`` (ζ-mixup − mixup), ``runs5``, ``pairs5``;
    ``05_skin``: ``runs``, ``pairs`` (:func:`zmixlib.chapters.skin.paired`), ``knn_pairs``, optional
    ``runs_f1`` (not used yet); ``06_medmnist``: ``choice``, ``diffs``; ``07_sensitivity``: ``curve``, ``mixup_runs``, ``search``;
    ``08_ablation``: ``runs``, ``pairs``; ``09_timing``: ``t9``, ``tr``; ``10_peers``: ``uci``, ``runs_1`` (or the older
    ``t1_diffs``),
    ``runs_mm``, ``runs_m9``, ``f9``.
    """
    from zmixlib import paper

    base = {"results_dir": getattr(params, "results_dir", None), "profile": params.profile}
    done: list[str] = []

    def put(claim_id: str, **kw: Any) -> None:
        applies = claim_id in _REGIME_CLAIMS.get(chapter, {claim_id}) or isinstance(regime, dict)
        ev = _regime_of(regime, claim_id) if applies else {}
        if record(claim_id, **base, **ev, **kw) is not None:
            done.append(claim_id)

    f = frames
    if chapter == "04_natural":
        runs, pairs = f.get("runs"), f.get("pairs")
        data = _run_text(runs, params)
        cells = _seed_cells(pairs, ["dataset", "arch", "gamma"])
        if cells:
            put("natural", data=data, ours=f"ζ-mixup − mixup ERR (points): {_mean_text(cells)}", cells=cells)
        erm = paper.paired(runs, metric="ERR_percent", baseline="erm") if runs is not None and len(runs) else None
        cells = _seed_cells(erm, ["dataset", "arch", "gamma"])
        if cells:
            put("natural_erm", data=data, ours=f"ζ-mixup − ERM ERR (points): {_mean_text(cells)}", cells=cells)
        p5 = f.get("pairs5")
        if p5 is not None and len(p5):
            cells = _seed_cells(p5[p5["method"] == "cutmix_zeta"], ["dataset", "arch"])
            if cells:
                put(
                    "cutmix_zeta",
                    data=_run_text(f.get("runs5"), params),
                    ours=f"CutMix + ζ-mixup (switch) − CutMix ERR (points): {_mean_text(cells)}",
                    cells=cells,
                )
    elif chapter == "05_skin":
        runs, pairs = f.get("runs"), f.get("pairs")
        f1 = []
        if runs is not None and len(runs):
            from zmixlib.chapters import skin

            for metric in ("F1_micro", "F1_macro"):
                if f"test_{paper.PAPER_METRICS[metric][0]}" in runs.columns:
                    p = skin.paired(runs, metric=metric)
                    f1.append(
                        p.assign(diff=100 * p["diff"].astype(float), metric=metric)
                    )  # points, as balanced accuracy
        f1 = pd.concat(f1, ignore_index=True) if f1 else None
        if f1 is not None and len(f1):
            cells = _best_gamma_cells(f1, ["dataset", "arch", "metric", "baseline"])
            put(
                "skin_f1",
                data=_run_text(runs, params),
                ours=f"ζ-mixup (best γ) − baseline F1-micro and F1-macro (points): {_mean_text(cells, -1.0)}",
                cells=cells,
            )
        if pairs is not None and len(pairs):
            cells = _best_gamma_cells(pairs, ["dataset", "arch", "baseline"])
            put(
                "skin",
                data=_run_text(runs, params),
                ours=f"ζ-mixup (best γ) − baseline balanced accuracy (points): {_mean_text(cells, -1.0)}",
                cells=cells,
            )
        knn = f.get("knn_pairs")
        cells = _seed_cells(knn, ["dataset", "arch", "gamma"], sign=-1.0)
        if cells:
            put(
                "knn_neighbourhoods",
                data=_run_text(knn, params),
                ours=f"ζ-mixup − mixup same-label neighbours per test image (all test images): {_mean_text(cells, -1.0)}",
                cells=cells,
            )
    elif chapter == "06_medmnist":
        choice, diffs = f.get("choice"), f.get("diffs")
        if diffs is not None and len(diffs):
            d = diffs[diffs["epoch"] == "best"].dropna(subset=["diff"])
            d = d.assign(diff=np.where(d["metric"] == "AUC", 100 * d["diff"].astype(float), d["diff"].astype(float)))
            cells = _seed_cells(d, ["dataset", "metric", "baseline"], sign=-1.0)
            if cells:
                put(
                    "medmnist",
                    data=_run_text(choice, params),
                    ours=f"ζ-mixup − baseline, AUC and ACC in points at the val-selected epoch: {_mean_text(cells, -1.0)}",
                    cells=cells,
                )
    elif chapter == "07_sensitivity":
        _sensitivity(put, f.get("curve"), f.get("mixup_runs"), f.get("search"), params)
    elif chapter == "08_ablation":
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
    elif chapter == "09_timing":
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
            data = (
                f"batch {t9.attrs.get('batch_shape')} {t9.attrs.get('dtype')}, {t9.attrs.get('device')} (measured here)"
            )
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
    elif chapter == "10_peers":
        uci = f.get("uci")
        if uci is not None and len(uci):
            cells, arr = _uci_cells(uci)
            kinds = {"data_kind": "paper"}
            if cells:
                left_out = "; ".join(UCI_EXCLUDED[d] for d in uci["dataset"].unique() if d in UCI_EXCLUDED)
                put(
                    "kmixup_uci",
                    data=f"UCI: {', '.join(c['label'].split(':')[0] for c in cells)}",
                    **kinds,
                    ours=f"best k > 1 − best k = 1 test error (points): {_mean_text(cells)}"
                    + (f" ({left_out})" if left_out else ""),
                    cells=cells,
                )
            if arr:
                put(
                    "kmixup_arrhythmia",
                    data="UCI Arrhythmia",
                    **kinds,
                    ours=f"ERM − best mixup test error (points): {_mean_text(arr)}",
                    cells=arr,
                )
            else:  # the data is absent: nothing can test the claim (not the same as a chapter that did not run)
                put(
                    "kmixup_arrhythmia",
                    data="UCI Arrhythmia: not among this build's UCI sets",
                    ours="—",
                    cells=[],
                    not_testable="UCI Arrhythmia is not among the sets this build trains (only Iris and Breast Cancer "
                    "ship with scikit-learn)",
                )
        runs_1 = f.get("runs_1")
        t1_cells = _table1_cells(runs_1) if runs_1 is not None and len(runs_1) else []
        t1 = _finite(f.get("t1_diffs"))
        if t1_cells:
            put(
                "kmixup_table1",
                data=_run_text(runs_1, params),
                ours=f"best k > 1 − best k = 1 (over ξ) ERR (points), seed-paired: {_mean_text(t1_cells)}",
                cells=t1_cells,
            )
        elif t1:
            put(
                "kmixup_table1",
                data="k-mixup Table 1 protocol",
                ours=f"k-mixup − 1-mixup ERR (points), per cell: {np.mean(t1):+.2f} over {len(t1)}",
                cells=[{"label": f"#{i + 1}", "diffs": [d]} for i, d in enumerate(t1)],
            )
        runs_mm = f.get("runs_mm")
        if runs_mm is not None and len(runs_mm):
            mm = paper.paired(runs_mm, metric="ERR_percent", method="multimix", baseline="zeta_mixup")
            cells = _seed_cells(mm, ["dataset", "arch"])
            if cells:
                put(
                    "multimix",
                    data=_run_text(runs_mm, params),
                    ours=f"MultiMix − ζ-mixup ERR (points): {_mean_text(cells)}",
                    cells=cells,
                )
        f9 = f.get("f9")
        if f9 is not None and len(f9):
            comps = [{"label": str(r["dataset"]), "diffs": _finite(r["diffs"])} for _, r in f9.iterrows()]
            comps = [c for c in comps if c["diffs"]]
            if comps:
                put(
                    "manifold_mixup",
                    data=_run_text(f.get("runs_m9"), params),
                    ours=f"ζ-mixup − manifold mixup (10× epochs) ERR (points): {_mean_text(comps)}",
                    comparisons=comps,
                )
    else:
        raise ValueError(
            f"chapter must be one of {sorted({c.chapter for c in CLAIMS if c.chapter >= '04'})}, got {chapter!r}"
        )
    return done


#: Fig. 10c, d's box of the best models: γ ∈ [γ_min, 4.0], weight decay ∈ [5e-4, 1e-3]
SEARCH_BOX = {"gamma": (1.72865, 4.0), "weight_decay": (5e-4, 1e-3)}


def _sensitivity(put: Callable[..., None], curve: Any, mixup_runs: Any, search: Any, params: Any) -> None:
    """Chapter 07: ζ-mixup (each γ ≥ γ_min of the curve) − mixup per seed, one cell per (dataset, arch, γ); and
    the search's models inside :data:`SEARCH_BOX` against those outside it (Welch: one model per draw)."""
    from zmixlib import paper

    if curve is not None and len(curve) and mixup_runs is not None and len(mixup_runs):
        both = pd.concat([curve, mixup_runs], ignore_index=True)
        pairs = paper.paired(both, metric="ERR_percent")
        pairs = pairs[pd.to_numeric(pairs["gamma"], errors="coerce") >= SEARCH_BOX["gamma"][0]]
        cells = _seed_cells(pairs, ["dataset", "arch", "gamma"])
        if cells:
            put(
                "sensitivity",
                data=_run_text(curve, params),
                ours=f"ζ-mixup (each γ) − mixup ERR (points): {_mean_text(cells)}",
                cells=cells,
            )
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


#: UCI blocks of the k-mixup paper's Table 4 left out of the verdict, and why (issue 18 item 6)
UCI_EXCLUDED = {
    "breast-cancer": "Breast Cancer left out: no feature scaling reproduces its ξ together with Iris's, and ξ does "
    "not depend on the split, batch or epoch — so no protocol reproduces its ERM error, ξ and the Iris block together "
    "(zmixlib.chapters.peers.uci_xi_by_scaling)",
}


def _table1_cells(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """The k-mixup paper's Table 1 claim on the Table 1 protocol's runs: per (dataset, arch), the best k-mixup
    setting with k > 1 (k, α) − the best 1-mixup setting (α), both by mean test error over seeds, per seed."""
    from zmixlib.chapters.peers import _k_of

    r = runs.assign(k=[_k_of(row) for _, row in runs.iterrows()], err=runs["test_err"].astype(float) * 100.0)
    r = r[r["k"].notna()]
    cells = []
    for (d, a), g in r.groupby(["dataset", "arch"], sort=False):
        means = g.groupby(["k", "alpha"])["err"].mean()
        ones, more = means[means.index.get_level_values("k") == 1], means[means.index.get_level_values("k") > 1]
        if ones.empty or more.empty:
            continue

        def by_seed(key, g=g):
            k, alpha = key
            return g[(g["k"] == k) & (g["alpha"] == alpha)].groupby("seed")["err"].mean()

        diff = (by_seed(more.idxmin()) - by_seed(ones.idxmin())).dropna()
        if len(diff):
            cells.append({"label": f"{d}, {a}", "diffs": list(diff), "seeds": [_plain(x) for x in diff.index]})
    return cells


def _uci_cells(uci: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per UCI dataset, trial-paired: best (α, k > 1) − best (α, k = 1) test error, as the k-mixup paper states
    its claim (best by mean over trials); and on Arrhythmia, ERM − the best mixup cell. Datasets of
    :data:`UCI_EXCLUDED` are left out."""
    cells, arr = [], []
    for d, g in uci.groupby("dataset", sort=False):
        if str(d) in UCI_EXCLUDED:
            continue
        mix = g[g["k"].notna()]
        means = mix.groupby(["alpha", "k"])["err"].mean()
        if means.empty:
            continue
        ones = means[means.index.get_level_values("k") == 1]
        more = means[means.index.get_level_values("k") > 1]

        def trials(a, k, g=g):
            return g[(g["alpha"] == a) & (g["k"] == k)].set_index("trial")["err"].astype(float)

        name = str(d)
        if len(ones) and len(more):
            diff = (trials(*more.idxmin()) - trials(*ones.idxmin())).dropna()
            cells.append({"label": f"{name}: best k > 1 − best k = 1", "diffs": list(diff), "seeds": list(diff.index)})
        erm = g[g["k"].isna()].set_index("trial")["err"].astype(float)
        if "arrhythmia" in name.lower() and len(erm):
            diff = (erm - trials(*means.idxmin())).dropna()
            arr.append({"label": f"{name}: ERM − best mixup", "diffs": list(diff), "seeds": list(diff.index)})
    return cells, arr
