"""Branch tables of skeletons (via skan): lengths, junctions and end points per label."""
from __future__ import annotations

import numpy as np

__all__ = ["branch_table"]


def branch_table(skeleton, spacing=1.0):
    """One row per skeleton branch, for every label id.

    Parameters
    ----------
    skeleton : (M, N) or (P, M, N) int array
        A skeleton label image (as returned by :func:`napari_skelite.skeletonize`).
    spacing : float or sequence of float
        Physical size of a pixel along each axis (e.g. the layer's ``scale``).

    Returns
    -------
    pandas.DataFrame
        skan's branch summary with a leading ``label`` column; ``branch_type``
        is 0 end-end, 1 junction-end, 2 junction-junction, 3 cycle. Objects
        whose skeleton is a single point get one row of length 0.
    """
    import pandas as pd
    from skan import Skeleton, summarize

    skeleton = np.asarray(skeleton)
    frames = []
    for lab in np.unique(skeleton):
        if lab == 0:
            continue
        s = skeleton == lab
        if s.sum() < 2:
            frames.append(pd.DataFrame([_point_row(lab, np.argwhere(s)[0], spacing)]))
            continue
        df = summarize(Skeleton(s, spacing=spacing), separator="_")
        df.insert(0, "label", lab)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["label", "branch_distance", "branch_type"])
    out = pd.concat(frames, ignore_index=True)
    for col in ("skeleton_id", "node_id_src", "node_id_dst", "branch_type"):
        if col in out:
            out[col] = out[col].astype(np.int64)
    return out


def _point_row(lab, point, spacing) -> dict:
    """The branch row of a one-point skeleton: a branch of length 0 from the point to itself."""
    sp = np.broadcast_to(np.asarray(spacing, float), point.shape)
    row = {"label": lab, "skeleton_id": 0, "node_id_src": 0, "node_id_dst": 0, "branch_distance": 0.0,
           "branch_type": 0, "mean_pixel_value": 1.0, "stdev_pixel_value": 0.0}
    for end in ("src", "dst"):
        row.update({f"image_coord_{end}_{i}": float(p) for i, p in enumerate(point)})
    for end in ("src", "dst"):
        row.update({f"coord_{end}_{i}": float(p * s) for i, (p, s) in enumerate(zip(point, sp))})
    row["euclidean_distance"] = 0.0
    return row
