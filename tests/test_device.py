"""zmixlib.core.device: the device a run uses and seeding every generator — below the engine, which imports no setup."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from zmixlib.core import device
from zmixlib.protocol import config

PACKAGE = Path(device.__file__).resolve().parent.parent  # zmixlib/


def test_cpu_and_auto():
    assert device.resolve_device("cpu") == torch.device("cpu")
    assert device.resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert device.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("bad", ["tpu", "CPU", "", None, 0])
def test_unknown_devices_are_named(bad):
    with pytest.raises(ValueError, match=r"device must be one of \['auto', 'cpu', 'cuda'\] \(or 'cuda:N'\)"):
        device.resolve_device(bad)


def test_seed_everything_seeds_python_numpy_and_torch():
    device.seed_everything(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    device.seed_everything(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    device.seed_everything(2**32 + 7)  # NumPy takes the seed modulo 2**32
    assert np.random.rand() == pytest.approx(first[1])


def _zmixlib_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zmixlib"):
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_the_engine_does_not_import_the_notebook_setup():
    imports = _zmixlib_imports(PACKAGE / "engine" / "train.py")
    assert "zmixlib.core.device" in imports
    assert not {"zmixlib.protocol.config", "zmixlib.protocol.profiles"} & imports


def test_config_uses_device_without_re_exporting_it():
    assert not {"resolve_device", "seed_everything", "DEVICES"} & set(config.__all__)
    assert not hasattr(config, "resolve_device") and not hasattr(config, "seed_everything")
