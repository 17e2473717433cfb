"""Skeleton graphs of chunked skeletons (dask or Zarr arrays), gathered block by block.

A skeleton holds a small share of a volume's points (0.1-1 %), so its
coordinates fit in memory where the volume does not. :func:`skeleton_points`
reads every block of a lazy skeleton once and keeps only its points (image
coordinates and label ids); everything after that works on this list:

1. **Minimal skeleton.** :func:`napari_skelite.graph.minimal_skeleton` is a
   Boolean thinning of the skeleton, label by label. Its rules read the
   3x3(x3) neighbourhood of a point only, and a point can go only if it is
   simple and has two or more neighbours of its label. The points that pass
   that test at the start are found on the list (a neighbourhood code per
   point, the simple-point table); if there are none, as for a Boolean
   skeleton, nothing changes. Otherwise the cells of a coarse grid (8 points a
   side) that hold them, and their neighbouring cells, form regions; each
   connected region is thinned on a dense crop of itself plus one point,
   deleting only inside the region (the thinning's ``proposals``). A region is
   accepted when no point it deleted touches a point outside it: then no
   point outside any region ever sees a change, so the whole-image thinning
   deletes exactly what the regions delete. A region that fails grows by one
   cell on every side and is thinned again. The result equals the
   whole-image minimal skeleton by this argument, not by a halo bound.
2. **Radii** (with a ``mask``): :func:`napari_skelite.graph.radius_image` at
   every skeleton point, the Euclidean distance to the nearest point of
   another id in the mask. Each block of the mask that holds skeleton points
   is read with a halo of ``h`` points (16 at first); a distance below
   ``(h + 1)`` times the smallest spacing is exact (a nearer point of another
   id would lie inside the halo), and the points whose distance is not are
   measured again with four times the halo.
3. **Branches.** Per label, the pixel graph that skan builds from a skeleton
   image (26/8-neighbours in skan's order, its junction clusters reduced to
   their minimum spanning tree) is built from the sorted coordinates instead,
   and given to skan as a ``PathGraph``; the table's rows, ids and columns are
   then those of :func:`napari_skelite.graph.branch_table` on the whole
   volume.

Branches that cross block borders need no joining: the blocks only supply
points, and the graph is built once from all of them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ._validate import as_label_array, check_label_dtype, check_spacing

__all__ = ["SkeletonPoints", "branches_of_points", "is_lazy_array", "neighbour_index", "skeleton_points"]

#: side of the coarse grid whose cells make up the regions thinned for the minimal skeleton (even)
_CELL = 8
#: cells around each cell holding a point that may go, in the first regions
_MARGIN_CELLS = 1
#: first halo of the mask's blocks for the radii (points)
_RADIUS_HALO = 16
#: neighbour lookups are done this many points at a time (bounds their memory)
_BATCH = 1 << 18


@dataclass(frozen=True, eq=False)
class SkeletonPoints:
    """The points of a minimal skeleton, as a list: what the graph functions need of a chunked skeleton.

    Made by :func:`skeleton_points`; :func:`napari_skelite.graph.branches`,
    :func:`~napari_skelite.graph.branch_table`,
    :func:`~napari_skelite.graph.to_networkx` and
    :func:`napari_skelite.io.write_graph` take it in place of a skeleton (with
    no ``spacing`` other than its own and no ``mask``), so one pass over the
    blocks serves several outputs.

    Attributes
    ----------
    coords : (N, ndim) intp array
        Image coordinates of the minimal skeleton's points, in raster (C) order.
    labels : (N,) uint64 array
        Their label ids.
    radius : (N,) float64 array or None
        With a mask: :func:`napari_skelite.graph.radius_image` at each point.
    shape : tuple of int
        The skeleton's shape.
    spacing : tuple of float
        Voxel size per axis (positive).
    gathered : int
        Skeleton points read from the blocks, before the redundant ones were removed.
    """

    coords: np.ndarray
    labels: np.ndarray
    radius: np.ndarray | None
    shape: tuple
    spacing: tuple
    gathered: int


def is_lazy_array(a) -> bool:
    """True for a dask array or a Zarr array (without importing either for other inputs)."""
    root = type(a).__module__.split(".")[0]
    return (root == "dask" and hasattr(a, "map_overlap")) or (root == "zarr" and hasattr(a, "chunks"))


def _as_dask(a, name: str, chunks=None):
    """``a`` as a dask array (a Zarr array by its storage chunks, a numpy array by ``chunks``)."""
    import dask.array as da

    root = type(a).__module__.split(".")[0]
    if root == "dask" and hasattr(a, "map_overlap"):
        return a
    if root == "zarr":
        return da.from_zarr(a)
    arr = np.asarray(a)
    check_label_dtype(arr, name)
    return da.from_array(arr, chunks=chunks if chunks is not None else "auto")


def skeleton_points(skeleton, spacing=None, *, mask=None, callback=None) -> SkeletonPoints:
    """The minimal skeleton of a chunked skeleton as a list of points, read block by block.

    Parameters
    ----------
    skeleton : (M, N) or (P, M, N) dask array, Zarr array or numpy array of label ids
        Read one block at a time (a numpy array is split into dask's default
        chunks); only its points are kept. Values are checked as the blocks
        are read (NaN, negative or non-integral ids raise then).
    spacing : float or sequence of float, optional
        Voxel size per axis (None: 1; a negative size counts by its absolute value).
    mask : array of ``skeleton``'s shape, optional
        The segmentation (dask, Zarr or numpy): gives each point its radius.
        Only the blocks that hold skeleton points are read, with a halo.
    callback : callable, optional
        ``callback(done, total)`` after each block read (the skeleton's, then
        the mask's; with dask's local schedulers, else after each pass); raise
        in it to stop.

    Returns
    -------
    SkeletonPoints

    Raises
    ------
    ValueError, TypeError
        For a skeleton or mask that is not a 2D/3D label array, a mask of
        another shape, or a spacing that is not a finite non-zero size per axis.
    """
    skel = _as_dask(skeleton, "skeleton")
    check_label_dtype(skel, "skeleton")
    sp = check_spacing(spacing, skel.ndim)
    lazy_mask = None
    if mask is not None:
        given = tuple(getattr(mask, "shape", None) or np.shape(mask))
        if given != tuple(skel.shape):  # before the mask is split into the skeleton's chunks
            raise ValueError(f"`mask` must have the skeleton's shape {skel.shape}; got {given}. "
                             "Pass the segmentation the skeleton was made from.")
        lazy_mask = _as_dask(mask, "mask", chunks=skel.chunks)
        check_label_dtype(lazy_mask, "mask")
    shape = tuple(int(n) for n in skel.shape)
    blocks = _Blocks(callback)
    coords, labels = _gather(skel, blocks)
    gathered = len(coords)
    coords, labels = _minimal(coords, labels, shape)
    radius = _radii(lazy_mask, coords, np.asarray(sp), blocks) if lazy_mask is not None else None
    return SkeletonPoints(coords, labels, radius, shape, tuple(sp), gathered)


# --- reading the blocks -------------------------------------------------------------------------


class _Blocks:
    """Counts the block tasks of every pass for ``callback(done, total)``; the counts run on from pass to pass.

    The tasks are counted as dask's local schedulers finish them (a
    :class:`dask.callbacks.Callback`); on a distributed cluster only the end
    of each pass is told.
    """

    def __init__(self, callback):
        self.callback, self.before = callback, 0

    def compute(self, tasks: list, name: str) -> list:
        """Compute the delayed ``tasks`` (keys ``(name, i)``) in one go."""
        import dask
        from dask.callbacks import Callback

        if not tasks:
            return []
        if self.callback is None:
            return list(dask.compute(*tasks))
        before, total, done = self.before, self.before + len(tasks), [0]
        callback = self.callback

        class _Count(Callback):
            def _posttask(self, key, result, dsk, state, worker_id):
                if isinstance(key, tuple) and key and key[0] == name:
                    done[0] += 1
                    callback(before + done[0], total)

        callback(before, total)
        with _Count():
            out = list(dask.compute(*tasks))
        self.before = total
        callback(total, total)
        return out


def _block_points(block, origin) -> tuple[np.ndarray, np.ndarray]:
    """The ``(coords, labels)`` of one block's points: (K, ndim) int64 image coordinates and (K,) uint64 ids."""
    arr = as_label_array(block, "skeleton")
    where = np.nonzero(arr)
    coords = np.stack(where, axis=1).astype(np.int64) + np.asarray(origin, np.int64)
    return coords, arr[where].astype(np.uint64)


