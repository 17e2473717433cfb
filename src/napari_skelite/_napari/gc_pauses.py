"""Shorter garbage-collection pauses while the plugin works in napari (no Qt).

Python's full garbage collection stops every thread, the GUI's included,
while it walks every object the collector tracks: with napari, Qt and torch
loaded that is about 600,000 objects and 150-250 ms (one core of a laptop),
longer than a click should wait; the plugin's jobs allocate enough to set one
off every few seconds. Once the warm-up has imported and compiled what the
plugin needs, :func:`freeze` moves every object alive then (modules,
functions, napari's widgets) to the collector's permanent generation
(:func:`gc.freeze`): later full collections walk only the objects made
since (30-70 ms).

A frozen object is not collected while it is frozen, and a napari layer sits
in reference cycles: a layer that was frozen and is then removed from the
viewer would keep its data in memory. So the session calls :func:`released`
for every removed layer: when that layer is frozen, everything is unfrozen
and the next full collection frees it; the next job freezes again
(:func:`refreeze`) once such a collection has run. Closing the widget
unfreezes (:func:`thaw`). ``NAPARI_SKELITE_GC_FREEZE=0`` leaves the collector
alone.
"""
from __future__ import annotations

import gc
import os
import threading

__all__ = ["enabled", "freeze", "is_frozen", "refreeze", "released", "thaw"]

_lock = threading.Lock()
_state = {"frozen": False, "collected": False, "hooked": False}


def enabled() -> bool:
    """False when ``NAPARI_SKELITE_GC_FREEZE=0``."""
    return os.environ.get("NAPARI_SKELITE_GC_FREEZE", "1") != "0"


def _on_collection(phase, info) -> None:
    if phase == "stop" and info.get("generation") == 2:
        _state["collected"] = True


def freeze() -> bool:
    """Freeze every object alive now (see the module docstring); False when switched off."""
    if not enabled():
        return False
    with _lock:
        if not _state["hooked"]:
            gc.callbacks.append(_on_collection)
            _state["hooked"] = True
        gc.freeze()
        _state["frozen"] = True
    return True


def is_frozen(obj) -> bool:
    """Whether ``obj`` is in the permanent generation: tracked, and in none of the collected generations."""
    obj = getattr(obj, "__wrapped__", obj)  # napari's proxy of a layer: the layer
    if not gc.is_tracked(obj):
        return False
    return not any(o is obj for generation in range(3) for o in gc.get_objects(generation))


def released(obj) -> bool:
    """``obj`` (a removed layer) may be garbage now: when it is frozen, unfreeze everything; True if so."""
    with _lock:
        if not (_state["frozen"] and is_frozen(obj)):
            return False
        gc.unfreeze()
        _state["frozen"], _state["collected"] = False, False
        return True


def refreeze() -> bool:
    """Freeze again after :func:`released`, once a full collection has freed what was released; True if so."""
    with _lock:
        due = _state["hooked"] and not _state["frozen"] and _state["collected"]
    return freeze() if due else False


def thaw() -> None:
    """Unfreeze everything (the widget closes: nothing watches the layers any more)."""
    with _lock:
        if _state["frozen"]:
            gc.unfreeze()
        _state["frozen"], _state["collected"] = False, False
