"""zmixlib.analysis.geometry: whole-set augmentation, label error, distances, kNN label disagreement."""

import numpy as np
import pytest
import torch

from zmixlib import data
from zmixlib.analysis import geometry


@pytest.fixture
def moons():
    return data.synthetic("crescents", 96, seed=0)


class TestAugmentDataset:
    @pytest.mark.parametrize("method,kw", [("mixup", {}), ("zeta_mixup", {"gamma": 2.8}), ("original", {})])
    def test_whole_set_shapes_and_soft_labels(self, moons, method, kw):
        x, y = moons
        xm, ym = geometry.augment_dataset(x, y, method, batch_size=32, num_classes=2, **kw)
        assert xm.shape == x.shape and ym.shape == (96, 2)
        assert torch.allclose(ym.sum(1), torch.ones(96))
        assert not torch.equal(x, xm)  # shuffled (and mixed)

    def test_original_is_a_permutation_with_one_hot_labels(self, moons):
        x, y = moons
        xm, ym, order = geometry.augment_dataset(x, y, "original", num_classes=2, return_order=True)
        assert torch.equal(xm, x[order]) and torch.equal(ym.argmax(1), y[order])

    def test_zeta_outputs_stay_nearest_their_own_input(self, moons):
        # γ large: the diagonal weight dominates, so output i is closest to input order[i]
        x, y = moons
        xm, _, order = geometry.augment_dataset(
            x, y, "zeta_mixup", gamma=8.0, num_classes=2, return_order=True, generator=torch.Generator().manual_seed(0)
        )
        assert torch.equal(torch.cdist(xm, x).argmin(1), order)

    def test_uneven_last_batch_and_singleton(self):
        x, y = torch.randn(65, 3), torch.zeros(65, dtype=torch.long)
        xm, ym = geometry.augment_dataset(x, y, "zeta_mixup", gamma=2.0, num_mix=40, batch_size=32, num_classes=1)
        assert xm.shape == (65, 3)

    def test_reproducible_with_generator(self, moons):
        x, y = moons
        a = geometry.augment_dataset(x, y, "mixup", num_classes=2, generator=torch.Generator().manual_seed(3))
        b = geometry.augment_dataset(x, y, "mixup", num_classes=2, generator=torch.Generator().manual_seed(3))
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

    def test_arguments(self, moons):
        x, y = moons
        with pytest.raises(ValueError, match="gamma is required for method='zeta_mixup', got None"):
            geometry.augment_dataset(x, y, "zeta_mixup", num_classes=2)
        with pytest.raises(ValueError, match="method must be one of"):
            geometry.augment_dataset(x, y, "cutmix", num_classes=2)
        with pytest.raises(ValueError, match="batch_size must be >= 2, got 1"):
            geometry.augment_dataset(x, y, "mixup", batch_size=1, num_classes=2)


class TestMetrics:
    def test_nearest_distance_matches_brute_force(self):
        g = torch.Generator().manual_seed(0)
        p, r = torch.randn(50, 3, generator=g), torch.randn(80, 3, generator=g)
        expected = torch.cdist(p.double(), r.double()).amin(1)
        assert torch.allclose(geometry.nearest_distance(p, r), expected)
        assert torch.equal(geometry.nearest_distance(r, r), torch.zeros(80, dtype=torch.float64))
        with pytest.raises(ValueError, match="same dimension, got 3 and 2"):
            geometry.nearest_distance(p, r[:, :2])

    def test_label_error_of_clean_points_is_zero(self):
        clf = geometry.region_classifier(*data.dense_points("crescents", 4000, seed=1))
        x, y = data.dense_points("crescents", 300, seed=2)
        assert geometry.label_error(x, y, clf) == 0.0
        flipped = torch.nn.functional.one_hot(1 - y, 2).float()
        assert geometry.label_error(x, flipped, clf) == 1.0

    def test_knn_label_disagreement(self):
        train = torch.tensor([[0.0, 0], [0.1, 0], [0.2, 0], [5.0, 5], [5.1, 5]])
        train_y = torch.tensor([[1.0, 0], [0.9, 0.1], [0.2, 0.8], [0, 1], [0, 1]])
        test, test_y = torch.tensor([[0.05, 0.0]]), torch.tensor([0])
        assert geometry.knn_label_disagreement(test, test_y, train, train_y, k=2) == 0.0
        assert geometry.knn_label_disagreement(test, test_y, train, train_y, k=3) == pytest.approx(1 / 3)

    def test_summarize_mean_and_sd_over_seeds(self):
        import pandas as pd

        f = pd.DataFrame({"method": ["a", "a", "b"], "gamma": [np.nan, np.nan, 2.0], "v": [1.0, 3.0, 5.0]})
        s = geometry.summarize(f, ["v"], ["method", "gamma"]).set_index("method")
        assert s.loc["a", "v_mean"] == 2.0 and s.loc["a", "v_sd"] == pytest.approx(np.sqrt(2))
        assert s.loc["b", "v_sd"] == 0.0 and s.loc["b", "seeds"] == 1


class TestTables:
    def test_realism_table_rows(self):
        f = geometry.realism_table("spirals", gammas=[2.8], seeds=[0, 1], n=128, n_dense=2000)
        assert len(f) == 2 * 3 and set(f["method"]) == {"original", "mixup", "zeta_mixup"}
        assert f["label_error"].between(0, 1).all()
        assert (f.loc[f["method"] == "original", "mean_distance"] == 0).all()
        assert (f.loc[f["method"] != "original", "mean_distance"] > 0).all()

    def test_diversity_grows_with_T_and_shrinks_with_gamma(self):
        x = data.synthetic("helix1d_r3", 1024, seed=0)[0]
        dense = data.dense_points("helix1d_r3", 5000, seed=1)[0]
        f = geometry.diversity_grid(x, dense, num_mix=[2, 32], gammas=[1.8, 6.0], seeds=[0], batch_size=32)
        d = f.set_index(["T", "gamma"])["displacement"]
        assert d[(32, 1.8)] > d[(2, 1.8)] and d[(32, 1.8)] > d[(32, 6.0)]

    def test_disagreement_table_rows(self):
        f = geometry.disagreement_table("crescents", gammas=[2.4, 4.0], seeds=[0], ks=[8, 16], n=128, n_test=64)
        assert len(f) == (2 + 2) * 2 and f["disagreement"].between(0, 1).all()
