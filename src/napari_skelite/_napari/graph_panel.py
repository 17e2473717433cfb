"""The graph box of the dock widget: a Qt view of the session's graph, prune and graph export, with a legend.

The graph, pruning and files are built in the session's jobs
(:meth:`~napari_skelite._napari.session.Session.show_graph`, ``prune``,
``save_graph``); this module gathers the choices and draws the legend.
"""
from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
)

COLOUR_CHOICES = [("mean radius", "mean_radius"), ("length", "length"), ("tortuosity", "tortuosity"),
                  ("branch type", "branch_type"), ("label", "label")]


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(255 * float(c)):02x}" for c in rgb[:3])


def legend_html(legend: dict) -> str:
    """The legend as rich text: a colour bar between the value range, or one swatch per category."""
    if legend["colormap"] is not None:
        from napari.utils.colormaps import ensure_colormap

        cmap = ensure_colormap(legend["colormap"])
        cells = "".join(f'<td style="background-color:{_hex(c)}">&nbsp;&nbsp;</td>'
                        for c in cmap.map(np.linspace(0, 1, 16)))
        return (f'{legend["title"]}: <table cellspacing="0"><tr><td>{legend["low"]:.3g}&nbsp;</td>{cells}'
                f'<td>&nbsp;{legend["high"]:.3g}</td></tr></table>')
    swatches = " ".join(f'<span style="color:{_hex(c)}">■</span>&nbsp;{name}' for name, c in legend["items"])
    return f'{legend["title"]}: {swatches}'


class GraphPanel(QGroupBox):
    """Show graph, prune and save the chosen skeleton; a legend of the graph's colours."""

    def __init__(self, session):
        super().__init__("Skeleton graph")
        self.session = session
        form = QFormLayout(self)
        self.colour_combo = QComboBox()
        for text, key in COLOUR_CHOICES:
            self.colour_combo.addItem(text, key)
        self.colour_combo.currentIndexChanged.connect(lambda *_: session.recolour(self.colour_combo.currentData()))
        form.addRow("colour by", self.colour_combo)
        self.legend = QLabel("")
        self.legend.setToolTip("what the graph's colours mean")
        form.addRow(self.legend)
        self.prune_length = QDoubleSpinBox()
        self.prune_length.setRange(0, 1e6)
        self.prune_length.setValue(5.0)
        self.prune_length.setToolTip("end branches and stray pieces shorter than this (in the layer's scale units)")
        form.addRow("prune shorter than", self.prune_length)
        row = QHBoxLayout()
        self.graph_btn = QPushButton("Show graph")
        self.graph_btn.setToolTip("the skeleton's branches as paths, with their features (napari's features table)")
        self.graph_btn.clicked.connect(lambda *_: self.show_graph())
        self.prune_btn = QPushButton("Prune")
        self.prune_btn.clicked.connect(lambda *_: self.prune())
        self.save_btn = QPushButton("Save graph…")
        self.save_btn.setToolTip("SWC (neurons), GraphML (vessel graphs) or the branch table (CSV)")
        self.save_btn.clicked.connect(lambda *_: self._save_dialog())
        for b in self.buttons():
            row.addWidget(b)
        form.addRow(row)
        session.events.legend.connect(lambda e: self.legend.setText(legend_html(e.value)))

    def buttons(self):
        return self.graph_btn, self.prune_btn, self.save_btn

    def show_graph(self):
        return self.session.show_graph(self.colour_combo.currentData())

    def prune(self):
        return self.session.prune(self.prune_length.value())

    def save_graph(self, path):
        return self.session.save_graph(path)

    def _save_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save skeleton graph", "skeleton.graphml",
                                              "GraphML (*.graphml);;SWC (*.swc);;Branch table (*.csv)")
        if path:
            self.save_graph(path)
