"""Simple points, end points and Betti numbers of binary 2D and 3D images.

A foreground point is *simple* when deleting it changes no Betti number. We use
the characterisation by topological numbers (Bertrand & Malandain): in 3D with
26/6 connectivity a point ``x`` of ``X`` is simple iff ``T26(x, X) == 1`` and
``T6(x, complement(X)) == 1``; in 2D with 8/4 connectivity the analogue is
``T8 == 1`` and ``T4 == 1``.

The test is evaluated on the neighbourhood configuration encoded as an integer
(bit ``p`` set when neighbour ``p`` is foreground) and stored in a lookup table:
the full 2D table has 256 entries; the complete 3D table (``2**26`` entries)
ships with the package, and without it the entries are filled as codes occur.
The topological numbers are flood fills over the 3x3(x3) cube as bit shifts
of integer codes. Everything is a torch tensor operation, so it runs on CPU,
CUDA and MPS.
"""
from __future__ import annotations

import itertools
import os
from functools import cache
from pathlib import Path

import numpy as np

from .grid import Grid, gather, neighbour_offsets

__all__ = [
    "SimplePointTable",
    "build_full_table",
    "full_table_path",
    "is_p_simple",
    "is_simple",
    "simple_point_lut",
    "simple_points",
]


@cache
def _cube_masks(ndim: int):
    """Bit masks of the full 3x3(x3) cube (raster order, centre included) that the flood fills use.

    Returns ``(low, high, strides, region, faces)``: per axis the cube points
    whose coordinate is 0 (``low``) or 2 (``high``) and the bit stride of the
    axis, the background region (N18 without the centre in 3D, N8 in 2D) and
    the face neighbours.
    """
    cube = np.array(list(itertools.product((-1, 0, 1), repeat=ndim)))
    to_mask = lambda b: int(sum(1 << int(q) for q in np.flatnonzero(b)))  # noqa: E731
    l1 = np.abs(cube).sum(1)
    low = tuple(to_mask(cube[:, a] == -1) for a in range(ndim))
    high = tuple(to_mask(cube[:, a] == 1) for a in range(ndim))
    strides = tuple(3 ** (ndim - 1 - a) for a in range(ndim))
    region = to_mask((l1 >= 1) & (l1 <= 2)) if ndim == 3 else to_mask(l1 >= 1)
    return low, high, strides, region, to_mask(l1 == 1)


def _to_cube(codes, ndim: int):
    """Neighbour codes (no centre bit, see :func:`neighbour_offsets`) as cube codes whose centre bit is 0."""
    import torch

    centre = len(neighbour_offsets(ndim)) // 2
    cube = (codes & ((1 << centre) - 1)) | ((codes >> centre) << (centre + 1))
    return cube.to(torch.int32)  # 27 bits: half the memory traffic of int64


def _grow(reach, allowed, ndim: int, box: bool):
    """Flood ``reach`` inside ``allowed`` (cube codes) with 8/26-adjacency (``box``) or 4/6-adjacency.

    Each step dilates by bit shifts (the box one axis after another, the
    cross from the same start) and is repeated until nothing changes.
    """
    import torch

    low, high, strides, *_ = _cube_masks(ndim)
    while True:
        grown = reach
        for lo, hi, st in zip(low, high, strides):
            src = grown if box else reach
            grown = grown | ((src & ~hi) << st) | ((src & ~lo) >> st)
        grown = grown & allowed
        if torch.equal(grown, reach):
            return reach
        reach = grown


def is_simple(codes, ndim: int):
    """Evaluate the simple-point test on configuration codes.

    Parameters
    ----------
    codes : (M,) torch.Tensor of int64
        Bit ``p`` is the value of neighour ``neighbour_offsets(ndim)[p]``.
    ndim : {2, 3}

    Returns
    -------
    (M,) torch.Tensor of bool
    """
    import torch

    x = codes.to(torch.int64)
    return _t_foreground_one(x, ndim) & _t_background_one(x, ndim)


def _t_foreground_one(x, ndim: int):
    """``T8 == 1`` (2D) / ``T26 == 1`` (3D): the foreground neighbours ``x`` form exactly one component."""
    c = _to_cube(x, ndim)
    return (c != 0) & (_grow(c & (-c), c, ndim, box=True) == c)


