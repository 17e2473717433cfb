"""The ``subfield`` Skelite variant: a compact network that judges one subfield at a time.

The paper's loop shows a network a two-layer band and asks it to decide, in
one parallel step, which band points can go. In 3D that asks three 3x3x3
convolutions to learn the 26-neighbour simple-point test, and to order
deletions of neighbouring points, from raw voxels; trained on a CPU the paper's
formulation kept deleting about 10% of the topology-carrying band points per
step (``docs/training-notes.md``).

This variant changes the loop, not the idea. Each iteration marks the end
points of the current skeleton once, then visits the ``2**ndim`` subfields
(the points of one parity in every axis); no two points of one subfield are
neighbours. In each subfield pass, the network sees, at every border point
of that subfield:

- channel 0, ``S``: the current binary skeleton (its 3x3(x3) neighbourhood),
- channel 1, ``candidate``: the points judged in this pass,
- channel 2, ``deletable``: the simple-point table's answer for the current
  state, minus the end points marked at the iteration's start,

and proposes deletions; the pass deletes them all at once. Because the points
of one subfield do not touch, deleting any set of simple points of a subfield
in one pass keeps every Betti number: the topology is kept whenever the
network deletes only points the table marks deletable, which is the function
the network is trained to copy (the teacher is the Boolean thinning,
:mod:`napari_skelite.methods.boolean`). With ``guard=True`` the proposals are
intersected with ``deletable``, so the guard costs nothing beyond the table
lookup the loop does anyway.

The network is Conv 3x3(x3) 3->32, ReLU, Conv 1x1 32->32, ReLU, Conv 1x1
32->1: its receptive field is the neighbourhood the simple-point and end-point
tests read. The loop stops when an iteration deletes nothing.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..topology import Grid
from ..topology.thinning import subfield_passes

__all__ = ["SubfieldNet", "subfield_iterate", "subfield_thin", "pass_inputs", "teacher_passes", "ARCHITECTURE"]

#: the architecture name stored in weights files of this variant
ARCHITECTURE = "skelite-subfield-v1"


class SubfieldNet(nn.Module):
    """Conv 3x3(x3) 3->32, ReLU, 1x1 32->32, ReLU, 1x1 32->1 (one deletion logit).

    3,713 parameters in 3D, 1,985 in 2D.
    """

    #: side of the input window one output depends on (the receptive field)
    window = 3
    variant = "subfield"
    architecture = ARCHITECTURE

    def __init__(self, ndim: int = 3, width: int = 32):
        super().__init__()
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 or 3; got {ndim}.")
        conv = nn.Conv2d if ndim == 2 else nn.Conv3d
        self.ndim = ndim
        self.body = nn.Sequential(
            conv(3, width, 3, padding=1), nn.ReLU(inplace=True),
            conv(width, width, 1), nn.ReLU(inplace=True),
            conv(width, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, *spatial)`` float -> deletion logits ``(B, 1, *spatial)``."""
        return self.body(x)

    def window_logits(self, windows: torch.Tensor) -> torch.Tensor:
        """Logits at the centres of ``(P, 3, 3, 3[, 3])`` windows -> ``(P,)``.

        Equal, up to float rounding, to :meth:`forward` at each window's centre.
        """
        first, _, mid, _, last = self.body
        h = windows.reshape(len(windows), -1) @ first.weight.reshape(first.weight.shape[0], -1).T + first.bias
        h = torch.relu(h)
        h = torch.relu(h @ mid.weight.reshape(mid.weight.shape[0], -1).T + mid.bias)
        return (h @ last.weight.reshape(1, -1).T + last.bias)[:, 0]

    def centre_logits(self, s_windows: torch.Tensor, deletable: torch.Tensor) -> torch.Tensor:
        """:meth:`window_logits` of :func:`pass_inputs`'s windows, from their parts.

        ``s_windows``: ``(P, 3**ndim)`` float, the state around each candidate;
        ``deletable``: ``(P,)`` bool. The candidate and deletable channels are zero
        except at the centre, so the first layer reduces to the state's part plus
        two centre weights: the same values, about a third of the work.
        """
        first, _, mid, _, last = self.body
        w = first.weight.reshape(first.weight.shape[0], 3, -1)
        centre = w.shape[2] // 2
        h = torch.addmm(first.bias + w[:, 1, centre], s_windows, w[:, 0].T)
        h = torch.relu(h + deletable.to(h.dtype)[:, None] * w[:, 2, centre])
        h = torch.relu(h @ mid.weight.reshape(mid.weight.shape[0], -1).T + mid.bias)
        return (h @ last.weight.reshape(1, -1).T + last.bias)[:, 0]


def _window_offsets(grid: Grid) -> torch.Tensor:
    """Flat offsets of the full 3x3(x3) window in raster order (the conv kernel's order)."""
    offs = np.array(list(itertools.product((-1, 0, 1), repeat=grid.ndim)))
    return torch.as_tensor(offs @ grid.strides, device=grid.device)


