import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from napari_skelite import skeletonize
from napari_skelite.engine import _deepest, _first_deepest


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([(30, 31), (9, 10, 11)]))
def test_first_deepest_point_per_label_is_what_scipy_gives_one_label_at_a_time(seed, shape):
    depth = np.random.default_rng(seed).integers(0, 3, shape)
    lab, n = ndimage.label(depth > 0)
    which = np.arange(1, n + 1)
    expected = [np.ravel_multi_index(ndimage.maximum_position(depth, lab, i), shape) for i in which]
    assert list(_first_deepest(depth, lab, which)) == expected


def test_ten_thousand_labels_keep_every_id():
    rng = np.random.default_rng(0)
    m = np.zeros((400, 400), np.int32)
    ids = rng.permutation(np.arange(1, 10_001))
    m[1::4, 1::4] = ids.reshape(100, 100)  # single points: every method keeps each one
    out = skeletonize(m, "boolean")
    assert set(np.unique(out)) == set(np.unique(m))
    np.testing.assert_array_equal(out, m)


def _exact_deepest(canvas):
    return int(ndimage.distance_transform_cdt(np.pad(canvas, 1), metric="taxicab").max())


def test_deepest_point_of_a_small_canvas_is_exact():
    rng = np.random.default_rng(3)
    canvas = ndimage.binary_opening(rng.random((60, 70)) < 0.7)
    assert _deepest(canvas) == _exact_deepest(canvas)


def test_deepest_point_of_a_large_canvas_is_estimated_within_a_step():
    yy, xx = np.mgrid[:1100, :1000]
    canvas = (yy - 520) ** 2 + (xx - 480) ** 2 <= 400**2  # above the exact limit: every 2nd point
    assert abs(_deepest(canvas) - _exact_deepest(canvas)) <= 2
