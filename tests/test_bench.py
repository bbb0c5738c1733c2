"""Tests of the timing harness's logic (no timing assertions: the machine is shared and noisy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from zmixlib import bench, mixing


class Costed:
    """A fake candidate: calling it does nothing; the patched timer reports ``cost`` seconds per call."""

    def __init__(self, cost: float):
        self.cost = cost
        self.calls = 0

    def __call__(self):
        self.calls += 1


@pytest.fixture
def fake_timer(monkeypatch):
    monkeypatch.setattr(bench, "_timer", lambda fn, num_threads: fn)
    monkeypatch.setattr(bench, "_block_seconds", lambda timer, number: timer.cost)

    def refs(x, matmul_size):
        return {bench.COPY: Costed(0.002), bench.MATMUL: Costed(0.010)}, 100

    monkeypatch.setattr(bench, "_reference_points", refs)


class TestCompare:
    def test_ratios_and_stats_fields(self, fake_timer):
        df = bench.compare({"zeta_mixup": Costed(0.001), "slow": Costed(0.004)}, rounds=3, blocks=2)
        assert df.loc["zeta_mixup", "ratio_to_reference"] == 1.0
        assert df.loc["slow", "ratio_to_reference"] == pytest.approx(4.0)
        assert df.loc["slow", "median_ms"] == pytest.approx(4.0)
        assert df.loc["slow", "iqr_ms"] == pytest.approx(0.0)
        assert (df["samples"] == 6).all()
        for col in ("median_ms", "q1_ms", "q3_ms", "iqr_ms", "ratio_q1", "ratio_q3", "number", "minus"):
            assert col in df
        for key in ("reference", "rounds", "blocks", "num_threads", "device", "load_before", "load_after"):
            assert key in df.attrs

    def test_subtract(self, fake_timer):
        fns = {"zeta_mixup": Costed(0.001), "timm": Costed(0.005), "clone": Costed(0.002)}
        df = bench.compare(fns, rounds=2, blocks=1, subtract={"timm": "clone"})
        assert df.loc["timm", "median_ms"] == pytest.approx(3.0)
        assert df.loc["timm", "ratio_to_reference"] == pytest.approx(3.0)
        assert df.loc["timm", "minus"] == "clone"

    def test_limit(self, fake_timer):
        x = torch.zeros(4, 3, 5, 5)
        df = bench.compare({"zeta_mixup": Costed(0.003)}, rounds=2, blocks=1, limit_for=x)
        lim = df.attrs["limit"]
        gflops = 2 * 100**3 / 0.010 / 1e9
        roof_ms = 2 * 4 * 4 * 75 / (gflops * 1e9) * 1e3
        assert lim["matmul_gflops"] == pytest.approx(gflops)
        assert lim["roofline_ms"] == pytest.approx(roof_ms)
        assert lim["copy_ms"] == pytest.approx(2.0)
        assert lim["limit_ms"] == pytest.approx(max(2.0, roof_ms))
        assert lim["bound"] == "memory (copy)"
        assert df.loc["zeta_mixup", "ratio_to_limit"] == pytest.approx(1.5)
        assert {bench.COPY, bench.MATMUL} <= set(df.index)

    def test_interleaves_every_candidate_every_round(self, monkeypatch):
        seen = []
        monkeypatch.setattr(bench, "_timer", lambda fn, num_threads: fn)
        monkeypatch.setattr(bench, "_block_seconds", lambda t, number: seen.append(t.name) or 0.001)

        class Named(Costed):
            def __init__(self, name):
                super().__init__(0.001)
                self.name = name

        bench.compare({n: Named(n) for n in "abc"}, reference="a", rounds=3, blocks=1, warmup=0)
        timed = seen[3:]  # after calibration
        assert timed == list("abc") + list("bca") + list("cab")

    def test_real_timer(self):
        x = torch.randn(8, 64)
        df = bench.compare({"zeta_mixup": lambda: x @ x.T, "add": lambda: x + 1}, rounds=2, blocks=1, block_time=1e-4)
        assert (df["median_ms"] > 0).all()
        assert df.loc["zeta_mixup", "ratio_to_reference"] == 1.0

    def test_errors(self):
        with pytest.raises(ValueError, match="reference must be one of"):
            bench.compare({"a": lambda: None}, reference="zeta_mixup")
        with pytest.raises(ValueError, match="subtract must map"):
            bench.compare({"a": lambda: None}, reference="a", subtract={"a": "b"})
        with pytest.raises(ValueError, match="at least one candidate"):
            bench.compare({}, reference=None)
        with pytest.raises(ValueError, match="rounds must be >= 1"):
            bench.compare({"a": lambda: None}, reference="a", rounds=0)

    def test_time_fn(self):
        out = bench.time_fn(lambda: torch.ones(10).sum(), min_run_time=0.01)
        assert out["median_ms"] > 0 and out["blocks"] >= 1


def _p_series(b: int, gamma: float) -> np.ndarray:
    w = np.arange(1, b + 1, dtype=np.float64) ** -gamma
    return w / w.sum()


class TestAuthorsWeights:
    @pytest.mark.parametrize("b", [2, 5, 32])
    def test_structure(self, b):
        w = bench.authors_zeta_weights(b, 2.8, rng=np.random.default_rng(0))
        assert w.shape == (b, b) and w.dtype == torch.float32
        torch.testing.assert_close(w.sum(1), torch.ones(b))
        assert torch.equal(w.argmax(1), torch.arange(b))  # largest weight on the diagonal
        p = _p_series(b, 2.8)
        np.testing.assert_allclose(np.sort(w.numpy(), axis=1)[:, ::-1], np.tile(p, (b, 1)), rtol=1e-5)

    def test_fft_shift_is_a_circular_shift(self):
        """The FFT trick equals rolling each random ranking so that rank 1 lands on the diagonal."""
        b = 7
        rng = np.random.default_rng(3)
        ranks = np.argsort(np.random.default_rng(3).random((b, b)), axis=1) + 1
        rolled = np.stack([np.roll(r, -(int(np.nonzero(r == 1)[0][0]) - i)) for i, r in enumerate(ranks)])
        w = bench.authors_zeta_weights(b, 1.0, rng=rng).numpy()
        expected = 1.0 / rolled
        np.testing.assert_allclose(w, expected / expected.sum(1, keepdims=True), rtol=1e-6)

    def test_same_distribution_as_ours(self):
        """Off-diagonal rank patterns of a row are uniform for both constructions (chi-square)."""
        from scipy.stats import chisquare

        b, n = 4, 3000
        rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(1)
        for make in (
            lambda: bench.authors_zeta_weights(b, 2.0, rng=rng),
            lambda: mixing.zeta_weights(b, 2.0, generator=gen),
        ):
            counts: dict[tuple[int, ...], int] = {}
            for _ in range(n // b):
                w = make()
                for i in range(b):
                    off = torch.cat([w[i, :i], w[i, i + 1 :]])
                    key = tuple(torch.argsort(off, descending=True).tolist())
                    counts[key] = counts.get(key, 0) + 1
            assert len(counts) == math.factorial(b - 1)
            assert chisquare(list(counts.values())).pvalue > 1e-3

    def test_mean_matrix_matches_ours(self):
        b, n = 6, 400
        rng, gen = np.random.default_rng(2), torch.Generator().manual_seed(2)
        ours = torch.stack([mixing.zeta_weights(b, 2.8, generator=gen) for _ in range(n)]).mean(0)
        theirs = torch.stack([bench.authors_zeta_weights(b, 2.8, rng=rng) for _ in range(n)]).mean(0)
        torch.testing.assert_close(ours.diagonal(), theirs.diagonal())
        p = _p_series(b, 2.8)
        off = ~torch.eye(b, dtype=torch.bool)
        assert abs(float(theirs[off].mean()) - (1 - p[0]) / (b - 1)) < 1e-6
        assert float((ours[off] - theirs[off]).abs().max()) < 0.02

    def test_authors_mixup_is_convex(self):
        b, k = 6, 6
        x = torch.arange(b, dtype=torch.float32).view(b, 1, 1, 1).expand(b, 2, 3, 3).contiguous()
        y = torch.arange(b)
        x_new, y_new = bench.authors_zeta_mixup(x, y, num_classes=k)
        torch.testing.assert_close(y_new.sum(1), torch.ones(b))
        expected = (y_new * torch.arange(k, dtype=torch.float32)).sum(1)
        torch.testing.assert_close(x_new[:, 0, 0, 0], expected)
        assert x_new.shape == x.shape


class TestPaper:
    def test_parse_duration(self):
        assert bench.parse_duration("1h19m +- 30s") == (4740.0, 30.0)
        assert bench.parse_duration("24m59s +- 16.9s") == pytest.approx((1499.0, 16.9))
        assert bench.parse_duration("745")[0] == 745.0
        assert math.isnan(bench.parse_duration("745")[1])
        assert bench.parse_duration("16h15m (2000 epochs)")[0] == 16 * 3600 + 15 * 60
        with pytest.raises(ValueError, match="cannot parse"):
            bench.parse_duration("n/a")

    def test_paper_table9(self):
        p = bench.paper_table9()
        assert p.loc["zeta_mixup", "paper_ms"] == pytest.approx(0.345)
        assert p.loc["mixup", "paper_ms"] == pytest.approx(0.745)
        assert p.loc["local_synthetic_instances", "paper_ms"] == pytest.approx(38.7)
        assert p.loc["mixup", "paper_sd_ms"] == pytest.approx(0.00955)
        assert p.loc["local_synthetic_instances", "paper_sd_ms"] == pytest.approx(1.33)

    def test_paper_training_times(self):
        t = bench.paper_training_times()
        row = t[(t.dataset == "CIFAR-10") & (t.method == "zeta-mixup")].iloc[0]
        assert row.seconds == 4860.0 and row.sd == 23.0


class TestSuites:
    def test_table9_candidates_run(self):
        x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 4, (16,))
        fns, subtract = bench.table9_candidates(x, y, num_classes=4)
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
        df = bench.table9(batch_size=8, resolution=8, rounds=1, blocks=1, block_time=1e-4, include_slow=False)
        assert df.loc["zeta_mixup", "ratio_to_reference"] == 1.0
        assert {"ratio_to_limit", "paper_ms", "paper_ratio_to_zeta"} <= set(df.columns)
        assert df.loc["mixup", "paper_ratio_to_zeta"] == pytest.approx(745 / 345)
        assert df.attrs["limit"]["limit_ms"] > 0 and df.attrs["batch_shape"] == [8, 3, 8, 8]
        assert "local_synthetic_instances" not in df.index

    def test_weights_comparison(self):
        w = bench.weights_comparison((8,), rounds=1, blocks=1)
        assert list(w.index) == [8]
        assert {"ours_ms", "authors_ms", "speedup", "speedup_q1", "speedup_q3"} <= set(w.columns)

    def test_scaling(self):
        s = bench.scaling(
            batch_sizes=(4, 8),
            resolutions=(8,),
            fixed_resolution=8,
            fixed_batch=4,
            dtypes=("float32", "bfloat16"),
            rounds=1,
            blocks=1,
            block_time=1e-4,
        )
        assert set(s["sweep"]) == {"batch", "resolution"}
        assert {"zeta_mixup", "mixup", "torchvision MixUp", bench.COPY, bench.MATMUL} <= set(s["method"])
        assert (s["limit_ms"] > 0).all()

    def test_training_overhead(self):
        tr = bench.training_overhead(("zeta_mixup",), arch="lenet5", batch_size=4, image_size=32, rounds=1)
        assert list(tr.index) == ["ERM", "zeta_mixup"]
        assert tr.loc["ERM", "ratio_to_erm"] == 1.0 and tr.loc["ERM", "overhead_pct"] == 0.0
        assert tr.loc["zeta_mixup", "mix_ms"] > 0

    def test_targets(self):
        import pandas as pd

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

    def test_dtype_supported(self):
        assert bench.dtype_supported(torch.float32)

    def test_main(self, capsys, tmp_path):
        assert (
            bench.main(["--what", "weights", "--rounds", "1", "--weight-batch-sizes", "8,16", "--out", str(tmp_path)])
            == 0
        )
        assert "ζ-weight generation" in capsys.readouterr().out
        assert (tmp_path / "weights.csv").exists()
        assert bench.main(["--what", "nonsense"]) == 2


def test_load_warning(monkeypatch):
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(bench, "_loadavg", lambda: 0.1)
    assert bench.load_warning(2) is None
    monkeypatch.setattr(bench, "_loadavg", lambda: 4.0)
    assert "machine busy" in bench.load_warning(2)


def test_target_notes():
    import pandas as pd

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
    notes = bench.target_notes(bench.targets(table), table)
    assert notes[0].startswith("zeta_vs_limit") and notes[0].endswith("met.")
    assert "out of reach" in notes[1]  # torchvision: 4 ms / 2 ms limit = 2 < 3
    assert notes[2].endswith("met.")
