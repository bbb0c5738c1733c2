"""zmixlib.chapters.peers.ensemble: T MLPs trained at once are T separate trainings — the same weights and test errors as T
one-model loops (nn.Module, torch.optim.SGD, MultiStepLR, soft-target cross-entropy, the same k-mixup draws)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zmixlib import mixing
from zmixlib.chapters.peers import ensemble
from zmixlib.engine import models

SCHEDULE = ensemble.SGDSchedule(
    epochs=4, batch_size=8, lr=0.05, momentum=0.9, weight_decay=1e-3, milestones=(2, 3), lr_gamma=0.1
)


def _data(t: int = 3, n: int = 25, m: int = 12, d: int = 5, classes: int = 3):
    """Per model its own rows: ``n`` training rows (25 = 3 × 8 + 1: the last mini-batch of one is skipped)."""
    g = torch.Generator().manual_seed(7)
    x, xt = torch.rand(t, n, d, generator=g), torch.rand(t, m, d, generator=g)
    return x, torch.randint(classes, (t, n), generator=g), xt, torch.randint(classes, (t, m), generator=g)


def _kmixup_one(x, y, *, k: int, lam: float, perm: torch.Tensor):
    """k-mixup of one batch for the draws ``(λ, π)``: consecutive k-subsets of the batch and of its permuted copy
    (the remainder one smaller subset), each pair matched by the Hungarian algorithm."""
    partner = perm.clone()
    for start in range(0, len(x), k):
        sl = slice(start, min(start + k, len(x)))
        if sl.stop - sl.start > 1:
            partner[sl] = perm[sl][mixing.optimal_matching(x[sl], x[perm[sl]])]
    lam_t = torch.tensor(lam, dtype=torch.float64)
    return x[partner].lerp(x, lam_t.to(x.dtype)), y[partner].lerp(y, lam_t.to(y.dtype))


def _train_one(net, x, y, *, shuffle, rng=None, k=None, alpha=None, num_classes=3):
    """One model, the plain way: its own module, optimiser and schedule, mini-batch by mini-batch."""
    s = SCHEDULE
    opt = torch.optim.SGD(
        net.parameters(), lr=s.lr, momentum=s.momentum, nesterov=s.nesterov, weight_decay=s.weight_decay
    )
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(s.milestones), gamma=s.lr_gamma)
    for _ in range(s.epochs):
        order = torch.randperm(len(x), generator=shuffle)
        for start in range(0, len(x), s.batch_size):
            idx = order[start : start + s.batch_size]
            if len(idx) < 2:
                continue
            xb, yb = x[idx], torch.eye(num_classes)[y[idx]]
            if k is not None:
                lam = rng.beta(alpha, alpha)
                xb, yb = _kmixup_one(xb, yb, k=k, lam=lam, perm=torch.as_tensor(rng.permutation(len(idx))))
            loss = -(yb * torch.log_softmax(net(xb), -1)).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    return net


@pytest.mark.parametrize(("k", "alphas"), [(None, None), (1, [1.0, 0.4, 2.0]), (3, [0.5, 1.0, 4.0])])
@pytest.mark.slow
def test_ensemble_equals_separate_trainings(k, alphas):
    x, y, xt, yt = _data()
    seeds = [0, 1, 2]
    nets = ensemble.build_mlps(seeds, in_features=5, num_classes=3, hidden=(16, 8))
    mix = None if k is None else ensemble.kmixup_mixer(k, alphas, [np.random.default_rng(100 + t) for t in seeds])
    shuffle = [torch.Generator().manual_seed(50 + t) for t in seeds]
    layers = ensemble.train_mlps(nets, x, y, num_classes=3, schedule=SCHEDULE, shuffle=shuffle, mix=mix)
    together = ensemble.errors(layers, xt, yt)
    for t in seeds:
        torch.manual_seed(t)
        net = models.build("mlp", num_classes=3, in_channels=5, hidden=(16, 8))
        rng = np.random.default_rng(100 + t)
        alpha = None if alphas is None else alphas[t]
        _train_one(net, x[t], y[t], shuffle=torch.Generator().manual_seed(50 + t), rng=rng, k=k, alpha=alpha)
        linear = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
        for (w, b), lin in zip(layers, linear):
            torch.testing.assert_close(w[t].detach(), lin.weight.detach().t())
            torch.testing.assert_close(b[t, 0].detach(), lin.bias.detach())
        with torch.no_grad():
            alone = (net(xt[t]).argmax(-1) != yt[t]).float().mean()
        torch.testing.assert_close(together[t], alone)


@pytest.mark.slow
def test_training_leaves_the_models_unchanged():
    x, y, _, _ = _data()
    nets = ensemble.build_mlps([0, 1, 2], in_features=5, num_classes=3, hidden=(4,))
    before = [p.detach().clone() for n in nets for p in n.parameters()]
    shuffle = [torch.Generator().manual_seed(t) for t in range(3)]
    ensemble.train_mlps(nets, x, y, num_classes=3, schedule=SCHEDULE, shuffle=shuffle)
    assert all(torch.equal(a, p) for a, p in zip(before, (p for n in nets for p in n.parameters())))
    with pytest.raises(ValueError, match="one entry per model, got 3, 3, 3 and 2"):
        ensemble.train_mlps(nets, x, y, num_classes=3, schedule=SCHEDULE, shuffle=shuffle[:2])


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 16, 29, 40])
def test_kmixup_stacked_is_kmixup_per_batch(k):
    t, b = 4, 29  # 29: the last subset is a remainder for every k but 1 and 29
    x, y = torch.randn(t, b, 6), torch.eye(3)[torch.randint(3, (t, b))]
    alphas = [0.3, 1.0, 2.0, 0.05]
    draws = [mixing.sample_mixup(b, alpha=a, generator=torch.Generator().manual_seed(i)) for i, a in enumerate(alphas)]
    lam, perm = torch.stack([d[0] for d in draws]), torch.stack([d[1] for d in draws])
    xm, ym = ensemble.kmixup_stacked(x, y, k=k, lam=lam, perm=perm)
    for i, a in enumerate(alphas):
        ref_x, ref_y = mixing.kmixup(x[i], y[i], k=k, alpha=a, generator=torch.Generator().manual_seed(i))
        torch.testing.assert_close(xm[i], ref_x, rtol=0, atol=0)
        torch.testing.assert_close(ym[i], ref_y, rtol=0, atol=0)


def test_stacked_mlps_are_the_models():
    nets = ensemble.build_mlps([0, 1, 2], in_features=5, num_classes=3, hidden=(7, 6))
    layers = ensemble.stack_mlps(nets)
    x = torch.randn(3, 4, 5)
    torch.testing.assert_close(ensemble.mlp_forward(layers, x), torch.stack([n(x[i]) for i, n in enumerate(nets)]))
    with pytest.raises(ValueError, match="ReLU MLPs"):
        ensemble.stack_mlps([models.build("lenet5", num_classes=3, in_channels=1)])
