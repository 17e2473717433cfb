"""Boolean-predicate topology-preserving thinning (after Menten et al., ICCV 2023): the reference method."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._registry import Method, register
from ._torch import thin_numpy

if TYPE_CHECKING:
    import torch

__all__ = ["METHOD", "run"]


def run(mask: np.ndarray, *, iterations=None, device="cpu", return_steps=False, tick=None):
    """Thin one binary object with :func:`napari_skelite.topology.thinning.thin`."""
    from ..topology.thinning import thin

    return thin_numpy(thin, mask, iterations=iterations, device=device, return_steps=return_steps, tick=tick)


def _soft(x: torch.Tensor, iterations, options) -> torch.Tensor:
    import torch

    from ..topology.thinning import thin

    # thin() binarises internally and returns x * kept: exact gradients (away from 0.5)
    return torch.stack([torch.stack([thin(c, iterations) for c in b]) for b in x])


METHOD = register(Method(
    name="boolean",
    label="Boolean (topology-preserving)",
    description="Boolean-predicate topology-preserving thinning: exact topology, the reference skeleton",
    run=run,
    bytes_per_voxel=40,
    keeps_topology=lambda options, ndim: True,
    soft_skeleton=_soft,
))
