"""City-block depth: how many cross erosions keep each point, and the points ordered by it."""
from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

__all__ = ["depth_order"]


def depth_order(mask: np.ndarray, *, outside: bool = False, device="cpu"):
    """The city-block depth of a binary array and its foreground points sorted by depth.

    A point's depth is its city-block distance to the background, so the
    points that ``j`` cross erosions keep are those of depth ``> j``: a loop
    that judges one or two depth layers per iteration reads its band off this
    order instead of eroding the whole array.

    Parameters
    ----------
    mask : bool ndarray, 2D or 3D
    outside : bool
        What the erosions assume beyond the border: background (``False``,
        the border erodes) or foreground (``True``: it does not).
    device : torch device of the returned tensors

    Returns
    -------
    depth : int32 tensor over ``mask`` padded by one (zeros), flattened
    points : int64 tensor, the flat indices (in that padded array) of the
        foreground points, by ascending depth and ascending index within a depth
    starts : int64 ndarray of length ``max depth + 2``; ``points[starts[d]:starts[d + 1]]``
        have depth ``d``
    """
    if outside and mask.all():  # no background anywhere: no erosion ever removes a point
        depth = np.zeros(mask.shape, np.int32)
    elif outside:
        depth = ndimage.distance_transform_cdt(mask, metric="taxicab").astype(np.int32)
    else:
        depth = ndimage.distance_transform_cdt(np.pad(mask, 1), metric="taxicab").astype(np.int32)
        depth = depth[(slice(1, -1),) * mask.ndim]
    depth = np.pad(depth, 1).reshape(-1)
    where = np.flatnonzero(depth)
    order = np.argsort(depth[where], kind="stable")
    counts = np.bincount(depth[where], minlength=1)
    starts = np.concatenate([[0, 0], np.cumsum(counts[1:])])
    return torch.as_tensor(depth, device=device), torch.as_tensor(where[order], device=device), starts
