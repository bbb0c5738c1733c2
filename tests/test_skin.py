"""Chapter 05 (skin lesions, Table 6 / A3, Fig. 8): feature-space cosine neighbours, the class-imbalanced
Fashion-MNIST stand-in, the chapter's protocol, and the paper matrix against the paper's tables."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from zmixlib import data
from zmixlib.chapters import skin
from zmixlib.chapters.skin.neighbours import cosine_knn, embed, same_label_counts
from zmixlib.core.util import torch_threads
from zmixlib.core.vocab import arch_paper_name, gamma_text, method_label
from zmixlib.data import derived
from zmixlib.engine import models, sweep, train
from zmixlib.protocol import config, profiles, recipes
from zmixlib.tables import paper, report

# ------------------------------------------------------------------------------------------- neighbours


def _brute_cosine(q: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = np.array([[a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) for b in x] for a in q])
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, idx, axis=1), idx


class TestCosineKnn:
    @pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
    def test_matches_brute_force_numpy(self, dtype):
        rng = np.random.default_rng(0)
        q, x = rng.normal(size=(23, 7)), rng.normal(size=(101, 7))
        sims, idx = cosine_knn(torch.as_tensor(q, dtype=dtype), torch.as_tensor(x, dtype=dtype), 10, batch_size=4)
        ref_sims, ref_idx = _brute_cosine(q, x, 10)
        assert sims.shape == idx.shape == (23, 10)
        np.testing.assert_array_equal(idx.numpy(), ref_idx)
        np.testing.assert_allclose(sims.numpy(), ref_sims, rtol=1e-5 if dtype == torch.float32 else 1e-12)
        assert (sims[:, :-1] >= sims[:, 1:]).all(), "similarities in decreasing order"

    def test_cosine_not_euclidean(self):
        # the query points along the x axis: the long key along it is nearest by angle, the short diagonal one by distance
        q = torch.tensor([[1.0, 0.0]])
        keys = torch.tensor([[10.0, 0.1], [0.7, 0.7]])
        assert cosine_knn(q, keys, 1)[1].item() == 0
        assert torch.cdist(q, keys).argmin().item() == 1
        # rescaling keys by positive factors changes Euclidean neighbours, never cosine ones
        rng = np.random.default_rng(1)
        x = torch.as_tensor(rng.normal(size=(50, 5)))
        qq = torch.as_tensor(rng.normal(size=(8, 5)))
        scaled = x * torch.as_tensor(rng.uniform(0.01, 100.0, size=(50, 1)))
        assert torch.equal(cosine_knn(qq, x, 5)[1], cosine_knn(qq, scaled, 5)[1])

    def test_zero_vector_has_similarity_zero(self):
        sims, _ = cosine_knn(torch.zeros(1, 3), torch.eye(3), 3)
        assert torch.equal(sims, torch.zeros(1, 3))

    def test_errors_name_the_argument(self):
        x = torch.randn(5, 3)
        with pytest.raises(ValueError, match="k must be <= 5, got 6"):
            cosine_knn(x, x, 6)
        with pytest.raises(ValueError, match="same feature dimension, got 3 and 4"):
            cosine_knn(x, torch.randn(5, 4), 2)
        with pytest.raises(ValueError, match=r"queries must be a float matrix \(N, D\), got shape \(5,\)"):
            cosine_knn(torch.randn(5), x, 2)
        with pytest.raises(ValueError, match="index must have shape"):
            same_label_counts([0, 1], [0, 1, 1], torch.zeros(3, 2, dtype=torch.long))

    def test_same_label_counts(self):
        index = torch.tensor([[0, 1, 2], [2, 3, 0]])
        counts = same_label_counts(torch.tensor([1, 0]), torch.tensor([1, 1, 0, 0]), index)
        assert counts.tolist() == [2, 2]

    def test_embed_is_forward_features_in_eval_mode(self):
        torch.manual_seed(0)
        net = models.build("digits_cnn", num_classes=3, in_channels=1)
        net.train()
        x = torch.rand(10, 1, 8, 8)
        z = embed(net, x, batch_size=3)
        assert net.training, "training mode restored"
        net.eval()
        with torch.no_grad():
            torch.testing.assert_close(z, net.forward_features(x))
        assert z.shape == (10, net.embedding_dim)


# ------------------------------------------------------------------------------ the imbalanced stand-in


def _fashion_present() -> bool:
    return config.dataset_present("Fashion-MNIST", config.ROOT / "data")


class TestImbalancedFashionMNIST:
    def test_registered_as_a_natural_image_set(self):
        info = data.describe("fmnist-imb5")
        assert info.name == "Fashion-MNIST-imb5" and info.family == "natural" and info.shape == (1, 28, 28)
        assert "Fashion-MNIST-imb5" in data.available("natural")
        assert info.class_names == ("T-shirt/top", "Pullover", "Dress", "Coat", "Shirt")

    def test_class_counts_follow_isic2018(self):
        for total in (derived.TRAIN_SIZE, derived.TEST_SIZE, 97):
            counts = derived.class_counts(total)
            assert sum(counts.values()) == total
            isic = {
                c: derived.ISIC2018_COUNTS[r] / sum(derived.ISIC2018_COUNTS.values()) for c, r in derived.ROLES.items()
            }
            assert all(abs(counts[c] - isic[c] * total) < 1 for c in counts)
        assert derived.class_counts(3000)[0] == 2009  # nevi's share: T-shirt/top, the majority

    def test_selection_is_deterministic_and_per_class(self):
        labels = np.random.default_rng(3).integers(0, 10, size=5000)
        a, b = derived.selection(labels, 600), derived.selection(labels, 600)
        assert np.array_equal(a, b) and np.all(np.diff(a) > 0)
        assert np.bincount(labels[a], minlength=10)[[0, 2, 3, 4, 6]].tolist() == [
            derived.class_counts(600)[c] for c in (0, 2, 3, 4, 6)
        ]
        assert not np.array_equal(a, derived.selection(labels, 600, seed=1))
        with pytest.raises(ValueError, match="class 0 needs 2009 items, the base split has"):
            derived.selection(labels[:100], 3000)

    def test_absent_base_names_its_folder_and_command(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="make data DATASETS=Fashion-MNIST") as err:
            data.load("Fashion-MNIST-imb5", "train", root=tmp_path)
        assert str(tmp_path / "FashionMNIST") in str(err.value)

    @pytest.mark.skipif(not _fashion_present(), reason="Fashion-MNIST is not under data/")
    def test_real_splits(self):
        root = config.ROOT / "data"
        base = data.load("Fashion-MNIST", "train", root=root)
        ds = data.load("Fashion-MNIST-imb5", "train", root=root)
        assert len(ds) == derived.TRAIN_SIZE
        assert np.bincount(ds.targets.numpy()).tolist() == [2009, 329, 154, 175, 333]
        idx = derived.selection(base.targets.numpy(), derived.TRAIN_SIZE)
        assert derived.selection_sha256(idx) == derived.SELECTION_SHA256["train"]
        for i in (0, 1234, len(ds) - 1):  # the same pixels as the base item, the label renumbered
            x, y = ds[i]
            bx, by = base[int(idx[i])]
            assert torch.equal(x, bx) and derived.CLASSES[y] == base.classes[by]
        test = data.load("Fashion-MNIST-imb5", "test", root=root)
        assert np.bincount(test.targets.numpy()).tolist() == [937, 154, 72, 82, 155]
        # the validation split (γ is chosen on it): a fixed stratified part of the derived train split, and the rest
        fit, val = (data.load("Fashion-MNIST-imb5", s, root=root) for s in ("fit", "val"))
        assert len(fit) + len(val) == len(ds) and not set(fit.indices) & set(val.indices)
        assert np.bincount(ds.targets.numpy()[val.indices]).tolist() == [201, 33, 15, 18, 33]


# --------------------------------------------------------------------------------------- paper matrix


def test_paper_matrix_is_table_6():
    """datasets × archs × methods × γ × seeds, epochs, LR schedule, batch size and input size of the paper."""
    m = recipes.resolve("skin", "paper")
    cells = {
        (paper.normalize_dataset_name(s.dataset), arch_paper_name(s.arch), method_label(s.method, s.gamma)) for s in m
    }
    tables = pd.concat([paper.paper_table(s) for s in skin.SOURCES])
    expected = {
        (paper.normalize_dataset_name(d), a, method_label(mm, g))
        for d, a, mm, g in zip(tables["dataset"], tables["arch"], tables["method"], tables["gamma"])
    }
    assert cells == expected and len(expected) == 10 * 2 * 5
    assert len(m) == len(cells) * 3 and {s.seed for s in m} == {0, 1, 2}
    assert {s.arch for s in m} == {"resnet18", "resnet50"}  # torchvision ResNets, 7x7 stem (256 px images)
    for s in m:
        isic18 = s.dataset == "ISIC2018"
        assert (s.epochs, s.milestones) == ((20, (4, 8, 12, 16)) if isic18 else (50, (10, 20, 30, 40)))
        assert (s.lr, s.lr_gamma, s.batch_size, s.momentum, s.nesterov, s.weight_decay) == (
            0.01,
            0.1,
            32,
            0.9,
            True,
            5e-4,
        )
        assert s.train_subset is None and s.eval_splits == ("test",)
        assert (s.method, gamma_text(s.gamma), s.alpha) in {("erm", None, None), ("mixup", None, 1.0)} | {
            ("zeta_mixup", g, None) for g in ("2.4", "2.8", "4.0")
        }
        assert s.num_mix is None  # T = m, the whole batch
    info = data.describe("ISIC2017")
    assert info.image_size == (256, 256)
    steps = data.transform_for("ISIC2017").transforms
    assert (
        isinstance(steps[0], data.CentreSquareCrop) and steps[0].fraction == 0.8 and tuple(steps[1].size) == (256, 256)
    )
    # MIDL Table 2 is Table A3's F1-micro at γ = 2.8 (the same numbers)
    a3 = paper.paper_table("skin-tableA3")
    midl = a3[(a3["metric"] == "F1_micro") & a3["method"].isin(["ERM", "mixup"]) | (a3["gamma"] == "2.8")]
    assert {"ISIC 2016", "ISIC 2017", "ISIC 2018", "DermoFit"} <= set(midl["dataset"])


def test_offline_matrix_and_profiles():
    m = recipes.resolve("skin", "offline")
    assert {(s.dataset, s.arch) for s in m} == {("breast-cancer", "mlp"), ("Fashion-MNIST-imb5", "lenet5")}
    assert len(m) == 2 * 5 * 3
    sizes = profiles.sizes("05_skin")
    assert (
        sizes["paper"]["knn_runs"] == [["derm7point-C", "resnet18"], ["ISIC2017", "resnet50"]]
        and sizes["paper"]["knn_k"] == 128
    )
    assert len(sizes["offline"]["seeds"]) >= 3


# ---------------------------------------------------------------------------------------------- knobs


def _params(profile="smoke", **given):
    ns = {"profile": profile, "device": "cpu", "seed": 0, "data_root": None, "results_dir": None}
    ns.update({k: None for k in profiles.sizes("05_skin")["paper"]})
    ns.update(given)
    return config.setup("05_skin", ns, verbose=False)


class TestKnobs:
    def test_smoke_defaults_pass(self):
        skin.check_knobs(_params())

    @pytest.mark.parametrize(
        "given,error,match",
        [
            (
                {"methods": ["erm", "cutmix"]},
                ValueError,
                r"methods\[1\] must be one of \['erm', 'mixup', 'zeta_mixup'\], got 'cutmix'",
            ),
            ({"knn_k": 0}, ValueError, "knn_k must be >= 1, got 0"),
            ({"knn_k": 1000}, ValueError, "knn_k must be <= the 256 training samples of digits, got 1000"),
            ({"knn_runs": [["iris", "mlp"]]}, ValueError, r"knn_runs\[0\] must be one of the \[dataset, arch\] pairs"),
            ({"knn_runs": [["digits", "resnet"]]}, ValueError, r"knn_runs\[0\]\[1\] must be one of"),
            ({"knn_runs": [["digits"]]}, TypeError, r"knn_runs\[0\] must be a \[dataset, arch\] pair"),
            ({"gammas": [-1.0]}, ValueError, r"gammas\[0\] must be > 0"),
            ({"datasets": ["nope"]}, ValueError, "dataset must be one of"),
            ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
        ],
    )
    def test_bad_knobs_fail_by_name(self, given, error, match):
        with pytest.raises(error, match=match):
            skin.check_knobs(_params(**given))

    def test_paper_stops_on_a_missing_skin_set(self, tmp_path):
        with pytest.raises(FileNotFoundError, match=r"ISIC2018 not found at .*make data DATASETS=ISIC2018"):
            skin.check_knobs(_params("paper", data_root=str(tmp_path), datasets=["ISIC2018"], knn_runs=[]))

    def test_absent_fashion_mnist_falls_back_to_digits(self, tmp_path, capsys):
        p = _params("offline", data_root=str(tmp_path))
        skin.check_knobs(p)
        assert p.datasets == ["breast-cancer", "digits"] and p.knn_runs == [["digits", "digits_cnn"]]
        assert p.stand_ins == {"Fashion-MNIST-imb5": "digits"}
        assert "digits stands in" in capsys.readouterr().out


# ----------------------------------------------------------------------------------- the protocol


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """ERM, mixup and ζ-mixup on iris (MLP, 3 epochs, 1 seed), their checkpoints kept."""
    out = tmp_path_factory.mktemp("skin")
    specs = recipes.resolve("skin", "smoke", datasets=["iris"], gammas=[2.8], epochs=3, device="cpu")
    with torch.random.fork_rng(), torch_threads(1):
        done = report.run_missing(specs, out, keep_checkpoint=skin.knn_matrix(specs, [["iris", "mlp"]]))
    assert done.ok and len(done.done) == 3
    return specs, out


@pytest.fixture(scope="module")
def measured(trained):
    """:func:`skin.neighbourhoods` of the trained runs, k = 8, 40 pool points kept for the maps."""
    specs, out = trained
    with torch_threads(1):
        return skin.neighbourhoods(specs, out, k=8, embed_points=40, verbose=False)


@pytest.mark.slow
def test_sweep_keeps_checkpoints_only_when_asked(tmp_path, one_thread):
    specs = recipes.resolve("skin", "smoke", datasets=["iris"], methods=["erm"], epochs=1, device="cpu")
    sweep.run(specs, results_dir=tmp_path, progress=False, verbose=False)
    assert not train.checkpoint_path(specs[0], tmp_path).exists()
    more = recipes.resolve("skin", "smoke", datasets=["iris"], methods=["erm"], epochs=1, seeds=[1], device="cpu")
    sweep.run(more, results_dir=tmp_path, progress=False, verbose=False, keep_checkpoint=True)
    assert torch.load(train.checkpoint_path(more[0], tmp_path), weights_only=False)["epoch"] == 1


def test_neighbourhoods(trained, measured, one_thread):
    specs, out = trained
    nb = measured
    c = nb.counts
    n_test = len(data.load("iris", "test"))
    assert len(c) == 3 * len(skin.POOLS) * n_test
    assert c["same_label"].between(0, 8).all() and set(c["pool"]) == set(skin.POOLS)
    erm = c[c["method"] == "erm"]
    assert (
        erm[erm["pool"] == "train"]["same_label"].to_numpy()
        == erm[erm["pool"] == "synthesized"]["same_label"].to_numpy()
    ).all()
    # the counts are the brute-force ones: recompute one run's "train" pool by hand
    spec = next(s for s in specs if s.method == "zeta_mixup")
    trainer = skin.fig8._load_trained(spec, out, None)
    x_tr, y_tr = data.as_tensors("iris", spec.train_split)  # the pool: the images the run trained on
    x_te, y_te = data.as_tensors("iris", "test")
    with torch.no_grad():
        f_tr, f_te = trainer.model.forward_features(x_tr).numpy(), trainer.model.forward_features(x_te).numpy()
    _, idx = _brute_cosine(f_te.astype(np.float64), f_tr.astype(np.float64), 8)
    expected = (y_tr.numpy()[idx] == y_te.numpy()[:, None]).sum(1)
    got = c[(c["method"] == "zeta_mixup") & (c["pool"] == "train")].sort_values("test_index")["same_label"].to_numpy()
    assert np.array_equal(got, expected)
    summary = skin.neighbour_summary(nb)
    assert len(summary) == 3 * len(skin.POOLS)
    pairs = skin.neighbour_pairs(nb)
    assert len(pairs) == 1 and math.isclose(
        pairs["diff"].iloc[0], pairs["ours"].iloc[0] - pairs["baseline_value"].iloc[0]
    )
    assert "same-label neighbours" in skin.knn_reading(nb, profile="smoke")


def test_missing_checkpoint_is_trained_again_into_the_checkpoint_only(trained, capsys, one_thread):
    specs, out = trained
    spec = specs[0]
    path = train.checkpoint_path(spec, out)
    record = out / "skin" / f"{spec.run_id}.json"
    before = record.read_text()
    path.unlink()
    trainer = skin.fig8._load_trained(spec, out, None)
    assert path.exists() and record.read_text() == before and "training it again" in capsys.readouterr().out
    assert trainer.model is not None


def _counts(rows):
    """counts frame from (method, gamma, test_index, y, correct, same_label) rows, one seed, pool synthesized"""
    df = pd.DataFrame(rows, columns=["method", "gamma", "test_index", "y", "correct", "same_label"])
    df["label"] = [method_label(m, g) for m, g in zip(df["method"], df["gamma"])]
    return df.assign(dataset="d", arch="a", seed=0, pool="synthesized")


def test_paper_selection_counts_what_the_paper_counts():
    rows = []
    # image 0: ERM and mixup wrong, both ζ right -> selected; ζ(2.4) more neighbours, ζ(4.0) fewer
    # image 1: ERM right -> not selected; image 2: ζ(4.0) wrong -> not selected
    for i, (erm_ok, mix_ok, z24_ok, z40_ok) in enumerate(
        [(False, False, True, True), (True, False, True, True), (False, False, True, False)]
    ):
        rows += [("erm", None, i, 1, erm_ok, 3), ("mixup", None, i, 1, mix_ok, 10)]
        rows += [("zeta_mixup", 2.4, i, 1, z24_ok, 30), ("zeta_mixup", 4.0, i, 1, z40_ok, 5)]
    nb = skin.Neighbourhoods(counts=_counts(rows), k=32)
    sel = skin.paper_selection(nb).set_index("ζ-mixup")
    assert sel["selected"].tolist() == [1, 1]
    assert sel.loc[method_label("zeta_mixup", 2.4), "ζ-mixup more same-label neighbours"] == 1
    assert sel.loc[method_label("zeta_mixup", 4.0), "ζ-mixup more same-label neighbours"] == 0
    assert sel.loc[method_label("zeta_mixup", 2.4), "same-label neighbours, ζ-mixup vs mixup (% more)"] == 200.0
    pairs = skin.neighbour_pairs(nb)
    assert pairs.set_index("label").loc[method_label("zeta_mixup", 2.4), "diff"] == 20.0


def test_paired_signs_and_tables():
    runs = pd.DataFrame(
        {
            "dataset": "PH2",
            "arch": "resnet18",
            "seed": [0, 0, 0, 1, 1, 1],
            "method": ["erm", "mixup", "zeta_mixup"] * 2,
            "gamma": [None, None, 2.8] * 2,
            "alpha": [None, 1.0, None] * 2,
            "test_bal_acc": [0.80, 0.85, 0.90, 0.70, 0.75, 0.74],
            "device_name": "cpu",
        }
    )
    pairs = skin.paired(runs)
    by = pairs.groupby("baseline")["diff"].apply(list)
    np.testing.assert_allclose(by[method_label("erm")], [10.0, 4.0])
    np.testing.assert_allclose(by[method_label("mixup")], [5.0, -1.0])
    summary = report.paired_summary(pairs, lower_is_better=False)
    assert summary["better / tied / worse"].tolist() == ["2 / 0 / 0", "1 / 0 / 1"]
    assert [c for *_, c in summary.index] == ["ζ-mixup (γ = 2.8) − ERM", "ζ-mixup (γ = 2.8) − mixup"]
    table = skin.beside_paper(runs, profile="offline")
    assert "paper (PH2, ResNet-18)" in table.index and table.loc["paper (PH2, ResNet-18)", "ERM"] == "84.38"
    assert any(i.startswith("ours (offline: PH2, resnet18, 2 seeds") for i in table.index)
    text = report.reading(runs, pairs, profile="offline", metric="ACC_bal_percent")
    assert "highest mean balanced accuracy ζ-mixup (γ = 2.8) at 82.00 %" in text
    assert (
        "ζ-mixup (γ = 2.8) − ERM: +7.00 ± 4.24, 95 % interval [-31.12, +45.12], p = 0.258 (better / tied / worse: 2 / 0 / 0)"
        in text
    )
    wins = skin.paper_wins()
    assert len(wins) == 20 and wins["ζ-mixup higher"].sum() == 19  # MED-NODE ResNet-50: a tie at 81.79


def test_fig8_figure_draws(measured):
    nb = measured
    fig = skin.fig8_figure(nb, "iris", "mlp", label="test", class_names=data.describe("iris").class_names, n_images=0)
    assert len(fig.axes) == 3  # the three t-SNE maps (no image row)
    fig2 = skin.neighbour_figure(nb, label="test")
    assert len(fig2.axes) == len(skin.POOLS)
    plt.close("all")
