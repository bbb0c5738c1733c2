"""zmixlib.engine.sweep: skip finished runs, report failures without stopping, packed worker processes, submitit."""

from __future__ import annotations

import os

import pytest
import torch

from zmixlib import cli
from zmixlib.core.util import torch_threads
from zmixlib.engine import store, sweep, workers
from zmixlib.engine.runspec import RunSpec
from zmixlib.protocol import recipes

pytestmark = pytest.mark.usefixtures("one_thread")


def _spec(**kw):
    base = dict(dataset="iris", arch="mlp", epochs=1, batch_size=16, lr=0.05, device="cpu", section="t")
    return RunSpec(**{**base, **kw})


def _science(rec):
    """What a run computed: history and metrics without the wall times."""
    history = [{k: v for k, v in row.items() if not k.endswith("time_s")} for row in rec.history]
    return repr((history, rec.metrics))


def _crash_or_train(spec_dict, results_dir, threads, progress):
    """A runner for the worker processes: the run with seed 13 kills its worker, the others train."""
    if spec_dict["seed"] == 13:
        os._exit(3)
    return workers.run_one(spec_dict, results_dir, threads, progress)


@pytest.mark.slow
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


@pytest.mark.slow
def test_process_pool(tmp_path):
    specs = [_spec(seed=s) for s in (0, 1)]
    report = sweep.run(specs, executor="process", max_workers=1, results_dir=tmp_path, progress=False, verbose=False)
    assert report.ok and len(report.done) == 2
    assert len(store.load(tmp_path)) == 2


class TestRunsPerDevice:
    @pytest.mark.slow
    def test_records_identical_to_one_by_one_and_failures_isolated(self, tmp_path, capsys):
        """Two runs at a time on the CPU, with a failing run among them: every other record is the one a run
        trained alone (same torch thread count) writes."""
        specs = [
            _spec(seed=0, epochs=3),
            _spec(seed=1, method="zeta_mixup", gamma=2.4, epochs=3),
            _spec(dataset="no-such-dataset"),
            _spec(seed=2, method="mixup", alpha=1.0, epochs=3),
        ]
        report = sweep.run(specs, runs_per_device=2, results_dir=tmp_path / "packed", progress=False)
        assert "on 2 worker process(es) on the CPU" in capsys.readouterr().out
        assert len(report.done) == 3 and [s.dataset for s, _ in report.failed] == ["no-such-dataset"]
        _, threads = workers.worker_slots(specs, runs_per_device=2)
        with torch_threads(threads):
            alone = sweep.run(specs, results_dir=tmp_path / "alone", progress=False, verbose=False)
        assert len(alone.done) == 3
        for spec in alone.done:
            packed = store.load_record(store.record_path(spec, tmp_path / "packed"))
            single = store.load_record(store.record_path(spec, tmp_path / "alone"))
            assert packed.complete and _science(packed) == _science(single)

    @pytest.mark.slow
    def test_a_dying_worker_fails_its_run_only(self, tmp_path):
        specs = [_spec(seed=13), _spec(seed=0), _spec(seed=1)]
        results = []
        workers.pool(
            specs,
            [None, None],
            1,
            results_dir=str(tmp_path),
            progress=False,
            on_result=lambda spec, status, err: results.append((spec.seed, status, err)),
            runner=_crash_or_train,
        )
        assert sorted((seed, status) for seed, status, _ in results) == [(0, "done"), (1, "done"), (13, "failed")]
        assert "worker process died (exit code 3)" in next(err for seed, _, err in results if seed == 13)
        assert store.exists(specs[1], tmp_path) and store.exists(specs[2], tmp_path)

    def test_worker_slots(self, monkeypatch):
        monkeypatch.setattr(workers, "cpu_count", lambda: 8)
        specs = [_spec(seed=s) for s in range(5)]
        assert workers.worker_slots(specs, runs_per_device=2) == ([None, None], 4)
        assert workers.worker_slots(specs) == ([None] * 5, 1)  # one per core, never more than runs
        assert workers.worker_slots(specs, max_workers=3) == ([None] * 3, 2)
        monkeypatch.setattr(workers, "_visible_gpus", lambda: ["2", "5"])
        assert workers.worker_slots(specs, runs_per_device=2) == ([None, None], 4)  # these runs ask for the CPU
        gpu_specs = [s.replace(device="auto") for s in specs]
        assert workers.worker_slots(gpu_specs, runs_per_device=2) == (["2", "5", "2", "5"], 2)
        assert workers.worker_slots(gpu_specs, runs_per_device=4, max_workers=3) == (["2", "5", "2"], 2)

    def test_errors(self):
        with pytest.raises(ValueError, match="runs_per_device must be >= 1"):
            sweep.run([_spec()], runs_per_device=0)
        with pytest.raises(
            ValueError, match="runs_per_device=2 applies to executors 'process', 'local' and 'slurm' only"
        ):
            sweep.run([_spec()], executor="inline", runs_per_device=2)
        with pytest.raises(ValueError, match="max_workers=2 applies to executor 'process' only, got executor='slurm'"):
            sweep.run([_spec()], executor="slurm", max_workers=2)

    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    @pytest.mark.slow
    def test_packed_on_cuda(self, tmp_path):
        specs = [_spec(seed=s, device="auto") for s in range(3)]
        report = sweep.run(specs, runs_per_device=2, results_dir=tmp_path, progress=False, verbose=False)
        assert report.ok and len(report.done) == 3
        for s in specs:
            rec = store.load_record(store.record_path(s, tmp_path))
            assert rec.environment["device"].startswith("cuda") and rec.run_id == s.run_id


