import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")

from napari_skelite._napari.widget import SkeletonizeWidget  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def shipped_random_weights(random_weights, tmp_path, monkeypatch):
    """Make random test weights the default ones for this test."""
    import shutil

    for nd, p in random_weights.items():
        shutil.copy(p, tmp_path / f"skelite_{nd}d.pt")
    monkeypatch.setenv("NAPARI_SKELITE_WEIGHTS", str(tmp_path))
    return tmp_path


def labels(ndim):
    m = np.zeros((24, 30), np.uint16)
    m[2:10, 2:26] = 5
    m[12:22, 4:20] = 9
    return m if ndim == 2 else np.stack([m] * 6)


def _widget(make_napari_viewer, data=None, **kw):
    viewer = make_napari_viewer()
    if data is not None:
        viewer.add_labels(data, name="cells", **kw)
    return viewer, SkeletonizeWidget(viewer)


def _wait(qtbot, w):
    qtbot.waitUntil(lambda: not w.running, timeout=60_000)


def _choose(w, method):
    w.method_combo.setCurrentIndex(w.method_combo.findData(method))


@pytest.mark.parametrize("method", ["skelite", "boolean", "morphological", "classic"])
@pytest.mark.parametrize("ndim", [2, 3])
def test_each_method_adds_a_skeleton_layer_with_the_input_ids_scale_and_translate(
    make_napari_viewer, qtbot, method, ndim, shipped_random_weights
):
    data = labels(ndim)
    viewer, w = _widget(make_napari_viewer, data, scale=(2.0,) * ndim, translate=(5.0,) * ndim)
    before = data.copy()
    _choose(w, method)
    w.run()
    _wait(qtbot, w)
    out = viewer.layers[f"cells skeleton ({method})"]
    assert out.data.shape == data.shape
    assert np.all((out.data == 0) | (out.data == data))
    assert tuple(out.scale) == (2.0,) * ndim and tuple(out.translate) == (5.0,) * ndim
    assert np.array_equal(viewer.layers["cells"].data, before)



def test_a_run_says_whether_the_skeleton_kept_the_topology(make_napari_viewer, qtbot):
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "boolean")
    w.run()
    _wait(qtbot, w)
    assert w.status.text().endswith("; topology kept")


def test_a_skelite_run_that_breaks_the_topology_suggests_the_guard(make_napari_viewer, qtbot, monkeypatch):
    import napari_skelite._napari.controller

    def broken(mask, method, *args, **kwargs):  # label 5 comes out in two pieces
        out = np.zeros_like(mask)
        out[5, 3] = out[5, 20] = 5
        out[16, 8:16] = 9
        return out

    monkeypatch.setattr(napari_skelite._napari.controller, "skeletonize", broken)
    warnings = []
    monkeypatch.setattr("napari.utils.notifications.show_warning", lambda m: warnings.append(m))
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "skelite")
    w.guard.setChecked(False)
    w.run()
    _wait(qtbot, w)
    assert "topology changed (β0 err 1, β1 err 0)" in w.status.text()
    assert len(warnings) == 1 and "topology guard" in warnings[0]

def test_a_second_run_replaces_its_own_output_layer(make_napari_viewer, qtbot):
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "boolean")
    for _ in range(2):
        w.run()
        _wait(qtbot, w)
    assert len(viewer.layers) == 2


def _run_boolean_keeping_iterations(qtbot, w):
    _choose(w, "boolean")
    w.keep_steps.setChecked(True)
    w.run()
    _wait(qtbot, w)


def test_keeping_iterations_adds_a_layer_with_a_leading_iteration_axis(make_napari_viewer, qtbot):
    viewer, w = _widget(make_napari_viewer, labels(3), scale=(3.0, 1.0, 1.0))
    _run_boolean_keeping_iterations(qtbot, w)
    steps = viewer.layers["cells iterations (boolean)"]
    removed = viewer.layers["cells removed per iteration (boolean)"]
    assert steps.data.ndim == 4 and steps.data.shape[1:] == (6, 24, 30) and steps.data.shape[0] >= 2
    assert removed.data.shape == steps.data.shape
    assert tuple(steps.scale) == (1.0, 3.0, 1.0, 1.0)
    np.testing.assert_array_equal(steps.data[0], labels(3))
    # the highlighted points of step 1 are exactly those that step 1 removed
    np.testing.assert_array_equal(removed.data[1] > 0, (steps.data[0] > 0) & (steps.data[1] == 0))


