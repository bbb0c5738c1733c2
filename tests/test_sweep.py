"""zmixlib.sweep: skip finished runs, report failures without stopping, process pool and submitit."""

from __future__ import annotations

import pytest

from zmixlib import results, sweep
from zmixlib.train import RunSpec

pytestmark = pytest.mark.usefixtures("one_thread")


def _spec(**kw):
    base = dict(dataset="iris", arch="mlp", epochs=1, batch_size=16, lr=0.05, device="cpu", section="t")
    return RunSpec(**{**base, **kw})


def test_inline_skips_finished_and_survives_failures(tmp_path, capsys):
    good = [_spec(seed=0), _spec(seed=1, method="zeta_mixup", gamma=2.8)]
    bad = _spec(dataset="no-such-dataset")
    report = sweep.run([good[0], bad, good[1], good[0]], results_dir=tmp_path, progress=False)
    assert [s.run_id for s in report.done] == [s.run_id for s in good]
    assert len(report.failed) == 1 and report.failed[0][0] == bad and "no-such-dataset" in report.failed[0][1]
    assert not report.ok and "FAILED" in str(report)
    assert all(store.exists(s, tmp_path) for s in good)
    again = sweep.run(good, results_dir=tmp_path, progress=False)
    assert again.ok and not again.done and len(again.skipped) == 2
    assert sweep.pending(good + [bad], tmp_path) == [bad]


def test_process_pool(tmp_path):
    specs = [_spec(seed=s) for s in (0, 1)]
    report = sweep.run(specs, executor="process", max_workers=1, results_dir=tmp_path, progress=False, verbose=False)
    assert report.ok and len(report.done) == 2
    assert len(store.load(tmp_path)) == 2


def test_submitit_local(tmp_path):
    specs = [_spec(seed=3), _spec(dataset="no-such-dataset")]
    report = sweep.run(specs, executor="local", results_dir=tmp_path, folder=tmp_path / "logs", verbose=False)
    assert [s.seed for s in report.done] == [3] and len(report.failed) == 1
    assert store.exists(specs[0], tmp_path)


def test_bad_executor():
    with pytest.raises(ValueError, match="executor must be one of"):
        sweep.run([], executor="dask")


class TestCLI:
    def test_sweep_then_skip(self, tmp_path, capsys):
        argv = ["--section", "skin", "--profile", "smoke", "--results-dir", str(tmp_path), "--no-progress"]
        argv += ["--datasets", "iris", "--methods", "erm,zeta_mixup", "--gammas", "2.8", "--set", "epochs=1"]
        assert sweep.main(argv) == 0
        assert "2 trained, 0 skipped" in capsys.readouterr().out
        assert sweep.main(argv) == 0
        assert "0 trained, 2 skipped" in capsys.readouterr().out

    def test_dry_run_and_errors(self, tmp_path, capsys):
        assert sweep.main(["--section", "natural", "--results-dir", str(tmp_path), "--dry-run"]) == 0
        assert "5 of 5 run(s) have no record yet" in capsys.readouterr().out
        assert sweep.main(["--section", "natural", "--set", "epoch=3"]) == 2
        assert "unknown parameter(s) ['epoch']" in capsys.readouterr().err
