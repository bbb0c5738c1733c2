"""The regime check (zmixlib.protocol.regime), the offline regime in the recipes, runs shared by spec, sparse evaluation."""

from __future__ import annotations

import hashlib
import json
import math
from types import SimpleNamespace

import pandas as pd
import pytest

from zmixlib.engine.runspec import EXECUTION_FIELDS, RunSpec
from zmixlib.engine.train import evaluated, fit
from zmixlib.protocol import recipes, regime
from zmixlib.tables import report


def _history(accs: dict[tuple[str, int], list[float]], method: str = "erm") -> pd.DataFrame:
    rows = []
    for (dataset, seed), curve in accs.items():
        for epoch, acc in enumerate(curve, start=1):
            rows.append(
                {
                    "run_id": f"{dataset}-{seed}-{method}",
                    "method": method,
                    "dataset": dataset,
                    "arch": "lenet5",
                    "seed": seed,
                    "epoch": epoch,
                    "train_acc": acc,
                }
            )
    return pd.DataFrame(rows)


def test_check_passes_when_every_erm_run_fits():
    h = _history({("Fashion-MNIST", 0): [0.8, 0.95, 0.991, 0.999], ("Fashion-MNIST", 1): [0.8, 0.99, 0.995, 1.0]})
    rc = regime.check(h)
    assert rc.passed is True and rc.why == ""
    row = rc.table.iloc[0]
    assert row["final train acc, min (%)"] == pytest.approx(99.9)
    assert row["first epoch ≥ 99 %"] == "3, 2"
    assert rc.as_evidence() == {"regime_passed": True, "regime": rc.text}
    assert "passes" in rc.text and "99.9 %" in rc.text


def test_check_fails_when_one_seed_underfits_and_says_why():
    h = _history({("Fashion-MNIST", 0): [0.8, 0.999], ("Fashion-MNIST", 1): [0.7, 0.88]})
    rc = regime.check(h)
    assert rc.passed is False
    assert "88.0 %" in rc.why and "not testable" in rc.why
    assert rc.table.iloc[0]["first epoch ≥ 99 %"] == "2, never"
    assert "fails" in rc._repr_html_()


def test_check_ignores_other_methods_and_reports_no_baseline():
    mix = _history({("digits", 0): [0.5, 0.6]}, method="mixup")
    assert regime.check(mix).passed is None
    both = pd.concat([mix, _history({("digits", 0): [0.9, 1.0]})])
    assert regime.check(both).passed is True  # mixup's low training accuracy (mixed targets) is not the check


def test_check_rejects_a_frame_without_the_columns_it_reads():
    with pytest.raises(ValueError, match="train_acc"):
        regime.check(pd.DataFrame({"method": ["erm"], "run_id": ["x"]}))
    with pytest.raises(ValueError, match="threshold"):
        regime.check(pd.DataFrame(), threshold=1.5)


def test_guarded_reading_says_not_testable_only_when_the_check_fails():
    ok = regime.check(_history({("d", 0): [1.0]}))
    bad = regime.check(_history({("d", 0): [0.5]}))
    assert report.guarded(ok, "numbers") == "numbers"
    assert report.guarded(bad, "numbers").startswith("NOT TESTABLE AT THIS BUDGET")
    assert report.guarded(bad, "numbers").endswith("numbers")


def test_baseline_matrix_is_the_erm_twin_of_each_run():
    m = recipes.resolve("ablation", "offline")
    twins = regime.baseline_matrix(m)
    seeds = sorted({s.seed for s in m})
    natural_erm = recipes.resolve("natural", "offline", methods=["erm"], datasets=["Fashion-MNIST"], seeds=seeds)
    assert {t.run_id for t in twins} == {s.run_id for s in natural_erm}  # chapter 08 reads chapter 04's ERM runs


# ------------------------------------------------------------------------------------------ offline regime


@pytest.mark.parametrize("dataset", ["Fashion-MNIST", "MNIST-10k", "Fashion-MNIST-imb5", "digits", "breast-cancer"])
def test_offline_recipes_train_at_the_full_lr_for_half_the_epochs(dataset):
    r = recipes.recipe_for(dataset, "offline")
    assert r.milestones and r.milestones[0] >= r.epochs / 2, r


def test_offline_real_images_are_evaluated_on_the_whole_test_split_every_tenth_epoch():
    for dataset, epochs in (("Fashion-MNIST", 60), ("MNIST-10k", 50)):
        spec = recipes.spec_for(dataset, profile="offline")
        assert spec.eval_subset is None and spec.eval_every == 10 and spec.epochs == epochs
        assert [e for e in range(1, spec.epochs + 1) if evaluated(spec, e)] == list(range(10, epochs + 1, 10))


