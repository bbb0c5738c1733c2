"""zmixlib.core.util: atomic writes, thread control, to-NumPy, git identity."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from zmixlib.core import util as _util


def test_torch_threads_restores_the_count():
    before = torch.get_num_threads()
    with _util.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with _util.torch_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"), _util.torch_threads(0):
        pass


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    _util.atomic_write_text(target, "one")
    assert target.read_text() == "one"

    def fail(tmp):
        tmp.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        _util.atomic_write(target, fail)
    assert target.read_text() == "one"  # the old file, untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.txt"]  # no temporary left behind


def test_atomic_write_survives_its_folder_removed_by_another_process(tmp_path, monkeypatch):
    """A worker that finishes a run removed the shared, momentarily empty checkpoints folder between another
    worker's mkdir and mkstemp (the offline book's chapter 04 failed so, 2026-12-06): the write goes on."""
    target = tmp_path / "checkpoints" / "run.pt"
    real_mkstemp, calls = _util.tempfile.mkstemp, []

    def mkstemp_after_a_concurrent_rmdir(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            target.parent.rmdir()
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(_util.tempfile, "mkstemp", mkstemp_after_a_concurrent_rmdir)
    _util.atomic_write_text(target, "state")
    assert target.read_text() == "state" and len(calls) == 2


def test_to_numpy_handles_bfloat16_and_lists():
    assert _util.to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype == np.float32
    assert _util.to_numpy([1, 2]).tolist() == [1, 2]


def test_git_info_outside_a_checkout(tmp_path):
    assert _util.git_info(tmp_path) == {"git_commit": None, "git_dirty": None}


def test_environ_sets_unsets_and_restores(monkeypatch):
    from zmixlib.core.util import environ

    monkeypatch.setenv("ZMIX_T_KEEP", "old")
    monkeypatch.setenv("ZMIX_T_GONE", "here")
    monkeypatch.delenv("ZMIX_T_NEW", raising=False)
    with environ({"ZMIX_T_KEEP": "new", "ZMIX_T_NEW": "1"}, unset=("ZMIX_T_GONE",)):
        assert os.environ["ZMIX_T_KEEP"] == "new" and os.environ["ZMIX_T_NEW"] == "1"
        assert "ZMIX_T_GONE" not in os.environ
    assert os.environ["ZMIX_T_KEEP"] == "old" and os.environ["ZMIX_T_GONE"] == "here"
    assert "ZMIX_T_NEW" not in os.environ
    with pytest.raises(RuntimeError), environ({"ZMIX_T_KEEP": "x"}):
        raise RuntimeError
    assert os.environ["ZMIX_T_KEEP"] == "old"
