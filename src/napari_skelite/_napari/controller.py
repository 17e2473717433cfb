"""The dock widget's job, without Qt or napari: options in; skeletons, table cells and messages out.

The widget (:mod:`napari_skelite._napari.widget`) reads its controls into a
plain options dict, calls :meth:`Controller.run_job` / :meth:`Controller.compare_job`
off the GUI thread and turns what they return into layers and text. Everything
here is testable without a display.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from .. import methods
from .._validate import intensity_image_reason, otsu_threshold, threshold_reason
from ..api import skeletonize
from ..chunked import is_dask_array
from ..compare import results_table, run_methods, with_references
from ..metrics import betti_errors, label_betti
from .layers import table_to_csv

__all__ = [
    "TABLE_COLUMNS",
    "USER_ERRORS",
    "Cancelled",
    "Cell",
    "CompareResult",
    "Controller",
    "PreparedInput",
    "RunResult",
    "prepare_input",
]

#: errors that are the user's to fix: shown as their message, without a traceback
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, MemoryError)

TABLE_COLUMNS = [
    ("method", "method", "skeletonization method"),
    ("b0_error", "β0 err", "|components of skeleton - components of input|, summed over labels"),
    ("b1_error", "β1 err", "|loops of skeleton - loops of input|, summed over labels"),
    ("thinness", "2x2", "share of skeleton points inside a full 2x2 (2x2x2) block; 0 = one point thin"),
    ("pixels", "points", "number of skeleton points"),
    ("cldice_vs_boolean", "clDice", "clDice against the Boolean (topology-preserving) skeleton, 1 px tolerance"),
    ("time_s", "s", "run time in seconds of a warm call (loading weights and first-call set-up not counted)"),
]

BAD_TIPS = {
    "b0_error": "the skeleton has more or fewer pieces than the input (broken or lost objects)",
    "b1_error": "the skeleton has more or fewer loops than the input (cut or added loops)",
    "thinness": "more than 1% of the skeleton points are in full 2x2 (2x2x2) blocks: not one point thin",
}


class Cancelled(Exception):
    """Raised inside a job when the user pressed Cancel."""


@dataclass
class RunResult:
    skeleton: np.ndarray
    steps: np.ndarray | None
    topology: tuple[int, int] | None  # (β0, β1) errors; None when not measured (dask input)


@dataclass
class CompareResult:
    results: dict  # method -> (skeleton or None, seconds or None, error or None)
    rows: list[dict]
    betti: tuple[int, int]


@dataclass
class Cell:
    text: str
    tooltip: str = ""
    bad: bool = False


@dataclass
class PreparedInput:
    mask: object  # numpy or dask array of labels (bool for a thresholded image)
    warning: str | None = None  # shown before the run: the input may not be what the user meant


def prepare_input(data, *, name: str, image: bool = False, rgb: bool = False,
                  threshold: float | None = None) -> PreparedInput:
    """The labels a layer's data stands for, with a warning when they look wrong.

    Parameters
    ----------
    data : numpy or dask array
        The layer's full-resolution data (dask stays lazy).
    name : str
        The layer's name, for the messages.
    image, rgb : bool
        An Image layer (thresholded at ``threshold``); an RGB one is refused.

    Raises
    ------
    ValueError
        For RGB, or anything other than 2D or 3D, with what to do.
    """
    if rgb:
        raise ValueError(f"layer {name!r} is RGB; convert it to a single channel first.")
    if data.ndim not in (2, 3):
        raise ValueError(f"layer {name!r} is {data.ndim}D (shape {tuple(data.shape)}); the plugin skeletonizes 2D "
                         "and 3D layers: take one channel or time point first (e.g. a new layer of `data[0]`).")
    lazy = is_dask_array(data)
    if not lazy:
        data = np.asarray(data)
    if image:
        fg = data > threshold
        reason = None if lazy else threshold_reason(fg, threshold)
        warning = None
        if reason:
            warning = (f"On {name!r}, {reason}: the skeleton will not be of the objects. The automatic (Otsu) "
                       f"threshold is {otsu_threshold(data):g}.")
        return PreparedInput(fg, warning)
    reason = None if lazy else intensity_image_reason(data)
    warning = None
    if reason:
        warning = (f"Layer {name!r} looks like an intensity image, not labels: {reason}. Each value will be "
                   "skeletonized as an object; open it as an Image layer and skeletonize it with a threshold.")
    return PreparedInput(data, warning)


def _is_bad(key, value) -> bool:
    """Table cells a user should not trust: topology changed, or a skeleton that is not thin."""
    if not isinstance(value, (int, float)):
        return False
    if key in ("b0_error", "b1_error"):
        return value > 0
    return key == "thinness" and value > 0.01


class Controller:
    """Holds one job at a time: its options, its cancel flag and the last comparison's rows."""

    def __init__(self):
        self.cancel_event = threading.Event()
        self.last_rows: list[dict] = []
        self.started = 0.0

    # ----------------------------------------------------------------- jobs
    def start(self) -> None:
        self.cancel_event.clear()
        self.started = time.perf_counter()

    def cancel(self) -> None:
        self.cancel_event.set()

    def check(self, *_) -> None:
        """Raise :class:`Cancelled` once Cancel was pressed (the engine calls it every iteration)."""
        if self.cancel_event.is_set():
            raise Cancelled()

    def callback(self, emit):
        """``callback(done, total)`` for :func:`napari_skelite.skeletonize`: checks Cancel, then ``emit``s progress.

        The engine calls it once per iteration with the work done in object
        points (see :func:`napari_skelite.skeletonize`), so progress moves
        inside one large object too; for chunked input it counts chunks.
        """
        def cb(done, total):
            self.check()
            emit(done, total)
        return cb

    @staticmethod
    def method_options(method: str, opts: dict) -> dict:
        """The widget's options that ``method`` takes (the guard is Skelite's only)."""
        return methods.get(method).select(opts)

    def run_job(self, mask, opts: dict, emit=lambda done, total: None) -> RunResult:
        """Skeletonize ``mask`` with ``opts`` (method, iterations, device, return_steps, guard); off the GUI thread."""
        lazy = is_dask_array(mask)
        out = skeletonize(mask, opts["method"], opts.get("iterations"), opts.get("device", "auto"),
                          opts.get("return_steps", False) and not lazy, callback=self.callback(emit),
                          check_topology=False,  # measured below, for the status line and its warning
                          check_labels=False,  # said before the run (prepare_input)
                          **self.method_options(opts["method"], opts))
        if lazy:  # chunk by chunk; the volume is not read again for a check
            return RunResult(np.asarray(out.compute()), None, None)
        skel, steps = out if opts.get("return_steps") else (out, None)
        return RunResult(skel, steps, betti_errors(skel, mask))

    def compare_job(self, mask, names: list[str], opts: dict, emit=lambda done, total: None) -> CompareResult:
        """Run ``names`` (and the reference methods the table needs) on ``mask``; off the GUI thread."""
        mask = np.asarray(mask)  # a dask-backed layer is computed here
        order = with_references(names, "boolean")
        results = {}
        for i, m in enumerate(order):
            self.check()
            results.update(run_methods(mask, [m], device=opts.get("device", "auto"), callback=self.check, check_labels=False,
                                       **self.method_options(m, opts)))
            emit(i + 1, len(order))
        rows = [r for r in results_table(results, mask, "boolean") if r["method"] in names]
        self.last_rows = rows
        return CompareResult(results, rows, label_betti(mask))

    # ------------------------------------------------------------- messages
    def run_status(self, result: RunResult, method: str, layer_name: str, opts: dict) -> tuple[str, str | None]:
        """The status line after a run and, when the topology changed unguaranteed, a warning."""
        n = int((result.skeleton > 0).sum())
        if n == 0:  # every non-empty object keeps at least one point
            return "empty input: empty skeleton", None
        secs = time.perf_counter() - self.started
        nsteps = f", {len(result.steps) - 1} iterations" if result.steps is not None else ""
        text = f"{method}: {n} skeleton points in {secs:.2f} s{nsteps}"
        warning = None
        if result.topology is not None:
            e0, e1 = result.topology
            text += f"; topology changed (β0 err {e0}, β1 err {e1})" if e0 or e1 else "; topology kept"
            record = methods.get(method)
            if (e0 or e1) and not record.keeps_topology(record.resolve(self.method_options(method, opts)), result.skeleton.ndim):
                hint = " Tick the topology guard to keep it exactly." if "guard" in record.options else ""
                warning = (f"The {method} skeleton of {layer_name} changed its topology (β0 error {e0}, "
                           f"β1 error {e1}).{hint}")
        return text, warning

    @staticmethod
    def error_message(err: BaseException) -> str:
        """What the status line and the notification say about a failed job."""
        if isinstance(err, Cancelled):
            return "cancelled; nothing was added"
        return str(err) if isinstance(err, USER_ERRORS) else f"{type(err).__name__}: {err}"

    # ---------------------------------------------------------------- table
    @staticmethod
    def table_cells(rows: list[dict]) -> list[list[Cell]]:
        """The comparison table's cells: text, tooltip and whether a user should distrust the value."""
        out = []
        for r in rows:
            error = r.get("error")
            cells = []
            for key, _, _ in TABLE_COLUMNS:
                v = r.get(key, "")
                if error and key == "method":
                    v = f"{v} (unavailable)"
                elif error:
                    v = "–"
                text = f"{v:.3g}" if isinstance(v, float) else str(v)
                if error:
                    cells.append(Cell(text, str(error)))
                elif _is_bad(key, v):
                    cells.append(Cell(text, BAD_TIPS[key], True))
                else:
                    cells.append(Cell(text))
            out.append(cells)
        return out

    def table_csv(self) -> str:
        return table_to_csv(self.last_rows, [k for k, _, _ in TABLE_COLUMNS] + ["error"])
