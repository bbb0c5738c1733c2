"""Run records on disk: one JSON per run, ``<results_dir>/<section>/<run_id>.json`` (``run_id`` = hash of
the :class:`~zmixlib.engine.runspec.RunSpec`), written atomically with a SHA-256 of their content; and frames of
them for pandas (:func:`load`: one row per run, :func:`load_history`: one row per run and epoch).

Nothing on disk is trusted blindly: a record counts as finished only when it parses, validates as a
:class:`~zmixlib.engine.runspec.RunRecord` that is complete, its spec's ``run_id`` equals the file's name and its
checksum (when it has one: records written before checksums have none) matches (:func:`check_record`). A
damaged one is moved aside to ``<run_id>.json.corrupt-<UTC time>`` (never deleted; :func:`set_aside`),
reported by name (a :class:`DamagedFileWarning`), and then counts as missing: ``sweep`` and ``train`` train
the run again. :func:`load` says how many files it set aside (``df.attrs["set_aside"]``).

A result that is no run record (a cell of chapter 10's UCI table) is kept the same way: :func:`save_result` writes
it atomically with its checksum, :func:`load_result` checks it and sets a damaged one aside.

A finished run's final weights lie beside its record, ``<results_dir>/<section>/<run_id>.safetensors``
(:func:`save_weights`, written atomically by :func:`zmixlib.engine.train.fit` before the record): a ``safetensors`` file whose
header holds the run id and the SHA-256 of its tensors (names, dtypes, shapes and bytes, :func:`weights_digest`).
:func:`load_weights` returns them only when both match; a damaged file is set aside like a damaged record. A chapter
that evaluates stored models (chapter 11) calls :func:`require_weights` first: a run whose record is valid but whose
weights are missing (records written before weights were kept) or damaged has its record moved aside too
(``<run_id>.json.no-weights-<UTC time>``, kept), so the ordinary sweep trains it again. Weights never enter
``run_id``: keeping them changes no run's id.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zmixlib.core.util import DamagedFileError, atomic_write_text
from zmixlib.engine.runspec import RunRecord, RunSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "record_path",
    "save",
    "load_record",
    "check_record",
    "finished",
    "exists",
    "set_aside",
    "save_result",
    "load_result",
    "DamagedRecordError",
    "DamagedFileWarning",
    "weights_path",
    "weights_digest",
    "save_weights",
    "load_weights",
    "require_weights",
    "load",
    "load_history",
]

#: a record's file name: the 16 hex digits of its spec's ``run_id``
_RUN_ID = re.compile(r"^[0-9a-f]{16}$")
#: the key holding the SHA-256 of the rest of the record (its canonical JSON)
CHECKSUM_KEY = "sha256"


class DamagedRecordError(DamagedFileError):
    """A record file that does not parse or validate; the message names the file and what is wrong (a kind of
    :class:`zmixlib.core.util.DamagedFileError`, the one damaged-file error: ``except DamagedFileError`` catches every
    damaged record, weight file, checkpoint and data file)."""


class _NotARecord(DamagedRecordError):
    """JSON that is no run record at all (no ``spec``): damaged where a record must be, ignored elsewhere."""


class DamagedFileWarning(UserWarning):
    """A damaged file (run record, checkpoint) was set aside; the message names it and where it went."""


def record_path(spec: RunSpec, results_dir: str | os.PathLike = "results") -> Path:
    """``<results_dir>/<section>/<run_id>.json``."""
    return Path(results_dir) / spec.section / f"{spec.run_id}.json"


def _clean(obj: Any) -> Any:
    """NaN/inf -> None so the file is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _digest(d: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``d`` (sorted keys, no spaces): the same after a JSON round trip."""
    canonical = json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def save(record: RunRecord, results_dir: str | os.PathLike = "results") -> Path:
    """Write ``record`` atomically to :func:`record_path`, with the SHA-256 of its content, and return the path."""
    d = _clean(record.to_dict())
    d[CHECKSUM_KEY] = _digest(d)
    text = json.dumps(d, indent=1, sort_keys=False, allow_nan=False)
    return atomic_write_text(record_path(record.spec, results_dir), text + "\n")


def _parse(path: Path) -> tuple[dict[str, Any], RunRecord]:
    """``(record dict, RunRecord)`` of a valid record file; :class:`DamagedRecordError` naming the file and the
    fault otherwise (``OSError`` when it cannot be read at all)."""
    raw = path.read_bytes()
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise DamagedRecordError(f"run record {path} is damaged: not JSON ({err}; {len(raw)} bytes)") from None
    if not isinstance(d, dict) or not isinstance(d.get("spec"), dict):
        raise _NotARecord(f"run record {path} is damaged: not a run record (no 'spec' object)")
    stored = d.pop(CHECKSUM_KEY, None)
    if stored is not None and stored != _digest(d):
        raise DamagedRecordError(f"run record {path} is damaged: its content does not match its sha256 {stored}")
    try:
        rec = RunRecord.from_dict(d)
    except (TypeError, ValueError, KeyError) as err:
        raise DamagedRecordError(f"run record {path} is damaged: does not validate as a RunRecord ({err})") from None
    if rec.run_id != path.stem:
        raise DamagedRecordError(
            f"run record {path} is damaged: its spec's run_id is {rec.run_id}, not the file's name {path.stem}"
        )
    if not rec.complete or not rec.history:
        raise DamagedRecordError(
            f"run record {path} is damaged: not a complete run (complete={rec.complete!r}, "
            f"{len(rec.history)} epoch(s) of history)"
        )
    return d, rec


def check_record(path: str | os.PathLike) -> RunRecord:
    """The :class:`RunRecord` in ``path`` if it is a finished run's valid record, else
    :class:`DamagedRecordError` naming the file and the fault (``FileNotFoundError`` if there is none)."""
    return _parse(Path(path))[1]


def load_record(path: str | os.PathLike) -> RunRecord:
    """Read one record back into a :class:`~zmixlib.engine.runspec.RunRecord` (:func:`check_record`: a damaged file
    raises :class:`DamagedRecordError` naming it)."""
    return check_record(path)


def _stamp() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _move_aside(path: Path, tag: str) -> Path | None:
    """Rename ``path`` to ``<name>.<tag>-<UTC time>`` beside it; ``None`` when it was gone already."""
    target = path.with_name(f"{path.name}.{tag}-{_stamp()}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.{tag}-{_stamp()}-{n}")
        n += 1
    try:
        path.rename(target)  # a move beside it, not a write (the one atomic writer is zmixlib.core.util.atomic_write)
    except FileNotFoundError:
        return None
    return target


def set_aside(path: str | os.PathLike, why: str = "", *, kind: str = "file") -> Path | None:
    """Move a damaged ``path`` to ``<name>.corrupt-<UTC time>`` beside it (never deleted) and warn
    (:class:`DamagedFileWarning`) naming both paths and ``why``. Returns the new path (``None`` when the file
    was gone already, e.g. set aside by another process)."""
    path = Path(path)
    target = _move_aside(path, "corrupt")
    if target is None:
        return None
    detail = why if why else f"{kind} {path} is damaged"
    warnings.warn(f"{detail}; set aside as {target} (kept, not deleted)", DamagedFileWarning, stacklevel=2)
    return target


def _checked(path: Path) -> RunRecord | None:
    """The valid record in ``path``, ``None`` when there is none; a damaged one is set aside (and ``None``)."""
    if not path.is_file():
        return None
    try:
        before = path.stat()
        return check_record(path)
    except FileNotFoundError:
        return None
    except DamagedRecordError as err:
        _set_aside_if_unchanged(path, before, f"{err}; the run counts as not trained", kind="run record")
        return None


def _set_aside_if_unchanged(path: Path, before: os.stat_result, why: str, *, kind: str) -> None:
    """:func:`set_aside` ``path`` if it is still the file that was read (stat ``before``), not a good one another
    process wrote since."""
    try:
        now = path.stat()
    except FileNotFoundError:
        return
    if (now.st_ino, now.st_mtime_ns, now.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size):
        set_aside(path, why, kind=kind)


def save_result(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` — a result that is no run record (e.g. a cell of chapter 10's UCI table) — atomically to
    ``path`` as strict JSON (NaN and inf as ``null``) with the SHA-256 of its content; returns the path."""
    d = _clean(dict(payload))
    d[CHECKSUM_KEY] = _digest(d)
    return atomic_write_text(Path(path), json.dumps(d, indent=1, allow_nan=False) + "\n")


def load_result(
    path: str | os.PathLike, *, check: Callable[[dict[str, Any]], None] | None = None, kind: str = "result"
) -> dict[str, Any] | None:
    """The payload :func:`save_result` wrote to ``path`` (without its checksum), or ``None`` when there is none.
    A file that is no JSON object, whose content does not match its SHA-256 (a file without one, written before
    checksums, is read as it is) or that ``check`` rejects (``ValueError`` saying why) is set aside
    (:func:`set_aside`, a warning naming it and the fault) and counts as missing: ``None``."""
    path = Path(path)
    try:
        before = path.stat()
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    try:
        d = json.loads(raw.decode("utf-8"))
        if not isinstance(d, dict):
            raise ValueError(f"not a JSON object but {type(d).__name__}")
        stored = d.pop(CHECKSUM_KEY, None)
        if stored is not None and stored != _digest(d):
            raise ValueError(f"its content does not match its sha256 {stored}")
        if check is not None:
            check(d)
    except (UnicodeDecodeError, ValueError) as err:
        _set_aside_if_unchanged(path, before, f"{kind} {path} is damaged: {err}; it counts as missing", kind=kind)
        return None
    return d


def weights_path(spec: RunSpec, results_dir: str | os.PathLike = "results") -> Path:
    """``<results_dir>/<section>/<run_id>.safetensors``: the run's final weights, beside its record."""
    return Path(results_dir) / spec.section / f"{spec.run_id}.safetensors"


#: the ``safetensors`` header's metadata keys: the run's id, the tensors' SHA-256, the format's version
_W_RUN_ID, _W_SHA, _W_FORMAT = "run_id", "sha256", "format"
_WEIGHTS_FORMAT = "zmix-weights-1"


def weights_digest(tensors: dict[str, Any]) -> str:
    """SHA-256 over the tensors in name order: each one's name, dtype, shape and raw bytes (so a changed value,
    shape, dtype or name changes it; independent of the file layout)."""
    import torch  # deferred: the store's records need no torch

    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        h.update(f"{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def save_weights(spec: RunSpec, state_dict: dict[str, Any], results_dir: str | os.PathLike = "results") -> Path:
    """Write a model's ``state_dict`` atomically to :func:`weights_path` as ``safetensors`` (CPU, contiguous; the
    header holds the run id and :func:`weights_digest`); returns the path."""
    from safetensors.torch import save as st_save

    from zmixlib.core.util import atomic_write

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    meta = {_W_RUN_ID: spec.run_id, _W_SHA: weights_digest(tensors), _W_FORMAT: _WEIGHTS_FORMAT}
    blob = st_save(tensors, metadata=meta)
    return atomic_write(weights_path(spec, results_dir), lambda tmp: tmp.write_bytes(blob))


def _read_weights(path: Path, run_id: str) -> dict[str, Any]:
    """The tensors of a weights file of run ``run_id``; :class:`DamagedRecordError` naming the file and the fault."""
    from safetensors.torch import load as st_load

    raw = path.read_bytes()
    try:
        tensors = st_load(raw)
        header_len = int.from_bytes(raw[:8], "little")
        meta = json.loads(raw[8 : 8 + header_len].decode("utf-8")).get("__metadata__") or {}
    except Exception as err:  # safetensors raises its own error types (and Rust panics) on a damaged file
        raise DamagedRecordError(
            f"weights {path} are damaged: not a safetensors file ({err}; {len(raw)} bytes)"
        ) from None
    if meta.get(_W_RUN_ID) != run_id:
        raise DamagedRecordError(
            f"weights {path} are damaged: they belong to run {meta.get(_W_RUN_ID)!r}, not {run_id}"
        )
    stored = meta.get(_W_SHA)
    if stored is None or stored != weights_digest(tensors):
        raise DamagedRecordError(f"weights {path} are damaged: their tensors do not match their sha256 {stored}")
    return tensors


def load_weights(spec: RunSpec, results_dir: str | os.PathLike = "results") -> dict[str, Any] | None:
    """The run's stored final weights (a ``state_dict`` of CPU tensors), or ``None`` when it has none; a damaged
    file — not safetensors, another run's, or tensors that do not match their SHA-256 — is set aside
    (:func:`set_aside`, a warning naming it) and counts as missing."""
    path = weights_path(spec, results_dir)
    try:
        before = path.stat()
        return _read_weights(path, spec.run_id)
    except FileNotFoundError:
        return None
    except DamagedRecordError as err:
        _set_aside_if_unchanged(path, before, f"{err}; the run counts as not trained", kind="weights")
        return None


def require_weights(specs: Iterable[RunSpec], results_dir: str | os.PathLike = "results") -> list[RunSpec]:
    """Make the runs of ``specs`` that have a valid record but no valid weights count as not trained, so that the
    ordinary sweep trains them again: damaged weights are set aside (:func:`load_weights`), and the record of each
    such run is moved aside as ``<run_id>.json.no-weights-<UTC time>`` (kept, not deleted; printed). Returns those
    runs (a run without a record is left to the sweep as it is)."""
    out = []
    for spec in specs:
        if finished(spec, results_dir) is None or load_weights(spec, results_dir) is not None:
            continue
        moved = _move_aside(record_path(spec, results_dir), "no-weights")
        if moved is not None:
            print(f"run {spec.run_id} has a record but no stored weights: record moved to {moved.name}; retrained")
            out.append(spec)
    return out


def finished(spec: RunSpec, results_dir: str | os.PathLike = "results") -> RunRecord | None:
    """The run's valid record, or ``None`` when it has none; a damaged record is set aside (:func:`set_aside`,
    with a warning naming it) and the run counts as not trained."""
    return _checked(record_path(spec, results_dir))


def exists(spec: RunSpec, results_dir: str | os.PathLike = "results") -> bool:
    """Whether the run has a valid record on disk (a sweep skips such runs); see :func:`finished`."""
    return finished(spec, results_dir) is not None


def _record_files(results_dir: str | os.PathLike, section: str | None) -> list[Path]:
    root = Path(results_dir)
    if section is not None:
        root = root / section
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*.json") if "checkpoints" not in p.parts and not p.name.startswith("."))


def _iter_records(results_dir: str | os.PathLike, section: str | None, set_aside_paths: list[Path] | None = None):
    """Yield ``(path, record dict)`` for every valid run record. Files not named ``<run_id>.json`` and JSON
    without a ``spec`` (other modules' results, e.g. notebook 10's cells) are not records and are skipped; damaged
    records — unreadable JSON, or a spec that does not validate — are set aside (their new paths appended to
    ``set_aside_paths``)."""
    for path in _record_files(results_dir, section):
        if not _RUN_ID.match(path.stem):
            continue
        try:
            d, _ = _parse(path)
        except (OSError, _NotARecord):
            continue
        except DamagedRecordError as err:
            moved = set_aside(path, f"{err}; left out of the table", kind="run record")
            if moved is not None and set_aside_paths is not None:
                set_aside_paths.append(moved)
            continue
        yield path, d


def load(results_dir: str | os.PathLike = "results", *, section: str | None = None) -> pd.DataFrame:
    """Every valid record under ``results_dir`` (or one section) as a frame, one row per run.

    Columns: ``run_id``, the spec fields (``dataset``, ``method``, ``gamma``, ``seed``, ...; tuples
    kept as tuples), the final metrics (``test_acc``, ``test_err``, ...), ``epochs_done``,
    ``wall_time_s``, ``finished_at``, ``git_commit``, ``device_name``. Files that are not run records
    are skipped. Damaged records are set aside (:func:`set_aside`, a warning naming each) and left out;
    ``df.attrs["set_aside"]`` holds their new paths, so a page's summary line can say how many.
    """
    import pandas as pd  # deferred: pandas costs ~0.3 s to import and the engine never needs it

    rows, moved = [], []
    for path, d in _iter_records(results_dir, section, moved):
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
    df = pd.DataFrame(rows)
    df.attrs["set_aside"] = [str(p) for p in moved]
    if moved:
        print(
            f"{len(moved)} damaged run record(s) set aside under {results_dir} (kept as *.corrupt-*): "
            f"{', '.join(p.name for p in moved)}"
        )
    return df


def load_history(results_dir: str | os.PathLike = "results", *, section: str | None = None) -> pd.DataFrame:
    """Per-epoch history of every valid record: one row per (run, epoch), with the spec's main fields
    (damaged records set aside as in :func:`load`; ``attrs["set_aside"]`` likewise)."""
    import pandas as pd  # deferred: pandas costs ~0.3 s to import and the engine never needs it

    rows, moved = [], []
    keep = ("section", "dataset", "arch", "method", "gamma", "alpha", "seed")
    for path, d in _iter_records(results_dir, section, moved):
        spec = d["spec"]
        for h in d.get("history") or []:
            rows.append({"run_id": d.get("run_id", path.stem), **{k: spec.get(k) for k in keep}, **h})
    df = pd.DataFrame(rows)
    df.attrs["set_aside"] = [str(p) for p in moved]
    return df
