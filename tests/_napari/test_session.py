"""The plugin's session on a napari viewer model, without Qt: inputs, results, comparison, graph, jobs.

Every test runs on a plain ``ViewerModel`` and on the ``PublicOnlyProxy`` of
one, which is what napari hands a widget opened from the Plugins menu.
"""
import threading
import time

import numpy as np
import pytest

from napari_skelite._napari import layers as L

from .conftest import finish, labels


def _only(session, kind, method=None):
    out = [ly for ly in session.viewer.layers if L.meta_of(ly).get("kind") == kind
           and (method is None or L.meta_of(ly).get("method") == method)]
    assert len(out) == 1, [ly.name for ly in session.viewer.layers]
    return out[0]


def _run(session, method="boolean", **opts):
    job = session.run({"method": method, **opts})
    assert job is not None, session.messages
    finish(session)
    return job


def _compare(session, names=("boolean", "classic")):
    assert session.compare(list(names), {"guard": True}) is not None
    finish(session)


@pytest.mark.parametrize("ndim", [2, 3])
def test_a_run_adds_a_skeleton_with_the_inputs_ids_scale_and_translate(session_of, ndim):
    s = session_of(labels(ndim), scale=(2.0,) * ndim, translate=(5.0,) * ndim)
    before = labels(ndim).copy()
    _run(s)
    out = _only(s, "skeleton")
    assert out.name == "cells skeleton (boolean)" and out.data.shape == before.shape
    assert np.all((out.data == 0) | (out.data == before)) and set(np.unique(out.data)) == {0, 5, 9}
    assert tuple(out.scale) == (2.0,) * ndim and tuple(out.translate) == (5.0,) * ndim
    assert np.array_equal(s.input_layer().data, before)
    assert s.status.endswith("; topology kept")


def test_every_output_carries_its_own_id_and_its_inputs_id(session_of):
    s = session_of(labels())
    _run(s, return_steps=True)
    meta = [L.meta_of(ly) for ly in s.viewer.layers]
    assert meta[0].keys() == {"id"} and len({m["id"] for m in meta}) == 4
    assert all(m["source"] == s.input_id for m in meta[1:])


def test_a_second_run_replaces_its_own_output_layer_in_place(session_of):
    s = session_of(labels())
    _run(s)
    first = L.id_of(_only(s, "skeleton"))
    _run(s)
    assert len(s.viewer.layers) == 2 and L.id_of(_only(s, "skeleton")) == first


def test_renaming_the_input_keeps_its_outputs_attached(session_of):
    s = session_of(labels())
    _run(s)
    s.input_layer().name = "renamed"
    _run(s)
    assert len(s.viewer.layers) == 2
    assert s.source_mask(_only(s, "skeleton")) is not None  # the graph still finds the input for radii


def test_runs_with_and_without_the_guard_sit_side_by_side(session_of, shipped_random_weights):
    s = session_of(labels())
    _run(s, "skelite", guard=True)
    _run(s, "skelite", guard=False)
    names = {ly.name for ly in s.viewer.layers}
    assert {"cells skeleton (skelite)", "cells skeleton (skelite, no guard)"} <= names


def test_the_compare_rows_survive_new_layers_differences_graph_and_prune(session_of):
    s = session_of(labels())
    _compare(s)
    assert [r["method"] for r in s.table_rows] == ["boolean", "classic"]
    s.viewer.add_labels(labels(), name="another")
    s.differences("boolean", "classic")
    s.viewer.layers.selection.active = s.compare_layer("boolean")
    assert s.show_graph() is not None
    finish(s)
    assert s.prune(3.0) is not None
    finish(s)
    assert [r["method"] for r in s.table_rows] == ["boolean", "classic"]
    assert s.compare_layer("classic") is not None


def test_a_threshold_typed_for_an_image_layer_is_the_one_the_next_run_uses(session_of):
    img = (labels() > 0) * 200.0 + 20
    s = session_of(img, image=True, name="raw")
    assert 20 < s.threshold < 220  # Otsu's, to start with
    s.set_threshold(150)
    s.viewer.add_labels(labels(), name="another")  # any layer change
    assert s.threshold == 150
    _run(s, "classic")
    out = _only(s, "skeleton")
    assert out.name == "raw skeleton (classic, > 150)" and L.meta_of(out)["options"]["threshold"] == 150


