"""Seeded synthetic vessel-like masks: random Bezier-curve tubes in 2D and 3D (numpy only)."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["RADIUS_DISTS", "bezier_curves", "bezier_tree", "silhouette", "text_mask", "topology_shape"]


def _bezier(ctrl: np.ndarray, n: int) -> np.ndarray:
    """Points of the Bezier curve with control points ``ctrl`` (K, ndim) at ``n`` samples."""
    t = np.linspace(0.0, 1.0, n)[:, None]  # (n, 1)
    pts = ctrl.astype(float)[:, None, :]  # (K, 1, ndim), broadcast against t
    while len(pts) > 1:  # de Casteljau: (K, n, ndim) -> (K - 1, n, ndim)
        pts = pts[:-1] * (1 - t) + pts[1:] * t
    return pts[0]


#: how the radius of a curve's start is drawn
RADIUS_DISTS = ("uniform", "log-uniform", "mixed")


def check_radius_dist(radius_dist: str) -> None:
    if radius_dist not in RADIUS_DISTS:
        raise ValueError(f"radius_dist must be one of {', '.join(RADIUS_DISTS)}; got {radius_dist!r}.")


def _start_radius(rng: np.random.Generator, radius, radius_dist: str) -> float:
    if radius_dist == "mixed":
        radius_dist = "uniform" if rng.random() < 0.5 else "log-uniform"
    if radius_dist == "uniform":
        return float(rng.uniform(*radius))
    return float(np.exp(rng.uniform(*np.log(radius))))


def bezier_curves(
    shape,
    n_curves: int = 8,
    radius=(1.0, 6.0),
    *,
    branching: float = 0.7,
    degree: int = 3,
    taper: bool = True,
    margin: int = 4,
    radius_dist: str = "uniform",
    seed=None,
):
    """Centre lines and radii of random Bezier tubes.

    A curve that does not branch off another starts with a radius drawn from
    ``radius`` (MIN, MAX), uniformly or, with ``radius_dist="log-uniform"``,
    uniformly in its logarithm (as many tubes of 0.5-1 px as of 4-8 px), or
    with ``"mixed"`` from either of the two, chosen per curve with even odds.

    Returns
    -------
    points : (P, ndim) float array of centre-line samples
    radii : (P,) float array
    """
    check_radius_dist(radius_dist)
    rng = np.random.default_rng(seed)
    shape = np.asarray(shape)
    lo, hi = margin, shape - 1 - margin
    pts_all, rad_all = [], []
    for i in range(n_curves):
        if i and pts_all and rng.random() < branching:  # branch off an existing curve
            j = rng.integers(len(pts_all))
            k = rng.integers(len(pts_all[j]))
            start, r0 = pts_all[j][k], rad_all[j][k]
            r0 = max(radius[0], r0 * rng.uniform(0.5, 1.0))
        else:
            start = rng.uniform(lo, hi)
            r0 = _start_radius(rng, radius, radius_dist)
        end = rng.uniform(lo, hi)
        mids = [start + (end - start) * f + rng.normal(0, 0.25 * np.linalg.norm(end - start) + 1, len(shape))
                for f in np.sort(rng.uniform(0.2, 0.8, degree - 1))]
        ctrl = np.clip(np.array([start, *mids, end]), lo, hi)
        length = np.linalg.norm(np.diff(ctrl, axis=0), axis=1).sum()
        pts = _bezier(ctrl, max(4, int(2 * length)))
        r1 = max(radius[0], r0 * rng.uniform(0.4, 1.0)) if taper else r0
        pts_all.append(pts)
        rad_all.append(np.linspace(r0, r1, len(pts)))
    if not pts_all:
        return np.zeros((0, len(shape))), np.zeros(0)
    return np.concatenate(pts_all), np.concatenate(rad_all)


def render_tubes(shape, points, radii, scale: float = 1.0) -> np.ndarray:
    """Rasterise tubes: a pixel is inside when within the radius of its nearest centre point."""
    shape = tuple(int(s) for s in shape)
    centre = np.zeros(shape, bool)
    rmap = np.zeros(shape, float)
    idx = np.clip(np.round(points).astype(int), 0, np.array(shape) - 1)
    order = np.argsort(radii)  # larger radius wins where samples share a pixel
    centre[tuple(idx[order].T)] = True
    rmap[tuple(idx[order].T)] = radii[order] * scale
    if not centre.any():
        return centre
    dist, near = ndimage.distance_transform_edt(~centre, return_indices=True)
    return dist <= rmap[tuple(near)]


def render_tubes_box(points, radii, lo, shape, scale: float = 1.0) -> np.ndarray:
    """The box ``lo : lo + shape`` of :func:`render_tubes` of a larger image, rendering only that box.

    Only centre points within the largest radius of the box are used, so the
    box equals the same part of the whole rendering.
    """
    lo = np.asarray(lo, int)
    shape = np.asarray(shape, int)
    m = int(np.ceil(radii.max() * scale)) + 2 if len(radii) else 0
    near = np.all((points >= lo - m - 0.5) & (points < lo + shape + m - 0.5), axis=1) if len(points) else []
    if not np.any(near):
        return np.zeros(tuple(shape), bool)
    ext = render_tubes(shape + 2 * m, points[near] - (lo - m), radii[near], scale)
    return ext[tuple(slice(m, m + n) for n in shape)]


def lazy_bezier_tree(shape, chunks=128, n_curves: int = 8, radius=(1.0, 6.0), seed=None):
    """A :func:`bezier_tree`-like volume as a dask array, each chunk rendered on demand.

    For out-of-memory tests and benchmarks: the curves are drawn once for the
    whole shape; every chunk renders only the tubes near it.
    """
    import dask.array as da

    pts, rad = bezier_curves(shape, n_curves, radius, seed=seed)

    def block(block_info=None):
        loc = block_info[None]["array-location"]
        return render_tubes_box(pts, rad, [a for a, _ in loc], [b - a for a, b in loc])

    return da.map_blocks(block, chunks=da.core.normalize_chunks(chunks, tuple(shape)), dtype=bool,
                         meta=np.empty((0,) * len(shape), bool))


def bezier_tree(shape=(256, 256), n_curves: int = 8, radius=(1.0, 6.0), seed=None, **kw) -> np.ndarray:
    """A random vessel-like tree of Bezier tubes as a boolean mask (2D or 3D).

    Examples
    --------
    >>> m = bezier_tree((64, 64), n_curves=3, seed=0)
    >>> m.shape, m.dtype, bool(m.any())
    ((64, 64), dtype('bool'), True)
    """
    pts, rad = bezier_curves(shape, n_curves, radius, seed=seed, **kw)
    return render_tubes(shape, pts, rad)


def silhouette(shape=(128, 160), seed=0) -> np.ndarray:
    """A thick animal-like silhouette (body, head, legs, tail): unlike any training tube."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    body = ((yy - 0.45 * h) / (0.18 * h)) ** 2 + ((xx - 0.5 * w) / (0.3 * w)) ** 2 <= 1
    head = ((yy - 0.25 * h) / (0.1 * h)) ** 2 + ((xx - 0.8 * w) / (0.08 * w)) ** 2 <= 1
    neck = (np.abs(yy - (0.45 * h - (xx - 0.65 * w) * 1.1)) < 0.07 * h) & (xx > 0.6 * w) & (xx < 0.8 * w)
    m = body | head | neck
    for fx in (0.3, 0.4, 0.6, 0.68):
        x0 = fx * w + rng.uniform(-2, 2)
        m |= (np.abs(xx - x0) < 0.03 * w + 1) & (yy > 0.5 * h) & (yy < 0.9 * h)
    m |= (np.abs(yy - (0.4 * h + (0.2 * w - xx) * 0.5)) < 2.5) & (xx < 0.22 * w) & (xx > 0.05 * w)
    return m


