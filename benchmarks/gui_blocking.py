"""How long the napari GUI thread is blocked while the plugin works, and whether a docked widget exits cleanly.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_blocking.py [--fresh-numba] [--exit-runs 30]

Opens a napari viewer with ~600 touching 3D blobs (int32 labels, as
``skimage.measure.label`` gives), docks the widget the way the Plugins menu
does (``add_plugin_dock_widget``, so it gets napari's proxy of the viewer),
and presses Run, Compare, Show graph, Prune, Save graph and Save skeleton
right away, i.e. while the warm-up still compiles (first use). A QTimer
ticks every 10 ms on the GUI thread; the longest gap between ticks during each
step is how long a user's clicks and redraws would have waited. A second column
leaves out the time spent inside napari's ``ViewerModel.add_layer`` (napari's own
controls, vispy visuals and overlays for a new layer): what is left is the
plugin's work on the GUI thread and whatever else napari does in those turns.

``--fresh-numba`` points numba at an empty cache, as after an install: the
one-time compilations (napari's label colormap and Shapes triangulation,
skan's graph code) are paid in this run. ``--exit-runs N`` then runs N times a
script that docks the widget and closes the viewer, and counts exit codes.
Offscreen Qt draws nothing, so drawing is not in these numbers.

Two reference rows frame the plugin's numbers: "idle event loop" (2 s with
nothing to do: what the machine's other load costs the ticks) and "napari
alone" (napari adding one layer like the Run's skeleton layer, built
beforehand, with no plugin code on the GUI thread: napari's own floor for one
result layer). ``--no-gc-freeze`` leaves Python's garbage collector as it is
(see ``napari_skelite._napari.gc_pauses``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXIT_SCRIPT = """
import numpy as np
import napari

viewer = napari.Viewer(show=False)
viewer.add_labels(np.random.default_rng(0).integers(0, 50, (32, 64, 64)).astype(np.uint32), name="cells")
viewer.window.add_plugin_dock_widget("napari-skelite", "Skeletonize")
viewer.close()
"""


def blobs(n=600, shape=(48, 160, 160), seed=0):
    """About ``n`` touching blobs: balls around random centres, grown until they meet (int32 labels)."""
    import numpy as np
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    centres = np.zeros(shape, bool)
    idx = tuple(rng.integers(3, s - 3, n) for s in shape)
    centres[idx] = True
    markers, count = ndimage.label(centres)
    dist, (iz, iy, ix) = ndimage.distance_transform_edt(markers == 0, return_indices=True)
    out = markers[iz, iy, ix].astype(np.int32)  # nearest centre: touching cells
    out[dist > 6] = 0  # rounded blobs, most touching their neighbours
    return out, count


def _offscreen_texture_size() -> None:
    """Offscreen Qt has no OpenGL context: napari's label textures would ask it their maximum size and fail."""
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        import napari._vispy.layers.labels as vispy_labels

        vispy_labels.get_max_texture_sizes = lambda: (2048, 2048)


def _watchdog(ticks, limit=0.15):
    """Print the GUI thread's stack whenever it has not ticked for ``limit`` s (what blocks it)."""
    import threading
    import traceback

    main = threading.main_thread().ident
    reported = set()

    def watch():
        while True:
            time.sleep(0.05)
            if ticks and time.perf_counter() - ticks[-1] > limit and ticks[-1] not in reported:
                reported.add(ticks[-1])
                stack = traceback.format_stack(sys._current_frames()[main])
                print("  GUI blocked; stack:\n" + "".join(stack[-45:]), flush=True)

    threading.Thread(target=watch, daemon=True).start()


