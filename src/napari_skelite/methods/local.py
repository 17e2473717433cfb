"""Window-local topology-preserving thinning: the teacher a Skelite network can copy.

Skelite's loop judges every point once, in the iteration ``k`` whose band holds
its city-block depth (``2k-1`` or ``2k``), with a network that sees a 7x7(x7)
window. A teacher is learnable by such a student only if its decision at a
point is a function of that window. This thinning is built to be (nearly)
one: per iteration it runs four passes (twelve in 3D, see ``PASSES``), each
deleting in parallel a set of band points that is safe by construction, and
each pass reads only the 3x3(x3) neighbourhood of the state the pass before
left. So a 2D decision depends on the state within 4 points; measured on training-like images, the
fourth ring changes about 0.4% of decisions even when everything beyond the
7x7 window is replaced by another image (``tests/methods/test_local.py``
checks the radius-4 bound), and a fourth pass cuts the share of points in
2x2 blocks against three passes (0.49% instead of 1.28% on the held-out set).

A pass has a candidate set ``P`` (band points of one or both depth layers
still in the object) and an order of the grid (raster order forward or
backward, row- or column-major). A candidate ``x`` is deleted when it stays a simple point whatever
subset of its candidate neighbours *earlier in that order* is deleted first
(Bertrand's P-simple test, :func:`napari_skelite.topology.is_p_simple`,
restricted to the earlier half of the neighbourhood), and when it keeps at
least two neighbours that no earlier deletion can remove (so curve ends stay).
Deleting all such points at once equals deleting them one by one in the
order, each simple when it goes, so every pass preserves all Betti numbers
(tests: hypothesis on random shapes). Deletions never leave the band, so
iteration ``k`` of this teacher lines up exactly with iteration ``k`` of the
student.

In 2D the result is thin (0.05% of DRIVE's skeleton points in 2x2 blocks,
1.0x scikit-image's size); in 3D, medial surfaces formed inside one band
wider than the passes can wear down stay, so 3D skeletons are topologically
exact but can be larger than a curve skeleton (VesSAP: 2.0x scikit-image's
size; held-out synthetic volumes 1.1-1.3x).
"""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from ._registry import Method, register
from ._torch import thin_numpy

if TYPE_CHECKING:
    import torch

__all__ = ["METHOD", "PASSES", "local_thin", "run", "step"]

#: per dimension: (depth layers, order) of the passes of every iteration; layer "a"
#: is depth 2k-1 (outer), "b" depth 2k; "fwd"/"bwd"/"cfwd" are raster orders (see ``_earlier``)
#: 3D runs 12 passes: a medial sheet that forms inside one band can only be worn down from its
#: rim, one point per side and pass, so more passes leave less surface (VesSAP size against
#: scikit-image's skeleton: 4 passes 4.6x, 8 passes 2.8x, 12 passes 2.0x; held-out synthetic
#: volumes 1.3-2.3x, 1.1-1.4x, 1.1-1.3x), while decisions that change when the state beyond
#: the 7x7x7 window is replaced stay about 1% (0.4% with 4 passes, 1.0% with 8, 12 and 16).
PASSES = {
    2: (("a", "bwd"), ("ab", "bwd"), ("ab", "fwd"), ("ab", "cfwd")),
    3: (("a", "bwd"),) + tuple(("ab", ("bwd", "fwd", "cfwd", "cbwd")[i % 4]) for i in range(11)),
}


def _earlier(ndim: int, order: str) -> int:
    """Bit mask of the neighbours that come before the centre in the raster ``order``.

    ``fwd``/``bwd``: row-major (first axis slowest), forward or backward;
    ``cfwd``/``cbwd``: the same with the axes reversed (last axis slowest).
    """
    from ..topology import neighbour_offsets

    bits = 0
    for b, o in enumerate(neighbour_offsets(ndim)):
        key = o if order in ("fwd", "bwd") else o[::-1]
        first = next(v for v in key if v)
        if (first < 0) == order.endswith("fwd"):
            bits |= 1 << b
    return bits


@cache
def _byte_counts():
    import torch

    return torch.tensor([bin(i).count("1") for i in range(256)])


def _popcount(x: torch.Tensor) -> torch.Tensor:
    """Set bits of each non-negative code below 2**32, four byte lookups."""
    counts = _byte_counts().to(x.device)
    return sum(counts[(x >> shift) & 255] for shift in (0, 8, 16, 24))


def _deletable(codes: torch.Tensor, p_codes: torch.Tensor, ndim: int, order: str) -> torch.Tensor:
    """The pass rule on configuration codes (see the module docstring)."""
    from ..topology import is_p_simple

    earlier = p_codes & codes & _earlier(ndim, order)
    return is_p_simple(codes, earlier, ndim) & (_popcount(codes & ~earlier) >= 2)


@cache
def _table_2d(order: str, device: str) -> torch.Tensor:
    """The 2D rule for every (object code, candidate code) pair: 65,536 entries."""
    import torch

    x = torch.arange(256).repeat_interleave(256)
    p = torch.arange(256).repeat(256)
    return _deletable(x, p, 2, order).to(device)


