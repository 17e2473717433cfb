"""Training losses, each a small function of tensors ``(B, 1, *spatial)``."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..losses import soft_cldice_loss

__all__ = ["band_bce", "thinness_loss", "soft_cldice", "skeleton_bce", "distance_loss"]


def band_bce(logits, band, target_delete, keep_weight: float = 4.0):
    """BCE of the deletion logits against the teacher, on band pixels only.

    Keeping a skeleton pixel (target 0) weighs ``keep_weight`` times more:
    a missed skeleton pixel breaks connectivity, an extra one only thickens.
    """
    w = band * (1 + (keep_weight - 1) * (1 - target_delete))
    loss = F.binary_cross_entropy_with_logits(logits, target_delete, weight=w, reduction="sum")
    return loss / band.sum().clamp_min(1)


def skeleton_bce(s, target, mask, keep_weight: float = 4.0):
    """BCE of the final soft skeleton ``s`` against the teacher skeleton, inside the mask."""
    w = mask * (1 + (keep_weight - 1) * target)
    loss = F.binary_cross_entropy(s.clamp(1e-6, 1 - 1e-6), target, weight=w, reduction="sum")
    return loss / mask.sum().clamp_min(1)


def thinness_loss(s):
    """Mean over all 2x2 (2x2x2) windows of the product of the soft values.

    Zero exactly when no window is fully on.
    """
    nd = s.ndim - 2
    prod = s
    for a in range(nd):
        sl0 = [slice(None)] * s.ndim
        sl1 = [slice(None)] * s.ndim
        sl0[2 + a] = slice(0, -1)
        sl1[2 + a] = slice(1, None)
        prod = prod[tuple(sl0)] * prod[tuple(sl1)]
    return prod.mean()


def soft_cldice(pred_skel, pred_mask, true_skel, true_mask, eps: float = 1e-6):
    """``1 - clDice`` from soft skeletons and masks (see :func:`napari_skelite.losses.soft_cldice_loss`)."""
    return soft_cldice_loss(pred_mask, true_mask, pred_skel, true_skel, eps)


def distance_loss(s, teacher_distance, mask):
    """Skeleton mass weighted by the distance to the teacher skeleton (``pdt``)."""
    return (s * teacher_distance * mask).sum() / mask.sum().clamp_min(1)
