"""Inputs that look valid but are not get an error or a warning, never a silently wrong result."""
import os
import stat
import warnings

import numpy as np
import pytest

from napari_skelite import skeletonize
from napari_skelite.api import IntensityImageWarning, TopologyChangedWarning
from napari_skelite.cli import main
from napari_skelite.io import read_labels, write_labels


def _bar(shape=(20, 24)):
    m = np.zeros(shape, np.uint8)
    m[5:15, 4:20] = 1
    return m


def test_float_ids_at_two_to_the_64_are_refused_not_dropped():
    m = _bar().astype(np.float64) * 2.0**64
    with pytest.raises(ValueError, match="uint64"):
        skeletonize(m, "boolean")


def test_float_ids_beyond_the_exact_integer_range_are_refused():
    m = _bar().astype(np.float32) * np.float32(2**25)
    with pytest.raises(ValueError, match="integer"):
        skeletonize(m, "boolean")


def test_a_colour_png_is_refused_with_what_to_do(tmp_path):
    import imageio.v3 as iio

    rgb = np.zeros((20, 24, 3), np.uint8)
    rgb[5:15, 4:20, 0] = 255
    rgb[5:15, 4:12, 1] = 128
    iio.imwrite(tmp_path / "c.png", rgb)
    with pytest.raises(ValueError, match="colour image"):
        read_labels(tmp_path / "c.png")


def test_a_grey_image_saved_as_rgb_reads_as_one_channel(tmp_path):
    import imageio.v3 as iio

    grey = _bar() * 255
    iio.imwrite(tmp_path / "g.png", np.stack([grey] * 3, -1))
    assert np.array_equal(read_labels(tmp_path / "g.png") > 0, _bar() > 0)


@pytest.mark.parametrize("suffix", [".tif", ".npy"])
def test_written_files_honour_the_umask(tmp_path, suffix):
    old = os.umask(0o022)
    try:
        out = write_labels(tmp_path / f"s{suffix}", _bar())
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


@pytest.mark.parametrize(("method", "options"), [
    ("boolean", {}), ("local", {}), ("morphological", {}),
    ("skelite", {}), ("skelite", {"guard": False}),
])
def test_a_huge_iteration_count_stops_when_nothing_changes(method, options):
    m = _bar()
    got = skeletonize(m, method, iterations=10**9, check_topology=False, **options)
    assert np.array_equal(got, skeletonize(m, method, check_topology=False, **options))


def test_the_paper_3d_network_stops_when_nothing_changes():
    m = np.zeros((16, 16, 16), np.uint8)
    m[4:12, 4:12, 3:13] = 1
    got = skeletonize(m, "skelite", iterations=10**9, variant="paper", guard=False, check_topology=False)
    assert np.array_equal(got, skeletonize(m, "skelite", variant="paper", guard=False, check_topology=False))


@pytest.mark.parametrize("bad", [-1, 0, 2.5, "3", True])
def test_bad_iteration_counts_are_refused(bad):
    with pytest.raises(ValueError, match="iterations"):
        skeletonize(_bar(), "boolean", iterations=bad)


def test_the_library_warns_when_a_method_changes_the_topology():
    ring = np.zeros((30, 30), np.uint8)
    ring[5:25, 5:25] = 1
    ring[12:18, 12:18] = 0
    with pytest.warns(TopologyChangedWarning, match="topology") as rec:
        skeletonize(ring, "morphological")
    assert rec[0].message.errors != (0, 0)


def test_the_library_does_not_warn_for_a_method_that_keeps_topology():
    with warnings.catch_warnings():
        warnings.simplefilter("error", TopologyChangedWarning)
        skeletonize(_bar(), "skelite")


def test_the_cli_says_on_stderr_when_the_topology_changed(tmp_path, capsys):
    ring = np.zeros((30, 30), np.uint8)
    ring[5:25, 5:25] = 1
    ring[12:18, 12:18] = 0
    np.save(tmp_path / "in.npy", ring)
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "out.npy"),
                 "--method", "morphological"]) == 0
    err = capsys.readouterr().err
    assert "changed the input's topology" in err and "--method boolean" in err


def test_the_cli_names_its_own_overwrite_flag_before_any_work(tmp_path, capsys):
    np.save(tmp_path / "in.npy", _bar())
    (tmp_path / "out.npy").write_bytes(b"keep")
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "out.npy")]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "overwrite=True" not in err
    assert (tmp_path / "out.npy").read_bytes() == b"keep"


def _photo(shape=(64, 80), seed=0):
    """A smooth uint8 'photo' with 256 grey values: an intensity image, not labels."""
    from scipy import ndimage

    noise = ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), 2)
    return ((noise - noise.min()) / np.ptp(noise) * 255).astype(np.uint8)


def test_the_library_warns_that_a_grey_photo_is_not_a_label_image():
    with pytest.warns(IntensityImageWarning, match="threshold it first"):
        skeletonize(_photo(), "boolean")


def test_many_touching_cells_are_not_taken_for_a_photo():
    from skimage.segmentation import watershed

    rng = np.random.default_rng(1)
    markers = np.zeros((120, 120), np.int32)
    pts = rng.integers(0, 120, (400, 2))
    markers[pts[:, 0], pts[:, 1]] = np.arange(1, 401)
    cells = watershed(np.zeros(markers.shape), markers)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IntensityImageWarning)
        skeletonize(cells, "boolean")


def test_the_cli_says_a_photo_is_not_labels_and_offers_a_threshold(tmp_path, capsys):
    np.save(tmp_path / "photo.npy", _photo())
    assert main(["skeletonize", str(tmp_path / "photo.npy"), str(tmp_path / "s.npy"), "--method", "boolean"]) == 0
    err = capsys.readouterr().err
    assert "looks like an intensity image" in err and "--threshold otsu" in err


def test_the_cli_threshold_skeletonizes_the_foreground_of_an_intensity_image(tmp_path, capsys):
    img = (_bar() * 200 + 20).astype(np.uint8)
    np.save(tmp_path / "img.npy", img)
    assert main(["skeletonize", str(tmp_path / "img.npy"), str(tmp_path / "s.npy"), "--method", "boolean",
                 "--threshold", "otsu"]) == 0
    assert "points above" in capsys.readouterr().err
    got = np.load(tmp_path / "s.npy")
    assert np.array_equal(got > 0, skeletonize(_bar(), "boolean") > 0)


def test_a_colour_tiff_is_refused_not_read_as_a_volume(tmp_path):
    import tifffile

    rgb = np.zeros((20, 24, 3), np.uint8)
    rgb[5:15, 4:20, 0] = 255
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric="rgb")
    with pytest.raises(ValueError, match="colour image"):
        read_labels(tmp_path / "c.tif")


@pytest.mark.parametrize("guard", ["no", 0, None])
def test_a_guard_that_is_not_true_or_false_is_refused(guard):
    with pytest.raises(TypeError, match="True or False"):
        skeletonize(_bar(), "skelite", guard=guard)
