"""Classification models, all with the same three-part shape: ``stages`` → ``pool`` → ``head``.

Every model is a :class:`StagedNet`:

* ``forward_features(x)`` runs the stages and the pooling and returns the embedding ``(B, D)``;
* ``forward_head(z)`` maps an embedding to logits ``(B, K)``;
* ``forward_manifold_mixup(x, y_soft, *, mixer, generator)`` picks one eligible mixing point at random
  (``mix_points``: ``0`` is the input, ``k`` the output of stage ``k - 1``, ``len(stages)`` the embedding)
  and mixes the hidden batch there — manifold mixup (Verma et al., ICML 2019, whose ResNets mix at the
  input or after the first or second residual group; we use the same points).

Architectures (``build(name, ...)``; weights are always random — nothing is ever downloaded):

==================== ===============================================================================
``resnet18_cifar``   ResNet-18 with a 3×3 stride-1 stem and no max-pool, for inputs ≤ 64 px (CIFAR, STL-10,
                     F-MNIST, MedMNIST) — the usual "CIFAR ResNet-18" of the papers' code
``resnet50_cifar``   the same for ResNet-50 (CutMix study, Table 5)
``resnet18``         torchvision ResNet-18 (Imagenette/Imagewoof at 224 px, skin lesions at 256 px)
``resnet50``         torchvision ResNet-50
``mobilenet_v2``     torchvision MobileNetV2 (``small_input=True``: stride-1 stem for 32 px inputs)
``efficientnet_b0``  torchvision EfficientNet-B0 (``small_input=True`` as above)
``lenet5``           LeNet-5, the MNIST oracle of the realism study (notebook 02)
``digits_cnn``       a three-block CNN for scikit-learn's 8×8 digits, the offline oracle / stand-in
``mlp``              a ReLU MLP for tabular and synthetic data
==================== ===============================================================================

Any channel count works (``in_channels``); the MLP takes ``in_channels`` features, times the pixels of
``input_size`` when given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from zmixlib.core.checks import check_choice, check_int
from zmixlib.core.vocab import ARCHS

__all__ = ["ARCHS", "StagedNet", "build", "default_arch"]

#: name -> :class:`zmixlib.core.vocab.Arch` (description, the papers' name): the registry :func:`build` dispatches on.

Mixer = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class StagedNet(nn.Module):
    """``stages`` (a sequence of modules) → ``pool`` (to ``(B, D)``) → ``head`` (to logits).

    Args:
        stages: applied in order to the input.
        pool: maps the last stage's output to the embedding ``(B, D)``.
        head: maps ``(B, D)`` embeddings to ``(B, K)`` logits.
        mix_points: eligible manifold-mixup points; ``k`` mixes the input of stage ``k``
            (``0`` = the raw input, ``len(stages)`` = the pooled embedding).
        embedding_dim: ``D``.
    """

    def __init__(
        self,
        stages: Sequence[nn.Module],
        pool: nn.Module,
        head: nn.Module,
        *,
        mix_points: Sequence[int],
        embedding_dim: int,
    ) -> None:
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.pool = pool
        self.head = head
        self.embedding_dim = int(embedding_dim)
        points = tuple(int(k) for k in mix_points)
        if not points or any(k < 0 or k > len(self.stages) for k in points):
            raise ValueError(f"mix_points must lie in [0, {len(self.stages)}], got {points!r}")
        self.mix_points = points

    def forward_features(self, x: torch.Tensor, *, spatial: bool = False) -> torch.Tensor:
        """``(B, ...)`` input → ``(B, D)`` embedding; with ``spatial=True`` the embedding before its global average
        pooling, ``(B, D, r)`` (the last stage's feature map, its ``r`` positions flattened: Dense MultiMix).

        Raises:
            ValueError: ``spatial=True`` on a model whose embedding is not a global average pool of a feature
                map (:attr:`spatial`: LeNet-5 and the MLP end in dense layers).
        """
        if spatial and not self.spatial:
            raise ValueError(
                f"spatial=True needs an embedding pooled from a feature map by global average pooling (ResNets, "
                f"MobileNetV2, EfficientNet-B0, digits_cnn); this model's pool is {type(self.pool).__name__}"
            )
        for stage in self.stages:
            x = stage(x)
        return x.flatten(2) if spatial else self.pool(x)

    def forward_head(self, z: torch.Tensor, *, dense: bool = False) -> torch.Tensor:
        """``(B, D)`` embedding → ``(B, K)`` logits; with ``dense=True`` the head at every position of a spatial
        embedding ``(B, D, r)`` → ``(B, r, K)`` (a linear head as a 1×1 convolution, MultiMix (Venkataramanan et
        al.) §3.3: its mean over positions is the head of the pooled embedding)."""
        return self.head(z.transpose(1, 2)) if dense else self.head(z)

    @property
    def spatial(self) -> bool:
        """Whether the embedding is a global average pool of a feature map (then ``forward_features(x,
        spatial=True)`` and ``forward_head(z, dense=True)`` apply)."""
        first = self.pool[0] if isinstance(self.pool, nn.Sequential) and len(self.pool) else self.pool
        return isinstance(first, nn.AdaptiveAvgPool2d) and first.output_size in (1, (1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_manifold_mixup(
        self,
        x: torch.Tensor,
        y_soft: torch.Tensor,
        *,
        mixer: Mixer,
        generator: torch.Generator | None = None,
        mix_point: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Manifold mixup: run to a random eligible point, mix the hidden batch there, finish.

        Args:
            x: ``(B, ...)`` inputs.
            y_soft: ``(B, K)`` soft labels (or ``(B,)`` class indices, as the mixer accepts).
            mixer: ``(h, y) -> (h_mix, y_mix)``, e.g. ``zmixlib.mixing.Mixer("mixup", alpha=2.0, ...)``.
            generator: draws the mixing point (then the mixer draws its own randomness).
            mix_point: force this point instead of drawing one (must be in ``mix_points``).

        Returns:
            ``(logits (B', K), y_mix (B', K))``.
        """
        if mix_point is None:
            device = generator.device if generator is not None else torch.device("cpu")
            i = int(torch.randint(len(self.mix_points), (1,), generator=generator, device=device).item())
            mix_point = self.mix_points[i]
        else:
            check_choice("mix_point", mix_point, self.mix_points)
        h = x
        for k, stage in enumerate(self.stages):
            if k == mix_point:
                h, y_soft = mixer(h, y_soft)
            h = stage(h)
        z = self.pool(h)
        if mix_point == len(self.stages):
            z, y_soft = mixer(z, y_soft)
        return self.forward_head(z), y_soft


# ----------------------------------------------------------------------------------------------------- builders


def _conv_init(conv: nn.Conv2d) -> nn.Conv2d:
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    return conv


def _resnet(depth: int, num_classes: int, in_channels: int, *, small_input: bool) -> StagedNet:
    import torchvision

    net = getattr(torchvision.models, f"resnet{depth}")(weights=None, num_classes=num_classes)
    if small_input:  # CIFAR stem: 3x3 stride 1, no max-pool
        net.conv1 = _conv_init(nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False))
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = _conv_init(nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False))
    stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
    stages = [stem, net.layer1, net.layer2, net.layer3, net.layer4]
    # Verma et al.: mix at the input, after the first or after the second residual group.
    return StagedNet(
        stages,
        nn.Sequential(net.avgpool, nn.Flatten(1)),
        net.fc,
        mix_points=(0, 2, 3),
        embedding_dim=net.fc.in_features,
    )


