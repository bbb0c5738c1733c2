"""zmixlib.data: every dataset loads from tiny files written in its real on-disk format.

The loaders run for real (torchvision classes, medmnist classes, our skin parsers); only third-party
integrity checks are patched: torchvision's md5 check (CIFAR, STL-10) and medmnist's expected
``n_samples``, as torchvision's own tests do.
"""

from __future__ import annotations

import dataclasses
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from zmixlib import data

try:
    from tests import dataset_fixtures as fx
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import dataset_fixtures as fx

REQUIRED = {
    "natural": ["MNIST", "Fashion-MNIST", "CIFAR-10", "CIFAR-100", "STL-10", "Imagenette", "Imagewoof"],
    "medmnist": [
        "PathMNIST",
        "DermaMNIST",
        "OCTMNIST",
        "PneumoniaMNIST",
        "BloodMNIST",
        "TissueMNIST",
        "BreastMNIST",
        "OrganAMNIST",
        "OrganCMNIST",
        "OrganSMNIST",
    ],
    "skin": [
        "ISIC2016",
        "ISIC2017",
        "ISIC2018",
        "MSK",
        "UDA",
        "DermoFit",
        "derm7point-C",
        "derm7point-D",
        "PH2",
        "MED-NODE",
    ],
    "offline": ["digits", "iris", "wine", "breast-cancer"],
    "synthetic": ["crescents", "spirals", "helix1d_r3", "helix1d_r12", "paraboloid3d_r12"],
}


def _label_from_pixel(x: torch.Tensor) -> int:
    """Inverse of ``fx.pixel``: the fixtures fill an image of label ``y`` with ``2 * y + 5``."""
    value = round(float(x.mean()) * 255)
    assert float(x.min()) == float(x.max()) and (value - 5) % 2 == 0, value
    return (value - 5) // 2


def _check_image(x, channels, size=None):
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32
    assert x.shape[0] == channels and x.ndim == 3
    if size is not None:
        assert tuple(x.shape[1:]) == tuple(size)
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0


@pytest.fixture
def no_md5(monkeypatch):
    """CIFAR and STL-10 md5-check every file even without download: skip that third-party check."""
    monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *a, **k: True)
    monkeypatch.setattr("torchvision.datasets.stl10.check_integrity", lambda *a, **k: True)


# ---------------------------------------------------------------- registry


class TestRegistry:
    def test_every_required_dataset_is_registered_in_its_family(self):
        for family, names in REQUIRED.items():
            assert set(names) <= set(data.available(family)), family
            for name in names:
                assert data.describe(name).family == family
        assert len(set(data.DATASETS)) == len(data.DATASETS)
        assert sorted(data.DATASETS) == sorted(n for f in data.FAMILIES for n in data.available(f))

    @pytest.mark.parametrize("name", data.DATASETS)
    def test_describe(self, name):
        info = data.describe(name)
        assert info.name == name
        assert info.num_classes == len(info.class_names) >= 1
        assert info.splits and set(info.splits) <= {"train", "val", "test", "all", "fit"}
        assert info.source and info.licence and info.obtain
        if info.feature_dim is None:
            assert info.channels in (1, 3) and len(info.image_size) == 2
            assert info.shape == (info.channels, *info.image_size)
        else:
            assert info.image_size is None and info.shape == (info.feature_dim,)
        with pytest.raises(dataclasses.FrozenInstanceError):
            info.name = "x"

    def test_names_are_matched_loosely(self):
        assert data.describe("cifar10").name == "CIFAR-10"
        assert data.describe("fashion_mnist").name == "Fashion-MNIST"
        assert data.describe("derm7pt-D").name == "derm7point-D"

    def test_unknown_name_lists_known_names(self):
        with pytest.raises(ValueError, match=r"dataset must be one of \[.*'CIFAR-10'.*'ISIC2018'.*\], got 'CIFAR-11'"):
            data.load("CIFAR-11", "train")
        with pytest.raises(ValueError, match="MED-NODE"):
            data.describe("nope")

    def test_bad_split_names_allowed_splits(self):
        with pytest.raises(ValueError, match=r"split of CIFAR-10 must be one of \['train', 'test'\], got 'val'"):
            data.load("CIFAR-10", "val")
        with pytest.raises(ValueError, match=r"split of ISIC2016 must be one of \['train', 'test'\]"):
            data.load("ISIC2016", "val")

    @pytest.mark.parametrize(
        "name", ["MNIST", "CIFAR-10", "STL-10", "Imagewoof", "PathMNIST", "ISIC2018", "PH2", "derm7point-C"]
    )
    def test_missing_dataset_names_path_and_command(self, tmp_path, name):
        folder = tmp_path / data.describe(name).folder
        with pytest.raises(FileNotFoundError) as err:
            data.load(name, "train", root=tmp_path)
        message = str(err.value)
        assert str(folder) in message
        assert f"make data DATASETS={name}" in message


