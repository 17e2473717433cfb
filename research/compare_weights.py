"""Compare Skelite weights files on the held-out synthetic sets that weights are chosen on.

    python research/compare_weights.py --dim 2 weights/skelite_2d.pt runs/other/skelite_2d.pt ...

Sets (all generated from fixed seeds, none used in training or calibration):

- ``validation``: seed 10000, 32 images (16 volumes in 3D), the training command's validation set;
- ``more``: seed 30000, 64 images (2D only), the same distribution;
- ``thin``: seed 50000, 32 images of 256^2 with 20-40 curves of radius 0.5-2.5 px (2D only):
  thin, crowded, noisy vessel networks, closer to DRIVE than the training data, fixed before
  any weights were compared on it.

Per set: mean Betti errors per image, the mean share of points in full 2x2(x2) blocks,
the share of images meeting every quality target (``training.evaluate.meets_targets``), the selection cost (the
calibration's: b0 + b1 errors + ``THIN_COST`` (50) x 2x2 share, per image, with its standard
error) and the signed changes of the Betti numbers summed over the set (``b1 -n``: loops lost, ``b1 +n``: holes punched).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from napari_skelite import skeletonize
from napari_skelite.metrics import betti_numbers
from napari_skelite.training.calibrate import THIN_COST
from napari_skelite.training.data import DataConfig, make_masks
from napari_skelite.training.evaluate import case_metrics, held_out_kwargs, meets_targets
from napari_skelite.networks.weights import load_network


def selection_sets(ndim: int) -> dict:
    """Name -> stacked masks of each held-out selection set."""
    held = DataConfig.for_dim(ndim, **held_out_kwargs(ndim))
    if ndim == 3:
        return {"validation": make_masks(held, 16, 10000)}
    thin = DataConfig.for_dim(2, size=256, n_curves=(20, 40), radius=(0.5, 2.5))
    return {"validation": make_masks(held, 32, 10000), "more": make_masks(held, 64, 30000),
            "thin": make_masks(thin, 32, 50000)}


def summarize(skels, masks, classics) -> dict:
    """Aggregate metrics of ``skels`` on one set (see the module docstring)."""
    rows = [case_metrics(s, m, c) for s, m, c in zip(skels, masks, classics)]
    costs = np.array([r["b0_error"] + r["b1_error"] + THIN_COST * r["thinness"] for r in rows])
    # the masks' Betti numbers are already in each row
    delta = np.array([np.subtract(betti_numbers(s)[:2], (r["b0"], r["b1"])) for s, r in zip(skels, rows)])
    return {
        "b0_error": float(np.mean([r["b0_error"] for r in rows])),
        "b1_error": float(np.mean([r["b1_error"] for r in rows])),
        "thinness": float(np.mean([r["thinness"] for r in rows])),
        "ok": float(np.mean([meets_targets(r) for r in rows])),
        "cost": float(costs.mean()), "cost_se": float(costs.std() / np.sqrt(len(costs))),
        "b0_gained": int(delta[:, 0].clip(0).sum()), "b0_lost": int((-delta[:, 0]).clip(0).sum()),
        "b1_gained": int(delta[:, 1].clip(0).sum()), "b1_lost": int((-delta[:, 1]).clip(0).sum()),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, choices=(2, 3), required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("weights", nargs="+")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    sets = selection_sets(a.dim)
    classics = {k: [skeletonize(m, "classic") for m in v] for k, v in sets.items()}
    print("| weights | set | b0 err | b1 err | 2x2 share | meets targets | cost | b0 +/- | b1 +/- |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w in a.weights:
        net = load_network(w, a.dim).eval()
        for name, masks in sets.items():
            r = summarize([skeletonize(m, "skelite", weights=net) for m in masks], masks, classics[name])
            print(f"| {w} | {name} ({len(masks)}) | {r['b0_error']:.2f} | {r['b1_error']:.2f} | {r['thinness']:.2%} | "
                  f"{r['ok']:.0%} | {r['cost']:.2f} +- {r['cost_se']:.2f} | +{r['b0_gained']} -{r['b0_lost']} | "
                  f"+{r['b1_gained']} -{r['b1_lost']} |", flush=True)


if __name__ == "__main__":
    main()