class _PreActBlock(nn.Module):
    """He et al. (2016b)'s pre-activation basic block: BN-ReLU-conv3x3, BN-ReLU-conv3x3, plus the identity (or a 1x1
    convolution of the pre-activated input where the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(c_in), nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(c_out), nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        return self.conv2(torch.relu(self.bn2(out))) + skip


def _preact_group(c_in: int, c_out: int, blocks: int, stride: int) -> nn.Sequential:
    layers = [_PreActBlock(c_in, c_out, stride)] + [_PreActBlock(c_out, c_out, 1) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def _preact_net(widths: Sequence[int], blocks: int, num_classes: int, in_channels: int, stem: int) -> StagedNet:
    """A CIFAR pre-activation ResNet: a 3x3 stem of ``stem`` channels, one group of ``blocks`` pre-activation blocks per
    width (stride 2 from the second on), a final BN-ReLU, global average pooling and a linear head; manifold mixup's
    points as Verma et al.'s code: the input, after the first group, after the second."""
    conv = nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False)
    groups, c = [], stem
    for i, w in enumerate(widths):
        groups.append(_preact_group(c, w, blocks, 1 if i == 0 else 2))
        c = w
    groups[-1] = nn.Sequential(*groups[-1], nn.BatchNorm2d(c), nn.ReLU())
    pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
    return StagedNet([conv, *groups], pool, nn.Linear(c, num_classes), mix_points=(0, 2, 3), embedding_dim=c)


