"""scikit-image's ``skeletonize`` (Zhang in 2D, Lee in 3D) as a reference method."""
from __future__ import annotations

import numpy as np
from skimage.morphology import skeletonize

from ._registry import Method, register

__all__ = ["run", "METHOD"]


def run(mask: np.ndarray, *, iterations=None, device="cpu", return_steps=False, tick=None):
    """scikit-image's skeleton of one binary object (``iterations`` is not used: it runs to the end)."""
    if tick is not None:
        tick()  # one step: cancel is checked before it
    sk = skeletonize(np.ascontiguousarray(mask, dtype=bool)).astype(bool)
    return sk, ([mask.astype(bool), sk] if return_steps else None)


METHOD = register(Method(
    name="classic",
    label="Classic (scikit-image)",
    description="scikit-image skeletonize (Zhang 2D / Lee 3D): fast; not guaranteed thin or topology-preserving",
    run=run,
    bytes_per_voxel=30,
    uses_torch=False,
    iterations_for=lambda ndim, depth, options: 1,  # one call of scikit-image
))
