"""The ledger page: one row per claim with its verdict, effect and power (:func:`table`), the counts in one line
(:func:`headline`), the page's glued summary with the self-check (:func:`glue_summary`), and the page's two views
of the table — the compact one that opens it (:func:`compact_html`) and the full row per claim folded below it
(:func:`details_html`).

**Power** (:func:`power`): for a row with our seeds, the sd of the seed-paired differences (pooled over the
cells: the root of the mean within-cell variance), the seeds per cell ``n``, the smallest mean difference a cell
of ``n`` seeds detects at 80 % power with the two-sided 5 % paired t-test (:func:`zmixlib.analysis.stats.detectable_effect`),
and the seeds the *paper's* effect would need at that sd (:func:`zmixlib.analysis.stats.seeds_needed`) — the paper's effect
being the mean over the cells of :func:`~.paper_check.paper_evidence`'s own numbers, in the same units and
orientation as ours. Their cost: the seeds × the runs a seed takes × the median wall time of a run of this build
(the run records' ``wall_time_s``), and on the paper profile, chapter 09's projection of the paper matrix's runs on
the measured device (:func:`~.store.paper_costs`)."""

from __future__ import annotations

import html
import math
import os
from typing import Any

import numpy as np
import pandas as pd

from zmixlib.analysis.stats import POWER, detectable_effect, interval_se, normal_power, seeds_needed

from .claims import _BY_ID, CLAIMS, LEVEL, RULES, VERDICTS, Claim
from .evidence_files import build_id, evidence, paper_costs
from .paper_check import paper_evidence, self_check
from .rules import cell_stat, counted, verdict

#: claim -> the recipe section (:data:`zmixlib.protocol.recipes.SECTIONS`) whose runs its evidence comes from: where chapter
#: 09's projection gives the cost of a seed on the paper profile
SECTION_OF_CLAIM = {
    "natural": "natural",
    "natural_erm": "natural",
    "cutmix_zeta": "cutmix",
    "skin": "skin",
    "skin_f1": "skin",
    "knn_neighbourhoods": "skin",
    "medmnist": "medmnist",
    "sensitivity": "sensitivity",
    "sensitivity_search": "search",
    "ablation": "ablation",
    "ablation_t2": "ablation",
    "kmixup_table1": "peers",
    "multimix": "peers",
    "manifold_mixup": "manifold",
}
#: "seeds needed" where the paper states no effect size (a figure): the detectable effect is the row's answer
NO_PAPER_EFFECT = "n/a: the paper gives no effect size (see detectable)"
#: the power columns of :func:`table`, in order
POWER_COLUMNS = ("sd (paired)", "n", "detectable (80 %)", "paper's effect", "seeds needed", "cost here", "cost (paper)")


def table(
    results_dir: str | os.PathLike | None, profile: str, *, build: str | None = None, links: bool = True
) -> pd.DataFrame:
    """One row per claim of :data:`CLAIMS`: the paper's statement, the data kind (paper / stand-in), ours, the
    profile and data, the verdict, the statistic behind it and the rule. With ``build`` (default: this
    process's :func:`build_id`), evidence of other builds counts as "not run"; ``build=""`` (or no build id)
    reads the latest evidence of every chapter."""
    build = build_id() if build is None else build
    found = evidence(results_dir, profile)
    costs = paper_costs(results_dir, profile)
    rows = []
    for claim in CLAIMS:
        entry = found.get(claim.id)
        if entry is not None and build and entry.get("build") != build:
            entry = None
        v, stat = verdict(claim, entry)
        chapter = f'<a href="{claim.chapter}.html">{claim.chapter[:2]}</a>' if links else claim.chapter
        rows.append(
            {
                "claim": claim.id,
                "claim (paper)": claim.paper,
                "data": entry.get("data_kind", "stand-in") if entry else "—",
                "counted": counted(entry),  # False: evidence on another population (shown, not counted)
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
                "effect": effect_text(entry) if entry and v not in ("not testable", "not run") else "—",
                **power(claim, entry, costs),
            }
        )
    return pd.DataFrame(rows)


def _seed_groups(entry: dict[str, Any]) -> list[list[float]]:
    """Our seed-paired differences per cell (or per comparison): the cells that carry their seeds, and the
    comparisons of per-seed differences; not a paper's numbers (``welch``, one value), nor bootstrap replicates."""
    out = []
    for c in [*(entry.get("cells") or []), *(entry.get("comparisons") or [])]:
        if "welch" in c or c.get("boot"):
            continue
        d = [float(x) for x in c.get("diffs") or [] if x is not None and math.isfinite(float(x))]
        if len(d) >= 2 and ("seeds" in c or "comparisons" in entry):
            out.append(d)
    return out


def paper_effect(claim_id: str) -> float | None:
    """The paper's own effect for ``claim_id``: the mean over the cells (or comparisons) of
    :func:`~.paper_check.paper_evidence`'s evidence, oriented as ours; ``None`` where the paper gives no numbers."""
    got = paper_evidence(claim_id)
    if got is None:
        return None
    entry = got[0]
    cells = [c for c in [*(entry.get("cells") or []), *(entry.get("comparisons") or [])] if _has_numbers(c)]
    means = [m for m in (cell_stat(c).mean for c in cells) if math.isfinite(m)]
    return float(np.mean(means)) if means else None


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 48 * 3600 else f"{seconds / 86400:.1f} days"


