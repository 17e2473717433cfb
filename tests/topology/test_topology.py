import itertools

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.measure import euler_number

from napari_skelite.topology import is_p_simple, is_simple, neighbour_offsets, simple_point_lut


def _cube(code, ndim):
    v = np.zeros((3,) * ndim, bool)
    for p, o in enumerate(neighbour_offsets(ndim)):
        v[tuple(np.array(o) + 1)] = (code >> p) & 1
    v[(1,) * ndim] = True
    return v


def _topology(a):
    a = np.pad(a, 1)
    b0 = ndimage.label(a, np.ones((3,) * a.ndim))[1]
    nbg = ndimage.label(~a)[1]
    return b0, nbg, euler_number(a, connectivity=a.ndim)


def _brute_simple(code, ndim):
    v = _cube(code, ndim)
    w = v.copy()
    w[(1,) * ndim] = False
    return _topology(v) == _topology(w)


def test_2d_table_matches_brute_force_on_all_256_configurations():
    table = simple_point_lut(2).table
    expected = [_brute_simple(c, 2) for c in range(256)]
    assert table.bool().tolist() == expected


@pytest.mark.parametrize("density", [0.2, 0.5, 0.8])
def test_3d_simple_test_matches_brute_force_on_random_configurations(density):
    rng = np.random.default_rng(int(density * 10))
    bits = rng.random((300, 26)) < density
    codes = (bits.astype(np.int64) << np.arange(26)).sum(1)
    got = is_simple(torch.as_tensor(codes), 3).tolist()
    assert got == [_brute_simple(int(c), 3) for c in codes]


def test_lazy_3d_table_gives_the_same_answer_as_the_direct_test(tmp_path):
    from napari_skelite.topology import SimplePointTable

    rng = np.random.default_rng(1)
    codes = torch.as_tensor(rng.integers(0, 1 << 26, 500))
    lut = SimplePointTable(3, cache=tmp_path / "absent.bits", shipped=None)
    assert (lut.table == 2).all()
    assert torch.equal(lut(codes), is_simple(codes, 3))
    assert torch.equal(lut(codes), is_simple(codes, 3))  # second call from the table


def test_the_shipped_3d_table_is_complete_and_agrees_with_the_direct_test(tmp_path):
    from napari_skelite.topology import SimplePointTable
    from napari_skelite.topology.simple import SHIPPED_TABLE

    assert SHIPPED_TABLE.is_file()
    t = SimplePointTable(3, cache=tmp_path / "absent.bits")
    assert (t.table != 2).all()
    rng = np.random.default_rng(7)
    for density in (0.2, 0.5, 0.8):  # random codes of every density, not only the common sparse ones
        codes = torch.as_tensor(((rng.random((20_000, 26)) < density) << np.arange(26)).sum(1))
        assert torch.equal(t.table[codes].bool(), is_simple(codes, 3))
    head = torch.arange(1 << 16)
    assert torch.equal(t.table[head].bool(), is_simple(head, 3))


def test_the_default_3d_table_needs_no_lazy_filling():
    assert (simple_point_lut(3).table != 2).all()


def test_table_first_filled_under_inference_mode_can_be_updated_later():
    from napari_skelite.topology import SimplePointTable

    t = SimplePointTable(3)
    with torch.inference_mode():
        t(torch.tensor([5, 7]))
    assert t(torch.tensor([9, 11, 5])).shape == (3,)


def test_a_cached_full_3d_table_is_loaded_instead_of_filled_lazily(tmp_path):
    from napari_skelite.topology import SimplePointTable
    from napari_skelite.topology.simple import _packed

    head = _packed(0, 1 << 16)
    path = tmp_path / "simple26.bits"
    np.concatenate([head, np.zeros((1 << 23) - head.size, np.uint8)]).tofile(path)
    t = SimplePointTable(3, cache=path)
    assert (t.table != 2).all()  # nothing left to compute
    assert torch.equal(t.table[: 1 << 16].bool(), is_simple(torch.arange(1 << 16), 3))


def test_a_cache_file_of_the_wrong_size_is_ignored(tmp_path):
    from napari_skelite.topology import SimplePointTable

    path = tmp_path / "simple26.bits"
    path.write_bytes(b"\x00" * 100)
    assert (SimplePointTable(3, cache=path, shipped=None).table == 2).all()
    assert (SimplePointTable(3, cache=path).table != 2).all()  # the shipped table instead


def _brute_p_simple(code, p_code, table, ndim):
    """The definition: simple after deleting any subset of the candidate neighbours."""
    bits = [b for b in range(len(neighbour_offsets(ndim))) if (p_code >> b) & 1]
    subsets = [sum(1 << b for b, keep in zip(bits, mask) if keep) for mask in itertools.product((0, 1), repeat=len(bits))]
    return bool(table(torch.as_tensor([code & ~s for s in subsets])).all())


def test_2d_p_simple_test_matches_its_definition_on_every_configuration():
    table = simple_point_lut(2)
    pairs = [(x, p) for x in range(256) for p in range(256) if p & ~x == 0]
    got = is_p_simple(torch.as_tensor([x for x, _ in pairs]), torch.as_tensor([p for _, p in pairs]), 2).tolist()
    assert got == [_brute_p_simple(x, p, table, 2) for x, p in pairs]


def test_3d_p_simple_test_matches_its_definition_on_random_configurations():
    rng = np.random.default_rng(5)
    table = simple_point_lut(3)
    x = (rng.random((400, 26)) < rng.uniform(0.2, 0.9, (400, 1)))
    p = x & (rng.random((400, 26)) < 0.25) & (np.cumsum(x, 1) <= 8)  # at most 8 candidates: 256 subsets
    codes = [(b.astype(np.int64) << np.arange(26)).sum(1) for b in (x, p)]
    got = is_p_simple(torch.as_tensor(codes[0]), torch.as_tensor(codes[1]), 3).tolist()
    assert got == [_brute_p_simple(int(a), int(b), table, 3) for a, b in zip(*codes)]
    assert 0 < sum(got) < len(got)


@pytest.mark.parametrize("ndim,shape", [(2, (9, 11)), (3, (5, 6, 5))])
def test_simple_points_are_exactly_the_points_whose_deletion_keeps_the_topology(ndim, shape):
    from napari_skelite.topology import simple_points

    rng = np.random.default_rng(ndim)
    a = rng.random(shape) < 0.55
    got = simple_points(torch.as_tensor(a)[None, None], ndim)[0, 0].numpy()
    want = np.zeros_like(a)
    for p in zip(*np.nonzero(a)):
        b = a.copy()
        b[p] = False
        want[p] = _topology(a) == _topology(b)
    assert np.array_equal(got, want)
    assert not got[~a].any()
