"""The training target: the loss a :class:`~zmixlib.engine.train.Trainer` step minimises is the soft cross-entropy of the
model's output on the *mixed* batch against the *mixer's* labels.

Every method and every space (input, embedding, dense, manifold) is re-derived here from the public mixing API
(:mod:`zmixlib.mixing`) and the model's stages, with a generator in the mixing generator's state, on a copy of the
model — independently of :meth:`Trainer.step`'s code. The step must return that loss, consume exactly the same
draws, and move the weights by ``lr ·`` its gradient (SGD without momentum or weight decay). A step that fed the
model the mixed inputs but the unmixed labels (issue 26's surviving bug) fails here in every branch: each case
checks first that the mixed target's loss differs from the one-hot target's by far more than the tolerance (where
the two have one shape; MultiMix's ``n`` generated examples have no unmixed labels at all).
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch.utils.data import TensorDataset

from zmixlib.engine.metrics import soft_cross_entropy
from zmixlib.engine.runspec import RunSpec
from zmixlib.engine.train import Trainer
from zmixlib.mixing import Mixer, dense_multimix, mixup, multimix, multimix_attention, multimix_coin

pytestmark = pytest.mark.usefixtures("one_thread")

K, B, LR = 4, 8, 0.5
RTOL = 1e-5  # the step's loss against the re-derived one (float32, the same operations in another order)

#: (method, RunSpec keywords): every method the engine trains, in every space it trains in; MultiMix's coin
#: forced both ways (prob 1: MultiMix of the embeddings, prob 0: mixup of the inputs), and left to chance
CASES = [
    ("erm", {}),
    ("mixup", dict(alpha=1.0)),
    ("zeta_mixup", dict(gamma=2.8)),
    ("zeta_mixup", dict(gamma=(1.8, 4.0), space="embedding")),
    ("zeta_mixup", dict(gamma=2.4, space="manifold")),
    ("dirichlet_mixup", dict(alpha=1.0)),
    ("cutmix", dict(alpha=1.0)),
    ("cutmix_zeta", dict(alpha=1.0, gamma=(1.8, 4.0))),
    ("cutmix_zeta_compose", dict(alpha=1.0, gamma=(1.8, 4.0))),
    ("kmixup", dict(alpha=1.0, extra={"k": 2})),
    ("local_synthetic_instances", {}),
    ("mixup", dict(alpha=1.0, space="embedding")),
    ("manifold_mixup", dict(alpha=2.0)),
    ("multimix", dict(extra={"n": 12, "prob": 1.0})),
    ("multimix", dict(extra={"n": 12, "prob": 0.0, "mixup_alpha": 2.0})),
    ("multimix", dict(extra={"n": 12, "prob": 0.5})),
    ("dense_multimix", dict(extra={"n": 12, "prob": 1.0})),
    ("dense_multimix", dict(extra={"n": 12, "prob": 0.0})),
]


def _trainer(method: str, **kw) -> Trainer:
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.rand(2 * B, 1, 8, 8, generator=g), torch.arange(2 * B) % K)
    spec = RunSpec(
        dataset="tiny",
        arch="digits_cnn",
        arch_kwargs={"width": 4},
        method=method,
        epochs=1,
        batch_size=B,
        lr=LR,
        momentum=0.0,
        weight_decay=0.0,
        device="cpu",
        seed=3,
        **kw,
    )
    return Trainer(spec, datasets=({"train": ds, "test": ds}, K, None), verbose=False)


def _expected(spec: RunSpec, model, x, y_soft, g):
    """``(logits, target, weight)`` of one step, derived from the mixing API alone (same order of draws)."""
    if spec.method == "erm":
        return model(x), y_soft, None
    mixer = Mixer(spec.mixer_name, num_classes=K, generator=g, **spec.mixer_hparams())
    hp = mixer.hparams
    if spec.space == "input":
        x_mix, y_mix = mixer(x, y_soft)
        return model(x_mix), y_mix, None
    if spec.space == "manifold":  # a mixing point drawn from g, the hidden batch mixed there
        i = int(torch.randint(len(model.mix_points), (1,), generator=g).item())
        point, h, y_mix = model.mix_points[i], x, y_soft
        for k, stage in enumerate(model.stages):
            if k == point:
                h, y_mix = mixer(h, y_mix)
            h = stage(h)
        z = model.pool(h)
        if point == len(model.stages):
            z, y_mix = mixer(z, y_mix)
        return model.forward_head(z), y_mix, None
    if spec.mixer_name != "multimix":  # another mixer of the embeddings
        z_mix, y_mix = mixer(model.forward_features(x), y_soft)
        return model.forward_head(z_mix), y_mix, None
    if not multimix_coin(hp["prob"], generator=g):  # MultiMix's protocol: else mixup of the inputs
        x_mix, y_mix = mixup(x, y_soft, alpha=hp["mixup_alpha"], generator=g)
        return model(x_mix), y_mix, None
    if spec.space == "dense":
        z_map = model.forward_features(x, spatial=True)
        z_mix, y_mix, weight = dense_multimix(
            z_map, y_soft, multimix_attention(z_map.detach()), n=hp["n"], alpha=hp["alpha"], generator=g
        )
        return model.forward_head(z_mix, dense=True), y_mix, weight
    z_mix, y_mix = multimix(model.forward_features(x), y_soft, n=hp["n"], alpha=hp["alpha"], generator=g)
    return model.forward_head(z_mix), y_mix, None


@pytest.mark.parametrize("method,kw", CASES, ids=[f"{m}-{kw.get('space', '')}{kw.get('extra', '')}" for m, kw in CASES])
def test_step_minimises_soft_ce_against_the_mixers_labels(method, kw):
    trainer = _trainer(method, **kw)
    spec = trainer.spec
    trainer.model.train()
    with torch.no_grad():  # a confident model (as after some training): the losses of two targets lie far apart
        trainer.model.head.weight.mul_(20.0)
    gx = torch.Generator().manual_seed(1)
    for _ in range(3):  # several steps: other mixing points, other coins
        x = torch.rand(B, 1, 8, 8, generator=gx)
        y = torch.randperm(B, generator=gx) % K  # every class in the batch: mixing changes the labels
        y_soft = torch.nn.functional.one_hot(y, K).float()
        ref = copy.deepcopy(trainer.model)
        before = [p.detach().clone() for p in trainer.model.parameters()]
        g = torch.Generator().manual_seed(0)
        g.set_state(trainer.mix_gen.get_state())
        logits, target, weight = _expected(spec, ref, x, y_soft, g)
        expected = soft_cross_entropy(logits, target, weight=weight)
        if method != "erm" and target.shape == y_soft.shape:  # the check below can tell the two targets apart
            unmixed = soft_cross_entropy(logits, y_soft, weight=weight)
            assert abs(unmixed.item() - expected.item()) > 20 * RTOL * abs(expected.item())
        expected.backward()

        loss, _, n = trainer.step(x, y)

        assert float(loss) == pytest.approx(expected.item(), rel=RTOL)
        assert n == target.shape[0]
        assert torch.equal(trainer.mix_gen.get_state(), g.get_state())  # the same draws, no more, no fewer
        for p0, p1, pr in zip(before, trainer.model.parameters(), ref.parameters(), strict=True):
            grad = pr.grad if pr.grad is not None else torch.zeros_like(p0)
            torch.testing.assert_close(p0 - p1.detach(), LR * grad, rtol=1e-4, atol=1e-6)


def test_the_cases_cover_every_method_and_space():
    from zmixlib.core.vocab import METHODS, SPACES

    covered = {(m, _trainer(m, **kw).spec.space) for m, kw in CASES}
    assert {m for m, _ in covered} == set(METHODS)
    assert {s for _, s in covered} == set(SPACES)
