"""Choose the network's deletion threshold on held-out synthetic data.

Skelite deletes ``sigmoid(logit) * band`` from the running skeleton and keeps
what stays above 0.5, so shifting the bias of the last (1x1) convolution by
``-offset`` moves the operating point between breaking connections (too many
deletions) and thick skeletons (too few) without changing anything else. The
offset is chosen on a calibration set of synthetic images with its own seed,
never on the real evaluation cases.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import torch

from .. import methods
from ..api import skeletonize
from ..networks.weights import load_network, read_card, save_network
from .data import DataConfig, make_masks
from .evaluate import case_metrics, held_out_kwargs, network_skeleton, small_check, validate

__all__ = ["OFFSETS", "THIN_COST", "calibrate", "calibration_table", "choose_offset", "offset_of", "with_offset"]

#: offsets tried by default (logit units)
OFFSETS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
#: cost of one unit of thinness (share of points in 2x2 blocks) against one Betti error per image
THIN_COST = 50.0


def with_offset(net, offset: float):
    """A copy of ``net`` whose deletion logits are lowered by ``offset`` (a bias change of the last layer)."""
    out = copy.deepcopy(net)
    with torch.no_grad():
        out.body[-1].bias -= offset
    return out


def offset_of(card: dict) -> float:
    """The offset already applied to weights with this model card (0 when never calibrated)."""
    return float((card.get("calibration") or {}).get("offset", 0.0))


def calibration_table(net, ndim: int, seed: int, n: int, offsets=OFFSETS) -> list[dict]:
    """Mean Betti errors, thinness and size for each offset on ``n`` calibration images."""
    masks = make_masks(DataConfig.for_dim(ndim, **held_out_kwargs(ndim)), n, seed)
    classic = [skeletonize(m, methods.BASELINE) for m in masks]
    rows = []
    for off in offsets:
        shifted = with_offset(net, off)
        ms = [case_metrics(network_skeleton(m, shifted, guard=True), m, c) for m, c in zip(masks, classic)]
        row = {"offset": float(off)}
        for k in ("b0_error", "b1_error", "thinness", "size_vs_classic", "coverage_classic"):
            row[k] = float(np.mean([r[k] for r in ms]))
        row["cost"] = row["b0_error"] + row["b1_error"] + THIN_COST * row["thinness"]
        rows.append(row)
    return rows


def choose_offset(rows: list[dict]) -> float:
    """The offset of lowest cost (Betti errors per image plus ``THIN_COST`` x thinness)."""
    return min(rows, key=lambda r: (r["cost"], r["offset"]))["offset"]


def calibrate(path, out, ndim: int, seed: int = 20_000, n: int = 16, offsets=OFFSETS, command=None, log=print) -> dict:
    """Calibrate the weights file ``path`` and write it (with its updated card) to ``out``.

    An offset applied before is undone first, so calibrating twice gives the
    same file. The card keeps the whole table, the chosen offset and the
    validation metrics before and after.

    Returns
    -------
    dict : the new model card
    """
    card = read_card(path)
    raw = with_offset(load_network(path, ndim), -offset_of(card))
    rows = calibration_table(raw, ndim, seed, n, offsets)
    for r in rows:
        log(f"offset {r['offset']:.2f}: b0 err {r['b0_error']:.2f}, b1 err {r['b1_error']:.2f}, "
            f"2x2 share {r['thinness']:.4f}, size {r['size_vs_classic']:.2f} -> cost {r['cost']:.2f}")
    best = choose_offset(rows)
    net = with_offset(raw, best)
    val = card.get("validation") or {}
    before = card.get("calibration", {}).get("validation_before", val)
    card["calibration"] = {"command": command, "offset": best, "seed": seed, "samples": n,
                           "thin_cost": THIN_COST, "table": rows, "validation_before": before}
    card["validation"] = validate(net, ndim, seed=int(val.get("seed", 10_000)), n=int(val.get("n", 32)))
    card["small_check"] = small_check(net, ndim)
    save_network(net, out, card)
    Path(out).with_suffix(".json").write_text(json.dumps(read_card(out), indent=2))
    return card
