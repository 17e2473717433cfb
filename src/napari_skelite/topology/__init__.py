"""The ground floor: neighbourhoods, simple points, end points and their lookup tables (2D and 3D)."""
from .grid import Grid, neighbour_offsets
from .simple import (
    SimplePointTable,
    build_full_table,
    full_table_path,
    is_p_simple,
    is_simple,
    simple_point_lut,
    simple_points,
)

__all__ = [
    "Grid",
    "SimplePointTable",
    "build_full_table",
    "full_table_path",
    "is_p_simple",
    "is_simple",
    "neighbour_offsets",
    "simple_point_lut",
    "simple_points",
]
