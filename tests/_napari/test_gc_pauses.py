"""Freezing the garbage collector's objects: shorter full collections, and removed layers still freed."""
import gc
import weakref

import numpy as np
import pytest

from napari_skelite._napari import gc_pauses

from .conftest import labels


@pytest.fixture
def freezing(monkeypatch):
    monkeypatch.setenv("NAPARI_SKELITE_GC_FREEZE", "1")
    gc_pauses.thaw()
    yield
    gc_pauses.thaw()


def _remove(viewer, name):
    viewer.layers.remove(name)
    viewer.add_labels(np.zeros((4, 4), np.uint8), name="next")  # napari's selection lets go of the removed layer


def test_a_frozen_layer_removed_from_the_viewer_is_freed(session_of, freezing):
    data = labels().astype(np.int32)
    gone = weakref.ref(data)
    session = session_of(data)
    assert gc_pauses.freeze() and gc_pauses.is_frozen(session.input_layer())
    _remove(session.viewer, "cells")
    del data
    gc.collect()
    assert gone() is None and gc.get_freeze_count() == 0


def test_a_layer_made_after_the_freeze_is_freed_without_unfreezing(session_of, freezing):
    session = session_of()
    gc_pauses.freeze()
    data = labels().astype(np.int32)
    gone = weakref.ref(data)
    session.viewer.add_labels(data, name="late")
    _remove(session.viewer, "late")
    del data
    gc.collect()
    assert gone() is None and gc.get_freeze_count() > 0


def test_the_next_job_freezes_again_only_after_a_full_collection(freezing):
    class Cycle:
        pass

    first = Cycle()
    first.me = first
    gc_pauses.freeze()
    assert gc_pauses.released(first) and not gc_pauses.refreeze()
    gc.collect()
    assert gc_pauses.refreeze() and gc.get_freeze_count() > 0


def test_nothing_is_frozen_when_switched_off(monkeypatch):
    monkeypatch.setenv("NAPARI_SKELITE_GC_FREEZE", "0")
    assert not gc_pauses.freeze() and gc.get_freeze_count() == 0


def test_the_warm_up_freezes_what_it_imported(monkeypatch, freezing):
    from napari_skelite._napari import warmup

    for step in ("_engine", "_graph", "_shapes"):
        monkeypatch.setattr(warmup, step, lambda ndims, check: None)
    monkeypatch.setattr(warmup, "_done", set())
    thread = warmup.warm_up([np.uint8], engine=True, graph=True)
    thread.join(60)
    assert gc.get_freeze_count() > 0
