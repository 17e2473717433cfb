"""scikit-image's ``skeletonize`` (Zhang in 2D, Lee in 3D) as a reference method."""
from __future__ import annotations

import threading

import numpy as np

from ._registry import Method, register

__all__ = ["METHOD", "run"]


#: crops from this size on run in a helper thread while ``tick`` is polled, so Cancel acts during the call
_POLLED_VOXELS = 2**20
_POLL_SECONDS = 0.1


def run(mask: np.ndarray, *, iterations=None, device="cpu", return_steps=False, tick=None):
    """scikit-image's skeleton of one binary object (``iterations`` is not used: it runs to the end).

    scikit-image's call cannot be interrupted (a filled cube 256^3 takes about
    12 s), so with ``tick`` a large crop is skeletonized in a helper thread
    while ``tick`` is called every 0.1 s: a cancel raised there returns at
    once and the abandoned call finishes in the background, its result unused.
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    if tick is not None:
        tick()  # one step: cancel is checked before it
    if tick is None or mask.size < _POLLED_VOXELS:
        sk = skeletonize(mask)
    else:
        sk = _polled(skeletonize, mask, tick)
    sk = sk.astype(bool)
    return sk, ([mask.copy(), sk] if return_steps else None)


def skeletonize(mask: np.ndarray) -> np.ndarray:
    """scikit-image's ``skeletonize`` (scikit-image is imported on first use)."""
    from skimage.morphology import skeletonize as skimage_skeletonize

    return skimage_skeletonize(mask)


def _polled(func, arg, tick):
    """``func(arg)`` in a daemon thread (scikit-image releases the GIL), calling ``tick`` until it returns."""
    out = {}

    def work():
        try:
            out["value"] = func(arg)
        except BaseException as e:
            out["error"] = e

    thread = threading.Thread(target=work, name="napari-skelite classic", daemon=True)
    thread.start()
    while True:
        thread.join(_POLL_SECONDS)
        if not thread.is_alive():
            break
        tick()  # raising here (Cancel) leaves the thread to finish on its own
    if "error" in out:
        raise out["error"]
    return out["value"]


METHOD = register(Method(
    name="classic",
    label="Classic (scikit-image)",
    description="scikit-image skeletonize (Zhang 2D / Lee 3D): fast; not guaranteed thin or topology-preserving",
    run=run,
    bytes_per_voxel=30,
    uses_torch=False,
    iterations_for=lambda ndim, depth, options: 1,  # one call of scikit-image
))
