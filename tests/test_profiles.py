"""Profiles as data: every notebook's parameters cell and its chapter's profiles name the same knobs."""

from __future__ import annotations

from pathlib import Path

import papermill
import pytest

from zmixlib.protocol import config, profiles
from zmixlib.protocol.profiles import PROFILES

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_has_a_chapter_and_every_chapter_a_notebook():
    assert {p.stem for p in NOTEBOOKS} == set(profiles.CHAPTERS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_every_profile(path):
    declared = set(papermill.inspect_notebook(str(path)))
    knobs = declared - set(profiles.COMMON_KNOBS)
    assert {"profile", "device", "seed"} <= declared
    table = profiles.sizes(path.stem)
    assert set(table) == set(PROFILES)
    for profile, sizes in table.items():
        assert set(sizes) == knobs, (
            f"{path.stem} [{profile}]: profile-only {set(sizes) - knobs}, cell-only {knobs - set(sizes)}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_default_profile_is_smoke_and_knobs_default_to_none(path):
    params = papermill.inspect_notebook(str(path))
    assert params["profile"]["default"].strip("'\"") == "smoke"
    for name, p in params.items():
        if name not in profiles.COMMON_KNOBS:
            assert p["default"] == "None", f"{path.stem}: {name} = {p['default']} (knobs default to the profile's)"


def _namespace(chapter, **given):
    ns = {"profile": "smoke", "device": "cpu", "seed": 0, "data_root": None, "results_dir": None}
    ns.update({k: None for k in profiles.sizes(chapter)["paper"]})
    ns.update(given)
    return ns


def test_setup_fills_the_profile_and_honours_parameters():
    p = config.setup("00_theorems", _namespace("00_theorems", n_lambda=7), verbose=False)
    assert p.n_gamma == profiles.sizes("00_theorems")["smoke"]["n_gamma"]
    assert p.n_lambda == 7 and p.sources["n_lambda"] == "parameter"


def test_setup_rejects_bad_values_by_name():
    with pytest.raises(ValueError, match="profile must be one of .*got 'fast'"):
        config.setup("00_theorems", _namespace("00_theorems", profile="fast"), verbose=False)
    with pytest.raises(TypeError, match="n_gamma must be int like its 'smoke' default 200, got 'many'"):
        config.setup("00_theorems", _namespace("00_theorems", n_gamma="many"), verbose=False)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        config.setup("00_theorems", _namespace("00_theorems", seed=-1), verbose=False)
    # papermill's -p passes a list as text: the error says how to pass it
    with pytest.raises(
        TypeError,
        match=r"""got '\["Fashion-MNIST"\]' \(papermill: give lists and dicts as YAML with -y, e.g. -y 'datasets: \["digits"\]'\)""",
    ):
        config.setup("04_natural", _namespace("04_natural", datasets='["Fashion-MNIST"]'), verbose=False)
    ns = _namespace("00_theorems")
    del ns["n_lambda"]
    with pytest.raises(ValueError, match=r"lacks \['n_lambda'\]"):
        config.setup("00_theorems", ns, verbose=False)
    with pytest.raises(ValueError, match="chapter must be one of"):
        config.setup("99_nothing", ns, verbose=False)


def test_absent_real_data_falls_back_to_its_stand_in_only_by_default(tmp_path, capsys):
    ns = _namespace("04_natural", profile="offline", data_root=str(tmp_path))
    p = config.setup("04_natural", ns, verbose=True)
    assert p.datasets == ["digits"] and p.stand_ins == {"Fashion-MNIST": "digits", "MNIST-10k": "digits"}
    assert "Fashion-MNIST is not under the data folder: digits stands in" in capsys.readouterr().out
    asked = config.setup("04_natural", {**ns, "datasets": ["Fashion-MNIST"]}, verbose=False)
    assert asked.datasets == ["Fashion-MNIST"] and asked.sources["datasets"] == "parameter"
