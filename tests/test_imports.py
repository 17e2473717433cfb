import subprocess
import sys


def test_importing_the_package_loads_no_torch_qt_or_napari():
    code = "import sys, napari_skelite; print(sorted(m for m in ('torch','qtpy','napari','PyQt6') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_engine_modules_do_not_import_qt_or_napari():
    code = (
        "import sys, napari_skelite.api, napari_skelite.metrics, napari_skelite.methods.skelite, "
        "napari_skelite.methods.boolean, napari_skelite.training.loop;"
        "print(sorted(m for m in ('qtpy','napari','PyQt6','magicgui') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
