"""Tests for zmixlib.mixing.transport: optimal matching, k-mixup and the α of Algorithm 1."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from mixing_fixtures import FAST, gen, make_batch
from torch.utils.data import DataLoader, TensorDataset

from zmixlib.mixing import (
    Mixer,
    apply_weights,
    kmixup,
    kmixup_alpha_for_xi,
    mixup,
    optimal_matching,
    pair_weights,
    sample_kmixup,
)

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def batch():
    return make_batch()


# ----------------------------------------------------------------------------------------------
# k-mixup
# ----------------------------------------------------------------------------------------------


def brute_force_cost(a, b, metric):
    d = torch.cdist(a.double(), b.double())
    if metric == "sqeuclidean":
        d = d.square()
    k = a.shape[0]
    return min(float(sum(d[i, p[i]] for i in range(k))) for p in itertools.permutations(range(k)))


class TestKMixup:
    @FAST
    @given(
        k=st.integers(1, 6),
        d=st.integers(1, 5),
        metric=st.sampled_from(["euclidean", "sqeuclidean"]),
        seed=st.integers(0, 2**31),
    )
    def test_matching_is_optimal(self, k, d, metric, seed):
        g = gen(seed)
        a, b = torch.randn(k, d, generator=g), torch.randn(k, d, generator=g)
        sigma = optimal_matching(a, b, metric=metric)
        assert sorted(sigma.tolist()) == list(range(k))
        cost = torch.cdist(a.double(), b.double())[torch.arange(k), sigma]
        cost = cost.square() if metric == "sqeuclidean" else cost
        assert float(cost.sum()) == pytest.approx(brute_force_cost(a, b, metric), rel=1e-9, abs=1e-12)

    @FAST
    @given(k=st.sampled_from([1, 2, 4, 8]), seed=st.integers(0, 2**31))
    def test_matching_never_costlier_than_random_partner(self, k, seed):
        x = torch.randn(16, 2, 3, generator=gen(seed))
        s = sample_kmixup(x, k=k, lam_mode="subset", generator=gen(seed))
        assert sorted(s.partner.tolist()) == list(range(16))
        flat = x.reshape(16, -1).double()
        matched = (flat - flat[s.partner]).norm(dim=1).reshape(-1, k).sum(1)
        unmatched = (flat - flat[s.perm]).norm(dim=1).reshape(-1, k).sum(1)
        assert (matched <= unmatched + 1e-9).all()
        # partners of a subset come from the same random partner subset
        for blk in range(16 // k):
            assert set(s.partner[blk * k : (blk + 1) * k].tolist()) == set(s.perm[blk * k : (blk + 1) * k].tolist())
        # one λ per subset pair
        lam = s.lam.reshape(-1, k)
        assert torch.equal(lam, lam[:, :1].expand_as(lam))

    def test_k1_batch_lambda_is_mixup(self, batch):
        x, y = batch
        a = kmixup(x, y, k=1, lam_mode="batch", alpha=0.7, num_classes=4, generator=gen(9))
        b = mixup(x, y, alpha=0.7, num_classes=4, generator=gen(9))
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

    def test_k1_subset_lambda_is_per_pair_mixup(self, batch):
        x, _ = batch
        s = sample_kmixup(x, k=1, lam_mode="subset", generator=gen(4))
        assert torch.equal(s.partner, s.perm)
        xm, ym = kmixup(x, torch.arange(8), k=1, lam_mode="subset", num_classes=8, generator=gen(4))
        torch.testing.assert_close(ym, pair_weights(s.lam, s.perm).float())
        lam = s.lam.float().reshape(-1, 1, 1, 1)
        torch.testing.assert_close(xm, lam * x + (1 - lam) * x[s.perm])

    @pytest.mark.parametrize("lam_mode", ["batch", "subset"])
    def test_labels_follow_the_matching(self, batch, lam_mode):
        x, _ = batch
        xm, ym = kmixup(x, torch.arange(8), k=4, lam_mode=lam_mode, num_classes=8, generator=gen(6))
        s = sample_kmixup(x, k=4, lam_mode=lam_mode, generator=gen(6))
        w = pair_weights(s.lam, s.partner)
        torch.testing.assert_close(ym, w.float())
        torch.testing.assert_close(xm, apply_weights(x, torch.arange(8), w, num_classes=8)[0])

    @pytest.mark.parametrize(("m", "r"), [(0, 2), (0, 7), (0, 15), *itertools.product([1, 3], [0, 1, 2, 7, 15])])
    def test_batch_not_divisible_by_k(self, m, r):
        # the last short batch of an epoch: 16·m + r samples, k = 16; m = 0 is a batch smaller than k
        b = 16 * m + r
        x = torch.randn(b, 3, 4, 4, generator=gen(b))
        xm, ym = kmixup(x, torch.arange(b), k=16, num_classes=b, generator=gen(1))
        assert xm.shape == x.shape and ym.shape == (b, b)
        torch.testing.assert_close(ym.sum(1), torch.ones(b))
        s = sample_kmixup(x, k=16, generator=gen(1))
        assert sorted(s.partner.tolist()) == list(range(b))
        assert s.lam.shape == (b,) and s.lam.unique().numel() == 1  # one λ per batch (the default)
        torch.testing.assert_close(ym, pair_weights(s.lam, s.partner).float())
        # every subset — the full ones and the remainder — takes its partners from the same slice of π,
        # and the matching is optimal there (never costlier than the random partners)
        flat = x.reshape(b, -1).double()
        for lo in range(0, b, 16):
            hi = min(lo + 16, b)
            assert set(s.partner[lo:hi].tolist()) == set(s.perm[lo:hi].tolist())
            matched = (flat[lo:hi] - flat[s.partner[lo:hi]]).norm(dim=1).sum()
            assert matched <= (flat[lo:hi] - flat[s.perm[lo:hi]]).norm(dim=1).sum() + 1e-9
        assert torch.equal(x, torch.randn(b, 3, 4, 4, generator=gen(b)))  # input not modified

    def test_remainder_of_one_is_a_mixup_pair(self):
        x = torch.randn(17, 5, generator=gen(0))
        s = sample_kmixup(x, k=16, generator=gen(2))
        assert s.partner[16] == s.perm[16]

    def test_lambda_per_subset_option(self):
        x = torch.randn(16 * 3 + 5, 4, generator=gen(0))
        s = sample_kmixup(x, k=16, lam_mode="subset", generator=gen(3))
        blocks = s.lam.split([16, 16, 16, 5])
        assert all(blk.unique().numel() == 1 for blk in blocks)  # constant within a subset ...
        assert torch.stack([blk[0] for blk in blocks]).unique().numel() == 4  # ... and drawn per subset
        # same draws as the per-batch default up to λ: π comes first
        assert torch.equal(s.perm, sample_kmixup(x, k=16, generator=gen(3)).perm)

    def test_mixer_on_a_loader_with_a_short_last_batch(self):
        ds = TensorDataset(torch.randn(40, 3, 4, 4), torch.randint(0, 5, (40,)))
        mixer = Mixer("kmixup", num_classes=5, generator=gen(0), k=16)
        assert mixer.hparams["lam_mode"] == "batch"
        shapes = [(xm.shape[0], ym.shape) for xm, ym in DataLoader(ds, batch_size=32, collate_fn=mixer.collate_fn)]
        assert shapes == [(32, (32, 5)), (8, (8, 5))]

    @pytest.mark.parametrize(
        ("kw", "exc", "match"),
        [
            ({"k": 0}, ValueError, r"k must be >= 1, got 0"),
            ({"alpha": 0.0}, ValueError, r"alpha must be > 0.0, got 0.0"),
            ({"metric": "cosine"}, ValueError, r"metric must be one of \['euclidean', 'sqeuclidean'\], got 'cosine'"),
            ({"lam_mode": "pair"}, ValueError, r"lam_mode must be one of \['batch', 'subset'\], got 'pair'"),
        ],
    )
    def test_errors(self, batch, kw, exc, match):
        x, y = batch
        with pytest.raises(exc, match=match):
            kmixup(x, y, num_classes=4, **{"k": 4, **kw})


class TestKMixupAlphaForXi:
    def test_lambda_bar_for_uniform_lambda(self):
        data = torch.randn(64, 3, generator=gen(0))
        r = kmixup_alpha_for_xi(data, k=1, alpha=1.0, num_trials=20000, generator=gen(1))
        assert r.lam_1 == pytest.approx(1 / 12, abs=0.003)  # E min(λ², (1-λ)²) for λ ~ U[0, 1]
        exact = float(torch.cdist(data.double(), data.double()).square().mean())  # over all ordered pairs
        assert r.msd_1 == pytest.approx(exact, rel=0.05)

    def test_alpha_grows_to_keep_xi(self):
        # two far clusters: OT matches within clusters, so larger k shrinks ξ̄_k and α_k must grow
        g = gen(2)
        data = torch.cat([torch.randn(100, 2, generator=g), torch.randn(100, 2, generator=g) + 20])
        r1 = kmixup_alpha_for_xi(data, k=1, alpha=0.5, num_trials=400, generator=gen(3))
        r16 = kmixup_alpha_for_xi(data, k=16, alpha=0.5, num_trials=400, generator=gen(3))
        assert r16.msd_k < r1.msd_k
        assert r16.alpha > r1.alpha >= 0.5
        assert r16.xi_k >= r16.xi or r16.alpha >= 1000.0
        assert r16 == kmixup_alpha_for_xi(data, k=16, alpha=0.5, num_trials=400, generator=gen(3))

    def test_unreachable_xi_stops_at_threshold(self):
        data = torch.randn(32, 2, generator=gen(0))
        r = kmixup_alpha_for_xi(data, k=4, xi=100.0, c=2.0, alpha_max=50.0, num_trials=200, generator=gen(1))
        assert 50.0 <= r.alpha < 100.0 and r.xi == pytest.approx(100.0)
        assert r.lam_k <= 0.25

    @pytest.mark.parametrize(
        ("kw", "exc", "match"),
        [
            ({"k": 0}, ValueError, r"k must be >= 1, got 0"),
            ({"k": 40}, ValueError, r"data must hold at least max\(k, 2\) = 40 samples, got 32"),
            ({"alpha": -1.0}, ValueError, r"alpha must be > 0.0, got -1.0"),
            ({"c": 1.0}, ValueError, r"c must be > 1.0, got 1.0"),
            ({"num_trials": 0}, ValueError, r"num_trials must be >= 1, got 0"),
        ],
    )
    def test_errors(self, kw, exc, match):
        with pytest.raises(exc, match=match):
            kmixup_alpha_for_xi(torch.randn(32, 2), **{"k": 4, **kw})
