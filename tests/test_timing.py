"""zmixlib.chapters.timing: Table 9's protocol, the paper's numbers, the targets (no timing assertions: the machine is shared)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from zmixlib import bench
from zmixlib.chapters import timing


class TestPaper:
    def test_parse_duration(self):
        assert timing.parse_duration("1h19m +- 30s") == (4740.0, 30.0)
        assert timing.parse_duration("24m59s +- 16.9s") == pytest.approx((1499.0, 16.9))
        assert timing.parse_duration("745")[0] == 745.0
        assert math.isnan(timing.parse_duration("745")[1])
        assert timing.parse_duration("16h15m (2000 epochs)")[0] == 16 * 3600 + 15 * 60
        with pytest.raises(ValueError, match="cannot parse"):
            timing.parse_duration("n/a")

    def test_paper_table9(self):
        p = timing.paper_table9()
        assert p.loc["zeta_mixup", "paper_ms"] == pytest.approx(0.345)
        assert p.loc["mixup", "paper_ms"] == pytest.approx(0.745)
        assert p.loc["local_synthetic_instances", "paper_ms"] == pytest.approx(38.7)
        assert p.loc["mixup", "paper_sd_ms"] == pytest.approx(0.00955)
        assert p.loc["local_synthetic_instances", "paper_sd_ms"] == pytest.approx(1.33)

    def test_paper_training_times(self):
        t = timing.paper_training_times()
        row = t[(t.dataset == "CIFAR-10") & (t.method == "zeta-mixup")].iloc[0]
        assert row.seconds == 4860.0 and row.sd == 23.0


class TestSuites:
    def test_table9_candidates_run(self):
        x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 4, (16,))
        fns, subtract = timing.table9_candidates(x, y, num_classes=4)
        assert "zeta_mixup" in fns and "torchvision MixUp" in fns and "kmixup (k=16)" in fns
        x0 = x.clone()
        for name, fn in fns.items():
            out = fn()
            if isinstance(out, tuple):
                assert out[0].shape == x.shape, name
                assert out[1].shape == (16, 4), name
                torch.testing.assert_close(out[1].float().sum(1), torch.ones(16), msg=name)
        assert torch.equal(x, x0)  # timm ran on a clone
        assert subtract == {"timm Mixup": "clone for timm (x.clone())"}

    def test_table9_small(self):
        df = timing.table9(batch_size=8, resolution=8, rounds=1, blocks=1, block_time=1e-4, include_slow=False)
        assert df.loc["zeta_mixup", "ratio_to_reference"] == 1.0
        assert {"ratio_to_limit", "paper_ms", "paper_ratio_to_zeta"} <= set(df.columns)
        assert df.loc["mixup", "paper_ratio_to_zeta"] == pytest.approx(745 / 345)
        assert df.attrs["limit"]["limit_ms"] > 0 and df.attrs["batch_shape"] == [8, 3, 8, 8]
        assert "local_synthetic_instances" not in df.index

    def test_weights_comparison(self):
        w = timing.weights_comparison((8,), rounds=1, blocks=1)
        assert list(w.index) == [8]
        assert {"ours_ms", "authors_ms", "speedup", "speedup_q1", "speedup_q3"} <= set(w.columns)

    def test_scaling(self):
        s = timing.scaling(
            batch_sizes=(4, 8),
            resolutions=(8,),
            fixed_resolution=8,
            fixed_batch=4,
            dtypes=("float32", "bfloat16"),
            rounds=1,
            blocks=1,
            block_time=1e-4,
            matmul_size=64,  # a small roofline matmul: bf16 on a CPU is slow, and the logic is what is tested
        )
        assert set(s["sweep"]) == {"batch", "resolution"}
        assert {"zeta_mixup", "mixup", "torchvision MixUp", bench.COPY, bench.MATMUL} <= set(s["method"])
        assert (s["limit_ms"] > 0).all()

    @pytest.mark.slow
    def test_training_overhead(self):
        tr = timing.training_overhead(("zeta_mixup",), arch="lenet5", batch_size=4, image_size=32, rounds=1)
        assert list(tr.index) == ["ERM", "zeta_mixup"]
        assert tr.loc["ERM", "ratio_to_erm"] == 1.0 and tr.loc["ERM", "overhead_pct"] == 0.0
        assert tr.loc["zeta_mixup", "mix_ms"] > 0
        assert timing.training_caption(tr).startswith("lenet5, B = 4, 32 px, cpu, AMP False, load average")

    def test_targets(self):
        table = pd.DataFrame(
            {"ratio_to_limit": [1.2, 0, 0], "ratio_to_reference": [1.0, 3.5, 2.0]},
            index=["zeta_mixup", "torchvision MixUp", "timm Mixup"],
        )
        weights = pd.DataFrame({"speedup": [2.0, 4.0]}, index=pd.Index([32, 512], name="batch_size"))
        tg = bench.targets(table, weights)
        assert tg.loc["zeta_vs_limit", "met"] and tg.loc["torchvision_vs_zeta", "met"]
        assert not tg.loc["timm_vs_zeta", "met"]
        assert tg.loc["authors_weights_vs_ours", "measured"] == 4.0
        assert len(bench.targets()) == 0


def test_target_notes():
    table = pd.DataFrame(
        {"median_ms": [2.0, 4.0, 9.0], "ratio_to_limit": [1.0, 2.0, 4.5], "ratio_to_reference": [1.0, 2.0, 4.5]},
        index=["zeta_mixup", "torchvision MixUp", "timm Mixup"],
    )
    table.attrs["limit"] = {
        "limit_ms": 2.0,
        "copy_ms": 1.0,
        "roofline_ms": 2.0,
        "matmul_gflops": 100.0,
        "flops": 3e8,
        "bound": "compute (roofline)",
    }
    notes = timing.target_notes(bench.targets(table), table)
    assert notes[0].startswith("zeta_vs_limit") and notes[0].endswith("met.")
    assert "out of reach" in notes[1]  # torchvision: 4 ms / 2 ms limit = 2 < 3
    assert notes[2].endswith("met.")


def test_the_limit_note_names_the_kernel_and_its_rate():
    table = pd.DataFrame(
        {"median_ms": [5.0, 4.0], "ratio_to_limit": [2.5, 2.0], "ratio_to_reference": [1.0, 0.8]},
        index=["zeta_mixup", "torchvision MixUp"],
    )
    table.attrs["batch_shape"] = [32, 3, 224, 224]
    table.attrs["limit"] = {
        "limit_ms": 2.0,
        "copy_ms": 1.0,
        "roofline_ms": 2.0,
        "matmul_gflops": 100.0,
        "flops": 2e8,
        "bound": "compute (roofline)",
        "gemm_ms": 4.0,
        "gemm_gflops": 50.0,
    }
    note = next(n for n in timing.target_notes(bench.targets(table), table) if n.startswith("zeta_vs_limit"))
    assert "ζ-mixup is 1.25× its own kernel" in note
    assert "K = B = 32, runs at 50 GFLOP/s, 50 % of the square matmul's 100 GFLOP/s" in note
    assert "4.00× the time of one copy" in note


def test_table9_times_a_chosen_few_on_any_batch_shape():
    df = timing.table9(shape=[4, 1, 4, 4], methods=timing.LSI_METHODS, limit=False, rounds=1, blocks=1, block_time=1e-4)
    assert list(df.index) == list(timing.LSI_METHODS) and df.attrs["batch_shape"] == [4, 1, 4, 4]
    assert "limit" not in df.attrs and "ratio_to_limit" not in df
    assert timing.table9_caption(df).startswith(
        "batch [4, 1, 4, 4] float32 on cpu"
    ) and "limit" not in timing.table9_caption(df)
    with pytest.raises(ValueError, match="methods must name Table 9's candidates"):
        timing.table9(shape=[4, 1, 4, 4], methods=["nonsense"], rounds=1)


def test_lsi_timing_sets_table9_beside_ours():
    t = timing.lsi_timing([4, 1, 4, 4], rounds=1)
    lsi = t.loc["local synthetic instances"]
    assert lsi["paper × ζ-mixup"] == pytest.approx(38700 / 345) and lsi["ours × ζ-mixup (median over rounds)"] > 0
    assert lsi["paper (µs)"] == pytest.approx(38700)
    assert math.isclose(t.loc["ζ-mixup (γ = 2.8)", "ours × ζ-mixup (median over rounds)"], 1.0)
    assert t.attrs["shape"] == [4, 1, 4, 4] and t.attrs["num_threads"] >= 1


def test_figures_draw_the_measured_frames():
    import matplotlib

    matplotlib.use("Agg")
    df = timing.table9(batch_size=4, resolution=8, rounds=1, blocks=1, block_time=1e-4, include_slow=False)
    assert timing.timing_bars(df, label="test").axes
    assert "ζ-mixup limit: {" in timing.table9_caption(
        df
    ) and "local synthetic instances: not timed" in timing.table9_caption(df)
    s = timing.scaling(
        batch_sizes=(4,),
        resolutions=(8,),
        fixed_resolution=8,
        fixed_batch=4,
        dtypes=("float32",),
        rounds=1,
        blocks=1,
        block_time=1e-4,
        matmul_size=8,
    )
    assert len(timing.timing_growth_grid(s, label="test").axes) == 2
    tr = pd.DataFrame(
        {"overhead_pct": [2.0], "overhead_q1_pct": [1.0], "overhead_q3_pct": [3.0], "mix_share_pct": [0.5]},
        index=["zeta_mixup"],
    )
    assert timing.overhead_bars(tr, label="test").axes


def _chapter_params(**kw):
    from types import SimpleNamespace

    base = dict(profile="smoke", torch_device=torch.device("cpu"), num_threads=None, seed=0, rounds=1)
    return SimpleNamespace(**(base | kw))


def test_chapter_cells_print_display_and_return_what_later_cells_use(monkeypatch, capsys):
    import functools

    import matplotlib

    from zmixlib.chapters.timing import chapter

    matplotlib.use("Agg")
    shown = []
    monkeypatch.setattr(chapter, "show", shown.append)
    monkeypatch.setattr(chapter, "table9", functools.partial(timing.table9, blocks=1, block_time=1e-4))
    monkeypatch.setattr(chapter, "weights_comparison", functools.partial(timing.weights_comparison, blocks=1))
    P = _chapter_params(batch_size=4, resolution=8, dtype="float32", include_slow=False, weight_batch_sizes=(4,))
    assert timing.here(P) == "this machine: smoke profile, cpu"

    timing.setup_machine(P)
    assert capsys.readouterr().out.startswith("machine: ")

    t9 = timing.run_table9(P)
    assert capsys.readouterr().out == timing.table9_caption(t9) + "\n"
    assert shown.pop().equals(timing.table9_view(t9))
    assert timing.draw_table9(P, t9).axes

    wt = timing.run_weights(P)
    assert list(wt.index) == [4] and shown.pop().equals(wt.round(4))

    tr = pd.DataFrame(
        {"overhead_pct": [2.0], "overhead_q1_pct": [1.0], "overhead_q3_pct": [3.0], "mix_share_pct": [0.5]},
        index=["zeta_mixup"],
    )
    tg = timing.show_targets(t9, wt, tr)
    assert shown.pop().equals(tg.round(3))
    notes = capsys.readouterr().out.splitlines()
    assert notes == ["- " + n for n in timing.target_notes(tg, t9)]
