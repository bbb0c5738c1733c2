"""zmixlib.engine.models: every architecture builds offline, has forward_features/forward_head, manifold mixup."""

from __future__ import annotations

import pytest
import torch

from zmixlib.engine import models
from zmixlib.mixing import Mixer

pytestmark = pytest.mark.usefixtures("one_thread")


# (name, in_channels, input shape) — small inputs keep the big torchvision models fast
CASES = [
    ("resnet18_cifar", 3, (3, 16, 16)),
    ("resnet50_cifar", 1, (1, 16, 16)),
    ("resnet18", 3, (3, 32, 32)),
    ("resnet50", 2, (2, 32, 32)),
    ("mobilenet_v2", 1, (1, 32, 32)),
    ("efficientnet_b0", 3, (3, 32, 32)),
    ("lenet5", 1, (1, 28, 28)),
    ("digits_cnn", 1, (1, 8, 8)),
    ("mlp", 5, (5,)),
    ("preact_resnet18", 3, (3, 16, 16)),
    ("wrn16_8", 1, (1, 16, 16)),
]


@pytest.mark.parametrize("name,c,shape", CASES)
def test_features_head_and_forward(name, c, shape):
    torch.manual_seed(0)
    net = models.build(name, num_classes=7, in_channels=c).eval()
    x = torch.randn(2, *shape)
    with torch.no_grad():
        z = net.forward_features(x)
        assert z.shape == (2, net.embedding_dim)
        logits = net.forward_head(z)
        assert logits.shape == (2, 7)
        torch.testing.assert_close(net(x), logits)


def test_every_arch_is_covered():
    assert {c[0] for c in CASES} == set(models.ARCHS)


def test_cifar_stem_keeps_resolution():
    net = models.build("resnet18_cifar", num_classes=10, in_channels=3)
    h = net.stages[0](torch.randn(1, 3, 32, 32))
    assert h.shape[-2:] == (32, 32)  # 3x3 stride-1 stem, no max-pool
    big = models.build("resnet18", num_classes=10, in_channels=3)
    assert big.stages[0](torch.randn(1, 3, 32, 32)).shape[-2:] == (8, 8)


def test_small_input_mobilenet_stride():
    a = models.build("mobilenet_v2", num_classes=3, in_channels=3, input_size=32)
    b = models.build("mobilenet_v2", num_classes=3, in_channels=3, small_input=False)
    assert a.stages[0][0].stride == (1, 1) and b.stages[0][0].stride == (2, 2)


def test_mlp_input_size_multiplies_features():
    net = models.build("mlp", num_classes=2, in_channels=1, input_size=(4, 4), hidden=(8,))
    assert net(torch.randn(3, 1, 4, 4)).shape == (3, 2)


class TestManifoldMixup:
    @pytest.mark.parametrize("name,c,shape", [CASES[0], CASES[7], CASES[8], CASES[6]])
    def test_every_mix_point(self, name, c, shape):
        net = models.build(name, num_classes=4, in_channels=c).eval()
        x, y = torch.randn(6, *shape), torch.randint(0, 4, (6,))
        mixer = Mixer("mixup", num_classes=4, alpha=2.0, generator=torch.Generator().manual_seed(0))
        for k in net.mix_points:
            logits, y_mix = net.forward_manifold_mixup(x, y, mixer=mixer, mix_point=k)
            assert logits.shape == (6, 4) and y_mix.shape == (6, 4)
            torch.testing.assert_close(y_mix.sum(1), torch.ones(6))

    def test_identity_mixer_equals_forward(self):
        net = models.build("digits_cnn", num_classes=3, in_channels=1).eval()
        x = torch.randn(4, 1, 8, 8)
        y = torch.eye(3)[[0, 1, 2, 0]]
        ident = lambda h, t: (h, t)
        logits, y_out = net.forward_manifold_mixup(x, y, mixer=ident, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(logits, net(x))
        assert torch.equal(y_out, y)

    def test_random_point_follows_generator(self):
        net = models.build("resnet18_cifar", num_classes=2, in_channels=1)
        seen = []
        record = lambda h, t: (seen.append(h.shape[1]), (h, t))[1]
        g = torch.Generator().manual_seed(0)
        for _ in range(12):
            net.forward_manifold_mixup(torch.randn(2, 1, 8, 8), torch.eye(2), mixer=record, generator=g)
        assert set(seen) == {1, 64, 128}  # input, after layer1, after layer2

    def test_bad_mix_point(self):
        net = models.build("mlp", num_classes=2, in_channels=3)
        with pytest.raises(ValueError, match="mix_point must be one of"):
            net.forward_manifold_mixup(torch.randn(2, 3), torch.eye(2), mixer=lambda h, t: (h, t), mix_point=7)


def test_build_errors():
    with pytest.raises(ValueError, match="arch must be one of"):
        models.build("vgg", num_classes=2)
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        models.build("mlp", num_classes=0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        models.build("resnet18", num_classes=2, hidden=(3,))


def test_default_arch():
    assert models.default_arch("tabular") == "mlp"
    assert models.default_arch("image", image_size=8) == "digits_cnn"
    assert models.default_arch("image", image_size=32) == "resnet18_cifar"
    assert models.default_arch("image", image_size=224) == "resnet18"
