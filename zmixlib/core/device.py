"""Which device a run uses, and seeding every random generator: the two things the engine needs from setup.

Imports only the standard library, NumPy and torch: the engine (:mod:`zmixlib.engine.train`) and the notebook setup
(:mod:`zmixlib.protocol.config`) both use it, and the engine imports neither the setup nor the profiles.
"""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["DEVICES", "resolve_device", "seed_everything"]

#: The device names a notebook, the CLI or the book runner accepts (besides ``"cuda:N"``).
DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Map ``"auto" | "cpu" | "cuda"`` (or ``"cuda:N"``) to a ``torch.device``.

    ``"auto"`` picks CUDA when available. Asking for CUDA where there is none is an error, not a
    silent fallback.

    Returns:
        the ``torch.device`` to run on.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not (device in DEVICES or device.startswith("cuda:")):
        raise ValueError(f"device must be one of {list(DEVICES)} (or 'cuda:N'), got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but torch.cuda.is_available() is False; use 'cpu' or 'auto'")
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (all devices); returns nothing."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
