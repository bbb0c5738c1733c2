"""Chapter 10's UCI table (k-mixup, Greenewald et al., Table 4): its cells, their training (the trials of a cell as
one ensemble: tests/test_ensemble.py shows it equals separate trainings), their results cached in the store, and the
tables beside the paper's."""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from zmixlib.chapters import peers
from zmixlib.chapters.peers import kmixup_uci
from zmixlib.engine import store
from zmixlib.engine.store import DamagedFileWarning
from zmixlib.protocol import profiles
from zmixlib.tables import paper


def _params(profile: str) -> SimpleNamespace:
    return SimpleNamespace(**profiles.sizes("10_peers")[profile])


def _cell(dataset="iris", *, k=4, alpha=1.0, trials=2, epochs=2):
    u = peers.UCI[dataset]
    size = {"hidden": [8, 8], "test_size": u.test_size, "trials": trials, "epochs": epochs, "milestones": [1]}
    return {**peers.UCI_RECIPE, "dataset": dataset, **size, "k": k, "alpha": alpha}


@pytest.mark.slow
def test_uci_cell_trains_and_a_trial_does_not_depend_on_its_neighbours():
    one = peers.uci_cell(_cell(trials=1))
    two = peers.uci_cell(_cell(trials=2))
    assert len(two["errors"]) == 2 and all(0.0 <= e <= 1.0 for e in two["errors"])
    assert one["errors"][0] == pytest.approx(two["errors"][0]) and one["alpha_k"][0] == two["alpha_k"][0]
    assert two["alpha_k"][0] > 1.0  # Algorithm 1 raises alpha for k > 1 to keep 1-mixup's xi


def test_uci_split_sizes_and_scaling():
    cell = {**_cell("breast-cancer", k=None, alpha=None, trials=2, epochs=1), "hidden": [4], "milestones": []}
    xs, ys, xt, yt = kmixup_uci._uci_data(cell)
    assert xs.shape == (2, 569 - 284, 30) and xt.shape == (2, 284, 30)
    assert float(xs.min()) == 0.0 and float(xs.max()) == 1.0  # min-max of the training rows
    assert not torch.equal(ys[0], ys[1])  # a fresh split per trial


def test_the_paper_uci_cells_are_table4():
    """The paper profile's cells equal Table 4's for Iris and Breast Cancer: k x alpha, 20 trials, the MLPs, lr 0.005."""
    cells = peers.uci_cells(_params("paper"))
    t4 = paper.paper_table("kmixup-table4")
    names = {u.paper: d for d, u in peers.UCI.items()}
    t4 = t4[t4["dataset"].isin(names)]
    want = set()
    for _, r in t4.iterrows():
        if r["method"] == "ERM":
            want.add((names[r["dataset"]], None, None))
        else:
            alpha = float(r["note"].split("alpha=")[1].split(",")[0])
            want.add((names[r["dataset"]], int(r["method"].split("-")[0]), alpha))
    assert {(c["dataset"], c["k"], c["alpha"]) for c in cells} == want
    for c in cells:
        assert c["trials"] == 20 and c["epochs"] == 200 and c["lr"] == 0.005 and c["milestones"] == [100, 150]
        assert tuple(c["hidden"]) == {"iris": (120, 84), "breast-cancer": (120, 120, 84)}[c["dataset"]]


def test_uci_tables_and_diffs():
    rows = []
    for k, shift in ((None, 3.0), (1, 2.0), (2, 1.0), (4, 1.5)):
        for t in range(3):
            alpha = None if k is None else 0.1
            row = {"dataset": "iris", "k": k, "alpha": alpha, "trial": t, "err": shift + t, "alpha_k": 0.1, "xi": 0.1}
            rows.append({**row, "wall_time_s": 1.0, "cpu_time_s": 1.0})
    frame = pd.DataFrame(rows)
    d = peers.uci_diffs(frame)
    assert d["diff"].tolist() == [pytest.approx(-0.75)] and d["k > 1 below k = 1"].tolist() == [2]
    table = peers.uci_table(frame)
    assert table.loc[("Iris", "0.1", "0.1", "0.10"), ("k = 2", "paper")] == "2.90"
    assert table.loc[("Iris", "0.1", "0.1", "0.10"), ("k = 2", "ours")] == "2.00 ± 1.00"
    assert peers.uci_diffs(frame, source="paper")[["dataset", "alpha"]].values.tolist() == [["Iris", 0.1]]
    theirs = peers.uci_diffs(None, source="paper")
    iris_cancer = theirs[theirs["dataset"].isin(["Iris", "Breast Cancer"])]
    assert len(theirs) == 15 and len(iris_cancer) == 6 and (iris_cancer["diff"] < 0).all()  # every k > 1 below k = 1
    assert "4 cells, 12 trained MLPs" in peers.uci_cost(frame, workers=2)


def test_store_results_are_checked_and_a_damaged_one_is_set_aside(tmp_path):
    path = tmp_path / "r.json"
    assert store.load_result(path) is None  # none yet
    store.save_result(path, {"errors": [0.5], "xi": [float("nan")]})
    assert store.load_result(path) == {"errors": [0.5], "xi": [None]}  # strict JSON: NaN is null
    d = json.loads(path.read_text())
    d["errors"] = [0.25]  # changed after it was written: its checksum no longer matches
    path.write_text(json.dumps(d))
    with pytest.warns(DamagedFileWarning, match="does not match its sha256"):
        assert store.load_result(path) is None
    assert not path.exists() and len(list(tmp_path.glob("r.json.corrupt-*"))) == 1

    def check(d):
        raise ValueError("not this cell")

    store.save_result(path, {"errors": [0.5]})
    with pytest.warns(DamagedFileWarning, match="not this cell"):
        assert store.load_result(path, check=check, kind="UCI cell") is None
    path.write_text("{not json")
    with pytest.warns(DamagedFileWarning, match="is damaged"):
        assert store.load_result(path) is None


@pytest.mark.slow
def test_uci_run_trains_what_the_store_lacks(tmp_path, capsys):
    cells = [_cell(k=None, alpha=None), _cell(k=2, alpha=0.5)]
    first = peers.uci_run(cells, tmp_path)
    assert "2 runs" in capsys.readouterr().out and len(first) == 4
    assert first["xi"].isna().tolist() == [True, True, False, False]  # ERM has no xi
    files = sorted((tmp_path / "kmixup_uci").glob("*.json"))
    assert [f.stem for f in files] == sorted(kmixup_uci._cell_id(c) for c in cells)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing damaged, nothing set aside
        again = peers.uci_run(cells, tmp_path)
    assert "0 trained" in capsys.readouterr().out
    pd.testing.assert_frame_equal(first, again)
    d = json.loads(files[0].read_text())
    d["errors"] = d["errors"][:1]  # one trial short
    files[0].write_text(json.dumps(d))
    with pytest.warns(DamagedFileWarning, match="UCI cell .* is damaged"):
        third = peers.uci_run(cells, tmp_path)
    out = capsys.readouterr().out
    assert "1 trained" in out and "1 damaged record set aside" in out
    pd.testing.assert_frame_equal(first[["err", "alpha_k"]], third[["err", "alpha_k"]])


def test_the_smoke_cells_keep_their_names():
    """The smoke profile's cells: their ids (the names of their results) do not change."""
    names = {kmixup_uci._cell_id(c) for c in peers.uci_cells(_params("smoke"))}
    assert names == {"ff501630d05632e0", "597c2b0688d6b8bb", "6ac0e1ba63a684e1"}
