import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_skelite import skeletonize
from napari_skelite.graph import branch_table, branches, minimal_skeleton, prune, radius_image, to_networkx
from napari_skelite.metrics import betti_per_label
from napari_skelite.synthetic import topology_shape

from .conftest import noisy_labels


def _cross():
    s = np.zeros((11, 11), np.uint16)
    s[5, 1:10] = 3
    s[1:10, 5] = 3
    return s


def test_a_cross_has_four_junction_to_end_branches():
    df = branch_table(_cross())
    assert len(df) == 4 and set(df["branch_type"]) == {"junction-end"} and set(df["label"]) == {3}
    assert set(df["branch_type_code"]) == {1}


def test_branch_lengths_follow_anisotropic_spacing():
    a = branch_table(_cross(), spacing=(1.0, 1.0))
    b = branch_table(_cross(), spacing=(2.0, 1.0))
    vertical = a["image_coord_src_1"] == a["image_coord_dst_1"]
    assert np.allclose(b["branch_distance"][vertical], 2 * a["branch_distance"][vertical])
    assert np.allclose(b["branch_distance"][~vertical], a["branch_distance"][~vertical])


def test_single_point_skeletons_get_a_zero_length_row():
    s = np.zeros((5, 5), np.uint8)
    s[2, 2] = 7
    df = branch_table(s)
    assert df["label"].tolist() == [7] and df["branch_distance"].tolist() == [0.0]


def test_empty_skeleton_gives_an_empty_table():
    assert len(branch_table(np.zeros((4, 4), np.uint8))) == 0


def test_a_one_point_skeleton_gets_a_full_row_without_nan_and_integer_ids():
    s = np.zeros((10, 10), np.uint8)
    s[2, 2:7] = 1
    s[7, 7] = 2
    df = branch_table(s, spacing=(2.0, 1.0))
    assert not df.isna().any().any()
    assert df["node_id_src"].dtype.kind == "i" and df["skeleton_id"].dtype.kind == "i"
    point = df[df["label"] == 2].iloc[0]
    assert point["branch_distance"] == 0 and point["coord_src_0"] == 14.0 and point["image_coord_dst_1"] == 7


def _two_labels_and_a_cycle():
    s = np.zeros((20, 20), np.uint16)
    s[5, 2:15] = 4
    s[2:5, 8] = 4
    s[12, 3:9] = 4  # a second piece of label 4
    for k in range(4):  # a diamond around (15, 16): a cycle whose every point has two neighbours
        for y, x in ((12 + k, 16 + k), (15 + k, 19 - k), (18 - k, 16 - k), (15 - k, 13 + k)):
            s[y, x] = 9
    return s


def test_the_table_keeps_each_label_and_agrees_with_skan_on_the_minimal_skeleton_per_label():
    from skan import Skeleton, summarize

    s = _two_labels_and_a_cycle()
    df = branch_table(s, spacing=(2.0, 1.0))
    for lab in (4, 9):
        ref = summarize(Skeleton(minimal_skeleton(s) == lab, spacing=(2.0, 1.0)), separator="_")
        mine = df[df["label"] == lab]
        assert sorted(mine["branch_distance"].round(6)) == sorted(ref["branch_distance"].round(6))
        assert sorted(mine["branch_type_code"]) == sorted(ref["branch_type"])
        assert sorted(mine["coord_src_0"]) == sorted(ref["coord_src_0"])
    assert "cycle" in set(df["branch_type"]) and df[df["branch_type"] == "cycle"]["tortuosity"].isna().all()


def test_each_branch_path_runs_between_its_end_points():
    b = branches(_two_labels_and_a_cycle())
    for row, path in zip(b.table.itertuples(), b.paths):
        assert tuple(path[0]) == (row.image_coord_src_0, row.image_coord_src_1)
        assert tuple(path[-1]) == (row.image_coord_dst_0, row.image_coord_dst_1)


