"""The dock widget's graph panel: a skeleton's branch graph as a layer, pruning, SWC/GraphML/CSV export.

Qt only: the graph, pruning and files come from :mod:`napari_skelite.graph`
and :mod:`napari_skelite.io`; the layer data from :mod:`.layers`.
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
    QPushButton,
)

from ..graph import prune
from ..io import write_graph
from ..record import write_record
from . import layers as L

COLOUR_CHOICES = [("mean radius", "mean_radius"), ("length", "length"), ("tortuosity", "tortuosity"),
                  ("branch type", "branch_type"), ("label", "label")]


class GraphPanel(QGroupBox):
    """Graph, prune and export the chosen skeleton layer (``skeleton_layer()`` picks it)."""

    def __init__(self, viewer, skeleton_layer):
        super().__init__("Skeleton graph")
        self.viewer = viewer
        self.skeleton_layer = skeleton_layer
        form = QFormLayout(self)
        self.colour_combo = QComboBox()
        for text, key in COLOUR_CHOICES:
            self.colour_combo.addItem(text, key)
        self.colour_combo.currentIndexChanged.connect(self._recolour)
        form.addRow("colour by", self.colour_combo)
        self.prune_length = QDoubleSpinBox()
        self.prune_length.setRange(0, 1e6)
        self.prune_length.setValue(5.0)
        self.prune_length.setToolTip("end branches and stray pieces shorter than this (in the layer's scale units)")
        form.addRow("prune shorter than", self.prune_length)
        row = QHBoxLayout()
        self.graph_btn = QPushButton("Show graph")
        self.graph_btn.setToolTip("the skeleton's branches as paths, with their features (napari's features table)")
        self.graph_btn.clicked.connect(self.show_graph)
        self.prune_btn = QPushButton("Prune")
        self.prune_btn.clicked.connect(self.prune)
        self.save_btn = QPushButton("Save graph…")
        self.save_btn.setToolTip("SWC (neurons), GraphML (vessel graphs) or the branch table (CSV)")
        self.save_btn.clicked.connect(self._save_dialog)
        for b in (self.graph_btn, self.prune_btn, self.save_btn):
            row.addWidget(b)
        form.addRow(row)

    # ------------------------------------------------------------ helpers
    def _chosen(self):
        from napari.utils.notifications import show_error

        ly = self.skeleton_layer()
        if ly is None:
            show_error("No skeleton layer: run a method first (or select a skeleton layer).")
        return ly

    def source_mask(self, skel_layer):
        """The segmentation a skeleton layer came from (for radii), or None when it is gone."""
        from napari.layers import Image

        meta = skel_layer.metadata.get(L.KEY, {})
        name = meta.get("source")
        if name not in self.viewer.layers:
            return None
        src = self.viewer.layers[name]
        data = np.asarray(src.data[0] if src.multiscale else src.data)
        if data.shape != skel_layer.data.shape:
            return None
        if isinstance(src, Image):
            threshold = meta.get("options", {}).get("threshold")
            return None if threshold is None else data > threshold
        return data

    # ------------------------------------------------------------ actions
    def show_graph(self):
        """Add (or replace) the graph layer of the chosen skeleton; built off the GUI thread.

        Returns the worker (its ``returned`` signal adds the layer), or None.
        """
        from types import SimpleNamespace

        from napari.qt.threading import create_worker

        ly = self._chosen()
        if ly is None:
            return None
        name = f"{ly.name} graph"
        skeleton, mask = np.asarray(ly.data), self.source_mask(ly)
        source = SimpleNamespace(name=ly.name, scale=tuple(ly.scale), translate=tuple(ly.translate))
        by = self.colour_combo.currentData()
        self.graph_btn.setEnabled(False)

        def build():
            return L.graph_shapes(skeleton, source, mask=mask, name=name, colour_by=by)

        def add(out):
            data, kw = out
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
            if not data:
                from napari.utils.notifications import show_info

                show_info(f"{source.name} is empty: no graph.")
                return
            self.viewer.add_shapes(data, **kw)

        def failed(err):
            from napari.utils.notifications import show_error

            show_error(f"Could not build the graph: {err}")

        worker = create_worker(build, _start_thread=False,
                               _connect={"returned": add, "errored": failed,
                                         "finished": lambda: self.graph_btn.setEnabled(True)})
        worker.start()
        return worker

    def _recolour(self, *_):
        by = self.colour_combo.currentData()
        for layer in self.viewer.layers:
            meta = layer.metadata.get(L.KEY, {}) if hasattr(layer, "metadata") else {}
            if meta.get("kind") == "graph" and by in layer.features:
                L.apply_graph_colour(layer, by)

    def prune(self):
        """Add (or replace) a pruned copy of the chosen skeleton."""
        ly = self._chosen()
        if ly is None:
            return None
        length = self.prune_length.value()
        data = prune(np.asarray(ly.data), length, spacing=tuple(np.abs(ly.scale)))
        meta = {**ly.metadata.get(L.KEY, {})}
        meta["options"] = {**meta.get("options", {}), "prune": length}
        name = f"{ly.name} pruned < {length:g}"
        if name in self.viewer.layers:
            self.viewer.layers[name].data = data
            out = self.viewer.layers[name]
        else:
            out = self.viewer.add_labels(data, name=name, scale=ly.scale, translate=ly.translate,
                                         metadata={L.KEY: meta}, blending=ly.blending)
            out.colormap = ly.colormap
        removed = int((np.asarray(ly.data) > 0).sum() - (data > 0).sum())
        from napari.utils.notifications import show_info

        show_info(f"Pruned {ly.name}: {removed} points removed (end branches and stray pieces < {length:g}).")
        return out

    def save_graph(self, path) -> str | None:
        """Write the chosen skeleton as SWC, GraphML or CSV (by ``path``'s extension), with its run record."""
        from napari.utils.notifications import show_error, show_info

        ly = self._chosen()
        if ly is None:
            return None
        try:
            out = write_graph(path, np.asarray(ly.data), spacing=tuple(ly.scale), mask=self.source_mask(ly),
                              overwrite=True)
            rec = L.record_for_layer(ly.data, ly.metadata, ly.scale)
            if rec is not None:
                write_record(out, rec)
        except (ValueError, OSError) as e:
            show_error(f"Could not save: {e}")
            return None
        show_info(f"Saved the graph of {ly.name} to {out}")
        return str(out)

    def _save_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save skeleton graph", "skeleton.graphml",
                                              "GraphML (*.graphml);;SWC (*.swc);;Branch table (*.csv)")
        if path:
            self.save_graph(path)
