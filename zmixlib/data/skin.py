"""Skin lesion datasets: ISIC 2016/2017/2018, MSK, UDA, DermoFit, derm7point (clinical, dermoscopic), PH2, MED-NODE.

No library loads these; this module parses each dataset's own files (layouts in :data:`LAYOUTS`).

Labels use the 5-class scheme ``BCC, NEV, MEL, SK, MISC`` (:data:`FIVE`) wherever a dataset's labels
allow it (:func:`skin_class` maps diagnosis names), and fewer classes where they do not:

- ISIC 2016 (Part 3): ``benign, malignant`` (malignant = melanoma) as published;
- ISIC 2017 (Part 3): ``NEV, MEL, SK`` (neither melanoma nor seborrheic keratosis = nevus);
- ISIC 2018 (Task 3): MEL->MEL, NV->NEV, BCC->BCC, BKL->SK, AKIEC/DF/VASC->MISC (BKL, "benign
  keratosis-like", also holds solar lentigines and lichen-planus-like keratoses);
- PH2: clinical diagnosis 0 (common nevus) and 1 (atypical nevus) -> NEV, 2 -> MEL;
- MED-NODE: naevus -> NEV, melanoma -> MEL;
- derm7point, MSK, UDA, DermoFit: the five classes (derm7pt's grouping as in Kawahara et al. 2019).

Splits: the official ones for ISIC (2016: train/test; 2017, 2018: train/val/test) and derm7point
(``{train,valid,test}_indexes.csv``); for MSK, UDA, DermoFit, PH2 and MED-NODE a stratified 70:10:20
train/val/test split drawn once with seed :data:`SPLIT_SEED` and stored at
``root/<folder>/zmix_split.csv`` (written atomically on first use) so every run uses the same one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from zmixlib.core.util import atomic_write_text
from zmixlib.data._base import DamagedDataError, DatasetInfo, damaged_dataset_error, missing_dataset_error, to_tensor

FIVE = ("BCC", "NEV", "MEL", "SK", "MISC")
SPLIT_SEED = 0
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)
SPLIT_FILE = "zmix_split.csv"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")

_CODES = {
    "mel": "MEL",
    "nv": "NEV",
    "nev": "NEV",
    "ml": "NEV",  # DermoFit: melanocytic nevus (mole)
    "bcc": "BCC",
    "sk": "SK",
    "bkl": "SK",
    "misc": "MISC",
}


def skin_class(diagnosis: str) -> str:
    """Map a diagnosis (name or code, any case) to one of :data:`FIVE`.

    Melanoma and its variants (in situ, thickness, metastasis) -> MEL; any nevus/naevus -> NEV;
    basal cell carcinoma -> BCC; seborrheic keratosis (and ISIC's "(pigmented) benign keratosis",
    BKL) -> SK; everything else (dermatofibroma, lentigo, melanosis, vascular lesions, actinic
    keratosis, SCC, miscellaneous, ...) -> MISC.
    """
    d = " ".join(str(diagnosis).strip().lower().replace("_", " ").split())
    if d in _CODES:
        return _CODES[d]
    if "melanoma" in d:
        return "MEL"
    if any(w in d for w in ("nevus", "naevus", "nevi", "naevi")):
        return "NEV"
    if "basal cell" in d:
        return "BCC"
    if ("seborr" in d and "keratos" in d) or "benign keratosis" in d:
        return "SK"
    return "MISC"


@dataclass(frozen=True)
class _Spec:
    name: str
    folder: str
    classes: tuple[str, ...]
    splits: tuple[str, ...]
    source: str
    licence: str
    layout: str
    notes: str


_ISIC = "https://challenge.isic-archive.com/data/"
_TVT = ("train", "val", "test")
_DERM7PT_LAYOUT = (
    "derm7pt/release_v0/meta/meta.csv             (columns diagnosis, clinic, derm, ...)\n"
    "derm7pt/release_v0/meta/train_indexes.csv    (column indexes: 0-based rows of meta.csv)\n"
    "derm7pt/release_v0/meta/valid_indexes.csv\n"
    "derm7pt/release_v0/meta/test_indexes.csv\n"
    "derm7pt/release_v0/images/<the paths in the clinic and derm columns>"
)
SPECS = [
    _Spec(
        "ISIC2016",
        "ISIC2016",
        ("benign", "malignant"),
        ("train", "test"),
        f"Gutman et al. 2016, ISBI 2016 challenge Part 3: {_ISIC}#2016",
        "CC-0",
        "ISIC2016/ISBI2016_ISIC_Part3_Training_GroundTruth.csv  (no header: image_id,benign|malignant)\n"
        "ISIC2016/ISBI2016_ISIC_Part3_Test_GroundTruth.csv      (no header: image_id,0|1)\n"
        "ISIC2016/ISBI2016_ISIC_Part3_Training_Data/ISIC_*.jpg\n"
        "ISIC2016/ISBI2016_ISIC_Part3_Test_Data/ISIC_*.jpg",
        "2 classes as published (benign, malignant = melanoma); official train/test (no val).",
    ),
    _Spec(
        "ISIC2017",
        "ISIC2017",
        ("NEV", "MEL", "SK"),
        _TVT,
        f"Codella et al. 2018, ISIC 2017 challenge Part 3: {_ISIC}#2017",
        "CC-0",
        "ISIC2017/ISIC-2017_Training_Part3_GroundTruth.csv     (header image_id,melanoma,seborrheic_keratosis)\n"
        "ISIC2017/ISIC-2017_Validation_Part3_GroundTruth.csv   (same columns)\n"
        "ISIC2017/ISIC-2017_Test_v2_Part3_GroundTruth.csv      (same columns)\n"
        "ISIC2017/ISIC-2017_Training_Data/ISIC_*.jpg\n"
        "ISIC2017/ISIC-2017_Validation_Data/ISIC_*.jpg\n"
        "ISIC2017/ISIC-2017_Test_v2_Data/ISIC_*.jpg",
        "3 classes: melanoma -> MEL, seborrheic keratosis -> SK, neither -> NEV; official train/val/test.",
    ),
    _Spec(
        "ISIC2018",
        "ISIC2018",
        FIVE,
        _TVT,
        f"Codella et al. 2019 / Tschandl et al. 2018 (HAM10000), ISIC 2018 Task 3: {_ISIC}#2018",
        "CC BY-NC 4.0",
        "ISIC2018/ISIC2018_Task3_Training_GroundTruth/ISIC2018_Task3_Training_GroundTruth.csv\n"
        "ISIC2018/ISIC2018_Task3_Validation_GroundTruth/ISIC2018_Task3_Validation_GroundTruth.csv\n"
        "ISIC2018/ISIC2018_Task3_Test_GroundTruth/ISIC2018_Task3_Test_GroundTruth.csv\n"
        "    (header image,MEL,NV,BCC,AKIEC,BKL,DF,VASC, one-hot; each CSV may also sit directly in ISIC2018/)\n"
        "ISIC2018/ISIC2018_Task3_Training_Input/ISIC_*.jpg\n"
        "ISIC2018/ISIC2018_Task3_Validation_Input/ISIC_*.jpg\n"
        "ISIC2018/ISIC2018_Task3_Test_Input/ISIC_*.jpg",
        "7 classes mapped to 5: MEL->MEL, NV->NEV, BCC->BCC, BKL->SK, AKIEC/DF/VASC->MISC; official train/val/test.",
    ),
    _Spec(
        "MSK",
        "MSK",
        FIVE,
        _TVT,
        "ISIC archive collections MSK-1 ... MSK-5 (Memorial Sloan Kettering): https://www.isic-archive.com",
        "per image, as the ISIC archive states (CC-0 / CC BY / CC BY-NC)",
        "MSK/manifest.csv   (header image,diagnosis; image = path relative to MSK/ or the image id;\n"
        "    i.e. the isic_id and diagnosis columns of the archive's metadata CSV for collections MSK-1 ... MSK-5)\n"
        "MSK/<any sub-folders>/<image id>.jpg",
        "Diagnoses mapped to 5 classes by skin_class(); seeded stratified 70:10:20 split in MSK/zmix_split.csv.",
    ),
    _Spec(
        "UDA",
        "UDA",
        FIVE,
        _TVT,
        "ISIC archive collections UDA-1, UDA-2 (University of Athens): https://www.isic-archive.com",
        "per image, as the ISIC archive states (CC-0 / CC BY / CC BY-NC)",
        "UDA/manifest.csv   (header image,diagnosis; image = path relative to UDA/ or the image id;\n"
        "    i.e. the isic_id and diagnosis columns of the archive's metadata CSV for collections UDA-1, UDA-2)\n"
        "UDA/<any sub-folders>/<image id>.jpg",
        "Diagnoses mapped to 5 classes by skin_class(); seeded stratified 70:10:20 split in UDA/zmix_split.csv.",
    ),
    _Spec(
        "DermoFit",
        "DermoFit",
        FIVE,
        _TVT,
        "Ballerini et al. 2013, Dermofit Image Library (University of Edinburgh): "
        "https://licensing.edinburgh-innovations.ed.ac.uk/product/dermofit-image-library",
        "commercial licence from the University of Edinburgh",
        "DermoFit/manifest.csv   (header image,diagnosis; image = path relative to DermoFit/ or the image id;\n"
        "    diagnosis = class name or code: AK, BCC, ML, SCC, SK, IEC, PYO, VASC, DF, MEL)\n"
        "DermoFit/<class>/<id>/<id>.png",
        "ML->NEV, MEL->MEL, BCC->BCC, SK->SK, the rest->MISC; seeded stratified 70:10:20 split in "
        "DermoFit/zmix_split.csv.",
    ),
    _Spec(
        "derm7point-C",
        "derm7pt",
        FIVE,
        _TVT,
        "Kawahara et al. 2019, Seven-point checklist dataset: https://derm.cs.sfu.ca",
        "research use after registration (see the site)",
        _DERM7PT_LAYOUT,
        "Clinical images (clinic column); the derm7pt 5-class grouping; official train/valid/test index files.",
    ),
    _Spec(
        "derm7point-D",
        "derm7pt",
        FIVE,
        _TVT,
        "Kawahara et al. 2019, Seven-point checklist dataset: https://derm.cs.sfu.ca",
        "research use after registration (see the site)",
        _DERM7PT_LAYOUT,
        "Dermoscopic images (derm column); the derm7pt 5-class grouping; official train/valid/test index files.",
    ),
    _Spec(
        "PH2",
        "PH2",
        ("NEV", "MEL"),
        _TVT,
        "Mendonca et al. 2013, PH2 database: https://www.fc.up.pt/addi/ph2%20database.html",
        "free for research use; cite the authors",
        "PH2/PH2Dataset/PH2_dataset.txt    ('||'-delimited; column 'Clinical Diagnosis' 0|1|2)\n"
        "PH2/PH2Dataset/PH2 Dataset images/IMD*/IMD*_Dermoscopic_Image/IMD*.bmp",
        "Clinical diagnosis 0 (common nevus), 1 (atypical nevus) -> NEV, 2 (melanoma) -> MEL; seeded "
        "stratified 70:10:20 split in PH2/zmix_split.csv.",
    ),
    _Spec(
        "MED-NODE",
        "MED-NODE",
        ("NEV", "MEL"),
        _TVT,
        "Giotis et al. 2015, MED-NODE: https://www.cs.rug.nl/~imaging/databases/melanoma_naevi/",
        "free for research use; cite the authors",
        "MED-NODE/complete_mednode_dataset/melanoma/*.jpg\nMED-NODE/complete_mednode_dataset/naevus/*.jpg",
        "naevus -> NEV, melanoma -> MEL; seeded stratified 70:10:20 split in MED-NODE/zmix_split.csv.",
    ),
]
SPEC_BY_NAME = {s.name: s for s in SPECS}
OFFICIAL_SPLITS = {"ISIC2016", "ISIC2017", "ISIC2018", "derm7point-C", "derm7point-D"}


def how_to_obtain(spec: _Spec) -> str:
    return (
        f"{spec.name}: no automatic download. Get it from {spec.source.split(': ', 1)[-1]} "
        f"and lay it out under <root>/ as:\n" + "\n".join("    " + line for line in spec.layout.splitlines())
    )


INFOS = [
    DatasetInfo(
        name=s.name,
        family="skin",
        num_classes=len(s.classes),
        class_names=s.classes,
        channels=3,
        image_size=(256, 256),
        feature_dim=None,
        splits=s.splits,
        folder=s.folder,
        source=s.source,
        licence=s.licence,
        obtain=how_to_obtain(s),
        notes=s.notes,
        aliases=tuple(a for a in (s.name.replace("derm7point", "derm7pt"),) if a != s.name),
    )
    for s in SPECS
]


class SkinLesionDataset:
    """A ``torch.utils.data.Dataset`` of ``(image, label)`` read from a list of files.

    Images are opened as RGB PIL images and passed to ``transform`` (default: float tensor
    ``(3, H, W)`` in ``[0, 1]``, native size). ``samples`` is the list of ``(path, label)``.
    """

    def __init__(
        self, samples: list[tuple[Path, int]], classes: tuple[str, ...], transform=None, info: DatasetInfo | None = None
    ):
        self.samples = list(samples)
        self.classes = list(classes)
        self.transform = transform
        self.info = info  # names the dataset (and its `make data` command) when an image is damaged

    @property
    def targets(self) -> list[int]:
        return [y for _, y in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, y = self.samples[index]
        try:
            with Image.open(path) as img:
                img = img.convert("RGB")
        except (OSError, SyntaxError, ValueError) as err:  # truncated, overwritten, not an image: name the file
            found = f"{type(err).__name__}: {err} ({Path(path).stat().st_size} bytes)"
            if self.info is not None:
                raise damaged_dataset_error(self.info, Path(path), "an image PIL can read", found) from None
            raise DamagedDataError(f"{path} is damaged: expected an image PIL can read, found {found}") from None
        x = self.transform(img) if self.transform is not None else to_tensor(img)
        return x, y

    def __repr__(self) -> str:
        return f"SkinLesionDataset(n={len(self)}, classes={self.classes})"


# ---------------------------------------------------------------- parsing helpers


def _read_csv(path: Path, header: bool = True) -> list[dict[str, str]] | list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not header:
        return rows
    keys = [k.strip() for k in rows[0]]
    return [dict(zip(keys, (c.strip() for c in r))) for r in rows[1:]]


def _find(base: Path, filename: str, info: DatasetInfo) -> Path:
    """``base/filename`` or, failing that, the first ``filename`` found below ``base``."""
    if (base / filename).is_file():
        return base / filename
    for path in sorted(base.rglob(filename)):
        if path.is_file():
            return path
    raise missing_dataset_error(info, base / filename, "file not found in the folder or below it")


def _image_index(base: Path) -> dict[str, Path]:
    """Image stem -> path for every image file below ``base`` (first in sorted order wins)."""
    index: dict[str, Path] = {}
    for path in sorted(base.rglob("*")):
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            index.setdefault(path.stem, path)
    return index


def _lookup(index: dict[str, Path], image_id: str, info: DatasetInfo, base: Path) -> Path:
    stem = Path(image_id).stem if Path(image_id).suffix.lower() in IMAGE_EXTENSIONS else image_id
    if stem not in index:
        raise missing_dataset_error(info, base, f"no image file for {image_id!r}")
    return index[stem]


def _label_2016(value: str) -> int:
    v = value.strip().lower()
    if v in ("benign", "0", "0.0"):
        return 0
    if v in ("malignant", "1", "1.0"):
        return 1
    raise ValueError(f"ISIC2016: unknown label {value!r} (expected benign/malignant or 0/1)")


def _is_one(value: str) -> bool:
    return float(value) >= 0.5


# ---------------------------------------------------------------- per-dataset parsers
# Each returns a list of (path, class name, split or None).


def _parse_isic2016(info, base):
    index = _image_index(base)
    out = []
    for split, part in (("train", "Training"), ("test", "Test")):
        for row in _read_csv(_find(base, f"ISBI2016_ISIC_Part3_{part}_GroundTruth.csv", info), header=False):
            if row[0].strip().lower() in ("image_id", "image", "isic_id"):
                continue  # tolerate a header line
            out.append((_lookup(index, row[0].strip(), info, base), info.class_names[_label_2016(row[1])], split))
    return out


def _parse_isic2017(info, base):
    index = _image_index(base)
    out = []
    for split, part in (("train", "Training"), ("val", "Validation"), ("test", "Test_v2")):
        for row in _read_csv(_find(base, f"ISIC-2017_{part}_Part3_GroundTruth.csv", info)):
            mel, sk = _is_one(row["melanoma"]), _is_one(row["seborrheic_keratosis"])
            name = "MEL" if mel else "SK" if sk else "NEV"
            out.append((_lookup(index, row["image_id"], info, base), name, split))
    return out


_ISIC2018_MAP = {"MEL": "MEL", "NV": "NEV", "BCC": "BCC", "BKL": "SK", "AKIEC": "MISC", "DF": "MISC", "VASC": "MISC"}


def _parse_isic2018(info, base):
    index = _image_index(base)
    out = []
    for split, part in (("train", "Training"), ("val", "Validation"), ("test", "Test")):
        for row in _read_csv(_find(base, f"ISIC2018_Task3_{part}_GroundTruth.csv", info)):
            code = max(_ISIC2018_MAP, key=lambda k: float(row[k]))
            out.append((_lookup(index, row["image"], info, base), _ISIC2018_MAP[code], split))
    return out


def _parse_derm7pt(info, base):
    meta_path = _find(base, "meta.csv", info)
    meta_dir = meta_path.parent
    images = meta_dir.parent / "images"
    column = "clinic" if info.name.endswith("-C") else "derm"
    rows = _read_csv(meta_path)
    out = []
    for split, stem in (("train", "train"), ("val", "valid"), ("test", "test")):
        for r in _read_csv(_find(meta_dir, f"{stem}_indexes.csv", info)):
            row = rows[int(float(r["indexes"]))]
            path = images / row[column]
            if not path.is_file():
                raise missing_dataset_error(info, path, "image listed in meta.csv is absent")
            out.append((path, skin_class(row["diagnosis"]), split))
    return out


def _parse_ph2(info, base):
    text_path = _find(base, "PH2_dataset.txt", info)
    index = _image_index(base)
    out, cols = [], None
    for line in text_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if "||" not in line:
            continue
        fields = [f.strip() for f in line.split("||")]
        if cols is None:
            if "Name" in fields and "Clinical Diagnosis" in fields:
                cols = (fields.index("Name"), fields.index("Clinical Diagnosis"))
            continue
        name, diag = fields[cols[0]], fields[cols[1]] if len(fields) > cols[1] else ""
        if not name.startswith("IMD"):
            continue
        if diag not in ("0", "1", "2"):
            raise ValueError(f"PH2: {text_path}: clinical diagnosis of {name} is {diag!r}, expected 0, 1 or 2")
        out.append((_lookup(index, name, info, base), "MEL" if diag == "2" else "NEV", None))
    if cols is None:
        raise ValueError(f"PH2: {text_path} has no header line with 'Name' and 'Clinical Diagnosis'")
    return out


def _parse_mednode(info, base):
    out = []
    for path in sorted(base.rglob("*")):
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            parent = path.parent.name.lower()
            if parent in ("melanoma", "naevus", "nevus"):
                out.append((path, "MEL" if parent == "melanoma" else "NEV", None))
    if not out:
        raise missing_dataset_error(info, base, "no images in melanoma/ or naevus/ folders")
    return out


def _parse_manifest(info, base):
    index = None
    out = []
    for row in _read_csv(_find(base, "manifest.csv", info)):
        image = row["image"] if "image" in row else row["isic_id"]
        path = base / image
        if not path.is_file():
            index = index if index is not None else _image_index(base)
            path = _lookup(index, image, info, base)
        out.append((path, skin_class(row["diagnosis"]), None))
    return out


PARSERS = {
    "ISIC2016": _parse_isic2016,
    "ISIC2017": _parse_isic2017,
    "ISIC2018": _parse_isic2018,
    "MSK": _parse_manifest,
    "UDA": _parse_manifest,
    "DermoFit": _parse_manifest,
    "derm7point-C": _parse_derm7pt,
    "derm7point-D": _parse_derm7pt,
    "PH2": _parse_ph2,
    "MED-NODE": _parse_mednode,
}


# ---------------------------------------------------------------- the stored split


def stratified_split(
    labels: list, *, fractions: tuple[float, float, float] = SPLIT_FRACTIONS, seed: int = SPLIT_SEED
) -> list[str]:
    """Assign ``"train" | "val" | "test"`` to each item, stratified by label.

    Within each class (in order of first appearance) the items are permuted with
    ``numpy.random.default_rng(seed)``; the first ``round(f_train * n)`` go to train, the next
    ``round(f_val * n)`` to val, the rest to test.
    """
    rng = np.random.default_rng(seed)
    out = [""] * len(labels)
    for cls in dict.fromkeys(labels):
        idx = [i for i, y in enumerate(labels) if y == cls]
        perm = rng.permutation(len(idx))
        n_train = int(round(fractions[0] * len(idx)))
        n_val = min(int(round(fractions[1] * len(idx))), len(idx) - n_train)
        for rank, j in enumerate(perm):
            out[idx[j]] = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
    return out


def _stored_split(info: DatasetInfo, base: Path, items: list[tuple[Path, str]]) -> dict[str, str]:
    """Image (relative posix path) -> split, from ``base/zmix_split.csv``; drawn and written on first use."""
    split_path = base / SPLIT_FILE
    keys = [p.relative_to(base).as_posix() for p, _ in items]
    if split_path.is_file():
        stored = {r["image"]: r["split"] for r in _read_csv(split_path)}
        if set(stored) != set(keys):
            extra, absent = len(set(keys) - set(stored)), len(set(stored) - set(keys))
            raise ValueError(
                f"{info.name}: {split_path} does not match the images found ({extra} not in it, {absent} listed but "
                f"absent); delete it to draw a new split"
            )
        return stored
    order = sorted(range(len(items)), key=lambda i: keys[i])
    splits = stratified_split([items[i][1] for i in order])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["image", "label", "split"])
    for i, s in zip(order, splits):
        writer.writerow([keys[i], items[i][1], s])
    atomic_write_text(split_path, buf.getvalue())
    return {keys[i]: s for i, s in zip(order, splits)}


def samples(info: DatasetInfo, split: str, root: Path) -> list[tuple[Path, int]]:
    """The ``(path, label)`` list of ``split`` (official or stored split)."""
    base = root / info.folder
    if not base.is_dir():
        raise missing_dataset_error(info, base)
    parsed = PARSERS[info.name](info, base)
    if info.name not in OFFICIAL_SPLITS:
        stored = _stored_split(info, base, [(p, c) for p, c, _ in parsed])
        parsed = [(p, c, stored[p.relative_to(base).as_posix()]) for p, c, _ in parsed]
    class_index = {c: i for i, c in enumerate(info.class_names)}
    return sorted((p, class_index[c]) for p, c, s in parsed if s == split)


def load(info: DatasetInfo, split: str, root: Path, download: bool, transform):
    if download and not (root / info.folder).is_dir():
        raise missing_dataset_error(info, root / info.folder, "it cannot be downloaded automatically")
    return SkinLesionDataset(samples(info, split, root), info.class_names, transform, info=info)