def test_each_image_layer_keeps_its_own_threshold(session_of):
    s = session_of(np.linspace(0, 1, 600).reshape(20, 30), image=True, name="a")
    s.viewer.add_image(np.linspace(0, 100, 600).reshape(20, 30), name="b")
    a, b = (L.id_of(ly) for ly in s.inputs())
    s.set_threshold(0.25)
    s.choose_input(b)
    assert s.threshold > 1  # b's own Otsu threshold
    s.choose_input(a)
    assert s.threshold == 0.25


def test_an_image_layer_is_thresholded_before_the_run(session_of):
    s = session_of(labels().astype(float) / 10, image=True, name="probability")
    s.set_threshold(0.3)
    _run(s, "classic")
    out = s.viewer.layers["probability skeleton (classic, > 0.3)"].data
    assert out.any() and set(np.unique(out)) <= {0, 1}


def test_removing_the_input_layer_mid_run_stops_the_run(session_of, blocked_skeletonize):
    s = session_of(labels())
    s.run({"method": "boolean"})
    s.viewer.layers.remove(s.input_layer())
    blocked_skeletonize.set()  # the run starts after the removal: its first iteration stops it
    finish(s)
    assert len(s.viewer.layers) == 0 and "job stopped" in s.status


def test_after_a_run_the_slider_shows_the_final_iteration(session_of):
    s = session_of(labels(3), scale=(3.0, 1.0, 1.0))
    _run(s, return_steps=True)
    steps = _only(s, "iterations")
    assert s.viewer.dims.current_step[0] == steps.data.shape[0] - 1
    assert tuple(steps.scale) == (1.0, 3.0, 1.0, 1.0)
    np.testing.assert_array_equal(steps.data[-1], _only(s, "skeleton").data)
    removed = _only(s, "removed")
    np.testing.assert_array_equal(removed.data[1] > 0, (steps.data[0] > 0) & (steps.data[1] == 0))


def test_iteration_and_removed_layers_draw_over_the_input_in_3d(session_of):
    s = session_of(labels(3))
    _run(s, return_steps=True)
    for kind in ("skeleton", "iterations", "removed"):
        assert _only(s, kind).blending == "translucent_no_depth"


def test_a_rerun_without_iterations_removes_the_last_runs_iteration_layers(session_of):
    s = session_of(labels())
    _run(s, return_steps=True)
    _run(s)
    assert [L.meta_of(ly)["kind"] for ly in s.viewer.layers[1:]] == ["skeleton"]


def test_compare_keeps_the_camera(session_of):
    s = session_of(labels(3))
    s.viewer.dims.ndisplay = 3
    s.viewer.camera.angles = (10.0, 35.0, 55.0)
    s.viewer.camera.zoom = 3.5
    _compare(s)
    assert tuple(s.viewer.camera.angles) == (10.0, 35.0, 55.0) and s.viewer.camera.zoom == 3.5


def test_choosing_a_row_shows_that_skeleton_alone_over_the_input(session_of):
    s = session_of(labels())
    _run(s, return_steps=True)  # an earlier run's iterations must not overlap the chosen skeleton
    _compare(s)
    s.select_rows(["classic"])
    visible = [ly.name for ly in s.viewer.layers if ly.visible]
    assert visible == ["cells", "cells skeleton (classic)"]
    assert s.viewer.layers.selection.active.name == "cells skeleton (classic)"


def test_the_differences_layer_holds_the_points_only_one_method_has(session_of):
    s = session_of(labels())
    _compare(s)
    out = s.differences("boolean", "classic")
    a, b = s.compare_layer("boolean").data > 0, s.compare_layer("classic").data > 0
    assert np.array_equal(out.data == 1, a & ~b) and np.array_equal(out.data == 2, b & ~a)
    assert out.name == "cells differences (boolean only: orange, classic only: cyan)"


def test_the_compare_table_follows_the_input_and_comes_back_with_it(session_of):
    s = session_of(labels())
    s.viewer.add_labels(labels(), name="other")
    cells, other = (L.id_of(ly) for ly in s.inputs())
    s.choose_input(cells)
    _compare(s)
    s.choose_input(other)
    assert s.table_rows == []
    s.choose_input(cells)
    assert len(s.table_rows) == 2


