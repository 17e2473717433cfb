"""Skeletonization methods: a registry of :class:`Method` records, one module per method.

Each module declares its record beside its ``run`` and registers it on import;
importing this package registers the built-in methods, in this order.
"""
# isort: off
# the order of these imports is the order of the methods everywhere (CLI, widget, tables)
from . import skelite  # noqa: F401
from . import boolean  # noqa: F401
from . import local  # noqa: F401
from . import morphological  # noqa: F401
from . import classic  # noqa: F401
# isort: on
from ._registry import (
    BASELINE,
    DEFAULT,
    REFERENCE,
    SOFT,
    Method,
    Option,
    count_iterations,
    get,
    methods,
    names,
    options_by_name,
    register,
    thinning_halo,
    unregister,
)

__all__ = [
    "BASELINE", "DEFAULT", "REFERENCE", "SOFT", "Method", "Option", "count_iterations", "get", "methods", "names",
    "options_by_name", "register", "thinning_halo", "unregister",
]
