"""Working memory of block-by-block runs: large arrays go back to the system; id tables without 8-byte copies."""
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from napari_skelite import _validate
from napari_skelite._memory import map_large_allocations
from napari_skelite._validate import compact_ids, count_ids

_RETAINED = textwrap.dedent("""
    import sys
    import numpy as np
    from napari_skelite._memory import map_large_allocations

    def rss_mib():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024

    set_ = map_large_allocations() if sys.argv[1] == "set" else False
    big = np.ones(20 << 20, np.uint8)
    del big  # a freed 20 MiB mapping: glibc would now take arrays up to 20 MiB from its heap
    before = rss_mib()
    arrays = [np.ones(8 << 20, np.uint8) for _ in range(8)]
    last = arrays[-1]
    del arrays  # seven 8 MiB arrays freed below one that stays
    print(set_, round(rss_mib() - before))
""")


def _retained(mode: str) -> tuple[bool, int]:
    out = subprocess.run([sys.executable, "-c", _RETAINED, mode], capture_output=True, text=True, check=True)
    was_set, mib = out.stdout.split()
    return was_set == "True", int(mib)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_freed_large_arrays_go_back_to_the_system(monkeypatch):
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    was_set, kept = _retained("set")
    assert was_set and kept < 24  # the one array alive (8 MiB), not the seven freed ones
    assert _retained("default") == (False, pytest.approx(64, abs=16))  # what it keeps without: all eight


def test_a_threshold_the_environment_sets_is_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert map_large_allocations() is False


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int16, np.uint32, np.uint64])
def test_ids_are_compacted_and_counted_slab_by_slab(monkeypatch, dtype):
    monkeypatch.setattr(_validate, "_SLAB_POINTS", 50)  # many slabs, one of them short
    rng = np.random.default_rng(4)
    values = rng.integers(0, 5, (13, 9, 7))
    arr = values > 2 if dtype is bool else (values * 1000).astype(dtype)
    ids, compact = compact_ids(arr)
    expected_ids = np.unique(arr[arr != 0])
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(compact, np.where(arr != 0, np.searchsorted(expected_ids, arr) + 1, 0))
    assert compact.dtype == np.uint8
    np.testing.assert_array_equal(count_ids(compact, len(ids)), np.bincount(compact.ravel(), minlength=len(ids) + 1))


def test_compacting_ids_copies_no_more_than_a_slab(monkeypatch):
    import tracemalloc

    monkeypatch.setattr(_validate, "_SLAB_POINTS", 2**14)  # 128 KiB copies
    arr = np.zeros((64, 128, 128), np.uint8)  # 1 MiB of ids: a whole-image 8-byte copy would be 8 MiB
    arr[10:50, 20:100, 30:90] = 3
    tracemalloc.start()
    try:
        ids, compact = compact_ids(arr)
        counts = count_ids(compact, len(ids))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ids.tolist() == [3] and counts[1] == 40 * 80 * 60
    assert peak < compact.nbytes + 2**20  # the result and one slab's copy, not 8 bytes a point
