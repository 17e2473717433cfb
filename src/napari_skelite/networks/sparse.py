"""Band-sparse Skelite inference: the network evaluated only where its output is used.

Iteration k uses the network only inside the band; its three 3x3(x3)
convolutions read within radius 3 of it. We gather the band dilated by 2
(first layer), by 1 (second layer) and the band itself (third layer) as rows
and evaluate each convolution once per distinct input window: as one matrix
product over the gathered windows (im2col on the sparse set), or, when the
previous layer has few distinct outputs, as that small table's product with
each kernel offset followed by one gathered sum per window. The result equals
the dense loop up to float summation order; iterations stop when the band is
empty.

The bookkeeping follows the band too: the city-block depth of every point is
computed once (the points that ``j`` cross erosions keep are those of depth
``> j``), so the band of iteration ``k`` (depths ``2k - 1`` and ``2k``), its
dilations and the network's input channels are read off the depth at the
gathered points, and the running state is updated in place; no step of an
iteration touches the whole volume.
"""
from __future__ import annotations

import torch

from ..topology import Grid
from ..topology.depth import depth_order
from ..topology.grid import gather, near
from ..topology.thinning import thin_at
from .network import Skelite

__all__ = ["sparse_iterate"]


def _dilated(points: torch.Tensor, window: torch.Tensor, inside: torch.Tensor, mark: torch.Tensor) -> torch.Tensor:
    """The points of the array within the 3x3(x3) box of ``points`` (flat indices, ascending).

    ``mark`` is a bool tensor like ``inside``, all False, used (and left all
    False) to list each point once: one scan of the index range the box covers.
    """
    if not points.numel():
        return points
    mark.index_fill_(0, near(points, window).reshape(-1), True)
    lo, hi = int(points[0]) + int(window[0]), int(points[-1]) + int(window[-1]) + 1
    out = torch.nonzero(mark[lo:hi]).squeeze(1) + lo
    mark.index_fill_(0, out, False)
    return out[inside[out]]


_GATHER_BYTES = 2**25  # working memory of one block of window codes
#: working memory of one block of gathered input rows (small blocks: fewer fresh pages, and faster products)
_ROW_BYTES = 2**22
#: Evaluate an iteration densely when the points the gathered layers 2-3 need exceed this
#: share of the volume (gathers cost about 2.5x a dense convolution per point, measured on CPU)
DENSE_FRACTION = 0.4


def _matrices(convs, dtype):
    """``(weight (K*Cin, Cout), bias)`` per convolution, rows ordered (kernel offset, channel), in ``dtype``."""
    out = []
    for c in convs:
        cout, cin = c.weight.shape[:2]
        w = c.weight.reshape(cout, cin, -1).permute(2, 1, 0).reshape(-1, cout)
        out.append((w.to(dtype).contiguous(), c.bias.to(dtype)))
    return out


def _conv_rows(rows, layer):
    """Apply one convolution to gathered neighbourhoods ``rows`` (N, K, Cin) -> (N, Cout)."""
    w, b = layer
    return torch.addmm(b, rows.reshape(rows.shape[0], -1).to(w.dtype), w)  # a view: no copy


