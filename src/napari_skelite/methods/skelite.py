"""The learned Skelite method on one binary object: the paper variant or the subfield variant."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._registry import Method, Option, count_iterations, register, thinning_halo

if TYPE_CHECKING:
    import torch

#: the network variants (``napari_skelite.networks.VARIANTS``, named here without importing torch)
VARIANTS = ("paper", "subfield")
#: the precisions of the paper variant's matrix products
PRECISIONS = ("float32", "bfloat16")

__all__ = ["METHOD", "PRECISIONS", "VARIANTS", "run", "variant_of"]


def _check_precision(precision) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else a :class:`ValueError` naming them."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}.")
    return precision


def load_cached(*args):
    """:func:`napari_skelite.networks.load_cached` (torch and the network code are imported on first use)."""
    from ..networks import load_cached as load

    return load(*args)


def variant_of(ndim: int, weights=None, variant=None) -> str:
    """The variant (``"paper"`` or ``"subfield"``) of the network that ``weights`` (or the shipped file) holds."""
    return load_cached(ndim, "cpu", weights, variant).variant


def _steps(mask, states, skel, return_steps):
    if not return_steps:
        return skel, None
    steps = [mask.astype(bool)] + states
    steps[-1] = skel.copy() if len(steps) > 1 else steps[-1]
    return skel, steps


def _run_subfield(net, mask, iterations, device, return_steps, guard, tick):
    import torch

    from ..networks import subfield_iterate, thin_blocks

    t = torch.as_tensor(np.ascontiguousarray(mask), device=device).bool()
    states = []
    s = t
    with torch.inference_mode():
        for s in subfield_iterate(net, t, iterations, guard=guard, tick=tick):
            if return_steps:
                states.append(s.cpu().numpy())
        if guard:
            s = thin_blocks(s)
        skel = s.cpu().numpy()
    return _steps(mask, states, skel, return_steps)


def _run_paper(model, mask, iterations, device, return_steps, guard, tick, dense, precision):
    import torch

    from ..networks import guarded, sparse_iterate, thin_blocks

    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    if dense and dtype != torch.float32:
        raise ValueError("the dense reference loop runs in float32 only; use the default sparse path for bfloat16.")
    loop = model.iterate if dense else lambda x, it, g: sparse_iterate(model, x, it, guard=g is not None, dtype=dtype)
    x = torch.as_tensor(np.ascontiguousarray(mask), dtype=torch.float32, device=device)[None, None]
    states = []
    with torch.inference_mode():
        s = x
        for s in loop(x, iterations, guarded if guard else None):
            if tick is not None:
                tick()
            if return_steps:
                states.append((s[0, 0] > 0.5).cpu().numpy())
        hard = s[0, 0] > 0.5
        if guard:
            hard = thin_blocks(hard)
        skel = hard.cpu().numpy()
    return _steps(mask, states, skel, return_steps)


def run(mask: np.ndarray, *, iterations=None, device="cpu", return_steps=False, tick=None, weights=None,
        variant=None, guard=True, precision="float32", dense=False):
    """Skelite on one binary object.

    ``weights`` (a path or a network) or, without it, ``variant`` picks the
    network; the network's own variant decides the loop. ``guard`` carries out
    only deletions that keep the topology. ``dense=True`` (paper variant) uses
    the dense differentiable loop instead of the band-sparse one;
    ``precision="bfloat16"`` (paper variant) runs the sparse path's products in bf16.
    """
    from ..networks import SubfieldNet

    precision = _check_precision(precision)
    model = load_cached(mask.ndim, device, weights, variant)
    if isinstance(model, SubfieldNet):
        if dense or precision != "float32":
            raise ValueError("the subfield variant runs in float32 on its own loop; dense and bfloat16 are "
                             "options of the paper variant (variant='paper').")
        return _run_subfield(model, mask, iterations, device, return_steps, guard, tick)
    return _run_paper(model, mask, iterations, device, return_steps, guard, tick, dense, precision)


def _halo(ndim, depth, iterations, options) -> int:
    """Paper variant: a point of depth ``d`` is judged in iteration ``ceil(d / 2)`` from a 7x7(x7) window of
    states that depend on the mask within ``3 (k - 1) + 5`` points (exact by construction); the guard and
    the subfield variant pass information like subfield thinning."""
    thinning = thinning_halo(ndim, depth, iterations, options)
    if variant_of(ndim, options["weights"], options["variant"]) == "subfield":
        return thinning
    h = 3 * count_iterations(iterations, None if depth is None else -(-depth // 2)) + 2
    return max(h, thinning) if options["guard"] else h


def _needs_depth(ndim, iterations, options) -> bool:
    return (iterations is None or bool(options["guard"])
            or variant_of(ndim, options["weights"], options["variant"]) == "subfield")


def _keeps_topology(options, ndim: int) -> bool:
    """With the guard, always; without it, when the network is a subfield network verified on the whole
    window table (no non-simple point and no end point deleted: see ``SubfieldNet.certified``)."""
    if options["guard"]:
        return True
    net = load_cached(ndim, "cpu", options["weights"], options["variant"])
    return bool(getattr(net, "certified", False))


def _provenance(options, ndim: int) -> dict:
    """The weights file a run used: path, checksum, variant and training command (a network object: its type)."""
    import hashlib

    from ..networks.weights import default_weights_path, read_card

    weights = options["weights"]
    if weights is not None and not isinstance(weights, (str, Path)):  # a network object given in Python
        return {"weights": {"path": None, "shipped": False, "object": type(weights).__name__}}
    path = Path(weights) if weights is not None else default_weights_path(ndim, options["variant"])
    info = {"path": str(path.resolve()), "shipped": weights is None}
    if path.is_file():
        info["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            card = read_card(path)
            info["variant"] = card.get("variant", "paper")
            info["training_command"] = card.get("command")
        except (OSError, ValueError):
            pass  # the skeleton was made from it, so it loaded; the card is only a courtesy
    return {"weights": info}


def _soft(x: torch.Tensor, iterations, options) -> torch.Tensor:
    """A differentiable Skelite skeleton of the batch ``x`` (binarised straight-through).

    The subfield network's soft loop (``S <- S - candidate * d``), unless a
    paper-variant network is asked for (``variant="paper"`` or its weights
    file): then the paper's dense loop.
    """
    from ..networks import SubfieldNet, binarize, soft_subfield_skeleton

    nd = x.ndim - 2
    weights = options.get("weights")
    variant = options.get("variant") or (None if weights is not None else "subfield")
    model = load_cached(nd, x.device, weights, variant)
    if isinstance(model, SubfieldNet):
        return soft_subfield_skeleton(model, x, iterations)
    xb = binarize(x)
    s = xb
    for s in model.iterate(xb, iterations):
        pass
    return s


METHOD = register(Method(
    name="skelite",
    label="Skelite (learned)",
    description="learned iterative thinning (Skelite); with the guard (default) its topology is exact",
    run=run,
    options=(
        Option("weights", None, Path, "a weights file instead of the shipped one"),
        Option("variant", None, str, "which shipped network: paper or subfield (default: paper in 2D, subfield in 3D)",
               choices=VARIANTS),
        Option("guard", True, bool, "the topology guard, which carries out only deletions that keep the topology "
                                   "exactly"),
        Option("precision", "float32", str, "paper variant: precision of the network's products",
               choices=PRECISIONS),
        Option("dense", False, bool, "paper variant: the dense differentiable reference loop instead of the "
                                     "band-sparse one (same skeleton, slower)"),
    ),
    halo=_halo,
    needs_depth=_needs_depth,
    bytes_per_voxel=300,
    keeps_topology=_keeps_topology,
    soft_skeleton=_soft,
    topology_switch="guard",
    provenance=_provenance,
))
