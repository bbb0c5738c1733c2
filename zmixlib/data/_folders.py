"""``ImageFolder`` variants (a module of its own so that torchvision is imported only when used)."""

from __future__ import annotations

from torchvision.datasets import ImageFolder

from zmixlib.data.natural import IMAGEWOOF_WNIDS


class ImagewoofFolder(ImageFolder):
    """``ImageFolder`` with the fixed Imagewoof class order (sorted WordNet ids), whatever sub-folders exist."""

    def find_classes(self, directory):
        wnids = list(IMAGEWOOF_WNIDS)
        return wnids, {w: i for i, w in enumerate(wnids)}
