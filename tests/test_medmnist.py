"""Chapter 06 (MedMNIST, Table 7): the held-out validation splits of the stand-ins, the paper's run matrix against
Table 7, the epoch choice of the MedMNIST protocol, the tables and the ledger's evidence."""

from __future__ import annotations

import hashlib
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from zmixlib import data
from zmixlib.chapters import medmnist
from zmixlib.core.util import ROOT
from zmixlib.data import mnist10k
from zmixlib.data._base import held_out_indices, split_of_train
from zmixlib.protocol import recipes
from zmixlib.tables import paper

try:
    from tests import dataset_fixtures as fx
except ImportError:  # run from inside tests/
    import dataset_fixtures as fx

FMNIST_VAL_SHA256 = "1f0590568c6766c7e57add7d0a10b795628c1d4e643ed263ab5fc8ae964ac665"
MNIST10K_VAL_SHA256 = "7e218db8440dbaef355235a61d69a43bfe64abd07028fb2b5ea79fc6dc67cda6"


def _sha(idx) -> str:
    return hashlib.sha256(np.asarray(idx, dtype=np.int64).tobytes()).hexdigest()


def _assert_partition(train_n: int, fit, val, labels=None) -> None:
    fit, val = np.asarray(fit), np.asarray(val)
    assert len(np.intersect1d(fit, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([fit, val])), np.arange(train_n))
    if labels is not None:  # stratified: round(10 %) of every class
        labels = np.asarray(labels)
        for c in np.unique(labels):
            assert (labels[val] == c).sum() == round(0.1 * (labels == c).sum())


# ------------------------------------------------------------------------------------- the held-out splits


class TestHeldOutSplits:
    def test_derivation_is_pinned(self):
        # the split is derived from the labels, never stored: a change of the rule must fail here
        labels = np.array([2, 0, 1, 1, 0, 2, 2, 1, 0, 2, 1, 0, 2, 2, 1, 0, 0, 1, 2, 2] * 3)
        assert held_out_indices(labels).tolist() == [4, 18, 21, 33, 37, 42]
        assert held_out_indices(labels, fraction=0.25, seed=3).tolist() == [
            4,
            8,
            9,
            14,
            22,
            23,
            30,
            33,
            36,
            46,
            48,
            53,
            58,
            59,
        ]

    def test_fit_and_val_partition_train_stratified(self):
        labels = np.random.default_rng(1).integers(0, 7, 503)
        fit, val = split_of_train(labels, "fit"), split_of_train(labels, "val")
        _assert_partition(len(labels), fit, val, labels)
        assert np.array_equal(split_of_train(labels, "train"), np.arange(503))
        with pytest.raises(ValueError, match="split must be one of .*got 'test'"):
            split_of_train(labels, "test")

    def test_mnist10k_three_splits_disjoint_and_cover(self):
        counts = mnist10k.stored_split()["class_counts"]
        labels = np.repeat(np.arange(10), counts)
        train, test = mnist10k.split_indices(labels, "train"), mnist10k.split_indices(labels, "test")
        fit, val = mnist10k.split_indices(labels, "fit"), mnist10k.split_indices(labels, "val")
        assert len(fit) == 7200 and len(val) == 800
        assert len(np.intersect1d(fit, test)) == len(np.intersect1d(val, test)) == 0
        assert np.array_equal(np.sort(np.concatenate([fit, val])), train)
        assert np.array_equal(np.sort(np.concatenate([fit, val, test])), np.arange(10_000))
        assert _sha(val) == MNIST10K_VAL_SHA256
        assert "fit" in data.describe("MNIST-10k").splits and "val" in data.describe("MNIST-10k").splits

    def test_fashion_mnist_fixture(self, tmp_path):
        train = [i % 10 for i in range(60)]
        fx.make_mnist(tmp_path, "FashionMNIST", train=train, test=(9, 2, 6))
        fit, val = (data.load("Fashion-MNIST", s, root=tmp_path) for s in ("fit", "val"))
        _assert_partition(60, fit.indices, val.indices, train)
        assert len(val) == 10 and len(data.load("Fashion-MNIST", "test", root=tmp_path)) == 3
        for ds in (fit, val):  # images and labels stay paired
            for i in range(len(ds)):
                x, y = ds[i]
                assert round(float(x.mean()) * 255) == fx.pixel(y) and y == train[ds.indices[i]]

    def test_digits_stand_in(self):
        train, fit, val, test = (data.load("digits", s) for s in ("train", "fit", "val", "test"))
        assert len(fit) + len(val) == len(train) and 0.09 < len(val) / len(train) < 0.11
        rows = lambda ds: {tuple(r) for r in ds.X.reshape(len(ds), -1).numpy().round(4).tolist()}
        assert rows(fit) | rows(val) == rows(train)
        assert not (rows(fit) & rows(val)) and not (rows(val) & rows(test))

    @pytest.mark.parametrize("name", ["Fashion-MNIST", "MNIST-10k"])
    def test_real_files(self, name):
        root = ROOT / "data"
        try:
            splits = {s: data.load(name, s, root=root) for s in ("train", "fit", "val", "test")}
        except FileNotFoundError:
            pytest.skip(f"{name} is not under {root}")
        n = {s: len(d) for s, d in splits.items()}
        assert n["fit"] + n["val"] == n["train"] and n["val"] == {"Fashion-MNIST": 6000, "MNIST-10k": 800}[name]
        if name == "Fashion-MNIST":
            assert _sha(splits["val"].indices) == FMNIST_VAL_SHA256
            _assert_partition(n["train"], splits["fit"].indices, splits["val"].indices, splits["train"].targets)
        else:  # the same images, split without overlap
            key = lambda d: sorted(hashlib.sha1(img.tobytes()).hexdigest() for img in d.data.numpy())
            assert sorted(key(splits["fit"]) + key(splits["val"])) == key(splits["train"])


