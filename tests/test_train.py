"""zmixlib.engine.train: fit on tiny data, exact resume, NaN stop, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dataset_fixtures import _idx
from torch.utils.data import DataLoader, TensorDataset

from zmixlib import cli
from zmixlib.engine import store, train
from zmixlib.engine.runspec import RunRecord, RunSpec
from zmixlib.engine.train import fit

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.slow]


def _blobs(n=96, k=3, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    x = torch.randn(n, d, generator=g) * 0.5 + torch.nn.functional.one_hot(y, d).float() * 3
    return TensorDataset(x, y)


def _data(**kw):
    return {"train": _blobs(**kw), "test": _blobs(seed=1, **kw)}, 3, None


def _images(n=64, k=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.rand(n, 1, 8, 8, generator=g), torch.arange(n) % k)


def _spec(**kw):
    base = dict(dataset="blobs", arch="mlp", epochs=3, batch_size=16, lr=0.05, milestones=(2,), device="cpu")
    return RunSpec(**{**base, **kw})


def _random_fmnist(root, n_train, n_test=30, seed=0):
    """Fashion-MNIST's idx files under ``root`` with random pixels and labels."""
    rng = np.random.default_rng(seed)
    raw = root / "FashionMNIST" / "raw"
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), 0x803)
        _idx(raw / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8), 0x801)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _strip_times(history):
    return [{k: v for k, v in row.items() if not k.endswith("time_s")} for row in history]


