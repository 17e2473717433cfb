"""The dock widget as a user meets it: opened from the Plugins menu's path, so it sees napari's proxy of the viewer.

The logic is tested without Qt in ``test_session.py``; these tests check that
the widget forwards the user's clicks and shows what the session says.
"""
import os
import time

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")

from napari_skelite._napari import layers as L
from napari_skelite._napari.widget import BAD_COLOR, SkeletonizeWidget

from .conftest import labels, wait

pytestmark = pytest.mark.gui


def _choose(w, method):
    w.method_combo.setCurrentIndex(w.method_combo.findData(method))


def _kinds(viewer, visible_only=False):
    return [L.meta_of(ly).get("kind", "input") for ly in viewer.layers if ly.visible or not visible_only]


def _compare(qtbot, w, methods=("boolean", "classic")):
    for m, box in w.compare_panel.compare_checks.items():
        box.setChecked(m in methods)
    w.compare_panel.compare_btn.click()
    wait(qtbot, w)


def test_the_plugin_menu_opens_the_widget_on_naparis_proxy_of_the_viewer(plugin_widget):
    from napari.utils._proxies import PublicOnlyProxy

    _viewer, w = plugin_widget(labels())
    assert isinstance(w, SkeletonizeWidget) and isinstance(w.viewer, PublicOnlyProxy)
    assert [w.layer_combo.itemText(i) for i in range(w.layer_combo.count())] == ["cells"]


@pytest.mark.parametrize("ndim", [2, 3])
def test_run_adds_the_skeleton_and_says_whether_the_topology_was_kept(plugin_widget, qtbot, ndim):
    viewer, w = plugin_widget(labels(ndim), scale=(2.0,) * ndim)
    _choose(w, "boolean")
    w.run_btn.click()
    assert not w.run_btn.isEnabled() and w.cancel_btn.isEnabled()
    wait(qtbot, w)
    out = viewer.layers["cells skeleton (boolean)"]
    assert out.data.shape == labels(ndim).shape and tuple(out.scale) == (2.0,) * ndim
    assert w.status.text().endswith("; topology kept") and w.run_btn.isEnabled()


def test_the_compare_table_keeps_its_rows_through_differences_graph_prune_and_a_new_layer(plugin_widget, qtbot):
    viewer, w = plugin_widget(labels())
    _compare(qtbot, w)
    assert w.compare_panel.table.rowCount() == 2
    w.compare_panel.table.selectAll()
    w.compare_panel.diff_btn.click()
    w.graph_panel.graph_btn.click()
    wait(qtbot, w)
    w.graph_panel.prune_btn.click()
    wait(qtbot, w)
    viewer.add_labels(labels(), name="another")
    assert w.compare_panel.table.rowCount() == 2 and w.layer_combo.currentText() == "cells"
    assert [w.compare_panel.table.item(i, 0).text() for i in range(2)] == ["boolean", "classic"]


def test_a_typed_threshold_survives_a_new_layer_and_is_the_one_the_run_uses(plugin_widget, qtbot):
    img = np.zeros((24, 30), np.float32)
    img[2:10, 2:26] = 1.0
    img[12:22, 4:20] = 0.6
    viewer, w = plugin_widget()
    viewer.add_image(img, name="img")
    w.threshold.setValue(0.8)  # Otsu's would be lower: both blocks
    viewer.add_labels(labels(), name="another")
    _choose(w, "boolean")
    w.run_btn.click()
    wait(qtbot, w)
    assert w.threshold.value() == pytest.approx(0.8)
    assert L.meta_of(viewer.layers["img skeleton (boolean, > 0.8)"])["options"]["threshold"] == pytest.approx(0.8)


def test_removing_the_input_layer_mid_run_stops_the_run(plugin_widget, qtbot, blocked_skeletonize):
    viewer, w = plugin_widget(labels())
    _choose(w, "boolean")
    w.run_btn.click()
    viewer.layers.remove("cells")
    blocked_skeletonize.set()
    wait(qtbot, w)
    assert len(viewer.layers) == 0 and "job stopped" in w.status.text()


