import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from napari_skelite.networks.network import SkeliteNet
from napari_skelite.training import objectives
from napari_skelite.training.data import DataConfig, make_sample, random_crops
from napari_skelite.training.loop import teacher_forcing_batch
from napari_skelite.training.windows import gather_windows, sample_band_points, window_bce

from ._recipe import train_cli


def _all_points(x):
    axes = [torch.arange(n) for n in (x.shape[0],) + tuple(x.shape[2:])]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(axes))


@pytest.mark.parametrize("ndim", [2, 3])
def test_window_logits_equal_the_dense_network_on_the_zero_padded_input(ndim):
    torch.manual_seed(0)
    net = SkeliteNet(ndim)
    x = (torch.rand((2, 3) + (9,) * ndim) > 0.5).float()
    logits = net.window_logits(gather_windows(x, _all_points(x)))
    dense = net(F.pad(x, (3, 3) * ndim))[(slice(None), 0) + (slice(3, -3),) * ndim]
    assert torch.allclose(logits, dense.reshape(-1), atol=1e-5)


def test_windows_read_zero_beyond_the_border():
    x = torch.ones(1, 1, 5, 5)
    w = gather_windows(x, torch.tensor([[0, 0, 0]]))
    assert w.shape == (1, 1, 7, 7)
    assert w[0, 0, :3].sum() == 0 and w[0, 0, :, :3].sum() == 0 and w[0, 0, 3:, 3:].sum() == 16


def _teacher_batch(ndim, seed=1):
    cfg = DataConfig.for_dim(ndim, size=32, crop=16)
    m, s = make_sample(cfg, seed)
    mt, st = random_crops(m[None], s[None], 16, 1, np.random.default_rng(0))
    return teacher_forcing_batch(mt, st, cfg.outside)


def test_sampling_takes_every_kept_point_and_weighs_deletions_by_their_inverse_rate():
    _x, band, target = _teacher_batch(2)
    index, weight = sample_band_points(band, target, (0.5, 0.25), np.random.default_rng(0))
    at = tuple(index[:, i] for i in range(index.shape[1]))
    assert torch.all(band[:, 0][at] == 1)
    kept = target[:, 0][at] == 0
    assert int(kept.sum()) == int((band * (1 - target)).sum())
    assert torch.all(weight[kept] == 1) and set(weight[~kept].tolist()) <= {2.0, 4.0}
    assert len(index) < int(band.sum())


def test_window_bce_at_rate_one_is_the_dense_band_bce():
    torch.manual_seed(0)
    x, band, target = _teacher_batch(2)
    net = SkeliteNet(2)
    with torch.no_grad():
        dense = net(F.pad(x, (3, 3, 3, 3)))[..., 3:-3, 3:-3]
        expected = objectives.band_bce(dense, band, target, keep_weight=8.0)
        got, n = window_bce(net, x, band, target, (1, 1), np.random.default_rng(0), keep_weight=8.0)
    assert n == int(band.sum())
    assert torch.allclose(got, expected, rtol=1e-5)


def test_sampled_window_bce_estimates_the_dense_band_bce_without_bias():
    torch.manual_seed(0)
    x, band, target = _teacher_batch(2)
    net = SkeliteNet(2)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        full = float(window_bce(net, x, band, target, (1, 1), rng, keep_weight=8.0)[0])
        draws = [float(window_bce(net, x, band, target, (0.3, 0.1), rng, keep_weight=8.0)[0]) for _ in range(200)]
    assert abs(np.mean(draws) - full) < 4 * np.std(draws) / np.sqrt(len(draws))
    assert np.std(draws) > 0


def test_sampling_rates_outside_zero_to_one_are_refused():
    _x, band, target = _teacher_batch(2)
    with pytest.raises(ValueError, match="within"):
        sample_band_points(band, target, (0, 0.5), np.random.default_rng(0))


def test_training_on_sampled_windows_runs_and_records_its_options(tmp_path):
    out = tmp_path / "w3.pt"
    assert train_cli(tmp_path, ndim=3, out=str(out), steps=3, batch=2, samples=3, val_samples=1,
                     data={"size": 20, "crop": 16}, window_rates=[0.5, 0.2], unrolled_batch=1,
                     unrolled_fraction=0.34) == 0
    config = json.loads(out.with_suffix(".json").read_text())["config"]
    assert config["window_rates"] == [0.5, 0.2] and config["unrolled_batch"] == 1


@pytest.mark.parametrize("option", [{"window_rates": [0, 0.5]}, {"unrolled_batch": 0}])
def test_bad_window_options_are_clear_errors(tmp_path, capsys, option):
    assert train_cli(tmp_path, ndim=2, out=str(tmp_path / "w.pt"), steps=1, **option) == 2
    assert "napari-skelite: error:" in capsys.readouterr().err