class TestFit:
    def test_erm_learns_and_writes_record(self, tmp_path):
        rec = fit(_spec(epochs=4), results_dir=tmp_path, progress=False, datasets=_data())
        assert rec.complete and len(rec.history) == 4
        assert rec.metrics["test_acc"] > 0.9
        assert [h["lr"] for h in rec.history] == pytest.approx([0.05, 0.05, 0.005, 0.005])
        path = store.record_path(rec.spec, tmp_path)
        assert path.exists() and not (tmp_path / "adhoc" / "checkpoints" / f"{rec.run_id}.pt").exists()
        back = store.load_record(path)
        assert isinstance(back, RunRecord) and back.spec == rec.spec and back.metrics == rec.metrics
        assert back.environment["torch"] == torch.__version__ and back.wall_time_s > 0

    @pytest.mark.parametrize(
        "method,kw",
        [
            ("mixup", dict(alpha=1.0)),
            ("zeta_mixup", dict(gamma=2.8)),
            ("zeta_mixup", dict(gamma=(1.8, 4.0), space="embedding")),
            ("manifold_mixup", dict(alpha=2.0)),
            ("multimix", dict(extra={"n": 64})),
        ],
    )
    def test_methods_and_spaces(self, method, kw):
        rec = fit(_spec(method=method, epochs=1, **kw), results_dir=None, progress=False, datasets=_data())
        assert rec.complete and 0.0 <= rec.metrics["test_acc"] <= 1.0

    def test_images_with_hflip_and_cutmix(self):
        data = {"train": _images(), "test": _images(seed=1)}, 4, None
        spec = _spec(arch="digits_cnn", method="cutmix_zeta", gamma=(1.73, 4.0), hflip=True, epochs=1)
        rec = fit(spec, results_dir=None, progress=False, datasets=data)
        assert rec.complete and {"test_auc", "test_f1_macro", "test_bal_acc"} <= set(rec.metrics)

    def test_same_seed_same_history(self):
        a = fit(_spec(method="zeta_mixup", gamma=2.4, epochs=2), results_dir=None, progress=False, datasets=_data())
        b = fit(_spec(method="zeta_mixup", gamma=2.4, epochs=2), results_dir=None, progress=False, datasets=_data())
        assert _strip_times(a.history) == _strip_times(b.history)

    def test_resume_is_exact(self, tmp_path):
        """Interrupt after epoch 2, resume: the history equals an uninterrupted run's, bit for bit."""
        spec = _spec(method="zeta_mixup", gamma=2.8, epochs=4, milestones=(3,), train_subset=80)
        straight = fit(spec, results_dir=tmp_path / "a", progress=False, datasets=_data())
        part = fit(spec, results_dir=tmp_path / "b", stop_after_epoch=2, progress=False, datasets=_data())
        assert not part.complete and len(part.history) == 2
        assert not store.exists(spec, tmp_path / "b")
        assert train.checkpoint_path(spec, tmp_path / "b").exists()
        resumed = fit(spec, results_dir=tmp_path / "b", progress=False, datasets=_data())
        assert resumed.complete and resumed.resumed_at_epoch == 2
        assert _strip_times(resumed.history) == _strip_times(straight.history)
        assert resumed.metrics == straight.metrics

    def test_resume_on_digits_with_shuffling_and_mixing(self, tmp_path):
        """The same on real data through zmixlib.data (digits, a CNN, DataLoader shuffling)."""
        spec = RunSpec(
            dataset="digits",
            arch="digits_cnn",
            method="mixup",
            alpha=1.0,
            epochs=3,
            batch_size=32,
            lr=0.05,
            milestones=(2,),
            train_subset=160,
            eval_subset=64,
            device="cpu",
            hflip=True,
        )
        straight = fit(spec, results_dir=None, checkpoint_dir=tmp_path / "s", progress=False)
        fit(spec, results_dir=None, checkpoint_dir=tmp_path / "r", stop_after_epoch=2, progress=False)
        resumed = fit(spec, results_dir=None, checkpoint_dir=tmp_path / "r", progress=False)
        assert _strip_times(resumed.history) == _strip_times(straight.history)

    @pytest.mark.parametrize("resident", [True, False])
    def test_nan_loss_stops_with_epoch_and_step(self, tmp_path, resident):
        """The loss is read once per epoch; the error still names the first step whose loss was not finite,
        and no checkpoint of the poisoned epoch is written."""
        x = torch.randn(32, 4)
        x[20] = float("nan")
        data = {"train": TensorDataset(x, torch.arange(32) % 3), "test": _blobs()}, 3, None
        order = DataLoader(range(32), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))
        step = next(i for i, b in enumerate(order) if 20 in b.tolist()) + 1  # the batch holding sample 20
        spec = _spec(batch_size=8, device_resident=resident)
        with pytest.raises(FloatingPointError, match=rf"non-finite loss \(nan\) at epoch 1, step {step} of run"):
            fit(spec, results_dir=None, checkpoint_dir=tmp_path, progress=False, datasets=data)
        assert not list(tmp_path.iterdir())

    def test_checkpoint_of_other_run_is_refused(self, tmp_path):
        """Another run's checkpoint under this run's name is never resumed: it is set aside (kept, named) and the
        run trains from scratch."""
        a, b = _spec(epochs=2), _spec(epochs=2, seed=5)
        fit(a, results_dir=None, checkpoint_dir=tmp_path, stop_after_epoch=1, progress=False, datasets=_data())
        (tmp_path / f"{a.run_id}.pt").rename(tmp_path / f"{b.run_id}.pt")
        with pytest.warns(store.DamagedFileWarning, match="belongs to run"):
            rec = fit(b, results_dir=None, checkpoint_dir=tmp_path, progress=False, datasets=_data())
        assert rec.complete and rec.resumed_at_epoch is None
        assert list(tmp_path.glob(f"{b.run_id}.pt.corrupt-*"))


