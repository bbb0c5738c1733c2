"""zmixlib.train: RunSpec identity, fit on tiny data, exact resume, NaN stop, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from dataset_fixtures import _idx
from torch.utils.data import DataLoader, TensorDataset

from zmixlib import cli, store, train
from zmixlib.runspec import RunRecord, RunSpec
from zmixlib.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")


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


class TestRunSpec:
    def test_run_id_stable_and_sensitive(self):
        a, b = _spec(), _spec()
        assert a.run_id == b.run_id and hash(a) == hash(b) and len(a.run_id) == 16
        assert _spec(seed=1).run_id != a.run_id
        assert _spec(method="zeta_mixup", gamma=2.4).run_id != _spec(method="zeta_mixup", gamma=2.8).run_id
        # execution details do not change the experiment
        assert _spec(device="auto", data_root="/elsewhere", num_workers=2).run_id == a.run_id

    def test_roundtrip(self):
        s = _spec(method="cutmix_zeta", gamma=(1.7, 4.0), extra={"prob": 0.5}, eval_splits=["val", "test"])
        d = json.loads(json.dumps(s.to_dict()))
        assert RunSpec.from_dict(d) == s and RunSpec.from_dict(d).run_id == s.run_id

    def test_space_defaults(self):
        assert _spec(method="manifold_mixup").space == "manifold"
        assert _spec(method="multimix").space == "embedding"
        assert _spec(method="zeta_mixup").space == "input"
        assert _spec(method="zeta_mixup", space="embedding").space == "embedding"
        assert _spec(method="manifold_mixup").mixer_name == "mixup"

    @pytest.mark.parametrize(
        "kw,exc,match",
        [
            (dict(method="zeta"), ValueError, "method must be one of"),
            (dict(epochs=0), ValueError, "epochs must be >= 1"),
            (dict(lr="0.1"), TypeError, "lr must be a real number"),
            (dict(gamma=-1.0), ValueError, "gamma must be > 0"),
            (dict(milestones=(5, 2)), ValueError, "strictly increasing"),
            (dict(nesterov=1), TypeError, "nesterov must be a bool"),
            (dict(method="manifold_mixup", space="input"), ValueError, "space must be 'manifold'"),
        ],
    )
    def test_errors(self, kw, exc, match):
        with pytest.raises(exc, match=match):
            _spec(**kw)

    def test_from_dict_unknown(self):
        with pytest.raises(ValueError, match="unknown RunSpec field"):
            RunSpec.from_dict({**_spec().to_dict(), "epochz": 3})


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
            dataset="digits", arch="digits_cnn", method="mixup", alpha=1.0, epochs=3, batch_size=32, lr=0.05,
            milestones=(2,), train_subset=160, eval_subset=64, device="cpu", hflip=True,
        )  # fmt: skip
        straight = fit(spec, results_dir=None, checkpoint_dir=tmp_path / "s", progress=False)
        fit(spec, results_dir=None, checkpoint_dir=tmp_path / "r", stop_after_epoch=2, progress=False)
        resumed = fit(spec, results_dir=None, checkpoint_dir=tmp_path / "r", progress=False)
        assert _strip_times(resumed.history) == _strip_times(straight.history)

    def test_nan_loss_stops_with_epoch_and_step(self):
        x = torch.randn(32, 4)
        x[20] = float("nan")
        data = {"train": TensorDataset(x, torch.arange(32) % 3), "test": _blobs()}, 3, None
        with pytest.raises(FloatingPointError, match=r"non-finite loss .* at epoch 1, step \d+ of run"):
            fit(_spec(batch_size=8), results_dir=None, progress=False, datasets=data)

    def test_checkpoint_of_other_run_is_refused(self, tmp_path):
        a, b = _spec(epochs=2), _spec(epochs=2, seed=5)
        fit(a, results_dir=None, checkpoint_dir=tmp_path, stop_after_epoch=1, progress=False, datasets=_data())
        (tmp_path / f"{a.run_id}.pt").rename(tmp_path / f"{b.run_id}.pt")
        with pytest.raises(ValueError, match="belongs to run"):
            fit(b, results_dir=None, checkpoint_dir=tmp_path, progress=False, datasets=_data())


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
