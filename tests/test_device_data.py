"""zmixlib.data.device_data: the same batches as the DataLoader, the same values as the dataset, and where it applies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms as T
from dataset_fixtures import _idx, _pickle
from medmnist.info import INFO
from torch.utils.data import DataLoader, Subset, TensorDataset

from zmixlib import data
from zmixlib.data import ArrayDataset, ToFloatTensor, device_data
from zmixlib.data.mnist10k import MNIST10k

pytestmark = pytest.mark.usefixtures("one_thread")


def _random_fmnist(root, n_train=40, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    raw = root / "FashionMNIST" / "raw"
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), 0x803)
        _idx(raw / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8), 0x801)


def _random_cifar10(root, n=6, seed=0):
    rng = np.random.default_rng(seed)
    base = root / "cifar-10-batches-py"
    for i in range(1, 6):
        _pickle(
            base / f"data_batch_{i}",
            {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": list(rng.integers(0, 10, n))},
        )
    _pickle(base / "test_batch", {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": list(range(n))})
    _pickle(base / "batches.meta", {"label_names": [str(i) for i in range(10)]})


def _random_medmnist(root, flag="bloodmnist", channels=3, num_classes=8, n=7, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, 28, 28, 3) if channels == 3 else (n, 28, 28)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = rng.integers(0, 256, shape, dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, num_classes, (n, 1), dtype=np.uint8)
    (root / "medmnist").mkdir(parents=True, exist_ok=True)
    np.savez(root / "medmnist" / f"{flag}.npz", **arrays)


def _assert_same_items(dd: device_data.DeviceData, ds) -> None:
    assert len(dd) == len(ds)
    for i in range(len(ds)):
        x, y = dd.batch(torch.tensor([i]))
        xi, yi = ds[i]
        assert torch.equal(x[0], torch.as_tensor(xi)) and int(y[0]) == int(yi), i


class TestIndexBatches:
    @pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (7, 7, False), (5, 8, False)])
    def test_same_batches_and_generator_state_as_dataloader(self, n, batch_size, drop_last):
        g_ours, g_loader = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
        loader = DataLoader(
            TensorDataset(torch.arange(n)), batch_size=batch_size, shuffle=True, generator=g_loader, drop_last=drop_last
        )
        for _ in range(3):  # epochs
            ours = device_data.index_batches(n, batch_size, generator=g_ours, drop_last=drop_last)
            theirs = [b[0] for b in loader]
            assert [b.tolist() for b in ours] == [b.tolist() for b in theirs]
        assert torch.equal(g_ours.get_state(), g_loader.get_state())

    def test_errors(self):
        with pytest.raises(ValueError, match="batch_size must be >= 1"):
            device_data.index_batches(4, 0, generator=torch.Generator(), drop_last=False)


class TestMaterialize:
    def test_fashion_mnist_uint8_and_subset(self, tmp_path):
        _random_fmnist(tmp_path)
        ds = data.load("Fashion-MNIST", "train", root=tmp_path)
        dd = device_data.materialize(ds, "cpu")
        assert (
            dd.storage == "uint8" and dd.x.shape == (40, 1, 28, 28) and dd.source == "uint8 pixels (FashionMNIST .data)"
        )
        _assert_same_items(dd, ds)
        sub = Subset(Subset(ds, [5, 3, 9, 0, 7]), [4, 0, 2])  # nested subsets keep their order
        _assert_same_items(device_data.materialize(sub, "cpu"), sub)

    def test_cifar10_uint8(self, tmp_path, monkeypatch):
        monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *a, **k: True)  # no md5 of fixtures
        _random_cifar10(tmp_path)
        ds = data.load("CIFAR-10", "train", root=tmp_path)
        dd = device_data.materialize(ds, "cpu")
        assert dd.storage == "uint8" and dd.x.shape == (30, 3, 32, 32)
        _assert_same_items(dd, ds)

    @pytest.mark.parametrize(
        "name,flag,channels,k", [("BloodMNIST", "bloodmnist", 3, 8), ("OCTMNIST", "octmnist", 1, 4)]
    )
    def test_medmnist_uint8(self, tmp_path, monkeypatch, name, flag, channels, k):
        monkeypatch.setitem(INFO[flag], "n_samples", {"train": 7, "val": 7, "test": 7})  # medmnist checks sizes
        _random_medmnist(tmp_path, flag, channels, k)
        ds = data.load(name, "val", root=tmp_path)
        dd = device_data.materialize(ds, "cpu")
        assert dd.storage == "uint8" and dd.x.shape == (7, channels, 28, 28) and "medmnist" in dd.source
        _assert_same_items(dd, ds)

    def test_mnist_attributes_uint8(self):
        rng = np.random.default_rng(3)
        ds = MNIST10k(rng.integers(0, 256, (12, 28, 28), dtype=np.uint8), rng.integers(0, 10, 12), ToFloatTensor())
        dd = device_data.materialize(ds, "cpu")
        assert dd.storage == "uint8" and dd.source == "uint8 pixels (MNIST10k .data)"
        _assert_same_items(dd, ds)

    def test_deterministic_transform_is_read_item_by_item(self, tmp_path):
        _random_fmnist(tmp_path)
        ds = data.load(
            "Fashion-MNIST", "test", root=tmp_path, transform=T.Compose([ToFloatTensor(), T.Normalize((0.5,), (0.25,))])
        )
        assert device_data.plan(ds, "cpu").resident
        dd = device_data.materialize(ds, "cpu")
        assert dd.storage == "float32" and dd.source == "read item by item"
        _assert_same_items(dd, ds)

    def test_getitem_that_disagrees_with_the_arrays_is_read_item_by_item(self):
        class Shifted(ArrayDataset):
            def __getitem__(self, i):
                x, y = super().__getitem__(i)
                return x + 1, y

        ds = Shifted(torch.rand(9, 4), torch.arange(9) % 3)
        dd = device_data.materialize(ds, "cpu")
        assert dd.source == "read item by item"
        _assert_same_items(dd, ds)

    def test_sequential_covers_the_split_in_order(self):
        ds = TensorDataset(torch.randint(0, 256, (7, 1, 4, 4), dtype=torch.uint8), torch.arange(7))
        dd = device_data.materialize(ds, "cpu")
        xs, ys = zip(*dd.sequential(3))
        assert [len(y) for y in ys] == [3, 3, 1] and torch.equal(torch.cat(ys), torch.arange(7))
        assert torch.equal(torch.cat(xs), ds.tensors[0].float() / 255)


class TestPlan:
    def test_resident_where_it_fits(self, tmp_path):
        _random_fmnist(tmp_path)
        p = device_data.plan(data.load("Fashion-MNIST", "train", root=tmp_path), "cpu")
        assert p.resident and p.nbytes == 40 * (784 + 8)

    def test_random_transform_stays_in_the_dataloader(self, tmp_path):
        _random_fmnist(tmp_path)
        ds = data.load(
            "Fashion-MNIST", "train", root=tmp_path, transform=T.Compose([T.RandomHorizontalFlip(), ToFloatTensor()])
        )
        p = device_data.plan(ds, "cpu")
        assert not p.resident and "RandomHorizontalFlip" in p.reason
        with pytest.raises(ValueError, match=r"device_resident=True, but .*RandomHorizontalFlip"):
            device_data.plan(ds, "cpu", requested=True)
        assert not device_data.plan(
            ArrayDataset(torch.rand(4, 2), torch.arange(4), transform=lambda x: x), "cpu"
        ).resident

    def test_a_dataset_that_draws_random_numbers_itself_stays_in_the_dataloader(self):
        class Jitter(torch.utils.data.Dataset):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return torch.rand(3), i

        p = device_data.plan(Jitter(), "cpu")
        assert not p.resident and "Jitter gives a different item each time it is read" in p.reason

    def test_large_images_and_memory(self, monkeypatch):
        big = TensorDataset(torch.rand(2, 3, 96, 96), torch.arange(2))
        p = device_data.plan(big, "cpu")
        assert not p.resident and "MAX_SIDE=64" in p.reason
        small = TensorDataset(torch.rand(2, 3, 8, 8), torch.arange(2))
        assert not device_data.plan(small, "cpu", requested=False).resident
        monkeypatch.setattr(device_data, "free_memory", lambda device: 100)
        p = device_data.plan(small, "cpu")
        assert not p.resident and "MiB" in p.reason

    def test_free_memory_is_positive(self):
        assert device_data.free_memory(torch.device("cpu")) > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_batches_equal_cpu_batches(tmp_path):
    _random_fmnist(tmp_path)
    ds = data.load("Fashion-MNIST", "train", root=tmp_path)
    cpu, gpu = device_data.materialize(ds, "cpu"), device_data.materialize(ds, "cuda")
    idx = device_data.index_batches(
        len(ds), 8, generator=torch.Generator().manual_seed(0), drop_last=False, device="cuda"
    )
    for b in idx:
        xc, yc = cpu.batch(b.cpu())
        xg, yg = gpu.batch(b)
        assert xg.device.type == "cuda" and torch.equal(xg.cpu(), xc) and torch.equal(yg.cpu(), yc)
