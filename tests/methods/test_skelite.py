import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from napari_skelite import skeletonize
from napari_skelite.methods.skelite import run
from napari_skelite.metrics import betti_numbers

masks2d = arrays(bool, st.tuples(st.integers(3, 16), st.integers(3, 16)), elements=st.booleans())
masks3d = arrays(bool, st.tuples(st.integers(3, 8), st.integers(3, 8), st.integers(3, 8)), elements=st.booleans())


@settings(max_examples=40, deadline=None)
@given(masks2d)
def test_guarded_skelite_keeps_betti_numbers_of_random_2d_shapes(random_weights, mask):
    s = skeletonize(mask, "skelite", weights=random_weights[2], guard=True, device="cpu")
    assert betti_numbers(s) == betti_numbers(mask)


@settings(max_examples=25, deadline=None)
@given(masks3d)
def test_guarded_skelite_keeps_betti_numbers_of_random_3d_shapes(random_weights, mask):
    s = skeletonize(mask, "skelite", weights=random_weights[3], guard=True, device="cpu")
    assert betti_numbers(s) == betti_numbers(mask)


def test_an_object_the_network_erases_keeps_its_most_central_point(tmp_path):
    from napari_skelite.networks.network import SkeliteNet
    from napari_skelite.networks.weights import save_network

    net = SkeliteNet(2)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.body[-1].bias.fill_(20.0)  # delete everything it is shown
    path = tmp_path / "eraser.pt"
    save_network(net, path)
    m = np.zeros((11, 11), bool)
    m[2:9, 2:9] = True
    s = skeletonize(m, "skelite", weights=path)
    assert s.sum() == 1 and s[5, 5] == 1


def test_steps_end_with_the_returned_skeleton(random_weights):
    m = np.zeros((20, 20), bool)
    m[3:17, 4:15] = True
    from napari_skelite.networks.weights import load_network

    skel, steps = run(np.pad(m, 1), weights=load_network(random_weights[2], 2), return_steps=True)
    assert np.array_equal(steps[-1], skel) and np.array_equal(steps[0], np.pad(m, 1))
    assert len(steps) - 1 == 3  # 11 pixels wide: city-block depth up to 6, so 3 iterations


def test_full_blocks_marks_exactly_the_points_of_2x2_blocks():
    from napari_skelite.metrics import thinness
    from napari_skelite.networks import full_blocks

    rng = np.random.default_rng(0)
    for _nd, shape in ((2, (12, 13)), (3, (6, 7, 5))):
        m = rng.random(shape) < 0.6
        fb = full_blocks(torch.as_tensor(m)).numpy()
        assert fb.sum() / m.sum() == pytest.approx(thinness(m))


@settings(max_examples=25, deadline=None)
@given(masks2d)
def test_thin_blocks_keeps_topology_and_removes_blocks_where_it_can(mask):
    from napari_skelite.networks import thin_blocks

    out = thin_blocks(torch.as_tensor(mask)).numpy()
    assert betti_numbers(out) == betti_numbers(mask) and not (out & ~mask).any()


def test_guard_leaves_a_one_point_thick_skeleton_of_a_thick_bar(random_weights):
    from napari_skelite.metrics import thinness

    m = np.zeros((30, 40), bool)
    m[5:25, 5:35] = True
    s = skeletonize(m, "skelite", weights=random_weights[2], guard=True)
    assert thinness(s) == 0 and betti_numbers(s) == (1, 0)


def test_the_shipped_2d_subfield_network_gives_the_boolean_skeleton():
    from napari_skelite.synthetic import bezier_tree

    m = bezier_tree((96, 96), 6, (1.0, 6.0), seed=11)
    for guard in (False, True):
        np.testing.assert_array_equal(skeletonize(m, "skelite", variant="subfield", guard=guard),
                                      skeletonize(m, "boolean"))


def test_the_methods_variant_choices_are_the_networks_variants():
    from napari_skelite.methods import skelite as record_module
    from napari_skelite.networks import VARIANTS

    assert record_module.VARIANTS == VARIANTS
