import json
import subprocess
import sys

import numpy as np
import pytest

from napari_skelite.cli import main
from napari_skelite.io import read_labels, write_labels


def _mask():
    m = np.zeros((20, 24), np.uint8)
    m[4:16, 3:21] = 2
    return m


@pytest.mark.parametrize("ext", [".npy", ".tif", ".png"])
def test_skeletonize_command_writes_a_skeleton_file(tmp_path, ext):
    src = tmp_path / f"in{ext}"
    write_labels(src, _mask())
    out = tmp_path / f"out{ext}"
    assert main(["skeletonize", str(src), str(out), "--method", "boolean"]) == 0
    skel = read_labels(out)
    assert skel.shape == (20, 24) and 0 < (skel > 0).sum() < (_mask() > 0).sum()


def test_skeletonize_refuses_to_overwrite_without_the_flag(tmp_path, capsys):
    src, out = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(src, _mask())
    out.write_bytes(b"keep me")
    assert main(["skeletonize", str(src), str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert main(["skeletonize", str(src), str(out), "--overwrite"]) == 0


def test_unknown_extension_is_a_clear_error(tmp_path, capsys):
    src = tmp_path / "in.npy"
    np.save(src, _mask())
    assert main(["skeletonize", str(src), str(tmp_path / "out.jpg")]) == 2
    assert "unsupported file type" in capsys.readouterr().err


def test_compare_prints_a_row_per_method(tmp_path, capsys):
    src = tmp_path / "in.npy"
    np.save(src, _mask())
    assert main(["compare", str(src), "--weights", str(tmp_path / "none.pt")]) == 0
    out = capsys.readouterr().out
    for m in ("skelite", "boolean", "morphological", "classic", "b0_error"):
        assert m in out


def test_compare_names_the_inputs_betti_numbers(tmp_path, capsys):
    from napari_skelite.metrics import label_betti

    src = tmp_path / "in.npy"
    np.save(src, _mask())
    assert main(["compare", str(src), "--methods", "boolean"]) == 0
    b0, b1 = label_betti(_mask())
    assert f"input Betti numbers b0 = {b0}, b1 = {b1}" in capsys.readouterr().out


def test_demo_writes_a_figure(tmp_path):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--device", "cpu"]) == 0
    assert (tmp_path / "demo" / "demo.png").stat().st_size > 10_000


def test_console_script_runs_as_a_module():
    r = subprocess.run([sys.executable, "-m", "napari_skelite.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "skeletonize" in r.stdout


def test_a_failed_write_leaves_no_partial_or_temporary_file(tmp_path, monkeypatch, capsys):
    import tifffile

    src = tmp_path / "in.npy"
    np.save(src, _mask())
    out = tmp_path / "out.tif"

    def broken(path, *a, **k):
        with open(path, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(tifffile, "imwrite", broken)
    assert main(["skeletonize", str(src), str(out)]) == 2
    assert "disk full" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npy"]


def test_missing_input_file_is_a_clear_error(tmp_path, capsys):
    assert main(["skeletonize", str(tmp_path / "nothere.tif"), str(tmp_path / "o.tif")]) == 2
    assert "input file not found" in capsys.readouterr().err


def test_a_4d_input_file_is_a_clear_error(tmp_path, capsys):
    src = tmp_path / "in.npy"
    np.save(src, np.zeros((2, 3, 4, 5), np.uint8))
    assert main(["skeletonize", str(src), str(tmp_path / "o.npy")]) == 2
    assert "2D or 3D" in capsys.readouterr().err


def test_an_unknown_method_is_refused_by_the_parser(tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["skeletonize", "a.npy", "b.npy", "--method", "zhang"])
    assert e.value.code == 2


def test_skeletonize_carries_a_tiffs_voxel_size_to_the_output(tmp_path):
    from napari_skelite.io import read_spacing

    src, dst = tmp_path / "in.tif", tmp_path / "out.tif"
    write_labels(src, np.stack([_mask()] * 4), spacing=(3.0, 0.5, 0.5), unit="micrometer")
    assert main(["skeletonize", str(src), str(dst)]) == 0
    assert read_spacing(dst, 3) == ((3.0, 0.5, 0.5), "micrometer")
    assert json.loads((tmp_path / "out.tif.json").read_text())["input"]["scale"] == [3.0, 0.5, 0.5]


def _tree(tmp_path):
    m = np.zeros((30, 40), np.uint8)
    m[12:17, 3:37] = 1   # a bar
    m[4:12, 18:21] = 1   # a side branch
    np.save(tmp_path / "tree.npy", m)
    return m


@pytest.mark.parametrize("suffix", [".swc", ".graphml", ".csv"])
def test_the_output_extension_picks_the_graph_format_and_a_record_goes_beside_it(tmp_path, suffix):
    _tree(tmp_path)
    out = tmp_path / f"tree{suffix}"
    assert main(["skeletonize", str(tmp_path / "tree.npy"), str(out), "--method", "boolean"]) == 0
    assert out.exists() and (tmp_path / f"tree{suffix}.json").exists()


def test_the_swc_file_has_a_node_per_skeleton_point_and_one_root_per_piece(tmp_path):
    from napari_skelite import skeletonize

    m = _tree(tmp_path)
    main(["skeletonize", str(tmp_path / "tree.npy"), str(tmp_path / "t.swc"), "--method", "boolean"])
    rows = [line.split() for line in (tmp_path / "t.swc").read_text().splitlines() if not line.startswith("#")]
    assert len(rows) == int((skeletonize(m, "boolean") > 0).sum())
    assert [r[6] for r in rows].count("-1") == 1
    ids = {r[0] for r in rows}
    assert all(r[6] == "-1" or r[6] in ids for r in rows)


def test_the_graphml_file_reads_back_in_networkx_with_the_same_graph(tmp_path):
    import networkx as nx

    from napari_skelite import skeletonize
    from napari_skelite.graph import to_networkx

    m = _tree(tmp_path)
    main(["skeletonize", str(tmp_path / "tree.npy"), str(tmp_path / "t.graphml"), "--method", "boolean"])
    g = nx.read_graphml(tmp_path / "t.graphml")
    ref = to_networkx(skeletonize(m, "boolean"), mask=m)
    assert (g.number_of_nodes(), g.number_of_edges()) == (ref.number_of_nodes(), ref.number_of_edges())
    assert all("length" in d and "mean_radius" in d for _, _, d in g.edges(data=True))


def test_prune_removes_short_end_branches_before_writing(tmp_path, capsys):
    from napari_skelite import skeletonize
    from napari_skelite.graph import prune

    m = _tree(tmp_path)
    main(["skeletonize", str(tmp_path / "tree.npy"), str(tmp_path / "p.npy"), "--method", "boolean",
          "--prune", "4"])
    assert np.array_equal(np.load(tmp_path / "p.npy"), prune(skeletonize(m, "boolean"), 4))
    assert "pruned" in capsys.readouterr().err
    assert json.loads((tmp_path / "p.npy.json").read_text())["pruned"]["length"] == 4


def test_an_unknown_output_extension_is_refused_before_any_work(tmp_path, capsys):
    _tree(tmp_path)
    assert main(["skeletonize", str(tmp_path / "tree.npy"), str(tmp_path / "t.xyz")]) != 0
    assert ".swc" in capsys.readouterr().err
