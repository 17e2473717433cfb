import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from napari_skelite import available_methods, skeletonize


@pytest.fixture
def kw(random_weights):
    """Per-method extra arguments: seeded random weights for Skelite."""
    def make(method, ndim):
        return {"weights": random_weights[ndim]} if method == "skelite" else {}
    return make


def _labels_2d():
    m = np.zeros((24, 30), np.uint16)
    m[2:10, 2:26] = 5
    m[10:20, 4:12] = 7  # touches label 5
    m[12:22, 15:28] = 900
    return m


@pytest.mark.parametrize("method", available_methods())
@pytest.mark.parametrize("ndim", [2, 3])
def test_skeleton_is_a_subset_of_the_mask_with_the_same_ids(method, ndim, kw):
    m = _labels_2d() if ndim == 2 else np.stack([_labels_2d()[:, :16]] * 8)
    s = skeletonize(m, method, device="cpu", **kw(method, ndim))
    assert s.shape == m.shape
    assert np.all((s == 0) | (s == m))
    assert set(np.unique(s)) - {0} <= set(np.unique(m)) - {0}


@pytest.mark.parametrize("method", available_methods())
def test_empty_mask_gives_an_empty_skeleton(method, kw):
    s = skeletonize(np.zeros((8, 9), np.uint8), method, **kw(method, 2))
    assert s.shape == (8, 9) and not s.any()


@pytest.mark.parametrize("method", available_methods())
@pytest.mark.parametrize("ndim", [2, 3])
def test_single_pixel_object_keeps_its_pixel(method, ndim, kw):
    m = np.zeros((5,) * ndim, np.uint8)
    m[(2,) * ndim] = 4
    assert np.array_equal(skeletonize(m, method, **kw(method, ndim)), m)


@pytest.mark.parametrize("method", available_methods())
def test_read_only_input_is_not_modified(method, kw):
    m = _labels_2d()
    before = m.copy()
    m.setflags(write=False)
    skeletonize(m, method, **kw(method, 2))
    assert np.array_equal(m, before)


@pytest.mark.parametrize("method", available_methods())
def test_return_steps_starts_with_the_input_and_ends_with_the_skeleton(method, kw):
    m = _labels_2d()
    s, steps = skeletonize(m, method, return_steps=True, **kw(method, 2))
    assert steps.shape[1:] == m.shape and steps.shape[0] >= 2
    assert np.array_equal(steps[0], m)
    assert np.array_equal(steps[-1], s)


def test_bool_input_gives_uint8_and_signed_input_gives_unsigned():
    m = np.zeros((9, 9), bool)
    m[2:7, 2:7] = True
    assert skeletonize(m, "boolean").dtype == np.uint8
    assert skeletonize(m.astype(np.int32) * 3, "boolean").dtype == np.uint32


def test_huge_uint64_ids_are_kept():
    m = np.zeros((9, 9), np.uint64)
    m[2:7, 2:7] = np.iinfo(np.uint64).max
    assert np.unique(skeletonize(m, "boolean")).tolist() == [0, np.iinfo(np.uint64).max]


def test_integral_floats_are_accepted():
    m = np.zeros((9, 9), np.float32)
    m[2:7, 2:7] = 2.0
    assert set(np.unique(skeletonize(m, "classic"))) == {0, 2}


def test_touching_labels_are_thinned_apart():
    m = np.zeros((10, 20), np.uint8)
    m[2:8, 2:10] = 1
    m[2:8, 10:18] = 2
    s = skeletonize(m, "boolean")
    assert set(np.unique(s)) == {0, 1, 2}


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.zeros(5), ValueError, "2D or 3D"),
        (np.zeros((2, 3, 4, 5)), ValueError, "2D or 3D"),
        (np.full((4, 4), 0.5), ValueError, "non-integral"),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), ValueError, "NaN"),
        (np.array([[np.inf, 1.0], [0.0, 1.0]]), ValueError, "NaN or inf"),
        (np.array([[-1, 1], [0, 1]]), ValueError, "negative"),
        (np.zeros((4, 4), complex), TypeError, "complex"),
        (np.zeros((4, 4), object), TypeError, "object"),
    ],
)
def test_bad_input_gives_a_clear_error(bad, exc, match):
    with pytest.raises(exc, match=match):
        skeletonize(bad, "boolean")


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="boolean"):
        skeletonize(np.zeros((4, 4)), "zhang-suen")