def _gather(skel, blocks: _Blocks) -> tuple[np.ndarray, np.ndarray]:
    """Every point of the lazy ``skel``: (N, ndim) intp coordinates in raster order and their (N,) uint64 ids."""
    import dask
    from dask.base import tokenize

    starts = [np.concatenate([[0], np.cumsum(c)[:-1]]).astype(int) for c in skel.chunks]
    name = f"skeleton-points-{tokenize(skel)}"
    delayed = skel.to_delayed()
    tasks = []
    for i, index in enumerate(np.ndindex(*skel.numblocks)):
        origin = tuple(int(s[k]) for s, k in zip(starts, index))
        tasks.append(dask.delayed(_block_points, pure=True)(delayed[index], origin, dask_key_name=(name, i)))
    parts = blocks.compute(tasks, name)
    ndim = skel.ndim
    coords = np.concatenate([c for c, _ in parts]) if parts else np.zeros((0, ndim), np.int64)
    labels = np.concatenate([lab for _, lab in parts]) if parts else np.zeros(0, np.uint64)
    order = np.argsort(_keys(coords, skel.shape), kind="stable")
    return coords[order].astype(np.intp), labels[order]


# --- neighbours on a sorted list of points ------------------------------------------------------


def _keys(coords: np.ndarray, shape) -> np.ndarray:
    """Flat indices of ``coords`` in an array of ``shape`` padded by one point per side (int64; raster order)."""
    dims = np.asarray(shape, np.int64) + 2
    if math.prod(int(d) for d in dims) >= 2**62:
        raise ValueError(f"a skeleton of shape {tuple(shape)} has more points than 64-bit indices hold.")
    strides = np.concatenate([np.cumprod(dims[::-1])[::-1][1:], [1]])
    return (np.asarray(coords, np.int64) + 1) @ strides