# ----------------------------------------------------------------------------------------- run matrices


class TestMatrix:
    def test_paper_matrix_is_table7(self):
        m = recipes.resolve("medmnist", "paper")
        t7 = paper.paper_table("medmnist-table7")
        assert [d for d in dict.fromkeys(s.dataset for s in m)] == list(recipes.MEDMNIST_DATASETS)
        assert len(recipes.MEDMNIST_DATASETS) == 10
        cells = {(s.method, s.gamma, s.alpha) for s in m}
        assert cells == {("erm", None, None), ("mixup", None, 1.0), ("zeta_mixup", 2.8, None)}
        assert sorted({s.seed for s in m}) == [0, 1, 2] and len(m) == 10 * 3 * 3
        fields = {
            (s.arch, s.epochs, s.batch_size, s.lr, s.milestones, s.lr_gamma, s.train_split, s.eval_splits) for s in m
        }
        assert fields == {("resnet18_cifar", 100, 128, 0.01, (50, 75), 0.1, "train", ("val", "test"))}
        assert {(s.momentum, s.nesterov, s.weight_decay, s.hflip) for s in m} == {(0.9, True, 5e-4, False)}
        # every cell of Table 7 has runs; the two datasets of the ten without values are BloodMNIST and TissueMNIST
        ran = {(s.dataset, s.method, None if s.gamma is None else str(s.gamma)) for s in m}
        for _, row in t7.iterrows():
            gamma = None if pd.isna(row["gamma"]) else str(row["gamma"])
            assert (row["dataset"], row["method"].replace("-", "_").replace("ERM", "erm"), gamma) in ran
        assert set(recipes.MEDMNIST_DATASETS) - set(t7["dataset"]) == {"BloodMNIST", "TissueMNIST"}
        assert set(t7["metric"]) == {"AUC", "ACC_percent"}

    def test_offline_matrix_holds_out_validation(self):
        m = recipes.resolve("medmnist", "offline")
        assert [d for d in dict.fromkeys(s.dataset for s in m)] == ["MNIST-10k", "Fashion-MNIST"]
        assert {(s.train_split, s.eval_splits) for s in m} == {("fit", ("val", "test"))}
        assert {s.arch for s in m} == {"lenet5"} and sorted({s.seed for s in m}) == [0, 1, 2]
        smoke = recipes.resolve("medmnist", "smoke", datasets=["digits"], gammas=[2.4])
        assert {(s.train_split, s.eval_splits) for s in smoke} == {("fit", ("val", "test"))}
        assert {s.gamma for s in smoke if s.method == "zeta_mixup"} == {2.4}


