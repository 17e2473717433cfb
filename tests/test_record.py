import hashlib
import json

import numpy as np

from napari_skelite import skeletonize
from napari_skelite.cli import main
from napari_skelite.io import read_labels
from napari_skelite.networks.weights import default_weights_path, read_card
from napari_skelite.record import record_path, run_record, write_record


def _mask():
    m = np.zeros((20, 24), np.uint8)
    m[4:16, 3:21] = 2
    return m


def test_a_skelite_record_names_the_weights_file_by_checksum_and_training_command():
    rec = run_record("skelite", ndim=2, options={"guard": True})
    path = default_weights_path(2)
    assert rec["weights"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec["weights"]["training_command"] == read_card(path)["command"]
    assert rec["options"] == {"iterations": None, "weights": None, "variant": None, "guard": True,
                              "precision": "float32", "dense": False}
    assert rec["weights"]["variant"] == "paper"
    assert rec["call"].startswith("napari_skelite.skeletonize(labels, method='skelite', iterations=None, weights=None")


def test_a_baseline_record_has_no_skelite_options_or_weights():
    rec = run_record("boolean", ndim=3, iterations=4)
    assert rec["options"] == {"iterations": 4} and "weights" not in rec


def test_the_record_goes_beside_the_file_it_describes(tmp_path):
    out = tmp_path / "skel.tif"
    path = write_record(out, run_record("classic", ndim=2))
    assert path == record_path(out) == tmp_path / "skel.tif.json"
    assert json.loads(path.read_text())["method"] == "classic"


def test_the_cli_record_is_enough_to_make_the_same_skeleton_again(tmp_path, capsys):
    src, dst = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(src, _mask())
    assert main(["skeletonize", str(src), str(dst), "--method", "skelite"]) == 0
    rec = json.loads(record_path(dst).read_text())
    assert rec["input"]["source"] == str(src.resolve()) and rec["input"]["shape"] == [20, 24]
    again = skeletonize(np.load(rec["input"]["source"]), method=rec["method"], **rec["options"])
    assert np.array_equal(again, read_labels(dst))
    assert rec["skeleton_points"] == int((again > 0).sum())
    assert "how it was made" in capsys.readouterr().out


def test_the_cli_writes_no_record_when_asked_not_to(tmp_path):
    src, dst = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(src, _mask())
    assert main(["skeletonize", str(src), str(dst), "--no-record"]) == 0
    assert dst.is_file() and not record_path(dst).exists()
