"""zmixlib.bench.throughput: a tiny-size run of the benchmark (CI), the projection and the targets.

No assertion on speed: the machine is shared. The measured ratios are benchmark figures
(``python -m zmixlib bench --what throughput``), not tests.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from zmixlib import bench, cli, data
from zmixlib.bench import throughput
from zmixlib.chapters import timing
from zmixlib.protocol import recipes


def _table(rates: dict, arch="mlp", device="cpu") -> pd.DataFrame:
    idx = pd.MultiIndex.from_tuples(list(rates), names=["path", "compiled", "runs_per_device"])
    df = pd.DataFrame({"images_per_s": list(rates.values())}, index=idx)
    base = rates[("loader", False, 1)]
    df["ratio_to_baseline"] = df["images_per_s"] / base
    df["packing_gain"] = [v / rates[(p, c, 1)] for (p, c, _), v in rates.items()]
    df.attrs.update(arch=arch, input_shape=(1, 28, 28), num_classes=10, device=device)
    return df


def test_stand_in_loads_as_fashion_mnist(tmp_path):
    root, text, tmp = throughput.fashion_mnist_root(tmp_path / "none", images=40)
    try:
        ds = data.load("Fashion-MNIST", "train", root=root)
        assert len(ds) == 40 and tuple(ds[0][0].shape) == (1, 28, 28) and "stand-in" in text
        real, text, again = throughput.fashion_mnist_root(root, images=40)  # files present: read, not written
        assert real == root and again is None and text.startswith("Fashion-MNIST (40 training images")
    finally:
        shutil.rmtree(tmp)


def test_forward_flops_counts_the_mlp():
    dims = [784, 128, 128, 10]
    expected = 2 * sum(a * b for a, b in zip(dims, dims[1:]))
    assert timing.forward_flops("mlp", (1, 28, 28), 10) == expected
    assert timing.forward_flops("resnet18_cifar", (3, 32, 32), 10) > 100 * expected


def test_project():
    rates = {
        ("loader", False, 1): 100.0,
        ("loader", False, 2): 150.0,
        ("device", False, 1): 200.0,
        ("device", False, 2): 400.0,
    }
    proj = timing.project(_table(rates), sections=["ablation", "skin"])
    abl = proj.loc["ablation"]
    assert abl["runs"] == abl["runs_projected"] == len(recipes.resolve("ablation", "paper"))
    assert abl["train_images"] == sum(s.epochs * 50_000 for s in recipes.resolve("ablation", "paper"))
    assert abl["baseline_h"] / abl["best_h"] == pytest.approx(4.0)  # 400 / 100 images/s
    assert abl["best_cell"] == "device, eager, 2 run(s)/device"
    skin = proj.loc["skin"]
    assert skin["missing"] == "MSK, UDA" and 0 < skin["runs_projected"] < skin["runs"]
    faster = timing.project(_table({k: 2 * v for k, v in rates.items()}), sections=["ablation"])
    assert faster.loc["ablation", "best_h"] == pytest.approx(abl["best_h"] / 2)


def test_targets():
    cpu = _table(
        {
            ("loader", False, 1): 100.0,
            ("loader", False, 2): 140.0,
            ("device", False, 1): 150.0,
            ("device", False, 2): 240.0,
        }
    )
    tg = bench.targets(throughput=cpu)
    assert tg.loc["device_vs_loader", "measured"] == 1.5 and tg.loc["device_vs_loader", "met"]
    assert tg.loc["two_runs_vs_one", "measured"] == 1.6 and tg.loc["two_runs_vs_one", "met"]
    gpu = _table({("loader", False, 1): 100.0, ("device", False, 1): 250.0}, device="cuda")
    tg = bench.targets(throughput=gpu)
    assert list(tg.index) == ["best_vs_baseline"] and not tg.loc["best_vs_baseline", "met"]


def test_errors(tmp_path):
    with pytest.raises(ValueError, match=r"paths\[\] must be one of \['loader', 'device'\], got 'disk'"):
        throughput.measure(paths=("disk",))
    with pytest.raises(ValueError, match="runs_per_device\\[\\] must be >= 1"):
        throughput.measure(runs_per_device=(0,))
    with pytest.raises(ValueError, match="images must be >= batch_size=16, got 8"):
        throughput.measure(arch="mlp", batch_size=16, images=8, device="cpu", data_root=tmp_path)


@pytest.mark.slow
def test_tiny_benchmark_from_the_command_line(tmp_path, capsys):
    """The CI-size run of ``python -m zmixlib bench --what throughput``: every cell measured, the stand-in used
    (and removed), the projection of every paper table written."""
    argv = [
        "--what",
        "throughput",
        "--device",
        "cpu",
        "--throughput-arch",
        "mlp",
        "--throughput-runs-per-device",
        "1,2",
        "--throughput-steps",
        "2",
        "--throughput-warmup",
        "1",
        "--throughput-rounds",
        "2",
        "--throughput-images",
        "72",
        "--throughput-batch-size",
        "16",
        "--data-root",
        str(tmp_path / "none"),
        "--out",
        str(tmp_path / "out"),
    ]
    assert cli.bench_main(argv) == 0
    out = capsys.readouterr().out
    assert "data: stand-in: 72 random 28x28 uint8 images" in out and "batch 16, 64 images" in out  # whole batches
    assert "Projected training time of each paper table" in out
    table = pd.read_csv(tmp_path / "out" / "throughput.csv", index_col=[0, 1, 2])
    assert list(table.index) == [(p, False, k) for p in ("loader", "device") for k in (1, 2)]
    assert (table["images_per_s"] > 0).all() and (table["q1"] <= table["q3"]).all()
    assert table.loc[("loader", False, 1), "ratio_to_baseline"] == 1.0
    assert table.loc[("device", False, 1), "packing_gain"] == 1.0
    assert (
        table.loc[("loader", False, 2), "per_run_images_per_s"] == table.loc[("loader", False, 2), "images_per_s"] / 2
    )
    assert list(table["execution"]) == ["DataLoader, eager"] * 2 + ["device-resident, eager"] * 2
    proj = pd.read_csv(tmp_path / "out" / "projection.csv", index_col=0)
    assert set(recipes.SECTIONS) == set(proj.index) and np.isfinite(proj["best_h"]).all()
    assert {"device_vs_loader", "two_runs_vs_one"} <= set(pd.read_csv(tmp_path / "out" / "targets.csv")["target"])
    assert not (tmp_path / "none").exists()
