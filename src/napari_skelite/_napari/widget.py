"""The dock widget: a Qt view of a :class:`~napari_skelite._napari.session.Session`.

It reads the user's choices, forwards clicks to the session and renders the
session's events (inputs, threshold, status, progress, busy). The state, the
layers and the jobs are the session's; the comparison table and the graph
panel are views of it too (:mod:`.compare_panel`, :mod:`.graph_panel`).
"""
from __future__ import annotations

from qtpy.QtCore import QObject, Qt, QTimer, Signal, Slot
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .. import methods
from . import layers as L
from .compare_panel import BAD_COLOR, ComparePanel
from .graph_panel import GraphPanel
from .jobs import Runner
from .option_controls import OptionControls
from .session import Session

__all__ = ["BAD_COLOR", "SkeletonizeWidget"]


class _Poster(QObject):
    """Calls functions posted from job threads on the GUI thread (a queued signal); :meth:`later` after a timer.

    A result shown piece by piece (:meth:`Session._show_in_turns`) asks for
    each next piece with :meth:`later`: a timer, so the timers and redraws
    already due run between the pieces (a posted event would run first).
    """

    call = Signal(object)

    def __init__(self):
        super().__init__()
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, fn):
        fn()

    def post(self, fn):
        try:
            self.call.emit(fn)
        except RuntimeError:  # the widget is gone: nothing left to update
            pass

    def later(self, fn):
        QTimer.singleShot(1, fn)


