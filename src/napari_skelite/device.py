"""Resolve a device name per call (no global default device)."""
from __future__ import annotations

__all__ = ["resolve_device", "synchronize"]


def resolve_device(device="auto"):
    """Return a ``torch.device`` for ``"auto"``, ``"cpu"``, ``"cuda"``, ``"mps"`` or a device.

    ``"auto"`` picks CUDA, then MPS, then CPU. Asking for a device that is not
    available raises a ``ValueError`` saying which are.
    """
    import torch

    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available; use device='auto' or 'cpu'.")
    if name == "mps" and not has_mps:
        raise ValueError("device='mps' was asked for but MPS is not available; use device='auto' or 'cpu'.")
    try:
        return torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'mps'.") from e


def synchronize(device) -> None:
    """Wait for the work queued on ``device`` (CUDA or MPS); nothing to wait for on the CPU.

    Timers call it before reading the clock, since GPU kernels run asynchronously.
    """
    import torch

    dev = resolve_device(device)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()
