import pytest
import torch

from napari_skelite.device import resolve_device, synchronize


def test_auto_resolves_to_a_device_that_exists_here():
    dev = resolve_device("auto")
    assert torch.zeros(1, device=dev).device.type == dev.type


def test_an_unknown_device_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu-please")


def test_synchronize_waits_on_nothing_for_the_cpu(monkeypatch):
    def fail(*a):
        raise AssertionError("no CUDA wait for a CPU timer")

    monkeypatch.setattr(torch.cuda, "synchronize", fail)
    synchronize("cpu")


def test_synchronize_on_an_mps_device_waits_on_mps_not_cuda(monkeypatch):
    calls = []

    def fail(*a):
        raise AssertionError("CUDA synchronize called for an MPS device")

    monkeypatch.setattr(torch.cuda, "synchronize", fail)
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append("mps"))
    synchronize(torch.device("mps"))
    assert calls == ["mps"]


def test_skeletonize_runs_on_one_torch_thread_and_restores_the_callers_setting(monkeypatch):
    import numpy as np
    import torch

    import napari_skelite.api as api
    from napari_skelite import skeletonize

    seen = []
    real = api.skeletonize_array

    def spy(*a, **k):
        seen.append(torch.get_num_threads())
        return real(*a, **k)

    monkeypatch.setattr(api, "skeletonize_array", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        skeletonize(np.pad(np.ones((6, 8), bool), 2), "boolean")
        skeletonize(np.pad(np.ones((6, 8), bool), 2), "boolean", threads=None)
        assert seen == [1, 2] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_bad_thread_count_is_refused():
    import numpy as np
    import pytest

    from napari_skelite import skeletonize

    with pytest.raises(ValueError, match="threads"):
        skeletonize(np.ones((4, 4), bool), "boolean", threads=0)