@pytest.mark.slow
def test_submitit_local(tmp_path):
    specs = [_spec(seed=3), _spec(dataset="no-such-dataset")]
    report = sweep.run(specs, executor="local", results_dir=tmp_path, folder=tmp_path / "logs", verbose=False)
    assert [s.seed for s in report.done] == [3] and len(report.failed) == 1, report.failed
    assert store.exists(specs[0], tmp_path)


def test_bad_executor():
    with pytest.raises(ValueError, match="executor must be one of"):
        sweep.run([], executor="dask")


class TestCLI:
    @pytest.mark.slow
    def test_sweep_then_skip(self, tmp_path, capsys):
        argv = ["--section", "skin", "--profile", "smoke", "--results-dir", str(tmp_path), "--no-progress"]
        argv += ["--datasets", "iris", "--methods", "erm,zeta_mixup", "--gammas", "2.8", "--set", "epochs=1"]
        assert cli.sweep_main(argv) == 0
        assert "2 trained, 0 skipped" in capsys.readouterr().out
        assert cli.sweep_main(argv) == 0
        assert "0 trained, 2 skipped" in capsys.readouterr().out

    def test_runs_per_device_reaches_the_sweep(self, tmp_path, capsys, monkeypatch):
        """The option's plumbing (packed training itself: TestRunsPerDevice); executor errors exit with 2."""
        seen = {}
        monkeypatch.setattr(sweep, "run", lambda matrix, **kw: seen.update(kw) or sweep.SweepReport())
        argv = ["--section", "skin", "--profile", "smoke", "--results-dir", str(tmp_path), "--datasets", "iris"]
        assert cli.sweep_main([*argv, "--runs-per-device", "3", "--workers", "5"]) == 0
        assert seen["runs_per_device"] == 3 and seen["max_workers"] == 5 and seen["executor"] is None
        monkeypatch.undo()
        assert cli.sweep_main([*argv, "--executor", "inline", "--runs-per-device", "2"]) == 2
        assert "runs_per_device=2 applies to executors 'process', 'local' and 'slurm' only" in capsys.readouterr().err

    def test_dry_run_and_errors(self, tmp_path, capsys):
        n = len(recipes.resolve("natural", "smoke"))
        assert cli.sweep_main(["--section", "natural", "--results-dir", str(tmp_path), "--dry-run"]) == 0
        assert f"{n} of {n} run(s) have no record yet" in capsys.readouterr().out
        assert cli.sweep_main(["--section", "natural", "--set", "epoch=3"]) == 2
        assert "unknown parameter(s) ['epoch']" in capsys.readouterr().err


