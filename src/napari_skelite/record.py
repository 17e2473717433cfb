"""The run record saved next to an exported skeleton: what made it, so it can be made again.

A skeleton file alone does not say which method, options or weights produced it.
:func:`run_record` collects them (with the weights file's SHA-256 and the
training command from its model card) and :func:`write_record` stores them as
``<skeleton file>.json`` beside the skeleton.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

from . import methods

__all__ = ["pruned_record", "record_path", "run_record", "write_record"]


def _option_value(value):
    """A JSON-ready option value (a network object is named, not serialised)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value) if isinstance(value, Path) else type(value).__name__


def run_record(
    method: str,
    *,
    ndim: int,
    iterations: int | None = None,
    options: dict | None = None,
    device=None,
    source: str | None = None,
    shape: tuple | None = None,
    scale: tuple | None = None,
    skeleton_points: int | None = None,
) -> dict:
    """Everything needed to make a skeleton again, as JSON-ready values.

    Parameters
    ----------
    method : str
        One of :func:`napari_skelite.available_methods`.
    ndim : {2, 3}
        Dimensions of the input (chooses the shipped Skelite weights).
    iterations, device
        As given to :func:`napari_skelite.skeletonize`.
    options : dict, optional
        The method's options; missing ones are recorded at their defaults.
    source : str, optional
        The input: a file path or a napari layer name.
    shape, scale : tuple, optional
        Shape of the input and its voxel size (napari ``scale``).
    skeleton_points : int, optional

    Returns
    -------
    dict
        ``napari_skelite`` (version), ``created`` (UTC, ISO 8601), ``method``,
        ``options``, ``call`` (the equivalent library call), the input's
        description and, for a method with a ``weights`` option, ``weights``
        (path, SHA-256, variant, training command).
    """
    from . import __version__

    record = methods.get(method)
    opts = {"iterations": iterations, **{k: _option_value(v) for k, v in record.resolve(options or {}).items()}}
    args = ", ".join(f"{k}={v!r}" for k, v in {"method": record.name, **opts}.items())
    rec = {
        "napari_skelite": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "method": record.name,
        "options": opts,
        "call": f"napari_skelite.skeletonize(labels, {args})",
        "device": None if device is None else str(device),
        "input": {"source": source, "shape": None if shape is None else [int(s) for s in shape],
                  "scale": None if scale is None else [float(s) for s in scale]},
        "skeleton_points": skeleton_points,
    }
    if record.provenance is not None:
        rec.update(record.provenance(record.resolve(options or {}), ndim))
    return rec


def pruned_record(length: float, spacing=None) -> dict:
    """The run record's ``pruned`` entry: the length and the call that prunes a skeleton the same way."""
    sp = None if spacing is None else tuple(float(v) for v in spacing)
    return {"length": length, "call": f"napari_skelite.graph.prune(skeleton, {length!r}, spacing={sp or 1.0})"}


def record_path(output) -> Path:
    """Where the record of the skeleton saved at ``output`` goes: ``<output>.json``."""
    output = Path(output)
    return output.with_name(output.name + ".json")


def _strict(value):
    """``value`` with every NaN or infinite float replaced by None: strict JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    return value


def write_record(output, record: dict, *, overwrite: bool = True) -> Path:
    """Write ``record`` beside the skeleton file ``output`` as strict JSON; returns the record's path.

    Written like the output itself (:mod:`napari_skelite.io`): through a
    temporary file that is removed whatever happens, and, without
    ``overwrite``, never over an existing record.

    Parameters
    ----------
    output : str or Path
        The skeleton file the record describes.
    record : dict
        JSON-ready values (NaN and infinities are written as ``null``).
    overwrite : bool
        Replace an existing record (default: the caller has just written
        ``output`` and chose whether to replace it).

    Raises
    ------
    FileExistsError
        If the record exists and ``overwrite`` is False.
    """
    from .io import atomic_write

    path = record_path(output)
    text = json.dumps(_strict(record), indent=2, allow_nan=False) + "\n"

    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)

    return atomic_write(path, ".json", overwrite, write)
