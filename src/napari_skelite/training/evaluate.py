"""Validation of trained Skelite weights against per-case quality targets.

A case meets the targets when its Betti-0 error is at most max(1, 5% of the
input's components), its Betti-1 error at most max(1, 10% of its loops), at
most 1% of its points lie in full 2x2(x2) blocks, it covers at least 90% of
scikit-image's skeleton within 2 points and is at most 1.3x its size.
"""
from __future__ import annotations

import numpy as np

from .. import methods
from ..api import skeletonize
from ..methods import skelite
from ..metrics import betti_errors, betti_numbers, coverage, thinness
from .data import DataConfig, make_masks

__all__ = ["case_metrics", "held_out_kwargs", "meets_targets", "network_skeleton", "small_check", "validate"]


def held_out_kwargs(ndim: int) -> dict:
    """Curve counts and radii of the held-out sets: more curves and larger radii than training."""
    return dict(n_curves=(10, 16), radius=(1.5, 10.0)) if ndim == 2 else dict(n_curves=(6, 9), radius=(1.5, 6.0))


def network_skeleton(mask: np.ndarray, net, *, guard: bool) -> np.ndarray:
    """The Skelite skeleton of ``mask`` made with the network ``net``, on the CPU, without the topology report."""
    return skeletonize(mask, skelite.METHOD.name, weights=net, device="cpu", guard=guard, check_topology=False)


def case_metrics(skel, mask, classic) -> dict:
    b = betti_numbers(mask)
    e0, e1 = betti_errors(skel, mask)
    return {
        "b0": int(b[0]), "b1": int(b[1]), "b0_error": int(e0), "b1_error": int(e1),
        "thinness": thinness(skel),
        "coverage_classic": coverage(skel, classic, 2),
        "size_vs_classic": float((skel > 0).sum() / max(1, (classic > 0).sum())),
    }


def meets_targets(m: dict) -> bool:
    """Whether one case's metrics (from :func:`case_metrics`) meet the quality targets."""
    return (m["b0_error"] <= max(1, 0.05 * m["b0"]) and m["b1_error"] <= max(1, 0.10 * m["b1"])
            and m["thinness"] <= 0.01 and m["coverage_classic"] >= 0.9 and m["size_vs_classic"] <= 1.3)


def validate(net, ndim: int, seed: int, n: int = 32, guard: bool = False) -> dict:
    """Metrics of ``net`` on held-out synthetic data (other seed, curve counts and radii)."""
    dcfg = DataConfig.for_dim(ndim, **held_out_kwargs(ndim))
    masks = make_masks(dcfg, n, seed)
    rows = []
    for m in masks:
        sk = network_skeleton(m, net, guard=guard)
        cl = skeletonize(m, methods.BASELINE)
        rows.append(case_metrics(sk, m, cl))
    agg = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    agg["share_meeting_targets"] = float(np.mean([meets_targets(r) for r in rows]))
    agg["n"] = n
    agg["seed"] = seed
    return agg


def small_check(net, ndim: int) -> dict:
    """Metrics on two small held-out samples: stored in the model card, re-run by the tests."""
    return validate(net, ndim, seed=424242, n=2)
