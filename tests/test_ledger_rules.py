"""The ledger's rules test the papers' sentences (issue 25 items 1–2): each test here is built to fail on the rule
it replaced — non-inferiority for "no clear gain", count statistics per cell (paired t, Welch, bootstrap, exact sign
test) instead of one interval over unlike cells, the joint count of Table 4, no selection on the test split, other
populations shown and not counted, the ablation at each plausible n, each bound at equality."""

from __future__ import annotations

import dataclasses
import math

import pytest
from scipy import stats

from zmixlib.chapters import ledger
from zmixlib.chapters.ledger import rules

BY_ID = {c.id: c for c in ledger.CLAIMS}


def seeds(m, spread=0.05, n=3):
    return [m - spread, m, m + spread][:n] if n == 3 else [m + spread * (i - (n - 1) / 2) for i in range(n)]


def interval_cell(label, lo, hi, **kw):
    return {"label": label, "interval": [lo, hi], "mean": (lo + hi) / 2, "n": 500, "how": "bootstrap over points", **kw}


class TestNonInferiority:
    claim = BY_ID["manifold_mixup"]  # margin 1 point: manifold mixup's gain must stay below it

    def test_zeta_mixup_far_better_is_reproduced(self):
        # the replaced equivalence rule called this *contradicted*, though the paper's claim then holds
        v, stat = ledger.verdict(self.claim, {"diffs": [-3.0, -3.1, -2.9]})
        assert v == "reproduced" and stat.startswith("non-inferiority, margin 1")

    def test_manifold_mixup_clearly_better_is_contradicted(self):
        assert ledger.verdict(self.claim, {"diffs": [2.0, 2.1, 1.9]})[0] == "contradicted"

    def test_the_upper_bound_at_the_margin_is_not_below_it(self):
        at = {"comparisons": [interval_cell("CIFAR-10", 0.2, 1.0)]}
        assert ledger.verdict(self.claim, at)[0] == "inconclusive"
        below = {"comparisons": [interval_cell("CIFAR-10", 0.2, 0.999)]}
        assert ledger.verdict(self.claim, below)[0] == "reproduced"

    def test_most_cells_clearly_above_the_margin_is_contradicted_one_is_not(self):
        ok = {"label": "a", "diffs": seeds(-0.5)}
        big = {"label": "b", "diffs": seeds(2.5)}
        assert ledger.verdict(self.claim, {"comparisons": [ok, ok, big]})[0] == "inconclusive"
        assert ledger.verdict(self.claim, {"comparisons": [ok, big, big]})[0] == "contradicted"