@torch.no_grad()
def sparse_iterate(model: Skelite, x: torch.Tensor, iterations: int | None = None, guard=False,
                   dtype: torch.dtype = torch.float32):
    """Yield the soft skeleton after each iteration, like :meth:`Skelite.iterate`.

    Parameters
    ----------
    model : Skelite
    x : (1, 1, *spatial) binary float tensor
    iterations : int, optional
        ``None`` runs until the band is empty.
    guard : bool or callable
        Truthy: carry out only the deletions that keep the topology, exactly as
        :func:`napari_skelite.networks.guarded` after each step (evaluated on
        the band's proposals only).
    dtype : torch.dtype
        Precision of the matrix products (``torch.bfloat16`` is faster on
        CPUs/GPUs with bf16 units); the running skeleton stays float32.

    Yields
    ------
    (1, 1, *spatial) float tensor: a view of the running state, valid until
    the next iteration (clone it to keep it).
    """
    nd = model.ndim
    shape = tuple(x.shape[2:])
    layers = _matrices(model.net.convs, dtype)
    grid = Grid(shape, x.device)
    window = grid.window
    binary = x[0, 0] > 0.5
    depth, points, starts = depth_order(binary.cpu().numpy(), outside=bool(model.outside), device=x.device)
    deepest = len(starts) - 2
    core = (slice(1, -1),) * nd
    pad = lambda t: torch.nn.functional.pad(t, (1, 1) * nd).reshape(-1)  # noqa: E731
    s = pad(x[0, 0].float()).clone()
    inside = pad(torch.ones(shape, dtype=torch.bool, device=x.device))
    hard = pad(binary).clone() if guard else None
    mark = torch.zeros_like(inside)
    index = torch.zeros(inside.numel(), dtype=torch.int32 if inside.numel() < 2**31 else torch.long, device=x.device)
    scratch = _Scratch()
    view = s.view(grid.shape)[core][None, None]
    k = 0
    while iterations is None or k < iterations:
        if deepest < 2 * k + 1:  # nothing left to judge: later iterations would change nothing
            return
        k += 1
        p0 = torch.sort(points[starts[2 * k - 1]:starts[min(2 * k + 1, deepest + 1)]]).values
        p1 = _dilated(p0, window, inside, mark)
        p2 = _dilated(p1, window, inside, mark)
        channels = _Channels(depth, s, k, deepest)
        if (len(p0) + len(p1)) > DENSE_FRACTION * binary.numel():
            # the band's neighbourhood is most of the volume: one dense pass is cheaper than gathers
            dense = torch.stack([channels.at(slice(None)).view(grid.shape + (3,))[core + (c,)]
                                 for c in range(3)])[None]
            logit = pad(model.net(dense)[0, 0])[p0]
        else:
            logit = _gathered_logits(channels, (p0, p1, p2), layers, window, grid, index, scratch)
        s[p0] -= torch.sigmoid(logit.float())
        if guard:
            proposals = p0[(s[p0] <= 0.5) & hard[p0]]
            thin_at(grid, hard, proposals)
            s[p0] = hard[p0].to(s.dtype)
        yield view


class _Channels:
    """The network's input channels (band, ``C``, ``S``) of iteration ``k``, read at any flat positions."""

    def __init__(self, depth: torch.Tensor, s: torch.Tensor, k: int, deepest: int):
        self.depth, self.s, self.k = depth, s, k
        d = torch.arange(deepest + 1, dtype=torch.int32, device=depth.device)
        cls = (d >= 2 * k - 1).int() + (d > 2 * k).int()  # 0 outside C, 1 band, 2 deeper
        self._class_bits = cls << 30  # above the bits of any S value in [0, 1]

    def at(self, where) -> torch.Tensor:
        """``(..., 3)`` float: the band (depth ``2k - 1`` or ``2k``), ``C`` (depth ``> 2k - 2``) and ``S``."""
        if isinstance(where, slice):
            d, s = self.depth[where], self.s[where]
        else:
            d, s = gather(self.depth, where), gather(self.s, where)
        c = d >= 2 * self.k - 1
        band = c & (d <= 2 * self.k)
        return torch.stack([band.to(s.dtype), c.to(s.dtype), s], -1)

    def codes(self, where) -> torch.Tensor:
        """int32 codes of the three channels at ``where``: equal codes, equal channel values.

        The float32 bits of ``S`` (in [0, 1], so below bit 30: the running
        skeleton starts binary and each point loses at most one sigmoid) with
        the depth class in bits 30-31.
        """
        cls = gather(self._class_bits, gather(self.depth, where))
        return gather(self.s, where).view(torch.int32) | cls


def _gathered_logits(channels, points, layers, window, grid, index, scratch=None):
    """Deletion logits at the band points ``p0``, each layer evaluated only where the next reads it.

    ``channels``: the inputs (:class:`_Channels`); ``points``: the band ``p0`` and
    its dilations by one (``p1``, layer 2) and two (``p2``, layer 1), as flat
    indices of the volume padded by one (zero beyond the border); ``index``: an
    int tensor over that volume, all zero, used (and left all zero) to number
    each layer's outputs; ``scratch``: a :class:`_Scratch` the layers' offset
    products are written to (one buffer for the whole run).

    Each layer is evaluated once per distinct input: layer 1 once per distinct
    3x3(x3) window of the input channels, layers 2 and 3 once per distinct
    window of the previous layer's output numbers. Along a straight or smooth
    border most windows repeat (a filled square: about 40 band points per
    distinct layer-2 window, a vessel tree about 3), so thick objects cost far
    fewer products than points; the values are those of evaluating every point.
    The last hidden layer, when evaluated by offset, is evaluated at every
    point (its outputs are read once, by the 1x1 layer).
    """
    conv1, conv2, conv3, conv4 = layers
    itype = index.dtype
    p0, p1, p2 = (p.to(itype) for p in points)
    offs = window.to(itype)

    def previous(table):
        return (lambda blk: gather(index, near(blk, offs)).long(),
                lambda rep, codes: table.index_select(0, codes.reshape(-1)).view(codes.shape + table.shape[1:]))

    k = len(offs)
    h1, ids1 = _conv_unique(p2, lambda blk: channels.codes(near(blk, offs)),
                            lambda rep, codes: channels.at(near(rep, offs)), conv1, k)
    index.scatter_(0, p2.long(), ids1.to(itype))
    h2, ids2 = _conv_unique(p1, *previous(h1), conv2, k, table=h1, scratch=scratch)
    index.index_fill_(0, p2.long(), 0)
    index.scatter_(0, p1.long(), ids2.to(itype))
    h3, ids3 = _conv_unique(p0, *previous(h2), conv3, k, table=h2, distinct=False, scratch=scratch)
    index.index_fill_(0, p1.long(), 0)
    return torch.addmm(conv4[1], h3, conv4[0])[:, 0][ids3]


