import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from napari_skelite.metrics import betti_numbers, thinness
from napari_skelite.topology.thinning import thin

from ..conftest import ring, shell

masks2d = arrays(bool, st.tuples(st.integers(3, 14), st.integers(3, 14)), elements=st.booleans())
masks3d = arrays(bool, st.tuples(st.integers(3, 8), st.integers(3, 8), st.integers(3, 8)), elements=st.booleans())


@settings(max_examples=60, deadline=None)
@given(masks2d, st.booleans())
def test_boolean_thinning_keeps_betti_numbers_of_random_2d_shapes(mask, directional):
    sk = thin(torch.as_tensor(mask), directional=directional).numpy()
    assert not (sk & ~mask).any()
    assert betti_numbers(sk) == betti_numbers(mask)


@settings(max_examples=40, deadline=None)
@given(masks3d, st.booleans())
def test_boolean_thinning_keeps_betti_numbers_of_random_3d_shapes(mask, directional):
    sk = thin(torch.as_tensor(mask), directional=directional).numpy()
    assert not (sk & ~mask).any()
    assert betti_numbers(sk) == betti_numbers(mask)


def test_ring_thins_to_a_thin_closed_curve():
    m = ring((21, 21), 9, 4)
    sk = thin(torch.as_tensor(m)).numpy()
    assert betti_numbers(sk) == (1, 1)
    assert thinness(sk) == 0
    assert sk.sum() < m.sum() / 3


def test_hollow_sphere_keeps_its_cavity():
    m = shell()
    sk = thin(torch.as_tensor(m)).numpy()
    assert betti_numbers(sk) == betti_numbers(m) == (1, 0, 1)


def test_steps_are_distinct_copies_that_shrink_monotonically():
    m = np.zeros((20, 20), bool)
    m[3:17, 4:16] = True
    sk, steps = thin(torch.as_tensor(m), return_steps=True)
    assert steps[0].numpy().sum() == m.sum()
    sums = [int(s.sum()) for s in steps]
    assert sums == sorted(sums, reverse=True) and len(set(sums)) == len(sums)
    assert torch.equal(steps[-1], sk)


def test_substeps_record_one_state_per_subfield():
    m = np.zeros((12, 12), bool)
    m[2:10, 2:10] = True
    _, outer = thin(torch.as_tensor(m), return_steps=True)
    _, sub = thin(torch.as_tensor(m), return_steps=True, substeps=True)
    assert len(sub) - 1 == 4 * (len(outer) - 1)
    assert torch.equal(sub[-1], outer[-1])


def test_float_input_passes_gradients_to_kept_points():
    m = torch.zeros(10, 10)
    m[2:8, 3:7] = 1
    m.requires_grad_(True)
    out = thin(m)
    out.sum().backward()
    assert torch.equal(m.grad > 0, out.detach() > 0)


def test_directional_order_gives_the_same_skeleton_after_a_one_pixel_shift():
    m = np.zeros((16, 16), bool)
    m[5:7, 2:14] = True  # two pixels thick: the tie is broken by direction, not parity
    a = thin(torch.as_tensor(m), directional=True).numpy()
    b = thin(torch.as_tensor(np.roll(m, 1, 0)), directional=True).numpy()
    assert np.array_equal(np.roll(a, 1, 0), b)


def test_proposals_restrict_deletions():
    m = np.zeros((10, 10), bool)
    m[2:8, 2:8] = True
    prop = np.zeros_like(m)
    prop[2, 2:8] = True
    sk = thin(torch.as_tensor(m), proposals=torch.as_tensor(prop)).numpy()
    assert np.array_equal(sk | prop, m)


@settings(max_examples=20, deadline=None)
@given(st.one_of(masks2d, masks3d))
def test_lookup_table_and_direct_predicates_give_identical_skeletons(mask):
    t = torch.as_tensor(mask)
    assert torch.equal(thin(t), thin(t, lut=False))
