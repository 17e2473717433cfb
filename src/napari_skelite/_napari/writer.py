"""npe2 writer for skeleton Labels layers (tif, npy), atomic."""
from __future__ import annotations

import numpy as np

from ..io import write_labels as _write


def write_labels(path: str, data, meta: dict) -> list[str]:
    """Write one Labels layer; napari's save dialog has already confirmed overwriting."""
    return [str(_write(path, np.asarray(data), overwrite=True))]
