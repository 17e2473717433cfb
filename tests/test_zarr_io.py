"""OME-Zarr and Zarr volumes: read lazily with their NGFF metadata, skeletons written block by block."""
import json

import dask.array as da
import numpy as np
import pytest
import zarr

from napari_skelite import skeletonize
from napari_skelite.cli import main
from napari_skelite.io import read_labels, read_spacing, write_labels
from napari_skelite.synthetic import bezier_tree
from napari_skelite.zarr_io import read_zarr, write_zarr


def _vessels(shape=(24, 40, 40), seed=3):
    return bezier_tree(shape, n_curves=3, radius=(1.0, 2.5), seed=seed).astype(np.uint8)


def _ome(path, data, *, spacing=(2.0, 0.5, 0.5), unit="micrometer", chunks=16, levels=1, version="0.5"):
    """An OME-Zarr image written by ome-zarr itself (not by the code under test)."""
    from ome_zarr.format import format_from_version
    from ome_zarr.writer import write_image

    axes = "zyx"[-data.ndim:]
    factors = [{a: 2 ** k for a in axes} for k in range(1, levels)] or None
    fmt = format_from_version(version)
    group = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    write_image(da.from_array(data, chunks=chunks), group, axes=axes, scale=dict(zip(axes, spacing)),
                axes_units={a: unit for a in axes}, scale_factors=factors, method="nearest", fmt=fmt)
    return path


def test_an_ome_zarr_skeleton_equals_the_in_memory_skeleton(tmp_path):
    labels = _vessels()
    src = _ome(tmp_path / "in.zarr", labels)
    assert main(["skeletonize", str(src), str(tmp_path / "out.zarr"), "--method", "boolean"]) == 0
    np.testing.assert_array_equal(read_zarr(tmp_path / "out.zarr").data.compute(), skeletonize(labels, "boolean"))


def test_voxel_size_and_unit_survive_ome_zarr_to_skeleton_to_ome_zarr(tmp_path):
    src = _ome(tmp_path / "in.zarr", _vessels(), spacing=(3.0, 0.25, 0.5), unit="nanometer")
    main(["skeletonize", str(src), str(tmp_path / "out.zarr"), "--method", "boolean"])
    assert read_spacing(tmp_path / "out.zarr", 3) == ((3.0, 0.25, 0.5), "nanometer")


def test_voxel_size_and_unit_survive_tiff_to_ome_zarr(tmp_path):
    write_labels(tmp_path / "in.tif", _vessels(), spacing=(2.0, 0.5, 0.5), unit="micrometer")
    main(["skeletonize", str(tmp_path / "in.tif"), str(tmp_path / "out.zarr"), "--method", "boolean"])
    assert read_spacing(tmp_path / "out.zarr", 3) == ((2.0, 0.5, 0.5), "micrometer")


def test_the_skeleton_keeps_the_inputs_storage_chunks(tmp_path):
    src = _ome(tmp_path / "in.zarr", _vessels(), chunks=(8, 20, 20))
    main(["skeletonize", str(src), str(tmp_path / "out.zarr"), "--method", "boolean"])
    assert read_zarr(tmp_path / "out.zarr").chunks == (8, 20, 20)


def test_a_chosen_level_is_skeletonized_with_its_voxel_size(tmp_path):
    labels = _vessels((32, 48, 48))
    src = _ome(tmp_path / "in.zarr", labels, spacing=(1.0, 1.0, 1.0), levels=2)
    assert main(["skeletonize", str(src), str(tmp_path / "out.zarr"), "--level", "1", "--method", "boolean"]) == 0
    out = read_zarr(tmp_path / "out.zarr")
    assert out.data.shape == (16, 24, 24) and out.spacing == (2.0, 2.0, 2.0)


def test_a_level_the_pyramid_lacks_is_a_clear_error(tmp_path, capsys):
    src = _ome(tmp_path / "in.zarr", _vessels(), levels=2)
    assert main(["skeletonize", str(src), str(tmp_path / "out.zarr"), "--level", "5"]) == 2
    assert "levels 0 to 1" in capsys.readouterr().err and not (tmp_path / "out.zarr").exists()