def _t_background_one(x, ndim: int):
    """``T4 == 1`` (2D) / ``T6 == 1`` (3D): exactly one background component of the region touches a face."""
    _, _, _, region, faces = _cube_masks(ndim)
    y = ~_to_cube(x, ndim) & region
    yf = y & faces
    return (yf != 0) & ((_grow(yf & (-yf), y, ndim, box=False) & yf) == yf)


@cache
def _p_simple_tables(ndim: int):
    """Per neighbour: the neighbours of the centre adjacent to it; per face neighbour: its unit squares."""
    offs = np.array(neighbour_offsets(ndim))
    index = {tuple(o): i for i, o in enumerate(offs)}
    cheb = np.abs(offs[:, None] - offs[None]).max(-1)
    common = [int(sum(1 << int(q) for q in np.flatnonzero(cheb[p] == 1))) for p in range(len(offs))]
    faces = [i for i, o in enumerate(offs) if np.abs(o).sum() == 1]
    squares = {}
    for f in faces:  # {x, y=x+f, z=x+g, t=x+f+g} with g a face direction orthogonal to f
        squares[f] = [(g, index[tuple(offs[f] + offs[g])]) for g in faces if np.dot(offs[f], offs[g]) == 0]
    return common, faces, squares


def is_p_simple(codes, p_codes, ndim: int):
    """Bertrand's test for *P-simple* points on configuration codes.

    A point ``x`` of ``X`` in a candidate set ``P`` is P-simple when it stays
    simple whatever subset of the other candidates is deleted first, so all
    P-simple points of ``P`` (or any subset of them) can be deleted at once
    without changing the topology. The local characterisation (Bertrand 1995):
    ``T(x, X - P) == 1``, ``T_bg(x, complement of X) == 1``, every candidate
    neighbour ``y`` has a non-candidate object point adjacent to both ``x``
    and ``y``, and every face-adjacent candidate ``y`` spans a unit square
    ``{x, y, z, t}`` with two background points ``z, t``. Checked here
    against the definition: exhaustively in 2D and on random configurations
    in 3D (``tests/topology/test_topology.py``).

    Parameters
    ----------
    codes : (M,) int64 tensor
        Configuration of ``X`` around each point (bit ``p``: neighbour
        ``neighbour_offsets(ndim)[p]`` is in ``X``).
    p_codes : (M,) int64 tensor
        Which of those neighbours are candidates (bits outside ``codes`` are ignored).
    ndim : {2, 3}

    Returns
    -------
    (M,) bool tensor
    """
    import torch

    x = codes.to(torch.int64)
    p = p_codes.to(torch.int64) & x
    kept = x & ~p
    ok = _t_foreground_one(kept, ndim) & _t_background_one(x, ndim)
    bits, masks, face_bits, square_a, square_b = _p_simple_arrays(ndim, x.device)
    # every candidate neighbour q keeps a non-candidate object point adjacent to both: (M, n) at once
    candidate = (p[:, None] >> bits[None]) & 1 == 1
    ok &= ~(candidate & ((kept[:, None] & masks[None]) == 0)).any(1)
    # every face-adjacent candidate spans a unit square with two background points
    bg = ~x
    square = (((bg[:, None] >> square_a[None]) & (bg[:, None] >> square_b[None])) & 1).view(len(x), len(face_bits), -1)
    face_candidate = (p[:, None] >> face_bits[None]) & 1 == 1
    ok &= ~(face_candidate & ~square.any(2).bool()).any(1)
    return ok


@cache
def _p_simple_arrays(ndim: int, device):
    """:func:`_p_simple_tables` as tensors: neighbour bits, their common masks, face bits, square corners."""
    import torch

    common, faces, squares = _p_simple_tables(ndim)
    as_t = lambda v: torch.as_tensor(v, dtype=torch.int64, device=device)  # noqa: E731
    return (as_t(list(range(len(common)))), as_t(common), as_t(faces),
            as_t([g for f in faces for g, _ in squares[f]]), as_t([t for f in faces for _, t in squares[f]]))


