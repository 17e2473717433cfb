"""Large arrays given back to the system when freed (glibc's malloc), for runs that work block by block.

A chunked run allocates and frees arrays of a padded block's size (tens of
MiB for a 128^3 block with its halo) over and over, on several threads.
glibc's ``malloc`` serves an allocation of at least its *mmap threshold* with
its own memory mapping, which ``free`` unmaps at once; smaller ones come from
a heap, whose freed pages stay with the process while anything above them
is still in use. The threshold starts at 128 KiB, but glibc raises it to the
size of every mapped block that is freed (up to 32 MiB): after the first
freed block-sized array, the next ones come from the heaps, and the process
keeps the pages of freed ones. On a 512^3 OME-Zarr volume (64 blocks of
128^3, two threads) the command line's peak RSS was 1,101 to 1,174 MiB that
way and 844 to 881 MiB with a fixed threshold of 1 MiB, for about 10 s more
system time (page faults of fresh mappings) in runs of 45 to 55 CPU
seconds. :func:`map_large_allocations` fixes the threshold (which also
stops glibc from raising it).
"""
from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["MMAP_THRESHOLD", "map_large_allocations"]

#: allocations from this size up get their own mapping (glibc's default starting value is 128 KiB)
MMAP_THRESHOLD = 1 << 20
#: ``mallopt``'s parameter number of the mmap threshold (glibc's ``M_MMAP_THRESHOLD``)
_M_MMAP_THRESHOLD = -3


def _user_set() -> bool:
    """Whether the environment already sets glibc's mmap threshold (then it is left as the user chose)."""
    return "MALLOC_MMAP_THRESHOLD_" in os.environ or "mmap_threshold" in os.environ.get("GLIBC_TUNABLES", "")


def map_large_allocations(threshold: int = MMAP_THRESHOLD) -> bool:
    """Make ``malloc`` map every allocation of ``threshold`` bytes or more on its own, for the whole process.

    Freed large arrays (numpy's and torch's) then go back to the system at
    once, so the process's resident memory follows the arrays alive, not the
    most it ever held. Each large allocation costs a mapping and fresh
    (zeroed) pages, a small share of the work done on a block.

    Only on Linux with glibc; elsewhere, and when ``MALLOC_MMAP_THRESHOLD_``
    or ``GLIBC_TUNABLES`` already sets it, nothing is changed.

    Parameters
    ----------
    threshold : int
        Bytes (default :data:`MMAP_THRESHOLD`, 1 MiB).

    Returns
    -------
    bool
        True when the threshold was set.
    """
    if not sys.platform.startswith("linux") or _user_set():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - a libc without mallopt
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, int(threshold)))  # musl's mallopt does nothing and returns 0