def test_results_keep_the_inputs_axis_names_and_units_and_the_slider_is_named_iteration(make_napari_viewer, qtbot):
    from napari.layers import Labels

    if not hasattr(Labels, "axis_labels"):
        pytest.skip("this napari has no per-layer axis names")
    viewer, w = _widget(make_napari_viewer, labels(3), axis_labels=("z", "y", "x"), units=("um", "um", "um"))
    _run_boolean_keeping_iterations(qtbot, w)
    skel = viewer.layers["cells skeleton (boolean)"]
    steps = viewer.layers["cells iterations (boolean)"]
    assert tuple(skel.axis_labels) == ("z", "y", "x") and tuple(steps.axis_labels) == ("iteration", "z", "y", "x")
    assert [str(u) for u in skel.units] == ["micrometer"] * 3
    assert tuple(viewer.dims.axis_labels) == ("iteration", "z", "y", "x")

def test_a_dask_backed_layer_runs_chunk_by_chunk_and_matches_the_in_memory_result(make_napari_viewer, qtbot, monkeypatch):
    import dask.array as da

    from napari_skelite import skeletonize

    infos = []
    monkeypatch.setattr("napari.utils.notifications.show_info", lambda msg: infos.append(msg))
    data = np.tile(labels(2), (3, 3))
    viewer, w = _widget(make_napari_viewer, da.from_array(data, chunks=(24, 30)))
    _choose(w, "boolean")
    w.keep_steps.setChecked(True)  # not available for chunked input: said, then skipped
    seen = []
    w._progress.changed.connect(lambda d, t: seen.append(t))
    w.run()
    _wait(qtbot, w)
    out = viewer.layers["cells skeleton (boolean)"].data
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, skeletonize(data, "boolean"))
    assert any("dask" in m for m in infos)
    assert "cells iterations (boolean)" not in viewer.layers
    assert seen and max(seen) > 1  # progress counted in chunks


def test_an_image_layer_is_thresholded(qtbot):
    from napari.components import ViewerModel

    viewer = ViewerModel()  # no GL canvas: Image layers need OpenGL, which offscreen Qt lacks
    img = labels(2).astype(float) / 10
    viewer.add_image(img, name="probability")
    w = SkeletonizeWidget(viewer)
    w.threshold.setValue(0.3)
    _choose(w, "classic")
    w.run()
    _wait(qtbot, w)
    out = viewer.layers["probability skeleton (classic, > 0.3)"].data
    assert out.any() and set(np.unique(out)) <= {0, 1}


def test_the_record_of_a_thresholded_image_names_the_threshold(qtbot, tmp_path):
    import json

    from napari.components import ViewerModel

    viewer = ViewerModel()
    viewer.add_image(labels(2).astype(float) / 10, name="probability")
    w = SkeletonizeWidget(viewer)
    w.threshold.setValue(0.3)
    _choose(w, "classic")
    w.run()
    _wait(qtbot, w)
    viewer.layers.selection.active = viewer.layers["probability skeleton (classic, > 0.3)"]
    w.save_skeleton(tmp_path / "s.npy")
    assert json.loads((tmp_path / "s.npy.json").read_text())["input"]["source"] == "napari layer 'probability', points > 0.3"


def test_cancel_stops_the_run_and_adds_nothing(make_napari_viewer, qtbot):
    m = np.zeros((8, 200, 200), np.uint16)
    for i in range(100):
        y, x = divmod(i, 10)
        m[1:7, 20 * y + 2: 20 * y + 18, 20 * x + 2: 20 * x + 18] = i + 1
    viewer, w = _widget(make_napari_viewer, m)
    _choose(w, "boolean")
    w.run()
    w.cancel()
    _wait(qtbot, w)
    assert len(viewer.layers) == 1
    assert "cancelled" in w.status.text()


def test_compare_fills_the_table_and_adds_one_layer_per_method(make_napari_viewer, qtbot, shipped_random_weights):
    viewer, w = _widget(make_napari_viewer, labels(2))
    w.compare()
    _wait(qtbot, w)
    methods = [w.table.item(i, 0).text() for i in range(w.table.rowCount())]
    assert methods == ["skelite", "boolean", "local", "morphological", "classic"]
    by = {r["method"]: r for r in w.last_rows}
    assert by["boolean"]["b0_error"] == 0 and by["boolean"]["cldice_vs_boolean"] == 1.0
    assert by["local"]["b0_error"] == by["local"]["b1_error"] == 0
    assert w.table.item(1, 1).text() == "0"
    csv = w.table_csv().splitlines()
    assert csv[0].startswith("method,b0_error,b1_error") and len(csv) == 6
    assert all(f"cells skeleton ({m})" in viewer.layers for m in methods)



