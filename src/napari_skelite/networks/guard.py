"""The topology guard: a network's deletions carried out only where they keep every Betti number."""
from __future__ import annotations

import itertools
from functools import cache

import torch

from ..topology import Grid, neighbour_offsets
from ..topology.thinning import thin

__all__ = ["full_blocks", "guarded", "thin_blocks"]


def guarded(s_before: torch.Tensor, s_after: torch.Tensor) -> torch.Tensor:
    """Apply the network's deletions only where they keep the topology.

    A proposal (``s_after <= 0.5`` where ``s_before > 0.5``) is carried out only
    at simple points that are not end points, subfield by subfield.
    """
    out = torch.empty_like(s_before)
    for b in range(s_before.shape[0]):
        before = s_before[b, 0] > 0.5
        prop = before & (s_after[b, 0] <= 0.5)
        out[b, 0] = thin(before, None, proposals=prop).to(s_before.dtype)
    return out


@cache
def _block_masks(ndim: int) -> tuple[int, ...]:
    """Per 2x2(x2) block that contains the centre: the bits of its other points in a neighbourhood code."""
    offs = neighbour_offsets(ndim)
    masks = []
    for corner in itertools.product((-1, 0), repeat=ndim):
        members = {tuple(c + d for c, d in zip(corner, delta)) for delta in itertools.product((0, 1), repeat=ndim)}
        masks.append(sum(1 << b for b, o in enumerate(offs) if o in members))
    return tuple(masks)


def full_blocks(s: torch.Tensor) -> torch.Tensor:
    """Points of the binary tensor ``s`` that lie in a fully-on 2x2 (2x2x2) block.

    Evaluated on the foreground points only (their neighbourhood codes), so the
    cost follows the skeleton's size, not the volume's.
    """
    grid = Grid(tuple(s.shape), s.device)
    flat = grid.flat(s.bool(), copy=False)
    where = torch.nonzero(flat).squeeze(1)
    out = torch.zeros_like(flat)
    if where.numel():
        codes = grid.codes(flat, where)
        hit = torch.zeros(len(where), dtype=torch.bool, device=s.device)
        for m in _block_masks(s.ndim):
            hit |= (codes & m) == m
        out[where[hit]] = True
    return out.reshape(grid.shape)[(slice(1, -1),) * s.ndim]


def thin_blocks(s: torch.Tensor) -> torch.Tensor:
    """Delete simple non-end points inside full 2x2(x2) blocks until none can go.

    The last step of the topology guard: whatever thickness the network left
    is removed without changing any Betti number.
    """
    while True:
        blocks = full_blocks(s)
        if not bool(blocks.any()):
            return s
        new = thin(s, 1, proposals=blocks)
        if torch.equal(new, s):
            return s
        s = new


