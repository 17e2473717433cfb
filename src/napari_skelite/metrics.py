"""Topology, thinness and agreement metrics of skeletons (numpy/scipy/scikit-image)."""
from __future__ import annotations

import itertools

import numpy as np
from scipy import ndimage

from ._validate import compact_ids

__all__ = [
    "betti_errors",
    "betti_numbers",
    "betti_per_label",
    "cldice",
    "coverage",
    "label_betti",
    "measure",
    "thinness",
]


def _full(ndim):
    return np.ones((3,) * ndim, bool)


def betti_numbers(mask) -> tuple[int, ...]:
    """Betti numbers of the foreground (8/26-connected; background 4/6).

    Returns
    -------
    (b0, b1) in 2D, (b0, b1, b2) in 3D.
    """
    m = np.pad(np.asarray(mask) > 0, 1)
    b0 = ndimage.label(m, _full(m.ndim))[1]
    nbg = ndimage.label(~m)[1]  # cross structure: 4/6-connected background
    if m.ndim == 2:
        return b0, nbg - 1
    from skimage.measure import euler_number

    b2 = nbg - 1
    chi = euler_number(m, connectivity=3)
    return b0, b0 + b2 - chi, b2


def label_boxes(a: np.ndarray) -> dict:
    """``{label id: bounding box}`` of a non-negative label image (one pass, not one per id)."""
    if a.size == 0 or not a.any():
        return {}
    top = a.max()
    if top <= max(1 << 20, a.size):  # find_objects keeps one entry per id up to the largest
        objs = ndimage.find_objects(a.astype(np.intp, copy=False))
        return {i + 1: box for i, box in enumerate(objs) if box is not None}
    ids, compact = compact_ids(a)  # huge ids: number them 1..K first
    return {ids[k].item(): box for k, box in enumerate(ndimage.find_objects(compact)) if box is not None}


def _per_label(mask, skeleton=None):
    """Yield ``(mask_i, skeleton_i)`` boolean crops, one per label id of ``mask``.

    Each crop is the id's bounding box (in the mask and the skeleton): outside
    it the id has no point, so its Betti numbers are those of the whole image
    (:func:`betti_numbers` pads with background), at the cost of the box only.
    A bool mask or skeleton is compared as one foreground.
    """
    mask = np.asarray(mask)
    skel = None if skeleton is None else np.asarray(skeleton)
    if mask.dtype == bool or (skel is not None and skel.dtype == bool):
        yield mask > 0, None if skel is None else skel > 0
        return
    sboxes = {} if skel is None else label_boxes(skel)
    for i, box in label_boxes(mask).items():
        if i in sboxes:
            box = tuple(slice(min(a.start, b.start), max(a.stop, b.stop)) for a, b in zip(box, sboxes[i]))
        yield mask[box] == i, None if skel is None else skel[box] == i


def label_betti(mask) -> tuple[int, int]:
    """``(b0, b1)`` of a label image, summed over its label ids (of the foreground for a bool mask).

    The numbers the Betti errors of :func:`betti_errors` are relative to.
    """
    b = [betti_numbers(m)[:2] for m, _ in _per_label(mask)]
    return (sum(x[0] for x in b), sum(x[1] for x in b))


def betti_per_label(labels) -> dict[int, tuple[int, ...]]:
    """``{label id: Betti numbers}`` of every id of a label image (each on its bounding box).

    Returns
    -------
    dict
        ``(b0, b1)`` per id in 2D, ``(b0, b1, b2)`` in 3D (see :func:`betti_numbers`).
    """
    labels = np.asarray(labels)
    return {int(i): betti_numbers(labels[box] == i) for i, box in label_boxes(labels).items()}


def betti_errors(skeleton, mask) -> tuple[int, int]:
    """``(|b0(skel) - b0(mask)|, |b1(skel) - b1(mask)|)`` summed over the label ids of ``mask``.

    Each id is measured on its bounding box, so many small labels cost about
    one pass over the image, not one per id.
    """
    e0 = e1 = 0
    for m, s in _per_label(mask, skeleton):
        bs, bm = betti_numbers(s), betti_numbers(m)
        e0 += abs(bs[0] - bm[0])
        e1 += abs(bs[1] - bm[1])
    return e0, e1


def thinness(skeleton) -> float:
    """Share of skeleton points inside a fully-on 2x2 (2x2x2) block; 0 for a thin skeleton."""
    s = np.asarray(skeleton) > 0
    if not s.any():
        return 0.0
    corners = list(itertools.product((0, 1), repeat=s.ndim))
    n = tuple(d - 1 for d in s.shape)
    window = lambda c: tuple(slice(o, o + k) for o, k in zip(c, n))  # noqa: E731
    block = np.logical_and.reduce([s[window(c)] for c in corners])  # low corner of full blocks
    inside = np.zeros_like(s)
    for c in corners:
        inside[window(c)] |= block
    return float(inside.sum() / s.sum())


def _dilate(a, tolerance):
    if tolerance <= 0:
        return a
    return ndimage.binary_dilation(a, _full(a.ndim), iterations=int(tolerance))


def cldice(skel_a, skel_b, mask_a=None, mask_b=None, tolerance: int = 1) -> float:
    """clDice between two skeletons (Shit et al.).

    ``Tprec = |A ∩ V_b| / |A|`` and ``Tsens = |B ∩ V_a| / |B|``, with ``V`` the
    masks when given, else each skeleton dilated by ``tolerance`` points.
    """
    a, b = np.asarray(skel_a) > 0, np.asarray(skel_b) > 0
    va = np.asarray(mask_a) > 0 if mask_a is not None else _dilate(a, tolerance)
    vb = np.asarray(mask_b) > 0 if mask_b is not None else _dilate(b, tolerance)
    if not a.any() and not b.any():
        return 1.0
    if not a.any() or not b.any():
        return 0.0
    tprec = (a & vb).sum() / a.sum()
    tsens = (b & va).sum() / b.sum()
    return float(2 * tprec * tsens / max(tprec + tsens, 1e-12))


def coverage(skeleton, reference, tolerance: int = 2) -> float:
    """Share of ``reference`` points within ``tolerance`` of ``skeleton``."""
    s, r = np.asarray(skeleton) > 0, np.asarray(reference) > 0
    if not r.any():
        return 1.0
    return float((r & _dilate(s, tolerance)).sum() / r.sum())


def measure(skeleton, mask, reference=None, classic=None, reference_name: str = "reference") -> dict:
    """Metrics of one skeleton of ``mask``: Betti errors, thinness, size and agreement."""
    row = {}
    row["b0_error"], row["b1_error"] = betti_errors(skeleton, mask)
    row["thinness"] = thinness(skeleton)
    row["pixels"] = int((skeleton > 0).sum())
    if classic is not None:
        row["size_vs_classic"] = row["pixels"] / max(1, int((classic > 0).sum()))
        row["coverage_classic"] = coverage(skeleton, classic, 2)
    if reference is not None:
        row[f"cldice_vs_{reference_name}"] = cldice(skeleton, reference)
    return row
