"""numpy in, numpy out: the wrapper every torch thinning method's ``run`` shares (torch is imported on first use)."""
from __future__ import annotations

import numpy as np

__all__ = ["thin_numpy"]


def thin_numpy(thin, mask: np.ndarray, *, iterations, device, return_steps: bool, tick=None, **kw):
    """Run ``thin(tensor, iterations, return_steps=..., tick=..., **kw)`` on a numpy bool array.

    Returns ``(skeleton, steps or None)`` as numpy bool arrays.
    """
    import torch

    t = torch.as_tensor(np.ascontiguousarray(mask), device=device).bool()
    res = thin(t, iterations, return_steps=return_steps, tick=tick, **kw)
    if return_steps:
        sk, steps = res
        return sk.cpu().numpy(), [s.cpu().numpy() for s in steps]
    return res.cpu().numpy(), None
