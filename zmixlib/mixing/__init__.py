"""Mixing methods: ζ-mixup and every method it is compared with.

Each method is a pure function over a batch of any shape ``(B, ...)`` — images, feature vectors,
tabular rows, hidden activations — that returns **new** tensors ``(x_mix, y_mix)``:

* labels in may be class indices ``(B,)`` (then ``num_classes`` is required) or probabilities
  ``(B, K)``; labels out are always float soft labels ``(B', K)`` whose rows sum to 1 (float32, or
  float64 when the inputs are float64);
* randomness comes only from the keyword ``generator: torch.Generator | None`` (``None``: the
  global generator of the input's device); draws happen on the generator's device;
* sampling is separate from applying: ``zeta_weights`` / ``dirichlet_weights`` /
  ``multimix_weights`` / ``sample_mixup`` / ``sample_cutmix`` / ``sample_kmixup`` draw the
  randomness, ``apply_weights`` (and the functions themselves) apply it;
* device, dtype and memory format (e.g. ``channels_last``) follow the input; inputs are never
  modified; everything is differentiable, so the same functions mix hidden tensors;
* ``num_classes`` may be given by position (``zeta_mixup(x, y, 10)``, the official code's call); labels stay
  float32 inside ``torch.autocast``; ``zeta_mixup``, ``mixup`` and ``cutmix`` compile with
  ``torch.compile(fullgraph=True)`` (index labels are range-checked only where that is free: see ``soft_labels``).

Every name is importable from here (``from zmixlib.mixing import zeta_mixup``); each lives in one submodule:

* ``zeta`` — ζ-mixup: Abhishek, Brown, Hamarneh. *Multi-sample ζ-mixup: richer, more realistic synthetic
  samples from a p-series interpolant.* J Big Data 11:43 (2024); *ζ-mixup: richer, more realistic mixing of
  multiple images*, MIDL 2023. Code: github.com/kakumarabhishek/zeta-mixup.
* ``pairwise`` — mixup (Zhang et al., ICLR 2018; manifold mixup, Verma et al., ICML 2019, is ``mixup`` on a
  hidden tensor), CutMix (Yun et al., ICCV 2019), CutMix + ζ-mixup, and Dirichlet mixup (ζ-mixup's ablation).
* ``transport`` — k-mixup, optimal matching and the ``α`` for a fixed ``ξ``: Greenewald et al. *k-Mixup
  regularization for deep learning via optimal transport.* TMLR 2023.
* ``embedding`` — MultiMix and Dense MultiMix: Venkataramanan et al. *Embedding space interpolation beyond
  mini-batch, beyond pairs and beyond examples.* NeurIPS 2023.
* ``lsi`` — local synthetic instances: Brown et al. *Prediction of motor function in very preterm infants
  using connectome features and local synthetic instances.* MICCAI 2015. Code: github.com/colinjosephbrown/LSI.
* ``mixer`` — ``erm``, the registry ``MIXERS`` and ``Mixer`` (hyperparameters checked when built).
* ``dropin`` — ``ZetaMix``, an ``nn.Module`` beside torchvision's ``v2.MixUp`` / ``v2.CutMix`` and timm's ``Mixup``:
  the ``(x, y)`` / ``((x, y))`` protocol, apply and switch probabilities, label smoothing, uint8 collate.
* ``_apply`` (``soft_labels``, ``apply_weights``, the row matmul) and ``_sampling`` (Gamma, Beta and Dirichlet
  samplers that take a generator) — what the methods share.

The training loss over the soft labels these return is :func:`zmixlib.engine.metrics.soft_cross_entropy`.
"""

from __future__ import annotations

# γ_min of Theorem 1 (defined once, in zmixlib.core.theory), the root of ζ(γ) = 2: for every γ ≥ γ_min the diagonal
# ζ-weight exceeds the rest of its row, for any T
from zmixlib.core.theory import GAMMA_MIN
from zmixlib.mixing._apply import apply_weights, soft_labels
from zmixlib.mixing.dropin import ZetaMix
from zmixlib.mixing.embedding import (
    dense_multimix,
    multimix,
    multimix_attention,
    multimix_coin,
    multimix_step,
    multimix_weights,
)
from zmixlib.mixing.lsi import local_synthetic_instances
from zmixlib.mixing.mixer import MIXERS, Mixer, check_hparams, erm
from zmixlib.mixing.pairwise import (
    CutMixSample,
    cutmix,
    cutmix_zeta,
    dirichlet_mixup,
    dirichlet_weights,
    mixup,
    pair_weights,
    sample_cutmix,
    sample_mixup,
)
from zmixlib.mixing.transport import (
    AlphaForXi,
    KMixupSample,
    kmixup,
    kmixup_alpha_for_xi,
    optimal_matching,
    sample_kmixup,
)
from zmixlib.mixing.zeta import zeta_mixup, zeta_weights

__all__ = [
    "GAMMA_MIN",
    "soft_labels",
    "check_hparams",
    "apply_weights",
    "zeta_weights",
    "zeta_mixup",
    "sample_mixup",
    "pair_weights",
    "mixup",
    "dirichlet_weights",
    "dirichlet_mixup",
    "sample_cutmix",
    "cutmix",
    "cutmix_zeta",
    "local_synthetic_instances",
    "optimal_matching",
    "sample_kmixup",
    "kmixup",
    "kmixup_alpha_for_xi",
    "multimix_weights",
    "multimix_coin",
    "multimix_step",
    "multimix",
    "multimix_attention",
    "dense_multimix",
    "erm",
    "MIXERS",
    "Mixer",
    "ZetaMix",
    "CutMixSample",
    "KMixupSample",
    "AlphaForXi",
]
