"""Fig. 8 of chapter 05: the feature-space neighbourhoods of the test images.

For every test image, how many of its ``k = 128`` nearest training samples, by cosine similarity in the trained
model's feature space (:mod:`zmixlib.chapters.skin.neighbours`), share its label (:func:`neighbourhoods`), among the method's
synthesized training samples and among the training images (:data:`POOLS`); the tables, the paper's selection
(:func:`paper_selection`), the reading and the figures of the page's Fig. 8 section.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits
from torch.utils.data import DataLoader

from zmixlib.analysis.stats import mean_sd
from zmixlib.chapters.skin.neighbours import cosine_knn, embed, same_label_counts
from zmixlib.core.checks import check_choice, check_int
from zmixlib.core.util import DamagedFileError, checked_torch_load
from zmixlib.core.vocab import color, method_label, sort_key
from zmixlib.data.device_data import DeviceData
from zmixlib.engine import train as engine
from zmixlib.engine.runspec import RunSpec
from zmixlib.mixing import Mixer
from zmixlib.tables import report
from zmixlib.tables.plots import house_style

__all__ = [
    "METHODS",
    "POOLS",
    "FIG8_PAPER",
    "Neighbourhoods",
    "neighbourhoods",
    "neighbour_summary",
    "neighbour_pairs",
    "paper_selection",
    "knn_reading",
    "fig8_paper_table",
    "neighbour_figure",
    "fig8_figure",
]

#: the methods of Table 6 (the chapter runs no other)
METHODS = ("erm", "mixup", "zeta_mixup")
#: the neighbourhood pools: the method's synthesized training samples (the paper's), the training images
POOLS = ("synthesized", "train")
#: Fig. 8 in the J Big Data paper's text ("Results and Discussion"): among the test images misclassified by ERM
#: and mixup but classified correctly by ζ-mixup for every γ, in how many ζ-mixup's model had more correctly
#: labelled synthesized training samples among the 128 nearest (cosine similarity) than mixup's, and how many
#: more such neighbours it had in all
FIG8_PAPER = (
    {
        "dataset": "derm7point-C",
        "arch": "ResNet-18",
        "feature_dim": 512,
        "test_images": 14,
        "zeta_more": 12,
        "percent_more": 208.2,
    },
    {
        "dataset": "ISIC 2017",
        "arch": "ResNet-50",
        "feature_dim": 2048,
        "test_images": 14,
        "zeta_more": 14,
        "percent_more": 1908.8,
    },
)

# ------------------------------------------------------------------------------------------- neighbourhoods


@dataclass
class Neighbourhoods:
    """What :func:`neighbourhoods` measured.

    Attributes:
        counts: one row per (run, pool, test image): ``dataset, arch, method, gamma, label`` (the method's
            table label), ``seed, pool, test_index, y`` (the test label), ``correct`` (the run's prediction was
            right), ``same_label`` (neighbours among the ``k`` with the test image's label).
        k: neighbours per test image.
        embeddings: for the first seed of each (dataset, arch, method label): ``{"pool": (features, labels)``
            (a fixed subsample of the synthesized pool, at most ``embed_points``), ``"test": (features,
            labels)}`` — what :func:`fig8_figure` projects.
        test_sets: (dataset, arch) -> the test split (to show the images).
    """

    counts: pd.DataFrame
    k: int
    embeddings: dict = field(default_factory=dict)
    test_sets: dict = field(default_factory=dict)


def _load_trained(spec: RunSpec, results_dir, datasets) -> engine.Trainer:
    """The run's trainer with its final weights (``<results_dir>/<section>/checkpoints/<run_id>.pt``). A run
    whose record exists without a checkpoint (trained elsewhere) is trained again into the checkpoint only."""
    path = engine.checkpoint_path(spec, results_dir)
    try:
        state = checked_torch_load(path) if path.is_file() else None
    except DamagedFileError as err:
        print(f"note: {err}; training the run again")
        state = None
    if state is None or state.get("epoch") != spec.epochs:
        print(
            f"note: no final checkpoint of run {spec.run_id} ({spec.dataset}, {spec.label()}, seed {spec.seed}); "
            "training it again to keep its weights (its record stays as it is)"
        )
        engine.fit(
            spec, results_dir=None, checkpoint_dir=path.parent, keep_checkpoint=True, progress=False, datasets=datasets
        )
        state = checked_torch_load(path)
    if state.get("run_id") != spec.run_id:
        raise ValueError(f"checkpoint {path} belongs to run {state.get('run_id')!r}, not {spec.run_id!r}")
    trainer = engine.Trainer(spec, datasets=datasets, verbose=False)
    trainer.load_state_dict(state)
    trainer.model.eval()
    return trainer


def _batches(ds, device: torch.device, batch_size: int = 256):
    if isinstance(ds, DeviceData):
        yield from ds.sequential(batch_size)
        return
    for x, y in DataLoader(ds, batch_size=batch_size, shuffle=False):
        yield x.to(device), torch.as_tensor(y).reshape(-1).to(device)


@torch.no_grad()
def _test_features(trainer: engine.Trainer) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(features (Q, D), labels (Q,), predictions (Q,))`` of the test split, in its order."""
    feats, labels, preds = [], [], []
    for x, y in _batches(trainer.eval_sets["test"], trainer.device):
        z = embed(trainer.model, x)
        feats.append(z)
        labels.append(y)
        preds.append(trainer.model.forward_head(z).argmax(1))
    return torch.cat(feats), torch.cat(labels), torch.cat(preds)


@torch.no_grad()
def _pool_features(trainer: engine.Trainer, spec: RunSpec) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of training batches (the run's own batch order after training) through the model:
    ``{"train": (features, labels), "synthesized": (features of the method's mixed batches, argmax labels)}``."""
    mixer = None
    if spec.method != "erm":
        gen = torch.Generator(device=trainer.device).manual_seed(spec.seed + 2)  # not the run's own generators
        mixer = Mixer(spec.mixer_name, num_classes=trainer.num_classes, generator=gen, **spec.mixer_hparams())
    out: dict[str, list] = {"train": [], "synthesized": []}
    for x, y in trainer.batches():
        out["train"].append((embed(trainer.model, x), y))
        if mixer is not None:
            y_soft = torch.zeros(len(y), trainer.num_classes, device=trainer.device).scatter_(1, y.long()[:, None], 1.0)
            x_mix, y_mix = mixer(x, y_soft)
            out["synthesized"].append((embed(trainer.model, x_mix), y_mix.argmax(1)))
    if mixer is None:
        out["synthesized"] = out["train"]  # ERM's training samples are the images themselves
    return {pool: (torch.cat([f for f, _ in v]), torch.cat([y for _, y in v])) for pool, v in out.items()}


def neighbourhoods(
    specs: Sequence[RunSpec], results_dir, *, k: int = 128, embed_points: int = 600, verbose: bool = True
) -> Neighbourhoods:
    """Fig. 8's count: for every run of ``specs`` (ERM, mixup, ζ-mixup runs with a checkpoint under
    ``results_dir``, kept by :func:`zmixlib.tables.report.train_checked` for :func:`knn_matrix`'s runs) and every test image, how many of its ``k`` nearest training samples by
    cosine similarity in the run's feature space (:func:`zmixlib.chapters.skin.neighbours.cosine_knn` on
    ``forward_features``) share its label — among the synthesized training samples of the run's method and
    among the training images (:data:`POOLS`). The data of a (dataset, subset) is loaded once."""
    k = check_int("k", k, min=1)
    rows, embeddings, test_sets, loaded = [], {}, {}, {}
    specs = sorted(specs, key=lambda s: (s.dataset, s.arch, sort_key(s.method, s.gamma), s.seed))
    first_seed = {}
    for spec in specs:
        check_choice("method", spec.method, METHODS)
        key = (spec.dataset, spec.data_root, spec.train_split, spec.eval_splits)
        if key not in loaded:
            loaded = {key: engine.load_data(spec)}  # one dataset in memory at a time
        trainer = _load_trained(spec, results_dir, loaded[key])
        label = method_label(spec.method, spec.gamma)
        test_z, test_y, test_pred = _test_features(trainer)
        pools = _pool_features(trainer, spec)
        base = {
            "dataset": spec.dataset,
            "arch": spec.arch,
            "method": spec.method,
            "gamma": spec.gamma,
            "label": label,
            "seed": spec.seed,
        }
        for pool, (z, y) in pools.items():
            if k > len(z):
                raise ValueError(f"k must be <= the {len(z)} training samples of run {spec.run_id}, got {k}")
            _, idx = cosine_knn(test_z, z, k)
            same = same_label_counts(test_y, y, idx).cpu().numpy()
            rows.append(
                pd.DataFrame(
                    {
                        **base,
                        "pool": pool,
                        "test_index": np.arange(len(test_y)),
                        "y": test_y.cpu().numpy(),
                        "correct": (test_pred == test_y).cpu().numpy(),
                        "same_label": same,
                    }
                )
            )
        cell = (spec.dataset, spec.arch, label)
        if first_seed.setdefault(cell, spec.seed) == spec.seed:
            z, y = pools["synthesized"]
            keep = torch.randperm(len(z), generator=torch.Generator().manual_seed(0))[:embed_points].to(z.device)
            embeddings[cell] = {"pool": (z[keep].cpu(), y[keep].cpu()), "test": (test_z.cpu(), test_y.cpu())}
            test_sets.setdefault((spec.dataset, spec.arch), trainer.eval_sets["test"])
        if verbose:
            print(
                f"neighbourhoods: {spec.dataset} {spec.arch} {label} seed {spec.seed}: {len(test_y)} test images, "
                f"{len(pools['synthesized'][0])} synthesized / {len(pools['train'][0])} training samples"
            )
    counts = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return Neighbourhoods(counts=counts, k=k, embeddings=embeddings, test_sets=test_sets)


def _order(counts: pd.DataFrame) -> dict[str, tuple]:
    """method label -> table position, from the structured values (labels are never parsed back)."""
    return {lab: sort_key(m, g) for m, g, lab in zip(counts["method"], counts["gamma"], counts["label"])}


def _ordered(labels, order: dict[str, tuple]) -> list[str]:
    return sorted(dict.fromkeys(labels), key=lambda lab: order.get(lab, (99,)))


def neighbour_summary(nb: Neighbourhoods, *, device: str = "") -> pd.DataFrame:
    """Per (dataset, arch, pool, method): the mean number of same-label neighbours per test image (mean ± sd over
    seeds of each seed's mean) and as a share of ``k``; with the number of seeds."""
    c = nb.counts
    if c.empty:
        return pd.DataFrame()
    order = _order(c)
    per_seed = c.groupby(["dataset", "arch", "pool", "label", "seed"], sort=False)["same_label"].mean().reset_index()
    rows = []
    for (dataset, arch, pool, label), g in per_seed.groupby(["dataset", "arch", "pool", "label"], sort=False):
        v = g["same_label"]
        rows.append(
            {
                "dataset": dataset,
                "arch": arch,
                "pool": pool,
                "method": label,
                f"same-label neighbours of {nb.k} (mean ± sd)": mean_sd(v, 1),
                "share of k (%)": round(100 * v.mean() / nb.k, 1),
                "seeds": len(v),
            }
        )
    out = pd.DataFrame(rows)
    out = out.assign(_o=[order[m] for m in out["method"]], _p=[POOLS.index(p) for p in out["pool"]])
    return (
        out.sort_values(["dataset", "arch", "_p", "_o"])
        .drop(columns=["_o", "_p"])
        .set_index(["dataset", "arch", "pool", "method"])
    )


def neighbour_pairs(nb: Neighbourhoods, *, pool: str = "synthesized", baseline: str = "mixup") -> pd.DataFrame:
    """Seed-paired ζ-mixup − ``baseline`` mean number of same-label neighbours per test image, one row per
    (dataset, arch, γ, seed): ``ours``, ``baseline_value``, ``diff`` (positive: ζ-mixup's neighbourhoods hold
    more of the test image's class), shaped for :func:`zmixlib.tables.report.paired_summary`."""
    check_choice("pool", pool, POOLS)
    cols = [
        "dataset",
        "arch",
        "method",
        "baseline_method",
        "gamma",
        "label",
        "seed",
        "baseline",
        "ours",
        "baseline_value",
        "diff",
    ]
    c = nb.counts
    if c.empty:
        return pd.DataFrame(columns=cols)
    c = c[c["pool"] == pool]
    means = (
        c.groupby(["dataset", "arch", "method", "label", "seed"], sort=False, dropna=False)["same_label"]
        .mean()
        .reset_index()
    )
    base = means[means["method"] == baseline][["dataset", "arch", "seed", "same_label"]].rename(
        columns={"same_label": "baseline_value"}
    )
    zeta = means[means["method"] == "zeta_mixup"].rename(columns={"same_label": "ours"})
    gammas = c[c["method"] == "zeta_mixup"].drop_duplicates("label").set_index("label")["gamma"]
    m = zeta.merge(base, on=["dataset", "arch", "seed"])
    m = m.assign(gamma=m["label"].map(gammas), baseline_method=baseline, baseline=method_label(baseline))
    m = m.assign(diff=m["ours"] - m["baseline_value"])
    return m[cols].reset_index(drop=True)


def paper_selection(nb: Neighbourhoods, *, pool: str = "synthesized") -> pd.DataFrame:
    """The paper's comparison, per (dataset, arch, seed, ζ-mixup γ): the test images misclassified by ERM and by
    mixup but classified correctly by ζ-mixup for every γ (the paper found 14 per dataset); among them, in how
    many ζ-mixup's neighbourhood held more same-label samples than mixup's, and how many more same-label
    neighbours ζ-mixup's held in all (percent). Rows with no such image say so (``selected`` = 0)."""
    c = nb.counts
    if c.empty:
        return pd.DataFrame()
    c = c[c["pool"] == pool]
    order = _order(c)
    rows = []
    for (dataset, arch, seed), g in c.groupby(["dataset", "arch", "seed"], sort=False):
        wide = g.pivot_table(index="test_index", columns="label", values=["correct", "same_label"], aggfunc="first")
        correct, same = wide["correct"].astype(bool), wide["same_label"]
        zeta_labels = _ordered(g.loc[g["method"] == "zeta_mixup", "label"], order)
        need = [method_label("erm"), method_label("mixup")]
        if not zeta_labels or any(n not in correct.columns for n in need):
            continue
        sel = ~correct[need[0]] & ~correct[need[1]] & correct[zeta_labels].all(axis=1)
        for lab in zeta_labels:
            z, m = same.loc[sel, lab], same.loc[sel, need[1]]
            more = int((z > m).sum())
            pct = 100.0 * (z.sum() / m.sum() - 1.0) if m.sum() > 0 else math.nan
            rows.append(
                {
                    "dataset": dataset,
                    "arch": arch,
                    "seed": seed,
                    "ζ-mixup": lab,
                    "selected": int(sel.sum()),
                    "ζ-mixup more same-label neighbours": more,
                    "same-label neighbours, ζ-mixup vs mixup (% more)": round(pct, 1)
                    if math.isfinite(pct)
                    else math.nan,
                }
            )
    return pd.DataFrame(rows)


def knn_reading(nb: Neighbourhoods, *, profile: str) -> str:
    """One sentence per (dataset, architecture), from this build's counts: per γ, the seed-paired ζ-mixup − mixup
    mean number of same-label neighbours per test image (pool ``"synthesized"``) and, over the paper's selection
    of test images, how many were selected and in how many (image, γ) cases ζ-mixup's neighbourhood held more
    same-label samples."""
    pairs = neighbour_pairs(nb)
    if pairs.empty:
        return "no neighbourhood was measured in this build"
    sel = paper_selection(nb)
    phrases = report.paired_phrases(pairs, decimals=1, lower_is_better=False)
    parts = []
    for (dataset, arch), g in pairs.groupby(["dataset", "arch"], sort=False):
        n = int(g["seed"].nunique())
        text = (
            f"{dataset} ({arch}, {profile}, {n} seed{'s' * (n != 1)}): same-label neighbours of {nb.k} per "
            f"test image, seed-paired, {phrases[(dataset, arch)]}"
        )
        s = sel[(sel["dataset"] == dataset) & (sel["arch"] == arch)] if len(sel) else sel
        if len(s):
            total = int(s.drop_duplicates("seed")["selected"].sum())
            more = int(s["ζ-mixup more same-label neighbours"].sum())
            text += (
                f"; the paper's selection held {total} test image{'s' * (total != 1)} over the seeds, and in "
                f"{more} of {int(s['selected'].sum())} (image, γ) cases ζ-mixup's neighbourhood held more of its class"
            )
        parts.append(text)
    return ". ".join(parts)


def fig8_paper_table() -> pd.DataFrame:
    """The paper's Fig. 8 numbers (J Big Data, text of "Results and Discussion"), labelled as the paper's."""
    df = pd.DataFrame(FIG8_PAPER)
    return df.rename(
        columns={
            "feature_dim": "feature dim",
            "test_images": "selected test images (paper)",
            "zeta_more": "ζ-mixup more same-label neighbours (paper)",
            "percent_more": "same-label neighbours, ζ-mixup vs mixup (% more, paper)",
        }
    )


# ---------------------------------------------------------------------------------------------------- figures


@house_style()
def neighbour_figure(nb: Neighbourhoods, *, label: str, ax_width: float = 5.0):
    """Per (dataset, arch) and pool, the distribution over test images (all seeds) of the number of same-label
    neighbours among the ``k`` nearest: one violin per method in its colour, the mean marked (◆) and the
    quartiles as a bar. Returns the figure."""
    c = nb.counts
    order = _order(c)
    panels = sorted(
        dict.fromkeys(zip(c["dataset"], c["arch"], c["pool"])), key=lambda p: (p[0], p[1], POOLS.index(p[2]))
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(ax_width * len(panels), 4.0), squeeze=False)
    for ax, (dataset, arch, pool) in zip(axes[0], panels):
        g = c[(c["dataset"] == dataset) & (c["arch"] == arch) & (c["pool"] == pool)]
        labels = _ordered(g["label"], order)
        values = [g.loc[g["label"] == lab, "same_label"].to_numpy() for lab in labels]
        parts = ax.violinplot(values, widths=0.8, showextrema=False, bw_method=0.15)
        for j, (body, lab, v) in enumerate(zip(parts["bodies"], labels, values), start=1):
            body.set_facecolor(color(g.loc[g["label"] == lab, "method"].iloc[0]))
            body.set_alpha(0.55)
            q1, q3 = np.percentile(v, [25, 75])
            ax.vlines(j, q1, q3, color="black", lw=3)
            ax.plot(j, v.mean(), marker="D", color="white", markeredgecolor="black", ms=6)
        ax.set_xticks(range(1, len(labels) + 1), [lab.replace(" (", "\n(") for lab in labels], fontsize=8)
        ax.set_ylim(-2, nb.k + 2)
        ax.set_ylabel(f"same-label neighbours of {nb.k}")
        what = "synthesized samples (the paper's)" if pool == "synthesized" else "training images"
        ax.set_title(f"{dataset} ({arch}) — among {what}", fontsize=9)
    fig.suptitle(f"Test images' cosine {nb.k}-NN in the trained model's feature space (◆ mean) — {label}", fontsize=10)
    fig.tight_layout()
    return fig


def _shown(nb: Neighbourhoods, dataset: str, arch: str, seed: int, zeta_label: str, n: int) -> tuple[list[int], str]:
    """The test images Fig. 8a shows: the paper's selection first, then those mixup got wrong and ζ-mixup right,
    then the largest gains in same-label neighbours."""
    c = nb.counts[
        (nb.counts["dataset"] == dataset)
        & (nb.counts["arch"] == arch)
        & (nb.counts["seed"] == seed)
        & (nb.counts["pool"] == "synthesized")
    ]
    wide = c.pivot_table(index="test_index", columns="label", values=["correct", "same_label"], aggfunc="first")
    correct, same = wide["correct"].astype(bool), wide["same_label"]
    erm, mix = method_label("erm"), method_label("mixup")
    zetas = [lab for lab in correct.columns if lab.startswith(method_label("zeta_mixup"))]
    gain = (same[zeta_label] - same[mix]).sort_values(ascending=False, kind="stable")
    paper_rule = ~correct[mix] & correct[zetas].all(axis=1) & (~correct[erm] if erm in correct.columns else True)
    caption_rule = ~correct[mix] & correct[zeta_label]
    chosen: list[int] = []
    for rule in (paper_rule, caption_rule, pd.Series(True, index=gain.index)):
        chosen += [int(i) for i in gain.index if rule.get(i, False) and int(i) not in chosen][: n - len(chosen)]
    n_paper, n_caption = int(paper_rule.sum()), int(caption_rule.sum())
    rule = "misclassified by ERM and mixup, classified correctly by ζ-mixup for every γ (the paper's selection)"
    why = f"{min(n_paper, n)} of the {n_paper} test images {rule}" if n_paper else f"no test image was {rule}"
    if n_paper < n:
        why += f"; then of the {n_caption} mixup got wrong and {zeta_label} right"
        why += "; then the largest gains in same-label neighbours" if n_paper + n_caption < n else ""
    return chosen[:n], why


def _image(x: torch.Tensor) -> np.ndarray:
    x = x.detach().float().cpu()
    return x[0].numpy() if x.shape[0] == 1 else x.permute(1, 2, 0).clamp(0, 1).numpy()


@house_style()
def fig8_figure(
    nb: Neighbourhoods,
    dataset: str,
    arch: str,
    *,
    label: str,
    class_names: Sequence[str],
    n_images: int = 14,
    zeta_gamma: float = 2.8,
    perplexity: float = 30.0,
):
    """Fig. 8 drawn for one (dataset, arch), first seed: (a) test images (see :func:`_shown`) with their label and
    the same-label neighbour counts of the mixup and ζ-mixup models; (b–d) t-SNE of the synthesized training
    samples' features (circles, class colours) with the shown test images (squares, black edge, their true
    class's colour), for ERM, mixup and ζ-mixup. t-SNE (scikit-learn, fitted on training and test points
    together: scikit-learn's t-SNE cannot place new points in a fitted map as openTSNE does) loses most of the
    geometry of the 84- to 2048-dimensional features: the counts are the measurement, the maps an illustration."""
    c = nb.counts
    seed = int(c.loc[(c["dataset"] == dataset) & (c["arch"] == arch), "seed"].min())
    zetas = _ordered(c.loc[c["method"] == "zeta_mixup", "label"], _order(c))
    zeta_label = method_label("zeta_mixup", zeta_gamma)
    zeta_label = zeta_label if zeta_label in zetas else zetas[0]
    shown, why = _shown(nb, dataset, arch, seed, zeta_label, n_images)
    panels = [
        lab for lab in (method_label("erm"), method_label("mixup"), zeta_label) if (dataset, arch, lab) in nb.embeddings
    ]
    counts = c[(c["dataset"] == dataset) & (c["arch"] == arch) & (c["seed"] == seed) & (c["pool"] == "synthesized")]
    same = counts.pivot_table(index="test_index", columns="label", values="same_label", aggfunc="first")
    ncols = max(len(shown), 1)
    fig = plt.figure(figsize=(max(12.0, 1.0 * ncols), 2.0 + 4.4))
    grid = fig.add_gridspec(2, 1, height_ratios=[1.25, 4.0], hspace=0.35)
    top = grid[0].subgridspec(1, ncols, wspace=0.08)
    test_set = nb.test_sets[(dataset, arch)]
    cmap = plt.get_cmap("tab10")
    for j, i in enumerate(shown):
        ax = fig.add_subplot(top[0, j])
        x, y = (test_set.x[i], test_set.y[i]) if isinstance(test_set, DeviceData) else test_set[i]
        x = x.float() / 255.0 if isinstance(x, torch.Tensor) and x.dtype == torch.uint8 else torch.as_tensor(x)
        ax.imshow(_image(x), cmap="gray" if x.shape[0] == 1 else None)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for s in ax.spines.values():
            s.set_visible(True)
            s.set_color(cmap(int(y) % 10))
            s.set_linewidth(2)
        ax.set_title(str(class_names[int(y)])[:11], fontsize=7)
        m, z = same.loc[i, method_label("mixup")], same.loc[i, zeta_label]
        ax.set_xlabel(f"{int(m)} → {int(z)}", fontsize=8, color="black" if z > m else "grey")
    bottom = grid[1].subgridspec(1, len(panels), wspace=0.15)
    for j, lab in enumerate(panels):
        ax = fig.add_subplot(bottom[0, j])
        pool_z, pool_y = nb.embeddings[(dataset, arch, lab)]["pool"]
        test_z, test_y = nb.embeddings[(dataset, arch, lab)]["test"]
        pts = torch.cat([pool_z, test_z[shown]]).double().numpy()
        pts = pts / np.maximum(np.linalg.norm(pts, axis=1, keepdims=True), 1e-12)  # cosine geometry
        tsne = TSNE(n_components=2, perplexity=min(perplexity, (len(pts) - 1) / 3), init="pca", random_state=0)
        with threadpool_limits(1):  # its OpenMP threads slow it ten-fold on a busy machine
            xy = tsne.fit_transform(pts)
        n_pool = len(pool_z)
        ax.scatter(xy[:n_pool, 0], xy[:n_pool, 1], c=[cmap(int(v) % 10) for v in pool_y], s=7, alpha=0.45, linewidths=0)
        ax.scatter(
            xy[n_pool:, 0],
            xy[n_pool:, 1],
            c=[cmap(int(v) % 10) for v in test_y[shown]],
            s=55,
            marker="s",
            edgecolors="black",
            linewidths=1.0,
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(
            f"{lab}: {'training images' if lab == method_label('erm') else 'synthesized samples'} (○), test images (□)",
            fontsize=9,
        )
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=cmap(i % 10), label=str(n)) for i, n in enumerate(class_names)
    ]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(class_names), 10), fontsize=8, frameon=False)
    fig.suptitle(
        f"Fig. 8 — {dataset} ({arch}), seed {seed}, {label}. Top: {why}; under each image its same-label "
        f"neighbours of {nb.k}, mixup → {zeta_label}",
        fontsize=9,
        wrap=True,
    )
    return fig