def _compared(make_napari_viewer, qtbot, methods=("boolean", "classic")):
    viewer, w = _widget(make_napari_viewer, labels(2))
    for m, box in w.compare_checks.items():
        box.setChecked(m in methods)
    w.compare()
    _wait(qtbot, w)
    return viewer, w


def test_clicking_a_table_row_shows_that_methods_skeleton_over_the_input(make_napari_viewer, qtbot):
    viewer, w = _compared(make_napari_viewer, qtbot)
    w.table.selectRow(1)
    assert viewer.layers.selection.active.name == "cells skeleton (classic)"
    assert viewer.layers["cells skeleton (classic)"].visible and not viewer.layers["cells skeleton (boolean)"].visible
    assert viewer.layers["cells"].visible
    if hasattr(viewer.layers["cells"], "name_overlay"):
        assert viewer.layers["cells skeleton (classic)"].name_overlay.visible


def test_the_differences_layer_holds_the_points_only_one_method_has(make_napari_viewer, qtbot):
    from qtpy.QtCore import QItemSelectionModel

    viewer, w = _compared(make_napari_viewer, qtbot)
    sel = w.table.selectionModel()
    w.table.selectRow(0)
    sel.select(w.table.model().index(1, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    assert w.selected_methods() == ["boolean", "classic"] and w.diff_btn.isEnabled()
    out = w.show_differences()
    a, b = viewer.layers["cells skeleton (boolean)"].data > 0, viewer.layers["cells skeleton (classic)"].data > 0
    assert np.array_equal(out.data == 1, a & ~b) and np.array_equal(out.data == 2, b & ~a)


def test_compare_marks_topology_errors_in_the_table_and_names_the_inputs_betti_numbers(make_napari_viewer, qtbot):
    from napari_skelite._napari.widget import BAD_COLOR
    from napari_skelite.metrics import betti_numbers

    from napari_skelite.synthetic import bezier_tree

    tree = bezier_tree((40, 40), 3, (1.0, 3.0), seed=0).astype(np.uint8)  # the soft skeleton breaks it
    viewer, w = _widget(make_napari_viewer, tree)
    for m, box in w.compare_checks.items():
        box.setChecked(m in ("boolean", "morphological"))
    w.compare()
    _wait(qtbot, w)
    rows = {w.table.item(i, 0).text(): i for i in range(w.table.rowCount())}
    by = {r["method"]: r for r in w.last_rows}
    assert by["morphological"]["b0_error"] > 0 and by["boolean"]["b0_error"] == 0
    marked = lambda method, col: w.table.item(rows[method], col).foreground().color().getRgb()[:3] == BAD_COLOR  # noqa: E731
    assert marked("morphological", 1) and not marked("boolean", 1)
    assert "pieces" in w.table.item(rows["morphological"], 1).toolTip()
    assert f"(input: β0 = {betti_numbers(tree)[0]}, β1 = {betti_numbers(tree)[1]})" in w.status.text()

def test_missing_weights_show_up_in_the_compare_table(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("NAPARI_SKELITE_WEIGHTS", str(tmp_path))
    monkeypatch.setattr("napari_skelite.skelite.weights._weights_dirs", lambda: [tmp_path])
    viewer, w = _widget(make_napari_viewer, labels(2))
    w.compare()
    _wait(qtbot, w)
    assert w.table.item(0, 0).text() == "skelite (unavailable)"
    assert "weights file not found" in w.table.item(0, 1).toolTip()
    assert "weights file not found" in w.table_csv().splitlines()[1]


def test_writer_round_trip(make_napari_viewer, qtbot, tmp_path):
    from napari_skelite._napari.writer import write_labels
    from napari_skelite.io import read_labels

    viewer, w = _widget(make_napari_viewer, labels(3))
    _choose(w, "boolean")
    w.run()
    _wait(qtbot, w)
    data = viewer.layers["cells skeleton (boolean)"].data
    for ext in (".tif", ".npy"):
        (path,) = write_labels(str(tmp_path / f"s{ext}"), data, {})
        np.testing.assert_array_equal(read_labels(path), data)
    assert w.save_skeleton(tmp_path / "w.tif")



def test_a_saved_skeleton_carries_the_options_of_the_run_that_made_it(make_napari_viewer, qtbot, tmp_path):
    import json

    viewer, w = _widget(make_napari_viewer, labels(2), scale=(2.0, 1.0))
    _choose(w, "skelite")
    records = []
    for guard in (True, False, True):  # the third run replaces the first layer: its record must follow
        w.guard.setChecked(guard)
        w.iterations.setValue(0 if len(records) < 2 else 3)
        w.run()
        _wait(qtbot, w)
        viewer.layers.selection.active = viewer.layers["cells skeleton (skelite)" if guard else
                                                       "cells skeleton (skelite, no guard)"]
        w.save_skeleton(tmp_path / f"s{len(records)}.npy")
        records.append(json.loads((tmp_path / f"s{len(records)}.npy.json").read_text()))
    assert [r["options"]["guard"] for r in records] == [True, False, True]
    assert [r["options"]["iterations"] for r in records] == [None, None, 3]
    assert records[0]["input"]["source"] == "napari layer 'cells'" and records[0]["input"]["scale"] == [2.0, 1.0]
    assert "sha256" in records[0]["weights"]


def test_a_saved_tiff_keeps_the_layers_voxel_size_for_fiji(make_napari_viewer, qtbot, tmp_path):
    import tifffile

    viewer, w = _widget(make_napari_viewer, labels(3), scale=(3.0, 0.5, 0.5))
    _choose(w, "boolean")
    w.run()
    _wait(qtbot, w)
    w.save_skeleton(tmp_path / "s.tif")
    with tifffile.TiffFile(tmp_path / "s.tif") as tif:
        assert tif.imagej_metadata["spacing"] == 3.0
        assert tif.pages[0].tags["XResolution"].value == (2, 1)

def test_branch_table_export_has_rows_per_label(make_napari_viewer, qtbot, tmp_path):
    import pandas as pd

    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "boolean")
    w.run()
    _wait(qtbot, w)
    w.export_branch_table(tmp_path / "b.csv")
    df = pd.read_csv(tmp_path / "b.csv")
    assert set(df["label"]) == {5, 9} and (df["branch_distance"] > 0).all()


def _errors(monkeypatch):
    seen = []
    monkeypatch.setattr("napari.utils.notifications.show_error", lambda msg: seen.append(msg))
    return seen


def test_no_layer_gives_an_error_notification(make_napari_viewer, monkeypatch):
    seen = _errors(monkeypatch)
    viewer, w = _widget(make_napari_viewer)
    assert w.run() is None
    assert "No input layer" in seen[0]


@pytest.mark.parametrize("action", ["run", "compare"])
def test_a_4d_layer_gives_a_clear_error(make_napari_viewer, qtbot, monkeypatch, action):
    seen = _errors(monkeypatch)
    viewer, w = _widget(make_napari_viewer, np.zeros((2, 3, 8, 8), np.uint8))
    _choose(w, "boolean")
    assert getattr(w, action)() is None  # refused before any job starts
    assert "is 4D" in seen[0] and "2D and 3D" in seen[0] and len(viewer.layers) == 1


def test_missing_weights_give_a_clear_error(make_napari_viewer, qtbot, monkeypatch, tmp_path):
    seen = _errors(monkeypatch)
    monkeypatch.setattr("napari_skelite.skelite.weights._weights_dirs", lambda: [tmp_path])
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "skelite")
    w.run()
    _wait(qtbot, w)
    assert "weights file not found" in seen[0]


def test_empty_labels_give_an_empty_skeleton_and_a_notice(make_napari_viewer, qtbot, monkeypatch):
    infos = []
    monkeypatch.setattr("napari.utils.notifications.show_info", lambda msg: infos.append(msg))
    viewer, w = _widget(make_napari_viewer, np.zeros((10, 10), np.uint8))
    _choose(w, "boolean")
    w.run()
    _wait(qtbot, w)
    assert not viewer.layers["cells skeleton (boolean)"].data.any()
    assert any("empty" in m for m in infos)


def test_manifest_is_valid():
    from npe2 import PluginManifest

    pm = PluginManifest.from_distribution("napari-skelite")
    assert pm.contributions.widgets and pm.contributions.writers and len(pm.contributions.sample_data) == 2


def test_the_plugin_dock_widget_opens_by_its_manifest_name(make_napari_viewer):
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-skelite", "Skeletonize")
    assert isinstance(widget, SkeletonizeWidget)


@pytest.fixture
def blocked_skeletonize(monkeypatch):
    """skeletonize that waits until the test releases it."""
    import threading

    import napari_skelite._napari.controller as api

    gate = threading.Event()
    real = api.skeletonize

    def slow(*a, **k):
        assert gate.wait(30)
        return real(*a, **k)

    monkeypatch.setattr(api, "skeletonize", slow)
    return gate


def test_a_second_run_while_one_is_going_is_refused_with_a_warning(make_napari_viewer, qtbot, monkeypatch, blocked_skeletonize):
    warnings = []
    monkeypatch.setattr("napari.utils.notifications.show_warning", lambda m: warnings.append(m))
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "boolean")
    assert w.run() is not None
    assert w.run() is None and "already going" in warnings[0]
    blocked_skeletonize.set()
    _wait(qtbot, w)
    assert len(viewer.layers) == 2


