"""Zarr and OME-Zarr label volumes, read and written chunk by chunk.

A ``.zarr`` directory holds either an OME-Zarr image (NGFF 0.4 or 0.5: a
multiscale pyramid with axes, voxel size and unit), or a plain Zarr array.
:func:`read_zarr` opens one resolution level lazily as a dask array, with the
NGFF axes, voxel size and unit read by ``ome-zarr``'s reader;
:func:`write_zarr` stores a (lazy) skeleton block by block into a new
directory, with the NGFF metadata written by ``ome-zarr``, and gives the
directory its name only when every block is written, so an interrupted run
leaves no half-written output. Peak memory follows the chunks, not the volume.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ZarrVolume", "is_zarr_path", "read_zarr", "write_zarr"]

ZARR_SUFFIX = ".zarr"
#: short unit names (ImageJ, Fiji) and their NGFF (UDUNITS-2) names
_NGFF_UNITS = {"um": "micrometer", "µm": "micrometer", "μm": "micrometer", "micron": "micrometer",
               "nm": "nanometer", "mm": "millimeter", "cm": "centimeter", "m": "meter", "A": "angstrom"}


def is_zarr_path(path) -> bool:
    """Whether ``path`` names a Zarr store: a name ending in ``.zarr`` (or ``.zarr/``), or a folder Zarr metadata marks."""
    path = Path(path)
    if path.name.lower().endswith(ZARR_SUFFIX):
        return True
    return path.is_dir() and any((path / f).is_file() for f in ("zarr.json", ".zarray", ".zgroup"))


@dataclass(frozen=True)
class ZarrVolume:
    """One resolution level of a Zarr store, lazily, with what is needed to write a skeleton like it.

    Attributes
    ----------
    data : dask array
        The spatial axes only (2D or 3D): axes of length one that are not
        spatial (time, channel) are dropped.
    axes : tuple of dict
        Every NGFF axis of the store (``name``, ``type``, ``unit`` where given).
    spatial : tuple of int
        Positions in ``axes`` of the axes ``data`` keeps.
    spacing : tuple of float or None
        Voxel size along ``data``'s axes; None for a plain Zarr array.
    units : tuple of (str or None)
        Unit of each axis of ``data``.
    translation : tuple of float or None
        The level's offset along ``data``'s axes, where the metadata gives one.
    version : str or None
        NGFF version ("0.4", "0.5"); None for a plain Zarr array.
    zarr_format : int
        2 or 3.
    chunks : tuple of int
        Storage chunk shape along ``data``'s axes.
    level : int
        The resolution level read (0: full resolution).
    """

    data: object
    axes: tuple
    spatial: tuple
    spacing: tuple | None
    units: tuple
    translation: tuple | None
    version: str | None
    zarr_format: int
    chunks: tuple
    level: int = 0

    @property
    def unit(self) -> str | None:
        """The unit of every spatial axis, or None where they have none or differ."""
        given = {u for u in self.units if u}
        return given.pop() if len(given) == 1 and all(self.units) else None


def read_zarr(path, *, level: int | None = None) -> ZarrVolume:
    """Open a Zarr or OME-Zarr label volume lazily.

    Parameters
    ----------
    path : str or Path
        An OME-Zarr image (its folder), or a plain Zarr array (its folder,
        e.g. ``data.zarr`` or ``data.zarr/labels``).
    level : int, optional
        Which resolution level of a multiscale image (default 0, the full resolution).

    Raises
    ------
    FileNotFoundError
        If there is no such folder.
    ValueError
        For a folder that is not Zarr, a group without an image, a level the
        pyramid does not have, more than one channel or time point, or other
        than 2 or 3 spatial axes; each message says what to pass instead.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    import zarr

    try:
        node = zarr.open(str(path), mode="r")
    except Exception as e:
        raise ValueError(f"{path} could not be opened as Zarr ({type(e).__name__}: {e}); give the folder of an "
                         "OME-Zarr image or of a Zarr array.") from e
    if isinstance(node, zarr.Array):
        if level not in (None, 0):
            raise ValueError(f"{path} is a plain Zarr array with one level; --level {level} needs an OME-Zarr pyramid.")
        return _plain_volume(node, path)
    return _ome_volume(path, node, 0 if level is None else level)


