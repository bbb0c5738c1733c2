"""The claims the ledger tracks, as the papers state them, and the words of the rules that judge them."""

from __future__ import annotations

from dataclasses import dataclass, field

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
