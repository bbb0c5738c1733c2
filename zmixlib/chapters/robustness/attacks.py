"""Chapter 11's evaluation of a stored model under distribution shift: additive Gaussian noise (k-mixup Table 6),
FGSM (k-mixup Table 7, MultiMix Table 4) and PGD (MultiMix Table 4), on a whole test split held as one tensor.

Attacks are ``torchattacks``' (the implementation k-mixup used; pinned in the lock), run on the model in eval mode;
inputs are images in ``[0, 1]`` (the engine normalises nothing, :mod:`zmixlib.data.transforms`) and every attack and
the noise keep them there.

FGSM's perturbation is ``ε · sign(∇ₓ loss)`` clipped to ``[0, 1]``, and the gradient does not depend on ε: so
:func:`fgsm_errors` runs ``torchattacks.FGSM`` once per batch, reads the direction off its output
(``sign(x_adv − x)``; a pixel it did not move is one whose gradient is zero or that sits on the bound it was pushed
towards, which every ε leaves there too) and evaluates every ε from it — the same images ``torchattacks`` gives at
each ε (``tests/test_robustness.py`` checks it), at one gradient's cost instead of one per ε. The noise is drawn from a ``torch.Generator`` seeded per (run, ε), so a re-evaluation
draws the same noise. ε is given in 1/255 steps of the pixel range, as both papers give it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.engine import models, store
from zmixlib.engine.runspec import RunSpec

__all__ = [
    "ATTACKS",
    "Shift",
    "EvalSplit",
    "test_split",
    "load_model",
    "error_under",
    "fgsm_errors",
    "subsample",
    "NOISE_SEED",
    "EVAL_CHUNK",
]

#: the three shifts: ``noise`` (additive N(0, (ε/255)²), clipped to [0, 1]), ``fgsm``, ``pgd``
ATTACKS = ("clean", "noise", "fgsm", "pgd")
#: the noise generator's seed is this plus the run's seed (the same noise for every method of one seed)
NOISE_SEED = 271


@dataclass(frozen=True)
class Shift:
    """One evaluation: ``attack`` at ``eps`` (in units of 1/255); PGD's ``step`` (1/255) and ``steps``."""

    attack: str
    eps: float = 0.0
    step: float | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        check_choice("attack", self.attack, ATTACKS)
        check_float("eps", self.eps, min=0.0)
        if self.attack == "pgd":
            check_float("step", self.step, min=0.0, min_open=True)
            check_int("steps", self.steps, min=1)

    @property
    def key(self) -> str:
        """``"fgsm@8"``, ``"pgd@4/2x10"``: the shift's name in tables and cached results."""
        if self.attack == "clean":
            return "clean"
        out = f"{self.attack}@{self.eps:g}"
        return out + (f"/{self.step:g}x{self.steps}" if self.attack == "pgd" else "")


@dataclass(frozen=True)
class EvalSplit:
    """A dataset's whole evaluation split as tensors: images ``x`` (N, C, H, W) in [0, 1], labels ``y`` (N,)."""

    dataset: str
    split: str
    x: torch.Tensor
    y: torch.Tensor
    num_classes: int


def test_split(spec: RunSpec, *, split: str = "test", subset: int | None = None) -> EvalSplit:
    """The run's ``split`` (the engine's preprocessing: :func:`zmixlib.engine.train.load_data`) stacked into tensors; the
    first ``subset`` images of a fixed permutation when given (the smoke profile), else all of it."""
    from zmixlib.engine.train import load_data

    splits, num_classes, _ = load_data(spec.replace(eval_splits=(split,)))
    ds = splits[split]
    xs, ys = zip(*(ds[i] for i in range(len(ds))), strict=True)
    x = torch.stack([torch.as_tensor(v, dtype=torch.float32) for v in xs])
    y = torch.as_tensor([int(torch.as_tensor(v).reshape(-1)[0]) for v in ys], dtype=torch.long)
    x, y = _first_of_permutation(x, y, subset)
    if x.ndim != 4 or float(x.min()) < 0.0 or float(x.max()) > 1.0:
        raise ValueError(
            f"{spec.dataset}: the attacks need images (N, C, H, W) in [0, 1], got shape {tuple(x.shape)} "
            f"with values in [{float(x.min()):.3g}, {float(x.max()):.3g}]"
        )
    return EvalSplit(spec.dataset, split, x, y, num_classes)


def _first_of_permutation(x: torch.Tensor, y: torch.Tensor, n: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    if n is None or n >= len(y):
        return x, y
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(20240))[:n].sort().values
    return x[idx], y[idx]


def subsample(split: EvalSplit, n: int | None) -> EvalSplit:
    """``split`` itself, or its first ``n`` images of a fixed permutation (the same for every run)."""
    x, y = _first_of_permutation(split.x, split.y, n)
    return EvalSplit(split.dataset, split.split, x, y, split.num_classes)


