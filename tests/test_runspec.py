"""zmixlib.engine.runspec: a run's identity (stable ids, execution fields outside the hash), validation, records."""

from __future__ import annotations

import json

import pytest

from zmixlib.core.hparams import MIXER_HPARAMS
from zmixlib.core.theory import GAMMA_MIN
from zmixlib.core.vocab import METHODS
from zmixlib.engine.runspec import EXECUTION_FIELDS, RunRecord, RunSpec, check_device, check_gamma


def _spec(**kw):
    base = dict(dataset="blobs", arch="mlp", epochs=3, batch_size=16, lr=0.05, milestones=(2,), device="cpu")
    return RunSpec(**{**base, **kw})


#: A chapter-04-like spec and its id, computed once: a change here orphans every stored record.
_KNOWN = dict(
    dataset="cifar10",
    method="zeta_mixup",
    arch="resnet18_cifar",
    section="04_natural",
    gamma=2.4,
    epochs=200,
    milestones=(100, 150),
    hflip=True,
    seed=3,
)


class TestRunId:
    def test_known_ids_do_not_change(self):
        assert RunSpec(**_KNOWN).run_id == "d3f2279fc43c5cf5"
        assert RunSpec("crescents").run_id == "a6ba7389714f0af9"

    def test_stable_and_sensitive(self):
        a, b = _spec(), _spec()
        assert a.run_id == b.run_id and hash(a) == hash(b) and len(a.run_id) == 16
        assert _spec(seed=1).run_id != a.run_id
        assert _spec(method="zeta_mixup", gamma=2.4).run_id != _spec(method="zeta_mixup", gamma=2.8).run_id

    @pytest.mark.parametrize(
        "field,value",
        [
            ("device", "auto"),
            ("data_root", "/elsewhere"),
            ("num_workers", 2),
            ("amp", False),
            ("channels_last", False),
            ("device_resident", True),
            ("compile", True),
        ],
    )
    def test_execution_fields_leave_the_id(self, field, value):
        assert field in EXECUTION_FIELDS
        assert _spec(**{field: value}).run_id == _spec().run_id

    def test_eval_every_is_hashed_only_when_set(self):
        spec = RunSpec(**_KNOWN)
        assert spec.eval_every is None and "eval_every" in spec.to_dict()
        assert spec.replace(eval_every=None).run_id == "d3f2279fc43c5cf5"
        assert spec.replace(eval_every=5).run_id == "6c99e4df95c1ab8d"
        assert spec.replace(eval_every=1).run_id not in ("d3f2279fc43c5cf5", "6c99e4df95c1ab8d")


class TestValidation:
    def test_roundtrip(self):
        s = _spec(method="cutmix_zeta", gamma=(1.7, 4.0), extra={"prob": 0.5}, eval_splits=["val", "test"])
        d = json.loads(json.dumps(s.to_dict()))
        assert RunSpec.from_dict(d) == s and RunSpec.from_dict(d).run_id == s.run_id

    def test_space_defaults(self):
        assert _spec(method="manifold_mixup").space == "manifold"
        assert _spec(method="multimix").space == "embedding"
        assert _spec(method="dense_multimix").space == "dense"
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
            (dict(method="zeta_mixup", space="dense"), ValueError, "space 'dense' is Dense MultiMix's"),
            (dict(eval_every=0), ValueError, "eval_every must be >= 1"),
            (dict(dataset=""), TypeError, "dataset must be a non-empty string"),
        ],
    )
    def test_errors(self, kw, exc, match):
        with pytest.raises(exc, match=match):
            _spec(**kw)

    @pytest.mark.parametrize(
        "kw,option",
        [
            (dict(method="erm", gamma=2.4), "gamma"),
            (dict(method="mixup", gamma=2.4), "gamma"),
            (dict(method="zeta_mixup", alpha=1.0), "alpha"),
            (dict(method="mixup", num_mix=4), "num_mix"),
            (dict(method="zeta_mixup", extra={"k": 16}), "k"),
        ],
    )
    def test_an_option_the_method_does_not_use_is_rejected(self, kw, option):
        with pytest.raises(ValueError, match=rf"{option} does not apply to method '{kw['method']}'"):
            _spec(**kw)

    @pytest.mark.parametrize("name", list(METHODS))
    def test_every_method_takes_its_papers_hyperparameters(self, name):
        hp = dict(METHODS[name].hparams)
        fields = {k: hp.pop(k) for k in ("gamma", "alpha", "num_mix") if k in hp}
        spec = _spec(method=name, extra=hp, **fields)
        assert set(spec.mixer_hparams()) == set(METHODS[name].hparams)
        assert set(spec.mixer_hparams()) <= set(MIXER_HPARAMS[spec.mixer_name])

    def test_from_dict_unknown(self):
        with pytest.raises(ValueError, match="unknown RunSpec field"):
            RunSpec.from_dict({**_spec().to_dict(), "epochz": 3})

    def test_label(self):
        assert _spec(method="zeta_mixup", gamma=2.8).label() == "zeta_mixup(gamma=2.8)"
        assert _spec().label() == "erm"


class TestChecks:
    def test_gamma(self):
        assert check_gamma("gamma", 2) == 2.0
        assert check_gamma("gamma", [GAMMA_MIN, 4]) == (GAMMA_MIN, 4.0)
        with pytest.raises(ValueError, match="gamma = inf is the identity"):
            check_gamma("gamma", float("inf"))
        with pytest.raises(ValueError, match="range must be finite"):
            check_gamma("alpha", (1.0, float("inf")))

    @pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:1"])
    def test_device_accepted(self, device):
        assert check_device(device) == device

    @pytest.mark.parametrize("device", ["tpu", "cuda:x", "", 0])
    def test_device_rejected(self, device):
        with pytest.raises(ValueError, match="device must be one of"):
            check_device(device)


def test_record_roundtrip():
    rec = RunRecord(_spec(), history=[{"epoch": 1, "test_err": 0.5}], metrics={"test_err": 0.5}, complete=True)
    d = json.loads(json.dumps(rec.to_dict()))
    assert d["run_id"] == rec.run_id == rec.spec.run_id
    back = RunRecord.from_dict(d)
    assert back == rec


@pytest.mark.parametrize(
    ("method", "extra", "named"),
    [("kmixup", {"k": 0}, "k"), ("multimix", {"prob": 1.5}, "prob"), ("kmixup", {"metric": "cosine"}, "metric")],
)
def test_a_bad_hyperparameter_value_fails_when_the_spec_is_made(method, extra, named):
    """RunSpec checks values with the mixer's own validator (core.hparams.check_hparams), not at the first batch."""
    with pytest.raises((ValueError, TypeError), match=named):
        RunSpec(dataset="digits", method=method, extra=extra)
