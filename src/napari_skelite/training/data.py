"""Synthetic Bezier training data with teacher skeletons, generated from a seed."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

from ..methods import local
from ..synthetic import bezier_curves, check_radius_dist, render_tubes
from ..topology.thinning import thin
from .augment import boundary_noise, downscale, flip_rotate

__all__ = [
    "SHAPES",
    "TEACHERS",
    "DataConfig",
    "make_dataset",
    "make_masks",
    "make_sample",
    "make_shapes",
    "random_crops",
    "teacher_description",
]

TEACHERS = ("local", "directional")


@dataclass(frozen=True)
class DataConfig:
    ndim: int = 2
    size: int = 128          # side of the generated image/volume
    crop: int = 64           # side of the training crops
    n_curves: tuple = (3, 10)
    radius: tuple = (1.0, 8.0)
    radius_dist: str = "uniform"  # or "log-uniform" (as many thin tubes as thick ones) or "mixed" (either, per curve)
    thicken: tuple = (0.6, 1.6)   # same centre lines rendered at several widths
    noise: float = 0.5       # probability of boundary noise
    downscale: float = 0.15  # probability of a 2x down-scaling
    # "local": window-local thinning (methods.local) run on each crop, the crop border
    # counting as background; "directional": Boolean thinning of the whole image
    teacher: str = "local"

    def __post_init__(self):
        if self.crop > self.size:
            raise ValueError(f"crop ({self.crop}) must not exceed the generated size ({self.size}).")
        if self.teacher not in TEACHERS:
            raise ValueError(f"teacher must be one of {', '.join(TEACHERS)}; got {self.teacher!r}.")
        if not 0 < self.radius[0] <= self.radius[1]:
            raise ValueError(f"radius must be two numbers 0 < MIN <= MAX; got {self.radius}.")
        if not 1 <= self.n_curves[0] <= self.n_curves[1]:
            raise ValueError(f"the number of curves must be two integers 1 <= MIN <= MAX; got {self.n_curves}.")
        check_radius_dist(self.radius_dist)
        if not 0 <= self.downscale <= 1:
            raise ValueError(f"downscale must be a probability within [0, 1]; got {self.downscale}.")

    @property
    def outside(self) -> float:
        """Value beyond the crop border for the student's erosions: what the teacher assumed there."""
        return 0.0 if self.teacher == "local" else 1.0

    @classmethod
    def for_dim(cls, ndim: int, **kw):
        base = (dict(size=128, crop=64, radius=(1.0, 8.0)) if ndim == 2
                else dict(size=64, crop=32, radius=(1.0, 5.0), n_curves=(2, 6)))
        base.update(kw)
        return cls(ndim=ndim, **base)


def teacher_skeleton(mask: np.ndarray, teacher: str = "directional") -> np.ndarray:
    """The teacher's skeleton of a whole image.

    ``"local"``: window-local thinning (:mod:`napari_skelite.methods.local`),
    whose every decision is a function of the student's 7x7(x7) window;
    ``"directional"``: Boolean thinning in its directional, translation-consistent order.
    """
    if teacher == "local":
        return local.run(mask)[0]
    return thin(torch.as_tensor(mask), None, directional=True).numpy()


