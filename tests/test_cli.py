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


# --- refused before any work, with one line that says what to do; nothing lost, nothing left -----


@pytest.fixture
def no_run(monkeypatch):
    """Makes any skeletonize call fail the test: what is refused must be refused before the run."""
    import napari_skelite.api as api

    def run(*a, **k):
        raise AssertionError("the run started")

    monkeypatch.setattr(api, "skeletonize", run)


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_an_existing_record_is_not_replaced_without_overwrite(tmp_path, capsys, no_run):
    np.save(tmp_path / "in.npy", _mask())
    (tmp_path / "out.tif.json").write_text("{}")
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "out.tif")]) == 2
    assert "out.tif.json exists" in _err(capsys) and (tmp_path / "out.tif.json").read_text() == "{}"


def test_a_second_run_to_the_same_output_fails_instead_of_saying_it_wrote(tmp_path, capsys, monkeypatch):
    import networkx as nx

    _tree(tmp_path)
    out = tmp_path / "t.graphml"
    write = nx.write_graphml

    def racing(g, path, *a, **k):  # the first run finishes while this one writes
        out.write_text("<graphml/>")
        return write(g, path, *a, **k)

    monkeypatch.setattr(nx, "write_graphml", racing)
    assert main(["skeletonize", str(tmp_path / "tree.npy"), str(out), "--method", "boolean"]) == 2
    assert "another process" in _err(capsys) and out.read_text() == "<graphml/>"


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_chunk_size_below_one_is_refused_by_the_parser(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["skeletonize", "a.npy", "b.npy", "--chunks", value])
    assert e.value.code == 2 and "positive chunk side" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "-1"])
def test_a_prune_length_that_is_nan_or_negative_is_refused_by_the_parser(capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["skeletonize", "a.npy", "b.npy", "--prune", value])
    assert e.value.code == 2 and "length >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_threshold_that_is_not_finite_is_refused_before_the_run(tmp_path, capsys, no_run, value):
    np.save(tmp_path / "in.npy", _mask())
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "o.npy"), f"--threshold={value}"]) == 2
    assert "finite number" in _err(capsys)


def test_a_threshold_above_the_images_maximum_is_refused_before_the_run(tmp_path, capsys, no_run):
    np.save(tmp_path / "in.npy", _mask())
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "o.npy"), "--threshold", "7"]) == 2
    assert "keeps no point" in _err(capsys) and not (tmp_path / "o.npy").exists()


@pytest.mark.parametrize("spacing", [float("nan"), 0.0])
def test_a_tiff_with_a_broken_z_spacing_is_refused_before_the_run(tmp_path, capsys, no_run, spacing):
    import tifffile

    tifffile.imwrite(tmp_path / "in.tif", np.stack([_mask()] * 3), imagej=True, resolution=(2.0, 2.0),
                     metadata={"spacing": spacing})
    assert main(["skeletonize", str(tmp_path / "in.tif"), str(tmp_path / "o.tif")]) == 2
    assert "voxel size" in _err(capsys) and not (tmp_path / "o.tif").exists()


@pytest.mark.parametrize(("name", "content"), [("in.npy", b""), ("in.png", b"\x89PNG\r\n\x1a\n\x00\x00"),
                                               ("in.png", b"")])
def test_an_empty_or_cut_input_file_is_one_error_line(tmp_path, capsys, name, content):
    (tmp_path / name).write_bytes(content)
    assert main(["skeletonize", str(tmp_path / name), str(tmp_path / "o.npy")]) == 2
    assert "could not be read" in _err(capsys)


def test_a_truncated_zlib_tiff_is_one_error_line(tmp_path, capsys):
    import tifffile

    tifffile.imwrite(tmp_path / "v.tif", np.stack([_mask()] * 8), compression="zlib")
    data = (tmp_path / "v.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[: int(len(data) * 0.9)])
    assert main(["skeletonize", str(tmp_path / "cut.tif"), str(tmp_path / "o.tif")]) == 2
    assert "cut.tif" in _err(capsys) and not (tmp_path / "o.tif").exists()


def test_a_png_output_for_ids_above_65535_is_refused_before_the_run(tmp_path, capsys, no_run):
    np.save(tmp_path / "in.npy", _mask().astype(np.uint32) * 35_000)
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "o.png")]) == 2
    assert "use .tif or .npy" in _err(capsys).lower()


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path, capsys, monkeypatch):
    import napari_skelite.api as api

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "skeletonize", interrupted)
    np.save(tmp_path / "in.npy", _mask())
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "o.npy")]) == 130
    assert len(_err(capsys).strip().splitlines()) == 1


def test_sigterm_during_a_graph_write_leaves_no_temporary_file(tmp_path, capsys, monkeypatch):
    import os
    import signal

    import networkx as nx

    _tree(tmp_path)

    def killed(g, path, *a, **k):
        with open(path, "w") as f:
            f.write("<graphml")
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(nx, "write_graphml", killed)
    assert main(["skeletonize", str(tmp_path / "tree.npy"), str(tmp_path / "t.graphml"), "--method", "boolean"]) == 143
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree.npy"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_failed_record_write_leaves_no_temporary_file(tmp_path, capsys):
    np.save(tmp_path / "in.npy", _mask())
    (tmp_path / "o.npy.json").mkdir()  # the record's name is taken by a folder: its write fails
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "o.npy"), "--overwrite"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npy", "o.npy", "o.npy.json"]


def test_an_output_folder_that_cannot_be_made_is_refused_before_the_run(tmp_path, capsys, no_run):
    np.save(tmp_path / "in.npy", _mask())
    (tmp_path / "file").write_text("not a folder")
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "file" / "sub" / "o.tif")]) == 2
    assert "not a folder" in _err(capsys)


def test_an_unwritable_output_folder_is_refused_before_the_run(tmp_path, capsys, no_run):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes in any folder")
    np.save(tmp_path / "in.npy", _mask())
    (tmp_path / "ro").mkdir(mode=0o500)
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "ro" / "o.tif")]) == 2
    assert "cannot write" in _err(capsys)


def test_the_record_is_strict_json_even_for_an_infinite_pruning_length(tmp_path):
    _tree(tmp_path)
    assert main(["skeletonize", str(tmp_path / "tree.npy"), str(tmp_path / "p.npy"), "--method", "boolean",
                 "--prune", "inf"]) == 0
    text = (tmp_path / "p.npy.json").read_text()
    assert "Infinity" not in text and json.loads(text)["pruned"]["length"] is None
