import numpy as np

from benchmarks import bench, floor, load, same_outputs, scaling, workloads


def test_benchmark_prints_a_row_per_input_and_method(monkeypatch, capsys):
    monkeypatch.setattr(bench, "inputs", lambda *a: {"tiny": np.pad(np.ones((12, 16), bool), 3)})
    bench.main(["--repeat", "1", "--threads", "1"])
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| tiny")]
    assert [r.split("|")[2].strip() for r in rows[:-1]] == [
        "classic", "boolean", "local", "skelite", "skelite + guard", "skelite dense", "skelite subfield 2D",
        "skelite subfield 2D + guard",
        "morphological"]
    ratios = [float(v) for v in rows[-1].split("|")[2:5]]  # the summary row: all three ratios measured
    assert all(r > 0 for r in ratios)


def test_chunked_benchmark_stores_a_skeleton_equal_to_the_in_memory_one(tmp_path, capsys):
    from napari_skelite import skeletonize

    bench.main(["--dask", "40,48,32", "--chunk", "16", "--methods", "boolean", "--threads", "1",
                "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert any(r.startswith("| boolean |") for r in out.splitlines())
    vol = np.load(tmp_path / "volume.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "skeleton_boolean.npy"), skeletonize(vol, "boolean"))


def test_benchmark_with_a_busy_core_names_the_load_and_times_every_method(monkeypatch, capsys):
    monkeypatch.setattr(bench, "inputs", lambda *a: {"tiny": np.pad(np.ones((10, 10), bool), 3)})
    bench.main(["--repeat", "1", "--load", "--skip-dense"])
    out = capsys.readouterr().out
    assert "one core busy" in out.splitlines()[0]
    assert len([r for r in out.splitlines() if r.startswith("| tiny")]) == 9  # 8 variants and the summary


def test_a_busy_core_is_a_running_process_only_inside_the_block():
    with load.BusyCore() as busy:
        proc = busy.proc
        assert proc.poll() is None
    assert proc.poll() is not None


def test_workload_rows_state_their_size_and_label_count():
    rows = workloads.build(small=True)
    assert "filled disk 200^2" in rows
    assert any(name.startswith("labels (2,500) ") for name in rows)
    assert all(image.max() >= 1 for image in rows.values())


def test_scaling_exponent_recovers_a_power_law():
    xs = [1, 2, 4, 8]
    assert abs(scaling.exponent(xs, [3 * x**1.5 for x in xs]) - 1.5) < 1e-9


def test_scaling_series_keep_the_radius_or_the_object_volume_fixed():
    s = scaling.series(2, small=True)
    sizes = [int((img > 0).sum()) for _, img in s["radius"]]
    assert max(sizes) < 1.3 * min(sizes)  # about the same object volume at every radius
    voxels = [x for x, _ in s["voxels"]]
    assert voxels == sorted(voxels) and len(set(int(img.max()) for _, img in s["voxels"])) == len(voxels)


def test_output_comparison_reports_a_changed_skeleton(tmp_path, capsys):
    a = {"case|boolean|[]": np.zeros((3, 3), np.uint8)}
    np.savez(tmp_path / "a.npz", **a)
    np.savez(tmp_path / "b.npz", **a)
    assert same_outputs.compare(tmp_path / "a.npz", tmp_path / "b.npz") == 0
    np.savez(tmp_path / "c.npz", **{"case|boolean|[]": np.eye(3, dtype=np.uint8)})
    assert same_outputs.compare(tmp_path / "a.npz", tmp_path / "c.npz") == 1
    assert "differs: case|boolean|[] (3 points)" in capsys.readouterr().out


def test_floor_benchmark_prints_a_plain_and_a_guarded_row_per_input(monkeypatch, capsys):
    monkeypatch.setattr(floor, "inputs", lambda *a: {"tiny": np.pad(np.ones((20, 24), bool), 3)})
    floor.main(["--repeat", "1"])
    rows = [r.split("|")[1:-1] for r in capsys.readouterr().out.splitlines() if r.startswith("| tiny")]
    assert [r[1].strip() for r in rows] == ["plain", "guard"]
    assert all(int(r[6].replace(",", "")) > 0 and float(r[5]) > 0 for r in rows)  # calls counted, products timed


def test_floor_recorder_records_every_matrix_product_of_a_sparse_run():
    import torch

    from napari_skelite import skeletonize

    mask = np.zeros((64, 64), bool)
    mask[8:12, 4:60] = mask[4:60, 30:33] = True  # thin bars: the band stays sparse (no dense pass)
    iterations = len(skeletonize(mask, "skelite", variant="paper", return_steps=True, check_topology=False)[1]) - 1
    with floor._Recorder() as rec:
        skeletonize(mask, "skelite", variant="paper", guard=False, check_topology=False)
    last_layers = [shapes for func, shapes in rec.products if func is torch.addmm and shapes[2][1] == 1]
    assert iterations > 0 and len(last_layers) == iterations  # each iteration's 1x1 output layer, recorded
    assert rec.calls > len(rec.products)