def _crop_around(points, shape, crop: int, rng):
    """Slices of a crop of side ``crop`` centred, with some jitter, on a random one of ``points``."""
    shape = np.array(shape)
    c = points[rng.integers(len(points))] if len(points) else shape // 2
    lo = np.clip(c - crop // 2 + rng.integers(-crop // 4, crop // 4 + 1, len(shape)), 0, shape - crop)
    return tuple(slice(int(a), int(a) + crop) for a in lo)


def teacher_description(cfg: DataConfig) -> dict:
    """What produces the targets, precisely enough to regenerate them (model cards, cache keys)."""
    if cfg.teacher == "local":
        return {"name": "local", "passes": [list(p) for p in local.PASSES[cfg.ndim]]}
    return {"name": "directional Boolean thinning"}


def _render(cfg: DataConfig, rng) -> np.ndarray:
    """One augmented synthetic image ``(size,) * ndim``."""
    shape = (cfg.size,) * cfg.ndim
    pts, rad = bezier_curves(shape, int(rng.integers(cfg.n_curves[0], cfg.n_curves[1] + 1)), cfg.radius,
                             radius_dist=cfg.radius_dist, seed=rng)
    mask = render_tubes(shape, pts, rad, scale=rng.uniform(*cfg.thicken))
    if rng.random() < cfg.downscale:
        mask = downscale(mask, 2)
    if rng.random() < cfg.noise:
        mask = boundary_noise(mask, rng)
    return flip_rotate(mask, rng)


def make_sample(cfg: DataConfig, seed: int):
    """One (mask, teacher skeleton) pair.

    Shape ``(size,) * ndim`` for the directional teacher; for the local teacher
    a random crop ``(crop,) * ndim`` of the generated image, thinned as an
    image of its own (its border is background), so the targets are exactly
    what the student can see.
    """
    rng = np.random.default_rng(seed)
    mask = _render(cfg, rng)
    if cfg.teacher == "local":
        mask = np.ascontiguousarray(mask[_crop_around(np.argwhere(mask), mask.shape, cfg.crop, rng)])
    return mask, teacher_skeleton(mask, cfg.teacher)


def make_masks(cfg: DataConfig, n: int, seed: int) -> np.ndarray:
    """The ``n`` whole images of :func:`make_dataset` (before any crop), without teacher targets."""
    return np.stack([_render(cfg, np.random.default_rng(_seed(seed, i))) for i in range(n)])


#: kinds of :func:`make_shapes` besides Bezier tubes
SHAPES = ("tubes", "blobs", "plates", "shells", "speckle")


def _shape(kind: str, ndim: int, size: int, rng) -> np.ndarray:
    """One random binary image ``(size,) * ndim`` of ``kind`` (see :data:`SHAPES`), border background."""
    from scipy import ndimage

    shape = (size,) * ndim
    if kind == "tubes":
        cfg = DataConfig.for_dim(ndim, size=size, crop=size)
        return _render(cfg, rng)
    grid = np.indices(shape).astype(np.float32)
    if kind == "blobs":  # smoothed noise, thresholded: lumps, handles, cavities, pinches
        field = ndimage.gaussian_filter(rng.standard_normal(shape), rng.uniform(1.0, 4.0))
        m = field > np.quantile(field, rng.uniform(0.45, 0.9))
    elif kind == "plates":  # slabs and discs of 1-4 points, in random orientations, some crossing
        m = np.zeros(shape, bool)
        for _ in range(int(rng.integers(1, 4))):
            n = rng.standard_normal(ndim)
            n /= np.linalg.norm(n)
            c = rng.uniform(0.3, 0.7, ndim) * size
            d = np.tensordot(n, grid - c.reshape((ndim,) + (1,) * ndim), 1)
            r = np.sqrt(np.maximum(((grid - c.reshape((ndim,) + (1,) * ndim)) ** 2).sum(0) - d**2, 0))
            m |= (np.abs(d) <= rng.uniform(0.3, 2.0)) & (r <= rng.uniform(0.2, 0.45) * size)
    elif kind == "shells":  # spheres and ellipsoids with 1-3 point walls, some opened
        m = np.zeros(shape, bool)
        for _ in range(int(rng.integers(1, 3))):
            c = rng.uniform(0.35, 0.65, ndim) * size
            ax = rng.uniform(0.12, 0.35, ndim) * size
            rr = np.sqrt((((grid - c.reshape((ndim,) + (1,) * ndim)) / ax.reshape((ndim,) + (1,) * ndim)) ** 2).sum(0))
            wall = rng.uniform(0.5, 3.0) / ax.min()
            shell = np.abs(rr - 1) <= wall
            if rng.random() < 0.5:
                shell &= grid[int(rng.integers(ndim))] < c[0] + rng.uniform(0, 0.3) * size
            m |= shell
    elif kind == "speckle":  # random points at a random density: rare configurations
        m = ndimage.binary_dilation(rng.random(shape) < rng.uniform(0.05, 0.5), iterations=int(rng.integers(0, 2)))
        m &= rng.random(shape) < rng.uniform(0.5, 1.0)
    else:
        raise ValueError(f"kind must be one of {', '.join(SHAPES)}; got {kind!r}.")
    if rng.random() < 0.5:
        m = boundary_noise(m, rng, p=rng.uniform(0.02, 0.15))
    m &= np.pad(np.ones((size - 2,) * ndim, bool), 1)
    return flip_rotate(m, rng)


def make_shapes(ndim: int, n: int, seed: int, size: int | None = None) -> list[np.ndarray]:
    """``n`` images of every kind in :data:`SHAPES` in turn (tubes, blobs, plates, shells, speckle), from ``seed``.

    ``size``: side of each image (default 96 in 2D, 40 in 3D).
    """
    size = size or (96 if ndim == 2 else 40)
    return [_shape(SHAPES[i % len(SHAPES)], ndim, size, np.random.default_rng(_seed(seed, i))) for i in range(n)]


def _seed(seed, i):
    return int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "little")


