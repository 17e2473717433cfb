"""The dock widget: skeletonize a layer, step through iterations, compare methods, export.

A thin Qt view over :class:`~napari_skelite._napari.controller.Controller`,
which holds the job and runs it in a napari thread worker; this module only
gathers options, shows progress and turns results into layers.
"""
from __future__ import annotations

import logging
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

from .. import methods
from ..chunked import is_dask_array
from ..compare import disagreement
from .._validate import otsu_threshold, output_dtype
from ..io import write_labels
from ..record import write_record
from . import layers as L
from .controller import TABLE_COLUMNS, USER_ERRORS, Cancelled, Controller, prepare_input
from .graph_panel import GraphPanel
from .warmup import warm_up, warmed_dtypes

if TYPE_CHECKING:
    import napari

_log = logging.getLogger(__name__)

BAD_COLOR = (255, 110, 90)


def _show_name(layer, visible: bool = True):
    """Write the layer's name on the canvas (napari >= 0.9 has a name overlay; older napari has none)."""
    overlay = getattr(layer, "name_overlay", None)
    if overlay is not None:
        overlay.font_size = 10
        overlay.visible = visible


class _Progress(QObject):
    changed = Signal(int, int)


class SkeletonizeWidget(QWidget):
    """Skeletonize a Labels (or thresholded Image) layer with any method."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._worker = None
        self._job_layer = None  # the input of the running job
        self._unit = None  # what the progress bar counts (None: the share of the work)
        self._threshold_for = None  # the Image layer whose automatic threshold is shown
        self._table_for = None  # the layer the comparison table speaks of
        self._compare_layers = {}  # method -> the skeleton layer the comparison made
        self._warm_thread = None  # the background warm-up (started once the layers are listed)
        self.controller = Controller()
        self._progress = _Progress()
        self._progress.changed.connect(self._on_progress)
        cancel = self.controller.cancel  # not `self`: the slot must outlive the widget
        self.destroyed.connect(lambda *_: cancel())
        self._build()
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._on_layer_removed)
        self.viewer.layers.events.reordered.connect(self._refresh_layers)
        self._refresh_layers()
        self._warm_up(engine=True)

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
        for record in methods.methods():
            self.method_combo.addItem(record.label, record.name)
            self.method_combo.setItemData(self.method_combo.count() - 1, record.description, Qt.ItemDataRole.ToolTipRole)
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
        self.progress.setFormat("%p%")
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
        for m in methods.names():
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
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.ExtendedSelection)
        self.table.setToolTip("click a row to show that method's skeleton over the input; "
                              "select two rows (Ctrl-click) and press Differences to see where they disagree")
        self.table.itemSelectionChanged.connect(self._on_rows_selected)
        cl.addWidget(self.table)
        self.diff_btn = QPushButton("Differences of the two selected methods")
        self.diff_btn.setEnabled(False)
        self.diff_btn.clicked.connect(self.show_differences)
        cl.addWidget(self.diff_btn)
        root.addWidget(cbox)

        self.graph_panel = GraphPanel(self.viewer, self._output_layer)
        root.addWidget(self.graph_panel)
        ebox = QGroupBox("Export")
        el = QHBoxLayout(ebox)
        self.save_btn = QPushButton("Save skeleton…")
        self.save_btn.clicked.connect(self._save_dialog)
        el.addWidget(self.save_btn)
        root.addWidget(ebox)
        root.addStretch(1)

    # ---------------------------------------------------------------- layers
    def _candidate_layers(self):
        from napari.layers import Image, Labels

        return [ly for ly in self.viewer.layers
                if isinstance(ly, (Labels, Image)) and L.KEY not in ly.metadata]

    def _refresh_layers(self, event=None):
        current = self.layer_combo.currentText()
        active = self.viewer.layers.selection.active
        if not current and active is not None:  # first choice: the layer the user is on
            current = active.name
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for ly in self._candidate_layers():
            self.layer_combo.addItem(ly.name)
        idx = self.layer_combo.findText(current)
        if idx >= 0:
            self.layer_combo.setCurrentIndex(idx)
        self.layer_combo.blockSignals(False)
        self._on_layer_changed()

    def _on_layer_removed(self, event):
        """A run whose input layer is removed stops within an iteration."""
        if self.running and event.value is self._job_layer:
            self.controller.cancel()
            self.status.setText(f"input layer {event.value.name!r} removed; stopping the run…")

    def _on_layer_changed(self, *_):
        from napari.layers import Image

        ly = self.input_layer()
        if ly is not self._table_for:  # the table speaks of another layer: clear it
            self._table_for, self._compare_layers = ly, {}
            self._fill_table([])
        image = isinstance(ly, Image) and not ly.rgb
        self.threshold.setEnabled(image)
        if image and ly is not self._threshold_for:  # a new Image: start from its automatic threshold
            data = ly.data[0] if ly.multiscale else ly.data
            self.threshold.setValue(otsu_threshold(data))
            self.threshold.setToolTip(f"Image layers: points above this value are foreground "
                                      f"(Otsu's threshold of {ly.name!r}: {self.threshold.value():g})")
        self._threshold_for = ly if image else self._threshold_for
        if self._warm_thread is not None:  # after the first warm-up: only the new layer's dtype
            self._warm_up()

    def _warm_up(self, engine=False):
        """Compile napari's colormap for the dtypes the current input's results will have (off the GUI thread)."""
        from napari.layers import Image

        dtypes = {np.dtype(np.uint8)}  # removed-per-iteration layers, thresholded Image layers
        ly = self.input_layer()
        if ly is not None and not isinstance(ly, Image):
            dtypes.add(output_dtype(np.empty(0, (ly.data[0] if ly.multiscale else ly.data).dtype)))
        if engine or not dtypes <= warmed_dtypes():
            self._warm_thread = warm_up(sorted(dtypes, key=str), engine=engine)

    def input_layer(self):
        name = self.layer_combo.currentText()
        return self.viewer.layers[name] if name and name in self.viewer.layers else None

    def _input_mask(self, layer):
        """The layer's labels (an Image's thresholded foreground) and a warning when they look wrong."""
        from napari.layers import Image

        data = layer.data[0] if layer.multiscale else layer.data  # full resolution
        image = isinstance(layer, Image)
        return prepare_input(data, name=layer.name, image=image, rgb=image and layer.rgb,
                             threshold=self.threshold.value() if image else None)

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

    def _start(self, func, on_done, label, unit=None, layer=None):
        from napari.qt.threading import create_worker
        from napari.utils.notifications import show_warning

        if self.running:
            show_warning("A run is already going; cancel it or wait for it to finish.")
            return None
        self.controller.start()
        self._job_layer = layer
        self._unit = unit
        self.progress.setFormat("%p%" if unit is None else f"%v / %m {unit}")
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
                if not isinstance(e, (Cancelled,) + USER_ERRORS):
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
        worker.start()
        return worker

    def _on_progress(self, done, total):
        if self._unit is None:  # object points: shown as the share done (the counts can pass 2**31)
            done, total = round(1000 * done / max(total, 1)), 1000
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def cancel(self):
        """Stop the running job within one iteration."""
        self.controller.cancel()
        self.status.setText("cancelling…")

    def _on_finished(self):
        self._worker = None
        self._job_layer = None
        self.run_btn.setEnabled(True)
        self.compare_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)

    def _on_error(self, err):
        from napari.utils.notifications import show_error, show_info

        msg = self.controller.error_message(err)
        if isinstance(err, Cancelled) and self._job_layer is not None and self._job_layer not in self.viewer.layers:
            self.status.setText("input layer removed; run stopped, nothing was added")
            return
        if isinstance(err, Cancelled):
            self.status.setText(msg)
            show_info("Skeletonization cancelled.")
            return
        self.status.setText(f"error: {msg}")
        show_error(msg)

    def _checked_input(self):
        from napari.utils.notifications import show_error, show_warning

        layer = self.input_layer()
        if layer is None:
            show_error("No input layer: add or choose a Labels layer (or an Image layer with a threshold).")
            return None, None
        try:
            prepared = self._input_mask(layer)
        except ValueError as e:
            show_error(str(e))
            return None, None
        if prepared.warning:
            show_warning(prepared.warning)
        return layer, prepared.mask

    def run(self):
        """Skeletonize the chosen layer with the chosen method (off the GUI thread)."""
        from napari.utils.notifications import show_info

        layer, mask = self._checked_input()
        if layer is None:
            return None
        opts = self.options()
        if is_dask_array(mask) and opts["return_steps"]:
            show_info("Iterations are not kept for dask-backed (chunked) layers; computing the skeleton only.")
            opts["return_steps"] = False
        emit = self._progress.changed.emit
        return self._start(lambda: self.controller.run_job(mask, opts, emit),
                           lambda result: self._add_result(layer, opts, result),
                           f"running {opts['method']} on {layer.name}…", layer=layer,
                           unit="chunks" if is_dask_array(mask) else None)

    def _record_options(self, layer, opts) -> dict:
        """The options a skeleton layer keeps for its export's run record (and an Image's threshold)."""
        from napari.layers import Image

        out = {"iterations": opts.get("iterations"), "device": opts.get("device"),
               **Controller.method_options(opts["method"], opts)}
        if isinstance(layer, Image):
            out["threshold"] = self.threshold.value()
        return out

    def _add_result(self, layer, opts, result):
        """Add or replace the result layers of a :class:`~napari_skelite._napari.controller.RunResult`."""
        from napari.utils.notifications import show_info, show_warning

        if layer not in self.viewer.layers:
            show_warning(f"Input layer {layer.name!r} was removed during the run; result discarded.")
            self.status.setText("input layer removed; result discarded")
            return
        method = opts["method"]
        run_opts = self._record_options(layer, opts)
        tag = L.variant_tag(method, run_opts)
        self._set_layer(result.skeleton, L.layer_kwargs(f"{layer.name} skeleton ({tag})", layer, "skeleton", method,
                                                        options=run_opts), "skeleton")
        if result.steps is not None:
            kw = L.layer_kwargs(f"{layer.name} iterations ({tag})", layer, "iterations", method, extra_axis=True,
                                options=run_opts)
            self._set_layer(result.steps, kw, "iterations")
            kw = L.layer_kwargs(f"{layer.name} removed per iteration ({tag})", layer, "removed", method,
                                extra_axis=True, options=run_opts)
            rem = self._set_layer(L.removed_per_step(result.steps), kw, "removed")
            self._paint_removed(rem)
            self.viewer.dims.set_current_step(0, 0)
        else:  # the last run's steps would no longer match this skeleton
            for kind in ("iterations", "removed"):
                stale = L.find_output(self.viewer.layers, layer.name, kind, tag)
                if stale is not None:
                    self.viewer.layers.remove(stale)
        text, warning = self.controller.run_status(result, method, layer.name, opts)
        self.status.setText(text)
        if not (result.skeleton > 0).any():
            show_info("The input is empty: the skeleton is empty too.")
        if warning:
            show_warning(warning)

    def _set_layer(self, data, kw, kind):
        meta = kw["metadata"][L.KEY]
        existing = L.find_output(self.viewer.layers, meta["source"], kind, meta["tag"])
        if existing is not None:
            existing.data = data
            existing.scale = kw["scale"]
            existing.translate = kw["translate"]
            existing.metadata = kw["metadata"]  # this run's options, for the export's record
            layer = existing
        else:
            layer = self.viewer.add_labels(data, **kw)
        if kind != "removed":
            source = meta["source"]
            layer.colormap = L.bright_colormap(data, self.viewer.layers[source] if source in self.viewer.layers else None)
        return layer

    @staticmethod
    def _paint_removed(layer):
        from napari.utils.colormaps import DirectLabelColormap

        layer.colormap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 1: (1.0, 0.1, 0.6, 1.0)})
        layer.opacity = 0.9

    # ---------------------------------------------------------------- compare
    def compare(self):
        """Run the checked methods on the input layer; one layer each and a table."""
        from napari.utils.notifications import show_error

        layer, mask = self._checked_input()
        if layer is None:
            return None
        names = [m for m, c in self.compare_checks.items() if c.isChecked()]
        if not names:
            show_error("Tick at least one method to compare.")
            return None
        opts = self.options()
        emit = self._progress.changed.emit

        def done(out):
            if layer not in self.viewer.layers:
                return
            shown = {}
            for m in names:
                skel = out.results[m][0]
                if skel is not None:
                    run_opts = self._record_options(layer, {**opts, "method": m, "iterations": None})
                    kw = L.layer_kwargs(f"{layer.name} skeleton ({L.variant_tag(m, run_opts)})", layer, "skeleton", m,
                                        options=run_opts)
                    shown[m] = self._set_layer(skel, kw, "skeleton")
            self._fill_table(out.rows)
            self._table_for, self._compare_layers = layer, shown
            self.viewer.reset_view()  # the whole object, whatever the last view showed
            if out.rows:
                self.table.selectRow(0)  # shows that method's skeleton over the input
            b0, b1 = out.betti
            self.status.setText(f"compared {len(names)} methods on {layer.name} (input: β0 = {b0}, β1 = {b1})")

        return self._start(lambda: self.controller.compare_job(mask, names, opts, emit), done,
                           f"comparing {len(names)} methods on {layer.name}…", unit="methods", layer=layer)

    def _compare_layer(self, method):
        """The skeleton layer the last comparison made for ``method``, if still there."""
        layer = self._compare_layers.get(method)
        return layer if layer is not None and layer in self.viewer.layers else None

    def selected_methods(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.last_rows[r]["method"] for r in rows if r < len(self.last_rows)]

    def _on_rows_selected(self):
        """Show the selected methods' skeletons over the input; hide the comparison's others."""
        chosen = self.selected_methods()
        self.diff_btn.setEnabled(len(chosen) == 2)
        if not chosen:
            return
        active = self._compare_layer(chosen[-1])
        for r in self.last_rows:
            ly = self._compare_layer(r["method"])
            if ly is not None:
                ly.visible = r["method"] in chosen
                _show_name(ly, ly is active)
        if active is not None:
            self.viewer.layers.selection.active = active

    def show_differences(self):
        """Add (or update) a layer of the points only one of the two selected methods has."""
        from napari.utils.colormaps import DirectLabelColormap
        from napari.utils.notifications import show_error

        chosen = self.selected_methods()
        layers = [self._compare_layer(m) for m in chosen]
        if len(chosen) != 2 or any(ly is None for ly in layers):
            show_error("Select two rows of the comparison table whose skeleton layers are still there.")
            return None
        a, b = chosen
        name = f"{self._table_for.name} differences ({a} only: orange, {b} only: cyan)"
        data = disagreement(layers[0].data, layers[1].data)
        if name in self.viewer.layers:
            self.viewer.layers[name].data = data
            return self.viewer.layers[name]
        out = self.viewer.add_labels(data, name=name, scale=layers[0].scale, translate=layers[0].translate,
                                     blending="translucent_no_depth",
                                     metadata={L.KEY: {"source": self._table_for.name, "kind": "differences"}})
        out.colormap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 1: (1.0, 0.55, 0.1, 1.0),
                                                       2: (0.2, 0.9, 1.0, 1.0)})
        return out

    def _fill_table(self, rows):
        from napari.utils.notifications import show_warning

        self.controller.last_rows = rows
        self.table.setRowCount(len(rows))
        for i, cells in enumerate(self.controller.table_cells(rows)):
            for j, cell in enumerate(cells):
                item = QTableWidgetItem(cell.text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(cell.tooltip)
                if cell.bad:
                    item.setForeground(QColor(*BAD_COLOR))
                self.table.setItem(i, j, item)
        self.copy_btn.setEnabled(bool(rows))
        missing = [r for r in rows if r.get("error")]
        if missing:
            show_warning("; ".join(f"{r['method']}: {r['error']}" for r in missing))

    @property
    def last_rows(self) -> list[dict]:
        return self.controller.last_rows

    def table_csv(self) -> str:
        return self.controller.table_csv()

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

        ly = self._output_layer()
        if ly is None:
            show_error("No skeleton layer to save: run a method first.")
            return None

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
        """The branch table of the chosen skeleton layer as CSV (see :class:`GraphPanel`)."""
        return self.graph_panel.save_graph(path)

    def _save_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save skeleton", "skeleton.tif", "TIFF (*.tif);;NumPy (*.npy)")
        if path:
            self.save_skeleton(path)

    def closeEvent(self, event):  # noqa: N802 (Qt name)
        self.controller.cancel()
        super().closeEvent(event)
