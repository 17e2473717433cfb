"""The engine: validate a label image, cut it into per-object crops, pack small ones, dispatch to a method.

Each label id is thinned on its own, on its bounding box plus a background
margin wider than any method reads; small objects are packed side by side
and thinned in one call. :func:`skeletonize_array` is what
:func:`napari_skelite.skeletonize` runs on an in-memory array and what
:mod:`napari_skelite.chunked` runs on every chunk.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from . import methods
from ._validate import as_label_array, check_memory, compact_ids, count_ids, output_dtype
from .device import resolve_device

__all__ = ["skeletonize_array"]

# background added around each object's bounding box: at least the Skelite network's
# receptive radius (3), so its zero-padded feature maps never reach an object and the
# result does not depend on where the crop ends (packing, chunking, position)
_MARGIN = 4


def _crop_bounds(box):
    """Start (even, so subfield parities match the whole image) and stop of an object's crop per axis."""
    return [(b.start - _MARGIN) // 2 * 2 for b in box], [b.stop + _MARGIN for b in box]


def restore_erased_objects(mask, skel, cut=None):
    """Represent each component a method erased entirely by its most central point.

    Learned thinning can delete a whole small object, and scikit-image's 3D
    thinning deletes some flat objects; every object keeps at least one point.
    Components that meet ``cut`` (a bool array of ``mask``'s shape: the faces
    where a chunk cuts the image) are left to the chunk that holds them whole.
    ``mask`` may be a canvas of packed crops: their components never touch,
    and each lost one gets the point it would get alone (first of the deepest
    in raster order). ``skel`` is changed in place and returned.
    """
    structure = np.ones((3,) * mask.ndim, bool)
    lab, n = ndimage.label(mask, structure)
    if n == 0:
        return skel
    hit = np.bincount(lab[skel], minlength=n + 1) > 0
    lost = np.flatnonzero(~hit[1:]) + 1
    if cut is not None and lost.size:
        lost = np.setdiff1d(lost, lab[cut & mask])
    if lost.size:
        deepest = _first_deepest(ndimage.distance_transform_cdt(mask, "taxicab"), lab, lost)
        skel[np.unravel_index(deepest, skel.shape)] = True
    return skel


def _first_deepest(dist, lab, which):
    """Flat index, per label in ``which``, of its first point (raster order) of the largest ``dist``.

    What ``ndimage.maximum_position`` gives for one label at a time, for all
    labels in one pass over their points.
    """
    points = np.flatnonzero(np.isin(lab, which))
    labels, depth = lab.reshape(-1)[points], dist.reshape(-1)[points]
    order = np.lexsort((points, -depth, labels))  # by label, deepest first, then raster order
    first = np.r_[True, labels[order][1:] != labels[order][:-1]]
    return points[order][first]


def _cut_faces(box, shape, cut_axes):
    """The points of ``box``'s crop (see :func:`_canvas`) on the image faces along ``cut_axes``, or None."""
    lo, hi = _crop_bounds(box)
    if not any(b.start == 0 or b.stop == shape[a] for a, b in enumerate(box) if a in cut_axes):
        return None
    cut = np.zeros(tuple(z - a for a, z in zip(lo, hi)), bool)
    for a in cut_axes:
        for face in (0, shape[a] - 1):
            k = face - lo[a]
            if 0 <= k < cut.shape[a]:
                cut[(slice(None),) * a + (k,)] = True
    return cut


_PACK_SIDE = {2: 256, 3: 64}  # objects whose crop fits in this side are thinned together
_PACK_VOXELS = 2**20           # largest canvas of packed objects
_PACK_GAP = 4                  # background between packed crops: more than any method reads across


def _crop_shape(box) -> tuple:
    lo, hi = _crop_bounds(box)
    return tuple(int(z - a) for a, z in zip(lo, hi))


def _groups(shapes):
    """Object indices in run order from crop shapes: small objects in groups to pack, large ones alone."""
    ndim = len(shapes[0])
    small = [i for i, sh in enumerate(shapes) if max(sh) <= _PACK_SIDE[ndim]]
    groups = [[i] for i, sh in enumerate(shapes) if max(sh) > _PACK_SIDE[ndim]]
    small.sort(key=lambda i: shapes[i][:-1], reverse=True)  # similar cross-sections share a strip
    cur, cross, length = [], None, 0
    for i in small:
        sh = shapes[i]
        new_cross = sh[:-1] if cross is None else tuple(max(a, b) for a, b in zip(cross, sh[:-1]))
        new_length = length + sh[-1] + _PACK_GAP + sh[-1] % 2
        if cur and np.prod(new_cross) * new_length > _PACK_VOXELS:
            groups.append(cur)
            cur, new_cross, new_length = [], sh[:-1], sh[-1] + _PACK_GAP + sh[-1] % 2
        cur.append(i)
        cross, length = new_cross, new_length
    if cur:
        groups.append(cur)
    return groups


def _canvas(compact, boxes, group, shapes, cut_axes=()):
    """The objects of ``group`` cut out of ``compact`` onto one canvas, side by side along the last axis.

    Each object's crop (its box plus a background margin of ``_MARGIN`` or
    one more, starting at an even image coordinate, background beyond the
    image border) sits at an even offset with background gaps between
    crops. Every method only reads a few points across, so each crop's
    result on the canvas equals its result alone (tested); subfield parities
    are kept.

    Returns
    -------
    canvas : bool array
    places : list of slice tuples, each object's crop on the canvas
    inners : list of slice tuples, each object's box on the canvas
    cut : bool array like ``canvas`` or None, the image faces along ``cut_axes`` inside the crops
    """
    crops = [shapes[i] for i in group]
    ndim = len(crops[0])
    if len(group) == 1:
        starts, cross, length = [0], crops[0][:-1], crops[0][-1]
    else:
        cross = tuple(max(c[a] for c in crops) for a in range(ndim - 1))
        starts, length = [], 0
        for c in crops:
            starts.append(length)
            length += c[-1] + c[-1] % 2 + _PACK_GAP
    canvas = np.zeros(cross + (length,), bool)
    cut = None
    places, inners = [], []
    for i, x0, sh in zip(group, starts, crops):
        box = boxes[i]
        lo, hi = _crop_bounds(box)
        offset = [0] * (ndim - 1) + [x0]
        src = tuple(slice(max(a, 0), min(z, n)) for a, z, n in zip(lo, hi, compact.shape))
        dst = tuple(slice(o + s_.start - a, o + s_.stop - a) for o, s_, a in zip(offset, src, lo))
        np.equal(compact[src], i + 1, out=canvas[dst])
        places.append(tuple(slice(o, o + n) for o, n in zip(offset, sh)))
        inners.append(tuple(slice(o + b.start - a, o + b.stop - a) for o, b, a in zip(offset, box, lo)))
        faces = _cut_faces(box, compact.shape, cut_axes) if cut_axes else None
        if faces is not None:
            cut = np.zeros_like(canvas) if cut is None else cut
            cut[places[-1]] |= faces
    return canvas, places, inners, cut


#: Canvases above this many points estimate their depth on every ``f``-th point along each axis
_EXACT_DEPTH_POINTS = 2**20


def _deepest(canvas: np.ndarray) -> int:
    """The largest city-block depth of ``canvas``; estimated on a subsampled grid for large canvases.

    The estimate (the subsample's depth times the step) is within about a step
    of the exact depth, and costs a few percent of the exact transform, which
    would otherwise add ~5% to a 256^3 run with progress.
    """
    step = 1
    while canvas.size / step**canvas.ndim > _EXACT_DEPTH_POINTS:
        step += 1
    sub = canvas[(slice(None, None, step),) * canvas.ndim]
    return step * int(ndimage.distance_transform_cdt(np.pad(sub, 1), metric="taxicab").max())


def _expected_iterations(record, canvas, iterations, options) -> int:
    """About how many iterations ``record`` takes on ``canvas`` (from its deepest point), capped by ``iterations``."""
    depth = _deepest(canvas)
    expected = max(1, int(record.iterations_for(canvas.ndim, depth, options)))
    return expected if iterations is None else max(1, min(expected, int(iterations)))


class _Ticks:
    """A method's per-iteration ``tick``: reports work done as points, the running group's by its share of iterations.

    ``callback(done, total)`` receives ``done`` = the points of finished objects
    plus the running group's ``points`` times the share of its expected
    iterations done (short of the whole until the group finishes).
    """

    def __init__(self, callback, done: int, points: int, total: int, expected: int):
        self.callback, self.done, self.points, self.total, self.expected = callback, done, points, total, expected
        self.calls = 0

    def __call__(self):
        share = min(self.calls, self.expected - 1) / self.expected
        self.calls += 1
        self.callback(self.done + int(self.points * share), self.total)


def skeletonize_array(mask, method: str | methods.Method, *, iterations: int | None = None, device="auto",
                      return_steps: bool = False, options: dict | None = None, callback=None,
                      cut_axes: tuple = ()):
    """:func:`napari_skelite.skeletonize` on one in-memory array.

    Parameters
    ----------
    mask : array_like, 2D or 3D labels (validated here)
    method : str or Method
    iterations, device, return_steps, callback
        As for :func:`napari_skelite.skeletonize`.
    options : dict, optional
        The method's own options (validated against its record).
    cut_axes : tuple of int
        The array is a chunk with a halo along these axes: components touching
        its faces along them are cut, so the erased-object rule is left to the
        chunk that holds them whole.
    """
    record = methods.get(method) if isinstance(method, str) else method
    opts = record.resolve(options or {})
    kw = dict(opts)
    arr = as_label_array(mask)
    out = np.zeros(arr.shape, output_dtype(arr))
    ids, compact = compact_ids(arr)
    per_object = []
    if ids.size:
        dev = resolve_device(device) if record.uses_torch else "cpu"
        run = record.run
        kw["tick"] = None
        boxes = ndimage.find_objects(compact)
        shapes = [_crop_shape(box) for box in boxes]
        check_memory(max(int(np.prod(sh)) for sh in shapes), record)
        sizes = count_ids(compact, len(ids))[1:] if callback is not None else None
        total, done = (int(sizes.sum()), 0) if callback is not None else (0, 0)
        for group in _groups(shapes):
            canvas, places, inners, cut = _canvas(compact, boxes, group, shapes, cut_axes)
            if callback is not None:  # checked every iteration too, so a cancel is quick
                kw["tick"] = _Ticks(callback, done, int(sizes[group].sum()), total,
                                    _expected_iterations(record, canvas, iterations, opts))
            skel_all, steps_all = run(canvas, iterations=iterations, device=dev, return_steps=return_steps, **kw)
            skel_all = restore_erased_objects(canvas, np.array(skel_all, bool), cut)
            for i, _place, inner in zip(group, places, inners):
                out[boxes[i]][skel_all[inner]] = ids[i]
                if return_steps:
                    states = [st[inner] for st in steps_all]
                    states[-1] = skel_all[inner]
                    per_object.append((ids[i], boxes[i], states))
            if callback is not None:
                done += int(sizes[group].sum())
                callback(done, total)
    if not return_steps:
        return out
    n = max((len(s) for _, _, s in per_object), default=1)
    steps = np.zeros((n,) + arr.shape, out.dtype)
    for label, box, states in per_object:
        for j in range(n):
            st = states[min(j, len(states) - 1)]
            steps[(j,) + box][st] = label
    return out, steps
