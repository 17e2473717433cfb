"""clDice loss with a pluggable differentiable skeletonizer (for segmentation training)."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["ClDiceLoss", "soft_cldice_loss"]


def soft_cldice_loss(pred, target, skel_pred, skel_true, eps: float = 1e-6):
    """``1 - clDice`` (Shit et al., CVPR 2021) from masks and their skeletons."""
    tprec = ((skel_pred * target).sum() + eps) / (skel_pred.sum() + eps)
    tsens = ((skel_true * pred).sum() + eps) / (skel_true.sum() + eps)
    return 1 - 2 * tprec * tsens / (tprec + tsens)


class ClDiceLoss(nn.Module):
    """Soft clDice loss with the skeletonizer of your choice.

    Parameters
    ----------
    skeletonizer : {"morphological", "boolean", "skelite"}
        ``morphological``: the soft skeleton of clDice (smooth, not topology
        preserving). ``boolean``: topology-preserving thinning of the
        binarised prediction; gradients reach the kept points.
        ``skelite``: the learned iterative skeletonizer on the binarised
        prediction (straight-through), differentiable end to end.
    iterations : int, optional
        Thinning iterations (``None``: until done; the morphological default is 10).
    weights : path, optional
        Skelite weights (default: the shipped ``weights/skelite_{2,3}d.pt``).

    Inputs are ``(B, 1, H, W)`` or ``(B, 1, D, H, W)`` probabilities and binary targets.
    """

    def __init__(self, skeletonizer: str = "morphological", iterations: int | None = None, weights=None):
        super().__init__()
        if skeletonizer not in ("morphological", "boolean", "skelite"):
            raise ValueError(f"unknown skeletonizer {skeletonizer!r}; choose morphological, boolean or skelite.")
        self.skeletonizer = skeletonizer
        self.iterations = iterations
        self.weights = weights
        self._models = nn.ModuleDict()

    def skeleton(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable skeleton of a batch ``x``."""
        from .model import Skelite, binarize

        if self.skeletonizer == "morphological":
            from .methods.morphological import soft_skeleton

            return soft_skeleton(x, self.iterations if self.iterations is not None else 10)
        if self.skeletonizer == "boolean":
            from .methods.boolean import thin

            # thin() binarises internally and returns x * kept: exact gradients
            # (away from 0.5), no straight-through bias
            return torch.stack([torch.stack([thin(c, self.iterations) for c in b]) for b in x])
        xb = binarize(x)
        nd = x.ndim - 2
        key = f"d{nd}"
        if key not in self._models:
            from .weights import load_network

            self._models[key] = Skelite(nd, load_network(self.weights, nd, x.device))
        model = self._models[key]
        s = xb
        for s in model.iterate(xb, self.iterations):
            pass
        return s

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return soft_cldice_loss(pred, target, self.skeleton(pred), self.skeleton(target.to(pred.dtype)))
