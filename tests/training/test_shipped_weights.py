"""The shipped weights reproduce the metrics recorded in their model cards."""
import json

import pytest
import torch

from napari_skelite.networks.weights import default_weights_path, load_network, read_card
from napari_skelite.training.evaluate import small_check
from napari_skelite.training.subfield import validate_subfield

SHIPPED = [(2, None), (2, "subfield"), (3, None), (3, "paper")]


@pytest.mark.parametrize(("ndim", "variant"), SHIPPED)
def test_shipped_weights_reproduce_their_cards_small_check(ndim, variant):
    path = default_weights_path(ndim, variant)
    card = read_card(path)
    assert card == json.loads(path.with_suffix(".json").read_text())
    net = load_network(path, ndim)
    if card.get("variant") == "subfield":
        got = validate_subfield(net, ndim, seed=424242, n=2)
    else:
        got = small_check(net, ndim)
    for key, value in card["small_check"].items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key


@pytest.mark.parametrize(("ndim", "variant"), SHIPPED)
def test_shipped_weights_are_small_and_load_weights_only(ndim, variant):
    path = default_weights_path(ndim, variant)
    assert path.stat().st_size < 5 * 2**20
    ckpt = torch.load(path, weights_only=True, map_location="cpu")
    assert ckpt["ndim"] == ndim
