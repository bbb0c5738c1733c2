"""zmixlib.protocol.recipes: the papers' recipes as data, profiles, override validation."""

from __future__ import annotations

import pytest

from zmixlib.core.theory import GAMMA_MIN
from zmixlib.engine.runspec import RunSpec
from zmixlib.protocol import recipes


def _by(matrix, **kw):
    return [s for s in matrix if all(getattr(s, k) == v for k, v in kw.items())]


class TestPaperRecipes:
    def test_natural(self):
        m = recipes.resolve("natural", "paper")
        assert len(m) == 6 * 5 * 3  # datasets x (ERM, mixup, 3 gammas) x seeds
        c10 = _by(m, dataset="CIFAR-10", method="zeta_mixup", gamma=2.4, seed=0)[0]
        assert (c10.arch, c10.epochs, c10.batch_size, c10.lr, c10.milestones, c10.lr_gamma) == (
            "resnet18_cifar",
            200,
            128,
            0.1,
            (80, 120, 160),
            0.2,
        )
        assert c10.nesterov and c10.momentum == 0.9 and c10.weight_decay == 5e-4 and c10.hflip
        assert _by(m, dataset="Fashion-MNIST")[0].batch_size == 32
        stl = _by(m, dataset="STL-10")[0]
        assert (stl.epochs, stl.batch_size, stl.milestones) == (120, 32, (80,))
        inet = _by(m, dataset="Imagenette")[0]
        assert (inet.arch, inet.epochs, inet.batch_size, inet.lr, inet.milestones) == (
            "resnet18",
            80,
            32,
            0.01,
            (25, 50, 65),
        )
        assert {s.alpha for s in _by(m, method="mixup")} == {1.0}
        assert {s.gamma for s in _by(m, method="zeta_mixup")} == {2.4, 2.8, 4.0}
        assert all(s.num_mix is None for s in m)  # T = the batch

    def test_cutmix(self):
        m = recipes.resolve("cutmix", "paper")
        assert {s.arch for s in m} == {"resnet18_cifar", "resnet50_cifar", "mobilenet_v2", "efficientnet_b0"}
        assert {(s.epochs, s.milestones, s.lr_gamma, s.batch_size) for s in m} == {(200, (100, 150), 0.2, 128)}
        z = _by(m, method="cutmix_zeta")[0]
        assert z.gamma == pytest.approx((GAMMA_MIN, 4.0))
        assert dict(_by(m, arch="mobilenet_v2")[0].arch_kwargs) == {"small_input": True}

    def test_skin_and_medmnist(self):
        skin = recipes.resolve("skin", "paper")
        assert {s.arch for s in skin} == {"resnet18", "resnet50"} and len({s.dataset for s in skin}) == 10
        isic16 = _by(skin, dataset="ISIC2016")[0]
        assert (isic16.epochs, isic16.batch_size, isic16.lr, isic16.milestones, isic16.lr_gamma) == (
            50,
            32,
            0.01,
            (10, 20, 30, 40),
            0.1,
        )
        assert _by(skin, dataset="ISIC2018")[0].milestones == (4, 8, 12, 16)
        med = recipes.resolve("medmnist", "paper")
        s = med[0]
        assert (s.arch, s.lr, s.batch_size, s.epochs, s.milestones) == ("resnet18_cifar", 0.01, 128, 100, (50, 75))

    def test_manifold_is_ten_times_longer(self):
        m = recipes.resolve("manifold", "paper")
        assert {s.method for s in m} == {"manifold_mixup"} and {s.alpha for s in m} == {2.0}
        assert _by(m, dataset="CIFAR-10")[0].epochs == 2000
        assert _by(m, dataset="PathMNIST")[0].epochs == 1000
        assert _by(m, dataset="MSK")[0].milestones == (100, 200, 300, 400)

    def test_ablation(self):
        m = recipes.resolve("ablation", "paper", seeds=[0])
        assert [(s.method, s.gamma, s.num_mix) for s in m] == [
            ("mixup", None, None),
            ("zeta_mixup", 2.8, 2),
            ("dirichlet_mixup", None, None),
            ("zeta_mixup", 2.8, None),
        ]


class TestProfiles:
    def test_smoke_is_tiny_and_one_seed(self):
        m = recipes.resolve("natural", "smoke")
        assert len(m) == 10 and {s.seed for s in m} == {0}
        assert all(s.epochs <= 2 and s.train_subset for s in m)
        assert {s.dataset for s in m} == {"Fashion-MNIST", "MNIST-10k"}

    def test_offline_keeps_structure(self):
        m = recipes.resolve("skin", "offline")
        assert {s.seed for s in m} == {0, 1, 2} and {s.arch for s in m} == {"mlp", "lenet5"}
        assert {s.method for s in m} == {"erm", "mixup", "zeta_mixup"}
        assert set(recipes.stand_ins("skin")["offline"]) == {s.dataset for s in m}

    def test_every_section_resolves(self):
        for section in recipes.SECTIONS:
            for profile in ("smoke", "offline", "paper"):
                m = recipes.resolve(section, profile)
                assert m and all(isinstance(s, RunSpec) and s.section == recipes.protocol(section, profile) for s in m)


