"""Integrity checks in the fast suite (issue 26): a tampered run record, a truncated checkpoint and a garbled data
file are refused, named and set aside — each test small (no sweep, no dataset download) and under a second or two.

``tests/test_integrity.py`` covers the same faults end to end (a sweep interrupted and resumed) under ``slow``; these
are the checks a silent bug would slip past in ``pytest -m "not slow"``: the checksum comparisons themselves.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from dataset_fixtures import fashion_mnist_files
from torch.utils.data import TensorDataset

from zmixlib import data
from zmixlib.core.util import DamagedFileError, atomic_torch_save, checked_torch_load, checksum_path
from zmixlib.engine import store, train
from zmixlib.engine.runspec import RunRecord, RunSpec

pytestmark = pytest.mark.usefixtures("one_thread")


def _record(**kw) -> RunRecord:
    spec = RunSpec(dataset="digits", arch="mlp", section="natural", epochs=2, device="cpu", seed=0, **kw)
    history = [
        {"epoch": 1, "lr": 0.1, "train_loss": 1.2, "train_acc": 0.6, "test_acc": 0.55},
        {"epoch": 2, "lr": 0.1, "train_loss": 0.7, "train_acc": 0.8, "test_acc": 0.71},
    ]
    return RunRecord(
        spec=spec, history=history, metrics={"test_acc": 0.71}, complete=True, started_at="2026-01-01T00:00:00+00:00"
    )


def _tamper(path, edit) -> None:
    """Rewrite the record's JSON with ``edit`` applied, keeping its (now stale) checksum: still valid JSON."""
    d = json.loads(path.read_text())
    edit(d)
    path.write_text(json.dumps(d, indent=1))


# ------------------------------------------------------------------------------------------------ run records


class TestTamperedRecord:
    def test_a_saved_record_reads_back(self, tmp_path):
        rec = _record()
        path = store.save(rec, tmp_path)
        assert store.CHECKSUM_KEY in json.loads(path.read_text())
        back = store.check_record(path)
        assert back.metrics == rec.metrics and back.history == rec.history
        assert store.finished(rec.spec, tmp_path) is not None

    @pytest.mark.parametrize(
        "edit",
        [
            lambda d: d["metrics"].update(test_acc=0.99),  # a better number typed in
            lambda d: d["history"][-1].update(train_acc=0.999),  # the regime check's input
            lambda d: d["history"].pop(0),
            lambda d: d["environment"].update(device="cuda"),
        ],
        ids=["metric", "train_acc", "history", "environment"],
    )
    def test_valid_json_with_a_stale_checksum_is_refused(self, tmp_path, edit):
        rec = _record()
        path = store.save(rec, tmp_path)
        _tamper(path, edit)
        with pytest.raises(
            store.DamagedRecordError, match=rf"{path} is damaged: its content does not match its sha256"
        ):
            store.check_record(path)

    def test_finished_sets_the_tampered_record_aside_and_the_run_counts_as_not_trained(self, tmp_path):
        rec = _record()
        path = store.save(rec, tmp_path)
        _tamper(path, lambda d: d["metrics"].update(test_acc=0.99))
        with pytest.warns(store.DamagedFileWarning, match=rf"{path}"):
            assert store.finished(rec.spec, tmp_path) is None
        assert not path.exists()
        (aside,) = path.parent.glob(f"{path.name}.corrupt-*")
        assert json.loads(aside.read_text())["metrics"]["test_acc"] == 0.99  # kept as it was, not deleted
        assert not store.exists(rec.spec, tmp_path)

    def test_load_leaves_the_tampered_record_out_and_counts_it(self, tmp_path):
        good, bad = _record(), _record(method="mixup", alpha=1.0)
        store.save(good, tmp_path)
        path = store.save(bad, tmp_path)
        _tamper(path, lambda d: d["metrics"].update(test_acc=0.99))
        with pytest.warns(store.DamagedFileWarning):
            df = store.load(tmp_path)
        assert isinstance(df, pd.DataFrame) and list(df["run_id"]) == [good.run_id]
        assert len(df.attrs["set_aside"]) == 1 and path.name in df.attrs["set_aside"][0]

    def test_a_tampered_result_cell_is_set_aside(self, tmp_path):
        path = store.save_result(tmp_path / "cell.json", {"acc": 0.5, "n": 3})
        assert store.load_result(path) == {"acc": 0.5, "n": 3}
        _tamper(path, lambda d: d.update(acc=0.9))
        with pytest.warns(store.DamagedFileWarning, match="does not match its sha256"):
            assert store.load_result(path) is None
        assert not path.exists() and len(list(tmp_path.glob("cell.json.corrupt-*"))) == 1


# ------------------------------------------------------------------------------------------------ checkpoints


class _RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (print, ("this ran while the checkpoint was read",))


