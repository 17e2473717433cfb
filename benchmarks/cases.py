"""The real cases the benchmarks and the evaluation read from a ``shared`` folder beside the checkout."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["real_cases"]


def real_cases(shared: Path) -> dict:
    """``{name: (mask, reference skeleton)}`` of ``<shared>/data/real`` (DRIVE, VesSAP); empty when absent."""
    real = Path(shared) / "data" / "real"
    if not (real / "image_drive.png").is_file():
        return {}
    import imageio.v3 as iio

    return {"DRIVE 512^2": (iio.imread(real / "image_drive.png") > 0, iio.imread(real / "skeleton_drive.png") > 0),
            "VesSAP 48^3": (np.load(real / "image_vessap.npy") > 0.5, np.load(real / "skeleton_vessap.npy") > 0.5)}
