"""Profiles, devices and the validated parameters every notebook starts from.

Every notebook's ``parameters`` cell holds flat values (``profile = "smoke"``, ``device = "auto"``, section
knobs, ``None`` meaning "the profile's default"); its next cell calls :func:`setup`, which validates them,
fills the profile defaults, prints the resolved table and returns it. A typo or a bad value stops the
notebook there with a message naming the parameter — also a name papermill injected that the parameters cell
does not declare (``papermill -p epoch 3``: papermill itself only warns), with the nearest declared name.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zmixlib import data
from zmixlib.core import device as devices
from zmixlib.core import util as _util
from zmixlib.core.checks import check_choice, check_int
from zmixlib.protocol import profiles
from zmixlib.protocol.profiles import PROFILES, STAND_INS

__all__ = ["ROOT", "Params", "setup", "dataset_present"]

#: Where ``data/`` and ``results/`` live: the checkout, else ``$ZMIX_HOME``, else the working directory
#: (:func:`zmixlib.core.util.find_root`).
ROOT = _util.ROOT
#: Parameters that name folders: ``None`` means the project's own folder of that name.
PATH_KNOBS = {"data_root": "data", "results_dir": "results"}
#: Counts that must be at least 1 when given (``None`` keeps the profile's; 0 would silently mean "inline").
AT_LEAST_ONE = {
    "workers": "training processes; None or 1: one run at a time in this kernel",
    "threads": "torch CPU threads per training process; None: torch's default",
    "num_threads": "torch intra-op threads while timing; None: torch's default",
}
#: The first line of the cell papermill injects after the ``parameters`` cell (its ``codify`` comment).
INJECTED_HEADER = "# Parameters"


@dataclass
class Params:
    """Resolved notebook parameters: attribute access, ``.to_dict()``, printed as a table."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if k == "torch_device" else v) for k, v in self.values.items()}

    def __str__(self) -> str:
        width = max(len(k) for k in self.values)
        lines = [f"{k:<{width}}  {v!r:<40} {self.sources.get(k, '')}" for k, v in self.values.items()]
        return "\n".join(lines)

    __repr__ = __str__


def setup(chapter: str, namespace: Mapping[str, Any], *, verbose: bool = True) -> Params:
    """Validate a notebook's parameters and fill its profile's sizes (:mod:`zmixlib.protocol.profiles`).

    Args:
        chapter: the notebook's file stem, e.g. ``"04_natural"`` (its sizes: ``profiles.sizes(chapter)``).
        namespace: where the parameters cell put its values — the notebook passes ``globals()``. Every
            knob of the chapter and ``profile``, ``device``, ``seed`` must be there; ``data_root`` /
            ``results_dir`` where the chapter uses them (``None``: the project's ``data/`` / ``results/``).

    A knob left ``None`` takes the profile's default; a knob given explicitly must have the default's type.
    Under ``offline`` / ``smoke``, a real dataset of the profile's defaults whose files cannot be had is
    replaced by its stand-in (:data:`zmixlib.protocol.profiles.STAND_INS`) with a printed note; asked for by name,
    it stays (and the run stops with the path and the ``make data`` command). Everything is seeded with
    ``seed``.

    Returns:
        :class:`Params` with ``profile``, ``device``, ``torch_device``, ``seed``, every knob, and
        ``stand_ins`` (``{dataset: stand-in}`` replaced here).
    """
    table = profiles.sizes(chapter)
    check_parameter_names(chapter, namespace)
    profile = check_choice("profile", namespace.get("profile"), PROFILES)
    defaults = table[profile]
    missing = [k for k in ("profile", "device", "seed", *defaults) if k not in namespace]
    if missing:
        raise ValueError(f"the parameters cell of {chapter} lacks {missing}; its knobs: {sorted(defaults)}")
    device, seed = namespace["device"], namespace["seed"]
    torch_device = devices.resolve_device(device)
    if seed is not None:
        seed = check_int("seed", seed, min=0)
    values: dict[str, Any] = {"profile": profile, "device": device, "torch_device": torch_device, "seed": seed}
    sources = {"profile": "parameter", "device": "parameter", "torch_device": "resolved", "seed": "parameter"}
    for name in PATH_KNOBS:
        if name in namespace:
            given = namespace[name]
            values[name], sources[name] = (
                (str(ROOT / PATH_KNOBS[name]), "project folder") if given is None else (given, "parameter")
            )
    for name, default in defaults.items():
        value = namespace[name]
        if value is None:
            values[name], sources[name] = default, f"{profile} profile default"
            continue
        if default is not None and not _same_kind(value, default):
            hint = ""
            if isinstance(value, str) and isinstance(default, (list, dict)):  # papermill's -p passes text as text
                hint = f" (papermill: give lists and dicts as YAML with -y, e.g. -y '{name}: {json.dumps(default[:1] if isinstance(default, list) else default)}')"
            raise TypeError(
                f"{name} must be {type(default).__name__} like its {profile!r} default {default!r}, got {value!r}{hint}"
            )
        if name in AT_LEAST_ONE:
            value = _at_least_one(name, value)
        values[name], sources[name] = value, "parameter"
    stand_ins = {}
    if profile != "paper":
        for name in [k for k in values if k == "dataset" or k.endswith("datasets")]:
            if sources[name] != "parameter" and values[name] is not None:
                values[name], replaced = _with_stand_ins(values[name], values.get("data_root", str(ROOT / "data")))
                stand_ins.update(replaced)
    values["stand_ins"], sources["stand_ins"] = stand_ins, "files absent" if stand_ins else ""
    if seed is not None:
        devices.seed_everything(seed)
    params = Params(values, sources)
    if verbose:
        print(f"{chapter}, profile {profile!r}: {PROFILES[profile]}")
        if os.environ.get("ZMIX_BOOK_RUN"):
            print(f"(executed by the book runner: {os.environ['ZMIX_BOOK_RUN']})")
        for real, stand_in in stand_ins.items():
            print(f"NOTE: {real} is not under the data folder: {stand_in} stands in for it (make data fetches it)")
        print(params)
    return params


