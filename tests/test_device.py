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
