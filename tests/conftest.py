"""Shared fixtures, and hypothesis profiles.

Hypothesis profiles (``HYPOTHESIS_PROFILE`` picks one by name; otherwise ``ci`` when ``CI`` is set, else
``dev``):

* ``ci`` — ``make test`` and CI: derandomized (the same examples on every run and every machine) and no
  example database, so one run cannot make the next one fail differently;
* ``dev`` — a plain ``pytest``: random examples, failures saved in ``.hypothesis/`` and replayed first.

Neither has a deadline: timings on a shared 2-core machine are noise.

The ``slow`` marker (pyproject.toml) is on every test that trains a model or starts a notebook kernel: the
notebooks (nbval items, marked here), and the tests marked ``@pytest.mark.slow`` or by a module's
``pytestmark``. ``make test`` runs them; ``pytest -m "not slow"`` is the quick loop.
"""

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

# too_slow: on a loaded 2-core CI machine, generating a batch of tensors can pass hypothesis's time check; the
# examples are derandomized, so the check only makes the run's outcome depend on the machine's load
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _CI else "dev"))


@pytest.fixture
def one_thread():
    """Tiny models on a shared 2-core machine run far faster on one torch thread (up to 60x measured)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def pytest_collection_modifyitems(config, items):
    """Every notebook cell nbval collects is slow: each notebook starts a kernel (they carry no decorators)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
