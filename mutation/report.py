"""Write mutation/REPORT.md from mutmut's results in mutants/: the kill rate per module, every survivor explained.

    .venv/bin/python mutation/report.py [--seconds N] [--command "make mutate"]   # from the project folder

The modules are ``[tool.mutmut] only_mutate`` in pyproject.toml (the one list). A module none of whose mutants
was checked is "not run this session", never passing. The kill rate counts killed and timed-out mutants (a
mutant that hangs the tests is detected) over those checked, less the ones named equivalent in
:data:`EQUIVALENT`; every other survivor is listed with its diff as "needs a test". The gate is
:data:`TARGET` per module, with every mutant checked. Exit status 1 when a module misses it.

A module this run did not check (``make mutate MUTANTS=…`` runs one) keeps its row and survivors from the report
it replaces, marked "carried" with the date of the run that checked it (``--fresh``: carry nothing); only a run of
the module here makes its row current.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "mutation" / "REPORT.md"
TARGET = 0.90

#: mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code, 3.8.1), folded to what the report counts.
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout"}
STATUS.update({-24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", 37: "killed", None: "not checked"})

_ONE_DEVICE = (
    "tells the generator's device from the inputs' (or the result's) only where they differ: no test can on a "
    "CPU-only machine; tests/test_mutants_zeta.py's CUDA tests kill it where a GPU is present"
)
_NUMPY_SORT = (
    "sends CPU noise to torch's argsort instead of NumPy's: a speed choice (notebook 09); on tie-free float64 noise "
    "both give the same order, which tests/test_boundaries.py checks branch against branch"
)
_SPEED_PATH = (
    "only moves the line between one matmul and the single-thread column blocks, two computations of the same "
    "product (tests/test_mixing_zeta.py checks the blocks against one matmul); the line is a speed choice (notebook 09)"
)
_SORT_NONE = "pandas tests `sort` for truth: sort=None keeps the groups in order of appearance, as sort=False does"
_NON_BLOCKING = "non_blocking lets a host-device copy overlap with compute; the values are the same on every device"

#: (function, the mutant's changed line, stripped) -> why no test can tell it from the original. Keyed by the
#: change, not by mutmut's number, which moves when the function is edited; the report prints each diff beside it.
EQUIVALENT: dict[tuple[str, str], str] = {
    ("zeta_mixup", "gdev = _gen_device(None, x.device)"): _ONE_DEVICE,
    ("zeta_mixup", "gdev = _gen_device(generator, None)"): _ONE_DEVICE,
    ("zeta_mixup", "w = _zeta_weights(batch, num_mix, g, generator, gdev, ys.dtype).to(None, non_blocking=True)"): (
        _ONE_DEVICE
    ),
    ("zeta_mixup", "w = _zeta_weights(batch, num_mix, g, generator, gdev, ys.dtype).to(non_blocking=True)"): (
        _ONE_DEVICE
    ),
    ("zeta_mixup", "w = _zeta_weights(batch, num_mix, g, generator, gdev, ys.dtype).to(x.device, )"): _NON_BLOCKING,
    (
        "zeta_mixup",
        "w = _zeta_weights(batch, num_mix, g, generator, gdev, ys.dtype).to(x.device, non_blocking=False)",
    ): (_NON_BLOCKING),
    ("zeta_weights", "gdev = _gen_device(None, device)"): _ONE_DEVICE,
    ("zeta_weights", "gdev = _gen_device(generator, None)"): _ONE_DEVICE,
    (
        "_label_dtype",
        "dt = torch.promote_types(x.dtype, torch.float32) if (x.is_floating_point()) or True else torch.float32",
    ): ("x is floating-point here: _check_x has refused every other dtype"),
    ("_prepare", "ys = soft_labels(y, batch_size=batch, num_classes=num_classes, dtype=_label_dtype(x, y), )"): (
        "check=None is soft_labels' default: the same call"
    ),
    (
        "_prepare",
        "ys = soft_labels(y, batch_size=batch, num_classes=num_classes, dtype=_label_dtype(x, y), check=None)",
    ): (
        "check only decides whether the label values are validated (a device sync); on the CPU they always are, and "
        "valid labels give the same result"
    ),
    ("soft_labels", 'check = y.device.type == "cpu" or not torch.compiler.is_compiling()'): (
        "the same on the CPU outside torch.compile, the only place it can be run here (it decides a GPU sync)"
    ),
    ("_prepare", "return batch, ys.to(None)"): _ONE_DEVICE,
    ("apply_weights", "w = weights.to(device=None)"): _ONE_DEVICE,
    (
        "_as_rows",
        "inv = [1] * x.ndim",
    ): "every entry of inv is assigned by the loop below (perm covers every dimension)",
    ("_pairwise_mix", "shape_x = (-1,) + (1,) * (x.ndim - 1) if (lam.ndim) or True else ()"): (
        "a scalar λ reshaped to (1, 1, …) broadcasts exactly as the scalar does"
    ),
    ("_pairwise_mix", "shape_y = (-1, 1) if (lam.ndim) or True else ()"): (
        "a scalar λ reshaped to (1, 1) broadcasts exactly as the scalar does"
    ),
    ("_mix_rows", "cols = max(257, _CPU_BLOCK_BYTES // (batch * rows.element_size()))"): _SPEED_PATH,
    ("_mix_rows", "or width < 2 * cols and torch.get_num_threads() != 1"): _SPEED_PATH,
    ("_mix_rows", "or rows.dtype not in (torch.float32, torch.float64) and width < 2 * cols"): _SPEED_PATH,
    ("_mix_rows", 'rows.device.type != "cpu" and rows.dtype not in (torch.float32, torch.float64)'): _SPEED_PATH,
    ("_mix_rows", 'rows.device.type == "cpu"'): _SPEED_PATH,
    ("_mix_rows", 'rows.device.type != "XXcpuXX"'): _SPEED_PATH,
    ("_mix_rows", 'rows.device.type != "CPU"'): _SPEED_PATH,
    ("_mix_rows", "or rows.dtype in (torch.float32, torch.float64)"): _SPEED_PATH,
    ("_mix_rows", "or width <= 2 * cols"): _SPEED_PATH,
    ("_mix_rows", "or width < 2 / cols"): _SPEED_PATH,
    ("_mix_rows", "or width < 3 * cols"): _SPEED_PATH,
    ("_mix_rows", "or torch.get_num_threads() == 1"): _SPEED_PATH,
    ("_mix_rows", "or torch.get_num_threads() != 2"): _SPEED_PATH,
    ("_mix_rows", "or (torch.is_grad_enabled() or (w.requires_grad or rows.requires_grad))"): _SPEED_PATH,
    ("_mix_rows", "if main <= width:"): "with main == width the remainder is empty: an empty product adds nothing",
    ("_zeta_weights", "noise.diagonal().fill_(-2.0)  # rand ∈ [0, 1): the diagonal sorts first → rank 1"): (
        "any value below 0 sorts the diagonal first: the noise is uniform on [0, 1)"
    ),
    ("_zeta_weights", 'if noise.device.type == "XXcpuXX":'): _NUMPY_SORT,
    ("_zeta_weights", 'if noise.device.type == "CPU":'): _NUMPY_SORT,
    ("_zeta_weights", "order = torch.from_numpy(np.argsort(to_numpy(noise), )[:, :num_mix])"): (
        "NumPy's argsort sorts along the last axis by default: axis=1 of a (B, B) array"
    ),
    # zmixlib/protocol/regime.py (issue 26, this session's run)
    ("_first_at", 'reached = h.loc[h["train_acc"].astype(None) >= threshold, "epoch"]'): (
        "pandas reads astype(None) as float64, as astype(float) (tests/test_regime.py feeds it text accuracies)"
    ),
    ("_first_at", "return float(reached.min()) if (len(reached)) or True else math.nan"): (
        "the minimum of an empty Series is NaN: the value the guard returns"
    ),
    ("check", 'for (dataset, arch), g in h.groupby(["dataset", "arch"], sort=None):'): _SORT_NONE,
    ("check", 'per_run = [(seed, r.sort_values("epoch")) for (seed, _), r in g.groupby(["seed", "run_id"], )]'): (
        "groupby sorts by default: sort=True is pandas' default"
    ),
    ("xǁRegimeCheckǁ_repr_html_", 'return head + (self.table.to_html(index=None) if len(self.table) else "")'): (
        "pandas tests `index` for truth: None leaves the index out as False does"
    ),
}


def modules() -> list[str]:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    return list(cfg["only_mutate"])


def results(module: str) -> dict[str, str]:
    """mutant name -> status, from ``mutants/<module>.meta`` (empty when mutmut never generated the module)."""
    meta = ROOT / "mutants" / f"{module}.meta"
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return {name: STATUS.get(code, "suspicious") for name, code in codes.items()}


def diff(name: str) -> str:
    """The mutant's diff, as ``mutmut show`` prints it (without its header line)."""
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mutmut"), "show", name], cwd=ROOT, capture_output=True, text=True, check=False
    )
    lines = out.stdout.splitlines()
    return "\n".join(line for line in lines[1:] if not line.startswith(("---", "+++"))) or out.stderr.strip()


