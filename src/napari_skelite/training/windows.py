"""Teacher forcing on sampled band points: the network run on 7x7(x7) windows only.

A teacher-forced example is a whole crop, but its loss lives on the band, which
is a few percent of a 3D crop (about 1.6% of the voxels of 32^3 training crops):
the dense pass spends almost all its work where no loss is read. Here the band
points are sampled in three strata and the network is evaluated only on the
window each sampled point depends on:

- every point the teacher keeps (the rare, costly class);
- deletions within 2 points (Chebyshev) of a kept point, at rate ``near``;
- all other deletions, at rate ``far``.

Each sampled point weighs ``1 / rate``, so the loss is, in expectation, the
dense band BCE of :func:`napari_skelite.training.objectives.band_bce` with the same
class weights (normalised by the whole band, not by the sample).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..networks.network import SkeliteNet
from .objectives import class_weights

__all__ = ["gather_windows", "sample_band_points", "window_bce"]


def sample_band_points(band, target_delete, rates, rng: np.random.Generator):
    """Sample band points for one teacher-forced batch.

    Parameters
    ----------
    band, target_delete : (K, 1, *spatial) float tensors (0/1)
    rates : (float, float)
        Sampling rates of deletions near a kept point and of the others, in ``(0, 1]``.
    rng : numpy Generator (its state is checkpointed with the run)

    Returns
    -------
    index : (P, 1 + ndim) int64 tensor
        ``(example, *position)`` of each sampled point.
    weight : (P,) float32 tensor
        ``1 / rate`` of the point's stratum (1 for kept points).
    """
    near_rate, far_rate = (float(r) for r in rates)
    if not (0 < near_rate <= 1 and 0 < far_rate <= 1):
        raise ValueError(f"window sampling rates must be within (0, 1]; got {near_rate}, {far_rate}.")
    nd = band.ndim - 2
    kept = band * (1 - target_delete)
    pool = F.max_pool2d if nd == 2 else F.max_pool3d
    near = (pool(kept, 5, 1, 2) * band * target_delete) > 0
    far = (band * target_delete > 0) & ~near
    parts, weights = [kept > 0], [1.0]
    for stratum, rate in ((near, near_rate), (far, far_rate)):
        if rate >= 1:
            parts.append(stratum)
        else:
            draw = torch.from_numpy(rng.random(stratum.shape) < rate)
            parts.append(stratum & draw)
        weights.append(1.0 / rate)
    idx, w = [], []
    for chosen, weight in zip(parts, weights):
        i = chosen[:, 0].nonzero()
        idx.append(i)
        w.append(torch.full((len(i),), weight))
    return torch.cat(idx), torch.cat(w)


def gather_windows(x, index, size: int = SkeliteNet.window):
    """Windows of side ``size`` of ``x`` centred on ``index``, zero beyond the border.

    Parameters
    ----------
    x : (K, C, *spatial) tensor
    index : (P, 1 + ndim) int64 tensor, as from :func:`sample_band_points`

    Returns
    -------
    (P, C, size, size[, size]) tensor
    """
    nd = x.ndim - 2
    r = size // 2
    xp = F.pad(x, (r, r) * nd)
    grid = torch.stack(torch.meshgrid(*[torch.arange(size)] * nd, indexing="ij"), -1).reshape(-1, nd)
    pos = index[:, None, 1:] + grid[None]  # (P, size**nd, nd), in padded coordinates
    k = index[:, :1].expand(-1, grid.shape[0])
    if nd == 2:
        w = xp[k, :, pos[..., 0], pos[..., 1]]
    else:
        w = xp[k, :, pos[..., 0], pos[..., 1], pos[..., 2]]
    # advanced indices around a slice put the channel last: (P, size**nd, C)
    return w.permute(0, 2, 1).reshape((len(index), x.shape[1]) + (size,) * nd)


def window_bce(net: SkeliteNet, x, band, target_delete, rates, rng, keep_weight: float = 2.0,
               balance: bool = False, extra=None):
    """Sampled-window estimate of the teacher-forced band BCE.

    Same arguments and class weights as :func:`~napari_skelite.training.objectives.band_bce`
    (``x`` the ``(K, 3, *spatial)`` inputs), plus the sampling ``rates`` and ``rng``.
    Returns ``(loss, number of sampled points)``.
    """
    index, importance = sample_band_points(band, target_delete, rates, rng)
    if len(index) == 0:
        return x.new_zeros(()), 0
    logits = net.window_logits(gather_windows(x, index))
    at = tuple(index[:, i] for i in range(index.shape[1]))
    cls = class_weights(band, 1 - target_delete, keep_weight, balance)[:, 0][at]
    w = cls * importance.to(cls)
    if extra is not None:
        w = w * (1 + extra[:, 0][at])
    tgt = target_delete[:, 0][at]
    return F.binary_cross_entropy_with_logits(logits, tgt, weight=w, reduction="sum"), len(index)