# ---------------------------------------------------------------- natural images


class TestNatural:
    @pytest.mark.parametrize(
        "name,folder,label3", [("MNIST", "MNIST", "3"), ("Fashion-MNIST", "FashionMNIST", "Dress")]
    )
    def test_mnist_like(self, tmp_path, name, folder, label3):
        labels = fx.make_mnist(tmp_path, folder)
        info = data.describe(name)
        for split in ("train", "test"):
            ds = data.load(name, split, root=tmp_path)
            assert len(ds) == len(labels[split])
            for i, expected in enumerate(labels[split]):
                x, y = ds[i]
                _check_image(x, 1, (28, 28))
                assert y == expected == _label_from_pixel(x)
        assert info.class_names[data.load(name, "train", root=tmp_path)[0][1]] == label3

    def test_cifar10(self, tmp_path, no_md5):
        info = data.describe("CIFAR-10")
        labels = fx.make_cifar10(tmp_path, info.class_names)
        ds = data.load("CIFAR-10", "train", root=tmp_path)
        assert len(ds) == 5 and ds.classes == list(info.class_names)
        x, y = ds[0]
        _check_image(x, 3, (32, 32))
        assert y == 3 == _label_from_pixel(x) and info.class_names[y] == "cat"
        test = data.load("CIFAR-10", "test", root=tmp_path)
        assert [test[i][1] for i in range(len(test))] == labels["test"]

    def test_cifar100(self, tmp_path, no_md5):
        info = data.describe("CIFAR-100")
        assert len(info.class_names) == 100 and info.class_names[0] == "apple" and info.class_names[-1] == "worm"
        fx.make_cifar100(tmp_path, info.class_names)
        ds = data.load("CIFAR-100", "train", root=tmp_path)
        names = [info.class_names[ds[i][1]] for i in range(len(ds))]
        assert names == ["bear", "leopard", "worm"]
        assert [_label_from_pixel(ds[i][0]) for i in range(len(ds))] == [3, 42, 99]

    def test_stl10(self, tmp_path, no_md5):
        info = data.describe("STL-10")
        labels = fx.make_stl10(tmp_path)
        for split in ("train", "test"):
            ds = data.load("STL-10", split, root=tmp_path)
            got = [ds[i][1] for i in range(len(ds))]
            assert got == labels[split] == [_label_from_pixel(ds[i][0]) for i in range(len(ds))]
        x, y = data.load("STL-10", "train", root=tmp_path)[0]
        _check_image(x, 3, (96, 96))
        assert info.class_names[y] == "cat"

    @pytest.mark.parametrize(
        "name,folder,expected",
        [
            ("Imagenette", "imagenette2-160", {"n01440764": "tench", "n03888257": "parachute", "n03028079": "church"}),
            (
                "Imagewoof",
                "imagewoof2-320",
                {"n02086240": "Shih-Tzu", "n02099601": "golden retriever", "n02115641": "dingo"},
            ),
        ],
    )
    def test_imagenette_like(self, tmp_path, name, folder, expected):
        from zmixlib.data.natural import IMAGENETTE_WNIDS, IMAGEWOOF_WNIDS

        wnids = sorted(IMAGENETTE_WNIDS if name == "Imagenette" else IMAGEWOOF_WNIDS)
        fx.make_image_folder_set(tmp_path, folder, wnids)
        info = data.describe(name)
        for split in ("train", "test"):
            ds = data.load(name, split, root=tmp_path)
            assert len(ds) == 10
            samples = ds._samples if name == "Imagenette" else ds.samples
            by_wnid = {Path(p).parent.name: info.class_names[y] for p, y in samples}
            for wnid, cls in expected.items():
                assert by_wnid[wnid] == cls
        x, y = data.load(name, "train", root=tmp_path, transform=data.transform_for(name, train=True))[0]
        _check_image(x, 3, (224, 224))


