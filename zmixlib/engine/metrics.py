"""Evaluation metrics, in NumPy, with the papers' definitions.

* NATURAL (notebook 04): error rate ``ERR = 1 - accuracy`` (the tables print it in percent).
* SKIN (notebook 05): balanced accuracy (macro-averaged recall), F1 micro and macro — as scikit-learn's
  ``balanced_accuracy_score`` and ``f1_score(average=...)`` (a class absent from both truth and
  prediction contributes F1 = 0, as scikit-learn's ``zero_division=0``).
* MEDMNIST (notebook 06): AUC and ACC exactly as ``medmnist.evaluator.getAUC`` / ``getACC`` define them
  (task ``"multi-class"``: mean one-vs-rest AUC over classes and argmax accuracy; ``"binary-class"``:
  AUC of the last column's score and accuracy at threshold 0.5; ``"multi-label, binary-class"``: both
  averaged over labels).
* realism (notebook 02): an oracle's per-sample entropy ``H(p) = -Σ_k p_k log p_k`` and cross-entropy
  ``CE(y, p) = -Σ_k y_k log p_k`` against the soft label of a synthetic sample.
* training (notebooks 04–08, 10): the loss against the soft labels of ``zmixlib.mixing``,
  ``soft_cross_entropy`` — in torch and differentiable, with Dense MultiMix's per-position weights (Venkataramanan
  et al., NeurIPS 2023, Eq. 14).

The evaluation metrics are fractions in [0, 1] (not percent). Inputs may be NumPy arrays or torch tensors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor

from zmixlib.core.checks import check_choice, check_float
from zmixlib.core.util import to_numpy

__all__ = [
    "TASKS",
    "accuracy",
    "error_rate",
    "balanced_accuracy",
    "f1_score",
    "roc_auc",
    "medmnist_auc",
    "medmnist_acc",
    "entropy",
    "cross_entropy",
    "classification_metrics",
    "soft_cross_entropy",
]

TASKS = ("multi-class", "binary-class", "multi-label, binary-class", "ordinal-regression")


def _labels(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = to_numpy(y_true).reshape(-1), to_numpy(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}")
    if t.size == 0:
        raise ValueError("y_true is empty")
    return t.astype(np.int64), p.astype(np.int64)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of correct predictions; labels are class indices."""
    t, p = _labels(y_true, y_pred)
    return float(np.mean(t == p))


def error_rate(y_true: Any, y_pred: Any) -> float:
    """``ERR = 1 - accuracy`` (Table 4 prints ``100 * ERR``)."""
    return 1.0 - accuracy(y_true, y_pred)


