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
            frames.append(pd.DataFrame({"label": [lab], "branch_distance": [0.0], "branch_type": [0]}))
            continue
        df = summarize(Skeleton(s, spacing=spacing), separator="_")
        df.insert(0, "label", lab)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["label", "branch_distance", "branch_type"])
    return pd.concat(frames, ignore_index=True)
