"""Tests of the timing harness's logic (no timing assertions: the machine is shared and noisy), and of the
``python -m zmixlib bench`` command."""

from __future__ import annotations

import pytest
import torch

from zmixlib import bench, cli
from zmixlib.bench import harness, speed_targets


class Costed:
    """A fake candidate: calling it does nothing; the patched timer reports ``cost`` seconds per call."""

    def __init__(self, cost: float):
        self.cost = cost
        self.calls = 0

    def __call__(self):
        self.calls += 1


@pytest.fixture
def fake_timer(monkeypatch):
    monkeypatch.setattr(harness, "_timer", lambda fn, num_threads: fn)
    monkeypatch.setattr(harness, "_block_seconds", lambda timer, number: timer.cost)

    def refs(x, matmul_size):
        return {bench.COPY: Costed(0.002), bench.MATMUL: Costed(0.010), bench.GEMM: Costed(0.0025)}, 100

    monkeypatch.setattr(harness, "_reference_points", refs)


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
        assert {bench.COPY, bench.MATMUL, bench.GEMM} <= set(df.index)
        assert lim["gemm_ms"] == pytest.approx(2.5)
        assert lim["gemm_gflops"] == pytest.approx(2 * 4 * 4 * 75 / 0.0025 / 1e9)

    def test_the_gemm_reference_is_zeta_mixups_product(self):
        x = torch.randn(6, 2, 3, 3)
        refs, n = harness._reference_points(x, 8)
        out = refs[bench.GEMM]()
        assert out.shape == (6, 18) and n == 8
        w = torch.linalg.lstsq(x.reshape(6, -1).T, out.T).solution.T  # the weights it applied
        torch.testing.assert_close(w.sum(dim=1), torch.ones(6), atol=1e-4, rtol=0)

    def test_interleaves_every_candidate_every_round(self, monkeypatch):
        seen = []
        monkeypatch.setattr(harness, "_timer", lambda fn, num_threads: fn)
        monkeypatch.setattr(harness, "_block_seconds", lambda t, number: seen.append(t.name) or 0.001)

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


def test_load_warning(monkeypatch):
    monkeypatch.setattr(harness.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(harness, "_loadavg", lambda: 0.1)
    assert bench.load_warning(2) is None
    monkeypatch.setattr(harness, "_loadavg", lambda: 4.0)
    assert "machine busy" in bench.load_warning(2)
    assert bench.machine_text("cpu", 2).startswith(
        "machine: device=cpu, cpu="
    ) and "\nNOTE: machine busy" in bench.machine_text("cpu", 2)


def test_dtype_supported():
    assert bench.dtype_supported(torch.float32)


class TestCLI:
    def test_weights_to_csv(self, capsys, tmp_path):
        argv = ["--what", "weights", "--rounds", "1", "--weight-batch-sizes", "8,16", "--out", str(tmp_path)]
        assert cli.bench_main(argv) == 0
        assert "ζ-weight generation" in capsys.readouterr().out
        assert (tmp_path / "weights.csv").exists()

    def test_bad_what(self, capsys):
        assert cli.bench_main(["--what", "nonsense"]) == 2
        assert (
            "--what must list some of ['table9', 'weights', 'scaling', 'training', 'throughput']"
            in capsys.readouterr().err
        )
        assert cli.bench_main(["--what", "throughput", "--throughput-compile", "fast"]) == 2
        assert "--throughput-compile must list eager and/or compiled, got 'fast'" in capsys.readouterr().err


def test_quantile_and_best_time():
    assert bench.quantile([1.0, 2.0, 3.0], 0.5) == 2.0
    assert bench.quantile([], 0.25) != bench.quantile([], 0.25)  # NaN when there is nothing to summarise
    calls = []
    seconds, result = bench.best_time(lambda: calls.append(1) or len(calls), repeats=3)
    assert result == 3 and len(calls) == 3 and seconds >= 0
    assert bench.best_time(lambda: torch.ones(2), repeats=0)[1].tolist() == [1.0, 1.0]  # at least one call


def test_one_targets_table_documents_every_row():
    assert set(bench.TARGETS) == {
        "zeta_vs_limit",
        "torchvision_vs_zeta",
        "timm_vs_zeta",
        "authors_weights_vs_ours",
        "train_overhead_pct",
        "device_vs_loader",
        "two_runs_vs_one",
        "best_vs_baseline",
    }
    for name, t in bench.TARGETS.items():
        assert t.op in ("<=", ">=") and t.goal > 0 and t.what and t.source, name
    assert all(
        f"``{name}``" in speed_targets.__doc__ for name in bench.TARGETS
    )  # the module's table lists every target
    assert bench.TARGETS["zeta_vs_limit"].met(1.5) and not bench.TARGETS["timm_vs_zeta"].met(2.9)
