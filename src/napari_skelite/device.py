"""Resolve a device name per call (no global default device)."""
from __future__ import annotations

import threading
from contextlib import contextmanager

__all__ = ["resolve_device", "synchronize", "torch_threads"]

_THREADS_LOCK = threading.Lock()
_THREADS_STATE = {"users": 0, "saved": None}


@contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch intra-op threads, then restore the caller's setting.

    ``None`` leaves the setting alone. The setting is process-wide: blocks that
    overlap (threads of one chunked run, or two runs) share it, and the
    caller's value comes back when the last one ends.
    """
    if n is None:
        yield
        return
    import torch

    with _THREADS_LOCK:
        if _THREADS_STATE["users"] == 0:
            _THREADS_STATE["saved"] = torch.get_num_threads()
            torch.set_num_threads(int(n))
        _THREADS_STATE["users"] += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_STATE["users"] -= 1
            if _THREADS_STATE["users"] == 0:
                torch.set_num_threads(_THREADS_STATE["saved"])


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
