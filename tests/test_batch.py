"""Batches on the command line: many inputs into --out-dir, compare over several files, a dask cluster."""
import json

import numpy as np
import pytest

from napari_skelite import skeletonize
from napari_skelite.cli import main
from napari_skelite.io import read_labels, write_labels


def _labels(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = np.zeros((16, 20), np.uint8)
    top, left = rng.integers(1, 4, 2)
    m[top:top + 10, left:left + 14] = 1 + seed % 3
    return m


def _twenty_files_two_broken(folder):
    paths = []
    for k in range(20):
        path = folder / f"f{k:02d}.tif"
        if k in (4, 11):
            path.write_bytes(b"not a tiff")
        else:
            write_labels(path, _labels(k))
        paths.append(path)
    return paths


def test_a_batch_with_two_broken_files_writes_eighteen_skeletons_with_records(tmp_path):
    paths = _twenty_files_two_broken(tmp_path / "in")
    out = tmp_path / "out"
    assert main(["skeletonize", *map(str, paths), "--out-dir", str(out), "--method", "boolean"]) == 1
    written = sorted(p.name for p in out.glob("*.tif"))
    assert len(written) == 18 and all((out / f"{n}.json").is_file() for n in written)


def test_each_broken_file_gets_one_line_and_the_summary_names_them(tmp_path, capsys):
    paths = _twenty_files_two_broken(tmp_path / "in")
    main(["skeletonize", *map(str, paths), "--out-dir", str(tmp_path / "out"), "--method", "boolean"])
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("napari-skelite: error:")]
    assert [e.split(": ")[2] for e in errors] == [str(paths[4]), str(paths[11])]
    assert "skeletonized 18 of 20 inputs" in err[-1] and "2 failed" in err[-1]


def test_a_batch_that_succeeds_exits_zero_with_one_skeleton_per_input(tmp_path):
    for k in range(3):
        np.save(tmp_path / f"a{k}.npy", _labels(k))
    assert main(["skeletonize", str(tmp_path), "--out-dir", str(tmp_path / "out"), "--method", "boolean"]) == 0
    for k in range(3):
        np.testing.assert_array_equal(np.load(tmp_path / "out" / f"a{k}.npy"), skeletonize(_labels(k), "boolean"))


def test_a_batch_takes_a_glob_and_an_output_suffix(tmp_path):
    for k in range(3):
        np.save(tmp_path / f"a{k}.npy", _labels(k))
    np.save(tmp_path / "b.npy", _labels(9))
    assert main(["skeletonize", str(tmp_path / "a*.npy"), "--out-dir", str(tmp_path / "out"), "--out-suffix", "tif",
                 "--method", "boolean"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.tif")) == ["a0.tif", "a1.tif", "a2.tif"]


def test_two_inputs_with_one_output_name_fail_the_second_only(tmp_path, capsys):
    np.save(tmp_path / "a.npy", _labels(0))
    write_labels(tmp_path / "a.tif", _labels(1))
    args = ["skeletonize", str(tmp_path / "a.npy"), str(tmp_path / "a.tif"), "--out-dir", str(tmp_path / "out"),
            "--out-suffix", ".tif", "--method", "boolean"]
    assert main(args) == 1
    assert "rename one of them" in capsys.readouterr().err
    np.testing.assert_array_equal(read_labels(tmp_path / "out" / "a.tif"), skeletonize(_labels(0), "boolean"))


def test_three_paths_without_out_dir_is_a_clear_error(tmp_path, capsys):
    np.save(tmp_path / "a.npy", _labels(0))
    assert main(["skeletonize", str(tmp_path / "a.npy"), "b.npy", "c.npy"]) == 2
    assert "--out-dir" in capsys.readouterr().err


def test_compare_on_several_files_prints_one_table_with_a_file_column(tmp_path, capsys):
    for k in range(2):
        np.save(tmp_path / f"a{k}.npy", _labels(k))
    assert main(["compare", str(tmp_path / "a0.npy"), str(tmp_path / "a1.npy"), "--methods", "boolean"]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if "boolean" in line or line.startswith("file")]
    assert table[0].split()[:2] == ["file", "method"] and [r.split()[0] for r in table[1:]] == ["a0.npy", "a1.npy"]


def test_compare_goes_on_past_a_broken_file_and_exits_one(tmp_path, capsys):
    np.save(tmp_path / "a.npy", _labels(0))
    (tmp_path / "bad.npy").write_bytes(b"broken")
    assert main(["compare", str(tmp_path / "a.npy"), str(tmp_path / "bad.npy"), "--methods", "boolean"]) == 1
    assert f"error: {tmp_path / 'bad.npy'}:" in capsys.readouterr().err


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c:
        yield c


def _volume(path):
    from napari_skelite.synthetic import bezier_tree

    labels = bezier_tree((24, 40, 40), n_curves=3, radius=(1.0, 2.5), seed=7).astype(np.uint8)
    write_labels(path, labels, spacing=(2.0, 1.0, 1.0), unit="micrometer")
    return labels


def test_the_same_job_on_a_cluster_equals_the_local_run(tmp_path, cluster):
    _volume(tmp_path / "in.tif")
    args = ["skeletonize", str(tmp_path / "in.tif"), "--method", "boolean", "--chunks", "24"]
    assert main([*args[:2], str(tmp_path / "local.zarr"), *args[2:]]) == 0
    assert main([*args[:2], str(tmp_path / "cluster.zarr"), *args[2:], "--scheduler", cluster.scheduler_address]) == 0
    np.testing.assert_array_equal(read_labels(tmp_path / "cluster.zarr"), read_labels(tmp_path / "local.zarr"))


def test_the_scheduler_address_can_come_from_the_environment(tmp_path, cluster, monkeypatch):
    labels = _volume(tmp_path / "in.tif")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    assert main(["skeletonize", str(tmp_path / "in.tif"), str(tmp_path / "out.tif"), "--method", "boolean"]) == 0
    np.testing.assert_array_equal(read_labels(tmp_path / "out.tif"), skeletonize(labels, "boolean"))
    assert json.loads((tmp_path / "out.tif.json").read_text())["skeleton_points"] > 0


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    from napari_skelite import volume_run

    monkeypatch.setattr(volume_run, "CONNECT_TIMEOUT", "0.5s")
    _volume(tmp_path / "in.tif")
    args = ["skeletonize", str(tmp_path / "in.tif"), str(tmp_path / "out.zarr"), "--scheduler", "tcp://127.0.0.1:9"]
    assert main(args) == 2
    assert "could not reach a dask scheduler" in capsys.readouterr().err and not (tmp_path / "out.zarr").exists()