class TestJobArrays:
    """The SLURM executor's pieces that need no cluster: packing runs into array tasks, the --slurm parameters, an
    array task's packed training on the CPU (tests/test_slurm.py runs them through a real cluster)."""

    def test_array_tasks_pack_runs_per_gpu(self):
        runs = list(range(18))  # a 3-seed x 6-method table
        assert [len(t) for t in sweep.array_tasks(runs)] == [1] * 18
        assert [len(t) for t in sweep.array_tasks(runs, gpus_per_node=2, runs_per_device=4)] == [8, 8, 2]
        assert [len(t) for t in sweep.array_tasks(runs, runs_per_device=3)] == [3] * 6  # a CPU node: 3 workers
        for gpus, per in [(1, 1), (1, 4), (2, 4), (4, 3), (8, 2), (3, 7)]:
            tasks = sweep.array_tasks(runs, gpus_per_node=gpus, runs_per_device=per)
            assert len(tasks) == -(-18 // (gpus * per)) and [r for t in tasks for r in t] == runs
        with pytest.raises(ValueError, match="runs_per_device must be >= 1"):
            sweep.array_tasks(runs, gpus_per_node=2, runs_per_device=0)

    def test_slurm_parameters(self):
        params, per, gpus = sweep.slurm_parameters(
            {"partition": "gpu", "time": "1-02:00:00", "gpus": 4, "runs_per_gpu": 3, "slurm_qos": "high"}
        )
        assert params["slurm_partition"] == "gpu" and params["timeout_min"] == 26 * 60
        assert params["gpus_per_node"] == 4 and params["slurm_qos"] == "high" and (per, gpus) == (3, 4)
        assert sweep.slurm_parameters({})[0] == {"timeout_min": 24 * 60, "name": "zmix"}
        assert sweep.slurm_parameters({"gres": "gpu:a100:2"})[2] == 2
        assert [sweep._minutes(t) for t in (90, "90", "01:30", "1:00:01", "2-0")] == [90, 90, 2, 61, 2880]
        with pytest.raises(ValueError, match="slurm parameter partiton='gpu' is not known; allowed: partition, time"):
            sweep.slurm_parameters({"partiton": "gpu"})
        with pytest.raises(ValueError, match="slurm time must be minutes or"):
            sweep.slurm_parameters({"time": "soon"})
        with pytest.raises(ValueError, match="runs_per_gpu must be >= 1"):
            sweep.slurm_parameters({"runs_per_gpu": 0})

    @pytest.mark.slow
    def test_packed_task_on_cpu_equals_one_by_one(self, tmp_path, monkeypatch):
        """One array task holding three runs on two worker processes (what a GPU node does per GPU): each record
        is the one an inline run writes, says how it was produced, and a requeued task trains nothing again."""
        monkeypatch.setattr(workers, "cpu_count", lambda: 2)  # one torch thread per worker, as the inline runs
        specs = [_spec(seed=s, epochs=2) for s in range(3)]
        assert sweep.run(specs, results_dir=tmp_path / "inline", progress=False, verbose=False).ok
        monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "77")  # what SLURM sets in an array task
        monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
        monkeypatch.setenv("SLURMD_NODENAME", "node7")
        packed = tmp_path / "packed"
        assert sweep.ArrayTask()([s.to_dict() for s in specs], str(packed), 2, False, "slurm") == [("done", "")] * 3
        for s in specs:
            rec = store.load_record(store.record_path(s, packed))
            ref = store.load_record(store.record_path(s, tmp_path / "inline"))
            assert _science(rec) == _science(ref)
            env = rec.environment
            assert (env["executor"], env["job_id"], env["node"], env["slurm_restarts"]) == ("slurm", "77_3", "node7", 0)
            assert (
                env["device"] == "cpu" and ref.environment["executor"] == "inline" and ref.environment["job_id"] is None
            )
        stamps = [store.record_path(s, packed).stat().st_mtime_ns for s in specs]
        assert sweep.ArrayTask()([s.to_dict() for s in specs], str(packed), 2, False, "slurm") == [("done", "")] * 3
        assert [store.record_path(s, packed).stat().st_mtime_ns for s in specs] == stamps


def _notebook_params(chapter: str, profile: str):
    """A chapter notebook's parameters at its defaults under ``profile`` (its parameters cell and setup call) and its
    code cells."""
    import json

    from zmixlib.core.util import ROOT
    from zmixlib.protocol import config

    cells = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    ns: dict = {}
    exec(next(c for c in code if c.lstrip().startswith("# Parameters")), ns)
    ns["profile"] = profile
    return config.setup(chapter, ns, verbose=False), "\n".join(code)


@pytest.mark.parametrize("profile", ["smoke", "offline"])
def test_sweep_book_trains_what_the_chapter_reads(profile):
    """`sweep --book` (what `make paper` runs): the runs each chapter notebook trains at its defaults (its chapter's
    ``train`` call, whose matrix is the chapter's ``matrix``), in the folder the book reads (results/<profile>/
    below paper)."""
    from zmixlib.chapters import ablation, medmnist, natural

    for section, (chapter, build, call) in {
        "natural": ("04_natural", natural.matrix, "natural.train(P)"),
        "cutmix": ("04_natural", natural.cutmix_matrix, "natural.train_cutmix(P)"),
        "medmnist": ("06_medmnist", medmnist.matrix, "medmnist.train(P)"),
        "ablation": ("08_ablation", ablation.matrix, "ablation.train(P)"),
    }.items():
        P, code = _notebook_params(chapter, profile)
        assert call in code, f"{chapter} no longer trains by {call}"
        expected = build(P)
        got = cli.book_matrix(section, profile)
        assert [s.run_id for s in got] == [s.run_id for s in expected], (section, profile)
        assert {s.data_root for s in got} == {s.data_root for s in expected}
    assert cli.book_matrix("peers", profile) is None  # builds its own matrices: the sweep says so


