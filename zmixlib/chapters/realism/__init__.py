"""Realism and label correctness of synthetic images, judged by an oracle classifier (notebook 02).

ζ-mixup (Abhishek et al., J Big Data 2024), section "Realism and label correctness", Fig. 3: an *oracle* — a LeNet-5
with 99.31 % MNIST test accuracy — looks at images made by mixup and ζ-mixup and gives class
probabilities ``p``. Two per-sample numbers follow (natural logarithms):

* realism: the oracle's entropy ``H(p) = -Σ_k p_k log p_k`` — low when the oracle is sure, i.e. the image
  looks like one digit (``0 ≤ H ≤ log K``);
* label correctness: the cross-entropy ``CE(ŷ, p) = -Σ_k ŷ_k log p_k`` between the soft label ``ŷ`` the
  mixing method assigned and the oracle's prediction — low when the label names what the oracle sees;
* label error: the soft label's argmax differs from the oracle's argmax.

Offline, scikit-learn's 8×8 digits and a small CNN (``digits_cnn``) stand in for MNIST and LeNet-5.

Pieces: :func:`get_oracle` trains the oracle once with :func:`zmixlib.engine.train.fit` and caches it under
``results/02_realism/`` (record and checkpoint, keyed by the run spec's hash); :func:`first_per_class`
picks Fig. 3a's originals; :func:`methods` builds the mixers compared; :func:`measure` scores one batch;
:func:`realism_study` draws many batches over several seeds and returns one row per synthetic image;
:func:`summarize` makes the table; :func:`skin_originals` loads the skin images of Figs. 4–5;
:func:`image_grids`, :func:`soft_label_examples` and :func:`realism_densities` (:mod:`.figures`) draw Figs. 3–5.

The page's cells, one call each: :func:`chapter_oracle`, :func:`fig3_grid` (Fig. 3a–c, returns a :class:`Fig3`),
:func:`fig3_examples` (Fig. 3d–e), :func:`print_label_errors`, :func:`density_study` (Fig. 3f–g),
:func:`summary_tables`, :func:`realistic_table`, :func:`claims_table` and :func:`skin_grids` (Figs. 4–5).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from zmixlib import data, mixing
from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.core.device import resolve_device
from zmixlib.core.util import DamagedFileError, checked_torch_load
from zmixlib.core.vocab import run_label
from zmixlib.engine import metrics, models, store, train
from zmixlib.engine.runspec import RunRecord, RunSpec

from .figures import image_grids, realism_densities, soft_label_examples

__all__ = [
    "SECTION",
    "PAPER_ORACLE_ACC",
    "ORACLES",
    "OracleRecipe",
    "Oracle",
    "oracle_spec",
    "get_oracle",
    "ORACLE_MIN_ACC",
    "chapter_oracle",
    "label_errors",
    "first_per_class",
    "mixup_per_sample",
    "methods",
    "mix_all",
    "measure",
    "realism_study",
    "summarize",
    "claims",
    "pick_examples",
    "skin_originals",
    "image_grids",
    "soft_label_examples",
    "realism_densities",
    "Fig3",
    "fig3_grid",
    "fig3_examples",
    "print_label_errors",
    "density_study",
    "summary_tables",
    "realistic_table",
    "claims_table",
    "skin_grids",
]

#: results/<SECTION>/ holds the oracle's run record and checkpoint.
SECTION = "02_realism"
#: The paper's oracle: LeNet-5, 99.31 % accuracy on the MNIST test set (the paper's "Realism and label correctness").
PAPER_ORACLE_ACC = 0.9931


@dataclass(frozen=True)
class OracleRecipe:
    """How an oracle is trained: SGD-Nesterov, lr divided by 10 at 50 % and 75 % of the epochs."""

    arch: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 5e-4


#: dataset -> oracle recipe. The paper does not give LeNet-5's recipe; this one is the usual MNIST one.
ORACLES: dict[str, OracleRecipe] = {
    "MNIST": OracleRecipe(arch="lenet5", epochs=20, batch_size=128, lr=0.05),
    "MNIST-10k": OracleRecipe(arch="lenet5", epochs=20, batch_size=128, lr=0.05),  # real MNIST digits, 28 x 28
    "digits": OracleRecipe(arch="digits_cnn", epochs=15, batch_size=64, lr=0.1),
}


def oracle_spec(
    dataset: str,
    *,
    epochs: int | None = None,
    seed: int = 0,
    device: str = "auto",
    data_root: str | Path = "data",
) -> RunSpec:
    """The :class:`~zmixlib.engine.train.RunSpec` of the oracle for ``dataset`` (a key of :data:`ORACLES`).

    ``epochs`` overrides the recipe's (the learning-rate milestones move with it). Trained on the
    ``train`` split, evaluated on ``test``.
    """
    check_choice("oracle dataset", dataset, ORACLES)
    recipe = ORACLES[dataset]
    epochs = recipe.epochs if epochs is None else check_int("epochs", epochs, min=1)
    milestones = tuple(sorted({m for m in (epochs // 2, (3 * epochs) // 4) if 1 <= m < epochs}))
    return RunSpec(
        dataset=dataset,
        method="erm",
        arch=recipe.arch,
        section=SECTION,
        eval_splits=("test",),
        epochs=epochs,
        batch_size=recipe.batch_size,
        lr=recipe.lr,
        milestones=milestones,
        lr_gamma=0.1,
        weight_decay=recipe.weight_decay,
        seed=seed,
        device=str(device),
        data_root=str(data_root),
    )


@dataclass
class Oracle:
    """A trained classifier in eval mode, with what it scored on its test split.

    ``oracle(x)`` returns class probabilities ``(N, K)`` (float64, CPU) for images ``(N, C, H, W)``.
    """

    model: torch.nn.Module
    spec: RunSpec
    record: RunRecord
    device: torch.device
    cached: bool = False

    @property
    def test_acc(self) -> float:
        """Accuracy on the test split (a fraction)."""
        return float(self.record.metrics["test_acc"])

    @torch.no_grad()
    def __call__(self, x: Tensor, *, batch_size: int = 2048) -> Tensor:
        self.model.eval()
        out = [
            torch.softmax(self.model(chunk.to(self.device, torch.float32)).double(), dim=1).cpu()
            for chunk in x.split(batch_size)
        ]
        return torch.cat(out)

    def describe(self) -> str:
        """One line: what the oracle is, how it was trained and its test accuracy."""
        how = "loaded from cache" if self.cached else f"trained in {self.record.wall_time_s:.0f} s"
        return (
            f"oracle: {self.spec.arch} on {self.spec.dataset} ({self.spec.epochs} epochs, seed {self.spec.seed}, "
            f"{self.device}; {how}) — test accuracy {100 * self.test_acc:.2f} %"
        )


def get_oracle(
    dataset: str,
    *,
    results_dir: str | Path,
    epochs: int | None = None,
    seed: int = 0,
    device: str = "auto",
    data_root: str | Path = "data",
    retrain: bool = False,
    progress: bool = True,
) -> Oracle:
    """Train the oracle for ``dataset`` once and cache it; later calls load it.

    The record goes to ``results_dir/02_realism/<run_id>.json`` and the weights to
    ``results_dir/02_realism/checkpoints/<run_id>.pt`` (``run_id`` hashes the spec, so a changed recipe
    trains anew). ``retrain=True`` ignores the cache.

    Raises:
        FileNotFoundError: the dataset's files are absent (``zmixlib.data``'s message names the path and
            the ``make data`` command).
    """
    spec = oracle_spec(dataset, epochs=epochs, seed=seed, device=device, data_root=data_root)
    record_file, ckpt_file = store.record_path(spec, results_dir), train.checkpoint_path(spec, results_dir)
    info = data.describe(dataset)
    model = models.build(spec.arch, num_classes=info.num_classes, in_channels=info.channels)
    cached, stale = False, False
    if not retrain and record_file.is_file() and ckpt_file.is_file():
        record = store.load_record(record_file)
        try:
            model.load_state_dict(checked_torch_load(ckpt_file, required=("model",))["model"])
            cached = record.complete
        except (RuntimeError, KeyError, DamagedFileError):  # damaged, or from an older model code: train anew
            stale = True
    if not cached:
        resume = not (retrain or stale)  # an interrupted run resumes from its checkpoint
        record = train.fit(spec, results_dir=results_dir, resume=resume, keep_checkpoint=True, progress=progress)
        model.load_state_dict(checked_torch_load(ckpt_file, required=("model",))["model"])
    dev = resolve_device(device)
    return Oracle(model=model.to(dev).eval(), spec=spec, record=record, device=dev, cached=cached)


#: the test accuracy an oracle must reach before the page reads its judgements (smoke trains for seconds: none)
ORACLE_MIN_ACC = {"smoke": None, "offline": 0.97, "paper": 0.99}


def chapter_oracle(params) -> Oracle:
    """The page's oracle: :func:`get_oracle` for ``params`` (a :class:`zmixlib.protocol.config.Params`: ``dataset``,
    ``results_dir``, ``oracle_epochs``, ``seed``, ``device``, ``data_root``), described in one line beside the
    paper's. Raises ``AssertionError`` when its test accuracy is below the profile's :data:`ORACLE_MIN_ACC`."""
    oracle = get_oracle(
        params.dataset,
        results_dir=params.results_dir,
        epochs=params.oracle_epochs,
        seed=params.seed,
        device=params.device,
        data_root=params.data_root,
        progress=False,
    )
    print(f"{oracle.describe()}  [profile {params.profile!r}, {params.dataset} test split, {params.torch_device}]")
    print(f"paper: LeNet-5 on MNIST — test accuracy {100 * PAPER_ORACLE_ACC:.2f} %")
    floor = ORACLE_MIN_ACC[params.profile]
    assert floor is None or oracle.test_acc >= floor, (
        f"oracle test accuracy {oracle.test_acc:.4f} < {floor}: train longer"
    )
    return oracle


def label_errors(scored: dict[str, pd.DataFrame]) -> pd.Series:
    """Method -> how many of its images' soft-label argmax differs from the oracle's (:func:`measure`'s
    ``label_error``), named ``"label errors in the grid"``."""
    return pd.Series({name: int(s["label_error"].sum()) for name, s in scored.items()}, name="label errors in the grid")


def first_per_class(
    x: Tensor, y: Tensor, *, per_class: int = 10, num_classes: int | None = None
) -> tuple[Tensor, Tensor]:
    """The first ``per_class`` samples of each class, class by class (Fig. 3a: 10 per digit, 100 images).

    Returns ``(x_sel, y_sel)`` with ``y_sel = [0]*per_class + [1]*per_class + ...``; ``ValueError`` if a
    class has fewer samples.
    """
    per_class = check_int("per_class", per_class, min=1)
    num_classes = int(y.max()) + 1 if num_classes is None else check_int("num_classes", num_classes, min=1)
    idx = []
    for k in range(num_classes):
        members = torch.nonzero(y == k).flatten()[:per_class]
        if len(members) < per_class:
            raise ValueError(f"class {k} has {len(members)} samples, fewer than per_class={per_class}")
        idx.append(members)
    idx = torch.cat(idx)
    return x[idx], y[idx]


def mixup_per_sample(
    x: Tensor,
    y: Tensor,
    *,
    alpha: float = 1.0,
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """mixup with one ``λ_i ~ Beta(α, α)`` per output (and a random partner permutation ``π``).

    ``x̂_i = λ_i x_i + (1 − λ_i) x_π(i)``. Each output is distributed exactly as an output of
    :func:`zmixlib.mixing.mixup` (which draws one ``λ`` per batch, as the official code does); drawing
    ``λ`` per sample shows the whole range of ``λ`` in one 100-image grid and lowers the variance of the
    statistics over batches. Built from ``dirichlet_weights`` (``Dir(α, α)``'s first coordinate is
    ``Beta(α, α)``), ``pair_weights`` and ``apply_weights``.
    """
    alpha = check_float("alpha", alpha, min=0.0, min_open=True)
    batch = x.shape[0]
    lam = mixing.dirichlet_weights(2, alpha, num_rows=batch, generator=generator, dtype=torch.float64)[:, 0]
    perm = torch.randperm(batch, generator=generator, device=lam.device)
    return mixing.apply_weights(x, y, mixing.pair_weights(lam, perm), num_classes=num_classes)


Mix = Callable[..., tuple[Tensor, Tensor]]


def methods(gammas: Sequence[float] = (2.4, 2.8, 4.0), *, alpha: float = 1.0, original: bool = True) -> dict[str, Mix]:
    """The mixers compared, by label: ``"original"`` (no mixing, one-hot labels — the reference),
    ``"mixup"`` (:func:`mixup_per_sample`, ``α``) and ``"zeta_mixup(gamma=γ)"`` for each γ (``T`` = the batch).

    Each value is ``f(x, y, *, num_classes, generator) -> (x_mix, y_soft)``.
    """

    out: dict[str, Mix] = {"original": mixing.erm} if original else {}
    out["mixup"] = partial(mixup_per_sample, alpha=alpha)
    for g in gammas:
        out[run_label("zeta_mixup", {"gamma": check_float("gamma", g, min=0.0)})] = partial(
            mixing.zeta_mixup, gamma=float(g)
        )
    return out


def mix_all(
    x: Tensor, y: Tensor, mixers: dict[str, Mix], *, num_classes: int, seed: int = 0
) -> dict[str, tuple[Tensor, Tensor]]:
    """Apply every mixer to the same batch (Fig. 3a–c, Figs. 4–5): ``{label: (x_mix, y_soft)}``.

    Each mixer draws from its own generator, seeded by ``(seed, label)``.
    """
    return {
        label: mix(x, y, num_classes=num_classes, generator=_generator(seed, label)) for label, mix in mixers.items()
    }


def measure(oracle: Callable[[Tensor], Tensor], x: Tensor, y_soft: Tensor) -> pd.DataFrame:
    """Score synthetic images: one row per image.

    Args:
        oracle: images ``(N, ...)`` -> class probabilities ``(N, K)``.
        x: the images. y_soft: their soft labels ``(N, K)``.

    Returns:
        columns ``H`` (oracle entropy ``H(p)``, nats), ``CE`` (``CE(ŷ, p) = -Σ ŷ_k log p_k``, the soft label
        as target and the oracle's ``p`` as prediction, as in a training loss), ``H_label`` (the soft
        label's own entropy ``H(ŷ)``: ``CE(ŷ, p) = H(ŷ) + KL(ŷ ‖ p) ≥ H(ŷ)``, so a label spread over several
        classes — ζ-mixup's — cannot reach 0 even when the oracle agrees), ``CE_rev`` (the other order,
        ``CE(p, ŷ) = -Σ p_k log ŷ_k``: the oracle's view as target; ``ŷ_k = 0`` counts as ``1e-12``),
        ``label`` (the soft label's argmax), ``label_weight`` (its largest entry), ``oracle`` (the
        oracle's argmax) and ``label_error`` (``label != oracle``).
    """

    p = oracle(x)
    y = y_soft.detach().double().cpu()
    if p.shape != y.shape:
        raise ValueError(f"the oracle gave probabilities of shape {tuple(p.shape)} for soft labels {tuple(y.shape)}")
    label, oracle_top = y.argmax(1).numpy(), p.argmax(1).numpy()
    return pd.DataFrame(
        {
            "H": metrics.entropy(p),
            "CE": metrics.cross_entropy(y, p),
            "H_label": metrics.entropy(y) + 0.0,  # + 0.0: one-hot labels give -0.0
            "CE_rev": metrics.cross_entropy(p, y),
            "label": label,
            "label_weight": y.max(1).values.numpy(),
            "oracle": oracle_top,
            "label_error": label != oracle_top,
        }
    )


def _generator(seed: int, label: str) -> torch.Generator:
    """Randomness of one (seed, method): independent of which other methods run, and of their order."""
    return torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(label.encode()))


def realism_study(
    oracle: Callable[[Tensor], Tensor],
    x: Tensor,
    y: Tensor,
    mixers: dict[str, Mix],
    *,
    num_samples: int,
    batch_size: int = 100,
    seeds: Sequence[int] = (0,),
    num_classes: int | None = None,
) -> pd.DataFrame:
    """Many synthetic images per method and seed, each scored by :func:`measure`.

    For each seed, ``⌈num_samples / batch_size⌉`` batches of ``batch_size`` distinct originals are drawn
    (the same batches for every method); each mixer turns every batch into ``batch_size`` synthetic
    images (ζ-mixup mixes all of them: ``T = batch_size``).

    Returns:
        one row per synthetic image: ``method``, ``seed``, ``batch`` and the columns of :func:`measure`
        (``num_samples`` rows per method and seed).
    """
    num_samples = check_int("num_samples", num_samples, min=1)
    batch_size = check_int("batch_size", batch_size, min=2, max=len(x))
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    n_batches = math.ceil(num_samples / batch_size)
    frames = []
    for seed in seeds:
        g = torch.Generator().manual_seed(int(seed))
        batches = [torch.randperm(len(x), generator=g)[:batch_size] for _ in range(n_batches)]
        for label, mix in mixers.items():
            gen = _generator(int(seed), label)
            parts = [mix(x[idx], y[idx], num_classes=num_classes, generator=gen) for idx in batches]
            xs, ys = torch.cat([p[0] for p in parts])[:num_samples], torch.cat([p[1] for p in parts])[:num_samples]
            df = measure(oracle, xs, ys)
            df.insert(0, "batch", torch.arange(len(df)).div(batch_size, rounding_mode="floor").numpy())
            df.insert(0, "seed", int(seed))
            df.insert(0, "method", label)
            frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["method"] = pd.Categorical(out["method"], categories=list(mixers), ordered=True)
    return out


def summarize(df: pd.DataFrame, *, h_max: float | None = None) -> pd.DataFrame:
    """The table of Fig. 3f–g's distributions, one row per method.

    Columns: ``n`` (images), mean and median of ``H`` and ``CE``, the mean of ``H_label`` (``CE``'s floor),
    the median of ``CE_rev``, ``label error`` (fraction of images whose soft-label argmax ≠ the oracle's
    argmax) and its standard deviation over seeds. With ``h_max``, only
    images with ``H < h_max`` count (the paper's inset: "highly realistic" images have ``H < 0.1``), and
    ``share`` is the fraction of each method's images that pass.
    """
    sub = df if h_max is None else df[df["H"] < check_float("h_max", h_max, min=0.0, min_open=True)]
    g = sub.groupby("method", observed=False)
    table = g.agg(
        n=("H", "size"),
        H_mean=("H", "mean"),
        H_median=("H", "median"),
        CE_mean=("CE", "mean"),
        CE_median=("CE", "median"),
        H_label_mean=("H_label", "mean"),
        CE_rev_median=("CE_rev", "median"),
        label_error=("label_error", "mean"),
    )
    per_seed = sub.groupby(["method", "seed"], observed=False)["label_error"].mean().groupby(level=0, observed=False)
    table["label_error_sd_seeds"] = per_seed.std(ddof=1) if df["seed"].nunique() > 1 else float("nan")
    if h_max is not None:
        table.insert(1, "share", table["n"] / df.groupby("method", observed=False).size())
    table.columns = [c.replace("_", " ") for c in table.columns]
    return table


def claims(table: pd.DataFrame, realistic: pd.DataFrame, *, baseline: str = "mixup") -> pd.DataFrame:
    """The paper's claims about Fig. 3f–g, checked on :func:`summarize`'s tables, one row per claim and γ.

    Args:
        table: ``summarize(study)``. realistic: ``summarize(study, h_max=0.1)``.
        baseline: the method ζ-mixup is compared with.

    Returns:
        columns ``claim`` (the paper's words, abridged), ``method``, ``mixup`` and ``ζ-mixup`` (the measured
        values compared) and ``holds`` (``ζ-mixup < mixup``).
    """
    checks = [
        ("more realistic: lower oracle entropy H (mean)", table, "H mean"),
        ("labels closer to the oracle: lower CE(ŷ, p) (mean)", table, "CE mean"),
        ("the same, oracle as target: lower CE(p, ŷ) (median)", table, "CE rev median"),
        ("fewer label errors (soft-label argmax ≠ oracle argmax)", table, "label error"),
        ("realistic-looking images (H < 0.1) carry fewer label errors", realistic, "label error"),
    ]
    rows = []
    for claim, tab, col in checks:
        for method in tab.index:
            if str(method).startswith("zeta_mixup"):
                ours, base = float(tab.loc[method, col]), float(tab.loc[baseline, col])
                rows.append({"claim": claim, "method": method, baseline: base, "ζ-mixup": ours, "holds": ours < base})
    return pd.DataFrame(rows)


def pick_examples(df: pd.DataFrame, k: int = 4) -> np.ndarray:
    """Positions (0-based) of ``k`` rows of :func:`measure`'s frame to show with their soft labels.

    Fig. 3d–e show four images per method; the paper picked them by eye (mixup outputs that look like an
    "8" but are labelled "1" and "5"). We use one rule for every method: its label errors first, those
    the oracle is surest about (lowest ``H``) first — realistic-looking images with a wrong label; where
    a method makes fewer than ``k`` label errors, the rest are its most realistic images.
    """
    k = check_int("k", k, min=1)
    order = np.lexsort((df["H"].to_numpy(), ~df["label_error"].to_numpy()))
    return order[:k].copy()


def skin_originals(
    name: str, *, root: str | Path, n: int = 100, split: str = "train", required: bool = False
) -> tuple[Tensor, Tensor] | None:
    """The first ``n`` images of a skin lesion dataset (Figs. 4–5: ISIC 2017, ISIC 2018), as the papers
    prepare them (centre square crop of 0.8 × the short side, resized to 256 × 256).

    Returns ``(x (n, 3, 256, 256), y (n,))``, or ``None`` — after printing what is missing and the command
    to get it — when the dataset is absent and ``required`` is False.

    Raises:
        FileNotFoundError: absent and ``required`` (``zmixlib.data``'s message: the path and ``make data``).
    """
    try:
        return data.as_tensors(name, split, root=root, transform=data.transform_for(name, train=False), limit=n)
    except FileNotFoundError as err:
        if required:
            raise
        print(f"{name}: skipped — {err}")
        return None


# ------------------------------------------------------------------------------------------------ the page


@dataclass(frozen=True)
class Fig3:
    """Fig. 3a–c's material: the test split ``X``, ``y`` of the oracle's dataset (its :class:`DatasetInfo`
    ``info``), the ``mixers`` compared (:func:`methods`) and ``grid``, :func:`mix_all`'s output for the 100
    originals."""

    X: Tensor
    y: Tensor
    info: data.DatasetInfo
    mixers: dict[str, Mix]
    grid: dict[str, tuple[Tensor, Tensor]]


def fig3_grid(params) -> Fig3:
    """Fig. 3a–c for ``params`` (``dataset``, ``data_root``, ``gammas``, ``alpha``, ``seed``): the first 10 test
    images per class mixed as one batch by every method, drawn side by side; returns the :class:`Fig3`."""
    X, y = data.as_tensors(params.dataset, "test", root=params.data_root)
    info = data.describe(params.dataset)
    x100, y100 = first_per_class(X, y, per_class=10, num_classes=info.num_classes)
    mixers = methods(params.gammas, alpha=params.alpha)
    grid = mix_all(x100, y100, mixers, num_classes=info.num_classes, seed=params.seed)
    image_grids(
        {name: xm for name, (xm, _) in grid.items()},
        title=f"Fig. 3a–c: {params.dataset}, first 10 test images per class, mixed as one batch (seed {params.seed})",
    )
    return Fig3(X=X, y=y, info=info, mixers=mixers, grid=grid)


def fig3_examples(params, oracle: Callable[[Tensor], Tensor], fig3: Fig3) -> dict[str, pd.DataFrame]:
    """Fig. 3d–e: four images each of mixup and ζ-mixup (γ = 2.8 when compared, else the first γ) picked by
    :func:`pick_examples`, with their soft labels and the oracle's probabilities. Returns every grid's
    :func:`measure` frame, by method."""
    scored = {name: measure(oracle, xm, ym) for name, (xm, ym) in fig3.grid.items()}
    shown = ["mixup", run_label("zeta_mixup", {"gamma": 2.8 if 2.8 in params.gammas else params.gammas[0]})]
    picks = {name: pick_examples(scored[name], 4) for name in shown}
    grid = fig3.grid
    examples = {name: (grid[name][0][i], grid[name][1][i], oracle(grid[name][0][i])) for name, i in picks.items()}
    soft_label_examples(
        examples,
        class_names=fig3.info.class_names,
        title=f"Fig. 3d–e: soft labels vs the oracle ({params.dataset}, profile {params.profile!r})",
    )
    return scored


def print_label_errors(params, scored: dict[str, pd.DataFrame]) -> None:
    """Prints :func:`label_errors` of the grids ``scored`` (:func:`fig3_examples`) under a heading; returns None."""
    print(
        "soft-label argmax ≠ oracle argmax among the 100 grid images "
        f"(profile {params.profile!r}, {params.dataset}, seed {params.seed}):"
    )
    print(label_errors(scored).to_string())


def density_study(params, oracle: Callable[[Tensor], Tensor], fig3: Fig3) -> tuple[pd.DataFrame, str]:
    """Fig. 3f–g: :func:`realism_study` over ``params.seeds`` (``num_synthetic`` images per method and seed,
    batches of ``batch_size``) drawn by :func:`realism_densities`. Returns ``(study, label)``: the rows and the
    line (profile, dataset, seeds, images per method, device) that heads the page's tables."""
    K = fig3.info.num_classes
    study = realism_study(
        oracle,
        fig3.X,
        fig3.y,
        fig3.mixers,
        num_samples=params.num_synthetic,
        batch_size=params.batch_size,
        seeds=params.seeds,
        num_classes=K,
    )
    n_per = params.num_synthetic * len(params.seeds)
    label = (
        f"profile {params.profile!r}, {params.dataset} test split, seeds {params.seeds}, "
        f"{n_per:,} images per method, {params.torch_device}"
    )
    realism_densities(study, label=label, num_classes=K)
    return study, label


def summary_tables(study: pd.DataFrame, label: str, *, h_max: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prints the heading ``measured — label`` and returns ``(table, realistic)``: :func:`summarize` of all of
    ``study`` and of its images with ``H < h_max``."""
    table, realistic = summarize(study), summarize(study, h_max=h_max)
    print(f"measured — {label}")
    return table, realistic


def realistic_table(realistic: pd.DataFrame, label: str, *, h_max: float = 0.1) -> pd.DataFrame:
    """Prints the heading of :func:`summary_tables`' second table (images with ``H < h_max``); returns it."""
    print(f"measured, images with H < {h_max:g} only — {label}")
    return realistic


def claims_table(table: pd.DataFrame, realistic: pd.DataFrame, label: str) -> pd.DataFrame:
    """Prints a heading and returns :func:`claims` — the paper's qualitative claims checked on the tables."""
    print(f"paper: qualitative claims; measured — {label}")
    return claims(table, realistic)


def skin_grids(params, mixers: dict[str, Mix]) -> dict:
    """Figs. 4–5: the first 100 training images of each of ``params.skin_datasets`` mixed as one batch by every
    mixer and drawn (64 px per image). Returns ``{dataset: figure}`` for the sets present; an absent set is
    skipped with a message, or raises ``FileNotFoundError`` under the paper profile (:func:`skin_originals`)."""
    figs = {}
    for name in params.skin_datasets:
        skin = skin_originals(name, root=params.data_root, n=100, required=params.profile == "paper")
        if skin is not None:
            mixed = mix_all(*skin, mixers, num_classes=data.describe(name).num_classes, seed=params.seed)
            figs[name] = image_grids(
                {m: xm for m, (xm, _) in mixed.items()},
                max_side=64,
                title=f"{name}: first 100 training images, mixed as one batch (seed {params.seed})",
            )
    return figs
