"""The dock widget: skeletonize a layer, step through iterations, compare methods, export.

All computation runs in a napari thread worker through the engine
(:func:`napari_skelite.skeletonize`, :mod:`napari_skelite.metrics`); this
module only gathers options, shows progress and turns results into layers.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..api import METHODS
from . import layers as L

if TYPE_CHECKING:
    import napari

_log = logging.getLogger(__name__)

METHOD_LABELS = {
    "skelite": "Skelite (learned)",
    "boolean": "Boolean (topology-preserving)",
    "local": "Local thinning (Skelite's teacher)",
    "morphological": "Morphological (clDice soft)",
    "classic": "Classic (scikit-image)",
}
TABLE_COLUMNS = [
    ("method", "method", "skeletonization method"),
    ("b0_error", "β0 err", "|components of skeleton - components of input|, summed over labels"),
    ("b1_error", "β1 err", "|loops of skeleton - loops of input|, summed over labels"),
    ("thinness", "2x2", "share of skeleton points inside a full 2x2 (2x2x2) block; 0 = one point thin"),
    ("pixels", "points", "number of skeleton points"),
    ("cldice_vs_boolean", "clDice", "clDice against the Boolean (topology-preserving) skeleton, 1 px tolerance"),
    ("time_s", "s", "run time in seconds of a warm call (loading weights and first-call set-up not counted)"),
]


BAD_COLOR = (255, 110, 90)
BAD_TIPS = {
    "b0_error": "the skeleton has more or fewer pieces than the input (broken or lost objects)",
    "b1_error": "the skeleton has more or fewer loops than the input (cut or added loops)",
    "thinness": "more than 1% of the skeleton points are in full 2x2 (2x2x2) blocks: not one point thin",
}


def _is_bad(key, value) -> bool:
    """Table cells a user should not trust: topology changed, or a skeleton that is not thin."""
    if not isinstance(value, (int, float)):
        return False
    if key in ("b0_error", "b1_error"):
        return value > 0
    return key == "thinness" and value > 0.01


def _grid(viewer):
    """The viewer's grid settings: ``viewer.canvas.grid`` since napari 0.9, ``viewer.grid`` before."""
    canvas = getattr(viewer, "canvas", None)
    return canvas.grid if canvas is not None and hasattr(canvas, "grid") else viewer.grid


def _show_name(layer):
    """Write the layer's name in its own grid cell (napari >= 0.9 has a name overlay; older napari has none).

    A smaller font than napari's default, so the method at the end of the
    name still fits in a grid cell of a laptop-sized window.
    """
    overlay = getattr(layer, "name_overlay", None)
    if overlay is not None:
        overlay.font_size = 8
        overlay.visible = True


class Cancelled(Exception):
    """Raised inside the worker when the user pressed Cancel."""


class _Progress(QObject):
    changed = Signal(int, int)


