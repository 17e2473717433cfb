"""Skeleton graphs (via skan): branches with lengths, radii and types per label; pruning; networkx graphs.

Every function here first reduces the skeleton to a minimal one (see
:func:`minimal_skeleton`): points that a method left although their removal
keeps every label's topology (three mutually adjacent points, 2x2 blocks,
corners of diagonal runs) would give skan cycles that are not loops, and
some of them make skan fail.

Their ``callback``, when given, is called as ``callback(done, total)`` as
the work goes on: every iteration of the minimal skeleton's thinning, then
every label (or every few hundred branches or points). It may raise to stop
the work (a Cancel button): the exception reaches the caller.

:func:`branches`, :func:`branch_table` and :func:`to_networkx` also take a
chunked skeleton (a dask or Zarr array, with a dask, Zarr or numpy mask):
its points are read block by block (:func:`napari_skelite.blockgraph.skeleton_points`)
and the result is the one of the whole skeleton in memory, without holding
more than a block and the list of skeleton points. They take a
:class:`~napari_skelite.blockgraph.SkeletonPoints` too (points read once, for
several outputs). The callback is then also called after every block read.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._branch_table import BRANCH_TYPES, Branches, _label_rows, _table
from ._validate import as_label_array, check_spacing
from .metrics import label_boxes

__all__ = ["BRANCH_TYPES", "Branches", "branch_table", "branches", "minimal_skeleton", "prune", "radius_image",
           "to_networkx"]

def radius_image(mask, spacing=1.0, *, callback=None) -> np.ndarray:
    """Distance of every point of each label to the nearest point outside that label, in physical units.

    Along a skeleton this is the local radius of the object (the vessel
    calibre). Each label is measured on its bounding box plus one point, so
    touching labels bound each other.

    Parameters
    ----------
    mask : (M, N) or (P, M, N) int or bool array
    spacing : float or sequence of float
    callback : callable, optional
        ``callback(done, total)`` before each label; raise in it to stop.

    Returns
    -------
    float64 array of ``mask``'s shape, 0 outside the labels

    Raises
    ------
    ValueError, TypeError
        For a mask that is not a label image, or a spacing that is not a
        finite non-zero size per axis (a negative one counts by its size).
    """
    mask = as_label_array(mask, "mask")
    sp = np.asarray(check_spacing(spacing, mask.ndim))
    out = np.zeros(mask.shape, np.float64)
    boxes = label_boxes(mask)
    for k, (i, box) in enumerate(boxes.items()):
        if callback is not None:
            callback(k, len(boxes))
        grown = tuple(slice(max(b.start - 1, 0), min(b.stop + 1, n)) for b, n in zip(box, mask.shape))
        inside = np.pad(mask[grown] == i, 1)  # the image border is outside
        dist = ndimage.distance_transform_edt(inside, sampling=sp)[(slice(1, -1),) * mask.ndim]
        out[grown] = np.where(mask[grown] == i, dist, out[grown])
    return out


def minimal_skeleton(skeleton, *, callback=None) -> np.ndarray:
    """``skeleton`` without its redundant points; every label keeps its topology.

    A redundant point is a simple point (its removal keeps the label's Betti
    numbers) that is not an end point (it has two or more neighbours of its
    label). Boolean thinning of the skeleton, label by label, deletes them
    until none is left; end points, and so every branch's reach, stay.
    Boolean skeletons are minimal already and come back unchanged; Skelite,
    scikit-image and the soft skeleton can leave such points.

    Parameters
    ----------
    skeleton : (M, N) or (P, M, N) array of label ids
    callback : callable, optional
        As for :func:`napari_skelite.skeletonize`: every iteration; raise in it to stop.

    Returns
    -------
    unsigned int array of ``skeleton``'s shape (bool gives uint8), ids kept
    """
    from . import methods
    from .engine import skeletonize_array

    return skeletonize_array(as_label_array(skeleton, "skeleton"), methods.REFERENCE, device="cpu", callback=callback)


def _takes_points(skeleton) -> bool:
    """Whether ``skeleton`` is a chunked skeleton (dask, Zarr) or a SkeletonPoints: the graph comes from its points."""
    from .blockgraph import SkeletonPoints, is_lazy_array

    return isinstance(skeleton, SkeletonPoints) or is_lazy_array(skeleton)


def _points_input(skeleton, spacing, mask, callback):
    """The :class:`~napari_skelite.blockgraph.SkeletonPoints` of a chunked skeleton (read block by block) or of
    a ``SkeletonPoints`` input (checked against ``spacing`` and ``mask``); None for any other input."""
    from .blockgraph import SkeletonPoints, is_lazy_array, skeleton_points

    if isinstance(skeleton, SkeletonPoints):
        if mask is not None:
            raise ValueError("a SkeletonPoints input has its radii already; pass the mask to skeleton_points.")
        if spacing is not None and check_spacing(spacing, len(skeleton.shape)) != tuple(skeleton.spacing):
            raise ValueError(f"a SkeletonPoints input was read with spacing {skeleton.spacing}; got {spacing!r}. "
                             "Leave `spacing` out, or read the points again with it.")
        return skeleton
    if is_lazy_array(skeleton):
        return skeleton_points(skeleton, spacing, mask=mask, callback=callback)
    return None


def _graph_inputs(skeleton, spacing, mask):
    """Validated ``(skeleton, spacing, mask)``: label arrays of one shape, a finite non-zero size per axis."""
    skeleton = as_label_array(skeleton, "skeleton")
    sp = check_spacing(spacing, skeleton.ndim)
    if mask is not None:
        mask = as_label_array(mask, "mask")
        if mask.shape != skeleton.shape:
            raise ValueError(f"`mask` must have the skeleton's shape {skeleton.shape}; got {mask.shape}. "
                             "Pass the segmentation the skeleton was made from.")
    return skeleton, sp, mask


def branches(skeleton, spacing=None, *, mask=None, callback=None) -> Branches:
    """The branches of every label id of a skeleton, with their paths.

    Parameters
    ----------
    skeleton : (M, N) or (P, M, N) int array, dask or Zarr array, or SkeletonPoints
        A skeleton label image (as returned by :func:`napari_skelite.skeletonize`);
        its redundant points are removed first (:func:`minimal_skeleton`).
        A dask or Zarr array is read block by block (see the module docstring),
        with the same result.
    spacing : float or sequence of float, optional
        Physical size of a pixel along each axis (e.g. the layer's ``scale``;
        a negative one, from a flipped axis, counts by its size). ``None``: 1
        (for a SkeletonPoints input: its own).
    mask : array of ``skeleton``'s shape, optional
        The segmentation the skeleton came from: gives each branch its mean radius.
        For a chunked skeleton it may be a dask or Zarr array (read only where
        the skeleton has points).
    callback : callable, optional
        ``callback(done, total)`` as the work goes on; raise in it to stop (see the module docstring).

    Returns
    -------
    Branches

    Raises
    ------
    ValueError, TypeError
        For a skeleton or mask that is not a label image, a mask of another
        shape, or a spacing that is NaN, infinite, zero or not one per axis;
        for a SkeletonPoints input, a mask or another spacing.
    """
    points = _points_input(skeleton, spacing, mask, callback)
    if points is not None:
        from .blockgraph import branches_of_points

        return branches_of_points(points, callback=callback)
    skeleton, sp, mask = _graph_inputs(skeleton, spacing, mask)
    return _branches(minimal_skeleton(skeleton, callback=callback), np.asarray(sp), mask, callback)


def _branches(skeleton: np.ndarray, sp: np.ndarray, mask, callback=None) -> Branches:
    """:func:`branches` of a validated, minimal skeleton."""
    from skan import Skeleton

    radius = radius_image(mask, sp, callback=callback) if mask is not None else None
    frames, paths = [], []
    boxes = label_boxes(skeleton)
    for n, (lab, box) in enumerate(boxes.items()):
        if callback is not None:
            callback(n, len(boxes))
        s = np.pad(skeleton[box] == lab, 1)
        lo = np.array([b.start for b in box]) - 1
        isolated = s & (_degrees(s) == 0)  # single points: skan leaves them out
        sk = None
        if (s & ~isolated).any():
            # skan averages the skeleton image's own values along a path: put the radius there
            line = s & ~isolated
            image = line if radius is None else np.where(line, np.maximum(np.pad(radius[box], 1), 1e-12), 0.0)
            sk = Skeleton(image, spacing=sp)
        points = np.argwhere(isolated) + lo
        radii = [0.0 if radius is None else float(radius[tuple(point)]) for point in points]
        _label_rows(frames, paths, np.uint64(lab), sk, lo, points, radii, sp)
    return _table(frames, paths, mask is not None)


def branch_table(skeleton, spacing=None, *, mask=None, callback=None):
    """One row per skeleton branch, for every label id.

    Parameters
    ----------
    skeleton, spacing, mask, callback
        As for :func:`branches`.

    Returns
    -------
    pandas.DataFrame
        ``label``; skan's ``skeleton_id`` (a connected piece of that label's
        skeleton) and node ids; ``branch_distance`` (length in the units of
        ``spacing``); ``branch_type`` by name (:data:`BRANCH_TYPES`) and its
        code; ``euclidean_distance`` between the branch's ends; ``tortuosity``
        (length / end-to-end distance; 1 for a single point, NaN for a
        cycle, which has no ends); with ``mask``, ``mean_radius`` (see
        :func:`radius_image`); then the end coordinates. Id columns are
        integers; a piece of skeleton that is a single point gets one row of
        length 0 at that point. A chunked skeleton (dask or Zarr array) gives
        the table of the whole skeleton in memory, row for row.
    """
    return branches(skeleton, spacing, mask=mask, callback=callback).table


def prune(skeleton, length: float, *, spacing=1.0, specks: bool = True, callback=None) -> np.ndarray:
    """Remove the end branches shorter than ``length`` and, with ``specks``, a label's stray small pieces.

    The skeleton is made minimal first (:func:`minimal_skeleton`). One pass:
    every branch from a junction to an end point whose length (in
    the units of ``spacing``) is below ``length`` loses its points from the end
    up to the junction, each only if it is a simple point (its removal keeps
    the topology), so a junction's cluster stays whole. With ``specks``, every connected piece of a label's skeleton
    other than its longest one whose total length is below ``length`` is
    removed too; each label keeps its longest piece, so no id is lost. Loops
    and the connectivity of what remains are unchanged.

    Parameters
    ----------
    skeleton : (M, N) or (P, M, N) int array
    length : float
        In the units of ``spacing``; 0 removes nothing (the skeleton comes
        back as it is).
    spacing : float or sequence of float, optional
        As for :func:`branches`.
    callback : callable, optional
        ``callback(done, total)`` as the work goes on; raise in it to stop (see the module docstring).

    Returns
    -------
    array of ``skeleton``'s shape and dtype: the minimal skeleton less what was pruned

    Raises
    ------
    ValueError
        For a length that is NaN or negative, and the inputs :func:`branches` refuses.
    """
    if isinstance(length, (bool, np.bool_)) or not isinstance(length, (int, float, np.integer, np.floating)) \
            or np.isnan(length) or length < 0:
        raise ValueError(f"the pruning length must be a number >= 0; got {length!r}.")
    dtype = np.asarray(skeleton).dtype
    skeleton, sp, _ = _graph_inputs(skeleton, spacing, None)
    if length == 0 or not skeleton.any():
        return skeleton.astype(dtype)
    skeleton = minimal_skeleton(skeleton, callback=callback)
    out = skeleton.copy()
    b = _branches(skeleton, np.asarray(sp), None, callback)
    t = b.table
    short = np.flatnonzero((t["branch_type_code"].to_numpy() == 1) & (t["branch_distance"].to_numpy() < length))
    for n, k in enumerate(short):
        if callback is not None and n % 100 == 0:
            callback(n, len(short))
        path = b.paths[k]
        lab = t["label"].iat[k]
        if _window(skeleton, lab, path[0]).sum() > _window(skeleton, lab, path[-1]).sum():
            path = path[::-1]  # from the end point towards the junction
        for point in path[:-1]:  # the junction end stays
            if not _is_simple_at(out, lab, point):
                break  # a point that holds the rest together (inside a junction's cluster)
            out[tuple(point)] = 0
    if specks:
        sizes = t.groupby(["label", "skeleton_id"])["branch_distance"].sum()
        for lab, pieces in sizes.groupby(level=0):
            longest = pieces.idxmax()
            for key, total in pieces.items():
                if key != longest and total < length:
                    rows = np.flatnonzero((t["label"].to_numpy() == lab) & (t["skeleton_id"].to_numpy() == key[1]))
                    for k in rows:
                        out[tuple(b.paths[k].T)] = 0
    return out.astype(dtype, copy=False)


def _window(labels: np.ndarray, lab, point) -> np.ndarray:
    """The 3x3(x3) neighbourhood of ``point`` as a bool array of the points of id ``lab`` (outside: False)."""
    box = tuple(slice(max(int(p) - 1, 0), int(p) + 2) for p in point)
    pad = [(1 - (int(p) - b.start), 1 - (min(b.stop, n) - int(p) - 1)) for p, b, n in zip(point, box, labels.shape)]
    return np.pad(labels[box] == lab, pad)


def _is_simple_at(labels: np.ndarray, lab, point) -> bool:
    """Whether removing ``point`` from the id ``lab`` keeps that id's topology (the simple-point test)."""
    import torch

    from .topology import simple_points

    w = _window(labels, lab, point)
    return bool(simple_points(torch.from_numpy(w), w.ndim)[(1,) * w.ndim])


