import numpy as np

from napari_skelite.graph import branch_table


def _cross():
    s = np.zeros((11, 11), np.uint16)
    s[5, 1:10] = 3
    s[1:10, 5] = 3
    return s


def test_a_cross_has_four_junction_to_end_branches():
    df = branch_table(_cross())
    assert len(df) == 4 and set(df["branch_type"]) == {1} and set(df["label"]) == {3}


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