def test_compare_rows_mark_topology_errors_and_name_the_inputs_betti_numbers(session_of):
    from napari_skelite.synthetic import bezier_tree

    s = session_of(bezier_tree((40, 40), 3, (1.0, 3.0), seed=0).astype(np.uint8))  # the soft skeleton breaks it
    _compare(s, ("boolean", "morphological"))
    by = {r["method"]: r for r in s.table_rows}
    assert by["morphological"]["b0_error"] > 0 and by["boolean"]["b0_error"] == 0
    assert "(input: β0 = 1, β1 = 0)" in s.status


def test_missing_weights_show_up_in_the_compare_rows(session_of, tmp_path, monkeypatch):
    monkeypatch.setenv("NAPARI_SKELITE_WEIGHTS", str(tmp_path))
    monkeypatch.setattr("napari_skelite.networks.weights._weights_dirs", lambda: [tmp_path])
    s = session_of(labels())
    _compare(s, ("skelite", "boolean"))
    assert "weights file not found" in s.table_rows[0]["error"]
    assert "weights file not found" in s.table_csv().splitlines()[1]


def test_a_graph_is_shown_over_its_own_skeleton_alone(session_of):
    s = session_of(labels())
    _compare(s)
    s.differences("boolean", "classic")
    s.viewer.layers.selection.active = s.compare_layer("classic")
    s.show_graph()
    finish(s)
    visible = {ly.name for ly in s.viewer.layers if ly.visible}
    assert visible == {"cells", s.compare_layer("classic").name, _only(s, "graph").name}


def test_the_graph_has_a_legend_with_its_value_range(session_of):
    s = session_of(labels(), scale=(2.0, 1.0))
    _run(s)
    s.show_graph("mean_radius")
    finish(s)
    g = _only(s, "graph")
    radii = g.features["mean_radius"]
    assert s.legend["colormap"] == "viridis"
    assert (s.legend["low"], s.legend["high"]) == (radii.min(), radii.max())
    assert f"{radii.min():.3g}" in s.status and f"{radii.max():.3g}" in s.status


def test_recolouring_the_graph_by_branch_type_lists_the_types(session_of):
    s = session_of(labels())
    _run(s)
    s.show_graph()
    finish(s)
    s.recolour("branch_type")
    assert s.legend["colormap"] is None and [n for n, _ in s.legend["items"]] == ["end-end"]
    assert "branch type" in s.status


def test_2d_graph_paths_are_wide_enough_to_read_and_grow_with_the_image(session_of):
    s = session_of(np.kron(labels(), np.ones((20, 20), np.uint16)))  # 480 x 600
    _run(s)
    s.show_graph()
    finish(s)
    width = _only(s, "graph").edge_width
    assert min(width) >= 2.0 and min(width) == L.path_width((480, 600))
    assert L.path_width((24, 30)) == 1.5


def test_the_graph_layers_features_match_skan_per_label(session_of):
    from skan import Skeleton, summarize

    s = session_of(labels(), scale=(2.0, 1.0))
    _run(s)
    s.show_graph()
    finish(s)
    skel, f = _only(s, "skeleton").data, _only(s, "graph").features
    for lab in (5, 9):
        ref = summarize(Skeleton(skel == lab, spacing=(2.0, 1.0)), separator="_")
        assert sorted(f[f["label"] == lab]["length"].round(6)) == sorted(ref["branch_distance"].round(6))
    assert f["mean_radius"].gt(0).all()


def test_showing_the_graph_again_replaces_its_layer(session_of):
    s = session_of(labels())
    _run(s)
    for _ in range(2):
        s.show_graph()
        finish(s)
    assert len([ly for ly in s.viewer.layers if L.meta_of(ly).get("kind") == "graph"]) == 1


def test_pruning_adds_a_pruned_copy_with_the_same_topology(session_of):
    from napari_skelite.metrics import betti_per_label

    m = np.zeros((30, 40), np.uint16)
    m[12:17, 3:37] = 4
    m[4:12, 18:21] = 4  # a side branch 8 long
    s = session_of(m)
    _run(s)
    skel = _only(s, "skeleton").data
    s.prune(10)
    finish(s)
    out = s.viewer.layers["cells skeleton (boolean) pruned < 10"]
    assert (out.data > 0).sum() < (skel > 0).sum() and betti_per_label(out.data) == betti_per_label(skel)
    assert L.meta_of(out)["options"]["prune"] == 10 and "points removed" in s.status


