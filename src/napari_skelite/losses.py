"""clDice loss with a pluggable differentiable skeletonizer (for segmentation training)."""
from __future__ import annotations

import torch
from torch import nn

from . import methods

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
    skeletonizer : str, optional
        A differentiable registered method (``Method.soft_skeleton`` is set;
        default :data:`napari_skelite.methods.SOFT`): ``morphological``: the
        soft skeleton of clDice (smooth, not topology preserving).
        ``boolean``: topology-preserving thinning of the binarised prediction;
        gradients reach the kept points. ``skelite``: the learned subfield
        network's soft loop on the binarised prediction (straight-through):
        its forward values are the plain network's skeleton, gradients reach
        the prediction; with a paper-variant weights file, the paper's dense loop.
    iterations : int, optional
        Thinning iterations (``None``: until done; the morphological default is 10).
    **options
        The method's options, as :func:`napari_skelite.skeletonize` takes them
        (e.g. Skelite's ``weights``: default the shipped subfield network of the
        input's dimensionality); an option the method does not take is refused.

    Inputs are ``(B, 1, H, W)`` or ``(B, 1, D, H, W)`` probabilities and binary targets.
    """

    def __init__(self, skeletonizer: str = methods.SOFT, *, iterations: int | None = None, **options):
        super().__init__()
        record = methods.get(skeletonizer)
        if not record.differentiable:
            usable = ", ".join(r.name for r in methods.methods() if r.differentiable)
            raise ValueError(f"method {skeletonizer!r} is not differentiable; choose one of {usable}.")
        self.skeletonizer = record.name
        self.iterations = iterations
        self._options = record.resolve(options)
        self._soft = record.soft_skeleton

    def skeleton(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable skeleton of a batch ``x``."""
        return self._soft(x, self.iterations, self._options)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return soft_cldice_loss(pred, target, self.skeleton(pred), self.skeleton(target.to(pred.dtype)))