def power(claim: Claim, entry: dict[str, Any] | None, costs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The power columns (:data:`POWER_COLUMNS`) of one row: measured sd, n, the detectable effect, the paper's
    effect, the seeds it needs and their cost; ``"—"`` where the row has no seed-paired evidence of ours, and the
    paper's effect ``"no numbers"`` where the paper gives none (a figure)."""
    out: dict[str, Any] = dict.fromkeys(POWER_COLUMNS, "—")
    groups = _seed_groups(entry) if entry else []
    if not groups:
        return _power_without_seeds(claim, entry, out)
    sd = math.sqrt(float(np.mean([np.var(d, ddof=1) for d in groups])))
    n = min(len(d) for d in groups)
    out["n"] = str(n) if n == max(len(d) for d in groups) else f"{n}–{max(len(d) for d in groups)}"
    out["sd (paired)"] = f"{sd:.3g}"
    if sd == 0:
        return out
    out["detectable (80 %)"] = f"±{detectable_effect(sd, n, alpha=1 - LEVEL, power=POWER):.3g}"
    effect = paper_effect(claim.id)
    if effect is None:
        out["paper's effect"] = "no numbers"
        out["seeds needed"] = NO_PAPER_EFFECT
        return out
    out["paper's effect"] = f"{effect:+.3g}"
    if effect == 0:
        return out
    try:
        need = seeds_needed(effect, sd, alpha=1 - LEVEL, power=POWER)
    except ValueError:
        out["seeds needed"] = "> 10000"
        return out
    out["seeds needed"] = need
    if entry.get("run_seconds") and entry.get("runs_per_seed"):
        runs = need * float(entry["runs_per_seed"])
        out["cost here"] = f"{_duration(runs * float(entry['run_seconds']))} ({runs:.0f} runs, this build)"
    section = (costs or {}).get("sections", {}).get(SECTION_OF_CLAIM.get(claim.id, ""))
    if section:
        runs = need * float(section["runs_per_seed"])
        out["cost (paper)"] = f"{_duration(runs * 3600 * float(section['h_per_run']))} ({runs:.0f} paper-profile runs)"
    return out


def _power_without_seeds(claim: Claim, entry: dict[str, Any] | None, out: dict[str, Any]) -> dict[str, Any]:
    """The power columns of a row without seed-paired evidence: for cells with a given interval over ``n`` units
    (points, a bootstrap or a normal interval: the local-ID rows) the same columns in those units — the interval's
    standard error ``se = (hi − lo) / (2 z)``, the smallest difference it detects at 80 % (``(z + z_power) · se``,
    the normal approximation) and the units the paper's effect would need, ``n · ((z + z_power) · se / effect)²``
    (``se`` falling as ``1/√n``); for any other row, why no seeds can change it (``"seeds needed"``)."""
    if not entry:
        return out
    items = [*(entry.get("cells") or []), *(entry.get("comparisons") or [])]
    given = [c for c in items if "interval" in c and int(c.get("n") or 0) > 0]
    if given:
        # the cells' standard errors pooled as the seed rows pool their variances (root of the mean square)
        se = math.sqrt(float(np.mean([interval_se(*c["interval"], level=LEVEL) ** 2 for c in given])))
        n = min(int(c["n"]) for c in given)
        unit = "points" if any("point" in str(c.get("how", "")) for c in given) else "units"
        out["sd (paired)"] = f"se {se:.3g} (interval)"
        out["n"] = f"{n} {unit}"
        if se == 0:
            return out
        effect = paper_effect(claim.id)
        detectable, need = normal_power(se, n, effect or None, level=LEVEL, power=POWER)
        out["detectable (80 %)"] = f"±{detectable:.3g}"
        if effect is None or effect == 0:
            out["paper's effect"] = "no numbers" if effect is None else "0"
            out["seeds needed"] = NO_PAPER_EFFECT if effect is None else "—"
            return out
        out["paper's effect"] = f"{effect:+.3g}"
        out["seeds needed"] = f"{need} {unit} (not seeds)"
        return out
    if "checks" in entry:
        out["seeds needed"] = "n/a: a count of checks"
    elif "ours_value" in entry:
        out["seeds needed"] = "n/a: one computed value"
    elif "ratios" in entry:
        out["seeds needed"] = "n/a: a measured ratio"
    elif any("welch" in c for c in items):
        out["seeds needed"] = "n/a: the paper's own trials"
    elif not items and len(entry.get("diffs") or []) >= 2:
        out["seeds needed"] = "n/a: a spread over settings, not seeds"
    elif items or entry.get("diffs"):
        out["seeds needed"] = "n/a: one value per cell"
    return out


def effect_text(entry: dict[str, Any]) -> str:
    """The row's effect at a glance, oriented (negative = the paper's direction): one cell or comparison —
    its mean and 95 % interval (:func:`~.rules.cell_stat`, the rules' own); several cells — the mean over cells and
    how many cells' intervals lie below 0; a ratio — its value and spread; a value — ours; checks — how many hold."""
    if "ours_value" in entry:
        return f"{float(entry['ours_value']):.8g}"
    if "ratios" in entry:
        return "; ".join(
            f"{r['value']:.3g}" + (f" [{r['lo']:.3g}, {r['hi']:.3g}]" if "lo" in r else "") for r in entry["ratios"]
        )
    if "checks" in entry:
        return f"{sum(map(bool, entry['checks']))} of {len(entry['checks'])} hold"
    items = [c for c in (entry.get("cells") or entry.get("comparisons") or []) if _has_numbers(c)]
    if not items and entry.get("diffs"):
        items = [{"diffs": entry["diffs"]}]
    if not items:
        return "—"
    stats = [cell_stat(c) for c in items]
    if len(stats) == 1 or "comparisons" in entry:
        return "; ".join(f"{s.mean:+.2f}" + ("" if math.isnan(s.lo) else f" [{s.lo:+.2f}, {s.hi:+.2f}]") for s in stats)
    below = sum(s.side() < 0 for s in stats)
    mean = float(np.mean([s.mean for s in stats]))
    return f"{mean:+.2f} (mean of {len(stats)} cells; {below} of {len(stats)} intervals < 0)"


def _has_numbers(c: dict[str, Any]) -> bool:
    return "welch" in c or "interval" in c or bool(c.get("diffs"))


def _rule_text(claim: Claim) -> str:
    text = RULES[claim.kind]
    if claim.need_text:
        text = f"{claim.need_text}: {text}"
    return text


def headline(claims: pd.DataFrame) -> str:
    """``"on paper data: 3 reproduced, 1 inconclusive; on stand-ins: …; on another population (not counted): …;
    not run: 4"`` from :func:`table` (a row whose evidence is on another population than the paper's counts apart)."""
    parts = []
    apart = ~claims["counted"].astype(bool) if "counted" in claims.columns else pd.Series(False, claims.index)
    for kind, name in (("paper", "on paper data"), ("stand-in", "on stand-ins")):
        v = claims.loc[(claims["data"] == kind) & ~apart, "verdict"].value_counts()
        words = ", ".join(f"{int(v[w])} {w}" for w in VERDICTS if w in v.index)
        parts.append(f"{name}: {words or 'none'}")
    if apart.any():
        v = claims.loc[apart, "verdict"].value_counts()
        parts.append("on another population (not counted): " + ", ".join(f"{int(v[w])} {w}" for w in v.index))
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


#: the columns of the compact table that opens the page (:func:`compact_html`)
COMPACT_COLUMNS = ("claim", "data", "verdict", "effect", "seeds needed")


def compact_html(claims: pd.DataFrame) -> str:
    """The page's first table: one row per claim — its id (linked to its chapter), the data kind (paper /
    stand-in), the verdict, the effect with its interval (:func:`effect_text`) and the seeds the paper's effect
    would need. Narrow by construction (``class="ledger-compact"``, no column of long text), so the verdict is
    visible in the text column of a 1300 px window."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COMPACT_COLUMNS)
    body = []
    for _, r in claims.iterrows():
        name = html.escape(str(r["claim"]))
        linked = str(r["chapter"]).startswith("<a ")  # table(..., links=True): the chapter's page
        claim = f'<a href="{_BY_ID[r["claim"]].chapter}.html">{name}</a>' if linked else name
        cells = [
            f'<td title="{html.escape(str(r["claim (paper)"]))}">{claim}</td>',
            f"<td>{html.escape(str(r['data']))}</td>",
            f'<td class="verdict verdict-{str(r["verdict"]).replace(" ", "-")}"><b>{html.escape(str(r["verdict"]))}</b></td>',
            f"<td>{html.escape(str(r['effect']))}</td>",
            f"<td>{html.escape(str(r['seeds needed']))}</td>",
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<table class="ledger-compact" style="width:100%;table-layout:auto;font-size:0.85em">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


#: the fields of each claim's folded row (:func:`details_html`), after the paper's statement
DETAIL_FIELDS = ("ours", "profile, data", "statistic", "rule", *POWER_COLUMNS)


def details_html(claims: pd.DataFrame) -> str:
    """Every claim's full row, folded: a ``<details>`` per claim (its id and verdict as the summary), holding
    the paper's statement, ours, the profile and data, the verdict's statistic, the rule and the power columns."""
    out = []
    for _, r in claims.iterrows():
        fields = "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(r[k]))}</dd>" for k in DETAIL_FIELDS if k in r.index
        )
        out.append(
            f'<details class="ledger-row"><summary><code>{html.escape(str(r["claim"]))}</code> — '
            f"{html.escape(str(r['verdict']))}</summary><p>{html.escape(str(r['claim (paper)']))}</p>"
            f"<dl>{fields}</dl></details>"
        )
    return "".join(out)
