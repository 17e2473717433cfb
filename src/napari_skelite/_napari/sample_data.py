"""Sample data contributions (seeded synthetic vessel trees)."""
from __future__ import annotations

from ..demo import sample_2d, sample_3d


def vessel_tree_2d():
    return [(sample_2d(), {"name": "vessel tree 2D"}, "labels")]


def vessel_tree_3d():
    return [(sample_3d(), {"name": "vessel tree 3D"}, "labels")]
