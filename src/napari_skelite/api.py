"""The one public entry point: :func:`skeletonize`."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import ndimage

from ._validate import as_label_array, check_iterations, check_memory, check_method, output_dtype

__all__ = ["skeletonize", "available_methods", "METHODS"]

#: method name -> (module, description); modules are imported on first use
METHODS: dict[str, tuple[str, str]] = {
    "skelite": ("napari_skelite.methods.skelite", "learned iterative thinning (Skelite)"),
    "boolean": ("napari_skelite.methods.boolean", "Boolean-predicate topology-preserving thinning"),
    "morphological": ("napari_skelite.methods.morphological", "clDice morphological soft skeleton"),
    "classic": ("napari_skelite.methods.classic", "scikit-image skeletonize (Zhang 2D / Lee 3D)"),
}

_MARGIN = 1  # background added around each object's bounding box


def _crop_bounds(box):
    """Start (even, so subfield parities match the whole image) and stop of an object's crop per axis."""
    return [(b.start - _MARGIN) // 2 * 2 for b in box], [b.stop + _MARGIN for b in box]


def _crop(compact, box, index):
    """Binary crop of object ``index`` with a background margin.

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
    guard: bool = False,
    callback: Callable[[int, int], None] | None = None,
):
    """Thin every object of a 2D or 3D label image to a one-pixel-wide skeleton.

    Each label id is thinned on its own (on its bounding box plus a one-pixel
    background margin), so touching objects stay apart, and the skeleton keeps
    the id. The image border counts as background for every method. No object
    is lost: a connected component that a method erases entirely keeps its
    most central point.

    Parameters
    ----------
    mask : (M, N) or (P, M, N) array_like of bool or non-negative int
        0 is background; every other value is one object. Integral floats are
        accepted. The array is never modified.
    method : {"skelite", "boolean", "morphological", "classic"}
    iterations : int, optional
        ``None`` runs thinning methods to convergence and gives Skelite just
        enough iterations to reach the thickest object.
    device : {"auto", "cpu", "cuda", "mps"} or torch.device
    return_steps : bool
        Also return every iteration's state.
    weights : path or SkeliteNet, optional
        Skelite weights; default ``weights/skelite_{2,3}d.pt``.
    guard : bool
        Skelite only: apply the network's deletions only at simple non-end
        points (Betti numbers then are preserved exactly).
    callback : callable, optional
        ``callback(done, total)`` after each object and once per iteration
        (with the count of finished objects); raise in it to cancel.

    Returns
    -------
    skeleton : ndarray, same shape as `mask`, unsigned int
        Skeleton points keep their label id; others are 0.
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
    arr = as_label_array(mask)
    iterations = check_iterations(iterations)
    out = np.zeros(arr.shape, output_dtype(arr))
    ids, compact = np.unique(arr, return_inverse=True)
    compact = compact.reshape(arr.shape)
    if ids.size and ids[0] == 0:
        ids = ids[1:]
    else:
        compact = compact + 1
    per_object = []
    if ids.size:
        from .device import resolve_device

        dev = resolve_device(device) if method != "classic" else "cpu"
        run = _run_method(method)
        kw = {"weights": weights, "guard": guard} if method == "skelite" else {}
        boxes = ndimage.find_objects(compact)
        check_memory(max(int(np.prod(np.subtract(*_crop_bounds(box)[::-1]))) for box in boxes), method)
        for i, (label, box) in enumerate(zip(ids, boxes)):
            crop, inner = _crop(compact, box, i + 1)
            if callback is not None:  # checked every iteration too, so a cancel is quick
                kw["tick"] = lambda done=i: callback(done, len(ids))
            skel, steps = run(crop, iterations=iterations, device=dev, return_steps=return_steps, **kw)
            skel = _keep_lost_objects(crop, skel)
            if return_steps:
                steps[-1] = skel
            out[box][skel[inner]] = label
            if return_steps:
                per_object.append((label, box, [s[inner] for s in steps]))
            if callback is not None:
                callback(i + 1, len(ids))
    if not return_steps:
        return out
    n = max((len(s) for _, _, s in per_object), default=1)
    steps = np.zeros((n,) + arr.shape, out.dtype)
    for label, box, states in per_object:
        for j in range(n):
            st = states[min(j, len(states) - 1)]
            steps[(j,) + box][st] = label
    return out, steps
