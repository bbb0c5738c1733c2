"""The SLURM executor through a real cluster (``make cluster``: one node, no accounting, so no ``sacct``).

Run with ``.venv/bin/pytest -m slurm tests/test_slurm.py`` after ``make cluster`` (5–12 minutes on 2 cores);
``make test`` leaves these out (``addopts = -m "not slurm"`` in pyproject.toml), and without a cluster they are
skipped with the reason. What they check: a smoke matrix submitted from a folder other than the project trains
through ``sbatch`` and gives the inline executor's records; a failing run names its log; a second sweep submits
only what is missing; a run requeued, or cancelled and submitted again, mid-training resumes from its checkpoint
and ends with the uninterrupted run's record. The interrupted run is sized to the machine (:func:`_interrupted`)
so that the signal lands mid-training however fast the machine is (issue 26).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from zmixlib import cli
from zmixlib.core.util import ROOT
from zmixlib.engine import store, sweep, train
from zmixlib.engine.runspec import RunSpec
from zmixlib.protocol import config, recipes


def _no_cluster() -> str | None:
    """Why the tests cannot run here (``None``: sinfo answers with a partition)."""
    if shutil.which("sinfo") is None:
        return "sinfo is not installed: `make cluster` installs SLURM and starts a one-node cluster"
    try:
        r = subprocess.run(["sinfo", "-h", "-o", "%P %t"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        return f"sinfo does not answer ({err}); `make cluster` starts a cluster"
    if r.returncode != 0 or not r.stdout.strip():
        last = (r.stderr.strip().splitlines() or ["no partition"])[-1]
        return f"sinfo does not answer ({last}); `make cluster` starts a cluster"
    return None


WHY = _no_cluster()
pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.skipif(WHY is not None, reason=WHY or "")]


def _science(rec):
    """What a run computed: history and metrics without the wall times."""
    history = [{k: v for k, v in row.items() if not k.endswith("time_s")} for row in rec.history]
    return repr((history, rec.metrics))


def _equal_to_inline(specs, slurm_dir: Path, inline_dir: Path) -> list:
    """Train ``specs`` inline into ``inline_dir`` and assert every SLURM record computed the same; return them."""
    assert sweep.run(specs, results_dir=inline_dir, progress=False, verbose=False).ok
    records = []
    for spec in specs:
        rec = store.load_record(store.record_path(spec, slurm_dir))
        ref = store.load_record(store.record_path(spec, inline_dir))
        assert _science(rec) == _science(ref), f"{spec.run_id}: SLURM record differs from the inline run's"
        assert ref.environment["executor"] == "inline"
        records.append(rec)
    return records


def test_smoke_matrix_from_elsewhere_equals_inline(tmp_path, monkeypatch, capfd):
    """`sweep --executor slurm` started outside the project: jobs find the project's data/, records equal the
    inline executor's and say how they were produced, a failing run names its log, no sacct warning, and a second
    sweep submits only the failed run."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    datasets = ["digits"] + (["Fashion-MNIST"] if config.dataset_present("Fashion-MNIST", ROOT / "data") else [])
    if config.dataset_present("Imagenette", ROOT / "data"):
        pytest.skip("Imagenette is present under data/: this test needs a dataset that fails to load")
    base = ["--section", "natural", "--profile", "smoke", "--methods", "erm,zeta_mixup", "--gammas", "2.8"]
    base += ["--epochs", "1", "--results-dir", "R"]
    argv = [*base, "--datasets", ",".join([*datasets, "Imagenette"]), "--executor", "slurm", "--slurm", "time=20"]
    assert cli.sweep_main(argv) == 1  # Imagenette's runs fail: no files
    out, err = capfd.readouterr()
    assert "submitted job array" in out and "sacct" not in out + err, out + err
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 2 and all("Imagenette" in line for line in failed), out
    log = Path(re.search(r"log: (\S+\.err)\)", failed[0]).group(1))
    assert log.is_file() and "Imagenette" in log.read_text()

    matrix = recipes.resolve(
        "natural",
        "smoke",
        datasets=datasets,
        methods=["erm", "zeta_mixup"],
        gammas=[2.8],
        epochs=1,
        data_root=str(ROOT / "data"),
    )
    nodes = set(subprocess.run(["sinfo", "-h", "-N", "-o", "%N"], capture_output=True, text=True).stdout.split())
    for rec in _equal_to_inline(list(matrix), elsewhere / "R", tmp_path / "inline"):
        env = rec.environment
        assert env["executor"] == "slurm" and re.fullmatch(r"\d+_\d+", env["job_id"]) and env["node"] in nodes, env

    assert cli.sweep_main(argv) == 1  # only the two failed runs are missing
    out = capfd.readouterr().out
    assert f"skipping {len(matrix)} finished run(s)" in out and "2 task(s) for 2 run(s)" in out, out


