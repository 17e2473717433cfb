"""A large synthetic vessel volume as OME-Zarr, skeletonized by the command line into OME-Zarr.

    python benchmarks/big_zarr.py --shape 1024,1024,512 --workdir /tmp/big --whole

1. Writes the input lazily (``synthetic.lazy_bezier_tree``, one 128^3 chunk at
   a time) as an OME-Zarr image with chunks of ``--chunk``.
2. Runs ``napari-skelite skeletonize in.zarr out.zarr --method boolean`` in a
   child process whose stderr is a pseudo-terminal, so its progress bar is
   drawn; records the wall time, the child's peak RSS and the longest time
   between two moves of the bar (its block count).
3. With ``--whole``: runs ``skeletonize`` on the whole volume in memory in
   another child (time, peak RSS) and compares both skeletons block by block.

Prints one markdown row per step.
"""
from __future__ import annotations

import argparse
import os
import pty
import re
import resource
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _child_env():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("COLUMNS", "100")
    return env


def make_input(path: Path, shape, chunk: int, seed: int) -> tuple[float, int]:
    """The OME-Zarr input, written chunk by chunk; returns (seconds, foreground voxels)."""
    import dask.array as da

    from napari_skelite.synthetic import lazy_bezier_tree
    from napari_skelite.zarr_io import write_zarr

    size = int(np.prod(shape))
    n_curves = max(8, round(24 * (size / 256**3) ** (2 / 3)))  # about 256^3's density of vessels per area
    lazy = lazy_bezier_tree(shape, chunk, n_curves, (1.0, 6.0), seed=seed).astype(np.uint8)
    t0 = time.perf_counter()
    write_zarr(path, lazy, spacing=(2.0, 0.5, 0.5), unit="micrometer", chunks=chunk, overwrite=True)
    from napari_skelite.zarr_io import read_zarr

    fg = int(da.count_nonzero(read_zarr(path).data).compute())
    return time.perf_counter() - t0, fg


def run_cli(src: Path, dst: Path, method: str, extra: list[str]) -> dict:
    """The command line in a child with a terminal as stderr: time, peak RSS, longest pause of its bar."""
    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "napari_skelite.cli", "skeletonize", str(src), str(dst), "--method", method,
           "--overwrite", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, env=_child_env(), text=True)
    os.close(slave)
    moves, last, text = [], None, ""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536).decode(errors="replace")
            except OSError:
                data = ""
            if not data and child.poll() is not None:
                break
            text += data
            for m in re.finditer(r"(\d+)/(\d+) \[", data):
                count = (m.group(2), int(m.group(1)))
                if count != last:
                    moves.append((time.perf_counter(), count))
                    last = count
        elif child.poll() is not None:
            break
    out = child.stdout.read()
    child.wait()
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    times = [t0] + [t for t, _ in moves] + [t0 + secs]
    blocks = [c for _, c in moves if c[0] != "0"]
    return {"rc": child.returncode, "seconds": secs, "peak_rss_mib": max(peak, before) / 1024,
            "longest_pause_s": max(np.diff(times)), "bar_moves": len(moves), "stdout": out.strip(),
            "last_count": blocks[-1] if blocks else None, "stderr_tail": text[-400:]}


WHOLE = """
import sys, time, numpy as np, resource
from napari_skelite import skeletonize
from napari_skelite.zarr_io import read_zarr
labels = np.asarray(read_zarr(sys.argv[1]).data.compute())
t0 = time.perf_counter()
skel = skeletonize(labels, sys.argv[3], threads=None)
secs = time.perf_counter() - t0
np.save(sys.argv[2], skel)
print(f"{secs:.1f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def compare_blocks(zarr_path: Path, npy_path: Path, chunk: int) -> tuple[int, int]:
    """(blocks that differ, blocks) between the Zarr skeleton and the in-memory one, one block at a time."""
    from napari_skelite.zarr_io import read_zarr

    stored = read_zarr(zarr_path).data
    whole = np.load(npy_path, mmap_mode="r")
    bad = total = 0
    for index in np.ndindex(*stored.numblocks):
        box = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, stored.chunksize, stored.shape))
        total += 1
        bad += not np.array_equal(stored.blocks[index].compute(), whole[box])
    return bad, total


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", default="1024,1024,512")
    p.add_argument("--chunk", type=int, default=128)
    p.add_argument("--method", default="boolean")
    p.add_argument("--workdir", default="/tmp/skelite-big-zarr")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--whole", action="store_true", help="also run in memory and compare block by block")
    p.add_argument("--keep-input", action="store_true", help="reuse an input written before")
    p.add_argument("cli_args", nargs="*", help="more command-line options (after --)")
    a = p.parse_args(argv)
    shape = tuple(int(v) for v in a.shape.split(","))
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    src, dst = work / "vessels.zarr", work / f"skeleton_{a.method}.zarr"
    label = "x".join(map(str, shape))
    if not (a.keep_input and src.exists()):
        secs, fg = make_input(src, shape, a.chunk, a.seed)
        print(f"input {label} ({np.prod(shape) / 2**20:.0f} Mi voxels, {fg} foreground) written in {secs:.0f} s, "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", flush=True)
    r = run_cli(src, dst, a.method, a.cli_args)
    print(r["stdout"])
    if r["rc"]:
        print(r["stderr_tail"])
        sys.exit(r["rc"])
    print("| volume | run | time s | peak RSS MiB | longest pause of the bar s | blocks |")
    print("|---|---|---|---|---|---|")
    print(f"| {label} | CLI OME-Zarr -> OME-Zarr, {a.method} | {r['seconds']:.0f} | {r['peak_rss_mib']:.0f} | "
          f"{r['longest_pause_s']:.1f} | {r['last_count']} |", flush=True)
    if a.whole:
        npy = work / f"whole_{a.method}.npy"
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", WHOLE, str(src), str(npy), a.method], capture_output=True,
                             text=True, env=_child_env())
        if out.returncode:
            print(out.stderr[-2000:])
            sys.exit(out.returncode)
        secs, rss = out.stdout.split()[-2:]
        bad, total = compare_blocks(dst, npy, a.chunk)
        print(f"| {label} | in memory, {a.method} | {secs} | {rss} | - | {bad} of {total} blocks differ |")
        print(f"(in-memory child {time.perf_counter() - t0:.0f} s with reading and saving)")


if __name__ == "__main__":
    main()
