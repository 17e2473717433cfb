"""The run record saved next to an exported skeleton: what made it, so it can be made again.

A skeleton file alone does not say which method, options or weights produced it.
:func:`run_record` collects them (with the weights file's SHA-256 and the
training command from its model card) and :func:`write_record` stores them as
``<skeleton file>.json`` beside the skeleton.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["run_record", "write_record", "record_path"]


def _weights_info(weights, ndim: int) -> dict:
    from .weights import default_weights_path, read_card

    path = Path(weights) if weights is not None else default_weights_path(ndim)
    info = {"path": str(path.resolve()), "shipped": weights is None}
    if path.is_file():
        info["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            info["training_command"] = read_card(path).get("command")
        except (OSError, ValueError):
            pass  # the skeleton was made from it, so it loaded; the card is only a courtesy
    return info


def run_record(
    method: str,
    *,
    ndim: int,
    iterations: int | None = None,
    guard: bool = False,
    precision: str = "float32",
    weights=None,
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
    iterations, guard, precision, weights, device
        The options given to :func:`napari_skelite.skeletonize`; ``weights``
        is a path or ``None`` for the shipped file (Skelite only).
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
        description and, for Skelite, ``weights`` (path, SHA-256, training
        command).
    """
    from . import __version__

    options = {"iterations": iterations}
    if method == "skelite":
        options.update(guard=bool(guard), precision=precision)
    args = ", ".join(f"{k}={v!r}" for k, v in {"method": method, **options}.items())
    rec = {
        "napari_skelite": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "method": method,
        "options": options,
        "call": f"napari_skelite.skeletonize(labels, {args})",
        "device": None if device is None else str(device),
        "input": {"source": source, "shape": None if shape is None else [int(s) for s in shape],
                  "scale": None if scale is None else [float(s) for s in scale]},
        "skeleton_points": skeleton_points,
    }
    if method == "skelite":
        rec["weights"] = _weights_info(weights, ndim)
    return rec


def record_path(output) -> Path:
    """Where the record of the skeleton saved at ``output`` goes: ``<output>.json``."""
    output = Path(output)
    return output.with_name(output.name + ".json")


def write_record(output, record: dict) -> Path:
    """Write ``record`` beside the skeleton file ``output``; returns the record's path."""
    path = record_path(output)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return path
