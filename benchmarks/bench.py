"""Benchmark every method on the same inputs in one process.

    python benchmarks/bench.py [--shared ../shared] [--large] [--repeat 3] [--threads auto] [--load]
    python benchmarks/bench.py --inputs workloads [--small]
    python benchmarks/bench.py --dask 1024,1024,512 [--chunk 128]

Prints a markdown table: median time, ratio to scikit-image and to the
Boolean method, peak resident memory during the run, iterations used, and the
Betti errors. Skelite runs band-sparse (the product path) and dense (the
differentiable reference, on the vessel inputs only), without and with the
topology guard. ``--inputs`` picks the vessel trees (real and synthetic),
the workloads of ``workloads.py`` (thick objects, many labels, blobs) or both;
``--load`` keeps another process busy on one core while timing;
``--threads auto`` is the library's default (one torch thread per call), a
number sets torch's thread count for the whole run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

if not __package__:  # run as ``python benchmarks/NAME.py``: the repository root on the path, for ``benchmarks.*``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.cases import real_cases
from benchmarks.load import BusyCore


class _PeakRSS:
    """Peak resident memory (MiB) of this process while the block runs (Linux /proc).

    ``peak`` is the resident set size; ``peak_anon`` leaves out pages of mapped
    files (memory-mapped inputs and outputs count in the RSS but are page cache).
    """

    def __enter__(self):
        self.peak = self._rss()
        self.peak_anon = self._anon()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._poll, daemon=True)
        self._t.start()
        return self

    def _rss(self):
        try:
            with open("/proc/self/statm") as f:
                import os

                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except OSError:
            return float("nan")

    def _anon(self):
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def _poll(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())
            self.peak_anon = max(self.peak_anon, self._anon())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._rss())


def inputs(shared: Path, large: bool, which: str = "vessels", small: bool = False):
    """``{name: label image}``: the vessel trees, the workloads of ``workloads.py``, or both ("all")."""
    from napari_skelite.synthetic import bezier_tree

    out = {}
    if which in ("workloads", "all"):
        from benchmarks.workloads import build

        out.update(build(small, large))
    if which == "workloads":
        return out
    out.update({name: mask for name, (mask, _) in real_cases(shared).items()})
    out["synthetic 1024^2"] = bezier_tree((1024, 1024), 30, (1.0, 8.0), seed=5)
    out["synthetic 128^3"] = bezier_tree((128, 128, 128), 12, (1.0, 5.0), seed=5)
    if large:
        out["synthetic 256^3"] = bezier_tree((256, 256, 256), 24, (1.0, 6.0), seed=5)
    return out


def main(argv=None):
    import torch

    from napari_skelite.api import skeletonize
    from napari_skelite.device import synchronize
    from napari_skelite.metrics import betti_errors
    from napari_skelite.networks.weights import default_weights_path

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--large", action="store_true", help="also 256^3 (minutes)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", default="auto", help="'auto' (the library's choice) or a torch thread count")
    p.add_argument("--inputs", choices=["vessels", "workloads", "all"], default="vessels")
    p.add_argument("--small", action="store_true", help="the workloads at smaller sizes (seconds)")
    p.add_argument("--load", action="store_true", help="time with another process busy on one core")
    p.add_argument("--match", default=None, help="only the inputs whose name contains this text")
    p.add_argument("--device", default="cpu")
    p.add_argument("--skip-dense", action="store_true", help="skip the dense Skelite reference (slow on CPU)")
    p.add_argument("--dask", default=None, metavar="D,H,W",
                   help="instead: a chunked run on a synthetic volume of this shape stored on disk")
    p.add_argument("--chunk", type=int, default=128, help="chunk side for --dask")
    p.add_argument("--methods", default="skelite", help="comma-separated methods for --dask")
    p.add_argument("--workdir", default=None, help="folder for --dask's memory-mapped files (default: a temp folder)")
    a = p.parse_args(argv)
    threads = "auto" if a.threads == "auto" else None
    if threads is None:
        torch.set_num_threads(int(a.threads))
    print(f"device {a.device}, torch {torch.__version__}, threads {a.threads}, "
          f"{'one core busy' if a.load else 'idle machine'}")
    if a.dask:
        return chunked_run(tuple(int(v) for v in a.dask.split(",")), a.chunk, a.methods.split(","), a.device, a.workdir)
    weights = {}
    for nd in (2, 3):
        w = default_weights_path(nd)
        if not w.is_file():
            from napari_skelite.networks import SkeliteNet

            torch.manual_seed(0)
            weights[nd] = SkeliteNet(nd)
            print(f"note: {w.name} missing; Skelite timed with random weights")
        else:
            weights[nd] = w
    variants = [
        ("classic", "classic", {}),
        ("boolean", "boolean", {}),
        ("local", "local", {}),
        ("skelite", "skelite", {"guard": False}),
        ("skelite + guard", "skelite", {"guard": True}),
        ("skelite dense", "skelite", {"dense": True, "guard": False}),
        ("skelite paper", "skelite", {"variant": "paper", "guard": False}),
        ("skelite paper + guard", "skelite", {"variant": "paper", "guard": True}),
        ("skelite subfield 2D", "skelite", {"variant": "subfield", "guard": False}),
        ("skelite subfield 2D + guard", "skelite", {"variant": "subfield", "guard": True}),
        ("morphological", "morphological", {}),
    ]
    from napari_skelite.methods.skelite import variant_of

    print("| input | method | median s | x classic | Boolean / method | peak RSS MiB | iterations | b0/b1 err |")
    print("|---|---|---|---|---|---|---|---|")
    summary = []
    vessels = set(inputs(Path(a.shared), False, "vessels")) if a.inputs != "workloads" else set()
    for name, mask in inputs(Path(a.shared), a.large, a.inputs, a.small).items():
        if a.match and a.match not in name:
            continue
        times = {}
        for label, method, extra in variants:
            kw = dict(extra)
            if method == "skelite" and "variant" not in kw:
                kw["weights"] = weights[mask.ndim]
            subfield = variant_of(mask.ndim, kw.get("weights"), kw.get("variant")) == "subfield" if method == "skelite" else False
            if label == "skelite dense" and (a.skip_dense or subfield or name not in vessels):
                continue  # the dense reference is the paper variant's, timed on the vessel inputs
            if label.startswith("skelite paper") and (mask.ndim == 2 or not default_weights_path(3, "paper").is_file()):
                continue  # in 2D the default network is the paper variant
            if label.startswith("skelite subfield") and (mask.ndim == 3 or not default_weights_path(2, "subfield").is_file()):
                continue  # in 3D the default network is the subfield variant
            dense = kw.pop("dense", False)
            run = _runner(method, dense, threads)
            # warm-up (weights, tables), which also gives the iteration count
            counted = not dense and mask.size <= 2**22  # every iteration's state is kept: not for huge inputs
            warm = skeletonize(mask, method, device=a.device, return_steps=counted, threads=threads, **kw)
            steps = warm[1] if counted else None
            ts = []
            with _PeakRSS() as mem, BusyCore(a.load):
                for _ in range(a.repeat if label != "skelite dense" else 1):
                    t0 = time.perf_counter()
                    res = run(mask, a.device, kw)
                    synchronize(a.device)
                    ts.append(time.perf_counter() - t0)
            times[label] = statistics.median(ts)
            iters = str(len(steps) - 1) if steps is not None and label in ("boolean", "local", "skelite") else ""
            e = betti_errors(res, mask)
            ratio_c = times[label] / times["classic"]
            ratio_b = times["boolean"] / times[label] if "boolean" in times else float("nan")
            print(f"| {name} | {label} | {times[label]:.4f} | {ratio_c:.1f} | {ratio_b:.2f} | {mem.peak:.0f} | {iters} "
                  f"| {e[0]}/{e[1]} |",
                  flush=True)
        dense = times.get("skelite dense", float("nan")) / times["skelite"]
        summary.append(f"| {name} | {times['skelite'] / times['classic']:.1f} | {dense:.1f} | "
                       f"{times['boolean'] / times['skelite']:.2f} |")
    print("\n| input | Skelite / scikit-image (time) | dense / band-sparse Skelite | Boolean / Skelite |")
    print("|---|---|---|---|")
    print("\n".join(summary))


def chunked_run(shape, chunk, methods, device="cpu", workdir=None):
    """Skeletonize a synthetic volume stored on disk chunk by chunk; print time and peak memory.

    The volume is written to a memory-mapped file first (chunk by chunk), then
    read back as a dask array; each skeleton is stored into another memory-mapped
    file, so neither the input nor the output is ever held in memory whole.
    """
    import tempfile

    import dask
    import dask.array as da

    from napari_skelite.api import skeletonize
    from napari_skelite.synthetic import lazy_bezier_tree

    tmp = Path(workdir or tempfile.mkdtemp(prefix="skelite-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    size = int(np.prod(shape))
    print(f"chunked run: volume {'x'.join(map(str, shape))} ({size / 2**20:.0f} Mi voxels), chunks {chunk}^3, in {tmp}")
    src = np.lib.format.open_memmap(tmp / "volume.npy", "w+", np.uint8, shape)
    t0 = time.perf_counter()
    with _PeakRSS() as mem, dask.config.set(scheduler="threads"):
        n_curves = max(8, round(24 * (size / 256**3) ** (2 / 3)))  # about 256^3's density of vessels per area
        da.store(lazy_bezier_tree(shape, chunk, n_curves, (1.0, 6.0), seed=5).astype(np.uint8), src, lock=False)
    src.flush()
    print(f"generated in {time.perf_counter() - t0:.0f} s, peak RSS {mem.peak:.0f} MiB, "
          f"{int(src.sum(dtype=np.int64))} foreground voxels")
    vol = da.from_array(np.load(tmp / "volume.npy", mmap_mode="r"), chunks=chunk)
    print("| method | time s | peak RSS MiB | of which not file pages MiB | input MiB | skeleton points | chunks |")
    print("|---|---|---|---|---|---|---|")
    for method in methods:
        dst = np.lib.format.open_memmap(tmp / f"skeleton_{method}.npy", "w+", np.uint8, shape)
        t0 = time.perf_counter()
        with _PeakRSS() as mem:
            lazy = skeletonize(vol, method, device=device, threads=None)
            da.store(lazy, dst, lock=False)
        secs = time.perf_counter() - t0
        dst.flush()
        stored = np.load(tmp / f"skeleton_{method}.npy", mmap_mode="r")
        pts = int(da.from_array(stored, chunks=chunk).astype(bool).sum().compute())
        print(f"| {method} | {secs:.0f} | {mem.peak:.0f} | {mem.peak_anon:.0f} | {size / 2**20:.0f} | {pts} | "
              f"{int(np.prod(lazy.numblocks))} |",
              flush=True)
        del dst
    return tmp


def _runner(method, dense, threads="auto"):
    from napari_skelite.api import skeletonize

    if not dense:
        return lambda mask, device, kw: skeletonize(mask, method, device=device, threads=threads, **kw)

    def run(mask, device, kw):
        # the dense differentiable loop on the whole (single-object) mask
        from napari_skelite.device import resolve_device
        from napari_skelite.methods.skelite import run as run_skelite

        skel = run_skelite(np.pad(mask, 1), device=resolve_device(device), dense=True, **kw)[0]
        return skel[tuple(slice(1, -1) for _ in range(mask.ndim))]

    return run


if __name__ == "__main__":
    main()
