"""The one public entry point: :func:`skeletonize`."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import messages, methods
from ._validate import (
    as_label_array,
    check_chunks,
    check_iterations,
    check_label_dtype,
    intensity_image_reason,
    output_dtype,
)
from .chunked import is_dask_array, keep_lost_objects, skeletonize_chunked
from .device import torch_threads
from .engine import skeletonize_array
from .metrics import betti_errors

__all__ = ["IntensityImageWarning", "TopologyChangedWarning", "available_methods", "skeletonize"]


class TopologyChangedWarning(UserWarning):
    """A method that does not guarantee topology changed it; ``errors`` = (β0 error, β1 error)."""

    def __init__(self, message: str, errors: tuple[int, int]):
        super().__init__(message)
        self.errors = errors


class IntensityImageWarning(UserWarning):
    """An integer input looks like an intensity image (a photo), not labels; ``reason`` says why."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def warn_if_intensity_image(mask, stacklevel: int = 3) -> None:
    reason = intensity_image_reason(np.asarray(mask))
    if reason:
        warnings.warn(IntensityImageWarning(messages.intensity_image("the input", reason, "library"), reason),
                      stacklevel=stacklevel)


def _warn_if_topology_changed(mask, skel, record, opts) -> None:
    if record.keeps_topology(opts, mask.ndim):
        return
    e0, e1 = betti_errors(skel, mask)
    if e0 or e1:
        warnings.warn(TopologyChangedWarning(messages.topology_changed(record.name, (e0, e1), "library"),
                                             (int(e0), int(e1))), stacklevel=4)


def available_methods() -> list[str]:
    """Names accepted by ``skeletonize(method=...)``: the registered methods."""
    return methods.names()


def skeletonize(
    mask,
    method: str = methods.DEFAULT,
    iterations: int | None = None,
    device: Any = "auto",
    return_steps: bool = False,
    *,
    callback: Callable[[int, int], None] | None = None,
    chunks=None,
    client=None,
    check_topology: bool = True,
    check_labels: bool = True,
    threads: int | str | None = "auto",
    **options,
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
    method : str
        One of :func:`available_methods`: ``"skelite"`` (default), ``"boolean"``,
        ``"local"``, ``"morphological"``, ``"classic"`` or a registered method.
    iterations : int, optional
        ``None`` runs thinning methods to convergence and gives Skelite just
        enough iterations to reach the thickest object.
    device : {"auto", "cpu", "cuda", "mps"} or torch.device
    return_steps : bool
        Also return every iteration's state.
    callback : callable, optional
        ``callback(done, total)`` once per iteration and after each object:
        the work done and the whole work, in object points (the running
        objects' points count by the share of their expected iterations
        done, so progress moves inside one large object); for chunked input,
        finished and all chunks. Raise in it to cancel.
    chunks : int or tuple, optional
        Process a numpy input chunk by chunk (``dask.array`` chunks: a positive
        side, one per axis, or ``"auto"``), each with a halo equal to the
        method's receptive field; the result is the same as without chunks.
        Chunks smaller than the halo are enlarged to it, with a
        :class:`napari_skelite.chunked.ChunkSizeWarning`. Dask array inputs
        are always processed this way. For the methods that can erase an
        object (``classic``, ``morphological``, Skelite with ``guard=False``)
        the result is completed by one pass over the whole image
        (:func:`napari_skelite.chunked.keep_lost_objects`), which holds the
        labels and the skeleton in memory.
    check_topology : bool
        For a numpy input and a method (or options) that does not guarantee
        topology, compare the Betti numbers of every label with its skeleton's
        and issue a :class:`TopologyChangedWarning` if they differ (one more
        pass over the image; dask inputs are not checked). Default True.
    check_labels : bool
        For a numpy integer input, warn (:class:`IntensityImageWarning`) when it
        looks like an intensity image rather than labels: at least 32 ids
        scattered over four times as many regions, most points touching
        another id (see :func:`napari_skelite._validate.intensity_image_reason`).
        Default True.
    client : dask.distributed.Client, optional
        Compute chunked work on this cluster and return a numpy array.
    threads : "auto", int or None
        Torch threads during the call (restored afterwards). ``"auto"``: one;
        the per-iteration kernels are small, so a second thread gains at most
        1.5x on an idle machine and costs 3-7x when another process keeps a
        core busy (``docs/benchmarks.md``). ``None``: torch's current setting.
    **options
        The method's own options (``methods.get(method).options`` lists them
        with their defaults). Skelite's:

        - ``guard`` (default True): carry out the network's deletions only at
          simple non-end points, so every Betti number is kept exactly;
        - ``weights``: a weights file or network (default: the shipped file of ``variant``);
        - ``variant``: ``"paper"`` (the published two-layer band loop) or
          ``"subfield"`` (one pass per subfield with the simple-point table as
          an input); default ``"paper"`` in 2D and ``"subfield"`` in 3D;
        - ``precision``: ``"float32"`` or ``"bfloat16"`` (paper variant's products);
        - ``dense``: the paper variant's dense differentiable loop (a reference; slower).

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
        For unusable input (see :func:`napari_skelite._validate.as_label_array`),
        an unknown method or an option the method does not take.
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
    if threads == "auto":
        threads = 1
    elif threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"`threads` must be 'auto', a positive integer or None; got {threads!r}.")
    with torch_threads(threads):
        return _skeletonize(mask, method, iterations, device, return_steps, callback, chunks, client,
                            check_topology, check_labels, options)


