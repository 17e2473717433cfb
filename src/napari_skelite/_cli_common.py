"""What every form of the command line's ``skeletonize`` says: the "wrote" line with its record, warnings, errors."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

from . import messages

__all__ = ["finish", "one_line", "report_warnings", "write_result"]


def finish(a, source, out, options, *, shape, spacing, points: int, extra: dict | None = None) -> str:
    """The "wrote" line, after writing the run record beside ``out`` (unless --no-record)."""
    msg = f"wrote {out}: {points} skeleton points, method {a.method}"
    if not a.no_record:
        from .record import pruned_record, run_record, write_record

        rec = run_record(a.method, ndim=len(shape), iterations=a.iterations, options=options,
                         device=a.device, source=str(Path(source).resolve()),
                         shape=shape, scale=spacing, skeleton_points=points)
        if a.prune:
            rec["pruned"] = pruned_record(a.prune, spacing)
        rec.update(extra or {})
        msg += f"; how it was made: {write_record(out, rec, overwrite=a.overwrite)}"
    return msg


def report_warnings(caught, a, options, source) -> None:
    """Say the library's warnings on stderr in the command line's words (flags, not keywords)."""
    from .api import IntensityImageWarning, TopologyChangedWarning
    from .chunked import ChunkSizeWarning

    for w in caught:
        if issubclass(w.category, TopologyChangedWarning):
            print(f"napari-skelite: warning: {messages.topology_changed(a.method, w.message.errors, 'cli')}",
                  file=sys.stderr)
        elif issubclass(w.category, IntensityImageWarning):
            print(f"napari-skelite: warning: {messages.intensity_image(str(source), w.message.reason, 'cli')}",
                  file=sys.stderr)
        elif issubclass(w.category, ChunkSizeWarning):
            print(f"napari-skelite: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def one_line(error: BaseException) -> str:
    """An error's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__


def write_result(a, output, skel, mask, spacing, unit, graph_out: bool):
    """Prune ``skel`` (with --prune) and write it as a label file or a graph; returns ``(path, points)``."""
    import numpy as np

    from .io import write_graph, write_labels

    if a.prune:
        from .graph import prune

        before = int((skel > 0).sum())
        skel = prune(skel, a.prune, spacing=spacing)
        print(f"napari-skelite: pruned end branches shorter than {a.prune:g} and specks: "
              f"{before - int((skel > 0).sum())} points removed", file=sys.stderr)
    if graph_out:
        out = write_graph(output, skel, spacing=spacing, mask=np.asarray(mask), overwrite=a.overwrite)
    else:
        out = write_labels(output, skel, overwrite=a.overwrite, spacing=spacing, unit=unit)
    return out, int((skel > 0).sum())
