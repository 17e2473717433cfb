"""The graph panel: a skeleton's branch graph as a Shapes layer, pruning, graph files."""
import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")

from napari_skelite._napari.widget import SkeletonizeWidget  # noqa: E402

pytestmark = pytest.mark.gui


def _tree(ndim=2):
    m = np.zeros((30, 40), np.uint16)
    m[12:17, 3:37] = 4   # a bar
    m[4:12, 18:21] = 4   # a side branch
    m[22:27, 5:30] = 7   # a second label
    return m if ndim == 2 else np.stack([np.zeros_like(m)] + [m] * 5 + [np.zeros_like(m)])


def _graph(w, qtbot, viewer):
    """Press Show graph and wait for the layer."""
    name = f"{w._output_layer().name} graph"
    assert w.graph_panel.show_graph() is not None
    assert not w.graph_panel.graph_btn.isEnabled()  # until the worker is done
    qtbot.waitUntil(w.graph_panel.graph_btn.isEnabled, timeout=60_000)
    return viewer.layers[name]


def _skeleton(make_napari_viewer, qtbot, data, **kw):
    viewer = make_napari_viewer()
    viewer.add_labels(data, name="cells", **kw)
    w = SkeletonizeWidget(viewer)
    w.method_combo.setCurrentIndex(w.method_combo.findData("boolean"))
    w.run()
    qtbot.waitUntil(lambda: not w.running, timeout=60_000)
    return viewer, w, viewer.layers["cells skeleton (boolean)"]


def test_the_graph_layers_features_match_skan_per_label(make_napari_viewer, qtbot):
    from skan import Skeleton, summarize

    viewer, w, skel = _skeleton(make_napari_viewer, qtbot, _tree(), scale=(2.0, 1.0))
    g = _graph(w, qtbot, viewer)
    f = g.features
    for lab in (4, 7):
        ref = summarize(Skeleton(skel.data == lab, spacing=(2.0, 1.0)), separator="_")
        assert sorted(f[f["label"] == lab]["length"].round(6)) == sorted(ref["branch_distance"].round(6))
    assert len(g.data) == len(f) and {"branch_type", "mean_radius", "tortuosity"} <= set(f.columns)
    assert f["mean_radius"].gt(0).all()


def test_the_graph_is_drawn_over_the_input_in_3d(make_napari_viewer, qtbot):
    viewer, w, skel = _skeleton(make_napari_viewer, qtbot, _tree(3))
    g = _graph(w, qtbot, viewer)
    assert g.ndim == 3 and g.blending == "translucent_no_depth"
    assert all(p.shape[1] == 3 for p in g.data)


def test_showing_the_graph_again_replaces_the_layer(make_napari_viewer, qtbot):
    viewer, w, skel = _skeleton(make_napari_viewer, qtbot, _tree())
    _graph(w, qtbot, viewer)
    _graph(w, qtbot, viewer)
    assert [ly.name for ly in viewer.layers].count("cells skeleton (boolean) graph") == 1


def test_the_colour_choice_recolours_the_graph(make_napari_viewer, qtbot):
    viewer, w, skel = _skeleton(make_napari_viewer, qtbot, _tree())
    g = _graph(w, qtbot, viewer)
    combo = w.graph_panel.colour_combo
    combo.setCurrentIndex(combo.findData("label"))
    by_label = g.edge_color.copy()
    f = g.features
    assert np.allclose(by_label[f["label"] == 4], by_label[f["label"] == 4][0])
    assert not np.allclose(by_label[f["label"] == 4][0], by_label[f["label"] == 7][0])
    combo.setCurrentIndex(combo.findData("length"))
    assert not np.allclose(g.edge_color, by_label)


def test_pruning_adds_a_pruned_layer_with_the_same_topology(make_napari_viewer, qtbot):
    from napari_skelite.metrics import betti_per_label

    viewer, w, skel = _skeleton(make_napari_viewer, qtbot, _tree())
    w.graph_panel.prune_length.setValue(10)  # the side branch is 8 long
    out = w.graph_panel.prune()
    assert out.name == "cells skeleton (boolean) pruned < 10"
    assert (out.data > 0).sum() < (skel.data > 0).sum()
    assert betti_per_label(out.data) == betti_per_label(skel.data)
    assert np.all((out.data == 0) | (out.data == skel.data))


@pytest.mark.parametrize("suffix", [".graphml", ".swc", ".csv"])
def test_the_graph_saves_in_the_format_of_its_extension_with_a_run_record(make_napari_viewer, qtbot, tmp_path, suffix):
    viewer, w, skel = _skeleton(make_napari_viewer, qtbot, _tree())
    path = w.graph_panel.save_graph(tmp_path / f"g{suffix}")
    assert path and os.path.exists(path) and os.path.exists(path + ".json")
    if suffix == ".graphml":
        import networkx as nx

        from napari_skelite.graph import to_networkx

        g, ref = nx.read_graphml(path), to_networkx(skel.data)
        assert (g.number_of_nodes(), g.number_of_edges()) == (ref.number_of_nodes(), ref.number_of_edges())