def _params(**given):
    p = dict(
        profile="smoke",
        device="cpu",
        data_root="data",
        results_dir=None,
        datasets=["digits"],
        methods=["erm", "mixup", "zeta_mixup"],
        gammas=[2.8],
        seeds=[0],
        epochs=2,
        train_subset=64,
    )
    p.update(given)
    return SimpleNamespace(**p)


class TestCheckKnobs:
    def test_good(self):
        medmnist.check_knobs(_params())

    @pytest.mark.parametrize(
        "given,error,match",
        [
            (
                {"methods": ["erm", "cutmix"]},
                ValueError,
                r"methods\[1\] must be one of \['erm', 'mixup', 'zeta_mixup'\].*got 'cutmix'",
            ),
            ({"methods": "erm"}, TypeError, "methods must be a non-empty list"),
            ({"gammas": [-1.0]}, ValueError, r"gammas\[0\] must be > 0"),
            ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
            ({"datasets": ["nothing"]}, ValueError, "dataset must be one of"),
            (
                {"datasets": ["CIFAR-10"]},
                ValueError,
                r"datasets\[0\] 'CIFAR-10' cannot run the MedMNIST protocol .*needs the splits \['fit', 'val', 'test'\]",
            ),
        ],
    )
    def test_bad(self, given, error, match):
        with pytest.raises(error, match=match):
            medmnist.check_knobs(_params(**given))


# -------------------------------------------------------------------------------------------- the protocol


def _history(dataset="PathMNIST", arch="resnet18_cifar", seeds=(0, 1)):
    """Three methods × seeds × 4 epochs. Validation AUC peaks at epoch 2 (ties at 3) for every run; ζ-mixup's
    test AUC is 0.01 above ERM's and 0.02 above mixup's at every epoch."""
    rows = []
    offset = {"erm": 0.0, "mixup": -0.01, "zeta_mixup": 0.01}
    for method, gamma, alpha in (("erm", None, None), ("mixup", None, 1.0), ("zeta_mixup", 2.8, None)):
        for seed in seeds:
            for epoch, val_auc in zip(range(1, 5), (0.80, 0.90, 0.90, 0.85)):
                rows.append(
                    {
                        "run_id": f"{dataset}-{method}-{seed}",
                        "dataset": dataset,
                        "arch": arch,
                        "method": method,
                        "gamma": gamma,
                        "alpha": alpha,
                        "seed": seed,
                        "epoch": epoch,
                        "val_auc": val_auc,
                        "test_auc": 0.5 + 0.1 * epoch + offset[method] + 0.001 * seed,
                        "test_medmnist_acc": 0.4 + 0.1 * epoch + offset[method],
                    }
                )
    return pd.DataFrame(rows)


