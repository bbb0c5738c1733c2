"""One training engine: ``fit(spec) -> RunRecord``.

A run is described completely by a frozen :class:`~zmixlib.engine.runspec.RunSpec`; its record goes to
``results/<section>/<run_id>.json`` (:mod:`zmixlib.engine.store`). The loop reads top to bottom (notebooks 04–10
and ``python -m zmixlib train`` call it):

1. seed everything; load the splits (:func:`load_data`) and hold each one on the device as one tensor where
   it fits (:mod:`zmixlib.data.device_data`: the same batches as the DataLoader, which stays for large images);
   build the model (:mod:`zmixlib.engine.models`), SGD with Nesterov momentum and MultiStepLR;
2. per mini-batch (:meth:`Trainer.step`): random horizontal flip (if the recipe has it) and mixing **on
   the device** with :class:`zmixlib.mixing.Mixer` — in input space, in embedding space
   (``forward_features`` → mix → ``forward_head``: MultiMix, or ζ-mixup on features), or at a random
   eligible block (manifold mixup) — then soft-target cross-entropy. The step never waits for the device:
   loss and accuracy are accumulated there and read once per epoch;
3. after every epoch: evaluate every split, append the history, write a checkpoint atomically (model,
   optimiser, scheduler, AMP scaler and every RNG state, including the mixing generator and the
   shuffling generator), so that a resumed run continues bit-for-bit where it stopped.

On CUDA: bf16 autocast (fp16 with a gradient scaler where bf16 is unsupported) over fp32 master weights,
and channels_last. ``RunSpec.compile`` runs the model through ``torch.compile`` (eagerly, with a message,
where that is unavailable). A non-finite loss stops the run with ``FloatingPointError`` naming the epoch
and step (found from the per-step losses kept on the device, at the end of the epoch).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm.auto import tqdm

from zmixlib import __version__ as _zmixlib_version
from zmixlib import data
from zmixlib.core.device import resolve_device, seed_everything
from zmixlib.core.util import DamagedFileError, atomic_torch_save, checked_torch_load, checksum_path, git_info
from zmixlib.data import device_data
from zmixlib.engine import models, store
from zmixlib.engine.metrics import classification_metrics, soft_cross_entropy
from zmixlib.engine.runspec import RunRecord, RunSpec
from zmixlib.mixing import Mixer, multimix_step

__all__ = [
    "Trainer",
    "fit",
    "evaluate",
    "evaluated",
    "environment",
    "load_data",
    "checkpoint_path",
    "compile_unavailable",
]

# ---------------------------------------------------------------------------------------------------- helpers


def environment(device: torch.device | None = None) -> dict[str, Any]:
    """Versions, device and git commit — stored with every record."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "zmixlib": _zmixlib_version,
        "platform": platform.platform(),
        "hostname": platform.node(),
        "device": str(device) if device is not None else None,
        "device_name": platform.processor() or platform.machine(),
        "cuda": torch.version.cuda,
    }
    if device is not None and device.type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
    env.update(git_info())
    return env


def load_data(spec: RunSpec) -> tuple[dict[str, Dataset], int, str | None]:
    """Load the train and eval splits through ``zmixlib.data``, each with the dataset's preprocessing.

    Every split gets ``data.transform_for(spec.dataset)`` (deterministic: skin lesions' 0.8·min(h, w)
    centre crop + 256×256 resize, Imagenette/Imagewoof 224×224, a float tensor in ``[0, 1]``), so that
    variable-size images batch and the model sees ``describe(spec.dataset).image_size``; the random
    horizontal flips are drawn on the device by :func:`fit` when ``spec.hflip``.

    Returns:
        ``({split: dataset}, num_classes, task)`` — ``task`` is the MedMNIST task type when the dataset
        declares one (``None`` otherwise).
    """
    info = data.describe(spec.dataset)
    splits = {
        s: data.load(spec.dataset, s, root=spec.data_root, download=False, transform=data.transform_for(info.name))
        for s in (spec.train_split, *spec.eval_splits)
    }
    return splits, int(info.num_classes), info.task


def _subset(ds: Dataset, n: int | None) -> Dataset:
    if n is None or n >= len(ds):
        return ds
    # a fixed subset, the same for every seed and method (so seeds only vary the training)
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(20240)).tolist()[:n]
    return Subset(ds, sorted(idx))


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


