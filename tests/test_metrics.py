import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_skelite.metrics import (
    betti_errors,
    betti_numbers,
    cldice,
    coverage,
    label_betti,
    thinness,
)

from .conftest import ring, shell


def test_betti_numbers_of_a_ring_and_a_hollow_sphere():
    assert betti_numbers(ring()) == (1, 1)
    assert betti_numbers(shell()) == (1, 0, 1)


def test_betti_1_of_a_solid_torus_is_one():
    n = 21
    zz, yy, xx = np.mgrid[:n, :n, :n] - n // 2
    torus = (np.hypot(yy, xx) - 6) ** 2 + zz**2 <= 2.5**2
    assert betti_numbers(torus) == (1, 1, 0)


def test_diagonal_pixels_are_one_component():
    m = np.eye(5, dtype=bool)
    assert betti_numbers(m) == (1, 0)


def test_betti_errors_count_broken_and_extra_loops():
    m = ring()
    broken = m.copy()
    broken[:, 7] = False
    assert betti_errors(broken, m) == (1, 1)


def test_thinness_is_zero_for_a_line_and_one_for_a_block():
    line = np.zeros((8, 8), bool)
    line[4, 1:7] = True
    block = np.zeros((8, 8), bool)
    block[1:3, 2:4] = True
    assert thinness(line) == 0 and thinness(block) == 1
    both = line | block
    assert thinness(both) == 4 / both.sum()


def test_cldice_is_one_for_equal_and_zero_for_disjoint_skeletons():
    a = np.zeros((10, 10), bool)
    a[2, 1:9] = True
    b = np.zeros_like(a)
    b[8, 1:9] = True
    assert cldice(a, a) == 1.0 and cldice(a, b) == 0.0
    assert cldice(a, np.roll(a, 1, 0), tolerance=1) == 1.0


def test_coverage_counts_reference_points_near_the_skeleton():
    ref = np.zeros((10, 10), bool)
    ref[5, :] = True
    half = ref.copy()
    half[5, 5:] = False
    assert coverage(half, ref, tolerance=0) == 0.5


def test_label_betti_sums_the_betti_numbers_of_every_label():
    m = np.zeros((30, 30), np.uint8)
    m[2:9, 2:9] = 1
    m[4:7, 4:7] = 0          # label 1: one ring
    m[12:15, 12:15] = 2      # label 2: a disc
    m[20:27, 20:27] = 3
    m[22:25, 22:25] = 0      # label 3: another ring
    assert label_betti(m) == (3, 2)
    assert label_betti(m > 0) == (3, 2)
    assert label_betti(np.zeros((5, 5, 5), np.uint8)) == (0, 0)


def _per_id_reference(skeleton, mask):
    """betti_errors as the plain definition: every id on the whole image."""
    e0 = e1 = 0
    for i in np.unique(mask[mask > 0]):
        bs, bm = betti_numbers(skeleton == i), betti_numbers(mask == i)
        e0, e1 = e0 + abs(bs[0] - bm[0]), e1 + abs(bs[1] - bm[1])
    return e0, e1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(14, 16), (7, 8, 9)]), st.sampled_from([np.uint8, np.uint64]))
def test_betti_errors_on_label_boxes_equal_the_per_id_definition(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    ids = np.array([0, 3, 7, 2**40 + 5], np.uint64) if dtype == np.uint64 else np.array([0, 3, 7, 200])
    mask = rng.choice(ids, size=shape, p=[0.4, 0.2, 0.2, 0.2]).astype(dtype)
    skel = np.where(rng.random(shape) < 0.5, mask, 0).astype(dtype)
    skel[rng.random(shape) < 0.05] = ids[1]  # points of an id outside its own object, even outside its box
    assert betti_errors(skel, mask) == _per_id_reference(skel, mask)
    assert label_betti(mask) == tuple(
        sum(betti_numbers(mask == i)[k] for i in np.unique(mask[mask > 0])) for k in (0, 1))


def test_a_label_image_without_background_is_measured_per_id():
    m = np.ones((6, 8), np.uint64) * (2**40)
    m[:, 4:] = 2**41
    assert label_betti(m) == (2, 0)
