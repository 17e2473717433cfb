"""npe2 writer for skeleton Labels layers (tif, npy), atomic."""
from __future__ import annotations

import numpy as np

from ..io import write_labels as _write
from ..record import write_record
from .layers import record_for_layer, spacing_of


def write_labels(path: str, data, meta: dict) -> list[str]:
    """Write one Labels layer; napari's save dialog has already confirmed overwriting.

    A TIFF keeps the layer's voxel size (see :func:`napari_skelite.io.write_labels`); a
    skeleton this plugin made also gets ``<path>.json``, its run record.
    """
    out = _write(path, np.asarray(data), overwrite=True, **spacing_of(meta.get("scale"), meta.get("units")))
    rec = record_for_layer(data, meta.get("metadata", {}), meta.get("scale"))
    return [str(out)] + ([str(write_record(out, rec))] if rec is not None else [])
