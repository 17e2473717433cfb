"""Topology, thinness and agreement metrics of skeletons (numpy/scipy/scikit-image)."""
from __future__ import annotations

import itertools
import time

import numpy as np
from scipy import ndimage

__all__ = [
    "betti_numbers",
    "betti_errors",
    "label_betti",
    "thinness",
    "cldice",
    "coverage",
    "compare_methods",
    "run_methods",
    "measure",
    "results_table",
    "format_table",
    "with_references",
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


def _boxes(a: np.ndarray) -> dict:
    """``{label id: bounding box}`` of a non-negative label image (one pass, not one per id)."""
    if a.size == 0 or not a.any():
        return {}
    top = a.max()
    if top <= max(1 << 20, a.size):  # find_objects keeps one entry per id up to the largest
        objs = ndimage.find_objects(a.astype(np.intp, copy=False))
        return {i + 1: box for i, box in enumerate(objs) if box is not None}
    ids, inverse = np.unique(a, return_inverse=True)  # huge ids: number them 1..K first
    inverse = inverse.reshape(a.shape)
    if ids[0] == 0:
        ids = ids[1:]
    else:
        inverse = inverse + 1
    return {ids[k].item(): box for k, box in enumerate(ndimage.find_objects(inverse)) if box is not None}


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
    sboxes = {} if skel is None else _boxes(skel)
    for i, box in _boxes(mask).items():
        if i in sboxes:
            box = tuple(slice(min(a.start, b.start), max(a.stop, b.stop)) for a, b in zip(box, sboxes[i]))
        yield mask[box] == i, None if skel is None else skel[box] == i


def label_betti(mask) -> tuple[int, int]:
    """``(b0, b1)`` of a label image, summed over its label ids (of the foreground for a bool mask).

    The numbers the Betti errors of :func:`betti_errors` are relative to.
    """
    b = [betti_numbers(m)[:2] for m, _ in _per_label(mask)]
    return (sum(x[0] for x in b), sum(x[1] for x in b))


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


def run_methods(mask, methods=None, warmup: bool = True, **kwargs) -> dict:
    """Run each method on ``mask`` once and time it.

    Parameters
    ----------
    mask : (H, W) or (D, H, W) array
    methods : list of str, optional
        All available methods by default.
    warmup : bool
        Run each method first, untimed, on a small built-in object of the same
        number of dimensions, so the time is that of a warm call: loading
        weights, building lookup tables and the first call into torch
        are not counted (they made Skelite's first 2D time about 20x its
        steady time). In 3D the simple-point table is filled lazily for the
        neighbourhood codes an image contains, so a new volume's first run
        still pays for its own codes (``napari-skelite build-table`` removes
        that cost).
    **kwargs
        Passed to :func:`napari_skelite.skeletonize` (``device``, ``guard``,
        ``weights``, ``callback``...).

    Returns
    -------
    dict
        ``{method: (skeleton or None, seconds or None, error message or None)}``;
        skeletons are numpy arrays (a dask input's lazy skeleton is computed
        inside the timed call); a method that cannot run (e.g. missing
        weights) has its error filled in.
    """
    from .api import available_methods, skeletonize

    warm = _warmup_object(np.ndim(mask)) if warmup else None
    out = {}
    for m in list(methods or available_methods()):
        try:
            if warm is not None:
                skeletonize(warm, m, **kwargs)
            t0 = time.perf_counter()
            # a dask input gives a lazy skeleton: compute it inside the timed call
            skel = np.asarray(skeletonize(mask, m, **kwargs))
            out[m] = (skel, time.perf_counter() - t0, None)
        except (FileNotFoundError, ValueError) as e:
            out[m] = (None, None, str(e))
    return out


def _warmup_object(ndim: int) -> np.ndarray | None:
    """A 16^ndim uint8 image holding one 10 x 6(x6) bar (several thinning iterations)."""
    if ndim not in (2, 3):
        return None  # the timed call refuses the input with its own message
    out = np.zeros((16,) * ndim, np.uint8)
    out[(slice(3, 13),) + (slice(5, 11),) * (ndim - 1)] = 1
    return out


def measure(skeleton, mask, reference=None, classic=None, reference_name: str = "boolean") -> dict:
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


def results_table(results: dict, mask, reference: str = "boolean") -> list[dict]:
    """Rows of :func:`measure` for the output of :func:`run_methods`."""
    ref = results.get(reference, (None,))[0]
    classic = results.get("classic", (None,))[0]
    rows = []
    for m, (skel, seconds, error) in results.items():
        row = {"method": m}
        if skel is None:
            row["error"] = error
        else:
            row.update(measure(skel, mask, ref, classic, reference))
            row["time_s"] = seconds
        rows.append(row)
    return rows


def with_references(methods, reference: str = "boolean") -> list[str]:
    """``methods`` preceded by the reference and ``classic`` when missing (both are needed for the table)."""
    return [m for m in (reference, "classic") if m not in methods] + list(methods)


def compare_methods(mask, methods=None, reference: str = "boolean", **kwargs) -> list[dict]:
    """Run several methods on one input and measure each.

    The reference and ``classic`` are run too (for clDice and size ratios)
    when not asked for, but only the asked methods get a row.

    Returns
    -------
    list of dict, one per method, with ``method``, ``b0_error``, ``b1_error``,
    ``thinness``, ``pixels``, ``size_vs_classic``, ``coverage_classic``,
    ``cldice_vs_<reference>`` and ``time_s`` (seconds of a warm call: see
    :func:`run_methods`); or ``error`` for a method that could not run (e.g.
    missing weights).
    """
    from .api import available_methods

    methods = list(methods or available_methods())
    results = run_methods(mask, with_references(methods, reference), **kwargs)
    rows = results_table(results, mask, reference)
    return [r for r in rows if r["method"] in methods]


def format_table(rows: list[dict]) -> str:
    """Plain-text table of :func:`compare_methods` rows."""
    cols = ["method"] + sorted({k for r in rows for k in r} - {"method", "error"}, key=_col_order) + ["error"]
    cols = [c for c in cols if any(c in r for r in rows)]
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    table = [cols] + [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in table)


def _col_order(c):
    pref = ["b0_error", "b1_error", "thinness", "pixels", "size_vs_classic", "coverage_classic"]
    return (pref.index(c) if c in pref else len(pref), c)
