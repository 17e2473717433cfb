"""A competing busy process on one core, as a user's machine has (napari's own threads, a browser, a second job)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

__all__ = ["BusyCore"]

_SPIN = "import time\nwhile True:\n    time.perf_counter()\n"


class BusyCore:
    """Context manager: one Python process spinning on one core while the block runs.

    ``core``: pin the process to this CPU (Linux ``sched_setaffinity``) so it
    competes for a known core; default the last one. ``enabled=False`` does nothing.
    """

    def __init__(self, enabled: bool = True, core: int | None = None):
        self.enabled = enabled
        self.core = core
        self.proc = None

    def __enter__(self):
        if not self.enabled:
            return self
        self.proc = subprocess.Popen([sys.executable, "-c", _SPIN])
        if hasattr(os, "sched_setaffinity"):
            cores = sorted(os.sched_getaffinity(0))
            os.sched_setaffinity(self.proc.pid, {cores[-1] if self.core is None else self.core})
        time.sleep(0.2)  # let it start spinning before the timing begins
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
