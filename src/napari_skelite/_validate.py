"""Every check on raw user input lives here; internals assume valid input."""
from __future__ import annotations

import numpy as np

__all__ = ["as_label_array", "check_label_dtype", "check_iterations", "check_precision"]


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


PRECISIONS = ("float32", "bfloat16")


def check_precision(precision) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}.")
    return precision


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
