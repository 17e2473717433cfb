"""Screenshots of the plugin in a real napari window, for the README and the tutorial.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_screenshot.py [docs]

The widget is opened as the Plugins menu opens it (``add_plugin_dock_widget``)
and the input stays visible in every shot. Writes ``screenshot-3d.png`` (a 3D
skeleton drawn over its input), ``screenshot-iterations.png`` and
``screenshot-iterations-3d.png`` (one thinning iteration, the points it
removed in pink, 2D and 3D), ``screenshot-compare.png`` (a chosen method's
skeleton alone over the 2D input and the points where two methods disagree),
``screenshot-graph.png`` and ``screenshot-graph-2d.png`` (the skeleton graph
coloured by vessel radius, with its legend in the widget).
"""
import sys
import time
from pathlib import Path

import napari
from qtpy.QtCore import QItemSelectionModel
from qtpy.QtWidgets import QApplication

from napari_skelite._napari.sample_data import vessel_tree_2d, vessel_tree_3d


def settle(seconds=1.0):
    t0 = time.time()
    while time.time() - t0 < seconds:
        QApplication.processEvents()
        time.sleep(0.05)


def wait(w, timeout=600):
    t0 = time.time()
    while w.running and time.time() - t0 < timeout:
        QApplication.processEvents()
        time.sleep(0.05)
    settle(0.5)


def _viewer(sample, opacity=0.5):
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    (data, meta, _), = sample()
    viewer.add_labels(data, opacity=opacity, **meta)
    _, w = viewer.window.add_plugin_dock_widget("napari-skelite", "Skeletonize")
    return viewer, w


def _choose(w, method):
    w.method_combo.setCurrentIndex(w.method_combo.findData(method))


def _rotate(viewer):
    viewer.dims.ndisplay = 3
    viewer.reset_view()
    camera = getattr(getattr(viewer, "scene", None), "camera", None) or viewer.camera
    camera.angles = (0, 35, 55)
    camera.zoom *= 1.2


def shots(out: Path):
    out.mkdir(parents=True, exist_ok=True)

    # 3D: skeleton, then its graph, over the visible input
    viewer, w = _viewer(vessel_tree_3d, opacity=0.3)
    _choose(w, "skelite")
    w.run_btn.click()
    wait(w)
    _rotate(viewer)
    settle()
    viewer.screenshot(str(out / "screenshot-3d.png"), canvas_only=False)
    w.graph_panel.graph_btn.click()
    wait(w)
    viewer.layers["vessel tree 3D skeleton (skelite)"].visible = False
    settle()
    viewer.screenshot(str(out / "screenshot-graph.png"), canvas_only=False)
    # 3D iterations: the slider on the final skeleton, with the points the last iteration removed in pink
    w.keep_steps.setChecked(True)
    _choose(w, "boolean")
    w.run_btn.click()
    wait(w)
    steps = viewer.layers["vessel tree 3D iterations (boolean)"]
    viewer.dims.set_current_step(0, steps.data.shape[0] - 1)
    settle()
    viewer.screenshot(str(out / "screenshot-iterations-3d.png"), canvas_only=False)
    viewer.close()

    # 2D: compare, a chosen row alone, the differences of two
    viewer, w = _viewer(vessel_tree_2d, opacity=0.35)
    for m, box in w.compare_panel.compare_checks.items():
        box.setChecked(m in ("boolean", "classic", "skelite", "morphological"))
    w.compare_panel.compare_btn.click()
    wait(w)
    rows = [r["method"] for r in w.session.table_rows]
    table = w.compare_panel.table
    table.selectRow(rows.index("boolean"))
    table.selectionModel().select(table.model().index(rows.index("classic"), 0),
                                  QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    w.compare_panel.diff_btn.click()
    settle()
    viewer.screenshot(str(out / "screenshot-compare.png"), canvas_only=False)
    # 2D graph of the chosen skeleton
    viewer.layers.selection.active = viewer.layers["vessel tree 2D skeleton (classic)"]
    w.graph_panel.graph_btn.click()
    wait(w)
    settle()
    viewer.screenshot(str(out / "screenshot-graph-2d.png"), canvas_only=False)
    viewer.close()

    # 2D iterations over the input
    viewer, w = _viewer(vessel_tree_2d, opacity=0.35)
    _choose(w, "boolean")
    w.keep_steps.setChecked(True)
    w.run_btn.click()
    wait(w)
    viewer.dims.set_current_step(0, 2)
    settle()
    viewer.screenshot(str(out / "screenshot-iterations.png"), canvas_only=False)
    viewer.close()
    print("wrote", ", ".join(str(p) for p in sorted(out.glob("screenshot-*.png"))))


if __name__ == "__main__":
    shots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
