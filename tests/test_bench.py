import numpy as np

from napari_skelite import bench


def test_benchmark_prints_a_row_per_input_and_method(monkeypatch, capsys):
    monkeypatch.setattr(bench, "inputs", lambda shared, large: {"tiny": np.pad(np.ones((12, 16), bool), 3)})
    bench.main(["--repeat", "1", "--threads", "1"])
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| tiny")]
    assert [r.split("|")[2].strip() for r in rows] == [
        "classic", "boolean", "skelite", "skelite + guard", "skelite dense", "morphological"]
