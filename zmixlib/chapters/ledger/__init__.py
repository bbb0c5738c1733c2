"""Chapter 12's ledger: every claim of the papers as the papers state it, this build's evidence, and a verdict
computed by a stated rule with its statistic — a rule first proven on the papers' own numbers.

Chapters record their evidence while they run (:func:`record`, or :func:`record_claims` which builds it from a
chapter's frames): one JSON per chapter under ``<results_dir>/<profile>/ledger/<chapter>.json``, written atomically
and stamped with the build (``ZMIX_BUILD_ID``). The ledger page (:func:`table`) reads them back; a claim whose
chapter did not record evidence *in this build* reads **not run**, never a stale value.

Every difference is *oriented*: negative means "in the paper's direction" (ERR lower; an accuracy, AUC or F1
difference is negated). The rules and the evidence formats they read are :mod:`.rules`' (their words:
:data:`RULES`, each at :data:`LEVEL`): a count claim gets an interval per cell (paired t over the cell's own
seeds, Welch's from a paper's mean ± sd, a bootstrap over points) and the count of cells on the paper's side.
Evidence says how a tuned setting was chosen (``selection``: a validation split or the paper's fixed value, never
the test split) and on which population it is (``population``; another than the paper's is shown, not counted).
Every row with our seeds carries its power (:func:`power`): the measured sd, the smallest effect its seeds detect,
the seeds the paper's effect needs and their cost here and on the paper profile.

Evidence whose regime check failed (``regime_passed=False``: ERM did not fit its training set) is **not
testable**, with the regime's text as the reason. Every entry says whether it rests on the paper's data or a
stand-in (``data_kind``); the page counts them apart. :func:`self_check` feeds every rule the papers' numbers
(``paper_results.csv``) and the same numbers with the compared methods swapped
(``python -m zmixlib ledger --self-check``).

The package: :mod:`.claims` (the claims and the rules' words), :mod:`.rules` (the verdicts and their statistics),
:mod:`.store` (recording and reading evidence), :mod:`.chapters` and :mod:`.peers_evidence` (evidence built from
a chapter's frames), :mod:`.render` (the ledger table, its power columns, its compact and folded views, its headline),
:mod:`.paper_check` (the self-check).
"""

from .by_chapter import SEARCH_BOX, record_claims
from .claims import CLAIMS, DATA_KINDS, LEVEL, RETIRED, RULES, VERDICTS, Claim
from .evidence_files import build_id, evidence, paper_costs, record, record_paper_costs
from .paper_check import ABLATION_RUNS_ASSUMED, MULTIMIX_SD, paper_evidence, self_check
from .peers_evidence import UCI_EXCLUDED
from .render import (
    COMPACT_COLUMNS,
    POWER_COLUMNS,
    compact_html,
    details_html,
    glue_summary,
    headline,
    paper_effect,
    power,
    table,
)
from .rules import _RULES as _RULES  # the rule per kind: the tests swap one in
from .rules import verdict

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
    "glue_summary",
    "compact_html",
    "details_html",
    "power",
    "paper_effect",
    "POWER_COLUMNS",
    "COMPACT_COLUMNS",
    "paper_costs",
    "record_paper_costs",
    "build_id",
    "paper_evidence",
    "self_check",
    "SEARCH_BOX",
    "UCI_EXCLUDED",
    "MULTIMIX_SD",
    "ABLATION_RUNS_ASSUMED",
]
