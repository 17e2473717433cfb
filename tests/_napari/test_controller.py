"""The computations behind the widget, without Qt or a viewer: runs, cancels, messages and table cells."""
import numpy as np
import pytest

from napari_skelite._napari import controller as C
from napari_skelite._napari.jobs import Cancelled, Job


def _labels():
    m = np.zeros((24, 30), np.uint8)
    m[4:20, 3:27] = 2
    m[9:15, 9:21] = 0
    return m


def test_a_run_returns_the_skeleton_its_ids_and_its_topology_check():
    res = C.run_job(_labels(), {"method": "boolean"})
    assert res.topology == (0, 0) and set(np.unique(res.skeleton)) == {0, 2} and res.ids == [2]
    text, warning = C.run_status(res, "boolean", "cells", {"method": "boolean"}, 0.1)
    assert text.endswith("topology kept") and warning is None


def test_a_run_keeps_its_iterations_when_asked():
    res = C.run_job(_labels(), {"method": "boolean", "return_steps": True})
    assert res.steps.shape[1:] == _labels().shape and np.array_equal(res.steps[-1], res.skeleton)


def test_a_cancelled_job_raises_inside_the_run():
    job = Job("x")
    job.cancel()
    with pytest.raises(Cancelled):
        C.run_job(_labels(), {"method": "boolean"}, job.check)
    assert C.error_message(Cancelled()) == "cancelled; nothing was added"


def test_the_guard_reaches_only_the_methods_that_take_it():
    assert C.method_options("boolean", {"method": "boolean", "guard": True}) == {}
    assert C.method_options("skelite", {"method": "skelite", "guard": False}) == {"guard": False}


def test_a_topology_change_by_a_method_without_a_guarantee_is_a_warning():
    res = C.RunResult(_labels(), None, (1, 0))
    _, warning = C.run_status(res, "morphological", "cells", {"method": "morphological"}, 0.1)
    assert "changed cells's topology" in warning and "guard" not in warning and "choose boolean" in warning
    _, warning = C.run_status(res, "skelite", "cells", {"method": "skelite", "guard": False}, 0.1)
    assert "tick 'guard' to keep it exactly" in warning


def test_an_empty_skeleton_says_so():
    text, _ = C.run_status(C.RunResult(np.zeros((4, 4), np.uint8), None, (0, 0)), "boolean", "x", {}, 0.1)
    assert text == "empty input: empty skeleton"


def test_compare_rows_and_cells_mark_what_not_to_trust():
    out = C.compare_job(_labels(), ["morphological", "boolean"], {"guard": True})
    assert [r["method"] for r in out.rows] == ["morphological", "boolean"]
    cells = C.table_cells(out.rows + [{"method": "skelite", "error": "weights missing"}])
    assert cells[1][1].text == "0" and not cells[1][1].bad
    assert any(cell.bad for cell in cells[0])  # the soft skeleton is neither thin nor exact
    assert cells[2][0].text == "skelite (unavailable)" and cells[2][1].tooltip == "weights missing"
    assert C.table_csv(out.rows).splitlines()[0].startswith("method,")


def test_progress_moves_inside_one_thick_object_and_ends_at_the_whole_work():
    seen = []
    m = np.zeros((30, 30), np.uint8)
    m[3:27, 3:27] = 1  # one thick object: many iterations, one object
    C.run_job(m, {"method": "boolean"}, lambda done, total: seen.append((done, total)))
    dones = [d for d, _ in seen]
    assert len(set(dones)) >= 5 and dones == sorted(dones)
    assert seen[-1] == (int(m.sum()), int(m.sum()))


def test_an_rgb_or_4d_layer_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match="RGB"):
        C.prepare_input(np.zeros((4, 4, 3)), name="photo", image=True, rgb=True, threshold=0.5)
    with pytest.raises(ValueError, match="take one channel"):
        C.prepare_input(np.zeros((2, 2, 4, 4)), name="movie")


def test_the_graph_legend_gives_the_range_of_a_feature_or_its_categories():
    from napari_skelite._napari.layers import graph_legend

    feats = {"length": np.array([2.0, 7.5, 4.0]), "branch_type": np.array(["end-end", "cycle", "end-end"])}
    leg = graph_legend("length", feats)
    assert (leg["low"], leg["high"], leg["colormap"]) == (2.0, 7.5, "plasma") and "2 (dark) to 7.5 (bright)" in leg["text"]
    leg = graph_legend("branch_type", feats)
    assert [n for n, _ in leg["items"]] == ["cycle", "end-end"] and leg["colormap"] is None
