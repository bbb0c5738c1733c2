"""The build report page: every executed notebook with its profile, device, wall time and commit, and how the
run records the pages read were produced (executor, SLURM job ids, node, device)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import yaml

from zmixlib.core.util import ROOT, atomic_write_text

__all__ = ["write_report", "produced_table"]


def write_report(notebooks: Path, profile: str, page: Path) -> Path:
    """Write the build report ``page`` (Markdown): every notebook executed into ``notebooks`` (read from its
    ``.params.yaml``) with its profile, device, wall time and commit, then :func:`produced_table` of the run
    records the pages read under ``profile``. Returns ``page``."""
    import torch

    rows = []
    for meta_path in sorted(notebooks.glob("*.params.yaml")):
        m = yaml.safe_load(meta_path.read_text())
        p = m["parameters"]
        rows.append(
            f"| {m['notebook']} | {p.get('profile')} | {p.get('device')} → {m.get('resolved_device', '?')} "
            f"| {m['wall_time_s']:.1f} | {m['finished']} | `{_short(m.get('git_commit'), m.get('git_dirty'))}` |"
        )
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    folders = []  # the run records these pages read: results_dir (default the project's results/) by profile
    for meta_path in sorted(notebooks.glob("*.params.yaml")):
        p = yaml.safe_load(meta_path.read_text())["parameters"]
        base = Path(p.get("results_dir") or ROOT / "results")
        folders.append(base if profile == "paper" else base / profile)
    produced = produced_table(list(dict.fromkeys(folders)))
    text = "\n".join(
        [
            "# Build report",
            "",
            "Every page of this book was executed by `python -m zmixlib book` (papermill); this table says",
            "under which profile, on which device and how long each took. Parameters of each run are in",
            f"`build/{profile}/notebooks/<name>.params.yaml`.",
            "",
            f"Machine: {platform.platform()}, Python {platform.python_version()}, torch {torch.__version__},",
            f"{os.cpu_count()} CPU cores, GPU: {gpu}.",
            "",
            "| notebook | profile | device | wall time (s) | finished | commit |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            *produced,
        ]
    )
    return atomic_write_text(page, text)


def _job_ids(ids: list[str]) -> str:
    """``12_0 … 12_5`` as ``12 (tasks 0-5)``; plain job ids as they are."""
    arrays: dict[str, list[int]] = {}
    plain = []
    for jid in dict.fromkeys(ids):
        head, sep, task = jid.partition("_")
        if sep and task.isdigit():
            arrays.setdefault(head, []).append(int(task))
        else:
            plain.append(jid)
    out = []
    for head, tasks in arrays.items():
        tasks.sort()
        spans, start = [], tasks[0]
        for a, b in zip(tasks, [*tasks[1:], None]):
            if b != a + 1:
                spans.append(f"{start}" if start == a else f"{start}-{a}")
                start = b
        out.append(f"{head} (task{'s' if len(tasks) > 1 else ''} {','.join(spans)})")
    return ", ".join([*out, *plain])


def produced_table(folders: list[Path]) -> list[str]:
    """Markdown lines: how the run records under ``folders`` (``<folder>/<section>/<run id>.json``) were produced —
    per section, executor, node and device: how many records and the job ids (SLURM arrays as ``array (tasks a-b)``).
    Records written before runs said how they were produced count as ``not recorded``."""
    groups: dict[tuple, list] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for section in sorted(
            p for p in folder.iterdir() if p.is_dir() and p.name not in ("submitit", "smoke", "offline")
        ):
            for path in sorted(section.glob("*.json")):
                try:
                    d = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                if not isinstance(d, dict) or not isinstance(d.get("spec"), dict):
                    continue  # not a run record (the ledger's evidence, ...)
                env = d.get("environment") or {}
                node = env.get("node") or env.get("hostname") or "?"
                key = (section.name, env.get("executor") or "not recorded", node, env.get("device") or "?")
                groups.setdefault(key, []).append(env.get("job_id"))
    if not groups:
        return []
    where = ", ".join(f"`{_relative(f)}`" for f in folders)
    lines = [
        "## How the runs were produced",
        "",
        f"The run records in the folder(s) the pages read ({where}), by section: the executor that trained them (`inline`, `process`,",
        "`local`, `slurm`: `make paper EXECUTOR=slurm`), the SLURM job ids, the node and the device.",
        "",
        "| section | records | executor | job ids | node | device |",
        "|---|---|---|---|---|---|",
    ]
    for (section, executor, node, device), ids in sorted(groups.items()):
        jobs = _job_ids([i for i in ids if i]) or "—"
        lines.append(f"| {section} | {len(ids)} | {executor} | {jobs} | {node} | {device} |")
    return [*lines, ""]


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _short(commit: str | None, dirty: bool | None = None) -> str:
    """``abcdef1234`` or ``abcdef1234+dirty`` (uncommitted changes when the notebook ran)."""
    if not commit:
        return "n/a"
    sha, _, legacy = commit.partition("+")  # records written before git_dirty had "sha+dirty"
    return sha[:10] + ("+dirty" if dirty or legacy else "")
