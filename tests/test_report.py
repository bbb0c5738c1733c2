"""zmixlib.tables.report (sweep folders, failures, labels, paper-beside-ours tables, paired summaries, curves) and
chapter 04's own tables (zmixlib.chapters.natural)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from zmixlib.chapters import natural
from zmixlib.core.theory import GAMMA_MIN
from zmixlib.engine import store
from zmixlib.engine.runspec import RunRecord, RunSpec
from zmixlib.engine.sweep import SweepReport
from zmixlib.tables import paper, report

METHODS = [("erm", None), ("mixup", None), ("zeta_mixup", 2.4), ("zeta_mixup", (GAMMA_MIN, 4.0))]


def _record(method, gamma, seed, err, dataset="digits", arch="digits_cnn"):
    alpha = 1.0 if method == "mixup" else None
    spec = RunSpec(dataset=dataset, arch=arch, method=method, gamma=gamma, alpha=alpha, seed=seed, section="natural")
    history = [{"epoch": 1, "test_err": 0.5}, {"epoch": 2, "test_err": err}]
    env = {"device_name": "x86_64"}  # what platform.processor() reports on a Linux CPU
    return RunRecord(spec=spec, history=history, metrics={"test_err": err}, environment=env, complete=True)


@pytest.fixture
def swept(tmp_path):
    """Records of 4 methods x 3 seeds; ζ-mixup is 1 point (percent) below mixup on every seed."""
    base = {"erm": 0.05, "mixup": 0.04, "zeta_mixup": 0.03}
    specs = []
    for method, gamma in METHODS:
        for seed in range(3):
            rec = _record(method, gamma, seed, base[method] + 0.001 * seed)
            store.save(rec, tmp_path)
            specs.append(rec.spec)
    store.save(_record("erm", None, 7, 0.9), tmp_path)  # another matrix's run in the same folder
    return tmp_path, specs


def test_sweep_dir_keys_smoke_and_offline_by_profile():
    assert report.sweep_dir("results", "smoke") == Path("results/smoke")
    assert report.sweep_dir("results", "offline") == Path("results/offline")
    assert report.sweep_dir("results", "paper") == Path("results")  # where `make paper` writes
    with pytest.raises(ValueError, match="profile must be one of"):
        report.sweep_dir("results", "fast")


def test_raise_failures_names_missing_data():
    spec = RunSpec(dataset="CIFAR-10")
    report.raise_failures(SweepReport(done=[spec]))  # nothing failed: no error
    msg = "FileNotFoundError: CIFAR-10 not found at data/cifar-10-batches-py; run `make data DATASETS=CIFAR-10`"
    failed = SweepReport(failed=[(spec, f"Traceback ...\n{msg}\n"), (spec.replace(seed=1), msg)])
    with pytest.raises(FileNotFoundError, match=r"2 of 2 run\(s\) failed:\nCIFAR-10 not found at .*make data"):
        report.raise_failures(failed)
    other = SweepReport(done=[spec], failed=[(spec, "Traceback\nFloatingPointError: non-finite loss")])
    with pytest.raises(RuntimeError, match=r"1 of 2 run\(s\) failed:\nFloatingPointError: non-finite loss"):
        report.raise_failures(other)


def test_load_runs_keeps_only_the_matrix(swept):
    folder, specs = swept
    runs, history = report.load_runs(specs, folder)
    assert len(runs) == 12 and set(runs["run_id"]) == {s.run_id for s in specs}
    assert len(history) == 24 and 7 not in set(runs["seed"])
    empty, _ = report.load_runs(specs, folder / "nothing-here")
    assert empty.empty


@pytest.mark.parametrize(
    ("method", "gamma", "alpha", "expected"),
    [
        ("erm", None, None, "ERM"),
        ("ERM", math.nan, None, "ERM"),
        ("mixup", None, 1.0, "mixup"),
        ("mixup", None, 0.2, "mixup (α = 0.2)"),
        ("zeta_mixup", 4.0, None, "ζ-mixup (γ = 4.0)"),
        ("zeta-mixup", "2.4", None, "ζ-mixup (γ = 2.4)"),
        ("zeta_mixup", (GAMMA_MIN, 4.0), None, "ζ-mixup (γ ~ U[1.729, 4.0])"),
        ("zeta-mixup", "U[1.72865,4.0]", None, "ζ-mixup (γ ~ U[1.729, 4.0])"),  # the paper table's spelling
    ],
)
def test_method_label_is_shared_by_ours_and_the_paper(method, gamma, alpha, expected):
    assert report.method_label(method, gamma, alpha) == expected


def test_beside_paper_puts_ours_next_to_table4_and_midl(swept):
    runs, _ = report.load_runs(swept[1], swept[0])
    table = report.beside_paper(runs, profile="offline", sources=natural.SOURCES)
    assert list(table.index) == ["ERM", "mixup", "ζ-mixup (γ = 2.4)", "ζ-mixup (γ ~ U[1.729, 4.0])"]
    ours = "ours (offline: digits, digits_cnn, 3 seeds, cpu)"
    assert list(table.columns)[:2] == ["paper (CIFAR-10, ResNet-18)", "paper (CIFAR-100, ResNet-18)"]
    assert list(table.columns)[-1] == ours and len(table.columns) == 7  # six paper datasets, then ours
    assert table.loc["ERM", "paper (CIFAR-10, ResNet-18)"] == "5.48"
    assert table.loc["ζ-mixup (γ ~ U[1.729, 4.0])", "paper (CIFAR-100, ResNet-18)"] == "21.35"  # MIDL Table 1
    assert table.loc["ζ-mixup (γ ~ U[1.729, 4.0])", "paper (STL-10, ResNet-18)"] == "—"
    assert table.loc["mixup", ours] == "4.10 ± 0.10"  # percent, mean ± sd over the 3 seeds


def test_beside_paper_keeps_only_the_datasets_run_at_paper_scale(tmp_path):
    for seed in range(2):
        store.save(_record("erm", None, seed, 0.055, dataset="CIFAR-10", arch="resnet18_cifar"), tmp_path)
    store.save(_record("mixup", None, 0, 0.047, dataset="CIFAR-10", arch="resnet18_cifar"), tmp_path)
    table = report.beside_paper(store.load(tmp_path), profile="paper", sources=natural.SOURCES)
    assert list(table.columns) == [
        "paper (CIFAR-10, ResNet-18)",
        "ours (paper: CIFAR-10, resnet18_cifar, 2 seeds, cpu)",
    ]
    assert table.iloc[:, 1].tolist() == ["5.50 ± 0.00", "4.70 (n = 1)"]
    cmp = report.paper_differences(store.load(tmp_path), sources=natural.SOURCES)
    assert set(cmp["dataset"]) == {"CIFAR-10"} and len(cmp) >= 2


def test_paired_summary_counts_seeds_won(swept):
    runs, _ = report.load_runs(swept[1], swept[0])
    pairs = paper.paired(runs, metric="ERR_percent")
    wide = natural.paired_table(pairs)
    assert wide.shape == (3, 2) and wide.to_numpy().ravel().tolist() == pytest.approx([-1.0] * 6)
    summary = report.paired_summary(pairs)
    assert wide.columns.name == "ζ-mixup − mixup"
    row = summary.loc[("digits", "digits_cnn", "ζ-mixup (γ = 2.4) − mixup")]
    assert row["mean difference"] == pytest.approx(-1.0) and row["pairs (seeds)"] == 3
    assert row["better / tied / worse"] == "3 / 0 / 0"
    text = report.reading(runs, pairs, profile="smoke")
    assert "ζ-mixup (γ = 2.4) − mixup: -1.00" in text and "3 / 0 / 0" in text
    assert report.paired_summary(pd.DataFrame()).empty


def test_curves_long_form_in_percent(swept):
    _, history = report.load_runs(swept[1], swept[0])
    c = report.curves(history)
    assert list(c.columns) == ["panel", "curve", "method", "seed", "epoch", "value"]
    assert set(c["panel"]) == {"digits (digits_cnn)"} and c["value"].max() == pytest.approx(50.0)
    assert list(c["curve"].cat.categories)[0] == "ERM"
    with pytest.raises(ValueError, match="history has no column 'test_auc'"):
        report.curves(history, metric="test_auc")


def test_paired_summary_keeps_given_comparisons_and_renames_columns():
    comparisons = ["x − y", "x − y", "x − z", "x − z"]
    pairs = pd.DataFrame({"dataset": list("BBAA"), "arch": "net", "comparison": comparisons, "diff": [-1, -2, 0.5, 0]})
    s = report.paired_summary(pairs, columns={"arch": "model", "better / tied / worse": "lower / tied / higher"})
    assert list(s.index) == [("B", "net", "x − y"), ("A", "net", "x − z")]  # in the order given, not sorted
    assert s.index.names == ["dataset", "model", "comparison"]
    assert s["lower / tied / higher"].tolist() == ["2 / 0 / 0", "0 / 1 / 1"]
    assert s["mean difference"].tolist() == [-1.5, 0.25]


def test_provenance_and_device_text(swept):
    runs, _ = report.load_runs(swept[1], swept[0])
    assert report.device_text(runs) == "cpu"
    assert report.device_text(runs.drop(columns="device_name")) == "device unknown"
    assert report.provenance(runs, "smoke") == "smoke: digits (digits_cnn), 3 seeds, cpu"
    assert report.provenance(runs, "smoke", what="the first 8 draws") == (
        "smoke: digits (digits_cnn), the first 8 draws, 3 seeds, cpu"
    )
    assert report.provenance(runs.iloc[:0], "smoke") == "smoke: no runs"


def test_natural_summary_stacks_both_baselines(swept):
    runs, history = report.load_runs(swept[1], swept[0])
    s = natural.summary_vs_baselines(runs)
    both = [paper.paired(runs, metric="ERR_percent", baseline=b) for b in ("mixup", "erm")]
    pd.testing.assert_frame_equal(s, report.paired_summary(pd.concat(both, ignore_index=True)))
    assert {c.split(" − ")[1] for c in s.index.get_level_values("comparison")} == {"mixup", "ERM"}
    assert natural.cutmix_pairs(runs).empty  # no CutMix run here
    assert report.paper_differences(runs, sources=natural.SOURCES) is None  # digits is no paper dataset
    fig = natural.curves_figure(runs, history, profile="smoke")
    assert fig._suptitle.get_text().endswith("— smoke: digits (digits_cnn), 3 seeds, cpu")
