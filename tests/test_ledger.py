"""zmixlib.chapters.ledger: each rule lands in each of its verdicts on constructed evidence; a failed regime makes
a claim not testable; evidence of another build reads "not run"; the headline counts paper data and stand-ins
apart; the self-check passes on the papers' numbers and fails when a rule or an expectation is wrong."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

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
    claim = dataclasses.replace(BY_ID["natural"], need=0.75)  # "at least 3 of 4 cells"

    def test_reproduced_contradicted_inconclusive(self):
        v, stat = ledger.verdict(self.claim, {"cells": cells(-1.0, -0.8, -0.5, 0.2)})
        assert v == "reproduced" and stat.startswith("3 of 4 cells below 0 (need 3)")
        assert "per-seed mean over cells (3 shared seeds)" in stat
        assert ledger.verdict(self.claim, {"cells": cells(1.0, 0.8, 0.5, -0.2)})[0] == "contradicted"
        # the paper's direction on average, but seed noise larger than the effect
        assert ledger.verdict(self.claim, {"cells": cells(-0.1, -0.1, -0.1, -0.1, spread=2.0)})[0] == "inconclusive"

    def test_the_papers_count_is_required(self):
        # a clear mean effect but only 2 of 4 cells below 0: the paper's "3 of 4" is not met
        v, stat = ledger.verdict(self.claim, {"cells": cells(-3.0, -3.0, 0.1, 0.1)})
        assert v == "inconclusive" and stat.startswith("2 of 4 cells below 0 (need 3)")

    def test_a_tie_is_not_below(self):
        v, _ = ledger.verdict(dataclasses.replace(self.claim, need=1.0), {"cells": cells(-1.0, -1.0, 0.0, spread=0.0)})
        assert v == "inconclusive"

    def test_means_only_use_the_cells_as_replicates(self):
        v, stat = ledger.verdict(
            self.claim, {"cells": [{"label": str(i), "diffs": [d]} for i, d in enumerate([-1, -1.2, -0.9, -1.1])]}
        )
        assert v == "reproduced" and "cell means (no spread within cells)" in stat
        one = ledger.verdict(self.claim, {"cells": [{"label": "x", "diffs": [-1.0]}]})
        assert one[0] == "inconclusive" and "no interval" in one[1]

    def test_legacy_diffs_are_one_cell_each_and_nothing_is_not_run(self):
        assert ledger.verdict(self.claim, {"diffs": [-1.0, -1.1, -0.9]})[0] == "reproduced"
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


class TestEquivalentRule:
    claim = BY_ID["manifold_mixup"]  # margin ±1 point

    def test_verdicts(self):
        assert ledger.verdict(self.claim, {"diffs": [0.1, -0.1, 0.05, 0.0]})[0] == "reproduced"
        assert ledger.verdict(self.claim, {"diffs": [3.0, 3.1, 2.9]})[0] == "contradicted"
        assert ledger.verdict(self.claim, {"diffs": [-3.0, -3.1, -2.9]})[0] == "contradicted"
        v, stat = ledger.verdict(self.claim, {"diffs": [0.1, 1.5, -0.8]})
        assert v == "inconclusive" and stat.startswith("margin ±1")


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
        parity = BY_ID["train_time"]
        assert ledger.verdict(parity, {"ratios": [{"key": "zeta/mixup", "value": 1.01}]})[0] == "reproduced"
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
    claim = BY_ID["natural"]
    entry = {"cells": cells(-1.0, -1.0), "regime_passed": False, "regime": "ERM reached 71 % training accuracy"}
    assert ledger.verdict(claim, entry) == ("not testable", "regime check failed: ERM reached 71 % training accuracy")
    assert ledger.verdict(claim, dict(entry, regime_passed=True))[0] == "reproduced"
    assert ledger.verdict(claim, None)[0] == "not run"


def test_record_table_and_headline(tmp_path, monkeypatch):
    monkeypatch.setenv("ZMIX_BUILD_ID", "b1")
    kw = {"results_dir": tmp_path, "profile": "offline"}
    ledger.record("natural", data="stand-in", ours="x", cells=cells(-1.0, -0.9), **kw)
    ledger.record("cutmix_zeta", data="real", ours="y", data_kind="paper", cells=cells(1.0), **kw)
    ledger.record("natural_erm", data="s", ours="z", cells=cells(-1.0), regime_passed=False, regime="ERM at 80 %", **kw)
    assert ledger.record("mixup_is_T2", data="-", ours="-", ours_value=0, paper_value=0, **kw) is None  # retired
    stored = json.loads((tmp_path / "offline" / "ledger" / "04_natural.json").read_text())
    assert stored["natural"]["data_kind"] == "stand-in" and stored["cutmix_zeta"]["data_kind"] == "paper"
    assert stored["natural_erm"]["regime_passed"] is False
    t = ledger.table(tmp_path, "offline", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS], name="claim"))
    assert t.loc["natural", "verdict"] == "reproduced" and t.loc["natural", "data"] == "stand-in"
    assert t.loc["cutmix_zeta", "verdict"] == "contradicted" and t.loc["cutmix_zeta", "data"] == "paper"
    assert t.loc["natural_erm", "verdict"] == "not testable"
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
    for claim in ("natural", "natural_erm", "cutmix_zeta", "medmnist", "ablation", "speed", "multimix", "local_id"):
        assert by.loc[claim, "paper's numbers"] == "reproduced"
        assert by.loc[claim, "swapped"].startswith("contradicted")
    assert by.loc["natural", "statistic"].startswith("17 of 18 cells below 0 (need 17)")
    assert by.loc["skin", "paper's numbers"] != "reproduced"


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
    assert not ok and list(frame.loc[~frame["ok"], "claim"]) == ["natural"]


def test_cli_self_check_exits_0_and_prints_the_table(capsys):
    assert zmix_main(["ledger", "--self-check"]) == 0
    out = capsys.readouterr().out
    assert "self-check: passed" in out and "natural" in out and "contradicted (compared methods swapped)" in out


def test_cli_self_check_exits_1_on_failure(monkeypatch, capsys):
    monkeypatch.setitem(ledger._RULES, "ratio", lambda claim, entry: ("inconclusive", "never"))
    assert zmix_main(["ledger", "--self-check"]) == 1
    assert "self-check: FAILED" in capsys.readouterr().out


def _params(tmp_path):
    return SimpleNamespace(results_dir=tmp_path, profile="offline", seeds=[0, 1, 2], torch_device="cpu")


def _runs(values):
    """One run per (dataset, method, γ, seed) with test_err from ``values[(method, gamma)] + seed noise``."""
    rows = []
    for (method, gamma), err in values.items():
        for seed in range(3):
            rows.append(
                {
                    "dataset": "fmnist",
                    "arch": "lenet5",
                    "method": method,
                    "gamma": gamma,
                    "seed": seed,
                    "test_err": err + 0.001 * seed * (1 if method == "mixup" else -1),
                }
            )
    return pd.DataFrame(rows)


def test_record_claims_for_chapter_04(tmp_path):
    from zmixlib import paper

    runs = _runs({("erm", None): 0.12, ("mixup", None): 0.11, ("zeta_mixup", 2.4): 0.10, ("zeta_mixup", 2.8): 0.105})
    pairs = paper.paired(runs, metric="ERR_percent")
    p = _params(tmp_path)
    done = ledger.record_claims("04_natural", runs=runs, pairs=pairs, runs5=None, pairs5=None, params=p, regime=None)
    assert done == ["natural", "natural_erm"]
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["natural", "verdict"] == "reproduced" and t.loc["natural", "data"] == "stand-in"
    assert "per-seed mean over cells (3 shared seeds)" in t.loc["natural", "statistic"]
    failed = SimpleNamespace(
        as_evidence=lambda: {"regime_passed": False, "regime": "ERM's final training accuracy 80 %"}
    )
    ledger.record_claims("04_natural", runs=runs, pairs=pairs, params=p, regime=failed)
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["natural", "verdict"] == "not testable" and "80 %" in t.loc["natural", "statistic"]
    with pytest.raises(ValueError, match="chapter must be one of"):
        ledger.record_claims("99_x", params=p)


def test_record_claims_for_the_ablation_splits_t2(tmp_path):
    pairs = pd.DataFrame(
        [
            {"comparison": c, "first": f, "seed": s, "diff": d + 0.01 * s}
            for c, f, d in (("ζ − mixup", "zeta", -0.5), ("ζ − Dir", "zeta", -70.0), ("T2 − mixup", "pseries_t2", 0.4))
            for s in range(3)
        ]
    ).assign(dataset="fmnist", arch="lenet5")
    done = ledger.record_claims("08_ablation", runs=pairs, pairs=pairs, params=_params(tmp_path))
    assert done == ["ablation", "ablation_t2"]
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["ablation", "verdict"] == "reproduced"
    assert t.loc["ablation_t2", "verdict"] == "contradicted"


# ------------------------------------------------------------------------------------- paper-profile fidelity

#: the papers' training protocols as their text states them (J Big Data §"Evaluation on downstream task"):
#: dataset -> (epochs, batch, lr, milestones, lr decay factor); Nesterov momentum 0.9, weight decay 5e-4 throughout
PAPER_PROTOCOL = {
    "CIFAR-10": (200, 128, 0.1, (80, 120, 160), 0.2),
    "CIFAR-100": (200, 128, 0.1, (80, 120, 160), 0.2),
    "Fashion-MNIST": (200, 32, 0.1, (80, 120, 160), 0.2),
    "STL-10": (120, 32, 0.1, (80,), 0.2),
    "Imagenette": (80, 32, 0.01, (25, 50, 65), 0.2),
    "Imagewoof": (80, 32, 0.01, (25, 50, 65), 0.2),
}


def _matrix(section):
    from zmixlib import recipes

    return list(recipes.resolve(section, "paper"))


def _keys(df):
    from zmixlib.paper import normalize_dataset_name

    return {normalize_dataset_name(d) for d in df["dataset"]}


class TestPaperProfileFidelity:
    """Each paper-profile matrix against the paper's numbers (``paper_results.csv``: which datasets, methods, γ,
    architectures and runs a table has) and the protocol its text states."""

    def test_natural_is_table4(self):
        from zmixlib.paper import normalize_dataset_name, paper_table

        m, t4 = _matrix("natural"), paper_table("natural-table4")
        assert {normalize_dataset_name(s.dataset) for s in m} == _keys(t4)
        zeta = t4[t4["method"] == "zeta-mixup"]
        assert {s.gamma for s in m if s.method == "zeta_mixup"} == set(zeta["gamma_value"])
        assert {s.method for s in m} == {"erm", "mixup", "zeta_mixup"}
        assert t4["note"].eq("mean of 3 runs").all() and {s.seed for s in m} == {0, 1, 2}
        for s in m:
            epochs, batch, lr, milestones, decay = PAPER_PROTOCOL[s.dataset]
            assert (s.epochs, s.batch_size, s.lr, tuple(s.milestones), s.lr_gamma) == (
                epochs,
                batch,
                lr,
                milestones,
                decay,
            ), s.dataset
            assert (s.momentum, s.weight_decay) == (0.9, 5e-4)

    def test_cutmix_is_table5(self):
        from zmixlib.paper import normalize_dataset_name, paper_table
        from zmixlib.vocab import arch_paper_name

        m, t5 = _matrix("cutmix"), paper_table("cutmix-table5")
        assert {normalize_dataset_name(s.dataset) for s in m} == _keys(t5)
        assert set(t5["arch"]) <= {arch_paper_name(s.arch) for s in m}
        for s in m:
            assert (s.epochs, s.batch_size, s.lr, tuple(s.milestones), s.lr_gamma) == (200, 128, 0.1, (100, 150), 0.2)
        (low, high), *rest = {s.gamma for s in m if s.method == "cutmix_zeta"}
        assert not rest and (low, high) == (
            pytest.approx(float(t5["gamma"].str.extract(r"U\[([0-9.]+),")[0].dropna().iloc[0]), abs=1e-5),
            4.0,
        )

    def test_skin_is_table6(self):
        from zmixlib.paper import normalize_dataset_name, paper_table
        from zmixlib.vocab import arch_paper_name

        m = _matrix("skin")
        paper = pd.concat([paper_table("skin-tableA3"), paper_table("skin-table2")])
        assert _keys(paper) <= {normalize_dataset_name(s.dataset) for s in m}
        assert {arch_paper_name(s.arch) for s in m} == set(paper["arch"])
        assert {s.gamma for s in m if s.method == "zeta_mixup"} == set(paper["gamma_value"].dropna())
        for s in m:
            isic2018 = normalize_dataset_name(s.dataset) == "isic2018"
            want = (20, 32, 0.01, (4, 8, 12, 16), 0.1) if isic2018 else (50, 32, 0.01, (10, 20, 30, 40), 0.1)
            assert (s.epochs, s.batch_size, s.lr, tuple(s.milestones), s.lr_gamma) == want, s.dataset

    def test_medmnist_is_table7(self):
        from zmixlib.paper import normalize_dataset_name, paper_table

        m, t7 = _matrix("medmnist"), paper_table("medmnist-table7")
        assert _keys(t7) <= {normalize_dataset_name(s.dataset) for s in m}
        assert {s.gamma for s in m if s.method == "zeta_mixup"} == set(t7["gamma_value"].dropna()) == {2.8}
        # the paper states only SGD, LR 0.01 and batch 128; the rest is the recipe's stated assumption
        assert {(s.lr, s.batch_size) for s in m} == {(0.01, 128)}

    def test_ablation_is_table8(self):
        from zmixlib.paper import paper_table

        m, t8 = _matrix("ablation"), paper_table("ablation-table8")
        assert {s.dataset for s in m} == set(t8["dataset"]) == {"CIFAR-100"}
        assert {s.gamma for s in m if s.method == "zeta_mixup"} == set(t8["gamma_value"].dropna()) == {2.8}
        assert all(s.batch_size == 128 for s in m)  # m = 128 (Table 8's note)

    def test_multimix_default_is_its_papers_protocol_everywhere(self):
        from zmixlib.vocab import METHODS, MULTIMIX_HPARAMS

        assert MULTIMIX_HPARAMS == {"n": 1000, "alpha": (0.5, 2.0), "prob": 0.5, "mixup_alpha": 2.0}
        for name in ("multimix", "dense_multimix"):
            assert METHODS[name].hparams == MULTIMIX_HPARAMS
            peers = [s for s in _matrix("peers") if s.method == name]
            assert peers and all(dict(s.extra) | {"alpha": s.alpha} == MULTIMIX_HPARAMS for s in peers)


def test_record_claims_for_timing_labels_the_batch(tmp_path):
    t9 = pd.DataFrame(
        {"ratio_to_reference": [1.0, 2.4, 150.0]}, index=["zeta_mixup", "mixup", "local_synthetic_instances"]
    )
    tr = pd.DataFrame({"step_ms": [10.0, 10.1, 10.2]}, index=["ERM", "mixup", "zeta_mixup"])
    p = _params(tmp_path)
    for shape, kind in (("[32, 3, 224, 224]", "paper"), ("[16, 3, 64, 64]", "stand-in")):
        t9.attrs.update(batch_shape=shape, dtype="float32", device="cpu")
        assert ledger.record_claims("09_timing", t9=t9, tr=tr, params=p) == ["speed", "train_time"]
        t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
        assert (t.loc["speed", "verdict"], t.loc["speed", "data"]) == ("reproduced", kind)
        assert (t.loc["train_time", "verdict"], t.loc["train_time", "data"]) == ("reproduced", "stand-in")


def test_kmixup_uci_leaves_breast_cancer_out_and_says_why(tmp_path):
    rows = []
    for d, best in (("iris", -2.0), ("breast-cancer", +3.0)):
        for t in range(5):
            rows.append({"dataset": d, "k": None, "alpha": None, "trial": t, "err": 5.0})
            rows.append({"dataset": d, "k": 1, "alpha": 0.1, "trial": t, "err": 6.0 + 0.1 * t})
            rows.append({"dataset": d, "k": 4, "alpha": 0.1, "trial": t, "err": 6.0 + best + 0.12 * t})
    done = ledger.record_claims("10_peers", uci=pd.DataFrame(rows), params=_params(tmp_path))
    assert done == ["kmixup_uci", "kmixup_arrhythmia"]
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["kmixup_uci", "verdict"] == "reproduced"  # Iris alone; Breast Cancer (worse) is not counted
    # Arrhythmia's data is absent: not testable (its data cannot be had), not "not run" (a chapter that did not run)
    assert (
        t.loc["kmixup_arrhythmia", "verdict"] == "not testable"
        and "Arrhythmia" in t.loc["kmixup_arrhythmia", "statistic"]
    )
    assert "Breast Cancer left out" in t.loc["kmixup_uci", "ours"] and t.loc["kmixup_uci", "data"] == "paper"


def test_no_scaling_gives_breast_cancers_xi_with_iris():
    from zmixlib.chapters import peers

    f = peers.uci_xi_by_scaling(draws=100_000)
    matches = f[f["matches"]]
    assert "minmax" in set(matches.loc[matches["dataset"] == "Iris", "scaling"])
    assert matches[matches["dataset"] == "Breast Cancer"].empty
    assert peers.uci_consistent_test_sizes("Breast Cancer")[0] == 325
    assert 284 not in peers.uci_consistent_test_sizes("Breast Cancer")
    assert peers.uci_consistent_test_sizes("Iris") == [50, 100]


def test_chapter_10s_regime_check_applies_to_the_leaderboards_runs_only(tmp_path):
    failed = SimpleNamespace(as_evidence=lambda: {"regime_passed": False, "regime": "leaderboard ERM at 90 %"})
    uci = pd.DataFrame(
        [
            {"dataset": "iris", "k": k, "alpha": 0.1, "trial": t, "err": 6.0 - (k > 1) + 0.1 * t}
            for k in (1, 4)
            for t in range(4)
        ]
    )
    mm = pd.DataFrame(
        [
            {"dataset": "fmnist", "arch": "lenet5", "method": m, "gamma": None, "seed": s, "test_err": e + 0.001 * s}
            for m, e in (("multimix", 0.09), ("zeta_mixup", 0.10))
            for s in range(3)
        ]
    )
    ledger.record_claims("10_peers", uci=uci, runs_mm=mm, params=_params(tmp_path), regime=failed)
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["multimix", "verdict"] == "not testable"
    assert t.loc["kmixup_uci", "verdict"] == "reproduced"


def test_record_claims_for_sensitivity(tmp_path):
    curve = pd.DataFrame(
        [
            {
                "dataset": "fmnist",
                "arch": "lenet5",
                "method": "zeta_mixup",
                "gamma": g,
                "seed": s,
                "test_err": 0.10 + 0.001 * s,
            }
            for g in (1.0, 1.8, 2.8, 3.8, 4.8)
            for s in range(3)
        ]
    )
    mixup = pd.DataFrame(
        [
            {
                "dataset": "fmnist",
                "arch": "lenet5",
                "method": "mixup",
                "gamma": None,
                "seed": s,
                "test_err": 0.11 + 0.0012 * s,
            }
            for s in range(3)
        ]
    )
    rng = np.random.default_rng(0)
    g, wd = rng.uniform(1.0, 6.0, 60), 10 ** rng.uniform(np.log10(5e-5), -3, 60)
    inside = (g >= 1.72865) & (g <= 4.0) & (wd >= 5e-4)
    search = pd.DataFrame({"dataset": "fmnist", "arch": "lenet5", "seed": 0, "gamma": g, "weight_decay": wd})
    search["test_err"] = np.where(inside, 0.09, 0.11) + rng.normal(0, 0.002, 60)
    done = ledger.record_claims(
        "07_sensitivity", curve=curve, mixup_runs=mixup, search=search, params=_params(tmp_path)
    )
    assert done == ["sensitivity", "sensitivity_search"]
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["sensitivity", "verdict"] == "reproduced"
    assert t.loc["sensitivity", "statistic"].startswith("4 of 4 cells ≤ 0 (need 4)")  # γ = 1.0 < γ_min left out
    assert (
        t.loc["sensitivity_search", "verdict"] == "reproduced" and "Welch" in t.loc["sensitivity_search", "statistic"]
    )
    search["test_err"] = np.where(inside, 0.12, 0.10) + rng.normal(0, 0.002, 60)
    ledger.record_claims("07_sensitivity", search=search, params=_params(tmp_path))
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["sensitivity_search", "verdict"] == "contradicted"


def test_ties_count_only_where_the_paper_says_or_equal():
    tied = {"cells": cells(-1.0, -1.0, 0.0, -1.0, spread=0.0)}
    assert ledger.verdict(BY_ID["sensitivity"], tied)[0] == "reproduced"  # "lower or equal", 90 % of cells
    assert ledger.verdict(dataclasses.replace(BY_ID["natural"], need=1.0), tied)[0] == "inconclusive"


def test_record_claims_for_skin_takes_the_best_gamma(tmp_path):
    from zmixlib.chapters import skin

    level = {("erm", None): 0.70, ("mixup", None): 0.72, ("zeta_mixup", 2.4): 0.71, ("zeta_mixup", 2.8): 0.76}
    runs = pd.DataFrame(
        [
            {"dataset": "breast-cancer", "arch": "mlp", "method": m, "gamma": g, "seed": s,
             **{f"test_{c}": v + 0.002 * s for c in ("bal_acc", "f1_micro", "f1_macro")}}
            for (m, g), v in level.items()
            for s in range(3)
        ]
    )  # fmt: skip
    pairs = skin.paired(runs, metric="ACC_bal_percent")
    done = ledger.record_claims("05_skin", runs=runs, pairs=pairs, knn_pairs=None, params=_params(tmp_path))
    assert done == ["skin_f1", "skin"]
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["skin", "verdict"] == "reproduced" and "(γ = 2.8)" in str(
        ledger.evidence(tmp_path, "offline")["skin"]["cells"]
    )
    assert t.loc["skin_f1", "verdict"] == "reproduced" and t.loc["skin_f1", "statistic"].startswith("4 of 4 cells")


def test_timing_ratio_with_its_spread_over_rounds(tmp_path):
    t9 = pd.DataFrame(
        {"ratio_to_reference": [1.0, 2.1], "ratio_q1": [1.0, 1.9], "ratio_q3": [1.0, 2.3]},
        index=["zeta_mixup", "mixup"],
    )
    t9.attrs.update(batch_shape=[32, 3, 224, 224], dtype="float32", device="cpu")
    assert ledger.record_claims("09_timing", t9=t9, tr=None, params=_params(tmp_path)) == ["speed"]
    v, stat = ledger.verdict(BY_ID["speed"], ledger.evidence(tmp_path, "offline")["speed"])
    assert v == "inconclusive" and "[1.9, 2.3]" in stat


def test_kmixup_table1_is_best_against_best(tmp_path):
    rows = []
    for s in range(3):
        rows.append({"method": "erm", "alpha": None, "extra": (), "seed": s, "test_err": 0.12})
        for a, e in ((0.1, 0.105), (1.0, 0.100)):  # 1-mixup: the best is α = 1
            rows.append({"method": "mixup", "alpha": a, "extra": (), "seed": s, "test_err": e + 0.001 * s})
        for k, a, e in ((4, 0.3, 0.098), (16, 2.0, 0.094)):  # best k > 1: k = 16
            rows.append({"method": "kmixup", "alpha": a, "extra": (("k", k),), "seed": s, "test_err": e + 0.0011 * s})
    runs_1 = pd.DataFrame(rows).assign(dataset="fmnist", arch="lenet5")
    assert ledger.record_claims("10_peers", runs_1=runs_1, params=_params(tmp_path)) == ["kmixup_table1"]
    entry = ledger.evidence(tmp_path, "offline")["kmixup_table1"]
    assert entry["cells"][0]["diffs"] == pytest.approx([-0.6, -0.59, -0.58])
    assert ledger.verdict(BY_ID["kmixup_table1"], entry)[0] == "reproduced"


def test_a_search_with_too_few_models_in_the_box_is_not_testable(tmp_path):
    (g0, g1), (w0, w1) = ledger.SEARCH_BOX["gamma"], ledger.SEARCH_BOX["weight_decay"]
    rows = [{"dataset": "D", "arch": "net", "gamma": g1 + 1.0, "weight_decay": w0 / 2, "test_err": 0.1, "seed": 0}] * 5
    rows.append({"dataset": "D", "arch": "net", "gamma": (g0 + g1) / 2, "weight_decay": w1, "test_err": 0.1, "seed": 0})
    search = pd.DataFrame(rows)
    ledger.record_claims("07_sensitivity", search=search, params=_params(tmp_path))
    t = ledger.table(tmp_path, "offline", build="", links=False).set_index(pd.Index([c.id for c in ledger.CLAIMS]))
    assert t.loc["sensitivity_search", "verdict"] == "not testable"
    assert "1 of the 6 search models lie inside" in t.loc["sensitivity_search", "statistic"]
