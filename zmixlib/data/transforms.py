"""The papers' input pipelines, per dataset family (:func:`transform_for_info`; by name:
:func:`zmixlib.data.transform_for`).

- skin: a square centre crop of side ``0.8 * min(h, w)``, then a resize to 256x256 (train and test).
- natural: Imagenette/Imagewoof resized to 224x224; the others as they are (28, 32 or 96 px).
- medmnist: as is (28x28).
- offline, synthetic: none (their datasets already give tensors).

Every image pipeline ends with a float tensor ``(C, H, W)`` in ``[0, 1]``; no normalisation is applied
(models normalise if they need to). The pipelines are deterministic: the training engine
(:func:`zmixlib.engine.train.load_data`) applies them to every split and draws the random horizontal flips
itself, on the device, when the run asks for them (``RunSpec.hflip``). ``train=True`` adds a
``RandomHorizontalFlip`` for natural images, for training loops of one's own.
"""

from __future__ import annotations

from zmixlib.core.checks import check_float
from zmixlib.data._base import DatasetInfo, to_tensor

__all__ = ["CentreSquareCrop", "ToFloatTensor", "transform_for_info", "SKIN_SIZE", "SKIN_CROP", "LARGE_NATURAL_SIZE"]

SKIN_CROP = 0.8
SKIN_SIZE = 256
LARGE_NATURAL_SIZE = 224


class CentreSquareCrop:
    """Crop the central square of side ``fraction * min(h, w)`` from a PIL image or ``(..., H, W)`` tensor."""

    def __init__(self, fraction: float = SKIN_CROP):
        self.fraction = check_float("fraction", fraction, min=0.0, max=1.0, min_open=True)

    def __call__(self, img):
        # deferred (here and in transform_for_info): torchvision costs seconds to import; only images need it
        from torchvision.transforms.functional import center_crop, get_image_size

        w, h = get_image_size(img)
        side = max(1, int(round(self.fraction * min(h, w))))
        return center_crop(img, [side, side])

    def __repr__(self) -> str:
        return f"CentreSquareCrop(fraction={self.fraction})"


class ToFloatTensor:
    """PIL image -> float tensor ``(C, H, W)`` in ``[0, 1]`` (what every image dataset gives by default)."""

    def __call__(self, img):
        return to_tensor(img)

    def __repr__(self) -> str:
        return "ToFloatTensor()"


def transform_for_info(info: DatasetInfo, train: bool = False):
    """The papers' transform for the dataset ``info`` describes: a callable from a PIL image to a float
    tensor ``(C, H, W)`` in ``[0, 1]`` at ``info.image_size``, or ``None`` for offline/synthetic data.

    ``train=False`` (what the engine uses): deterministic. ``train=True``: natural images also get a
    random horizontal flip.
    """
    if not isinstance(train, bool):
        raise TypeError(f"train must be a bool, got {train!r}")
    if info.family in ("offline", "synthetic"):
        return None
    import torchvision.transforms as T

    steps = []
    if info.family == "skin":
        steps += [CentreSquareCrop(SKIN_CROP), T.Resize((SKIN_SIZE, SKIN_SIZE))]
    elif info.family == "natural":
        if info.name in ("Imagenette", "Imagewoof"):
            steps.append(T.Resize((LARGE_NATURAL_SIZE, LARGE_NATURAL_SIZE)))
        if train:
            steps.append(T.RandomHorizontalFlip())
    steps.append(ToFloatTensor())
    return T.Compose(steps)