def _conv_unique(points, codes_of, rows_of, layer, k, table=None, distinct=True, scratch=None):
    """One convolution (then ReLU) at ``points``, evaluated once per distinct input window.

    ``codes_of(block)``: ``(B, k)`` integer codes of each point's ``k``-point input
    window; ``rows_of(representatives, their codes)``: the ``(U, k, C)`` inputs
    of the distinct windows. Blocks bound the memory to ``_GATHER_BYTES``: the
    windows' codes are grouped in blocks of many points (so most repeats are
    found), the inputs of the distinct ones gathered in smaller blocks.
    ``table``: when the codes are row numbers of a previous layer's output
    table, a small table is multiplied instead (see :func:`_by_offset`).
    ``distinct=False``: the caller reads the values, not one row per distinct
    window (the last layer), so a layer evaluated by offset skips the grouping.

    Returns
    -------
    table : (1 + U, Cout) float, row 0 zeros (what positions outside ``points`` read)
    ids : (N,) int64, each point's row of ``table``
    """
    w, b = layer
    step = max(256, _GATHER_BYTES // (32 * k))  # codes, their hash and the check's copies: ~4 int64 per offset
    row_step = max(256, _ROW_BYTES // (w.shape[0] * w.element_size()))  # one gathered input row per window
    blocks = -(-len(points) // step)
    outs, ids, base = [torch.zeros(1, w.shape[1], dtype=w.dtype, device=w.device)], [], 1

    def by_offset(rows):  # whether to evaluate about ``rows`` windows by offset
        return table is not None and _by_offset_pays(len(table), rows, w.shape[1], k)

    if not distinct and by_offset(len(points)):
        # by offset a window costs a gathered sum, less than finding its repeats: every point its own row
        products = _offset_products(table, layer, k, scratch)
        outs += [torch.relu(_by_offset(products, codes_of(points[i:i + step]), b)) for i in range(0, len(points), step)]
        return torch.cat(outs), torch.arange(1, len(points) + 1, device=points.device)
    products = None  # the table's products with each kernel offset, once per call
    for i in range(0, len(points), step):
        blk = points[i:i + step]
        codes = codes_of(blk)
        rep, inv = _unique_rows(codes)
        if products is None and by_offset(len(rep) * blocks):
            products = _offset_products(table, layer, k, scratch)
        if products is not None:
            outs.append(torch.relu(_by_offset(products, codes.index_select(0, rep), b)))
        else:
            for j in range(0, len(rep), row_step):
                r = rep[j:j + row_step]
                outs.append(torch.relu(_conv_rows(rows_of(blk.index_select(0, r), codes.index_select(0, r)), layer)))
        ids.append(inv + base)
        base += len(rep)
    ids = torch.cat(ids) if ids else points.new_zeros(0, dtype=torch.long)
    return torch.cat(outs).to(w.dtype), ids


#: Fewest distinct windows for which the by-offset evaluation is considered (below, its K small calls cost more)
_BY_OFFSET_MIN_ROWS = 256


#: Largest table of offset products (bytes); above it the layer gathers rows in blocks instead
_PRODUCTS_BYTES = 2**26


def _by_offset_pays(table_rows: int, rows: int, cout: int, k: int) -> bool:
    """Whether :func:`_by_offset` is cheaper than gathered rows times the weights (break-even measured on CPU).

    Gathered rows cost ``rows * K * Cin`` copies and ``rows * K * Cin * Cout``
    multiply-adds in a matrix product with a narrow ``Cout``; by offset costs
    ``table_rows * K * Cin * Cout`` in one wide product and ``rows * K * Cout``
    gathered additions. Measured (2D and 3D, one thread): worth it while the
    table has at most ``40 / Cout`` times as many rows as there are windows
    (0.6 for the second layer, 1.25 for the third), and while its
    ``table_rows * K * Cout`` products fit in ``_PRODUCTS_BYTES``.
    """
    fits = table_rows * k * cout * 4 <= _PRODUCTS_BYTES
    return fits and rows >= _BY_OFFSET_MIN_ROWS and table_rows * cout <= 40 * rows


def _offset_products(table: torch.Tensor, layer, k: int, scratch=None) -> torch.Tensor:
    """``(T * K, Cout)``: row ``t * K + o`` is ``table[t]`` times the weights of kernel offset ``o``.

    Written into ``scratch`` (a :class:`_Scratch`) when given.
    """
    w, _ = layer
    cin, cout = w.shape[0] // k, w.shape[1]
    per_offset = w.view(k, cin, cout).permute(0, 2, 1).reshape(k * cout, cin)  # transposed: a faster product on CPU
    out = None if scratch is None else scratch.take((len(table), k * cout), w.dtype, w.device)
    return torch.mm(table.to(w.dtype), per_offset.t(), out=out).view(-1, cout)


class _Scratch:
    """One buffer reused by every layer and iteration of a run.

    The offset products of a large band are tens of MB; a fresh allocation of
    that size is fresh pages from the system each time (about 2 GB/s to fault
    in on CPU), which costs as much as the product itself.
    """

    def __init__(self):
        self._buf = None

    def take(self, shape, dtype, device) -> torch.Tensor:
        """An uninitialised tensor of ``shape``, a view of the buffer (valid until the next ``take``)."""
        n = int(torch.Size(shape).numel())
        if self._buf is None or self._buf.numel() < n or self._buf.dtype != dtype or self._buf.device != torch.device(device):
            self._buf = torch.empty(n, dtype=dtype, device=device)
        return self._buf[:n].view(shape)


def _by_offset(products: torch.Tensor, codes: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """A convolution at windows whose inputs are table rows ``codes`` (U, K): the sum of each offset's product.

    One fused gather-and-sum (``embedding_bag``) over the rows of
    :func:`_offset_products`. Equal to gathering the rows and multiplying by
    the weights, up to float summation order.
    """
    k = codes.shape[1]
    index = codes * k + torch.arange(k, device=codes.device)
    return torch.nn.functional.embedding_bag(index, products, mode="sum") + bias


_HASH = {}


def _multipliers(k: int, device) -> torch.Tensor:
    """``k`` fixed odd 62-bit multipliers of a row hash."""
    key = (k, str(device))
    if key not in _HASH:
        g = torch.Generator().manual_seed(20250301 + k)
        _HASH[key] = (torch.randint(1, 2**62, (k,), generator=g) | 1).to(device)
    return _HASH[key]


def _row_hash(codes: torch.Tensor, *, matvec: bool) -> torch.Tensor:
    """A 64-bit hash of each row of an ``(N, K)`` integer tensor, ``(N,)`` int64.

    ``matvec`` picks the integer matrix-vector product (fastest on the CPU; CUDA
    has none) or the equal elementwise sum; both wrap modulo ``2**64``.
    """
    mult = _multipliers(codes.shape[1], codes.device)
    h = torch.mv(codes.long(), mult) if matvec else (codes.long() * mult).sum(1)
    return h ^ (h >> 31)


def _unique_rows(codes: torch.Tensor):
    """Group the equal rows of an ``(N, K)`` integer tensor: ``(representatives, inverse)``.

    ``codes[representatives[inverse]]`` equals ``codes``. Rows are grouped by a
    64-bit hash and the grouping is checked row by row; a collision (never
    seen) falls back to an exact sort of the rows.
    """
    n = len(codes)
    if n == 0:
        return codes.new_zeros(0), codes.new_zeros(0)
    h = _row_hash(codes, matvec=codes.device.type == "cpu")
    uniq, inv = torch.unique(h, return_inverse=True)
    rep = torch.empty(len(uniq), dtype=torch.long, device=codes.device)
    rep.scatter_(0, inv, torch.arange(n, device=codes.device))
    if not torch.equal(codes.index_select(0, rep.index_select(0, inv)), codes):
        uniq, inv = torch.unique(codes, dim=0, return_inverse=True)
        rep = torch.empty(len(uniq), dtype=torch.long, device=codes.device)
        rep.scatter_(0, inv, torch.arange(n, device=codes.device))
    return rep, inv
