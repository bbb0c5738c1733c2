"""Small helpers shared by every layer: atomic writes, torch thread control, to-NumPy, git identity.

Each exists once here; nothing in ``zmixlib`` writes a result file, changes the thread count or asks git
for the commit any other way. Imports only the standard library, NumPy and torch.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zmixlib._checks import check_int

__all__ = ["atomic_write", "atomic_write_text", "atomic_torch_save", "torch_threads", "to_numpy", "git_info", "ROOT"]

#: The project folder (the checkout holding ``zmixlib/``).
ROOT = Path(__file__).resolve().parent.parent


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then rename it onto ``path``.

    A reader never sees a half-written file, and a killed writer leaves the old file (or none) behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` atomically (checkpoints)."""
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


@contextmanager
def torch_threads(num: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(num)`` (``None``: unchanged), then restore the count."""
    if num is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(check_int("threads", num, min=1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def to_numpy(a: Any) -> np.ndarray:
    """A NumPy array from a tensor (any device, detached) or anything ``np.asarray`` takes."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu()
        return (a.float() if a.dtype == torch.bfloat16 else a).numpy()  # NumPy has no bfloat16
    return np.asarray(a)


def git_info(root: str | os.PathLike = ROOT) -> dict[str, Any]:
    """``{"git_commit": sha or None, "git_dirty": bool or None}`` of the checkout at ``root``."""
    info: dict[str, Any] = {"git_commit": None, "git_dirty": None}
    try:
        run = lambda *a: subprocess.run(["git", "-C", str(root), *a], capture_output=True, text=True, timeout=5)
        head = run("rev-parse", "HEAD")
        if head.returncode == 0:
            info["git_commit"] = head.stdout.strip()
            info["git_dirty"] = bool(run("status", "--porcelain", "--untracked-files=no").stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info
