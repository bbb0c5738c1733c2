"""Tests for zmixlib.mixing.lsi: local synthetic instances."""

from __future__ import annotations

import pytest
import torch
from mixing_fixtures import gen, make_batch, p_series

from zmixlib.mixing import local_synthetic_instances

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def batch():
    return make_batch()


# ----------------------------------------------------------------------------------------------
# Local synthetic instances
# ----------------------------------------------------------------------------------------------


class TestLocalSyntheticInstances:
    @pytest.mark.parametrize("num_mix", [2, 5, 10])
    def test_p_swept_over_random_ordered_subsets(self, num_mix):
        b, n = 10, 7
        x = torch.randn(b, 3, dtype=torch.float64)
        xs, ys = local_synthetic_instances(
            x, torch.arange(b), p_range=(1.0, 4.0), num_mix=num_mix, num_synthetic=n, num_classes=b, generator=gen(1)
        )
        assert xs.shape == (n, 3) and ys.shape == (n, b)
        for i in range(n):
            p = 1.0 + (i / n) * 3.0
            ref = torch.cat([p_series(num_mix, p), torch.zeros(b - num_mix, dtype=torch.float64)])
            torch.testing.assert_close(ys[i].sort(descending=True).values, ref)
        torch.testing.assert_close(xs, ys @ x)

    def test_images_and_seed(self, batch):
        x, y = batch
        a = local_synthetic_instances(x, y, num_classes=4, generator=gen(3))
        b = local_synthetic_instances(x, y, num_classes=4, generator=gen(3))
        assert torch.equal(a[0], b[0]) and a[0].shape == x.shape
        torch.testing.assert_close(a[1].sum(1), torch.ones(8))

    def test_errors(self, batch):
        x, y = batch
        with pytest.raises(ValueError, match=r"p_range must satisfy low <= high, got \(3.0, 1.0\)"):
            local_synthetic_instances(x, y, p_range=(3.0, 1.0), num_classes=4)
        with pytest.raises(ValueError, match=r"num_synthetic must be >= 1, got 0"):
            local_synthetic_instances(x, y, num_synthetic=0, num_classes=4)
