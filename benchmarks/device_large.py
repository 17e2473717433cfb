"""Larger volumes on the CPU and on an accelerator, in one process: same skeletons, and the time ratio.

    python benchmarks/device_large.py --device cuda

Prints a markdown table row per (volume, method): points differing between the devices, seconds on
each (one call after a small warm-up call), CPU / device. Needs the package on ``PYTHONPATH``.
"""
import argparse
import sys
import time
from pathlib import Path

import torch

if not __package__:  # run as ``python benchmarks/NAME.py``: the repository root on the path, for ``benchmarks.*``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.workloads import ball, blobs
from napari_skelite import skeletonize


def _timed(mask, method, device):
    skeletonize(mask[:32, :32, :32], method, device=device)  # warm-up: weights, tables, kernels
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    out = skeletonize(mask, method, device=device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return out, time.perf_counter() - t


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--methods", nargs="+", default=["skelite", "boolean"])
    a = p.parse_args()
    cases = {"ball 256^3": ball(256), "blobs 320^3": blobs(320)}
    print("| volume | method | points differing | CPU s | device s | CPU / device |\n|---|---|---|---|---|---|")
    for name, mask in cases.items():
        for method in a.methods:
            cpu, t_cpu = _timed(mask, method, "cpu")
            dev, t_dev = _timed(mask, method, a.device)
            print(f"| {name} | {method} | {int((cpu != dev).sum())} | {t_cpu:.2f} | {t_dev:.2f} | {t_cpu / t_dev:.1f}x |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
