"""Progress bars on stderr for long command-line runs (tqdm), silent where nobody watches.

A bar is drawn only when stderr is a terminal and ``--quiet`` was not given,
so logs and pipes get no control characters. :class:`Bar` takes the
library's ``callback(done, total)`` (thread-safe: chunks finish on several
threads); :class:`DaskTasks` counts the tasks of local dask computations
(the depth pass before a chunked run).
"""
from __future__ import annotations

import sys
import threading

from dask.callbacks import Callback

__all__ = ["Bar", "DaskTasks", "progress_enabled"]


def progress_enabled(quiet: bool = False, stream=None) -> bool:
    """Whether to draw a bar: not ``quiet`` and ``stream`` (default stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not quiet and bool(isatty and isatty())


class Bar:
    """A tqdm bar driven by ``bar(done, total)``; a context manager that closes it.

    Parameters
    ----------
    desc : str
        What is counted (shown before the bar).
    unit : str
        The unit of ``done`` (e.g. ``"block"``, ``"file"``).
    enabled : bool
        False: calls only record the counts (no output).
    leave : bool
        Keep the finished bar on screen.
    stream : file, optional
        Default stderr.
    """

    def __init__(self, desc: str, unit: str = "it", *, enabled: bool = True, leave: bool = True, stream=None):
        from shutil import get_terminal_size

        from tqdm import tqdm

        self.done, self.total = 0, None
        self._lock = threading.Lock()
        size = get_terminal_size((100, 24))  # a terminal that says it has no size (a bare pty) gets 100x24
        self._bar = tqdm(desc=desc, unit=unit, disable=not enabled, leave=leave, file=stream or sys.stderr,
                         ncols=min(size.columns, 120), nrows=size.lines, mininterval=0.5)

    def __call__(self, done: int, total: int | None = None) -> None:
        with self._lock:
            if total is not None and total != self.total:
                self.total = self._bar.total = total
                self._bar.refresh()
            if done > self.done:
                self._bar.update(done - self.done)
                self.done = done

    def write(self, line: str) -> None:
        """Print ``line`` on stderr without breaking the bar."""
        self._bar.write(line, file=sys.stderr)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DaskTasks(Callback):
    """Counts finished tasks of local dask computations into a :class:`Bar` (``done``, ``total`` tasks)."""

    def __init__(self, bar: Bar):
        super().__init__()
        self.bar, self.done, self.total = bar, 0, 0

    def _start_state(self, dsk, state):
        self.total += sum(len(state[k]) for k in ("ready", "waiting", "running", "finished"))
        self.bar(self.done, self.total)

    def _posttask(self, key, result, dsk, state, worker_id):
        self.done += 1
        self.bar(self.done, self.total)
