"""First-use costs paid off the GUI thread when the widget opens.

A first run would otherwise pay, after the engine is done, for napari compiling
its label-colormap lookup for the layer's dtype (about 1.4 s per dtype, a numba
typed dictionary), and before it for loading the network and torch's first
kernels. :func:`warm_up` starts these in a daemon thread; a run that starts
meanwhile simply waits for whatever it needs.
"""
from __future__ import annotations

import logging
import threading

import numpy as np

__all__ = ["warm_up", "warmed_dtypes"]

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_dtypes: set = set()
_engine_done = threading.Event()


def warmed_dtypes() -> frozenset:
    """The label dtypes whose colormap lookup is compiled."""
    with _lock:
        return frozenset(_dtypes)


def _engine(ndims) -> None:
    from ..api import skeletonize

    for nd in ndims:
        r = np.arange(-4, 5)
        ball = sum(np.meshgrid(*[r**2] * nd, indexing="ij")) <= 9
        skeletonize(np.pad(ball, 2), "skelite", check_topology=False)


def _colormap(dtype) -> None:
    from napari.utils.colormaps import DirectLabelColormap

    cmap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 1: (1.0, 0.1, 0.6, 1.0)})
    cmap.map(np.array([0, 1, 2], dtype))


def warm_up(dtypes=(np.uint8,), *, engine: bool = True, ndims=(2, 3)) -> threading.Thread:
    """Start a daemon thread that compiles the colormaps of ``dtypes`` and, with ``engine``, runs a tiny Skelite job.

    Dtypes already compiled are skipped. Failures are logged, never raised:
    a warm-up only ever saves time.
    """
    todo = [np.dtype(d) for d in dtypes]

    def work():
        try:
            if engine and not _engine_done.is_set():
                _engine(ndims)
                _engine_done.set()
            for dt in todo:
                with _lock:
                    if dt in _dtypes:
                        continue
                _colormap(dt)
                with _lock:
                    _dtypes.add(dt)
        except Exception:  # noqa: BLE001 - a failed warm-up costs only time
            _log.debug("napari-skelite warm-up failed", exc_info=True)

    thread = threading.Thread(target=work, name="napari-skelite warm-up", daemon=True)
    thread.start()
    return thread
