"""Screenshot of the docked widget with a 3D result and the compare table.

    xvfb-run -a -s "-screen 0 1600x1024x24" python docs/make_screenshot.py docs/screenshot.png
"""
import sys
import time

import napari
from qtpy.QtWidgets import QApplication

from napari_skelite._napari.sample_data import vessel_tree_3d
from napari_skelite._napari.widget import SkeletonizeWidget


def wait(w, timeout=600):
    t0 = time.time()
    while w.running and time.time() - t0 < timeout:
        QApplication.processEvents()
        time.sleep(0.05)


def main(out="docs/screenshot.png"):
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 900)
    (data, meta, _), = vessel_tree_3d()
    viewer.add_labels(data, **meta)
    w = SkeletonizeWidget(viewer)
    viewer.window.add_dock_widget(w, name="Skeletonize", area="right")
    w.compare()
    wait(w)
    viewer.dims.ndisplay = 3
    viewer.camera.angles = (0, 30, 60)
    for layer in viewer.layers:
        layer.visible = True
    viewer.layers["vessel tree 3D"].opacity = 0.25
    QApplication.processEvents()
    viewer.reset_view()
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.05)
    viewer.screenshot(out, canvas_only=False)
    print("wrote", out)
    viewer.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
