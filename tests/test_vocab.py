"""zmixlib.core.vocab: every method named, coloured and spelled once; γ written one way; table order."""

from __future__ import annotations

import re

import pytest

from zmixlib.core import vocab
from zmixlib.core.theory import GAMMA_MIN
from zmixlib.core.vocab import ARCHS, METHODS, SPACES


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_has_a_label_a_colour_and_a_space(name):
    m = METHODS[name]
    assert m.name == name and m.display and m.paper
    assert re.fullmatch(r"#[0-9a-f]{6}", m.color), m.color
    assert vocab.color(name) == m.color != "#000000"
    assert m.space in SPACES


def test_names_and_colours_are_distinct():
    for attr in ("display", "paper", "color"):
        values = [getattr(m, attr) for m in METHODS.values()]
        assert len(set(values)) == len(values), attr


@pytest.mark.parametrize("name", list(METHODS))
def test_paper_and_display_names_round_trip(name):
    m = METHODS[name]
    assert vocab.from_paper(m.paper) == name
    assert vocab.method(m.paper) is vocab.method(m.display) is vocab.method(name) is m
    assert vocab.display_name(m.paper) == vocab.display_name(name) == m.display
    assert vocab.color(m.paper) == vocab.color(m.display) == m.color


def test_unknown_names():
    assert vocab.from_paper("PuzzleMix") == "PuzzleMix" and vocab.display_name("PuzzleMix") == "PuzzleMix"
    assert vocab.color("PuzzleMix") == "#000000" and vocab.color("original") != "#000000"
    with pytest.raises(ValueError, match=r"method must be one of \['erm'"):
        vocab.method("zeta")


def test_architectures_have_paper_names():
    assert vocab.arch_paper_name("resnet18_cifar") == vocab.arch_paper_name("resnet18") == "ResNet-18"
    assert all(a.description and a.paper for a in ARCHS.values())
    assert vocab.arch_paper_name("vit") == "vit"


@pytest.mark.parametrize(
    "gamma,text",
    [
        (2.4, "2.4"),
        (2, "2.0"),
        ("2.4", "2.4"),
        (2.45678, "2.457"),
        ((GAMMA_MIN, 4.0), "U[1.729, 4.0]"),
        ("U[1.72865,4.0]", "U[1.729, 4.0]"),
        (None, None),
        (float("nan"), None),
        ("", None),
    ],
)
def test_gamma_is_written_one_way(gamma, text):
    assert vocab.gamma_text(gamma) == text


def test_labels():
    assert vocab.method_label("erm") == "ERM"
    assert vocab.method_label("zeta-mixup", gamma=2.4) == "ζ-mixup (γ = 2.4)"
    assert vocab.method_label("zeta_mixup", gamma=(GAMMA_MIN, 4.0)) == "ζ-mixup (γ ~ U[1.729, 4.0])"
    assert vocab.method_label("mixup", alpha=1.0) == "mixup"
    assert vocab.method_label("mixup", alpha=0.2) == "mixup (α = 0.2)"
    assert vocab.run_label("kmixup", {"alpha": 1.0, "k": 16}) == "kmixup(alpha=1.0, k=16)"
    assert vocab.run_label("zeta_mixup", {"gamma": (GAMMA_MIN, 4.0)}) == "zeta_mixup(gamma=U[1.729, 4.0])"


def test_table_order():
    rows = [
        ("zeta_mixup", (GAMMA_MIN, 4.0)),
        ("PuzzleMix", None),
        ("zeta_mixup", 4.0),
        ("mixup", None),
        ("zeta_mixup", 2.4),
        ("erm", None),
    ]
    ordered = sorted(rows, key=lambda r: vocab.sort_key(*r))
    assert ordered == [
        ("erm", None),
        ("mixup", None),
        ("zeta_mixup", 2.4),
        ("zeta_mixup", 4.0),
        ("zeta_mixup", (GAMMA_MIN, 4.0)),
        ("PuzzleMix", None),
    ]
    assert vocab.sort_key("zeta-mixup", "2.4") == vocab.sort_key("zeta_mixup", 2.4)