def _preact_resnet18(num_classes: int, in_channels: int) -> StagedNet:
    # PreActResNet-18 as the mixup / manifold mixup / MultiMix CIFAR code builds it: 64-128-256-512, two blocks each
    return _preact_net((64, 128, 256, 512), 2, num_classes, in_channels, stem=64)


def _wrn(depth: int, widen: int, num_classes: int, in_channels: int) -> StagedNet:
    # Zagoruyko & Komodakis (2016): WRN-d-k, (d - 4) / 6 pre-activation blocks per group, widths 16k, 32k, 64k
    if (depth - 4) % 6:
        raise ValueError(f"a WRN's depth must be 6n + 4, got {depth}")
    return _preact_net((16 * widen, 32 * widen, 64 * widen), (depth - 4) // 6, num_classes, in_channels, stem=16)


def _replace_first_conv(seq: nn.Sequential, in_channels: int, small_input: bool) -> None:
    old: nn.Conv2d = seq[0][0]
    stride = 1 if small_input else old.stride
    if in_channels != old.in_channels or small_input:
        new = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, stride, old.padding, bias=False)
        seq[0][0] = _conv_init(new)


def _mobilenet_v2(num_classes: int, in_channels: int, *, small_input: bool) -> StagedNet:
    import torchvision

    net = torchvision.models.mobilenet_v2(weights=None, num_classes=num_classes)
    _replace_first_conv(net.features, in_channels, small_input)
    pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
    return StagedNet(list(net.features), pool, net.classifier, mix_points=(0, 4, 7), embedding_dim=net.last_channel)


def _efficientnet_b0(num_classes: int, in_channels: int, *, small_input: bool) -> StagedNet:
    import torchvision

    net = torchvision.models.efficientnet_b0(weights=None, num_classes=num_classes)
    _replace_first_conv(net.features, in_channels, small_input)
    pool = nn.Sequential(net.avgpool, nn.Flatten(1))
    dim = net.classifier[-1].in_features
    return StagedNet(list(net.features), pool, net.classifier, mix_points=(0, 3, 4), embedding_dim=dim)


def _lenet5(num_classes: int, in_channels: int) -> StagedNet:
    # LeCun et al. 1998 with ReLU and max-pooling (the usual PyTorch MNIST LeNet-5); 28x28 inputs are
    # padded to 32x32 by the first convolution, other sizes are pooled to 5x5 before the dense layers.
    stages = [
        nn.Sequential(nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(
            nn.AdaptiveAvgPool2d(5),
            nn.Flatten(1),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
        ),
    ]
    return StagedNet(stages, nn.Identity(), nn.Linear(84, num_classes), mix_points=(0, 1, 2), embedding_dim=84)


def _digits_cnn(num_classes: int, in_channels: int, *, width: int = 32) -> StagedNet:
    def block(c_in: int, c_out: int, *extra: nn.Module) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), *extra)

    stages = [block(in_channels, width), block(width, 2 * width, nn.MaxPool2d(2)), block(2 * width, 4 * width)]
    pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
    return StagedNet(stages, pool, nn.Linear(4 * width, num_classes), mix_points=(0, 1, 2), embedding_dim=4 * width)


