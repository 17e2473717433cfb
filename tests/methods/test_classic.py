import numpy as np
import pytest


def test_a_large_classic_call_is_cancelled_while_scikit_image_runs(monkeypatch):
    import threading
    import time

    from napari_skelite.methods import classic

    release = threading.Event()

    def slow(mask):
        release.wait(10)
        return mask

    monkeypatch.setattr(classic, "skeletonize", slow)
    monkeypatch.setattr(classic, "_POLLED_VOXELS", 1)
    calls = []

    class Stop(Exception):
        pass

    def tick():
        calls.append(time.perf_counter())
        if len(calls) > 2:
            raise Stop

    t0 = time.perf_counter()
    with pytest.raises(Stop):
        classic.run(np.ones((4, 4), bool), tick=tick)
    release.set()
    assert time.perf_counter() - t0 < 2  # not the 10 s the call would take


def test_a_polled_classic_call_returns_scikit_images_skeleton():
    from skimage.morphology import skeletonize

    from napari_skelite.methods import classic

    m = np.zeros((40, 40), bool)
    m[5:35, 10:30] = True
    old = classic._POLLED_VOXELS
    classic._POLLED_VOXELS = 1
    try:
        sk, _ = classic.run(m, tick=lambda: None)
    finally:
        classic._POLLED_VOXELS = old
    np.testing.assert_array_equal(sk, skeletonize(m))
