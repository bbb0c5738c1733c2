"""T same-shape ReLU MLPs trained at once, each on its own data with its own shuffling and mixing generators.

Small tabular tables (chapter 10's UCI table: 20 random trials per cell, each trial an MLP on its own split) cost
more in per-step overhead than in arithmetic when their models train one after another. Here the ``T`` models of
one shape are stacked — layer ``i`` of every model in one tensor ``(T, in, out)`` — and trained together with one
batched matrix product per layer. The result is exactly ``T`` independent trainings (``tests/test_ensemble.py``
checks it against ``T`` one-model loops of ``torch.optim.SGD`` and ``MultiStepLR``):

* the loss is the sum over models of each model's mean soft-target cross-entropy, so model ``t``'s gradient is
  its own loss's gradient;
* SGD's momentum and weight decay act element-wise, so one optimiser over the stacked tensors is one SGD per model;
* model ``t`` draws its mini-batches from its own ``shuffle[t]`` and its mixing from its own generator.

Functions: :func:`build_mlps` (``T`` models of :func:`zmixlib.engine.models.build`, model ``t`` initialised from
``seeds[t]``), :func:`stack_mlps` / :func:`mlp_forward` (the stacked form), :func:`kmixup_stacked` (k-mixup of
``T`` mini-batches with their draws given) and :func:`kmixup_mixer` (its draws per model), :func:`train_mlps`,
:func:`errors`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from zmixlib import mixing
from zmixlib.engine import models

__all__ = [
    "SGDSchedule",
    "build_mlps",
    "stack_mlps",
    "mlp_forward",
    "kmixup_stacked",
    "kmixup_mixer",
    "train_mlps",
    "errors",
]

#: stacked layers: ``[(W (T, in, out), b (T, 1, out)), ...]``
Layers = list[tuple[torch.Tensor, torch.Tensor]]
#: a mixing step of ``T`` mini-batches: ``(x (T, B, d), y (T, B, K) probabilities) -> (x_mix, y_mix)``
Mixer = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class SGDSchedule:
    """SGD with a step schedule (``torch.optim.SGD`` and ``MultiStepLR``, stepped once per epoch), mini-batches of
    ``batch_size`` (a last mini-batch of one example is skipped)."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    milestones: tuple[int, ...] = ()
    lr_gamma: float = 0.1


def build_mlps(
    seeds: Sequence[int], *, in_features: int, num_classes: int, hidden: Sequence[int]
) -> list[torch.nn.Module]:
    """``len(seeds)`` MLPs ``zmixlib.engine.models.build("mlp", hidden=...)``, model ``t`` initialised after
    ``torch.manual_seed(seeds[t])`` (the global generator is left seeded by the last one)."""
    nets = []
    for s in seeds:
        torch.manual_seed(int(s))
        nets.append(models.build("mlp", num_classes=num_classes, in_channels=in_features, hidden=tuple(hidden)))
    return nets


def stack_mlps(nets: Sequence[torch.nn.Module]) -> Layers:
    """The layers of ``T`` MLPs of one shape (linear layers with ReLU between them, the last one the head) as
    stacked leaf tensors ``[(W (T, in, out), b (T, 1, out)), ...]``, each a copy of the models' weights, for
    :func:`mlp_forward`. ``ValueError`` for a model that is not such an MLP."""
    per_net = [[m for m in net.modules() if isinstance(m, torch.nn.Linear)] for net in nets]
    for net, lin in zip(nets, per_net):
        kinds = [type(m) for m in net.modules() if isinstance(m, (torch.nn.Linear, torch.nn.ReLU))]
        expected = [torch.nn.Linear, torch.nn.ReLU] * (len(lin) - 1) + [torch.nn.Linear]
        if kinds != expected:
            raise ValueError(
                f"stack_mlps needs ReLU MLPs (Linear, ReLU, ..., Linear), got {[k.__name__ for k in kinds]}"
            )
    return [
        (
            torch.stack([lin[i].weight.detach().t() for lin in per_net]).contiguous().requires_grad_(),
            torch.stack([lin[i].bias.detach()[None] for lin in per_net]).contiguous().requires_grad_(),
        )
        for i in range(len(per_net[0]))
    ]


def mlp_forward(layers: Layers, x: torch.Tensor) -> torch.Tensor:
    """``T`` MLPs at once: ``x`` ``(T, B, d)`` → logits ``(T, B, K)`` (one batched matrix product per layer)."""
    for i, (w, b) in enumerate(layers):
        x = torch.baddbmm(b, x, w)
        if i < len(layers) - 1:
            x = torch.relu(x)
    return x


