"""How time grows with the number of voxels (fixed object radius) and with the radius (fixed volume).

    python benchmarks/scaling.py [--methods classic,boolean,local,skelite] [--repeat 3] [--load]

Prints, per method and dimension, the times of each series and the fitted
exponent ``b`` of ``time ~ x**b`` (least squares on log-log): ``b <= 1`` is
linear or better. Series (label images, one id per object):

- voxels at fixed radius: a grid of disks of radius 8 (2D) / balls of radius 5 (3D), the
  image growing by 4x (2D) / 8x (3D) per step;
- radius at fixed volume: about the same number of object points (120,000 in 2D, 250,000 in
  3D) as disks (balls) of growing radius, fewer of them as they grow.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if not __package__:  # run as ``python benchmarks/NAME.py``: the repository root on the path, for ``benchmarks.*``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.load import BusyCore

__all__ = ["exponent", "main", "median_time", "objects_grid", "series"]


def objects_grid(side: int, ndim: int, radius: float) -> np.ndarray:
    """Disks (2D) or balls (3D) of ``radius``, one label each, on a grid of pitch ``2 * radius + 4`` in a ``side^ndim`` image."""
    pitch = int(2 * radius + 4)
    n = side // pitch
    r = np.arange(pitch) - (pitch - 1) / 2
    ball = sum(np.meshgrid(*[r**2] * ndim, indexing="ij")) <= radius**2
    ids = np.arange(1, n**ndim + 1, dtype=np.int32).reshape((n,) * ndim)
    tiled = np.kron(ids, np.ones((pitch,) * ndim, np.int32)) * np.tile(ball, (n,) * ndim)
    out = np.zeros((side,) * ndim, np.int32)
    out[tuple(slice(0, n * pitch) for _ in range(ndim))] = tiled
    return out


def _fixed_volume(points: int, ndim: int, radius: float) -> np.ndarray:
    """About ``points`` object points as a square grid of objects of ``radius``."""
    per_object = np.pi * radius**2 if ndim == 2 else 4 / 3 * np.pi * radius**3
    n = max(1, round((points / per_object) ** (1 / ndim)))
    return objects_grid(n * int(2 * radius + 4), ndim, radius)


def series(ndim: int, small: bool = False) -> dict:
    """``{"voxels": [(x, image)], "radius": [(x, image)]}`` for one dimension."""
    if ndim == 2:
        sides = (128, 256, 512) if small else (256, 512, 1024)
        radii = (4, 8, 16, 32) if small else (4, 8, 16, 32, 64, 100)
        points, r0 = (30_000 if small else 120_000), 8
    else:
        sides = (24, 48) if small else (32, 64, 128)
        radii = (3, 5, 10) if small else (3, 5, 10, 20, 40)
        points, r0 = (30_000 if small else 250_000), 5
    return {"voxels": [(s**ndim, objects_grid(s, ndim, r0)) for s in sides],
            "radius": [(r, _fixed_volume(points, ndim, r)) for r in radii]}


def exponent(xs, ts) -> float:
    """Slope of ``log t`` against ``log x`` (least squares)."""
    return float(np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ts, float)), 1)[0])


def median_time(fn, repeat) -> float:
    """Median wall time of ``repeat`` calls of ``fn`` (seconds)."""
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv=None):
    from napari_skelite import skeletonize

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", default="classic,boolean,local,skelite")
    p.add_argument("--dims", default="2,3")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--small", action="store_true", help="smaller series (seconds; for tests)")
    p.add_argument("--load", action="store_true", help="time with a busy process on one core")
    a = p.parse_args(argv)
    methods = a.methods.split(",")
    print("| dim | series | method | times s (smallest to largest x) | exponent |")
    print("|---|---|---|---|---|")
    results = {}
    for nd in (int(d) for d in a.dims.split(",")):
        for name, items in series(nd, a.small).items():
            for m in methods:
                skeletonize(items[0][1], m)  # warm-up: weights, tables
                with BusyCore(a.load):
                    ts = [median_time(lambda img=img: skeletonize(img, m), a.repeat) for _, img in items]
                b = exponent([x for x, _ in items], ts)
                results[(nd, name, m)] = b
                label = "voxels (radius fixed)" if name == "voxels" else "radius (volume fixed)"
                print(f"| {nd}D | {label} | {m} | {', '.join(f'{t:.3f}' for t in ts)} | {b:.2f} |", flush=True)
    return results


if __name__ == "__main__":
    main()
