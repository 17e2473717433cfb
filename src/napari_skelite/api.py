"""The one public entry point: :func:`skeletonize`."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import ndimage

from ._validate import (
    _uint_for,
    as_label_array,
    check_iterations,
    check_label_dtype,
    check_memory,
    check_method,
    check_precision,
    output_dtype,
)

__all__ = ["skeletonize", "available_methods", "METHODS"]

#: method name -> (module, description); modules are imported on first use
METHODS: dict[str, tuple[str, str]] = {
    "skelite": ("napari_skelite.methods.skelite", "learned iterative thinning (Skelite)"),
    "boolean": ("napari_skelite.methods.boolean", "Boolean-predicate topology-preserving thinning"),
    "local": ("napari_skelite.methods.local", "window-local topology-preserving thinning (Skelite's 2D teacher)"),
    "morphological": ("napari_skelite.methods.morphological", "clDice morphological soft skeleton"),
    "classic": ("napari_skelite.methods.classic", "scikit-image skeletonize (Zhang 2D / Lee 3D)"),
}

# background added around each object's bounding box: at least the Skelite network's
# receptive radius (3), so its zero-padded feature maps never reach an object and the
# result does not depend on where the crop ends (packing, chunking, position)
_MARGIN = 4


def _crop_bounds(box):
    """Start (even, so subfield parities match the whole image) and stop of an object's crop per axis."""
    return [(b.start - _MARGIN) // 2 * 2 for b in box], [b.stop + _MARGIN for b in box]


def _crop(compact, box, index):
    """Binary crop of object ``index`` with a background margin of ``_MARGIN`` (or one more).

    The crop starts at an even image coordinate (padding with background
    beyond the border), so the subfield parities of the Boolean method are
    those of the whole image and per-object results equal whole-image ones.

    Returns
    -------
    crop : bool array; inner : slices of ``crop`` that correspond to ``box``
    """
    lo, hi = _crop_bounds(box)
    src = tuple(slice(max(a, 0), min(z, n)) for a, z, n in zip(lo, hi, compact.shape))
    pad = [(s.start - a, z - s.stop) for s, a, z in zip(src, lo, hi)]
    crop = np.pad(compact[src] == index, pad)
    inner = tuple(slice(b.start - a, b.stop - a) for b, a in zip(box, lo))
    return crop, inner


def _keep_lost_objects(mask, skel):
    """Represent each component a method erased entirely by its most central point.

    Learned thinning can delete a whole small object, and scikit-image's 3D
    thinning deletes some flat objects; every object keeps at least one point.
    """
    structure = np.ones((3,) * mask.ndim, bool)
    lab, n = ndimage.label(mask, structure)
    if n == 0:
        return skel
    hit = ndimage.maximum(skel, lab, np.arange(1, n + 1))
    lost = np.flatnonzero(~np.asarray(hit, bool)) + 1
    if lost.size:
        dist = ndimage.distance_transform_cdt(mask, "taxicab")
        for i in lost:
            pos = ndimage.maximum_position(dist, lab, i)
            skel[pos] = True
    return skel


_PACK_SIDE = {2: 64, 3: 32}  # objects whose crop fits in this side are thinned together
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


def _pack(crops):
    """Place crops side by side along the last axis, at even offsets with background gaps.

    Every method only reads a few points across, so each crop's result on the
    canvas equals its result alone (tested); subfield parities are kept.

    Returns
    -------
    canvas : bool array; places : list of slices, one per crop
    """
    if len(crops) == 1:
        return crops[0], [tuple(slice(None) for _ in crops[0].shape)]
    cross = tuple(max(c.shape[a] for c in crops) for a in range(crops[0].ndim - 1))
    starts, pos = [], 0
    for c in crops:
        starts.append(pos)
        pos += c.shape[-1] + c.shape[-1] % 2 + _PACK_GAP
    canvas = np.zeros(cross + (pos,), bool)
    places = []
    for c, x0 in zip(crops, starts):
        place = tuple(slice(0, n) for n in c.shape[:-1]) + (slice(x0, x0 + c.shape[-1]),)
        canvas[place] = c
        places.append(place)
    return canvas, places


def _compact_ids(arr):
    """Object ids (without 0) and the image relabelled ``1..n`` in the smallest unsigned dtype."""
    if arr.dtype.itemsize <= 2 or arr.dtype == bool:  # a lookup table is cheaper than sorting
        codes = arr.view(np.uint8) if arr.dtype == bool else arr
        present = np.bincount(codes.reshape(-1), minlength=2) > 0
        present[0] = False
        ids = np.flatnonzero(present).astype(arr.dtype)
        lut = np.zeros(present.size, _uint_for(len(ids)))
        lut[ids.astype(np.int64)] = np.arange(1, len(ids) + 1)
        return ids, lut[codes]
    ids, inverse = np.unique(arr, return_inverse=True)
    compact = inverse.reshape(arr.shape).astype(_uint_for(len(ids) + 1))
    if ids.size and ids[0] == 0:
        return ids[1:], compact
    return ids, compact + 1


def _touches_face(box, shape) -> bool:
    return any(b.start == 0 or b.stop == n for b, n in zip(box, shape))


def available_methods() -> list[str]:
    """Names accepted by ``skeletonize(method=...)``."""
    return list(METHODS)


def _run_method(method):
    return importlib.import_module(METHODS[method][0]).run


def skeletonize(
    mask,
    method: str = "skelite",
    iterations: int | None = None,
    device: Any = "auto",
    return_steps: bool = False,
    *,
    weights=None,
    variant: str | None = None,
    guard: bool = False,
    precision: str = "float32",
    callback: Callable[[int, int], None] | None = None,
    chunks=None,
    client=None,
):
    """Thin every object of a 2D or 3D label image to a one-pixel-wide skeleton.

    Each label id is thinned on its own (on its bounding box plus a background
    margin wider than any method reads; small objects are packed side by side
    and thinned in one call), so touching objects stay apart, and the skeleton
    keeps the id. The image border counts as background for every method. No object
    is lost: a connected component that a method erases entirely keeps its
    most central point.

    Parameters
    ----------
    mask : (M, N) or (P, M, N) array_like of bool or non-negative int
        0 is background; every other value is one object. Integral floats are
        accepted. The array is never modified.
    method : {"skelite", "boolean", "local", "morphological", "classic"}
    iterations : int, optional
        ``None`` runs thinning methods to convergence and gives Skelite just
        enough iterations to reach the thickest object.
    device : {"auto", "cpu", "cuda", "mps"} or torch.device
    return_steps : bool
        Also return every iteration's state.
    weights : path or SkeliteNet, optional
        Skelite weights; default: the shipped file of ``variant``.
    variant : {"paper", "subfield"}, optional
        Skelite only, when ``weights`` is not given: which shipped network to
        use. ``"paper"`` is the published loop (a network judges a two-layer
        band per iteration); ``"subfield"`` judges one subfield per pass with
        the simple-point table as an input. Default: ``"paper"`` in 2D,
        ``"subfield"`` in 3D (see the model card).
    guard : bool
        Skelite only: apply the network's deletions only at simple non-end
        points (Betti numbers then are preserved exactly).
    precision : {"float32", "bfloat16"}
        Skelite only: precision of the network's matrix products. bfloat16 is
        faster where the hardware has bf16 units; see the README for how often
        it changes a skeleton point.
    callback : callable, optional
        ``callback(done, total)`` after each object and once per iteration
        (with the count of finished objects; for chunked input, of finished
        chunks); raise in it to cancel.
    chunks : int or tuple, optional
        Process a numpy input chunk by chunk (``dask.array`` chunks), each with
        a halo equal to the method's receptive field; the result is the same as
        without chunks. Dask array inputs are always processed this way.
    client : dask.distributed.Client, optional
        Compute chunked work on this cluster and return a numpy array.

    Returns
    -------
    skeleton : ndarray, same shape as `mask`, unsigned int
        Skeleton points keep their label id; others are 0. For a dask array
        input without ``client``, a lazy dask array (call ``.compute()``,
        ``.to_zarr()``, ... on it; an active distributed client is used then).
    steps : (n_steps + 1, *mask.shape) ndarray, only with ``return_steps``
        ``steps[0]`` is the input labels; objects that finish early repeat
        their final state.

    Raises
    ------
    TypeError, ValueError
        For unusable input (see :func:`napari_skelite._validate.as_label_array`).
    FileNotFoundError
        If Skelite weights are missing.
    MemoryError
        Before any work, if the largest object's crop would not fit in the
        available memory (the message gives the estimate).

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((7, 9), dtype=np.uint8)
    >>> mask[2:5, 1:8] = 3
    >>> skel = skeletonize(mask, method="boolean")
    >>> skel.shape, skel.dtype, sorted(np.unique(skel).tolist())
    ((7, 9), dtype('uint8'), [0, 3])
    """
    method = check_method(method, available_methods())
    iterations = check_iterations(iterations)
    precision = check_precision(precision)
    if method == "skelite" and weights is None and variant is not None:
        from .weights import default_weights_path

        weights = default_weights_path(int(np.ndim(mask)), variant)
    from .chunked import is_dask_array

    lazy = is_dask_array(mask)
    if lazy or chunks is not None or client is not None:
        return _chunked(mask, lazy, method, iterations, device, return_steps, weights, guard, precision, callback,
                        chunks, client)
    return _skeletonize_array(mask, method, iterations, device, return_steps, weights=weights, guard=guard,
                              precision=precision, callback=callback)


def _chunked(mask, lazy, method, iterations, device, return_steps, weights, guard, precision, callback, chunks, client):
    import dask.array as da

    from .chunked import skeletonize_chunked

    if return_steps:
        raise ValueError("return_steps is not available for chunked (dask) input; run on a numpy crop to see the steps.")
    if lazy:
        arr = mask if chunks is None else mask.rechunk(chunks)
        check_label_dtype(arr)
    else:
        arr = da.from_array(as_label_array(mask), chunks=chunks if chunks is not None else "auto")
    compute = (lambda x: client.compute(x).result()) if client is not None else (lambda x: x.compute())
    out = skeletonize_chunked(arr, method, iterations, device, weights=weights, guard=guard, precision=precision,
                              callback=callback if client is None else None, compute=compute)
    if lazy and client is None:
        return out
    return np.asarray(compute(out))


def _skeletonize_array(mask, method, iterations, device, return_steps, *, weights=None, guard=False,
                       precision="float32", callback=None, cut_objects=False):
    """:func:`skeletonize` on one in-memory array.

    ``cut_objects``: the array is a chunk with a halo; objects touching its
    faces are cut, so the erased-object rule is left to the chunk that holds them.
    """
    arr = as_label_array(mask)
    out = np.zeros(arr.shape, output_dtype(arr))
    ids, compact = _compact_ids(arr)
    per_object = []
    if ids.size:
        from .device import resolve_device

        dev = resolve_device(device) if method != "classic" else "cpu"
        run = _run_method(method)
        kw = {"weights": weights, "guard": guard, "precision": precision} if method == "skelite" else {}
        boxes = ndimage.find_objects(compact)
        shapes = [_crop_shape(box) for box in boxes]
        check_memory(max(int(np.prod(sh)) for sh in shapes), method)
        done = 0
        for group in _groups(shapes):
            crops = [_crop(compact, boxes[i], i + 1) for i in group]
            if callback is not None:  # checked every iteration too, so a cancel is quick
                kw["tick"] = lambda d=done: callback(d, len(ids))
            canvas, places = _pack([c for c, _ in crops])
            skel_all, steps_all = run(canvas, iterations=iterations, device=dev, return_steps=return_steps, **kw)
            for i, (crop, inner), place in zip(group, crops, places):
                skel = skel_all[place]
                if not (cut_objects and _touches_face(boxes[i], compact.shape)):
                    skel = _keep_lost_objects(crop, skel)
                out[boxes[i]][skel[inner]] = ids[i]
                if return_steps:
                    states = [st[place] for st in steps_all]
                    states[-1] = skel
                    per_object.append((ids[i], boxes[i], [st[inner] for st in states]))
            done += len(group)
            if callback is not None:
                callback(done, len(ids))
    if not return_steps:
        return out
    n = max((len(s) for _, _, s in per_object), default=1)
    steps = np.zeros((n,) + arr.shape, out.dtype)
    for label, box, states in per_object:
        for j in range(n):
            st = states[min(j, len(states) - 1)]
            steps[(j,) + box][st] = label
    return out, steps