def neighbour_index(points: np.ndarray, offsets: np.ndarray, rows: slice | None = None) -> np.ndarray:
    """The row of ``points + offsets[k]`` in ``points`` for every point and offset; -1 where there is none.

    Parameters
    ----------
    points : (N, ndim) int array
        Distinct points (any order).
    offsets : (K, ndim) int array
        Steps to the neighbours asked for, each entry -1, 0 or 1.
    rows : slice, optional
        Only the neighbours of these points (default: all).

    Returns
    -------
    (R, K) intp array, R the number of ``rows``
    """
    points = np.asarray(points)
    offsets = np.asarray(offsets, np.int64).reshape(-1, points.shape[1])
    wanted = np.arange(len(points))[rows if rows is not None else slice(None)]
    out = np.full((len(wanted), len(offsets)), -1, np.intp)
    if not len(wanted):
        return out
    lo = points.min(0)
    shape = points.max(0) - lo + 1
    keys = _keys(points - lo, shape)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    steps = _keys(offsets, shape) - _keys(np.zeros((1, points.shape[1]), np.int64), shape)
    for a in range(0, len(wanted), _BATCH):
        want = keys[wanted[a:a + _BATCH], None] + steps[None, :]
        at = np.minimum(np.searchsorted(sorted_keys, want), len(sorted_keys) - 1)
        out[a:a + _BATCH] = np.where(sorted_keys[at] == want, order[at], -1)
    return out


def _same_label_neighbours(coords: np.ndarray, labels: np.ndarray, offsets: np.ndarray,
                           rows: slice | None = None) -> np.ndarray:
    """:func:`neighbour_index` keeping only neighbours of the point's own label."""
    nb = neighbour_index(coords, offsets, rows)
    own = labels[rows if rows is not None else slice(None)]
    nb[(nb >= 0) & (labels[np.maximum(nb, 0)] != own[:, None])] = -1
    return nb


# --- the minimal skeleton -----------------------------------------------------------------------


