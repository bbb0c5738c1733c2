"""Chapter 07 (Fig. 10): the run matrices against the paper's protocol, the search's fixed draws, the knob checks,
the rule that checks the paper's claims, and the figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from zmixlib.chapters import sensitivity  # noqa: E402
from zmixlib.core.theory import GAMMA_MIN  # noqa: E402
from zmixlib.protocol import config, profiles, recipes  # noqa: E402

GRID = [round(1.8 + 0.2 * i, 1) for i in range(17)]  # Fig. 10a, b: 1.8, 2.0, ..., 5.0


def _params(profile: str = "smoke", **given):
    ns = {"profile": profile, "device": "cpu", "seed": 0, "data_root": None, "results_dir": None}
    ns.update({k: None for k in profiles.sizes("07_sensitivity")["paper"]})
    ns.update(given)
    return config.setup("07_sensitivity", ns, verbose=False)


@pytest.fixture(scope="module")
def m():
    return sensitivity.matrices(_params("paper"))


class TestPaperMatrix:
    """The paper profile's runs are Fig. 10's: CIFAR-10/100, ResNet-18, the NATURAL recipe."""

    def _natural_recipe(self, specs):
        for s in specs:
            assert (s.arch, s.epochs, s.milestones, s.lr, s.lr_gamma, s.batch_size) == (
                "resnet18_cifar",
                200,
                (80, 120, 160),
                0.1,
                0.2,
                128,
            )
            assert s.nesterov and s.momentum == 0.9 and s.hflip

    def test_gamma_curve(self, m):
        curve = m["curve"]
        assert len(curve) == 2 * 17 * 3
        assert {(s.dataset, s.gamma, s.seed) for s in curve} == {
            (d, g, k) for d in ("CIFAR-10", "CIFAR-100") for g in GRID for k in (0, 1, 2)
        }
        assert {(s.method, s.num_mix, s.weight_decay) for s in curve} == {("zeta_mixup", None, 5e-4)}
        self._natural_recipe(curve)

    def test_mixup_reference_is_table4s_run(self, m):
        mix = m["mixup"]
        assert {(s.dataset, s.method, s.alpha, s.seed, s.section) for s in mix} == {
            (d, "mixup", 1.0, k, "natural") for d in ("CIFAR-10", "CIFAR-100") for k in (0, 1, 2)
        }
        assert {s.run_id for s in mix} <= {s.run_id for s in recipes.resolve("natural", "paper")}  # Table 4's runs
        self._natural_recipe(mix)

    def test_search(self, m):
        search = m["search"]
        assert len(search) == 2 * 200 and {s.seed for s in search} == {0}
        for d in ("CIFAR-10", "CIFAR-100"):
            draws = [(s.gamma, s.weight_decay) for s in search if s.dataset == d]
            assert len(set(draws)) == 200
            assert all(1.0 <= g <= 6.0 and 5e-5 <= wd <= 1e-3 for g, wd in draws)
        gammas = np.array([s.gamma for s in search])
        assert 0.05 < (gammas < GAMMA_MIN).mean() < 0.3  # U[1, 6] puts ~15 % below γ_min
        self._natural_recipe(search)

    def test_profiles_agree_with_the_recipes(self):
        sizes = profiles.sizes("07_sensitivity")
        assert sizes["paper"]["gammas"] == GRID and sizes["paper"]["search_models"] == recipes.SEARCH_MODELS
        offline = recipes.resolve("sensitivity", "offline")
        assert sorted({s.gamma for s in offline}) == sizes["offline"]["gammas"]
        assert set(sizes["offline"]["gammas"]) <= set(GRID)
        assert len(recipes.resolve("search", "offline")) == sizes["offline"]["search_models"]
        assert [s.dataset for s in offline][:1] == sizes["offline"]["datasets"]


def test_search_draws_are_a_fixed_prefix():
    small, full = sensitivity.search_matrix("offline", 5), sensitivity.search_matrix("offline", 14)
    assert list(small) == list(full)[:5] and small.overrides["search_models"] == 5
    paper = sensitivity.search_matrix("paper", 14, datasets=["CIFAR-10"])
    assert [(s.gamma, s.weight_decay) for s in paper] == [(s.gamma, s.weight_decay) for s in full]
    with pytest.raises(ValueError, match="search_models must be <= 14 .*got 15"):
        sensitivity.search_matrix("offline", 15)


@pytest.mark.parametrize(
    "given, exc, match",
    [
        ({"gammas": [2.0, [1.8, 4.0]]}, ValueError, r"gammas\[1\] must be a number"),
        ({"gammas": [-1.0]}, ValueError, r"gammas\[0\] must be >= 0.0, got -1.0"),
        ({"gammas": []}, TypeError, "gammas must be a non-empty list"),
        ({"search_models": 0}, ValueError, "search_models must be >= 1, got 0"),
        ({"search_models": 4}, None, None),
        ({"datasets": ["nope"]}, ValueError, "dataset must be one of"),
        ({"seeds": [-1]}, ValueError, r"seeds\[0\] must be >= 0"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
    ],
)
def test_check_knobs_names_the_parameter(given, exc, match):
    p = _params(**given)
    if exc is None:
        sensitivity.check_knobs(p)
        return
    with pytest.raises(exc, match=match):
        sensitivity.check_knobs(p)


# ------------------------------------------------------------------------------------------- the rule


def _curve(means: dict[float, float], seeds=(0, 1, 2), noise=(-0.5, 0.0, 0.5), dataset="D") -> pd.DataFrame:
    rows = [
        {
            "dataset": dataset,
            "arch": "net",
            "method": "zeta_mixup",
            "gamma": g,
            "seed": s,
            "test_err": (m + e) / 100,
            "device_name": "x86_64",
        }
        for g, m in means.items()
        for s, e in zip(seeds, noise)
    ]
    return pd.DataFrame(rows)


def _search(low_err: float, high_err: float, dataset="D") -> pd.DataFrame:
    gammas = [1.1, 1.5, 2.0, 3.0, 4.5, 5.5]
    errs = [low_err, low_err + 1, high_err, high_err + 0.5, high_err - 0.5, high_err]
    wds = [1e-4, 6e-4, 1e-4, 6e-4, 2e-4, 9e-4]
    return pd.DataFrame(
        {
            "dataset": dataset,
            "arch": "net",
            "method": "zeta_mixup",
            "gamma": gammas,
            "weight_decay": wds,
            "seed": 0,
            "test_err": np.array(errs) / 100,
            "device_name": "x86_64",
        }
    )


def _holds(frame, check):
    return frame.loc[frame["check"].str.startswith(check), "holds"].tolist()


def test_flat_curve_holds_and_a_trend_does_not():
    flat = sensitivity.checks(_curve({1.8: 10.0, 3.0: 10.2, 5.0: 9.9}), _search(20, 10))
    assert _holds(flat, "flat") == [True] and _holds(flat, "γ < γ_min") == [True]
    trend = sensitivity.checks(_curve({1.8: 10.0, 3.0: 12.0, 5.0: 14.0}), _search(8, 10))
    assert _holds(trend, "flat") == [False] and _holds(trend, "γ < γ_min") == [False]
    assert "sd across γ of the mean ERR 2.00 > seed sd 0.50" in trend["measured"].iloc[0]
    words = sensitivity.checks_table(pd.concat([flat, trend.assign(holds=[None, False])], ignore_index=True))
    assert words.index.names == ["dataset", "arch", "check"]
    assert words["holds"].tolist() == ["holds", "holds", "not decidable", "does not hold"]


def test_points_below_gamma_min_do_not_count_as_flat():
    c = sensitivity.checks(_curve({1.0: 30.0, 1.8: 10.0, 3.0: 10.1}), _search(20, 10))
    assert _holds(c, "flat") == [True] and "2 γ values" in c["measured"].iloc[0]


def test_checks_are_per_dataset():
    curve = pd.concat([_curve({1.8: 10.0, 3.0: 10.1}, dataset="A"), _curve({1.8: 10.0, 3.0: 15.0}, dataset="B")])
    search = pd.concat([_search(20, 10, dataset="A"), _search(5, 10, dataset="B")])
    c = sensitivity.checks(curve, search)
    assert c["dataset"].tolist() == ["A", "A", "B", "B"] and c["holds"].tolist() == [True, True, False, False]


def test_curve_stats_pair_by_seed():
    curve = _curve({2.0: 10.0, 4.0: 12.0})
    mixup = curve[curve["gamma"] == 2.0].assign(method="mixup", gamma=np.nan, test_err=lambda d: d["test_err"] + 0.01)
    stats = sensitivity.curve_stats(curve, mixup)
    assert stats["gamma"].tolist() == [2.0, 4.0] and stats["n"].tolist() == [3, 3]
    assert np.allclose(stats["diff_mean"], [-1.0, 1.0]) and np.allclose(stats["diff_sd"], [0.0, 0.0], atol=1e-9)
    assert stats[["better", "worse"]].values.tolist() == [[3, 0], [0, 3]]
    table = sensitivity.curve_table(stats, profile="offline", runs=curve)
    assert table.columns.name == "ours — offline, 3 seeds, cpu" and table.iloc[0, 2] == "-1.00 ± 0.00"


def test_search_bands():
    bands = sensitivity.search_bands(_search(20, 10))
    assert bands["models"].tolist() == [2, 2, 2]
    assert bands["median ERR (%)"].tolist() == ["20.50", "10.25", "9.75"]
    empty = sensitivity.search_bands(_search(20, 10).query("gamma < 4"))
    assert empty["models"].tolist() == [2, 2, 0] and empty["best ERR (%)"].tolist()[-1] == "—"


def test_figures(tmp_path):
    curve, search = _curve({1.8: 10.0, 3.0: 10.2}), _search(20, 10)
    fig = sensitivity.gamma_curve_figure(curve, curve.assign(method="mixup"), label="test")
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "γ"
    plt.close(fig)
    fig = sensitivity.parallel_coordinates(search, label="test")
    ax = fig.axes[0]
    grey = [ln for ln in ax.get_lines() if ln.get_color() == "0.8"]
    assert len(grey) == 2 * 2  # two models below γ_min, two segments each
    assert "2 with γ < γ_min" in ax.get_title()
    fig.savefig(tmp_path / "pc.png")
    plt.close(fig)


def test_reading_is_computed():
    curve = _curve({1.8: 10.0, 3.0: 11.0})
    stats = sensitivity.curve_stats(curve, curve[curve["gamma"] == 1.8].assign(method="mixup"))
    text = sensitivity.reading(stats, sensitivity.checks(curve, _search(20, 10)), _search(20, 10), profile="offline")
    assert "from 10.00 % (γ = 1.8) to 11.00 % (γ = 3.0) over 2 γ values" in text
    assert "at or below it at 1 of 2" in text and "γ < γ_min worse (search): holds" in text


def test_undecidable_checks_are_none():
    one_seed = _curve({1.8: 10.0, 5.0: 10.0}, seeds=(0,), noise=(0.0,))
    no_low = _search(20, 10).query("gamma >= @GAMMA_MIN")
    assert sensitivity.checks(one_seed, no_low)["holds"].tolist() == [None, None]
    good = sensitivity.checks(_curve({1.8: 10.0, 3.0: 10.2}), _search(20, 10))
    assert good["holds"].tolist() == [True, True]
