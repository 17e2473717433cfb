"""Save a skeleton layer's data with its voxel size and unit, whatever its dtype (no Qt).

:func:`napari_skelite.io.write_labels` writes ImageJ metadata (z spacing,
unit) for uint8 and uint16 only, the dtypes ImageJ's own format holds. The
widget also makes uint32 and uint64 skeletons (from int32/int64 labels, what
``skimage.measure.label`` gives); for those this module writes the same ImageJ
description (``spacing=``, ``unit=``, the plane count) and resolution tags
beside the unchanged label ids: tifffile reads them back as
``imagej_metadata``, Fiji opens the stack with its voxel size.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..chunked import is_dask_array
from ..io import write_labels as _write_labels
from ..record import write_record
from ..zarr_io import is_zarr_path
from .layers import record_for_layer, spacing_of

__all__ = ["IMAGEJ_UNITS", "save_labels"]

#: napari/pint unit names and the names written for ImageJ (as :func:`napari_skelite.io.write_labels` writes them)
IMAGEJ_UNITS = {"micrometer": "um", "nanometer": "nm", "millimeter": "mm", "centimeter": "cm", "meter": "m"}


def _is_tiff(path: Path) -> bool:
    return path.suffix.lower() in (".tif", ".tiff")


def _imagej_description(data: np.ndarray, spacing, unit) -> str:
    lines = ["ImageJ=1.11a"]
    if data.ndim == 3:
        lines += [f"images={data.shape[0]}", f"slices={data.shape[0]}", f"spacing={abs(float(spacing[0]))!r}"]
    if unit and str(unit) != "pixel":
        lines.append(f"unit={IMAGEJ_UNITS.get(str(unit), str(unit))}")
    lines.append("loop=false")
    return "\n".join(lines) + "\n"


def _write_imagej_any_dtype(path: Path, data: np.ndarray, spacing, unit) -> Path:
    """A TIFF of ``data`` (any integer dtype) with an ImageJ description and x/y resolution; atomic."""
    import tifffile

    spacing = tuple(abs(float(v)) for v in spacing)
    if len(spacing) != data.ndim or min(spacing) == 0:
        raise ValueError(f"spacing must be {data.ndim} non-zero numbers, one per axis; got {spacing}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        tifffile.imwrite(tmp, data, description=_imagej_description(data, spacing, unit), metadata=None,
                         resolution=(1 / spacing[-1], 1 / spacing[-2]), photometric="minisblack",
                         compression="zlib")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def save_labels(path, data, *, scale=None, units=None, metadata: dict | None = None) -> list[str]:
    """Write ``data`` to ``path`` (replacing it) with its voxel size; a plugin skeleton also gets its run record.

    Parameters
    ----------
    path : str or Path
        ``.tif``/``.tiff`` keep ``scale`` and the unit for every dtype;
        ``.npy``, ``.zarr`` (OME-Zarr; a dask array is written block by block)
        and the other formats of :func:`napari_skelite.io.write_labels`.
    data : array of labels
    scale, units : sequence, optional
        The layer's ``scale`` and ``units``.
    metadata : dict, optional
        The layer's metadata; a skeleton made by the plugin gets ``<path>.json``.

    Returns
    -------
    list of str
        The files written.
    """
    path = Path(path)
    if not (is_zarr_path(path) and is_dask_array(data)):  # a lazy skeleton into Zarr: block by block
        data = np.asarray(data)
    spacing = spacing_of(scale, units)
    if _is_tiff(path) and spacing and data.dtype not in (np.uint8, np.uint16) and data.dtype.kind in "iu":
        out = _write_imagej_any_dtype(path, data, spacing["spacing"], spacing["unit"])
    else:
        out = _write_labels(path, data, overwrite=True, **spacing)
    rec = record_for_layer(data, metadata or {}, scale)
    return [str(out)] + ([str(write_record(out, rec))] if rec is not None else [])
