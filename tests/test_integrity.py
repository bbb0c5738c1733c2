"""Nothing trusted blindly: damaged run records, checkpoints and dataset files are detected, named and
recovered; hyperparameters are checked once, when a Mixer or RunSpec is built; Dense MultiMix stays finite on
ResNet-18's 512-channel features; training metrics are averaged per real example.

One test (or class) per case of the issue, each reproducing it, then a fault-injection test over a small sweep.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import warnings

import numpy as np
import pytest
import torch

from zmixlib import cli, data, mixing
from zmixlib.core.hparams import MIXER_HPARAMS
from zmixlib.core.util import DamagedFileError, atomic_torch_save, checked_torch_load, checksum_path, sha256_of
from zmixlib.engine import models, store, sweep, train
from zmixlib.engine.metrics import soft_cross_entropy
from zmixlib.engine.runspec import RunSpec
from zmixlib.mixing import Mixer, dense_multimix, multimix_attention, zeta_mixup, zeta_weights

try:
    from tests import dataset_fixtures as fx
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import dataset_fixtures as fx

_idx = fx._idx
fashion_mnist_files = fx.fashion_mnist_files


def _spec(method="erm", **kw):
    base = dict(
        dataset="digits",
        arch="mlp",
        section="natural",
        epochs=2,
        batch_size=32,
        lr=0.05,
        milestones=(1,),
        train_subset=96,
        eval_subset=64,
        device="cpu",
        seed=0,
    )
    return RunSpec(method=method, **{**base, **kw})


SPECS = (_spec("erm"), _spec("zeta_mixup", gamma=2.8), _spec("mixup", alpha=1.0))


def _content(rec):
    """What a run computed: history and metrics without wall times."""
    hist = [{k: v for k, v in row.items() if not k.endswith("time_s")} for row in rec.history]
    return hist, rec.metrics


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An undisturbed sweep's records."""
    root = tmp_path_factory.mktemp("reference")
    report = sweep.run(SPECS, results_dir=root, progress=False, verbose=False)
    assert report.ok and len(report.done) == 3
    return {s.run_id: _content(store.check_record(store.record_path(s, root))) for s in SPECS}


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """Two runs finished (records) and one stopped after epoch 1 (checkpoint only)."""
    root = tmp_path_factory.mktemp("state")
    sweep.run(SPECS[:2], results_dir=root, progress=False, verbose=False)
    train.fit(SPECS[2], results_dir=root, stop_after_epoch=1, progress=False)
    return root