class TestProtocol:
    def test_epoch_choice_first_best_and_last(self):
        c = medmnist.epoch_choice(_history())
        assert len(c) == 6 and set(c["best_epoch"]) == {2} and set(c["epochs"]) == {4}
        z = c[(c["method"] == "zeta_mixup") & (c["seed"] == 1)].iloc[0]
        assert z["test_auc@best"] == pytest.approx(0.5 + 0.2 + 0.01 + 0.001)
        assert z["test_auc@last"] == pytest.approx(0.5 + 0.4 + 0.01 + 0.001)
        assert list(c["method"]) == ["erm", "erm", "mixup", "mixup", "zeta_mixup", "zeta_mixup"]

    def test_epoch_choice_undefined_validation_takes_the_last(self):
        h = _history(seeds=(0,)).assign(val_auc=math.nan)
        c = medmnist.epoch_choice(h)
        assert set(c["best_epoch"]) == {4} and c["selected_by"].str.startswith("last epoch").all()

    def test_epoch_choice_needs_the_columns(self):
        with pytest.raises(ValueError, match=r"history lacks the column\(s\) \['val_auc'\]"):
            medmnist.epoch_choice(_history().drop(columns="val_auc"))

    def test_paired_diffs_and_summary(self):
        d = medmnist.paired_diffs(medmnist.epoch_choice(_history()))
        auc = d[(d["metric"] == "AUC") & (d["epoch"] == "best")]
        assert auc[auc["baseline"] == "erm"]["diff"].to_numpy() == pytest.approx([0.01, 0.01])
        assert auc[auc["baseline"] == "mixup"]["diff"].to_numpy() == pytest.approx([0.02, 0.02])
        acc = d[(d["metric"] == "ACC_percent") & (d["baseline"] == "mixup")]["diff"]
        assert acc.to_numpy() == pytest.approx([2.0] * 4)  # percentage points, both epochs
        s = medmnist.paired_summary(d)
        assert s.loc[("PathMNIST", "resnet18_cifar", "ζ-mixup (γ = 2.8) − ERM")].iloc[-1] == "2 / 0 / 0"

    def test_beside_paper(self):
        hist = pd.concat([_history("PathMNIST"), _history("BloodMNIST"), _history("MNIST-10k", "lenet5")])
        t = medmnist.beside_paper(medmnist.epoch_choice(hist), profile="paper")
        path = t.loc["PathMNIST — ours: paper, resnet18_cifar, 2 seeds, device unknown"]
        assert path.loc["ERM", "paper AUC"] == "0.962" and path.loc["ζ-mixup (γ = 2.8)", "paper ACC (%)"] == "87.6"
        assert path.loc["ERM", "AUC, val-selected epoch"] == "0.7005 ± 0.0007"
        assert path.loc["ERM", "ACC (%), last epoch"] == "80.00 ± 0.00"
        assert path.loc["ERM", "val-selected epoch (per seed)"] == "2, 2"
        blood = t.loc["BloodMNIST — ours: paper, resnet18_cifar, 2 seeds, device unknown"]
        assert set(blood["paper AUC"]) == {medmnist.NO_PAPER_VALUE}
        assert set(t.loc["MNIST-10k — ours: paper, lenet5, 2 seeds, device unknown"]["paper AUC"]) == {"—"}

    def test_paper_table7(self):
        t = medmnist.paper_table7()
        assert list(t.index) == list(recipes.MEDMNIST_DATASETS)
        assert t.loc["OCTMNIST", ("ζ-mixup (γ = 2.8)", "AUC")] == "0.918"
        assert t.loc["BreastMNIST", ("mixup", "ACC (%)")] == "76.2"
        assert set(t.loc["TissueMNIST"]) == {medmnist.NO_PAPER_VALUE}


# ------------------------------------------------------------------------------ the paper path, end to end


@pytest.mark.slow
def test_paper_path_on_a_medmnist_fixture(tmp_path, monkeypatch):
    """profile="paper" on a tiny BreastMNIST in the official format: every epoch's history holds the validation
    and test AUC / ACC, and the chapter's table puts both reported epochs beside Table 7's BreastMNIST row."""
    from medmnist.info import INFO

    from zmixlib.engine import sweep
    from zmixlib.tables import report

    labels = fx.make_medmnist(tmp_path / "data" / "medmnist", "breastmnist", 1, 2, sizes=(12, 6, 6))
    monkeypatch.setitem(INFO["breastmnist"], "n_samples", {k: len(v) for k, v in labels.items()})
    m = recipes.resolve(
        "medmnist",
        "paper",
        datasets=["BreastMNIST"],
        seeds=[0],
        epochs=2,
        batch_size=8,
        archs=["lenet5"],
        data_root=str(tmp_path / "data"),
        device="cpu",
    )  # LeNet-5 for seconds; the recipe's ResNet-18 is checked in TestMatrix
    out = tmp_path / "results"
    report.raise_failures(sweep.run(m, results_dir=out, executor="inline", progress=False))
    runs, history = report.load_runs(m, out)
    assert len(runs) == 3 and len(history) == 3 * 2
    assert history[["val_auc", "val_medmnist_acc", "test_auc", "test_medmnist_acc"]].notna().all().all()
    choice = medmnist.epoch_choice(history, runs)
    assert set(choice["best_epoch"]) <= {1, 2} and set(choice["epochs"]) == {2}
    table = medmnist.beside_paper(choice, profile="paper")
    row = table.xs("ERM", level="method").iloc[0]
    assert row["paper AUC"] == "0.897" and row["paper ACC (%)"] == "85.9"
    assert table.index.get_level_values("dataset")[0].startswith("BreastMNIST — ours: paper, lenet5, 1 seed, cpu")
