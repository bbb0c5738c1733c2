"""``ZetaMix``: ζ-mixup as a batch transform in anyone's training loop, beside torchvision's ``v2.MixUp`` /
``v2.CutMix`` and timm's ``Mixup``.

The conventions followed, and where they come from:

* **call protocol** (torchvision ``transforms.v2``): ``mixer(x, y)`` or ``mixer((x, y))`` — the single tuple that
  ``v2.RandomChoice([v2.MixUp(...), mixer])((x, y))`` passes — returns the tuple ``(x_mix, y_mix)``; index labels
  ``(B,)`` or probabilities ``(B, K)``; a batch of one passes through with one-hot labels; an ``nn.Module``
  without parameters that mixes in train and eval mode alike (as ``v2.MixUp``);
* **apply and switch probabilities, label smoothing** (timm ``Mixup(mixup_alpha, cutmix_alpha, prob, switch_prob,
  label_smoothing, num_classes)``): smoothed targets ``(1 − s) y + s / K`` — timm's ``mixup_target`` — mixed by
  the same weights as the inputs;
* **uint8 in the collate** (timm ``FastCollateMixup``): :meth:`ZetaMix.collate` stacks the samples and mixes
  uint8 images in float32, rounded half to even back to uint8.

Labels come out float32 (float64 for float64 inputs), also inside ``torch.autocast``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.core.hparams import gamma_range
from zmixlib.mixing._apply import _label_dtype, soft_labels
from zmixlib.mixing._sampling import _Range
from zmixlib.mixing.pairwise import cutmix, mixup
from zmixlib.mixing.zeta import zeta_mixup

__all__ = ["ZetaMix"]


class ZetaMix(nn.Module):
    """ζ-mixup (optionally switching with mixup and CutMix) as a drop-in batch transform.

    >>> mixer = ZetaMix(num_classes=10)                                # ζ-mixup, γ = 2.8, every batch
    >>> x_mix, y_mix = mixer(x, y)                                      # in a training loop
    >>> v2.RandomChoice([v2.MixUp(num_classes=10), mixer])((x, y))      # beside torchvision
    >>> DataLoader(ds, batch_size=64, collate_fn=mixer.collate)         # at collate time, uint8 too

    Per batch: with probability ``1 − prob`` the batch passes unmixed (one-hot labels, smoothed if asked); else one
    method mixes it. The methods are those enabled, in the order ζ-mixup (``gamma`` not ``None``), mixup
    (``mixup_alpha > 0``), CutMix (``cutmix_alpha > 0``): the first enabled one is the base, and with probability
    ``switch_prob`` the batch goes to one of the others instead (equally likely). So ``ZetaMix(K, cutmix_alpha=1)``
    is the papers' CutMix + ζ-mixup "switch" (``cutmix_zeta``), and ``ZetaMix(K, gamma=None, mixup_alpha=0.8,
    cutmix_alpha=1.0)`` is timm's ``Mixup`` switching between mixup and CutMix (one ``λ`` per batch).

    Args:
        num_classes: ``K``.
        gamma: ζ-mixup's ``γ ≥ 0`` or a range ``(low, high)`` drawn per batch; ``None`` disables ζ-mixup.
        num_mix: ζ-mixup's ``T`` (default: the batch size; ``2`` gives mixup with ``λ = 1 / (1 + 2^-γ)``),
            capped at the batch size (a short last batch).
        mixup_alpha: mixup's ``Beta(α, α)``; ``0`` (default) disables mixup.
        cutmix_alpha: CutMix's ``Beta(α, α)``; ``0`` (default) disables CutMix (images ``(B, C, H, W)`` only).
        prob: probability in ``[0, 1]`` that a batch is mixed at all (default 1).
        switch_prob: probability in ``[0, 1]`` of leaving the base method for another enabled one (default 0.5).
        label_smoothing: ``s`` in ``[0, 1)``: targets ``(1 − s) y + s / K`` before mixing (timm's ``mixup_target``).
        generator: randomness of the mixing (draws on its device; ``None``: the global generator of the batch's
            device). The two coins (apply, switch) are always drawn on the CPU — from ``generator`` if it is a CPU
            generator, else from a CPU generator seeded with its ``initial_seed()`` — so they cost no device sync.
        check: range-check of index labels: ``"first"`` (default) the first batch, even on an accelerator (one sync,
            once), later batches only where it is free (labels on the CPU); ``"always"`` every batch; ``"auto"``
            only where free. An unchecked bad index on an accelerator stops at the one-hot ``scatter_``.

    The functions it calls (``zeta_mixup``, ``mixup``, ``cutmix``) compile with ``torch.compile(fullgraph=True)``;
    this module picks among them on the host, so compile the function, not the module, to get one graph.
    """

    def __init__(
        self,
        num_classes: int,
        gamma: _Range | None = 2.8,
        *,
        num_mix: int | None = None,
        mixup_alpha: float = 0.0,
        cutmix_alpha: float = 0.0,
        prob: float = 1.0,
        switch_prob: float = 0.5,
        label_smoothing: float = 0.0,
        generator: torch.Generator | None = None,
        check: str = "first",
    ):
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, min=1)
        methods: list[tuple[str, dict[str, Any]]] = []
        if gamma is not None:
            gamma_range(gamma)
            if num_mix is not None:
                check_int("num_mix", num_mix, min=2)
            methods.append(("zeta_mixup", {"gamma": gamma, "num_mix": num_mix}))
        for name, alpha in (("mixup", mixup_alpha), ("cutmix", cutmix_alpha)):
            if check_float(f"{name}_alpha", alpha, min=0.0) > 0:
                methods.append((name, {"alpha": float(alpha)}))
        if not methods:
            raise ValueError(
                "ZetaMix has nothing to mix: gamma is None and mixup_alpha = cutmix_alpha = 0; "
                "enable at least one method (gamma >= 0, mixup_alpha > 0 or cutmix_alpha > 0)"
            )
        self.methods = methods
        self.prob = check_float("prob", prob, min=0.0, max=1.0)
        self.switch_prob = check_float("switch_prob", switch_prob, min=0.0, max=1.0)
        self.label_smoothing = check_float("label_smoothing", label_smoothing, min=0.0, max=1.0, max_open=True)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        self.generator = generator
        if generator is None or generator.device.type == "cpu":
            self._coins = generator
        else:
            self._coins = torch.Generator().manual_seed(generator.initial_seed())
        self.check = check_choice("check", check, ("first", "always", "auto"))
        self._checked = False

    _FUNCTIONS = {"zeta_mixup": zeta_mixup, "mixup": mixup, "cutmix": cutmix}

    def _pick(self) -> str | None:
        """The method for this batch (``None``: pass it through). Draws a coin only where there is a choice."""
        if self.prob < 1.0 and float(torch.rand((), generator=self._coins)) >= self.prob:
            return None
        if len(self.methods) > 1 and self.switch_prob > 0.0:
            u = float(torch.rand((), generator=self._coins))
            if u < self.switch_prob:  # one of the others, equally likely: u / switch_prob ~ U[0, 1)
                others = self.methods[1:]
                return others[min(int(u / self.switch_prob * len(others)), len(others) - 1)][0]
        return self.methods[0][0]

    def _targets(self, x: Tensor, y: Tensor) -> Tensor:
        """Index or probability labels → ``(B, K)`` float targets on ``x``'s device, smoothed as timm does."""
        check = True if self.check == "always" or (self.check == "first" and not self._checked) else None
        dtype = _label_dtype(x, y) if x.is_floating_point() else torch.float32
        ys = soft_labels(y, batch_size=x.shape[0], num_classes=self.num_classes, dtype=dtype, check=check)
        self._checked = True
        ys = ys.to(x.device)
        if self.label_smoothing:
            ys = ys.mul_(1.0 - self.label_smoothing).add_(self.label_smoothing / self.num_classes)
        return ys

    def forward(self, *inputs: Any) -> tuple[Tensor, Tensor]:
        """``forward(x, y)`` or ``forward((x, y))`` → ``(x_mix, y_mix)``: ``x_mix`` like ``x`` (uint8 stays
        uint8, rounded), ``y_mix`` ``(B, K)`` float32 (float64 for float64 inputs)."""
        if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):
            inputs = tuple(inputs[0])
        if len(inputs) != 2:
            raise TypeError(
                f"ZetaMix takes (x, y) or the tuple ((x, y)), got {len(inputs)} inputs "
                f"({', '.join(type(i).__name__ for i in inputs)})"
            )
        x, y = inputs
        if not isinstance(x, Tensor) or x.ndim < 1:
            raise TypeError(f"x must be a batch tensor (B, ...), got {type(x).__name__}")
        if x.dtype != torch.uint8 and not x.is_floating_point():
            raise TypeError(f"x must have a floating-point dtype or uint8, got {x.dtype}")
        ys = self._targets(x, y)
        method = self._pick() if x.shape[0] > 1 else None  # a batch of one passes through, as v2.MixUp
        if method is None:
            return x, ys
        if method == "cutmix" and x.ndim != 4:
            raise ValueError(f"cutmix_alpha > 0 needs images of shape (B, C, H, W), got shape {tuple(x.shape)}")
        hp = dict(dict(self.methods)[method])
        if method == "zeta_mixup" and hp["num_mix"] is not None:
            hp["num_mix"] = min(hp["num_mix"], x.shape[0])
        xf = x.float() if x.dtype == torch.uint8 else x
        x_mix, y_mix = self._FUNCTIONS[method](xf, ys, self.num_classes, generator=self.generator, **hp)
        if x.dtype == torch.uint8:
            x_mix = x_mix.round_().clamp_(0, 255).to(torch.uint8)
        return x_mix, y_mix

    def collate(self, batch: Sequence[Any]) -> tuple[Tensor, Tensor]:
        """``collate_fn`` for a DataLoader: stack ``(image, label)`` samples (``default_collate``), then mix. uint8
        images stay uint8 (mixed in float32, rounded half to even, as timm's ``FastCollateMixup``); normalise on the
        device afterwards. With ``num_workers > 0`` pass ``generator=None`` (each worker's global generator is
        seeded by the DataLoader; a shared generator would repeat its draws in every worker)."""
        from torch.utils.data import default_collate

        x, y = default_collate(batch)
        return self(x, y)

    def extra_repr(self) -> str:
        methods = ", ".join(f"{n}({', '.join(f'{k}={v!r}' for k, v in hp.items())})" for n, hp in self.methods)
        return (
            f"num_classes={self.num_classes}, methods=[{methods}], prob={self.prob}, switch_prob={self.switch_prob}, "
            f"label_smoothing={self.label_smoothing}, check={self.check!r}"
        )