def _truncate(path, rng):
    path.write_bytes(path.read_bytes()[: rng.randrange(0, max(1, path.stat().st_size // 2))])


def _garble(path, rng):
    raw = bytearray(path.read_bytes())
    start = rng.randrange(0, len(raw))
    span = min(len(raw) - start, rng.randint(1, 16))
    old = bytes(raw[start : start + span])
    new = old
    while new == old:
        new = bytes(rng.randrange(256) for _ in range(span))
    raw[start : start + span] = new
    path.write_bytes(bytes(raw))


FAULTS = {"truncate": _truncate, "garble": _garble, "delete": lambda path, rng: path.unlink()}


# ------------------------------------------------------------------------------------------- 1, 2: records


class TestRecords:
    @pytest.mark.slow
    def test_corrupt_record_is_set_aside_and_trained_again(self, interrupted, reference, tmp_path):
        """Issue case 1: ``echo '{"trunc' > <run id>.json`` no longer counts as finished nor vanishes silently."""
        root = tmp_path / "r"
        shutil.copytree(interrupted, root)
        path = store.record_path(SPECS[0], root)
        path.write_text('{"trunc\n')
        with pytest.warns(store.DamagedFileWarning, match=rf"{path}.*not JSON.*set aside as .*corrupt-"):
            df = store.load(root)
        assert len(df) == 1 and len(df.attrs["set_aside"]) == 1  # the damaged one is counted and named, not a row
        (aside,) = path.parent.glob(f"{path.name}.corrupt-*")
        assert aside.read_text() == '{"trunc\n' and not path.exists()  # kept, never deleted
        report = sweep.run(SPECS, results_dir=root, progress=False, verbose=False)
        assert {s.run_id for s in report.done} == {SPECS[0].run_id, SPECS[2].run_id} and len(report.skipped) == 1
        assert _content(store.check_record(path)) == reference[SPECS[0].run_id]

    @pytest.mark.slow
    def test_pending_sets_aside_and_names_the_file(self, interrupted, tmp_path):
        root = tmp_path / "r"
        shutil.copytree(interrupted, root)
        path = store.record_path(SPECS[1], root)
        path.write_text("[1, 2]")
        with pytest.warns(store.DamagedFileWarning, match=str(path)):
            todo = sweep.pending(SPECS, root)
        assert SPECS[1] in todo and SPECS[0] not in todo

    @pytest.mark.parametrize(
        "edit,why",
        [
            (lambda d: d["metrics"].update(test_acc=0.123), "does not match its sha256"),  # a flipped digit
            (lambda d: d.update(spec={**d["spec"], "seed": 7}), "its spec's run_id is"),  # another run's record
            (lambda d: d["spec"].update(method="nope"), "does not validate as a RunRecord"),
        ],
    )
    @pytest.mark.slow
    def test_valid_json_that_is_not_this_runs_record(self, interrupted, tmp_path, edit, why):
        path = store.record_path(SPECS[0], interrupted)
        d = json.loads(path.read_text())
        edit(d)
        if "sha256" not in why:
            d.pop("sha256")  # a record without a checksum (as written before checksums) is still validated
        bad = tmp_path / path.name
        bad.write_text(json.dumps(d))
        with pytest.raises(store.DamagedRecordError, match=rf"{bad} is damaged: .*{why}"):
            store.check_record(bad)

    @pytest.mark.slow
    def test_record_without_checksum_still_reads(self, interrupted, tmp_path):
        path = store.record_path(SPECS[0], interrupted)
        d = json.loads(path.read_text())
        d.pop("sha256")
        old = tmp_path / "natural" / path.name
        old.parent.mkdir()
        old.write_text(json.dumps(d))
        assert store.check_record(old).spec == SPECS[0] and len(store.load(tmp_path)) == 1

    def test_files_not_named_as_runs_are_left_alone(self, tmp_path):
        (tmp_path / "natural").mkdir()
        (tmp_path / "natural" / "notes.json").write_text("{")
        (tmp_path / "natural" / "0123456789abcdef.json").write_text('{"cell": {}}')  # another module's result
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert store.load(tmp_path).empty
        assert (tmp_path / "natural" / "notes.json").exists() and (
            tmp_path / "natural" / "0123456789abcdef.json"
        ).exists()

    @pytest.mark.slow
    def test_train_cli_retrains_a_corrupt_record(self, tmp_path, capsys):
        """Issue case 2: ``train`` gave a bare JSONDecodeError naming no file."""
        argv = [
            "--dataset",
            "digits",
            "--method",
            "erm",
            "--arch",
            "mlp",
            "--epochs",
            "1",
            "--train-subset",
            "64",
            "--eval-subset",
            "32",
            "--device",
            "cpu",
            "--results-dir",
            str(tmp_path),
            "--no-progress",
        ]
        assert cli.train_main(argv) == 0
        (path,) = tmp_path.rglob("*.json")
        first = _content(store.check_record(path))
        path.write_bytes(path.read_bytes()[:100])
        with pytest.warns(store.DamagedFileWarning, match=rf"{path} is damaged"):
            assert cli.train_main(argv) == 0
        assert "done:" in capsys.readouterr().out
        assert _content(store.check_record(path)) == first
        assert list(path.parent.glob(f"{path.name}.corrupt-*"))
        assert cli.train_main(argv) == 0 and "skipped: record exists" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ 3: checkpoints


class TestCheckpoints:
    @pytest.mark.parametrize("fault", ["truncate_1000", "garble", "wrong_run"])
    @pytest.mark.slow
    def test_damaged_checkpoint_is_set_aside_and_the_run_restarts(self, interrupted, reference, tmp_path, fault):
        """Issue case 3: ``truncate -s 1000`` on the .pt blocked the run for good (``--force`` too)."""
        root = tmp_path / "r"
        shutil.copytree(interrupted, root)
        ckpt = train.checkpoint_path(SPECS[2], root)
        if fault == "truncate_1000":
            ckpt.write_bytes(ckpt.read_bytes()[:1000])
            why = "sha256"
        elif fault == "garble":  # one byte inside the tensors: torch reads it, the checksum does not
            raw = bytearray(ckpt.read_bytes())
            raw[len(raw) // 2] ^= 0xFF
            ckpt.write_bytes(bytes(raw))
            why = "sha256"
        else:  # another run's checkpoint under this run's name (no checksum file: checked by content)
            other = _spec("erm", seed=9)
            train.fit(other, results_dir=tmp_path / "o", stop_after_epoch=1, progress=False)
            shutil.copy(train.checkpoint_path(other, tmp_path / "o"), ckpt)
            checksum_path(ckpt).unlink()
            why = "belongs to run"
        with pytest.warns(store.DamagedFileWarning, match=rf"{ckpt} .*{why}.*from scratch.*set aside as"):
            rec = train.fit(SPECS[2], results_dir=root, progress=False)
        assert rec.complete and rec.resumed_at_epoch is None
        assert _content(rec) == reference[SPECS[2].run_id]
        assert list(ckpt.parent.glob(f"{ckpt.name}.corrupt-*"))  # kept

    @pytest.mark.parametrize("force", [False, True])
    @pytest.mark.slow
    def test_train_cli_after_truncate_1000(self, tmp_path, capsys, force):
        """The issue's commands: a run stopped after epoch 1, ``truncate -s 1000`` on its .pt, the same command
        again (and with ``--force``) — the run trains, the message names the checkpoint."""
        argv = [
            "--dataset",
            "digits",
            "--method",
            "erm",
            "--arch",
            "mlp",
            "--epochs",
            "2",
            "--train-subset",
            "64",
            "--eval-subset",
            "32",
            "--device",
            "cpu",
            "--results-dir",
            str(tmp_path),
            "--no-progress",
        ]
        assert cli.train_main([*argv, "--stop-after-epoch", "1"]) == 0
        (ckpt,) = tmp_path.rglob("*.pt")
        ckpt.write_bytes(ckpt.read_bytes()[:1000])
        with pytest.warns(store.DamagedFileWarning, match=rf"{ckpt} is damaged"):
            assert cli.train_main([*argv, *(["--force"] if force else [])]) == 0
        assert "done:" in capsys.readouterr().out and len(list(tmp_path.rglob("*.pt.corrupt-*"))) == 1

    def test_checksum_round_trip_and_messages(self, tmp_path):
        path = tmp_path / "c.pt"
        atomic_torch_save({"a": torch.arange(5)}, path)
        assert torch.equal(checked_torch_load(path, required=("a",))["a"], torch.arange(5))
        with pytest.raises(DamagedFileError, match=rf"{path} is damaged: it lacks \['b'\]"):
            checked_torch_load(path, required=("a", "b"))
        atomic_torch_save({"a": torch.arange(6)}, path)  # the list keeps the current file's digest until replaced
        assert len(checksum_path(path).read_text().splitlines()) == 2
        path.write_bytes(path.read_bytes()[:-3])
        with pytest.raises(DamagedFileError, match=rf"{path} is damaged: its sha256 is"):
            checked_torch_load(path)
        checksum_path(path).unlink()  # no checksum file: torch's reader is the check
        with pytest.raises(DamagedFileError, match=rf"{path} is damaged: torch cannot read it"):
            checked_torch_load(path)


# ------------------------------------------------------------------------------------------- 4: datasets


class TestDatasets:
    def test_good_files_load(self, tmp_path):
        fashion_mnist_files(tmp_path)
        assert len(data.load("Fashion-MNIST", "train", root=tmp_path)) == 40

    @pytest.mark.parametrize(
        "damage,found",
        [
            ("random", r"expected the IDX magic number 00 00 08 03"),  # overwritten with random bytes
            ("truncated", r"expected \d+ bytes \(header: 40 items of shape \(28, 28\)\), found \d+ bytes"),
            ("labels", r"labels-idx1-ubyte is damaged: expected 40 items"),
        ],
    )
    def test_damaged_idx_named_with_the_fix(self, tmp_path, damage, found):
        """Issue case 4: random bytes gave a bare AssertionError, a truncated file 'not found'."""
        raw = fashion_mnist_files(tmp_path)
        images = raw / "train-images-idx3-ubyte"
        if damage == "random":
            images.write_bytes(np.random.default_rng(1).integers(0, 256, images.stat().st_size, dtype=np.uint8))
        elif damage == "truncated":
            images.write_bytes(images.read_bytes()[:5000])
        else:
            _idx(raw / "train-labels-idx1-ubyte", np.zeros(39, dtype=np.uint8), 0x801)
        with pytest.raises(data.DamagedDataError, match=found) as err:
            data.load("Fashion-MNIST", "train", root=tmp_path)
        msg = str(err.value)
        assert "make data DATASETS=Fashion-MNIST" in msg and str(raw) in msg and "not found" not in msg

    def test_recorded_sha256_of_official_sized_files(self, tmp_path, monkeypatch):
        """Files of the official size are checked against the recorded SHA-256 (here: the fixture's sizes stand
        for the official ones, and a recorded sum that differs)."""
        from zmixlib.data import natural

        raw = fashion_mnist_files(tmp_path)
        monkeypatch.setattr(natural, "OFFICIAL_COUNTS", {"train": 40, "t10k": 20})
        good = {f"FashionMNIST/raw/{p.name}": sha256_of(p) for p in raw.iterdir()}
        monkeypatch.setattr(natural, "recorded_sha256", lambda: {"Fashion-MNIST": {"files": good}})
        assert len(data.load("Fashion-MNIST", "train", root=tmp_path)) == 40
        bad = {**good, "FashionMNIST/raw/train-labels-idx1-ubyte": "f" * 64}
        monkeypatch.setattr(natural, "recorded_sha256", lambda: {"Fashion-MNIST": {"files": bad}})
        with pytest.raises(
            data.DamagedDataError,
            match=r"train-labels-idx1-ubyte is damaged: expected the recorded "
            r"sha256 f{64}, found sha256 [0-9a-f]{64}; .*make data DATASETS=Fashion-MNIST",
        ):
            data.load("Fashion-MNIST", "train", root=tmp_path)

    def test_train_cli_names_the_damaged_file(self, tmp_path, capsys):
        raw = fashion_mnist_files(tmp_path)
        (raw / "t10k-images-idx3-ubyte").write_bytes(b"\0" * 100)
        argv = [
            "--dataset",
            "Fashion-MNIST",
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--data-root",
            str(tmp_path),
            "--results-dir",
            str(tmp_path / "res"),
            "--no-progress",
            "--train-subset",
            "16",
        ]
        assert cli.train_main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and "t10k-images-idx3-ubyte is damaged" in err[0]

    def test_cifar_md5_mismatch_is_damaged_not_missing(self, tmp_path):
        """Every CIFAR-10 file there, one not torchvision's (its recorded md5 differs): damaged, with the fix."""
        fx.make_cifar10(tmp_path, data.describe("CIFAR-10").class_names)
        with pytest.raises(
            data.DamagedDataError, match=r"cifar-10-batches-py is damaged: .*make data DATASETS=CIFAR-10"
        ):
            data.load("CIFAR-10", "train", root=tmp_path)

    def test_unreadable_cifar_pickle(self, tmp_path, monkeypatch):
        monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *a, **k: True)
        fx.make_cifar10(tmp_path, data.describe("CIFAR-10").class_names)
        batch = tmp_path / "cifar-10-batches-py" / "data_batch_1"
        batch.write_bytes(batch.read_bytes()[:50])
        with pytest.raises(data.DamagedDataError, match=r"is damaged: expected files torchvision can read, found"):
            data.load("CIFAR-10", "train", root=tmp_path)

    def test_damaged_skin_image_is_named(self, tmp_path):
        fx.make_isic2016(tmp_path)
        ds = data.load("ISIC2016", "train", root=tmp_path)
        path = next(p for p, _ in ds.samples)
        path.write_bytes(path.read_bytes()[:20])  # a truncated JPEG
        index = [p for p, _ in ds.samples].index(path)
        with pytest.raises(
            data.DamagedDataError,
            match=rf"ISIC2016: {path} is damaged: expected an image PIL can "
            r"read.*make data DATASETS=ISIC2016` to see where",
        ):
            ds[index]

    def test_damaged_mnist10k_npz(self, tmp_path):
        folder = tmp_path / "MNIST-10k"
        folder.mkdir()
        (folder / "mnist10k.npz").write_bytes(b"PK\x03\x04 not really a zip")
        with pytest.raises(data.DamagedDataError, match=r"mnist10k.npz is damaged: expected a .npz archive.*make data"):
            data.load("MNIST-10k", "train", root=tmp_path)


# --------------------------------------------------------------------- 5, 6, 7: hyperparameters and the CLI


class TestHyperparameters:
    def test_cutmix_zeta_alpha_checked_at_construction(self):
        """Issue case 6: alpha was checked only when the coin picked CutMix (about half the calls)."""
        with pytest.raises(ValueError, match="alpha must be > 0.0, got -1"):
            Mixer("cutmix_zeta", num_classes=3, alpha=-1)
        with pytest.raises(ValueError, match="alpha must be > 0.0, got -1"):
            Mixer("mixup", alpha=-1)
        with pytest.raises(ValueError, match=r"gamma\[0\] must be >= 0.0, got -1"):
            Mixer("cutmix_zeta", gamma=(-1, 4.0))
        with pytest.raises(ValueError, match="n must be >= 1, got 0"):
            Mixer("multimix", n=0)
        with pytest.raises(ValueError, match="mode must be one of"):
            Mixer("cutmix_zeta", mode="both")

    def test_mixer_table_matches_the_functions(self):
        assert set(MIXER_HPARAMS) == set(mixing.MIXERS)
        for name, fn in mixing.MIXERS.items():
            assert set(MIXER_HPARAMS[name]) == set(mixing.mixer._hyperparameters(fn)), name

    def test_gamma_infinity_is_the_identity_in_mixing(self):
        """Issue case 5, chosen: γ = ∞ is the documented limit — the identity, exactly (was NaN labels)."""
        x = torch.randn(8, 3, 5, 5)
        y = torch.arange(8) % 4
        for num_mix in (None, 2):
            x_mix, y_mix = zeta_mixup(
                x, y, gamma=math.inf, num_mix=num_mix, num_classes=4, generator=torch.Generator().manual_seed(0)
            )
            assert torch.equal(x_mix, x) and torch.equal(y_mix, torch.nn.functional.one_hot(y, 4).float())
        assert torch.equal(zeta_weights(6, math.inf), torch.eye(6))
        assert Mixer("zeta_mixup", num_classes=4, gamma=math.inf)(x, y)[1].isfinite().all()
        with pytest.raises(ValueError, match="gamma range must have finite ends"):
            Mixer("zeta_mixup", gamma=(2.0, math.inf))

    def test_gamma_infinity_is_rejected_for_a_run_by_name(self):
        with pytest.raises(ValueError, match=r"gamma must be a finite number \(gamma = inf is the identity.*'erm'"):
            _spec("zeta_mixup", gamma=math.inf)

    @pytest.mark.parametrize(
        "method,kw,name",
        [
            ("erm", dict(gamma=2.8), "gamma"),
            ("erm", dict(alpha=1.0), "alpha"),
            ("mixup", dict(gamma=2.8), "gamma"),
            ("zeta_mixup", dict(gamma=2.8, extra={"foo": 1}), "foo"),
            ("manifold_mixup", dict(alpha=2.0, num_mix=4), "num_mix"),
        ],
    )
    def test_options_that_do_not_apply_are_rejected(self, method, kw, name):
        with pytest.raises(ValueError, match=rf"{name} does not apply to method '{method}'"):
            _spec(method, **kw)

    @pytest.mark.parametrize(
        "extra_args,needle",
        [
            (["--method", "erm", "--gamma", "2.8"], "gamma does not apply to method 'erm'"),
            (["--method", "zeta_mixup", "--gamma", "inf"], "gamma must be a finite number"),
            (["--method", "zeta_mixup", "--extra", "foo=1"], "foo does not apply to method 'zeta_mixup'"),
            (["--method", "mixup", "--alpha", "-1"], "alpha must be > 0"),
            (["--device", "cuda:99"], "--device cuda:99"),
        ],
    )
    def test_train_cli_errors_are_one_line_exit_2(self, tmp_path, capsys, extra_args, needle):
        """Issue case 7: tracebacks with exit 1; ``--gamma`` with ``--method erm`` changed the run id."""
        argv = ["--dataset", "digits", "--results-dir", str(tmp_path), "--no-progress", *extra_args]
        assert cli.train_main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0]
        assert not list(tmp_path.rglob("*.json"))

    @pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
    def test_train_cli_cuda_without_cuda(self, tmp_path, capsys):
        assert cli.train_main(["--dataset", "digits", "--device", "cuda", "--results-dir", str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: --device cuda") and "cuda.is_available() is False" in err[0]


# ---------------------------------------------------------------------------------------------- 8: numerics


class TestDenseMultiMixNumerics:
    def test_position_without_attention_used_to_give_0_over_0(self):
        """A position where every example's attention underflowed to 0: its loss weights are all 0."""
        g = torch.Generator().manual_seed(0)
        z = torch.randn(8, 16, 4, generator=g)
        y = torch.arange(8) % 3
        attention = torch.softmax(torch.randn(8, 4, generator=g), dim=1)
        attention[:, 2] = 0.0
        attention = attention / attention.sum(1, keepdim=True)
        z_mix, y_mix, s = dense_multimix(z, y, attention, n=32, num_classes=3, generator=g)
        assert (s[:, 2] == 0).all()  # the case of the issue
        old = ((s * torch.ones_like(s)).sum(0) / s.sum(0)).mean()  # the old formula: NaN
        assert old.isnan()
        assert torch.allclose(y_mix.sum(-1), torch.ones(32, 4))  # every position a convex combination
        logits = torch.randn(32, 4, 3, generator=g, requires_grad=True)
        loss = soft_cross_entropy(logits, y_mix, weight=s)
        loss.backward()
        assert loss.isfinite() and logits.grad.isfinite().all()
        w = s[:, [0, 1, 3]]  # the same as the mean over the positions that have weight
        ce = -(y_mix * torch.log_softmax(logits.detach(), -1)).sum(-1)[:, [0, 1, 3]]
        assert loss.item() == pytest.approx(((w * ce).sum(0) / w.sum(0)).mean().item(), rel=1e-6)

    def test_unchanged_where_every_position_has_weight(self):
        g = torch.Generator().manual_seed(1)
        loss_pos, w = torch.rand(16, 5, generator=g), torch.rand(16, 5, generator=g)
        logits, target = torch.randn(16, 5, 3, generator=g), torch.softmax(torch.randn(16, 5, 3, generator=g), -1)
        new = soft_cross_entropy(logits, target, weight=w)
        loss_pos = -(target * torch.log_softmax(logits, -1)).sum(-1)
        assert torch.equal(new, ((w * loss_pos).sum(0) / w.sum(0)).mean())  # bit for bit

    def test_finite_on_resnet18_features(self):
        """ResNet-18 at initialisation, train mode, 3x32x32 inputs: 512-channel features whose attention scores
        spread beyond float32's softmax range (attention exactly 0 at some positions) — the loss and its gradient
        are finite, every generated position a convex combination."""
        torch.manual_seed(0)
        model = models.build("resnet18_cifar", num_classes=10, in_channels=3, input_size=(32, 32)).train()
        x = torch.rand(32, 3, 32, 32)
        y = torch.arange(32) % 10
        with torch.no_grad():
            features = model.forward_features(x, spatial=True)  # (B, 512, r)
        z_map = features.clone().requires_grad_()
        assert z_map.shape[1] == 512
        scores = (features * features.mean(2, keepdim=True)).sum(1)
        attention = multimix_attention(features)
        spread = (scores.max(1).values - scores.min(1).values).max()
        assert spread > 60 and (attention == 0).all(0).any()  # a position with no attention in any example: 0 / 0
        g = torch.Generator().manual_seed(0)
        z_mix, y_mix, s = dense_multimix(z_map, y, attention, n=64, num_classes=10, generator=g)
        assert torch.allclose(y_mix.sum(-1), torch.ones(64, z_map.shape[2]))
        logits = model.forward_head(z_mix, dense=True)
        loss = soft_cross_entropy(logits, y_mix, weight=s)
        loss.backward()
        assert loss.isfinite() and z_map.grad.isfinite().all()
        assert all(p.grad is None or p.grad.isfinite().all() for p in model.parameters())


class TestTrainingMetrics:
    def test_averaged_per_real_example(self, monkeypatch):
        """MultiMix's 1,000 generated samples no longer outweigh its input-mixup steps: each step weighs its
        real batch (16 examples), whatever number of mixed samples it trained on."""
        spec = RunSpec(dataset="blobs", arch="mlp", epochs=1, batch_size=16, device="cpu")
        ds = torch.utils.data.TensorDataset(torch.randn(32, 4), torch.arange(32) % 2)
        trainer = train.Trainer(spec, datasets=({"train": ds, "test": ds}, 2, None))
        steps = iter([(torch.tensor(1.0), torch.tensor(500), 1000), (torch.tensor(3.0), torch.tensor(16), 16)])
        monkeypatch.setattr(trainer, "step", lambda x, y: next(steps))
        out = trainer.train_epoch(0)
        assert out["train_loss"] == pytest.approx(2.0) and out["train_acc"] == pytest.approx(0.75)

    @pytest.mark.slow
    def test_non_finite_loss_names_method_epoch_and_step(self):
        x = torch.randn(32, 4)
        x[3] = float("nan")
        ds = torch.utils.data.TensorDataset(x, torch.arange(32) % 2)
        spec = RunSpec(dataset="blobs", arch="mlp", method="mixup", alpha=1.0, epochs=1, batch_size=32, device="cpu")
        with pytest.raises(FloatingPointError, match=r"at epoch 1, step 1 of run \w+ \(method 'mixup'"):
            train.fit(spec, results_dir=None, progress=False, datasets=({"train": ds, "test": ds}, 2, None))


# ------------------------------------------------------------------------------------------ fault injection


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["record", "checkpoint"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.slow
def test_fault_injection_between_two_sweeps(interrupted, reference, tmp_path, fault, kind, seed):
    """Truncate, garble or delete a record or the checkpoint of an interrupted run between two sweep calls (the
    injector's seed picks the record, where to cut and what to write): the second call ends with every record
    valid and equal to an undisturbed sweep's, and a damaged file is kept aside, named."""
    rng = random.Random(seed)
    root = tmp_path / "r"
    shutil.copytree(interrupted, root)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix == (".json" if kind == "record" else ".pt"))
    assert len(files) == (2 if kind == "record" else 1)  # two records, one checkpoint
    victim = rng.choice(files)
    FAULTS[fault](victim, rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = sweep.run(SPECS, results_dir=root, progress=False, verbose=False)
    assert report.ok
    for s in SPECS:
        assert _content(store.check_record(store.record_path(s, root))) == reference[s.run_id], (victim, fault)
    aside = list(root.rglob("*.corrupt-*"))
    named = [w for w in caught if issubclass(w.category, store.DamagedFileWarning)]
    if fault != "delete":
        assert len(aside) == 1 and aside[0].name.startswith(victim.name) and str(victim) in str(named[0].message)
    df = store.load(root)
    assert len(df) == 3 and df.attrs["set_aside"] == []