def pass_inputs(grid: Grid, flat: torch.Tensor, cand: torch.Tensor, deletable: torch.Tensor,
                window: torch.Tensor) -> torch.Tensor:
    """The network's input windows at the candidates of one pass, ``(P, 3, 3, 3[, 3])`` float.

    Parameters
    ----------
    grid : Grid
    flat : bool tensor, the padded flattened state ``S``
    cand : (P,) int64 flat indices of this pass's candidates (one subfield: no two touch)
    deletable : (P,) bool, the table's answer at ``cand``
    window : flat offsets of the window (:func:`_window_offsets`)
    """
    nb = cand[:, None] + window[None, :]
    s = flat[nb].float()
    centre = torch.zeros_like(s)
    mid = window.shape[0] // 2
    centre[:, mid] = 1.0  # candidates of one subfield never neighbour each other
    dele = torch.zeros_like(s)
    dele[:, mid] = deletable.float()
    side = (3,) * grid.ndim
    return torch.stack([s, centre, dele], 1).reshape((len(cand), 3) + side)


def _passes(mask: torch.Tensor, decide, iterations=None, tick=None) -> Iterator[tuple]:
    """Run the subfield loop; ``decide(grid, flat, cand, deletable) -> bool (P,)`` picks deletions.

    Yields ``(k, sub, grid, flat, cand, deletable, delete)`` after each pass, and
    ``(k, None, grid, flat, None, None, None)`` after each iteration. Stops
    when an iteration deletes nothing (whatever ``iterations`` says) or after
    ``iterations`` iterations.
    """
    grid = Grid(tuple(mask.shape), mask.device)
    flat = F.pad(mask.bool(), (1, 1) * grid.ndim).reshape(-1).clone()
    for step in subfield_passes(grid, flat, iterations=iterations, tick=tick, decide=decide):
        if step.deletable is not None:
            yield step.iteration, step.subfield, grid, flat, step.cand, step.deletable, step.delete
        if step.last:
            yield step.iteration, None, grid, flat, None, None, None
            if not step.changed:
                return


def _unpad(grid: Grid, flat: torch.Tensor) -> torch.Tensor:
    return flat.reshape(grid.shape)[(slice(1, -1),) * grid.ndim].clone()


def _network_decider(net: SubfieldNet, guard: bool, threshold: float = 0.0, block: int = 1 << 16):
    window_cache = {}

    def decide(grid, flat, cand, deletable):
        key = grid.shape
        if key not in window_cache:
            window_cache.clear()
            window_cache[key] = _window_offsets(grid)
        window = window_cache[key]
        out = torch.zeros_like(deletable)
        where = torch.nonzero(deletable).squeeze(1) if guard else torch.arange(len(cand), device=cand.device)
        for i in range(0, len(where), block):
            idx = where[i:i + block]
            s_windows = flat[cand[idx][:, None] + window[None, :]].float()
            out[idx] = net.centre_logits(s_windows, deletable[idx]) > threshold
        return out & deletable if guard else out

    return decide


@torch.no_grad()
def subfield_iterate(net: SubfieldNet, mask: torch.Tensor, iterations: int | None = None, *,
                     guard: bool = False, tick=None) -> Iterator[torch.Tensor]:
    """Yield the binary skeleton after each iteration of the subfield loop.

    Parameters
    ----------
    net : SubfieldNet
    mask : (H, W) or (D, H, W) bool tensor
        The image border counts as background.
    iterations : int, optional
        At most this many iterations; the loop always stops when one deletes nothing.
    guard : bool
        Carry out only proposals the simple-point table marks deletable (topology kept exactly).
    tick : callable, optional
        Called once per iteration (raise in it to cancel).
    """
    if mask.ndim != net.ndim:
        raise ValueError(f"a {net.ndim}D subfield network cannot thin a {mask.ndim}D mask.")
    decide = _network_decider(net, guard)
    for _k, sub, grid, flat, *_ in _passes(mask, decide, iterations, tick):
        if sub is None:
            yield _unpad(grid, flat)


def subfield_thin(net: SubfieldNet, mask: torch.Tensor, iterations: int | None = None, *,
                  guard: bool = False, tick=None) -> torch.Tensor:
    """Binary skeleton of ``mask`` (bool tensor) by the subfield loop; see :func:`subfield_iterate`."""
    s = mask.bool().clone()
    for s in subfield_iterate(net, mask, iterations, guard=guard, tick=tick):
        pass
    return s


def teacher_passes(mask: torch.Tensor, iterations: int | None = None) -> Iterator[tuple]:
    """The teacher's passes (Boolean thinning: delete exactly what is deletable).

    Yields ``(grid, flat_before, cand, deletable)`` for every pass: the state
    before the pass (a copy), its candidates and the table's answer, which is
    the teacher's decision. Used to build training windows.
    """
    snapshot = {}

    def decide(grid, flat, cand, deletable):
        snapshot["flat"] = flat.clone()
        return deletable

    for _k, sub, grid, _flat, cand, deletable, _d in _passes(mask, decide, iterations):
        if sub is not None:
            yield grid, snapshot["flat"], cand, deletable
