"""The ledger page: one row per claim with its verdict (:func:`table`), the counts in one line
(:func:`headline`), and the page's glued summary with the self-check (:func:`glue_summary`)."""

from __future__ import annotations

import os

import pandas as pd

from .claims import CLAIMS, RULES, VERDICTS, Claim
from .paper_check import self_check
from .rules import verdict
from .store import build_id, evidence


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


def glue_summary(results_dir: str | os.PathLike | None, profile: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Glues the page's numbers into its text (``headline``, ``build``, ``self_check``, ``self_check_counts``) and
    returns ``(claims, checked)``: :func:`table` of ``profile``'s evidence and :func:`~.paper_check.self_check`'s
    frame."""
    from myst_nb import glue  # only where a notebook shows the result

    claims = table(results_dir, profile)
    glue("headline", headline(claims), display=False)
    glue("build", build_id() or "outside a book build: the latest evidence of each chapter", display=False)
    checked, checked_ok = self_check()
    on_paper = checked["paper's numbers"]
    glue("self_check", "passes" if checked_ok else "FAILS", display=False)
    glue(
        "self_check_counts",
        f"{int((on_paper == 'reproduced').sum())} of {len(checked)} claims reproduced on the papers' own numbers, "
        f"{int((checked['expected'] == 'no numbers').sum())} without numbers in the papers (figures)",
        display=False,
    )
    return claims, checked
