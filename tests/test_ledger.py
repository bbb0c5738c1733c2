"""zmixlib.chapters.ledger: each rule lands in each of its verdicts on constructed evidence; a failed regime makes
a claim not testable; evidence of another build reads "not run"; the headline counts paper data and stand-ins
apart; the self-check passes on the papers' numbers and fails when a rule or an expectation is wrong."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from zmixlib.__main__ import main as zmix_main
from zmixlib.chapters import ledger
from zmixlib.chapters.ledger import paper_check

BY_ID = {c.id: c for c in ledger.CLAIMS}


def cells(*means, seeds=(0, 1, 2), spread=0.05):
    """Cells whose per-seed differences are ``mean + (-spread, 0, +spread)``."""
    offs = np.linspace(-spread, spread, len(seeds))
    return [{"label": f"c{i}", "diffs": [m + o for o in offs], "seeds": list(seeds)} for i, m in enumerate(means)]


class TestCellsRule:
    claim = dataclasses.replace(BY_ID["cutmix_zeta"], need=0.75)  # "at least 3 of 4 cells"

    def test_reproduced_contradicted_inconclusive(self):
        v, stat = ledger.verdict(self.claim, {"cells": cells(-1.0, -0.8, -0.5, 0.2)})
        assert v == "reproduced"
        assert stat.startswith("count: 3 of 4 cells below 0 by their means, 3 by their 95 % intervals (paired t)")
        assert "→ reproduced by the intervals" in stat
        assert ledger.verdict(self.claim, {"cells": cells(1.0, 0.8, 0.5, -0.2)})[0] == "contradicted"
        # the paper's direction on average, but seed noise larger than the effect in every cell
        assert ledger.verdict(self.claim, {"cells": cells(-0.1, -0.1, -0.1, -0.1, spread=2.0)})[0] == "inconclusive"

    def test_the_papers_count_is_required(self):
        # two clear cells, two small ones above 0: the paper's "3 of 4" is not met
        v, stat = ledger.verdict(self.claim, {"cells": cells(-3.0, -3.0, 0.1, 0.1)})
        assert v == "inconclusive" and stat.startswith("count: 2 of 4 cells below 0 by their means")

    def test_a_tie_is_not_below(self):
        v, _ = ledger.verdict(dataclasses.replace(self.claim, need=1.0), {"cells": cells(-1.0, -1.0, 0.0, spread=0.0)})
        assert v == "inconclusive"

    def test_means_only_are_judged_by_the_exact_sign_test(self):
        five = {"cells": [{"label": str(i), "diffs": [d]} for i, d in enumerate([-1, -1.2, -0.9, -1.1, -0.2])]}
        v, stat = ledger.verdict(dataclasses.replace(self.claim, need=1.0), five)
        assert v == "reproduced" and "5 of 5 on the paper's side, one-sided p = 0.0312" in stat
        assert "(mean only)" in stat and "→ reproduced by the sign test" in stat
        one = ledger.verdict(self.claim, {"cells": [{"label": "x", "diffs": [-1.0]}]})
        assert one[0] == "inconclusive" and "p = 0.5" in one[1]

    def test_legacy_diffs_are_one_cell_each_and_nothing_is_not_run(self):
        assert ledger.verdict(self.claim, {"diffs": [-1.0, -1.1, -0.9, -1.2, -0.8]})[0] == "reproduced"
        assert ledger.verdict(self.claim, {"diffs": [float("nan")]})[0] == "not run"


class TestCompareRule:
    claim = BY_ID["ablation"]

    def test_each_comparison_has_its_verdict(self):
        good = {"label": "a", "diffs": [-0.5, -0.4, -0.6]}
        noisy = {"label": "b", "diffs": [-0.5, 0.6, -0.2]}
        bad = {"label": "c", "diffs": [0.5, 0.4, 0.6]}
        assert ledger.verdict(self.claim, {"comparisons": [good, good]})[0] == "reproduced"
        v, stat = ledger.verdict(self.claim, {"comparisons": [good, noisy]})
        assert v == "inconclusive" and "a: " in stat and "→ reproduced" in stat and "→ inconclusive" in stat
        assert ledger.verdict(self.claim, {"comparisons": [good, noisy, bad]})[0] == "contradicted"

    def test_a_large_gap_cannot_carry_a_lost_comparison(self):
        # the old rule pooled: Dirichlet's −73 made the mean negative while ζ-mixup lost to mixup on every seed
        dirichlet = {"label": "ζ − Dirichlet", "diffs": [-73.0, -73.2, -72.9]}
        lost = {"label": "ζ − mixup", "diffs": [0.3, 0.4, 0.2]}
        assert ledger.verdict(self.claim, {"comparisons": [dirichlet, lost]})[0] == "contradicted"

    def test_welch_from_a_papers_mean_and_sd(self):
        v, stat = ledger.verdict(
            self.claim, {"comparisons": [{"label": "p", "welch": [21.35, 0.02, 3, 21.85, 0.07, 3]}]}
        )
        assert v == "reproduced" and "Welch" in stat


class TestNoninferiorRule:
    claim = BY_ID["manifold_mixup"]  # manifold mixup's gain in ERR below 1 point

    def test_verdicts(self):
        assert ledger.verdict(self.claim, {"diffs": [0.1, -0.1, 0.05, 0.0]})[0] == "reproduced"
        assert ledger.verdict(self.claim, {"diffs": [3.0, 3.1, 2.9]})[0] == "contradicted"
        assert ledger.verdict(self.claim, {"diffs": [-3.0, -3.1, -2.9]})[0] == "reproduced"  # ζ-mixup far better
        v, stat = ledger.verdict(self.claim, {"diffs": [0.1, 1.5, -0.8]})
        assert v == "inconclusive" and stat.startswith("non-inferiority, margin 1")


class TestRatioRule:
    claim = BY_ID["speed"]

    def test_verdicts(self):
        def ev(mixup, lsi=None, lo=None, hi=None):
            r = [{"key": "mixup/zeta", "value": mixup}]
            if lo is not None:
                r[0].update(lo=lo, hi=hi)
            if lsi is not None:
                r.append({"key": "lsi/zeta", "value": lsi})
            return {"ratios": r}

        assert ledger.verdict(self.claim, ev(2.5, 150))[0] == "reproduced"
        assert ledger.verdict(self.claim, ev(2.5, 90))[0] == "contradicted"
        assert ledger.verdict(self.claim, ev(2.1, lo=1.8, hi=2.4))[0] == "inconclusive"
        # the old rule passed a ζ-mixup twice *slower* than mixup
        assert ledger.verdict(self.claim, ev(0.5))[0] == "contradicted"
        assert ledger.verdict(self.claim, {"ratios": [{"key": "other", "value": 3.0}]})[0] == "not run"

    def test_an_upper_bound(self):
        parity = BY_ID["train_time"]  # "as fast as, if not faster": ≤ 1, no margin
        assert ledger.verdict(parity, {"ratios": [{"key": "zeta/mixup", "value": 0.99}]})[0] == "reproduced"
        assert ledger.verdict(parity, {"ratios": [{"key": "zeta/mixup", "value": 1.01}]})[0] == "contradicted"
        assert ledger.verdict(parity, {"ratios": [{"key": "zeta/mixup", "value": 1.3}]})[0] == "contradicted"


def test_value_and_holds_rules():
    g = BY_ID["gamma_min"]
    assert ledger.verdict(g, {"ours_value": 1.728647, "paper_value": 1.72865})[0] == "reproduced"
    assert ledger.verdict(g, {"ours_value": 1.7287, "paper_value": 1.72865})[0] == "not reproduced"
    assert ledger.verdict(g, {"ours_value": float("nan"), "paper_value": 1.72865})[0] == "not reproduced"
    h = BY_ID["realism_mnist"]
    assert ledger.verdict(h, {"checks": [True, True]}) == ("reproduced", "2 of 2 checks hold")
    assert ledger.verdict(h, {"checks": [True, False, True]})[0] == "inconclusive"
    assert ledger.verdict(h, {"checks": [False, False, True]})[0] == "contradicted"
    assert ledger.verdict(h, {"checks": []})[0] == "not run"


def test_a_failed_regime_is_not_testable_whatever_the_numbers():
    claim = BY_ID["cutmix_zeta"]
    entry = {"cells": cells(-1.0, -1.0), "regime_passed": False, "regime": "ERM reached 71 % training accuracy"}
    assert ledger.verdict(claim, entry) == ("not testable", "regime check failed: ERM reached 71 % training accuracy")
    assert ledger.verdict(claim, dict(entry, regime_passed=True))[0] == "reproduced"
    assert ledger.verdict(claim, None)[0] == "not run"


def test_record_table_and_headline(tmp_path, monkeypatch):
    monkeypatch.setenv("ZMIX_BUILD_ID", "b1")
    kw = {"results_dir": tmp_path, "profile": "offline"}
    joint = [
        dict(c, vs=b, unit=f"u{i}") for i, m in enumerate((-1.0, -0.9)) for b, c in zip(("ERM", "mixup"), cells(m, m))
    ]
    ledger.record("natural", data="stand-in", ours="x", cells=joint, **kw)
    ledger.record("cutmix_zeta", data="real", ours="y", data_kind="paper", cells=cells(1.0), **kw)
    ledger.record("medmnist", data="s", ours="z", cells=cells(-1.0), regime_passed=False, regime="ERM at 80 %", **kw)
    assert ledger.record("mixup_is_T2", data="-", ours="-", ours_value=0, paper_value=0, **kw) is None  # retired
    assert ledger.record("natural_erm", data="-", ours="-", cells=cells(-1.0), **kw) is None  # folded into natural
    stored = json.loads((tmp_path / "offline" / "ledger" / "04_natural.json").read_text())
    assert stored["natural"]["data_kind"] == "stand-in" and stored["cutmix_zeta"]["data_kind"] == "paper"
    assert "natural_erm" not in stored
    assert (
        json.loads((tmp_path / "offline" / "ledger" / "06_medmnist.json").read_text())["medmnist"]["regime_passed"]
        is False
    )
    t = ledger.table(tmp_path, "offline", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS], name="claim"))
    assert t.loc["natural", "verdict"] == "reproduced" and t.loc["natural", "data"] == "stand-in"
    assert t.loc["cutmix_zeta", "verdict"] == "contradicted" and t.loc["cutmix_zeta", "data"] == "paper"
    assert t.loc["medmnist", "verdict"] == "not testable"
    assert t.loc["skin", "verdict"] == "not run" and t.loc["skin", "data"] == "—"
    head = ledger.headline(t)
    assert head.startswith("on paper data: 1 contradicted; on stand-ins: 1 reproduced, 1 not testable; not run: ")
    # evidence of another build is not this build's
    assert set(ledger.table(tmp_path, "offline", build="b2")["verdict"]) == {"not run"}


def test_record_refuses_bad_evidence(tmp_path):
    kw = {"results_dir": tmp_path, "profile": "offline", "data": "d", "ours": "o"}
    with pytest.raises(ValueError, match="claim 'natural' \\(cells\\) needs \\['cells'\\] or \\['diffs'\\]"):
        ledger.record("natural", checks=[True], **kw)
    with pytest.raises(ValueError, match="data_kind must be one of \\['paper', 'stand-in'\\], got 'real'"):
        ledger.record("natural", diffs=[-1.0], data_kind="real", **kw)
    with pytest.raises(ValueError, match="claim_id must be one of"):
        ledger.record("nope", diffs=[-1.0], **kw)
    with pytest.raises(TypeError, match="regime_passed must be a bool or None, got 'yes'"):
        ledger.record("natural", diffs=[-1.0], regime_passed="yes", **kw)


def test_every_chapter_claim_has_a_rule_and_papers_numbers_or_a_reason():
    for c in ledger.CLAIMS:
        assert c.kind in ledger.RULES
        got = ledger.paper_evidence(c.id)
        assert (got is None) == (c.paper_supports is None), c.id
        if not c.paper_supports:
            assert c.why_not, c.id


def test_self_check_passes_on_the_papers_numbers():
    frame, ok = ledger.self_check()
    assert ok, frame[~frame["ok"]].to_string()
    by = frame.set_index("claim")
    for claim in ("natural", "medmnist", "speed", "multimix", "local_id", "kmixup_table1", "kmixup_uci"):
        assert by.loc[claim, "paper's numbers"] == "reproduced" and by.loc[claim, "status"] == "passes"
        assert by.loc[claim, "swapped"].startswith("contradicted")
    assert by.loc["natural", "statistic"].startswith("count: 17 of 18 units (cells joined per unit) below 0")
    assert by.loc["skin", "paper's numbers"] != "reproduced" and by.loc["skin", "status"] == "not checkable"


def test_self_check_fails_when_a_rule_is_wrong(monkeypatch):
    # a rule that reads every table as reproduced cannot pass: the swapped numbers must come out contradicted
    monkeypatch.setitem(ledger._RULES, "cells", lambda claim, entry: ("reproduced", "always"))
    frame, ok = ledger.self_check()
    assert not ok and "natural" in set(frame.loc[~frame["ok"], "claim"])


def test_self_check_fails_when_an_expectation_is_wrong(monkeypatch):
    # claiming the paper's own numbers do not support Table 4 is caught: they do
    claims = tuple(
        dataclasses.replace(c, paper_supports=False, why_not="x") if c.id == "natural" else c for c in ledger.CLAIMS
    )
    monkeypatch.setattr(paper_check, "CLAIMS", claims)
    monkeypatch.setattr(paper_check, "_BY_ID", {c.id: c for c in claims})
    frame, ok = ledger.self_check()
    assert not ok and list(frame.loc[frame["status"] == "FAILS", "claim"]) == ["natural"]


def test_cli_self_check_exits_0_and_prints_the_table(capsys):
    assert zmix_main(["ledger", "--self-check"]) == 0
    out = capsys.readouterr().out
    assert "self-check: passed" in out and "natural" in out and "contradicted (compared methods swapped)" in out


def test_cli_self_check_exits_1_on_failure(monkeypatch, capsys):
    monkeypatch.setitem(ledger._RULES, "ratio", lambda claim, entry: ("inconclusive", "never"))
    assert zmix_main(["ledger", "--self-check"]) == 1
    assert "self-check: FAILED" in capsys.readouterr().out


def test_ties_count_only_where_the_paper_says_or_equal():
    tied = {"cells": cells(-1.0, -1.0, 0.0, -1.0, spread=0.0)}
    assert ledger.verdict(BY_ID["sensitivity"], tied)[0] == "reproduced"  # "lower or equal", 90 % of cells
    assert ledger.verdict(dataclasses.replace(BY_ID["cutmix_zeta"], need=1.0), tied)[0] == "inconclusive"


def test_glue_summary_glues_the_pages_numbers(tmp_path, monkeypatch):
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.setdefault(name, value))
    claims, checked = ledger.glue_summary(tmp_path, "offline")
    assert len(claims) == len(ledger.CLAIMS) == len(checked)
    assert set(glued) == {"headline", "build", "self_check", "self_check_counts"}
    assert glued["self_check"] == "passes" and glued["self_check_counts"].endswith("(figures)")
