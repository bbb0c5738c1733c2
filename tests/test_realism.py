"""zmixlib.chapters.realism (notebook 02): oracle caching, the per-image measurements, the study and its tables."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from zmixlib.chapters import realism

try:
    from tests import dataset_fixtures as fx
except ImportError:  # tests/ itself on sys.path
    import dataset_fixtures as fx

matplotlib.use("Agg")

K = 4


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 1, 6, 6, generator=g)
    y = torch.arange(40) % K
    return x, y


def softmax_oracle(x: torch.Tensor) -> torch.Tensor:
    """A fixed, deterministic 'oracle': class scores from the mean brightness of four image quadrants."""
    q = torch.stack([x[..., :3, :3], x[..., :3, 3:], x[..., 3:, :3], x[..., 3:, 3:]], 1).flatten(2).mean(2)
    return torch.softmax(10 * q.double(), dim=1)  # (B, K = 4)


class TestOracleSpec:
    def test_milestones_follow_epochs(self):
        assert realism.oracle_spec("digits", epochs=2).milestones == (1,)
        assert realism.oracle_spec("digits", epochs=16).milestones == (8, 12)
        assert realism.oracle_spec("MNIST").arch == "lenet5"

    def test_unknown_dataset(self):
        with pytest.raises(ValueError, match="oracle dataset must be one of"):
            realism.oracle_spec("CIFAR-10")


class TestGetOracle:
    """The oracle on MNIST files in torchvision's format (the paper profile's path, five images: fast)."""

    @pytest.fixture
    def get(self, tmp_path):
        fx.make_mnist(tmp_path / "data")
        kw = dict(results_dir=tmp_path / "results", data_root=tmp_path / "data", epochs=1, device="cpu", progress=False)
        return lambda: realism.get_oracle("MNIST", **kw)

    @pytest.mark.slow
    def test_trains_once_then_loads(self, get):
        first, second = get(), get()
        assert not first.cached and second.cached
        assert first.spec.arch == "lenet5" and 0.0 <= second.test_acc <= 1.0 and second.test_acc == first.test_acc
        x = torch.rand(5, 1, 28, 28)
        p1, p2 = first(x), second(x)
        assert p1.shape == (5, 10) and torch.allclose(p1.sum(1), torch.ones(5, dtype=torch.float64))
        torch.testing.assert_close(p1, p2)
        assert "lenet5 on MNIST" in second.describe() and "loaded from cache" in second.describe()

    @pytest.mark.slow
    def test_stale_cache_is_retrained(self, get, tmp_path):
        from zmixlib.engine import train

        ckpt = train.checkpoint_path(get().spec, tmp_path / "results")
        torch.save({**torch.load(ckpt, weights_only=False), "model": {}}, ckpt)  # no longer fits the model
        again = get()
        assert not again.cached and again(torch.rand(2, 1, 28, 28)).shape == (2, 10)
        assert get().cached

    def test_chapter_oracle_prints_and_checks_the_floor(self, tmp_path, capsys):
        from types import SimpleNamespace

        fx.make_mnist(tmp_path / "data")
        kw = dict(results_dir=tmp_path / "results", data_root=tmp_path / "data", oracle_epochs=1, seed=0, device="cpu")
        params = SimpleNamespace(dataset="MNIST", profile="smoke", torch_device="cpu", **kw)
        oracle = realism.chapter_oracle(params)
        out = capsys.readouterr().out
        assert "lenet5 on MNIST" in out and "[profile 'smoke', MNIST test split, cpu]" in out and "99.31 %" in out
        if oracle.test_acc < 0.99:  # five images: the paper's floor is out of reach
            with pytest.raises(AssertionError, match="train longer"):
                realism.chapter_oracle(SimpleNamespace(**{**vars(params), "profile": "paper"}))

    def test_missing_data_names_path_and_command(self, tmp_path):
        with pytest.raises(FileNotFoundError, match=r"MNIST not found at .*make data DATASETS=MNIST"):
            realism.get_oracle("MNIST", results_dir=tmp_path, data_root=tmp_path, device="cpu", progress=False)


class TestFirstPerClass:
    def test_first_of_each_class_in_class_order(self, batch):
        x, y = batch
        xs, ys = realism.first_per_class(x, y, per_class=3, num_classes=K)
        assert ys.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
        torch.testing.assert_close(xs[:3], x[[0, 4, 8]])

    def test_too_few(self, batch):
        x, y = batch
        with pytest.raises(ValueError, match="class 0 has 10 samples, fewer than per_class=11"):
            realism.first_per_class(x, y, per_class=11)


class TestMixers:
    def test_mixup_per_sample_mixes_at_most_two(self):
        # identity inputs and labels: the mixed inputs *are* the weight matrix, equal to the mixed labels
        n = 12
        x_mix, y_mix = realism.mixup_per_sample(
            torch.eye(n, dtype=torch.float64),
            torch.arange(n),
            num_classes=n,
            generator=torch.Generator().manual_seed(1),
        )
        torch.testing.assert_close(x_mix, y_mix)
        assert ((x_mix > 0).sum(1) <= 2).all()
        torch.testing.assert_close(x_mix.sum(1), torch.ones(n, dtype=torch.float64))
        assert len(set(x_mix.max(1).values.tolist())) > 1  # one λ per image, not per batch

    def test_methods_labels_and_shapes(self, batch):
        x, y = batch
        mixers = realism.methods([2.4, 4.0])
        assert list(mixers) == ["original", "mixup", "zeta_mixup(gamma=2.4)", "zeta_mixup(gamma=4.0)"]
        out = realism.mix_all(x, y, mixers, num_classes=K, seed=3)
        for x_mix, y_soft in out.values():
            assert x_mix.shape == x.shape and y_soft.shape == (len(x), K)
            torch.testing.assert_close(y_soft.sum(1), torch.ones(len(x)))
        torch.testing.assert_close(out["original"][0], x)
        again = realism.mix_all(x, y, {"mixup": mixers["mixup"]}, num_classes=K, seed=3)
        torch.testing.assert_close(again["mixup"][0], out["mixup"][0])  # independent of the other methods


class TestMeasure:
    def test_oracle_that_agrees(self):
        y_soft = torch.tensor([[0.7, 0.2, 0.1, 0.0], [0.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
        df = realism.measure(lambda x: y_soft.clone(), torch.zeros(2, 3), y_soft)
        np.testing.assert_allclose(df["CE"], df["H_label"])  # CE(ŷ, ŷ) = H(ŷ): the floor
        np.testing.assert_allclose(df["H"], df["H_label"])
        assert df["label"].tolist() == [0, 2] and not df["label_error"].any()
        assert df["H_label"].iloc[1] == 0.0 and math.copysign(1, df["H_label"].iloc[1]) == 1.0

    def test_uniform_and_wrong(self):
        y_soft = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]])
        p = torch.tensor([[0.25] * 4, [0.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
        df = realism.measure(lambda x: p, torch.zeros(2, 3), y_soft)
        assert df["H"].iloc[0] == pytest.approx(math.log(4))
        assert df["CE"].iloc[0] == pytest.approx(math.log(4))
        assert df["label_error"].tolist() == [False, True]  # argmax of a uniform p is class 0
        errors = realism.label_errors({"a": df, "b": df.iloc[:1]})
        assert errors.to_dict() == {"a": 1, "b": 0} and errors.name == "label errors in the grid"

    def test_shape_mismatch(self):
        with pytest.raises(ValueError, match="probabilities of shape"):
            realism.measure(lambda x: torch.ones(2, 3) / 3, torch.zeros(2, 3), torch.eye(2))


class TestStudy:
    def test_rows_determinism_and_tables(self, batch):
        x, y = batch
        mixers = realism.methods([2.8])
        kw = dict(num_samples=25, batch_size=10, seeds=[0, 1], num_classes=K)
        study = realism.realism_study(softmax_oracle, x, y, mixers, **kw)
        assert len(study) == 25 * 2 * len(mixers)
        assert list(study["method"].cat.categories) == list(mixers)
        assert study.groupby(["method", "seed"], observed=True).size().eq(25).all()
        pd.testing.assert_frame_equal(study, realism.realism_study(softmax_oracle, x, y, mixers, **kw))
        zeta_only = realism.realism_study(
            softmax_oracle, x, y, {"zeta_mixup(gamma=2.8)": mixers["zeta_mixup(gamma=2.8)"]}, **kw
        )
        np.testing.assert_array_equal(zeta_only["H"], study.loc[study["method"] == "zeta_mixup(gamma=2.8)", "H"])

        table = realism.summarize(study)
        assert table.loc["mixup", "n"] == 50
        mix = study[study["method"] == "mixup"]
        assert table.loc["mixup", "label error"] == pytest.approx(mix["label_error"].mean())
        assert table.loc["mixup", "CE median"] == pytest.approx(mix["CE"].median())
        assert table.loc["original", "H label mean"] == 0.0
        cut = float(study["H"].median())
        realistic = realism.summarize(study, h_max=cut)
        assert realistic["n"].sum() == (study["H"] < cut).sum()
        assert realistic.loc["mixup", "share"] == pytest.approx((mix["H"] < cut).mean())

        claims = realism.claims(table, realistic)
        assert len(claims) == 5 and set(claims["method"]) == {"zeta_mixup(gamma=2.8)"}
        assert (claims["holds"] == (claims["ζ-mixup"] < claims["mixup"])).all()

    def test_pick_examples_prefers_confident_label_errors(self):
        df = pd.DataFrame({"H": [0.5, 0.1, 0.9, 0.05, 0.3], "label_error": [True, False, True, False, True]})
        assert realism.pick_examples(df, 4).tolist() == [4, 0, 2, 3]


def test_skin_grid(tmp_path):
    fx.make_isic2018(tmp_path)
    x, y = realism.skin_originals("ISIC2018", root=tmp_path, n=100, required=True)
    assert x.shape == (len(y), 3, 256, 256) and 0.0 <= float(x.min()) <= float(x.max()) <= 1.0
    mixed = realism.mix_all(x, y, realism.methods([2.4, 2.8, 4.0]), num_classes=5)
    fig = realism.image_grids({m: xm for m, (xm, _) in mixed.items()}, max_side=16)
    assert len(fig.axes) == 5
    matplotlib.pyplot.close(fig)


def test_skin_originals_missing(tmp_path, capsys):
    assert realism.skin_originals("ISIC2018", root=tmp_path) is None
    assert "make data DATASETS=ISIC2018" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="ISIC2017 not found"):
        realism.skin_originals("ISIC2017", root=tmp_path, required=True)


class TestPlots:
    def test_figures(self, batch):
        x, y = batch
        mixers = realism.methods([2.4, 2.8])
        grid = realism.mix_all(x[:20], y[:20], mixers, num_classes=K)
        fig = realism.image_grids({k: v[0] for k, v in grid.items()}, nrow=5, title="t", max_side=4)
        assert [ax.get_title() for ax in fig.axes] == list(mixers)
        ex = {k: (v[0][:2], v[1][:2], softmax_oracle(v[0][:2])) for k, v in grid.items() if k != "original"}
        fig = realism.soft_label_examples(ex, class_names=list("abcd"))
        bars = [ax for ax in fig.axes if ax.get_xlabel() == "class"]
        assert len(bars) == 2 * len(ex) and bars[0].get_ylabel() == "probability"
        study = realism.realism_study(softmax_oracle, x, y, mixers, num_samples=20, batch_size=10, num_classes=K)
        fig = realism.realism_densities(study, label="test", num_classes=K, h_max=1.0)
        main = fig.axes[:3]
        assert [ax.get_ylabel() for ax in main] == ["density"] * 3
        assert "entropy" in main[0].get_xlabel() and "cross-entropy" in main[1].get_xlabel()
        matplotlib.pyplot.close("all")


class TestPage:
    """The page's one-call cells on the smoke dataset (scikit-learn's digits) with the quadrant oracle."""

    @pytest.fixture
    def params(self, tmp_path):
        from types import SimpleNamespace

        fx.make_isic2018(tmp_path)
        return SimpleNamespace(
            dataset="digits",
            data_root=tmp_path,
            gammas=[2.4, 2.8],
            alpha=1.0,
            seed=0,
            profile="smoke",
            num_synthetic=20,
            batch_size=10,
            seeds=[0, 1],
            torch_device="cpu",
            skin_datasets=["ISIC2017", "ISIC2018"],
        )

    @staticmethod
    def oracle(x: torch.Tensor) -> torch.Tensor:
        """Ten classes from the mean brightness of the image's ten leading pixels."""
        return torch.softmax(10 * x.flatten(1)[:, 20:30].double(), dim=1)

    def test_cells(self, params, capsys):
        fig3 = realism.fig3_grid(params)
        assert list(fig3.mixers) == ["original", "mixup", "zeta_mixup(gamma=2.4)", "zeta_mixup(gamma=2.8)"]
        x_orig, y_orig = fig3.grid["original"]
        assert x_orig.shape[0] == 100 and y_orig.argmax(1).tolist() == [k for k in range(10) for _ in range(10)]
        fig = matplotlib.pyplot.gcf()
        assert fig.get_suptitle().startswith("Fig. 3a–c: digits, first 10 test images per class")

        scored = realism.fig3_examples(params, self.oracle, fig3)
        assert set(scored) == set(fig3.mixers) and all(len(s) == 100 for s in scored.values())
        assert "Fig. 3d–e" in matplotlib.pyplot.gcf().get_suptitle()
        realism.print_label_errors(params, scored)
        out = capsys.readouterr().out
        assert out.startswith("soft-label argmax ≠ oracle argmax among the 100 grid images (profile 'smoke', digits")
        assert realism.label_errors(scored).to_string() in out

        study, label = realism.density_study(params, self.oracle, fig3)
        assert len(study) == 20 * 2 * len(fig3.mixers)
        assert label == "profile 'smoke', digits test split, seeds [0, 1], 40 images per method, cpu"
        table, realistic = realism.summary_tables(study, label)
        pd.testing.assert_frame_equal(table, realism.summarize(study))
        pd.testing.assert_frame_equal(realistic, realism.summarize(study, h_max=0.1))
        assert realism.realistic_table(realistic, label) is realistic
        pd.testing.assert_frame_equal(realism.claims_table(table, realistic, label), realism.claims(table, realistic))
        assert capsys.readouterr().out.splitlines() == [
            f"measured — {label}",
            f"measured, images with H < 0.1 only — {label}",
            f"paper: qualitative claims; measured — {label}",
        ]
        matplotlib.pyplot.close("all")

    def test_skin_grids(self, params, capsys):
        figs = realism.skin_grids(params, realism.methods([2.8]))
        assert list(figs) == ["ISIC2018"] and len(figs["ISIC2018"].axes) == 3
        assert "ISIC2017: skipped" in capsys.readouterr().out
        with pytest.raises(FileNotFoundError, match="ISIC2017 not found"):
            realism.skin_grids(type(params)(**{**vars(params), "profile": "paper"}), realism.methods([2.8]))
        matplotlib.pyplot.close("all")
