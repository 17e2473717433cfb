"""The branch table's rows, one label at a time: what :mod:`napari_skelite.graph` and
:mod:`napari_skelite.blockgraph` share, so both give the same table by construction."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BRANCH_TYPES", "Branches"]

#: skan's branch type codes 0-3, by name
BRANCH_TYPES = ("end-end", "junction-end", "junction-junction", "cycle")

_INT_COLUMNS = ("label", "skeleton_id", "node_id_src", "node_id_dst", "branch_type_code")


@dataclass
class Branches:
    """Every branch of a skeleton label image.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per branch (see :func:`napari_skelite.graph.branch_table`).
    paths : list of (K, ndim) int arrays
        The pixel coordinates of each row's branch, in order along it.
    """

    table: object
    paths: list


def _label_rows(frames: list, paths: list, lab, sk, lo: np.ndarray, points: np.ndarray, radii, sp) -> None:
    """Append the rows (one frame each) and paths of one label id to ``frames`` and ``paths``.

    Parameters
    ----------
    lab : numpy.uint64
        The label id.
    sk : skan.Skeleton or None
        The label's points with at least one neighbour, in coordinates relative to ``lo``
        (None: it has none).
    lo : (ndim,) int array
        The image coordinates of ``sk``'s origin.
    points : (K, ndim) int array
        The label's points without a neighbour, in image coordinates (raster order).
    radii : sequence of K float
        Their radii (0 without a mask).
    sp : (ndim,) float64 array
    """
    from skan import summarize

    pieces = 0
    if sk is not None:
        df = summarize(sk, separator="_")
        for k in range(df.shape[0]):
            paths.append(np.asarray(sk.path_coordinates(k), np.intp) + lo)
        for i in range(len(sp)):  # back from the padded box to image coordinates
            for end in ("src", "dst"):
                df[f"image_coord_{end}_{i}"] += lo[i]
                df[f"coord_{end}_{i}"] += lo[i] * sp[i]
        df.insert(0, "label", lab)
        frames.append(df)
        pieces = int(df["skeleton_id"].max()) + 1
    if len(points):
        import pandas as pd

        for j, (point, r) in enumerate(zip(points, radii)):
            frames.append(pd.DataFrame([_point_row(lab, point, sp, pieces + j, float(r))]))
            paths.append(np.asarray(point, np.intp)[None])


_COLUMNS = ["label", "skeleton_id", "node_id_src", "node_id_dst", "branch_distance", "branch_type",
            "branch_type_code", "euclidean_distance", "tortuosity"]


def _table(frames: list, paths: list, with_radius: bool) -> Branches:
    """The :class:`Branches` of the rows of every label (see :func:`_label_rows`), in the table's column order."""
    import pandas as pd

    columns = _COLUMNS
    if not frames:
        return Branches(pd.DataFrame(columns=columns + (["mean_radius"] if with_radius else [])), [])
    t = pd.concat(frames, ignore_index=True)
    t["branch_type_code"] = t["branch_type"].astype(np.int64)
    t["branch_type"] = [BRANCH_TYPES[c] for c in t["branch_type_code"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        tort = t["branch_distance"] / t["euclidean_distance"]
    t["tortuosity"] = np.where(t["branch_distance"] == 0, 1.0, np.where(t["branch_type_code"] == 3, np.nan, tort))
    if with_radius:
        t["mean_radius"] = t["mean_pixel_value"]
    t = t.drop(columns=["mean_pixel_value", "stdev_pixel_value"])
    for col in _INT_COLUMNS[1:]:
        t[col] = t[col].astype(np.int64)
    ids = t["label"].to_numpy(np.uint64)
    t["label"] = ids if ids.max() > np.iinfo(np.int64).max else ids.astype(np.int64)  # ids of 2**63 and more
    rest = [c for c in t.columns if c not in columns and c != "mean_radius"]
    return Branches(t[columns + (["mean_radius"] if with_radius else []) + rest], paths)


def _point_row(lab, point, spacing, piece: int = 0, radius: float = 0.0) -> dict:
    """The branch row of a one-point piece of skeleton: a branch of length 0 from the point to itself."""
    row = {"label": lab, "skeleton_id": piece, "node_id_src": 0, "node_id_dst": 0, "branch_distance": 0.0,
           "branch_type": 0, "mean_pixel_value": radius, "stdev_pixel_value": 0.0}
    for end in ("src", "dst"):
        row.update({f"image_coord_{end}_{i}": float(p) for i, p in enumerate(point)})
    for end in ("src", "dst"):
        row.update({f"coord_{end}_{i}": float(p * s) for i, (p, s) in enumerate(zip(point, spacing))})
    row["euclidean_distance"] = 0.0
    return row