def test_the_mean_radius_of_a_tube_is_its_half_width():
    mask = np.zeros((21, 40), np.uint8)
    mask[5:16, 2:38] = 1  # 11 px wide: radius 5.5 at the centre line (distance to the first outside point: 6)
    skel = skeletonize(mask, "boolean")
    df = branch_table(skel, mask=mask)
    assert 5.0 <= df["mean_radius"].max() <= 6.0


def test_touching_labels_bound_each_others_radius():
    mask = np.zeros((10, 20), np.uint8)
    mask[1:9, 1:10] = 1
    mask[1:9, 10:19] = 2
    r = radius_image(mask)
    assert r[4, 9] == 1.0 and r[4, 10] == 1.0


def _spur():
    """A minimal skeleton: branches meet the line diagonally (a 4-connected T's centre would be redundant)."""
    s = np.zeros((20, 30), np.uint8)
    s[10, 2:28] = 1  # a 25-long line
    s[7:10, 15] = 1  # a 3-long spur, its junction at (9, 15)
    s[2:10, 9] = 1   # an 8-long branch, its junction at (9, 9)
    s[10, [9, 15]] = 0
    s[2, 20] = 1     # a speck
    return s


def test_pruning_removes_exactly_the_short_end_branches():
    s = _spur()
    out = prune(s, 5, specks=False)
    assert not out[7:9, 15].any() and out[9, 15]  # the spur, but not its junction
    assert out[2:10, 9].all() and (out[10] == s[10]).all() and out[2, 20]
    assert (s > 0).sum() - (out > 0).sum() == 2


def test_pruning_removes_specks_but_keeps_each_labels_longest_piece():
    s = _spur()
    s[15, 25] = 2  # a label that is a single point: kept
    out = prune(s, 5)
    assert not out[2, 20] and out[15, 25] == 2 and (out[10] == s[10]).all()


def test_a_negative_pruning_length_is_refused():
    with pytest.raises(ValueError, match=">= 0"):
        prune(_spur(), -1)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]), length=st.sampled_from([2.0, 4.0, 8.0]))
def test_pruning_keeps_every_loop_and_the_pieces_it_does_not_remove(seed, ndim, length):
    skel = skeletonize(topology_shape(seed, ndim=ndim, size=24 if ndim == 2 else 12), "boolean")
    out = prune(skel, length, specks=False)
    assert np.all((out == 0) | (out == skel))
    assert betti_per_label(out) == betti_per_label(skel)


def test_the_networkx_graph_has_a_node_per_end_and_junction_and_an_edge_per_branch():
    s = _two_labels_and_a_cycle()
    g = to_networkx(s, spacing=(2.0, 1.0), mask=s > 0)
    df = branch_table(s)
    assert g.number_of_edges() == len(df)
    ends = {(r.label, r.skeleton_id, n) for r in df.itertuples() for n in (r.node_id_src, r.node_id_dst)}
    assert g.number_of_nodes() == len(ends)
    assert {d["label"] for _, _, d in g.edges(data=True)} == {4, 9}
    x = {d["x"] for _, d in g.nodes(data=True)}
    assert max(x) <= 19 and all(d["mean_radius"] > 0 for _, _, d in g.edges(data=True))


# --- every skeleton any method returns goes through the graph code ---------------------------------


def _l_shape():
    """Three mutually adjacent points: what the default 2D method leaves of a small L-shaped object."""
    m = np.zeros((7, 7), np.uint8)
    m[2:5, 2] = 1
    m[2:4, 3] = 1
    return m


def test_a_three_point_l_shaped_skeleton_gives_one_branch_instead_of_a_skan_error():
    skel = np.zeros((7, 7), np.uint8)
    skel[2, 2:4] = skel[3, 2] = 1
    df = branch_table(skel)
    assert len(df) == 1 and df["branch_type"].tolist() == ["end-end"]