#: config fields added after caches existed, with the value every earlier cache was made with
_LATER_FIELDS = {"radius_dist": "uniform"}


def _cache_text(cfg: DataConfig, n: int, seed: int) -> str:
    """What a cache key hashes: a later field at its earlier value is left out, so old caches stay valid."""
    missing = object()
    kept = [f.name for f in fields(cfg) if getattr(cfg, f.name) != _LATER_FIELDS.get(f.name, missing)]
    cfg_text = f"{type(cfg).__name__}({', '.join(f'{k}={getattr(cfg, k)!r}' for k in kept)})"
    return f"({cfg_text}, {n!r}, {seed!r}, {teacher_description(cfg)!r})"


def make_dataset(cfg: DataConfig, n: int, seed: int, cache: str | Path | None = None, progress=None):
    """``n`` samples as two bool arrays ``(n, *shape)``; cached in ``cache`` (npz) if given."""
    path = None
    if cache is not None:
        key = hashlib.sha256(_cache_text(cfg, n, seed).encode()).hexdigest()[:16]
        path = Path(cache) / f"skelite-data-{cfg.ndim}d-{key}.npz"
        if path.is_file():
            d = np.load(path)
            return d["masks"], d["skels"]
    side = cfg.crop if cfg.teacher == "local" else cfg.size
    masks = np.zeros((n,) + (side,) * cfg.ndim, bool)
    skels = np.zeros_like(masks)
    it = range(n) if progress is None else progress(range(n), desc="teacher targets")
    for i in it:
        masks[i], skels[i] = make_sample(cfg, _seed(seed, i))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, masks=masks, skels=skels)
    return masks, skels


def random_crops(masks, skels, crop: int, batch: int, rng):
    """``batch`` random crops that contain skeleton, as float tensors ``(B, 1, *crop)``."""
    n = len(masks)
    nd = masks.ndim - 1
    out_m = np.zeros((batch, 1) + (crop,) * nd, np.float32)
    out_s = np.zeros_like(out_m)
    for b in range(batch):
        for _ in range(20):
            i = rng.integers(n)
            pts = np.argwhere(skels[i])
            if len(pts):
                break
        sl = _crop_around(pts, masks.shape[1:], crop, rng)
        out_m[b, 0] = masks[i][sl]
        out_s[b, 0] = skels[i][sl]
    return torch.from_numpy(out_m), torch.from_numpy(out_s)