class SkeletonizeWidget(QWidget):
    """Skeletonize a Labels (or thresholded Image) layer with any method; compare, graph and export."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self._poster = _Poster()
        self.session = Session(napari_viewer, Runner(self._poster.post, self._poster.later))
        session = self.session  # not `self`: the slot must outlive the widget
        self.destroyed.connect(lambda *_: session.close())
        self._build()
        ev = self.session.events
        ev.inputs.connect(self._render_inputs)
        ev.input.connect(self._render_input)
        ev.threshold.connect(self._render_threshold)
        ev.status.connect(lambda e: self.status.setText(e.value))
        ev.progress.connect(self._render_progress)
        ev.busy.connect(self._render_busy)
        self._render_inputs()
        self._render_input()
        self.session.warm_up()

    # ---------------------------------------------------------------- layout
    def _build(self):
        root = QVBoxLayout(self)
        self.setMinimumWidth(460)
        box = QGroupBox("Skeletonize")
        form = QFormLayout(box)
        self.layer_combo = QComboBox()
        self.layer_combo.currentIndexChanged.connect(self._on_layer_chosen)
        form.addRow("input layer", self.layer_combo)
        self.threshold = QDoubleSpinBox()
        self.threshold.setDecimals(3)
        self.threshold.setRange(-1e9, 1e9)
        self.threshold.setKeyboardTracking(False)
        self.threshold.valueChanged.connect(self.session.set_threshold)
        form.addRow("threshold", self.threshold)
        self.method_combo = QComboBox()
        for record in methods.methods():
            self.method_combo.addItem(record.label, record.name)
            self.method_combo.setItemData(self.method_combo.count() - 1, record.description, Qt.ItemDataRole.ToolTipRole)
        self.method_combo.setCurrentIndex(self.method_combo.findData(methods.DEFAULT))
        form.addRow("method", self.method_combo)
        self.iterations = QSpinBox()
        self.iterations.setRange(0, 10_000)
        self.iterations.setSpecialValueText("auto (until done)")
        form.addRow("iterations", self.iterations)
        self.device_combo = QComboBox()
        self.device_combo.addItems(["auto", "cpu", "cuda", "mps"])
        form.addRow("device", self.device_combo)
        self.method_options = OptionControls()  # made from the methods' option records
        form.addRow(self.method_options)
        self.method_combo.currentIndexChanged.connect(
            lambda _i: self.method_options.show_for(self.method_combo.currentData()))
        self.method_options.show_for(self.method_combo.currentData())
        self.keep_steps = QCheckBox("keep every iteration (adds a slider)")
        form.addRow(self.keep_steps)
        row = QHBoxLayout()
        self.run_btn = self._button("Run", self.run, row)
        self.cancel_btn = self._button("Cancel", self.session.cancel, row)
        self.cancel_btn.setEnabled(False)
        form.addRow(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        form.addRow(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        root.addWidget(box)
        self.compare_panel = ComparePanel(self.session, self.options)
        root.addWidget(self.compare_panel)
        self.graph_panel = GraphPanel(self.session)
        root.addWidget(self.graph_panel)
        ebox = QGroupBox("Export")
        el = QHBoxLayout(ebox)
        self.save_btn = self._button("Save skeleton…", self._save_dialog, el)
        root.addWidget(ebox)
        root.addStretch(1)

    @staticmethod
    def _button(text, slot, layout):
        b = QPushButton(text)
        b.clicked.connect(lambda *_: slot())
        layout.addWidget(b)
        return b

    # ------------------------------------------------------------- rendering
    def _render_inputs(self, event=None):
        """The combo lists the session's inputs by name; each item holds the layer's stable id."""
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for ly in self.session.inputs():
            self.layer_combo.addItem(ly.name, L.id_of(ly))
        self.layer_combo.setCurrentIndex(self.layer_combo.findData(self.session.input_id))
        self.layer_combo.blockSignals(False)

    def _render_input(self, event=None):
        self.layer_combo.blockSignals(True)
        self.layer_combo.setCurrentIndex(self.layer_combo.findData(self.session.input_id))
        self.layer_combo.blockSignals(False)
        self._render_threshold()
        self.compare_panel.render_rows()
        if event is not None:
            self.session.warm_up()

    def _render_threshold(self, event=None):
        value = self.session.threshold
        self.threshold.setEnabled(value is not None)
        if value is None:
            self.threshold.setToolTip("Image layers: points above this value are foreground")
            return
        self.threshold.blockSignals(True)
        self.threshold.setValue(value)
        self.threshold.blockSignals(False)
        otsu = self.session.otsu()
        self.threshold.setToolTip("Image layers: points above this value are foreground"
                                  + (f" (Otsu's threshold of this layer: {otsu:g})" if otsu is not None else ""))

    def _render_progress(self, event):
        done, total, unit = event.value
        if total == 0:
            self.progress.setRange(0, 0)  # busy, amount unknown yet
            return
        if unit is None:  # object points: shown as the share done (the counts can pass 2**31)
            done, total = round(1000 * done / max(total, 1)), 1000
        self.progress.setFormat("%p%" if unit is None else f"%v / %m {unit}")
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _render_busy(self, event):
        busy = bool(event.value)
        for b in (self.run_btn, self.compare_panel.compare_btn, self.save_btn, *self.graph_panel.buttons()):
            b.setEnabled(not busy)
        self.cancel_btn.setEnabled(busy)
        if not busy and self.progress.maximum() == 0:
            self.progress.setRange(0, 1)

    # --------------------------------------------------------------- actions
    def _on_layer_chosen(self, index):
        self.session.choose_input(self.layer_combo.itemData(index))

    def options(self) -> dict:
        """The chosen options as plain values."""
        return {"method": self.method_combo.currentData(), "iterations": self.iterations.value() or None,
                "device": self.device_combo.currentText(), "return_steps": self.keep_steps.isChecked(),
                **self.method_options.values()}

    def run(self):
        """Skeletonize the chosen layer with the chosen options (in a job); returns the job or None."""
        if self.threshold.isEnabled():  # a value still being typed counts
            self.session.set_threshold(self.threshold.value())
        return self.session.run(self.options())

    @property
    def running(self) -> bool:
        return self.session.busy

    def _save_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save skeleton", "skeleton.tif",
                                              "TIFF (*.tif);;NumPy (*.npy);;OME-Zarr (*.zarr)")
        if path:
            self.session.save_skeleton(path)

    def closeEvent(self, event):
        self.session.close()
        super().closeEvent(event)
