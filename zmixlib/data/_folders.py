"""``ImageFolder`` with a fixed class order (a module of its own so that torchvision is imported only when used).

Imports no other module of :mod:`zmixlib.data`: the caller passes the class folders.
"""

from __future__ import annotations

from collections.abc import Sequence

from torchvision.datasets import ImageFolder

__all__ = ["FixedClassImageFolder"]


class FixedClassImageFolder(ImageFolder):
    """``ImageFolder`` whose labels follow ``classes`` (folder names, label ``i`` = ``classes[i]``),
    whatever sub-folders exist (Imagewoof: the sorted WordNet ids)."""

    def __init__(self, root: str, classes: Sequence[str], **kwargs):
        self._fixed_classes = tuple(classes)
        super().__init__(root, **kwargs)

    def find_classes(self, directory):
        names = list(self._fixed_classes)
        return names, {c: i for i, c in enumerate(names)}
