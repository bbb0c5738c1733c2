"""Chapter 08 (Table 8): the run matrix against the paper's protocol, the variants, the paper's numbers (ERR,
94.69 included), the seed-paired differences and the ledger's evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zmixlib.chapters import ablation
from zmixlib.protocol import config, profiles
from zmixlib.tables import paper


def _params(profile: str = "smoke", **given):
    ns = {"profile": profile, "device": "cpu", "seed": 0, "data_root": None, "results_dir": None}
    ns.update({k: None for k in profiles.sizes("08_ablation")["paper"]})
    ns.update(given)
    return config.setup("08_ablation", ns, verbose=False)


def test_paper_matrix_is_table8():
    m = ablation.matrix(_params("paper"))
    assert len(m) == 4 * 3 and {s.dataset for s in m} == {"CIFAR-100"} and {s.seed for s in m} == {0, 1, 2}
    for s in m:  # ResNet-18, the NATURAL recipe, m = 128
        assert (s.arch, s.epochs, s.milestones, s.lr, s.lr_gamma, s.batch_size) == (
            "resnet18_cifar",
            200,
            (80, 120, 160),
            0.1,
            0.2,
            128,
        )
        assert s.nesterov and s.momentum == 0.9 and s.weight_decay == 5e-4 and s.hflip
    rows = [(s.method, s.gamma, s.alpha, s.num_mix) for s in m if s.seed == 0]
    assert rows == [
        ("mixup", None, 1.0, None),  # T = 2, Beta(1, 1)
        ("zeta_mixup", 2.8, None, 2),  # p-series weights, T = 2
        ("dirichlet_mixup", None, 1.0, None),  # Dirichlet(1, ..., 1), T = m
        ("zeta_mixup", 2.8, None, None),  # ζ-mixup, T = m
    ]
    assert [ablation.variant_of(s.method, s.num_mix).key for s in m if s.seed == 0] == [
        v.key for v in ablation.VARIANTS
    ]


def test_every_variant_has_its_paper_row_in_err():
    t = paper.paper_table(ablation.PAPER_SOURCE)
    assert set(t["method"]) == {v.paper_row for v in ablation.VARIANTS}
    assert set(t["metric"]) == {"ERR_percent"} and set(t["dataset"]) == {"CIFAR-100"}
    dirichlet = t.loc[t["method"] == ablation.VARIANTS[2].paper_row, "value"].item()
    assert dirichlet == pytest.approx(94.69)  # an error rate: 5.31 % accuracy, the text's "very poor performance"
    assert ablation._paper_cells()["mixup"] == "21.85 ± 0.07"


def test_offline_profile_runs_fashion_mnist_and_digits_on_request():
    assert profiles.sizes("08_ablation")["offline"]["datasets"] == ["Fashion-MNIST"]
    m = ablation.matrix(_params("offline", datasets=["Fashion-MNIST", "digits"]))
    assert {(s.dataset, s.arch) for s in m} == {("Fashion-MNIST", "lenet5"), ("digits", "digits_cnn")}
    assert len(m) == 2 * 4 * 3


def test_variant_of():
    assert ablation.variant_of("zeta_mixup", 2).key == "pseries_t2"
    assert ablation.variant_of("zeta_mixup", float("nan")).key == "zeta"
    assert ablation.variant_of("zeta_mixup", None).key == "zeta"
    with pytest.raises(ValueError, match="a run of the ablation must be one of .*got \\('erm', None\\)"):
        ablation.variant_of("erm")


@pytest.mark.parametrize(
    "given, exc, match",
    [
        ({"datasets": ["nope"]}, ValueError, "dataset must be one of"),
        ({"seeds": [-1]}, ValueError, r"seeds\[0\] must be >= 0"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
        ({"datasets": "digits"}, TypeError, "datasets must be list"),
    ],
)
def test_bad_knobs_fail_by_name(given, exc, match):
    with pytest.raises(exc, match=match):
        ablation.check_knobs(_params(**given))


def _runs(errs: dict[str, list[float]], dataset: str = "D") -> pd.DataFrame:
    spec = {
        "mixup": ("mixup", np.nan, np.nan),
        "pseries_t2": ("zeta_mixup", 2.8, 2),
        "dirichlet_tm": ("dirichlet_mixup", np.nan, np.nan),
        "zeta": ("zeta_mixup", 2.8, np.nan),
    }
    rows = []
    for key, values in errs.items():
        method, gamma, num_mix = spec[key]
        for seed, e in enumerate(values):
            rows.append(
                {
                    "run_id": f"{dataset}-{key}-{seed}",
                    "dataset": dataset,
                    "arch": "net",
                    "method": method,
                    "gamma": gamma,
                    "num_mix": num_mix,
                    "seed": seed,
                    "batch_size": 32,
                    "test_err": e / 100,
                    "device_name": "x86_64",
                }
            )
    return pd.DataFrame(rows)


ERRS = {
    "mixup": [10.0, 11.0, 12.0],
    "pseries_t2": [9.5, 11.0, 11.5],
    "dirichlet_tm": [60.0, 61.0, 62.0],
    "zeta": [9.0, 10.0, 11.0],
}


def test_table_labels_and_paper_column():
    t = ablation.table(_runs(ERRS), profile="offline")
    assert t.index.tolist() == [
        "mixup",
        "ζ-mixup (γ = 2.8), T = 2",
        "Dirichlet mixup, T = m",
        "ζ-mixup (γ = 2.8), T = m",
    ]
    paper_col = "paper ERR (%) (Table 8: CIFAR-100, ResNet-18, m = 128)"
    assert t[paper_col].tolist() == ["21.85 ± 0.07", "21.77 ± 0.17", "94.69 ± 0.08", "21.35 ± 0.02"]
    ours = "ours ERR (%) (offline: D, net, m = 32, 3 seeds, cpu)"
    assert t[ours].tolist() == ["11.00 ± 1.00", "10.67 ± 1.04", "61.00 ± 1.00", "10.00 ± 1.00"]


def test_curves_keep_t2_and_tm_apart():
    runs = _runs(ERRS)
    history = pd.DataFrame(
        [
            {
                "run_id": r,
                "dataset": "D",
                "arch": "net",
                "method": m,
                "gamma": g,
                "seed": s,
                "epoch": e,
                "test_err": 0.1,
            }
            for r, m, g, s in zip(runs["run_id"], runs["method"], runs["gamma"], runs["seed"])
            for e in (1, 2)
        ]
    )
    c = ablation.curves(runs, history)
    assert list(c["curve"].cat.categories) == ablation.table(runs, profile="x").index.tolist()
    assert c.groupby("curve", observed=True).size().tolist() == [6, 6, 6, 6]
    fig = ablation.curves_figure(runs, history, profile="offline")
    assert fig._suptitle.get_text().endswith("— offline: D (net), 3 seeds, cpu") and len(fig.axes) == 1


def test_reading_is_computed():
    runs = _runs(ERRS)
    text = ablation.reading(runs, ablation.paired(runs), profile="offline")
    assert text.startswith(
        "D (net, offline, 3 seeds): mean ERR from lowest to highest — ζ-mixup (γ = 2.8), T = m 10.00 %"
    )
    assert "ζ-mixup (γ = 2.8), T = m − Dirichlet mixup, T = m: -51.00 ± 0.00 (3 / 0 / 0)" in text


def test_paired_differences_with_their_interval():
    pairs = ablation.paired(_runs(ERRS))
    by = pairs.groupby(["first", "second"])["diff"].apply(list)
    assert by[("zeta", "mixup")] == pytest.approx([-1.0, -1.0, -1.0])
    assert by[("zeta", "dirichlet_tm")] == pytest.approx([-51.0, -51.0, -51.0])
    assert by[("pseries_t2", "mixup")] == pytest.approx([-0.5, 0.0, -0.5])
    summary = ablation.paired_summary(pairs)
    row = summary.loc[("D", "net", "ζ-mixup (γ = 2.8), T = m − mixup")]
    assert row["first lower / tied / higher"] == "3 / 0 / 0"
    assert row["95 % interval"] == "[-1.00, -1.00]" and row["p (paired t)"] == "< 0.001"  # sd 0: the point itself
    t2 = summary.loc[("D", "net", "ζ-mixup (γ = 2.8), T = 2 − mixup")]
    assert t2["95 % interval"] == "[-1.05, +0.38]" and t2["p (paired t)"] == "0.184"
    wide = ablation.paired_table(pairs)
    assert wide.shape == (3, 4) and wide.columns[0] == "ζ-mixup (γ = 2.8), T = m − mixup"
    assert wide.iloc[:, 0].tolist() == [-1.0, -1.0, -1.0] and ablation.paired_table(pairs.iloc[:0]).empty