def test_the_default_methods_skeleton_of_a_small_l_shape_gives_a_branch_table():
    df = branch_table(skeletonize(_l_shape()))
    assert len(df) >= 1 and set(df["label"]) == {1}


def test_the_minimal_skeleton_drops_the_redundant_corner_of_a_4_connected_step():
    skel = np.zeros((6, 8), np.uint8)
    skel[2, 1:4] = 1
    skel[3, 3:7] = 1  # a 4-connected step: (2, 3) or (3, 3) can go, the line stays connected
    out = minimal_skeleton(skel)
    assert out[2, 1] and out[3, 6] and (out > 0).sum() < (skel > 0).sum()
    assert betti_per_label(out) == betti_per_label(skel)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]))
def test_the_minimal_skeleton_keeps_every_labels_topology_and_leaves_a_boolean_skeleton_alone(seed, ndim):
    labels = topology_shape(seed, ndim=ndim, size=24 if ndim == 2 else 12)
    for method in ("classic", "morphological"):
        skel = skeletonize(labels, method, check_topology=False)
        out = minimal_skeleton(skel)
        assert np.all((out == 0) | (out == skel)) and betti_per_label(out) == betti_per_label(skel)
    boolean = skeletonize(labels, "boolean")
    assert np.array_equal(minimal_skeleton(boolean), boolean)


def _noisy_labels(seed: int, ndim: int) -> np.ndarray:
    """A small random label image with salt noise: specks and ragged borders for every method."""
    return noisy_labels(seed, ndim, 20 if ndim == 2 else 10)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]),
       method=st.sampled_from(["skelite", "boolean", "local", "morphological", "classic"]),
       guard=st.booleans())
def test_every_methods_skeleton_goes_through_every_graph_function(seed, ndim, method, guard):
    import tempfile
    from pathlib import Path

    from napari_skelite.io import write_graph

    labels = _noisy_labels(seed, ndim)
    options = {"guard": guard} if method == "skelite" else {}
    skel = skeletonize(labels, method, check_topology=False, **options)
    spacing = (2.0, 1.0, 0.5)[-ndim:]
    df = branch_table(skel, spacing, mask=labels)
    assert set(df["label"]) == set(np.unique(skel[skel > 0]))
    pruned = prune(skel, 3.0, spacing=spacing)
    assert np.all((pruned == 0) | (pruned == skel))
    g = to_networkx(skel, spacing, mask=labels)
    assert g.number_of_edges() <= len(df)
    with tempfile.TemporaryDirectory() as d:
        for suffix in (".swc", ".graphml", ".csv"):
            assert write_graph(Path(d) / f"g{suffix}", skel, spacing=spacing, mask=labels).stat().st_size > 0


# --- the graph code checks its arguments like skeletonize does -------------------------------------


def _tube():
    mask = np.zeros((21, 40), np.uint8)
    mask[5:16, 2:38] = 1
    return mask, skeletonize(mask, "boolean")


def test_no_spacing_means_one_along_every_axis():
    assert branch_table(_cross(), None).equals(branch_table(_cross(), 1.0))


@pytest.mark.parametrize("spacing", [float("nan"), float("inf"), (1.0, float("nan")), (0.0, 1.0), (1.0, 1.0, 1.0)])
def test_a_spacing_that_is_not_a_finite_non_zero_size_per_axis_is_refused(spacing):
    with pytest.raises(ValueError, match="spacing"):
        branch_table(_cross(), spacing)


def test_a_flipped_axis_measures_lengths_and_radii_by_its_size():
    mask, skel = _tube()
    flipped = branch_table(skel, (-1.0, 1.0), mask=mask)
    assert flipped.equals(branch_table(skel, (1.0, 1.0), mask=mask))
    assert 5.0 <= flipped["mean_radius"].max() <= 6.0


def test_a_mask_of_another_shape_is_refused():
    mask, skel = _tube()
    with pytest.raises(ValueError, match="shape"):
        branch_table(skel, mask=mask[:, :-1])