def test_removing_the_input_layer_mid_run_stops_the_run(make_napari_viewer, qtbot, blocked_skeletonize):
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "boolean")
    w.run()
    viewer.layers.remove("cells")
    blocked_skeletonize.set()  # the run starts after the removal: its first iteration stops it
    _wait(qtbot, w)
    assert len(viewer.layers) == 0 and "run stopped" in w.status.text()


def test_a_run_that_fails_unexpectedly_reports_it_and_leaves_no_layer(make_napari_viewer, qtbot, monkeypatch):
    import napari_skelite._napari.controller as api

    errors = _errors(monkeypatch)

    def boom(*a, **k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(api, "skeletonize", boom)
    viewer, w = _widget(make_napari_viewer, labels(2))
    w.run()
    _wait(qtbot, w)
    assert errors == ["RuntimeError: kaput"] and len(viewer.layers) == 1
    assert w.run_btn.isEnabled() and not w.cancel_btn.isEnabled()


def test_no_worker_thread_is_left_after_a_run(make_napari_viewer, qtbot):
    from qtpy.QtCore import QThreadPool

    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "classic")
    w.run()
    _wait(qtbot, w)
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=10_000)


def test_closing_the_widget_mid_run_cancels_it(make_napari_viewer, qtbot, blocked_skeletonize):
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "boolean")
    w.run()
    w.close()
    blocked_skeletonize.set()
    _wait(qtbot, w)
    assert len(viewer.layers) == 1


