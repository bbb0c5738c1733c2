"""MultiMix and Dense MultiMix: many convex combinations of the whole batch, in embedding space.

Venkataramanan, Kijak, Amsaleg, Avrithis. *Embedding space interpolation beyond mini-batch, beyond pairs and beyond
examples.* NeurIPS 2023. Equations and sections cited below are this paper's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from zmixlib.core.checks import check_choice, check_float, check_int
from zmixlib.core.hparams import alpha_range
from zmixlib.mixing._apply import _as_rows, _label_mm, _mix_rows, _prepare
from zmixlib.mixing._sampling import _dirichlet, _gen_device, _Range, _sample_in_range
from zmixlib.mixing.pairwise import dirichlet_weights, mixup

__all__ = [
    "multimix_weights",
    "multimix_coin",
    "multimix",
    "multimix_attention",
    "dense_multimix",
    "multimix_step",
]


def multimix_weights(
    batch_size: int,
    *,
    n: int = 1000,
    alpha: _Range = (0.5, 2.0),
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """MultiMix interpolation vectors ``Λᵀ`` ``(n, B)``: row ``k`` is ``λ_k ~ Dir(α_k · 1_B)``, ``α_k ~ U[alpha]``.

    Rows are non-negative and sum to 1 (MultiMix paper §3.2 and §4.6: ``α ~ U[0.5, 2]`` per vector).
    """
    n = check_int("n", n, min=1)
    return dirichlet_weights(batch_size, alpha, num_rows=n, generator=generator, device=device, dtype=dtype)


def multimix_coin(prob: float, *, generator: torch.Generator | None = None, device: Any = None) -> bool:
    """The per-mini-batch branch of MultiMix's training protocol (MultiMix paper §4.1, after manifold mixup):
    ``True`` — MultiMix — with probability ``prob``, ``False`` — mixup — otherwise.

    One uniform draw from ``generator`` when ``prob < 1`` (read back to the host: one sync on CUDA); none when
    ``prob = 1``. :func:`multimix` draws it first; the engine (``zmixlib.engine.train``) draws it itself to apply
    the mixup branch to the *inputs*, as the paper does.
    """
    prob = check_float("prob", prob, min=0.0, max=1.0)
    if prob >= 1.0:
        return True
    return float(torch.rand((), generator=generator, device=_gen_device(generator, device))) < prob


def multimix(
    z: Tensor,
    y: Tensor,
    num_classes: int | None = None,
    *,
    n: int = 1000,
    alpha: _Range = (0.5, 2.0),
    prob: float = 1.0,
    mixup_alpha: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """MultiMix: ``n ≫ B`` convex combinations of the whole batch in embedding space (MultiMix paper, Eqs. 6–7).

    ``Z̃ = Z Λ``, ``Ỹ = Y Λ`` with ``Λ = (λ_1 … λ_n) ∈ R^{B×n}``, ``λ_k ~ Dir(α_k 1_B)`` and
    ``α_k ~ U[0.5, 2]`` per generated example (``alpha`` may also be a fixed ``α > 0``). Here in
    row-major form: ``z_mix = Λᵀ z``.

    The paper trains with MultiMix on a mini-batch with probability 0.5 and input mixup otherwise (§4.1):
    ``prob < 1`` draws that coin first (:func:`multimix_coin`); on the mixup branch this function returns
    ``mixup(z, y, alpha=mixup_alpha)`` of the tensor it was given (``B`` examples, not ``n``). Called on
    embeddings, that branch is embedding-space mixup; ``zmixlib.engine.train`` instead draws the coin itself and
    mixes the *inputs* on that branch, as the paper does.

    Args:
        z: embeddings ``(B, d)`` (any ``(B, ...)`` works), floating dtype.
        y: indices ``(B,)`` or probabilities ``(B, K)``.
        n: number of generated examples ``≥ 1`` (default 1000, the paper's).
        alpha: Dirichlet ``α`` range ``(low, high)`` or a fixed ``α > 0``.
        prob: probability in ``[0, 1]`` of MultiMix per call (default 1: always; the paper trains with 0.5).
        mixup_alpha: ``Beta(α, α)`` of the mixup branch (``prob < 1``).
        num_classes: ``K`` for index labels. generator: randomness (the coin comes first).

    Returns:
        ``z_mix`` ``(n, d)`` and ``y_mix`` ``(n, K)``: convex combinations (rows sum to 1) — ``(B, d)`` and
        ``(B, K)`` on the mixup branch.

    Used in notebook 10 (peers).
    """
    batch, ys = _prepare(z, y, num_classes)
    n = check_int("n", n, min=1)
    if not multimix_coin(prob, generator=generator, device=z.device):
        return mixup(z, ys, alpha=mixup_alpha, generator=generator)
    lam = multimix_weights(batch, n=n, alpha=alpha, generator=generator, dtype=ys.dtype).to(z.device)
    rows, unflatten = _as_rows(z)
    return unflatten(_mix_rows(lam.to(z.dtype), rows)), _label_mm(lam, ys)


def multimix_attention(z_map: Tensor, *, nonlinearity: str = "softmax") -> Tensor:
    """Attention maps of Dense MultiMix, ``a_i = h(z_iᵀ u_i)`` with ``u_i = z_i 1_r / r`` (GAP), Eq. 9.

    Args:
        z_map: embeddings ``(B, d, r)``.
        nonlinearity: ``h``: ``"softmax"`` over positions, or ``"relu"`` followed by ℓ1 normalisation.

    Returns:
        ``(B, r)`` non-negative, rows summing to 1 (a ReLU row of zeros falls back to uniform).
    """
    check_choice("nonlinearity", nonlinearity, ("softmax", "relu"))
    if not isinstance(z_map, Tensor) or z_map.ndim != 3:
        shape = tuple(z_map.shape) if isinstance(z_map, Tensor) else type(z_map).__name__
        raise ValueError(f"z_map must have shape (B, d, r), got {shape}")
    u = z_map.mean(dim=2, keepdim=True)  # (B, d, 1)
    s = (z_map * u).sum(dim=1)  # (B, r)
    if nonlinearity == "softmax":
        return torch.softmax(s, dim=1)
    a = F.relu(s)
    tot = a.sum(dim=1, keepdim=True)
    return torch.where(tot > 0, a / tot.clamp_min(torch.finfo(a.dtype).tiny), torch.full_like(a, 1.0 / a.shape[1]))


def dense_multimix(
    z_map: Tensor,
    y: Tensor,
    attention: Tensor | None = None,
    *,
    n: int = 1000,
    alpha: _Range = (0.5, 2.0),
    num_classes: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Dense MultiMix: attention-weighted interpolation at every spatial position (MultiMix paper, Eqs. 10–14).

    For each position ``j = 1..r`` and generated example ``k = 1..n``: ``λ_k^j ~ Dir(α 1_B)`` (``α``
    drawn per interpolation vector from ``alpha``), then

    * ``M^j = diag(a^j) Λ^j`` (10) — rows scaled by the attention ``a^j = (a_1^j … a_B^j)``,
    * ``M̂^j = M^j diag(1_Bᵀ M^j)^{-1}`` (11) — columns ℓ1-renormalised to convex combinations,
    * ``Z̃^j = Z^j M̂^j`` (12), ``Ỹ^j = Y M̂^j`` (13) — each position inherits its example's label,
    * loss weights ``s^j = 1_Bᵀ M^j`` (14): positions mixed from low-attention examples count less.

    The loss (14) is ``Σ_k s_kj CE(ỹ_kj, p_kj) / Σ_k s_kj`` at each position, averaged over
    positions: ``zmixlib.engine.metrics.soft_cross_entropy(logits (n, r, K), y_mix, weight=s)`` computes exactly that.

    Args:
        z_map: embeddings ``(B, d, r)`` (flatten spatial dims first: ``z.flatten(2)``).
        y: indices ``(B,)`` or probabilities ``(B, K)``.
        attention: ``(B, r)`` non-negative (e.g. ``multimix_attention(z_map)``); ``None`` = uniform.
        n: generated examples per position. alpha: Dirichlet ``α`` range or fixed value.
        num_classes: ``K`` for index labels. generator: randomness.

    Returns:
        ``z_mix`` ``(n, d, r)``, ``y_mix`` ``(n, r, K)`` (rows sum to 1) and weights ``s`` ``(n, r)``.

    Used in notebook 10 (peers).
    """
    if isinstance(z_map, Tensor) and z_map.ndim != 3:
        raise ValueError(
            f"z_map must have shape (B, d, r) (flatten spatial dims: z.flatten(2)), got {tuple(z_map.shape)}"
        )
    batch, ys = _prepare(z_map, y, num_classes)
    r = z_map.shape[2]
    n = check_int("n", n, min=1)
    lo, hi = alpha_range(alpha)
    if attention is None:
        attention = torch.full((batch, r), 1.0 / r, dtype=ys.dtype, device=z_map.device)
    elif not isinstance(attention, Tensor) or tuple(attention.shape) != (batch, r):
        shape = tuple(attention.shape) if isinstance(attention, Tensor) else type(attention).__name__
        raise ValueError(f"attention must have shape (B, r) = ({batch}, {r}), got {shape}")
    gdev = _gen_device(generator, z_map.device)
    a_k = _sample_in_range(lo, hi, (n * r,), generator, gdev, torch.float64)
    lam = _dirichlet(a_k, batch, generator).reshape(n, r, batch).to(device=z_map.device, dtype=ys.dtype)
    m = lam * attention.to(ys.dtype).t().unsqueeze(0)  # (n, r, B): M^j_{ik} = a_i^j λ_{ik}^j  (10)
    s = m.sum(dim=2)  # (n, r)  (14)
    # (11); where the attention of every mixed example is 0 at a position (a softmax over wide-spread scores,
    # e.g. ResNet-18's 512 channels, underflows), M^j has a zero column: that position keeps the plain
    # interpolation λ (still a convex combination) and its loss weight s stays 0 (soft_cross_entropy leaves it out)
    tiny = torch.finfo(s.dtype).tiny  # below the smallest normal number, s counts as 0 (1/s would overflow)
    m_hat = torch.where((s >= tiny).unsqueeze(2), m / s.clamp_min(tiny).unsqueeze(2), lam)
    z_mix = torch.bmm(m_hat.transpose(0, 1).to(z_map.dtype), z_map.permute(2, 0, 1))  # (r, n, d)  (12)
    z_mix = z_mix.permute(1, 2, 0).contiguous()  # (n, d, r)
    with torch.autocast(ys.device.type, enabled=False):  # labels in their own dtype (float32) under autocast
        y_mix = torch.matmul(m_hat, ys)  # (n, r, K)  (13)
    return z_mix, y_mix, s


def multimix_step(
    x: Tensor,
    y: Tensor,
    *,
    model: torch.nn.Module,
    hparams: dict[str, Any],
    dense: bool,
    generator: torch.Generator | None = None,
    forward: Callable[[Tensor], Tensor] | None = None,
    features: Callable[[Tensor], Tensor] | None = None,
    head: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One training step's mixing under MultiMix's protocol (§4.1): with probability ``hparams["prob"]``, MultiMix
    of the batch's embeddings (``model.forward_features`` → :func:`multimix` → ``model.forward_head``) — Dense
    MultiMix (``dense``) at every position of the embedding before pooling, weighted by the attention of Eq. 9
    (computed without gradient) and with the loss weights of Eq. 14 — otherwise mixup of the *inputs*
    (``Beta(mixup_alpha, mixup_alpha)``).

    Args:
        x: the input batch; y: its soft labels ``(B, K)``.
        model: has ``forward_features(x, spatial=False)`` and ``forward_head(z, dense=False)``
            (the models of ``zmixlib.engine.models``).
        hparams: the ``multimix`` mixer's (``n``, ``alpha``, ``prob``, ``mixup_alpha``).
        forward: the model's full pass as the caller runs it (e.g. compiled); default ``model``.
        features: its ``forward_features`` as the caller runs it; default the model's.
        head: its ``forward_head`` as the caller runs it; default the model's.

    Returns:
        ``(logits, target, weight)``: ``(N, K)`` logits and targets — ``(N, r, K)`` for Dense MultiMix, with its
        ``(N, r)`` loss weights (``None`` otherwise).
    """
    forward = forward or model
    features = features or model.forward_features
    head = head or model.forward_head
    if not multimix_coin(hparams["prob"], generator=generator, device=x.device):
        x_mix, target = mixup(x, y, alpha=hparams["mixup_alpha"], generator=generator)
        return forward(x_mix), target, None
    if dense:
        z_map = model.forward_features(x, spatial=True)  # (B, d, r)
        attention = multimix_attention(z_map.detach().float())  # (B, r)
        z_mix, target, weight = dense_multimix(
            z_map, y, attention, n=hparams["n"], alpha=hparams["alpha"], generator=generator
        )  # (n, d, r), (n, r, K), (n, r)
        return model.forward_head(z_mix, dense=True), target, weight
    z_mix, target = multimix(features(x), y, generator=generator, **{**hparams, "prob": 1.0})
    return head(z_mix), target, None
