"""Segmentations users skeletonize every day, beside the vessel trees: thick objects and many labels.

Each function returns a label image (seeded, deterministic); :func:`build` gives
the benchmark's rows (``bench.py --inputs workloads``).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["WORKLOADS", "ball", "blobs", "build", "cube", "disk", "many_labels", "name", "square"]


def disk(side: int, radius: float | None = None) -> np.ndarray:
    """One filled disk (radius ``0.475 * side`` unless given) centred in a ``side^2`` image, uint8."""
    r = 0.475 * side if radius is None else radius
    yy, xx = np.mgrid[:side, :side] - (side - 1) / 2
    return (yy**2 + xx**2 <= r**2).astype(np.uint8)


def ball(side: int, radius: float | None = None) -> np.ndarray:
    """One filled ball (radius ``0.475 * side`` unless given) centred in a ``side^3`` volume, uint8."""
    r = 0.475 * side if radius is None else radius
    zz, yy, xx = np.mgrid[:side, :side, :side] - (side - 1) / 2
    return (zz**2 + yy**2 + xx**2 <= r**2).astype(np.uint8)


def square(side: int, margin: int = 4) -> np.ndarray:
    """One filled square with a ``margin`` of background in a ``side^2`` image, uint8."""
    out = np.zeros((side, side), np.uint8)
    out[margin:-margin, margin:-margin] = 1
    return out


def cube(side: int, margin: int = 4) -> np.ndarray:
    """One filled cube with a ``margin`` of background in a ``side^3`` volume, uint8."""
    out = np.zeros((side,) * 3, np.uint8)
    out[margin:-margin, margin:-margin, margin:-margin] = 1
    return out


def many_labels(n: int, ndim: int, *, seed: int = 0) -> np.ndarray:
    """``n`` small labelled objects (ellipses or ellipsoids, radii 1.5-4.5) on a grid with random jitter.

    Objects sit on a grid of pitch 10: 10,000 labels in 1000^2, 1,000 labels in 100^3. int32.
    """
    rng = np.random.default_rng(seed)
    per_side = int(np.ceil(n ** (1 / ndim)))
    step = 10
    side = per_side * step
    out = np.zeros((side,) * ndim, np.int32)
    centres = np.stack(np.meshgrid(*[np.arange(per_side)] * ndim, indexing="ij"), -1).reshape(-1, ndim)[:n]
    grid = np.mgrid[tuple(slice(-5, 6) for _ in range(ndim))].reshape(ndim, -1).T
    for i, c in enumerate(centres):
        radii = rng.uniform(1.5, 4.5, ndim)
        inside = ((grid / radii) ** 2).sum(1) <= 1
        pts = grid[inside] + c * step + 5 + rng.integers(-1, 2, ndim)
        pts = pts[(pts >= 0).all(1) & (pts < side).all(1)]
        out[tuple(pts.T)] = i + 1
    return out


def blobs(side: int = 96, *, seed: int = 3) -> np.ndarray:
    """scikit-image's binary blobs in a ``side^3`` volume, labelled (26-connected), int32."""
    from skimage.data import binary_blobs

    mask = binary_blobs(length=side, n_dim=3, volume_fraction=0.2, blob_size_fraction=0.1, rng=seed)
    return ndimage.label(mask, np.ones((3, 3, 3), bool))[0].astype(np.int32)


def name(kind: str, image: np.ndarray) -> str:
    """A row name that states the size: ``"filled disk 400^2"``, ``"labels (10,000) 1000^2"``."""
    side = "x".join(map(str, image.shape)) if len(set(image.shape)) > 1 else f"{image.shape[0]}^{image.ndim}"
    if kind in ("labels", "blobs"):
        return f"{kind} ({int(np.unique(image).size - 1):,}) {side}"
    return f"{kind} {side}"


#: (kind, full-size builder, small builder): the benchmark's workloads (``--small`` uses the second)
WORKLOADS = [
    ("filled disk", lambda: disk(400), lambda: disk(200)),
    ("filled square", lambda: square(512), lambda: square(256)),
    ("filled ball", lambda: ball(80), lambda: ball(48)),
    ("filled cube", lambda: cube(128), lambda: cube(64)),
    ("labels", lambda: many_labels(2500, 2), lambda: many_labels(625, 2)),
    ("labels", lambda: many_labels(10000, 2), lambda: many_labels(2500, 2)),
    ("labels", lambda: many_labels(400, 3), lambda: many_labels(125, 3)),
    ("labels", lambda: many_labels(1000, 3), lambda: many_labels(343, 3)),
    ("blobs", lambda: blobs(96), lambda: blobs(64)),
]


def build(small: bool = False, large: bool = False) -> dict:
    """``{row name: label image}`` of every workload (``large``: also a filled cube 256^3)."""
    out = {}
    for kind, full, reduced in WORKLOADS:
        image = (reduced if small else full)()
        out[name(kind, image)] = image
    if large:
        image = cube(256)
        out[name("filled cube", image)] = image
    return out