def test_closing_the_viewer_mid_run_does_not_raise(make_napari_viewer, qtbot, blocked_skeletonize):
    viewer = make_napari_viewer()
    viewer.add_labels(labels(2), name="cells")
    dock, w = viewer.window.add_plugin_dock_widget("napari-skelite", "Skeletonize")
    _choose(w, "boolean")
    from qtpy.QtCore import QThreadPool

    w.run()
    cancel = w.controller.cancel_event
    viewer.close()
    blocked_skeletonize.set()
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=30_000)
    assert cancel.is_set()  # the widget went away with the viewer, so the job was cancelled


def test_a_registered_method_appears_in_the_widget_and_runs(make_napari_viewer, qtbot, toy_method):
    viewer, w = _widget(make_napari_viewer, labels(2))
    assert w.method_combo.findData("toyerode") >= 0
    assert w.method_combo.itemText(w.method_combo.findData("toyerode")) == "Toy erosion"
    assert "toyerode" in w.compare_checks
    _choose(w, "toyerode")
    w.run()
    _wait(qtbot, w)
    assert any(ly.name == "cells skeleton (toyerode)" for ly in viewer.layers)


def _photo(shape=(64, 80)):
    from scipy import ndimage

    noise = ndimage.gaussian_filter(np.random.default_rng(0).random(shape), 2)
    return ((noise - noise.min()) / np.ptp(noise) * 255).astype(np.uint8)


def _warnings(monkeypatch):
    seen = []
    monkeypatch.setattr("napari.utils.notifications.show_warning", lambda m: seen.append(m))
    return seen


def test_a_photo_opened_as_labels_is_said_to_look_like_an_intensity_image(make_napari_viewer, qtbot, monkeypatch):
    seen = _warnings(monkeypatch)
    viewer, w = _widget(make_napari_viewer, _photo())
    _choose(w, "boolean")
    w.run()
    _wait(qtbot, w)
    assert any("looks like an intensity image" in m for m in seen)


