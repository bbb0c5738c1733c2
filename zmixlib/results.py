"""Run records on disk, the papers' reference numbers, and paper-vs-run comparison frames.

* One JSON per run: ``results/<section>/<run_id>.json`` (``run_id`` = hash of the :class:`RunSpec`),
  written atomically (temporary file in the same folder, then ``os.replace``), so a crashed or
  interrupted writer never leaves a half record and a sweep can tell finished runs by existence.
* :func:`load` reads every record under a folder into one pandas frame (one row per run).
* :func:`paper_table` reads the packaged ``resources/paper_results.csv`` (numbers transcribed from the
  papers' tables; see the book's reproduce page for the sources).
* :func:`compare` puts the paper's number beside our mean ± sd over seeds; :func:`paired` gives the
  per-seed difference ζ-mixup − mixup (same dataset, architecture and seed), which is what the
  notebooks plot: a seed-paired comparison removes most of the seed-to-seed variance.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from zmixlib.train import RunRecord, RunSpec

__all__ = [
    "record_path",
    "save",
    "load_record",
    "exists",
    "load",
    "load_history",
    "paper_table",
    "compare",
    "paired",
    "PAPER_METHODS",
    "PAPER_ARCHS",
    "PAPER_METRICS",
]

#: our method name -> the papers' spelling in ``paper_results.csv``
PAPER_METHODS = {
    "erm": "ERM",
    "mixup": "mixup",
    "zeta_mixup": "zeta-mixup",
    "cutmix": "CutMix",
    "cutmix_zeta": "CutMix+zeta-mixup",
    "manifold_mixup": "manifold mixup",
    "local_synthetic_instances": "local-synthetic-instances",
    "multimix": "MultiMix",
    "kmixup": "k-mixup (k, xi opt.)",
    "dirichlet_mixup": "Dirichlet(1) weights, T=m",
}
#: our architecture name -> the papers' spelling
PAPER_ARCHS = {
    "resnet18_cifar": "ResNet-18",
    "resnet18": "ResNet-18",
    "resnet50_cifar": "ResNet-50",
    "resnet50": "ResNet-50",
    "mobilenet_v2": "MobileNetV2",
    "efficientnet_b0": "EfficientNet-B0",
    "lenet5": "LeNet",
}
#: paper metric -> (our record column suffix, factor): ERR_percent = 100 * test_err, ...
PAPER_METRICS = {
    "ERR_percent": ("err", 100.0),
    "ACC_percent": ("medmnist_acc", 100.0),
    "ACC_bal_percent": ("bal_acc", 100.0),
    "F1_micro": ("f1_micro", 1.0),
    "F1_macro": ("f1_macro", 1.0),
    "AUC": ("auc", 1.0),
    "top1_acc_percent": ("acc", 100.0),
}
_DATASET_ALIASES = {"fashionmnist": "fmnist", "tinyimagenet": "tinyimagenet"}


def _gamma_key(value: Any) -> str | None:
    """A comparable key for γ: ``"2.800"``, ``"U[1.729,4.000]"`` (a range), ``None`` (unset).
    Accepts our values (float, tuple) and the table's strings (``"2.4"``, ``"U[1.72865,4.0]"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        text = value.strip().rstrip("?")
        if text.startswith("U[") and text.endswith("]"):
            value = tuple(float(v) for v in text[2:-1].split(","))
        else:
            try:
                value = float(text)
            except ValueError:
                return text
    if isinstance(value, (tuple, list)):
        low, high = value
        return f"U[{float(low):.3f},{float(high):.3f}]"
    return f"{float(value):.3f}"


