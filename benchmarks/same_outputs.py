"""Check that a change leaves every method's output unchanged: save outputs, then compare two saves.

    python benchmarks/same_outputs.py save before.npz      # on the old checkout
    python benchmarks/same_outputs.py save after.npz       # on the new one
    python benchmarks/same_outputs.py compare before.npz after.npz

The cases are those of ``evaluate.py`` (DRIVE and VesSAP when ``../shared`` is
there, held-out synthetic 2D/3D, a thick silhouette, text strokes) and the small
workloads of ``workloads.py``; every method and Skelite variant, the skeleton and
(up to 300,000 points) every iteration's state.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if not __package__:  # run as ``python benchmarks/NAME.py``: the repository root on the path, for ``benchmarks.*``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
VARIANTS = [("skelite", {"guard": False}), ("skelite", {"guard": True}),
            ("skelite", {"variant": "paper", "guard": False}), ("skelite", {"variant": "paper", "guard": True}),
            ("boolean", {}), ("local", {}), ("classic", {}), ("morphological", {})]


def save(path, shared):
    from benchmarks import evaluate, workloads
    from napari_skelite import skeletonize

    cases = {name: mask for name, (mask, _) in evaluate.cases(Path(shared)).items()}
    cases.update(workloads.build(small=True))
    out = {}
    for name, mask in cases.items():
        for method, kw in VARIANTS:
            if kw.get("variant") == "paper" and mask.ndim == 2:
                continue  # the 2D default network is the paper variant
            key = f"{name}|{method}|{sorted(kw.items())}"
            out[key] = skeletonize(mask, method, check_topology=False, **kw)
            if mask.size <= 300_000 and method != "classic":
                out[key + "|steps"] = skeletonize(mask, method, return_steps=True, check_topology=False, **kw)[1]
        print(name, flush=True)
    np.savez_compressed(path, **out)


def compare(before, after) -> int:
    a, b = np.load(before), np.load(after)
    missing = sorted(set(a.files) ^ set(b.files))
    differ = [k for k in sorted(set(a.files) & set(b.files))
              if a[k].shape != b[k].shape or not np.array_equal(a[k], b[k])]
    for k in missing:
        print(f"only in one file: {k}")
    for k in differ:
        n = int((a[k] != b[k]).sum()) if a[k].shape == b[k].shape else "shape"
        print(f"differs: {k} ({n} points)")
    print(f"{len(set(a.files) & set(b.files))} outputs compared, {len(differ)} differ, {len(missing)} unmatched")
    return 1 if differ or missing else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save")
    s.add_argument("out")
    s.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    a = p.parse_args(argv)
    if a.cmd == "save":
        save(a.out, a.shared)
        return 0
    return compare(a.before, a.after)


if __name__ == "__main__":
    sys.exit(main())
