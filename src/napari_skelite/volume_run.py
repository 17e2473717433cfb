"""The command line's chunked run: a volume skeletonized block by block, from a Zarr input or into a Zarr output.

The input stays lazy (an OME-Zarr level or Zarr array read chunk by chunk; a
file is read into memory and split into chunks), the skeleton is computed
one block at a time with the method's halo (:mod:`napari_skelite.chunked`) and
written straight into the output's blocks (:func:`napari_skelite.zarr_io.write_zarr`),
so memory follows the chunk size and the blocks computed at once (``--workers``).
With ``--scheduler`` the blocks run on an existing dask distributed cluster. A
graph output (``.csv``, ``.graphml``, ``.swc``) is made from the skeleton's
points, read block by block (:mod:`napari_skelite.blockgraph`): only the list
of points is held, and the file is the one the whole skeleton in memory gives.
Non-Zarr label files and ``--prune`` need the whole skeleton, so it is
gathered in memory for them.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

__all__ = ["connect", "skeletonize_lazy"]

#: chunk side for a file input split into blocks (no storage chunks to follow)
DEFAULT_CHUNK = 128
#: how long to wait for a scheduler to answer
CONNECT_TIMEOUT = "10s"


def connect(address: str):
    """A ``distributed.Client`` of the scheduler at ``address``; a clear error if it cannot be reached.

    Raises
    ------
    ValueError
        Without the ``distributed`` package.
    OSError
        If no scheduler answers at ``address`` within :data:`CONNECT_TIMEOUT`.
    """
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ValueError("--scheduler needs dask.distributed: pip install 'napari-skelite[distributed]'.") from e
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as e:
        raise OSError(f"could not reach a dask scheduler at {address!r} ({type(e).__name__}: {e}); start one "
                      "(`dask scheduler`, then `dask worker ADDRESS`) or drop --scheduler "
                      "(and unset DASK_SCHEDULER_ADDRESS) to run here.") from None


def _input(a, source, threshold, threshold_fn):
    """(lazy labels, ZarrVolume or None, spacing, unit) of ``source``."""
    import dask.array as da

    from .io import read_labels, read_spacing
    from .zarr_io import is_zarr_path, read_zarr

    if is_zarr_path(source):
        volume = read_zarr(source, level=a.level)
        data, spacing, unit = volume.data, volume.spacing, volume.unit
        if threshold == "otsu":
            raise ValueError("--threshold otsu reads the whole image; give a Zarr input a number (e.g. "
                             "--threshold 100), or convert it to .tif first.")
        if threshold is not None:
            data = data > threshold
    else:
        volume, mask = None, read_labels(source)
        spacing, unit = read_spacing(source, mask.ndim)
        if threshold is not None:
            mask = threshold_fn(mask, threshold)
        data = da.from_array(mask, chunks=DEFAULT_CHUNK)
    if a.chunks:
        data = data.rechunk(a.chunks)
    return data, volume, spacing, unit


def skeletonize_lazy(a, source, output, *, threshold, graph_out: bool, quiet: bool, options: dict, threshold_fn) -> str:
    """Run the command ``a`` on ``source`` chunk by chunk into ``output``; returns the "wrote" line.

    ``threshold_fn(image, value)`` thresholds an in-memory image.
    """
    import os

    from ._cli_common import finish, report_warnings
    from ._memory import map_large_allocations
    from .api import IntensityImageWarning, TopologyChangedWarning, skeletonize
    from .chunked import ChunkSizeWarning
    from .io import check_output
    from .progress import Bar, DaskTasks, progress_enabled
    from .zarr_io import is_zarr_path

    zarr_out = is_zarr_path(output)
    if zarr_out and a.prune:
        raise ValueError("--prune needs the whole skeleton in memory; write a .tif/.npy (or a graph) to prune, "
                         "or prune the Zarr skeleton afterwards with napari_skelite.graph.prune.")
    check_output(output, overwrite=a.overwrite, record=not a.no_record, flag="--overwrite")
    address = a.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if address and getattr(a, "workers", None) is not None:
        raise ValueError("--workers sets the blocks computed at once here; on a cluster its workers' threads do "
                         "(`dask worker ADDRESS --nthreads N`): drop --workers or --scheduler "
                         "(and DASK_SCHEDULER_ADDRESS).")
    data, volume, spacing, unit = _input(a, source, threshold, threshold_fn)
    client = connect(address) if address else None
    if client is None:
        map_large_allocations()  # freed blocks go back to the system (see napari_skelite._memory)
    show = progress_enabled(quiet)
    name = Path(source).name
    try:
        with warnings.catch_warnings(record=True) as caught:
            for w in (TopologyChangedWarning, IntensityImageWarning, ChunkSizeWarning):
                warnings.simplefilter("always", w)
            with Bar(f"{name}: depth", "task", enabled=show and client is None, leave=False) as bar, DaskTasks(bar):
                skel = skeletonize(data, a.method, a.iterations, a.device, **options)  # lazy; the depth pass runs
        report_warnings(caught, a, options, source)
        extra = {"chunks": [int(c) for c in skel.chunksize]}
        if volume is not None:
            extra["level"] = volume.level
        if zarr_out:
            out, points = _write_zarr(a, output, skel, volume, spacing, unit, client, show, name)
        elif graph_out and not a.prune:
            out, points = _write_graph(a, output, skel, data, spacing, client, show, name)
        else:
            out, points = _write_file(a, output, skel, data, spacing, unit, client, graph_out)
    finally:
        if client is not None:
            client.close()
    return finish(a, source, out, options, shape=tuple(data.shape), spacing=spacing, points=points, extra=extra)


def _write_zarr(a, output, skel, volume, spacing, unit, client, show, name):
    """Write ``skel`` block by block (a bar per block); returns the path and its number of skeleton points."""
    import dask.array as da

    from .progress import Bar
    from .zarr_io import read_zarr, write_zarr

    with Bar(f"{name}: {a.method}", "block", enabled=show, leave=False) as bar:
        out = write_zarr(output, skel, like=volume, spacing=spacing, unit=unit,
                         ome=volume is None or volume.version is not None, overwrite=a.overwrite,
                         client=client, progress=bar)
    stored = read_zarr(out).data
    points = da.count_nonzero(stored)
    points = client.compute(points).result() if client is not None else points.compute()
    return out, int(points)


def _write_graph(a, output, skel, data, spacing, client, show, name):
    """Write the graph of ``skel`` from its points, read block by block (a bar per block); returns the path and
    the number of skeleton points read."""
    from .blockgraph import skeleton_points
    from .io import write_graph
    from .progress import Bar

    with Bar(f"{name}: {a.method}, graph", "block", enabled=show and client is None, leave=False) as bar:
        points = skeleton_points(skel, spacing, mask=data, callback=bar if show and client is None else None)
    return write_graph(output, points, overwrite=a.overwrite), points.gathered


def _write_file(a, output, skel, data, spacing, unit, client, graph_out):
    """Gather ``skel`` in memory and write it as a label file or graph (pruned first with --prune)."""
    from ._cli_common import write_result
    from .io import check_label_output

    gather = (lambda x: client.compute(x).result()) if client is not None else (lambda x: x.compute())
    skel = np.asarray(gather(skel))
    if not graph_out and skel.size:
        check_label_output(output, skel.ndim, skel.max())
    return write_result(a, output, skel, gather(data) if graph_out else None, spacing, unit, graph_out)
