"""Boolean-predicate topology-preserving thinning (after Menten et al., ICCV 2023).

Per outer iteration the end points (foreground points with at most one
foreground neighbour in the 8/26-neighbourhood) are marked once; then the
subfields (the 4 pixel parities in 2D, 8 in 3D) are visited in turn and in each
every simple point that is not an end point is deleted. No two points of one
subfield are neighbours, so deleting simple points of a subfield in parallel
preserves all Betti numbers.

The simple-point test is a table lookup on the neighbourhood code
(:mod:`napari_skelite.topology`), evaluated only on border points of the
current subfield, as tensor gathers on the chosen device.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import torch

from .border import BorderPoints
from .grid import Grid, gather, near
from .iterate import iteration_numbers
from .simple import is_simple, simple_point_lut

__all__ = ["Pass", "subfield_passes", "thin", "thin_at"]


def thin(
    mask: torch.Tensor,
    iterations: int | None = None,
    *,
    return_steps: bool = False,
    substeps: bool = False,
    directional: bool = False,
    proposals: torch.Tensor | None = None,
    tick=None,
    lut: bool = True,
):
    """Thin a binary 2D/3D tensor while preserving its topology.

    Parameters
    ----------
    mask : (H, W) or (D, H, W) torch.Tensor
        Binary (bool or 0/1 float). Gradients of a float input flow to the
        points that are kept (the output is ``mask * kept``).
    iterations : int, optional
        Outer iterations; ``None`` runs until nothing changes.
    return_steps : bool
        Also return the state after every outer iteration (each its own copy).
    substeps : bool
        With ``return_steps``, record after every subfield instead.
    directional : bool
        Split each iteration into directional passes (north, south, ... border
        points only), each over all subfields, with end points marked anew at
        the start of each pass. The result is the same skeleton
        whatever the parity of the object's position, which makes it the better
        teacher for a translation-invariant network.
    proposals : tensor of bool, optional
        Only points in ``proposals`` may be deleted (the topology guard).
    tick : callable, optional
        Called once per outer iteration (raise in it to cancel).
    lut : bool
        Look simple points up in the cached table (default) or evaluate the
        topological-number predicates afresh for every candidate (slower,
        same result; kept to check the table).

    Returns
    -------
    skeleton : tensor, like ``mask``
    steps : list of tensors, only with ``return_steps``; ``steps[0]`` is the input.
    """
    device = mask.device
    binary = mask.detach() if mask.dtype == torch.bool else mask.detach() > 0.5  # a bool input is not copied
    grid = Grid(binary.shape, device)
    flat = grid.flat(binary)
    candidates = None
    if proposals is not None:
        allowed = grid.flat(proposals.bool(), copy=False)
        candidates = torch.nonzero(allowed & flat).squeeze(1)
    simple = simple_point_lut(grid.ndim, device) if lut else (lambda codes: is_simple(codes, grid.ndim))
    state = lambda: grid.unflat(flat)  # noqa: E731
    steps = [binary.clone()] if return_steps else None
    passes = 0
    for step in subfield_passes(grid, flat, candidates, iterations=iterations, tick=tick, directional=directional,
                                simple=simple):
        passes += 1
        if return_steps and (substeps or step.last):
            steps.append(state())
        if step.last and not step.changed:
            if return_steps:  # the last iteration changed nothing: drop its copies
                del steps[-(passes if substeps else 1):]
            break
        if step.last:
            passes = 0
    kept = state()
    out = mask * kept if mask.is_floating_point() else kept
    if return_steps:
        return out, steps
    return out


def thin_at(grid: Grid, flat: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Thin the padded, flattened bool state ``flat`` in place, deleting only at ``candidates``.

    The same iterations as :func:`thin` with ``proposals`` (run until one
    changes nothing), on a state the caller keeps: the work follows the
    candidates, not the array. Returns ``flat``.

    Parameters
    ----------
    grid : Grid of the unpadded shape
    flat : (prod(grid.shape),) bool tensor, changed in place
    candidates : (N,) int64 flat indices into ``flat``
    """
    for step in subfield_passes(grid, flat, candidates):  # BorderPoints drops the already deleted
        if step.last and not step.changed:
            break
    return flat


class Pass(NamedTuple):
    """One subfield pass of :func:`subfield_passes`, after its deletions."""

    iteration: int
    subfield: int
    last: bool  # the iteration's last pass
    changed: bool  # the iteration deleted something so far
    cand: torch.Tensor  # flat indices of the pass's border candidates (end points included)
    deletable: torch.Tensor | None  # simple and not an end point, at ``cand`` (None: no candidates or not asked)
    delete: torch.Tensor | None  # what the pass deleted, at ``cand``
    codes: torch.Tensor | None = None  # neighbourhood codes at ``cand`` before the pass
    end: torch.Tensor | None = None  # end points marked at the iteration's start, at ``cand``


def subfield_passes(grid, flat, candidates=None, *, iterations=None, tick=None, directional=False, simple=None,
                    decide=None, guard=False) -> Iterator[Pass]:
    """Run the subfield passes on ``flat`` (padded, flattened bool state) in place, yielding each :class:`Pass`.

    ``candidates``: flat indices of the only points that may go (None: any
    point). Each pass deletes, among the border points of its subfield, the
    simple points that are not end points; or, with ``decide(codes, end) ->
    bool (P,)`` (the candidates' neighbourhood codes and end bits), what it
    picks, and with ``guard`` only what it picks among those simple points.
    Without ``guard`` a ``decide`` pass never consults the simple-point table.
    The caller stops after an iteration that changed nothing.
    """
    simple = simple_point_lut(grid.ndim, flat.device) if simple is None else simple
    if directional:
        passes = [(fo, s) for fo in range(len(grid.face_vectors)) for s in range(grid.n_subfields)]
    else:
        passes = [(None, s) for s in range(grid.n_subfields)]
    pool = BorderPoints(grid, flat, candidates)
    end = torch.zeros_like(flat)  # marks of the current iteration (or pass), cleared point by point
    end_at = pool.points[:0]
    layer = torch.zeros_like(flat) if directional else None
    layer_at = end_at
    for k in iteration_numbers(iterations, tick):
        changed = False
        for i, (face, sub) in enumerate(passes):
            if sub == 0:  # end points: once per iteration, or per directional pass
                border = pool.border()
                nbr = gather(flat, near(border, grid.offsets)).sum(1)
                end.index_fill_(0, end_at, False)
                end_at = border[nbr <= 1]
                end.index_fill_(0, end_at, True)
                if face is not None:  # the pass peels the layer that faces `face` now
                    layer.index_fill_(0, layer_at, False)
                    layer_at = border[~flat[border + grid.face_offsets[face]]]
                    layer.index_fill_(0, layer_at, True)
            cand = pool.border(sub)
            if face is not None:
                cand = cand[layer[cand]]
            deletable = delete = codes = ends = None
            if cand.numel():
                codes, ends = grid.codes(flat, cand), end[cand]
                if decide is None or guard:
                    deletable = simple(codes) & ~ends
                delete = deletable if decide is None else decide(codes, ends)
                if decide is not None and guard:
                    delete = delete & deletable
                dele = cand[delete]
                if dele.numel():
                    flat.index_fill_(0, dele, False)
                    changed = True
                    pool.deleted(dele)
            yield Pass(k, sub, i == len(passes) - 1, changed, cand, deletable, delete, codes, ends)
