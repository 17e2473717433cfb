"""The learned Skelite method on one binary object."""
from __future__ import annotations

import numpy as np
import torch

from ..model import Skelite

__all__ = ["run", "guarded", "thin_blocks", "full_blocks"]

_CACHE: dict = {}


def _model(ndim, device, weights):
    from ..weights import default_weights_path, load_network

    if isinstance(weights, torch.nn.Module):
        net = weights.to(device)
        return Skelite(ndim, net).to(device).eval()
    path = default_weights_path(ndim) if weights is None else weights
    key = (str(path), ndim, str(device))
    if key not in _CACHE:
        _CACHE[key] = Skelite(ndim, load_network(path, ndim, device)).eval()
    return _CACHE[key]


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


def full_blocks(s: torch.Tensor) -> torch.Tensor:
    """Points of the binary tensor ``s`` that lie in a fully-on 2x2 (2x2x2) block."""
    import torch.nn.functional as F

    nd = s.ndim
    x = s.float()[None, None]
    pool = F.avg_pool2d if nd == 2 else F.avg_pool3d
    corner = pool(x, 2, 1) > 0.999  # (n-1)^nd block indicators
    spread = F.pad(corner.float(), (1, 1) * nd)
    mp = F.max_pool2d if nd == 2 else F.max_pool3d
    inside = mp(spread, 2, 1)[0, 0] > 0
    return inside & s


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


def run(mask: np.ndarray, iterations=None, device="cpu", return_steps=False, weights=None, guard=False, tick=None,
        dense=False, precision="float32", **kw):
    """Skelite on one binary object.

    ``dense=True`` uses the dense reference loop instead of the band-sparse
    one; ``precision="bfloat16"`` runs the sparse path's products in bf16.
    """
    from ..sparse import sparse_iterate

    model = _model(mask.ndim, device, weights)
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