def _mlp(num_classes: int, in_features: int, *, hidden: Sequence[int] = (128, 128)) -> StagedNet:
    stages: list[nn.Module] = [nn.Flatten(1)]
    width = in_features
    for h in hidden:
        stages.append(nn.Sequential(nn.Linear(width, int(h)), nn.ReLU()))
        width = int(h)
    # mix at the input and after every hidden layer but the last (the last is the embedding itself)
    points = (0,) + tuple(range(2, len(stages)))
    return StagedNet(stages, nn.Identity(), nn.Linear(width, num_classes), mix_points=points, embedding_dim=width)


def build(
    name: str,
    *,
    num_classes: int,
    in_channels: int = 3,
    input_size: int | Sequence[int] | None = None,
    small_input: bool | None = None,
    **kwargs,
) -> StagedNet:
    """Build a randomly initialised model (never downloads weights).

    Args:
        name: one of :data:`ARCHS`.
        num_classes: ``K``, the number of logits.
        in_channels: image channels (1 for grayscale), or the number of features for ``mlp``.
        input_size: spatial size ``H`` or ``(H, W)``; only the MLP uses it (features = channels × H × W),
            and ``small_input`` defaults to ``input_size <= 64`` for MobileNetV2 / EfficientNet-B0.
        small_input: stride-1 stem for MobileNetV2 / EfficientNet-B0 (ignored by the others).
        **kwargs: ``hidden=(128, 128)`` for ``mlp``, ``width=32`` for ``digits_cnn``.

    Returns:
        a :class:`StagedNet`.
    """
    check_choice("arch", name, ARCHS)
    num_classes = check_int("num_classes", num_classes, min=1)
    in_channels = check_int("in_channels", in_channels, min=1)
    allowed = {"mlp": {"hidden"}, "digits_cnn": {"width"}}.get(name, set())
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(f"build({name!r}) got unexpected keyword(s) {unknown}; allowed: {sorted(allowed)}")
    if isinstance(input_size, int):
        input_size = (input_size, input_size)
    if small_input is None:
        small_input = input_size is not None and max(input_size) <= 64
    if name in ("resnet18_cifar", "resnet50_cifar"):
        return _resnet(int(name[6:8]), num_classes, in_channels, small_input=True)
    if name in ("resnet18", "resnet50"):
        return _resnet(int(name[6:8]), num_classes, in_channels, small_input=False)
    if name == "mobilenet_v2":
        return _mobilenet_v2(num_classes, in_channels, small_input=bool(small_input))
    if name == "efficientnet_b0":
        return _efficientnet_b0(num_classes, in_channels, small_input=bool(small_input))
    if name == "lenet5":
        return _lenet5(num_classes, in_channels)
    if name == "digits_cnn":
        return _digits_cnn(num_classes, in_channels, **kwargs)
    if name == "preact_resnet18":
        return _preact_resnet18(num_classes, in_channels)
    if name == "wrn16_8":
        return _wrn(16, 8, num_classes, in_channels)
    in_features = in_channels * (math.prod(input_size) if input_size is not None else 1)
    return _mlp(num_classes, in_features, **kwargs)


def default_arch(family: str, *, image_size: int | None = None) -> str:
    """The architecture the papers use for a dataset family (``"image"``/``"tabular"``...) and size."""
    if family in ("tabular", "synthetic"):
        return "mlp"
    if image_size is not None and image_size <= 8:
        return "digits_cnn"
    if image_size is not None and image_size <= 64:
        return "resnet18_cifar"
    return "resnet18"
