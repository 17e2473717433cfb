"""Synthetic Bezier training data with teacher skeletons, generated from a seed."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..methods.boolean import thin
from ..synthetic import bezier_curves, render_tubes
from .augment import boundary_noise, downscale, flip_rotate

__all__ = ["DataConfig", "make_sample", "make_dataset", "random_crops"]


@dataclass(frozen=True)
class DataConfig:
    ndim: int = 2
    size: int = 128          # side of the generated image/volume
    crop: int = 64           # side of the training crops
    n_curves: tuple = (3, 10)
    radius: tuple = (1.0, 8.0)
    thicken: tuple = (0.6, 1.6)   # same centre lines rendered at several widths
    noise: float = 0.5       # probability of boundary noise
    downscale: float = 0.15  # probability of a 2x down-scaling

    def __post_init__(self):
        if self.crop > self.size:
            raise ValueError(f"crop ({self.crop}) must not exceed the generated size ({self.size}).")

    @classmethod
    def for_dim(cls, ndim: int, **kw):
        base = dict(size=128, crop=64, radius=(1.0, 8.0)) if ndim == 2 else dict(size=64, crop=32, radius=(1.0, 5.0), n_curves=(2, 6))
        base.update(kw)
        return cls(ndim=ndim, **base)


def teacher_skeleton(mask: np.ndarray) -> np.ndarray:
    """The teacher's skeleton: Boolean thinning in its directional, translation-consistent order."""
    return thin(torch.as_tensor(mask), None, directional=True).numpy()


def make_sample(cfg: DataConfig, seed: int):
    """One (mask, teacher skeleton) pair of shape ``(size,) * ndim``."""
    rng = np.random.default_rng(seed)
    shape = (cfg.size,) * cfg.ndim
    pts, rad = bezier_curves(shape, int(rng.integers(cfg.n_curves[0], cfg.n_curves[1] + 1)), cfg.radius, seed=rng)
    mask = render_tubes(shape, pts, rad, scale=rng.uniform(*cfg.thicken))
    if rng.random() < cfg.downscale:
        mask = downscale(mask, 2)
    if rng.random() < cfg.noise:
        mask = boundary_noise(mask, rng)
    mask = flip_rotate(mask, rng)
    return mask, teacher_skeleton(mask)


def _seed(seed, i):
    return int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "little")


def make_dataset(cfg: DataConfig, n: int, seed: int, cache: str | Path | None = None, progress=None):
    """``n`` samples as two bool arrays ``(n, *shape)``; cached in ``cache`` (npz) if given."""
    path = None
    if cache is not None:
        key = hashlib.sha256(repr((cfg, n, seed)).encode()).hexdigest()[:16]
        path = Path(cache) / f"skelite-data-{cfg.ndim}d-{key}.npz"
        if path.is_file():
            d = np.load(path)
            return d["masks"], d["skels"]
    masks = np.zeros((n,) + (cfg.size,) * cfg.ndim, bool)
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
        c = pts[rng.integers(len(pts))] if len(pts) else np.array(masks.shape[1:]) // 2
        lo = np.clip(c - crop // 2 + rng.integers(-crop // 4, crop // 4 + 1, nd), 0, np.array(masks.shape[1:]) - crop)
        sl = tuple(slice(int(a), int(a) + crop) for a in lo)
        out_m[b, 0] = masks[i][sl]
        out_s[b, 0] = skels[i][sl]
    return torch.from_numpy(out_m), torch.from_numpy(out_s)
