"""npe2 writer for skeleton Labels layers (tif, npy), atomic."""
from __future__ import annotations

from .export import save_labels


def write_labels(path: str, data, meta: dict) -> list[str]:
    """Write one Labels layer; napari's save dialog has already confirmed overwriting.

    A TIFF keeps the layer's voxel size and unit for every label dtype (see
    :func:`~napari_skelite._napari.export.save_labels`); a skeleton this
    plugin made also gets ``<path>.json``, its run record.
    """
    return save_labels(path, data, scale=meta.get("scale"), units=meta.get("units"), metadata=meta.get("metadata"))
