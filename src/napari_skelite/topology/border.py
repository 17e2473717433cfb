"""The border points a thinning may still delete, kept up to date from one deletion to the next."""
from __future__ import annotations

import torch

from .grid import Grid, gather, near

__all__ = ["BorderPoints"]


class BorderPoints:
    """The points a thinning may still delete that are on the object's border, kept up to date.

    Only border points (a face neighbour in the background) can be simple
    deletions, and a point becomes a border point only when a face neighbour
    is deleted, so the list is grown from each deletion's neighbours: the work
    of an iteration follows the current border, not the object's volume (a
    thick object needs about ``r / 2`` iterations; the total work stays
    proportional to its volume). With ``candidates`` the pool is those
    points, whose border test is evaluated when asked (they are few).

    Parameters
    ----------
    grid : Grid
    flat : bool tensor
        The padded, flattened state; the caller deletes points in it and then
        calls :meth:`deleted`.
    candidates : (N,) int64 tensor, optional
        Flat indices (ascending) of the only points that may be deleted.
    """

    def __init__(self, grid: Grid, flat: torch.Tensor, candidates: torch.Tensor | None):
        self.grid, self.flat = grid, flat
        self.proposed = candidates is not None
        if self.proposed:
            self.points = candidates[flat[candidates]]
        else:
            self.points = _border_points(grid, flat)
            self.member = torch.zeros_like(flat)
            self.member.index_fill_(0, self.points, True)
        self.parity = grid.parity_of(self.points)

    def _on_border(self, where: torch.Tensor) -> torch.Tensor:
        return (~gather(self.flat, near(where, self.grid.face_offsets))).any(1)

    def border(self, subfield: int | None = None) -> torch.Tensor:
        """Flat indices (ascending) of the pool's points that are foreground border points now.

        ``subfield``: only those of this subfield (see :meth:`Grid.parity_of`).
        """
        points = self.points if subfield is None else self.points[self.parity == subfield]
        if self.proposed and points.numel():
            return points[self._on_border(points)]
        return points

    def deleted(self, dele: torch.Tensor) -> None:
        """Update after ``dele`` (flat indices) were set to background in ``flat``."""
        keep = self.flat[self.points]
        self.points, self.parity = self.points[keep], self.parity[keep]
        if self.proposed:
            return
        self.member.index_fill_(0, dele, False)
        new = (dele[:, None] + self.grid.face_offsets[None, :]).reshape(-1)
        new = torch.unique(new[self.flat[new] & ~self.member[new]])
        if new.numel():
            self.member.index_fill_(0, new, True)
            self.points, order = torch.sort(torch.cat([self.points, new]))
            self.parity = torch.cat([self.parity, self.grid.parity_of(new)])[order]


def _border_points(grid: Grid, flat: torch.Tensor) -> torch.Tensor:
    """Flat indices (ascending) of the foreground points of ``flat`` with a background face neighbour.

    Evaluated on shifted views of the padded volume, in place in one bool
    volume: not a neighbour list per foreground point.
    """
    vol = flat.view(grid.shape)
    core = (slice(1, -1),) * grid.ndim
    border = torch.zeros_like(vol)
    inside = border[core]  # a view: foreground points whose face neighbours are all foreground, then the border
    inside.copy_(vol[core])
    for axis in range(grid.ndim):
        for step in (-1, 1):
            shifted = [slice(1, -1)] * grid.ndim
            shifted[axis] = slice(1 + step, grid.shape[axis] - 1 + step)
            inside &= vol[tuple(shifted)]
    inside.logical_not_().logical_and_(vol[core])  # in place: one bool volume in all
    return torch.nonzero(border.view(-1)).squeeze(1)