def test_the_cli_trains_the_schedule_a_chapter_trains():
    natural_erm = [s for s in recipes.resolve("natural", "offline", methods=["erm"]) if s.dataset == "Fashion-MNIST"]
    cli = recipes.spec_for(
        "Fashion-MNIST", profile="offline", method="erm", section="natural", seed=natural_erm[0].seed
    )
    assert cli.run_id == natural_erm[0].run_id


def test_chapters_share_runs_of_one_protocol():
    natural = {s.run_id for s in recipes.resolve("natural", "offline")}
    for section, method in (("ablation", "mixup"), ("sensitivity", "zeta_mixup"), ("peers", "erm"), ("peers", "mixup")):
        ids = {s.run_id for s in recipes.resolve(section, "offline") if s.method == method}
        if method == "zeta_mixup":  # the curve's γ = 2.8 only
            ids = {s.run_id for s in recipes.resolve(section, "offline", gammas=[2.8])}
        assert ids and ids <= natural, (section, method)
    cutmix = {s.run_id for s in recipes.resolve("cutmix", "offline")}
    peers = {s.run_id for s in recipes.resolve("peers", "offline") if s.method.startswith("cutmix")}
    assert peers == cutmix
    # a protocol of its own stays apart: MedMNIST's runs train on "fit"
    assert not {s.run_id for s in recipes.resolve("medmnist", "offline")} & natural


# ------------------------------------------------------------------------------------------ eval_every


def test_eval_every_unset_leaves_run_ids_as_they_were():
    spec = RunSpec(dataset="digits", method="mixup", alpha=1.0, epochs=3)
    d = {k: v for k, v in spec.to_dict().items() if k not in EXECUTION_FIELDS and k != "eval_every"}
    old = hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
    assert spec.run_id == old
    assert spec.replace(eval_every=2).run_id != old
    with pytest.raises(ValueError, match="eval_every"):
        RunSpec(dataset="digits", eval_every=0)


@pytest.mark.slow
def test_fit_evaluates_every_eval_every_th_epoch_and_the_last():
    spec = RunSpec(
        dataset="digits",
        arch="digits_cnn",
        epochs=5,
        batch_size=64,
        lr=0.05,
        train_subset=128,
        eval_subset=64,
        eval_every=2,
        device="cpu",
    )
    rec = fit(spec, results_dir=None, progress=False)
    evaluated_epochs = [h["epoch"] for h in rec.history if "test_acc" in h]
    assert evaluated_epochs == [2, 4, 5]
    assert all("train_acc" in h for h in rec.history)
    assert rec.metrics["test_acc"] == rec.history[-1]["test_acc"]


def test_train_checked_says_not_testable_when_training_is_cut(tmp_path):
    params = SimpleNamespace(profile="smoke", results_dir=tmp_path, workers=None, threads=1)
    m = recipes.resolve("ablation", "smoke", datasets=["digits"], epochs=1, train_subset=64, eval_subset=32)
    runs, history, rc = report.train_checked(m, params)
    assert set(runs["method"]) == {"mixup", "zeta_mixup", "dirichlet_mixup"}  # ERM trained for the check, not shown
    assert rc.passed is False and not math.isnan(rc.table.iloc[0]["final train acc, min (%)"])
    assert "1 epochs" in rc.why


@pytest.mark.slow
def test_the_training_line_counts_damaged_records_set_aside(tmp_path, capsys):
    params = SimpleNamespace(profile="smoke", results_dir=tmp_path, workers=None, threads=1)
    m = recipes.resolve(
        "natural", "smoke", datasets=["digits"], methods=["erm"], epochs=1, train_subset=64, eval_subset=32
    )
    runs, _ = report.train(m, params)
    first = capsys.readouterr().out
    assert "1 trained" in first and "set aside" not in first
    record = tmp_path / "smoke" / m[0].section / f"{m[0].run_id}.json"
    record.write_text('{"trunc')
    with pytest.warns(Warning):
        again, _ = report.train(m, params)
    line = capsys.readouterr().out
    assert "1 trained" in line and "1 damaged record set aside" in line and f"{m[0].run_id}.json.corrupt-" in line
    assert again["test_acc"].tolist() == runs["test_acc"].tolist()


# ---- boundaries (issue 26): the threshold itself passes; the final epoch counts, not the best one