def measure(fresh: bool, method: str, out_dir: Path, trace: bool = False) -> list[tuple[str, float, float]]:
    import napari
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    _offscreen_texture_size()

    data, count = blobs()
    adds = _time_layer_adds()
    viewer = napari.Viewer(show=False)
    viewer.add_labels(data, name="blobs", scale=(2.0, 0.5, 0.5))
    app = QApplication.instance()
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    if trace:
        _watchdog(ticks)
    results = []

    def step(name, action, busy, seconds=0.0):
        t0 = time.perf_counter()
        action()
        while busy() or time.perf_counter() < t0 + seconds:
            app.processEvents()
            time.sleep(0.002)
        app.processEvents()
        t1 = time.perf_counter()
        inside = [t0] + [t for t in ticks if t0 < t < t1] + [t1]
        gaps = list(zip(inside, inside[1:]))
        gap = max(b - a for a, b in gaps)
        own = max(b - a - _overlap(a, b, adds) for a, b in gaps)
        results.append((name, t1 - t0, gap, own))
        print(f"{name:28s} {t1 - t0:7.2f} s   longest GUI block {gap * 1000:7.1f} ms"
              f"   without napari's layer adds {own * 1000:7.1f} ms", flush=True)

    holder = {}
    step("idle event loop (reference)", lambda: None, lambda: False, seconds=2.0)
    step("open widget (plugin menu)",
         lambda: holder.update(w=viewer.window.add_plugin_dock_widget("napari-skelite", "Skeletonize")[1]),
         lambda: False)
    w = holder["w"]
    w.method_combo.setCurrentIndex(w.method_combo.findData(method))
    w.keep_steps.setChecked(False)
    busy = lambda: w.running  # noqa: E731
    step(f"Run ({method})", w.run_btn.click, busy)
    for m, box in w.compare_panel.compare_checks.items():
        box.setChecked(m in ("boolean", "classic", "morphological"))
    step("Compare (3 methods)", w.compare_panel.compare_btn.click, busy)
    viewer.layers.selection.active = viewer.layers[f"blobs skeleton ({method})"]
    step("Show graph (first)", w.graph_panel.graph_btn.click, busy)
    step("Show graph (again)", w.graph_panel.graph_btn.click, busy)
    viewer.layers.selection.active = viewer.layers[f"blobs skeleton ({method})"]
    step("Prune (first)", w.graph_panel.prune_btn.click, busy)
    viewer.layers.selection.active = viewer.layers[f"blobs skeleton ({method})"]
    step("Prune (again)", w.graph_panel.prune_btn.click, busy)
    step("Save graph (.graphml)", lambda: w.graph_panel.save_graph(out_dir / "graph.graphml"), busy)
    step("Save skeleton (.tif)", lambda: w.session.save_skeleton(out_dir / "skeleton.tif"), busy)
    skel = viewer.layers[f"blobs skeleton ({method})"]
    step("napari alone: add a built layer", lambda: _add_built_layer(viewer, skel), lambda: False)
    timer.stop()
    print(f"{count} blobs, {int((data > 0).sum())} object voxels, shape {data.shape}; "
          f"skeleton points: {int((viewer.layers[f'blobs skeleton ({method})'].data > 0).sum())}; "
          f"fresh numba cache: {fresh}; status: {w.status.text()!r}")
    viewer.close()
    return results


def _time_layer_adds() -> list[tuple[float, float]]:
    """Record the (start, end) of every ``ViewerModel.add_layer`` call: napari's own work for a new layer."""
    from napari.components import ViewerModel

    spans: list[tuple[float, float]] = []
    add = ViewerModel.add_layer

    def timed(self, layer):
        t = time.perf_counter()
        try:
            return add(self, layer)
        finally:
            spans.append((t, time.perf_counter()))

    ViewerModel.add_layer = timed
    return spans


def _overlap(a: float, b: float, spans) -> float:
    """Seconds of ``spans`` inside ``[a, b]``."""
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in spans)


def _add_built_layer(viewer, skel) -> None:
    """What napari does for one result layer: a Labels layer like ``skel`` (data, colours), built beforehand."""
    from napari.layers import Labels
    from napari.utils.colormaps import DirectLabelColormap

    cmap = DirectLabelColormap(color_dict=dict(skel.colormap.color_dict))
    layer = Labels(skel.data.copy(), name="napari alone", scale=skel.scale, colormap=cmap,
                   blending="translucent_no_depth")
    viewer.add_layer(layer)


def exit_runs(n: int) -> list[int]:
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "dock_and_close.py"
        script.write_text(EXIT_SCRIPT)
        codes = [subprocess.run([sys.executable, str(script)], capture_output=True, timeout=600).returncode
                 for _ in range(n)]
    print(f"dock the widget, close the viewer, exit: {codes.count(0)} of {n} runs exit 0 (codes {sorted(set(codes))})")
    return codes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fresh-numba", action="store_true", help="an empty numba cache, as after an install")
    ap.add_argument("--method", default="skelite")
    ap.add_argument("--exit-runs", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the numbers here")
    ap.add_argument("--trace", action="store_true", help="print the GUI thread's stack when it is blocked")
    ap.add_argument("--no-gc-freeze", action="store_true", help="leave the garbage collector as it is")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.no_gc_freeze:
        os.environ["NAPARI_SKELITE_GC_FREEZE"] = "0"
    if args.fresh_numba:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cache-")
    with tempfile.TemporaryDirectory() as d:
        results = measure(args.fresh_numba, args.method, Path(d), args.trace)
    codes = exit_runs(args.exit_runs) if args.exit_runs else []
    plugin = [r for r in results if "(reference)" not in r[0] and "napari alone" not in r[0]]
    worst = max(r[2] for r in plugin)
    own = max(r[3] for r in plugin)
    print(f"longest GUI block during the plugin's steps: {worst * 1000:.0f} ms; "
          f"without napari's own layer adds: {own * 1000:.0f} ms (target < 200 ms)")
    if args.json:
        args.json.write_text(json.dumps({"steps": [{"step": n, "seconds": s, "longest_block_s": g,
                                                    "longest_block_without_layer_adds_s": o}
                                                   for n, s, g, o in results], "exit_codes": codes}, indent=1))


if __name__ == "__main__":
    main()
