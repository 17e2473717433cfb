"""scikit-image's ``skeletonize`` (Zhang in 2D, Lee in 3D) as a reference method."""
from __future__ import annotations

import numpy as np

__all__ = ["run"]


def run(mask: np.ndarray, iterations=None, device="cpu", return_steps=False, **kw):
    from skimage.morphology import skeletonize

    sk = skeletonize(np.ascontiguousarray(mask, dtype=bool)).astype(bool)
    return sk, ([mask.astype(bool), sk] if return_steps else None)
