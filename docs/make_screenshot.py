"""Screenshots of the plugin in a real napari window, for the README and the tutorial.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_screenshot.py [docs]

Writes ``screenshot-3d.png`` (a 3D skeleton over its translucent input),
``screenshot-compare.png`` (two methods' skeletons over the 2D input and the
points where they disagree), ``screenshot-graph.png`` (the 3D skeleton graph
coloured by vessel radius) and ``screenshot-iterations.png`` (one thinning
iteration, the points it removes in pink).
"""
import sys
import time
from pathlib import Path

import napari
from qtpy.QtCore import QItemSelectionModel
from qtpy.QtWidgets import QApplication

from napari_skelite._napari.sample_data import vessel_tree_2d, vessel_tree_3d
from napari_skelite._napari.widget import SkeletonizeWidget


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


def _viewer(sample):
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    (data, meta, _), = sample()
    viewer.add_labels(data, **meta)
    w = SkeletonizeWidget(viewer)
    viewer.window.add_dock_widget(w, name="Skeletonize", area="right")
    return viewer, w


def _choose(w, method):
    w.method_combo.setCurrentIndex(w.method_combo.findData(method))


def shots(out: Path):
    out.mkdir(parents=True, exist_ok=True)

    viewer, w = _viewer(vessel_tree_3d)
    _choose(w, "skelite")
    w.run()
    wait(w)
    viewer.layers["vessel tree 3D"].opacity = 0.25
    viewer.dims.ndisplay = 3
    viewer.reset_view()
    camera = getattr(getattr(viewer, "scene", None), "camera", None) or viewer.camera
    camera.angles = (0, 35, 55)
    camera.zoom *= 1.2
    settle()
    viewer.screenshot(str(out / "screenshot-3d.png"), canvas_only=False)
    w.graph_panel.colour_combo.setCurrentIndex(w.graph_panel.colour_combo.findData("mean_radius"))
    viewer.layers.selection.active = viewer.layers["vessel tree 3D skeleton (skelite)"]
    worker = w.graph_panel.show_graph()
    while worker.is_running:
        settle(0.1)
    settle(0.5)
    viewer.layers["vessel tree 3D skeleton (skelite)"].visible = False
    settle()
    viewer.screenshot(str(out / "screenshot-graph.png"), canvas_only=False)
    viewer.close()

    viewer, w = _viewer(vessel_tree_2d)
    for m, box in w.compare_checks.items():
        box.setChecked(m in ("boolean", "classic", "skelite", "morphological"))
    w.compare()
    wait(w)
    rows = [r["method"] for r in w.last_rows]
    w.table.selectRow(rows.index("boolean"))
    w.table.selectionModel().select(w.table.model().index(rows.index("classic"), 0),
                                    QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    w.show_differences()
    viewer.layers["vessel tree 2D"].opacity = 0.35
    viewer.reset_view()
    settle()
    viewer.screenshot(str(out / "screenshot-compare.png"), canvas_only=False)
    viewer.close()

    viewer, w = _viewer(vessel_tree_2d)
    _choose(w, "boolean")
    w.keep_steps.setChecked(True)
    w.run()
    wait(w)
    viewer.layers["vessel tree 2D"].visible = False
    viewer.layers["vessel tree 2D skeleton (boolean)"].visible = False  # the state at the slider's iteration only
    viewer.dims.set_current_step(0, 2)
    viewer.reset_view()
    settle()
    viewer.screenshot(str(out / "screenshot-iterations.png"), canvas_only=False)
    viewer.close()
    print("wrote", ", ".join(str(p) for p in sorted(out.glob("screenshot-*.png"))))


if __name__ == "__main__":
    shots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