def test_painting_the_input_during_a_run_leaves_the_runs_topology_check_right(session_of, blocked_skeletonize):
    s = session_of(labels())
    s.run({"method": "boolean"})
    s.input_layer().data[:] = 0  # the user paints (erases) the layer in place while the run waits
    blocked_skeletonize.set()
    finish(s)
    assert s.status.endswith("; topology kept"), s.status
    assert set(np.unique(_only(s, "skeleton").data)) == {0, 5, 9}


def test_prune_graph_and_saving_run_in_job_threads_not_the_callers(session_of, monkeypatch, tmp_path):
    import napari_skelite._napari.export as export
    import napari_skelite.graph as graph
    import napari_skelite.io as io

    seen = {}

    def spy(name, real):
        def f(*a, **k):
            seen[name] = threading.current_thread() is not threading.main_thread()
            return real(*a, **k)
        return f

    monkeypatch.setattr(graph, "prune", spy("prune", graph.prune))
    monkeypatch.setattr(graph, "branches", spy("graph", graph.branches))
    monkeypatch.setattr(io, "write_graph", spy("save graph", io.write_graph))
    monkeypatch.setattr(export, "save_labels", spy("save skeleton", export.save_labels))
    s = session_of(labels())
    _run(s)
    for act in (lambda: s.show_graph(), lambda: s.prune(2), lambda: s.save_graph(tmp_path / "g.swc"),
                lambda: s.save_skeleton(tmp_path / "s.tif")):
        assert act() is not None
        finish(s)
    assert seen == {"graph": True, "prune": True, "save graph": True, "save skeleton": True}


def test_cancel_stops_a_long_run_within_a_second(session_of):
    m = np.zeros((8, 200, 200), np.uint16)
    for i in range(100):
        y, x = divmod(i, 10)
        m[1:7, 20 * y + 2: 20 * y + 18, 20 * x + 2: 20 * x + 18] = i + 1
    s = session_of(m)
    job = s.run({"method": "boolean"})
    s.runner.wait(lambda: s.progress[0] > 0, 30)  # it is under way
    t0 = time.perf_counter()
    s.cancel()
    finish(s)
    assert time.perf_counter() - t0 < 1.0 and job.thread is not None and not job.thread.is_alive()
    assert len(s.viewer.layers) == 1 and "cancelled" in s.status


@pytest.mark.parametrize("job", ["graph", "prune", "save graph"])
def test_cancel_stops_a_long_graph_prune_or_graph_saving_within_a_second(session_of, monkeypatch, tmp_path, job):
    import napari_skelite.graph as graph

    m = np.zeros((10, 600), np.uint16)
    for i in range(300):  # 300 labels, each a line
        m[2:8, 2 * i] = i + 1
    s = session_of(m)
    _run(s, "classic")
    real = graph._degrees
    monkeypatch.setattr(graph, "_degrees", lambda a: (time.sleep(0.02), real(a))[1])  # 6 s for 300 labels
    start = {"graph": s.show_graph, "prune": lambda: s.prune(3.0),
             "save graph": lambda: s.save_graph(tmp_path / "g.graphml")}[job]
    started = start()
    time.sleep(0.3)  # under way
    t0 = time.perf_counter()
    s.cancel()
    finish(s)
    assert time.perf_counter() - t0 < 1.0 and not started.thread.is_alive()
    assert [L.meta_of(ly).get("kind", "input") for ly in s.viewer.layers] == ["input", "skeleton"]
    assert "cancelled" in s.status and list(tmp_path.iterdir()) == []


def test_a_second_job_while_one_is_going_is_refused_with_a_warning(session_of, blocked_skeletonize):
    s = session_of(labels())
    assert s.run({"method": "boolean"}) is not None
    assert s.compare(["boolean"], {}) is None and "already going" in s.messages[-1][1]
    blocked_skeletonize.set()
    finish(s)
    assert len(s.viewer.layers) == 2


