"""Checks of array input (labels, dtypes, spacing, chunks, options) and label-array helpers.

File checks (formats, output paths) live in :mod:`napari_skelite.io`, option
values in the method records (:class:`napari_skelite.methods.Option`);
internals assume valid input.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "as_label_array",
    "check_chunks",
    "check_iterations",
    "check_label_dtype",
    "check_spacing",
    "compact_ids",
    "count_ids",
    "intensity_image_reason",
    "otsu_threshold",
    "threshold_reason",
]


def as_label_array(mask, name: str = "mask") -> np.ndarray:
    """Return ``mask`` as a 2D/3D non-negative integer (or bool) numpy array.

    The caller's array is never modified (read-only arrays are fine).

    Raises
    ------
    TypeError
        For complex, object, string or other non-numeric arrays.
    ValueError
        For wrong dimensionality, NaN/inf, non-integral floats or negative ids.
    """
    arr = np.asarray(mask)
    check_label_dtype(arr, name)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"`{name}` contains NaN or inf; it must hold integer label ids (0 = background).")
        if not np.array_equal(arr, np.round(arr)):
            raise ValueError(
                f"`{name}` holds non-integral floats (e.g. a probability map); threshold it first, "
                f"e.g. `{name} > 0.5`."
            )
    if arr.dtype.kind in "if" and arr.size and arr.min() < 0:
        raise ValueError(f"`{name}` holds negative label ids (min {arr.min()}); ids must be >= 0 with 0 as background.")
    if arr.dtype.kind == "f":
        top = float(arr.max()) if arr.size else 0.0
        if top >= 2.0**64:
            raise ValueError(f"`{name}` holds label ids that do not fit uint64 (max {top:.6g} >= 2**64); "
                             "relabel the objects first (e.g. `skimage.segmentation.relabel_sequential`).")
        if top > 2.0 ** (np.finfo(arr.dtype).nmant + 1):
            raise ValueError(f"`{name}` holds float label ids up to {top:.6g}, beyond the range where "
                             f"{arr.dtype} keeps every integer apart; store the ids as an integer array "
                             "or relabel them first.")
        arr = arr.astype(_uint_for(int(top)))
    return arr


def check_label_dtype(arr, name: str = "mask") -> None:
    """The checks that need no values: dtype kind and dimensionality (also for lazy arrays)."""
    if arr.dtype == object or arr.dtype.kind in "cUSVMm":
        raise TypeError(
            f"`{name}` must be a boolean or integer label array; got dtype {arr.dtype}. "
            "Convert it to integer labels first (e.g. `mask.astype(np.uint32)` or `mask > 0`)."
        )
    if arr.ndim not in (2, 3):
        raise ValueError(
            f"`{name}` must be 2D or 3D; got shape {arr.shape} ({arr.ndim}D). "
            "Take a single channel/time point first (e.g. `mask[0]`), or convert RGB images to labels."
        )


def _uint_for(top: int):
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if top <= np.iinfo(dt).max:
            return dt
    return np.uint64


def output_dtype(arr: np.ndarray):
    """Unsigned dtype of the result: uint8 for bool, the same width otherwise."""
    if arr.dtype == bool:
        return np.dtype(np.uint8)
    if arr.dtype.kind == "u":
        return arr.dtype
    return np.dtype(f"uint{arr.dtype.itemsize * 8}")


def check_iterations(iterations) -> int | None:
    if iterations is None:
        return None
    if isinstance(iterations, (bool, np.bool_)) or not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise ValueError(f"`iterations` must be a positive integer or None (as many as needed); got {iterations!r}.")
    return int(iterations)


def check_spacing(spacing, ndim: int, name: str = "spacing") -> tuple[float, ...]:
    """The voxel size per axis as ``ndim`` positive floats.

    ``None`` means 1 along every axis; one number applies to every axis. A
    negative size (a napari layer flipped along that axis) counts by its
    absolute value.

    Raises
    ------
    ValueError
        For a size that is NaN, infinite or zero, that is not a number, or
        a sequence whose length is not ``ndim``.
    """
    if spacing is None:
        return (1.0,) * ndim
    try:
        arr = np.asarray(spacing, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number or {ndim} numbers, one per axis; got {spacing!r}.") from None
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size != ndim):
        raise ValueError(f"`{name}` must be a number or {ndim} numbers, one per axis; got {spacing!r}.")
    arr = np.abs(np.broadcast_to(arr, (ndim,)))
    if not np.isfinite(arr).all() or (arr == 0).any():
        raise ValueError(f"`{name}` must be finite and non-zero along every axis (the voxel size); got {spacing!r}.")
    return tuple(float(v) for v in arr)


def check_chunks(chunks, ndim: int):
    """``chunks`` for a chunked run: ``None``, ``"auto"``, a positive int, or per axis a positive int (or dask's
    tuple of block sizes).

    Raises
    ------
    ValueError
        For zero, negative or non-integral sizes, or a sequence whose length is not ``ndim``.
    """
    if chunks is None or (isinstance(chunks, str) and chunks == "auto"):
        return chunks

    def positive(c) -> bool:
        return isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) and c >= 1

    sizes = chunks if isinstance(chunks, (tuple, list)) else (chunks,)
    ok = all(positive(c) or (isinstance(c, tuple) and c and all(positive(b) for b in c)) for c in sizes)
    if not ok or (isinstance(chunks, (tuple, list)) and len(chunks) != ndim):
        raise ValueError(f"`chunks` must be a positive integer (the side of a chunk), one per axis ({ndim}) "
                         f"or 'auto'; got {chunks!r}.")
    return tuple(c if isinstance(c, tuple) else int(c) for c in chunks) if isinstance(chunks, (tuple, list)) \
        else int(chunks)


def available_memory() -> int | None:
    """Bytes of memory available to this process (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(n_voxels: int, method, available: int | None = None) -> None:
    """Refuse, before allocating, an object too big for the memory at hand.

    ``method`` is a method record (its ``bytes_per_voxel`` and ``name``).

    Raises
    ------
    MemoryError
        With the estimate and what to do about it.
    """
    available = available_memory() if available is None else available
    need = n_voxels * method.bytes_per_voxel
    if available is not None and need > available:
        raise MemoryError(
            f"method {method.name!r} needs about {need / 2**30:.1f} GiB for the largest object "
            f"({n_voxels:,} voxels in its bounding box) but only {available / 2**30:.1f} GiB is available; "
            "crop the volume, split it into labels, or process it in chunks (chunks=...)."
        )


#: an image with at least this many ids can be judged not to be a label image
_INTENSITY_MIN_IDS = 32
_INTENSITY_MAX_POINTS = 2**22  # the check reads a centred crop of at most this many points


def intensity_image_reason(arr: np.ndarray) -> str | None:
    """Why an integer array looks like an intensity image (a photo, a raw scan), or None.

    The rule: on a centred crop of at most 2**22 points, the array holds at
    least 32 ids, its connected regions of one id outnumber the ids four to
    one (an object of a label image is one region, or a few), and at least
    half of its foreground points touch a point of another non-zero id. A
    label image, even of thousands of touching cells, has about one region
    per id; a photo's grey values are scattered over many small regions.

    Parameters
    ----------
    arr : (M, N) or (P, M, N) array of bool or integers
    """
    if arr.dtype == bool or arr.dtype.kind not in "iu" or arr.size == 0:
        return None
    side = int(_INTENSITY_MAX_POINTS ** (1 / arr.ndim))
    crop = arr[tuple(slice(max((n - side) // 2, 0), max((n - side) // 2, 0) + side) for n in arr.shape)]
    ids = np.unique(crop)
    n_ids = int(ids.size - (ids[0] == 0))
    if n_ids < _INTENSITY_MIN_IDS:
        return None
    from skimage.measure import label

    n_regions = int(label(crop, background=0, connectivity=crop.ndim).max())
    if n_regions < 4 * n_ids:
        return None
    fg = crop > 0
    touching = np.zeros(crop.shape, bool)
    for ax in range(crop.ndim):
        a, b = [slice(None)] * crop.ndim, [slice(None)] * crop.ndim
        a[ax], b[ax] = slice(1, None), slice(None, -1)
        diff = (crop[tuple(a)] != crop[tuple(b)]) & fg[tuple(a)] & fg[tuple(b)]
        touching[tuple(a)] |= diff
        touching[tuple(b)] |= diff
    share = touching.sum() / max(int(fg.sum()), 1)
    if share < 0.5:
        return None
    return (f"it holds {n_ids} ids spread over {n_regions} separate regions, and {share:.0%} of its "
            "foreground points touch another id")


def otsu_threshold(image) -> float:
    """Otsu's threshold of an intensity image (on at most about 2**22 of its points, evenly strided).

    Parameters
    ----------
    image : array_like (numpy or dask), any shape, real dtype

    Returns
    -------
    float
        Points above it are foreground; for a constant image, its value.
    """
    from skimage.filters import threshold_otsu

    arr = image if hasattr(image, "ndim") and hasattr(image, "size") else np.asarray(image)  # dask stays lazy
    step = max(1, int(np.ceil((arr.size / _INTENSITY_MAX_POINTS) ** (1 / max(arr.ndim, 1)))))
    sample = np.asarray(arr[(slice(None, None, step),) * arr.ndim], dtype=np.float64)
    if sample.size == 0 or sample.min() == sample.max():
        return float(sample.flat[0]) if sample.size else 0.0
    return float(threshold_otsu(sample))


def threshold_reason(foreground: np.ndarray, threshold: float) -> str | None:
    """Why the foreground of an intensity image thresholded at ``threshold`` is suspect, or None.

    Suspect: more than 95% of the points, or fewer than 0.1% (but some), are
    foreground; almost all usually means a threshold below the image's range
    (e.g. 0.5 on a 0-255 photo), almost nothing one above its objects.
    """
    share = float(np.count_nonzero(foreground)) / max(foreground.size, 1)
    if share > 0.95:
        return f"threshold {threshold:g} makes {share:.1%} of the image foreground"
    if 0 < share < 0.001:
        return f"threshold {threshold:g} keeps only {share:.2%} of the image as foreground"
    return None


#: points per slab of the helpers below: their index copies (8 bytes a point) stay this small
_SLAB_POINTS = 2**20


def _slabs(shape: tuple, points: int | None = None) -> list[slice]:
    """Slices along axis 0 of an array of ``shape``, each of about ``points`` (default :data:`_SLAB_POINTS`)
    points, at least one row."""
    points = _SLAB_POINTS if points is None else points
    row = int(np.prod(shape[1:], dtype=np.int64)) or 1
    step = max(1, points // row)
    return [slice(i, min(i + step, shape[0])) for i in range(0, shape[0], step)]


def count_ids(compact: np.ndarray, n: int) -> np.ndarray:
    """``np.bincount(compact.ravel(), minlength=n + 1)``, one slab at a time.

    ``np.bincount`` (like fancy indexing) first copies its input as 8-byte
    integers: 8 bytes a point of the whole image for a uint8 image of one
    byte a point. Slab by slab that copy stays :data:`_SLAB_POINTS` points.

    Parameters
    ----------
    compact : array of non-negative ids up to ``n`` (e.g. from :func:`compact_ids`)
    n : int
        The largest id.

    Returns
    -------
    (n + 1,) int64 array: the points of each id, 0 included.
    """
    counts = np.zeros(n + 1, np.int64)
    for s in _slabs(compact.shape, max(_SLAB_POINTS, 4 * (n + 1))):  # each call costs the slab and the table
        counts += np.bincount(compact[s].reshape(-1), minlength=n + 1)[: n + 1]
    return counts


def compact_ids(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Object ids (without 0, ascending) and the image relabelled ``1..n`` (0 stays 0) in the smallest unsigned dtype.

    The one relabelling of the package: the engine's object table and the
    metrics' boxes of huge ids both use it. Ids that fit a table are looked
    up slab by slab, so the working memory beyond the result stays small
    (see :func:`count_ids`).
    """
    small = arr.dtype.itemsize <= 2 or arr.dtype == bool
    if not small and arr.dtype.kind in "iu" and arr.size:  # ids that fit a table no larger than the image
        lo, hi = int(arr.min()), int(arr.max())
        small = lo >= 0 and hi < max(2**16, 2 * arr.size)
    if small:  # a lookup table is cheaper than sorting
        codes = arr.view(np.uint8) if arr.dtype == bool else arr
        present = np.zeros(int(codes.max()) + 1 if codes.size else 1, bool)
        for s in _slabs(codes.shape):
            present[codes[s].reshape(-1)] = True
        present[0] = False
        ids = np.flatnonzero(present).astype(arr.dtype)
        lut = np.zeros(present.size, _uint_for(len(ids)))
        lut[ids.astype(np.int64)] = np.arange(1, len(ids) + 1)
        compact = np.empty(arr.shape, lut.dtype)
        for s in _slabs(codes.shape):
            compact[s] = lut[codes[s]]
        return ids, compact
    ids, inverse = np.unique(arr, return_inverse=True)
    compact = inverse.reshape(arr.shape).astype(_uint_for(len(ids) + 1))
    if ids.size and ids[0] == 0:
        return ids[1:], compact
    return ids, compact + 1
