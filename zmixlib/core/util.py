"""Small helpers shared by every layer: atomic writes, torch thread control, to-NumPy, git identity.

Each exists once here; nothing in ``zmixlib`` writes a result file, changes the thread count or asks git
for the commit any other way. Imports only the standard library, NumPy and torch.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zmixlib.core.checks import check_int

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "atomic_torch_save",
    "checked_torch_load",
    "checksum_path",
    "DamagedFileError",
    "sha256_of",
    "torch_threads",
    "to_numpy",
    "git_info",
    "ROOT",
    "ROOT_RULE",
    "HOME_ENV",
    "find_root",
]

#: Environment variable naming the folder of ``data/`` and ``results/`` when running outside a checkout.
HOME_ENV = "ZMIX_HOME"
#: What :func:`find_root` does, in one sentence (``python -m zmixlib --help`` prints it).
ROOT_RULE = (
    "data/ and results/ live in the project checkout when zmixlib runs from one (a folder with pyproject.toml, "
    f"zmixlib/ and notebooks/), else in ${HOME_ENV} when set, else in the current working directory"
)


def find_root(
    package_dir: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
) -> Path:
    """The folder holding ``data/`` and ``results/`` (:data:`ROOT_RULE`); an installed copy never writes into itself.

    Args:
        package_dir: the ``zmixlib`` package folder (default: this one); its parent is a checkout when it holds
            ``pyproject.toml``, ``zmixlib/`` and ``notebooks/`` (editable installs and ``python -m`` from a clone).
        environ: where ``ZMIX_HOME`` is looked up (default: ``os.environ``); an empty value counts as unset.
        cwd: the working directory (default: ``Path.cwd()``), the last resort.
    """
    checkout = Path(package_dir if package_dir is not None else Path(__file__).parent).resolve().parent
    if all((checkout / name).exists() for name in ("pyproject.toml", "zmixlib", "notebooks")):
        return checkout
    home = (os.environ if environ is None else environ).get(HOME_ENV)
    if home:
        return Path(home).expanduser().resolve()
    return Path(cwd if cwd is not None else Path.cwd()).resolve()


#: The project folder: the checkout, else ``$ZMIX_HOME``, else the working directory at import (:func:`find_root`).
ROOT = find_root()


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then rename it onto ``path``.

    A reader never sees a half-written file, and a killed writer leaves the old file (or none) behind.
    """
    path = Path(path)
    for attempt in range(5):  # another process may remove the (empty) folder between mkdir and mkstemp
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            break
        except FileNotFoundError:
            if attempt == 4:
                raise
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


class DamagedFileError(ValueError):
    """A file that fails its check (checksum, format); the message names the file and what was found. The one
    damaged-file error: a run record's (:class:`zmixlib.engine.store.DamagedRecordError`) and a data file's
    (:class:`zmixlib.data.DamagedDataError`) are kinds of it."""


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def checksum_path(path: str | os.PathLike) -> Path:
    """``<path>.sha256``: the digests :func:`atomic_torch_save` records for ``path``."""
    path = Path(path)
    return path.with_name(f"{path.name}.sha256")


def _digests(path: Path) -> list[str]:
    try:
        return [line.split()[0] for line in checksum_path(path).read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, IndexError):
        return []


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` atomically (checkpoints), with its SHA-256 in :func:`checksum_path`.

    The file is written to a temporary name and hashed as it lies on disk; the checksum file then lists the
    new digest and the current file's (so a writer killed between the two renames leaves a pair that still
    verifies), and the new file is renamed onto ``path``. :func:`checked_torch_load` verifies it.
    """
    path = Path(path)

    def write(tmp: Path) -> None:
        torch.save(obj, tmp)
        new = sha256_of(tmp)
        current = _digests(path)[:1] if path.is_file() else []
        atomic_write_text(checksum_path(path), "".join(f"{d}  {path.name}\n" for d in [new, *current]))

    return atomic_write(path, write)


#: What a checkpoint holds besides tensors and plain containers: NumPy's RNG state (an array of uint32). Loading
#: allows these and nothing else (``weights_only=True``): a checkpoint cannot run code when it is read.
_CHECKPOINT_GLOBALS = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, np.dtypes.UInt32DType]


def checked_torch_load(path: str | os.PathLike, *, required: tuple[str, ...] = ()) -> Any:
    """``torch.load(path, weights_only=True)`` (on the CPU) of a file :func:`atomic_torch_save` wrote, verified first.

    Raises:
        DamagedFileError: naming the file, when its SHA-256 is not one its checksum file lists, when torch
            cannot read it, or when the loaded dict lacks one of ``required``. A file without a checksum file
            (written before checksums) is trusted as far as it loads and has the ``required`` keys.
    """
    path = Path(path)
    listed = _digests(path)
    if checksum_path(path).is_file() or listed:
        actual = sha256_of(path)
        if actual not in listed:
            raise DamagedFileError(
                f"{path} is damaged: its sha256 is {actual}, expected {' or '.join(listed) or '(unreadable list)'} "
                f"from {checksum_path(path)} ({path.stat().st_size} bytes)"
            )
    try:
        with torch.serialization.safe_globals(_CHECKPOINT_GLOBALS):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any reader failure (zip, pickle, EOF) means the file cannot be used
        raise DamagedFileError(f"{path} is damaged: torch cannot read it ({type(err).__name__}: {err})") from None
    missing = [k for k in required if not isinstance(obj, dict) or k not in obj]
    if missing:
        raise DamagedFileError(f"{path} is damaged: it lacks {missing}")
    return obj


@contextmanager
def environ(values: dict[str, str], *, unset: tuple[str, ...] = ()) -> Iterator[None]:
    """Set ``values`` and remove ``unset`` in ``os.environ`` for the block, then restore every name as it was; a
    process started inside the block (a kernel, a spawned worker) inherits the block's environment."""
    saved = {k: os.environ.get(k) for k in [*values, *unset]}
    try:
        os.environ.update(values)
        for name in unset:
            os.environ.pop(name, None)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


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
