"""The ``subfield`` Skelite variant: a compact network that judges one subfield at a time from raw voxels.

Each iteration marks the end points of the current skeleton once (points
with at most one neighbour: a neighbour count, not a topology test), then
visits the ``2**ndim`` subfields (the points of one parity in every axis); no
two points of one subfield are neighbours. In each subfield pass the network
sees, at every border point of that subfield,

- the 3x3(x3) window of the current binary state (the candidate included), and
- one bit: the candidate was an end point at the start of the iteration,

and proposes deletions; the pass deletes them all at once. Nothing else
enters the network: in particular not the simple-point table, which stays
with the guard, the Boolean baseline, the training targets and verification.
Because the points of one subfield do not touch, deleting any set of simple
points of one subfield keeps every Betti number, so the plain loop keeps the
topology exactly when the network deletes only simple points that were not
end points. For a window network that is a finite claim, checked on the whole
window table (:func:`window_table_errors`: 512 entries in 2D, 2**26 in 3D).

The network is Conv 3x3(x3) 1->W on the state plus W weights of the end bit,
ReLU, 1x1 W->W, ReLU, 1x1 W->1: a two-hidden-layer perceptron of the window.
A point is deleted when its logit exceeds the network's ``threshold`` (stored
with the weights). As a function of a small binary window it is evaluated
once per distinct window and the decisions are cached for every later run
(:meth:`SubfieldNet.decide`); the dense form (:meth:`SubfieldNet.forward`,
:func:`soft_subfield_skeleton`) is small convolutions for GPUs and for
differentiable use.
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..topology import Grid
from ..topology.grid import gather, near, neighbour_offsets
from ..topology.thinning import subfield_passes

__all__ = [
    "ARCHITECTURE",
    "SubfieldNet",
    "code_windows",
    "soft_subfield_skeleton",
    "subfield_iterate",
    "subfield_thin",
    "teacher_passes",
    "window_table_errors",
]

#: the architecture name stored in weights files of this variant
ARCHITECTURE = "skelite-subfield-raw-v1"

#: guards the filling of the decision tables, which runs in several threads share
_FILL_LOCK = threading.Lock()

#: hidden width of the shipped networks per dimensionality
DEFAULT_WIDTH = {2: 32, 3: 256}


def code_windows(codes: torch.Tensor, ndim: int) -> torch.Tensor:
    """Neighbourhood codes (bit ``p`` = neighbour ``p`` of :func:`~napari_skelite.topology.grid.neighbour_offsets`)
    as windows ``(P, 3**ndim)`` float in raster order, the centre set."""
    n = len(neighbour_offsets(ndim))
    bits = (codes[:, None] >> torch.arange(n, device=codes.device)) & 1
    centre = torch.ones_like(bits[:, :1])
    half = n // 2
    return torch.cat([bits[:, :half], centre, bits[:, half:]], 1).float()


class SubfieldNet(nn.Module):
    """Conv 3x3(x3) 1->W on the state + W end-bit weights, ReLU, 1x1 W->W, ReLU, 1x1 W->1.

    Parameters
    ----------
    ndim : {2, 3}
    width : int, optional
        Hidden width (default 32 in 2D, 256 in 3D: 1,441 and 73,473 parameters).
    """

    #: side of the input window one output depends on (the receptive field)
    window = 3
    variant = "subfield"
    architecture = ARCHITECTURE

    def __init__(self, ndim: int = 3, width: int | None = None):
        super().__init__()
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 or 3; got {ndim}.")
        width = int(width or DEFAULT_WIDTH[ndim])
        conv = nn.Conv2d if ndim == 2 else nn.Conv3d
        self.ndim = ndim
        self.width = width
        self.state = conv(1, width, 3, padding=1)
        self.end = conv(1, width, 1, bias=False)
        self.hidden = conv(width, width, 1)
        self.out = conv(width, 1, 1)
        #: a point is deleted when its logit exceeds this (set by calibration on the window table)
        self.register_buffer("threshold", torch.zeros(()))
        self._decisions: dict = {}
        #: verified on the whole window table (set when loaded from a file whose card records that check)
        self.certified = False

    @classmethod
    def from_state_dict(cls, ndim: int, state: dict) -> SubfieldNet:
        """A network shaped like ``state`` (its width read from the first layer)."""
        return cls(ndim, width=int(state["state.weight"].shape[0]))

    def forward(self, s: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
        """Deletion logits of every point: ``s``, ``end`` ``(B, 1, *spatial)`` float -> ``(B, 1, *spatial)``.

        ``s`` is the current state, ``end`` the end points marked at the
        iteration's start; the image border counts as background.
        """
        h = torch.relu(self.state(s) + self.end(end))
        return self.out(torch.relu(self.hidden(h)))

    def _flat_weights(self):
        w1 = self.state.weight.reshape(self.width, -1)
        return w1, self.state.bias, self.end.weight.reshape(-1), self.hidden.weight.reshape(self.width, -1), \
            self.hidden.bias, self.out.weight.reshape(1, -1), self.out.bias

    def window_logits(self, windows: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
        """Logits of ``(P, 3**ndim)`` float windows (raster order) with end bits ``(P,)`` -> ``(P,)``.

        Equal, up to float rounding, to :meth:`forward` at each window's centre.
        """
        w1, b1, we, w2, b2, w3, b3 = self._flat_weights()
        h = torch.relu(torch.addmm(b1, windows, w1.T) + end.to(windows.dtype)[:, None] * we)
        h = torch.relu(torch.addmm(b2, h, w2.T))
        return torch.addmm(b3, h, w3.T)[:, 0]

    def code_logits(self, codes: torch.Tensor, end: torch.Tensor, block: int = 1 << 16) -> torch.Tensor:
        """Logits of candidates given by neighbourhood codes ``(P,)`` int64 and end bits ``(P,)`` bool.

        Without gradients the first layer is two row lookups (the products of
        each half of the code's bits, tabulated) instead of a product: the same
        sums, in another order.
        """
        if torch.is_grad_enabled():
            out = [self.window_logits(code_windows(codes[i:i + block], self.ndim), end[i:i + block])
                   for i in range(0, len(codes), block)]
            return torch.cat(out) if out else torch.zeros(0, device=codes.device)
        w1, _b1, we, w2, b2, w3, b3 = self._flat_weights()
        low = len(neighbour_offsets(self.ndim)) // 2
        tables = self._half_tables(codes.device)
        out = torch.empty(len(codes), dtype=w1.dtype, device=codes.device)
        for i in range(0, len(codes), block):
            c = codes[i:i + block]
            h = tables[0].index_select(0, c & ((1 << low) - 1))
            h += tables[1].index_select(0, c >> low)
            e = end[i:i + block]
            if e.any():
                h += e.to(h.dtype)[:, None] * we
            h = torch.relu_(torch.addmm(b2, h.relu_(), w2.T))
            out[i:i + block] = torch.addmm(b3, h, w3.T)[:, 0]
        return out

    def _weights_version(self) -> tuple:
        """Changes whenever a parameter or the threshold is changed in place (an optimiser step, a fill)."""
        tensors = self.__dict__.get("_tensors")
        if tensors is None or tensors[0] is not self.state.weight:  # replaced by _apply or load_state_dict(assign)
            tensors = [*self.parameters(), self.threshold]
            self.__dict__["_tensors"] = tensors
        return tuple(t._version for t in tensors)

    @torch.no_grad()
    def _half_tables(self, device) -> list[torch.Tensor]:
        """First-layer sums of every value of the low and the high half of a code's bits (bias and centre in the first)."""
        key = ("tables", str(device))
        hit = self._decisions.get(key)
        if hit is not None and hit[0] == self._weights_version():
            return hit[1]
        w1, b1 = self._flat_weights()[:2]
        n = len(neighbour_offsets(self.ndim))
        half = low = n // 2
        wb = torch.cat([w1[:, :half], w1[:, half + 1:]], 1)  # (W, n): the weight of each code bit
        tables = []
        for lo, hi in ((0, low), (low, n)):
            k = hi - lo
            bits = (torch.arange(1 << k, device=device)[:, None] >> torch.arange(k, device=device)) & 1
            tables.append(bits.to(w1.dtype) @ wb[:, lo:hi].T)
        tables[0] += b1 + w1[:, half]  # a candidate's centre is set
        self._decisions[key] = (self._weights_version(), tables)
        return tables

    @torch.no_grad()
    def decide(self, codes: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
        """Deletions (bool ``(P,)``) of candidates with neighbourhood ``codes`` and ``end`` bits.

        Each distinct window is evaluated once; its decision is kept in a table
        of one byte per code (256 B in 2D, 64 MiB in 3D, filled as codes occur)
        that every later run on this network and device shares.
        """
        key = ("decisions", str(codes.device))
        hit = self._decisions.get(key)
        if hit is None or hit[0] != self._weights_version():
            n = len(neighbour_offsets(self.ndim))
            hit = (self._weights_version(), torch.zeros(1 << n, dtype=torch.uint8, device=codes.device))
            self._decisions[key] = hit
        known = hit[1]  # bits 0-1: end bit 0, bits 2-3: end bit 1; each 0 unknown, 1 keep, 2 delete
        shift = end.to(torch.uint8) * 2
        state = (gather(known, codes) >> shift) & 3
        if (state == 0).any():
            with _FILL_LOCK:  # runs in other threads share the table: each entry is filled once
                state = (gather(known, codes) >> shift) & 3
                todo = state == 0
                if todo.any():
                    pair = torch.unique(codes[todo] * 2 + end[todo].long())
                    c, e = pair >> 1, (pair & 1).bool()
                    verdict = torch.where(self.code_logits(c, e) > self.threshold, 2, 1).to(torch.uint8)
                    # each (code, end bit) is new and listed once, so adding sets exactly its two bits
                    known.index_put_((c,), verdict << (e.to(torch.uint8) * 2), accumulate=True)
                    state = (gather(known, codes) >> shift) & 3
        return state == 2

    def _apply(self, fn, *args, **kwargs):
        self._decisions = {}
        self.__dict__.pop("_tensors", None)
        return super()._apply(fn, *args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        self._decisions = {}
        return super().load_state_dict(*args, **kwargs)


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
        Carry out only proposals that are simple and not end points (the simple-point
        table decides: topology kept whatever the network proposes).
    tick : callable, optional
        Called once per iteration (raise in it to cancel).
    """
    if mask.ndim != net.ndim:
        raise ValueError(f"a {net.ndim}D subfield network cannot thin a {mask.ndim}D mask.")
    grid = Grid(tuple(mask.shape), mask.device)
    flat = grid.flat(mask.bool())
    for step in subfield_passes(grid, flat, iterations=iterations, tick=tick, decide=net.decide, guard=guard):
        if step.last:
            yield grid.unflat(flat)
            if not step.changed:
                return


def subfield_thin(net: SubfieldNet, mask: torch.Tensor, iterations: int | None = None, *,
                  guard: bool = False, tick=None) -> torch.Tensor:
    """Binary skeleton of ``mask`` (bool tensor) by the subfield loop; see :func:`subfield_iterate`."""
    s = mask.bool().clone()
    for s in subfield_iterate(net, mask, iterations, guard=guard, tick=tick):
        pass
    return s


def soft_subfield_skeleton(net: SubfieldNet, x: torch.Tensor, iterations: int | None = None,
                           max_iterations: int = 10_000) -> torch.Tensor:
    """The subfield loop on a batch, differentiable: ``S <- S - candidate * d`` in every pass.

    Parameters
    ----------
    net : SubfieldNet
    x : (B, 1, *spatial) float tensor
        Binarised straight-through (``x > 0.5`` forward, identity gradient); the
        image border counts as background.
    iterations : int, optional
        At most this many iterations (``None``: until one deletes nothing).

    Returns
    -------
    (B, 1, *spatial) tensor: ``d`` is ``logit > threshold`` in the forward pass
    with the gradient of ``sigmoid(logit - threshold)``, so the forward values
    are the hard loop's skeleton (up to float rounding of a logit at the
    threshold) and gradients reach ``x`` through the kept points and through the
    network's input windows. The network is evaluated at the candidates only.
    """
    from .network import binarize

    nd = x.ndim - 2
    if nd != net.ndim:
        raise ValueError(f"a {net.ndim}D subfield network cannot thin a {nd}D batch.")
    batch, shape = x.shape[0], tuple(x.shape[2:])
    grid = Grid(shape, x.device)  # a batch laid end to end: each item padded by one, neighbours stay inside
    padded = F.pad(binarize(x)[:, 0], (1, 1) * nd)
    flat = padded.reshape(-1)
    parity = grid.parity.repeat(batch)
    end = torch.zeros(flat.shape, dtype=torch.bool, device=x.device)
    thr = net.threshold.to(flat.dtype)
    limit = max_iterations if iterations is None else iterations
    for _ in range(limit):
        with torch.no_grad():
            hard = flat.detach() > 0.5
            fg = torch.nonzero(hard).squeeze(1)
            end.zero_()
            end[fg[gather(hard, near(fg, grid.offsets)).sum(1) <= 1]] = True
        changed = False
        for sub in range(grid.n_subfields):
            with torch.no_grad():
                hard = flat.detach() > 0.5
                pts = torch.nonzero(hard & (parity == sub)).squeeze(1)
                cand = pts[~gather(hard, near(pts, grid.face_offsets)).all(1)]
            if not len(cand):
                continue
            logit = net.window_logits(flat[near(cand, grid.window)], end[cand]) - thr
            soft = torch.sigmoid(logit)
            d = (logit > 0).to(flat.dtype) + soft - soft.detach()
            changed = changed or bool((logit > 0).any())
            flat = flat.index_add(0, cand, -d)
        if not changed:
            break
    core = (slice(None),) + (slice(1, -1),) * nd
    return flat.reshape(padded.shape)[core].unsqueeze(1)


def teacher_passes(mask: torch.Tensor, iterations: int | None = None) -> Iterator[tuple]:
    """The teacher's passes (Boolean thinning: delete exactly the simple points that are not end points).

    Yields ``(codes, end, delete)`` for every pass with candidates: the
    neighbourhood codes (int64) of the candidates in the state before the pass,
    their end bits and the teacher's decision (bool). Used to build training windows.
    """
    grid = Grid(tuple(mask.shape), mask.device)
    flat = grid.flat(mask.bool())
    for step in subfield_passes(grid, flat, iterations=iterations):
        if step.codes is not None:
            yield step.codes, step.end, step.delete
        if step.last and not step.changed:
            return


def table_size(ndim: int) -> int:
    """Number of windows :func:`window_table_errors` checks: 249 in 2D, 66,060,315 in 3D."""
    faces, nbits = _border_codes(ndim)
    return (1 << nbits) - (1 << (nbits - bin(faces).count("1"))) + nbits + 1


def _border_codes(ndim: int) -> tuple[int, int]:
    """Bit mask of the face neighbours in a code, and the number of code bits."""
    offs = neighbour_offsets(ndim)
    faces = sum(1 << i for i, o in enumerate(offs) if sum(map(abs, o)) == 1)
    return faces, len(offs)


@torch.no_grad()
def window_table_errors(net: SubfieldNet, *, block: int = 1 << 20, threshold: float | None = None,
                        collect: float | None = None, part: tuple[int, int] = (0, 1), progress=None) -> dict:
    """The network's decisions on every window a candidate can have, against the simple-point table.

    Candidates are border points (at least one face neighbour in the
    background). End bit 0: every such neighbourhood; end bit 1: only
    neighbourhoods of at most one neighbour (the count can only fall within an
    iteration). The teacher deletes exactly the simple points with end bit 0.

    Returns a dict: ``windows`` checked, ``false_delete`` (non-deletable windows
    the network deletes: each one a possible topology error), ``false_keep``,
    ``deletable``, ``max_nondeletable_logit`` (the smallest threshold with no
    false deletion is just above it), and with ``collect`` the codes (int64
    tensors) of non-deletable windows with logit > ``collect`` and of deletable
    windows with logit <= ``threshold`` (``hard_delete``, ``hard_keep``).
    ``part=(i, n)`` checks only every ``n``-th block, starting at block ``i``
    (the end-bit windows are always checked).
    """
    from ..topology.simple import simple_point_lut

    nd = net.ndim
    faces, nbits = _border_codes(nd)
    table = simple_point_lut(nd, "cpu")
    thr = float(net.threshold) if threshold is None else threshold
    total = fd = fk = dele = 0
    max_bad = -float("inf")
    hard_d, hard_k = [], []
    starts = range(part[0] * block, 1 << nbits, part[1] * block)
    for lo in (progress(starts, desc="window table") if progress else starts):
        codes = torch.arange(lo, min(lo + block, 1 << nbits), dtype=torch.long)
        codes = codes[(codes & faces) != faces]
        if not len(codes):
            continue
        logit = _logits_on_cpu(net, codes, False)
        simple = table(codes).bool()
        bad = ~simple
        total += len(codes)
        dele += int(simple.sum())
        fd += int(((logit > thr) & bad).sum())
        fk += int(((logit <= thr) & simple).sum())
        if bad.any():
            max_bad = max(max_bad, float(logit[bad].max()))
        if collect is not None:
            hard_d.append(codes[bad & (logit > collect)])
            hard_k.append(codes[simple & (logit <= thr)])
    # end bit 1: at most one neighbour (every such window is a border window); never deletable
    few = [0] + [1 << i for i in range(nbits)]
    codes = torch.tensor(few, dtype=torch.long)
    logit = _logits_on_cpu(net, codes, True)
    total += len(codes)
    fd += int((logit > thr).sum())
    max_bad = max(max_bad, float(logit.max()))
    out = {"windows": total, "false_delete": fd, "false_keep": fk, "deletable": dele,
           "threshold": thr, "max_nondeletable_logit": max_bad,
           "end_false_delete": int((logit > thr).sum())}
    if collect is not None:
        out["hard_delete"] = torch.cat(hard_d) if hard_d else torch.zeros(0, dtype=torch.long)
        out["hard_keep"] = torch.cat(hard_k) if hard_k else torch.zeros(0, dtype=torch.long)
    return out


def _logits_on_cpu(net: SubfieldNet, codes: torch.Tensor, end: bool) -> torch.Tensor:
    """The network's logits of CPU ``codes`` (evaluated on the network's device) as a CPU tensor."""
    dev = net.threshold.device
    c = codes.to(dev)
    return net.code_logits(c, torch.full((len(c),), end, dtype=torch.bool, device=dev)).cpu()


def symmetry_permutations(ndim: int) -> torch.Tensor:
    """``(8 | 48, n_bits)``: for each symmetry of the square/cube, the code bit each output bit reads."""
    offs = np.array(neighbour_offsets(ndim))
    index = {tuple(o): i for i, o in enumerate(offs)}
    out = []
    for perm in itertools.permutations(range(ndim)):
        for flips in itertools.product((1, -1), repeat=ndim):
            g = offs[:, perm] * np.array(flips)
            out.append([index[tuple(v)] for v in g])
    return torch.as_tensor(np.array(out))


def permute_codes(codes: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Apply per-code bit permutations ``perm`` ``(P, n_bits)`` (output bit ``j`` reads bit ``perm[:, j]``)."""
    bits = (codes[:, None] >> perm) & 1
    return (bits << torch.arange(perm.shape[1], device=codes.device)).sum(1)
