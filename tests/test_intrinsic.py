"""zmixlib.analysis.intrinsic: batched Fukunaga–Olsen local ID, cross-checked point by point against skdim."""

import math

import numpy as np
import pytest
import torch

from zmixlib import data
from zmixlib.analysis import intrinsic
from zmixlib.chapters import intrinsic_dimension as idim

skdim = pytest.importorskip("skdim")


def _digits(n=None):
    from sklearn.datasets import load_digits

    x = load_digits().data.astype(np.float64)
    return x if n is None else x[:n]


def _manifold(name, n, seed=0):
    return data.synthetic(name, n, seed=seed)[0].double().numpy()


CASES = [
    ("helix1d_r3", 600, 8),
    ("helix1d_r3", 600, 64),
    ("helix1d_r12", 600, 32),
    ("paraboloid3d_r12", 600, 8),
    ("paraboloid3d_r12", 600, 128),
    ("sphere10d_r11", 400, 16),
    ("swissroll2d_r3", 500, 24),
]


class TestAgreesWithSkdim:
    @pytest.mark.parametrize("name,n,k", CASES)
    def test_manifolds_point_by_point(self, name, n, k):
        x = _manifold(name, n)
        ours = intrinsic.local_id(x, k)
        assert intrinsic.agreement(ours, intrinsic.local_id_skdim(x, k)) == 1.0

    @pytest.mark.parametrize("k", [8, 64])
    def test_digits_with_its_distance_ties(self, k):
        # integer pixels: many exact ties at the k-th neighbour; both searches must break them as sklearn does
        x = _digits(700)
        ref = intrinsic.local_id_skdim(x, k)
        for method in ("sklearn", "torch"):
            assert intrinsic.agreement(intrinsic.local_id(x, k, method=method), ref) >= 0.999

    def test_gram_path_when_k_below_dimension(self):
        # D = 40 > k = 12: eigenvalues of the k×k Gram matrix instead of the D×D scatter
        x = np.random.default_rng(0).standard_normal((300, 40)) @ np.diag(np.linspace(3, 0.1, 40))
        assert intrinsic.agreement(intrinsic.local_id(x, 12), intrinsic.local_id_skdim(x, 12)) == 1.0

    @pytest.mark.parametrize("alpha", [0.01, 0.2])
    def test_other_alpha(self, alpha):
        x = _manifold("paraboloid3d_r12", 400)
        ours = intrinsic.local_id(x, 32, alpha=alpha)
        assert intrinsic.agreement(ours, intrinsic.local_id_skdim(x, 32, alpha=alpha)) == 1.0

    def test_float32_input(self):
        x = data.synthetic("helix1d_r12", 500, seed=1)[0]
        ours = intrinsic.local_id(x, 16)
        assert intrinsic.agreement(ours, intrinsic.local_id_skdim(x.double(), 16)) == 1.0


class TestNeighbours:
    @pytest.mark.parametrize("x", [_digits(500), None], ids=["digits (ties)", "paraboloid"])
    def test_torch_and_sklearn_searches_give_the_same_sets(self, x):
        x = _manifold("paraboloid3d_r12", 500) if x is None else x
        a = intrinsic.knn_indices(x, 40, method="torch", block_size=128)
        b = intrinsic.knn_indices(x, 40, method="sklearn")
        assert torch.equal(a.sort(dim=1).values, b.sort(dim=1).values)

    def test_excludes_the_point_itself_and_is_sorted(self):
        x = torch.randn(200, 5, dtype=torch.float64)
        idx = intrinsic.knn_indices(x, 10, method="torch", block_size=37)
        assert idx.shape == (200, 10) and idx.dtype == torch.long
        assert not (idx == torch.arange(200)[:, None]).any()
        d = torch.cdist(x, x).gather(1, idx)
        assert bool((d[:, 1:] >= d[:, :-1]).all())
        ref = torch.cdist(x, x).fill_diagonal_(math.inf).topk(10, largest=False).indices
        assert torch.equal(idx.sort(1).values, ref.sort(1).values)

    def test_unsorted_search_gives_the_same_sets_and_survives_duplicates(self):
        x = torch.from_numpy(_manifold("paraboloid3d_r12", 400))
        x = torch.cat([x[:30], x[:30], x[30:]])  # 30 exact duplicates
        a = intrinsic.knn_indices(x, 20)
        b = intrinsic.knn_indices(x, 20, sort=False)
        assert torch.equal(a.sort(1).values, b.sort(1).values)
        assert not (b == torch.arange(len(x))[:, None]).any()
        assert intrinsic.agreement(intrinsic.local_id(x, 20), intrinsic.local_id_skdim(x.numpy(), 20)) >= 0.99


