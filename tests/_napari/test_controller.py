"""The widget's job without Qt: runs, cancels, messages and table cells."""
import numpy as np
import pytest

from napari_skelite._napari.controller import Cancelled, Controller, RunResult


def _labels():
    m = np.zeros((24, 30), np.uint8)
    m[4:20, 3:27] = 2
    m[9:15, 9:21] = 0
    return m


def test_a_run_returns_the_skeleton_and_its_topology_check():
    c = Controller()
    c.start()
    res = c.run_job(_labels(), {"method": "boolean"})
    assert res.topology == (0, 0) and set(np.unique(res.skeleton)) == {0, 2}
    text, warning = c.run_status(res, "boolean", "cells", {"method": "boolean"})
    assert text.endswith("topology kept") and warning is None


def test_a_run_keeps_its_iterations_when_asked():
    res = Controller().run_job(_labels(), {"method": "boolean", "return_steps": True})
    assert res.steps.shape[1:] == _labels().shape and np.array_equal(res.steps[-1], res.skeleton)


def test_cancel_raises_inside_the_job():
    c = Controller()
    c.start()
    c.cancel()
    with pytest.raises(Cancelled):
        c.run_job(_labels(), {"method": "boolean"})
    assert c.error_message(Cancelled()) == "cancelled; nothing was added"


def test_the_guard_reaches_only_the_methods_that_take_it():
    assert Controller.method_options("boolean", {"method": "boolean", "guard": True}) == {}
    assert Controller.method_options("skelite", {"method": "skelite", "guard": False}) == {"guard": False}


def test_a_topology_change_by_a_method_without_a_guarantee_is_a_warning():
    c = Controller()
    c.start()
    res = RunResult(_labels(), None, (1, 0))
    _, warning = c.run_status(res, "morphological", "cells", {"method": "morphological"})
    assert "changed its topology" in warning and "guard" not in warning
    _, warning = c.run_status(res, "skelite", "cells", {"method": "skelite", "guard": False})
    assert "Tick the topology guard" in warning


def test_an_empty_skeleton_says_so():
    text, _ = Controller().run_status(RunResult(np.zeros((4, 4), np.uint8), None, (0, 0)), "boolean", "x", {})
    assert text == "empty input: empty skeleton"


def test_compare_rows_and_cells_mark_what_not_to_trust():
    c = Controller()
    out = c.compare_job(_labels(), ["morphological", "boolean"], {"guard": True})
    assert [r["method"] for r in out.rows] == ["morphological", "boolean"]
    cells = c.table_cells(out.rows + [{"method": "skelite", "error": "weights missing"}])
    assert cells[1][1].text == "0" and not cells[1][1].bad
    assert any(cell.bad for cell in cells[0])  # the soft skeleton is neither thin nor exact
    assert cells[2][0].text == "skelite (unavailable)" and cells[2][1].tooltip == "weights missing"
    assert c.table_csv().splitlines()[0].startswith("method,")


def test_progress_moves_inside_one_thick_object_and_ends_at_the_whole_work():
    import numpy as np

    from napari_skelite._napari.controller import Controller

    c = Controller()
    c.start()
    seen = []
    m = np.zeros((30, 30), np.uint8)
    m[3:27, 3:27] = 1  # one thick object: many iterations, one object
    c.run_job(m, {"method": "boolean"}, emit=lambda done, total: seen.append((done, total)))
    dones = [d for d, _ in seen]
    assert len(set(dones)) >= 5 and dones == sorted(dones)
    assert seen[-1] == (int(m.sum()), int(m.sum()))