class TestCheckpointLoadsOnlyData:
    def test_a_checkpoint_that_would_run_code_is_refused(self, tmp_path, capsys):
        path = tmp_path / "run.pt"
        atomic_torch_save({"model": {"w": torch.ones(2)}, "payload": _RunsCodeWhenUnpickled()}, path)
        with pytest.raises(DamagedFileError, match="torch cannot read it"):
            checked_torch_load(path)  # the checksum matches: weights_only=True is what refuses it
        assert "this ran" not in capsys.readouterr().out

    def test_a_trainer_checkpoint_with_numpy_rng_state_loads(self, tmp_path):
        path = tmp_path / "run.pt"
        state = {"model": {"w": torch.ones(2)}, "rng": {"numpy": np.random.get_state(), "torch": torch.get_rng_state()}}
        atomic_torch_save(state, path)
        back = checked_torch_load(path, required=("model", "rng"))
        np.testing.assert_array_equal(back["rng"]["numpy"][1], state["rng"]["numpy"][1])


class TestTruncatedCheckpoint:
    @pytest.mark.parametrize("keep", [0, 10, -1])
    def test_a_truncated_checkpoint_is_refused_by_name(self, tmp_path, keep):
        path = tmp_path / "run.pt"
        atomic_torch_save({"model": {"w": torch.arange(64.0)}, "epoch": 1}, path)
        raw = path.read_bytes()
        path.write_bytes(raw[: keep if keep >= 0 else len(raw) + keep])
        with pytest.raises(DamagedFileError, match=rf"{path} is damaged: its sha256 is"):
            checked_torch_load(path, required=("model", "epoch"))

    def test_a_garbled_byte_with_the_size_kept_is_refused(self, tmp_path):
        path = tmp_path / "run.pt"
        atomic_torch_save({"model": {"w": torch.arange(64.0)}, "epoch": 1}, path)
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))
        with pytest.raises(DamagedFileError, match="its sha256 is"):
            checked_torch_load(path)

    def test_fit_sets_a_truncated_checkpoint_aside_and_trains_from_scratch(self, tmp_path):
        g = torch.Generator().manual_seed(0)
        y = torch.arange(32) % 2
        ds = TensorDataset(torch.randn(32, 3, generator=g) + y[:, None].float(), y)
        datasets = ({"train": ds, "test": ds}, 2, None)
        spec = RunSpec(dataset="blobs", arch="mlp", arch_kwargs={"hidden": (8,)}, epochs=2, batch_size=16, device="cpu")
        kw = dict(results_dir=None, checkpoint_dir=tmp_path, progress=False, datasets=datasets)
        straight = train.fit(spec, **kw, resume=False)
        train.fit(spec, **kw, stop_after_epoch=1)
        ckpt = tmp_path / f"{spec.run_id}.pt"
        ckpt.write_bytes(ckpt.read_bytes()[:1000])
        with pytest.warns(store.DamagedFileWarning, match=rf"{ckpt} is damaged"):
            rec = train.fit(spec, **kw)
        assert rec.complete and rec.resumed_at_epoch is None  # not resumed from the damaged file
        assert [r["train_loss"] for r in rec.history] == [r["train_loss"] for r in straight.history]
        assert len(list(tmp_path.glob(f"{ckpt.name}.corrupt-*"))) == 1 and not checksum_path(ckpt).exists()


# ------------------------------------------------------------------------------------------------ data files


class TestGarbledDataFile:
    def test_a_garbled_header_is_named_with_the_fix(self, tmp_path):
        raw = fashion_mnist_files(tmp_path)
        path = raw / "train-images-idx3-ubyte"
        b = bytearray(path.read_bytes())
        b[7] ^= 0x01  # the number of items in the header: the file no longer has the size it claims
        path.write_bytes(bytes(b))
        with pytest.raises(data.DamagedDataError, match=r"train-images-idx3-ubyte is damaged") as err:
            data.load("Fashion-MNIST", "train", root=tmp_path)
        assert "make data DATASETS=Fashion-MNIST" in str(err.value)

    def test_a_garbled_pixel_of_an_official_file_fails_its_recorded_sha256(self, tmp_path, monkeypatch):
        from zmixlib.data import _base, natural

        raw = fashion_mnist_files(tmp_path)
        monkeypatch.setattr(natural, "OFFICIAL_COUNTS", {"train": 40, "t10k": 20})  # the fixture's sizes stand in
        good = {f"FashionMNIST/raw/{p.name}": _base.sha256_of(p) for p in raw.iterdir()}
        monkeypatch.setattr(natural, "recorded_sha256", lambda: {"Fashion-MNIST": {"files": good}})
        path = raw / "train-images-idx3-ubyte"
        b = bytearray(path.read_bytes())
        b[-1] ^= 0xFF  # one pixel: the structure is intact, only the checksum can tell
        path.write_bytes(bytes(b))
        with pytest.raises(data.DamagedDataError, match=r"train-images-idx3-ubyte is damaged: expected the recorded"):
            data.load("Fashion-MNIST", "train", root=tmp_path)