class SkeletonizeWidget(QWidget):
    """Skeletonize a Labels (or thresholded Image) layer with any method."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._worker = None
        self._cancel = threading.Event()
        self._progress = _Progress()
        self._progress.changed.connect(self._on_progress)
        cancel = self._cancel  # not `self`: the slot must outlive the widget
        self.destroyed.connect(lambda *_: cancel.set())
        self.last_rows: list[dict] = []
        self._build()
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self.viewer.layers.events.reordered.connect(self._refresh_layers)
        self._refresh_layers()

    # ---------------------------------------------------------------- layout
    def _build(self):
        root = QVBoxLayout(self)
        self.setMinimumWidth(460)

        box = QGroupBox("Skeletonize")
        form = QFormLayout(box)
        self.layer_combo = QComboBox()
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        form.addRow("input layer", self.layer_combo)
        self.threshold = QDoubleSpinBox()
        self.threshold.setDecimals(3)
        self.threshold.setRange(-1e9, 1e9)
        self.threshold.setValue(0.5)
        self.threshold.setToolTip("Image layers: pixels above this value are foreground")
        form.addRow("threshold", self.threshold)
        self.method_combo = QComboBox()
        for m in METHODS:
            self.method_combo.addItem(METHOD_LABELS.get(m, m), m)
        form.addRow("method", self.method_combo)
        self.iterations = QSpinBox()
        self.iterations.setRange(0, 10_000)
        self.iterations.setSpecialValueText("auto (until done)")
        form.addRow("iterations", self.iterations)
        self.device_combo = QComboBox()
        self.device_combo.addItems(["auto", "cpu", "cuda", "mps"])
        form.addRow("device", self.device_combo)
        self.guard = QCheckBox("topology guard (Skelite)")
        self.guard.setChecked(True)
        self.guard.setToolTip("Apply the network's deletions only where they keep every Betti number")
        form.addRow(self.guard)
        self.keep_steps = QCheckBox("keep every iteration (adds a slider)")
        form.addRow(self.keep_steps)
        row = QHBoxLayout()
        self.run_btn = QPushButton("Run")
        self.run_btn.clicked.connect(self.run)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancel)
        row.addWidget(self.run_btn)
        row.addWidget(self.cancel_btn)
        form.addRow(row)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m objects")
        self.progress.setValue(0)
        form.addRow(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        root.addWidget(box)

        cbox = QGroupBox("Compare methods")
        cl = QVBoxLayout(cbox)
        checks = QHBoxLayout()
        self.compare_checks = {}
        for m in METHODS:
            c = QCheckBox(m)
            c.setChecked(True)
            self.compare_checks[m] = c
            checks.addWidget(c)
        cl.addLayout(checks)
        row = QHBoxLayout()
        self.compare_btn = QPushButton("Compare")
        self.compare_btn.clicked.connect(self.compare)
        self.copy_btn = QPushButton("Copy table as CSV")
        self.copy_btn.clicked.connect(self.copy_csv)
        self.copy_btn.setEnabled(False)
        row.addWidget(self.compare_btn)
        row.addWidget(self.copy_btn)
        cl.addLayout(row)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels([t for _, t, _ in TABLE_COLUMNS])
        for j, (_, _, tip) in enumerate(TABLE_COLUMNS):
            self.table.horizontalHeaderItem(j).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(150)
        cl.addWidget(self.table)
        root.addWidget(cbox)

        ebox = QGroupBox("Export")
        el = QHBoxLayout(ebox)
        self.save_btn = QPushButton("Save skeleton…")
        self.save_btn.clicked.connect(self._save_dialog)
        self.branch_btn = QPushButton("Branch table (CSV)…")
        self.branch_btn.clicked.connect(self._branch_dialog)
        el.addWidget(self.save_btn)
        el.addWidget(self.branch_btn)
        root.addWidget(ebox)
        root.addStretch(1)

    # ---------------------------------------------------------------- layers
    def _candidate_layers(self):
        from napari.layers import Image, Labels

        return [ly for ly in self.viewer.layers
                if isinstance(ly, (Labels, Image)) and L.KEY not in ly.metadata]

    def _refresh_layers(self, event=None):
        current = self.layer_combo.currentText()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for ly in self._candidate_layers():
            self.layer_combo.addItem(ly.name)
        idx = self.layer_combo.findText(current)
        if idx >= 0:
            self.layer_combo.setCurrentIndex(idx)
        self.layer_combo.blockSignals(False)
        self._on_layer_changed()

    def _on_layer_changed(self, *_):
        from napari.layers import Image

        ly = self.input_layer()
        self.threshold.setEnabled(isinstance(ly, Image))

    def input_layer(self):
        name = self.layer_combo.currentText()
        return self.viewer.layers[name] if name and name in self.viewer.layers else None

    def _input_mask(self, layer):
        from napari.layers import Image

        from ..chunked import is_dask_array

        data = layer.data[0] if layer.multiscale else layer.data  # full resolution
        if not is_dask_array(data):  # dask-backed layers stay lazy and run chunk by chunk
            data = np.asarray(data)
        if isinstance(layer, Image):
            if layer.rgb:
                raise ValueError(f"layer {layer.name!r} is RGB; convert it to a single channel first.")
            return data > self.threshold.value()
        return data

    def options(self) -> dict:
        """The chosen options as plain values (read on the GUI thread)."""
        it = self.iterations.value()
        return {
            "method": self.method_combo.currentData(),
            "iterations": it or None,
            "device": self.device_combo.currentText(),
            "guard": self.guard.isChecked(),
            "return_steps": self.keep_steps.isChecked(),
        }

    # ---------------------------------------------------------------- running
    @property
    def running(self) -> bool:
        return self._worker is not None

    def _start(self, func, on_done, label, unit="objects"):
        from napari.qt.threading import create_worker
        from napari.utils.notifications import show_warning

        if self.running:
            show_warning("A run is already going; cancel it or wait for it to finish.")
            return None
        self._cancel.clear()
        self.progress.setFormat(f"%v / %m {unit}")
        self.progress.setRange(0, 0)
        self.status.setText(label)
        self.run_btn.setEnabled(False)
        self.compare_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        def guarded():
            # errors come back as values: napari would otherwise show user
            # mistakes as traceback notifications
            try:
                return True, func()
            except Exception as e:  # noqa: BLE001 - reported to the user below
                if not isinstance(e, (Cancelled, ValueError, TypeError, FileNotFoundError, MemoryError)):
                    _log.exception("napari-skelite worker failed")
                return False, e

        def returned(out):
            ok, value = out
            if ok:
                on_done(value)
            else:
                self._on_error(value)

        worker = create_worker(guarded, _start_thread=False, _connect={"returned": returned, "finished": self._on_finished})
        self._worker = worker
        self._t0 = time.perf_counter()
        worker.start()
        return worker

    def _callback(self, done, total):
        if self._cancel.is_set():
            raise Cancelled()
        self._progress.changed.emit(done, total)

    def _on_progress(self, done, total):
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def cancel(self):
        """Stop the running job at the next object boundary."""
        self._cancel.set()
        self.status.setText("cancelling…")

    def _on_finished(self):
        self._worker = None
        self.run_btn.setEnabled(True)
        self.compare_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)

    def _on_error(self, err):
        from napari.utils.notifications import show_error, show_info

        if isinstance(err, Cancelled):
            self.status.setText("cancelled; nothing was added")
            show_info("Skeletonization cancelled.")
            return
        msg = str(err) if isinstance(err, (ValueError, TypeError, FileNotFoundError, MemoryError)) else f"{type(err).__name__}: {err}"
        self.status.setText(f"error: {msg}")
        show_error(msg)

    def _checked_input(self):
        from napari.utils.notifications import show_error

        layer = self.input_layer()
        if layer is None:
            show_error("No input layer: add or choose a Labels layer (or an Image layer with a threshold).")
            return None, None
        try:
            mask = self._input_mask(layer)
        except ValueError as e:
            show_error(str(e))
            return None, None
        return layer, mask

    def run(self):
        """Skeletonize the chosen layer with the chosen method (off the GUI thread)."""
        from ..api import skeletonize

        layer, mask = self._checked_input()
        if layer is None:
            return None
        from ..chunked import is_dask_array

        opts = self.options()
        cb = self._callback
        lazy = is_dask_array(mask)
        if lazy and opts["return_steps"]:
            from napari.utils.notifications import show_info

            show_info("Iterations are not kept for dask-backed (chunked) layers; computing the skeleton only.")
            opts["return_steps"] = False

        def work():
            from ..metrics import betti_errors

            out = skeletonize(mask, callback=cb, **opts)
            if lazy:  # chunk by chunk, progress per chunk; the volume is not read again for a check
                return out.compute(), None
            return out, betti_errors(out[0] if opts["return_steps"] else out, mask)

        def done(value):
            self._add_result(layer, mask, opts, *value)

        return self._start(work, done, f"running {opts['method']} on {layer.name}…")

    def _record_options(self, layer, opts) -> dict:
        """The options a skeleton layer keeps for its export's run record (and an Image's threshold)."""
        from napari.layers import Image

        out = {k: opts.get(k) for k in ("iterations", "guard", "device")}
        if isinstance(layer, Image):
            out["threshold"] = self.threshold.value()
        return out

    def _add_result(self, layer, mask, opts, result, topology=None):
        """Add or replace the result layers; ``topology``: the skeleton's (β0, β1) errors, if measured."""
        from napari.utils.notifications import show_info, show_warning

        if layer not in self.viewer.layers:
            show_warning(f"Input layer {layer.name!r} was removed during the run; result discarded.")
            self.status.setText("input layer removed; result discarded")
            return
        method = opts["method"]
        skel, steps = result if opts["return_steps"] else (result, None)
        self._set_layer(skel, L.layer_kwargs(f"{layer.name} skeleton ({method})", layer, "skeleton", method,
                                             options=self._record_options(layer, opts)), "skeleton")
        if steps is not None:
            kw = L.layer_kwargs(f"{layer.name} iterations ({method})", layer, "iterations", method, extra_axis=True)
            self._set_layer(steps, kw, "iterations")
            kw = L.layer_kwargs(f"{layer.name} removed per iteration ({method})", layer, "removed", method, extra_axis=True)
            rem = self._set_layer(L.removed_per_step(steps), kw, "removed")
            self._paint_removed(rem)
            self.viewer.dims.set_current_step(0, 0)
        secs = time.perf_counter() - self._t0
        n = int((skel > 0).sum())
        if n == 0:  # every non-empty object keeps at least one point
            show_info("The input is empty: the skeleton is empty too.")
            self.status.setText("empty input: empty skeleton")
        else:
            nsteps = f", {len(steps) - 1} iterations" if steps is not None else ""
            text = f"{method}: {n} skeleton points in {secs:.2f} s{nsteps}"
            if topology is not None:
                e0, e1 = topology
                text += f"; topology changed (β0 err {e0}, β1 err {e1})" if e0 or e1 else "; topology kept"
                if (e0 or e1) and method == "skelite" and not opts.get("guard"):
                    show_warning(f"The Skelite skeleton of {layer.name} changed its topology (β0 error {e0}, "
                                 f"β1 error {e1}). Tick the topology guard to keep it exactly.")
            self.status.setText(text)

    def _set_layer(self, data, kw, kind):
        meta = kw["metadata"][L.KEY]
        existing = L.find_output(self.viewer.layers, meta["source"], kind, meta["method"])
        if existing is not None:
            existing.data = data
            existing.scale = kw["scale"]
            existing.translate = kw["translate"]
            existing.metadata = kw["metadata"]  # this run's options, for the export's record
            layer = existing
        else:
            layer = self.viewer.add_labels(data, **kw)
        if kind != "removed":
            layer.colormap = L.bright_colormap(data)
        return layer

    @staticmethod
    def _paint_removed(layer):
        from napari.utils.colormaps import DirectLabelColormap

        layer.colormap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 1: (1.0, 0.1, 0.6, 1.0)})
        layer.opacity = 0.9

    # ---------------------------------------------------------------- compare
    def compare(self):
        """Run the checked methods on the input layer; one layer each and a table."""
        from ..metrics import label_betti, results_table, run_methods, with_references

        layer, mask = self._checked_input()
        if layer is None:
            return None
        methods = [m for m, c in self.compare_checks.items() if c.isChecked()]
        if not methods:
            from napari.utils.notifications import show_error

            show_error("Tick at least one method to compare.")
            return None
        opts = self.options()
        cancel = self._cancel
        progress = self._progress

        def check(*_):
            if cancel.is_set():
                raise Cancelled()

        def work():
            nonlocal mask
            mask = np.asarray(mask)  # a dask-backed layer is computed here, off the GUI thread
            order = with_references(methods, "boolean")
            results = {}
            for i, m in enumerate(order):
                check()
                # callback: cancel is also checked inside each method, every iteration
                results.update(run_methods(mask, [m], device=opts["device"], guard=opts["guard"], callback=check))
                progress.changed.emit(i + 1, len(order))
            rows = [r for r in results_table(results, mask, "boolean") if r["method"] in methods]
            return results, rows, label_betti(mask)

        def done(out):
            results, rows, (b0, b1) = out
            if layer not in self.viewer.layers:
                return
            run_opts = self._record_options(layer, {**opts, "iterations": None})  # the same for every method
            for m in methods:
                skel = results[m][0]
                if skel is not None:
                    kw = L.layer_kwargs(f"{layer.name} skeleton ({m})", layer, "skeleton", m, options=run_opts)
                    _show_name(self._set_layer(skel, kw, "skeleton"))
            self._fill_table(rows)
            _grid(self.viewer).enabled = True
            self.status.setText(f"compared {len(methods)} methods on {layer.name} (input: β0 = {b0}, β1 = {b1})")

        return self._start(work, done, f"comparing {len(methods)} methods on {layer.name}…", unit="methods")

    def _fill_table(self, rows):
        self.last_rows = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            error = r.get("error")
            for j, (key, _, _) in enumerate(TABLE_COLUMNS):
                v = r.get(key, "")
                if error and key == "method":
                    v = f"{v} (unavailable)"
                elif error:
                    v = "–"
                text = f"{v:.3g}" if isinstance(v, float) else str(v)
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if error:
                    item.setToolTip(str(error))
                elif _is_bad(key, v):
                    item.setForeground(QColor(*BAD_COLOR))
                    item.setToolTip(BAD_TIPS[key])
                self.table.setItem(i, j, item)
        self.copy_btn.setEnabled(bool(rows))
        missing = [r for r in rows if r.get("error")]
        if missing:
            from napari.utils.notifications import show_warning

            show_warning("; ".join(f"{r['method']}: {r['error']}" for r in missing))

    def table_csv(self) -> str:
        return L.table_to_csv(self.last_rows, [k for k, _, _ in TABLE_COLUMNS] + ["error"])

    def copy_csv(self):
        QApplication.clipboard().setText(self.table_csv())

    # ---------------------------------------------------------------- export
    def _output_layer(self):
        from napari.layers import Labels

        sel = self.viewer.layers.selection.active
        if isinstance(sel, Labels) and sel.metadata.get(L.KEY, {}).get("kind") == "skeleton":
            return sel
        for ly in reversed(self.viewer.layers):
            if isinstance(ly, Labels) and ly.metadata.get(L.KEY, {}).get("kind") == "skeleton":
                return ly
        return None

    def save_skeleton(self, path) -> str | None:
        from napari.utils.notifications import show_error, show_info

        from ..io import write_labels

        ly = self._output_layer()
        if ly is None:
            show_error("No skeleton layer to save: run a method first.")
            return None
        from ..record import write_record

        try:
            out = write_labels(path, np.asarray(ly.data), overwrite=True,
                               **L.spacing_of(ly.scale, getattr(ly, "units", None)))
            rec = L.record_for_layer(ly.data, ly.metadata, ly.scale)
            rec_path = write_record(out, rec) if rec is not None else None
        except (ValueError, OSError) as e:
            show_error(f"Could not save: {e}")
            return None
        show_info(f"Saved {ly.name} to {out}" + (f" (how it was made: {rec_path.name})" if rec_path else ""))
        return str(out)

    def export_branch_table(self, path) -> str | None:
        from napari.utils.notifications import show_error, show_info

        from ..graph import branch_table

        ly = self._output_layer()
        if ly is None:
            show_error("No skeleton layer to export: run a method first.")
            return None
        df = branch_table(np.asarray(ly.data), spacing=tuple(ly.scale))
        df.to_csv(path, index=False)
        show_info(f"Branch table of {ly.name}: {len(df)} branches written to {path}")
        return str(path)

    def _save_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save skeleton", "skeleton.tif", "TIFF (*.tif);;NumPy (*.npy)")
        if path:
            self.save_skeleton(path)

    def _branch_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Branch table", "branches.csv", "CSV (*.csv)")
        if path:
            self.export_branch_table(path)

    def closeEvent(self, event):  # noqa: N802 (Qt name)
        self._cancel.set()
        super().closeEvent(event)
