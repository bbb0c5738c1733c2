"""Profiles, devices and the validated parameters every notebook starts from.

Every notebook's ``parameters`` cell holds flat values (``profile = "smoke"``, ``device = "auto"``, section
knobs, ``None`` meaning "the profile's default"); its next cell calls :func:`setup`, which validates them,
fills the profile defaults, prints the resolved table and returns it. A typo or a bad value stops the
notebook there with a message naming the parameter.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zmixlib._checks import check_choice

__all__ = ["ROOT", "PROFILES", "DEVICES", "Params", "resolve_device", "seed_everything", "setup"]

#: The three profiles, and what each costs. Each notebook's default is ``smoke``.
PROFILES: dict[str, str] = {
    "smoke": "CI-fast: seconds per notebook, tiny subsets, 1 seed",
    "offline": "CPU laptop, no downloads: synthetic manifolds at the papers' sizes, bundled real data, >= 3 seeds",
    "paper": "the papers' exact recipes and data (needs datasets under data/ and, in practice, a GPU)",
}
DEVICES = ("auto", "cpu", "cuda")

#: The repository root; ``data/`` and ``results/`` live here whatever the working directory.
ROOT = Path(__file__).resolve().parent.parent
#: Parameters that name folders: ``None`` means the project's own folder of that name.
PATH_KNOBS = {"data_root": "data", "results_dir": "results"}


def resolve_device(device: str = "auto"):
    """Map ``"auto" | "cpu" | "cuda"`` (or ``"cuda:N"``) to a ``torch.device``.

    ``"auto"`` picks CUDA when available. Asking for CUDA where there is none is an error, not a
    silent fallback.
    """
    import torch

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
    """Seed Python, NumPy and torch (all devices)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass
class Params:
    """Resolved notebook parameters: attribute access, ``.to_dict()``, printed as a table."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if k == "torch_device" else v) for k, v in self.values.items()}

    def __str__(self) -> str:
        width = max(len(k) for k in self.values)
        lines = [f"{k:<{width}}  {v!r:<40} {self.sources.get(k, '')}" for k, v in self.values.items()]
        return "\n".join(lines)

    __repr__ = __str__


def setup(
    profile: str,
    device: str = "auto",
    *,
    sizes: dict[str, dict[str, Any]] | None = None,
    seed: int | None = 0,
    verbose: bool = True,
    **knobs: Any,
) -> Params:
    """Validate a notebook's parameters and fill the profile's defaults.

    Args:
        profile: one of :data:`PROFILES`.
        device: ``"auto" | "cpu" | "cuda"``; resolved with :func:`resolve_device` into ``torch_device``.
        sizes: ``{profile: {knob: default}}`` — the section's per-profile defaults. A knob passed as
            ``None`` takes the profile's default; a knob given explicitly must have the default's type.
        seed: base seed; everything is seeded with it (``None`` leaves the generators alone).
        **knobs: the section's own parameters.

    Returns:
        :class:`Params` with ``profile``, ``device``, ``torch_device``, ``seed`` and every knob.
    """
    check_choice("profile", profile, PROFILES)
    torch_device = resolve_device(device)
    defaults = (sizes or {}).get(profile, {})
    values: dict[str, Any] = {"profile": profile, "device": device, "torch_device": torch_device, "seed": seed}
    sources = {"profile": "parameter", "device": "parameter", "torch_device": "resolved", "seed": "parameter"}
    for name, value in knobs.items():
        default = defaults.get(name)
        if value is None and name in PATH_KNOBS:
            values[name], sources[name] = str(ROOT / PATH_KNOBS[name]), "project folder"
            continue
        if value is None and name in defaults:
            values[name], sources[name] = default, f"{profile} profile default"
            continue
        if default is not None and value is not None and not _same_kind(value, default):
            raise TypeError(
                f"{name} must be {type(default).__name__} like its {profile!r} default {default!r}, got {value!r}"
            )
        values[name], sources[name] = value, "parameter"
    if seed is not None:
        seed_everything(seed)
    params = Params(values, sources)
    if verbose:
        print(f"profile {profile!r}: {PROFILES[profile]}")
        if os.environ.get("ZMIX_BOOK_RUN"):
            print(f"(executed by the book runner: {os.environ['ZMIX_BOOK_RUN']})")
        print(params)
    return params


def _same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))