class TestDeviceResident:
    """The whole split on the device gives the record the DataLoader path gives (same batches, same values)."""

    @pytest.mark.parametrize(
        "n_train,kw",
        [
            (90, dict(method="zeta_mixup", gamma=2.4, hflip=True)),
            (81, dict(method="cutmix_zeta", gamma=(1.73, 4.0))),  # 81 % 16 == 1: the last batch is dropped
            (64, dict(method="multimix", extra={"n": 16})),
        ],
    )
    def test_same_record_on_fashion_mnist_files(self, tmp_path, n_train, kw):
        _random_fmnist(tmp_path, n_train)
        spec = RunSpec(
            dataset="Fashion-MNIST",
            arch="lenet5",
            epochs=2,
            batch_size=16,
            lr=0.05,
            milestones=(1,),
            data_root=str(tmp_path),
            device="cpu",
            **kw,
        )
        on = fit(spec.replace(device_resident=True), results_dir=None, progress=False)
        off = fit(spec.replace(device_resident=False), results_dir=None, progress=False)
        assert on.environment["execution"]["data"].startswith("device-resident (uint8")
        assert off.environment["execution"]["data"].startswith("DataLoader (device_resident=False)")
        assert repr(_strip_times(on.history)) == repr(_strip_times(off.history))  # repr: nan equals nan
        assert repr(on.metrics) == repr(off.metrics)
        auto = fit(spec, results_dir=None, progress=False)  # device_resident=None: resident where it fits
        assert auto.environment["execution"]["data"].startswith("device-resident")
        assert spec.replace(device_resident=True).run_id == spec.replace(device_resident=False).run_id == spec.run_id

    def test_resume_across_data_paths(self, tmp_path):
        """A checkpoint written by the DataLoader path resumes on the device path, bit for bit."""
        spec = _spec(method="mixup", alpha=1.0, epochs=3, milestones=(2,))
        straight = fit(spec.replace(device_resident=True), results_dir=None, progress=False, datasets=_data())
        fit(
            spec.replace(device_resident=False),
            results_dir=None,
            checkpoint_dir=tmp_path,
            stop_after_epoch=1,
            progress=False,
            datasets=_data(),
        )
        resumed = fit(
            spec.replace(device_resident=True),
            results_dir=None,
            checkpoint_dir=tmp_path,
            progress=False,
            datasets=_data(),
        )
        assert _strip_times(resumed.history) == _strip_times(straight.history)

    def test_random_per_item_transform_uses_the_dataloader(self):
        from zmixlib.data import ArrayDataset

        noisy = ArrayDataset(
            _blobs().tensors[0], _blobs().tensors[1], transform=lambda x: x + 0.01 * torch.randn_like(x)
        )
        data = {"train": noisy, "test": _blobs(seed=1)}, 3, None
        rec = fit(_spec(epochs=1), results_dir=None, progress=False, datasets=data)
        assert rec.environment["execution"]["data"].startswith("DataLoader (per-item transform <lambda>")
        with pytest.raises(ValueError, match="device_resident=True, but the split cannot be held"):
            fit(_spec(epochs=1, device_resident=True), results_dir=None, progress=False, datasets=data)


class TestCompile:
    def test_unavailable_falls_back_with_a_message(self, monkeypatch, capsys):
        monkeypatch.setattr(train, "compile_unavailable", lambda device_type: "RuntimeError: no C compiler")
        rec = fit(_spec(compile=True, epochs=1), results_dir=None, progress=False, datasets=_data())
        assert rec.complete and rec.environment["execution"]["compiled"] is False
        err = capsys.readouterr().err
        assert "compile=True, but torch.compile is not used: RuntimeError: no C compiler; training eagerly" in err

    @pytest.mark.parametrize("space,compiled", [("input", 1), ("embedding", 2)])
    def test_the_compiled_forward_is_what_trains(self, monkeypatch, space, compiled):
        seen = []
        monkeypatch.setattr(train, "compile_unavailable", lambda device_type: None)
        monkeypatch.setattr(torch, "compile", lambda fn: seen.append(fn) or (lambda *a: fn(*a)))
        spec = _spec(method="zeta_mixup", gamma=2.8, space=space, epochs=2)
        rec = fit(spec.replace(compile=True), results_dir=None, progress=False, datasets=_data())
        assert rec.environment["execution"]["compiled"] is True and len(seen) == compiled
        eager = fit(spec, results_dir=None, progress=False, datasets=_data())
        assert _strip_times(rec.history) == _strip_times(eager.history)

    def test_manifold_mixup_stays_eager(self, monkeypatch, capsys):
        monkeypatch.setattr(train, "compile_unavailable", lambda device_type: None)
        rec = fit(
            _spec(method="manifold_mixup", epochs=1, compile=True), results_dir=None, progress=False, datasets=_data()
        )
        assert rec.environment["execution"]["compiled"] is False and "manifold mixup" in capsys.readouterr().err


