"""Evidence on disk: one JSON per chapter under ``<results_dir>/<profile>/ledger/<chapter>.json``, written
atomically and stamped with the build (``ZMIX_BUILD_ID``)."""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zmixlib.core.checks import check_choice
from zmixlib.core.util import ROOT, atomic_write_text

from .claims import _BY_ID, DATA_KINDS, RETIRED


def build_id() -> str | None:
    """The id of the book build this process belongs to (``ZMIX_BUILD_ID``; ``None`` outside a build)."""
    return os.environ.get("ZMIX_BUILD_ID") or None


def _path(results_dir: str | os.PathLike | None, profile: str, chapter: str) -> Path:
    return Path(ROOT / "results" if results_dir is None else results_dir) / profile / "ledger" / f"{chapter}.json"


_NEEDED = {
    "value": (("ours_value", "paper_value"),),
    "cells": (("cells",), ("diffs",)),
    "compare": (("comparisons",), ("diffs",)),
    "noninferior": (("comparisons",), ("diffs",)),
    "ratio": (("ratios",),),
    "holds": (("checks",),),
}


def record(
    claim_id: str,
    *,
    results_dir: str | os.PathLike | None = None,
    profile: str,
    data: str,
    ours: str,
    data_kind: str | None = None,
    regime_passed: bool | None = None,
    regime: str | None = None,
    **values: Any,
) -> dict[str, Any] | None:
    """Record this run's evidence for one claim (merged into its chapter's ledger file, atomically).

    Args:
        claim_id: a :data:`CLAIMS` id (a :data:`RETIRED` one is accepted and ignored: returns ``None``).
        results_dir: the results folder (``None``: the project's ``results/``).
        profile: the profile the evidence was measured under.
        data: what it ran on, e.g. ``"Fashion-MNIST (LeNet-5, 3 seeds, cpu)"``.
        ours: our side in words and numbers, as the ledger prints it.
        data_kind: ``"paper"`` (the paper's dataset) or ``"stand-in"``; default: the claim's own
            (:attr:`Claim.data_kind`), else ``"paper"`` under the ``paper`` profile and ``"stand-in"`` otherwise.
        regime_passed, regime: the chapter's regime check (``RegimeCheck.as_evidence()``); ``False`` makes
            the claim *not testable*, with ``regime`` as the reason.
        **values: what the rule reads (oriented: negative = the paper's direction) — ``cells``: ``cells``
            (``[{"label", "diffs"}]``) or ``diffs`` (one cell each); ``compare`` / ``noninferior``:
            ``comparisons`` (``[{"label", "diffs"}]``) or ``diffs`` (one comparison); ``ratio``: ``ratios``
            (``[{"key", "label", "value"}]``, optional ``lo``/``hi``); ``value``: ``ours_value``, ``paper_value``
            (``tol`` optional, default the claim's); ``holds``: ``checks`` (booleans; optional ``check_names``).

    Returns:
        the stored entry.
    """
    if claim_id in RETIRED:
        return None
    check_choice("claim_id", claim_id, _BY_ID)
    claim = _BY_ID[claim_id]
    if not any(all(k in values for k in opt) for opt in _NEEDED[claim.kind]):
        want = " or ".join(str(list(o)) for o in _NEEDED[claim.kind])
        raise ValueError(f"claim {claim_id!r} ({claim.kind}) needs {want}; got {sorted(values)}")
    kind = data_kind or claim.data_kind or ("paper" if profile == "paper" else "stand-in")
    check_choice("data_kind", kind, DATA_KINDS)
    if regime_passed is not None and not isinstance(regime_passed, (bool, np.bool_)):
        raise TypeError(f"regime_passed must be a bool or None, got {regime_passed!r}")
    entry = {
        "claim": claim_id,
        "profile": profile,
        "data": data,
        "data_kind": kind,
        "ours": ours,
        "regime_passed": None if regime_passed is None else bool(regime_passed),
        "regime": regime,
        "build": build_id(),
        "recorded_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **{k: _plain(v) for k, v in values.items()},
    }
    path = _path(results_dir, profile, claim.chapter)
    stored = json.loads(path.read_text()) if path.is_file() else {}
    stored[claim_id] = entry
    atomic_write_text(path, json.dumps(stored, indent=1, allow_nan=True) + "\n")
    return entry


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray, pd.Series)):
        return [_plain(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    return v


def evidence(results_dir: str | os.PathLike | None, profile: str) -> dict[str, dict[str, Any]]:
    """Every recorded entry of ``profile`` (claim id -> entry)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(_path(results_dir, profile, "x").parent.glob("*.json")):
        out.update(json.loads(path.read_text()))
    return out


def _costs_path(results_dir: str | os.PathLike | None, profile: str) -> Path:
    return _path(results_dir, profile, "x").parent / "costs" / "09_timing.json"


def record_paper_costs(
    results_dir: str | os.PathLike | None, profile: str, costs: dict[str, dict[str, Any]], *, device: str
) -> Path:
    """Store chapter 09's projection of the paper profile's runs on this device, per recipe section:
    ``{section: {"h_per_run", "runs_per_seed"}}`` (hours of one paper-profile run at the measured throughput, and
    the paper matrix's runs per seed), with the ``device`` it was measured on and the build. Written atomically
    beside the evidence (``ledger/costs/``, which :func:`evidence` does not read). Returns the path."""
    path = _costs_path(results_dir, profile)
    body = {"device": device, "build": build_id(), "sections": _plain(costs)}
    atomic_write_text(path, json.dumps(body, indent=1, allow_nan=True) + "\n")
    return path


def paper_costs(results_dir: str | os.PathLike | None, profile: str) -> dict[str, Any]:
    """What :func:`record_paper_costs` stored for ``profile`` (``{}`` where chapter 09 has not run)."""
    path = _costs_path(results_dir, profile)
    return json.loads(path.read_text()) if path.is_file() else {}
