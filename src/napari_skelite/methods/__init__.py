"""Skeletonization methods: a registry of :class:`Method` records, one module per method.

Each module declares its record beside its ``run`` and registers it on import;
importing this package registers the built-in methods, in this order.
"""
from . import skelite, boolean, local, morphological, classic  # noqa: F401  (registers the built-ins)
from ._registry import Method, count_iterations, get, methods, names, register, thinning_halo, unregister

__all__ = ["Method", "register", "unregister", "get", "names", "methods", "thinning_halo", "count_iterations"]
