"""Chapter 10 (peers): the run matrices against the papers' tables, MultiMix's protocol and Dense MultiMix in the
engine, and the tables and figure of the page (the UCI table: tests/test_peers_uci.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from zmixlib import mixing
from zmixlib.chapters import peers
from zmixlib.core.vocab import METHOD_NAMES, METHODS
from zmixlib.data._base import ArrayDataset
from zmixlib.engine import models, train
from zmixlib.engine.runspec import RunSpec
from zmixlib.protocol import profiles, recipes


def _params(profile: str = "smoke", **changes):
    return SimpleNamespace(
        profile=profile,
        device="cpu",
        data_root=None,
        results_dir=None,
        **{**profiles.sizes("10_peers")[profile], **changes},
    )


# ----------------------------------------------------------------------------------------------- matrices


def test_paper_leaderboard_is_every_method_with_the_natural_recipe():
    m = peers.leaderboard_matrix(_params("paper"))
    assert {s.dataset for s in m} == {"CIFAR-10", "CIFAR-100"} and {s.seed for s in m} == {0, 1, 2}
    assert {s.method for s in m} == set(METHOD_NAMES) and not m.dropped  # ResNet-18 has a pooled feature map
    for s in m:
        assert (s.arch, s.epochs, s.milestones, s.batch_size, s.lr, s.lr_gamma) == (
            "resnet18_cifar",
            200,
            (80, 120, 160),
            128,
            0.1,
            0.2,
        )
    mm = {s.method: s for s in m if s.dataset == "CIFAR-100" and s.seed == 0}
    for name in ("multimix", "dense_multimix"):
        assert mm[name].alpha == (0.5, 2.0) and dict(mm[name].extra) == {"n": 1000, "prob": 0.5, "mixup_alpha": 2.0}
    assert mm["zeta_mixup"].gamma == 2.8 and mm["manifold_mixup"].alpha == 2.0 and dict(mm["kmixup"].extra) == {"k": 16}
    assert dict(mm["cutmix"].extra) == {"prob": 0.5}
    # the leaderboard follows NATURAL's recipe: its runs are protocol "natural" (ERM shared with Table 4); the paper's
    # CutMix section trains another schedule (100/150), so its CutMix runs are not the leaderboard's
    assert mm["cutmix"].section == "natural" and mm["erm"].section == "natural"
    table5 = {s.run_id for s in recipes.resolve("cutmix", "paper")}
    assert mm["cutmix"].run_id not in table5 and recipes.protocol("cutmix", "paper") == "cutmix"


def test_offline_leaderboard_reads_the_other_chapters_runs():
    p = _params("offline")
    m = peers.leaderboard_matrix(p)
    by = {s.method: s for s in m if s.seed == 0}
    assert {s.section for s in m} == {"natural"}  # one protocol: chapter 04's recipe, one record per spec
    nat = recipes.resolve("natural", "offline", datasets=["Fashion-MNIST"], seeds=[0], device="cpu")
    assert by["erm"].run_id in {s.run_id for s in nat}  # chapter 04's own record
    cut = recipes.resolve("cutmix", "offline", seeds=[0], device="cpu")
    assert {by[x].run_id for x in ("cutmix", "cutmix_zeta", "cutmix_zeta_compose")} == {s.run_id for s in cut}
    abl = recipes.resolve("ablation", "offline", seeds=[0], device="cpu")
    assert by["dirichlet_mixup"].run_id in {s.run_id for s in abl}  # chapter 08's record
    assert ("Fashion-MNIST", "dense_multimix") in m.dropped and "lenet5" in m.dropped[
        ("Fashion-MNIST", "dense_multimix")
    ]


def test_paper_fig9_is_manifold_mixup_at_ten_times_the_epochs():
    man, zeta = peers.manifold_matrices(_params("paper"))
    assert {s.dataset for s in man} == set(profiles.sizes("10_peers")["paper"]["manifold_datasets"])
    assert {s.method for s in man} == {"manifold_mixup"} and {s.alpha for s in man} == {2.0}
    z = {(s.dataset, s.seed): s for s in zeta}
    assert {s.method for s in zeta} == {"zeta_mixup"} and {s.gamma for s in zeta} == {2.8}
    for s in man:
        assert s.epochs == 10 * z[(s.dataset, s.seed)].epochs and s.arch == z[(s.dataset, s.seed)].arch
    cifar = next(s for s in man if s.dataset == "CIFAR-10")
    assert (cifar.epochs, cifar.milestones, cifar.batch_size, cifar.weight_decay) == (2000, (1000, 1500), 100, 1e-4)
    off_man, off_zeta = peers.manifold_matrices(_params("offline"))
    assert all(s.epochs == 10 * next(z.epochs for z in off_zeta if z.dataset == s.dataset) for s in off_man)


def test_table1_protocol_uses_algorithm_1_alphas():
    p = _params("smoke")
    m = peers.kmixup_matrix(p, alphas={("digits", 1.0, 16): 3.5})
    k16 = [s for s in m if s.method == "kmixup"]
    assert k16 and all(s.alpha == 3.5 and dict(s.extra)["k"] == 16 for s in k16)
    assert any(s.method == "mixup" and s.alpha == 1.0 for s in m) and any(s.method == "erm" for s in m)


def test_check_knobs_names_the_bad_knob():
    with pytest.raises(ValueError, match=r"methods\[0\] must be one of .*got 'fancymix'"):
        peers.check_knobs(_params(methods=["fancymix"]))
    with pytest.raises(ValueError, match=r"uci_datasets\[0\] must be one of .*got 'abalone'"):
        peers.check_knobs(_params(uci_datasets=["abalone"]))
    with pytest.raises(ValueError, match=r"lsi_batch must be \[B, C, H, W\]"):
        peers.check_knobs(_params(lsi_batch=[8, 3]))
    with pytest.raises(ValueError, match="dataset must be one of"):
        peers.check_knobs(_params(manifold_datasets=["nowhere"]))
    peers.check_knobs(_params())


# -------------------------------------------------------------------------------- MultiMix in the engine


def test_multimix_probability_switches_to_mixup():
    z, y = torch.randn(8, 5), torch.arange(8) % 3
    assert mixing.multimix(z, y, n=20, prob=0.0, num_classes=3, generator=torch.Generator().manual_seed(0))[
        0
    ].shape == (8, 5)
    assert mixing.multimix(z, y, n=20, prob=1.0, num_classes=3)[0].shape == (20, 5)
    g = torch.Generator().manual_seed(1)
    sizes = [mixing.multimix(z, y, n=20, prob=0.5, num_classes=3, generator=g)[0].shape[0] for _ in range(60)]
    assert 15 < sizes.count(20) < 45
    with pytest.raises(ValueError, match="prob must be <= 1"):
        mixing.multimix(z, y, prob=1.5, num_classes=3)


def test_dense_space_is_dense_multimix_only():
    assert RunSpec("digits", method="dense_multimix").space == "dense"
    with pytest.raises(ValueError, match="space 'dense' is Dense MultiMix's"):
        RunSpec("digits", method="zeta_mixup", space="dense")
    assert METHODS["dense_multimix"].mixer == "multimix"


def _tiny(n=24, size=8):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, 1, size, size, generator=g), torch.arange(n) % 3
    return {"train": ArrayDataset(x, y), "test": ArrayDataset(x[:12], y[:12])}, 3, None


@pytest.mark.parametrize("method", ["multimix", "dense_multimix"])
@pytest.mark.slow
def test_multimix_protocol_trains(method):
    extra = {"n": 64, "prob": 0.5, "mixup_alpha": 2.0}
    spec = RunSpec(
        "digits",
        method=method,
        arch="digits_cnn",
        epochs=2,
        batch_size=8,
        lr=0.05,
        alpha=(0.5, 2.0),
        extra=extra,
        device="cpu",
    )
    rec = train.fit(spec, results_dir=None, progress=False, datasets=_tiny())
    assert rec.complete and all(math.isfinite(h["train_loss"]) and 0 <= h["train_acc"] <= 1 for h in rec.history)


def test_dense_multimix_needs_a_pooled_feature_map():
    lenet = models.build("lenet5", num_classes=3, in_channels=1)
    with pytest.raises(ValueError, match="spatial=True needs an embedding pooled"):
        lenet.forward_features(torch.rand(2, 1, 28, 28), spatial=True)
    cnn = models.build("digits_cnn", num_classes=3, in_channels=1).eval()
    x = torch.rand(2, 1, 8, 8)
    z = cnn.forward_features(x, spatial=True)
    torch.testing.assert_close(cnn.forward_head(z, dense=True).mean(1), cnn(x))  # linear head commutes with GAP


# ------------------------------------------------------------------------------------- tables and figure


def _runs(methods, accs, *, dataset="wine", epochs=(40,), wall=1.0):
    rows = []
    for m, acc in zip(methods, accs):
        for seed in range(2):
            a, times = acc + 0.01 * seed, 10 if m == "manifold_mixup" else 1
            gamma = 2.8 if m == "zeta_mixup" else None
            run = {
                "run_id": f"{m}{seed}",
                "dataset": dataset,
                "arch": "mlp",
                "method": m,
                "gamma": gamma,
                "alpha": None,
            }
            rows.append(
                {
                    **run,
                    "seed": seed,
                    "test_acc": a,
                    "test_err": 1 - a,
                    "epochs": epochs[0] * times,
                    "wall_time_s": wall * times,
                    "device_name": "x86_64",
                    "extra": (),
                }
            )
    return pd.DataFrame(rows)


def test_fig9_frame_and_figure():
    r = _runs(["zeta_mixup", "manifold_mixup"], [0.9, 0.8])
    f = peers.fig9_frame(r[r["method"] == "manifold_mixup"], r[r["method"] == "zeta_mixup"])
    row = f.iloc[0]
    assert row["ζ-mixup acc"] == pytest.approx(90.5) and row["ζ − manifold error (points)"] == pytest.approx(-10.0)
    assert row["cost ratio (wall time)"] == pytest.approx(10.0) and row["epochs (ζ-mixup / manifold)"] == "40 / 400"
    fig = peers.fig9(f, label="test")
    assert fig.axes[0].get_ylabel() == "test accuracy (%)"
    assert "at least manifold mixup's on 1 of 1" in peers.fig9_reading(f, profile="smoke")


def test_leaderboard_table():
    r = _runs(["erm", "zeta_mixup", "mixup"], [0.8, 0.9, 0.85])
    rows = []
    for rid in r["run_id"]:
        load = 3.0 if rid.endswith("1") else 1.0  # seed 1 trained while the machine was three times slower
        train_s = (2.0 if rid.startswith("mixup") else 1.0) * load  # mixup costs twice ERM's training time
        rows.append({"run_id": rid, "train_time_s": train_s, "epoch_time_s": train_s + 0.5 * load})  # evaluation: 0.5
    hist = pd.DataFrame(rows)
    t = peers.leaderboard(r, hist, profile="smoke", dropped={("wine", "dense_multimix"): "not here"})
    assert t.loc[("wine (mlp)", "mixup"), "time / epoch vs ERM"] == "2.00×"
    assert t.loc[("wine (mlp)", "mixup"), "− ζ-mixup (points)"].startswith("-5.00")
    assert t.loc[("wine (mlp)", "Dense MultiMix"), "note"] == "not here"
    assert "most accurate ζ-mixup" in peers.board_reading(r, hist, profile="smoke")


def test_table2_sets_our_rows_beside_the_papers():
    r = _runs(["zeta_mixup", "multimix"], [0.9, 0.91], dataset="digits")
    t = peers.table2(r, profile="smoke")
    assert t.loc["MultiMix", "CIFAR-100 · PreActResNet-18 (paper)"] == "81.82"
    assert t.loc["ζ-mixup", "CIFAR-100 · PreActResNet-18 (paper)"] == "80.46"  # the MultiMix authors' reproduction
    ours = [c for c in t.columns if c.startswith("digits")]
    assert ours and t.loc["MultiMix", ours[0]] == "91.50 ± 0.71"


def test_lsi_reading_of_table9s_timing():
    from zmixlib.chapters import timing

    t = timing.lsi_timing([4, 1, 4, 4], rounds=1)
    lsi = t.loc["local synthetic instances"]
    assert lsi["paper × ζ-mixup"] == pytest.approx(38700 / 345) and lsi["ours × ζ-mixup (median over rounds)"] > 0
    assert "Table 9: 112×" in peers.lsi_reading(t)
    assert np.isclose(t.loc["ζ-mixup (γ = 2.8)", "ours × ζ-mixup (median over rounds)"], 1.0)


def test_run_summary_and_engine_cost():
    m = peers.leaderboard_matrix(_params())
    table = peers.run_summary({"leaderboard": m})
    assert table["runs"].sum() == len(m) and table.index.names[0] == "experiment"
    runs = pd.DataFrame(
        [
            {"run_id": "a", "section": "peers", "wall_time_s": 60.0},
            {"run_id": "b", "section": "natural", "wall_time_s": 120.0},
        ]
    )
    text = peers.engine_cost(runs, runs)
    assert (
        text.startswith("1 runs of this chapter's own (1.0 worker-minutes)") and "natural; 2.0 worker-minutes" in text
    )


def test_methods_left_out_are_listed():
    p = _params(methods=[m for m in METHOD_NAMES if m != "local_synthetic_instances"])
    m = peers.leaderboard_matrix(p)
    assert "local_synthetic_instances" not in {s.method for s in m}
    assert "methods" in m.dropped[("digits", "local_synthetic_instances")]


def test_train_chapter_trains_every_experiment_in_one_sweep(monkeypatch, tmp_path):
    from zmixlib.protocol import regime
    from zmixlib.tables import report

    trained, read = [], []
    monkeypatch.setattr(report, "train", lambda specs, params: trained.append(list(specs)))
    monkeypatch.setattr(report, "sweep_dir", lambda results_dir, profile: tmp_path)
    monkeypatch.setattr(
        report, "load_runs", lambda m, out: read.append(len(m)) or (pd.DataFrame({"n": [len(m)]}), pd.DataFrame())
    )
    monkeypatch.setattr(regime, "check", lambda history: "checked")
    sweep = peers.train_chapter(_params())
    assert len(trained) == 1 and len(read) == 6 and sweep.out == tmp_path
    assert set(sweep.experiments) == {
        "leaderboard",
        "Table 1 protocol",
        "MultiMix",
        "Fig. 9 manifold",
        "Fig. 9 ζ-mixup",
    }
    assert len(trained[0]) == sum(len(m) for m in sweep.experiments.values()) + read[-1]
    assert sweep.board_runs["n"].item() == len(sweep.board_matrix) and sweep.fig9_regime == "checked"


def test_chapter_cells_show_and_return(monkeypatch):
    from zmixlib.chapters.peers import chapter

    shown = []
    monkeypatch.setattr(chapter, "show", shown.append)
    r = _runs(["zeta_mixup", "manifold_mixup"], [0.9, 0.8])
    sweep = SimpleNamespace(
        fig9_runs=r[r["method"] == "manifold_mixup"],
        fig9_zeta_runs=r[r["method"] == "zeta_mixup"],
        alphas={("digits", 1.0, 16): 2.5},
        table1_regime="regime",
        table1_runs=r,
    )
    frame = peers.show_fig9(sweep, SimpleNamespace(profile="smoke"))
    assert frame.iloc[0]["ζ-mixup acc"] == pytest.approx(90.5) and shown[0].index.name == "dataset"
    monkeypatch.setattr(chapter, "kmixup_table1", lambda runs, params, alphas: ("table 1", None))
    paper_table = peers.show_table1(sweep, SimpleNamespace())
    assert shown[1].iloc[0, 0] == 2.5 and shown[2:] == ["regime", "table 1"]
    assert list(paper_table.columns)[0] == "ERM" and len(paper_table)
    lsi = peers.time_lsi(SimpleNamespace(threads=None, lsi_batch=[4, 1, 4, 4], lsi_rounds=1, torch_device="cpu"))
    assert "local synthetic instances" in lsi.index


def test_glue_readings_glues_every_reading(monkeypatch):
    import myst_nb

    from zmixlib.chapters.peers import chapter

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.setdefault(name, value))
    for name in ("board_reading", "uci_reading", "uci_cost", "engine_cost", "multimix_reading", "fig9_reading"):
        monkeypatch.setattr(chapter, name, lambda *a, _n=name, **k: _n)
    monkeypatch.setattr(chapter, "lsi_reading", lambda t: "lsi")
    sweep = SimpleNamespace(board_regime=None, **{k: None for k in ("board_runs", "board_history", "table1_runs")})
    sweep.multimix_runs = sweep.fig9_runs = sweep.fig9_zeta_runs = None
    peers.glue_readings(sweep, SimpleNamespace(profile="smoke", workers=1), uci=0, multimix_pairs=0, f9=0, lsi=0)
    assert glued["engine_cost"] == "engine_cost" and glued["reading_lsi"] == "lsi" and len(glued) == 7
    peers.display_options()
    assert pd.get_option("display.width") == 220
    pd.reset_option("display.width")
