"""Random topology search: every method on many small random label images full of topology.

    python benchmarks/topology_search.py --n 10000 [--start 0] [--out topology-search] [--threads 1]

Each seed gives one 2D (even seeds) or 3D (odd seeds) image from
:func:`napari_skelite.synthetic.topology_shape`: blobs with holes, tunnels,
cavities and labels touching face to face and diagonally; every odd seed also
gives a 3D image of flat objects (:func:`plate_for`: plates one or two voxels
thick, some with a hole, and thin slabs, longer than a chunk and its halo, which
scikit-image's 3D thinning erases). For every image:

- the methods that guarantee topology (Boolean, local, Skelite with the guard)
  keep every Betti number (b0, b1 and in 3D b2) of every label id exactly;
- every method returns a subset of the input that keeps each point's id and
  every id;
- the chunked run (chunks of 6 or 8 points) equals the whole-image run.

A failing image is saved as ``OUT/counterexample-SEED.npy`` with its failures
in ``OUT/failures.txt``; ``OUT/progress.json`` holds the count reached, so a
second run with the same ``--out`` resumes where the first stopped.
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from napari_skelite import skeletonize
from napari_skelite.chunked import ChunkSizeWarning
from napari_skelite.metrics import betti_per_label
from napari_skelite.synthetic import topology_shape

#: (name, method, options, guarantees topology)
RUNS = [
    ("boolean", "boolean", {}, True),
    ("local", "local", {}, True),
    ("skelite + guard", "skelite", {"guard": True}, True),
    ("skelite", "skelite", {"guard": False}, False),
    ("morphological", "morphological", {}, False),
    ("classic", "classic", {}, False),
]


def shape_for(seed: int) -> np.ndarray:
    """The search's image for ``seed``: 2D for even seeds (up to 24 px a side), 3D for odd (up to 12)."""
    return topology_shape(seed, ndim=2, size=24) if seed % 2 == 0 else topology_shape(seed, ndim=3, size=12)


def plate_for(seed: int) -> np.ndarray:
    """Flat objects for ``seed``: 1-3 labels, each a plate (1-2 voxels thick, maybe with a hole) or a thin slab.

    A volume of 6-12 x 6-12 x 24-48 voxels, its axes in a random order; the
    objects are axis-aligned, may touch or cross, and most are longer than a
    chunk of 6 or 8 points and its halo, so no chunk holds them whole.
    """
    rng = np.random.default_rng(seed)
    shape = [int(rng.integers(6, 13)), int(rng.integers(6, 13)), int(rng.integers(24, 49))]
    labels = np.zeros(shape, np.uint8)
    for lab in range(1, int(rng.integers(1, 4)) + 1):
        thin = [int(rng.integers(1, 3)), int(rng.integers(1, 4)) if rng.random() < 0.5 else None]
        box = []
        for axis, n in enumerate(shape):
            side = thin[axis] if axis < 2 and thin[axis] is not None else int(rng.integers(n // 2, n + 1))
            start = int(rng.integers(0, n - side + 1))
            box.append(slice(start, start + side))
        labels[tuple(box)] = lab
        if thin[1] is None and rng.random() < 0.4:  # a plate with a hole: a tunnel through it
            hole = list(box)
            hole[1] = slice(box[1].start + 2, max(box[1].start + 3, box[1].stop - 2))
            hole[2] = slice(box[2].start + 2, max(box[2].start + 3, box[2].stop - 2))
            labels[tuple(hole)] = 0
    return np.ascontiguousarray(np.transpose(labels, rng.permutation(3)))


def check(labels: np.ndarray, *, chunk: int | None = None, runs=RUNS) -> list[str]:
    """Every failure of every run on ``labels`` (an empty list when all hold).

    Parameters
    ----------
    labels : (M, N) or (P, M, N) uint8 array
    chunk : int, optional
        Also compare a chunked run with this chunk size to the whole-image run.
    """
    failures = []
    betti = betti_per_label(labels)
    for name, method, options, keeps in runs:
        skel = skeletonize(labels, method, device="cpu", check_topology=False, **options)
        if not np.all((skel == 0) | (skel == labels)):
            failures.append(f"{name}: a skeleton point is outside its label")
        if set(np.unique(skel[skel > 0]).tolist()) != set(betti):
            failures.append(f"{name}: label ids lost")
        if keeps:
            got = betti_per_label(skel)
            bad = {i: (b, got.get(i)) for i, b in betti.items() if got.get(i) != b}
            if bad:
                failures.append(f"{name}: Betti numbers changed (id: (input, skeleton)) {bad}")
        if chunk is not None:
            with warnings.catch_warnings():  # chunks this small are below every halo on purpose
                warnings.simplefilter("ignore", ChunkSizeWarning)
                chunked = skeletonize(labels, method, device="cpu", check_topology=False, chunks=chunk, **options)
            if not np.array_equal(chunked, skel):
                failures.append(f"{name}: chunks of {chunk} differ from the whole image "
                                f"({int((chunked != skel).sum())} points)")
    return failures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="images to test (default 1000)")
    p.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("topology-search"), help="folder for progress and counterexamples")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    progress = args.out / "progress.json"
    state = {"start": args.start, "done": 0, "failed": [], "seconds": 0.0}
    if progress.exists():
        saved = json.loads(progress.read_text())
        if saved.get("start") == args.start:
            state = saved
    t0 = time.perf_counter() - state["seconds"]
    for k in range(state["done"], args.n):
        seed = args.start + k
        chunk = 6 + 2 * (seed // 2 % 2)
        images = {"": shape_for(seed)} | ({"plate-": plate_for(seed)} if seed % 2 else {})
        for kind, labels in images.items():
            failures = check(labels, chunk=chunk)
            if failures:
                np.save(args.out / f"counterexample-{kind}{seed}.npy", labels)
                with open(args.out / "failures.txt", "a") as f:
                    f.writelines(f"seed {seed} {kind or 'topology'}: {msg}\n" for msg in failures)
                state["failed"].append(f"{kind}{seed}")
        state["done"] = k + 1
        state["seconds"] = time.perf_counter() - t0
        if state["done"] % 50 == 0 or state["done"] == args.n:
            progress.write_text(json.dumps(state))
            print(f"{state['done']}/{args.n} images, {len(state['failed'])} with failures, "
                  f"{state['seconds']:.0f} s", flush=True)
    n_2d = sum(1 for k in range(args.n) if (args.start + k) % 2 == 0)
    n_3d = args.n - n_2d
    print(f"| images (2D / 3D / 3D plates) | runs per image | counterexamples | time |\n|---|---|---|---|\n"
          f"| {args.n + n_3d} ({n_2d} / {n_3d} / {n_3d}) | {len(RUNS)} methods, whole and chunked | "
          f"{len(state['failed'])} | {state['seconds'] / 60:.0f} min |")
    return 1 if state["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