def normalize_dataset_name(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", str(name).lower())
    return _DATASET_ALIASES.get(key, key)


# ------------------------------------------------------------------------------------------------- records


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
    path = record_path(record.spec, results_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_clean(record.to_dict()), indent=1, sort_keys=False, allow_nan=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_record(path: str | os.PathLike) -> RunRecord:
    """Read one record back into a :class:`~zmixlib.train.RunRecord`."""
    from zmixlib.train import RunRecord

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
    import pandas as pd

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
    import pandas as pd

    rows = []
    keep = ("section", "dataset", "arch", "method", "gamma", "alpha", "seed")
    for path, d in _iter_records(results_dir, section):
        spec = d["spec"]
        for h in d.get("history") or []:
            rows.append({"run_id": d.get("run_id", path.stem), **{k: spec.get(k) for k in keep}, **h})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------- the papers


def paper_table(source: str | None = None) -> pd.DataFrame:
    """The papers' numbers (packaged ``resources/paper_results.csv``).

    Columns: ``source, dataset, arch, method, gamma, metric, value, note`` plus ``value_text`` (the cell
    as written: timing rows hold strings like ``1h19m +- 30s``, for which ``value`` is NaN) and
    ``gamma_value`` (γ as a number where it is one). ``source`` filters to one table (e.g.
    ``"natural-table4"``).
    """
    from importlib.resources import files

    import pandas as pd

    with files("zmixlib").joinpath("resources/paper_results.csv").open("r", encoding="utf-8") as f:
        df = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
    if source is not None:
        known = sorted(df["source"].unique())
        if source not in known:
            raise ValueError(f"source must be one of {known}, got {source!r}")
        df = df[df["source"] == source].reset_index(drop=True)
    df["value_text"] = df["value"]
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    df["gamma_value"] = pd.to_numeric(df["gamma"], errors="coerce")
    return df


def _ours(runs: pd.DataFrame, metric: str, split: str) -> pd.Series:
    col, factor = PAPER_METRICS[metric]
    name = f"{split}_{col}"
    if name not in runs.columns:
        raise ValueError(f"runs have no column {name!r} (needed for {metric}); columns: {sorted(runs.columns)}")
    return runs[name].astype(float) * factor


def _keyed(runs: pd.DataFrame) -> pd.DataFrame:
    df = runs.copy()
    df["_ds"] = df["dataset"].map(normalize_dataset_name)
    df["_arch"] = df["arch"].map(lambda a: PAPER_ARCHS.get(a, a))
    df["_method"] = df["method"].map(lambda m: PAPER_METHODS.get(m, m))
    df["_gamma"] = df["gamma"].map(_gamma_key) if "gamma" in df.columns else None
    return df


def compare(
    runs: pd.DataFrame,
    *,
    source: str,
    metrics: list[str] | None = None,
    split: str = "test",
) -> pd.DataFrame:
    """The paper's number beside ours, per (dataset, arch, method, γ, metric).

    Args:
        runs: :func:`load` output (one row per run; several seeds per cell).
        source: the paper table, e.g. ``"natural-table4"``, ``"skin-tableA3"``, ``"medmnist-table7"``.
        metrics: paper metric names to include (default: every one in the table that we compute).
        split: the evaluated split whose metrics are compared.

    Returns:
        one row per paper cell we have runs for: ``dataset, arch, method, gamma, metric, paper,
        ours_mean, ours_sd, n_seeds, diff`` (ours − paper) and, for ζ-mixup rows, ``paired_mean`` /
        ``paired_sd`` / ``n_pairs`` of the per-seed difference ζ-mixup − mixup (see :func:`paired`).
        Our numbers use the paper's units (percent where the paper prints percent).
    """
    import pandas as pd

    paper = paper_table(source)
    paper = paper[paper["metric"].isin(list(PAPER_METRICS))]
    if metrics is not None:
        bad = sorted(set(metrics) - set(PAPER_METRICS))
        if bad:
            raise ValueError(f"unknown metric(s) {bad}; allowed: {sorted(PAPER_METRICS)}")
        paper = paper[paper["metric"].isin(metrics)]
    columns = ["dataset", "arch", "method", "gamma", "metric", "paper", "ours_mean", "ours_sd", "n_seeds", "diff"]
    columns += ["paired_mean", "paired_sd", "n_pairs"]
    if runs is None or len(runs) == 0:
        return pd.DataFrame(columns=columns)
    ours = _keyed(runs)
    rows = []
    for _, p in paper.iterrows():
        sel = ours[
            (ours["_ds"] == normalize_dataset_name(p["dataset"]))
            & (ours["_arch"] == p["arch"])
            & (ours["_method"] == p["method"])
        ]
        gamma = _gamma_key(p["gamma"])
        if gamma is not None:
            sel = sel[sel["_gamma"] == gamma]
        if sel.empty:
            continue
        vals = _ours(sel, p["metric"], split).dropna()
        row = {
            "dataset": p["dataset"],
            "arch": p["arch"],
            "method": p["method"],
            "gamma": p["gamma"],
            "metric": p["metric"],
            "paper": p["value"],
            "ours_mean": vals.mean(),
            "ours_sd": vals.std(ddof=1) if len(vals) > 1 else math.nan,
            "n_seeds": int(vals.size),
        }
        row["diff"] = row["ours_mean"] - row["paper"]
        row.update(paired_mean=math.nan, paired_sd=math.nan, n_pairs=0)
        if p["method"] == PAPER_METHODS["zeta_mixup"]:
            d = paired(ours[ours["_ds"] == normalize_dataset_name(p["dataset"])], metric=p["metric"], split=split)
            if not d.empty:
                d = d[(d["_arch"] == p["arch"]) & (d["_gamma"] == gamma)]
            if not d.empty:
                row.update(
                    paired_mean=d["diff"].mean(),
                    paired_sd=d["diff"].std(ddof=1) if len(d) > 1 else math.nan,
                    n_pairs=int(len(d)),
                )
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def paired(
    runs: pd.DataFrame,
    *,
    metric: str = "ERR_percent",
    split: str = "test",
    method: str = "zeta_mixup",
    baseline: str = "mixup",
) -> pd.DataFrame:
    """Per-seed difference ``method − baseline`` on the same dataset, architecture and seed.

    Returns:
        one row per (dataset, arch, gamma, seed) with both values and ``diff`` (in the paper's units of
        ``metric``; negative ERR difference = ζ-mixup better); ``_arch`` / ``_gamma`` are the paper's
        architecture name and a comparable γ key. Empty if there are no pairs.
    """
    import pandas as pd

    if metric not in PAPER_METRICS:
        raise ValueError(f"metric must be one of {sorted(PAPER_METRICS)}, got {metric!r}")
    df = runs if "_arch" in runs.columns else _keyed(runs)
    df = df.assign(_value=_ours(df, metric, split))
    a = df[df["method"] == method]
    b = df[df["method"] == baseline]
    cols = ["dataset", "arch", "_arch", "gamma", "_gamma", "seed", "ours", "baseline", "diff"]
    if a.empty or b.empty:
        return pd.DataFrame(columns=cols)
    b = b.groupby(["_ds", "_arch", "seed"], as_index=False)["_value"].mean().rename(columns={"_value": "baseline"})
    m = a.merge(b, on=["_ds", "_arch", "seed"], how="inner")
    m = m.rename(columns={"_value": "ours"})
    m["diff"] = m["ours"] - m["baseline"]
    m = m.assign(_order=m["_gamma"].fillna(""))
    return m.sort_values(["dataset", "arch", "_order", "seed"])[cols].reset_index(drop=True)
