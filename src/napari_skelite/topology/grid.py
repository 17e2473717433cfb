"""Neighbourhoods and flat-index bookkeeping of a zero-padded volume, shared by the thinning methods."""
from __future__ import annotations

import itertools
from functools import cache, cached_property

import numpy as np
import torch

__all__ = ["Grid", "gather", "near", "neighbour_offsets"]


#: Index arrays up to this size are gathered with ``torch.take`` (one call), larger ones by ``index_select``
_TAKE_MAX = 4096


def gather(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[index]`` for a 1D ``values`` and an index tensor of any shape.

    The same result as advanced indexing: by ``index_select``, about twice as
    fast on the CPU for the (points, neighbours) index arrays the thinning
    loops gather, or for small ones (where the call itself is the cost) by
    ``torch.take``, which is one call instead of three.
    """
    if index.numel() <= _TAKE_MAX and index.dtype == torch.long:
        return torch.take(values, index)
    return values.index_select(0, index.reshape(-1)).view(index.shape)


def near(points: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``(len(points), len(offsets))`` flat positions ``points[i] + offsets[j]``."""
    return points.unsqueeze(1) + offsets

@cache
def neighbour_offsets(ndim: int) -> tuple[tuple[int, ...], ...]:
    """Offsets of the 8 (2D) or 26 (3D) neighbours, in lexicographic order.

    The position of an offset in this tuple is its bit in a configuration code.
    """
    return tuple(o for o in itertools.product((-1, 0, 1), repeat=ndim) if any(o))

class Grid:
    """Neighbour offsets of a volume of ``shape`` padded by one, as flat indices.

    Parameters
    ----------
    shape : tuple of int
        The unpadded shape; ``self.shape`` is the padded one.
    device : torch device
    """

    def __init__(self, shape, device):
        self.device = device
        self.ndim = len(shape)
        self.shape = tuple(s + 2 for s in shape)
        strides = np.cumprod((1,) + self.shape[::-1])[:-1][::-1]
        self.strides = strides
        offs = np.array(neighbour_offsets(self.ndim))
        self.offsets = torch.as_tensor(offs @ strides, device=device)
        faces = np.abs(offs).sum(1) == 1
        self.face_offsets = self.offsets[torch.as_tensor(faces, device=device)]
        self.face_vectors = [tuple(int(v) for v in o) for o in offs[faces]]
        self.bits = torch.arange(len(offs), device=device)
        self.n_subfields = 2**self.ndim

    def flat(self, t: torch.Tensor, *, copy: bool = True) -> torch.Tensor:
        """``t`` (the unpadded shape) padded by one background point per side and flattened.

        The padding always writes a new tensor, which is returned (its own
        memory, whatever ``copy`` says: ``copy=False`` callers only read it).
        """
        return torch.nn.functional.pad(t, (1, 1) * self.ndim).reshape(-1)

    def unflat(self, flat: torch.Tensor) -> torch.Tensor:
        """The unpadded array of a padded, flattened ``flat`` (a copy)."""
        return flat.reshape(self.shape)[(slice(1, -1),) * self.ndim].clone()

    @cached_property
    def window(self) -> torch.Tensor:
        """Flat offsets of the full 3x3(x3) window, centre included, in raster order (a conv kernel's order)."""
        offs = np.array(list(itertools.product((-1, 0, 1), repeat=self.ndim)))
        return torch.as_tensor(offs @ self.strides, device=self.device)

    @cached_property
    def parity(self) -> torch.Tensor:
        """Subfield code of every flat position (computed on first use).

        The parity of axis 0 is the lowest bit, so the visiting order (axis 0
        fastest, in zero-padded coordinates) is that of the reference
        implementation, whose DRIVE skeleton we reproduce exactly.
        """
        parity = np.zeros(self.shape, np.uint8)
        for a, n in enumerate(self.shape):
            view = [1] * self.ndim
            view[a] = n
            parity += ((np.arange(n) % 2).astype(np.uint8) << a).reshape(view)
        return torch.as_tensor(parity.reshape(-1), device=self.device)

    def parity_of(self, where: torch.Tensor) -> torch.Tensor:
        """Subfield code (as :attr:`parity`) of the flat positions ``where``, from their coordinates."""
        code = torch.zeros_like(where)
        for a, (stride, n) in enumerate(zip(self.strides, self.shape)):
            code |= (((where // int(stride)) % n) & 1) << a
        return code

    def codes(self, flat, where):
        """Neighbourhood codes of ``flat`` (bool, padded, flattened) at the flat positions ``where``."""
        nb = gather(flat, near(where, self.offsets)).long()
        return (nb << self.bits).sum(1)

    def erode(self, flat, where):
        """Cross erosion of ``flat`` at ``where`` (foreground points): which keep all face neighbours."""
        return gather(flat, near(where, self.face_offsets)).all(1)
