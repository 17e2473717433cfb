"""Running, timing and measuring several methods on one input."""
import numpy as np
import pytest

import napari_skelite.compare
from napari_skelite.compare import compare_methods, format_table, run_methods


def test_compare_methods_reports_every_method_and_missing_weights():
    m = np.zeros((20, 20), np.uint8)
    m[4:16, 6:14] = 1
    rows = compare_methods(m, weights="/nonexistent/weights.pt")
    by = {r["method"]: r for r in rows}
    assert set(by) == {"skelite", "boolean", "local", "morphological", "classic"}
    assert "error" in by["skelite"]
    assert by["boolean"]["b0_error"] == 0 and by["boolean"]["cldice_vs_boolean"] == 1.0
    assert "boolean" in format_table(rows)


def _recording_skeletonize(calls):
    def fake(mask, method, **kwargs):
        calls.append((method, np.shape(mask)))
        return np.asarray(mask) > 0
    return fake


@pytest.mark.parametrize("shape", [(20, 20), (12, 14, 10)])
def test_run_methods_times_a_warm_call_after_an_untimed_one_of_the_same_ndim(monkeypatch, shape):
    calls = []
    monkeypatch.setattr(napari_skelite.compare, "skeletonize", _recording_skeletonize(calls))
    m = np.ones(shape, np.uint8)
    out = run_methods(m, ["boolean", "classic"])
    warm = [s for _, s in calls if s != shape]
    assert [meth for meth, _ in calls] == ["boolean", "boolean", "classic", "classic"]
    assert calls[1] == ("boolean", shape) and calls[3] == ("classic", shape)
    assert len(warm) == 2 and all(len(s) == len(shape) for s in warm)
    assert out["boolean"][0].shape == shape


def test_run_methods_without_warmup_runs_each_method_once(monkeypatch):
    calls = []
    monkeypatch.setattr(napari_skelite.compare, "skeletonize", _recording_skeletonize(calls))
    run_methods(np.ones((8, 8), np.uint8), ["boolean"], warmup=False)
    assert calls == [("boolean", (8, 8))]


def test_run_methods_reports_missing_weights_when_the_warmup_fails():
    out = run_methods(np.ones((8, 8), np.uint8), ["skelite"], weights="/nonexistent/weights.pt")
    skel, seconds, error = out["skelite"]
    assert skel is None and seconds is None and "weights" in error


def test_run_methods_computes_a_dask_inputs_skeleton_inside_the_timed_call():
    import dask.array as da

    m = np.zeros((24, 24), np.uint8)
    m[4:20, 8:14] = 1
    lazy = run_methods(da.from_array(m, chunks=12), ["boolean"])["boolean"][0]
    assert isinstance(lazy, np.ndarray)
    assert np.array_equal(lazy, run_methods(m, ["boolean"])["boolean"][0])


def test_each_method_gets_only_the_options_it_takes():
    m = np.zeros((20, 20), np.uint8)
    m[4:16, 6:14] = 1
    out = run_methods(m, ["boolean", "skelite"], guard=False)
    assert all(err is None for _, _, err in out.values())


def test_disagreement_marks_points_only_one_skeleton_has():
    from napari_skelite.compare import disagreement

    a = np.array([[1, 1, 0], [0, 2, 0]])
    b = np.array([[1, 0, 0], [0, 2, 3]])
    assert disagreement(a, b).tolist() == [[0, 1, 0], [0, 0, 2]]
    with pytest.raises(ValueError, match="shape"):
        disagreement(a, b[:1])
