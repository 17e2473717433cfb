"""Reading and writing label images (tif, npy, png, nii.gz), atomically."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["read_labels", "read_spacing", "write_labels", "SUFFIXES"]

SUFFIXES = (".tif", ".tiff", ".npy", ".png", ".nii", ".nii.gz")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in SUFFIXES:
        if name.endswith(s):
            return s
    raise ValueError(f"unsupported file type {path.name!r}; use one of {', '.join(SUFFIXES)}.")


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
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _umask_mode())  # mkstemp makes 0600; a written file should honour the umask
    try:
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
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
