"""One training engine: ``fit(spec) -> RunRecord``.

A run is described completely by a frozen :class:`RunSpec` (dataset, architecture, method and its
hyperparameters, optimiser and schedule, seed, subset sizes); its ``run_id`` is the SHA-256 of the
spec's canonical JSON, so a record on disk (``results/<section>/<run_id>.json``) names exactly the
experiment it holds. Execution details that do not change the science (``device``, ``data_root``,
``num_workers``, ``amp``, ``channels_last``) are left out of the hash, so a run finished on a GPU node
is found from a laptop.

The loop reads top to bottom (notebooks 04–10 and ``python -m zmixlib train`` call it):

1. seed everything; build the model (``zmixlib.models``), SGD with Nesterov momentum and MultiStepLR;
2. per mini-batch: move to the device, random horizontal flip (if the recipe has it), mix **on the
   device** with ``zmixlib.mixing.Mixer`` — in input space, in embedding space
   (``forward_features`` → mix → ``forward_head``: MultiMix, or ζ-mixup on features), or at a random
   eligible block (manifold mixup) — then soft-target cross-entropy;
3. after every epoch: evaluate every split, append the history, write a checkpoint atomically
   (model, optimiser, scheduler, AMP scaler and every RNG state, including the mixing generator and the
   DataLoader's shuffling generator), so that a resumed run continues bit-for-bit where it stopped.

AMP (bf16 where supported, else fp16 with a gradient scaler) and channels_last are used on CUDA only.
A non-finite loss stops the run with ``FloatingPointError`` naming the epoch and step.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from zmixlib._checks import check_choice, check_float, check_int, check_range

__all__ = ["METHODS", "SPACES", "RunSpec", "RunRecord", "fit", "environment", "load_data", "main"]

#: Every method the engine trains with: the mixers of ``zmixlib.mixing.MIXERS`` plus manifold mixup
#: (the ``mixup`` operator applied at a random eligible block).
METHODS = (
    "erm",
    "mixup",
    "zeta_mixup",
    "dirichlet_mixup",
    "cutmix",
    "cutmix_zeta",
    "kmixup",
    "local_synthetic_instances",
    "multimix",
    "manifold_mixup",
)
#: Where the mixing happens: the input batch, the pooled embedding, or a random eligible block.
SPACES = ("input", "embedding", "manifold")
#: RunSpec fields that do not change the result and are left out of ``run_id``.
EXECUTION_FIELDS = ("device", "data_root", "num_workers", "amp", "channels_last")


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one training run. Frozen and hashable; ``run_id`` is stable across
    processes and machines (SHA-256 of the canonical JSON, without :data:`EXECUTION_FIELDS`).

    Method hyperparameters: ``gamma`` (ζ-mixup), ``alpha`` (Beta/Dirichlet concentration) — each a number
    or a ``(low, high)`` range sampled per mini-batch (``gamma=(GAMMA_MIN, 4.0)`` as in MIDL Table 1),
    ``num_mix`` (``T``; ``None`` = the whole batch), and ``extra`` — further keyword arguments for the
    mixer as sorted ``(name, value)`` pairs. ``space=None`` picks ``"manifold"`` for manifold mixup,
    ``"embedding"`` for MultiMix and ``"input"`` otherwise.
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
    seed: int = 0
    device: str = "auto"
    data_root: str = "data"
    num_workers: int = 0
    amp: bool = True
    channels_last: bool = True

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)
        for name in ("dataset", "arch", "section", "train_split", "device", "data_root"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise TypeError(f"{name} must be a non-empty string, got {getattr(self, name)!r}")
        check_choice("method", self.method, METHODS)
        space = self.space or {"manifold_mixup": "manifold", "multimix": "embedding"}.get(self.method, "input")
        check_choice("space", space, SPACES)
        if self.method == "manifold_mixup" and space != "manifold":
            raise ValueError(
                f"method 'manifold_mixup' mixes at a random block: space must be 'manifold', got {space!r}"
            )
        set_("space", space)
        splits = (self.eval_splits,) if isinstance(self.eval_splits, str) else tuple(self.eval_splits)
        if not splits or not all(isinstance(s, str) and s for s in splits):
            raise ValueError(f"eval_splits must be a non-empty sequence of split names, got {self.eval_splits!r}")
        set_("eval_splits", splits)
        for name in ("gamma", "alpha"):  # a number, or a (low, high) range drawn per mini-batch
            value = getattr(self, name)
            if isinstance(value, (tuple, list)):
                low, high = check_range(name, value, min=0.0)
                if low <= 0:
                    raise ValueError(f"{name} range must be > 0, got {value!r}")
                set_(name, (low, high))
            elif value is not None:
                set_(name, check_float(name, value, min=0.0, min_open=True))
        if self.num_mix is not None:
            set_("num_mix", check_int("num_mix", self.num_mix, min=2))
        set_("extra", _pairs("extra", self.extra))
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
        for name in ("nesterov", "hflip", "amp", "channels_last"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        for name in ("train_subset", "eval_subset"):
            if getattr(self, name) is not None:
                set_(name, check_int(name, getattr(self, name), min=1))
        set_("seed", check_int("seed", self.seed, min=0))
        set_("num_workers", check_int("num_workers", self.num_workers, min=0))

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
        canonical = json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> RunSpec:
        return dataclasses.replace(self, **changes)

    @property
    def mixer_name(self) -> str:
        """The ``zmixlib.mixing`` operator this run applies (manifold mixup applies ``mixup``)."""
        return "mixup" if self.method == "manifold_mixup" else self.method

    def mixer_hparams(self) -> dict[str, Any]:
        """Keyword arguments for ``Mixer(self.mixer_name, ...)``: the hyperparameters that are set."""
        hp = {k: getattr(self, k) for k in ("gamma", "alpha", "num_mix") if getattr(self, k) is not None}
        hp.update(dict(self.extra))
        return hp

    def label(self) -> str:
        """Short human label, e.g. ``zeta_mixup(gamma=2.8)``."""
        hp = ", ".join(f"{k}={v}" for k, v in self.mixer_hparams().items())
        return f"{self.method}({hp})" if hp else self.method


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


# ---------------------------------------------------------------------------------------------------- helpers


def environment(device: torch.device | None = None) -> dict[str, Any]:
    """Versions, device and git commit — stored with every record."""
    import torchvision

    import zmixlib

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "zmixlib": zmixlib.__version__,
        "platform": platform.platform(),
        "hostname": platform.node(),
        "device": str(device) if device is not None else None,
        "device_name": platform.processor() or platform.machine(),
        "cuda": torch.version.cuda,
        "git_commit": None,
        "git_dirty": None,
    }
    if device is not None and device.type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
    root = Path(__file__).resolve().parent
    try:
        run = lambda *a: subprocess.run(["git", "-C", str(root), *a], capture_output=True, text=True, timeout=5)
        head = run("rev-parse", "HEAD")
        if head.returncode == 0:
            env["git_commit"] = head.stdout.strip()
            env["git_dirty"] = bool(run("status", "--porcelain", "--untracked-files=no").stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return env


def load_data(spec: RunSpec) -> tuple[dict[str, Dataset], int, str | None]:
    """Load the train and eval splits through ``zmixlib.data``.

    Returns:
        ``({split: dataset}, num_classes, task)`` — ``task`` is the MedMNIST task type when the dataset
        declares one (``None`` otherwise).
    """
    from zmixlib import data

    info = data.describe(spec.dataset)
    splits = {
        s: data.load(spec.dataset, s, root=spec.data_root, download=False)
        for s in (spec.train_split, *spec.eval_splits)
    }
    return splits, int(info.num_classes), getattr(info, "task", None)


def _subset(ds: Dataset, n: int | None) -> Dataset:
    if n is None or n >= len(ds):
        return ds
    # a fixed subset, the same for every seed and method (so seeds only vary the training)
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(20240)).tolist()[:n]
    return Subset(ds, sorted(idx))


def _atomic_torch_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _rng_state(device: torch.device) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _soft_ce() -> Callable[..., torch.Tensor]:
    from zmixlib.mixing import soft_cross_entropy

    return soft_cross_entropy


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    dataset: Dataset,
    *,
    device: torch.device,
    batch_size: int = 256,
    task: str | None = None,
    autocast: Callable[[], Any] | None = None,
    channels_last: bool = False,
) -> dict[str, float]:
    """Class probabilities over ``dataset`` → :func:`zmixlib.metrics.classification_metrics`."""
    from zmixlib.metrics import classification_metrics

    model.eval()
    probs, labels = [], []
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        x = x.to(device, non_blocking=True)
        if channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast() if autocast is not None else _nullcontext():
            logits = model(x)
        probs.append(torch.softmax(logits.float(), dim=1).cpu())
        labels.append(torch.as_tensor(y).reshape(-1).cpu())
    return classification_metrics(torch.cat(labels), torch.cat(probs).double(), task=task)


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# ------------------------------------------------------------------------------------------------------- fit


def checkpoint_path(spec: RunSpec, results_dir: str | os.PathLike) -> Path:
    """``<results_dir>/<section>/checkpoints/<run_id>.pt``."""
    return Path(results_dir) / spec.section / "checkpoints" / f"{spec.run_id}.pt"


def fit(
    spec: RunSpec,
    *,
    results_dir: str | os.PathLike | None = "results",
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = True,
    keep_checkpoint: bool = False,
    stop_after_epoch: int | None = None,
    progress: bool = True,
    datasets: tuple[dict[str, Dataset], int, str | None] | None = None,
) -> RunRecord:
    """Train and evaluate one run; write its record to ``results/<section>/<run_id>.json``.

    Args:
        spec: the run.
        results_dir: where the record (and, unless ``checkpoint_dir`` is given, the checkpoint) goes;
            ``None`` writes no record.
        checkpoint_dir: folder for ``<run_id>.pt``; default ``<results_dir>/<section>/checkpoints``.
            With neither, no checkpoint is written.
        resume: continue from the checkpoint when one exists for this ``run_id``.
        keep_checkpoint: keep the last checkpoint after a completed run (default: delete it).
        stop_after_epoch: stop (checkpoint written, record not) after this epoch (1-based) — the way
            to interrupt a run on purpose; the returned record has ``complete=False``.
        progress: one tqdm bar over epochs (``TQDM_DISABLE=1`` also silences it).
        datasets: ``({split: Dataset}, num_classes, task)`` to train on instead of
            :func:`load_data` (tests, custom data).

    Returns:
        the :class:`RunRecord` (also written to disk when ``results_dir`` is given and the run finished).

    Raises:
        FloatingPointError: the loss became NaN/inf (names epoch and step).
    """
    from tqdm.auto import tqdm

    from zmixlib import models
    from zmixlib.config import resolve_device, seed_everything
    from zmixlib.mixing import Mixer

    t_start = time.perf_counter()
    started_at = _now()
    device = resolve_device(spec.device)
    seed_everything(spec.seed)
    splits, num_classes, task = datasets if datasets is not None else load_data(spec)
    train_ds = _subset(splits[spec.train_split], spec.train_subset)
    eval_ds = {s: _subset(splits[s], spec.eval_subset) for s in spec.eval_splits}

    # ---- model, optimiser, schedule
    x0 = torch.as_tensor(train_ds[0][0])
    in_channels, input_size = (int(x0.shape[0]), None) if x0.ndim == 1 else (int(x0.shape[0]), tuple(x0.shape[1:]))
    arch = (
        spec.arch
        if spec.arch != "auto"
        else models.default_arch(
            "tabular" if x0.ndim == 1 else "image", image_size=None if x0.ndim == 1 else max(x0.shape[1:])
        )
    )
    model = models.build(
        arch, num_classes=num_classes, in_channels=in_channels, input_size=input_size, **dict(spec.arch_kwargs)
    )
    on_cuda = device.type == "cuda"
    channels_last = on_cuda and spec.channels_last and x0.ndim == 3
    model = model.to(device, memory_format=torch.channels_last) if channels_last else model.to(device)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=spec.lr,
        momentum=spec.momentum,
        nesterov=spec.nesterov and spec.momentum > 0,
        weight_decay=spec.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(spec.milestones), gamma=spec.lr_gamma)
    amp_dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if on_cuda and spec.amp else None
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)
    autocast = (lambda: torch.autocast("cuda", dtype=amp_dtype)) if amp_dtype is not None else None

    # ---- randomness: DataLoader shuffling and mixing have their own generators (checkpointed)
    loader_gen = torch.Generator().manual_seed(spec.seed)
    mix_gen = torch.Generator(device=device).manual_seed(spec.seed + 1)
    drop_last = len(train_ds) % spec.batch_size == 1  # never a batch of one (BatchNorm)
    loader = DataLoader(
        train_ds,
        batch_size=spec.batch_size,
        shuffle=True,
        generator=loader_gen,
        drop_last=drop_last,
        num_workers=spec.num_workers,
        pin_memory=on_cuda,
        persistent_workers=False,
    )
    mixer = (
        None
        if spec.method == "erm"
        else Mixer(spec.mixer_name, num_classes=num_classes, generator=mix_gen, **spec.mixer_hparams())
    )
    soft_cross_entropy = _soft_ce()

    # ---- resume
    ckpt_path = None
    if checkpoint_dir is not None:
        ckpt_path = Path(checkpoint_dir) / f"{spec.run_id}.pt"
    elif results_dir is not None:
        ckpt_path = checkpoint_path(spec, results_dir)
    history: list[dict[str, Any]] = []
    start_epoch, prior_wall, resumed_at = 0, 0.0, None
    if resume and ckpt_path is not None and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if ckpt.get("run_id") != spec.run_id:
            raise ValueError(f"checkpoint {ckpt_path} belongs to run {ckpt.get('run_id')!r}, not {spec.run_id!r}")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        scaler.load_state_dict(ckpt["scaler"])
        _set_rng_state(ckpt["rng"])
        loader_gen.set_state(ckpt["loader_gen"])
        mix_gen.set_state(ckpt["mix_gen"])
        history, start_epoch, prior_wall = ckpt["history"], ckpt["epoch"], ckpt["wall_time_s"]
        resumed_at = start_epoch

    record = RunRecord(spec=spec, environment=environment(device), started_at=started_at, resumed_at_epoch=resumed_at)
    bar = tqdm(
        range(start_epoch, spec.epochs),
        initial=start_epoch,
        total=spec.epochs,
        desc=f"{spec.dataset} {spec.label()} s{spec.seed}",
        disable=not progress or os.environ.get("TQDM_DISABLE", "") not in ("", "0", "false", "False"),
        dynamic_ncols=True,
    )
    for epoch in bar:
        t_epoch = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        n_seen = 0
        lr = optimizer.param_groups[0]["lr"]
        for step, (x, y) in enumerate(loader):
            x = x.to(device, non_blocking=True)
            y = torch.as_tensor(y).reshape(-1).to(device, non_blocking=True)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            if spec.hflip and x.ndim == 4:  # random horizontal flip, drawn from the mixing generator
                flip = torch.rand(x.shape[0], generator=mix_gen, device=device) < 0.5
                x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            y_soft = torch.nn.functional.one_hot(y.long(), num_classes).float()
            with autocast() if autocast is not None else _nullcontext():
                if mixer is None:
                    logits, target = model(x), y_soft
                elif spec.space == "input":
                    x_mix, target = mixer(x, y_soft)
                    logits = model(x_mix)
                elif spec.space == "embedding":
                    z_mix, target = mixer(model.forward_features(x), y_soft)
                    logits = model.forward_head(z_mix)
                else:
                    logits, target = model.forward_manifold_mixup(x, y_soft, mixer=mixer, generator=mix_gen)
            loss = soft_cross_entropy(logits.float(), target.float(), label_smoothing=spec.label_smoothing)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"non-finite loss ({loss.item()}) at epoch {epoch + 1}, step {step + 1} of run {spec.run_id} "
                    f"({spec.dataset}, {spec.label()}, lr={lr}); lower the learning rate or check the data"
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.detach().double() * logits.shape[0]
            n_seen += logits.shape[0]
        scheduler.step()
        row: dict[str, Any] = {"epoch": epoch + 1, "lr": lr, "train_loss": float(loss_sum.item() / max(n_seen, 1))}
        row["train_time_s"] = time.perf_counter() - t_epoch
        for split, ds in eval_ds.items():
            m = evaluate(
                model,
                ds,
                device=device,
                batch_size=max(256, 2 * spec.batch_size),
                task=task,
                autocast=autocast,
                channels_last=channels_last,
            )
            row.update({f"{split}_{k}": v for k, v in m.items()})
        row["epoch_time_s"] = time.perf_counter() - t_epoch
        history.append(row)
        first = spec.eval_splits[0]
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", **{f"{first}_acc": f"{row[f'{first}_acc']:.4f}"})
        if ckpt_path is not None:
            _atomic_torch_save(
                {
                    "run_id": spec.run_id,
                    "spec": spec.to_dict(),
                    "epoch": epoch + 1,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(),
                    "rng": _rng_state(device),
                    "loader_gen": loader_gen.get_state(),
                    "mix_gen": mix_gen.get_state(),
                    "history": history,
                    "wall_time_s": prior_wall + time.perf_counter() - t_start,
                },
                ckpt_path,
            )
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch and epoch + 1 < spec.epochs:
            bar.close()
            record.history = history
            record.wall_time_s = prior_wall + time.perf_counter() - t_start
            return record
    bar.close()

    record.history = history
    last = history[-1]
    record.metrics = {k: v for k, v in last.items() if any(k.startswith(f"{s}_") for s in spec.eval_splits)}
    record.wall_time_s = prior_wall + time.perf_counter() - t_start
    record.finished_at = _now()
    record.complete = True
    if results_dir is not None:
        from zmixlib import results

        results.save(record, results_dir)
    if ckpt_path is not None and not keep_checkpoint:
        ckpt_path.unlink(missing_ok=True)
        try:
            ckpt_path.parent.rmdir()  # only if empty
        except OSError:
            pass
    return record


# ------------------------------------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zmixlib train",
        description="Train one run (dataset x method x seed) and write results/<section>/<run_id>.json. "
        "Unset options take the dataset's recipe under --profile (zmixlib.recipes).",
    )
    p.add_argument("--dataset", required=True, help="e.g. digits, iris, CIFAR-10 (zmixlib.data names)")
    p.add_argument("--method", default="erm", choices=METHODS)
    p.add_argument("--gamma", type=float, help="zeta-mixup gamma")
    p.add_argument("--alpha", type=float, help="mixup / Dirichlet / manifold mixup alpha")
    p.add_argument("--num-mix", type=int, help="T, samples per synthetic sample (default: the batch)")
    p.add_argument("--space", choices=SPACES, help="where to mix (default: by method)")
    p.add_argument("--arch", help="zmixlib.models name (default: the recipe's)")
    p.add_argument("--profile", default="offline", help="recipe profile for unset options (default offline)")
    p.add_argument("--section", default="adhoc", help="results/<section>/ (default adhoc)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--milestones", type=lambda s: tuple(int(v) for v in s.split(",") if v), help="e.g. 80,120,160")
    p.add_argument("--lr-gamma", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--train-subset", type=int)
    p.add_argument("--eval-subset", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--data-root", default="data")
    p.add_argument("--num-workers", type=int)
    p.add_argument("--results-dir", default="results")
    p.add_argument("--force", action="store_true", help="train even if the record exists")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--stop-after-epoch", type=int, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    from zmixlib import recipes, results

    args = build_parser().parse_args(argv)
    keys = (
        "method gamma alpha num_mix space arch epochs batch_size lr milestones lr_gamma weight_decay "
        "train_subset eval_subset seed device data_root num_workers section"
    ).split()
    overrides = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    try:
        spec = recipes.spec_for(args.dataset, profile=args.profile, **overrides)
    except (TypeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    path = results.record_path(spec, args.results_dir)
    print(f"run {spec.run_id}: {spec.dataset} {spec.arch} {spec.label()} seed {spec.seed} -> {path}")
    if path.exists() and not args.force:
        rec = results.load_record(path)
        print(f"skipped: record exists ({_summary(rec)})")
        return 0
    rec = fit(spec, results_dir=args.results_dir, progress=not args.no_progress, stop_after_epoch=args.stop_after_epoch)
    if not rec.complete:
        print(f"stopped after epoch {len(rec.history)}; rerun the same command to resume")
        return 0
    print(f"done: {_summary(rec)}")
    return 0


def _summary(rec: RunRecord) -> str:
    m = rec.metrics
    parts = [f"{k}={v:.4f}" for k, v in m.items() if k.endswith(("_acc", "_err")) and "medmnist" not in k]
    return ", ".join(parts) + f", wall {rec.wall_time_s:.1f}s"
