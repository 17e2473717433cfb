"""A script that docks the widget and closes the viewer exits cleanly (exit code 0), whatever the warm-up is doing."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.gui

SCRIPT = """
import numpy as np
import napari

viewer = napari.Viewer(show=False)
viewer.add_labels(np.random.default_rng(0).integers(0, 50, (16, 32, 32)).astype(np.uint32), name="cells")
viewer.window.add_plugin_dock_widget("napari-skelite", "Skeletonize")
viewer.close()
"""


@pytest.mark.slow
def test_docking_the_widget_and_closing_the_viewer_exits_with_code_0(tmp_path):
    script = tmp_path / "dock_and_close.py"
    script.write_text(SCRIPT)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    codes = []
    for i in range(3):
        # an empty numba cache: the warm-up is still compiling when the viewer closes (as after a fresh install)
        env["NUMBA_CACHE_DIR"] = str(tmp_path / f"numba-cache-{i}")
        p = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
        codes.append(p.returncode)
        assert "terminate called" not in p.stderr
    assert codes == [0, 0, 0]