class TestOverrides:
    def test_methods_gammas_seeds(self):
        m = recipes.resolve(
            "natural", "offline", datasets=["digits"], methods=["mixup", "zeta_mixup"], gammas=[3.0, 3.5], seeds=[7]
        )
        assert [(s.method, s.gamma, s.seed) for s in m] == [
            ("mixup", None, 7),
            ("zeta_mixup", 3.0, 7),
            ("zeta_mixup", 3.5, 7),
        ]

    def test_epochs_rescale_milestones(self):
        s = recipes.resolve("natural", "paper", datasets=["CIFAR-10"], epochs=20, seeds=[0])[0]
        assert s.epochs == 20 and s.milestones == (8, 12, 16)
        s = recipes.resolve("natural", "paper", datasets=["CIFAR-10"], epochs=20, milestones=[5], seeds=[0])[0]
        assert s.milestones == (5,)

    def test_none_means_default(self):
        assert recipes.resolve("natural", "smoke", epochs=None, datasets=None) == recipes.resolve("natural", "smoke")

    @pytest.mark.parametrize(
        "kw,exc,match",
        [
            (dict(epoch=3), ValueError, r"unknown parameter\(s\) \['epoch'\]; allowed: \[.*'epochs'"),
            (dict(epochs="3"), TypeError, "epochs must be an integer"),
            (dict(epochs=0), ValueError, "epochs must be >= 1"),
            (dict(lr=-0.1), ValueError, "lr must be > 0"),
            (dict(seeds=3), TypeError, "seeds must be a list"),
            (dict(methods=["zeta"]), ValueError, r"methods\[0\] must be one of"),
            (dict(gammas=[2.8, -1.0]), ValueError, r"gammas\[1\] must be > 0"),
            (dict(archs=["vgg"]), ValueError, r"archs\[0\] must be one of"),
            (dict(datasets=["CIFAR-11"]), ValueError, "dataset must be one of"),
            (dict(nesterov="yes"), TypeError, "nesterov must be a bool"),
            (dict(device="tpu"), ValueError, "device must be one of"),
        ],
    )
    def test_errors(self, kw, exc, match):
        with pytest.raises(exc, match=match):
            recipes.resolve("natural", "smoke", **kw)

    def test_bad_section_and_profile(self):
        with pytest.raises(ValueError, match="section must be one of"):
            recipes.resolve("natrual", "smoke")
        with pytest.raises(ValueError, match="profile must be one of"):
            recipes.resolve("natural", "laptop")


def test_table_and_print():
    m = recipes.resolve("natural", "smoke", datasets=["digits"], gammas=[2.8])
    df = m.table()
    assert list(df["method"]) == ["erm", "mixup", "zeta_mixup"] and "run_id" in df
    text = str(m)
    assert text.startswith("section 'natural', profile 'smoke': 3 runs") and "gammas=(2.8,)" in text


def test_spec_for():
    s = recipes.spec_for("digits", method="zeta_mixup", gamma=2.8, epochs=30)
    assert (s.arch, s.epochs, s.gamma, s.batch_size) == ("digits_cnn", 30, 2.8, 32)
    assert recipes.spec_for("digits", method="mixup").alpha == 1.0
    assert recipes.spec_for("breast_cancer").dataset == "breast-cancer"
    cifar = recipes.spec_for("CIFAR-10", profile="paper", method="manifold_mixup", epochs=100)
    assert cifar.alpha == 2.0 and cifar.milestones == (40, 60, 80) and cifar.space == "manifold"
    with pytest.raises(ValueError, match="unknown parameter"):
        recipes.spec_for("digits", epoch=3)


def test_paper_matrices_of_the_new_sections():
    sens = recipes.resolve("sensitivity", "paper")
    assert sorted({s.gamma for s in sens}) == [round(1.8 + 0.2 * i, 1) for i in range(17)]
    search = recipes.resolve("search", "paper")
    assert len(search) == 2 * recipes.SEARCH_MODELS
    assert all(1.0 <= s.gamma <= 6.0 and 5e-5 <= s.weight_decay <= 1e-3 for s in search)
    assert search == recipes.resolve("search", "paper")  # the draws are fixed
    cutmix = recipes.resolve("cutmix", "paper", seeds=[0], archs=["resnet18_cifar"], datasets=["CIFAR-10"])
    assert [(s.method, s.mixer_name, dict(s.extra)) for s in cutmix] == [
        ("cutmix", "cutmix", {"prob": 0.5}),
        ("cutmix_zeta", "cutmix_zeta", {"mode": "switch", "prob": 0.5}),
        ("cutmix_zeta_compose", "cutmix_zeta", {"mode": "compose"}),
    ]
    assert {s.eval_splits for s in recipes.resolve("medmnist", "paper", seeds=[0])} == {("val", "test")}


def test_an_empty_dataset_list_from_a_notebook_runs_none_of_the_section():
    from types import SimpleNamespace

    import pandas as pd

    from zmixlib.tables import paper

    params = SimpleNamespace(profile="paper", seeds=[0], epochs=None, datasets=["CIFAR-10"], cutmix_datasets=[])
    m = recipes.resolve_params("cutmix", params, datasets=params.cutmix_datasets)
    assert len(m) == 0 and m.section == "cutmix" and m.overrides == {"datasets": []}
    assert "0 runs" in str(m) and "(empty)" in str(m)
    assert len(recipes.resolve_params("natural", params)) > 0  # the section's own datasets still run
    with pytest.raises(ValueError, match="datasets must not be empty"):
        recipes.resolve("cutmix", "paper", datasets=[])  # the library call stays strict
    with pytest.raises(ValueError, match="section must be one of"):
        recipes.resolve_params("nowhere", params, datasets=[])
    assert paper.paired(pd.DataFrame(), baseline="cutmix", method="cutmix_zeta").empty