def _kill_wait() -> float:
    """The cluster's ``KillWait``: how long a job may go on after the SIGTERM of a cancel or requeue before SIGKILL
    (submitit's handler ignores the SIGTERM, so the run trains on for this long)."""
    out = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"^KillWait\s*=\s*(\d+)", out, re.MULTILINE)
    return float(found.group(1)) if found else 30.0  # SLURM's default


#: the interrupted run must still be training this many kill-grace periods after its first checkpoint
GRACE_MARGIN = 10


def _interrupted(tmp_path: Path, interrupt) -> tuple[RunSpec, Path, list]:
    """Submit one run, call ``interrupt(job_id)`` once its first checkpoint is written, wait for the sweep; returns
    the spec, the results folder and the sweep's reports.

    The run is sized to this machine, so that the outcome does not depend on its speed: one epoch is timed inline
    first, and the run gets enough epochs to train on for :data:`GRACE_MARGIN` times the cluster's ``KillWait``
    after its first checkpoint — the signal lands mid-training, on a fast idle machine as on a loaded one (a run
    that ended inside the grace period was never interrupted)."""
    spec = RunSpec(
        dataset="digits",
        arch="digits_cnn",
        method="zeta_mixup",
        gamma=2.8,
        epochs=6,
        batch_size=32,
        lr=0.05,
        train_subset=512,
        eval_subset=128,
        eval_every=1000,  # evaluated after the last epoch only: the epochs cost the training alone
        device="cpu",
        section="requeue",
        seed=1,
    )
    epoch_s = train.fit(spec.replace(epochs=1), results_dir=None, progress=False).history[0]["epoch_time_s"]
    grace = max(_kill_wait(), 1.0)
    spec = spec.replace(epochs=max(spec.epochs, 2 + math.ceil(GRACE_MARGIN * grace / epoch_s)))
    results = tmp_path / "slurm"
    reports: list = []
    thread = threading.Thread(
        target=lambda: reports.append(sweep.run([spec], executor="slurm", results_dir=results, progress=False))
    )
    thread.start()
    ckpt = train.checkpoint_path(spec, results)
    deadline = time.time() + 240
    while not ckpt.exists() and thread.is_alive() and time.time() < deadline:
        time.sleep(0.2)
    assert ckpt.exists() and not store.exists(spec, results), "the run should be mid-training"
    job_id = json.loads((results / "submitit" / sweep.ARRAYS_FILE).read_text().splitlines()[-1])["job_id"]
    interrupt(job_id)
    thread.join(timeout=600 + 2 * spec.epochs * epoch_s)
    assert not thread.is_alive()
    return spec, results, reports


def test_requeued_mid_training_resumes_and_matches(tmp_path):
    def requeue(job_id: str) -> None:
        subprocess.run(["scontrol", "requeue", job_id], check=True, timeout=30)
        # SLURM holds a requeued batch job back (begin time) for about 2 minutes once its first run has left the
        # node; start it as soon as it is held (an update before the hold is overwritten by it)
        requeued, deadline = False, time.time() + 120
        while time.time() < deadline:
            out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T %r"], capture_output=True, text=True)
            state = out.stdout.split()
            if state[:2] == ["PENDING", "BeginTime"]:
                requeued = True
                subprocess.run(["scontrol", "update", f"jobid={job_id}", "starttime=now"], capture_output=True)
            elif state[:1] == ["PENDING"]:
                requeued = True
            elif requeued and state[:1] in (["RUNNING"], []):  # its second run started (or already ended)
                break
            time.sleep(0.2)

    spec, results, reports = _interrupted(tmp_path, requeue)
    assert reports[0].ok and [s.run_id for s in reports[0].done] == [spec.run_id]
    (rec,) = _equal_to_inline([spec], results, tmp_path / "inline")
    assert 1 <= rec.resumed_at_epoch < spec.epochs and rec.environment["slurm_restarts"] == 1, rec.environment


def test_cancelled_mid_training_then_resubmitted_resumes_and_matches(tmp_path):
    spec, results, reports = _interrupted(tmp_path, lambda job_id: subprocess.run(["scancel", job_id], check=True))
    assert not reports[0].ok and "left the queue without a result" in reports[0].failed[0][1]
    assert "log: " in reports[0].failed[0][1].splitlines()[-1]
    again = sweep.run([spec], executor="slurm", results_dir=results, progress=False)
    assert again.ok and [s.run_id for s in again.done] == [spec.run_id]
    (rec,) = _equal_to_inline([spec], results, tmp_path / "inline")
    assert 1 <= rec.resumed_at_epoch < spec.epochs and rec.environment["slurm_restarts"] == 0
