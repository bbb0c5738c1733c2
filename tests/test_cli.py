"""The train and sweep commands honour every option: each non-default value reaches the RunSpec / matrix,
or is rejected with a message naming it."""

from __future__ import annotations

import json

import pytest

from zmixlib import cli

#: option -> (command-line value, RunSpec field, expected value). Every option of `train` is here or in
#: NOT_SPEC_OPTIONS (the test below fails when an option is added without a row).
TRAIN_CASES = {
    "--method": ("mixup", "method", "mixup"),
    "--gamma": ("1.8,3.0", "gamma", (1.8, 3.0)),
    "--alpha": ("0.4", "alpha", 0.4),
    "--num-mix": ("4", "num_mix", 4),
    "--extra": ("k=4", "extra", (("k", 4),)),
    "--space": ("embedding", "space", "embedding"),
    "--arch": ("mlp", "arch", "mlp"),
    "--arch-kwarg": ("hidden=(32,)", "arch_kwargs", (("hidden", (32,)),)),
    "--profile": ("smoke", "epochs", 2),
    "--section": ("mine", "section", "mine"),
    "--epochs": ("3", "epochs", 3),
    "--batch-size": ("17", "batch_size", 17),
    "--lr": ("0.123", "lr", 0.123),
    "--milestones": ("1,2", "milestones", (1, 2)),
    "--lr-gamma": ("0.5", "lr_gamma", 0.5),
    "--momentum": ("0.5", "momentum", 0.5),
    "--no-nesterov": (None, "nesterov", False),
    "--weight-decay": ("0.001", "weight_decay", 0.001),
    "--label-smoothing": ("0.1", "label_smoothing", 0.1),
    "--hflip": (None, "hflip", True),
    "--no-hflip": (None, "hflip", False),
    "--train-subset": ("99", "train_subset", 99),
    "--eval-subset": ("98", "eval_subset", 98),
    "--eval-splits": ("train,test", "eval_splits", ("train", "test")),
    "--seed": ("7", "seed", 7),
    "--device": ("cpu", "device", "cpu"),
    "--data-root": ("/elsewhere", "data_root", "/elsewhere"),
    "--num-workers": ("2", "num_workers", 2),
    "--no-amp": (None, "amp", False),
    "--no-channels-last": (None, "channels_last", False),
    "--device-resident": (None, "device_resident", True),
    "--no-device-resident": (None, "device_resident", False),
    "--compile": (None, "compile", True),
}
#: options that apply to some methods only (a RunSpec rejects the others by name): tried with one they apply to
METHOD_FOR = {"--gamma": "zeta_mixup", "--num-mix": "zeta_mixup", "--alpha": "mixup", "--extra": "kmixup"}
NOT_SPEC_OPTIONS = {
    "--dataset",
    "--results-dir",
    "--force",
    "--dry-run",
    "--no-progress",
    "--stop-after-epoch",
    "--help",
}


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _options(parser):
    return {s for a in parser._actions for s in a.option_strings if s.startswith("--")}


def test_every_train_option_is_covered():
    assert _options(cli.train_parser()) == set(TRAIN_CASES) | NOT_SPEC_OPTIONS


@pytest.mark.parametrize("option", sorted(TRAIN_CASES))
def test_train_option_reaches_the_runspec(option, capsys):
    value, field, expected = TRAIN_CASES[option]
    method = ["--method", METHOD_FOR[option]] if option in METHOD_FOR else []
    argv = ["--dataset", "digits", "--dry-run", *method, option] + ([] if value is None else [value])
    assert cli.train_main(argv) == 0
    spec = json.loads(capsys.readouterr().out)
    got = _tuples(spec[field])
    assert got == expected, f"{option}: {field} = {got!r}, expected {expected!r}"
    # and the default differs, so the option did something
    assert cli.train_main(["--dataset", "digits", "--dry-run", *method]) == 0
    default = json.loads(capsys.readouterr().out)[field]
    assert default != spec[field] or option in ("--no-hflip",), f"{option} equals the default: untested"


def test_train_arch_is_honoured_and_changes_the_run_id(capsys):
    ids = {}
    for arch in ("mlp", "digits_cnn"):
        assert cli.train_main(["--dataset", "digits", "--arch", arch, "--dry-run"]) == 0
        spec = json.loads(capsys.readouterr().out)
        assert spec["arch"] == arch
        ids[arch] = spec["run_id"]
    assert ids["mlp"] != ids["digits_cnn"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--arch", "resnet9000"], "arch must be one of"),
        (["--epochs", "0"], "epochs must be >= 1, got 0"),
        (["--gamma", "-1"], "gamma must be > 0"),
        (["--device", "tpu"], "device must be one of"),
        (["--extra", "nonsense"], "--extra expects KEY=VALUE, got 'nonsense'"),
        (["--profile", "fast"], "profile must be one of"),
    ],
)
def test_train_rejects_bad_values_by_name(argv, message, capsys):
    assert cli.train_main(["--dataset", "digits", "--dry-run", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_train_trains_the_arch_it_was_given(tmp_path, capsys, one_thread):
    argv = ["--dataset", "digits", "--arch", "mlp", "--epochs", "1", "--train-subset", "64", "--eval-subset", "32"]
    assert cli.train_main([*argv, "--results-dir", str(tmp_path), "--no-progress", "--device", "cpu"]) == 0
    (record,) = tmp_path.rglob("*.json")
    assert json.loads(record.read_text())["spec"]["arch"] == "mlp"


SWEEP_CASES = {
    "--datasets": ("iris,wine", "datasets", ("iris", "wine")),
    "--methods": ("erm", "method", ("erm",)),
    "--gammas": ("3.5", "gamma", (3.5,)),
    "--archs": ("mlp", "arch", ("mlp",)),
    "--seeds": ("5,6", "seed", (5, 6)),
    "--epochs": ("1", "epochs", (1,)),
    "--train-subset": ("33", "train_subset", (33,)),
    "--device": ("cpu", "device", ("cpu",)),
    "--data-root": ("/x", "data_root", ("/x",)),
    "--set": ("lr=0.2", "lr", (0.2,)),
}
SWEEP_NOT_MATRIX = {
    "--section",
    "--profile",
    "--executor",
    "--workers",
    "--results-dir",
    "--slurm",
    "--dry-run",
    "--book",
    "--no-progress",
    "--help",
    "--runs-per-device",
}


def test_every_sweep_option_is_covered():
    assert _options(cli.sweep_parser()) - SWEEP_NOT_MATRIX == set(SWEEP_CASES)


@pytest.mark.parametrize("option", sorted(SWEEP_CASES))
def test_sweep_option_reaches_the_matrix(option):
    from zmixlib.protocol import recipes

    value, field, expected = SWEEP_CASES[option]
    base = ["--section", "natural", "--profile", "smoke", "--datasets", "digits", "--methods", "zeta_mixup"]
    args = cli.sweep_parser().parse_args([*base, option, value])
    matrix = recipes.resolve(args.section, args.profile, **cli.sweep_overrides(args))
    if field == "datasets":
        got = tuple(sorted({s.dataset for s in matrix}))
    else:
        got = tuple(dict.fromkeys(getattr(s, field) for s in matrix))
    assert got == expected, f"{option}: {got!r}"
