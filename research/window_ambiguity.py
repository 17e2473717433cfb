"""Lower bound on the error of any classifier that sees only the network's 7x7(x7) window.

    python research/window_ambiguity.py --dim 2 --images 300 [--teacher local|directional] [--cache DIR]

Teacher-forced inputs ``(band, C, S)`` of the training data: the binary 7x7 window of the three
channels at every band point is hashed; a window that occurs with both targets (keep / delete)
cannot be right every time for any function of the window, so the minority count is an error
that no network with this receptive field can avoid. Only informative when windows repeat
(2D); in 3D almost every window is unique.
"""
from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
import torch

from napari_skelite.training.data import TEACHERS, DataConfig, make_dataset
from napari_skelite.training.loop import teacher_forcing_batch

RADIUS = 3  # three 3x3 convolutions


def window_counts(mask, skel, counts):
    """Add ``[deleted, kept]`` counts per distinct window of one image to ``counts``; returns band size."""
    nd = mask.ndim
    m = torch.from_numpy(mask)[None, None].float()
    t = torch.from_numpy(skel)[None, None].float()
    x, band, target = teacher_forcing_batch(m, t, outside=0.0)
    win = torch.nn.functional.pad(x, (RADIUS, RADIUS) * nd)
    for axis in range(2, 2 + nd):
        win = win.unfold(axis, 2 * RADIUS + 1, 1)
    n = 0
    for k in range(len(x)):
        pts = torch.nonzero(band[k, 0])
        w = win[k][(slice(None),) + tuple(pts.unbind(-1))]  # (3, N, 7, 7[, 7])
        w = w.transpose(0, 1).reshape(len(pts), -1).numpy().astype(bool)
        labels = target[k, 0][tuple(pts.unbind(-1))].numpy().astype(int)
        for key, label in zip(map(bytes, np.packbits(w, axis=1)), labels):
            counts[key][1 - label] += 1
        n += len(pts)
    return n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dim", type=int, default=2)
    p.add_argument("--images", type=int, default=300)
    p.add_argument("--teacher", default="local", choices=TEACHERS)
    p.add_argument("--cache", default=None)
    a = p.parse_args(argv)
    masks, skels = make_dataset(DataConfig.for_dim(a.dim, teacher=a.teacher), a.images, 0, a.cache)
    counts = defaultdict(lambda: [0, 0])
    total = sum(window_counts(masks[i], skels[i], counts) for i in range(a.images) if masks[i].any())
    ambiguous = sum(d + k for d, k in counts.values() if d and k)
    unavoidable = sum(min(d, k) for d, k in counts.values())
    kept = sum(k for _, k in counts.values())
    print(f"{a.dim}D, {a.teacher} teacher, {a.images} images: {total} band points ({kept} teacher skeleton points), "
          f"{len(counts)} distinct windows; points in windows seen with both targets: {ambiguous} "
          f"({ambiguous / total:.2%}); unavoidable errors: {unavoidable} ({unavoidable / total:.2%} of band points, "
          f"{unavoidable / max(kept, 1):.1%} of the skeleton points' count)")


if __name__ == "__main__":
    main()
