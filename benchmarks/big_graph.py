"""The branch table of a large OME-Zarr skeleton, read block by block, against the whole skeleton in memory.

    nice python benchmarks/big_graph.py --shape 512,512,512 --workdir /tmp/skelite-big-graph

1. Writes the synthetic vessel volume of ``benchmarks/big_zarr.py`` as OME-Zarr
   (``--keep-input`` reuses it) and its skeleton with
   ``napari-skelite skeletonize vessels.zarr skeleton.zarr --method METHOD``.
2. In a child process: ``branch_table(skeleton, spacing, mask=labels)`` on the
   two lazy OME-Zarr arrays (read block by block); time and peak RSS.
3. In another child (unless ``--no-memory``): the same on both arrays read
   into memory (the time leaves the reading out; the peak RSS holds it).
4. Compares both tables' CSV files byte for byte.
5. With ``--cli``: ``napari-skelite skeletonize vessels.zarr branches.csv``
   (the skeleton made and its table written from its points); time and peak
   RSS. With ``--before SRC`` also the command line of the package in ``SRC``
   (e.g. ``git archive`` of an older commit's ``src``), and both CSV files compared.

Prints one markdown row per run.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from big_zarr import _child_env, make_input

CHILD = """
import resource, sys, time
import numpy as np
from napari_skelite.graph import branch_table
from napari_skelite.zarr_io import read_zarr
skel, labels = read_zarr(sys.argv[1]), read_zarr(sys.argv[2])
s, m = skel.data, labels.data
if sys.argv[4] == "memory":
    s, m = np.asarray(s.compute()), np.asarray(m.compute())
t0 = time.perf_counter()
table = branch_table(s, skel.spacing, mask=m)
secs = time.perf_counter() - t0
table.to_csv(sys.argv[3], index=False)
print(f"{secs:.1f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {len(table)}")
"""


def _child(args: list[str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=_child_env())
    if out.returncode:
        print(out.stderr[-3000:])
        sys.exit(out.returncode)
    return out.stdout.split()[-3:]


CLI = """
import resource, sys
from napari_skelite.cli import main
rc = main(sys.argv[1:])
print(f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
sys.exit(rc)
"""


def _cli(args: list[str], src: str | None = None) -> tuple[float, float, str]:
    """Run the command line in a child (the package from ``src``, default this tree's): (seconds, its peak RSS MiB,
    the line it printed)."""
    env = _child_env()
    if src:
        env["PYTHONPATH"] = str(Path(src).resolve())
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, env=env)
    secs = time.perf_counter() - t0
    if out.returncode:
        print(out.stderr[-3000:])
        sys.exit(out.returncode)
    lines = out.stdout.strip().splitlines()
    return secs, float(lines[-1].split()[-1]), lines[-2]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", default="512,512,512")
    p.add_argument("--chunk", type=int, default=128)
    p.add_argument("--method", default="skelite")
    p.add_argument("--workdir", default="/tmp/skelite-big-graph")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--keep-input", action="store_true", help="reuse the input and skeleton written before")
    p.add_argument("--cli", action="store_true", help="also time the command line from the input to the CSV")
    p.add_argument("--no-memory", action="store_true", help="skip the in-memory run (volumes that do not fit)")
    p.add_argument("--before", default=None, metavar="SRC",
                   help="with --cli: also run the command line of the package in SRC (e.g. an older `src` folder)")
    a = p.parse_args(argv)
    shape = tuple(int(v) for v in a.shape.split(","))
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    src, skel = work / "vessels.zarr", work / f"skeleton_{a.method}.zarr"
    label = "x".join(map(str, shape))
    if not (a.keep_input and src.exists() and skel.exists()):
        secs, fg = make_input(src, shape, a.chunk, a.seed)
        print(f"input {label} ({np.prod(shape) / 2**20:.0f} Mi voxels, {fg} foreground) written in {secs:.0f} s",
              flush=True)
        secs, peak, line = _cli(["skeletonize", str(src), str(skel), "--method", a.method, "--overwrite",
                                 "--quiet"])
        print(f"skeleton in {secs:.0f} s, peak RSS {peak:.0f} MiB: {line}", flush=True)
    print("| volume | run | time s | peak RSS MiB | rows |")
    print("|---|---|---|---|---|")
    rows = {}
    for how in ("blocks",) if a.no_memory else ("blocks", "memory"):
        csv = work / f"table_{how}.csv"
        secs, rss, n = _child([str(skel), str(src), str(csv), how])
        rows[how] = csv
        what = ("`branch_table` of the OME-Zarr skeleton and labels, block by block" if how == "blocks" else
                "`branch_table` of both read into memory (reading not timed)")
        print(f"| {label} | {what} | {secs} | {rss} | {n} |", flush=True)
    if "memory" in rows:
        print(f"tables identical: {rows['blocks'].read_bytes() == rows['memory'].read_bytes()}")
    if a.cli:
        out = work / "branches.csv"
        secs, peak, line = _cli(["skeletonize", str(src), str(out), "--method", a.method, "--overwrite", "--quiet"])
        print(f"| {label} | `napari-skelite skeletonize vessels.zarr branches.csv --method {a.method}` "
              f"| {secs:.0f} | {peak:.0f} | {line} |", flush=True)
        if a.before:
            old = work / "branches_before.csv"
            secs, peak, line = _cli(["skeletonize", str(src), str(old), "--method", a.method, "--overwrite",
                                     "--quiet"], a.before)
            print(f"| {label} | the same, package in {a.before} | {secs:.0f} | {peak:.0f} | {line} |")
            print(f"CSV files identical: {old.read_bytes() == out.read_bytes()}")


if __name__ == "__main__":
    main()
