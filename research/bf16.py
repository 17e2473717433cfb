"""How often bfloat16 changes a Skelite skeleton, and how much faster it is (CPU, same process).

    python research/bf16.py [--shared ../shared] [--n 32]

Runs the shipped weights on the held-out validation samples of the training
pipeline (seed 10000) and on DRIVE/VesSAP when present; prints per set the share
of inputs whose skeleton is identical, the points that differ, and the median
time of each precision.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from napari_skelite import skeletonize
from napari_skelite.training.data import DataConfig, make_masks


def _timed(mask, precision):
    t0 = time.perf_counter()
    out = skeletonize(mask, "skelite", device="cpu", precision=precision)
    return out > 0, time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    sets = {}
    for nd, kw, n in ((2, dict(n_curves=(10, 16), radius=(1.5, 10.0)), a.n), (3, dict(n_curves=(6, 9), radius=(1.5, 6.0)), a.n // 2)):
        sets[f"validation {nd}D (n={n})"] = list(make_masks(DataConfig.for_dim(nd, **kw), n, 10_000))
    real = Path(a.shared) / "data" / "real"
    if (real / "image_drive.png").is_file():
        import imageio.v3 as iio

        sets["DRIVE"] = [iio.imread(real / "image_drive.png") > 0]
        sets["VesSAP"] = [np.load(real / "image_vessap.npy") > 0.5]
    print(f"CPU bf16 support: {torch.backends.mkldnn.is_available()} (torch {torch.__version__}, {a.threads} threads)")
    print("| inputs | identical skeletons | differing points / skeleton points | float32 s (median) | bfloat16 s | speed-up |")
    print("|---|---|---|---|---|---|")
    for name, masks in sets.items():
        _timed(masks[0], "float32"), _timed(masks[0], "bfloat16")  # warm-up
        same, diff, pts, t32, t16 = 0, 0, 0, [], []
        for m in masks:
            s32, a32 = _timed(m, "float32")
            s16, a16 = _timed(m, "bfloat16")
            same += bool(np.array_equal(s32, s16))
            diff += int((s32 != s16).sum())
            pts += int(s32.sum())
            t32.append(a32)
            t16.append(a16)
        m32, m16 = statistics.median(t32), statistics.median(t16)
        print(f"| {name} | {same}/{len(masks)} | {diff}/{pts} | {m32:.3f} | {m16:.3f} | {m32 / m16:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
