import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from napari_skelite.methods.local import local_thin, step
from napari_skelite.metrics import betti_numbers, thinness
from napari_skelite.synthetic import bezier_tree

from ..conftest import ring, shell

masks2d = arrays(bool, st.tuples(st.integers(3, 16), st.integers(3, 16)), elements=st.booleans())
masks3d = arrays(bool, st.tuples(st.integers(3, 8), st.integers(3, 8), st.integers(3, 8)), elements=st.booleans())


def _thin(mask, **kw):
    return local_thin(torch.as_tensor(mask), **kw)


@settings(max_examples=80, deadline=None)
@given(masks2d)
def test_local_thinning_keeps_betti_numbers_of_random_2d_shapes(mask):
    sk = _thin(mask).numpy()
    assert not (sk & ~mask).any()
    assert betti_numbers(sk) == betti_numbers(mask)


@settings(max_examples=40, deadline=None)
@given(masks3d)
def test_local_thinning_keeps_betti_numbers_of_random_3d_shapes(mask):
    sk = _thin(mask).numpy()
    assert not (sk & ~mask).any()
    assert betti_numbers(sk) == betti_numbers(mask)


def _by_steps(mask):
    s = c = torch.as_tensor(mask)
    states = [s.clone()]
    while bool(c.any()):
        s, c = step(s, c)
        states.append(s.clone())
    return states


@settings(max_examples=60, deadline=None)
@given(st.one_of(masks2d, masks3d))
def test_thinning_read_off_the_depth_order_equals_eroding_with_step_every_iteration(mask):
    _, steps = _thin(mask, return_steps=True)
    expected = _by_steps(mask)
    assert len(steps) == len(expected)
    assert all(torch.equal(a, b) for a, b in zip(steps, expected))


def test_a_thick_disk_is_thinned_as_by_step_every_iteration():
    yy, xx = np.mgrid[:41, :41] - 20
    mask = yy**2 + xx**2 <= 19**2
    assert torch.equal(_thin(mask), _by_steps(mask)[-1])


def test_iteration_k_deletes_only_points_at_depth_2k_minus_1_or_2k():
    m = bezier_tree((96, 96), n_curves=6, radius=(1.0, 7.0), seed=3)
    depth = ndimage.distance_transform_cdt(np.pad(m, 1), "taxicab")[1:-1, 1:-1]
    _, steps = _thin(m, return_steps=True)
    assert len(steps) - 1 == (depth.max() + 1) // 2
    for k in range(1, len(steps)):
        gone = steps[k - 1].numpy() & ~steps[k].numpy()
        assert gone.any() and set(np.unique(depth[gone])) <= {2 * k - 1, 2 * k}


def test_a_decision_depends_only_on_the_state_within_four_points():
    rng = np.random.default_rng(0)
    a = bezier_tree((64, 64), n_curves=6, radius=(1.0, 6.0), seed=1)
    b = bezier_tree((64, 64), n_curves=8, radius=(1.0, 6.0), seed=2)
    sa, ca = torch.as_tensor(a), torch.as_tensor(a)
    sb, cb = torch.as_tensor(b), torch.as_tensor(b)
    for _ in range(1):  # the second iteration: earlier kept points are part of the input
        sa, ca = step(sa, ca)
        sb, cb = step(sb, cb)
    new_a = step(sa, ca)[0]
    band = ca.numpy() & ~ndimage.binary_erosion(ca.numpy(), iterations=2, border_value=0)
    pts = np.argwhere(band[6:-6, 6:-6]) + 6
    assert len(pts) > 20
    for y, x in pts[rng.permutation(len(pts))[:40]]:
        win = (slice(y - 4, y + 5), slice(x - 4, x + 5))
        s, c = sb.clone(), cb.clone()
        s[win], c[win] = sa[win], ca[win]
        c &= s
        assert bool(step(s, c)[0][y, x]) == bool(new_a[y, x])


@pytest.mark.parametrize("angle", [0, 30, 45, 60, 90, 135])
def test_straight_strips_of_any_width_thin_to_one_curve_thin_away_from_the_cut_ends(angle):
    yy, xx = np.mgrid[:48, :48] - 23.7
    t = np.deg2rad(angle)
    along = np.cos(t) * xx + np.sin(t) * yy
    for width in range(1, 13):
        m = (np.abs(-np.sin(t) * xx + np.cos(t) * yy) <= width / 2) & (np.abs(along) < 18)
        sk = _thin(m).numpy()
        assert betti_numbers(sk) == (1, 0)
        block = sk[:-1, :-1] & sk[1:, :-1] & sk[:-1, 1:] & sk[1:, 1:]
        assert np.all(np.abs(along[:-1, :-1][block]) > 11), width  # acute corners may leave one
        assert sk.sum() >= 18  # a curve along the strip, not a dot


def test_a_thin_curve_is_left_as_it_is():
    m = np.zeros((20, 20), bool)
    m[5, 3:17] = True
    m[6:15, 16] = True
    assert np.array_equal(_thin(m).numpy(), m)


def test_ring_thins_to_a_thin_closed_curve():
    m = ring((25, 25), 11, 5)
    sk = _thin(m).numpy()
    assert betti_numbers(sk) == (1, 1) and thinness(sk) == 0 and sk.sum() < m.sum() / 4


def test_hollow_sphere_keeps_its_cavity():
    m = shell()
    assert betti_numbers(_thin(m).numpy()) == betti_numbers(m) == (1, 0, 1)


def test_steps_are_copies_one_per_iteration_ending_with_the_skeleton():
    m = np.zeros((24, 24), bool)
    m[3:21, 4:20] = True
    sk, steps = _thin(m, return_steps=True)
    assert torch.equal(steps[0], torch.as_tensor(m)) and torch.equal(steps[-1], sk)
    assert len(steps) == 1 + 4 and all(s is not t for s, t in zip(steps, steps[1:]))


def test_a_float_input_and_a_bool_input_give_the_same_skeleton():
    m = bezier_tree((40, 40), n_curves=3, seed=4)
    assert torch.equal(_thin(m), local_thin(torch.as_tensor(m, dtype=torch.float32)))


def test_a_flat_3d_slab_thins_to_a_curve_not_a_sheet():
    # 3 voxels thick, 12 wide: its medial sheet forms inside one band and must be worn down from its rim
    m = np.zeros((40, 18, 9), bool)
    m[4:36, 3:15, 3:6] = True
    sk = _thin(m).numpy()
    assert betti_numbers(sk) == (1, 0, 0) and thinness(sk) == 0
    assert sk.sum() < 1.25 * 32  # a curve along the slab's 32-voxel length
