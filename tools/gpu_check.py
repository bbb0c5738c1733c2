"""``make gpu-check``: what only a CUDA machine can check, in one command of at most ~10 minutes, into one report.

Stages, each in its own process with its own time limit (and the whole under ``--budget`` seconds); a stage that
fails or runs out of time is recorded and the next one runs:

1. ``cuda-tests`` — the test suite's CUDA tests: every test whose id names CUDA or whose ``skipif`` reason does
   (``mixing_fixtures.CUDA``, ``@pytest.mark.skipif(not torch.cuda.is_available(), ...)``), nothing else;
2. ``autocast`` — ζ-mixup, mixup and CutMix on a CUDA batch inside ``torch.autocast("cuda", bf16 / fp16)``:
   the labels must come out float32 with rows summing to 1 within 1e-6, and equal the labels of the same draw
   outside autocast;
3. ``compile`` — the same three under ``torch.compile(fullgraph=True)`` (graph breaks counted by
   ``torch._dynamo.explain``), compared with eager on the same draw (``fallback_random``: eager's RNG);
4. ``epoch`` — one epoch of the paper's Fashion-MNIST recipe (ResNet-18, batch 32, ζ-mixup γ = 2.8) on the real
   Fashion-MNIST with AMP and channels_last, through ``python -m zmixlib train`` (skipped, saying why, when the
   data is not under ``--data-root``);
5. ``throughput`` — ``python -m zmixlib bench --what throughput`` (training images/s per data path × eager /
   compiled × runs per device).

Writes ``report.json`` and ``report.md`` (device, commit, each stage's status, time and findings) and each stage's
log under ``--out`` (default ``build/gpu-check/``); exit status 1 when a stage failed or timed out. Without CUDA
it prints one line saying so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # zmixlib from this checkout, installed or not (a lent GPU machine's own python)
    sys.path.insert(0, str(ROOT))
#: (stage, time limit in seconds): the limits sum to 600 s, and --budget caps the whole
STAGES: list[tuple[str, int]] = [
    ("cuda-tests", 120),
    ("autocast", 45),
    ("compile", 120),
    ("epoch", 135),
    ("throughput", 180),
]
#: where the mixer stages run (``--device``, hidden: ``cpu`` only to rehearse the stages' code without a GPU)
DEVICE = "cuda"
#: row sums of mixed labels: within this of 1 (float32 labels)
ROW_SUM_TOL = 1e-6


# ----------------------------------------------------------------------------------------------------- stages


def stage_cuda_tests(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import pytest

    class CudaOnly:
        def __init__(self):
            self.outcomes: dict[str, str] = {}
            self.not_collected: list[str] = []

        def pytest_collectreport(self, report):
            if report.failed:  # a module that does not import here (a package of the extras missing, say)
                self.not_collected.append(f"{report.nodeid}: {str(report.longrepr).strip().splitlines()[-1][:200]}")

        def pytest_collection_modifyitems(self, config, items):
            keep = [i for i in items if _needs_cuda(i)]
            config.hook.pytest_deselected(items=[i for i in items if not _needs_cuda(i)])
            items[:] = keep

        def pytest_runtest_logreport(self, report):
            if report.when == "call" or report.outcome != "passed":
                self.outcomes[report.nodeid] = report.outcome

    # only the modules that mention CUDA are imported; the project's addopts (nbval's options) are left out
    files = sorted(
        str(f.relative_to(ROOT)) for f in (ROOT / "tests").glob("test_*.py") if "cuda" in f.read_text().lower()
    )
    plugin = CudaOnly()
    argv = [*files, "-q", "-rs", "-p", "no:cacheprovider", "-o", "addopts=", "-m", "not slurm"]
    code = pytest.main(
        [*argv, "--continue-on-collection-errors", "--junitxml", str(out / "cuda-tests.xml")], plugins=[plugin]
    )
    counts = {k: sum(v == k for v in plugin.outcomes.values()) for k in ("passed", "failed", "skipped")}
    failed = sorted(n for n, v in plugin.outcomes.items() if v == "failed")
    ok = not failed and not plugin.not_collected and counts["passed"] > 0
    summary = (
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped in {len(files)} modules"
    )
    if plugin.not_collected:
        summary += f"; {len(plugin.not_collected)} module(s) not collected: {'; '.join(plugin.not_collected)}"
    return {
        "status": "passed" if ok else "failed",
        "summary": f"{summary} (pytest exit {int(code)})",
        **counts,
        "failed_tests": failed,
        "modules": files,
    }


def _needs_cuda(item: Any) -> bool:
    if "cuda" in item.nodeid.lower():
        return True
    return any("cuda" in str(m.kwargs.get("reason", "")).lower() for m in item.iter_markers("skipif"))


def _mixers():
    from zmixlib import mixing as M

    return {
        "zeta_mixup": lambda x, y, g=None: M.zeta_mixup(x, y, num_classes=10, gamma=2.8, generator=g),
        "mixup": lambda x, y, g=None: M.mixup(x, y, num_classes=10, alpha=1.0, generator=g),
        "cutmix": lambda x, y, g=None: M.cutmix(x, y, num_classes=10, alpha=1.0, generator=g),
    }


def _sync() -> None:
    import torch

    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _batch(seed: int = 0):
    import torch

    gen = torch.Generator(device=DEVICE).manual_seed(seed)
    x = torch.randn(64, 3, 32, 32, device=DEVICE, generator=gen).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (64,), device=DEVICE, generator=gen)
    return x, y


def stage_autocast(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    x, y = _batch()
    rows, problems = [], []
    for name, fn in _mixers().items():
        ref_x, ref_y = fn(x, y, torch.Generator(device=DEVICE).manual_seed(1))
        for dtype in (torch.bfloat16, torch.float16):
            row: dict[str, Any] = {"method": name, "autocast": str(dtype).removeprefix("torch.")}
            try:
                with torch.autocast(DEVICE, dtype=dtype):
                    xm, ym = fn(x, y, torch.Generator(device=DEVICE).manual_seed(1))
                _sync()
                row.update(
                    x_dtype=str(xm.dtype).removeprefix("torch."),
                    label_dtype=str(ym.dtype).removeprefix("torch."),
                    row_sum_error=float((ym.double().sum(1) - 1).abs().max()),
                    label_diff_vs_fp32=float((ym.float() - ref_y.float()).abs().max()),
                    x_rel_diff_vs_fp32=float((xm.float() - ref_x).abs().max() / ref_x.abs().max()),
                    channels_last=xm.is_contiguous(memory_format=torch.channels_last),
                )
                row["ok"] = (
                    ym.dtype == torch.float32
                    and row["row_sum_error"] <= ROW_SUM_TOL
                    and row["label_diff_vs_fp32"] <= ROW_SUM_TOL
                )
            except Exception as err:  # recorded, and the next case runs
                row.update(ok=False, error=f"{type(err).__name__}: {err}"[:300])
            rows.append(row)
            if not row["ok"]:
                problems.append(f"{name} under {row['autocast']}: {row.get('error') or row}")
    n_ok = sum(r["ok"] for r in rows)
    summary = f"{n_ok}/{len(rows)} cases give float32 labels with row sums within {ROW_SUM_TOL:g}, equal to fp32's"
    return {"status": "passed" if not problems else "failed", "summary": summary, "rows": rows}


def stage_compile(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import torch
    import torch._dynamo
    import torch._inductor.config

    torch._inductor.config.fallback_random = True  # compiled draws use eager's RNG: outputs comparable
    x, y = _batch()
    rows = []
    for name, fn in _mixers().items():
        row: dict[str, Any] = {"method": name}
        call = lambda x, y, fn=fn: fn(x, y)  # the global CUDA generator (a training loop's usual call)
        try:
            explanation = torch._dynamo.explain(call)(x, y)
            row["graph_breaks"] = explanation.graph_break_count
            row["break_reasons"] = [str(r.reason)[:160] for r in explanation.break_reasons[:3]]
        except Exception as err:
            row["graph_breaks"], row["explain_error"] = None, f"{type(err).__name__}: {err}"[:300]
        torch._dynamo.reset()
        try:
            compiled = torch.compile(call, fullgraph=True)
            t0 = time.perf_counter()
            torch.manual_seed(7)
            cx, cy = compiled(x, y)
            _sync()
            row["first_call_s"] = round(time.perf_counter() - t0, 2)
            torch.manual_seed(7)
            ex, ey = call(x, y)
            row["x_max_diff"] = float((cx.float() - ex.float()).abs().max())
            row["label_max_diff"] = float((cy - ey).abs().max())
            row["label_dtype"] = str(cy.dtype).removeprefix("torch.")
            row["row_sum_error"] = float((cy.double().sum(1) - 1).abs().max())
            # the verdict: it compiles whole and its labels are right; equality with eager is shown, not required
            # (inductor's kernels may round x differently, and its RNG order is eager's only with fallback_random)
            row["ok"] = cy.dtype == torch.float32 and row["row_sum_error"] <= ROW_SUM_TOL
        except Exception as err:
            row.update(ok=False, error=f"{type(err).__name__}: {err}"[:400])
        torch._dynamo.reset()
        rows.append(row)
    n_ok = sum(r["ok"] for r in rows)
    breaks = {r["method"]: r.get("graph_breaks") for r in rows}
    summary = f"{n_ok}/{len(rows)} compile with fullgraph=True, float32 labels summing to 1; graph breaks {breaks}"
    return {"status": "passed" if n_ok == len(rows) else "failed", "summary": summary, "rows": rows}


def _fashion_mnist(data_root: str) -> str | None:
    """None when the real Fashion-MNIST loads from ``data_root``, else why not."""
    from zmixlib import data

    try:
        n = len(data.load("Fashion-MNIST", "train", root=data_root))
    except (FileNotFoundError, ValueError) as err:
        return f"Fashion-MNIST not under {data_root} ({type(err).__name__}: {str(err)[:200]}); `make data` fetches it"
    return None if n == 60_000 else f"Fashion-MNIST under {data_root} has {n} training images, not 60000"


def stage_epoch(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    from zmixlib import cli

    missing = _fashion_mnist(args.data_root)
    if missing:
        return {"status": "skipped", "summary": missing}
    results = out / "train"
    argv = ["--dataset", "Fashion-MNIST", "--profile", "paper", "--method", "zeta_mixup", "--epochs", "1"]
    argv += ["--device", "cuda", "--data-root", args.data_root, "--results-dir", str(results), "--section", "gpu-check"]
    code = cli.train_main([*argv, "--force", "--no-progress"])
    records = sorted((results / "gpu-check").glob("*.json"))
    if code != 0 or not records:
        return {"status": "failed", "summary": f"python -m zmixlib train exited {code}; records: {len(records)}"}
    rec = json.loads(records[-1].read_text())
    spec, last = rec["spec"], rec["history"][-1]
    images = 60_000 // spec["batch_size"] * spec["batch_size"]
    row = {
        "arch": spec["arch"],
        "batch_size": spec["batch_size"],
        "amp": spec["amp"],
        "channels_last": spec["channels_last"],
        "train_time_s": round(last["train_time_s"], 2),
        "train_images_per_s": round(images / last["train_time_s"], 1),
        "epoch_time_s": round(last.get("epoch_time_s", float("nan")), 2),
        "wall_time_s": round(rec["wall_time_s"], 2),
        "train_acc": last.get("train_acc"),
        "test_acc": last.get("test_acc"),
        "record": str(records[-1].relative_to(out)),
    }
    ok = rec["complete"] and spec["amp"] is not False and spec["channels_last"]
    summary = (
        f"{spec['arch']} on Fashion-MNIST (60000 images), batch {spec['batch_size']}, AMP, channels_last: epoch "
        f"{row['train_time_s']} s of training ({row['train_images_per_s']} images/s), test accuracy {row['test_acc']}"
    )
    return {"status": "passed" if ok else "failed", "summary": summary, "rows": [row]}


def stage_throughput(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    from zmixlib import cli

    bench = out / "throughput"
    data_note = _fashion_mnist(args.data_root) or "the real Fashion-MNIST"
    argv = ["--what", "throughput", "--device", "cuda", "--out", str(bench), "--data-root", args.data_root]
    argv += ["--throughput-runs-per-device", "1,4", "--throughput-rounds", "2"]
    code = cli.bench_main(argv)
    table = bench / "throughput.csv"
    if code != 0 or not table.exists():
        return {"status": "failed", "summary": f"python -m zmixlib bench exited {code}"}
    frame = pd.read_csv(table)
    cols = [
        c
        for c in ("path", "compiled", "runs_per_device", "images_per_s", "ratio_to_baseline", "execution")
        if c in frame
    ]
    rows = json.loads(frame[cols].to_json(orient="records"))
    best = frame.loc[frame["images_per_s"].idxmax()] if "images_per_s" in frame and len(frame) else None
    summary = f"{len(frame)} cells on {data_note}"
    if best is not None:
        summary += f"; best {best['images_per_s']:.0f} images/s ({', '.join(f'{c}={best[c]}' for c in cols[:3])})"
    return {"status": "passed", "summary": summary, "rows": rows}


STAGE_FUNCTIONS = {
    "cuda-tests": stage_cuda_tests,
    "autocast": stage_autocast,
    "compile": stage_compile,
    "epoch": stage_epoch,
    "throughput": stage_throughput,
}


# ----------------------------------------------------------------------------------------------------- driver


def device_info() -> dict[str, Any]:
    import torch

    props = torch.cuda.get_device_properties(0)
    info = {
        "gpu": torch.cuda.get_device_name(0),
        "gpu_count": torch.cuda.device_count(),
        "capability": ".".join(map(str, torch.cuda.get_device_capability(0))),
        "memory_gib": round(props.total_memory / 2**30, 1),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "bf16_supported": torch.cuda.is_bf16_supported(),
        "cpu_cores": os.cpu_count(),
    }
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True
        )
        info["driver"] = smi.stdout.strip().splitlines()[0] if smi.returncode == 0 and smi.stdout.strip() else None
    except OSError:
        info["driver"] = None
    return info


def run_stage(name: str, limit: float, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one stage in a child process (its own session: a timeout kills its workers too); return its result."""
    result_path, log_path = out / f"{name}.json", out / f"{name}.log"
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--stage", name, "--out", str(out), "--data-root", args.data_root]
    t0 = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
    seconds = round(time.perf_counter() - t0, 1)
    if code is None:
        result = {"status": "timeout", "summary": f"stopped at its limit of {limit:.0f} s"}
    elif result_path.exists():
        result = json.loads(result_path.read_text())
    else:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        result = {"status": "failed", "summary": f"exit {code} without a result: {tail[0][:200]}"}
    return {"stage": name, "limit_s": round(limit), "seconds": seconds, "log": log_path.name, **result}