def _plain_volume(arr, path: Path) -> ZarrVolume:
    import dask.array as da

    if arr.ndim not in (2, 3):
        raise ValueError(f"{path} is a {arr.ndim}D Zarr array; skeletonize needs 2D or 3D labels. Save one 2D or 3D "
                         "volume (e.g. one channel) as its own array.")
    names = ("z", "y", "x")[-arr.ndim:]
    return ZarrVolume(data=da.from_zarr(arr), axes=tuple({"name": n, "type": "space"} for n in names),
                      spatial=tuple(range(arr.ndim)), spacing=None, units=(None,) * arr.ndim, translation=None,
                      version=None, zarr_format=int(arr.metadata.zarr_format), chunks=tuple(arr.chunks))


def _image_node(path: Path):
    """ome-zarr's reader node of the image at ``path`` (its multiscales), or a ValueError that says what is there."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    location = parse_url(str(path))
    if location is not None:
        for node in Reader(location)():
            if node.load(Multiscales) is not None and node.data:
                return node
    raise ValueError(f"{path} is a Zarr group without an OME-Zarr image (no 'multiscales' metadata); give the "
                     "folder of the image or of one array inside it (e.g. " + str(path / "0") + ").")


def _ome_volume(path: Path, group, level: int) -> ZarrVolume:
    node = _image_node(path)
    levels = node.data
    if not 0 <= level < len(levels):
        shapes = ", ".join(f"{i}: {tuple(d.shape)}" for i, d in enumerate(levels))
        raise ValueError(f"{path} has resolution levels 0 to {len(levels) - 1} ({shapes}); --level {level} "
                         "is not one of them.")
    data = levels[level]
    axes = tuple(dict(a) if isinstance(a, dict) else {"name": str(a)} for a in node.metadata.get("axes", ()))
    if len(axes) != data.ndim:
        axes = tuple({"name": n, "type": "space"} for n in "tczyx"[-data.ndim:])
    spatial = tuple(i for i, a in enumerate(axes) if _is_spatial(a))
    for i, a in enumerate(axes):
        if i not in spatial and data.shape[i] != 1:
            kind = a.get("type") or a["name"]
            raise ValueError(f"{path} has {data.shape[i]} points along its {kind} axis {a['name']!r}; skeletonize "
                             f"needs one {kind} of label ids. Write that one alone as its own OME-Zarr image.")
    if len(spatial) not in (2, 3):
        raise ValueError(f"{path} has {len(spatial)} spatial axes; skeletonize needs 2D or 3D labels.")
    scale, translation = _transforms(node.metadata.get("coordinateTransformations"), level, data.ndim)
    squeeze = tuple(i for i in range(data.ndim) if i not in spatial)
    array = data[tuple(0 if i in squeeze else slice(None) for i in range(data.ndim))]
    version = _ngff_version(group)
    return ZarrVolume(
        data=array, axes=axes, spatial=spatial,
        spacing=tuple(abs(float(scale[i])) for i in spatial),
        units=tuple(axes[i].get("unit") for i in spatial),
        translation=None if translation is None else tuple(float(translation[i]) for i in spatial),
        version=version, zarr_format=3 if version not in ("0.1", "0.2", "0.3", "0.4") else 2,
        chunks=tuple(int(data.chunksize[i]) for i in spatial), level=level)


def _is_spatial(axis: dict) -> bool:
    return axis.get("type") == "space" or (axis.get("type") is None and axis["name"] in ("z", "y", "x"))


def _transforms(transforms, level: int, ndim: int) -> tuple[list, list | None]:
    """The scale (default ones) and translation (or None) of ``level`` from NGFF coordinate transformations."""
    scale, translation = [1.0] * ndim, None
    for t in (transforms[level] if transforms and level < len(transforms) else ()):
        if t.get("type") == "scale" and "scale" in t:
            scale = list(t["scale"])
        elif t.get("type") == "translation" and "translation" in t:
            translation = list(t["translation"])
    if not all(np.isfinite(v) and v != 0 for v in scale):
        raise ValueError(f"the OME-Zarr metadata gives a voxel size of {scale}, which is not a finite non-zero "
                         "size; fix its 'coordinateTransformations'.")
    return scale, translation


def _ngff_version(group) -> str:
    attrs = group.attrs.asdict()
    if "ome" in attrs:
        return str(attrs["ome"].get("version", "0.5"))
    return str(attrs.get("multiscales", [{}])[0].get("version", "0.4"))


def ngff_unit(unit: str | None) -> str | None:
    """The NGFF name of a unit (``"um"`` -> ``"micrometer"``); None, ``"pixel"`` and ``""`` give None."""
    if not unit or unit == "pixel":
        return None
    return _NGFF_UNITS.get(unit, unit)


def write_zarr(
    path,
    data,
    *,
    like: ZarrVolume | None = None,
    spacing=None,
    unit: str | None = None,
    chunks=None,
    ome: bool = True,
    overwrite: bool = False,
    client=None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a 2D/3D label volume as OME-Zarr (or a plain Zarr array), block by block.

    Parameters
    ----------
    path : str or Path
        The new ``.zarr`` folder.
    data : dask or numpy array, 2D or 3D
        Computed and written one block at a time (a numpy array is split
        into ``chunks`` first).
    like : ZarrVolume, optional
        The input it was made from: its axes (the dropped time or channel
        axes come back with length one), voxel size, units, offset, NGFF
        version and storage chunks are kept.
    spacing : sequence of float, optional
        Voxel size per axis (without ``like``; default 1).
    unit : str, optional
        Unit of ``spacing`` (``"um"`` is written as NGFF's ``"micrometer"``).
    chunks : int or tuple, optional
        Storage chunks (default: ``like``'s, else ``data``'s chunks for a dask
        array, else 128 per axis).
    ome : bool
        Write an OME-Zarr image (default); False writes a plain Zarr array.
    overwrite : bool
        Replace an existing folder (only once the new one is complete).
    client : dask.distributed.Client, optional
        Compute and write the blocks on this cluster (its workers must see ``path``).
    progress : callable, optional
        ``progress(done, total)`` after each written block.

    Returns
    -------
    Path

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    import dask.array as da

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it.")
    storage = _storage_chunks(data, like, chunks)
    if not hasattr(data, "map_overlap"):
        data = da.from_array(np.asarray(data), chunks=storage)
    data = _aligned(data, storage)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        target = _create(tmp, data, like, spacing, unit, storage, ome)
        _store_blocks(data, target, like, client, progress)
        _rename(tmp, path, overwrite)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _storage_chunks(data, like, chunks) -> tuple[int, ...]:
    ndim = len(data.shape)
    if chunks is None:
        chunks = like.chunks if like is not None else (
            tuple(int(c) for c in data.chunksize) if hasattr(data, "chunksize") else 128)
    chunks = (int(chunks),) * ndim if np.isscalar(chunks) else tuple(int(c) for c in chunks)
    return tuple(max(1, min(c, n)) for c, n in zip(chunks, data.shape))


def _aligned(data, storage):
    """``data`` rechunked so that no storage chunk is shared by two blocks (blocks write without a lock)."""
    for axis_chunks, side in zip(data.chunks, storage):
        edges = np.cumsum(axis_chunks)[:-1]
        if np.any(edges % side):
            return data.rechunk(storage)
    return data


def _full_axes(like, ndim):
    """NGFF axes of the output and where the skeleton's axes go in them."""
    if like is None:
        return tuple({"name": n, "type": "space"} for n in ("z", "y", "x")[-ndim:]), tuple(range(ndim))
    return like.axes, like.spatial


