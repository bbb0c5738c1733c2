"""Run records on disk: one JSON per run, ``<results_dir>/<section>/<run_id>.json`` (``run_id`` = hash of
the :class:`~zmixlib.runspec.RunSpec`), written atomically, so a crashed or interrupted writer never leaves
a half record and a sweep can tell finished runs by existence; and frames of them for pandas
(:func:`load`: one row per run, :func:`load_history`: one row per run and epoch).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zmixlib._util import atomic_write_text
from zmixlib.runspec import RunRecord, RunSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["record_path", "save", "load_record", "exists", "load", "load_history"]


def record_path(spec: RunSpec, results_dir: str | os.PathLike = "results") -> Path:
    """``<results_dir>/<section>/<run_id>.json``."""
    return Path(results_dir) / spec.section / f"{spec.run_id}.json"


def exists(spec: RunSpec, results_dir: str | os.PathLike = "results") -> bool:
    """Whether the run's record is on disk (a sweep skips such runs)."""
    return record_path(spec, results_dir).is_file()


def _clean(obj: Any) -> Any:
    """NaN/inf -> None so the file is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def save(record: RunRecord, results_dir: str | os.PathLike = "results") -> Path:
    """Write ``record`` atomically to :func:`record_path` and return the path."""
    text = json.dumps(_clean(record.to_dict()), indent=1, sort_keys=False, allow_nan=False)
    return atomic_write_text(record_path(record.spec, results_dir), text + "\n")


def load_record(path: str | os.PathLike) -> RunRecord:
    """Read one record back into a :class:`~zmixlib.runspec.RunRecord`."""
    with open(path) as f:
        return RunRecord.from_dict(json.load(f))


def _record_files(results_dir: str | os.PathLike, section: str | None) -> list[Path]:
    root = Path(results_dir)
    if section is not None:
        root = root / section
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*.json") if "checkpoints" not in p.parts and not p.name.startswith("."))


def _iter_records(results_dir: str | os.PathLike, section: str | None):
    """Yield ``(path, record dict)`` for every readable run record (files without a spec are skipped)."""
    for path in _record_files(results_dir, section):
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(d, dict) and isinstance(d.get("spec"), dict):
            yield path, d


def load(results_dir: str | os.PathLike = "results", *, section: str | None = None) -> pd.DataFrame:
    """Every record under ``results_dir`` (or one section) as a frame, one row per run.

    Columns: ``run_id``, the spec fields (``dataset``, ``method``, ``gamma``, ``seed``, ...; tuples
    kept as tuples), the final metrics (``test_acc``, ``test_err``, ...), ``epochs_done``,
    ``wall_time_s``, ``finished_at``, ``git_commit``, ``device_name``. Files that are not run records
    are skipped.
    """
    import pandas as pd  # deferred: pandas costs ~0.3 s to import and the engine never needs it

    rows = []
    for path, d in _iter_records(results_dir, section):
        spec = d["spec"]
        row = {"run_id": d.get("run_id", path.stem)}
        row.update({k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()})
        row.update({k: (math.nan if v is None else v) for k, v in (d.get("metrics") or {}).items()})
        env = d.get("environment") or {}
        row.update(
            epochs_done=len(d.get("history") or []),
            wall_time_s=d.get("wall_time_s"),
            finished_at=d.get("finished_at"),
            git_commit=env.get("git_commit"),
            device_name=env.get("device_name"),
            path=str(path),
        )
        rows.append(row)
    return pd.DataFrame(rows)


def load_history(results_dir: str | os.PathLike = "results", *, section: str | None = None) -> pd.DataFrame:
    """Per-epoch history of every record: one row per (run, epoch), with the spec's main fields."""
    import pandas as pd  # deferred: pandas costs ~0.3 s to import and the engine never needs it

    rows = []
    keep = ("section", "dataset", "arch", "method", "gamma", "alpha", "seed")
    for path, d in _iter_records(results_dir, section):
        spec = d["spec"]
        for h in d.get("history") or []:
            rows.append({"run_id": d.get("run_id", path.stem), **{k: spec.get(k) for k in keep}, **h})
    return pd.DataFrame(rows)