class TestCountStatistics:
    claim = dataclasses.replace(BY_ID["multimix"], need=1.0)  # "in every setting"; no selection needed

    def test_an_interval_touching_zero_is_not_decisive(self):
        touching = {"cells": [interval_cell("a", -1.0, -0.5), interval_cell("b", -1.0, 0.0)]}
        v, stat = ledger.verdict(self.claim, touching)
        assert v == "inconclusive" and "1 by their 95 % intervals (bootstrap over points)" in stat
        strictly = {"cells": [interval_cell("a", -1.0, -0.5), interval_cell("b", -1.0, -1e-12)]}
        assert ledger.verdict(self.claim, strictly)[0] == "reproduced"
        above = {"cells": [interval_cell("a", -1.0, -0.5), interval_cell("b", 0.0, 1.0)]}
        assert ledger.verdict(self.claim, above)[0] == "inconclusive"  # touching 0 from above: not against either
        against = {"cells": [interval_cell("a", -1.0, -0.5), interval_cell("b", 1e-12, 1.0)]}
        assert ledger.verdict(self.claim, against)[0] == "contradicted"

    def test_noisy_cells_are_not_pooled_into_one_interval(self):
        # each cell's Welch interval holds 0; the replaced rule pooled the three cells' variances into one interval
        # of the mean over cells (−0.3 ± 0.23) and called the claim reproduced
        cell = [0.0, math.sqrt(0.1), 5, 0.3, math.sqrt(0.1), 5]  # se 0.2 per cell: t = 1.5 alone, 2.6 pooled
        v, stat = ledger.verdict(self.claim, {"cells": [{"label": str(i), "welch": cell} for i in range(3)]})
        assert v == "inconclusive"
        assert "0 by their 95 % intervals (Welch)" in stat and "3 of 3 on the paper's side, one-sided p = 0.125" in stat

    def test_several_cells_welch_intervals_match_scipy(self):
        cells = [
            {"label": "a", "welch": [54.1, 0.09, 5, 72.8, 0.23, 5]},
            {"label": "b", "welch": [0.66, 0.02 * math.sqrt(20), 20, 0.76, 0.02 * math.sqrt(20), 20]},
            {"label": "c", "welch": [11.25, 0.09 * math.sqrt(20), 20, 11.53, 0.2, 7]},
        ]
        for c in cells:
            m1, s1, n1, m2, s2, n2 = c["welch"]
            v1, v2 = s1**2 / n1, s2**2 / n2
            df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
            half = stats.t.ppf(0.975, df) * math.sqrt(v1 + v2)
            p = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=False).pvalue
            got = rules.cell_stat(c)
            assert got.how == "Welch" and got.mean == pytest.approx(m1 - m2)
            assert (got.lo, got.hi) == pytest.approx((m1 - m2 - half, m1 - m2 + half), rel=1e-10)
            assert got.p == pytest.approx(p, rel=1e-10)
        v, stat = ledger.verdict(self.claim, {"cells": cells})
        # cell c: −0.28 with a Welch half-width of about 0.19 — decided; so all three are
        assert v == "reproduced" and "3 by their 95 % intervals (Welch)" in stat

    def test_ours_count_the_cells_whose_paired_interval_is_on_the_papers_side(self):
        ours = {
            "cells": [
                {"label": "tight", "diffs": seeds(-1.0), "seeds": [0, 1, 2]},
                {"label": "noisy", "diffs": seeds(-0.2, spread=2.0), "seeds": [0, 1, 2]},
            ]
        }
        v, stat = ledger.verdict(self.claim, ours)
        assert v == "inconclusive"
        assert stat.startswith("count: 2 of 2 cells below 0 by their means, 1 by their 95 % intervals (paired t)")
        s = stats.ttest_1samp(seeds(-1.0), 0.0)
        assert f"p = {s.pvalue:.3f}" in stat or "p < 0.001" in stat

    def test_the_sign_test_is_exact_and_one_sided(self):
        claim = dataclasses.replace(self.claim, need=1.0)
        for n, expected in ((4, "inconclusive"), (5, "reproduced")):
            cells = [{"label": str(i), "diffs": [-0.1 * (i + 1)]} for i in range(n)]
            v, stat = ledger.verdict(claim, {"cells": cells})
            p = stats.binomtest(n, n, 0.5, alternative="greater").pvalue
            assert v == expected and f"one-sided p = {p:.3g}" in stat
        assert rules.sign_test(7, 7) == pytest.approx(1 / 128) and rules.sign_test(0, 0) == 1.0
        # the other way round: contradicted by the sign test
        assert ledger.verdict(claim, {"cells": [{"label": str(i), "diffs": [0.5]} for i in range(5)]})[0] == (
            "contradicted"
        )

    def test_units_sharing_a_run_count_once_in_the_sign_test(self):
        # 6 means below 0, but all against one shared baseline run: one group, p = 0.5
        shared = [{"label": str(i), "diffs": [-0.5], "group": "one baseline"} for i in range(6)]
        v, stat = ledger.verdict(self.claim, {"cells": shared})
        assert v == "inconclusive" and "over 1 group (units sharing a run count once)" in stat

    def test_the_count_at_equality_with_the_papers_count(self):
        claim = dataclasses.replace(self.claim, need=3 / 4)
        exactly = {"cells": [interval_cell(str(i), -1.0, -0.5) for i in range(3)] + [interval_cell("x", -1, 1)]}
        assert ledger.verdict(claim, exactly)[0] == "reproduced"
        one_short = {"cells": [interval_cell(str(i), -1.0, -0.5) for i in range(2)] + [interval_cell("x", -1, 1)] * 2}
        assert ledger.verdict(claim, one_short)[0] == "inconclusive"