def test_after_a_run_the_iteration_slider_shows_the_final_skeleton(plugin_widget, qtbot):
    viewer, w = plugin_widget(labels(3))
    _choose(w, "boolean")
    w.keep_steps.setChecked(True)
    w.run_btn.click()
    wait(qtbot, w)
    steps = viewer.layers["cells iterations (boolean)"]
    assert viewer.dims.current_step[0] == steps.data.shape[0] - 1
    assert steps.blending == viewer.layers["cells removed per iteration (boolean)"].blending == "translucent_no_depth"


def test_compare_keeps_a_users_3d_view(plugin_widget, qtbot):
    viewer, w = plugin_widget(labels(3))
    viewer.dims.ndisplay = 3
    viewer.camera.angles = (5.0, 40.0, 60.0)
    viewer.camera.zoom = 2.5
    _compare(qtbot, w)
    assert tuple(viewer.camera.angles) == (5.0, 40.0, 60.0) and viewer.camera.zoom == 2.5


def test_clicking_a_row_shows_that_methods_skeleton_alone_over_the_input(plugin_widget, qtbot):
    viewer, w = plugin_widget(labels())
    _choose(w, "boolean")
    w.keep_steps.setChecked(True)
    w.run_btn.click()
    wait(qtbot, w)
    _compare(qtbot, w)
    w.compare_panel.table.selectRow(1)
    assert [ly.name for ly in viewer.layers if ly.visible] == ["cells", "cells skeleton (classic)"]
    assert L.id_of(viewer.layers.selection.active) == L.id_of(viewer.layers["cells skeleton (classic)"])


def test_the_table_marks_topology_errors_in_red(plugin_widget, qtbot):
    from napari_skelite.synthetic import bezier_tree

    _viewer, w = plugin_widget(bezier_tree((40, 40), 3, (1.0, 3.0), seed=0).astype(np.uint8))
    _compare(qtbot, w, ("boolean", "morphological"))
    t = w.compare_panel.table
    rows = {t.item(i, 0).text(): i for i in range(t.rowCount())}
    red = lambda m: t.item(rows[m], 1).foreground().color().getRgb()[:3] == BAD_COLOR  # noqa: E731
    assert red("morphological") and not red("boolean") and "pieces" in t.item(rows["morphological"], 1).toolTip()


def test_the_graph_panel_shows_a_legend_of_the_colours(plugin_widget, qtbot):
    viewer, w = plugin_widget(labels())
    _choose(w, "boolean")
    w.run_btn.click()
    wait(qtbot, w)
    w.graph_panel.graph_btn.click()
    wait(qtbot, w)
    radii = viewer.layers["cells skeleton (boolean) graph"].features["mean_radius"]
    assert "mean radius" in w.graph_panel.legend.text() and f"{radii.max():.3g}" in w.graph_panel.legend.text()
    combo = w.graph_panel.colour_combo
    combo.setCurrentIndex(combo.findData("label"))
    assert "label" in w.graph_panel.legend.text() and "9" in w.graph_panel.legend.text()


def test_painting_the_input_during_a_run_does_not_change_the_runs_status(plugin_widget, qtbot, skeletonize_then_wait):
    viewer, w = plugin_widget(labels())
    _choose(w, "boolean")
    w.run_btn.click()
    viewer.layers["cells"].data[:] = 0  # erased in place after the skeleton is made, before its topology check
    skeletonize_then_wait.set()
    wait(qtbot, w)
    assert w.status.text().endswith("; topology kept"), w.status.text()


def test_prune_and_save_graph_run_off_the_gui_thread(plugin_widget, qtbot, monkeypatch, tmp_path):
    import threading

    import napari_skelite.graph as graph
    import napari_skelite.io as io

    threads = []

    def recorded(real):
        def f(*a, **k):
            threads.append(threading.current_thread())
            return real(*a, **k)
        return f

    monkeypatch.setattr(graph, "prune", recorded(graph.prune))
    monkeypatch.setattr(io, "write_graph", recorded(io.write_graph))
    _viewer, w = plugin_widget(labels())
    _choose(w, "boolean")
    w.run_btn.click()
    wait(qtbot, w)
    for act in (w.graph_panel.prune, lambda: w.graph_panel.save_graph(tmp_path / "g.graphml")):
        act()
        wait(qtbot, w)
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert (tmp_path / "g.graphml").exists()