def _degrees(s: np.ndarray) -> np.ndarray:
    """Number of 8/26-neighbours of every skeleton point (any label)."""
    kernel = np.ones((3,) * s.ndim, np.int32)
    kernel[(1,) * s.ndim] = 0
    return np.where(s, ndimage.convolve(s.astype(np.int32), kernel, mode="constant"), 0)


def to_networkx(skeleton, spacing=None, *, mask=None, callback=None):
    """The skeleton as a ``networkx.MultiGraph``: junctions and end points as nodes, branches as edges.

    Nodes are named ``"<label>:<skeleton_id>:<node>"`` and carry ``label`` and
    their position in physical units (``x``, ``y`` and, in 3D, ``z``: ``x`` is
    the last axis). Edges carry ``label``, ``length``, ``branch_type``,
    ``tortuosity`` and, with ``mask``, ``mean_radius``. A cycle is a self-loop;
    a one-point skeleton a node without edges. ``skeleton``, ``spacing`` and
    ``mask`` are checked as by :func:`branches`; ``callback`` is called as there.
    A chunked skeleton (dask or Zarr array) or SkeletonPoints is taken as by :func:`branches`.
    """
    points = _points_input(skeleton, spacing, mask, callback)
    if points is not None:
        from .blockgraph import branches_of_points

        sp = np.asarray(points.spacing)
        return _networkx(branches_of_points(points, callback=callback), sp, points.radius is not None, callback)
    skeleton, sp, mask = _graph_inputs(skeleton, spacing, mask)
    sp = np.asarray(sp)
    return _networkx(_branches(minimal_skeleton(skeleton, callback=callback), sp, mask, callback), sp,
                     mask is not None, callback)


