"""zmixlib.engine.store (atomic records, loading) and zmixlib.tables.paper (the packaged paper table, paper-vs-run comparison)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from zmixlib.engine import store
from zmixlib.engine.runspec import RunRecord, RunSpec
from zmixlib.tables import paper


def _record(method="erm", gamma=None, seed=0, err=0.05, dataset="CIFAR-10", arch="resnet18_cifar", section="natural"):
    spec = RunSpec(dataset=dataset, arch=arch, method=method, gamma=gamma, seed=seed, section=section, epochs=2)
    m = {"test_err": err, "test_acc": 1 - err, "test_auc": math.nan}
    return RunRecord(
        spec=spec, history=[{"epoch": 1, **m}, {"epoch": 2, **m}], metrics=m, wall_time_s=1.5, complete=True
    )


def test_save_load_roundtrip(tmp_path):
    rec = _record(method="zeta_mixup", gamma=2.8)
    path = store.save(rec, tmp_path)
    assert path == tmp_path / "natural" / f"{rec.run_id}.json" and store.exists(rec.spec, tmp_path)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    json.loads(path.read_text())  # strict JSON: NaN written as null
    back = store.load_record(path)
    assert back.spec == rec.spec and back.metrics["test_err"] == 0.05 and back.metrics["test_auc"] is None


def test_load_frame_and_history(tmp_path):
    for seed in (0, 1):
        store.save(_record(seed=seed), tmp_path)
    store.save(_record(section="skin", dataset="ISIC2016", arch="resnet18"), tmp_path)
    (tmp_path / "natural" / "notes.json").write_text("[1, 2]")  # not a record: ignored
    df = store.load(tmp_path)
    assert len(df) == 3 and {"run_id", "dataset", "method", "seed", "test_err", "wall_time_s"} <= set(df.columns)
    assert len(store.load(tmp_path, section="skin")) == 1
    assert store.load(tmp_path / "missing").empty
    h = store.load_history(tmp_path, section="natural")
    assert len(h) == 4 and set(h["epoch"]) == {1, 2}


def test_paper_table():
    df = paper.paper_table()
    assert {"source", "dataset", "arch", "method", "gamma", "metric", "value", "note"} <= set(df.columns)
    t4 = paper.paper_table("natural-table4")
    cell = t4[(t4.dataset == "CIFAR-10") & (t4.method == "zeta-mixup") & (t4.gamma == "2.4")]
    assert cell["value"].item() == pytest.approx(4.42)
    timing = paper.paper_table("timing-table9")
    assert timing["value_text"].str.contains("h").any()  # strings kept as text, value NaN there
    with pytest.raises(ValueError, match="source must be one of"):
        paper.paper_table("table-99")


def test_compare_and_paired():
    recs = []
    for seed in (0, 1, 2):
        recs.append(_record("erm", seed=seed, err=0.055))
        recs.append(_record("mixup", seed=seed, err=0.047 + 0.001 * seed))
        recs.append(_record("zeta_mixup", 2.4, seed=seed, err=0.044 + 0.002 * seed))
    runs = pd.DataFrame([{**r.spec.to_dict(), **r.metrics, "run_id": r.run_id} for r in recs])
    cmp = paper.compare(runs, source="natural-table4")
    assert set(cmp["method"]) == {"ERM", "mixup", "zeta-mixup"} and (cmp["n_seeds"] == 3).all()
    z = cmp[cmp.method == "zeta-mixup"].iloc[0]
    assert z["paper"] == pytest.approx(4.42) and z["ours_mean"] == pytest.approx(4.6)
    assert z["ours_sd"] == pytest.approx(0.2) and z["diff"] == pytest.approx(0.18)
    # zeta - mixup per seed: (4.4-4.7), (4.6-4.8), (4.8-4.9) -> mean -0.2
    assert z["paired_mean"] == pytest.approx(-0.2) and z["n_pairs"] == 3
    pairs = paper.paired(runs, metric="ERR_percent")
    assert list(pairs["seed"]) == [0, 1, 2] and pairs["diff"].tolist() == pytest.approx([-0.3, -0.2, -0.1])
    assert paper.compare(runs.iloc[:0], source="natural-table4").empty


def test_compare_gamma_ranges_and_names():
    recs = [
        _record("cutmix_zeta", (1.7286472389981836, 4.0), seed=s, err=0.04, arch="resnet50_cifar", section="cutmix")
        for s in (0, 1)
    ]
    runs = pd.DataFrame([{**r.spec.to_dict(), **r.metrics} for r in recs])
    cmp = paper.compare(runs, source="cutmix-table5")
    assert len(cmp) == 1 and cmp.iloc[0]["arch"] == "ResNet-50" and cmp.iloc[0]["paper"] == pytest.approx(3.61)


def test_compare_bad_metric():
    with pytest.raises(ValueError, match="unknown metric"):
        paper.compare(pd.DataFrame(), source="natural-table4", metrics=["BLEU"])
