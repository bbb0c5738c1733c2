"""zmixlib.engine.metrics against scikit-learn and medmnist's evaluator on the same arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from medmnist.evaluator import getACC, getAUC
from sklearn import metrics as skm

from zmixlib.engine import metrics


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _probs(rng, n, k):
    logits = rng.normal(size=(n, k))
    p = np.exp(logits)
    return p / p.sum(1, keepdims=True)


class TestLabelMetrics:
    @pytest.mark.parametrize("k", [2, 5])
    def test_against_sklearn(self, rng, k):
        t = rng.integers(0, k, 200)
        p = np.where(rng.random(200) < 0.6, t, rng.integers(0, k, 200))
        assert metrics.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
        assert metrics.error_rate(t, p) == pytest.approx(1 - skm.accuracy_score(t, p))
        assert metrics.balanced_accuracy(t, p) == pytest.approx(skm.balanced_accuracy_score(t, p))
        for avg in ("micro", "macro"):
            assert metrics.f1_score(t, p, average=avg) == pytest.approx(skm.f1_score(t, p, average=avg))

    @pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
    def test_class_only_predicted_counts_in_macro_f1(self):
        t, p = np.array([0, 0, 1, 1]), np.array([0, 2, 1, 1])
        assert metrics.f1_score(t, p) == pytest.approx(skm.f1_score(t, p, average="macro", zero_division=0))
        assert metrics.balanced_accuracy(t, p) == pytest.approx(skm.balanced_accuracy_score(t, p))

    def test_torch_inputs(self):
        t = torch.tensor([0, 1, 2, 2])
        assert metrics.accuracy(t, torch.tensor([0, 1, 2, 0])) == 0.75

    def test_length_mismatch(self):
        with pytest.raises(ValueError, match="same length"):
            metrics.accuracy([0, 1], [0])


class TestMedMNIST:
    @pytest.mark.parametrize("k,task", [(2, "binary-class"), (4, "multi-class"), (3, "ordinal-regression")])
    def test_single_label_tasks(self, rng, k, task):
        y = rng.integers(0, k, (150, 1))  # medmnist stores labels as (N, 1)
        s = _probs(rng, 150, k)
        assert metrics.medmnist_auc(y, s, task) == pytest.approx(getAUC(y, s, task), abs=1e-12)
        assert metrics.medmnist_acc(y, s, task) == pytest.approx(getACC(y, s, task), abs=1e-12)

    def test_multilabel(self, rng):
        y = rng.integers(0, 2, (120, 4))
        s = rng.random((120, 4))
        task = "multi-label, binary-class"
        assert metrics.medmnist_auc(y, s, task) == pytest.approx(getAUC(y, s, task), abs=1e-12)
        assert metrics.medmnist_acc(y, s, task) == pytest.approx(getACC(y, s, task), abs=1e-12)

    def test_ties_match_sklearn(self):
        t = np.array([0, 1, 1, 0, 1, 0])
        s = np.array([0.5, 0.5, 0.9, 0.1, 0.5, 0.5])
        assert metrics.roc_auc(t, s) == pytest.approx(skm.roc_auc_score(t, s))

    def test_bad_task(self):
        with pytest.raises(ValueError, match="task must be one of"):
            metrics.medmnist_auc([0, 1], np.eye(2), "regression")


class TestOracle:
    def test_entropy_and_ce(self, rng):
        p = _probs(rng, 10, 3)
        y = _probs(rng, 10, 3)
        np.testing.assert_allclose(metrics.entropy(p), -(p * np.log(p)).sum(1))
        np.testing.assert_allclose(metrics.cross_entropy(y, p), -(y * np.log(p)).sum(1))
        np.testing.assert_allclose(metrics.cross_entropy(p, p), metrics.entropy(p))
        assert metrics.entropy(np.eye(3))[0] == pytest.approx(0.0, abs=1e-9)
        assert metrics.entropy(np.full((1, 4), 0.25), base=2)[0] == pytest.approx(2.0)

    def test_shape_errors(self):
        with pytest.raises(ValueError, match=r"shape \(N, K\)"):
            metrics.cross_entropy(np.ones((2, 3)), np.ones((2, 4)))


def test_classification_metrics(rng):
    t = rng.integers(0, 3, 90)
    p = _probs(rng, 90, 3)
    m = metrics.classification_metrics(t, p)
    assert m["acc"] == pytest.approx(skm.accuracy_score(t, p.argmax(1)))
    assert m["err"] == pytest.approx(1 - m["acc"])
    assert m["auc"] == pytest.approx(skm.roc_auc_score(t, p, multi_class="ovr", average="macro"))
    assert m["loss"] == pytest.approx(skm.log_loss(t, p))
    assert m["f1_macro"] == pytest.approx(skm.f1_score(t, p.argmax(1), average="macro"))


class TestSoftCrossEntropy:
    """The training loss against soft labels (every mixing method's ``y_mix``)."""

    @pytest.mark.parametrize("eps", [0.0, 0.1])
    def test_matches_torch(self, eps):
        logits, p = torch.randn(6, 5), torch.softmax(torch.randn(6, 5), 1)
        ref = torch.nn.functional.cross_entropy(logits, p, label_smoothing=eps)
        torch.testing.assert_close(metrics.soft_cross_entropy(logits, p, label_smoothing=eps), ref)
        y = torch.randint(0, 5, (6,))
        torch.testing.assert_close(
            metrics.soft_cross_entropy(logits, torch.eye(5)[y], label_smoothing=eps),
            torch.nn.functional.cross_entropy(logits, y, label_smoothing=eps),
        )

    def test_bf16_logits_computed_in_float32(self):
        loss = metrics.soft_cross_entropy(torch.randn(4, 3).bfloat16(), torch.eye(3)[[0, 1, 2, 0]])
        assert loss.dtype == torch.float32

    def test_errors(self):
        with pytest.raises(ValueError, match=r"y_soft must have the shape of logits \(4, 3\), got \(4, 2\)"):
            metrics.soft_cross_entropy(torch.randn(4, 3), torch.rand(4, 2))
        with pytest.raises(ValueError, match=r"label_smoothing must be <= 1.0, got 2.0"):
            metrics.soft_cross_entropy(torch.randn(4, 3), torch.rand(4, 3), label_smoothing=2.0)

    def test_weights_average_per_position_and_skip_empty_positions(self):
        # Dense MultiMix's Eq. 14: Σ_i w_i ℓ_i / Σ_i w_i per position, then the mean over positions; a position
        # whose weights are all 0 is left out (not 0 / 0)
        logits, p = torch.randn(6, 3, 4), torch.softmax(torch.randn(6, 3, 4), -1)
        w = torch.rand(6, 3)
        ce = -(p * torch.log_softmax(logits, -1)).sum(-1)
        ref = ((ce * w).sum(0) / w.sum(0)).mean()
        torch.testing.assert_close(metrics.soft_cross_entropy(logits, p, weight=w), ref)
        w[:, 1] = 0
        ref = ((ce * w).sum(0)[[0, 2]] / w.sum(0)[[0, 2]]).mean()
        torch.testing.assert_close(metrics.soft_cross_entropy(logits, p, weight=w), ref)
        assert metrics.soft_cross_entropy(logits, p, weight=torch.zeros(6, 3)) == 0
        with pytest.raises(ValueError, match=r"weight must have shape \(6, 3\), got \(6,\)"):
            metrics.soft_cross_entropy(logits, p, weight=torch.ones(6))