# ---------------------------------------------------------------- medmnist


@pytest.mark.parametrize("name", REQUIRED["medmnist"])
def test_medmnist(tmp_path, monkeypatch, name):
    from medmnist.info import INFO

    info = data.describe(name)
    flag = name.lower()
    labels = fx.make_medmnist(tmp_path / "medmnist", flag, info.channels, info.num_classes)
    monkeypatch.setitem(INFO[flag], "n_samples", {k: len(v) for k, v in labels.items()})
    for split in ("train", "val", "test"):
        ds = data.load(name, split, root=tmp_path)
        assert len(ds) == len(labels[split])
        for i, expected in enumerate(labels[split]):
            x, y = ds[i]
            _check_image(x, info.channels, (28, 28))
            assert type(y) is int and y == expected == _label_from_pixel(x)
            assert info.class_names[y] == INFO[flag]["label"][str(y)]


def test_medmnist_class_names():
    assert data.describe("PneumoniaMNIST").class_names == ("normal", "pneumonia")
    assert data.describe("BreastMNIST").class_names == ("malignant", "normal, benign")
    assert data.describe("OrganAMNIST").num_classes == 11 and data.describe("PathMNIST").channels == 3


# ---------------------------------------------------------------- skin lesions


def _stem_classes(ds, info) -> dict[str, str]:
    return {Path(p).stem: info.class_names[y] for p, y in ds.samples}


def _all_splits(name, root) -> dict[str, dict[str, str]]:
    info = data.describe(name)
    return {split: _stem_classes(data.load(name, split, root=root), info) for split in info.splits}