@cuda
class TestCUDA:
    def _images(self):
        return {"train": _images(n=128), "test": _images(n=64, seed=1)}, 4, None

    def test_bf16_channels_last_resident_and_fp32_master_weights(self):
        spec = _spec(arch="digits_cnn", method="zeta_mixup", gamma=2.8, hflip=True, device="cuda", epochs=1)
        trainer = train.Trainer(spec, datasets=self._images())
        ex = trainer.execution
        assert ex["channels_last"] and ex["data"].startswith("device-resident")
        assert ex["amp"] == ("bfloat16" if torch.cuda.is_bf16_supported() else "float16")
        assert all(p.dtype == torch.float32 and p.is_cuda for p in trainer.model.parameters())
        assert trainer.train_steps(3) == 3 * 16

    @pytest.mark.parametrize("method,kw", [("erm", {}), ("zeta_mixup", {"gamma": 2.8})])
    def test_step_never_waits_for_the_device(self, method, kw):
        spec = _spec(arch="digits_cnn", method=method, hflip=True, device="cuda", epochs=1, **kw)
        trainer = train.Trainer(spec, datasets=self._images())
        trainer.train_steps(2)  # warm-up (cuDNN, allocator)
        x, y = next(trainer.batches())
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            trainer.step(x, y)
        finally:
            torch.cuda.set_sync_debug_mode("default")

    def test_resident_equals_dataloader_batches_on_cuda(self, tmp_path):
        _random_fmnist(tmp_path, 50)
        spec = RunSpec(
            dataset="Fashion-MNIST", arch="mlp", epochs=1, batch_size=16, data_root=str(tmp_path), device="cuda"
        )
        on = train.Trainer(spec.replace(device_resident=True))
        off = train.Trainer(spec.replace(device_resident=False))
        for (xa, ya), (xb, yb) in zip(on.batches(), off.batches(), strict=True):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)

    def test_real_compile(self):
        spec = _spec(arch="digits_cnn", device="cuda", epochs=1, compile=True)
        rec = fit(spec, results_dir=None, progress=False, datasets=self._images())
        assert rec.complete and rec.environment["execution"]["compiled"] is (train.compile_unavailable("cuda") is None)


class TestCLI:
    def test_train_then_skip(self, tmp_path, capsys):
        argv = ["--dataset", "iris", "--method", "zeta_mixup", "--gamma", "2.8", "--epochs", "2"]
        argv += ["--results-dir", str(tmp_path), "--device", "cpu", "--no-progress"]
        assert cli.train_main(argv) == 0
        out = capsys.readouterr().out
        assert "done: test_acc=" in out
        files = list((tmp_path / "adhoc").glob("*.json"))
        assert len(files) == 1
        assert cli.train_main(argv) == 0
        assert "skipped: record exists" in capsys.readouterr().out

    def test_bad_value_is_reported(self, capsys):
        assert cli.train_main(["--dataset", "digits", "--epochs", "0"]) == 2
        assert "epochs must be >= 1" in capsys.readouterr().err


def test_kmixup_k16_trains_when_the_set_is_not_a_multiple_of_the_batch(tmp_path, one_thread):
    """100 training samples in batches of 32: the last batch holds 4 < k = 16 samples (issue: it crashed)."""
    spec = RunSpec(
        dataset="digits",
        method="kmixup",
        extra=(("k", 16),),
        arch="mlp",
        batch_size=32,
        train_subset=100,
        eval_subset=64,
        epochs=2,
        device="cpu",
        section="t",
    )
    rec = fit(spec, results_dir=tmp_path, progress=False)
    assert rec.complete and len(rec.history) == 2 and 0.0 <= rec.metrics["test_err"] <= 1.0