class TestJointCount:
    claim = BY_ID["natural"]  # 17 of 18 units, each below ERM and mixup

    def evidence(self, lose_to_erm: int):
        out = []
        for u in range(18):
            erm = 0.5 if u < lose_to_erm else -1.0
            for vs, m in (("ERM", erm), ("mixup", -0.8)):
                out.append({"label": f"u{u} vs {vs}", "diffs": seeds(m), "seeds": [0, 1, 2], "vs": vs, "unit": f"u{u}"})
        return {"cells": out}

    def test_a_cell_that_beats_mixup_but_not_erm_does_not_count(self):
        assert ledger.verdict(self.claim, self.evidence(1))[0] == "reproduced"
        # two units beat mixup but lose to ERM: 16 of 18; the replaced rule counted 34 of 36 cells and passed
        v, stat = ledger.verdict(self.claim, self.evidence(2))
        assert v == "contradicted" and stat.startswith("count: 16 of 18 units (cells joined per unit)")

    def test_a_unit_without_one_of_the_baselines_is_not_testable(self):
        only_mixup = {"cells": [c for c in self.evidence(0)["cells"] if c["vs"] == "mixup"]}
        v, stat = ledger.verdict(self.claim, only_mixup)
        assert v == "not testable" and "has no comparison with ERM" in stat

    def test_natural_erm_is_folded_into_natural(self):
        assert "natural_erm" not in BY_ID and "natural_erm" in ledger.RETIRED
        assert self.claim.joint == ("ERM", "mixup")


class TestSelectionAndPopulation:
    def test_a_claim_that_selects_needs_evidence_that_says_how(self):
        skin = BY_ID["skin"]
        cells = [
            {"label": f"d vs {b}", "diffs": seeds(-2.0), "seeds": [0, 1, 2], "vs": b, "unit": "d"}
            for b in ("ERM", "mixup")
        ]
        v, stat = ledger.verdict(skin, {"cells": cells})
        assert v == "not testable" and "does not say how γ was chosen" in stat and "never on the test split" in stat
        chosen = {"cells": cells, "selection": "γ chosen on a validation split of 20 % of the training set"}
        v, stat = ledger.verdict(skin, chosen)
        assert v == "reproduced" and stat.startswith("selection: γ chosen on a validation split")
        for cid in ("skin_f1", "kmixup_table1", "kmixup_uci", "kmixup_16", "kmixup_mnist_table2"):
            assert BY_ID[cid].selects, cid

    def test_another_population_is_shown_and_not_counted(self):
        other = {"cells": [{"label": f"#{i}", "diffs": [-1.0]} for i in range(28)], "population": "all test images × γ"}
        v, stat = ledger.verdict(BY_ID["knn_neighbourhoods"], other)
        assert v == "reproduced" and "population: all test images × γ — not the paper's; shown, not counted" in stat
        assert not rules.counted(other)
        assert rules.counted(dict(other, population="paper")) and rules.counted({"cells": []})


class TestAblationAtEachPlausibleN:
    def test_the_verdict_is_shown_at_n_2_3_5_and_is_the_one_they_share(self):
        comps = [
            {"label": "zeta − mixup", "welch": [21.35, 0.02, 3, 21.85, 0.07, 3]},
            {"label": "zeta − T2", "welch": [21.35, 0.02, 3, 21.77, 0.17, 3]},
        ]
        claim = BY_ID["ablation"]
        # the replaced rule assumed n = 3 and called this reproduced (ζ − T2: p = 0.049)
        v, stat = ledger.verdict(claim, {"comparisons": comps, "n_plausible": [2, 3, 5]})
        assert v == "inconclusive" and "the verdict depends on the unstated n" in stat
        assert "n = 2 → inconclusive" in stat and "n = 3 → reproduced" in stat and "n = 5 → reproduced" in stat
        assert ledger.verdict(claim, {"comparisons": comps})[0] == "reproduced"  # our seeds: n is known


