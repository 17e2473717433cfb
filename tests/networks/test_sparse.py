import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import napari_skelite.networks.sparse as sparse_mod
from napari_skelite.networks.network import Skelite
from napari_skelite.networks.sparse import sparse_iterate


def _model_and_input(mask, ndim, seed):
    """A randomly initialised (seeded) network and ``mask`` as its (1, 1, ...) float input."""
    torch.manual_seed(seed)
    return Skelite(ndim).eval(), torch.as_tensor(mask, dtype=torch.float32)[None, None]


def _compare(mask, ndim, seed=0, dense_fraction=float("inf")):
    """Sparse loop against the dense one; by default the gathered path on every iteration."""
    model, x = _model_and_input(mask, ndim, seed)
    with torch.no_grad():
        dense = list(model.iterate(x))
    saved = sparse_mod.DENSE_FRACTION
    sparse_mod.DENSE_FRACTION = dense_fraction
    try:
        sparse = [v.clone() for v in sparse_iterate(model, x)]
    finally:
        sparse_mod.DENSE_FRACTION = saved
    assert len(dense) == len(sparse)
    for a, b in zip(dense, sparse):
        assert torch.allclose(a, b, atol=1e-5)
        assert torch.equal(a > 0.5, b > 0.5)


@settings(max_examples=30, deadline=None)
@given(arrays(bool, st.tuples(st.integers(3, 20), st.integers(3, 20)), elements=st.booleans()), st.integers(0, 5))
def test_sparse_inference_equals_the_dense_loop_in_2d(mask, seed):
    _compare(mask, 2, seed)


@settings(max_examples=15, deadline=None)
@given(arrays(bool, st.tuples(st.integers(3, 9), st.integers(3, 9), st.integers(3, 9)), elements=st.booleans()))
def test_sparse_inference_equals_the_dense_loop_in_3d(mask):
    _compare(mask, 3)


@settings(max_examples=10, deadline=None)
@given(arrays(bool, st.tuples(st.integers(3, 9), st.integers(3, 9), st.integers(3, 9)), elements=st.booleans()),
       st.sampled_from([0.0, 0.3, 0.6]))
def test_switching_to_a_dense_pass_for_crowded_bands_gives_the_same_states(mask, fraction):
    _compare(mask, 3, dense_fraction=fraction)


def test_sparse_inference_on_a_thick_object_with_a_fixed_iteration_count_stops_with_the_dense_loop():
    m = np.zeros((30, 30), bool)
    m[2:28, 3:27] = True
    model, x = _model_and_input(m, 2, 3)
    with torch.no_grad():
        d = list(model.iterate(x, 9))
    s = [v.clone() for v in sparse_iterate(model, x, 9)]
    # 9 iterations are asked; both loops stop when no band is left (13 rows deep: 7 iterations at most)
    assert len(d) == len(s) < 9 and torch.allclose(d[-1], s[-1], atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(arrays(bool, st.tuples(st.integers(3, 18), st.integers(3, 18)), elements=st.booleans()), st.integers(0, 3))
def test_the_sparse_guard_equals_the_guard_applied_after_each_dense_step(mask, seed):
    from napari_skelite.networks import guarded

    model, x = _model_and_input(mask, 2, seed)
    with torch.no_grad():
        dense = list(model.iterate(x, None, guarded))
    sparse = [v.clone() for v in sparse_iterate(model, x, guard=True)]
    assert len(dense) == len(sparse)
    for a, b in zip(dense, sparse):
        assert torch.equal(a > 0.5, b > 0.5)


def test_the_yielded_state_is_the_state_after_that_iteration():
    m = np.zeros((20, 20), bool)
    m[3:17, 4:16] = True
    model, x = _model_and_input(m, 2, 1)
    with torch.no_grad():
        first_dense = next(iter(model.iterate(x)))
    first_sparse = next(iter(sparse_iterate(model, x))).clone()
    assert torch.allclose(first_dense, first_sparse, atol=1e-5)


def test_a_layer_evaluated_by_offset_equals_its_gathered_rows_times_the_weights():
    g = torch.Generator().manual_seed(0)
    table = torch.relu(torch.randn(40, 32, generator=g))
    codes = torch.randint(0, 40, (300, 9), generator=g)
    layer = (torch.randn(9 * 32, 64, generator=g), torch.randn(64, generator=g))
    gathered = sparse_mod._conv_rows(table.index_select(0, codes.reshape(-1)).view(300, 9, 32), layer)
    products = sparse_mod._offset_products(table, layer, 9)
    assert torch.allclose(sparse_mod._by_offset(products, codes, layer[1]), gathered, atol=1e-4)


def test_sparse_inference_by_offset_equals_the_dense_loop(monkeypatch):
    monkeypatch.setattr(sparse_mod, "_by_offset_pays", lambda *args: True)  # every layer 2 and 3
    rng = np.random.default_rng(1)
    _compare(rng.random((24, 30)) < 0.6, 2)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 4))
def test_equal_channel_codes_mean_equal_channel_values(seed, k):
    g = torch.Generator().manual_seed(seed)
    depth = torch.randint(0, 10, (200,), generator=g, dtype=torch.int32)
    s = torch.tensor([0.0, 0.25, 1.0, 1.0 - torch.sigmoid(torch.tensor(0.3)).item()])[torch.randint(0, 4, (200,), generator=g)]
    channels = sparse_mod._Channels(depth, s, k, int(depth.max()))
    where = torch.arange(200)
    codes, values = channels.codes(where), channels.at(where)
    same_code = codes[:, None] == codes[None, :]
    same_value = (values[:, None, :] == values[None, :, :]).all(-1)
    assert torch.equal(same_code, same_value)


def test_row_hash_without_a_matrix_vector_product_equals_the_cpu_one():
    # CUDA has no integer matrix-vector product: the sum used there must give the same hashes
    from napari_skelite.networks.sparse import _row_hash

    codes = torch.randint(0, 256, (500, 27), generator=torch.Generator().manual_seed(0)).to(torch.uint8)
    assert torch.equal(_row_hash(codes, matvec=True), _row_hash(codes, matvec=False))