def _assert_partition(per_split: dict[str, dict[str, str]], expected: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for split, items in per_split.items():
        assert not set(items) & set(seen), f"{split} overlaps another split"
        seen.update(items)
    assert seen == expected


class TestSkin:
    @pytest.mark.parametrize(
        "name,make,splits",
        [
            ("ISIC2016", fx.make_isic2016, {"train": 3, "test": 2}),
            ("ISIC2017", fx.make_isic2017, {"train": 3, "val": 1, "test": 2}),
            ("ISIC2018", fx.make_isic2018, {"train": 7, "val": 2, "test": 3}),
        ],
    )
    def test_isic_official_splits_and_labels(self, tmp_path, name, make, splits):
        expected = make(tmp_path)
        per_split = _all_splits(name, tmp_path)
        assert {s: len(v) for s, v in per_split.items()} == splits
        _assert_partition(per_split, expected)

    def test_isic_class_schemes(self):
        assert data.describe("ISIC2016").class_names == ("benign", "malignant")
        assert data.describe("ISIC2017").class_names == ("NEV", "MEL", "SK")
        assert data.describe("ISIC2018").class_names == ("BCC", "NEV", "MEL", "SK", "MISC")

    @pytest.mark.parametrize("name,column", [("derm7point-C", "clinic"), ("derm7point-D", "derm")])
    def test_derm7pt(self, tmp_path, name, column):
        made = fx.make_derm7pt(tmp_path)
        per_split = _all_splits(name, tmp_path)
        assert {s: len(v) for s, v in per_split.items()} == {s: len(v) for s, v in made["splits"].items()}
        _assert_partition(per_split, made[column])
        x, y = data.load(name, "test", root=tmp_path)[0]
        _check_image(x, 3)

    @pytest.mark.parametrize(
        "name,make",
        [
            ("PH2", fx.make_ph2),
            ("MED-NODE", fx.make_mednode),
        ],
    )
    def test_two_class_sets(self, tmp_path, name, make):
        expected = make(tmp_path)
        assert data.describe(name).class_names == ("NEV", "MEL")
        _assert_partition(_all_splits(name, tmp_path), expected)
        assert (tmp_path / data.describe(name).folder / "zmix_split.csv").is_file()

    @pytest.mark.parametrize("name", ["MSK", "UDA", "DermoFit"])
    def test_manifest_sets_map_to_five_classes(self, tmp_path, name):
        diagnoses = {
            "nevus": 4,
            "melanoma": 3,
            "basal cell carcinoma": 2,
            "seborrheic keratosis": 2,
            "dermatofibroma": 1,
            "ML": 2,
            "solar lentigo": 1,
        }
        made = fx.make_manifest_set(tmp_path, data.describe(name).folder, diagnoses)
        expected = {stem: data.skin.skin_class(d) for stem, d in made.items()}
        assert sorted(set(expected.values())) == sorted(data.describe(name).class_names)
        _assert_partition(_all_splits(name, tmp_path), expected)

    @pytest.mark.parametrize(
        "diagnosis,cls",
        [
            ("melanoma (more than 1.5 mm)", "MEL"),
            ("Malignant Melanoma", "MEL"),
            ("reed or spitz nevus", "NEV"),
            ("congenital nevus", "NEV"),
            ("naevus", "NEV"),
            ("basal cell carcinoma", "BCC"),
            ("Seborrhoeic Keratosis", "SK"),
            ("BKL", "SK"),
            ("melanosis", "MISC"),
            ("lentigo", "MISC"),
            ("vascular lesion", "MISC"),
            ("dermatofibroma", "MISC"),
            ("squamous cell carcinoma", "MISC"),
        ],
    )
    def test_skin_class(self, diagnosis, cls):
        assert data.skin.skin_class(diagnosis) == cls

    def test_stratified_split_is_stored_stable_and_proportional(self, tmp_path):
        counts = {"nevus": 50, "melanoma": 30, "basal cell carcinoma": 20, "seborrheic keratosis": 10, "lentigo": 10}
        made = fx.make_manifest_set(tmp_path, "MSK", counts)
        split_file = tmp_path / "MSK" / "zmix_split.csv"
        first = _all_splits("MSK", tmp_path)
        content = split_file.read_text()
        assert content.splitlines()[0] == "image,label,split" and len(content.splitlines()) == 1 + len(made)
        assert _all_splits("MSK", tmp_path) == first and split_file.read_text() == content  # reloaded: same
        split_file.unlink()
        assert _all_splits("MSK", tmp_path) == first and split_file.read_text() == content  # redrawn: same seed
        _assert_partition(first, {s: data.skin.skin_class(d) for s, d in made.items()})
        for cls, n in {"NEV": 50, "MEL": 30, "BCC": 20, "SK": 10, "MISC": 10}.items():
            got = {s: sum(c == cls for c in items.values()) for s, items in first.items()}
            assert got == {"train": round(0.7 * n), "val": round(0.1 * n), "test": n - round(0.7 * n) - round(0.1 * n)}

    def test_stale_split_file_is_an_error(self, tmp_path):
        fx.make_mednode(tmp_path, n_mel=5, n_nev=5)
        data.load("MED-NODE", "train", root=tmp_path)
        fx.make_mednode(tmp_path, n_mel=6, n_nev=5)  # one more image appears
        with pytest.raises(ValueError, match="zmix_split.csv does not match.*delete it"):
            data.load("MED-NODE", "train", root=tmp_path)

    def test_skin_transform(self, tmp_path):
        fx.make_mednode(tmp_path, n_mel=2, n_nev=2)
        x, _ = data.load("MED-NODE", "train", root=tmp_path)[0]
        _check_image(x, 3, (8, 10))  # default: native size
        for train in (True, False):
            ds = data.load("MED-NODE", "train", root=tmp_path, transform=data.transform_for("MED-NODE", train))
            _check_image(ds[0][0], 3, (256, 256))
        from PIL import Image

        assert data.CentreSquareCrop(0.8)(Image.new("RGB", (100, 50))).size == (40, 40)


# ---------------------------------------------------------------- offline and synthetic


class TestOffline:
    def test_digits(self):
        X, y = data.as_tensors("digits", "all")
        assert X.shape == (1797, 1, 8, 8) and X.dtype == torch.float32 and y.dtype == torch.int64
        assert float(X.min()) == 0.0 and float(X.max()) == 1.0
        x, label = data.load("digits", "train")[0]
        assert x.shape == (1, 8, 8) and type(label) is int

    @pytest.mark.parametrize(
        "name,n,d", [("digits", 1797, None), ("iris", 150, 4), ("wine", 178, 13), ("breast-cancer", 569, 30)]
    )
    def test_split_80_20_stratified_standardised(self, name, n, d):
        Xtr, ytr = data.as_tensors(name, "train")
        Xte, yte = data.as_tensors(name, "test")
        assert len(ytr) + len(yte) == n and abs(len(yte) - 0.2 * n) <= 1
        total = torch.bincount(torch.cat([ytr, yte]))
        frac = torch.bincount(yte, minlength=len(total)) / total  # stratified: ~20 % of every class
        assert torch.allclose(frac, torch.full_like(frac, 0.2), atol=0.05)
        if d is not None:
            assert Xtr.shape[1:] == (d,)
            assert torch.allclose(Xtr.mean(0), torch.zeros(d), atol=1e-4)
            assert torch.allclose(Xtr.std(0, unbiased=False), torch.ones(d), atol=1e-3)
        Xtr2, _ = data.as_tensors(name, "train")
        assert torch.equal(Xtr, Xtr2)


class TestSynthetic:
    @pytest.mark.parametrize(
        "name,shape",
        [
            ("crescents", (512, 2)),
            ("spirals", (512, 2)),
            ("helix1d_r3", (8192, 3)),
            ("helix1d_r12", (8192, 12)),
            ("paraboloid3d_r12", (8192, 12)),
        ],
    )
    def test_default_sizes(self, name, shape):
        X, y = data.synthetic(name)
        assert X.shape == shape and X.dtype == torch.float32 and y.shape == (shape[0],) and y.dtype == torch.int64
        assert torch.isfinite(X).all()
        assert data.describe(name).feature_dim == shape[1]
        assert torch.bincount(y).tolist() == ([shape[0] // 2] * 2 if name in ("crescents", "spirals") else [shape[0]])

    @pytest.mark.parametrize("name", [n for n in data.SYNTHETIC])
    def test_seeded_and_sized(self, name):
        a, ya = data.synthetic(name, n=64, seed=3)
        b, yb = data.synthetic(name, n=64, seed=3)
        c, _ = data.synthetic(name, n=64, seed=4)
        assert torch.equal(a, b) and torch.equal(ya, yb) and not torch.equal(a, c)
        assert a.shape == (64, data.describe(name).feature_dim)

    def test_helix_r12_is_the_r3_helix_padded(self):
        X, _ = data.synthetic("helix1d_r12", n=100, seed=0)
        assert torch.all(X[:, 3:] == 0)
        r3, _ = data.synthetic("helix1d_r3", n=100, seed=0)
        assert torch.allclose(X[:, :3], r3)

    def test_dense_points_lie_on_the_clean_curves(self):
        X, y = data.dense_points("crescents", 2000)
        centre = torch.tensor([[0.0, 0.0], [1.0, 0.5]])[y]
        assert torch.allclose((X - centre).norm(dim=1), torch.ones(2000), atol=1e-5)
        X, y = data.dense_points("spirals", 2000)
        r = X.norm(dim=1)
        angle = torch.atan2(X[:, 1], X[:, 0]) - (3 * np.pi * r + np.pi * y)
        assert torch.allclose(torch.cos(angle), torch.ones(2000), atol=1e-4)

    def test_noise_is_gaussian_sigma(self):
        clean, _ = data.synthetic("helix1d_r3", n=4000, noise=0.0, seed=1)
        noisy, _ = data.synthetic("helix1d_r3", n=4000, noise=0.1, seed=1)
        assert abs(float((noisy - clean).std()) - 0.1) < 0.01

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="name must be one of"):
            data.synthetic("torus")
        with pytest.raises(ValueError, match="n must be >= 2"):
            data.synthetic("spirals", n=0)
        with pytest.raises(ValueError, match="noise must be >= 0"):
            data.synthetic("spirals", noise=-0.1)

    def test_load_splits(self):
        train, test = data.load("spirals", "train"), data.load("spirals", "test")
        assert len(train) == len(test) == 512 and not torch.equal(train.X, test.X)
        x, y = train[0]
        assert x.shape == (2,) and type(y) is int


# ---------------------------------------------------------------- as_tensors and the command line


def test_as_tensors_images(tmp_path):
    labels = fx.make_mnist(tmp_path)
    X, y = data.as_tensors("MNIST", "train", root=tmp_path)
    assert X.shape == (5, 1, 28, 28) and y.tolist() == labels["train"]
    X, y = data.as_tensors("MNIST", "train", root=tmp_path, limit=2)
    assert X.shape == (2, 1, 28, 28)


class TestMain:
    def test_skin_prints_source_and_layout(self, tmp_path, capsys):
        assert data.main(["--datasets", "ISIC2018", "--root", str(tmp_path)]) == 1
        out = capsys.readouterr().out
        assert "challenge.isic-archive.com" in out and "ISIC2018_Task3_Training_GroundTruth.csv" in out

    def test_present_and_generated(self, tmp_path, capsys):
        fx.make_mnist(tmp_path)
        assert data.main(["--datasets", "MNIST", "digits", "crescents", "--root", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "MNIST: present at" in out and "scikit-learn" in out

    def test_download_failure_is_reported(self, tmp_path, monkeypatch, capsys):
        def offline(*args, **kwargs):
            raise urllib.error.URLError("no network")

        monkeypatch.setattr("torchvision.datasets.cifar.download_and_extract_archive", offline)
        monkeypatch.setattr("torchvision.datasets.utils.download_url", offline)
        assert data.main(["--datasets", "CIFAR-10", "PathMNIST", "--root", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert "could not download CIFAR-10" in err and "could not download PathMNIST" in err
        assert "no network" in err

    def test_unknown_name(self, capsys):
        assert data.main(["--datasets", "CIFAR-11"]) == 2
        assert "CIFAR-11" in capsys.readouterr().err

    def test_list(self, tmp_path, capsys):
        assert data.main(["--list", "--root", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert all(name in out for name in data.DATASETS)


# ---------------------------------------------------------------- the paper path: preprocessing in the engine


class TestPaperPath:
    @pytest.mark.parametrize(
        "name,folder,size",
        [("MED-NODE", None, 256), ("Imagenette", "imagenette2-160", 224), ("Imagewoof", "imagewoof2-320", 224)],
    )
    @pytest.mark.slow
    def test_mixed_size_images_train_at_the_recipe_size(self, tmp_path, monkeypatch, one_thread, name, folder, size):
        """``train.load_data`` applies ``transform_for``: images of different sizes batch, and the model sees
        ``describe(name).image_size`` (skin: 0.8·min(h, w) centre crop + 256×256; Imagenette/woof: 224×224)."""
        from zmixlib.data.natural import IMAGENETTE_WNIDS, IMAGEWOOF_WNIDS
        from zmixlib.engine import models, train

        sizes = ((40, 30), (23, 31), (64, 64), (50, 20))
        if name == "MED-NODE":
            fx.make_mednode(tmp_path, n_mel=5, n_nev=5, sizes=sizes)
        else:
            wnids = sorted(IMAGENETTE_WNIDS if name == "Imagenette" else IMAGEWOOF_WNIDS)
            fx.make_image_folder_set(tmp_path, folder, wnids, sizes=sizes)
        assert data.describe(name).image_size == (size, size)
        seen: list[tuple[int, ...]] = []
        build = models.build

        def spy(*args, **kwargs):
            model = build(*args, **kwargs)
            model.register_forward_pre_hook(lambda module, inputs: seen.append(tuple(inputs[0].shape)))
            return model

        monkeypatch.setattr(models, "build", spy)
        spec = train.RunSpec(
            dataset=name,
            arch="digits_cnn",
            arch_kwargs=(("width", 4),),
            epochs=1,
            batch_size=4,
            lr=0.01,
            train_subset=4,
            eval_subset=4,
            data_root=str(tmp_path),
            device="cpu",
        )
        record = train.fit(spec, results_dir=None, progress=False)
        assert record.complete and np.isfinite(record.history[-1]["train_loss"])
        assert seen[0] == (4, 3, size, size)  # the first training batch: four images of four sizes, resized
        assert all(s[1:] == (3, size, size) for s in seen)

    def test_transforms_are_deterministic_unless_train(self, tmp_path):
        fx.make_mednode(tmp_path, n_mel=1, n_nev=1, sizes=((40, 30),))
        for name in ("MED-NODE", "Imagenette", "CIFAR-10", "PathMNIST"):
            steps = [type(t).__name__ for t in data.transform_for(name).transforms]
            assert "RandomHorizontalFlip" not in steps and steps[-1] == "ToFloatTensor", (name, steps)
        assert "RandomHorizontalFlip" in [type(t).__name__ for t in data.transform_for("CIFAR-10", True).transforms]
        assert data.transform_for("digits") is None
        with pytest.raises(TypeError, match="train must be a bool, got 'yes'"):
            data.transform_for("CIFAR-10", "yes")


# ---------------------------------------------------------------- the package's own structure


def test_no_import_cycle_in_data_and_no_upper_layer():
    """No module of ``zmixlib.data`` imports another in a cycle, counting imports inside functions, and none
    imports a layer above it (only ``zmixlib.core.checks`` and ``zmixlib.core.util`` from outside the package)."""
    import ast

    package = Path(data.__file__).parent
    names = {p.stem: f"zmixlib.data.{p.stem}" if p.stem != "__init__" else "zmixlib.data" for p in package.glob("*.py")}
    modules = set(names.values())
    graph: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    for stem, mod in names.items():
        deps, other = set(), set()
        for node in ast.walk(ast.parse((package / f"{stem}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert node.level == 0, f"{mod}: relative import"
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                ]
            else:
                continue
            for t in targets:
                if t in modules and t != mod:
                    deps.add(t)
                elif t.startswith("zmixlib") and t not in modules:
                    other.add(t)
        graph[mod], outside[mod] = deps, other
    assert all(o <= {"zmixlib.core.checks", "zmixlib.core.util"} for o in outside.values()), outside

    def cycle_from(start, node, path):
        for nxt in graph[node]:
            if nxt == start:
                return [*path, nxt]
            if nxt not in path and (found := cycle_from(start, nxt, [*path, nxt])):
                return found
        return None

    cycles = {m: c for m in graph if (c := cycle_from(m, m, [m]))}
    assert not cycles, cycles
    assert graph["zmixlib.data.transforms"] == {"zmixlib.data._base"}
    assert "zmixlib.data.natural" not in graph["zmixlib.data._folders"]
