"""Evaluate every method on real and synthetic cases; print markdown tables.

    python benchmarks/evaluate.py [--shared ../shared] [--weights-2d PATH] [--weights-3d PATH]

Real data (DRIVE 2D, VesSAP 3D) is read from ``<shared>/data/real`` when present.
Each case is checked against the quality targets of ``napari_skelite.training.evaluate``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if not __package__:  # run as ``python benchmarks/NAME.py``: the repository root on the path, for ``benchmarks.*``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.cases import real_cases
from napari_skelite import skeletonize
from napari_skelite.metrics import betti_numbers, cldice
from napari_skelite.synthetic import silhouette, text_mask
from napari_skelite.training.data import DataConfig, make_masks
from napari_skelite.training.evaluate import case_metrics, meets_targets


def cases(shared: Path):
    out = real_cases(shared)
    m2 = make_masks(DataConfig.for_dim(2, size=256, n_curves=(12, 16), radius=(1.5, 10.0)), 2, 777)
    m3 = make_masks(DataConfig.for_dim(3, size=64, n_curves=(6, 9), radius=(1.5, 6.0)), 2, 777)
    for i in range(2):
        out[f"held-out synthetic 2D #{i}"] = (m2[i], None)
        out[f"held-out synthetic 3D #{i}"] = (m3[i], None)
    out["thick silhouette"] = (silhouette(), None)
    out["text strokes"] = (text_mask(), None)
    return out


def _timed(f):
    f()  # warm-up (weights, tables)
    t0 = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--weights-2d", default=None)
    p.add_argument("--weights-3d", default=None)
    a = p.parse_args(argv)
    weights = {2: a.weights_2d, 3: a.weights_3d}
    variants = [("skelite", False), ("skelite", True), ("boolean", False), ("local", False), ("morphological", False),
                ("classic", False)]
    print("| case | b0/b1 | method | b0 err | b1 err | 2x2 share | clDice vs Boolean | size vs classic "
          "| coverage of classic | time (s) | targets |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, (mask, ref) in cases(Path(a.shared)).items():
        b = betti_numbers(mask)
        res = {}
        for method, guard in variants:
            kw = {"weights": weights[mask.ndim], "guard": guard} if method == "skelite" else {}
            try:
                res[(method, guard)] = _timed(lambda: skeletonize(mask, method, device="cpu", **kw))
            except FileNotFoundError as e:
                print(f"| {name} | | {method} | unavailable: {e} |")
        boolean, classic = res[("boolean", False)][0], res[("classic", False)][0]
        for (method, guard), (skel, secs) in res.items():
            m = case_metrics(skel, mask, classic)
            label = method + (" + guard" if guard else "")
            tgt = "yes" if meets_targets(m) else "no"
            print(f"| {name} | {b[0]}/{b[1]} | {label} | {m['b0_error']} | {m['b1_error']} | {m['thinness']:.4f} | "
                  f"{cldice(skel, boolean):.4f} | {m['size_vs_classic']:.3f} | {m['coverage_classic']:.3f} "
                  f"| {secs:.3f} | {tgt} |")
        if ref is not None:
            print(f"| {name} | | boolean vs published reference skeleton: clDice {cldice(boolean, ref, tolerance=0):.4f}, "
                  f"differing points {int(((boolean > 0) ^ ref).sum())} | | | | | | | | |")


if __name__ == "__main__":
    main()