def test_cli_paths_resolve_against_the_project(tmp_path, monkeypatch, capsys):
    """Issue 20, item 9: started from another folder, train and sweep read the project's data/ and write its results/."""
    import json

    from zmixlib.core.util import ROOT

    monkeypatch.chdir(tmp_path)
    assert cli.train_main(["--dataset", "digits", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["data_root"] == str(ROOT / "data")
    assert cli.train_parser().parse_args(["--dataset", "digits"]).results_dir == str(ROOT / "results")
    args = cli.sweep_parser().parse_args(["--section", "natural"])
    assert args.results_dir == str(ROOT / "results")
    assert cli.sweep_main(["--section", "natural", "--profile", "smoke", "--book", "--dry-run"]) == 0
    assert f"have no record yet (in {ROOT / 'results' / 'smoke'})" in capsys.readouterr().out
    seen = {}
    monkeypatch.setattr(
        sweep, "run", lambda matrix, **kw: seen.update(kw, roots={s.data_root for s in matrix}) or sweep.SweepReport()
    )
    assert cli.sweep_main(["--section", "natural", "--profile", "smoke", "--datasets", "digits"]) == 0
    assert seen["roots"] == {str(ROOT / "data")} and seen["results_dir"] == str(ROOT / "results")


def test_build_report_says_how_runs_were_produced(tmp_path):
    from zmixlib.engine.runspec import RunRecord
    from zmixlib.site import bookreport

    for seed, env in enumerate(
        [
            {"executor": "slurm", "job_id": "41_0", "node": "n1", "device": "cuda"},
            {"executor": "slurm", "job_id": "41_1", "node": "n1", "device": "cuda"},
            {"executor": "slurm", "job_id": "41_3", "node": "n1", "device": "cuda"},
            {"executor": "inline", "job_id": None, "node": "laptop", "device": "cpu"},
            {"hostname": "old", "device": "cpu"},  # written before records said how they were produced
        ]
    ):
        store.save(RunRecord(spec=_spec(seed=seed, section="natural"), environment=env), tmp_path)
    (tmp_path / "natural" / "notes.json").write_text('{"not": "a record"}')
    lines = bookreport.produced_table([tmp_path])
    assert "| natural | 3 | slurm | 41 (tasks 0-1,3) | n1 | cuda |" in lines
    assert "| natural | 1 | inline | — | laptop | cpu |" in lines
    assert (
        "| natural | 1 | not recorded | — | old | cpu |" in lines
        and len([x for x in lines if x.startswith("| natural")]) == 3
    )
    assert bookreport.produced_table([tmp_path / "absent"]) == []


def test_a_task_that_ended_is_not_waited_for_again(tmp_path):
    """A second sweep waits only for the tasks of an earlier one that are still pending or running: a task squeue
    lists as COMPLETING (it failed a moment ago) or whose result file is written is submitted again (the SLURM test
    `test_smoke_matrix_from_elsewhere_equals_inline` met this race on an idle machine)."""
    import json

    specs = [_spec(seed=s) for s in range(5)]
    lines = [{"job_id": f"9_{i}", "run_ids": [s.run_id]} for i, s in enumerate(specs)]
    (tmp_path / sweep.ARRAYS_FILE).write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    states = {"9_0": "COMPLETING", "9_1": "RUNNING", "9_2": "PENDING", "9_3": "FAILED", "9_4": "RUNNING"}
    written = sweep._paths(tmp_path, "9_4")["result"]
    written.parent.mkdir(parents=True, exist_ok=True)
    written.write_bytes(b"")
    waited = sweep._queued(tmp_path, specs, states)
    assert [t.job_id for t in waited] == ["9_1", "9_2"]
    assert [t.specs for t in waited] == [[specs[1]], [specs[2]]]
    assert sweep._queued(tmp_path, specs[:1], states) == []  # runs no live task holds: nothing to wait for
    assert sweep._queued(tmp_path, specs, None) == []  # squeue did not answer: submit
