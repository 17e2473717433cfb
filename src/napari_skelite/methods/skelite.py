"""The learned Skelite method on one binary object."""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import torch

from ..model import Skelite
from ..topology import neighbour_offsets
from ._grid import Grid
from ..subfield import SubfieldNet, subfield_iterate

__all__ = ["run", "guarded", "thin_blocks", "full_blocks", "variant_of"]

_CACHE: dict = {}


def _model(ndim, device, weights, variant=None):
    """A :class:`Skelite` (paper variant) or a :class:`SubfieldNet`, on ``device``, in eval mode.

    Files are cached by path, modification time and size, so a replaced file is reloaded;
    the cache keeps the last few networks only.
    """
    from pathlib import Path

    from ..weights import default_weights_path, load_network

    if isinstance(weights, torch.nn.Module):
        net = weights.to(device).eval()
        return net if isinstance(net, SubfieldNet) else Skelite(ndim, net).to(device).eval()
    path = Path(default_weights_path(ndim, variant) if weights is None else weights)
    st = path.stat() if path.is_file() else None
    key = (str(path.resolve()), st and st.st_mtime_ns, st and st.st_size, ndim, str(device))
    if key not in _CACHE:
        net = load_network(path, ndim, device)
        while len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = net if isinstance(net, SubfieldNet) else Skelite(ndim, net).eval()
    return _CACHE[key]


def variant_of(ndim: int, weights=None, variant=None) -> str:
    """The variant (``"paper"`` or ``"subfield"``) of the network that ``weights`` (or the default file) holds."""
    model = _model(ndim, "cpu", weights, variant)
    return model.variant if isinstance(model, SubfieldNet) else model.net.variant


def guarded(s_before: torch.Tensor, s_after: torch.Tensor) -> torch.Tensor:
    """Apply the network's deletions only where they keep the topology.

    A proposal (``s_after <= 0.5`` where ``s_before > 0.5``) is carried out only
    at simple points that are not end points, subfield by subfield.
    """
    from .boolean import thin

    out = torch.empty_like(s_before)
    for b in range(s_before.shape[0]):
        before = s_before[b, 0] > 0.5
        prop = before & (s_after[b, 0] <= 0.5)
        out[b, 0] = thin(before, None, proposals=prop).to(s_before.dtype)
    return out


@lru_cache(maxsize=None)
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
    flat = torch.nn.functional.pad(s.bool(), (1, 1) * s.ndim).reshape(-1)
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
    from .boolean import thin

    while True:
        blocks = full_blocks(s)
        if not bool(blocks.any()):
            return s
        new = thin(s, 1, proposals=blocks)
        if torch.equal(new, s):
            return s
        s = new


def _run_subfield(net, mask, iterations, device, return_steps, guard, tick):
    t = torch.as_tensor(np.ascontiguousarray(mask), device=device).bool()
    states = []
    s = t
    with torch.inference_mode():
        for s in subfield_iterate(net, t, iterations, guard=guard, tick=tick):
            if return_steps:
                states.append(s.cpu().numpy())
        if guard:
            s = thin_blocks(s)
        skel = s.cpu().numpy()
    if return_steps:
        steps = [mask.astype(bool)] + states
        steps[-1] = skel.copy() if len(steps) > 1 else steps[-1]
        return skel, steps
    return skel, None


def run(mask: np.ndarray, iterations=None, device="cpu", return_steps=False, weights=None, guard=False, tick=None,
        dense=False, precision="float32", variant=None, **kw):
    """Skelite on one binary object.

    ``variant`` picks the shipped weights when ``weights`` is None (the file's
    own variant decides the loop); ``dense=True`` uses the paper variant's
    dense reference loop instead of the band-sparse one; ``precision="bfloat16"``
    runs the sparse path's products in bf16.
    """
    from ..sparse import sparse_iterate

    model = _model(mask.ndim, device, weights, variant)
    if isinstance(model, SubfieldNet):
        if dense or precision != "float32":
            raise ValueError("the subfield variant runs in float32 on its own loop; dense and bfloat16 are "
                             "options of the paper variant.")
        return _run_subfield(model, mask, iterations, device, return_steps, guard, tick)
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    if dense and dtype != torch.float32:
        raise ValueError("the dense reference loop runs in float32 only; use the default sparse path for bfloat16.")
    loop = model.iterate if dense else lambda *a: sparse_iterate(model, *a, dtype=dtype)
    x = torch.as_tensor(np.ascontiguousarray(mask), dtype=torch.float32, device=device)[None, None]
    states = []
    with torch.inference_mode():
        s = x
        for s in loop(x, iterations, guarded if guard else None):
            if tick is not None:
                tick()
            if return_steps:
                states.append((s[0, 0] > 0.5).cpu().numpy())
        hard = s[0, 0] > 0.5
        if guard:
            hard = thin_blocks(hard)
        skel = hard.cpu().numpy()
    if return_steps:
        steps = [mask.astype(bool)] + states
        steps[-1] = skel.copy() if len(steps) > 1 else steps[-1]
        return skel, steps
    return skel, None
