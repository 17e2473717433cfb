"""Run several methods on one input, time them and measure each: what the widget, CLI, demo and benchmarks share."""
from __future__ import annotations

import time

import numpy as np

from ._validate import as_label_array, check_label_dtype
from .api import skeletonize, warn_if_intensity_image
from .chunked import is_dask_array
from .methods import BASELINE, REFERENCE
from .methods import get as method_record
from .methods import names as method_names
from .metrics import measure

__all__ = ["compare_methods", "disagreement", "format_table", "results_table", "run_methods", "with_references"]


def run_methods(mask, methods=None, warmup: bool = True, *, device="auto", iterations=None, callback=None,
                check_labels: bool = True, **options) -> dict:
    """Run each method on ``mask`` once and time it.

    Parameters
    ----------
    mask : (H, W) or (D, H, W) array
    methods : list of str, optional
        All available methods by default.
    warmup : bool
        Run each method first, untimed, on a small built-in object of the same
        number of dimensions, so the time is that of a warm call: loading
        weights, building lookup tables and the first call into torch
        are not counted (they made Skelite's first 2D time about 20x its
        steady time).
    device, iterations, callback, check_labels
        As for :func:`napari_skelite.skeletonize` (the input is checked once).
    **options
        Method options (``guard``, ``weights``, ...): each method gets those it takes.

    Returns
    -------
    dict
        ``{method: (skeleton or None, seconds or None, error message or None)}``;
        skeletons are numpy arrays (a dask input's lazy skeleton is computed
        inside the timed call); a method that cannot run (e.g. missing
        weights) has its error filled in.

    Raises
    ------
    TypeError, ValueError
        For an input no method can take (see :func:`napari_skelite.skeletonize`).
    """
    if is_dask_array(mask):
        check_label_dtype(mask)  # one clear error, not one per method
    else:
        mask = as_label_array(mask)
        if check_labels:
            warn_if_intensity_image(mask)
    warm = _warmup_object(np.ndim(mask)) if warmup else None
    out = {}
    for m in list(methods or method_names()):
        kwargs = dict(device=device, iterations=iterations, callback=callback,
                      **method_record(m).select(options))
        try:
            if warm is not None:
                skeletonize(warm, m, check_topology=False, check_labels=False, **kwargs)
            t0 = time.perf_counter()
            # a dask input gives a lazy skeleton: compute it inside the timed call
            skel = np.asarray(skeletonize(mask, m, check_topology=False, check_labels=False, **kwargs))
            out[m] = (skel, time.perf_counter() - t0, None)
        except (FileNotFoundError, ValueError) as e:
            out[m] = (None, None, str(e))
    return out


def _warmup_object(ndim: int) -> np.ndarray | None:
    """A 16^ndim uint8 image holding one 10 x 6(x6) bar (several thinning iterations)."""
    if ndim not in (2, 3):
        return None  # the timed call refuses the input with its own message
    out = np.zeros((16,) * ndim, np.uint8)
    out[(slice(3, 13),) + (slice(5, 11),) * (ndim - 1)] = 1
    return out


def results_table(results: dict, mask, reference: str = REFERENCE) -> list[dict]:
    """Rows of :func:`measure` for the output of :func:`run_methods`."""
    ref = results.get(reference, (None,))[0]
    classic = results.get(BASELINE, (None,))[0]
    rows = []
    for m, (skel, seconds, error) in results.items():
        row = {"method": m}
        if skel is None:
            row["error"] = error
        else:
            row.update(measure(skel, mask, ref, classic, reference))
            row["time_s"] = seconds
        rows.append(row)
    return rows


def with_references(methods, reference: str = REFERENCE) -> list[str]:
    """``methods`` preceded by the reference and the baseline when missing (both are needed for the table)."""
    return [m for m in (reference, BASELINE) if m not in methods] + list(methods)


def compare_methods(mask, methods=None, reference: str = REFERENCE, **kwargs) -> list[dict]:
    """Run several methods on one input and measure each.

    The reference and ``classic`` are run too (for clDice and size ratios)
    when not asked for, but only the asked methods get a row.

    Returns
    -------
    list of dict, one per method, with ``method``, ``b0_error``, ``b1_error``,
    ``thinness``, ``pixels``, ``size_vs_classic``, ``coverage_classic``,
    ``cldice_vs_<reference>`` and ``time_s`` (seconds of a warm call: see
    :func:`run_methods`); or ``error`` for a method that could not run (e.g.
    missing weights).
    """
    methods = list(methods or method_names())
    results = run_methods(mask, with_references(methods, reference), **kwargs)
    rows = results_table(results, mask, reference)
    return [r for r in rows if r["method"] in methods]


def disagreement(skel_a, skel_b) -> np.ndarray:
    """Where two skeletons of one input disagree: 1 = a point only ``skel_a`` has, 2 = only ``skel_b``.

    Parameters
    ----------
    skel_a, skel_b : arrays of one shape (labels or bool)

    Returns
    -------
    uint8 array of that shape (0 where they agree)
    """
    a, b = np.asarray(skel_a) > 0, np.asarray(skel_b) > 0
    if a.shape != b.shape:
        raise ValueError(f"the skeletons differ in shape: {a.shape} and {b.shape}.")
    return (a & ~b).astype(np.uint8) + 2 * (b & ~a).astype(np.uint8)


def format_table(rows: list[dict]) -> str:
    """Plain-text table of :func:`compare_methods` rows (a ``file`` column first where rows have one)."""
    lead = [c for c in ("file", "method") if any(c in r for r in rows)] or ["method"]
    cols = lead + sorted({k for r in rows for k in r} - set(lead) - {"error"}, key=_col_order) + ["error"]
    cols = [c for c in cols if any(c in r for r in rows)]
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    table = [cols] + [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in table)


def _col_order(c):
    pref = ["b0_error", "b1_error", "thinness", "pixels", "size_vs_classic", "coverage_classic"]
    return (pref.index(c) if c in pref else len(pref), c)