def check_parameter_names(chapter: str, namespace: Mapping[str, Any]) -> None:
    """Raise if papermill injected a parameter the notebook's ``parameters`` cell does not declare.

    papermill (``-p NAME VALUE``) only warns about an unknown name, injects it and runs on with the default of
    the name meant. The injected cell is found in IPython's input history (``In``: the last cell whose first
    line is ``# Parameters``); the declared names are the annotated ones of the ``parameters`` cell (the
    namespace's ``__annotations__``), else ``profile``, ``device``, ``seed``, the chapter's knobs and the path
    knobs. Outside a kernel (no ``In``) or without an injected cell there is nothing to check.

    Raises:
        ValueError: one line naming each unknown parameter and the nearest declared name.
    """
    injected = _injected_names(namespace)
    if not injected:
        return
    declared = set(namespace.get("__annotations__") or ()) or {
        "profile",
        "device",
        "seed",
        *PATH_KNOBS,
        *(k for sizes in profiles.sizes(chapter).values() for k in sizes),
    }
    unknown = [name for name in injected if name not in declared]
    if unknown:
        named = ", ".join(
            f"{n!r} (nearest: {difflib.get_close_matches(n, declared, n=1, cutoff=0)[0]!r})" for n in unknown
        )
        raise ValueError(
            f"{chapter}: unknown parameter {named}; the parameters cell declares {', '.join(sorted(declared))}"
        )


def _injected_names(namespace: Mapping[str, Any]) -> list[str]:
    history = namespace.get("In")
    if not isinstance(history, (list, tuple)):
        return []
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().splitlines()[:1] == [INJECTED_HEADER]:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            targets = [t for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign)) for t in _targets(node)]
            return list(dict.fromkeys(t.id for t in targets if isinstance(t, ast.Name)))
    return []


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def _at_least_one(name: str, value: Any) -> int:
    try:
        return check_int(name, value, min=1)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer >= 1 or None ({AT_LEAST_ONE[name]}), got {value!r}") from None


def dataset_present(name: str, root: str | os.PathLike) -> bool:
    """Whether ``name``'s files load from ``root`` (synthetic and bundled sets always do)."""
    try:
        data.load(name, data.describe(name).splits[0], root=root)
    except FileNotFoundError:
        return False
    return True


def _with_stand_ins(value: Any, root: str) -> tuple[Any, dict[str, str]]:
    names = [value] if isinstance(value, str) else list(value)
    replaced = {n: STAND_INS[n] for n in names if n in STAND_INS and not dataset_present(n, root)}
    out = list(dict.fromkeys(replaced.get(n, n) for n in names))
    return (out[0] if isinstance(value, str) else out), replaced


def _same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))