@pytest.mark.parametrize("it", [0, -2, 1.5, True])
def test_bad_iterations_are_refused(it):
    with pytest.raises(ValueError, match="iterations"):
        skeletonize(np.zeros((4, 4), np.uint8), "boolean", iterations=it)


def test_missing_weights_name_the_file(tmp_path):
    m = np.zeros((6, 6), np.uint8)
    m[2:4, 2:4] = 1
    with pytest.raises(FileNotFoundError, match=r"nothere\.pt"):
        skeletonize(m, "skelite", weights=tmp_path / "nothere.pt")


def test_corrupt_weights_are_refused(tmp_path):
    p = tmp_path / "bad.pt"
    p.write_bytes(b"not a checkpoint")
    m = np.zeros((6, 6), np.uint8)
    m[2:4, 2:4] = 1
    with pytest.raises(ValueError, match="corrupt"):
        skeletonize(m, "skelite", weights=p)


def test_weights_of_the_wrong_dimensionality_are_refused(random_weights):
    m = np.zeros((6, 6, 6), np.uint8)
    m[2:4, 2:4, 2:4] = 1
    with pytest.raises(ValueError, match="2D weights"):
        skeletonize(m, "skelite", weights=random_weights[2])


def test_truncated_weights_are_refused(random_weights, tmp_path):
    p = tmp_path / "trunc.pt"
    p.write_bytes(random_weights[2].read_bytes()[:500])
    with pytest.raises(ValueError, match="corrupt"):
        skeletonize(np.ones((4, 4), np.uint8), "skelite", weights=p)


def test_callback_reports_work_in_object_points_and_ticks_per_iteration():
    calls = []
    m = _labels_2d()
    skeletonize(m, "boolean", callback=lambda d, t: calls.append((d, t)))
    points = int((m > 0).sum())
    assert calls[-1] == (points, points)  # small objects are thinned together, so they finish together
    assert (0, points) in calls  # ticks while the first object is thinned
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_progress_of_one_big_object_follows_its_expected_iterations():
    m = np.zeros((44, 44), np.uint8)
    m[2:42, 2:42] = 1  # depth 20: about 20 Boolean iterations
    calls = []
    skeletonize(m, "boolean", callback=lambda d, t: calls.append(d))
    total = int(m.sum())
    inside = [d for d in calls if d < total]
    assert len(inside) >= 10 and inside[len(inside) // 2] > total // 4  # halfway through, well under way
    assert max(inside) < total and calls[-1] == total


class _Stop(Exception):
    pass


@pytest.mark.parametrize("method", ["skelite", "boolean", "morphological"])
def test_raising_in_the_callback_stops_a_single_big_object_at_once(method, kw):
    m = np.ones((40, 40), np.uint8)
    calls = []

    def cb(done, total):
        calls.append(done)
        raise _Stop

    with pytest.raises(_Stop):
        skeletonize(m, method, callback=cb, **kw(method, 2))
    assert calls == [0]


labels2d = arrays(np.uint8, st.tuples(st.integers(2, 12), st.integers(2, 12)), elements=st.integers(0, 3))


@settings(max_examples=25, deadline=None)
@given(labels2d, st.sampled_from(["boolean", "morphological", "classic"]))
def test_any_label_layout_gives_a_subset_with_the_same_ids(m, method):
    s = skeletonize(m, method)
    assert s.shape == m.shape and np.all((s == 0) | (s == m))


@settings(max_examples=25, deadline=None)
@given(arrays(bool, st.tuples(st.integers(3, 16), st.integers(3, 16)), elements=st.booleans()))
def test_boolean_on_object_crops_equals_boolean_on_the_whole_image(m):
    import torch

    from napari_skelite.topology.thinning import thin

    whole = thin(torch.as_tensor(m)).numpy()
    assert np.array_equal(skeletonize(m, "boolean") > 0, whole)


@pytest.mark.parametrize("method", available_methods())
def test_all_foreground_mask_gives_a_valid_nonempty_skeleton(method, kw):
    m = np.ones((12, 15), np.uint8)
    s = skeletonize(m, method, **kw(method, 2))
    assert s.any() and np.all((s == 0) | (s == m))


@pytest.mark.parametrize("method", available_methods())
def test_objects_touching_the_border_are_thinned(method, kw):
    m = np.zeros((12, 20), np.uint8)
    m[:, 0:6] = 1  # touches three borders
    s = skeletonize(m, method, **kw(method, 2))
    assert (s > 0).any() and np.all((s == 0) | (s == m))
    if method != "skelite":  # untrained test weights need not delete anything
        assert (s > 0).sum() < m.sum()


def test_non_contiguous_input_gives_the_same_result_as_a_contiguous_copy():
    m = np.zeros((30, 40), np.uint8)
    m[4:20, 5:35] = 2
    view = np.asfortranarray(m)[:, ::1]
    strided = np.repeat(m, 2, axis=1)[:, ::2]
    assert not strided.flags.c_contiguous
    assert np.array_equal(skeletonize(strided, "boolean"), skeletonize(m, "boolean"))
    assert np.array_equal(skeletonize(view, "boolean"), skeletonize(m, "boolean"))


def test_dask_arrays_are_accepted_and_give_the_in_memory_skeleton_when_computed():
    da = pytest.importorskip("dask.array")
    m = np.zeros((30, 40), np.uint8)
    m[4:20, 5:35] = 2
    assert np.array_equal(skeletonize(da.from_array(m, chunks=10), "boolean").compute(), skeletonize(m, "boolean"))


def test_too_big_for_memory_is_refused_before_any_work_with_the_estimate(monkeypatch):
    monkeypatch.setattr("napari_skelite._validate.available_memory", lambda: 10_000)
    m = np.ones((64, 64), np.uint8)
    with pytest.raises(MemoryError, match=r"GiB.*available"):
        skeletonize(m, "skelite")


def _save_raw(path, obj):
    import torch

    torch.save(obj, path)
    return path


def test_weights_from_a_newer_format_are_refused(tmp_path, random_weights):
    import torch

    ck = torch.load(random_weights[2], weights_only=True)
    ck["format_version"] = 99
    p = _save_raw(tmp_path / "new.pt", ck)
    with pytest.raises(ValueError, match="upgrade napari-skelite"):
        skeletonize(np.ones((4, 4), np.uint8), "skelite", weights=p)


def test_weights_of_another_architecture_are_refused(tmp_path, random_weights):
    import torch

    ck = torch.load(random_weights[2], weights_only=True)
    ck["state_dict"] = {k: v[..., :1] for k, v in ck["state_dict"].items()}
    p = _save_raw(tmp_path / "arch.pt", ck)
    with pytest.raises(ValueError, match="does not match"):
        skeletonize(np.ones((4, 4), np.uint8), "skelite", weights=p)


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/napari_skelite_pwned",))


def test_loading_weights_never_executes_code_from_the_file(tmp_path):
    import os

    p = _save_raw(tmp_path / "evil.pt", {"format": "napari-skelite-weights", "x": _Evil()})
    with pytest.raises(ValueError, match="corrupt or not a weights file"):
        skeletonize(np.ones((4, 4), np.uint8), "skelite", weights=p)
    assert not os.path.exists("/tmp/napari_skelite_pwned")


def test_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="bfloat16"):
        skeletonize(np.ones((4, 4), np.uint8), precision="float8")


