"""One run, described completely: :class:`RunSpec` (the only validator of a run) and :class:`RunRecord`
(what a run leaves behind).

A run's ``run_id`` is the SHA-256 of the spec's canonical JSON, so a record on disk
(``results/<section>/<run_id>.json``) names exactly the experiment it holds. Execution details that do not
change the science (:data:`EXECUTION_FIELDS`: ``device``, ``data_root``, ``num_workers``, ``amp``,
``channels_last``, ``device_resident``, ``compile``) are left out of the hash, so a run finished on a GPU
node is found from a laptop.

This module imports no engine code (no torch): recipes, the CLI and the store build and read specs through
it, and the engine (:mod:`zmixlib.engine.train`) consumes them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from zmixlib.core.checks import check_choice, check_float, check_int, check_range
from zmixlib.core.hparams import MIXER_HPARAMS, check_hparams
from zmixlib.core.vocab import ARCHS, METHOD_NAMES, METHODS, SPACES, run_label

__all__ = ["RunSpec", "RunRecord", "EXECUTION_FIELDS", "check_gamma", "check_device"]

#: fields that enter ``run_id`` only when set (unset, they leave the run id of a spec without them unchanged)
_UNSET_NOT_HASHED = ("eval_every",)
#: the hyperparameters RunSpec holds as fields (the rest are in ``extra``)
_MIXER_FIELDS = ("gamma", "alpha", "num_mix")
#: RunSpec fields that do not change the result and are left out of ``run_id``.
EXECUTION_FIELDS = ("device", "data_root", "num_workers", "amp", "channels_last", "device_resident", "compile")


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one training run. Frozen and hashable; ``run_id`` is stable across
    processes and machines (SHA-256 of the canonical JSON, without :data:`EXECUTION_FIELDS`).

    Method hyperparameters: ``gamma`` (ζ-mixup), ``alpha`` (Beta/Dirichlet concentration) — each a number
    or a ``(low, high)`` range sampled per mini-batch (``gamma=(GAMMA_MIN, 4.0)`` as in MIDL Table 1),
    ``num_mix`` (``T``; ``None`` = the whole batch), and ``extra`` — further keyword arguments for the
    mixer as sorted ``(name, value)`` pairs. ``space=None`` picks ``"manifold"`` for manifold mixup,
    ``"embedding"`` for MultiMix and ``"input"`` otherwise.

    Evaluation: ``eval_subset`` — a fixed subset of each evaluation split (``None``: all of it);
    ``eval_every`` — evaluate after every ``eval_every``-th epoch and after the last (``None``: every epoch).

    Execution: ``amp`` — mixed precision: ``True`` bf16 autocast on CUDA (fp16 where bf16 is unsupported), full
    precision elsewhere; ``"bf16"`` bf16 autocast on every device, the CPU included; ``False`` full precision.
    ``device_resident`` — the whole split as one tensor on the device (``None``: wherever it
    fits, see :mod:`zmixlib.data.device_data`; same batches as the DataLoader); ``compile`` — ``torch.compile``
    the model (falls back to eager with a message where unavailable).
    """

    dataset: str
    method: str = "erm"
    arch: str = "auto"
    section: str = "adhoc"
    train_split: str = "train"
    eval_splits: tuple[str, ...] = ("test",)
    gamma: float | tuple[float, float] | None = None
    alpha: float | tuple[float, float] | None = None
    num_mix: int | None = None
    extra: tuple[tuple[str, Any], ...] = ()
    space: str | None = None
    epochs: int = 30
    batch_size: int = 128
    lr: float = 0.1
    milestones: tuple[int, ...] = ()
    lr_gamma: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    hflip: bool = False
    arch_kwargs: tuple[tuple[str, Any], ...] = ()
    train_subset: int | None = None
    eval_subset: int | None = None
    eval_every: int | None = None
    seed: int = 0
    device: str = "auto"
    data_root: str = "data"
    num_workers: int = 0
    amp: bool | str = True
    channels_last: bool = True
    device_resident: bool | None = None
    compile: bool = False

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)
        for name in ("dataset", "arch", "section", "train_split", "device", "data_root"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise TypeError(f"{name} must be a non-empty string, got {getattr(self, name)!r}")
        if self.arch != "auto":
            check_choice("arch", self.arch, ["auto", *ARCHS])
        check_device(self.device)
        check_choice("method", self.method, METHOD_NAMES)
        space = self.space or METHODS[self.method].space
        check_choice("space", space, SPACES)
        if self.method == "manifold_mixup" and space != "manifold":
            raise ValueError(
                f"method 'manifold_mixup' mixes at a random block: space must be 'manifold', got {space!r}"
            )
        if (self.method == "dense_multimix") != (space == "dense"):  # the dense space is Dense MultiMix's alone
            raise ValueError(
                f"space 'dense' is Dense MultiMix's (and Dense MultiMix's only space): got method {self.method!r} "
                f"with space {space!r}"
            )
        set_("space", space)
        splits = (self.eval_splits,) if isinstance(self.eval_splits, str) else tuple(self.eval_splits)
        if not splits or not all(isinstance(s, str) and s for s in splits):
            raise ValueError(f"eval_splits must be a non-empty sequence of split names, got {self.eval_splits!r}")
        set_("eval_splits", splits)
        for name in ("gamma", "alpha"):  # a number, or a (low, high) range drawn per mini-batch
            if getattr(self, name) is not None:
                set_(name, check_gamma(name, getattr(self, name)))
        if self.num_mix is not None:
            set_("num_mix", check_int("num_mix", self.num_mix, min=2))
        set_("extra", _pairs("extra", self.extra))
        allowed = MIXER_HPARAMS[METHODS[self.method].mixer]
        given = {**{k: getattr(self, k) for k in _MIXER_FIELDS if getattr(self, k) is not None}, **dict(self.extra)}
        for key in given:  # an option the method does not use would change the run id and nothing else
            if key not in allowed:
                raise ValueError(
                    f"{key} does not apply to method {self.method!r} (its mixer "
                    f"{METHODS[self.method].mixer!r} takes {list(allowed) or 'no hyperparameters'}), got "
                    f"{key}={given[key]!r}"
                )
        # the values, by the mixer's own validator (a bad k or prob fails here, not at the run's first batch)
        check_hparams(METHODS[self.method].mixer, given)
        set_("arch_kwargs", _pairs("arch_kwargs", self.arch_kwargs))
        set_("epochs", check_int("epochs", self.epochs, min=1))
        set_("batch_size", check_int("batch_size", self.batch_size, min=1))
        set_("lr", check_float("lr", self.lr, min=0.0, min_open=True))
        ms = tuple(check_int("milestones[]", m, min=1) for m in self.milestones)
        if list(ms) != sorted(set(ms)):
            raise ValueError(f"milestones must be strictly increasing, got {self.milestones!r}")
        set_("milestones", ms)
        set_("lr_gamma", check_float("lr_gamma", self.lr_gamma, min=0.0, max=1.0, min_open=True))
        set_("momentum", check_float("momentum", self.momentum, min=0.0, max=1.0, max_open=True))
        set_("weight_decay", check_float("weight_decay", self.weight_decay, min=0.0))
        set_("label_smoothing", check_float("label_smoothing", self.label_smoothing, min=0.0, max=1.0, max_open=True))
        for name in ("nesterov", "hflip", "channels_last", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if not isinstance(self.amp, bool) and self.amp != "bf16":  # "bf16": bf16 autocast on every device, CPU too
            raise TypeError(f"amp must be True, False or 'bf16' (bf16 autocast on the CPU too), got {self.amp!r}")
        for name in ("train_subset", "eval_subset", "eval_every"):
            if getattr(self, name) is not None:
                set_(name, check_int(name, getattr(self, name), min=1))
        set_("seed", check_int("seed", self.seed, min=0))
        set_("num_workers", check_int("num_workers", self.num_workers, min=0))
        if self.device_resident is not None and not isinstance(self.device_resident, bool):
            raise TypeError(f"device_resident must be True, False or None (auto), got {self.device_resident!r}")

    # ------------------------------------------------------------------------------------------ identity
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown RunSpec field(s) {unknown}; allowed: {sorted(names)}")
        d = dict(d)
        for key in ("eval_splits", "milestones", "gamma", "alpha"):
            if isinstance(d.get(key), list):
                d[key] = tuple(d[key])
        for key in ("extra", "arch_kwargs"):
            if key in d and d[key] is not None:
                d[key] = tuple((k, _tuplify(v)) for k, v in d[key])
        return cls(**d)

    @property
    def run_id(self) -> str:
        """16 hex digits of SHA-256 over the canonical JSON of the spec (execution fields excluded)."""
        d = {k: v for k, v in self.to_dict().items() if k not in EXECUTION_FIELDS}
        for name in _UNSET_NOT_HASHED:  # fields added later: unset, they leave earlier run ids as they were
            if d.get(name) is None:
                d.pop(name, None)
        canonical = json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> RunSpec:
        return dataclasses.replace(self, **changes)

    @property
    def mixer_name(self) -> str:
        """The ``zmixlib.mixing`` operator this run applies (manifold mixup applies ``mixup``)."""
        return METHODS[self.method].mixer

    def mixer_hparams(self) -> dict[str, Any]:
        """Keyword arguments for ``Mixer(self.mixer_name, ...)``: the hyperparameters that are set."""
        hp = {k: getattr(self, k) for k in ("gamma", "alpha", "num_mix") if getattr(self, k) is not None}
        hp.update(dict(self.extra))
        return hp

    def label(self) -> str:
        """Short human label, e.g. ``zeta_mixup(gamma=2.8)``."""
        return run_label(self.method, self.mixer_hparams())


def _tuplify(v: Any) -> Any:
    return tuple(_tuplify(x) for x in v) if isinstance(v, list) else v


def _pairs(name: str, value: Any) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, dict) else value
    try:
        pairs = tuple((str(k), _tuplify(v)) for k, v in items)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a dict or a sequence of (name, value) pairs, got {value!r}") from None
    return tuple(sorted(pairs))


@dataclass
class RunRecord:
    """What a run leaves behind: its spec, per-epoch history, final metrics, time and environment.

    ``metrics`` holds the last epoch's evaluation as ``"<split>_<metric>"`` (fractions, e.g.
    ``test_acc``, ``test_err``, ``test_bal_acc``, ``test_f1_macro``, ``test_auc``). ``complete`` is
    False for a run stopped early on purpose (``stop_after_epoch``); such records are never saved.
    """

    spec: RunSpec
    history: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    wall_time_s: float = 0.0
    environment: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    complete: bool = False
    resumed_at_epoch: int | None = None

    @property
    def run_id(self) -> str:
        return self.spec.run_id

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["spec"] = self.spec.to_dict()
        d["run_id"] = self.run_id
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        d = dict(d)
        d.pop("run_id", None)
        d["spec"] = RunSpec.from_dict(d["spec"])
        return cls(**d)


def check_gamma(name: str, value: Any) -> float | tuple[float, float]:
    """A γ or α setting of a run: a finite number > 0, or a ``(low, high)`` range with 0 < low <= high < ∞ drawn
    per mini-batch. ``γ = ∞`` is rejected by name: :func:`zmixlib.mixing.zeta_mixup` takes it as the identity
    (each sample its own mix), which trains as ERM does — train method ``erm`` for that — and a run id is finite
    JSON."""
    if isinstance(value, (tuple, list)):
        low, high = check_range(name, value, min=0.0)
        if low <= 0:
            raise ValueError(f"{name} range must be > 0, got {value!r}")
        if math.isinf(high):
            raise ValueError(f"{name} range must be finite, got {value!r}")
        return (low, high)
    v = check_float(name, value, min=0.0, min_open=True)
    if math.isinf(v):
        hint = " (gamma = inf is the identity: no mixing — train method 'erm' for that)" if name == "gamma" else ""
        raise ValueError(f"{name} must be a finite number{hint}, got {value!r}")
    return v


def check_device(device: Any) -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (whether that device exists is checked where it is used)."""
    ok = isinstance(device, str) and (
        device in ("auto", "cpu", "cuda") or (device.startswith("cuda:") and device[5:].isdigit())
    )
    if not ok:
        raise ValueError(f"device must be one of ['auto', 'cpu', 'cuda', 'cuda:N'], got {device!r}")
    return device
