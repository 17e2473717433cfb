"""The subfield Skelite variant: its loop, its network, what it reads and its guarantees."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from napari_skelite import skeletonize
from napari_skelite.metrics import betti_numbers
from napari_skelite.networks.subfield import (
    SubfieldNet,
    code_windows,
    soft_subfield_skeleton,
    subfield_iterate,
    subfield_thin,
    teacher_passes,
    window_table_errors,
)
from napari_skelite.networks.weights import default_weights_path, load_network, save_network
from napari_skelite.topology import simple as simple_module
from napari_skelite.topology.grid import Grid
from napari_skelite.topology.thinning import thin

from ..conftest import ring, shell

_SHIPPED_2D = default_weights_path(2, "subfield")
_SHIPPED_3D = default_weights_path(3, "subfield")


@settings(max_examples=40, deadline=None)
@given(arrays(bool, st.tuples(st.integers(3, 9), st.integers(3, 9), st.integers(3, 9))))
def test_a_network_that_deletes_what_the_teacher_deletes_gives_the_boolean_thinning(mask):
    decisions = [d for _c, _e, d in teacher_passes(torch.as_tensor(mask))]

    class Replay:
        ndim = 3

        def decide(self, codes, end):
            return decisions.pop(0)

    out = torch.as_tensor(mask)
    for out in subfield_iterate(Replay(), torch.as_tensor(mask)):
        pass
    assert torch.equal(out, thin(torch.as_tensor(mask)))


def test_window_code_and_dense_logits_agree():
    torch.manual_seed(0)
    net = SubfieldNet(3, width=16).eval()
    mask = torch.as_tensor(shell(11, 5, 2))
    grid = Grid(tuple(mask.shape), "cpu")
    flat = torch.nn.functional.pad(mask, (1,) * 6).reshape(-1)
    cand = torch.nonzero(flat).squeeze(1)
    end = torch.rand(len(cand)) < 0.3
    windows = flat[cand[:, None] + grid.window[None]].float()
    a = net.window_logits(windows, end)
    torch.testing.assert_close(code_windows(grid.codes(flat, cand), 3), windows)
    with torch.no_grad():
        b = net.code_logits(grid.codes(flat, cand), end)
        e = torch.zeros_like(flat, dtype=torch.float32)
        e[cand[end]] = 1
        dense = net(flat.float().reshape(1, 1, *grid.shape), e.reshape(1, 1, *grid.shape)).reshape(-1)[cand]
    torch.testing.assert_close(a.detach(), b)
    torch.testing.assert_close(a.detach(), dense)


@pytest.mark.parametrize("mask", [shell(13, 5, 2), ring((21, 21), 8, 4)])
def test_guarded_random_network_keeps_every_betti_number(mask):
    torch.manual_seed(1)
    net = SubfieldNet(mask.ndim)
    sk = subfield_thin(net, torch.as_tensor(mask), guard=True).numpy()
    assert betti_numbers(sk) == betti_numbers(mask)
    assert not (sk & ~mask).any()


def test_the_loop_stops_when_an_iteration_deletes_nothing():
    net = SubfieldNet(2)
    with torch.no_grad():
        net.out.bias.fill_(-100.0)  # deletes nothing
    states = list(subfield_iterate(net, torch.as_tensor(ring()), iterations=10**9))
    assert len(states) == 1


def test_cached_decisions_follow_a_changed_threshold():
    torch.manual_seed(4)
    net = SubfieldNet(2).eval()
    mask = torch.as_tensor(ring((21, 21), 8, 4))
    a = subfield_thin(net, mask)
    with torch.no_grad():
        net.threshold.fill_(1e9)
    assert torch.equal(subfield_thin(net, mask), mask)
    with torch.no_grad():
        net.threshold.fill_(0.0)
    assert torch.equal(subfield_thin(net, mask), a)


def test_a_subfield_network_file_round_trips_with_its_width_and_threshold(tmp_path):
    torch.manual_seed(3)
    net = SubfieldNet(3, width=24)
    with torch.no_grad():
        net.threshold.fill_(0.5)
    save_network(net, tmp_path / "n.pt", {"note": "test"})
    back = load_network(tmp_path / "n.pt", 3)
    assert isinstance(back, SubfieldNet) and back.width == 24
    assert float(back.threshold) == 0.5
    assert not back.certified  # its card records no check of the window table
    for p, q in zip(net.parameters(), back.parameters()):
        assert torch.equal(p, q)


def test_the_window_table_check_counts_a_networks_wrong_deletions():
    net = SubfieldNet(2)
    with torch.no_grad():
        net.out.bias.fill_(100.0)  # deletes every candidate
    r = window_table_errors(net)
    assert r["windows"] == 256 - 16 + 9  # border windows with end bit 0, at most one neighbour with end bit 1
    assert r["false_delete"] == r["windows"] - r["deletable"] and r["false_keep"] == 0


def _poisoned_table(monkeypatch):
    """Every neighbourhood answers 'simple': a network that read the table would change its skeleton."""
    class Everything:
        def __call__(self, codes):
            return torch.ones(codes.shape, dtype=torch.bool, device=codes.device)

    monkeypatch.setattr(simple_module, "simple_point_lut", lambda ndim, device="cpu": Everything())
    import napari_skelite.topology.thinning as thinning

    monkeypatch.setattr(thinning, "simple_point_lut", lambda ndim, device="cpu": Everything())


@pytest.mark.parametrize("variant, ndim", [("subfield", 2), ("paper", 2), ("subfield", 3)])
def test_plain_shipped_networks_do_not_read_the_simple_point_table(monkeypatch, variant, ndim):
    if not default_weights_path(ndim, variant).is_file():
        pytest.skip("weights not shipped")
    mask = ring((31, 27), 10, 5) if ndim == 2 else shell(15, 6, 2)
    before = skeletonize(mask, "skelite", device="cpu", guard=False, variant=variant)
    boolean = skeletonize(mask, "boolean")
    _poisoned_table(monkeypatch)
    after = skeletonize(mask, "skelite", device="cpu", guard=False, variant=variant)
    assert np.array_equal(before, after)
    # the poisoned table does reach what reads it: Boolean thinning now breaks the object
    assert not np.array_equal(boolean, skeletonize(mask, "boolean"))


@pytest.mark.skipif(not _SHIPPED_2D.is_file(), reason="2D subfield weights not shipped")
def test_the_shipped_2d_subfield_network_deletes_no_non_simple_window_of_the_whole_table():
    r = window_table_errors(load_network(_SHIPPED_2D, 2))
    assert r["windows"] == 249
    assert r["false_delete"] == 0


@pytest.mark.skipif(not _SHIPPED_3D.is_file(), reason="3D weights not shipped")
def test_the_shipped_3d_network_keeps_the_topology_without_the_guard():
    torus = np.zeros((24, 24, 24), bool)
    z, y, x = np.mgrid[:24, :24, :24]
    torus[np.sqrt((np.hypot(y - 12, x - 12) - 7) ** 2 + (z - 12) ** 2) < 3] = True
    for m in (shell(15, 6, 2), torus):
        sk = skeletonize(m, "skelite", device="cpu", guard=False) > 0
        assert betti_numbers(sk) == betti_numbers(m)


@pytest.mark.parametrize("ndim", [2, 3])
def test_the_soft_loop_gives_the_hard_loops_skeleton_and_gradients(ndim):
    path = default_weights_path(ndim, "subfield")
    if not path.is_file():
        pytest.skip("weights not shipped")
    net = load_network(path, ndim)
    mask = ring((25, 23), 8, 4) if ndim == 2 else shell(13, 5, 2)
    x = torch.as_tensor(mask, dtype=torch.float32)[None, None].clone().requires_grad_(True)
    soft = soft_subfield_skeleton(net, x)
    hard = subfield_thin(net, torch.as_tensor(mask))
    assert torch.equal(soft[0, 0].detach() > 0.5, hard)
    soft.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.skipif(not default_weights_path(3, "paper").is_file(), reason="paper 3D weights not shipped")
def test_the_paper_variant_stays_selectable_in_3d():
    from napari_skelite.methods.skelite import variant_of

    assert variant_of(3) == "subfield"
    assert variant_of(3, variant="paper") == "paper"
    mask = shell(13, 5, 2)
    a = skeletonize(mask, "skelite", device="cpu", variant="paper")
    b = skeletonize(mask, "skelite", device="cpu", weights=default_weights_path(3, "paper"))
    assert np.array_equal(a, b)


def test_runs_in_several_threads_share_one_decision_table_and_agree():
    from concurrent.futures import ThreadPoolExecutor

    torch.manual_seed(5)
    net = SubfieldNet(3, width=16).eval()
    masks = [torch.as_tensor(shell(13 + i % 3, 5, 2)) for i in range(8)]
    alone = [subfield_thin(_fresh_copy(net), m) for m in masks]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda m: subfield_thin(net, m), masks))
    assert all(torch.equal(a, b) for a, b in zip(alone, together))


def _fresh_copy(net):
    copy = SubfieldNet.from_state_dict(net.ndim, net.state_dict())
    copy.load_state_dict(net.state_dict())
    return copy.eval()