def test_a_singleton_channel_axis_comes_back_in_the_skeleton(tmp_path):
    from ome_zarr.writer import write_image

    labels = _vessels()
    write_image(labels[None], zarr.open_group(str(tmp_path / "in.zarr"), mode="w"), axes="czyx", scale_factors=None)
    main(["skeletonize", str(tmp_path / "in.zarr"), str(tmp_path / "out.zarr"), "--method", "boolean"])
    out = read_zarr(tmp_path / "out.zarr")
    assert [a["name"] for a in out.axes] == ["c", "z", "y", "x"] and out.data.shape == labels.shape


def test_several_channels_are_a_clear_error(tmp_path):
    from ome_zarr.writer import write_image

    labels = _vessels()
    write_image(np.stack([labels, labels]), zarr.open_group(str(tmp_path / "in.zarr"), mode="w"), axes="czyx",
                scale_factors=None)
    with pytest.raises(ValueError, match="needs one channel"):
        read_zarr(tmp_path / "in.zarr")


def test_ngff_0_4_input_gives_an_ngff_0_4_skeleton(tmp_path):
    src = _ome(tmp_path / "in.zarr", _vessels(), version="0.4")
    main(["skeletonize", str(src), str(tmp_path / "out.zarr"), "--method", "boolean"])
    out = read_zarr(tmp_path / "out.zarr")
    assert out.version == "0.4" and out.zarr_format == 2 and out.spacing == (2.0, 0.5, 0.5)


def test_a_plain_zarr_array_gives_a_plain_zarr_skeleton(tmp_path):
    labels = _vessels()
    da.from_array(labels, chunks=16).to_zarr(str(tmp_path / "in.zarr"))
    main(["skeletonize", str(tmp_path / "in.zarr"), str(tmp_path / "out.zarr"), "--method", "boolean"])
    assert isinstance(zarr.open(str(tmp_path / "out.zarr"), mode="r"), zarr.Array)
    np.testing.assert_array_equal(read_labels(tmp_path / "out.zarr"), skeletonize(labels, "boolean"))


def test_a_folder_that_is_not_zarr_is_a_clear_error(tmp_path):
    (tmp_path / "x.zarr").mkdir()
    with pytest.raises(ValueError, match="could not be opened as Zarr"):
        read_zarr(tmp_path / "x.zarr")


def test_the_record_of_a_zarr_output_sits_beside_its_folder(tmp_path):
    src = _ome(tmp_path / "in.zarr", _vessels())
    main(["skeletonize", str(src), str(tmp_path / "out.zarr"), "--method", "boolean"])
    rec = json.loads((tmp_path / "out.zarr.json").read_text())
    assert rec["method"] == "boolean" and rec["input"]["scale"] == [2.0, 0.5, 0.5] and rec["skeleton_points"] > 0


def test_an_existing_zarr_output_is_kept_without_overwrite(tmp_path):
    write_zarr(tmp_path / "out.zarr", np.ones((4, 4), np.uint8))
    with pytest.raises(FileExistsError, match="overwrite"):
        write_zarr(tmp_path / "out.zarr", np.zeros((4, 4), np.uint8))
    assert read_labels(tmp_path / "out.zarr").all()


def test_overwrite_replaces_a_zarr_output(tmp_path):
    write_zarr(tmp_path / "out.zarr", np.ones((4, 4), np.uint8))
    write_zarr(tmp_path / "out.zarr", np.zeros((4, 4), np.uint8), overwrite=True)
    assert not read_labels(tmp_path / "out.zarr").any() and [p.name for p in tmp_path.iterdir()] == ["out.zarr"]


