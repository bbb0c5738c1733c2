"""k-mixup: mixup between optimally matched k-subsets, and Algorithm 1's choice of ``α`` for a fixed ``ξ``.

Greenewald, Gu, Yurochkin, Solomon, Chien. *k-Mixup regularization for deep learning via optimal transport.*
TMLR 2023. Code: github.com/AnmingGu/kmixup-cifar10.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.core.hparams import alpha_range
from zmixlib.core.util import to_numpy
from zmixlib.mixing._apply import _check_x, _pairwise_mix, _prepare
from zmixlib.mixing._sampling import _beta_symmetric, _gen_device

__all__ = ["optimal_matching", "KMixupSample", "sample_kmixup", "kmixup", "AlphaForXi", "kmixup_alpha_for_xi"]


def _cost(a: Tensor, b: Tensor, metric: str) -> Tensor:
    """Batched cost ``(..., k, k)`` between rows of ``a`` and ``b`` ``(..., k, D)``, float64, exact."""
    a, b = a.to(torch.float64), b.to(torch.float64)
    d = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")
    return d if metric == "euclidean" else d.square()


def optimal_matching(a: Tensor, b: Tensor, *, metric: str = "euclidean") -> Tensor:
    """Exact optimal assignment ``σ`` between two equal-size sets (Hungarian; scipy).

    Minimises ``Σ_i c(a_i, b_σ(i))`` with ``c`` the Euclidean (``metric="euclidean"``, as in the
    k-mixup code's ``scipy.spatial.distance_matrix``) or squared Euclidean distance
    (``"sqeuclidean"``, the ``W₂²`` of the k-mixup paper's text).

    Args:
        a, b: one problem ``(k, D)`` (1-D or 2-D), or a batch of ``n`` problems ``(n, k, ...)``
            (3-D or more; dims after the second are flattened into the feature dim).
        metric: ``"euclidean"`` or ``"sqeuclidean"``.

    Returns:
        ``σ`` ``(k,)`` or ``(n, k)`` int64 on ``a``'s device: ``a[i]`` is matched to ``b[σ[i]]``.
    """
    from scipy.optimize import linear_sum_assignment

    check_choice("metric", metric, ("euclidean", "sqeuclidean"))
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    single = a.ndim <= 2
    if single:
        a, b = a.reshape(1, a.shape[0], -1), b.reshape(1, b.shape[0], -1)
    else:
        a, b = a.reshape(a.shape[0], a.shape[1], -1), b.reshape(b.shape[0], b.shape[1], -1)
    cost = to_numpy(_cost(a, b, metric))
    sigma = torch.empty(cost.shape[:2], dtype=torch.long)
    for n, c in enumerate(cost):
        rows, cols = linear_sum_assignment(c)
        sigma[n, torch.as_tensor(rows)] = torch.as_tensor(cols)
    sigma = sigma.to(a.device)
    return sigma[0] if single else sigma


class KMixupSample(NamedTuple):
    """k-mixup randomness: random partner ``perm``, OT-matched ``partner`` ``(B,)``, ``lam`` ``(B,)`` float64."""

    perm: Tensor
    partner: Tensor
    lam: Tensor


def _subset_sizes(batch: int, k: int) -> list[int]:
    """Sizes of the consecutive k-subsets of a batch: ``⌊B/k⌋`` times ``k``, then the remainder ``B mod k`` if any."""
    return [k] * (batch // k) + ([batch % k] if batch % k else [])


def sample_kmixup(
    x: Tensor,
    *,
    k: int = 16,
    alpha: float = 1.0,
    lam_mode: str = "batch",
    metric: str = "euclidean",
    generator: torch.Generator | None = None,
) -> KMixupSample:
    """Draw k-mixup's randomness for a batch ``x`` ``(B, ...)``.

    The batch (already shuffled by the loader) is split into consecutive subsets of size ``k``; a
    random permutation ``π`` of the batch, split the same way, supplies the random partner subsets
    (the k-mixup code draws the two from two shuffled loaders — equivalent). Within each subset pair
    the partner is re-ordered by the exact optimal matching on the flattened inputs.

    **A batch size not divisible by k** (the last, short batch of an epoch) is handled as the authors'
    code does (github.com/AnmingGu/kmixup-cifar10, ``mixup_data``: ``⌈B/k⌉`` diagonal blocks of the
    cost matrix): the ``r = B mod k`` trailing samples form one smaller subset, matched optimally with
    the last ``r`` entries of ``π``. A batch smaller than ``k`` is one subset of size ``B``. Every
    sample is mixed; ``r = 1`` pairs the last sample with ``π``'s last entry (plain mixup).

    ``λ ~ Beta(α, α)``: one per batch (``lam_mode="batch"``, default — the paper's pseudocode and
    the authors' code draw ``np.random.beta(α, α)`` once per batch) or one per subset pair
    (``"subset"``, the remainder subset included: ``⌈B/k⌉`` draws). Draw order: ``π``, then ``λ``.
    With ``k = 1`` and ``lam_mode="batch"`` this is exactly ``sample_mixup``.

    Args:
        x: the batch ``(B, ...)``, ``B ≥ 2``, floating dtype (read only, never modified).
        k: subset size ``≥ 1`` (any ``k``: ``B`` need not be divisible by it).
        alpha: ``α > 0``. lam_mode: ``"batch"`` or ``"subset"``.
        metric: matching cost, ``"euclidean"`` or ``"sqeuclidean"`` (see ``optimal_matching``).
        generator: randomness.

    Returns:
        ``KMixupSample(perm, partner, lam)``: output ``i`` mixes ``x[i]`` with ``x[partner[i]]`` by
        ``lam[i]``; ``partner`` is a permutation of the batch that maps each subset onto the
        matching subset of ``perm``; ``lam`` ``(B,)`` float64 (one value throughout for ``"batch"``).
    """
    batch = _check_x(x)
    k = check_int("k", k, min=1)
    a, _ = alpha_range(alpha)
    check_choice("lam_mode", lam_mode, ("batch", "subset"))
    check_choice("metric", metric, ("euclidean", "sqeuclidean"))
    gdev = _gen_device(generator, x.device)
    perm = torch.randperm(batch, generator=generator, device=gdev).to(x.device)
    sizes = _subset_sizes(batch, k)
    if lam_mode == "subset":
        lam = _beta_symmetric(a, (len(sizes),), generator, gdev)
        lam = lam.repeat_interleave(torch.tensor(sizes, device=gdev), output_size=batch)
    else:
        lam = _beta_symmetric(a, (), generator, gdev).expand(batch)
    partner = perm
    if k > 1:
        with torch.no_grad():
            flat = x.detach().reshape(batch, -1)
            n_full, full = batch // k, (batch // k) * k
            parts = []
            if n_full:  # the full k-subsets, as one batch of assignment problems
                sigma = optimal_matching(
                    flat[:full].reshape(n_full, k, -1), flat[perm[:full]].reshape(n_full, k, -1), metric=metric
                )
                parts.append(perm[:full].reshape(n_full, k).gather(1, sigma).reshape(full))
            if full < batch:  # the remainder subset, matched the same way
                rest = perm[full:]
                parts.append(rest[optimal_matching(flat[full:], flat[rest], metric=metric)])
            partner = torch.cat(parts)
    return KMixupSample(perm, partner, lam.to(x.device))


def kmixup(
    x: Tensor,
    y: Tensor,
    num_classes: int | None = None,
    *,
    k: int = 16,
    alpha: float = 1.0,
    lam_mode: str = "batch",
    metric: str = "euclidean",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """k-mixup: displacement interpolation between optimally matched k-subsets (Greenewald et al. 2023, §2).

    ``x̂_i = λ x_i + (1 − λ) x_σ(i)`` where ``σ`` is the optimal assignment (Hungarian,
    ``scipy.optimize.linear_sum_assignment`` on the Euclidean distances of the flattened inputs)
    between the subset containing ``i`` and a random partner subset; labels likewise. ``k = 1`` is
    mixup. See ``sample_kmixup`` for the sampling (including a batch size not divisible by ``k``: the
    remainder is matched as one smaller subset, as in the authors' code) and
    ``kmixup_alpha_for_xi`` for choosing ``α``.

    Args:
        x: inputs ``(B, ...)``, any ``B ≥ 2``.
        y: indices ``(B,)`` or probabilities ``(B, K)``.
        k: subset size ``≥ 1`` (default 16, the paper's heuristic).
        alpha: ``α > 0`` of ``Beta(α, α)``.
        lam_mode: ``"batch"`` (one ``λ`` per batch, default: the paper's pseudocode and the authors'
            code) or ``"subset"`` (one ``λ`` per subset pair).
        metric: matching cost, ``"euclidean"`` (default, as the authors' code) or ``"sqeuclidean"``.
        num_classes: ``K`` for index labels. generator: randomness.

    Returns:
        ``x_mix`` like ``x`` and ``y_mix`` ``(B, K)`` with rows summing to 1.

    Used in notebook 10 (peers).
    """
    _, ys = _prepare(x, y, num_classes)
    s = sample_kmixup(x, k=k, alpha=alpha, lam_mode=lam_mode, metric=metric, generator=generator)
    lam = s.lam if lam_mode == "subset" else s.lam[0]
    return _pairwise_mix(x, ys, lam, s.partner)


class AlphaForXi(NamedTuple):
    """Result of ``kmixup_alpha_for_xi`` (Greenewald et al. 2023, Algorithm 1)."""

    alpha: float  # α_k, the output of Algorithm 1
    xi: float  # target root-mean-squared perturbation √(ξ̄₁ λ̄₁) (the ξ of the paper's tables)
    xi_k: float  # achieved √(ξ̄_k λ̄_k) at α_k
    msd_1: float  # ξ̄₁: mean squared distance between two random points
    msd_k: float  # ξ̄_k: mean squared W₂ distance between two random k-samples
    lam_1: float  # λ̄₁ = E min(λ², (1−λ)²), λ ~ Beta(α₁, α₁)
    lam_k: float  # λ̄_k at α_k


def kmixup_alpha_for_xi(
    data: Tensor,
    *,
    k: int,
    alpha: float = 1.0,
    xi: float | None = None,
    num_trials: int = 1000,
    c: float = 1.05,
    alpha_max: float = 1000.0,
    generator: torch.Generator | None = None,
) -> AlphaForXi:
    """Choose ``α_k`` so k-mixup keeps 1-mixup's root-mean-squared perturbation ``ξ`` (Greenewald et al., Alg. 1).

    Algorithm 1 (``N = num_trials``, ``c > 1``, threshold ``γ = alpha_max``):

    1. ``ξ̄₁`` ← mean over ``N`` trials of ``‖x_i − x_j‖²`` for two random points of ``data``;
    2. ``ξ̄_k`` ← mean over ``⌈N/k⌉`` trials of ``W₂²`` between two random ``k``-samples (each drawn
       without replacement; exact assignment on squared Euclidean costs, ``W₂² = (1/k) Σ ‖·‖²``);
    3. ``λ̄₁`` ← mean over ``N`` draws of ``min(λ², (1−λ)²)``, ``λ ~ Beta(α₁, α₁)``;
    4. ``ξ² ← ξ̄₁ λ̄₁`` (or ``xi²`` when ``xi`` is given: a target RMS perturbation directly);
    5. ``α_k ← α₁``, ``λ̄_k ← λ̄₁``;
    6. while ``λ̄_k ξ̄_k < ξ²`` and ``α_k < γ``: ``α_k ← c α_k`` and re-estimate ``λ̄_k`` (``N`` draws).

    The product ``λ̄ ξ̄`` is the mean squared distance of a mixed point from its nearest endpoint.
    Since ``λ̄ ≤ 1/4``, a large ``ξ`` may be unreachable for large ``k``: the loop then stops at
    ``alpha_max``.

    Args:
        data: the dataset of interest ``(N_data, ...)`` (flattened per sample), ``N_data ≥ k``.
        k: subset size ``≥ 1``.
        alpha: ``α₁`` used by 1-mixup (``> 0``).
        xi: optional target RMS perturbation ``> 0`` replacing steps 1, 3, 4.
        num_trials: ``N ≥ 1``. c: growth factor ``> 1``. alpha_max: threshold ``γ > 0``.
        generator: randomness.

    Returns:
        ``AlphaForXi(alpha, xi, xi_k, msd_1, msd_k, lam_1, lam_k)`` — ``alpha`` is ``α_k``.

    Used in notebook 10 (k-mixup sweeps over ``k`` at fixed ``ξ``).
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"data must be a torch.Tensor, got {type(data).__name__}")
    n_data = data.shape[0] if data.ndim else 0
    k = check_int("k", k, min=1)
    if n_data < max(k, 2):
        raise ValueError(f"data must hold at least max(k, 2) = {max(k, 2)} samples, got {n_data}")
    a1 = check_float("alpha", alpha, min=0.0, min_open=True)
    num_trials = check_int("num_trials", num_trials, min=1)
    c = check_float("c", c, min=1.0, min_open=True)
    alpha_max = check_float("alpha_max", alpha_max, min=0.0, min_open=True)
    if xi is not None:
        xi = check_float("xi", xi, min=0.0, min_open=True)
    gdev = _gen_device(generator, data.device)
    flat = data.detach().reshape(n_data, -1).to(torch.float64)

    def lam_bar(a: float) -> float:
        lam = _beta_symmetric(a, (num_trials,), generator, gdev)
        return float(torch.minimum(lam.square(), (1 - lam).square()).mean())

    i = torch.randint(n_data, (num_trials,), generator=generator, device=gdev).to(flat.device)
    j = torch.randint(n_data, (num_trials,), generator=generator, device=gdev).to(flat.device)
    msd_1 = float((flat[i] - flat[j]).square().sum(1).mean())
    n_k = max(1, math.ceil(num_trials / k))
    if k == 1:  # a 1-sample is a random point; the matching is trivial
        idx = torch.randint(n_data, (2 * n_k, 1), generator=generator, device=gdev)
    else:  # k distinct points per sample
        idx = torch.stack([torch.randperm(n_data, generator=generator, device=gdev)[:k] for _ in range(2 * n_k)])
    sets = flat[idx.to(flat.device)].reshape(2, n_k, k, -1)
    if k > 1:
        sigma = optimal_matching(sets[0], sets[1], metric="sqeuclidean")
        sets[1] = sets[1].gather(1, sigma.unsqueeze(-1).expand_as(sets[1]))
    msd_k = float((sets[0] - sets[1]).square().sum(-1).mean())
    lam_1 = lam_bar(a1)
    target = xi * xi if xi is not None else msd_1 * lam_1
    alpha_k, lam_k = a1, lam_1
    while lam_k * msd_k < target and alpha_k < alpha_max:
        alpha_k *= c
        lam_k = lam_bar(alpha_k)
    return AlphaForXi(alpha_k, math.sqrt(target), math.sqrt(lam_k * msd_k), msd_1, msd_k, lam_1, lam_k)
