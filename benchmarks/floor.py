"""Where the 2D paper network's time goes, beside scikit-image's, in one process.

    python benchmarks/floor.py [--shared ../shared] [--repeat 5] [--small] [--threads 1] [--match DRIVE]

For each 2D input the band-sparse run of the paper network (``variant="paper"``,
the 2D default), plain and guarded, is timed (one torch thread, the library's
default, unless ``--threads`` says otherwise) and split into two lower bounds
that no rearrangement of the same computation in torch can go below:

- **products**: the run's matrix products and convolutions (their shapes are
  recorded during the run), replayed alone on random inputs of the same shapes;
- **op floor**: the number of torch operations the run calls (counted with a
  ``TorchFunctionMode``) times the cost of the cheapest torch call on this
  machine (a one-element addition, measured here).

Ratios are to scikit-image run per label (``method="classic"``) in the same
process, every call as ``bench.py`` makes it (with the default topology
check). A target below the products' ratio cannot be met by reordering the
run's arithmetic; one below the sum of both needs fewer or cheaper products
(lower precision, more threads, an accelerator) or fewer torch calls per
iteration (compiled loops).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

if not __package__:  # run as ``python benchmarks/NAME.py``: the repository root on the path, for ``benchmarks.*``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.cases import real_cases
from benchmarks.scaling import median_time
from napari_skelite import skeletonize

_PRODUCTS = {torch.addmm, torch.mm, torch.matmul, torch.nn.functional.conv2d, torch.conv2d}


class _Recorder(TorchFunctionMode):
    """Count torch calls and record the arguments' shapes of every product."""

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.products = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        if func in _PRODUCTS:
            self.products.append((func, [a.shape if isinstance(a, torch.Tensor) else a for a in args]))
        return func(*args, **(kwargs or {}))


def _median_time(f, repeat):
    f()  # warm-up
    return median_time(f, repeat)


def _replay(products, repeat):
    """Median time of running only the recorded products, on random inputs of their shapes."""
    g = torch.Generator().manual_seed(0)
    calls = []
    for func, shapes in products:
        args = [torch.randn(s, generator=g) if isinstance(s, torch.Size) else s for s in shapes]
        if args and isinstance(args[0], torch.Tensor) and args[0].ndim == 4:
            args[0] = args[0].contiguous(memory_format=torch.channels_last)
        calls.append((func, args))
    return _median_time(lambda: [func(*args) for func, args in calls], repeat)


def _cheapest_call(n=20000):
    t = torch.zeros(1)
    for _ in range(1000):
        t + 1
    t0 = time.perf_counter()
    for _ in range(n):
        t + 1
    return (time.perf_counter() - t0) / n


def inputs(shared, small):
    from benchmarks import workloads
    from napari_skelite.synthetic import bezier_tree

    out = {name: mask for name, (mask, _) in real_cases(Path(shared)).items() if mask.ndim == 2}
    if not small:
        out["synthetic 1024^2"] = bezier_tree((1024, 1024), 30, (1.0, 8.0), seed=5)  # as in bench.py
    for kind, make, side in (("filled disk", workloads.disk, 200 if small else 400),
                             ("filled square", workloads.square, 256 if small else 512)):
        image = make(side)
        out[workloads.name(kind, image)] = image
    return out


def main(argv=None):
    warnings.simplefilter("ignore")  # the plain network's topology warnings
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--small", action="store_true", help="smaller thick objects, no 1024^2 tree (seconds)")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the network runs (default 1, the library's)")
    p.add_argument("--match", default="", help="only the inputs whose name contains this text")
    a = p.parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(a.threads)
    try:
        _table(a)
    finally:
        torch.set_num_threads(threads)


def _table(a):
    per_call = _cheapest_call()
    print(f"torch {torch.__version__}, {a.threads} thread(s); cheapest torch call {per_call * 1e6:.1f} us\n")
    print("| input | run | classic s | run s | x classic | products x | torch calls | op floor x | floor x |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, mask in inputs(a.shared, a.small).items():
        if a.match not in name:
            continue
        classic = _median_time(lambda: skeletonize(mask, "classic", threads="auto"), a.repeat)
        for guard in (False, True):
            run = lambda: skeletonize(mask, "skelite", variant="paper", guard=guard, threads=a.threads)  # noqa: E731
            secs = _median_time(run, a.repeat)
            with _Recorder() as rec:
                run()
            prod = _replay(rec.products, a.repeat)
            ops = rec.calls * per_call
            print(f"| {name} | {'guard' if guard else 'plain'} | {classic:.4f} | {secs:.4f} | {secs / classic:.1f} "
                  f"| {prod / classic:.1f} | {rec.calls:,} | {ops / classic:.1f} | {(prod + ops) / classic:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