def _matching(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """:func:`zmixlib.mixing.optimal_matching` of a batch of problems ``(n, k, D)`` → ``(n, k)``; for ``k ≤ 4`` by
    trying every permutation at once (the same optimum, without one Hungarian call per problem)."""
    k = a.shape[1]
    if k > 4:
        return mixing.optimal_matching(a, b)
    cost = torch.cdist(a.double(), b.double(), compute_mode="donot_use_mm_for_euclid_dist")  # (n, k, k), as mixing's
    perms = torch.tensor(list(itertools.permutations(range(k))), device=a.device)  # (k!, k)
    total = cost[:, torch.arange(k, device=a.device), perms].sum(-1)  # (n, k!)
    return perms[total.argmin(1)]


def kmixup_stacked(
    x: torch.Tensor, y: torch.Tensor, *, k: int, lam: torch.Tensor, perm: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """k-mixup (Greenewald et al.) of ``T`` mini-batches at once: ``x`` ``(T, B, ...)``, ``y`` ``(T, B, K)``
    probabilities, with each batch's draws given — ``lam`` ``(T,)`` and the random partner permutation ``perm``
    ``(T, B)``.

    Row ``t`` is ``zmixlib.mixing.kmixup(x[t], y[t], k=k, ...)`` for the draws ``(perm[t], lam[t])``: the batch
    and its permuted copy split into consecutive k-subsets (the remainder one smaller subset), each pair matched
    optimally on Euclidean distances, ``λ x + (1 − λ) x_matched``. The ``T · ⌈B/k⌉`` matchings are solved
    together. Returns ``(x_mix, y_mix)`` shaped like ``x`` and ``y``.
    """
    t, b = x.shape[:2]
    partner = perm
    if k > 1:
        flat = x.detach().reshape(t, b, -1)
        gathered = torch.gather(flat, 1, perm[..., None].expand_as(flat))  # x[perm] per batch
        n_full, full = b // k, (b // k) * k
        parts = []
        if n_full:
            sigma = _matching(flat[:, :full].reshape(t * n_full, k, -1), gathered[:, :full].reshape(t * n_full, k, -1))
            parts.append(perm[:, :full].reshape(t * n_full, k).gather(1, sigma).reshape(t, full))
        if full < b:
            rest = perm[:, full:]
            if b - full > 1:
                rest = rest.gather(1, _matching(flat[:, full:], gathered[:, full:]))
            parts.append(rest)
        partner = torch.cat(parts, dim=1)
    xp = torch.gather(x, 1, partner.reshape(t, b, *([1] * (x.ndim - 2))).expand_as(x))
    yp = torch.gather(y, 1, partner[..., None].expand_as(y))
    shape = (t,) + (1,) * (x.ndim - 1)
    return xp.lerp_(x, lam.to(x.dtype).reshape(shape)), yp.lerp_(y, lam.to(y.dtype).reshape(t, 1, 1))


def kmixup_mixer(k: int, alphas: Sequence[float], rngs: Sequence[np.random.Generator]) -> Mixer:
    """The mixing step of :func:`train_mlps` for k-mixup: per mini-batch, model ``t`` draws ``λ ~ Beta(α_t, α_t)``
    from ``rngs[t]`` (every model in turn), then its partner permutation from ``rngs[t]`` (every model in turn),
    and :func:`kmixup_stacked` mixes the ``T`` batches."""

    def mix(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lam = torch.tensor([g.beta(a, a) for g, a in zip(rngs, alphas)], dtype=torch.float64)
        perm = torch.as_tensor(np.stack([g.permutation(x.shape[1]) for g in rngs]))
        return kmixup_stacked(x, y, k=k, lam=lam, perm=perm)

    return mix


def train_mlps(
    nets: Sequence[torch.nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    num_classes: int,
    schedule: SGDSchedule,
    shuffle: Sequence[torch.Generator],
    mix: Mixer | None = None,
) -> Layers:
    """Train the ``T`` MLPs ``nets`` (their weights are copied, not changed) at once, model ``t`` on ``x[t]``
    ``(T, n, d)`` with labels ``y[t]`` ``(T, n)`` (class indices), its mini-batches in the order of
    ``torch.randperm(n, generator=shuffle[t])`` each epoch, mixed by ``mix`` (``None``: no mixing), with the
    soft-target cross-entropy and ``schedule``. Returns the trained stacked layers (:func:`stack_mlps`)."""
    if not (len(nets) == x.shape[0] == y.shape[0] == len(shuffle)):
        raise ValueError(
            f"nets, x, y and shuffle must have one entry per model, got {len(nets)}, {x.shape[0]}, {y.shape[0]} "
            f"and {len(shuffle)}"
        )
    layers = stack_mlps(nets)
    opt = torch.optim.SGD(
        [p for layer in layers for p in layer],
        lr=schedule.lr,
        momentum=schedule.momentum,
        nesterov=schedule.nesterov,
        weight_decay=schedule.weight_decay,
    )
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(schedule.milestones), gamma=schedule.lr_gamma)
    n, d = x.shape[1], x.shape[2]
    eye = torch.eye(num_classes)
    for _ in range(schedule.epochs):
        order = torch.stack([torch.randperm(n, generator=g) for g in shuffle])  # (T, n)
        for start in range(0, n, schedule.batch_size):
            idx = order[:, start : start + schedule.batch_size]
            if idx.shape[1] < 2:  # never a mini-batch of one
                continue
            xb = torch.gather(x, 1, idx[..., None].expand(-1, -1, d))
            yb = eye[torch.gather(y, 1, idx)]
            if mix is not None:
                xb, yb = mix(xb, yb)
            logp = torch.log_softmax(mlp_forward(layers, xb), dim=-1)
            loss = (-(yb * logp).sum(-1).mean(-1)).sum()  # Σ over models of each model's mean soft-target CE
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
    return layers


def errors(layers: Layers, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per model, the fraction of ``x[t]`` ``(T, m, d)`` misclassified against ``y[t]`` ``(T, m)``: ``(T,)``."""
    with torch.no_grad():
        return (mlp_forward(layers, x).argmax(-1) != y).float().mean(1)
