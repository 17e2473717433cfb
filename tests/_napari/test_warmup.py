import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")

from napari_skelite._napari import warmup  # noqa: E402
from napari_skelite._napari.widget import SkeletonizeWidget  # noqa: E402

pytestmark = pytest.mark.gui


def test_warm_up_compiles_the_colormap_of_each_dtype_in_a_daemon_thread():
    thread = warmup.warm_up([np.uint16, np.uint8], engine=False)
    assert thread.daemon
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


def test_opening_the_widget_warms_the_dtype_of_the_input_layers_results(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_labels(np.zeros((8, 8), np.int32), name="cells")
    w = SkeletonizeWidget(viewer)
    w._warm_thread.join(120)
    assert np.dtype(np.uint32) in warmup.warmed_dtypes()  # int32 labels give a uint32 skeleton
