"""Skeleton exports keep the voxel size and unit for every dtype the widget makes (no Qt)."""
import numpy as np
import pytest

from napari_skelite._napari.export import save_labels
from napari_skelite.io import read_labels, read_spacing


def _skel(dtype, top=200):
    s = np.zeros((4, 10, 12), dtype)
    s[2, 5, 1:11] = top
    return s


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64, np.int32])
def test_a_tiff_keeps_z_spacing_and_unit_for_every_label_dtype(tmp_path, dtype):
    import tifffile

    (path,) = save_labels(tmp_path / "s.tif", _skel(dtype), scale=(3.0, 0.5, 0.5), units=("micrometer",) * 3)
    with tifffile.TiffFile(path) as tif:
        assert tif.imagej_metadata["spacing"] == 3.0 and tif.imagej_metadata["unit"] == "um"
        assert tif.pages[0].tags["XResolution"].value == (2, 1)
    assert read_spacing(path, 3) == ((3.0, 0.5, 0.5), "micrometer")
    out = read_labels(path)
    assert out.dtype == np.dtype(dtype) and np.array_equal(out, _skel(dtype))


def test_label_ids_above_65535_are_kept_with_the_voxel_size(tmp_path):
    data = _skel(np.uint32, top=70_000)
    (path,) = save_labels(tmp_path / "s.tiff", data, scale=(2.0, 1.0, 1.0), units=None)
    assert np.array_equal(read_labels(path), data) and read_spacing(path, 3)[0] == (2.0, 1.0, 1.0)


def test_a_2d_uint32_tiff_keeps_its_pixel_size(tmp_path):
    data = _skel(np.uint32)[2]
    (path,) = save_labels(tmp_path / "s.tif", data, scale=(0.25, 0.25), units=("micrometer", "micrometer"))
    assert read_spacing(path, 2) == ((0.25, 0.25), "micrometer") and np.array_equal(read_labels(path), data)


def test_npy_is_written_as_is_and_a_failed_tiff_leaves_no_temporary(tmp_path):
    (path,) = save_labels(tmp_path / "s.npy", _skel(np.uint32), scale=(1.0, 1.0, 1.0))
    assert np.array_equal(np.load(path), _skel(np.uint32))
    with pytest.raises(ValueError, match="non-zero"):
        save_labels(tmp_path / "t.tif", _skel(np.uint32), scale=(0.0, 1.0, 1.0))
    assert [f.name for f in tmp_path.iterdir()] == ["s.npy"]