@functools.cache
def compile_unavailable(device_type: str) -> str | None:
    """Why ``torch.compile`` cannot train on ``device_type`` here (``None`` when it can).

    Compiles and runs a tiny forward + backward once per process: a missing C compiler, an unsupported
    Python or platform shows up here rather than in the middle of a run.
    """
    try:
        fn = torch.compile(lambda t: (t * 2.0).sin().sum())
        t = torch.ones(4, device=device_type, requires_grad=True)
        fn(t).backward()
        return None
    except Exception as err:  # any backend failure means "unavailable here"
        text = str(err).strip().splitlines()
        return f"{type(err).__name__}: {text[0] if text else ''}"[:200]


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    dataset: Dataset | device_data.DeviceData,
    *,
    device: torch.device,
    batch_size: int = 256,
    task: str | None = None,
    autocast: Callable[[], Any] | None = None,
    channels_last: bool = False,
) -> dict[str, float]:
    """Class probabilities over ``dataset`` (a ``Dataset``, or a split already on the device) →
    :func:`zmixlib.engine.metrics.classification_metrics`. Probabilities stay on the device until the end."""
    model.eval()
    if isinstance(dataset, device_data.DeviceData):
        batches: Any = dataset.sequential(batch_size)
    else:
        batches = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    probs, labels = [], []
    for x, y in batches:
        x = x.to(device, non_blocking=True)
        if channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast() if autocast is not None else contextlib.nullcontext():
            logits = model(x)
        probs.append(torch.softmax(logits.float(), dim=1))
        labels.append(torch.as_tensor(y).reshape(-1).to(device))
    return classification_metrics(torch.cat(labels).cpu(), torch.cat(probs).cpu().double(), task=task)


# --------------------------------------------------------------------------------------------------- Trainer


