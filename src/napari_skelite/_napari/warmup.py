"""First-use costs paid off the GUI thread when the widget opens, stoppable at close.

A first run would otherwise pay, after the engine is done, for napari compiling
its label-colormap lookup for the layer's dtype (about 1.4 s per dtype, a numba
typed dictionary); the first *Show graph* for skan's graph code and napari's
Shapes triangulation (10 s with an empty numba cache); the first *Prune* for
its graph code. :func:`warm_up` pays these in a background thread, step by
step; :meth:`WarmUp.stop` ends it after the current step. Importing the
engine (torch) is its first step after the colormaps, so opening the widget
does not wait for it; at its end the objects alive are frozen for the garbage
collector (:mod:`.gc_pauses`).

The thread is not a daemon: Python joins it before tearing down torch and
numba, so a viewer closed while it compiles exits cleanly (a daemon thread
inside torch or numba at exit aborts the process: ``terminate called without
an active exception``). At exit every warm-up is told to stop first, so the
join waits for one step at most.
"""
from __future__ import annotations

import logging
import threading
from types import SimpleNamespace

import numpy as np

__all__ = ["WarmUp", "preload_torch_libraries", "stop_all", "warm_up", "warmed", "warmed_dtypes"]

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_dtypes: set = set()
_done: set = set()  # the steps other than colormaps already paid: "engine", "graph", "shapes"
_running: list = []


class Stopped(Exception):
    """The warm-up was told to stop."""


def warmed_dtypes() -> frozenset:
    """The label dtypes whose colormap lookup is compiled."""
    with _lock:
        return frozenset(_dtypes)


def warmed() -> frozenset:
    """The other first-use costs already paid: ``"engine"``, ``"graph"``, ``"shapes"``."""
    with _lock:
        return frozenset(_done)


def _ball(nd, r=3):
    g = np.arange(-r - 1, r + 2)
    return sum(np.meshgrid(*[g**2] * nd, indexing="ij")) <= r * r


def _engine(ndims, check) -> None:
    from .. import methods
    from ..api import skeletonize

    for nd in ndims:
        check()
        skeletonize(np.pad(_ball(nd), 2), methods.DEFAULT, check_topology=False, callback=check)


_preload_lock = threading.Lock()
_preloaded: list = []  # [True] once torch's libraries are loaded


def preload_torch_libraries() -> bool:
    """Load torch's C++ libraries with the GIL released; True once they are (Linux, before ``import torch``).

    ``import torch`` loads ``libtorch_cpu.so`` with ``dlopen`` while holding
    the GIL; its start-up code runs there for about 0.15 s, in which no other
    Python thread runs: the GUI stalls, even though the import happens in a
    background thread. libc's ``dlopen`` called through ctypes releases the
    GIL, and the import that follows finds the libraries loaded. Jobs call
    this before their work too: a job started while the warm-up loads the
    libraries waits here (without the GIL) instead of in its own ``dlopen``
    (with it). Any failure leaves the loading to ``import torch``.
    """
    import sys

    with _preload_lock:
        if _preloaded or not sys.platform.startswith("linux") or "torch" in sys.modules:
            return bool(_preloaded)
        try:
            import ctypes
            import importlib.util
            import os

            spec = importlib.util.find_spec("torch")
            lib = os.path.join(os.path.dirname(spec.origin), "lib")
            dlopen = ctypes.CDLL(None).dlopen
            dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
            paths = [os.path.join(lib, n) for n in ("libtorch_cpu.so", "libtorch.so")]
            handles = [dlopen(p.encode(), os.RTLD_NOW | os.RTLD_LOCAL) for p in paths if os.path.exists(p)]
        except Exception:
            _log.debug("napari-skelite could not preload torch's libraries", exc_info=True)
            return False
        if handles and all(handles):
            _preloaded.append(True)
        return bool(_preloaded)


