"""The engine's autocast path on the CPU (issue 26): ``RunSpec(amp="bf16")`` trains one step under bf16 autocast —
the mixer's labels float32, loss and gradients finite, weights float32 — without changing what a CPU run does by
default (full precision) or any run's id."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import TensorDataset

from zmixlib.engine import train
from zmixlib.engine.runspec import RunSpec
from zmixlib.engine.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")

K, B = 4, 8


def _data():
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.rand(2 * B, 1, 8, 8, generator=g), torch.arange(2 * B) % K)
    return {"train": ds, "test": ds}, K, None


def _spec(**kw) -> RunSpec:
    base = dict(dataset="tiny", arch="digits_cnn", arch_kwargs={"width": 4}, epochs=1, batch_size=B, device="cpu")
    return RunSpec(**{**base, **kw})


class _Spy:
    """Records what a callable returned (the mixer's ``(x_mix, y_mix)``; the loss's arguments)."""

    def __init__(self, fn):
        self.fn, self.calls, self.autocast = fn, [], []

    def __call__(self, *args, **kw):
        self.autocast.append(torch.is_autocast_enabled("cpu"))
        out = self.fn(*args, **kw)
        self.calls.append((args, kw, out))
        return out

    def __getattr__(self, name):  # the engine reads mixer.name / mixer.hparams / mixer.fn
        return getattr(self.fn, name)


@pytest.mark.parametrize(
    "method,kw",
    [
        ("zeta_mixup", dict(gamma=2.8)),
        ("zeta_mixup", dict(gamma=2.8, space="embedding")),
        ("mixup", dict(alpha=1.0)),
        ("cutmix_zeta", dict(alpha=1.0, gamma=(1.8, 4.0))),
        ("manifold_mixup", dict(alpha=2.0)),
    ],
)
def test_one_bf16_step_on_the_cpu(method, kw, monkeypatch):
    trainer = Trainer(_spec(method=method, amp="bf16", **kw), datasets=_data(), verbose=False)
    assert trainer.execution["amp"] == "bfloat16"
    mixer = trainer.mixer = _Spy(trainer.mixer)
    loss_fn = _Spy(train.soft_cross_entropy)
    monkeypatch.setattr(train, "soft_cross_entropy", loss_fn)
    trainer.model.train()
    x, y = next(trainer.batches())

    loss, correct, n = trainer.step(x, y)

    ((_, _, (x_mix, y_mix)),) = mixer.calls
    assert y_mix.dtype == torch.float32  # the mixer's labels, not merely cast for the loss
    torch.testing.assert_close(y_mix.sum(1), torch.ones(y_mix.shape[0]), rtol=0, atol=1e-6)
    ((args, _, _),) = loss_fn.calls
    logits, target = args
    assert target.dtype == torch.float32 and torch.equal(target, y_mix)
    assert mixer.autocast == [True]  # the mixer ran inside the step's autocast
    assert math.isfinite(float(loss)) and 0 <= int(correct) <= n
    grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
    assert grads and all(bool(torch.isfinite(g).all()) for g in grads)
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())  # fp32 master weights


def test_the_forward_runs_under_bf16_autocast(monkeypatch):
    trainer = Trainer(_spec(method="zeta_mixup", gamma=2.8, amp="bf16"), datasets=_data(), verbose=False)
    loss_fn = _Spy(train.soft_cross_entropy)
    monkeypatch.setattr(train, "soft_cross_entropy", loss_fn)
    trainer.step(*next(trainer.batches()))
    ((args, _, _),) = loss_fn.calls
    assert args[0].dtype == torch.float32  # the engine hands the loss float32 logits
    with trainer.autocast():
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
        assert trainer.model(torch.rand(2, 1, 8, 8)).dtype == torch.bfloat16


@pytest.mark.parametrize("amp", [True, False])
def test_a_cpu_run_stays_in_full_precision_by_default(amp, monkeypatch):
    trainer = Trainer(_spec(method="zeta_mixup", gamma=2.8, amp=amp), datasets=_data(), verbose=False)
    assert trainer.execution["amp"] is None and not trainer.scaler.is_enabled()
    with trainer.autocast():
        assert not torch.is_autocast_enabled("cpu")
        assert trainer.model(torch.rand(2, 1, 8, 8)).dtype == torch.float32


def test_a_bf16_run_fits_and_records_how_it_ran():
    rec = train.fit(
        _spec(method="zeta_mixup", gamma=2.8, amp="bf16"), results_dir=None, progress=False, datasets=_data()
    )
    assert rec.complete and math.isfinite(rec.history[-1]["train_loss"])
    assert rec.environment["execution"]["amp"] == "bfloat16"


def test_amp_is_an_execution_field_its_values_share_one_run_id():
    spec = _spec(method="zeta_mixup", gamma=2.8)
    assert spec.replace(amp="bf16").run_id == spec.run_id == spec.replace(amp=False).run_id
    assert RunSpec.from_dict(spec.replace(amp="bf16").to_dict()).amp == "bf16"


@pytest.mark.parametrize("bad", ["fp16", "bfloat16", 1, None])
def test_other_amp_values_are_refused_by_name(bad):
    with pytest.raises(TypeError, match=r"amp must be True, False or 'bf16'"):
        _spec(amp=bad)