class Trainer:
    """One run's moving parts: the data feed, model, optimiser, schedule, AMP and generators.

    :func:`fit` drives it epoch by epoch (:meth:`train_epoch`, :meth:`evaluate`) and checkpoints its
    :meth:`state_dict`; :mod:`zmixlib.bench.throughput` times :meth:`train_steps`. Building one seeds everything
    with ``spec.seed``, so two trainers of one spec train identically.

    Args:
        spec: the run.
        datasets: ``({split: Dataset}, num_classes, task)`` to train on instead of :func:`load_data`.
        verbose: print the fallbacks (compile unavailable) to stderr.

    Attributes:
        execution: how the run executes — ``data`` (device-resident or DataLoader, and why), ``amp``,
            ``channels_last``, ``compiled``; stored in the record's ``environment``.
    """

    def __init__(
        self,
        spec: RunSpec,
        *,
        datasets: tuple[dict[str, Dataset], int, str | None] | None = None,
        verbose: bool = True,
    ) -> None:
        self.spec = spec
        self.device = resolve_device(spec.device)
        seed_everything(spec.seed)
        splits, num_classes, self.task = datasets if datasets is not None else load_data(spec)
        self.num_classes = int(num_classes)
        train_ds = _subset(splits[spec.train_split], spec.train_subset)
        eval_ds = {s: _subset(splits[s], spec.eval_subset) for s in spec.eval_splits}
        # the order below is the order of the random draws (the model's initialisation first): keep it
        self._build_model(torch.as_tensor(train_ds[0][0]))
        self._build_optimizer()
        amp_dtype = self._build_precision()
        self._build_mixer()
        data_reason = self._build_data(train_ds, eval_ds)
        compiled = self._build_forward(verbose=verbose)
        self.execution = {
            "data": (
                f"device-resident ({self.train_data.storage}, {self.train_data.source}; {data_reason})"
                if self.train_data is not None
                else f"DataLoader ({data_reason})"
            ),
            "amp": str(amp_dtype).replace("torch.", "") if amp_dtype is not None else None,
            "channels_last": self.channels_last,
            "compiled": compiled,
        }
        self._stream: Iterator[tuple[torch.Tensor, torch.Tensor]] | None = None

    # ----------------------------------------------------------------------------------------- builders
    def _build_model(self, x0: torch.Tensor) -> None:
        """Sets ``arch`` (``"auto"`` resolved from the first example ``x0``), ``model`` on the device and
        ``channels_last``; the model's initialisation draws from torch's global generator."""
        spec = self.spec
        tabular = x0.ndim == 1
        in_channels, input_size = int(x0.shape[0]), (None if tabular else tuple(x0.shape[1:]))
        self.arch = spec.arch
        if self.arch == "auto":
            kind = "tabular" if tabular else "image"
            self.arch = models.default_arch(kind, image_size=None if tabular else max(x0.shape[1:]))
        model = models.build(
            self.arch,
            num_classes=self.num_classes,
            in_channels=in_channels,
            input_size=input_size,
            **dict(spec.arch_kwargs),
        )
        self.channels_last = self.device.type == "cuda" and spec.channels_last and x0.ndim == 3
        if self.channels_last:
            self.model = model.to(self.device, memory_format=torch.channels_last)
        else:
            self.model = model.to(self.device)

    def _build_optimizer(self) -> None:
        """Sets ``optimizer`` (SGD, Nesterov momentum where the spec has momentum) and ``scheduler`` (MultiStepLR)."""
        spec = self.spec
        self.optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=spec.lr,
            momentum=spec.momentum,
            nesterov=spec.nesterov and spec.momentum > 0,
            weight_decay=spec.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.MultiStepLR(
            self.optimizer, milestones=list(spec.milestones), gamma=spec.lr_gamma
        )

    def _build_precision(self) -> torch.dtype | None:
        """Sets ``scaler`` and ``autocast``; returns the autocast dtype (``None``: full precision).

        ``spec.amp=True`` (the default): on CUDA bf16, or fp16 with a gradient scaler where bf16 is unsupported;
        elsewhere full precision. ``spec.amp="bf16"``: bf16 autocast on every device, the CPU included (an opt-in:
        CPU runs stay in full precision by default). ``False``: full precision. The weights stay float32 either way.

        Raises:
            ValueError: ``amp="bf16"`` on a CUDA device without bf16.
        """
        amp_dtype = None
        if self.spec.amp == "bf16":
            if self.device.type == "cuda" and not torch.cuda.is_bf16_supported():
                raise ValueError(f"amp='bf16', but {torch.cuda.get_device_name(self.device)} has no bf16; use amp=True")
            amp_dtype = torch.bfloat16
        elif self.device.type == "cuda" and self.spec.amp:
            amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)
        device_type = self.device.type
        self.autocast: Callable[[], Any] = (
            (lambda: torch.autocast(device_type, dtype=amp_dtype)) if amp_dtype is not None else contextlib.nullcontext
        )
        return amp_dtype

    def _build_mixer(self) -> None:
        """Sets the shuffling (``loader_gen``) and mixing (``mix_gen``) generators — their own, checkpointed —
        and ``mixer`` (``None`` for ERM)."""
        spec = self.spec
        self.loader_gen = torch.Generator().manual_seed(spec.seed)
        self.mix_gen = torch.Generator(device=self.device).manual_seed(spec.seed + 1)
        self.mixer = (
            None
            if spec.method == "erm"
            else Mixer(spec.mixer_name, num_classes=self.num_classes, generator=self.mix_gen, **spec.mixer_hparams())
        )

    def _build_data(self, train_ds: Dataset, eval_ds: dict[str, Dataset]) -> str:
        """Sets the training feed (``train_data`` on the device where it fits, else ``loader``; the same batches
        either way), ``eval_sets`` and ``steps_per_epoch``; returns why the training split is where it is."""
        spec, device = self.spec, self.device
        self.num_train = len(train_ds)
        self.drop_last = self.num_train % spec.batch_size == 1  # never a batch of one (BatchNorm)
        plan = device_data.plan(train_ds, device, requested=spec.device_resident)
        self.train_data = device_data.materialize(train_ds, device) if plan.resident else None
        self.loader = None
        if self.train_data is None:
            self.loader = DataLoader(
                train_ds,
                batch_size=spec.batch_size,
                shuffle=True,
                generator=self.loader_gen,
                drop_last=self.drop_last,
                num_workers=spec.num_workers,
                pin_memory=device.type == "cuda",
                persistent_workers=False,
            )
        self.eval_sets: dict[str, Dataset | device_data.DeviceData] = {}
        for split, ds in eval_ds.items():
            resident = device_data.plan(ds, device, requested=spec.device_resident).resident
            self.eval_sets[split] = device_data.materialize(ds, device) if resident else ds
        if self.drop_last:
            self.steps_per_epoch = self.num_train // spec.batch_size
        else:
            self.steps_per_epoch = -(-self.num_train // spec.batch_size)
        return plan.reason

    def _build_forward(self, *, verbose: bool) -> bool:
        """Sets the forward passes (``_forward``, or ``_features`` + ``_head`` in embedding space), compiled
        where ``spec.compile`` asks and ``torch.compile`` works here; returns whether they are compiled."""
        self._forward: Callable[..., torch.Tensor] = self.model
        self._features: Callable[..., torch.Tensor] = self.model.forward_features
        self._head: Callable[..., torch.Tensor] = self.model.forward_head
        if not self.spec.compile:
            return False
        why = compile_unavailable(self.device.type)
        if why is None and self.spec.space == "manifold":
            why = "manifold mixup runs the blocks one at a time, around a mixing point drawn per batch"
        if why is not None:
            if verbose:
                print(f"compile=True, but torch.compile is not used: {why}; training eagerly", file=sys.stderr)
            return False
        if self.spec.space == "embedding":
            self._features = torch.compile(self.model.forward_features)
            self._head = torch.compile(self.model.forward_head)
        else:
            self._forward = torch.compile(self.model)
        return True

    # ------------------------------------------------------------------------------------------ batches
    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of training mini-batches ``(x (B, ...) float, y (B,) int)`` on the device, in the order
        the shuffling generator draws them — the same batches from either data path."""
        if self.train_data is not None:
            for idx in device_data.index_batches(
                self.num_train,
                self.spec.batch_size,
                generator=self.loader_gen,
                drop_last=self.drop_last,
                device=self.device,
            ):
                yield self.train_data.batch(idx)
        else:
            for x, y in self.loader:
                y = torch.as_tensor(y).reshape(-1)
                yield x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    # --------------------------------------------------------------------------------------------- step
    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
        """One SGD step on the batch ``x`` ``(B, ...)``, ``y`` ``(B,)`` class indices, both on the device.

        Flip, mix, forward, soft-target cross-entropy, backward, update — nothing here waits for the device.

        Returns:
            ``(loss, correct, n)``: the loss (a 0-d tensor on the device, not checked), the number of
            predictions agreeing with the target's largest class (0-d, on the device) and the number of
            (mixed) samples ``n`` trained on.
        """
        spec = self.spec
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if spec.hflip and x.ndim == 4:  # random horizontal flip, drawn from the mixing generator
            flip = torch.rand(x.shape[0], generator=self.mix_gen, device=self.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        y_soft = torch.zeros(y.shape[0], self.num_classes, device=self.device)
        y_soft.scatter_(1, y.long().unsqueeze(1), 1.0)  # one-hot without one_hot's range check (a sync on CUDA)
        weight = None  # per-position loss weights (Dense MultiMix)
        with self.autocast():
            if self.mixer is None:
                logits, target = self._forward(x), y_soft
            elif spec.space == "input":
                x_mix, target = self.mixer(x, y_soft)
                logits = self._forward(x_mix)
            elif spec.space in ("embedding", "dense"):
                logits, target, weight = self._embedding_step(x, y_soft)
            else:
                logits, target = self.model.forward_manifold_mixup(x, y_soft, mixer=self.mixer, generator=self.mix_gen)
        loss = soft_cross_entropy(logits.float(), target.float(), label_smoothing=spec.label_smoothing, weight=weight)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if logits.ndim == 3:  # Dense MultiMix (N, r, K): one prediction per generated example, the mean over positions
            logits, target = logits.mean(1), target.mean(1)
        correct = (logits.detach().argmax(1) == target.argmax(1)).sum()
        return loss.detach(), correct, int(logits.shape[0])

    # ---- embedding space: MultiMix's protocol and Dense MultiMix ---------------------------------------------------
    def _embedding_step(
        self, x: torch.Tensor, y_soft: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Mixing in embedding space: ``forward_features`` → mix → ``forward_head``. MultiMix and Dense MultiMix
        (mixer ``multimix``) follow MultiMix's protocol, which :func:`zmixlib.mixing.multimix_step` holds whole.

        Returns:
            ``(logits, target, weight)``: ``(N, K)`` logits and targets — ``(N, r, K)`` for Dense MultiMix, with
            its ``(N, r)`` loss weights (``None`` otherwise).
        """
        mixer = self.mixer
        if mixer.name != "multimix":  # e.g. ζ-mixup of the features
            z_mix, target = mixer(self._features(x), y_soft)
            return self._head(z_mix), target, None
        return multimix_step(
            x,
            y_soft,
            model=self.model,
            hparams=mixer.hparams,
            dense=self.spec.space == "dense",
            generator=self.mix_gen,
            forward=self._forward,
            features=self._features,
            head=self._head,
        )

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """Train one epoch (0-based ``epoch``, for messages); the scheduler is the caller's to step.

        Returns:
            ``{"train_loss", "train_acc"}`` — averaged **per real training example**: each step's mean loss and
            its share of predictions agreeing with the target's largest class (the label itself without
            mixing) weigh as many real examples as its mini-batch holds, however many mixed samples the step
            trained on (MultiMix's ``n`` generated examples count as their batch of ``B``, not ``n``) — read
            from the device once, at the end.

        Raises:
            FloatingPointError: a loss was NaN/inf; names the epoch and the first such step.
        """
        self.model.train()
        losses = torch.zeros(self.steps_per_epoch, device=self.device)  # (S,) per-step losses
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        acc_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        n_seen, done = 0, 0
        try:
            for step, (x, y) in enumerate(self.batches()):
                loss, ok, n = self.step(x, y)
                b = int(x.shape[0])  # real examples of this step: the weight of its loss and accuracy
                losses[step] = loss
                loss_sum += loss.double() * b
                acc_sum += ok.double() * b / n if n != b else ok.double()
                n_seen += b
                done = step + 1
        except Exception:
            self._check_finite(losses[:done].cpu(), epoch)  # a NaN earlier in the epoch is the real cause
            raise
        read = torch.cat([losses[:done].double(), torch.stack([loss_sum, acc_sum])]).cpu()
        self._check_finite(read[:done], epoch)
        return {"train_loss": float(read[done] / max(n_seen, 1)), "train_acc": float(read[done + 1] / max(n_seen, 1))}

    def _check_finite(self, losses: torch.Tensor, epoch: int) -> None:
        bad = (~torch.isfinite(losses)).nonzero()
        if len(bad):
            step = int(bad[0, 0])
            spec = self.spec
            raise FloatingPointError(
                f"non-finite loss ({float(losses[step])}) at epoch {epoch + 1}, step {step + 1} of run {spec.run_id} "
                f"(method {spec.method!r}, {spec.dataset}, {spec.label()}, lr={self.lr}); lower the learning rate "
                f"or check the data"
            )

    def train_steps(self, num_steps: int) -> int:
        """Train ``num_steps`` mini-batches (continuing across epochs; no evaluation, schedule untouched), then
        wait for the device. Returns the number of (mixed) samples trained on. For timing
        (:mod:`zmixlib.bench.throughput`)."""
        self.model.train()
        images, loss = 0, None
        for _ in range(num_steps):
            batch = next(self._stream, None) if self._stream is not None else None
            if batch is None:
                self._stream = self.batches()
                batch = next(self._stream)
            loss, _, n = self.step(*batch)
            images += n
        if loss is not None:
            float(loss)  # waits for the device
        return images

    # ----------------------------------------------------------------------------------------- evaluate
    def evaluate(self) -> dict[str, float]:
        """Every evaluation split: ``{"<split>_<metric>": value}``."""
        out: dict[str, float] = {}
        for split, ds in self.eval_sets.items():
            m = evaluate(
                self.model,
                ds,
                device=self.device,
                batch_size=max(256, 2 * self.spec.batch_size),
                task=self.task,
                autocast=self.autocast,
                channels_last=self.channels_last,
            )
            out.update({f"{split}_{k}": v for k, v in m.items()})
        return out

    # --------------------------------------------------------------------------------------- checkpoint
    def state_dict(self) -> dict[str, Any]:
        """Model, optimiser, scheduler, scaler and every RNG state (global, shuffling, mixing)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": _rng_state(self.device),
            "loader_gen": self.loader_gen.get_state(),
            "mix_gen": self.mix_gen.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"])
        self.loader_gen.set_state(state["loader_gen"])
        self.mix_gen.set_state(state["mix_gen"])
        self._stream = None


# ------------------------------------------------------------------------------------------------------- fit


def evaluated(spec: RunSpec, epoch: int) -> bool:
    """Whether :func:`fit` evaluates after ``epoch`` (1-based): every ``spec.eval_every``-th epoch and the last
    (every epoch when ``eval_every`` is ``None``). Other epochs' history rows carry the training metrics only."""
    return spec.eval_every is None or epoch % spec.eval_every == 0 or epoch == spec.epochs


#: what a checkpoint :func:`fit` resumes from must hold
_CHECKPOINT_KEYS = ("run_id", "epoch", "history", "wall_time_s", "model", "optimizer", "scheduler", "scaler", "rng")


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
    produced_by: dict[str, Any] | None = None,
) -> RunRecord:
    """Train and evaluate one run; write its record (once) to ``results/<section>/<run_id>.json``.

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
        produced_by: how the run is produced (executor, job id, node: :func:`zmixlib.engine.workers.produced_by`),
            added to the record's ``environment``.

    Returns:
        the :class:`RunRecord` (also written to disk when ``results_dir`` is given and the run finished);
        per epoch its ``history`` holds ``epoch, lr, train_loss, train_acc, train_time_s``, the evaluation
        of every split (after the epochs :func:`evaluated` names) and ``epoch_time_s``;
        ``environment["execution"]`` says how it ran (:attr:`Trainer.execution`).

    Raises:
        FloatingPointError: the loss became NaN/inf (names epoch and step).
    """
    t_start = time.perf_counter()
    started_at = _now()
    trainer = Trainer(spec, datasets=datasets)

    # ---- resume
    ckpt_path = None
    if checkpoint_dir is not None:
        ckpt_path = Path(checkpoint_dir) / f"{spec.run_id}.pt"
    elif results_dir is not None:
        ckpt_path = checkpoint_path(spec, results_dir)
    history: list[dict[str, Any]] = []
    start_epoch, prior_wall, resumed_at = 0, 0.0, None
    if resume and ckpt_path is not None and ckpt_path.exists():
        try:  # a damaged checkpoint (or another run's) is set aside, named, and the run starts from scratch
            ckpt = checked_torch_load(ckpt_path, required=_CHECKPOINT_KEYS)
            if ckpt.get("run_id") != spec.run_id:
                raise DamagedFileError(
                    f"checkpoint {ckpt_path} belongs to run {ckpt.get('run_id')!r}, not {spec.run_id!r}"
                )
            trainer.load_state_dict(ckpt)
            history, start_epoch, prior_wall = ckpt["history"], ckpt["epoch"], ckpt["wall_time_s"]
            resumed_at = start_epoch
        except (DamagedFileError, KeyError, TypeError, ValueError, RuntimeError) as err:
            store.set_aside(ckpt_path, f"{err}; training run {spec.run_id} from scratch", kind="checkpoint")
            checksum_path(ckpt_path).unlink(missing_ok=True)
            trainer = Trainer(spec, datasets=datasets)  # fresh: a failed load may have changed some of its state
            history, start_epoch, prior_wall, resumed_at = [], 0, 0.0, None

    env = {**environment(trainer.device), "execution": trainer.execution, **(produced_by or {})}
    record = RunRecord(spec=spec, environment=env, started_at=started_at, resumed_at_epoch=resumed_at)
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
        row: dict[str, Any] = {"epoch": epoch + 1, "lr": trainer.lr}
        row.update(trainer.train_epoch(epoch))
        trainer.scheduler.step()
        row["train_time_s"] = time.perf_counter() - t_epoch
        if evaluated(spec, epoch + 1):
            row.update(trainer.evaluate())
        row["epoch_time_s"] = time.perf_counter() - t_epoch
        history.append(row)
        first = f"{spec.eval_splits[0]}_acc"
        shown = {first: f"{row[first]:.4f}"} if first in row else {}
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", train_acc=f"{row['train_acc']:.4f}", **shown)
        if ckpt_path is not None:
            state = {"run_id": spec.run_id, "spec": spec.to_dict(), "epoch": epoch + 1, **trainer.state_dict()}
            state.update(history=history, wall_time_s=prior_wall + time.perf_counter() - t_start)
            atomic_torch_save(state, ckpt_path)
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
    if results_dir is not None:  # the final weights first: a record on disk implies its weights are (chapter 11)
        store.save_weights(spec, trainer.model.state_dict(), results_dir)
        store.save(record, results_dir)
    if ckpt_path is not None and not keep_checkpoint:
        ckpt_path.unlink(missing_ok=True)  # the folder stays: other workers write their checkpoints into it
        checksum_path(ckpt_path).unlink(missing_ok=True)
    return record
