"""The morphological soft skeleton of clDice (Shit et al., CVPR 2021), 2D and 3D.

``skel = relu(I - open(I))``, then for each erosion ``I <- erode(I)`` the
residue ``relu(I - open(I))`` is added with a soft union. Differentiable;
binarised at 0.5 for display.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._registry import Method, count_iterations, register

if TYPE_CHECKING:
    import torch

__all__ = ["METHOD", "run", "soft_skeleton"]


def _open(x):
    from ..ops import box_dilate, cross_erode

    return box_dilate(cross_erode(x))


def soft_skeleton(x: torch.Tensor, iterations: int | None = None, return_steps: bool = False, tick=None):
    """Soft skeleton of ``x``.

    Parameters
    ----------
    x : (B, C, H, W) or (B, C, D, H, W) float tensor in [0, 1]
    iterations : int, optional
        Number of erosions; ``None`` erodes until nothing is left.

    Returns
    -------
    skeleton : tensor like ``x``; with ``return_steps`` also the list of states.
    """
    import torch

    from ..ops import cross_erode

    img = x
    skel = torch.relu(img - _open(img))
    steps = [x, skel] if return_steps else None
    k = 0
    while iterations is None or k < iterations:
        if float(img.detach().max()) <= 0:  # eroded away: later iterations add nothing
            break
        k += 1
        if tick is not None:
            tick()
        img = cross_erode(img)
        delta = torch.relu(img - _open(img))
        skel = skel + torch.relu(delta - skel * delta)
        if return_steps:
            steps.append(skel)
    return (skel, steps) if return_steps else skel


def run(mask: np.ndarray, *, iterations=None, device="cpu", return_steps=False, tick=None):
    """The soft skeleton of one binary object, binarised at 0.5."""
    import torch

    t = torch.as_tensor(np.ascontiguousarray(mask), device=device, dtype=torch.float32)[None, None]
    with torch.no_grad():
        res = soft_skeleton(t, iterations, return_steps, tick)
    if return_steps:
        sk, steps = res
        conv = lambda s: (s[0, 0] > 0.5).cpu().numpy()  # noqa: E731
        return conv(sk), [conv(s) for s in steps]
    return (res[0, 0] > 0.5).cpu().numpy(), None


def _halo(ndim, depth, iterations, options) -> int:
    return count_iterations(iterations, depth) + 3  # the erosions plus one opening


METHOD = register(Method(
    name="morphological",
    label="Morphological (clDice soft)",
    description="clDice's morphological soft skeleton: differentiable and fast, neither thin nor topology-preserving",
    run=run,
    halo=_halo,
    needs_depth=lambda ndim, iterations, options: iterations is None,
    iterations_for=lambda ndim, depth, options: depth,  # one erosion per iteration
    bytes_per_voxel=60,
    soft_skeleton=lambda x, iterations, options: soft_skeleton(x, 10 if iterations is None else iterations),
))
