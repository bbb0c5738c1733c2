"""The claims the ledger tracks, as the papers state them, and the words of the rules that judge them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LEVEL = 0.95
VERDICTS = ("reproduced", "contradicted", "inconclusive", "not reproduced", "not testable", "not run")
DATA_KINDS = ("paper", "stand-in")
RULES = {
    "cells": "a count (“in 17 of the 18 cells”, “in every setting”): each cell gets its own 95 % interval — paired t "
    "over our seeds, Welch's from a paper's mean ± sd, or the evidence's own (a bootstrap over points); a paper's "
    "means without spread get none. Reproduced if at least the paper's count of units (cells, or cells joined "
    "where the claim is joint) lies below 0 by its means AND that many by their intervals or by an exact one-sided "
    "sign test over independent groups (p < 0.05); contradicted if more units lie wholly above 0 than the count "
    "allows, or the count fails and the sign test points the other way; else inconclusive",
    "compare": "each comparison: reproduced if its 95 % interval (paired t, or Welch from a paper's mean ± sd) is "
    "below 0, contradicted if above; the claim is reproduced if every comparison is, contradicted if one is, else "
    "inconclusive; a paper's runs per mean it does not state: judged at each plausible n, the verdict the one they "
    "share",
    "noninferior": "“no clear gain”: the baseline's gain over ours (the difference) has its 95 % upper bound below "
    "the stated margin in every cell → reproduced; its lower bound above the margin in most cells → contradicted; "
    "else inconclusive (ours far better is reproduced)",
    "ratio": "reproduced if every ratio meets the paper's bound (its spread over the interleaved rounds, where "
    "measured, wholly on the paper's side; “over” is strict, “as fast as” closed); contradicted if one misses it "
    "wholly; else inconclusive",
    "value": "reproduced if |ours − paper| ≤ tolerance, else not reproduced",
    "holds": "reproduced if every check holds; contradicted if most fail; else inconclusive",
}


@dataclass(frozen=True)
class Claim:
    """One claim of the papers.

    ``paper`` is the statement with its table or figure; ``chapter`` the notebook that records its evidence;
    ``kind`` one of :data:`RULES`. ``need`` is the share of units the paper states (``cells``), the margin
    (``noninferior``) or the tolerance (``value``); ``bounds`` maps a ratio's key to ``(op, bound)`` with op one
    of ``">"``, ``">="``, ``"<"``, ``"<="`` or ``"in"`` (bound ``(lo, hi)``). ``joint`` names the baselines a
    unit must beat together (evidence cells carry ``"vs"`` and ``"unit"``, see :mod:`.rules`); ``selects`` names
    the setting the claim picks (“its best γ”): its evidence must say how it was chosen (``selection``).
    ``evidence`` says what the claim's evidence must hold, where more than its kind's format (:mod:`.rules`).
    ``data_kind`` fixes the kind of data where it does not depend on the profile (a theorem, the papers'
    synthetic sets, the UCI tables). ``paper_supports``: ``True`` — the self-check proves the rule on the
    papers' numbers (reproduced on them, contradicted or not reproduced swapped); ``False`` — the papers'
    numbers exist but do not decide the claim under its rule (``why_not`` says why; the row is *not checkable*
    and fails if it comes out reproduced); ``None`` — the paper gives no numbers (a picture; not checkable).
    """

    id: str
    chapter: str
    paper: str
    kind: str
    need: float = 1.0
    need_text: str = ""
    bounds: dict[str, tuple[str, Any]] = field(default_factory=dict)
    data_kind: str | None = None
    ties: bool = False  # cells: a tie counts as the paper's direction ("lower or equal")
    joint: tuple[str, ...] = ()
    selects: str = ""
    evidence: str = ""
    paper_supports: bool | None = True
    why_not: str = ""


def _c(id, chapter, paper, kind, **kw) -> Claim:
    return Claim(id, chapter, paper, kind, **kw)


_PICTURE = "is a picture: no numbers"
#: the comparisons of MultiMix Table 4's claims: each setting's unit holds all six
MULTIMIX_ROBUST_VS = tuple(
    f"{a} − {b}" for a in ("MultiMix", "Dense MultiMix") for b in ("ζ-mixup", "manifold mixup", "baseline")
)
#: the comparisons of MultiMix Table 2's claim: each setting's unit holds all three
MULTIMIX_TABLE2_VS = ("MultiMix − best baseline", "Dense MultiMix − best baseline", "Dense MultiMix − MultiMix")
_KMIXUP_SEL = "k and ξ (best of the paper's grid)"

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
        why_not=f"Fig. 1 {_PICTURE}",
    ),
    _c(
        "helix_hollow",
        "01_synthetic_manifolds",
        "mixup fills the helix's hollow; ζ-mixup stays near the manifold (Fig. 2)",
        "compare",
        data_kind="paper",
        paper_supports=None,
        why_not=f"Fig. 2 {_PICTURE}",
    ),
    _c(
        "realism_mnist",
        "02_realism",
        "ζ-mixup's images are more realistic and better labelled than mixup's, by an MNIST oracle (Fig. 3f–g)",
        "holds",
        paper_supports=None,
        why_not=f"Fig. 3 {_PICTURE}",
    ),
    _c(
        "local_id",
        "03_intrinsic_dimension",
        "ζ-mixup's output has a lower local intrinsic dimension than mixup's, on every dataset (MIDL: 26.83 ± 6.53 vs "
        "35.43 ± 9.47 on CIFAR-10, 24.76 ± 6.22 vs 32.41 ± 8.65 on CIFAR-100; per-dataset intervals over points)",
        "cells",
        need_text="every dataset, each by its own interval",
        evidence="one cell per dataset: {label, interval: [lo, hi], mean, n, how: 'bootstrap over points'} — "
        "ζ-mixup's mean local ID − mixup's, the 95 % percentile bootstrap interval over points (or seed cells "
        "{label, diffs, seeds})",
    ),
    _c(
        "local_id_gamma",
        "03_intrinsic_dimension",
        "as γ grows, the local ID of ζ-mixup's output falls, and at large γ it can drop below the original data's "
        "(Fig. 6 and its text)",
        "holds",
        evidence="checks (+ check_names): per dataset, ζ-mixup's local ID at the largest γ below that at γ_min "
        "(bootstrap intervals apart); at the largest γ, below the original data's for at least one dataset",
    ),
    _c(
        "natural",
        "04_natural",
        "17 of the 18 ζ-mixup models of Table 4 outperform their ERM and mixup counterparts (the exception ties "
        "mixup): a (dataset, γ) cell counts only if ζ-mixup beats both",
        "cells",
        need=17 / 18,
        need_text="≥ 17 of 18 (dataset, γ) units, each below ERM and mixup",
        joint=("ERM", "mixup"),
        evidence="per (dataset, arch, γ) unit two seed cells, vs 'ERM' and vs 'mixup' (keys vs, unit), group = "
        "(dataset, arch): the units share the baselines' runs",
    ),
    _c(
        "midl_table1",
        "04_natural",
        "ζ-mixup (γ ~ U[γ_min, 4]) has a lower error than ERM and mixup on CIFAR-10 and CIFAR-100 (MIDL Table 1, "
        "left; means of 3 runs)",
        "cells",
        need_text="both datasets, each below ERM and mixup",
        joint=("ERM", "mixup"),
        paper_supports=False,
        why_not="two datasets, means without spread: no interval, and an exact sign test over 2 cannot go below "
        "p = 0.25",
        evidence="per dataset a unit of two seed cells vs 'ERM' and vs 'mixup' (γ ~ U[γ_min, 4])",
    ),
    _c(
        "cutmix_zeta",
        "04_natural",
        "CutMix + ζ-mixup is below CutMix in every (dataset, architecture) of Table 5",
        "cells",
        need_text="every cell",
        paper_supports=False,
        why_not="four cells, means without spread: an exact sign test over 4 cannot go below p = 0.0625",
    ),
    _c(
        "skin",
        "05_skin",
        "ζ-mixup (its best γ) beats both ERM and mixup in balanced accuracy on every SKIN dataset, both architectures "
        "(Table 6 / A3)",
        "cells",
        need_text="every (dataset, arch), each above ERM and mixup",
        joint=("ERM", "mixup"),
        selects="γ",
        paper_supports=False,
        why_not="the paper's own cells: MED-NODE ResNet-50, ζ-mixup's best γ ties mixup",
        evidence="per (dataset, arch) a unit of two cells vs 'ERM' and vs 'mixup' (balanced accuracy, negated); "
        "selection: how γ was chosen (validation split, or the paper's fixed γ)",
    ),
    _c(
        "skin_f1",
        "05_skin",
        "ζ-mixup (its best γ) beats ERM and mixup in F1-micro and F1-macro on the SKIN datasets (Table A3)",
        "cells",
        need_text="every (dataset, arch, metric), each above ERM and mixup",
        joint=("ERM", "mixup"),
        selects="γ",
        paper_supports=False,
        why_not="the paper's own cells: derm7point-D ResNet-50, ζ-mixup's best F1-micro ties mixup's",
        evidence="per (dataset, arch, metric) a unit of two cells vs 'ERM' and vs 'mixup' (F1, negated, points); "
        "selection as for skin",
    ),
    _c(
        "midl_table2",
        "05_skin",
        "ζ-mixup (γ = 2.8) has an F1-micro at least ERM's and mixup's in every (dataset, architecture) of MIDL "
        "Table 2 (“improves performance across the board”; ISIC 2018 ResNet-18 ties ERM)",
        "cells",
        need_text="every (dataset, arch), each ≥ ERM and mixup",
        joint=("ERM", "mixup"),
        ties=True,
        evidence="per (dataset, arch) a unit of two cells vs 'ERM' and vs 'mixup' (F1-micro at γ = 2.8, negated, "
        "points)",
    ),
    _c(
        "knn_neighbourhoods",
        "05_skin",
        "ζ-mixup's features keep more correctly labelled neighbours than mixup's around the selected test images "
        "(Fig. 8: 12 of 14 on derm7point, 14 of 14 on ISIC 2017)",
        "cells",
        need=26 / 28,
        need_text="≥ 26 of 28 images (signs only in the paper)",
        evidence="one cell per test image (correct neighbours, mixup − ζ-mixup); population: 'paper' only for the "
        "paper's selection (images misclassified by ERM and mixup, correct with ζ-mixup at every γ), else which "
        "images",
    ),
    _c(
        "knn_gain",
        "05_skin",
        "ζ-mixup's features have more correctly labelled nearest training neighbours than mixup's around the "
        "selected test images: 208.2 % more on derm7point, 1908.8 % more on ISIC 2017 (Fig. 8's text)",
        "ratio",
        bounds={"zeta/mixup correct neighbours": (">", 1.0)},
        evidence="ratios [{key: 'zeta/mixup correct neighbours', label: dataset, value, lo?, hi?}] (bootstrap over "
        "images for lo/hi); population as for knn_neighbourhoods",
    ),
    _c(
        "medmnist",
        "06_medmnist",
        "ζ-mixup beats ERM and mixup on both AUC and ACC in 8 of 10 MedMNIST datasets, on one metric in the other 2 "
        "(Table 7)",
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
        why_not=f"Fig. 10a, b {_PICTURE}",
    ),
    _c(
        "sensitivity_search",
        "07_sensitivity",
        "the best models of the (γ, weight decay) search come from γ ≈ [γ_min, 4] and weight decay ≈ [5e-4, 1e-3] "
        "(Fig. 10c, d; ours: the ERR of the models inside that box − outside it)",
        "compare",
        paper_supports=None,
        why_not=f"Fig. 10c, d {_PICTURE}",
    ),
    _c(
        "ablation",
        "08_ablation",
        "ζ-mixup beats each ablated variant: mixup, p-series weights with T = 2 and Dirichlet weights with T = m "
        "(Table 8)",
        "compare",
        paper_supports=False,
        why_not="the paper does not state the runs per mean: at n = 2 the ζ-mixup − T = 2 interval holds 0, at 3 "
        "and 5 it does not — the verdict depends on the unstated n",
    ),
    _c(
        "ablation_t2",
        "08_ablation",
        "p-series weights with T = 2 (mixup with ζ-mixup's weights) beat mixup (Table 8)",
        "compare",
        paper_supports=False,
        why_not="the paper's own mean ± sd give an interval that holds 0 at every plausible n of runs (2, 3, 5)",
    ),
    _c(
        "speed",
        "09_timing",
        "ζ-mixup is over twice as fast as mixup and over 110 times faster than local synthetic instances on a "
        "[32, 3, 224, 224] batch (Table 9)",
        "ratio",
        bounds={"mixup/zeta": (">", 2.0), "lsi/zeta": (">", 110.0)},
    ),
    _c(
        "midl_speed",
        "09_timing",
        "the optimized ζ-mixup implementation is 2.1× faster than the original mixup implementation (MIDL text; "
        "the times: Table A1, [32, 3, 224, 224] batch)",
        "ratio",
        bounds={"mixup/zeta": (">=", 2.1)},
        evidence="ratios [{key: 'mixup/zeta', value, lo?, hi?}] on the [32, 3, 224, 224] batch (the same as speed's)",
    ),
    _c(
        "train_time",
        "09_timing",
        "training with ζ-mixup is as fast as, if not faster than, with mixup (Table 9 / A1; ζ-mixup / mixup "
        "training time ≤ 1, no margin)",
        "ratio",
        bounds={"zeta/mixup": ("<=", 1.0)},
        paper_supports=False,
        why_not="the paper's own Table 9 / A1: on CIFAR-10 ζ-mixup took 1h21m ± 23s and mixup 1h19m ± 30s "
        "(ratio 1.025 > 1)",
        evidence="ratios [{key: 'zeta/mixup', label: dataset, value, lo?, hi?}]: training time ζ-mixup / mixup",
    ),
    _c(
        "kmixup_table1",
        "10_peers",
        "k-mixup (k and ξ tuned) is below 1-mixup in every (dataset, architecture) of the k-mixup paper's Table 1",
        "cells",
        need_text="every cell",
        selects=_KMIXUP_SEL,
        evidence="per (dataset, arch) a cell k-mixup − 1-mixup (seed cells); selection: how k and ξ were chosen",
    ),
    _c(
        "kmixup_mnist_table1",
        "11_robustness",
        "on MNIST (LeNet) k-mixup (k, ξ tuned) is below both 1-mixup and ERM: 0.66 vs 0.76 vs 0.95 % (k-mixup "
        "Table 1, ±.02)",
        "cells",
        need_text="the MNIST row, below ERM and 1-mixup",
        joint=("ERM", "1-mixup"),
        selects=_KMIXUP_SEL,
        evidence="a unit (MNIST) of two seed cells, k-mixup − ERM (vs 'ERM') and k-mixup − 1-mixup (vs '1-mixup'); "
        "selection",
    ),
    _c(
        "kmixup_mnist_table2",
        "11_robustness",
        "on MNIST (LeNet), for each ξ the best error is for some k > 1 (k-mixup Table 2, ±.02)",
        "cells",
        need_text="every ξ column: best k > 1 − k = 1 below 0",
        selects="the best k > 1 per ξ",
        paper_supports=False,
        why_not="the paper's own Table 2 has k = 1 best at ξ = 0.8 (α = 0.2: 0.76 vs 0.77 for the best k > 1), and "
        "its ±.02 decides only the ξ = 1.2, 2.1 and 2.2 columns",
        evidence="per ξ (α) a seed cell best k > 1 − k = 1; selection: how the best k was chosen (not on the test "
        "split)",
    ),
    _c(
        "kmixup_16",
        "10_peers",
        "the 16-mixup heuristic outperforms ERM and 1-mixup in all but one instance of Table 1, where it matches "
        "1-mixup (k-mixup Table 1)",
        "cells",
        need_text="every row ≤ ERM and 1-mixup (one tie allowed by the paper)",
        joint=("ERM", "1-mixup"),
        ties=True,
        selects="ξ",
        evidence="per (dataset, arch) a unit of two seed cells, 16-mixup − ERM (vs 'ERM') and − 1-mixup (vs "
        "'1-mixup'); selection: how ξ was chosen",
    ),
    _c(
        "kmixup_magnitude",
        "10_peers",
        "on average the improvement of k-mixup over 1-mixup is similar in magnitude to that of 1-mixup over ERM "
        "(k-mixup Table 1; ours: the ratio of the mean gains within [1/2, 2], a factor we state)",
        "ratio",
        bounds={"gain ratio": ("in", (0.5, 2.0))},
        evidence="ratios [{key: 'gain ratio', value, lo?, hi?}]: mean (1-mixup − k-mixup) / mean (ERM − 1-mixup) "
        "over the cells",
    ),
    _c(
        "kmixup_uci",
        "10_peers",
        "k-mixup improves over 1-mixup on every UCI dataset (k-mixup paper, Table 4: best k > 1 vs best k = 1)",
        "cells",
        data_kind="paper",
        need_text="every dataset",
        selects=_KMIXUP_SEL,
        evidence="per dataset a cell best k > 1 − best k = 1; selection",
    ),
    _c(
        "kmixup_arrhythmia",
        "10_peers",
        "on Arrhythmia no mixup (ERM) beats every mixup (k-mixup paper, Table 4)",
        "cells",
        data_kind="paper",
        need_text="the one cell",
        paper_supports=False,
        why_not="one mean of 20 trials, no spread: no interval, and a sign test over 1 cannot go below p = 0.5",
    ),
    _c(
        "multimix",
        "10_peers",
        "MultiMix is above ζ-mixup in every setting of the MultiMix paper's Table 2 (81.82 vs 80.46 on CIFAR-100, "
        "R-18)",
        "cells",
        need_text="every cell",
    ),
    _c(
        "multimix_table2",
        "10_peers",
        "MultiMix and Dense MultiMix beat the best baseline in every setting of Table 2 but one (CIFAR-10 R-18, on par "
        "with Co-Mixup), and Dense MultiMix improves over MultiMix (MultiMix paper, Table 2)",
        "cells",
        need=4 / 5,
        need_text="≥ 4 of 5 settings, each: MultiMix and Dense MultiMix above the best baseline, Dense ≥ MultiMix",
        joint=MULTIMIX_TABLE2_VS,
        evidence="per (dataset, arch) a unit of three cells vs 'MultiMix − best baseline', 'Dense MultiMix − best "
        "baseline', 'Dense MultiMix − MultiMix' (ERR, points)",
    ),
    _c(
        "manifold_mixup",
        "10_peers",
        "manifold mixup trained 10× longer shows no clear, consistent gain over ζ-mixup (Fig. 9; ours: manifold "
        "mixup's gain in ERR below 1 point, a margin we state)",
        "noninferior",
        need=1.0,
        paper_supports=None,
        why_not=f"Fig. 9 {_PICTURE}",
        evidence="comparisons per dataset: ζ-mixup − manifold mixup ERR (points; positive = manifold mixup's gain)",
    ),
    _c(
        "manifold_counts",
        "10_peers",
        "manifold mixup beats ζ-mixup on every metric in only 2 of 9 datasets; ζ-mixup beats it on every metric in 4, "
        "the other 3 split (Fig. 9's text): manifold mixup is not better on every metric in ≥ 7 of 9",
        "cells",
        need=7 / 9,
        need_text="≥ 7 of 9 datasets where manifold mixup is not better on every metric",
        ties=True,
        paper_supports=False,
        why_not="nine datasets by signs only (4 for ζ-mixup, 2 for manifold mixup, 3 split): an exact sign test over "
        "the 6 decided gives p = 0.34",
        evidence="one cell per dataset: −1 if ζ-mixup is better on every metric (intervals), +1 if manifold mixup "
        "is, 0 otherwise",
    ),
    _c(
        "robust_multimix_fgsm",
        "11_robustness",
        "under FGSM (8/255) MultiMix and Dense MultiMix have a lower error than ζ-mixup, manifold mixup and the "
        "baseline in every setting (MultiMix Table 4; mean ± sd of 5 runs)",
        "cells",
        need_text="every setting, both methods below each of the three",
        joint=MULTIMIX_ROBUST_VS,
        evidence="per (dataset, arch) a unit of six seed cells, vs each of MULTIMIX_ROBUST_VS (error under FGSM 8/255)",
    ),
    _c(
        "robust_multimix_pgd",
        "11_robustness",
        "under PGD (4/255, step 2/255) MultiMix and Dense MultiMix have a lower error than ζ-mixup, manifold mixup "
        "and the baseline in every setting (MultiMix Table 4; mean ± sd of 5 runs)",
        "cells",
        need_text="every setting, both methods below each of the three",
        joint=MULTIMIX_ROBUST_VS,
        evidence="per (dataset, arch) a unit of six seed cells, vs each of MULTIMIX_ROBUST_VS (error under PGD 4/255)",
    ),
    _c(
        "kmixup_noise",
        "11_robustness",
        "under additive Gaussian noise (sd ε/255) 16-mixup outperforms 1-mixup and ERM in each instance "
        "(k-mixup Table 6, CIFAR-10 ResNet-18, ±0.6)",
        "cells",
        need_text="every (ε, α): 16-mixup below 1-mixup and ERM",
        joint=("ERM", "1-mixup"),
        paper_supports=False,
        why_not="the table's ±0.6 (its worst sd of a 30-trial mean) decides 16-mixup − 1-mixup in only the 6 cells at "
        "ε ≥ 12; at ε ≤ 10 the gaps are 0.10–1.58 points, and the cells of one α share its models, so a sign test "
        "over the 3 α cannot go below p = 0.125",
        evidence="per (ε, α) a unit of two seed cells, 16-mixup − ERM (vs 'ERM') and − 1-mixup (vs '1-mixup'); "
        "group: the models they share",
    ),
    _c(
        "kmixup_fgsm_cifar",
        "11_robustness",
        "under FGSM (ε/255) large k-mixup (k = 16) outperforms 1-mixup in each instance (k-mixup Table 7a, CIFAR-10, "
        "α = 0.5, ±0.6)",
        "cells",
        need_text="every ε",
        paper_supports=False,
        why_not="the table's ±0.6 decides k = 16 − k = 1 only at ε ≥ 4 (the gaps at ε ≤ 2 are 0.42–1.50 points), "
        "and every ε attacks the same models, so a sign test over the ε has a single unit",
        evidence="per ε a seed cell k = 16 − k = 1 under FGSM; group: the models (every ε attacks the same ones)",
    ),
    _c(
        "kmixup_fgsm_mnist",
        "11_robustness",
        "under FGSM (ε/255) large k-mixup (k = 32) outperforms 1-mixup in each instance: 14.95 vs 18.10 % at ε = 16 "
        "(k-mixup Table 7b, MNIST, α = 10, ±0.1)",
        "cells",
        need_text="every ε",
        evidence="per ε a seed cell largest k − k = 1 under FGSM on MNIST; group: the models",
    ),
)
_BY_ID = {c.id: c for c in CLAIMS}
#: claims dropped from the ledger (they test nothing, or another claim holds them): :func:`record` accepts and
#: ignores them
RETIRED = {
    "mixup_is_T2": "an identity (Theorem 2), not an empirical claim; chapter 00 proves it",
    "natural_erm": "folded into `natural`: the paper's one sentence is a joint count (“outperform their ERM and mixup "
    "counterparts”); `natural`'s cells carry both baselines",
}