def test_an_interrupted_write_leaves_no_folder(tmp_path):
    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_zarr(tmp_path / "out.zarr", np.ones((32, 32), np.uint8), chunks=8, progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_writing_counts_every_block_once(tmp_path):
    seen = []
    write_zarr(tmp_path / "out.zarr", np.ones((32, 48), np.uint8), chunks=16, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(k, 6) for k in range(1, 7)]


def test_a_short_unit_is_written_with_its_ngff_name(tmp_path):
    write_zarr(tmp_path / "out.zarr", np.ones((4, 4), np.uint8), spacing=(0.5, 0.5), unit="um")
    assert read_zarr(tmp_path / "out.zarr").unit == "micrometer"


@pytest.mark.parametrize("suffix", [".csv", ".graphml", ".swc"])
def test_a_graph_of_an_ome_zarr_input_is_read_block_by_block_and_equals_the_in_memory_runs(tmp_path, suffix,
                                                                                           monkeypatch):
    from napari_skelite import volume_run

    labels = _vessels()
    src = _ome(tmp_path / "in.zarr", labels, chunks=8)

    def gathered(*args, **kwargs):
        raise AssertionError("the skeleton was gathered in memory")

    monkeypatch.setattr(volume_run, "_write_file", gathered)
    assert main(["skeletonize", str(src), str(tmp_path / f"blocks{suffix}"), "--method", "skelite"]) == 0
    expected = _graph_file(tmp_path / f"whole{suffix}", labels, spacing=(2.0, 0.5, 0.5))  # the OME-Zarr's voxel size
    assert (tmp_path / f"blocks{suffix}").read_text() == expected.read_text()
    rec = json.loads((tmp_path / f"blocks{suffix}.json").read_text())
    assert rec["skeleton_points"] == int((skeletonize(labels, "skelite") > 0).sum())


def _graph_file(path, labels, spacing):
    """The graph file of the in-memory skeleton of ``labels``, as the in-memory command line writes it."""
    from napari_skelite.io import write_graph

    return write_graph(path, skeletonize(labels, "skelite"), spacing=spacing, mask=labels)


def test_a_pruned_graph_of_an_ome_zarr_input_still_gathers_the_skeleton(tmp_path):
    labels = _vessels()
    src = _ome(tmp_path / "in.zarr", labels, chunks=8)
    assert main(["skeletonize", str(src), str(tmp_path / "t.csv"), "--method", "boolean", "--prune", "3"]) == 0
    assert (tmp_path / "t.csv").stat().st_size > 0


def _blocks_at_once(monkeypatch):
    """Record the most blocks skeletonized at the same time (each block takes at least 50 ms)."""
    import threading
    import time

    from napari_skelite import chunked

    block = chunked._skeletonize_block
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def counted(*args, **kw):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(0.05)
            return block(*args, **kw)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(chunked, "_skeletonize_block", counted)
    return state


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_bounds_the_blocks_computed_at_once(tmp_path, monkeypatch, workers):
    labels = bezier_tree((192, 192), n_curves=4, radius=(1.0, 2.0), seed=3).astype(np.uint8)
    src = _ome(tmp_path / "in.zarr", labels, spacing=(0.5, 0.5), chunks=48)  # 16 blocks (halo 26)
    state = _blocks_at_once(monkeypatch)
    assert main(["skeletonize", str(src), str(tmp_path / "out.zarr"), "--method", "boolean",
                 "--workers", str(workers)]) == 0
    assert (state["most"] == 1) if workers == 1 else (state["most"] >= 2)
    np.testing.assert_array_equal(read_zarr(tmp_path / "out.zarr").data.compute(), skeletonize(labels, "boolean"))


def test_workers_needs_a_chunked_run_here(tmp_path, capsys):
    np.save(tmp_path / "in.npy", _vessels())
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "out.npy"), "--workers", "2"]) == 2
    assert "--workers" in capsys.readouterr().err and not (tmp_path / "out.npy").exists()
    args = ["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "out.zarr"), "--workers", "2",
            "--scheduler", "tcp://127.0.0.1:9"]
    assert main(args) == 2
    assert "nthreads" in capsys.readouterr().err and not (tmp_path / "out.zarr").exists()
