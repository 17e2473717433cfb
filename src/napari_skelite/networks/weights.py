"""Saving and loading Skelite weights (never executes code from a file)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from .network import Skelite, SkeliteNet
from .subfield import SubfieldNet

__all__ = [
    "DEFAULT_VARIANT", "FORMAT", "FORMAT_VERSION", "VARIANTS", "default_weights_path", "load_cached", "load_network",
    "read_card", "save_network",
]

FORMAT = "napari-skelite-weights"
FORMAT_VERSION = 1


def _weights_dirs() -> list[Path]:
    package = Path(__file__).resolve().parent.parent
    dirs = [package / "weights", package.parent.parent / "weights"]  # installed wheel; source checkout
    env = os.environ.get("NAPARI_SKELITE_WEIGHTS")
    return ([Path(env)] if env else []) + dirs


#: the variant whose weights ship as ``skelite_{ndim}d.pt``; others are ``skelite_{ndim}d_{variant}.pt``
DEFAULT_VARIANT = {2: "paper", 3: "subfield"}
VARIANTS = ("paper", "subfield")


def default_weights_path(ndim: int, variant: str | None = None) -> Path:
    """Path of the shipped weights for ``ndim`` and ``variant`` (the first that exists, else the expected one).

    ``variant=None`` is the default variant of ``ndim`` (:data:`DEFAULT_VARIANT`).
    """
    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}.")
    variant = variant or DEFAULT_VARIANT[ndim]
    name = f"skelite_{ndim}d.pt" if variant == DEFAULT_VARIANT[ndim] else f"skelite_{ndim}d_{variant}.pt"
    for d in _weights_dirs():
        if (d / name).is_file():
            return d / name
    return _weights_dirs()[-1] / name


def _json_default(v):
    """JSON fallback for numpy scalars in model cards."""
    return v.item() if hasattr(v, "item") else str(v)


def read_card(path) -> dict:
    """The model card stored inside a weights file."""
    return json.loads(torch.load(path, map_location="cpu", weights_only=True).get("card", "{}"))


def save_network(net, path, card: dict | None = None) -> None:
    """Write ``net``'s weights and a model card to ``path`` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(
        {"format": FORMAT, "format_version": FORMAT_VERSION, "architecture": net.architecture,
         "ndim": net.ndim, "state_dict": net.state_dict(),
         "card": json.dumps(card or {}, default=_json_default)},
        tmp,
    )
    os.replace(tmp, path)


def load_network(path=None, ndim: int = 2, device="cpu"):
    """Load a :class:`~napari_skelite.networks.SkeliteNet` or :class:`~napari_skelite.networks.SubfieldNet` from ``path``.

    Parameters
    ----------
    path : str or Path, optional
        Defaults to the shipped ``weights/skelite_{ndim}d.pt``.
    ndim : {2, 3}
        The dimensionality the caller needs; a file for another one is refused.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is corrupt, not a napari-skelite weights file, from a newer
        format version, for another dimensionality or another architecture.
    """
    path = Path(path) if path is not None else default_weights_path(ndim)
    if not path.is_file():
        raise FileNotFoundError(
            f"Skelite weights file not found: {path}. Train it with "
            f"`napari-skelite train --dim {ndim} [--variant subfield] --out {path}`, or pass weights=PATH; "
            "method='boolean' needs no weights."
        )
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # truncated zip, pickle with code, random bytes ...
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise ValueError(f"Skelite weights file {path} is corrupt or not a weights file ({type(e).__name__}: {first}).") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path} is not a napari-skelite weights file (no '{FORMAT}' header).")
    if int(ckpt.get("format_version", 0)) > FORMAT_VERSION:
        raise ValueError(
            f"{path} has weights format version {ckpt['format_version']}, newer than this "
            f"napari-skelite understands ({FORMAT_VERSION}); upgrade napari-skelite."
        )
    networks = {cls.architecture: cls for cls in (SkeliteNet, SubfieldNet)}
    if ckpt.get("architecture") not in networks:
        raise ValueError(f"{path} holds architecture {ckpt.get('architecture')!r}, expected one of "
                         f"{', '.join(repr(a) for a in networks)}.")
    if ckpt.get("ndim") != ndim:
        raise ValueError(f"{path} holds {ckpt.get('ndim')}D weights but the input is {ndim}D; pass the {ndim}D weights file.")
    cls = networks[ckpt["architecture"]]
    try:
        net = cls.from_state_dict(ndim, ckpt["state_dict"]) if hasattr(cls, "from_state_dict") else cls(ndim)
        net.load_state_dict(ckpt["state_dict"])
    except (RuntimeError, KeyError) as e:
        raise ValueError(f"{path} does not match the Skelite {ndim}D network: {e}") from e
    if isinstance(net, SubfieldNet):
        net.certified = _certified(net, json.loads(ckpt.get("card", "{}") or "{}"))
    return net.to(device).eval()


def _certified(net: SubfieldNet, card: dict) -> bool:
    """Whether ``card`` records a check of the whole window table at the network's threshold with no wrong deletion."""
    from .subfield import table_size

    t = card.get("window_table") or {}
    return (t.get("false_delete") == 0 and t.get("windows") == table_size(net.ndim)
            and t.get("threshold") == float(net.threshold))


_MODELS: dict = {}


def load_cached(ndim: int, device="cpu", weights=None, variant: str | None = None):
    """The network ready to run: a :class:`~napari_skelite.networks.Skelite` (paper variant) or a
    :class:`~napari_skelite.networks.SubfieldNet`, on ``device``, in eval mode.

    ``weights`` is a path or a network (``None``: the shipped file of ``variant``).
    Files are cached by path, modification time and size, so a replaced file is
    reloaded; the cache holds the last four networks.
    """
    if isinstance(weights, torch.nn.Module):
        net = weights.to(device).eval()
        return net if isinstance(net, SubfieldNet) else Skelite(ndim, net).to(device).eval()
    path = Path(default_weights_path(ndim, variant) if weights is None else weights)
    st = path.stat() if path.is_file() else None
    key = (str(path.resolve()), st and st.st_mtime_ns, st and st.st_size, ndim, str(device))
    if key not in _MODELS:
        net = load_network(path, ndim, device)
        while len(_MODELS) >= 4:
            _MODELS.pop(next(iter(_MODELS)))
        _MODELS[key] = net if isinstance(net, SubfieldNet) else Skelite(ndim, net).eval()
    return _MODELS[key]