def changed_lines(text: str) -> list[str]:
    """The ``+`` lines of a mutant's diff, stripped."""
    return [line[1:].strip() for line in text.splitlines() if line.startswith("+") and not line.startswith("+++")]


def equivalence(name: str, text: str) -> str | None:
    """Why the mutant ``name`` with diff ``text`` is equivalent (:data:`EQUIVALENT`), or None."""
    function = name.rpartition("__mutmut_")[0].rpartition(".")[2].removeprefix("x_")
    for line in changed_lines(text):
        why = EQUIVALENT.get((function, line))
        if why:
            return why
    return None


def summarize(status: dict[str, str], diffs: dict[str, str]) -> dict[str, object]:
    n = Counter(status.values())
    equivalent = sorted(k for k, v in status.items() if v == "survived" and equivalence(k, diffs.get(k, "")))
    detected = n["killed"] + n["timeout"]
    checked = len(status) - n["not checked"] - n["skipped"]
    denominator = checked - len(equivalent)
    rate = detected / denominator if denominator else None
    if not status or checked == 0:
        verdict = "not run this session"
    elif n["not checked"]:
        verdict = f"partial: {n['not checked']} of {len(status)} not checked"
    elif rate is not None and rate >= TARGET:
        verdict = "passes"
    else:
        verdict = "FAILS"
    return {"n": n, "total": len(status), "equivalent": equivalent, "rate": rate, "verdict": verdict}


