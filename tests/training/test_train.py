import json

import numpy as np
import pytest
import torch

from napari_skelite.cli import main
from napari_skelite.networks.weights import load_network
from napari_skelite.training.data import DataConfig, make_sample, random_crops
from napari_skelite.training.loop import teacher_forcing_batch

from ._recipe import train_cli


def test_samples_are_reproducible_from_their_seed():
    cfg = DataConfig.for_dim(2, size=48, crop=32)
    a, b = make_sample(cfg, 3), make_sample(cfg, 3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not (a[1] & ~a[0]).any()


def test_teacher_forcing_targets_delete_exactly_what_the_teacher_deletes():
    cfg = DataConfig.for_dim(2, size=48, crop=32)
    m, s = make_sample(cfg, 1)
    mt, st = random_crops(m[None], s[None], 32, 1, np.random.default_rng(0))
    x, band, target = teacher_forcing_batch(mt, st)
    assert x.shape[1] == 3 and torch.all(target <= band)
    # the bands partition the mask, so the targets add up to mask minus skeleton
    assert torch.equal(band.sum(0, keepdim=True), mt)
    assert torch.equal(target.sum(0, keepdim=True), mt * (1 - st))


def test_training_smoke_run_writes_loadable_weights_and_a_card(tmp_path):
    out = tmp_path / "w2.pt"
    rc = train_cli(tmp_path, "--dim", "2", "--out", str(out), "--steps", "3", batch=2, samples=4, val_samples=1,
                   data={"size": 48, "crop": 32}, checkpoint_every=2)
    assert rc == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["steps"] == 3 and card["parameters"] == 37_889 and "b0_error" in card["validation"]
    net = load_network(out, 2)
    assert sum(p.numel() for p in net.parameters()) == 37_889


def test_curves_option_sets_the_number_of_curves_of_the_generated_images(tmp_path):
    out = tmp_path / "w.pt"
    assert train_cli(tmp_path, ndim=2, out=str(out), steps=1, batch=2, samples=2, val_samples=1,
                     data={"size": 48, "crop": 32, "n_curves": [1, 1]}) == 0
    assert json.loads(out.with_suffix(".json").read_text())["data_config"]["n_curves"] == [1, 1]


def test_training_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "w.pt"
    options = dict(ndim=2, out=str(out), batch=2, samples=4, val_samples=1, data={"size": 48, "crop": 32},
                   checkpoint_every=1)
    assert train_cli(tmp_path, "--steps", "2", **options) == 0
    ck = torch.load(out.with_suffix(".ckpt"), weights_only=False)
    assert ck["step"] == 2
    assert train_cli(tmp_path, "--steps", "3", **options) == 0
    assert torch.load(out.with_suffix(".ckpt"), weights_only=False)["step"] == 3



class _Killed(Exception):
    pass


def test_a_run_killed_after_a_checkpoint_and_resumed_equals_one_that_never_stopped(tmp_path):
    from napari_skelite.training.loop import TrainConfig, train

    def config(name):
        return TrainConfig(ndim=2, out=str(tmp_path / name / "w.pt"), seed=3, steps=5, batch=2, samples=4,
                           val_samples=1, checkpoint_every=1, unrolled_fraction=0.4, data={"size": 48, "crop": 32})

    def kill_after_step_2(msg):
        if msg.startswith("step 2/"):
            raise _Killed

    whole = train(config("whole"), log=lambda msg: None)
    with pytest.raises(_Killed):
        train(config("cut"), log=kill_after_step_2)
    resumed = train(config("cut"), log=lambda msg: None)
    assert resumed["validation"] == whole["validation"]
    a, b = (torch.load(tmp_path / r / "w.pt", weights_only=True)["state_dict"] for r in ("whole", "cut"))
    assert all(torch.equal(a[k], b[k]) for k in a)

@pytest.mark.parametrize("option", [{"steps": 0}, {"batch": 0}, {"crop": 80}, {"downscale": 1.5},
                                    {"n_curves": [5, 2]}, {"curves": [0, 3]}])
def test_bad_training_options_are_clear_errors(tmp_path, capsys, option):
    assert train_cli(tmp_path, ndim=2, out=str(tmp_path / "w.pt"), **({"size": 48, "crop": 32} | option)) == 2
    assert "must" in capsys.readouterr().err
    assert not (tmp_path / "w.pt").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_training_on_a_missing_gpu_is_a_clear_error(tmp_path, capsys):
    args = ["train", "--dim", "2", "--out", str(tmp_path / "w.pt"), "--device", "cuda"]
    assert main(args) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert not (tmp_path / "w.pt").exists()


def test_the_same_seed_and_command_give_the_same_weights_and_metrics(tmp_path):
    cards = []
    for run in ("a", "b"):
        out = tmp_path / run / "w.pt"
        assert train_cli(tmp_path, "--seed", "7", ndim=2, out=str(out), steps=3, batch=2, samples=4, val_samples=1,
                         data={"size": 48, "crop": 32}) == 0
        cards.append(json.loads(out.with_suffix(".json").read_text()))
    assert cards[0]["validation"] == cards[1]["validation"]
    a, b = (torch.load(tmp_path / r / "w.pt", weights_only=True)["state_dict"] for r in ("a", "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_topology_weights_reach_both_training_phases_and_the_card(tmp_path):
    out = tmp_path / "w.pt"
    rc = train_cli(tmp_path, ndim=2, out=str(out), steps=4, batch=2, samples=4, val_samples=1,
                   data={"size": 48, "crop": 32}, unrolled_fraction=0.5, topo_weight=1, hole_weight=20, guard_weight=2,
                   stray_weight=5)
    assert rc == 0
    cfg = json.loads(out.with_suffix(".json").read_text())["config"]
    assert (cfg["topo_weight"], cfg["hole_weight"], cfg["guard_weight"], cfg["stray_weight"]) == (1.0, 20.0, 2.0, 5.0)


def test_the_guard_loss_changes_the_unrolled_gradient(tmp_path):
    from napari_skelite.networks.network import Skelite
    from napari_skelite.training.loop import _unrolled

    torch.manual_seed(0)
    m = torch.zeros(1, 1, 16, 16)
    m[..., 4:12, 2:14] = 1
    model = Skelite(2, outside=0.0)
    with torch.no_grad():
        model.net.body[-1].bias.fill_(5.0)  # delete nearly everything: the guard keeps a skeleton
    _sk, topo = _unrolled(model, m, 1.0)
    assert topo > 0
    topo.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    _, none = _unrolled(model, m, 0.0)
    assert none == 0


def test_a_training_config_file_sets_the_options_the_command_line_does_not(tmp_path):
    import json

    from napari_skelite.cli import main
    from napari_skelite.networks.weights import read_card

    conf = tmp_path / "recipe.json"
    conf.write_text(json.dumps({"dim": 2, "variant": "subfield", "steps": 20, "batch": 64, "samples": 5,
                                "val_samples": 2, "checkpoint_every": 10, "per_class": 100, "width": 8,
                                "seed": 3}))
    out = tmp_path / "w.pt"
    assert main(["train", "--config", str(conf), "--seed", "4", "--out", str(out)]) == 0
    config = read_card(out)["config"]
    assert (config["steps"], config["variant"], config["data"]["width"]) == (20, "subfield", 8)
    assert config["seed"] == 4  # the command line wins


@pytest.mark.parametrize(("options", "said"), [
    ({"steps": 1e400}, "steps must be a whole number"),
    ({"steps": 2.5}, "steps must be a whole number"),
    ({"steps": True}, "steps must be a whole number"),
    ({"lr": "1e-3"}, "lr must be a finite number"),
    ({"lr": -1}, "lr must be above 0"),
    ({"cache": 5}, "cache must be a string"),
    ({"balance": 1}, "balance must be true or false"),
    ({"init": "no/such.pt"}, "init: no weights file 'no/such.pt'"),
])
def test_a_wrongly_typed_training_option_is_refused_by_name_before_any_data_is_made(tmp_path, capsys, monkeypatch,
                                                                                    options, said):
    import json

    import napari_skelite.training.loop as loop
    from napari_skelite.cli import main

    monkeypatch.setattr(loop, "train", lambda *a, **k: pytest.fail("training started"))
    conf = tmp_path / "recipe.json"
    conf.write_text(json.dumps({"ndim": 2, **options}))
    assert main(["train", "--config", str(conf), "--out", str(tmp_path / "w.pt")]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_an_unknown_option_in_a_training_config_file_is_refused_with_the_known_ones(tmp_path, capsys):
    import json

    from napari_skelite.cli import main

    conf = tmp_path / "recipe.json"
    conf.write_text(json.dumps({"dim": 2, "stpes": 20}))
    assert main(["train", "--config", str(conf)]) == 2
    assert "unknown option 'stpes'" in capsys.readouterr().err