def _skeletonize(mask, method, iterations, device, return_steps, callback, chunks, client, check_topology,
                 check_labels, options):
    record = methods.get(method)
    iterations = check_iterations(iterations)
    opts = record.resolve(options)
    lazy = is_dask_array(mask)
    if check_labels and not lazy:
        mask = as_label_array(mask)
        warn_if_intensity_image(mask, stacklevel=4)
    if lazy or chunks is not None or client is not None:
        return _chunked(mask, lazy, record, iterations, device, return_steps, opts, callback, chunks, client)
    out = skeletonize_array(mask, record, iterations=iterations, device=device, return_steps=return_steps,
                            options=opts, callback=callback)
    if check_topology:
        _warn_if_topology_changed(mask, out[0] if return_steps else out, record, opts)
    return out


def _chunked(mask, lazy, record, iterations, device, return_steps, options, callback, chunks, client):
    import dask.array as da

    if return_steps:
        raise ValueError("return_steps is not available for chunked (dask) input; run on a numpy crop to see the steps.")
    if lazy:
        check_label_dtype(mask)
        chunks = check_chunks(chunks, mask.ndim)
        arr = mask if chunks is None else mask.rechunk(chunks)
    else:
        labels = as_label_array(mask)
        arr = da.from_array(labels, chunks=check_chunks(chunks, labels.ndim) or "auto")
    if arr.size == 0:  # nothing to thin: an empty skeleton of the same shape
        dtype = np.dtype(np.uint32) if arr.dtype.kind == "f" else output_dtype(np.empty(0, arr.dtype))
        return da.zeros(arr.shape, dtype=dtype) if lazy and client is None else np.zeros(arr.shape, dtype)
    compute = (lambda x: client.compute(x).result()) if client is not None else (lambda x: x.compute())
    out = skeletonize_chunked(arr, record, iterations, device, options=options,
                              callback=callback if client is None else None, compute=compute)
    complete = not record.keeps_topology(options, arr.ndim)  # only these methods can erase an object no chunk holds whole
    if lazy and client is None:
        if not complete:
            return out
        import dask

        whole = dask.delayed(_completed)(arr, out)
        return da.from_delayed(whole, arr.shape, out.dtype).rechunk(out.chunks)
    result = np.asarray(compute(out))
    if complete:
        keep_lost_objects(np.asarray(compute(arr)) if lazy else labels, result)
    return result


def _completed(labels, skeleton):
    """:func:`keep_lost_objects` on computed arrays (the last step of a lazy chunked run)."""
    return keep_lost_objects(np.asarray(labels), np.array(skeleton))
