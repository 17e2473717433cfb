"""benchmarks/compare_weights.py: the signed Betti bookkeeping behind the model card's comparisons."""
import numpy as np

from ._benchmark import load_benchmark


def _module():
    return load_benchmark("compare_weights")


def _ring():
    m = np.zeros((12, 12), bool)
    m[2:10, 2:10] = True
    m[5:7, 5:7] = False
    return m


def test_summarize_counts_a_broken_loop_as_one_lost_hole_and_no_new_component():
    mask = _ring()
    skel = np.zeros_like(mask)
    skel[3, 3:9] = skel[8, 3:9] = skel[3:9, 3] = skel[3:9, 8] = True
    skel[3, 5] = False  # the loop is cut once
    r = _module().summarize([skel], [mask], [skel])
    assert (r["b0_gained"], r["b0_lost"], r["b1_gained"], r["b1_lost"]) == (0, 0, 0, 1)
    assert r["b1_error"] == 1 and r["ok"] == 1.0  # one loop of one: within max(1, 10%)


def test_summarize_counts_a_punched_hole_and_a_stray_point():
    mask = np.zeros((12, 12), bool)
    mask[2:10, 2:10] = True
    skel = mask.copy()
    skel[5, 5] = False  # a one-point hole
    skel[11, 11] = True  # a stray point
    r = _module().summarize([skel], [mask], [skel])
    assert (r["b0_gained"], r["b0_lost"], r["b1_gained"], r["b1_lost"]) == (1, 0, 1, 0)