def full_table_path() -> Path:
    """Where :func:`build_full_table` writes the packed 3D table by default (8 MiB)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "napari-skelite" / "simple26.bits"


#: the complete 3D table as shipped with the package (``napari-skelite build-table --out`` this path)
SHIPPED_TABLE = Path(__file__).with_name("simple26.bits.xz")


def _packed(start: int, stop: int) -> np.ndarray:
    """Bits of the 3D simple-point test for codes ``start..stop-1``, packed (little bit order)."""
    import torch

    bits = is_simple(torch.arange(start, stop), 3).numpy()
    return np.packbits(bits, bitorder="little")


def build_full_table(path=None, chunk: int = 1 << 20, progress=None) -> Path:
    """Compute the complete 2^26-entry 3D table (about 10 s on one core) and write it packed.

    A path ending in ``.xz`` is written lzma-compressed (10 KiB); the package
    ships one (:data:`SHIPPED_TABLE`), and a table at :func:`full_table_path`
    takes precedence over it.
    """
    import lzma

    path = Path(path) if path is not None else full_table_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    starts = range(0, 1 << 26, chunk)
    it = progress(starts, desc="3D simple-point table") if progress else starts
    data = np.concatenate([_packed(a, a + chunk) for a in it]).tobytes()
    if path.suffix == ".xz":
        data = lzma.compress(data, preset=9)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def _load_full_table(path: Path):
    """The unpacked table (one uint8 per code) stored at ``path``, or None when absent or of the wrong size."""
    import lzma

    if not path.is_file():
        return None
    try:
        data = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    except lzma.LZMAError:
        return None
    if len(data) != (1 << 26) // 8:
        return None
    return np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")


class SimplePointTable:
    """Lookup table of the simple-point test on one device.

    ``table[code]`` is True (simple) or False: a bool tensor once complete;
    while entries are missing, uint8 with 1 (simple), 0 (not simple) or 2 (not
    computed yet). The 2D table is computed at once; the 3D one is loaded from ``cache`` (default:
    :func:`full_table_path`) when present, else from the table shipped with
    the package, and only if neither can be read filled on demand for the
    codes that occur.
    """

    def __init__(self, ndim: int, device="cpu", cache: Path | None = None, shipped: Path | None = SHIPPED_TABLE):
        import torch

        self.ndim = ndim
        n = len(neighbour_offsets(ndim))
        # a normal tensor even when first used under torch.inference_mode, so
        # that later updates outside inference mode are allowed
        with torch.inference_mode(False):
            if ndim == 2:  # 256 entries: fill at once
                self.table = is_simple(torch.arange(1 << n, device=device), 2)
                return
            full = _load_full_table(cache if cache is not None else full_table_path())
            if full is None and shipped is not None:
                full = _load_full_table(Path(shipped))
            if full is not None:
                self.table = torch.from_numpy(full).to(device).bool()
            else:
                self.table = torch.full((1 << n,), 2, dtype=torch.uint8, device=device)

    def __call__(self, codes):
        import torch

        if self.table.dtype == torch.bool:  # complete: one gather
            return gather(self.table, codes)
        vals = self.table[codes]
        unknown = vals == 2
        if bool(unknown.any()):
            new = torch.unique(codes[unknown])
            with torch.inference_mode(False):
                self.table[new.clone()] = is_simple(new.clone(), self.ndim).to(torch.uint8)
            vals = self.table[codes]
            if not bool((self.table == 2).any()):
                self.table = self.table.bool()
        return vals.bool()


_TABLES: dict = {}


def simple_point_lut(ndim: int, device="cpu") -> SimplePointTable:
    """The shared lazily filled table for ``ndim`` on ``device``."""
    import torch

    key = (ndim, str(torch.device(device)))
    if key not in _TABLES:
        _TABLES[key] = SimplePointTable(ndim, device)
    return _TABLES[key]


def simple_points(x, ndim: int):
    """Which foreground points of the binary tensor ``x`` are simple.

    Parameters
    ----------
    x : (..., *spatial) torch.Tensor, bool or 0/1; the last ``ndim`` axes are spatial
        and the tensor border counts as background.
    ndim : {2, 3}

    Returns
    -------
    bool tensor of the shape of ``x``: True at simple foreground points,
    False at non-simple ones and at background points.
    """
    import torch

    fg = x.bool()
    spatial = fg.shape[-ndim:]
    grid = Grid(spatial, fg.device)
    # every item padded by one and laid end to end: a foreground point's
    # neighbours are always inside its own item's padded block
    padded = torch.nn.functional.pad(fg.reshape(-1, *spatial), (1, 1) * ndim)
    flat = padded.reshape(-1)
    where = flat.nonzero().squeeze(1)
    out = torch.zeros_like(flat)
    if where.numel():
        out[where] = simple_point_lut(ndim, fg.device)(grid.codes(flat, where))
    return out.reshape(padded.shape)[(slice(None),) + (slice(1, -1),) * ndim].reshape(fg.shape)
