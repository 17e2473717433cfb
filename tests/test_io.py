import numpy as np
import pytest
import tifffile

from napari_skelite.io import read_labels, write_labels


def _labels(dtype):
    a = np.zeros((4, 10, 12), dtype)
    a[2, 5, 1:11] = 7
    return a


def test_a_small_id_tiff_carries_its_voxel_size_as_imagej_metadata(tmp_path):
    path = write_labels(tmp_path / "s.tif", _labels(np.uint16), spacing=(2.0, 0.5, 0.25), unit="micrometer")
    with tifffile.TiffFile(path) as tif:
        assert tif.imagej_metadata["spacing"] == 2.0 and tif.imagej_metadata["unit"] == "um"
        assert tif.pages[0].tags["XResolution"].value == (4, 1) and tif.pages[0].tags["YResolution"].value == (2, 1)
    assert np.array_equal(read_labels(path), _labels(np.uint16))


def test_a_large_id_tiff_keeps_its_ids_and_the_xy_resolution(tmp_path):
    path = write_labels(tmp_path / "s.tif", _labels(np.uint32) * 10_000, spacing=(2.0, 0.5, 0.5))
    with tifffile.TiffFile(path) as tif:
        assert tif.imagej_metadata is None  # ImageJ's format has no 32-bit integers
        assert tif.pages[0].tags["XResolution"].value == (2, 1)
    out = read_labels(path)
    assert out.dtype == np.uint32 and out.max() == 70_000


def test_a_spacing_that_does_not_fit_the_image_is_refused(tmp_path):
    with pytest.raises(ValueError, match="one per axis"):
        write_labels(tmp_path / "s.tif", _labels(np.uint8), spacing=(1.0, 1.0))
    assert not list(tmp_path.iterdir())


def test_read_spacing_gives_back_what_write_labels_stored(tmp_path):
    from napari_skelite.io import read_spacing

    path = write_labels(tmp_path / "s.tif", _labels(np.uint8), spacing=(2.0, 0.5, 0.25), unit="micrometer")
    assert read_spacing(path, 3) == ((2.0, 0.5, 0.25), "micrometer")
    plain = write_labels(tmp_path / "p.tif", _labels(np.uint8))
    assert read_spacing(plain, 3) == (None, None)
    assert read_spacing(write_labels(tmp_path / "s.npy", _labels(np.uint8)), 3) == (None, None)


def test_a_flipped_axis_stores_the_size_of_its_voxels(tmp_path):
    from napari_skelite.io import read_spacing

    path = write_labels(tmp_path / "s.tif", _labels(np.uint8), spacing=(-2.0, 0.5, 0.5))
    assert read_spacing(path, 3) == ((2.0, 0.5, 0.5), None)