def _deletable(coords: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Which points the Boolean thinning may delete first: simple, with two or more neighbours of their label.

    (The thinning also asks for a face neighbour in the background; a point
    without one is never simple, so this is the same set.)
    """
    import torch

    from .topology import neighbour_offsets, simple_point_lut

    ndim = coords.shape[1]
    offsets = np.array(neighbour_offsets(ndim))
    bits = np.arange(len(offsets), dtype=np.int64)
    table = simple_point_lut(ndim, "cpu")
    out = np.zeros(len(coords), bool)
    for a in range(0, len(coords), _BATCH):  # a batch at a time: the (points, 26) tables stay small
        rows = slice(a, a + _BATCH)
        nb = _same_label_neighbours(coords, labels, offsets, rows) >= 0
        simple = table(torch.from_numpy((nb.astype(np.int64) << bits).sum(1))).numpy()
        out[rows] = simple & (nb.sum(1) >= 2)
    return out


def _minimal(coords: np.ndarray, labels: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """The points of :func:`napari_skelite.graph.minimal_skeleton` of the skeleton the points make."""
    if not len(coords):
        return coords, labels
    start = _deletable(coords, labels)
    if not start.any():
        return coords, labels
    deleted = _thin_regions(coords, labels, shape, start)
    return coords[~deleted], labels[~deleted]


def _thin_regions(coords, labels, shape, start) -> np.ndarray:
    """Which points the whole-image thinning deletes, found on regions around the points ``start`` marks.

    See the module docstring: regions are unions of cells of :data:`_CELL`
    points; each is thinned alone, deleting only inside itself, and is
    accepted when no point it deleted has an image neighbour outside it.
    """
    ndim = coords.shape[1]
    grid = tuple(-(-n // _CELL) for n in shape)
    full = np.ones((3,) * ndim, bool)
    occupied = np.zeros(grid, bool)
    occupied[tuple((coords[start] // _CELL).T)] = True
    for _ in range(_MARGIN_CELLS):
        occupied = ndimage.binary_dilation(occupied, full)
    done: dict = {}
    while True:
        regions, _ = ndimage.label(occupied, full)  # regions of different ids are a cell or more apart
        deleted = np.zeros(len(coords), bool)
        grow = np.zeros(grid, bool)
        for k, box in enumerate(ndimage.find_objects(regions), 1):
            cells = regions[box] == k
            key = (tuple((b.start, b.stop) for b in box), cells.tobytes())
            if key not in done:
                done[key] = _thin_region(coords, labels, shape, start, box, cells)
            gone = done[key]
            if gone is None:
                grow[box] |= cells
            else:
                deleted[gone] = True
        if not grow.any():
            return deleted
        occupied |= ndimage.binary_dilation(grow, full)


def _rows_in(coords: np.ndarray, lo, hi) -> np.ndarray:
    """Rows of the raster-sorted ``coords`` inside the box ``[lo, hi)``."""
    a, b = np.searchsorted(coords[:, 0], [lo[0], hi[0]])
    rows = np.arange(a, b)
    inside = np.all((coords[a:b] >= lo) & (coords[a:b] < hi), axis=1)
    return rows[inside]


def _thin_region(coords, labels, shape, start, box, cells) -> np.ndarray | None:
    """The rows the thinning deletes in the region ``cells`` (bool, on the cell grid's ``box``); None if it
    deleted a point next to one outside the region (the region must grow)."""
    import torch

    from .topology.thinning import thin

    ndim = coords.shape[1]
    shape = np.asarray(shape)
    region_lo = np.array([b.start for b in box]) * _CELL
    region_hi = np.minimum(np.array([b.stop for b in box]) * _CELL, shape)
    lo = np.maximum(region_lo - 1, 0) // 2 * 2  # an even origin keeps the subfields of the whole image
    hi = np.minimum(region_hi + 1, shape)
    core = np.zeros(tuple(hi - lo), bool)  # the region, point by point, on the crop
    fine = cells
    for a in range(ndim):
        fine = np.repeat(fine, _CELL, axis=a)
    place = tuple(slice(int(r - lo_), int(r - lo_ + n)) for r, lo_, n in zip(region_lo, lo, region_hi - region_lo))
    core[place] = fine[tuple(slice(0, int(n)) for n in region_hi - region_lo)]
    rows = _rows_in(coords, lo, hi)
    local = coords[rows] - lo
    at = tuple(local.T)
    inside = core[at]
    gone = []
    proposals = torch.from_numpy(core)
    for lab in np.unique(labels[rows[inside & start[rows]]]):
        mine = labels[rows] == lab
        crop = np.zeros(core.shape, bool)
        crop[tuple(local[mine].T)] = True
        kept = thin(torch.from_numpy(crop), None, proposals=proposals).numpy()
        lost = mine & ~kept[at]
        gone.append(rows[lost])
    gone = np.concatenate(gone) if gone else np.zeros(0, np.intp)
    if gone.size:  # every image neighbour of a deleted point must lie in the region
        steps = np.array(list(np.ndindex((3,) * ndim))) - 1
        near = coords[gone][:, None, :] + steps[None]
        in_image = np.all((near >= 0) & (near < shape), axis=2)
        near_local = np.clip(near - lo, 0, np.array(core.shape) - 1)
        if not core[tuple(np.moveaxis(near_local, 2, 0))][in_image].all():
            return None
    return gone


# --- radii --------------------------------------------------------------------------------------


def _block_radii(ext, pad, points, sp, halo, cut: bool) -> tuple[np.ndarray, np.ndarray]:
    """The radius at ``points`` and whether it is exact, from the mask ``ext`` around a block.

    Parameters
    ----------
    ext : array
        The mask on the block and its halo (clipped to the image).
    pad : list of (int, int)
        Background points to add per axis side: 1 where ``ext`` reaches the image border.
    points : (K, ndim) int array
        The skeleton points, in ``ext``'s coordinates.
    sp : (ndim,) float array
    halo : int
        Points of mask beyond the block on every side that does not reach the image border.
    cut : bool
        Whether some side of ``ext`` is cut (does not reach the image border).

    Returns
    -------
    radius : (K,) float64
    exact : (K,) bool
        The distance is below ``(halo + 1) * min(sp)``, or no side is cut.
    """
    from ._validate import compact_ids

    arr = np.pad(as_label_array(ext, "mask"), pad)
    points = np.asarray(points) + np.array([p[0] for p in pad])
    radius = np.zeros(len(points))
    exact = np.ones(len(points), bool)
    own = arr[tuple(points.T)]
    if not own.any():
        return radius, exact
    ids, compact = compact_ids(arr)
    boxes = ndimage.find_objects(compact)
    which = np.searchsorted(ids, own)
    for k in np.unique(which[own > 0]):
        box = boxes[k]
        grown = tuple(slice(max(b.start - 1, 0), min(b.stop + 1, n)) for b, n in zip(box, arr.shape))
        inside = compact[grown] == k + 1
        rows = np.flatnonzero((own > 0) & (which == k))
        at = tuple((points[rows] - [g.start for g in grown]).T)
        if inside.all():  # no other id in reach: only a larger halo can tell
            radius[rows], exact[rows] = np.inf, False
            continue
        radius[rows] = ndimage.distance_transform_edt(inside, sampling=sp)[at]
    if cut:
        exact &= radius < (halo + 1) * float(np.min(sp))
    return radius, exact


def _radii(mask, coords: np.ndarray, sp: np.ndarray, blocks: _Blocks) -> np.ndarray:
    """:func:`napari_skelite.graph.radius_image` of the lazy ``mask`` at ``coords``, block by block."""
    import dask
    from dask.base import tokenize

    shape = np.array(mask.shape)
    out = np.zeros(len(coords))
    todo = np.arange(len(coords))
    bounds = [np.concatenate([[0], np.cumsum(c)]) for c in mask.chunks]
    halo = _RADIUS_HALO
    while todo.size:
        block = np.stack([np.searchsorted(b, coords[todo, a], side="right") - 1 for a, b in enumerate(bounds)], 1)
        order = np.lexsort(block.T[::-1])
        todo, block = todo[order], block[order]
        first = np.flatnonzero(np.r_[True, np.any(block[1:] != block[:-1], axis=1)])
        name = f"skeleton-radii-{tokenize(mask, halo)}"
        tasks, groups = [], []
        for i, (a, b) in enumerate(zip(first, np.r_[first[1:], len(todo)])):
            index = block[a]
            core_lo = np.array([bd[k] for bd, k in zip(bounds, index)])
            core_hi = np.array([bd[k + 1] for bd, k in zip(bounds, index)])
            lo, hi = np.maximum(core_lo - halo, 0), np.minimum(core_hi + halo, shape)
            pad = [(int(lo_ == 0), int(hi_ == n)) for lo_, hi_, n in zip(lo, hi, shape)]
            cut = not all(p == (1, 1) for p in pad)
            ext = mask[tuple(slice(int(x), int(y)) for x, y in zip(lo, hi))]
            tasks.append(dask.delayed(_block_radii, pure=True)(ext, pad, coords[todo[a:b]] - lo, sp, halo, cut,
                                                               dask_key_name=(name, i)))
            groups.append(todo[a:b])
        again = []
        for rows, (radius, exact) in zip(groups, blocks.compute(tasks, name)):
            out[rows[exact]] = radius[exact]
            again.append(rows[~exact])
        todo = np.concatenate(again) if again else todo[:0]
        halo *= 4
    return out


# --- branches -----------------------------------------------------------------------------------


def _skan_steps(ndim: int, sp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """skan's neighbour steps ((K, ndim) ints) and their lengths ((K,) float64), in the order its pixel graph
    takes them (by length)."""
    from skan.nputil import _raveled_offsets_and_distances

    side = (3,) * ndim
    raveled, lengths = _raveled_offsets_and_distances(side, connectivity=ndim, spacing=np.ones(ndim) * sp)
    centre = np.ravel_multi_index((1,) * ndim, side)
    steps = np.stack(np.unravel_index(raveled + centre, side), axis=1) - 1
    return steps, lengths


def _skan_skeleton(local: np.ndarray, nb: np.ndarray, lengths: np.ndarray, values, sp: np.ndarray):
    """A ``skan.Skeleton`` equal to ``skan.Skeleton(image, spacing=sp)`` of the image holding the points ``local``.

    Parameters
    ----------
    local : (M, ndim) intp array
        The points, in raster order (the image's coordinates).
    nb : (M, K) intp array
        Each point's neighbours (rows of ``local``; -1: none) at skan's steps (:func:`_skan_steps`).
    lengths : (K,) float64 array
        The steps' lengths.
    values : (M,) float64 array or None
        The image's values at the points (None: a bool image).
    sp : (ndim,) float64 array
    """
    from scipy import sparse
    from skan.csr import PathGraph, Skeleton, _mst_junctions

    m = len(local)
    found = nb >= 0
    # skan's pixel_graph: rows in raster order, each row's neighbours in step order
    rows = np.repeat(np.arange(m), found.sum(1))
    cols = nb[found]
    data = np.broadcast_to(lengths, nb.shape)[found]
    graph = _mst_junctions(sparse.coo_matrix((data, (rows, cols)), shape=(m, m)).tocsr())
    return Skeleton.from_path_graph(PathGraph.from_graph(adj=graph, node_coordinates=local, node_values=values,
                                                         spacing=sp))


def branches_of_points(points: SkeletonPoints, *, callback=None):
    """:func:`napari_skelite.graph.branches` of the skeleton whose points are ``points``.

    Parameters
    ----------
    points : SkeletonPoints
    callback : callable, optional
        ``callback(done, total)`` before each label; raise in it to stop.

    Returns
    -------
    napari_skelite.graph.Branches
        The same table (rows, order, columns, dtypes) and paths as for the
        whole skeleton image.
    """
    from ._branch_table import _label_rows, _table

    sp = np.asarray(points.spacing, np.float64)
    ndim = len(points.shape)
    steps, lengths = _skan_steps(ndim, sp)
    order = np.argsort(points.labels, kind="stable")  # by label, raster order within each
    labels = points.labels[order]
    ids, first = np.unique(labels, return_index=True)
    ends = np.r_[first[1:], len(labels)]
    frames, paths = [], []
    for n, (lab, a, b) in enumerate(zip(ids, first, ends)):
        if callback is not None:
            callback(n, len(ids))
        rows = order[a:b]
        coords = points.coords[rows]
        radius = None if points.radius is None else points.radius[rows]
        lo = coords.min(0) - 1  # the origin of the label's box padded by one, as for the image
        local = coords - lo
        nb = neighbour_index(local, steps)
        isolated = (nb < 0).all(1)  # single points: skan leaves them out
        sk = None
        if not isolated.all():
            line = np.flatnonzero(~isolated)
            renumber = np.full(len(local), -1, np.intp)
            renumber[line] = np.arange(len(line))
            line_nb = nb[line]
            line_nb = np.where(line_nb >= 0, renumber[np.maximum(line_nb, 0)], -1)
            values = None if radius is None else np.maximum(radius[line], 1e-12)
            sk = _skan_skeleton(local[line], line_nb, lengths, values, sp)
        radii = np.zeros(int(isolated.sum())) if radius is None else radius[isolated]
        _label_rows(frames, paths, np.uint64(lab), sk, lo, coords[isolated], radii, sp)
    return _table(frames, paths, points.radius is not None)
