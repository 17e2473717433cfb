"""The computations behind the dock widget, without Qt or napari: options in; skeletons, cells and messages out.

:class:`~napari_skelite._napari.session.Session` calls :func:`run_job` and
:func:`compare_job` in a background job (:mod:`.jobs`) and turns what they
return into layers and text. Nothing here holds state or sees a viewer.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import messages, methods
from .._validate import intensity_image_reason, otsu_threshold, threshold_reason
from ..api import skeletonize
from ..chunked import is_dask_array
from ..compare import results_table, run_methods, with_references
from ..metrics import betti_errors, label_betti
from .jobs import Cancelled
from .layers import table_to_csv

__all__ = [
    "TABLE_COLUMNS",
    "USER_ERRORS",
    "Cancelled",
    "Cell",
    "CompareResult",
    "PreparedInput",
    "RunResult",
    "compare_job",
    "error_message",
    "method_options",
    "prepare_input",
    "run_job",
    "run_status",
    "table_cells",
    "table_csv",
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


#: a chunked run's skeleton of more bytes than this stays on disk (a Zarr array read lazily by the layer)
LAZY_RESULT_BYTES = 256 * 2**20


@dataclass
class RunResult:
    skeleton: np.ndarray  # or a dask array read from a Zarr store (a large chunked run)
    steps: np.ndarray | None
    topology: tuple[int, int] | None  # (β0, β1) errors; None when not measured (dask input)
    ids: list | None = None  # the skeleton's label ids (for its colours), found off the GUI thread
    points: int | None = None  # the number of skeleton points, counted off the GUI thread


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
        warning = messages.intensity_image(f"Layer {name!r}", reason, "widget")
    return PreparedInput(data, warning)


def _is_bad(key, value) -> bool:
    """Table cells a user should not trust: topology changed, or a skeleton that is not thin."""
    if not isinstance(value, (int, float)):
        return False
    if key in ("b0_error", "b1_error"):
        return value > 0
    return key == "thinness" and value > 0.01


def method_options(method: str, opts: dict) -> dict:
    """The widget's options that ``method`` takes (each method declares its own)."""
    return methods.get(method).select(opts)


def _ids(skeleton) -> list:
    return [v for v in np.unique(skeleton).tolist() if v != 0]


def run_job(mask, opts: dict, report=lambda done, total: None, *, store: Callable[[], Path] | None = None) -> RunResult:
    """Skeletonize ``mask`` with ``opts`` (method, iterations, device, return_steps, guard).

    ``report(done, total)`` is called every iteration (object points done,
    or chunks for dask input); it raises :class:`Cancelled` to stop the run.
    The topology check reads ``mask``: pass the snapshot the run used.

    A dask ``mask`` is skeletonized chunk by chunk. Its skeleton is gathered in
    memory up to :data:`LAZY_RESULT_BYTES`; a larger one is written block by
    block into a new Zarr array in the folder ``store()`` gives, and the result
    is that array, read lazily (a dask array), so memory follows the chunks.
    """
    lazy = is_dask_array(mask)
    out = skeletonize(mask, opts["method"], opts.get("iterations"), opts.get("device", "auto"),
                      opts.get("return_steps", False) and not lazy, callback=report,
                      check_topology=False,  # measured below, for the status line and its warning
                      check_labels=False,  # said before the run (prepare_input)
                      **method_options(opts["method"], opts))
    if lazy and store is not None and out.nbytes > LAZY_RESULT_BYTES:
        return _on_disk(out, store())
    if lazy:  # chunk by chunk; the volume is not read again for a check
        skel = np.asarray(out.compute())
        return RunResult(skel, None, None, _ids(skel), int(np.count_nonzero(skel)))
    skel, steps = out if opts.get("return_steps") else (out, None)
    return RunResult(skel, steps, betti_errors(skel, mask), _ids(skel), int(np.count_nonzero(skel)))


def _on_disk(out, folder: Path) -> RunResult:
    """Write the lazy skeleton ``out`` into ``folder/skeleton.zarr`` block by block; the result reads it lazily."""
    import dask
    import dask.array as da

    from ..zarr_io import write_zarr

    path = write_zarr(Path(folder) / "skeleton.zarr", out, ome=False)
    skel = da.from_zarr(str(path))
    with dask.config.set(scheduler="threads"):
        ids, points = dask.compute(da.unique(skel), da.count_nonzero(skel))
    return RunResult(skel, None, None, [v for v in ids.tolist() if v != 0], int(points))


def compare_job(mask, names: list[str], opts: dict, report=lambda done, total: None,
                check=lambda *_: None) -> CompareResult:
    """Run ``names`` (and the reference methods the table needs) on ``mask``.

    ``report(done, total)`` counts methods; ``check()`` is called every
    iteration of every method and raises :class:`Cancelled` to stop.
    """
    mask = np.asarray(mask)  # a dask-backed layer is computed here
    order = with_references(names)
    results = {}
    for i, m in enumerate(order):
        check()
        results.update(run_methods(mask, [m], device=opts.get("device", "auto"), callback=check, check_labels=False,
                                   **method_options(m, opts)))
        report(i + 1, len(order))
    rows = [r for r in results_table(results, mask) if r["method"] in names]
    return CompareResult(results, rows, label_betti(mask))


def run_status(result: RunResult, method: str, layer_name: str, opts: dict, seconds: float) -> tuple[str, str | None]:
    """The status line after a run and, when the topology changed unguaranteed, a warning."""
    n = int((result.skeleton > 0).sum()) if result.points is None else result.points
    if n == 0:  # every non-empty object keeps at least one point
        return "empty input: empty skeleton", None
    nsteps = f", {len(result.steps) - 1} iterations (slider: last)" if result.steps is not None else ""
    text = f"{method}: {n} skeleton points in {seconds:.2f} s{nsteps}"
    warning = None
    if result.topology is not None:
        e0, e1 = result.topology
        text += f"; topology changed (β0 err {e0}, β1 err {e1})" if e0 or e1 else "; topology kept"
        record = methods.get(method)
        if (e0 or e1) and not record.keeps_topology(record.resolve(method_options(method, opts)), result.skeleton.ndim):
            warning = "T" + messages.topology_changed(method, (e0, e1), "widget", f"{layer_name}'s")[1:]
    return text, warning


def error_message(err: BaseException) -> str:
    """What the status line and the notification say about a failed job."""
    if isinstance(err, Cancelled):
        return "cancelled; nothing was added"
    return str(err) if isinstance(err, USER_ERRORS) else f"{type(err).__name__}: {err}"


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


def table_csv(rows: list[dict]) -> str:
    """The comparison rows as CSV (the table's columns and the error, if any)."""
    return table_to_csv(rows, [k for k, _, _ in TABLE_COLUMNS] + ["error"])
