"""The wording users read, shared by the library, the command line and the widget.

Each function takes ``surface``: ``"library"`` (warnings from
:func:`napari_skelite.skeletonize`), ``"cli"`` or ``"widget"``; only the way
to act differs between them (a keyword, a flag, a control).
"""
from __future__ import annotations

from . import methods

__all__ = ["intensity_image", "topology_changed", "topology_fix"]

_SURFACES = ("library", "cli", "widget")


def topology_fix(method: str, surface: str) -> str:
    """How to keep the topology exactly with ``method`` (its topology switch, or the reference method)."""
    if surface not in _SURFACES:
        raise ValueError(f"surface must be one of {', '.join(_SURFACES)}; got {surface!r}.")
    switch = methods.get(method).topology_switch
    ref = methods.REFERENCE
    if switch is not None:
        return {"library": f"pass {switch}=True to keep it exactly",
                "cli": f"drop --no-{switch.replace('_', '-')} to keep it exactly",
                "widget": f"tick '{switch}' to keep it exactly"}[surface]
    return {"library": f"use a method that keeps topology (e.g. method='{ref}')",
            "cli": f"use --method {ref} to keep it exactly",
            "widget": f"choose {ref} to keep it exactly"}[surface]


def topology_changed(method: str, errors, surface: str, subject: str = "the input's") -> str:
    """``method``'s skeleton changed ``subject`` topology by ``errors`` (β0 error, β1 error)."""
    e0, e1 = errors
    return (f"the {method} skeleton changed {subject} topology (β0 error {e0}, β1 error {e1}); "
            f"{topology_fix(method, surface)}.")


def intensity_image(subject: str, reason: str, surface: str) -> str:
    """``subject`` looks like an intensity image (a photo) rather than labels, because of ``reason``."""
    act = {"library": "threshold it first (e.g. `image > skimage.filters.threshold_otsu(image)`) or pass labels",
           "cli": "pass --threshold otsu (or a value) to skeletonize its foreground",
           "widget": "open it as an Image layer and skeletonize it with a threshold"}[surface]
    return (f"{subject} looks like an intensity image, not a label image: {reason}. Each grey value is "
            f"skeletonized as an object; {act}.")
