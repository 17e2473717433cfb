"""Reading label images (tif, npy, png, nii.gz); writing them and skeleton graphs (SWC, GraphML, CSV), atomically."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = [
    "GRAPH_SUFFIXES",
    "SUFFIXES",
    "is_graph_file",
    "read_labels",
    "read_spacing",
    "write_graph",
    "write_labels",
]

SUFFIXES = (".tif", ".tiff", ".npy", ".png", ".nii", ".nii.gz")
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


def _umask_mode() -> int:
    """The mode a new file gets under the current umask (0666 & ~umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def read_labels(path) -> np.ndarray:
    """Read a 2D/3D label or mask image.

    Colour (RGB/RGBA) PNGs and TIFFs are refused unless all their colour channels are
    equal (a grey image saved as colour): which channel holds the labels is
    the user's to say.
    """
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    if suffix == ".npy":
        arr = np.load(path, allow_pickle=False)
    elif suffix in (".tif", ".tiff"):
        import tifffile

        with tifffile.TiffFile(path) as tif:
            arr = tif.asarray()
            colour = tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB
        if colour:
            arr = _one_channel(arr, path)
    elif suffix == ".png":
        import imageio.v3 as iio

        arr = iio.imread(path)
        if arr.ndim == 3:
            arr = _one_channel(arr, path)
    else:
        arr = np.asarray(_nibabel().load(path).dataobj)
    if arr.dtype.kind == "f" and set(np.unique(arr).tolist()) <= {0.0, 1.0}:
        arr = arr.astype(np.uint8)
    return arr


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
    """Voxel size and unit a TIFF stores (ImageJ z spacing and unit, x/y resolution tags).

    Returns ``(None, None)`` for other formats and for a TIFF without a
    resolution, so nothing is invented. Axes without a stored size get 1.
    """
    path = Path(path)
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
    spacing = ((float(ij.get("spacing", 1.0)),) if ndim == 3 else ()) + yx
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
        ``.tif``/``.tiff``, ``.npy``, ``.png`` (2D) or ``.nii``/``.nii.gz``.
    data : (M, N) or (P, M, N) array of labels
    overwrite : bool
    spacing : sequence of float, optional
        Voxel size per axis (napari ``scale``). TIFF only: uint8 and uint16
        labels are written as ImageJ TIFFs with the x/y resolution and the z
        spacing, so Fiji measures in physical units; other dtypes (which
        ImageJ's format cannot hold) get the x/y resolution only.
    unit : str, optional
        Unit of ``spacing`` (e.g. ``"micrometer"``); TIFF only.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError
        For an unknown extension.
    """
    path = Path(path)
    suffix = _suffix(path)

    def write(tmp):
        if suffix == ".npy":
            np.save(tmp, data)
        elif suffix in (".tif", ".tiff"):
            import tifffile

            # a label volume of 3 or 4 planes is not colour: say so, or readers show it as RGB(A)
            tifffile.imwrite(tmp, data, compression="zlib", photometric="minisblack", **_tiff_spacing(data, spacing, unit))
        elif suffix == ".png":
            import imageio.v3 as iio

            if data.ndim != 2:
                raise ValueError("PNG holds 2D images only; use .tif or .npy for 3D.")
            out = data if data.max(initial=0) > 1 else (data > 0).astype(np.uint8) * 255
            iio.imwrite(tmp, out.astype(np.uint16 if out.max(initial=0) > 255 else np.uint8), extension=".png")
        else:
            nib = _nibabel()
            nib.save(nib.Nifti1Image(np.asarray(data), np.eye(4)), tmp)

    return _atomic(path, suffix, overwrite, write)


def _atomic(path: Path, suffix: str, overwrite: bool, write) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path`` (the umask's mode), then rename it to ``path``."""
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _umask_mode())  # mkstemp makes 0600; a written file should honour the umask
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_graph(path, skeleton: np.ndarray, *, spacing=None, mask=None, overwrite: bool = False) -> Path:
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
    skeleton : (M, N) or (P, M, N) int array
    spacing : sequence of float, optional
        Voxel size per axis (default 1).
    mask : array of ``skeleton``'s shape, optional
        The segmentation: gives radii.
    overwrite : bool

    Raises
    ------
    FileExistsError, ValueError
        If ``path`` exists and ``overwrite`` is False; for an unknown extension.
    """
    from . import graph

    path = Path(path)
    suffix = _suffix(path, GRAPH_SUFFIXES)
    skeleton = np.asarray(skeleton)
    sp = (1.0,) * skeleton.ndim if spacing is None else tuple(abs(float(v)) for v in spacing)

    def write(tmp):
        if suffix == ".csv":
            graph.branch_table(skeleton, sp, mask=mask).to_csv(tmp, index=False)
        elif suffix == ".graphml":
            import networkx as nx

            nx.write_graphml(graph.to_networkx(skeleton, sp, mask=mask), tmp)
        else:
            with open(tmp, "w") as f:
                f.write(_swc_text(skeleton, sp, mask))

    return _atomic(path, suffix, overwrite, write)


def _swc_text(skeleton: np.ndarray, spacing, mask) -> str:
    """SWC lines of every skeleton point: one breadth-first tree per connected piece of each label."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order

    from .graph import radius_image

    sp = np.asarray(spacing, float)
    radius = radius_image(mask, sp) if mask is not None else None
    points = np.argwhere(skeleton > 0)
    index = np.full(skeleton.shape, -1, np.int64)
    index[tuple(points.T)] = np.arange(len(points))
    rows, cols = [], []
    for off in np.ndindex((3,) * skeleton.ndim):  # edges between neighbouring points of the same label
        off = np.array(off) - 1
        if not off.any():
            continue
        q = points + off
        ok = np.all((q >= 0) & (q < skeleton.shape), axis=1)
        j = np.full(len(points), -1)
        j[ok] = index[tuple(q[ok].T)]
        same = (j >= 0) & (skeleton[tuple(points.T)] == skeleton[tuple(np.where(j[:, None] >= 0, q, points).T)])
        rows.append(np.flatnonzero(same))
        cols.append(j[same])
    r, c = (np.concatenate(rows), np.concatenate(cols)) if rows else (np.zeros(0, int), np.zeros(0, int))
    adj = coo_matrix((np.ones(len(r)), (r, c)), shape=(len(points),) * 2).tocsr()
    degree = np.diff(adj.indptr)
    lines = ["# napari-skelite skeleton: n type x y z radius parent (physical units)"]
    number = np.zeros(len(points), np.int64)  # SWC ids, from 1
    seen = np.zeros(len(points), bool)
    order = np.lexsort((np.where(degree == 1, 0, 1), skeleton[tuple(points.T)]))  # ends first, by label
    n = piece = 0
    for start in order:
        if seen[start]:
            continue
        visit, pred = breadth_first_order(adj, start, directed=False, return_predecessors=True)
        piece += 1  # one breadth-first tree: one connected piece of one label
        lines.append(f"# label {int(skeleton[tuple(points[start])])}, piece {piece}")
        for v in visit:
            n += 1
            number[v] = n
            seen[v] = True
            pos = points[v][::-1] * sp[::-1]
            x, y, z = (*pos, 0.0) if skeleton.ndim == 2 else pos
            rad = float(radius[tuple(points[v])]) if radius is not None else float(sp.min() / 2)
            parent = number[pred[v]] if pred[v] >= 0 else -1
            lines.append(f"{n} 0 {x:.6g} {y:.6g} {z:.6g} {rad:.6g} {parent}")
    return "\n".join(lines) + "\n"