def _pass(grid, flat, cand, order, mark=None):
    """Indices of ``cand`` deleted by one pass on the state ``flat`` (bool, padded, flattened).

    ``mark``: a bool tensor like ``flat``, all False, used (and left all False)
    to mark the candidates; without it one is allocated.
    """
    import torch

    if cand.numel() == 0:
        return cand
    p = torch.zeros_like(flat) if mark is None else mark
    p.index_fill_(0, cand, True)
    xc, pc = grid.codes(flat, cand), grid.codes(p, cand)
    p.index_fill_(0, cand, False)
    if grid.ndim == 2:
        ok = _table_2d(order, str(flat.device))[(xc << 8) | (pc & xc)]
    else:  # 2**52 pairs: no table; each distinct (object, candidate) pair is evaluated once
        pairs, inverse = torch.unique((xc << 26) | (pc & xc & _earlier(3, order)), return_inverse=True)
        ok = torch.cat([_deletable(chunk >> 26, chunk & ((1 << 26) - 1), 3, order)
                        for chunk in pairs.split(1 << 16)])[inverse]  # bounded (M, 26) temporaries
    return cand[ok]


def step(state: torch.Tensor, unjudged: torch.Tensor):
    """One iteration: judge the band of ``unjudged`` (its two outer depth layers).

    Parameters
    ----------
    state : bool tensor (H, W) or (D, H, W)
        The current object ``S`` (judged points that were kept, and ``unjudged``).
    unjudged : bool tensor like ``state``
        ``C``: the points no iteration has judged yet (a subset of ``state``).

    Returns
    -------
    state, unjudged : the object after the passes, and ``E(E(C))``.
    """
    import torch

    from ..topology import Grid

    nd = state.ndim
    grid = Grid(state.shape, state.device)
    flat, c = grid.flat(state.bool()), grid.flat(unjudged.bool())
    todo = torch.nonzero(c).squeeze(1)
    e1 = grid.erode(c, todo)
    inner = todo[e1]
    c1 = torch.zeros_like(c)
    c1[inner] = True
    e2 = grid.erode(c1, inner)
    layers = {"a": todo[~e1], "b": inner[~e2]}
    layers["ab"] = torch.cat([layers["a"], layers["b"]])
    for which, order in PASSES[nd]:
        cand = layers[which]
        flat[_pass(grid, flat, cand[flat[cand]], order)] = False
    c = torch.zeros_like(c)
    c[inner[e2]] = True
    return grid.unflat(flat), grid.unflat(c)


def local_thin(mask: torch.Tensor, iterations: int | None = None, *, return_steps: bool = False, tick=None):
    """Thin a binary 2D/3D tensor with window-local, topology-preserving passes.

    Parameters
    ----------
    mask : (H, W) or (D, H, W) torch.Tensor
        Binary (bool or 0/1). The image border counts as background.
    iterations : int, optional
        Iterations (each judges two depth layers); ``None`` runs until every
        point has been judged.
    return_steps : bool
        Also return the state after every iteration (each its own copy).
    tick : callable, optional
        Called once per iteration (raise in it to cancel).

    Returns
    -------
    skeleton : bool tensor like ``mask``
    steps : list of bool tensors, only with ``return_steps``; ``steps[0]`` is the input.
    """
    import torch

    from ..topology import Grid
    from ..topology.depth import depth_order

    binary = mask.detach() > 0.5 if mask.is_floating_point() else mask.bool()
    if binary.ndim not in (2, 3):
        raise ValueError(f"mask must be 2D or 3D; got shape {tuple(mask.shape)}.")
    nd = binary.ndim
    grid = Grid(binary.shape, binary.device)
    flat = grid.flat(binary)
    # the same iterations as repeated step() calls, with the bands read off the depth order
    _, points, starts = depth_order(binary.cpu().numpy(), device=binary.device)
    deepest = len(starts) - 2
    mark = torch.zeros_like(flat)
    steps = [binary.clone()] if return_steps else None
    k = 0
    while deepest > 2 * k and (iterations is None or k < iterations):
        k += 1
        if tick is not None:
            tick()
        depth = lambda d: points[starts[min(d, deepest + 1)]:starts[min(d + 1, deepest + 1)]]  # noqa: E731
        layers = {"a": depth(2 * k - 1), "b": depth(2 * k)}
        layers["ab"] = torch.cat([layers["a"], layers["b"]])
        for which, order in PASSES[nd]:
            cand = layers[which]
            flat.index_fill_(0, _pass(grid, flat, cand[flat[cand]], order, mark), False)
        if return_steps:
            steps.append(grid.unflat(flat))
    s = grid.unflat(flat)
    return (s, steps) if return_steps else s


def run(mask: np.ndarray, *, iterations=None, device="cpu", return_steps=False, tick=None):
    """Thin one binary numpy object; returns ``(skeleton, steps or None)``."""
    return thin_numpy(local_thin, mask, iterations=iterations, device=device, return_steps=return_steps, tick=tick)


METHOD = register(Method(
    name="local",
    label="Local thinning (Skelite's 2D teacher)",
    description="window-local topology-preserving thinning, the teacher of the paper-variant network",
    run=run,
    bytes_per_voxel=80,
    keeps_topology=lambda options, ndim: True,
))