def test_progress_moves_during_a_run(session_of):
    m = np.zeros((40, 40), np.uint8)
    m[3:37, 3:37] = 1  # one thick object: many iterations
    s = session_of(m)
    seen = []
    s.events.progress.connect(lambda e: seen.append(e.value[0]))
    _run(s)
    assert len(set(seen)) >= 5 and seen == sorted(seen)


def test_empty_labels_give_an_empty_skeleton_and_a_notice_not_an_error(session_of):
    s = session_of(np.zeros((10, 10), np.uint8))
    _run(s)
    assert not _only(s, "skeleton").data.any() and s.status == "empty input: empty skeleton"
    assert ("info", "The input is empty: the skeleton is empty too.") in s.messages


def test_a_4d_layer_is_refused_with_a_clear_message_and_left_unchanged(session_of):
    s = session_of(np.ones((2, 3, 8, 8), np.uint8))
    assert s.run({"method": "boolean"}) is None and s.compare(["boolean"], {}) is None
    level, msg = s.messages[-1]
    assert level == "error" and "is 4D" in msg and "2D and 3D" in msg
    assert len(s.viewer.layers) == 1 and s.input_layer().data.all()


def test_no_input_layer_is_a_clear_error(session_of):
    s = session_of()
    assert s.run({"method": "boolean"}) is None and "No input layer" in s.messages[-1][1]
    assert s.show_graph() is None and "No skeleton layer" in s.messages[-1][1]


