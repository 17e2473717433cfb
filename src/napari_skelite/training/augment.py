"""Augmentations applied to a mask *before* the teacher runs, so targets stay exact."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["boundary_noise", "downscale", "flip_rotate"]


def flip_rotate(mask: np.ndarray, rng) -> np.ndarray:
    """Random flips along every axis and a random 90-degree rotation in a random plane."""
    for a in range(mask.ndim):
        if rng.random() < 0.5:
            mask = np.flip(mask, a)
    axes = tuple(rng.choice(mask.ndim, 2, replace=False))
    if mask.shape[axes[0]] == mask.shape[axes[1]]:
        mask = np.rot90(mask, int(rng.integers(4)), axes)
    return np.ascontiguousarray(mask)


def boundary_noise(mask: np.ndarray, rng, p: float = 0.05) -> np.ndarray:
    """Flip a share ``p`` of the boundary pixels (inner and outer), without isolated specks."""
    m = mask.copy()
    inner = mask & ~ndimage.binary_erosion(mask)
    outer = ndimage.binary_dilation(mask) & ~mask
    m[inner & (rng.random(mask.shape) < p)] = False
    m[outer & (rng.random(mask.shape) < p)] = True
    # drop specks of 1-2 pixels that the noise created
    lab, _n = ndimage.label(m, np.ones((3,) * m.ndim))
    sizes = np.bincount(lab.ravel())
    small = np.flatnonzero(sizes < 3)
    m[np.isin(lab, small[small > 0])] = False
    return m


def downscale(mask: np.ndarray, factor: int) -> np.ndarray:
    """Block-average down by ``factor``, binarise at 0.5, pad back to the original shape."""
    if factor <= 1:
        return mask
    shape = tuple(s // factor * factor for s in mask.shape)
    m = mask[tuple(slice(0, s) for s in shape)].astype(float)
    for a in range(m.ndim):
        m = m.reshape(m.shape[:a] + (-1, factor) + m.shape[a + 1:]).mean(a + 1)
    small = m >= 0.5
    pad = [(0, s - t) for s, t in zip(mask.shape, small.shape)]
    return np.pad(small, pad)
