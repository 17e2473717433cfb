"""Background jobs without Qt: work in a thread, its results delivered on the owner's thread.

A :class:`Runner` starts each job in a (non-daemon) thread. What the job
reports — progress, its result or its error, and that it finished — is handed
to ``post``, which calls it on the thread that owns the viewer: the Qt widget
posts through a queued signal, tests and scripts pump :meth:`Runner.process`.
Non-daemon threads are joined by Python before it tears down torch and numba,
so a job still running at exit ends cleanly instead of aborting the process.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Cancelled", "Job", "Runner"]


class Cancelled(Exception):
    """Raised inside a job once its :meth:`Job.cancel` was called."""


@dataclass
class Job:
    """One background job: its label, cancel flag and thread.

    Attributes
    ----------
    label : str
        What the job does, for the status line.
    kind : str
        ``"run"``, ``"compare"``, ``"graph"``, ``"prune"`` or ``"save"``.
    source : str or None
        The stable id of the input layer the job works on.
    """

    label: str
    kind: str = "run"
    source: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.perf_counter)
    thread: threading.Thread | None = None
    done: bool = False

    def cancel(self) -> None:
        self.cancelled.set()

    def check(self, *_) -> None:
        """Raise :class:`Cancelled` once :meth:`cancel` was called (engines call it every iteration)."""
        if self.cancelled.is_set():
            raise Cancelled()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


class Runner:
    """Start jobs in threads; deliver their callbacks through ``post``.

    Parameters
    ----------
    post : callable, optional
        ``post(fn)`` must call ``fn()`` soon on the owner's thread. Without
        it, callbacks queue until :meth:`process` (or :meth:`wait`) runs them.
    later : callable, optional
        ``later(fn)``, called on the owner's thread, must call ``fn()`` there
        after what is already waiting (Qt: its timers and redraws); by
        default ``post``.
    """

    def __init__(self, post: Callable[[Callable[[], None]], None] | None = None,
                 later: Callable[[Callable[[], None]], None] | None = None):
        self._queue: queue.Queue = queue.Queue()
        self._post = post or self._queue.put
        self._later = later or self._post
        self.jobs: list[Job] = []

    def post(self, fn: Callable[[], None]) -> None:
        """Have ``fn()`` called on the owner's thread (from any thread)."""
        self._post(fn)

    def later(self, fn: Callable[[], None]) -> None:
        """On the owner's thread: have ``fn()`` called in a later turn of its event loop."""
        self._later(fn)

    def start(self, job: Job, work: Callable, *, done: Callable, failed: Callable, finished: Callable,
              progress: Callable | None = None) -> Job:
        """Run ``work(job, report)`` in a thread; ``report(done, total)`` forwards progress.

        ``done(result)`` or ``failed(error)``, then ``finished()``, are posted
        to the owner's thread.
        """
        post = self._post

        def report(n, total):
            job.check()
            if progress is not None:
                post(lambda: progress(n, total))

        def target():
            try:
                out = work(job, report)
            except BaseException as e:
                post(lambda err=e: failed(err))
            else:
                post(lambda: done(out))
            finally:
                job.done = True
                post(finished)

        job.thread = threading.Thread(target=target, name=f"napari-skelite {job.kind}", daemon=False)
        self.jobs = [j for j in self.jobs if not j.done] + [job]
        job.thread.start()
        return job

    def process(self, timeout: float = 0.0) -> int:
        """Run the callbacks posted so far (waiting up to ``timeout`` s for the first); returns how many ran."""
        n = 0
        try:
            fn = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            while True:
                fn()
                n += 1
                fn = self._queue.get_nowait()
        except queue.Empty:
            return n

    def wait(self, until: Callable[[], bool], timeout: float = 60.0) -> None:
        """Process callbacks until ``until()`` holds; TimeoutError after ``timeout`` s."""
        end = time.monotonic() + timeout
        while not until():
            if time.monotonic() > end:
                raise TimeoutError("the job did not finish in time")
            self.process(0.02)

    def cancel_all(self) -> None:
        for job in self.jobs:
            job.cancel()

    def join(self, timeout: float = 10.0) -> bool:
        """Wait up to ``timeout`` s for every job thread; True when all ended."""
        end = time.monotonic() + timeout
        for job in self.jobs:
            if job.thread is not None:
                job.thread.join(max(0.0, end - time.monotonic()))
        return not any(j.thread is not None and j.thread.is_alive() for j in self.jobs)