class TestBoundsAtEquality:
    def ratio(self, claim_id, key, value):
        return ledger.verdict(BY_ID[claim_id], {"ratios": [{"key": key, "value": value}]})[0]

    def test_over_twice_is_strict(self):
        assert self.ratio("speed", "mixup/zeta", 2.0) == "contradicted"  # "over twice as fast": 2.0 is not over
        assert self.ratio("speed", "mixup/zeta", 2.0001) == "reproduced"
        assert self.ratio("speed", "lsi/zeta", 110.0) == "contradicted"

    def test_as_fast_as_is_closed_with_no_margin(self):
        assert self.ratio("train_time", "zeta/mixup", 1.0) == "reproduced"
        # the paper's own CIFAR-10 times, 1h21m vs 1h19m: the replaced 5 % margin passed them
        assert self.ratio("train_time", "zeta/mixup", (3600 + 21 * 60) / (3600 + 19 * 60)) == "contradicted"

    def test_midl_speed_and_magnitude(self):
        assert self.ratio("midl_speed", "mixup/zeta", 2.1) == "reproduced"
        assert self.ratio("midl_speed", "mixup/zeta", 2.09) == "contradicted"
        for v, want in ((0.5, "reproduced"), (2.0, "reproduced"), (0.49, "contradicted"), (2.01, "contradicted")):
            assert self.ratio("kmixup_magnitude", "gain ratio", v) == want, v
        spread = {"ratios": [{"key": "gain ratio", "value": 1.9, "lo": 1.5, "hi": 2.3}]}
        assert ledger.verdict(BY_ID["kmixup_magnitude"], spread)[0] == "inconclusive"

    def test_knn_gain_more_is_strict(self):
        assert self.ratio("knn_gain", "zeta/mixup correct neighbours", 1.0) == "contradicted"
        assert self.ratio("knn_gain", "zeta/mixup correct neighbours", 3.082) == "reproduced"


class TestLocalID:
    claim = BY_ID["local_id"]

    def test_per_dataset_bootstrap_intervals(self):
        both = {"cells": [interval_cell("MNIST-10k", -3.0, -1.0), interval_cell("Fashion-MNIST", -2.0, -0.5)]}
        v, stat = ledger.verdict(self.claim, both)
        assert v == "reproduced" and "MNIST-10k: -2 [-3, -1] (bootstrap over points, n = 500)" in stat
        # one dataset's interval holds 0: the replaced rule's t-test over two dataset means (df = 1) is gone
        one = {"cells": [interval_cell("MNIST-10k", -3.0, -1.0), interval_cell("Fashion-MNIST", -2.0, 0.5)]}
        assert ledger.verdict(self.claim, one)[0] == "inconclusive"

    def test_a_reversed_interval_is_refused(self):
        with pytest.raises(ValueError, match="interval must be \\[lo, hi\\] with lo <= hi"):
            ledger.verdict(self.claim, {"cells": [interval_cell("x", 1.0, -1.0)]})


class TestExactTiesInEveryRule:
    def test_cells_a_tie_is_dropped_from_the_sign_test_and_counts_only_for_or_equal(self):
        cells = [{"label": str(i), "diffs": [-0.5]} for i in range(5)] + [
            {"label": f"t{i}", "diffs": [0.0]} for i in range(2)
        ]
        strict = dataclasses.replace(BY_ID["multimix"], need=1.0)
        assert ledger.verdict(strict, {"cells": cells})[0] == "inconclusive"  # 5 of 7 below: "every" not met
        v, stat = ledger.verdict(dataclasses.replace(strict, ties=True), {"cells": cells})
        assert v == "reproduced" and "7 of 7 cells ≤ 0" in stat and "5 of 5 on the paper's side" in stat

    def test_compare_a_comparison_tied_on_every_seed_is_not_decided(self):
        tied = {"comparisons": [{"label": "a", "diffs": [0.0, 0.0, 0.0]}]}
        assert ledger.verdict(BY_ID["ablation"], tied)[0] == "inconclusive"

    def test_noninferior_a_gain_exactly_at_the_margin_on_every_seed_is_not_decided(self):
        v, _ = ledger.verdict(BY_ID["manifold_mixup"], {"diffs": [1.0, 1.0, 1.0]})
        assert v == "inconclusive"

    def test_holds_half_is_inconclusive_and_value_at_the_tolerance_is_reproduced(self):
        assert ledger.verdict(BY_ID["realism_mnist"], {"checks": [True, True, False, False]})[0] == "inconclusive"
        g = dataclasses.replace(BY_ID["gamma_min"], need=0.5)
        assert ledger.verdict(g, {"ours_value": 1.5, "paper_value": 1.0})[0] == "reproduced"
        assert ledger.verdict(g, {"ours_value": 1.5000001, "paper_value": 1.0})[0] == "not reproduced"