class TestProperties:
    def test_shape_dtype_range(self):
        x = torch.randn(300, 7)
        ids = intrinsic.local_id(x, 20)
        assert ids.shape == (300,) and ids.dtype == torch.long and ids.device == x.device
        assert int(ids.min()) >= 1 and int(ids.max()) <= 7

    def test_line_has_id_one_and_plane_two(self):
        t = torch.linspace(0, 1, 200, dtype=torch.float64)[:, None]
        line = t * torch.tensor([[1.0, 2.0, -1.0, 0.5]], dtype=torch.float64)
        assert bool((intrinsic.local_id(line, 10) == 1).all())
        g = torch.rand(400, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        plane = torch.cat([g, torch.zeros(400, 3, dtype=torch.float64)], 1)
        assert bool((intrinsic.local_id(plane, 30) == 2).all())

    def test_invariant_to_rigid_motion_and_scale(self):
        x = torch.from_numpy(_manifold("paraboloid3d_r12", 400))
        q, _ = torch.linalg.qr(torch.randn(12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
        moved = 3.0 * x @ q + 5.0
        assert torch.equal(intrinsic.local_id(x, 24), intrinsic.local_id(moved, 24))

    def test_does_not_modify_input(self):
        x = torch.randn(100, 4)
        before = x.clone()
        intrinsic.local_id(x, 10)
        assert torch.equal(x, before)

    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    def test_cuda_equals_cpu(self):
        x = _digits(600)
        assert torch.equal(intrinsic.local_id(x, 64, device="cuda").cpu(), intrinsic.local_id(x, 64))


class TestArguments:
    @pytest.mark.parametrize("k,match", [(1, "k must be >= 2, got 1"), (50, "k must be < the number of points N=50")])
    def test_k(self, k, match):
        with pytest.raises(ValueError, match=match):
            intrinsic.local_id(torch.randn(50, 3), k)

    @pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 2])
    def test_alpha(self, alpha):
        with pytest.raises(ValueError, match="alpha must be"):
            intrinsic.local_id(torch.randn(50, 3), 5, alpha=alpha)

    def test_x_must_be_2d_float(self):
        with pytest.raises(ValueError, match=r"x must be 2-D \(N, D\), got a tensor of shape \(50,\)"):
            intrinsic.local_id(torch.randn(50), 5)
        with pytest.raises(TypeError, match="x must be a float tensor, got dtype torch.int64"):
            intrinsic.local_id(torch.ones(50, 3, dtype=torch.long), 5)
        with pytest.raises(TypeError, match="x must be a float array"):
            intrinsic.local_id(np.ones((50, 3), dtype=np.int64), 5)
        with pytest.raises(TypeError, match="x must be a torch.Tensor or numpy array, got list"):
            intrinsic.local_id([[0.0, 1.0]] * 10, 3)

    def test_x_must_be_finite(self):
        x = torch.randn(50, 3)
        x[3, 1] = float("nan")
        with pytest.raises(ValueError, match="x must be finite"):
            intrinsic.local_id(x, 5)

    def test_method_and_knn_shape(self):
        with pytest.raises(ValueError, match="method must be one of"):
            intrinsic.local_id(torch.randn(50, 3), 5, method="faiss")
        with pytest.raises(ValueError, match=r"knn must have shape \(N, k\) = \(50, 5\), got \(50, 4\)"):
            intrinsic.local_id(torch.randn(50, 3), 5, knn=torch.zeros(50, 4, dtype=torch.long))


class TestBenchmarkAndSweep:
    def test_benchmark_reports_both_times(self):
        r = idim.benchmark_local_id(n=300, dim=12, k=16)
        assert {"seconds_ours", "seconds_skdim", "speedup", "agreement", "n", "dim", "k"} <= set(r)
        assert r["n"] == 300 and r["dim"] == 12 and r["agreement"] == 1.0
        assert r["speedup"] == pytest.approx(r["seconds_skdim"] / r["seconds_ours"])
        text = idim.benchmark_text(r, label="here")
        assert text.startswith("300 points in R^12, k = 16, here:\n  local_id ") and "agreement 100.0000%" in text

    def test_sweep_rows_and_summary(self):
        x, y = data.synthetic("helix1d_r3", 256, seed=0)
        f = idim.local_id_sweep(x, y, dataset="h", ks=(8, 16), gammas=(2.0, 6.0), seeds=(0, 1), num_classes=1)
        # original once per k; mixup and each γ once per (k, seed)
        assert len(f) == 2 + 2 * 2 * (1 + 2)
        s = idim.summarize_sweep(f)
        assert len(s) == 2 + 2 * (1 + 2)
        assert set(s["seeds"]) == {1, 2}
        t = idim.midl_table(s, gamma=2.0, k=16)
        paper = t[t["source"].str.startswith("paper")]
        assert len(paper) == 4
        assert paper.set_index(["dataset", "method"]).loc[("CIFAR-10", "mixup"), "sd"] == pytest.approx(9.47)
        assert set(t[t["source"] == "ours"]["method"]) == {"original", "mixup", "zeta_mixup"}
        fig = idim.local_id_panels(s, gamma_min=1.72865, label="test", paper={("h", "mixup"): (2.0, 0.5)})
        assert [ax.get_title() for ax in fig.axes] == ["h, k = 8", "h, k = 16"]

    def test_sweep_with_a_gamma_range(self):
        x, y = data.synthetic("helix1d_r3", 200, seed=0)
        f = idim.local_id_sweep(x, y, dataset="h", ks=(8,), gammas=[(1.72865, 4.0)], include=(), num_classes=1)
        assert list(f["setting"]) == ["U[1.729, 4.0]"] and f["gamma"].isna().all()
        t = idim.midl_table(idim.summarize_sweep(f), gamma=(1.72865, 4.0), k=8)
        assert list(t.loc[t["source"] == "ours", "gamma"]) == ["U[1.729, 4.0]"]


class TestDatasetPoints:
    def test_synthetic_and_real(self):
        x, y, k = idim.dataset_points("paraboloid3d_r12", n=300)
        assert x.shape == (300, 12) and k == 1
        x, y, k = idim.dataset_points("digits", n=300)  # n is for synthetic sets: digits comes whole
        assert x.shape == (1797, 64) and y.shape == (1797,) and k == 10
        x, _, _ = idim.dataset_points("digits", limit=500, seed=1)
        assert x.shape == (500, 64)

    def test_missing_real_data_names_path_and_make_data(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="CIFAR-10 not found at .*make data"):
            idim.dataset_points("CIFAR-10", root=str(tmp_path))


def test_the_chapter_cells_load_sweep_and_tabulate(capsys):
    """notebook 03 cell by cell on two small synthetic sets (one only for the MIDL table)."""
    from types import SimpleNamespace

    import matplotlib

    matplotlib.use("Agg")
    P = SimpleNamespace(
        profile="smoke",
        seed=3,
        num_seeds=2,
        midl_gamma=[1.5, 4.0],
        torch_device=torch.device("cpu"),
        datasets=["helix1d_r3"],
        table_datasets=["helix1d_r3", "paraboloid3d_r12"],
        n_points=160,
        real_limit=None,
        data_root=None,
        ks=[8, 128],  # the MIDL table takes original and mixup at k = 128 from the Fig. 6 sweep
        gammas=[2.0, 5.0],
        batch_size=32,
        check_points=150,
    )
    D = idim.chapter_data(P)
    assert D.seeds == [3, 4] and D.midl_gamma == (1.5, 4.0) and D.label == "profile smoke, seeds [3, 4], device cpu"
    assert list(D.data) == ["helix1d_r3"] and list(D.table_only) == ["paraboloid3d_r12"]
    s = D.summary()
    assert s.values.tolist() == [
        ["helix1d_r3", 160, 3, D.data["helix1d_r3"][2], "Fig. 6 + table"],
        ["paraboloid3d_r12", 160, 12, D.table_only["paraboloid3d_r12"][2], "table (k = 128)"],
    ]

    check = idim.skdim_check(P, D)
    assert list(check["set"]) == ["helix1d_r3"] * 2 + ["helix1d_r3 + mixup"] * 2 and (check["n"] == 150).all()
    assert capsys.readouterr().out.startswith(f"agreement with scikit-dimension ({D.label}): ")

    sweep, summary = idim.fig6(P, D)
    assert set(sweep["method"]) == {"original", "mixup", "zeta_mixup"} and set(sweep["k"]) == {8, 128}
    assert set(summary["gamma"].dropna()) == {2.0, 5.0}
    rows = idim.fig6_table(P, D, summary)
    assert list(rows.columns.get_level_values(0).unique()) == ["mean", "sd"]
    assert capsys.readouterr().out == f"local ID, mean ± sd over points (mean over seeds) — {D.label}\n"

    table = idim.midl(P, D, summary)
    ours = table[table["source"] == "ours"]
    assert ours[["dataset", "method"]].values.tolist() == [
        ["helix1d_r3", "original"],
        ["helix1d_r3", "mixup"],
        ["helix1d_r3", "zeta_mixup"],
        ["paraboloid3d_r12", "original"],
        ["paraboloid3d_r12", "mixup"],
        ["paraboloid3d_r12", "zeta_mixup"],
    ]
    assert (ours["k"] == 128).all() and capsys.readouterr().out.startswith("ζ-mixup γ ~ ")
