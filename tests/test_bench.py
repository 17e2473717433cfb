import numpy as np

from ._benchmark import load_benchmark

bench = load_benchmark("bench")


def test_benchmark_prints_a_row_per_input_and_method(monkeypatch, capsys):
    monkeypatch.setattr(bench, "inputs", lambda shared, large: {"tiny": np.pad(np.ones((12, 16), bool), 3)})
    bench.main(["--repeat", "1", "--threads", "1"])
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| tiny")]
    assert [r.split("|")[2].strip() for r in rows[:-1]] == [
        "classic", "boolean", "local", "skelite", "skelite + guard", "skelite dense", "morphological"]
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