def test_bfloat16_gives_a_skeleton_close_to_float32():
    from napari_skelite.synthetic import bezier_tree

    mask = bezier_tree((96, 96), 6, (1.0, 5.0), seed=4)
    a = skeletonize(mask, "skelite") > 0
    b = skeletonize(mask, "skelite", precision="bfloat16") > 0
    assert (a != b).sum() <= 0.02 * a.sum()


@st.composite
def _many_small_objects(draw):
    ndim = draw(st.sampled_from([2, 3]))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    shape = (60, 70) if ndim == 2 else (20, 24, 28)
    lab = np.zeros(shape, np.uint16)
    for k in range(1, draw(st.integers(2, 12)) + 1):
        lo = rng.integers(0, np.array(shape) - 3)
        hi = np.minimum(lo + rng.integers(1, 9, ndim), shape)
        lab[tuple(slice(a, b) for a, b in zip(lo, hi))] = k  # later boxes overlap earlier ones
    return lab


@pytest.mark.parametrize("method", ["skelite", "boolean", "morphological", "classic"])
@settings(max_examples=8, deadline=None)
@given(lab=_many_small_objects())
def test_packing_small_objects_together_gives_the_one_by_one_result(method, lab):
    import napari_skelite.engine as engine

    packed = skeletonize(lab, method)
    side = dict(engine._PACK_SIDE)
    try:
        engine._PACK_SIDE.update({2: 0, 3: 0})  # every object alone
        alone = skeletonize(lab, method)
    finally:
        engine._PACK_SIDE.update(side)
    assert np.array_equal(packed, alone)
