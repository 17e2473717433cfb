"""Band-sparse Skelite inference: the network evaluated only where its output is used.

Iteration k uses the network only inside the band; its three 3x3(x3)
convolutions read within radius 3 of it. We gather the band dilated by 2
(first layer), by 1 (second layer) and the band itself (third layer) as rows
and evaluate each convolution as one matrix product over gathered
neighbourhoods (im2col on the sparse set). The result equals the dense
loop up to float summation order; iterations stop when the band is empty.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch

from .network import Skelite

__all__ = ["sparse_iterate"]


def _offsets(nd, device):
    return torch.tensor(list(itertools.product((-1, 0, 1), repeat=nd)), device=device)


def _dilate(mask, nd):
    """Dilation of a bool tensor by the full 3x3(x3) box, one axis at a time over shifted views."""
    out = mask.clone()
    for axis in range(nd):
        src = out.clone()
        n = src.shape[axis]
        lo, hi = src.narrow(axis, 0, n - 1), src.narrow(axis, 1, n - 1)
        out.narrow(axis, 1, n - 1).logical_or_(lo)
        out.narrow(axis, 0, n - 1).logical_or_(hi)
    return out


_GATHER_BYTES = 2**25  # working memory of one gathered block of neighbourhoods
#: Evaluate an iteration densely when the points the gathered layers 2-3 need exceed this
#: share of the volume (gathers cost about 2.5x a dense convolution per point, measured on CPU)
DENSE_FRACTION = 0.4


def _conv_at(points, index, offs, table, layer):
    """One convolution (then ReLU) at ``points``, gathering its inputs from ``table`` block by block.

    ``points`` and ``offs`` are flat indices into the padded volume, ``index``
    maps a flat position to its row of ``table`` (the last row, zeros, for
    positions outside the previous layer's set). Gathered neighbourhoods take
    ``K * Cin`` values per point (864 for a 3x3x3 kernel on 32 channels);
    blocks bound the memory to ``_GATHER_BYTES``.
    """
    per_point = offs.shape[0] * (table.shape[1] * table.element_size() + 8)  # gathered rows + their index
    step = max(256, _GATHER_BYTES // per_point)
    out = [torch.relu(_conv_rows(_rows(points[i:i + step], index, offs, table), layer))
           for i in range(0, len(points), step)]
    return torch.cat(out) if len(out) != 1 else out[0]


def _rows(points, index, offs, table):
    """Rows of ``table`` at the flat positions ``points + offs``, as ``(N, K, C)``."""
    nb = points[:, None] + offs[None]  # (N, K) flat positions
    idx = nb.view(-1) if index is None else index[nb.view(-1)]
    return table.index_select(0, idx).view(nb.shape[0], nb.shape[1], table.shape[1])


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
def sparse_iterate(model: Skelite, x: torch.Tensor, iterations: int | None = None, guard=None,
                   dtype: torch.dtype = torch.float32):
    """Yield the soft skeleton after each iteration, like :meth:`Skelite.iterate`.

    Parameters
    ----------
    model : Skelite
    x : (1, 1, *spatial) binary float tensor
    dtype : torch.dtype
        Precision of the matrix products (``torch.bfloat16`` is faster on
        CPUs/GPUs with bf16 units); the running skeleton stays float32.
    """
    nd = model.ndim
    layers = _matrices(model.net.convs, dtype)
    offs = _offsets(nd, x.device)
    c = x
    s = x.clone()
    k = 0
    while iterations is None or k < iterations:
        inner = model.inner(c)
        diff = c - inner
        band = diff[0, 0] > 0
        has_band = bool(band.any())
        if not has_band:  # nothing left to judge: later iterations would change nothing
            return
        k += 1
        s_new = s
        if has_band:
            d1 = _dilate(band, nd)
            d2 = _dilate(d1, nd)
            p0, p1, p2 = (torch.nonzero(m) for m in (band, d1, d2))
            if (len(p0) + len(p1)) > DENSE_FRACTION * band.numel():
                # the band's neighbourhood is most of the volume: one dense pass is cheaper than gathers
                logit = model.net(torch.cat([diff, c, s], 1))[(0, 0) + tuple(p0.unbind(-1))]
            else:
                logit = _gathered_logits((diff, c, s), (p0, p1, p2), layers, offs)
            s_new = s.clone()
            s_new[(0, 0) + tuple(p0.unbind(-1))] -= torch.sigmoid(logit.float())
        s = guard(s, s_new) if guard is not None else s_new
        c = inner
        del diff
        yield s


def _gathered_logits(inputs, points, layers, offs):
    """Deletion logits at the band points ``p0``, each layer evaluated only where the next reads it.

    ``inputs``: the (1, 1, *spatial) channels (band, C, S); ``points``: the band ``p0``
    and its dilations by one (``p1``, layer 2) and two (``p2``, layer 1), as coordinates.
    """
    conv1, conv2, conv3, conv4 = layers
    shape = inputs[0].shape[2:]
    nd = len(shape)
    padded = tuple(n + 2 for n in shape)
    device = inputs[0].device
    strides = torch.tensor(np.cumprod((1,) + padded[::-1])[:-1][::-1].copy(), device=device)
    small = int(np.prod(padded)) < 2**31
    itype = torch.int32 if small else torch.long
    flat = [((p + 1) * strides).sum(1).to(itype) for p in points]  # flat positions in the padded volume
    p0, p1, p2 = flat
    offs_flat = (offs * strides).sum(1).to(itype)
    # layer 1 at p2, reading the dense input (zero beyond the border), channels last
    xpad = inputs[0].new_zeros(padded + (3,))
    core = (slice(1, -1),) * nd
    for ch, v in enumerate(inputs):  # one channel at a time
        xpad[core + (ch,)] = v[0, 0]
    h1 = _conv_at(p2, None, offs_flat, xpad.view(-1, 3), conv1)
    # layers 2 and 3 gather from the previous layer's rows; the last row is zeros
    index = torch.full((int(np.prod(padded)),), len(p2), dtype=itype, device=device)
    index[p2.long()] = torch.arange(len(p2), device=device, dtype=itype)
    h1 = torch.cat([h1, h1.new_zeros(1, h1.shape[1])])
    h2 = _conv_at(p1, index, offs_flat, h1, conv2)
    index.fill_(len(p1))
    index[p1.long()] = torch.arange(len(p1), device=device, dtype=itype)
    h2 = torch.cat([h2, h2.new_zeros(1, h2.shape[1])])
    h3 = _conv_at(p0, index, offs_flat, h2, conv3)
    return torch.addmm(conv4[1], h3, conv4[0])[:, 0]
