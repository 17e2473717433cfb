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
import torch.nn.functional as F

from .model import Skelite

__all__ = ["sparse_iterate"]


def _offsets(nd, device):
    return torch.tensor(list(itertools.product((-1, 0, 1), repeat=nd)), device=device)


def _dilate(mask, nd):
    pool = F.max_pool2d if nd == 2 else F.max_pool3d
    return pool(mask[None, None].float(), 3, 1, 1)[0, 0] > 0


_GATHER_BYTES = 2**25  # working memory of one gathered block of neighbourhoods
#: Evaluate an iteration densely when the points the gathered layers 2-3 need exceed this
#: share of the volume (gathers cost about 2.5x a dense convolution per point, measured on CPU)
DENSE_FRACTION = 0.4


def _conv_at(points, index, offs, table, layer):
    """One convolution (then ReLU) at ``points``, gathering its inputs from ``table`` block by block.

    Gathered neighbourhoods take ``K * Cin`` values per point (864 for a
    3x3x3 kernel on 32 channels); blocks bound the memory to ``_GATHER_BYTES``.
    """
    per_point = offs.shape[0] * (table.shape[1] * table.element_size() + 8)  # gathered rows + their index
    step = max(256, _GATHER_BYTES // per_point)
    out = [torch.relu(_conv_rows(_rows(points[i:i + step], index, offs, table), layer))
           for i in range(0, len(points), step)]
    return torch.cat(out) if len(out) != 1 else out[0]


def _rows(points, index, offs, table):
    """Rows of ``table`` at ``points + offs`` (``index`` maps coordinates to rows; -1 -> zero row)."""
    nb = points[:, None, :] + offs[None] + 1  # +1: index is padded by one
    idx = index[tuple(nb.unbind(-1))]  # (N, K)
    return table[idx]  # (N, K, C); index -1 picks the zero row appended at the end


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
    net = model.net.body
    layers = _matrices([net[0], net[2], net[4], net[6]], dtype)
    offs = _offsets(nd, x.device)
    c = x
    s = x.clone()
    k = 0
    while iterations is None or k < iterations:
        inner = model.inner(c)
        diff = c - inner
        band = diff[0, 0] > 0
        has_band = bool(band.any())
        if iterations is None and not has_band:
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
    and its dilations by one (``p1``, layer 2) and two (``p2``, layer 1).
    """
    p0, p1, p2 = points
    conv1, conv2, conv3, conv4 = layers
    shape = inputs[0].shape[2:]
    nd = len(shape)
    padded = tuple(n + 2 for n in shape)
    # layer 1 at p2, reading the dense input (zero beyond the border)
    xpad = inputs[0].new_zeros(padded + (3,))  # channels last
    core = (slice(1, -1),) * nd
    for ch, v in enumerate(inputs):  # one channel at a time
        xpad[core + (ch,)] = v[0, 0]
    step = max(256, _GATHER_BYTES // (offs.shape[0] * (3 * 4 + nd * 8)))
    h1 = []
    for i in range(0, len(p2), step):
        nb = p2[i:i + step, None, :] + offs[None] + 1
        patches = xpad[tuple(nb.unbind(-1))]  # (n, K, 3)
        h1.append(torch.relu(_conv_rows(patches, conv1)))
    h1 = torch.cat(h1)
    # layers 2 and 3 gather from the previous layer's rows
    small = max(len(p2), int(np.prod(padded))) < 2**31
    index = torch.full(padded, -1, dtype=torch.int32 if small else torch.long, device=xpad.device)
    index[tuple((p2 + 1).unbind(-1))] = torch.arange(len(p2), device=xpad.device, dtype=index.dtype)
    h1 = torch.cat([h1, h1.new_zeros(1, h1.shape[1])])  # the zero row for points outside
    h2 = _conv_at(p1, index, offs, h1, conv2)
    index.fill_(-1)
    index[tuple((p1 + 1).unbind(-1))] = torch.arange(len(p1), device=xpad.device, dtype=index.dtype)
    h2 = torch.cat([h2, h2.new_zeros(1, h2.shape[1])])
    h3 = _conv_at(p0, index, offs, h2, conv3)
    return torch.addmm(conv4[1], h3, conv4[0])[:, 0]
