"""zmixlib.tables.paper: the papers' tables load as numbers, every table the code names exists, and the comparison
of our runs with them (paper number beside ours; seed-paired ζ-mixup − mixup)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from zmixlib.core.vocab import METHODS
from zmixlib.tables import paper

ROOT = Path(__file__).resolve().parent.parent
_SOURCE = re.compile(r"""\\?["']((?:[a-z]+-)+(?:table[0-9A-Za-z]+|fig[0-9]+|text|id)(?:-[a-z]+)*|theorem-1)\\?["']""")


@pytest.fixture(scope="module")
def table():
    return paper.paper_table()


def test_the_table_loads_with_its_columns(table):
    assert len(table) > 100
    assert {"source", "dataset", "arch", "method", "gamma", "metric", "value", "note"} <= set(table.columns)
    assert {"value_text", "gamma_value"} <= set(table.columns)
    assert table["source"].notna().all() and table["metric"].notna().all()


def test_values_are_numbers_where_the_paper_prints_numbers(table):
    assert pd.api.types.is_float_dtype(table["value"]) and pd.api.types.is_float_dtype(table["gamma_value"])
    numeric = table[table["value"].notna()]
    assert len(numeric) > 0.9 * len(table)
    assert all(math.isclose(float(t), v) for t, v in zip(numeric["value_text"], numeric["value"]))
    # the rest are the timing table's durations ("1h19m +- 30s"), kept as text
    text = table[table["value"].isna()]
    assert set(text["source"]) <= {"timing-table9"} and text["value_text"].str.contains(r"\d+[hms]").all()


def test_every_table_the_code_names_exists_and_every_table_is_used(table):
    named = set()
    for path in [*ROOT.joinpath("zmixlib").rglob("*.py"), *ROOT.joinpath("notebooks").glob("*.ipynb")]:
        named |= set(_SOURCE.findall(path.read_text(encoding="utf-8")))
    known = set(table["source"])
    assert named, "no paper table named in the code"
    assert named <= known, sorted(named - known)
    assert known <= named, f"tables no chapter reads: {sorted(known - named)}"


def test_one_source_and_an_unknown_one():
    t4 = paper.paper_table("natural-table4")
    assert set(t4["source"]) == {"natural-table4"} and list(t4.index) == list(range(len(t4)))
    with pytest.raises(ValueError, match=r"source must be one of \['ablation-table8'"):
        paper.paper_table("natural-table5")


def test_paper_metrics_occur_in_the_table(table):
    assert set(paper.PAPER_METRICS) <= set(table["metric"])


def test_method_spellings_of_our_methods_occur(table):
    spelled = set(table["method"])
    for name in ("erm", "mixup", "zeta_mixup", "cutmix", "multimix", "dense_multimix"):
        assert METHODS[name].paper in spelled, name


@pytest.mark.parametrize("name,key", [("Fashion-MNIST", "fmnist"), ("F-MNIST", "fmnist"), ("CIFAR-10", "cifar10")])
def test_dataset_names_normalize(name, key):
    assert paper.normalize_dataset_name(name) == key


def _runs():
    """CIFAR-10 runs of ResNet-18: mixup and ζ-mixup (γ = 2.4) on seeds 0 and 1."""
    rows = []
    for seed, mixup_err, zeta_err in ((0, 0.050, 0.045), (1, 0.048, 0.044)):
        rows.append(
            dict(dataset="cifar10", arch="resnet18_cifar", method="mixup", gamma=None, seed=seed, test_err=mixup_err)
        )
        rows.append(
            dict(dataset="cifar10", arch="resnet18_cifar", method="zeta_mixup", gamma=2.4, seed=seed, test_err=zeta_err)
        )
    return pd.DataFrame(rows)


def test_paired_differences_are_per_seed():
    d = paper.paired(_runs())
    assert list(d["seed"]) == [0, 1] and (d["_arch"] == "ResNet-18").all()
    assert d["diff"].tolist() == pytest.approx([-0.5, -0.4])
    assert paper.paired(_runs()[lambda r: r["method"] == "mixup"]).empty
    with pytest.raises(ValueError, match="metric must be one of"):
        paper.paired(_runs(), metric="ERR")


def test_compare_puts_the_paper_beside_ours():
    c = paper.compare(_runs(), source="natural-table4").set_index("method")
    assert set(c.index) == {"mixup", "zeta-mixup"}  # γ = 2.8 and 4.0 have no runs
    assert c.loc["mixup", "paper"] == 4.68 and c.loc["mixup", "ours_mean"] == pytest.approx(4.9)
    zeta = c.loc["zeta-mixup"]
    assert zeta["paper"] == 4.42 and zeta["n_seeds"] == 2 and zeta["diff"] == pytest.approx(4.45 - 4.42)
    assert zeta["paired_mean"] == pytest.approx(-0.45) and zeta["n_pairs"] == 2
    assert paper.compare(_runs().iloc[:0], source="natural-table4").empty
