"""Random shapes, dtypes and label layouts: a valid skeleton or a documented error, nothing else."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from napari_skelite import available_methods, skeletonize

DTYPES = [np.bool_, np.uint8, np.uint16, np.int16, np.int32, np.int64, np.uint64, np.float32, np.float64, np.complex64]


@st.composite
def label_arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=9).filter(lambda s: np.prod(s) <= 400))
    if dtype.kind == "b":
        elements = st.booleans()
    elif dtype.kind == "c":
        elements = st.complex_numbers(max_magnitude=3, allow_nan=False, width=64)
    elif dtype.kind == "f":
        elements = st.one_of(st.integers(0, 4).map(float), st.floats(-2, 5, width=32), st.just(float("nan")),
                             st.just(float("inf")))
    elif dtype.kind == "u":
        elements = st.one_of(st.integers(0, 4), st.just(int(np.iinfo(dtype).max)))
    else:
        elements = st.integers(-1, 4)
    return draw(arrays(dtype, shape, elements=elements))


def _expected_error(m: np.ndarray):
    """The documented error ``skeletonize`` must raise for ``m`` (type, message pattern), or None when valid."""
    if m.dtype.kind == "c":
        return TypeError, "boolean or integer label array"
    if m.ndim not in (2, 3):
        return ValueError, "must be 2D or 3D"
    if m.dtype.kind == "f" and not np.isfinite(m).all():
        return ValueError, "NaN or inf"
    if m.dtype.kind == "f" and (m != np.round(m)).any():
        return ValueError, "non-integral floats"
    if m.dtype.kind in "if" and (m < 0).any():
        return ValueError, "negative label ids"
    return None


@pytest.mark.parametrize("method", available_methods())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(m=label_arrays())
def test_skeletonize_returns_a_valid_skeleton_or_the_documented_error(random_weights, method, m):
    kw = {"weights": random_weights.get(m.ndim)} if method == "skelite" and m.ndim in (2, 3) else {}
    before = m.copy()
    expected = _expected_error(m)
    try:
        if expected is not None:
            with pytest.raises(expected[0], match=expected[1]):
                skeletonize(m, method, device="cpu", **kw)
            return
        s = skeletonize(m, method, device="cpu", **kw)
    finally:
        assert np.array_equal(m, before, equal_nan=m.dtype.kind in "fc")
    assert s.shape == m.shape and s.dtype.kind == "u"
    ids = m.astype(np.uint64) if m.dtype != bool else m.astype(np.uint8)
    assert np.all((s == 0) | (s == ids))
    assert set(np.unique(ids[ids > 0])) == set(np.unique(ids[s > 0])) or not ids.any()
