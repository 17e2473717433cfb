"""Training objectives, each a small function of tensors ``(B, 1, *spatial)``."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..losses import soft_cldice_loss
from ..networks.guard import guarded
from ..ops import cross_erode
from ..topology import simple_points

__all__ = [
    "band_bce",
    "critical_points",
    "distance_loss",
    "guard_loss",
    "hole_points",
    "isolated_points",
    "refused_deletions",
    "skeleton_bce",
    "soft_cldice",
    "stray_loss",
    "stray_points",
    "thinness_loss",
]


def class_weights(region, positive, positive_weight: float, balance: bool):
    """Per-pixel weights inside ``region``; ``positive`` marks the rarer, costlier class.

    ``balance=False``: positives weigh ``positive_weight``, others 1, normalised
    by the region size. ``balance=True``: each class is averaged on its own and
    the positive mean weighs ``positive_weight`` (skeleton points are 1-3 % of
    a 3D band, so an unbalanced loss learns to delete them).
    """
    pos = region * positive
    neg = region - pos
    if not balance:
        return (neg + positive_weight * pos) / region.sum().clamp_min(1)
    return neg / neg.sum().clamp_min(1) + positive_weight * pos / pos.sum().clamp_min(1)


def critical_points(state, band, target_delete):
    """Band points the teacher keeps whose deletion alone would change the topology.

    Parameters
    ----------
    state : (B, 1, *spatial) float tensor, binary
        The teacher-forced state before the step.
    band, target_delete : (B, 1, *spatial) float tensors, binary

    Returns
    -------
    (B, 1, *spatial) float tensor, 1 at kept band points that are not simple in
    the teacher's next state ``state - band * target_delete`` (deleting one of
    them would split a curve, cut a loop or punch a hole).
    """
    kept = band * (1 - target_delete)
    nxt = (state - band * target_delete) > 0.5
    with torch.no_grad():
        simple = simple_points(nxt, state.ndim - 2)
    return kept * (~simple).to(kept.dtype)


def hole_points(state, band, target_delete):
    """Band points the teacher keeps whose face neighbours all stay: deleting one punches a hole.

    A one-point hole (2D) or cavity (3D) is the topology error a student makes
    most often, and these points are rare (about 0.3% of kept band points in
    2D), so they get their own weight.

    Parameters and return as :func:`critical_points`.
    """
    kept = band * (1 - target_delete)
    nxt = ((state - band * target_delete) > 0.5).to(state.dtype)
    return kept * (cross_erode(nxt, 0.0) > 0.5).to(kept.dtype)


def _neighbour_count(x):
    """Number of foreground 8 (2D) / 26 (3D) neighbours of every point of the binary float tensor ``x``."""
    nd = x.ndim - 2
    pool = F.avg_pool2d if nd == 2 else F.avg_pool3d
    return pool(x, 3, 1, 1, count_include_pad=True) * 3**nd - x


def stray_points(state, band, target_delete):
    """Band points the teacher deletes that would be left isolated if kept.

    No point of the teacher's next state touches them, so keeping one by
    mistake adds a one-point component (the commonest Betti-0 error of a
    student). Parameters and return as :func:`critical_points`.
    """
    dele = band * target_delete
    nxt = ((state - dele) > 0.5).to(state.dtype)
    return dele * (_neighbour_count(nxt) < 0.5).to(dele.dtype)


def isolated_points(s):
    """Points of ``s > 0.5`` with no foreground neighbour: ``(B, 1, *spatial)`` float 0/1."""
    on = (s.detach() > 0.5).to(s.dtype)
    return on * (_neighbour_count(on) < 0.5).to(s.dtype)


def stray_loss(s, teacher, mask):
    """BCE towards deleting isolated points of the final skeleton ``s`` that the teacher does not have."""
    stray = isolated_points(s) * (1 - teacher)
    gone = (1 - s).clamp(1e-6, 1 - 1e-6)
    return -(stray * torch.log(gone)).sum() / mask.sum().clamp_min(1)


def refused_deletions(s_before, s_after):
    """Deletions of one unrolled step that the topology guard would refuse.

    Parameters
    ----------
    s_before, s_after : (B, 1, *spatial) float tensors
        The student's state before and after one iteration (soft; > 0.5 is on).

    Returns
    -------
    (B, 1, *spatial) float tensor, 1 where the student deletes a point that
    the guard (:func:`napari_skelite.methods.skelite.guarded`: simple, not an
    end point, subfield by subfield) would have kept. This is the Boolean
    teacher judging the student's own state, not the state the teacher reached.
    Isolated points are left out: deleting a stray point left by an earlier
    mistake repairs a Betti-0 error rather than making one.
    """
    with torch.no_grad():
        before, after = s_before.detach(), s_after.detach()
        proposed = (before > 0.5) & (after <= 0.5) & (isolated_points(before) < 0.5)
        kept_by_guard = guarded(before, after) > 0.5
        return (proposed & kept_by_guard).to(s_after.dtype)


def guard_loss(s_after, refused, region):
    """BCE towards keeping the ``refused`` deletions, normalised by the ``region`` size."""
    kept = s_after.clamp(1e-6, 1 - 1e-6)
    return -(refused * torch.log(kept)).sum() / region.sum().clamp_min(1)


def band_bce(logits, band, target_delete, keep_weight: float = 4.0, balance: bool = False, extra=None):
    """BCE of the deletion logits against the teacher, on band pixels only.

    Keeping a skeleton pixel (target 0) weighs ``keep_weight`` times more:
    a missed skeleton pixel breaks connectivity, an extra one only thickens.
    With ``balance`` the kept and deleted classes are averaged separately.
    ``extra`` (a tensor like ``band``, e.g. a weight times :func:`critical_points`)
    multiplies each point's class weight by ``1 + extra``.
    """
    w = class_weights(band, 1 - target_delete, keep_weight, balance)
    if extra is not None:
        w = w * (1 + extra)
    return F.binary_cross_entropy_with_logits(logits, target_delete, weight=w, reduction="sum")


def skeleton_bce(s, target, mask, keep_weight: float = 4.0, balance: bool = False):
    """BCE of the final soft skeleton ``s`` against the teacher skeleton, inside the mask."""
    w = class_weights(mask, target, keep_weight, balance)
    return F.binary_cross_entropy(s.clamp(1e-6, 1 - 1e-6), target, weight=w, reduction="sum")


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
