"""napari-skelite: learned and classic skeletonization of 2D/3D segmentations.

Heavy dependencies (torch, napari, Qt) are imported on first use only.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["skeletonize", "available_methods", "metrics", "__version__"]


def __getattr__(name):
    if name in ("skeletonize", "available_methods"):
        from . import api

        return getattr(api, name)
    if name in ("metrics", "synthetic", "model", "topology", "io"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