def markdown(report: dict[str, Any]) -> str:
    d = report["device"]
    lines = [
        f"# gpu-check: {d['gpu']}",
        "",
        f"{report['finished_at']} · commit {report['git_commit'] or 'unknown'}{' (dirty)' if report['git_dirty'] else ''}"
        f" · torch {d['torch']} · CUDA {d['cuda']} · driver {d.get('driver')} · compute capability {d['capability']}"
        f" · {d['memory_gib']} GiB · {d['cpu_cores']} CPU cores",
        "",
        f"**{report['verdict']}** in {report['seconds']:.0f} s (budget {report['budget_s']} s).",
        "",
        "| stage | status | seconds | result |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s['stage']} | {s['status']} | {s['seconds']} | {_cell(s['summary'])} |" for s in report["stages"]]
    for s in report["stages"]:
        rows = s.get("rows") or []
        if rows:
            keys = list(dict.fromkeys(k for r in rows for k in r))
            lines += ["", f"## {s['stage']}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
            lines += ["| " + " | ".join(_cell(r.get(k)) for k in keys) + " |" for r in rows]
        if s.get("failed_tests"):
            lines += ["", f"## {s['stage']}: failed", "", *[f"- `{t}`" for t in s["failed_tests"]]]
    lines += ["", "Logs: `<stage>.log` beside this file; the numbers are this run's, on the device named above."]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make gpu-check", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "build" / "gpu-check"), help="report folder")
    ap.add_argument("--budget", type=float, default=570, help="seconds for all stages together (default 570)")
    ap.add_argument("--data-root", default=str(ROOT / "data"), help="where Fashion-MNIST is (default: data/)")
    ap.add_argument("--only", default="", help="comma list of stages to run (default: all)")
    ap.add_argument("--stage", choices=list(STAGE_FUNCTIONS), help=argparse.SUPPRESS)  # one stage, in a child
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()

    import torch

    from zmixlib.core.util import atomic_write_text, git_info

    if args.stage:
        global DEVICE
        DEVICE = args.device
        os.chdir(ROOT)
        result = STAGE_FUNCTIONS[args.stage](out, args)
        atomic_write_text(out / f"{args.stage}.json", json.dumps(result, indent=1, default=str))
        return 0
    if not torch.cuda.is_available():
        print(
            f"gpu-check: no CUDA device here (torch {torch.__version__}: torch.cuda.is_available() is False); nothing run"
        )
        return 0

    out.mkdir(parents=True, exist_ok=True)
    only = [s for s in args.only.split(",") if s]
    if unknown := sorted(set(only) - set(STAGE_FUNCTIONS)):
        ap.error(f"--only: unknown stage(s) {unknown}; stages: {list(STAGE_FUNCTIONS)}")
    device = device_info()
    print(f"gpu-check on {device['gpu']} (torch {device['torch']}, CUDA {device['cuda']}), budget {args.budget:.0f} s")
    t0 = time.perf_counter()
    stages = []
    for name, limit in STAGES:
        if only and name not in only:
            continue
        left = args.budget - (time.perf_counter() - t0)
        if left < 15:
            stages.append({"stage": name, "status": "skipped", "seconds": 0, "summary": "no time left in the budget"})
        else:
            stages.append(run_stage(name, min(limit, left), out, args))
        s = stages[-1]
        print(f"  {name:<11} {s['status']:<8} {s['seconds']:>6} s  {s['summary']}", flush=True)
    bad = [s["stage"] for s in stages if s["status"] in ("failed", "timeout")]
    report = {
        "device": device,
        **git_info(ROOT),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "budget_s": args.budget,
        "seconds": round(time.perf_counter() - t0, 1),
        "verdict": f"{len(bad)} stage(s) failed: {', '.join(bad)}" if bad else "every stage that ran passed",
        "stages": stages,
    }
    atomic_write_text(out / "report.json", json.dumps(report, indent=1, default=str))
    atomic_write_text(out / "report.md", markdown(report))
    print(f"gpu-check: {report['verdict']}; report: {out / 'report.md'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
