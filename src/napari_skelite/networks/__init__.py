"""The Skelite network: both variants' networks and loops, band-sparse inference, the guard, weights files."""
from .guard import full_blocks, guarded, thin_blocks
from .network import Skelite, SkeliteNet, binarize
from .sparse import sparse_iterate
from .subfield import SubfieldNet, soft_subfield_skeleton, subfield_iterate, subfield_thin, window_table_errors
from .weights import (
    DEFAULT_VARIANT,
    VARIANTS,
    default_weights_path,
    load_cached,
    load_network,
    read_card,
    save_network,
)

__all__ = [
    "DEFAULT_VARIANT",
    "VARIANTS",
    "Skelite",
    "SkeliteNet",
    "SubfieldNet",
    "binarize",
    "default_weights_path",
    "full_blocks",
    "guarded",
    "load_cached",
    "load_network",
    "read_card",
    "save_network",
    "soft_subfield_skeleton",
    "sparse_iterate",
    "subfield_iterate",
    "subfield_thin",
    "thin_blocks",
    "window_table_errors",
]