@pytest.mark.parametrize("threshold", [regime.THRESHOLD, 0.9, 0.75, 1.0])
def test_a_final_accuracy_exactly_at_the_threshold_passes(threshold):
    h = _history({("digits", 0): [0.5, threshold], ("digits", 1): [0.4, 1.0]})
    rc = regime.check(h, threshold=threshold)
    assert rc.passed is True and rc.why == ""
    assert rc.table.iloc[0]["passes"] == "yes"
    assert rc.table.iloc[0][f"first epoch ≥ {100 * threshold:g} %"] == "2, 2"  # reached at exactly the threshold


def test_a_final_accuracy_just_below_the_threshold_fails():
    below = math.nextafter(regime.THRESHOLD, 0.0)
    rc = regime.check(_history({("digits", 0): [0.5, below]}))
    assert rc.passed is False and "not testable" in rc.why


def test_a_late_dip_below_the_threshold_fails_although_the_peak_passed():
    # ERM fitted its training set at epochs 2-3 and ended below the threshold: the final epoch is what counts
    h = _history({("digits", 0): [0.8, 0.995, 1.0, 0.985], ("digits", 1): [0.9, 0.999, 1.0, 1.0]})
    rc = regime.check(h)
    assert rc.passed is False
    row = rc.table.iloc[0]
    assert row["final train acc, min (%)"] == pytest.approx(98.5)
    assert row["final train acc, mean (%)"] == pytest.approx(99.25)
    assert row["first epoch ≥ 99 %"] == "2, 2"
    assert "98.5 %" in rc.why and "after 4 epochs" in rc.why


def test_the_final_epoch_is_the_last_by_epoch_number_not_by_row_order():
    h = _history({("digits", 0): [0.6, 0.995, 0.97]}).iloc[[1, 2, 0]]  # rows out of order: last row is epoch 1
    rc = regime.check(h)
    assert rc.passed is False and rc.table.iloc[0]["final train acc, min (%)"] == pytest.approx(97.0)
    ok = _history({("digits", 0): [0.6, 0.97, 0.995]}).iloc[[2, 0, 1]]  # the last epoch passes, the last row not
    assert regime.check(ok).passed is True


def test_a_late_recovery_to_the_threshold_passes():
    h = _history({("digits", 0): [0.999, 0.95, regime.THRESHOLD]})
    assert regime.check(h).passed is True


# ---- the whole output pinned (issue 26's mutation gate): every word of the line the page and the ledger print


def test_the_check_text_table_and_html_are_exactly_these():
    h = pd.concat(
        [
            _history({("digits", 0): [0.5, 0.995], ("digits", 1): [0.6, 0.999]}),
            _history({("MNIST-10k", 3): [0.4, 0.9, 0.97]}),
            _history({("digits", 0): [0.1, 0.2]}, method="mixup"),  # another method: ignored
        ]
    )
    rc = regime.check(h)
    why = (
        "ERM does not fit its training set (below 99 %: MNIST-10k (lenet5): 97.0 % after 3 epochs): it underfits, "
        "so a regulariser cannot show what it is for — these runs cannot test the claims (not testable at this budget)"
    )
    parts = (
        "digits (lenet5): 99.5 % final training accuracy (min over 2 seeds), ≥ 99 % from epoch 2, 2; "
        "MNIST-10k (lenet5): 97.0 % final training accuracy (min over 1 seed), ≥ 99 % from epoch never"
    )
    assert rc.passed is False and rc.why == why
    assert rc.text == f"FAILS: {why}. {parts}" and str(rc) == rc.text
    assert rc.as_evidence() == {"regime_passed": False, "regime": rc.text}
    assert rc.table.to_dict("records") == [
        {
            "dataset": "digits",
            "arch": "lenet5",
            "erm runs": 2,
            "epochs": 2,
            "final train acc, min (%)": 99.5,
            "final train acc, mean (%)": 99.7,
            "first epoch ≥ 99 %": "2, 2",
            "passes": "yes",
        },
        {
            "dataset": "MNIST-10k",
            "arch": "lenet5",
            "erm runs": 1,
            "epochs": 3,
            "final train acc, min (%)": 97.0,
            "final train acc, mean (%)": 97.0,
            "first epoch ≥ 99 %": "never",
            "passes": "no",
        },
    ]
    assert rc._repr_html_() == (f"<p><b>Regime check (fails).</b> {rc.text}</p>" + rc.table.to_html(index=False))
    ok = regime.check(_history({("digits", 0): [0.5, 0.995]}))
    assert ok.text == (
        "passes: ERM fits its training set — digits (lenet5): 99.5 % final training accuracy (min over 1 seed), "
        "≥ 99 % from epoch 2"
    )
    assert ok.why == "" and ok._repr_html_().startswith("<p><b>Regime check (passes).</b> passes: ERM fits")
    none = regime.check(_history({("digits", 0): [0.5]}, method="mixup"))
    assert (none.passed, none.text, none.why) == (
        None,
        "no erm run among these records: the regime cannot be checked",
        "no baseline run",
    )
    assert none._repr_html_() == "<p><b>Regime check (cannot be checked).</b> " + none.text + "</p>"
    assert regime.check(None).passed is None


