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


# --- damaged files are refused, ids and files are never changed -------------------------------------


def _volume():
    return (np.random.default_rng(0).random((8, 32, 40)) * 5).astype(np.uint8)


@pytest.mark.parametrize("kind", [{"imagej": True}, {"compression": "zlib"}, {"ome": True}])
@pytest.mark.parametrize("share", [0.3, 0.6, 0.9])
def test_a_truncated_3d_tiff_is_refused_not_read_as_its_first_plane(tmp_path, kind, share):
    tifffile.imwrite(tmp_path / "v.tif", _volume(), **kind)
    data = (tmp_path / "v.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[: int(len(data) * share)])
    with pytest.raises(ValueError, match=r"cut\.tif"):
        read_labels(tmp_path / "cut.tif")


def test_a_whole_imagej_volume_still_reads_as_a_volume(tmp_path):
    tifffile.imwrite(tmp_path / "v.tif", _volume(), imagej=True)
    assert np.array_equal(read_labels(tmp_path / "v.tif"), _volume())


@pytest.mark.parametrize(("name", "content"), [
    ("empty.npy", b""),
    ("short.png", b"\x89PNG\r\n\x1a\n\x00\x00"),
    ("empty.png", b""),
    ("empty.tif", b""),
])
def test_an_empty_or_cut_file_is_a_clear_error_naming_it(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=f"{name} could not be read"):
        read_labels(tmp_path / name)


def test_png_keeps_every_id_up_to_65535_and_a_lone_id_1(tmp_path):
    one = np.zeros((6, 7), np.uint8)
    one[2, 3] = 1
    assert np.array_equal(read_labels(write_labels(tmp_path / "one.png", one)), one)
    big = one.astype(np.uint32) * 65535
    assert np.array_equal(read_labels(write_labels(tmp_path / "big.png", big)), big)


def test_png_refuses_ids_it_cannot_hold_instead_of_wrapping_them(tmp_path):
    ids = np.zeros((6, 7), np.uint32)
    ids[1, 1], ids[3, 3] = 70_000, 140_000
    with pytest.raises(ValueError, match="up to 65535"):
        write_labels(tmp_path / "s.png", ids)
    assert not list(tmp_path.iterdir())


def test_a_file_created_by_another_process_during_a_write_is_not_replaced(tmp_path, monkeypatch):
    out = tmp_path / "s.npy"
    save = np.save

    def racing(file, arr, *a, **k):  # another run writes the same output meanwhile
        out.write_bytes(b"the other run's file")
        return save(file, arr, *a, **k)

    monkeypatch.setattr(np, "save", racing)
    with pytest.raises(FileExistsError, match="another process"):
        write_labels(out, _labels(np.uint8))
    assert out.read_bytes() == b"the other run's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npy"]


def test_a_graph_file_created_by_another_process_during_a_write_is_not_replaced(tmp_path, monkeypatch):
    import napari_skelite.graph as graph
    from napari_skelite.io import write_graph

    out = tmp_path / "g.csv"
    table = graph.branch_table

    def racing(*a, **k):
        out.write_text("the other run's graph")
        return table(*a, **k)

    monkeypatch.setattr(graph, "branch_table", racing)
    with pytest.raises(FileExistsError):
        write_graph(out, _labels(np.uint8))
    assert out.read_text() == "the other run's graph" and len(list(tmp_path.iterdir())) == 1


def test_a_tiff_with_a_nan_or_zero_z_spacing_is_refused_with_what_to_do(tmp_path):
    from napari_skelite.io import read_spacing

    for bad in (float("nan"), 0.0):
        path = tmp_path / f"s{bad}.tif"
        tifffile.imwrite(path, _labels(np.uint8), imagej=True, resolution=(2.0, 2.0), metadata={"spacing": bad})
        with pytest.raises(ValueError, match="Image > Properties"):
            read_spacing(path, 3)