def _networkx(b: Branches, sp: np.ndarray, with_radius: bool, callback=None):
    """:func:`to_networkx` of the branches ``b`` (made with ``sp``; ``with_radius``: they have ``mean_radius``)."""
    import networkx as nx

    t = b.table
    g = nx.MultiGraph()
    names = ("x", "y", "z")
    for n, (row, path) in enumerate(zip(t.itertuples(index=False), b.paths)):
        if callback is not None and n % 500 == 0:
            callback(n, len(b.paths))
        ends = []
        for end, point in (("src", path[0]), ("dst", path[-1])):
            node = f"{row.label}:{row.skeleton_id}:{getattr(row, f'node_id_{end}')}"
            pos = point[::-1] * sp[::-1]
            g.add_node(node, label=int(row.label), **{names[i]: float(p) for i, p in enumerate(pos)})
            ends.append(node)
        if row.branch_distance == 0 and ends[0] == ends[1] and len(path) == 1:
            continue  # a one-point skeleton: a node only
        attrs = {"label": int(row.label), "length": float(row.branch_distance), "branch_type": row.branch_type,
                 "tortuosity": float(row.tortuosity)}
        if with_radius:
            attrs["mean_radius"] = float(row.mean_radius)
        g.add_edge(*ends, **attrs)
    return g