def test_another_baseline_is_named_as_given_and_the_html_is_escaped():
    h = _history({("a<b&c", 0): [0.2, 0.5]}, method="mixup")
    rc = regime.check(h, baseline="mixup", threshold=0.5)
    assert rc.passed is True and rc.text.startswith("passes: mixup fits its training set — a<b&c (lenet5): 50.0 %")
    assert "≥ 50 % from epoch 2" in rc.text and rc.table.iloc[0]["mixup runs"] == 1
    assert "a&lt;b&amp;c" in rc._repr_html_().split("</p>")[0] and "a<b" not in rc._repr_html_().split("</p>")[0]
    bad = regime.check(_history({("d", 0): [0.2, 0.4]}, method="mixup"), baseline="mixup", threshold=0.5)
    assert bad.why.startswith("mixup does not fit its training set (below 50 %: d (lenet5): 40.0 % after 2 epochs)")


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.0000001, 2])
def test_a_threshold_outside_0_1_is_refused(threshold):
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\], got"):
        regime.check(_history({("d", 0): [1.0]}), threshold=threshold)


def test_the_missing_columns_are_named_in_order():
    h = _history({("d", 0): [1.0]}).drop(columns=["seed", "arch"])
    with pytest.raises(ValueError, match=r"history lacks column\(s\) \['arch', 'seed'\]; pass the history frame"):
        regime.check(h)


def test_seeds_are_listed_in_seed_order_and_percentages_keep_two_decimals():
    # seed 1's rows come first in the frame; the text and the table list seed 0 first
    h = pd.concat([_history({("digits", 1): [0.5, 0.9, 0.99456]}), _history({("digits", 0): [0.995, 0.999]})])
    rc = regime.check(h)
    row = rc.table.iloc[0]
    assert row["first epoch ≥ 99 %"] == "1, 3" and row["epochs"] == 3
    assert row["final train acc, min (%)"] == 99.46 and row["final train acc, mean (%)"] == 99.68


def test_several_settings_are_joined_by_semicolons_passing_and_failing():
    good = regime.check(_history({("a", 0): [0.995], ("b", 0): [0.999]}))
    assert good.text == (
        "passes: ERM fits its training set — a (lenet5): 99.5 % final training accuracy (min over 1 seed), ≥ 99 % "
        "from epoch 1; b (lenet5): 99.9 % final training accuracy (min over 1 seed), ≥ 99 % from epoch 1"
    )
    bad = regime.check(_history({("a", 0): [0.5], ("b", 0): [0.6, 0.7]}))
    assert "(below 99 %: a (lenet5): 50.0 % after 1 epochs; b (lenet5): 70.0 % after 2 epochs): it underfits" in bad.why


def test_accuracies_read_back_as_text_are_compared_as_numbers():
    # a history read from CSV without dtypes holds strings: the check converts them, it does not compare text
    h = _history({("digits", 0): [0.5, 0.995, 0.999]})
    rc = regime.check(h.assign(train_acc=h["train_acc"].map(str)))
    assert rc.passed is True and rc.table.iloc[0]["first epoch ≥ 99 %"] == "2"


def test_html_escapes_every_markup_character():
    rc = regime.check(_history({("a<b>&c", 0): [0.995]}))
    head = rc._repr_html_().split("</p>")[0]
    assert "a&lt;b&gt;&amp;c" in head and "<b>&" not in head.replace("<b>Regime", "")


def test_the_baseline_twin_drops_every_method_setting():
    spec = RunSpec(dataset="digits", method="kmixup", alpha=1.0, extra=(("k", 16),), seed=2, epochs=3)
    mm = RunSpec(dataset="digits", method="manifold_mixup", alpha=2.0, space="manifold", seed=2, epochs=3)
    twins = regime.baseline_matrix([spec, mm])
    assert len(twins) == 1  # both have the same ERM twin
    [t] = twins
    erm = RunSpec(dataset="digits", method="erm", seed=2, epochs=3)
    assert (t.method, t.gamma, t.alpha, t.num_mix, t.extra, t.space) == ("erm", None, None, None, (), erm.space)
    assert t.run_id == erm.run_id
