"""Train a tiny segmentation net on noisy synthetic vessels with Dice vs Dice + clDice.

    python examples/cldice_segmentation.py [--steps 400] [--skeletonizer boolean]

Prints Dice and the Betti-0 error (components of the thresholded prediction vs
the ground truth) on held-out images for both losses, same seed and steps.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from napari_skelite.losses import ClDiceLoss
from napari_skelite.metrics import betti_numbers
from napari_skelite.synthetic import bezier_tree


def make_data(n, seed, size=64):
    rng = np.random.default_rng(seed)
    masks, images = [], []
    for _i in range(n):
        m = bezier_tree((size, size), int(rng.integers(3, 6)), (0.8, 2.0), seed=int(rng.integers(1 << 31)))
        img = ndimage.gaussian_filter(m.astype(float), 1.0)
        # faint stretches: the contrast drops along random blobs, as in real vessel images
        fade = ndimage.gaussian_filter(rng.random((size, size)), 4)
        fade = (fade - fade.min()) / (np.ptp(fade) + 1e-9)
        img = img * (0.25 + 0.75 * fade) + rng.normal(0, 0.12, m.shape)
        masks.append(m)
        images.append(img)
    to_t = lambda a: torch.as_tensor(np.array(a), dtype=torch.float32)[:, None]  # noqa: E731
    return to_t(images), to_t(masks)


def tiny_net():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=2, dilation=2), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=4, dilation=4), nn.ReLU(),
        nn.Conv2d(16, 1, 1), nn.Sigmoid(),
    )


def dice_loss(p, t, eps=1e-6):
    return 1 - (2 * (p * t).sum() + eps) / (p.sum() + t.sum() + eps)


def train(x, y, steps, cldice_weight, skeletonizer, seed=0, batch=8):
    torch.manual_seed(seed)
    net = tiny_net()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    cl = ClDiceLoss(skeletonizer, iterations=None if skeletonizer != "morphological" else 5)
    rng = np.random.default_rng(seed)
    for _step in range(steps):
        idx = torch.as_tensor(rng.integers(0, len(x), batch))
        p = net(x[idx])
        loss = dice_loss(p, y[idx])
        if cldice_weight:
            loss = loss + cldice_weight * cl(p, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def evaluate(net, x, y):
    with torch.no_grad():
        pred = (net(x) > 0.5).numpy()[:, 0]
    gt = y.numpy()[:, 0] > 0.5
    dice = np.mean([2 * (a & b).sum() / max(1, a.sum() + b.sum()) for a, b in zip(pred, gt)])
    b0 = np.mean([abs(betti_numbers(a)[0] - betti_numbers(b)[0]) for a, b in zip(pred, gt)])
    return dice, b0


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--train", type=int, default=64)
    p.add_argument("--test", type=int, default=32)
    p.add_argument("--skeletonizer", default="boolean", choices=["morphological", "boolean", "skelite"])
    p.add_argument("--cldice-weight", type=float, default=0.5)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    xtr, ytr = make_data(a.train, 0)
    xte, yte = make_data(a.test, 1)
    rows = []
    for name, w in (("Dice", 0.0), (f"Dice + {a.cldice_weight} clDice ({a.skeletonizer})", a.cldice_weight)):
        net = train(xtr, ytr, a.steps, w, a.skeletonizer)
        dice, b0 = evaluate(net, xte, yte)
        rows.append((name, dice, b0))
        print(f"{name:40s} Dice {dice:.3f}  mean Betti-0 error {b0:.2f}", flush=True)
    return rows


if __name__ == "__main__":
    main()