def test_a_float_skeleton_gives_the_table_of_its_integer_ids():
    assert branch_table(_cross().astype(np.float32)).equals(branch_table(_cross()))


def test_a_float_skeleton_that_is_not_labels_is_refused():
    with pytest.raises(ValueError, match="non-integral"):
        branch_table(_cross() * 0.5)


def test_a_nan_pruning_length_is_refused():
    with pytest.raises(ValueError, match=">= 0"):
        prune(_spur(), float("nan"))


def test_every_graph_function_refuses_a_nan_spacing(tmp_path):
    from napari_skelite.io import write_graph

    for call in (lambda: to_networkx(_cross(), (float("nan"), 1.0)), lambda: prune(_cross(), 2, spacing=(0.0, 1.0)),
                 lambda: write_graph(tmp_path / "g.csv", _cross(), spacing=(float("inf"), 1.0))):
        with pytest.raises(ValueError, match="spacing"):
            call()
    assert not list(tmp_path.iterdir())


# --- ids of 2**63 and more ----------------------------------------------------------------------------


def _huge_ids():
    s = np.zeros((9, 12), np.uint64)
    s[2, 1:6] = 2**64 - 1
    s[6, 3:10] = 2**63
    return s


def test_ids_of_two_to_the_63_and_more_stay_as_they_are_in_the_branch_table():
    assert sorted(branch_table(_huge_ids())["label"].tolist()) == [2**63, 2**64 - 1]


def test_ids_of_two_to_the_63_and_more_stay_as_they_are_in_networkx_graphml_and_csv(tmp_path):
    import networkx as nx
    import pandas as pd

    from napari_skelite.io import write_graph

    ids = {2**63, 2**64 - 1}
    assert {d["label"] for _, _, d in to_networkx(_huge_ids()).edges(data=True)} == ids
    g = nx.read_graphml(write_graph(tmp_path / "g.graphml", _huge_ids()))
    assert {int(d["label"]) for _, _, d in g.edges(data=True)} == ids
    table = pd.read_csv(write_graph(tmp_path / "g.csv", _huge_ids()), dtype={"label": "uint64"})
    assert set(table["label"].tolist()) == ids


class _Stop(Exception):
    pass


def _lines(n=40):
    """``n`` labels, each a vertical line of 6 points, one column apart."""
    m = np.zeros((10, 2 * n), np.uint16)
    for i in range(n):
        m[2:8, 2 * i] = i + 1
    return m


@pytest.mark.parametrize("call", ["branches", "prune", "to_networkx", "branch_table"])
def test_a_callback_that_raises_stops_the_graph_work_at_once(call):
    from napari_skelite import graph

    calls = []

    def stop_at_the_fifth(done, total):
        calls.append((done, total))
        if len(calls) == 5:
            raise _Stop()

    run = {"prune": lambda cb: graph.prune(_lines(), 3.0, callback=cb)}.get(
        call, lambda cb: getattr(graph, call)(_lines(), callback=cb))
    with pytest.raises(_Stop):
        run(stop_at_the_fifth)
    assert len(calls) == 5


@pytest.mark.parametrize("suffix", [".swc", ".graphml", ".csv"])
def test_a_graph_file_stopped_by_its_callback_is_not_written(tmp_path, suffix):
    from napari_skelite.io import write_graph

    def stop(done, total):
        raise _Stop()

    with pytest.raises(_Stop):
        write_graph(tmp_path / f"g{suffix}", _lines(), callback=stop)
    assert list(tmp_path.iterdir()) == []


def test_the_callback_is_told_the_labels_done_and_their_count():
    from napari_skelite.graph import _branches

    seen = []
    _branches(_lines(3), np.ones(2), None, lambda done, total: seen.append((done, total)))
    assert seen == [(0, 3), (1, 3), (2, 3)]
