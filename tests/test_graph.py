import numpy as np

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_skelite import skeletonize
from napari_skelite.graph import branch_table, branches, prune, radius_image, to_networkx
from napari_skelite.metrics import betti_per_label
from napari_skelite.synthetic import topology_shape


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


def test_the_table_keeps_each_label_and_agrees_with_skan_per_label():
    from skan import Skeleton, summarize

    s = _two_labels_and_a_cycle()
    df = branch_table(s, spacing=(2.0, 1.0))
    for lab in (4, 9):
        ref = summarize(Skeleton(s == lab, spacing=(2.0, 1.0)), separator="_")
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
    s = np.zeros((20, 30), np.uint8)
    s[10, 2:28] = 1  # a 25-long line
    s[7:10, 15] = 1  # a 3-long spur
    s[2:10, 9] = 1   # an 8-long branch
    s[2, 20] = 1     # a speck
    return s


def test_pruning_removes_exactly_the_short_end_branches():
    s = _spur()
    out = prune(s, 5, specks=False)
    assert not out[7:10, 15].any() and out[10, 15]  # the spur, but not its junction
    assert out[2:10, 9].all() and out[10, 2:28].all() and out[2, 20]
    assert (s > 0).sum() - (out > 0).sum() == 3


def test_pruning_removes_specks_but_keeps_each_labels_longest_piece():
    s = _spur()
    s[15, 25] = 2  # a label that is a single point: kept
    out = prune(s, 5)
    assert not out[2, 20] and out[15, 25] == 2 and out[10, 2:28].all()


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