def _create(folder: Path, data, like, spacing, unit, storage, ome):
    """An empty Zarr array for ``data`` in ``folder`` (inside an OME-Zarr image with its metadata, if ``ome``)."""
    import zarr

    zarr_format = like.zarr_format if like is not None else 3
    axes, spatial = _full_axes(like, data.ndim)
    shape, chunks = _expand(data.shape, axes, spatial), _expand(storage, axes, spatial)
    kw = {"shape": shape, "chunks": chunks, "dtype": data.dtype, "fill_value": 0, "zarr_format": zarr_format}
    if zarr_format == 2:
        kw["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    else:
        kw["dimension_names"] = [a["name"] for a in axes]
    if not ome:
        if len(axes) != data.ndim:
            raise ValueError("a plain Zarr array keeps the skeleton's own axes; write OME-Zarr to keep the others.")
        return zarr.create_array(store=str(folder), **kw)
    from ome_zarr.format import format_from_version
    from ome_zarr.writer import write_multiscales_metadata

    version = like.version if like is not None and like.version else "0.5"
    fmt = format_from_version(version)
    group = zarr.open_group(str(folder), mode="w", zarr_format=fmt.zarr_format)
    kw["zarr_format"] = fmt.zarr_format
    if fmt.zarr_format == 2:
        kw.pop("dimension_names", None)
        kw["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    kw.pop("zarr_format")
    array = group.create_array("0", **kw)
    write_multiscales_metadata(group, datasets=[{"path": "0", "coordinateTransformations": _ngff_transforms(
        like, spacing, data.ndim, axes, spatial)}], fmt=fmt, axes=_ngff_axes(axes, spatial, like, unit),
        name="skeleton")
    return array


def _expand(values, axes, spatial) -> tuple:
    """``values`` (one per spatial axis) with 1 at the store's other axes."""
    it = iter(values)
    return tuple(next(it) if i in spatial else 1 for i in range(len(axes)))


def _ngff_axes(axes, spatial, like, unit) -> list[dict]:
    out = []
    for i, a in enumerate(axes):
        a = {k: v for k, v in a.items() if k in ("name", "type", "unit")}
        if like is None and i in spatial and ngff_unit(unit):
            a["unit"] = ngff_unit(unit)
        out.append(a)
    return out


def _ngff_transforms(like, spacing, ndim, axes, spatial) -> list[dict]:
    if like is not None:
        spacing, offset = like.spacing or (1.0,) * ndim, like.translation
    else:
        spacing, offset = (1.0,) * ndim if spacing is None else spacing, None
    spacing = tuple(abs(float(v)) for v in spacing)
    if len(spacing) != ndim or not all(np.isfinite(v) and v > 0 for v in spacing):
        raise ValueError(f"spacing must be {ndim} finite non-zero numbers, one per axis; got {spacing}.")
    transforms = [{"type": "scale", "scale": [float(v) for v in _expand(spacing, axes, spatial)]}]
    if offset is not None and any(offset):
        shift = iter(offset)
        transforms.append({"type": "translation",
                           "translation": [float(next(shift)) if i in spatial else 0.0 for i in range(len(axes))]})
    return transforms


def _store_blocks(data, target, like, client, progress) -> None:
    """Compute ``data`` block by block into ``target``; ``progress(done, total)`` after each block."""
    import dask.array as da

    axes, spatial = _full_axes(like, data.ndim)
    if len(axes) != data.ndim:
        index = tuple(slice(None) if i in spatial else None for i in range(len(axes)))
        data = data[index]
    stored = da.store(data, target, lock=False, compute=False, return_stored=True)
    total = int(np.prod(stored.numblocks))
    if client is not None:
        marks = stored.map_blocks(_mark, dtype=np.uint8, chunks=(1,) * stored.ndim, meta=_meta(stored.ndim))
        futures = client.compute(list(marks.to_delayed().ravel()))
        from distributed import as_completed

        for done, future in enumerate(as_completed(futures), 1):
            future.result()
            if progress is not None:
                progress(done, total)
        return
    counter = _Counter(progress, total)
    stored.map_blocks(counter, dtype=np.uint8, chunks=(1,) * stored.ndim, meta=_meta(stored.ndim)).compute()


def _meta(ndim: int) -> np.ndarray:
    return np.empty((0,) * ndim, np.uint8)


def _mark(block) -> np.ndarray:
    """A one-point stand-in for a stored block (what comes back from the workers)."""
    return np.zeros((1,) * block.ndim, np.uint8)


class _Counter:
    """Counts stored blocks in this process for ``progress(done, total)``."""

    def __init__(self, progress, total):
        self.progress, self.total, self.done = progress, total, 0
        self.lock = threading.Lock()

    def __call__(self, block):
        with self.lock:
            self.done += 1
            done = self.done
        if self.progress is not None:
            self.progress(done, self.total)
        return _mark(block)


def _rename(tmp: Path, path: Path, overwrite: bool) -> None:
    """Give the finished folder ``tmp`` the name ``path``; an existing one is replaced only with ``overwrite``."""
    if not path.exists():
        try:
            os.rename(tmp, path)
            return
        except OSError:
            if not path.exists():
                raise
    if not overwrite:
        raise FileExistsError(f"{path} was created by another process while this one was written; it was left as "
                              "it is. Pass overwrite=True (--overwrite) to replace it.")
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    os.rename(path, old / "previous")
    os.rename(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