def _colormap(dtype) -> None:
    """Compile what a new Labels layer of ``dtype`` needs: its default (cyclic) colours and a direct colormap."""
    from napari.layers import Labels
    from napari.utils.colormaps import DirectLabelColormap

    cmap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 1: (1.0, 0.1, 0.6, 1.0)})
    cmap.map(np.array([0, 1, 2], dtype))
    layer = Labels(np.arange(6, dtype=dtype).reshape(2, 3))  # its slice casts the data for the cyclic colormap
    layer.colormap = cmap


def _tree(nd):
    m = np.zeros((9,) * nd, np.uint8)
    m[(4,) * (nd - 1)] = 1  # a line ...
    m[(slice(None),) + (4,) * (nd - 1)] = 1  # ... and a cross line: a junction
    return m


def _graph(ndims, check) -> None:
    from ..graph import prune
    from .layers import graph_shapes

    for nd in ndims:
        check()
        m = _tree(nd)
        graph_shapes(m, SimpleNamespace(name="warm-up", scale=(1.0,) * nd, translate=(0.0,) * nd), mask=m, name="g")
        check()
        prune(m, 2.0, spacing=(1.0,) * nd)


def _shapes(ndims, check) -> None:
    from napari.layers import Shapes

    for nd in ndims:
        check()
        path = np.array([[0.0] * nd, [1.0] * nd, [2.0] + [1.0] * (nd - 1)])
        Shapes([path], shape_type="path", edge_width=1.5, edge_color=np.array([[1.0, 0.5, 0.0, 1.0]]))


class WarmUp(threading.Thread):
    """The warm-up thread; :meth:`stop` makes it end after its current step."""

    def __init__(self, dtypes, engine: bool, graph: bool, ndims):
        super().__init__(name="napari-skelite warm-up", daemon=False)
        self.dtypes = [np.dtype(d) for d in dtypes]
        self.engine, self.graph, self.ndims = engine, graph, tuple(ndims)
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    @property
    def stopped(self) -> bool:
        return self._stop_event.is_set()

    def _check(self, *_) -> None:
        if self._stop_event.is_set():
            raise Stopped()

    def _step(self, name, fn) -> None:
        with _lock:
            if name in _done:
                return
        fn(self.ndims, self._check)
        with _lock:
            _done.add(name)

    def run(self) -> None:
        from . import gc_pauses

        try:
            gc_pauses.freeze()  # napari's objects; again after each step, for what it imported
            if self.engine:
                preload_torch_libraries()
            for dt in self.dtypes:  # what the first run's layers need first
                self._check()
                with _lock:
                    if dt in _dtypes:
                        continue
                _colormap(dt)
                with _lock:
                    _dtypes.add(dt)
            if self.engine:
                self._step("engine", _engine)
                gc_pauses.freeze()
            if self.graph:
                self._step("graph", _graph)
                self._step("shapes", _shapes)
            self._check()
            gc_pauses.freeze()
        except Stopped:
            pass
        except Exception:
            _log.debug("napari-skelite warm-up failed", exc_info=True)
        finally:
            with _lock:
                if self in _running:
                    _running.remove(self)


def warm_up(dtypes=(np.uint8,), *, engine: bool = True, graph: bool = False, ndims=(2, 3)) -> WarmUp:
    """Start a thread that compiles the colormaps of ``dtypes`` and, on request, the engine and graph code.

    Steps already paid are skipped. Failures are logged, never raised: a
    warm-up only ever saves time.
    """
    thread = WarmUp(dtypes, engine, graph, ndims)
    with _lock:
        _running.append(thread)
    thread.start()
    return thread


def stop_all(timeout: float | None = None) -> None:
    """Tell every running warm-up to stop; with ``timeout``, wait that long for them."""
    with _lock:
        running = list(_running)
    for t in running:
        t.stop()
    if timeout is not None:
        for t in running:
            t.join(timeout)


try:  # before Python joins non-daemon threads at exit, tell the warm-ups to stop
    threading._register_atexit(stop_all)
except (AttributeError, RuntimeError):  # pragma: no cover - other Pythons: the join waits for the warm-up
    pass
