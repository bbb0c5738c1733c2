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
  t-interval over the cell means (a paper's means alone) — see :func:`.rules._cells_stat`. **reproduced**: at least the
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

The package: :mod:`.claims` (the claims and the rules' words), :mod:`.rules` (the verdicts and their statistics),
:mod:`.store` (recording and reading evidence), :mod:`.chapters` and :mod:`.peers_evidence` (evidence built from
a chapter's frames), :mod:`.render` (the ledger table and its headline), :mod:`.paper_check` (the self-check).
"""

from .chapters import SEARCH_BOX, record_claims
from .claims import CLAIMS, DATA_KINDS, LEVEL, RETIRED, RULES, VERDICTS, Claim
from .paper_check import ABLATION_RUNS_ASSUMED, MULTIMIX_SD, paper_evidence, self_check
from .peers_evidence import UCI_EXCLUDED
from .render import glue_summary, headline, table
from .rules import _RULES as _RULES  # the rule per kind: the tests swap one in
from .rules import verdict
from .store import build_id, evidence, record

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
    "build_id",
    "paper_evidence",
    "self_check",
    "SEARCH_BOX",
    "UCI_EXCLUDED",
    "MULTIMIX_SD",
    "ABLATION_RUNS_ASSUMED",
]
