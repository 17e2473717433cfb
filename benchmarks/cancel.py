"""How fast a Cancel acts, and how often progress moves, on a 160^3 volume of 49 labels or one thick cube.

    python benchmarks/cancel.py [--side 160] [--after 3] [--threads auto]
    python benchmarks/cancel.py --cube 256      # one filled cube: the longest iterations

For each method, skeletonize runs in a thread with the callback the widget
uses; Cancel is pressed ``--after`` seconds in. Prints the time from the press
to the run's return, and the longest gap between two progress calls before it.
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from napari_skelite import skeletonize


class _Cancelled(Exception):
    pass


def volume(side: int) -> np.ndarray:
    """A ``side``^3 volume of thick blobs (a quarter of the voxels) split into 49 labels by a 7x7 grid of columns."""
    from scipy import ndimage

    noise = ndimage.gaussian_filter(np.random.default_rng(3).random((side,) * 3), side / 24)
    blobs = noise > np.quantile(noise, 0.75)
    yy, xx = np.mgrid[:side, :side]
    cells = (yy * 7 // side) * 7 + (xx * 7 // side) + 1
    return np.where(blobs, cells[None], 0).astype(np.uint16)


def measure(labels, method, after, **options) -> tuple[float, float]:
    pressed = threading.Event()
    calls = []

    def callback(done, total):
        calls.append(time.perf_counter())
        if pressed.is_set():
            raise _Cancelled

    result = {}

    def job():
        try:
            skeletonize(labels, method, callback=callback, check_topology=False, check_labels=False, **options)
            result["finished"] = time.perf_counter()
        except _Cancelled:
            result["cancelled"] = time.perf_counter()

    t = threading.Thread(target=job)
    t0 = time.perf_counter()
    t.start()
    t.join(after)
    press = time.perf_counter()
    pressed.set()
    t.join()
    end = result.get("cancelled", result.get("finished"))
    stamps = [t0] + [c for c in calls if c <= press]
    gap = max(np.diff(stamps)) if len(stamps) > 1 else press - t0
    return end - press, gap


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=160)
    p.add_argument("--after", type=float, default=3.0)
    p.add_argument("--threads", default="auto", help="'auto' (the library's choice) or a torch thread count")
    p.add_argument("--cube", type=int, default=None, metavar="SIDE", help="instead: one filled cube of this side")
    a = p.parse_args(argv)
    import torch

    if a.threads != "auto":
        torch.set_num_threads(int(a.threads))
    if a.cube:
        labels = np.zeros((a.cube,) * 3, np.uint8)
        labels[4:-4, 4:-4, 4:-4] = 1
    else:
        labels = volume(a.side)
    side = a.cube or a.side
    print(f"{side}^3, {len(np.unique(labels)) - 1} labels, {int((labels > 0).sum()):,} foreground voxels; "
          f"Cancel pressed after {a.after:g} s")
    print("| method | Cancel to return (s) | longest gap between progress calls (s) |\n|---|---|---|")
    for name, method, options in (("boolean", "boolean", {}), ("local", "local", {}),
                                  ("skelite + guard", "skelite", {"guard": True}),
                                  ("skelite", "skelite", {"guard": False}), ("classic", "classic", {})):
        skeletonize(labels[:32, :32, :32], method, check_topology=False, check_labels=False, **options)  # warm
        cancel, gap = measure(labels, method, a.after, **options)
        said = "finished before the press" if cancel < 0 else f"{cancel:.2f}"
        print(f"| {name} | {said} | {gap:.2f} |", flush=True)


if __name__ == "__main__":
    main()
