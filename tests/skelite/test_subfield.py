"""The subfield Skelite variant: its loop, its network and its guarantees."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from napari_skelite import skeletonize
from napari_skelite.topology.thinning import thin
from napari_skelite.metrics import betti_numbers
from napari_skelite.skelite.subfield import (
    SubfieldNet,
    _passes,
    _unpad,
    _window_offsets,
    pass_inputs,
    subfield_thin,
)
from napari_skelite.skelite.weights import default_weights_path, load_network, save_network

from ..conftest import ring, shell


def _teacher_result(mask):
    out = mask
    for _k, sub, grid, flat, *_ in _passes(torch.as_tensor(mask), lambda g, f, c, d: d):
        if sub is None:
            out = _unpad(grid, flat)
    return out


@settings(max_examples=40, deadline=None)
@given(arrays(bool, st.tuples(st.integers(3, 9), st.integers(3, 9), st.integers(3, 9))))
def test_deleting_every_deletable_point_is_the_boolean_thinning(mask):
    assert torch.equal(_teacher_result(mask), thin(torch.as_tensor(mask)))


def test_centre_logits_equal_the_window_and_dense_forward():
    torch.manual_seed(0)
    net = SubfieldNet(3)
    flat_mask = torch.as_tensor(shell(11, 5, 2))
    from napari_skelite.topology.grid import Grid

    grid = Grid(tuple(flat_mask.shape), "cpu")
    flat = torch.nn.functional.pad(flat_mask, (1,) * 6).reshape(-1)
    cand = torch.nonzero(flat & (grid.parity == 3)).squeeze(1)
    deletable = torch.rand(len(cand)) < 0.5
    window = _window_offsets(grid)
    x = pass_inputs(grid, flat, cand, deletable, window)
    a = net.window_logits(x)
    b = net.centre_logits(flat[cand[:, None] + window[None]].float(), deletable)
    dense = net(x)[:, 0, 1, 1, 1]
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, dense)


@pytest.mark.parametrize("mask", [shell(13, 5, 2), ring((21, 21), 8, 4)])
def test_guarded_random_network_keeps_every_betti_number(mask):
    torch.manual_seed(1)
    net = SubfieldNet(mask.ndim)
    sk = subfield_thin(net, torch.as_tensor(mask), guard=True).numpy()
    assert betti_numbers(sk) == betti_numbers(mask)
    assert not (sk & ~mask).any()


def test_the_loop_stops_when_an_iteration_deletes_nothing():
    torch.manual_seed(2)
    net = SubfieldNet(2)
    with torch.no_grad():
        net.body[-1].bias.fill_(-100.0)  # deletes nothing
    from napari_skelite.skelite.subfield import subfield_iterate

    states = list(subfield_iterate(net, torch.as_tensor(ring()), iterations=10**9))
    assert len(states) == 1


def test_a_subfield_network_file_round_trips(tmp_path):
    torch.manual_seed(3)
    net = SubfieldNet(3)
    save_network(net, tmp_path / "n.pt", {"note": "test"})
    back = load_network(tmp_path / "n.pt", 3)
    assert isinstance(back, SubfieldNet)
    for p, q in zip(net.parameters(), back.parameters()):
        assert torch.equal(p, q)


@pytest.mark.skipif(not default_weights_path(3).is_file(), reason="3D weights not shipped")
def test_the_shipped_3d_network_keeps_the_topology_without_the_guard():
    mask = shell(15, 6, 2)
    torus = np.zeros((24, 24, 24), bool)
    z, y, x = np.mgrid[:24, :24, :24]
    torus[np.sqrt((np.hypot(y - 12, x - 12) - 7) ** 2 + (z - 12) ** 2) < 3] = True
    for m in (mask, torus):
        sk = skeletonize(m, "skelite", device="cpu") > 0
        assert betti_numbers(sk) == betti_numbers(m)


@pytest.mark.skipif(not default_weights_path(3, "paper").is_file(), reason="paper 3D weights not shipped")
def test_the_paper_variant_stays_selectable_in_3d():
    from napari_skelite.methods.skelite import variant_of

    assert variant_of(3) == "subfield"
    assert variant_of(3, variant="paper") == "paper"
    mask = shell(13, 5, 2)
    a = skeletonize(mask, "skelite", device="cpu", variant="paper")
    b = skeletonize(mask, "skelite", device="cpu", weights=default_weights_path(3, "paper"))
    assert np.array_equal(a, b)