def test_an_unexpected_failure_is_reported_and_adds_nothing(session_of, monkeypatch):
    import napari_skelite._napari.controller as api

    def boom(*a, **k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(api, "skeletonize", boom)
    s = session_of(labels())
    _run(s)
    assert s.messages[-1] == ("error", "RuntimeError: kaput") and len(s.viewer.layers) == 1
    assert not s.busy


def test_a_skelite_run_that_breaks_the_topology_suggests_the_guard(session_of, monkeypatch):
    import napari_skelite._napari.controller as api

    def broken(mask, method, *args, **kwargs):  # label 5 comes out in two pieces
        out = np.zeros_like(mask)
        out[5, 3] = out[5, 20] = 5
        out[16, 8:16] = 9
        return out

    monkeypatch.setattr(api, "skeletonize", broken)
    s = session_of(labels())
    _run(s, "skelite", guard=False)
    assert "topology changed (β0 err 1, β1 err 0)" in s.status
    assert [m for lvl, m in s.messages if lvl == "warning" and "tick 'guard'" in m]


def test_a_photo_opened_as_labels_is_said_to_look_like_an_intensity_image(session_of):
    rng = np.random.default_rng(0)
    s = session_of((rng.random((32, 40)) * 255).astype(np.uint8))
    _run(s)
    assert any("looks like an intensity image" in m for _, m in s.messages)


def test_a_duplicated_output_gets_its_own_id_and_is_never_replaced(session_of):
    s = session_of(labels())
    _run(s)
    skel = _only(s, "skeleton")
    s.viewer.add_labels(np.array(skel.data), name="copy", metadata={L.KEY: dict(L.meta_of(skel))})
    copy = s.viewer.layers["copy"]
    assert L.id_of(copy) != L.id_of(skel) and L.meta_of(copy)["copy"]
    _run(s)
    assert np.array_equal(copy.data, skel.data) and len(s.viewer.layers) == 3


def test_the_input_is_the_active_layer_when_the_session_starts(session_of, viewer_model):
    viewer_model.add_labels(labels(), name="first")
    viewer_model.add_labels(labels(), name="second")
    viewer_model.layers.selection.active = viewer_model.layers["second"]
    assert session_of().input_layer().name == "second"


def test_a_dask_layer_runs_chunk_by_chunk_and_matches_the_in_memory_result(session_of):
    import dask.array as da

    from napari_skelite import skeletonize

    data = np.tile(labels(), (3, 3))
    s = session_of(da.from_array(data, chunks=(24, 30)))
    _run(s, return_steps=True)  # not available for chunked input: said, then skipped
    np.testing.assert_array_equal(_only(s, "skeleton").data, skeletonize(data, "boolean"))
    assert any("dask" in m for _, m in s.messages) and s.progress[2] == "chunks"


def _lazy_run(session_of, monkeypatch, data, chunks):
    import dask.array as da

    from napari_skelite._napari import controller

    monkeypatch.setattr(controller, "LAZY_RESULT_BYTES", 0)  # every chunked result stays on disk
    s = session_of(da.from_array(data, chunks=chunks))
    _run(s)
    return s, _only(s, "skeleton")


def test_a_large_chunked_result_is_a_lazily_read_layer_equal_to_the_in_memory_run(session_of, monkeypatch):
    from napari_skelite import skeletonize
    from napari_skelite.chunked import is_dask_array

    data = np.tile(labels(), (3, 3))
    s, out = _lazy_run(session_of, monkeypatch, data, (24, 30))
    assert is_dask_array(out.data) and out.data.numblocks == (2, 2)  # read block by block from disk
    expected = skeletonize(data, "boolean")
    np.testing.assert_array_equal(np.asarray(out.data), expected)
    assert s.status.startswith(f"boolean: {int(np.count_nonzero(expected))} skeleton points")
    assert set(out.colormap.color_dict) >= {5, 9}  # colours for every id, found without loading the layer


def test_a_multiscale_zarr_layer_is_read_chunk_by_chunk_at_full_resolution(viewer_model, session_of, tmp_path):
    import zarr

    from napari_skelite import skeletonize

    data = np.tile(labels(), (2, 2))
    full = zarr.create_array(str(tmp_path / "a.zarr"), shape=data.shape, chunks=(24, 30), dtype=data.dtype)
    full[:] = data
    viewer_model.add_labels([full, data[::2, ::2]], name="cells", multiscale=True)
    s = session_of()
    _run(s)
    np.testing.assert_array_equal(np.asarray(_only(s, "skeleton").data), skeletonize(data, "boolean"))
    assert s.progress[2] == "chunks"


def test_a_lazy_skeleton_saves_as_ome_zarr_with_its_voxel_size_graph_and_prune(session_of, monkeypatch, tmp_path):
    from napari_skelite.zarr_io import read_zarr

    data = np.tile(labels(), (2, 2))
    s, out = _lazy_run(session_of, monkeypatch, data, (24, 30))
    out.scale = (2.0, 0.5)
    assert s.save_skeleton(tmp_path / "skel.zarr") is not None
    finish(s)
    back = read_zarr(tmp_path / "skel.zarr")
    np.testing.assert_array_equal(np.asarray(back.data), np.asarray(out.data))
    assert tuple(back.spacing) == (2.0, 0.5) and (tmp_path / "skel.zarr.json").exists()
    assert s.show_graph() is not None
    finish(s)
    assert len(_only(s, "graph").data) > 0
    s.viewer.layers.selection.active = out
    assert s.save_graph(tmp_path / "g.csv") is not None
    finish(s)
    assert (tmp_path / "g.csv").read_text().count("\n") == len(_only(s, "graph").data) + 1
    s.viewer.layers.selection.active = out
    assert s.prune(1.0) is not None
    finish(s)
    assert "pruned" in s.status


def test_a_saved_skeleton_carries_the_options_of_the_run_that_made_it(session_of, tmp_path):
    import json

    s = session_of(labels(), scale=(2.0, 1.0))
    _run(s, "classic", iterations=None)
    s.save_skeleton(tmp_path / "s.npy")
    finish(s)
    rec = json.loads((tmp_path / "s.npy.json").read_text())
    assert rec["method"] == "classic" and rec["input"]["source"] == "napari layer 'cells'"
    assert rec["input"]["scale"] == [2.0, 1.0]


def test_a_save_that_fails_says_why_and_adds_nothing(session_of, tmp_path):
    s = session_of(labels())
    _run(s)
    s.save_skeleton(tmp_path / "s.jpg")
    finish(s)
    assert s.messages[-1][0] == "error" and "Could not save" in s.messages[-1][1]


def test_closing_the_session_cancels_its_job_and_lets_go_of_the_viewer(session_of, blocked_skeletonize):
    s = session_of(labels())
    job = s.run({"method": "boolean"})
    s.close()
    blocked_skeletonize.set()
    assert s.runner.join(30) and job.cancelled.is_set()
    s.runner.process()
    s.viewer.add_labels(labels(), name="later")  # no longer followed
    assert len(s.viewer.layers) == 2 and s.run({"method": "boolean"}) is None