def test_cancel_stops_a_long_run_and_adds_nothing(plugin_widget, qtbot):
    m = np.zeros((8, 200, 200), np.uint16)
    for i in range(100):
        y, x = divmod(i, 10)
        m[1:7, 20 * y + 2: 20 * y + 18, 20 * x + 2: 20 * x + 18] = i + 1
    viewer, w = plugin_widget(m)
    _choose(w, "boolean")
    w.run_btn.click()
    qtbot.waitUntil(lambda: w.progress.value() > 0, timeout=30_000)  # the bar moves
    t0 = time.perf_counter()
    w.cancel_btn.click()
    wait(qtbot, w)
    assert time.perf_counter() - t0 < 2.0 and len(viewer.layers) == 1 and "cancelled" in w.status.text()


def test_a_4d_layer_gives_a_clear_error_in_the_status_line(plugin_widget, qtbot):
    viewer, w = plugin_widget(np.zeros((2, 3, 8, 8), np.uint8))
    w.run_btn.click()
    assert "is 4D" in w.status.text() and len(viewer.layers) == 1 and w.run_btn.isEnabled()


def test_saving_the_skeleton_writes_the_file_and_its_record(plugin_widget, qtbot, tmp_path):
    _viewer, w = plugin_widget(labels(3).astype(np.int32), scale=(3.0, 0.5, 0.5), units=("um", "um", "um"))
    _choose(w, "boolean")
    w.run_btn.click()
    wait(qtbot, w)
    w.session.save_skeleton(tmp_path / "s.tif")
    wait(qtbot, w)
    import tifffile

    with tifffile.TiffFile(tmp_path / "s.tif") as tif:
        md = tif.imagej_metadata
        assert md["spacing"] == 3.0 and md["unit"] == "um" and tif.series[0].dtype == np.uint32
    assert (tmp_path / "s.tif.json").exists() and "saved" in w.status.text()


def test_closing_the_viewer_mid_run_cancels_the_job(plugin_widget, qtbot, blocked_skeletonize):
    viewer, w = plugin_widget(labels())
    _choose(w, "boolean")
    w.run_btn.click()
    job = w.session.job
    viewer.close()
    blocked_skeletonize.set()
    job.thread.join(30)
    assert job.cancelled.is_set() and not job.thread.is_alive()


def test_the_widget_opens_on_the_registrys_default_method(plugin_widget, monkeypatch):
    from napari_skelite import methods

    monkeypatch.setattr(methods, "DEFAULT", "boolean")  # not the first method registered
    _viewer, w = plugin_widget(labels())
    assert w.method_combo.currentData() == "boolean"


def test_a_registered_method_appears_in_the_widget_and_runs(plugin_widget, qtbot, toy_method):
    viewer, w = plugin_widget(labels())
    assert w.method_combo.itemText(w.method_combo.findData("toyerode")) == "Toy erosion"
    assert "toyerode" in w.compare_panel.compare_checks
    _choose(w, "toyerode")
    w.run_btn.click()
    wait(qtbot, w)
    assert "cells skeleton (toyerode)" in viewer.layers


def test_a_registered_methods_option_is_a_widget_control_shown_for_that_method_and_reaching_it(
        plugin_widget, qtbot, toy_method):
    from napari_skelite import skeletonize

    viewer, w = plugin_widget(labels())
    times = w.method_options.controls["times"]
    _choose(w, "boolean")
    assert times.isHidden()
    _choose(w, "toyerode")
    assert not times.isHidden() and times.toolTip() == "toyerode: toy: how many cross erosions"
    times.setValue(2)
    w.run_btn.click()
    wait(qtbot, w)
    layer = viewer.layers["cells skeleton (toyerode, times 2)"]
    np.testing.assert_array_equal(layer.data, skeletonize(labels(), "toyerode", times=2))


def test_manifest_is_valid():
    from npe2 import PluginManifest

    pm = PluginManifest.from_distribution("napari-skelite")
    assert pm.contributions.widgets and pm.contributions.writers and len(pm.contributions.sample_data) == 2
