"""Tensor primitives shared by the learned and the classic thinning loops."""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["box_dilate", "cross_erode", "spatial_dims"]


def spatial_dims(x: torch.Tensor) -> int:
    """Number of spatial dimensions of a ``(B, C, *spatial)`` tensor."""
    return x.ndim - 2


def _pool(x, kernel, padding):
    pool = F.max_pool2d if spatial_dims(x) == 2 else F.max_pool3d
    return pool(x, kernel, stride=1, padding=padding)


def cross_erode(x: torch.Tensor, outside: float = 1.0) -> torch.Tensor:
    """Min-filter with the cross (4/6-neighbour) structuring element.

    Parameters
    ----------
    x : (B, C, H, W) or (B, C, D, H, W) float tensor
    outside : float
        Value assumed beyond the border. ``1`` (the Skelite convention) means an
        object cut by the border is not eroded from that side.
    """
    nd = spatial_dims(x)
    xp = F.pad(x, (1, 1) * nd, value=outside)
    if not (x.requires_grad and torch.is_grad_enabled()):
        return _cross_min(xp, nd)
    out = None
    for axis in range(nd):
        k = [1] * nd
        k[axis] = 3
        pad = [1] * nd
        pad[axis] = 0
        # pad=1 on the other axes of the padded tensor is cropped below
        e = -_pool(-xp, tuple(k), 0)
        sl = [slice(None), slice(None)] + [slice(1, -1) if a != axis else slice(None) for a in range(nd)]
        e = e[tuple(sl)]
        out = e if out is None else torch.minimum(out, e)
    return out


def _cross_min(xp, nd):
    """The same minimum without autograd, in place over shifted views (3 volumes at most, not ~11)."""
    core = [slice(None), slice(None)] + [slice(1, -1)] * nd
    out = xp[tuple(core)].clone()
    for axis in range(nd):
        for lo in (0, 2):
            sl = list(core)
            sl[2 + axis] = slice(lo, lo + out.shape[2 + axis])
            torch.minimum(out, xp[tuple(sl)], out=out)
    return out


def box_dilate(x: torch.Tensor) -> torch.Tensor:
    """Max-filter with the full 3x3(x3) box (outside counts as background)."""
    nd = spatial_dims(x)
    return _pool(x, (3,) * nd, 1)