def earlier(path: Path) -> tuple[str, dict[str, list[str]], dict[str, list[str]]]:
    """From an earlier report at ``path``: when it was written, each module's table row where that run checked it
    (not "not run this session"), and each module's survivors' lines (its ``### `module``` section)."""
    if not path.exists():
        return "", {}, {}
    text = path.read_text(encoding="utf-8")
    when = re.search(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC", text)
    rows, sections, current = {}, {}, None
    head, _, tail = text.partition("\n## Survivors\n")
    for line in head.splitlines():
        m = re.match(r"\| `([^`]+)` \|", line)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if m and len(cells) == 10 and cells[1] != "—" and "not run this session" not in cells[-1]:
            rows[m.group(1)] = cells
    for line in tail.splitlines():
        m = re.match(r"### `([^`]+)`$", line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    for v in sections.values():
        while v and not v[-1].strip():
            v.pop()
        while v and not v[0].strip():
            v.pop(0)
    return (when.group(1) if when else "an unknown date"), rows, sections


def render(seconds: float | None, command: str, note: str = "", keep: Path | None = None) -> tuple[str, bool]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = [
        "# Mutation gate",
        "",
        f"Written by `mutation/report.py` after `{command}`: mutmut {_mutmut_version()}, one worker, on "
        f"a {os.cpu_count()}-CPU machine, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        + (
            f"commit {commit.stdout.strip()}{' with uncommitted changes' if dirty else ''}"
            if commit.stdout.strip()
            else "a copy outside git"
        )
        + (f"; the run took {seconds / 60:.1f} min." if seconds is not None else "."),
        "",
        "Each module's mutants run against the fast tests (`-m 'not slow'`) of the files in `[tool.mutmut]"
        " pytest_add_cli_args_test_selection`; mutmut runs, per mutant, only the tests that call the mutated function."
        " Kill rate = (killed + timed out) / (checked − equivalent); in brackets, over all checked. Target: "
        f"≥ {TARGET:.0%} per module with every mutant checked.",
        *(["", note] if note else []),
        "",
        "| module | mutants | killed | timed out | survived | of which equivalent | no tests | not checked "
        "| kill rate | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    ok = True
    survivors: list[str] = []
    when, rows, sections = earlier(keep) if keep is not None else ("", {}, {})
    for module in modules():
        status = results(module)
        if module in rows and not any(v not in ("not checked", "skipped") for v in status.values()):
            # not run now, checked by an earlier run: its row and survivors, carried and dated (the module may
            # have changed since; only a run of it here makes the row current)
            cells = list(rows[module])
            verdict, _, carried = cells[-1].partition(" (carried: the run of ")
            cells[-1] = f"{verdict} (carried: the run of {carried.rstrip(')') or when})"  # a carried row keeps its date
            lines.append("| " + " | ".join(cells) + " |")
            ok &= verdict == "passes"
            if sections.get(module):
                survivors += ["", f"### `{module}`", "", *sections[module]]
            continue
        left = sorted((k for k, v in status.items() if v in ("survived", "no tests", "suspicious")), key=_order)
        diffs = {name: diff(name) for name in left}
        s = summarize(status, diffs)
        n = s["n"]
        checked = s["total"] - n["not checked"] - n["skipped"]
        raw = f" ({(n['killed'] + n['timeout']) / checked:.1%} of all)" if checked else ""
        rate = "—" if s["rate"] is None else f"{s['rate']:.1%}{raw}"
        if not status:
            lines.append(f"| `{module}` | — | | | | | | | — | {s['verdict']} |")
            ok = False
            continue
        lines.append(
            f"| `{module}` | {s['total']} | {n['killed']} | {n['timeout']} | {n['survived']} | {len(s['equivalent'])} "
            f"| {n['no tests']} | {n['not checked']} | {rate} | {s['verdict']} |"
        )
        ok &= s["verdict"] == "passes"
        if left:
            survivors += ["", f"### `{module}`", ""]
            for name in left:
                why = equivalence(name, diffs[name]) if status[name] == "survived" else None
                head = f"equivalent — {why}" if why else f"**{status[name]}: needs a test**"
                survivors += [f"- `{name}`: {head}", "", "  ```diff", *("  " + x for x in diffs[name].splitlines())]
                survivors += ["  ```"]
    lines += ["", "## Survivors", *(survivors or ["", "None."])]
    return "\n".join(lines) + "\n", ok


def _order(name: str) -> tuple[str, int]:
    base, _, number = name.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def _mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=None, help="wall time of the mutmut run, for the report")
    ap.add_argument("--command", default="make mutate", help="the command that produced mutants/")
    ap.add_argument("--out", type=Path, default=REPORT)
    ap.add_argument("--note", default="", help="a paragraph about this run (what was left out, and why)")
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="do not carry the rows of modules this run did not check from the earlier report at --out",
    )
    args = ap.parse_args(argv)
    from zmixlib.core.util import atomic_write_text

    text, ok = render(args.seconds, args.command, args.note, keep=None if args.fresh else args.out)
    atomic_write_text(args.out, text)
    print(f"wrote {args.out}: " + ("every module passes" if ok else "a module is below the target or not run"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
