"""The border points a thinning may still delete, kept up to date from one deletion to the next."""
from __future__ import annotations

import torch

from .grid import Grid

__all__ = ["BorderPoints"]


class BorderPoints:
    """The points a thinning may still delete that are on the object's border, kept up to date.

    Only border points (a face neighbour in the background) can be simple
    deletions, and a point becomes a border point only when a face neighbour
    is deleted, so the list is grown from each deletion's neighbours: the work
    of an iteration follows the current border, not the object's volume (a
    thick object needs about ``r / 2`` iterations; the total work stays
    proportional to its volume). With ``proposals`` the pool is the proposed
    points, whose border test is evaluated when asked (they are few).

    Parameters
    ----------
    grid : Grid
    flat : bool tensor
        The padded, flattened state; the caller deletes points in it and then
        calls :meth:`deleted`.
    proposals : bool tensor of the unpadded shape, optional
        Only these points may be deleted.
    """

    def __init__(self, grid: Grid, flat: torch.Tensor, proposals: torch.Tensor | None):
        self.grid, self.flat = grid, flat
        self.proposed = proposals is not None
        if self.proposed:
            allowed = torch.nn.functional.pad(proposals.bool(), (1, 1) * grid.ndim).reshape(-1)
            self.points = torch.nonzero(allowed & flat).squeeze(1)
            return
        fg = torch.nonzero(flat).squeeze(1)
        self.points = fg[self._on_border(fg)]
        self.member = torch.zeros_like(flat)
        self.member[self.points] = True

    def _on_border(self, where: torch.Tensor) -> torch.Tensor:
        return (~self.flat[where[:, None] + self.grid.face_offsets[None, :]]).any(1)

    def border(self) -> torch.Tensor:
        """Flat indices (ascending) of the pool's points that are foreground border points now."""
        if self.proposed:
            return self.points[self._on_border(self.points)] if self.points.numel() else self.points
        return self.points

    def deleted(self, dele: torch.Tensor) -> None:
        """Update after ``dele`` (flat indices) were set to background in ``flat``."""
        self.points = self.points[self.flat[self.points]]
        if self.proposed:
            return
        self.member[dele] = False
        new = (dele[:, None] + self.grid.face_offsets[None, :]).reshape(-1)
        new = torch.unique(new[self.flat[new] & ~self.member[new]])
        if new.numel():
            self.member[new] = True
            self.points = torch.sort(torch.cat([self.points, new])).values