def test_an_image_layer_starts_from_its_automatic_threshold(qtbot):
    from napari.components import ViewerModel

    viewer = ViewerModel()
    img = (labels(2) > 0) * 200.0 + 20
    viewer.add_image(img, name="raw")
    w = SkeletonizeWidget(viewer)
    assert 20 < w.threshold.value() < 220 and "Otsu" in w.threshold.toolTip()


def test_a_threshold_that_makes_almost_everything_foreground_warns_with_the_automatic_one(qtbot, monkeypatch):
    from napari.components import ViewerModel

    seen = _warnings(monkeypatch)
    viewer = ViewerModel()
    viewer.add_image(((labels(2) > 0) * 200 + 20).astype(np.uint8), name="raw")
    w = SkeletonizeWidget(viewer)
    w.threshold.setValue(0.5)  # the old fixed default: every pixel of a 20-220 image is above it
    _choose(w, "classic")
    w.run()
    _wait(qtbot, w)
    assert any("100.0% of the image foreground" in m and "Otsu" in m for m in seen)


def test_the_input_layer_is_the_active_one_when_the_widget_opens(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_labels(labels(2), name="first")
    viewer.add_labels(labels(2), name="second")
    viewer.layers.selection.active = viewer.layers["second"]  # not the bottom layer
    w = SkeletonizeWidget(viewer)
    assert w.input_layer().name == "second"


def test_a_rerun_without_iterations_removes_the_last_runs_iteration_layers(make_napari_viewer, qtbot):
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "boolean")
    w.keep_steps.setChecked(True)
    w.run()
    _wait(qtbot, w)
    assert "cells iterations (boolean)" in viewer.layers
    w.keep_steps.setChecked(False)
    w.run()
    _wait(qtbot, w)
    names = [ly.name for ly in viewer.layers]
    assert "cells iterations (boolean)" not in names and "cells removed per iteration (boolean)" not in names
    assert "cells skeleton (boolean)" in names


def test_runs_with_and_without_the_guard_sit_side_by_side(make_napari_viewer, qtbot, shipped_random_weights):
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "skelite")
    w.run()
    _wait(qtbot, w)
    w.guard.setChecked(False)
    w.run()
    _wait(qtbot, w)
    assert {"cells skeleton (skelite)", "cells skeleton (skelite, no guard)"} <= {ly.name for ly in viewer.layers}


def test_the_compare_table_is_cleared_when_the_input_changes(make_napari_viewer, qtbot):
    viewer, w = _widget(make_napari_viewer, labels(2))
    viewer.add_labels(labels(2), name="other")
    w.layer_combo.setCurrentText("cells")
    for m, c in w.compare_checks.items():
        c.setChecked(m in ("boolean", "classic"))
    w.compare()
    _wait(qtbot, w)
    assert w.table.rowCount() == 2
    w.layer_combo.setCurrentText("other")
    assert w.table.rowCount() == 0 and w.last_rows == []


def test_skeleton_layers_show_through_the_input_in_3d(make_napari_viewer, qtbot):
    viewer, w = _widget(make_napari_viewer, labels(3))
    _choose(w, "boolean")
    w.run()
    _wait(qtbot, w)
    assert viewer.layers["cells skeleton (boolean)"].blending == "translucent_no_depth"


def test_skeleton_colours_stand_apart_from_the_inputs_colours(make_napari_viewer, qtbot):
    viewer, w = _widget(make_napari_viewer, labels(2))
    _choose(w, "boolean")
    w.run()
    _wait(qtbot, w)
    skel, cells = viewer.layers["cells skeleton (boolean)"], viewer.layers["cells"]
    for v in (5, 9):
        assert np.linalg.norm(np.asarray(skel.get_color(v))[:3] - np.asarray(cells.get_color(v))[:3]) > 0.5


def test_a_table_row_still_finds_its_layer_after_the_options_change(make_napari_viewer, qtbot, shipped_random_weights):
    viewer, w = _compared(make_napari_viewer, qtbot, methods=("skelite", "boolean"))
    rows = [r["method"] for r in w.last_rows]
    w.table.selectRow(rows.index("boolean"))
    w.guard.setChecked(False)  # the table's skelite row was made with the guard
    w.table.selectRow(rows.index("skelite"))
    assert viewer.layers.selection.active.name == "cells skeleton (skelite)"
    assert viewer.layers["cells skeleton (skelite)"].visible