def load_model(spec: RunSpec, split: EvalSplit, results_dir, *, device: torch.device) -> torch.nn.Module | None:
    """The run's model with its stored final weights (:func:`zmixlib.engine.store.load_weights`), in eval mode on
    ``device``; ``None`` when the run has no valid weights."""
    weights = store.load_weights(spec, results_dir)
    if weights is None:
        return None
    arch = spec.arch
    if arch == "auto":  # as the engine resolves it (zmixlib.engine.train.Trainer)
        arch = models.default_arch("image", image_size=max(split.x.shape[2:]))
    model = models.build(
        arch,
        num_classes=split.num_classes,
        in_channels=int(split.x.shape[1]),
        input_size=tuple(split.x.shape[2:]),
        **dict(spec.arch_kwargs),
    )
    model.load_state_dict(weights)
    return model.to(device).eval()


def _noisy(x: torch.Tensor, eps: float, generator: torch.Generator) -> torch.Tensor:
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return (x + noise * (eps / 255.0)).clamp_(0.0, 1.0)


def _attack(model: torch.nn.Module, shift: Shift):
    import torchattacks

    if shift.attack == "fgsm":
        atk = torchattacks.FGSM(model, eps=shift.eps / 255.0)
    else:
        atk = torchattacks.PGD(
            model, eps=shift.eps / 255.0, alpha=float(shift.step) / 255.0, steps=int(shift.steps), random_start=True
        )
    atk.set_model_training_mode(model_training=False)  # eval mode: batch norm and dropout as at test time
    return atk


#: images per forward pass when counting errors: LeNet-5's convolutions run ~1.8x faster per image on 256-image
#: chunks than on 1000-image ones on a 2-core CPU (its activations stay in cache); in eval mode each image's logits
#: do not depend on its chunk, so the counts are the same (tests/test_robustness.py checks it)
EVAL_CHUNK = 256


def _wrong(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """How many of ``x`` the model misclassifies, in chunks of :data:`EVAL_CHUNK` (no gradient)."""
    with torch.no_grad():
        return sum(
            int((model(x[i : i + EVAL_CHUNK]).argmax(1) != y[i : i + EVAL_CHUNK]).sum())
            for i in range(0, len(y), EVAL_CHUNK)
        )


def fgsm_errors(
    model: torch.nn.Module, split: EvalSplit, eps: list[float], *, device: torch.device, batch_size: int = 1000
) -> dict[float, float]:
    """``{ε: top-1 error (%)}`` of ``model`` on the whole ``split`` under ``torchattacks.FGSM`` at each ``ε`` (1/255
    units), from one attack per batch (module docstring)."""
    model.eval()
    eps = [float(e) for e in eps]
    if not eps:
        return {}
    atk = _attack(model, Shift("fgsm", max(eps)))
    wrong = dict.fromkeys(eps, 0)
    for i in range(0, len(split.y), batch_size):
        x, y = split.x[i : i + batch_size].to(device), split.y[i : i + batch_size].to(device)
        direction = torch.cat(
            [
                torch.sign(atk(x[j : j + EVAL_CHUNK], y[j : j + EVAL_CHUNK]) - x[j : j + EVAL_CHUNK])
                for j in range(0, len(y), EVAL_CHUNK)
            ]
        )  # FGSM has no randomness and each image's gradient sign is its own: chunking changes no direction
        for e in eps:
            wrong[e] += _wrong(model, torch.clamp(x + (e / 255.0) * direction, min=0, max=1), y)
    return {e: 100.0 * w / len(split.y) for e, w in wrong.items()}


def error_under(
    model: torch.nn.Module, split: EvalSplit, shift: Shift, *, seed: int, device: torch.device, batch_size: int = 1000
) -> float:
    """Top-1 error (%) of ``model`` on the whole ``split`` under ``shift``. The noise is drawn on the CPU from a
    generator seeded with ``NOISE_SEED + seed`` and ε (so every method of one seed sees the same noise); PGD's
    random start is drawn from torch's global generator, seeded likewise."""
    model.eval()
    gen = torch.Generator().manual_seed(NOISE_SEED + int(seed) + int(round(shift.eps * 1000)))
    if shift.attack == "pgd":
        torch.manual_seed(NOISE_SEED + int(seed))
    atk = _attack(model, shift) if shift.attack in ("fgsm", "pgd") else None
    wrong = 0
    for i in range(0, len(split.y), batch_size):
        x, y = split.x[i : i + batch_size], split.y[i : i + batch_size]
        if shift.attack == "noise":
            x = _noisy(x, shift.eps, gen)
        x, y = x.to(device), y.to(device)
        if atk is not None:
            x = atk(x, y)  # PGD's random start is drawn per batch of ``batch_size``: not chunked
        wrong += _wrong(model, x, y)
    err = 100.0 * wrong / len(split.y)
    if not math.isfinite(err):
        raise FloatingPointError(f"error under {shift.key} is not finite")
    return err
