"""Chapter 11's ledger: every claim of the papers, the paper's statement beside this build's evidence, and a
verdict computed from a stated rule.

Chapters record their evidence while they run (:func:`record`): one JSON per chapter under
``<results_dir>/<profile>/ledger/<chapter>.json``, written atomically and stamped with the build it belongs
to (``ZMIX_BUILD_ID``, set by the book runner for every notebook of one build). The ledger page
(:func:`table`) reads them back; a claim whose chapter did not record evidence *in this build* reads
"not run", never a stale value. Nothing here is typed: the paper's side comes from :data:`CLAIMS` (the
papers' statements, with their table or figure), our side from the evidence.

Kinds of evidence and their verdict rules (:data:`RULES`):

* ``value`` — a number against the paper's number: *reproduced* when ``|ours − paper| <= tol``.
* ``lower`` — differences "method − baseline" where the paper claims the method is lower (for a metric
  where higher is better, the chapter records the negated difference): *reproduced* when every difference
  is < 0, *same direction* when their mean is < 0, *not reproduced* otherwise.
* ``holds`` — a list of booleans, one per sub-claim checked (cells of a table, γ values): *reproduced*
  when all hold, *same direction* when most do, *not reproduced* otherwise.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from zmixlib._checks import check_choice
from zmixlib._util import ROOT, atomic_write_text

__all__ = ["Claim", "CLAIMS", "RULES", "VERDICTS", "record", "evidence", "verdict", "table", "build_id"]

VERDICTS = ("reproduced", "same direction", "not reproduced", "not run")
RULES = {
    "value": "reproduced if |ours − paper| ≤ tolerance, else not reproduced",
    "lower": "reproduced if every difference is < 0; same direction if their mean is < 0; else not reproduced",
    "holds": "reproduced if every sub-claim holds; same direction if most do; else not reproduced",
}


@dataclass(frozen=True)
class Claim:
    """One claim of the papers: ``paper`` is its statement (with table/figure), ``chapter`` the notebook
    that records its evidence, ``kind`` one of :data:`RULES`."""

    id: str
    chapter: str
    paper: str
    kind: str


#: Every claim the ledger tracks, in the papers' order.
CLAIMS: tuple[Claim, ...] = (
    Claim("gamma_min", "00_theorems", "γ_min = 1.72865: the largest weight dominates for γ ≥ γ_min, any T (Theorem 1)", "value"),
    Claim("mixup_is_T2", "00_theorems", "mixup is ζ-mixup with T = 2 (Theorem 2): every λ has a γ", "value"),
    Claim("label_correctness_2d", "01_synthetic_manifolds", "ζ-mixup's samples carry fewer wrong labels than mixup's on crescents and spirals (Fig. 1)", "lower"),
    Claim("helix_hollow", "01_synthetic_manifolds", "mixup fills the helix's hollow; ζ-mixup stays near the manifold (Fig. 2)", "lower"),
    Claim("realism_mnist", "02_realism", "ζ-mixup's images are more realistic and better labelled than mixup's, by an MNIST oracle (Fig. 3f–g)", "holds"),
    Claim("local_id", "03_intrinsic_dimension", "ζ-mixup's output has a lower local intrinsic dimension than mixup's (Fig. 6; MIDL: 26.83 vs 35.43 on CIFAR-10)", "lower"),
    Claim("natural", "04_natural", "ζ-mixup is below mixup in 17 of 18 (dataset, γ) cells of Table 4", "lower"),
    Claim("cutmix_zeta", "04_natural", "CutMix + ζ-mixup is below CutMix (Table 5)", "lower"),
    Claim("skin", "05_skin", "ζ-mixup beats ERM and mixup on the skin lesion datasets (Table 6)", "lower"),
    Claim("knn_neighbourhoods", "05_skin", "ζ-mixup's features keep more same-label neighbours than mixup's (Fig. 8)", "lower"),
    Claim("medmnist", "06_medmnist", "ζ-mixup beats ERM and mixup on MedMNIST (Table 7)", "lower"),
    Claim("sensitivity", "07_sensitivity", "ERR is flat over γ ∈ [1.8, 5.0]; models with γ < γ_min are worse (Fig. 10)", "holds"),
    Claim("ablation", "08_ablation", "p-series weights over the whole batch beat T = 2 and Dirichlet weights (Table 8)", "lower"),
    Claim("speed", "09_timing", "ζ-mixup's cost is negligible: as fast as mixup, ≈110× faster than local synthetic instances (Table 9)", "holds"),
    Claim("kmixup", "10_peers", "k-mixup with k > 1 is below 1-mixup (k-mixup paper, Tables 1 and 4)", "lower"),
    Claim("multimix", "10_peers", "MultiMix is above ζ-mixup (MultiMix paper, Table 2: 81.82 vs 80.46 on CIFAR-100)", "lower"),
    Claim("manifold_mixup", "10_peers", "ζ-mixup matches manifold mixup trained 10× longer (Fig. 9)", "lower"),
)
_BY_ID = {c.id: c for c in CLAIMS}


def build_id() -> str | None:
    """The id of the book build this process belongs to (``ZMIX_BUILD_ID``; ``None`` outside a build)."""
    return os.environ.get("ZMIX_BUILD_ID") or None


def _path(results_dir: str | os.PathLike | None, profile: str, chapter: str) -> Path:
    return Path(ROOT / "results" if results_dir is None else results_dir) / profile / "ledger" / f"{chapter}.json"


def record(
    claim_id: str,
    *,
    results_dir: str | os.PathLike | None = None,
    profile: str,
    data: str,
    ours: str,
    **values: Any,
) -> dict[str, Any]:
    """Record this run's evidence for one claim (merged into its chapter's ledger file, atomically).

    Args:
        claim_id: a :data:`CLAIMS` id.
        results_dir: the results folder (``None``: the project's ``results/``).
        profile: the profile the evidence was measured under.
        data: what it ran on, e.g. ``"Fashion-MNIST (LeNet-5, 3 seeds, cpu)"``.
        ours: our side in words and numbers, as the ledger prints it.
        **values: the numbers the rule reads — ``value``: ``ours_value``, ``paper_value``, ``tol``;
            ``lower``: ``diffs``; ``holds``: ``checks`` (booleans).

    Returns:
        the stored entry.
    """
    check_choice("claim_id", claim_id, _BY_ID)
    claim = _BY_ID[claim_id]
    needed = {"value": ("ours_value", "paper_value", "tol"), "lower": ("diffs",), "holds": ("checks",)}[claim.kind]
    missing = [k for k in needed if k not in values]
    if missing:
        raise ValueError(f"claim {claim_id!r} ({claim.kind}) needs {list(needed)}; missing {missing}")
    entry = {
        "claim": claim_id,
        "profile": profile,
        "data": data,
        "ours": ours,
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
    if isinstance(v, (list, tuple)):
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


def verdict(claim: Claim, entry: dict[str, Any] | None) -> tuple[str, str]:
    """``(verdict, why)`` of ``claim`` from its evidence by the claim's rule (:data:`RULES`)."""
    if entry is None:
        return "not run", f"chapter {claim.chapter} recorded no evidence in this build"
    if claim.kind == "value":
        ours, paper, tol = float(entry["ours_value"]), float(entry["paper_value"]), float(entry["tol"])
        ok = math.isfinite(ours) and abs(ours - paper) <= tol
        return ("reproduced" if ok else "not reproduced"), f"|{ours:.10g} − {paper:.10g}| {'≤' if ok else '>'} {tol:g}"
    if claim.kind == "lower":
        diffs = [float(d) for d in entry["diffs"] if d is not None and math.isfinite(float(d))]
        if not diffs:
            return "not run", "no paired difference could be formed"
        mean, below = sum(diffs) / len(diffs), sum(d < 0 for d in diffs)
        why = f"{below} of {len(diffs)} differences < 0, mean {mean:+.3g}"
        if below == len(diffs):
            return "reproduced", why
        return ("same direction" if mean < 0 else "not reproduced"), why
    checks = [bool(c) for c in entry["checks"]]
    if not checks:
        return "not run", "no sub-claim could be checked"
    held = sum(checks)
    why = f"{held} of {len(checks)} sub-claims hold"
    if held == len(checks):
        return "reproduced", why
    return ("same direction" if held > len(checks) / 2 else "not reproduced"), why


def table(results_dir: str | os.PathLike | None, profile: str, *, build: str | None = None, links: bool = True) -> pd.DataFrame:
    """One row per claim of :data:`CLAIMS`: the paper's statement, ours, the profile and data, the verdict
    and why. With ``build`` (default: this process's :func:`build_id`), evidence of other builds counts as
    "not run"."""
    build = build_id() if build is None else build
    found = evidence(results_dir, profile)
    rows = []
    for claim in CLAIMS:
        entry = found.get(claim.id)
        if entry is not None and build is not None and entry.get("build") != build:
            entry = None
        v, why = verdict(claim, entry)
        chapter = f'<a href="{claim.chapter}.html">{claim.chapter[:2]}</a>' if links else claim.chapter
        rows.append(
            {
                "claim (paper)": claim.paper,
                "ours": entry["ours"] if entry else "—",
                "profile, data": f"{entry['profile']}: {entry['data']}" if entry else "—",
                "verdict": v,
                "rule applied": why,
                "chapter": chapter,
            }
        )
    return pd.DataFrame(rows)
