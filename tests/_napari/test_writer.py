import numpy as np
import pytest

from napari_skelite._napari.writer import write_labels
from napari_skelite.io import read_labels


def _skel():
    s = np.zeros((4, 10, 12), np.uint32)
    s[2, 5, 1:11] = 70_000
    return s


@pytest.mark.parametrize("ext", [".tif", ".tiff", ".npy"])
def test_writer_round_trips_label_ids(tmp_path, ext):
    (path,) = write_labels(str(tmp_path / f"s{ext}"), _skel(), {})
    out = read_labels(path)
    assert out.dtype == np.uint32 and np.array_equal(out, _skel())


def test_a_volume_of_four_planes_is_written_as_grey_levels_not_colour(tmp_path):
    import tifffile

    (path,) = write_labels(str(tmp_path / "s.tif"), _skel(), {})
    with tifffile.TiffFile(path) as tif:
        assert tif.series[0].shape == _skel().shape
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.MINISBLACK


def test_writer_replaces_an_existing_file_atomically(tmp_path):
    p = tmp_path / "s.npy"
    p.write_bytes(b"old")
    write_labels(str(p), _skel(), {})
    assert np.array_equal(np.load(p), _skel())
    assert [f.name for f in tmp_path.iterdir()] == ["s.npy"]


def test_writer_refuses_an_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match="unsupported file type"):
        write_labels(str(tmp_path / "s.jpg"), _skel(), {})


def test_a_failing_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    import tifffile

    p = tmp_path / "s.tif"
    p.write_bytes(b"old")

    def broken(path, *a, **k):
        open(path, "wb").write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(tifffile, "imwrite", broken)
    with pytest.raises(OSError, match="disk full"):
        write_labels(str(p), _skel(), {})
    assert p.read_bytes() == b"old" and [f.name for f in tmp_path.iterdir()] == ["s.tif"]


def test_a_skeleton_layer_of_this_plugin_is_saved_with_its_run_record(tmp_path):
    import json

    meta = {"metadata": {"napari_skelite": {"source": "cells", "kind": "skeleton", "method": "skelite",
                                             "options": {"iterations": None, "guard": True, "device": "cpu"}}},
            "scale": (2.0, 1.0, 1.0)}
    paths = write_labels(str(tmp_path / "s.tif"), _skel(), meta)
    assert paths == [str(tmp_path / "s.tif"), str(tmp_path / "s.tif.json")]
    rec = json.loads((tmp_path / "s.tif.json").read_text())
    assert rec["method"] == "skelite" and rec["options"]["guard"] is True
    assert rec["input"]["scale"] == [2.0, 1.0, 1.0] and rec["input"]["source"] == "napari layer 'cells'"


def test_save_selected_layer_keeps_the_layers_voxel_size_in_the_tiff(tmp_path):
    import tifffile

    (path,) = write_labels(str(tmp_path / "s.tif"), _skel().astype(np.uint8), {"scale": (3.0, 1.0, 1.0)})
    with tifffile.TiffFile(path) as tif:
        assert tif.imagej_metadata["spacing"] == 3.0
