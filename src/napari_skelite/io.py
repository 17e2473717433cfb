"""Reading label images (tif, npy, png, nii.gz, zarr); writing them and skeleton graphs (SWC, GraphML, CSV), atomically.

A file that cannot be read (empty, truncated, another format) is a
``ValueError`` that names it. Writes go to a temporary file beside the
output that is then linked to its name only if that name is still free
(``overwrite=False``), so a concurrent run never silently replaces the
other's file, and an interrupted write leaves no temporary file.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from .zarr_io import is_zarr_path, read_zarr, write_zarr

__all__ = [
    "GRAPH_SUFFIXES",
    "SUFFIXES",
    "check_label_output",
    "check_output",
    "is_graph_file",
    "read_labels",
    "read_spacing",
    "write_graph",
    "write_labels",
]

SUFFIXES = (".tif", ".tiff", ".npy", ".png", ".nii", ".nii.gz", ".zarr")
#: skeleton graph formats: neurons (SWC), vessel graphs (GraphML), the branch table (CSV)
GRAPH_SUFFIXES = (".swc", ".graphml", ".csv")


def _suffix(path: Path, allowed=SUFFIXES) -> str:
    name = path.name.lower()
    for s in allowed:
        if name.endswith(s):
            return s
    raise ValueError(f"unsupported file type {path.name!r}; use one of {', '.join(allowed)}.")


def is_graph_file(path) -> bool:
    """Whether ``path`` names a graph file (:data:`GRAPH_SUFFIXES`) rather than a label image (:data:`SUFFIXES`).

    Raises
    ------
    ValueError
        For an extension that is neither, naming those that are.
    """
    return _suffix(Path(path), SUFFIXES + GRAPH_SUFFIXES) in GRAPH_SUFFIXES


def _nibabel():
    try:
        import nibabel
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ValueError("reading/writing NIfTI needs nibabel: pip install 'napari-skelite[nifti]'.") from e
    return nibabel


def check_output(path, *, overwrite: bool = False, record: bool = False, flag: str = "overwrite=True") -> Path:
    """Refuse, before any work, an output that could not be written.

    Parameters
    ----------
    path : str or Path
        A label image or graph file.
    overwrite : bool
        Whether an existing file (and record) may be replaced.
    record : bool
        Also check ``<path>.json``, the run record written beside it.
    flag : str
        How the caller's user says "overwrite" (named in the error).

    Raises
    ------
    ValueError
        For an extension that is neither a label image nor a graph.
    FileExistsError
        If the file (or, with ``record``, its record) exists and ``overwrite`` is False.
    OSError
        If its folder cannot be created or written in.
    """
    path = Path(path)
    _suffix(path, SUFFIXES + GRAPH_SUFFIXES)
    if not overwrite:
        for p in (path, path.with_name(path.name + ".json")) if record else (path,):
            if p.exists():
                raise FileExistsError(f"{p} exists; pass {flag} to replace it.")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the output's folder is created: it must be possible there
    if not folder.is_dir():
        raise NotADirectoryError(f"cannot write {path}: {folder} is not a folder.")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise PermissionError(f"cannot write in {folder} ({e.strerror or e}); choose another output folder.") from None
    return path


#: the largest id each label image format holds (None: any uint64)
_MAX_ID = {".png": 2**16 - 1}


def check_label_output(path, ndim: int, top: int) -> None:
    """Refuse, before any work, a label image that ``path``'s format cannot hold without changing an id.

    Parameters
    ----------
    path : str or Path
    ndim : int
        Dimensions of the labels.
    top : int
        Their largest id.

    Raises
    ------
    ValueError
        A 3D image or an id above 65535 for PNG (8 or 16 bits, 2D only).
    """
    suffix = _suffix(Path(path))
    if suffix == ".png" and ndim != 2:
        raise ValueError("PNG holds 2D images only; use .tif or .npy for 3D.")
    limit = _MAX_ID.get(suffix)
    if limit is not None and int(top) > limit:
        raise ValueError(f"{suffix} holds label ids up to {limit}; these labels go up to {int(top)}. "
                         "Use .tif or .npy, which keep every id.")


def _umask_mode() -> int:
    """The mode a new file gets under the current umask (0666 & ~umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def read_labels(path) -> np.ndarray:
    """Read a 2D/3D label or mask image.

    A ``.zarr`` folder (OME-Zarr image or Zarr array) is read whole into
    memory; :func:`napari_skelite.zarr_io.read_zarr` opens it lazily.
    Colour (RGB/RGBA) PNGs and TIFFs are refused unless all their colour channels are
    equal (a grey image saved as colour): which channel holds the labels is
    the user's to say.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        For an unknown extension, a colour image, and a file that cannot be
        read as its extension says: empty, truncated (a TIFF whose pages do
        not hold the shape it declares), or of another format.
    """
    path = Path(path)
    if is_zarr_path(path):  # an OME-Zarr image or Zarr array: its full-resolution level, in memory
        return np.asarray(read_zarr(path).data.compute())
    suffix = _suffix(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    if suffix in (".nii", ".nii.gz"):
        _nibabel()  # a missing optional package is its own error
    try:
        arr, colour = _load(path, suffix)
    except MemoryError:
        raise
    except Exception as e:
        raise ValueError(f"{path} could not be read as a {suffix} image ({type(e).__name__}: {e}); the file may be "
                         "empty, truncated or of another format. Save it again, or convert it to .tif or .npy.") from e
    if colour:
        arr = _one_channel(arr, path)
    if arr.dtype.kind == "f" and set(np.unique(arr).tolist()) <= {0.0, 1.0}:
        arr = arr.astype(np.uint8)
    return arr


def _load(path: Path, suffix: str) -> tuple[np.ndarray, bool]:
    """The array in ``path`` and whether it is a colour image; any reader error passes through."""
    if suffix == ".npy":
        return np.load(path, allow_pickle=False), False
    if suffix in (".tif", ".tiff"):
        return _load_tiff(path)
    if suffix == ".png":
        import imageio.v3 as iio

        arr = iio.imread(path, extension=".png")
        return arr, arr.ndim == 3
    return np.asarray(_nibabel().load(path).dataobj), False


class _Problems(logging.Handler):
    """Collects what tifffile logs about a file it reads (a truncated file is logged, not raised)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


#: what tifffile logs about a file whose pages or metadata are cut off
_TIFF_DAMAGE = ("invalid page offset", "failed to reshape", "corrupted", "invalid value offset", "truncated")


def _load_tiff(path: Path) -> tuple[np.ndarray, bool]:
    """A TIFF's image; refused where its pages do not hold the shape its metadata (ImageJ, OME, tifffile) declares."""
    import tifffile

    problems, log = _Problems(), logging.getLogger("tifffile")
    log.addHandler(problems)
    try:
        with tifffile.TiffFile(path) as tif:
            arr = tif.asarray()
            colour = tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB
            declared = _declared_planes(tif)
    finally:
        log.removeHandler(problems)
    damage = [m for m in problems.messages if any(k in m for k in _TIFF_DAMAGE)]
    if damage:
        raise ValueError(f"its pages do not match its structure ({'; '.join(damage)})")
    planes = arr.size // max(int(np.prod(arr.shape[-3 if colour else -2:])), 1)
    if declared is not None and declared != planes:
        raise ValueError(f"it declares {declared} planes but holds {planes}")
    return arr, colour


def _declared_planes(tif) -> int | None:
    """How many 2D planes a TIFF's metadata says it holds (ImageJ ``images``, tifffile's shape), or None."""
    ij = tif.imagej_metadata
    if ij and "images" in ij:
        return int(ij["images"])
    shaped = tif.shaped_metadata
    if shaped and "shape" in shaped[0]:
        shape = tuple(shaped[0]["shape"])
        rgb = tif.pages[0].photometric == 2 and len(shape) >= 3 and shape[-1] in (3, 4)
        return int(np.prod(shape[: -3 if rgb else -2]))
    return None


def _one_channel(arr: np.ndarray, path) -> np.ndarray:
    """The one channel of a colour image whose channels are equal (channels last); else a clear error."""
    rgb = arr[..., :3]
    if arr.shape[-1] not in (3, 4) or not (rgb == rgb[..., :1]).all():
        raise ValueError(
            f"{path} is a colour image ({arr.shape[-1]} channels); skeletonize needs one channel "
            "of label ids. Save the label channel alone (e.g. as .tif or .npy) and pass that file.")
    return arr[..., 0]


_IMAGEJ_UNITS = {"micrometer": "um", "nanometer": "nm", "millimeter": "mm", "centimeter": "cm", "meter": "m"}


def read_spacing(path, ndim: int) -> tuple[tuple[float, ...] | None, str | None]:
    """Voxel size and unit a TIFF stores (ImageJ z spacing and unit, x/y resolution tags), or an OME-Zarr image's.

    An OME-Zarr image gives its full-resolution level's scale and unit (None
    where its axes' units differ). Returns ``(None, None)`` for other formats and for a TIFF without a
    resolution, so nothing is invented. Axes without a stored size get 1; a
    negative size counts by its absolute value.

    Raises
    ------
    ValueError
        For a stored size that is NaN, infinite or zero (it would make every
        length and radius meaningless).
    """
    path = Path(path)
    if is_zarr_path(path):
        volume = read_zarr(path)
        return volume.spacing, volume.unit
    if _suffix(path) not in (".tif", ".tiff"):
        return None, None
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page, ij = tif.pages[0], tif.imagej_metadata or {}
        res = [page.tags[t].value for t in ("YResolution", "XResolution") if t in page.tags]
    if len(res) != 2 or any(n == 0 for n, _ in res):
        return None, None
    yx = tuple(d / n for n, d in res)
    if yx == (1.0, 1.0) and "spacing" not in ij:
        return None, None  # tifffile's default resolution: no voxel size was stored
    try:
        z = float(ij.get("spacing", 1.0))
    except (TypeError, ValueError):
        z = float("nan")
    spacing = ((z,) if ndim == 3 else ()) + yx
    if not all(np.isfinite(v) and v != 0 for v in spacing):
        raise ValueError(f"{path} stores a voxel size of {tuple(float(v) for v in spacing)} (z, y, x), which is not "
                         "a finite non-zero size; set a valid one (Fiji: Image > Properties) or save the labels "
                         "as .npy, which has none.")
    spacing = tuple(abs(float(v)) for v in spacing)
    unit = ij.get("unit")
    inverse = {v: k for k, v in _IMAGEJ_UNITS.items()}
    return spacing, inverse.get(unit, unit) if unit not in (None, "pixel") else None


def _tiff_spacing(data: np.ndarray, spacing, unit) -> dict:
    """tifffile keywords that store the voxel size (ImageJ metadata where the dtype allows)."""
    if spacing is None:
        return {}
    spacing = tuple(abs(float(v)) for v in spacing)  # a negative napari scale flips an axis: its size is |scale|
    if len(spacing) != data.ndim or min(spacing) == 0:
        raise ValueError(f"spacing must be {data.ndim} non-zero numbers, one per axis; got {spacing}.")
    kw = {"resolution": (1 / spacing[-1], 1 / spacing[-2])}
    if data.dtype in (np.uint8, np.uint16):
        meta = {"axes": "ZYX" if data.ndim == 3 else "YX"}
        if data.ndim == 3:
            meta["spacing"] = spacing[0]
        if unit and str(unit) != "pixel":
            meta["unit"] = _IMAGEJ_UNITS.get(str(unit), str(unit))
        kw.update(imagej=True, metadata=meta)
    return kw


def write_labels(path, data: np.ndarray, overwrite: bool = False, spacing=None, unit: str | None = None) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename.

    Parameters
    ----------
    path : str or Path
        ``.tif``/``.tiff``, ``.npy``, ``.png`` (2D, ids up to 65535: 8 bits
        up to 255, else 16; ids are written as they are) or ``.nii``/``.nii.gz``.
    data : (M, N) or (P, M, N) array of labels
    overwrite : bool
    spacing : sequence of float, optional
        Voxel size per axis (napari ``scale``). TIFF only: uint8 and uint16
        labels are written as ImageJ TIFFs with the x/y resolution and the z
        spacing, so Fiji measures in physical units; other dtypes (which
        ImageJ's format cannot hold) get the x/y resolution only.
    unit : str, optional
        Unit of ``spacing`` (e.g. ``"micrometer"``); TIFF only.

    A ``.zarr`` path gets an OME-Zarr image (voxel size and unit in its NGFF
    metadata), written block by block into a folder that gets its name when
    complete (:func:`napari_skelite.zarr_io.write_zarr`).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False, also when another
        process created it while this one was writing.
    ValueError
        For an unknown extension, or labels the format cannot hold (see
        :func:`check_label_output`).
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix == ".zarr":
        return write_zarr(path, data, spacing=spacing, unit=unit, overwrite=overwrite)
    data = np.asarray(data)
    check_label_output(path, data.ndim, data.max(initial=0) if data.size else 0)

    def write(tmp):
        if suffix == ".npy":
            np.save(tmp, data)
        elif suffix in (".tif", ".tiff"):
            import tifffile

            # a label volume of 3 or 4 planes is not colour: say so, or readers show it as RGB(A)
            tifffile.imwrite(tmp, data, compression="zlib", photometric="minisblack", **_tiff_spacing(data, spacing, unit))
        elif suffix == ".png":
            import imageio.v3 as iio

            iio.imwrite(tmp, data.astype(np.uint16 if data.max(initial=0) > 255 else np.uint8), extension=".png")
        else:
            nib = _nibabel()
            nib.save(nib.Nifti1Image(np.asarray(data), np.eye(4)), tmp)

    return atomic_write(path, suffix, overwrite, write)


def atomic_write(path: Path, suffix: str, overwrite: bool, write) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path`` (the umask's mode), then give it ``path``'s name.

    Without ``overwrite`` the name is taken only if it is still free when the
    file is complete (a hard link, which fails on an existing name), so a
    file another process wrote meanwhile is never replaced. The temporary
    file is removed whatever happens, an interrupt included.
    """
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        os.close(fd)
        os.chmod(tmp, _umask_mode())  # mkstemp makes 0600; a written file should honour the umask
        write(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            _claim(tmp, path)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
    return path


def _claim(tmp: str, path: Path) -> None:
    """Give the finished file ``tmp`` the name ``path`` only if no file has it; else ``FileExistsError``."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path} was created by another process while this one was written; "
                              "it was left as it is. Pass overwrite=True (--overwrite) to replace it.") from None
    except OSError:  # a file system without hard links: reserve the name, then fill it
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _umask_mode()))
        except FileExistsError:
            raise FileExistsError(f"{path} was created by another process while this one was written; "
                                  "it was left as it is. Pass overwrite=True (--overwrite) to replace it.") from None
        os.replace(tmp, path)


def write_graph(path, skeleton: np.ndarray, *, spacing=None, mask=None, overwrite: bool = False,
                callback=None) -> Path:
    """Write a skeleton label image as a graph file, atomically; the extension picks the format.

    Parameters
    ----------
    path : str or Path
        ``.swc``: every skeleton point a node, one tree per connected piece of
        each label (rooted at an end point; a loop is cut once, as SWC holds
        trees only), positions ``x, y, z`` in physical units (``x`` is the last
        axis; ``z = 0`` in 2D), radius from ``mask`` (else half the smallest
        spacing), type 0; a comment line per tree names its label.
        ``.graphml``: :func:`napari_skelite.graph.to_networkx` (junctions and
        ends as nodes, branches as edges with length and mean radius; readable
        by ``networkx.read_graphml``). ``.csv``: the branch table
        (:func:`napari_skelite.graph.branch_table`).
    skeleton : (M, N) or (P, M, N) int array, dask or Zarr array, or SkeletonPoints
        Its redundant points are removed first, in every format
        (:func:`napari_skelite.graph.minimal_skeleton`). A dask or Zarr array
        is read block by block, with the same file as its whole array gives
        (:mod:`napari_skelite.blockgraph`); a
        :class:`~napari_skelite.blockgraph.SkeletonPoints` has been read already.
    spacing : sequence of float, optional
        Voxel size per axis (default 1; a negative size counts by its absolute value).
    mask : array of ``skeleton``'s shape, optional
        The segmentation: gives radii (a dask or Zarr array for a chunked skeleton).
    overwrite : bool
    callback : callable, optional
        ``callback(done, total)`` as the work goes on (see :mod:`napari_skelite.graph`); an
        exception raised in it stops the work and no file is written.

    Raises
    ------
    FileExistsError, ValueError
        If ``path`` exists and ``overwrite`` is False; for an unknown extension,
        and for the inputs :func:`napari_skelite.graph.branches` refuses.
    """
    from . import graph

    path = Path(path)
    suffix = _suffix(path, GRAPH_SUFFIXES)
    if graph._takes_points(skeleton):  # read block by block, once the name is known to be free
        return _write_graph_points(path, suffix, lambda: graph._points_input(skeleton, spacing, mask, callback),
                                   overwrite, callback)
    skeleton, sp, mask = graph._graph_inputs(skeleton, spacing, mask)

    def write(tmp):
        if suffix == ".csv":
            graph.branch_table(skeleton, sp, mask=mask, callback=callback).to_csv(tmp, index=False)
        elif suffix == ".graphml":
            import networkx as nx

            nx.write_graphml(graph.to_networkx(skeleton, sp, mask=mask, callback=callback), tmp)
        else:
            text = _swc_text(graph.minimal_skeleton(skeleton, callback=callback), sp, mask, callback)
            with open(tmp, "w") as f:
                f.write(text)

    return atomic_write(path, suffix, overwrite, write)


def _write_graph_points(path: Path, suffix: str, read, overwrite: bool, callback) -> Path:
    """:func:`write_graph` of the skeleton points ``read()`` returns (a :class:`~napari_skelite.blockgraph.SkeletonPoints`)."""
    from . import graph
    from .blockgraph import branches_of_points

    def write(tmp):
        points = read()
        sp = np.asarray(points.spacing, float)
        if suffix == ".swc":
            text = _swc_points(points.coords, points.labels, points.radius, sp, callback)
            with open(tmp, "w") as f:
                f.write(text)
            return
        b = branches_of_points(points, callback=callback)
        if suffix == ".csv":
            b.table.to_csv(tmp, index=False)
        else:
            import networkx as nx

            nx.write_graphml(graph._networkx(b, sp, points.radius is not None, callback), tmp)

    return atomic_write(path, suffix, overwrite, write)


def _swc_text(skeleton: np.ndarray, spacing, mask, callback=None) -> str:
    """SWC lines of every skeleton point: one breadth-first tree per connected piece of each label."""
    from .graph import radius_image

    sp = np.asarray(spacing, float)
    points = np.argwhere(skeleton > 0)
    radius = radius_image(mask, sp, callback=callback)[tuple(points.T)] if mask is not None else None
    return _swc_points(points, skeleton[tuple(points.T)], radius, sp, callback)


def _swc_points(points: np.ndarray, labels: np.ndarray, radius, sp: np.ndarray, callback=None) -> str:
    """:func:`_swc_text` of the skeleton points ``points`` ((N, ndim) ints, raster order) with ids ``labels``
    ((N,)) and radii ``radius`` ((N,) float, or None: half the smallest spacing)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order

    from .blockgraph import neighbour_index

    rows, cols = [], []
    for off in np.ndindex((3,) * points.shape[1]):  # edges between neighbouring points of the same label
        off = np.array(off) - 1
        if not off.any():
            continue
        j = neighbour_index(points, off[None])[:, 0]
        same = (j >= 0) & (labels == labels[np.maximum(j, 0)])
        rows.append(np.flatnonzero(same))
        cols.append(j[same])
    r, c = (np.concatenate(rows), np.concatenate(cols)) if rows else (np.zeros(0, int), np.zeros(0, int))
    adj = coo_matrix((np.ones(len(r)), (r, c)), shape=(len(points),) * 2).tocsr()
    degree = np.diff(adj.indptr)
    lines = ["# napari-skelite skeleton: n type x y z radius parent (physical units)"]
    number = np.zeros(len(points), np.int64)  # SWC ids, from 1
    seen = np.zeros(len(points), bool)
    order = np.lexsort((np.where(degree == 1, 0, 1), labels))  # ends first, by label
    n = piece = 0
    for k, start in enumerate(order):
        if seen[start]:
            continue
        if callback is not None:
            callback(k, len(order))
        visit, pred = breadth_first_order(adj, start, directed=False, return_predecessors=True)
        piece += 1  # one breadth-first tree: one connected piece of one label
        lines.append(f"# label {int(labels[start])}, piece {piece}")
        for v in visit:
            n += 1
            number[v] = n
            seen[v] = True
            pos = points[v][::-1] * sp[::-1]
            x, y, z = (*pos, 0.0) if len(pos) == 2 else pos
            rad = float(radius[v]) if radius is not None else float(sp.min() / 2)
            parent = number[pred[v]] if pred[v] >= 0 else -1
            lines.append(f"{n} 0 {x:.6g} {y:.6g} {z:.6g} {rad:.6g} {parent}")
    return "\n".join(lines) + "\n"