def text_mask(text: str = "Skelite", height: int = 96, stroke: int = 2) -> np.ndarray:
    """Text strokes (PIL's built-in font, upscaled and thickened) as a boolean mask."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (8 * len(text) + 8, 16))
    ImageDraw.Draw(img).text((4, 2), text, fill=255)
    small = np.array(img) > 0
    small = small[:, : np.flatnonzero(small.any(0)).max() + 2] if small.any() else small
    f = max(1, height // 16)
    big = np.kron(small, np.ones((f, f), bool))
    if stroke > 1:
        big = ndimage.binary_dilation(big, iterations=stroke - 1)
    return np.pad(big, 4)


def topology_shape(seed: int, ndim: int = 2, size: int = 20) -> np.ndarray:
    """A small random label image full of topology: holes, tunnels, cavities, touching labels.

    Smoothed noise thresholded at a random level (blobs with holes and
    tunnels), with a hollow box (a cavity in 3D, a hole in 2D) and a ring cut
    in at random places; the foreground is then split into 1-6 labels by a
    random Voronoi partition, and some points get a random other id, so labels
    touch face to face and diagonally.

    Parameters
    ----------
    seed : int
        The whole image follows from it.
    ndim : {2, 3}
    size : int
        Largest side; each side is drawn from ``[size // 2, size]``.

    Returns
    -------
    (M, N) or (P, M, N) uint8 array
    """
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(max(size // 2, 4), size + 1, ndim))
    noise = ndimage.gaussian_filter(rng.random(shape), sigma=rng.uniform(0.6, 2.0))
    fg = noise > np.quantile(noise, rng.uniform(0.25, 0.75))
    grid = np.indices(shape)
    for _ in range(rng.integers(0, 3)):  # hollow boxes: a cavity (3D) or a hole (2D)
        lo = [int(rng.integers(0, max(n - 4, 1))) for n in shape]
        hi = [int(min(n, a + rng.integers(4, 9))) for a, n in zip(lo, shape)]
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        inner = tuple(slice(a + 1, max(a + 1, b - 1)) for a, b in zip(lo, hi))
        fg[box] = True
        fg[inner] = False
    for _ in range(rng.integers(0, 2)):  # a ring (a tunnel in 3D) in a random axis-aligned plane
        c = [rng.uniform(0, n) for n in shape]
        r = rng.uniform(2, 6)
        a, b = rng.choice(ndim, 2, replace=False)
        d = np.hypot(grid[a] - c[a], grid[b] - c[b])
        ring = (np.abs(d - r) < 1.0)
        for k in set(range(ndim)) - {a, b}:
            ring &= np.abs(grid[k] - c[k]) < 1.0
        fg |= ring
    n_labels = int(rng.integers(1, 7))
    seeds = rng.uniform(0, 1, (n_labels, ndim)) * np.asarray(shape)
    d2 = ((grid[None].astype(float) - seeds.reshape(n_labels, ndim, *([1] * ndim))) ** 2).sum(1)
    labels = (np.argmin(d2, axis=0) + 1).astype(np.uint8)
    salt = rng.random(shape) < rng.uniform(0, 0.08)
    labels[salt] = rng.integers(1, n_labels + 1, int(salt.sum()))
    return np.where(fg, labels, 0).astype(np.uint8)

