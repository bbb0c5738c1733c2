"""zmixlib.chapters.timing.reference_impl: the authors' ζ-weights are the same distribution as ours."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from zmixlib import mixing
from zmixlib.chapters.timing import reference_impl


def _p_series(b: int, gamma: float) -> np.ndarray:
    w = np.arange(1, b + 1, dtype=np.float64) ** -gamma
    return w / w.sum()


class TestAuthorsWeights:
    @pytest.mark.parametrize("b", [2, 5, 32])
    def test_structure(self, b):
        w = reference_impl.authors_zeta_weights(b, 2.8, rng=np.random.default_rng(0))
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
        w = reference_impl.authors_zeta_weights(b, 1.0, rng=rng).numpy()
        expected = 1.0 / rolled
        np.testing.assert_allclose(w, expected / expected.sum(1, keepdims=True), rtol=1e-6)

    def test_same_distribution_as_ours(self):
        """Off-diagonal rank patterns of a row are uniform for both constructions (chi-square)."""
        b, n = 4, 3000
        rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(1)
        for make in (
            lambda: reference_impl.authors_zeta_weights(b, 2.0, rng=rng),
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
        theirs = torch.stack([reference_impl.authors_zeta_weights(b, 2.8, rng=rng) for _ in range(n)]).mean(0)
        torch.testing.assert_close(ours.diagonal(), theirs.diagonal())
        p = _p_series(b, 2.8)
        off = ~torch.eye(b, dtype=torch.bool)
        assert abs(float(theirs[off].mean()) - (1 - p[0]) / (b - 1)) < 1e-6
        assert float((ours[off] - theirs[off]).abs().max()) < 0.02

    def test_authors_mixup_is_convex(self):
        b, k = 6, 6
        x = torch.arange(b, dtype=torch.float32).view(b, 1, 1, 1).expand(b, 2, 3, 3).contiguous()
        y = torch.arange(b)
        x_new, y_new = reference_impl.authors_zeta_mixup(x, y, num_classes=k)
        torch.testing.assert_close(y_new.sum(1), torch.ones(b))
        expected = (y_new * torch.arange(k, dtype=torch.float32)).sum(1)
        torch.testing.assert_close(x_new[:, 0, 0, 0], expected)
        assert x_new.shape == x.shape
