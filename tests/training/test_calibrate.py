import json

import pytest
import torch

from napari_skelite.cli import main
from napari_skelite.networks.network import SkeliteNet
from napari_skelite.networks.weights import load_network, read_card, save_network
from napari_skelite.training.calibrate import choose_offset, offset_of, with_offset


def test_an_offset_lowers_only_the_last_bias():
    torch.manual_seed(0)
    net = SkeliteNet(2)
    shifted = with_offset(net, 1.5)
    a, b = net.state_dict(), shifted.state_dict()
    assert [k for k in a if not torch.equal(a[k], b[k])] == ["body.6.bias"]
    assert torch.allclose(a["body.6.bias"] - b["body.6.bias"], torch.tensor([1.5]))


def test_the_cheapest_offset_wins_and_ties_go_to_the_smaller_one():
    rows = [{"offset": 0.0, "cost": 3.0}, {"offset": 0.5, "cost": 2.0}, {"offset": 1.0, "cost": 2.0}]
    assert choose_offset(rows) == 0.5


@pytest.fixture
def small_weights(tmp_path):
    torch.manual_seed(1)
    path = tmp_path / "w.pt"
    save_network(SkeliteNet(2), path, {"validation": {"seed": 10_000, "n": 1}})
    return path


def test_calibrate_writes_the_chosen_offset_and_new_metrics_into_the_card(small_weights, tmp_path):
    out = tmp_path / "cal.pt"
    args = ["calibrate", "--dim", "2", "--weights", str(small_weights), "--out", str(out),
            "--samples", "1", "--offsets", "0,3"]
    assert main(args) == 0
    card = read_card(out)
    cal = card["calibration"]
    assert cal["offset"] in (0.0, 3.0) and [r["offset"] for r in cal["table"]] == [0.0, 3.0]
    assert card["validation"]["n"] == 1 and "small_check" in card
    assert json.loads(out.with_suffix(".json").read_text()) == card
    expected = with_offset(load_network(small_weights, 2), cal["offset"])
    assert torch.equal(load_network(out, 2).body[6].bias, expected.body[6].bias)


def test_calibrating_calibrated_weights_again_gives_the_same_weights(small_weights, tmp_path):
    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    common = ["--samples", "1", "--offsets", "0,3"]
    assert main(["calibrate", "--dim", "2", "--weights", str(small_weights), "--out", str(first)] + common) == 0
    assert main(["calibrate", "--dim", "2", "--weights", str(first), "--out", str(second)] + common) == 0
    assert offset_of(read_card(first)) == offset_of(read_card(second))
    a, b = load_network(first, 2).state_dict(), load_network(second, 2).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
