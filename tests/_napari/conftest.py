"""Fixtures of the plugin's tests: a Qt-free session on a viewer model, and the widget opened as napari opens it."""
import numpy as np
import pytest


def labels(ndim=2):
    """Two labels (5 and 9), no holes; a stack of 6 planes in 3D."""
    m = np.zeros((24, 30), np.uint16)
    m[2:10, 2:26] = 5
    m[12:22, 4:20] = 9
    return m if ndim == 2 else np.stack([m] * 6)


@pytest.fixture(params=["model", "proxy"])
def viewer_model(request):
    """A ``ViewerModel``, plain and as the ``PublicOnlyProxy`` napari hands a plugin (no Qt either way)."""
    from napari.components import ViewerModel
    from napari.utils._proxies import PublicOnlyProxy

    model = ViewerModel()
    return model if request.param == "model" else PublicOnlyProxy(model)


@pytest.fixture
def session_of(viewer_model):
    """``session_of(data=None, **layer_kwargs)``: a Session on the viewer model, with a Labels layer "cells"."""
    from napari_skelite._napari.session import Session

    made = []

    def make(data=None, image=False, **kw):
        if data is not None:
            (viewer_model.add_image if image else viewer_model.add_labels)(data, name=kw.pop("name", "cells"), **kw)
        s = Session(viewer_model, notify=lambda level, msg: None)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
        s.runner.join(30)


def finish(session, timeout=60):
    """Wait for the session's job and show its result (the callbacks run on this thread)."""
    session.runner.wait(lambda: not session.busy, timeout)


@pytest.fixture(autouse=True)
def _collector_left_alone(monkeypatch):
    """The warm-up does not freeze the test process's objects for the garbage collector (test_gc_pauses.py does)."""
    monkeypatch.setenv("NAPARI_SKELITE_GC_FREEZE", "0")


@pytest.fixture(autouse=True)
def _offscreen_gl(monkeypatch):
    """Offscreen Qt has no OpenGL context: napari would ask it the largest texture (a uint32 layer's colours)
    and its extensions (an Image layer), and fail."""
    import os

    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        try:
            import napari._vispy.layers.image as vispy_image
            import napari._vispy.layers.labels as vispy_labels
        except ImportError:  # pragma: no cover - napari without its Qt/vispy parts
            return
        monkeypatch.setattr(vispy_labels, "get_max_texture_sizes", lambda: (2048, 2048))
        monkeypatch.setattr(vispy_image, "get_gl_extensions", lambda: "")
        monkeypatch.setattr(vispy_image, "get_max_texture_sizes", lambda: (2048, 2048))


@pytest.fixture
def plugin_widget(make_napari_viewer, qtbot):
    """``plugin_widget(data=None, **layer_kwargs)``: ``(viewer, widget)``, the widget opened from the plugin menu's path.

    napari then hands the widget a ``PublicOnlyProxy`` of the viewer, as it does for a user.
    """
    def make(data=None, **kw):
        viewer = make_napari_viewer()
        if data is not None:
            viewer.add_labels(data, name=kw.pop("name", "cells"), **kw)
        _, widget = viewer.window.add_plugin_dock_widget("napari-skelite", "Skeletonize")
        return viewer, widget

    return make


def wait(qtbot, widget, timeout=60_000):
    qtbot.waitUntil(lambda: not widget.running, timeout=timeout)


def by_id(viewer, layer):
    """The layer of ``viewer`` with ``layer``'s stable id (never ``is``: plugins see proxies)."""
    from napari_skelite._napari.layers import by_id as find
    from napari_skelite._napari.layers import id_of

    return find(viewer.layers, id_of(layer))


@pytest.fixture
def shipped_random_weights(random_weights, tmp_path, monkeypatch):
    """Make seeded random test weights the default ones for this test (widget tests do not depend on the shipped networks)."""
    import shutil

    for nd, p in random_weights.items():
        shutil.copy(p, tmp_path / f"skelite_{nd}d.pt")
    monkeypatch.setenv("NAPARI_SKELITE_WEIGHTS", str(tmp_path))
    return tmp_path


def _gated_skeletonize(monkeypatch, *, run_first: bool):
    """Replace the controller's skeletonize by one that waits for the returned event, after or before running."""
    import threading

    import napari_skelite._napari.controller as api

    gate = threading.Event()
    real = api.skeletonize

    def gated(*a, **k):
        out = real(*a, **k) if run_first else None
        assert gate.wait(30)
        return out if run_first else real(*a, **k)

    monkeypatch.setattr(api, "skeletonize", gated)
    return gate


@pytest.fixture
def skeletonize_then_wait(monkeypatch):
    """skeletonize that returns only when the test sets the returned event (its result is made before)."""
    return _gated_skeletonize(monkeypatch, run_first=True)


@pytest.fixture
def blocked_skeletonize(monkeypatch):
    """skeletonize that waits until the test sets the returned event."""
    return _gated_skeletonize(monkeypatch, run_first=False)
