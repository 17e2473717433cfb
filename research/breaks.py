"""Where a skeleton breaks: its pieces inside each connected component of the mask.

    python research/breaks.py [--shared ../shared] [--guard] weights/skelite_2d.pt [other.pt ...]

For every 2D case of ``benchmarks/evaluate.py`` (DRIVE, the held-out synthetic images, the thick
silhouette, the text strokes) and every weights file, prints the mask components whose skeleton
is not in exactly one piece (8-connected), with the sizes of the pieces, largest first: a break
shows as a large piece plus smaller ones, a stray point as a piece of size 1, an erased
component as no piece at all.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

import sys

from napari_skelite import skeletonize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from evaluate import cases

_EIGHT = np.ones((3, 3), bool)


def pieces_per_component(mask: np.ndarray, skel: np.ndarray) -> list[tuple[int, int, list[int]]]:
    """Components of ``mask`` whose skeleton is not one piece.

    Parameters
    ----------
    mask, skel : (H, W) arrays, nonzero = foreground

    Returns
    -------
    list of ``(component id, component size, piece sizes largest first)``, one entry per component
    whose skeleton has zero or several 8-connected pieces
    """
    comp, n = ndi.label(mask > 0, _EIGHT)
    pieces, _ = ndi.label(skel > 0, _EIGHT)
    out = []
    for c in range(1, n + 1):
        inside = comp == c
        _, counts = np.unique(pieces[inside & (pieces > 0)], return_counts=True)
        sizes = sorted(counts.tolist(), reverse=True)
        if len(sizes) != 1:
            out.append((c, int(inside.sum()), sizes))
    return out


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--guard", action="store_true", help="with the topology guard")
    p.add_argument("weights", nargs="+")
    a = p.parse_args(argv)
    for name, (mask, _) in cases(Path(a.shared)).items():
        if mask.ndim != 2:
            continue
        for w in a.weights:
            skel = skeletonize(mask, "skelite", weights=w, guard=a.guard, device="cpu")
            bad = pieces_per_component(mask, skel)
            print(f"{name} | {w} | components not in one piece: {len(bad)}")
            for c, size, sizes in bad:
                shown = ", ".join(map(str, sizes[:8])) + (" ..." if len(sizes) > 8 else "")
                print(f"    component {c} ({size} px): pieces {shown or 'none'}")


if __name__ == "__main__":
    main()
