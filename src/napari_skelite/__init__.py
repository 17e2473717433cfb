"""napari-skelite: learned and classic skeletonization of 2D/3D segmentations.

Heavy dependencies (torch, napari, Qt) are imported on first use only.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "IntensityImageWarning",
    "TopologyChangedWarning",
    "__version__",
    "available_methods",
    "compare",
    "methods",
    "metrics",
    "skeletonize",
]


def __getattr__(name):
    if name in ("skeletonize", "available_methods", "IntensityImageWarning", "TopologyChangedWarning"):
        from . import api

        return getattr(api, name)
    if name in ("metrics", "compare", "methods", "synthetic", "networks", "topology", "io", "graph"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
