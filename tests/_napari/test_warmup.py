"""The warm-up: first-use compilations off the GUI thread, stoppable, never a daemon thread (no Qt)."""
import subprocess
import sys

import numpy as np
import pytest

from napari_skelite._napari import warmup


def test_warm_up_compiles_the_colormap_of_each_dtype_in_a_thread_python_joins_at_exit():
    thread = warmup.warm_up([np.uint16, np.uint8], engine=False)
    assert not thread.daemon
    thread.join(60)
    assert {np.dtype(np.uint16), np.dtype(np.uint8)} <= warmup.warmed_dtypes()


def test_a_failing_warm_up_is_logged_and_not_raised(monkeypatch, caplog):
    def boom(dtype):
        raise RuntimeError("no colormap here")

    monkeypatch.setattr(warmup, "_colormap", boom)
    monkeypatch.setattr(warmup, "_dtypes", set())
    with caplog.at_level("DEBUG", logger=warmup.__name__):
        warmup.warm_up([np.uint32], engine=False).join(60)
    assert np.dtype(np.uint32) not in warmup.warmed_dtypes()
    assert "warm-up failed" in caplog.text


def test_the_warm_up_pays_for_the_graph_and_napari_shapes_code(monkeypatch):
    monkeypatch.setattr(warmup, "_done", set())
    warmup.warm_up([], engine=False, graph=True, ndims=(2,)).join(120)
    assert {"graph", "shapes"} <= warmup.warmed()


def test_a_stopped_warm_up_ends_after_its_current_step(monkeypatch):
    import threading

    gate, steps = threading.Event(), []

    def slow(ndims, check):
        steps.append("graph")
        gate.wait(10)
        check()

    monkeypatch.setattr(warmup, "_done", set())
    monkeypatch.setattr(warmup, "_graph", slow)
    monkeypatch.setattr(warmup, "_shapes", lambda ndims, check: steps.append("shapes"))
    t = warmup.warm_up([], engine=False, graph=True)
    while not steps:
        pass
    warmup.stop_all()
    gate.set()
    t.join(10)
    assert not t.is_alive() and steps == ["graph"] and "graph" not in warmup.warmed()


def test_a_session_stops_its_warm_up_when_it_closes(monkeypatch):
    from napari.components import ViewerModel

    from napari_skelite._napari.session import Session

    monkeypatch.setattr(warmup, "_done", set())
    viewer = ViewerModel()
    viewer.add_labels(np.zeros((8, 8), np.int32), name="cells")
    s = Session(viewer)
    s.warm_up()
    s.close()
    s.warm.join(60)
    assert s.warm.stopped and not s.warm.is_alive()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="torch's libraries are preloaded on Linux")
def test_torchs_libraries_are_loaded_before_torch_is_imported():
    script = ("import sys; from napari_skelite._napari.warmup import preload_torch_libraries as preload; "
              "print(preload(), 'torch' in sys.modules, 'libtorch_cpu.so' in open('/proc/self/maps').read()); "
              "import torch; print(float(torch.ones(3).sum()))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "False", "True", "3.0"], out.stderr