def _confusion(t: np.ndarray, p: np.ndarray, num_classes: int | None) -> np.ndarray:
    k = int(max(t.max(), p.max()) + 1) if num_classes is None else int(num_classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def balanced_accuracy(y_true: Any, y_pred: Any) -> float:
    """Mean recall over the classes present in ``y_true`` (scikit-learn's ``balanced_accuracy_score``)."""
    t, p = _labels(y_true, y_pred)
    cm = _confusion(t, p, None)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def f1_score(y_true: Any, y_pred: Any, *, average: str = "macro") -> float:
    """F1 with ``average="micro"`` (= accuracy for single-label data) or ``"macro"`` (unweighted mean
    over the classes present in truth or prediction, 0 where undefined — scikit-learn's default set)."""
    check_choice("average", average, ("micro", "macro"))
    t, p = _labels(y_true, y_pred)
    if average == "micro":
        return float(np.mean(t == p))
    cm = _confusion(t, p, None)
    tp = np.diag(cm).astype(float)
    denom = cm.sum(axis=0) + cm.sum(axis=1)  # 2TP + FP + FN
    labels = np.union1d(np.unique(t), np.unique(p))
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(np.mean(f1[labels]))


def roc_auc(y_true_binary: Any, score: Any) -> float:
    """Area under the ROC curve for one binary problem (Mann–Whitney U with mid-ranks for ties;
    equal to scikit-learn's ``roc_auc_score``). Raises ``ValueError`` if only one class is present."""
    t = to_numpy(y_true_binary).reshape(-1).astype(bool)
    s = to_numpy(score).reshape(-1).astype(np.float64)
    n_pos, n_neg = int(t.sum()), int((~t).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc is undefined when y_true holds only one class")
    ranks = rankdata(s)
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def medmnist_auc(y_true: Any, y_score: Any, task: str) -> float:
    """AUC as ``medmnist.evaluator.getAUC(y_true, y_score, task)``."""
    check_choice("task", task, TASKS)
    t, s = to_numpy(y_true).squeeze(), to_numpy(y_score).squeeze()
    if task == "multi-label, binary-class":
        return float(np.mean([roc_auc(t[:, i], s[:, i]) for i in range(s.shape[1])]))
    if task == "binary-class":
        s = s[:, -1] if s.ndim == 2 else s
        return roc_auc(t, s)
    return float(np.mean([roc_auc(t == i, s[:, i]) for i in range(s.shape[1])]))


def medmnist_acc(y_true: Any, y_score: Any, task: str, *, threshold: float = 0.5) -> float:
    """ACC as ``medmnist.evaluator.getACC(y_true, y_score, task, threshold)``."""
    check_choice("task", task, TASKS)
    t, s = to_numpy(y_true).squeeze(), to_numpy(y_score).squeeze()
    if task == "multi-label, binary-class":
        return float(np.mean([np.mean(t[:, i] == (s[:, i] > threshold)) for i in range(t.shape[1])]))
    if task == "binary-class":
        s = s[:, -1] if s.ndim == 2 else s
        return float(np.mean(t == (s > threshold)))
    return float(np.mean(t == np.argmax(s, axis=-1)))


def entropy(p: Any, *, base: float = math.e, eps: float = 1e-12) -> np.ndarray:
    """Per-sample entropy ``H(p_i) = -Σ_k p_ik log p_ik`` of probabilities ``(N, K)`` → ``(N,)``."""
    p = to_numpy(p).astype(np.float64)
    if p.ndim != 2:
        raise ValueError(f"p must have shape (N, K), got {p.shape}")
    return -(p * np.log(np.clip(p, eps, 1.0))).sum(axis=1) / math.log(base)


def cross_entropy(y_soft: Any, p: Any, *, base: float = math.e, eps: float = 1e-12) -> np.ndarray:
    """Per-sample cross-entropy ``CE(y_i, p_i) = -Σ_k y_ik log p_ik`` of soft labels and probabilities
    ``(N, K)`` → ``(N,)``."""
    y, p = to_numpy(y_soft).astype(np.float64), to_numpy(p).astype(np.float64)
    if y.shape != p.shape or p.ndim != 2:
        raise ValueError(f"y_soft and p must both have shape (N, K), got {y.shape} and {p.shape}")
    return -(y * np.log(np.clip(p, eps, 1.0))).sum(axis=1) / math.log(base)


def classification_metrics(y_true: Any, probs: Any, *, task: str | None = None) -> dict[str, float]:
    """Every metric the sections report, from labels ``(N,)`` and class probabilities ``(N, K)``.

    Returns:
        ``{"acc", "err", "bal_acc", "f1_micro", "f1_macro", "loss", "auc", "medmnist_acc"}``: ``loss`` is
        the mean cross-entropy of the true class; ``auc`` / ``medmnist_acc`` follow MedMNIST for ``task``
        (default: ``"binary-class"`` for two classes, else ``"multi-class"``); ``auc`` is NaN when it is
        undefined (a class missing from ``y_true``).
    """
    t = to_numpy(y_true).reshape(-1).astype(np.int64)
    p = to_numpy(probs).astype(np.float64)
    if p.ndim != 2 or p.shape[0] != t.shape[0]:
        raise ValueError(f"probs must have shape (N, K) with N = len(y_true) = {t.shape[0]}, got {p.shape}")
    task = task or ("binary-class" if p.shape[1] == 2 else "multi-class")
    pred = p.argmax(axis=1)
    out = {
        "acc": accuracy(t, pred),
        "err": error_rate(t, pred),
        "bal_acc": balanced_accuracy(t, pred),
        "f1_micro": f1_score(t, pred, average="micro"),
        "f1_macro": f1_score(t, pred, average="macro"),
        "loss": float(np.mean(-np.log(np.clip(p[np.arange(len(t)), t], 1e-12, 1.0)))),
    }
    try:
        out["auc"] = medmnist_auc(t, p, task)
    except ValueError:
        out["auc"] = float("nan")
    out["medmnist_acc"] = medmnist_acc(t, p, task)
    return out


def soft_cross_entropy(
    logits: Tensor, y_soft: Tensor, *, label_smoothing: float = 0.0, weight: Tensor | None = None
) -> Tensor:
    """Cross-entropy against soft labels: ``mean_i −Σ_c ỹ_ic log softmax(z_i)_c``.

    ``ỹ = (1 − ε) y + ε / K`` with ``ε = label_smoothing``. Computed in at least float32.

    Args:
        logits: ``(N, K)`` or ``(N, r, K)`` (dense, e.g. Dense MultiMix).
        y_soft: probabilities of the same shape.
        label_smoothing: ``ε ∈ [0, 1]``.
        weight: optional ``(N,)`` or ``(N, r)`` non-negative weights over dim 0: the loss is then
            ``Σ_i w_i ℓ_i / Σ_i w_i`` (per position, then averaged over positions) — MultiMix Eq. 14. A position
            whose weights are all 0 (or sum below the smallest normal float) is left out of the average (not
            0 / 0); all of them 0 gives a loss of 0.

    Returns:
        0-d tensor, the mean loss. Used by ``zmixlib.engine.train`` (notebooks 04–08, 10).
    """
    if not isinstance(logits, Tensor) or not isinstance(y_soft, Tensor):
        raise TypeError("logits and y_soft must be torch.Tensors")
    if logits.shape != y_soft.shape:
        raise ValueError(f"y_soft must have the shape of logits {tuple(logits.shape)}, got {tuple(y_soft.shape)}")
    eps = check_float("label_smoothing", label_smoothing, min=0.0, max=1.0)
    dt = torch.promote_types(logits.dtype, torch.float32)
    logp = torch.log_softmax(logits.to(dt), dim=-1)
    target = y_soft.to(dt)
    if eps:
        target = target * (1.0 - eps) + eps / logits.shape[-1]
    loss = -(target * logp).sum(dim=-1)  # (N,) or (N, r)
    if weight is None:
        return loss.mean()
    if weight.shape != loss.shape:
        raise ValueError(f"weight must have shape {tuple(loss.shape)}, got {tuple(weight.shape)}")
    w = weight.to(dt)
    total = w.sum(dim=0)  # () or (r,)
    # a position whose weights are all 0 (or sum below the smallest normal number, whose inverse overflows in the
    # gradient) has no loss to average: it is left out, never 0 / 0
    ok = total >= torch.finfo(dt).tiny
    per = (w * loss).sum(dim=0) / torch.where(ok, total, torch.ones_like(total))
    guarded = (per * ok).sum() / ok.sum().clamp_min(1)
    return torch.where(ok.all(), per.mean(), guarded)  # no sync; with every total > 0 exactly the plain mean
