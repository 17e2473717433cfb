"""Training the subfield variant: data, symmetries, a resumable run."""
import itertools

import pytest
import torch

from napari_skelite.topology import is_simple, neighbour_offsets
from napari_skelite.training.loop import TrainConfig, train
from napari_skelite.training.subfield import symmetry_indices, window_dataset
from napari_skelite.skelite.weights import read_card

from ..conftest import shell


def test_the_cube_has_48_distinct_symmetries_and_the_square_8():
    for nd, n in ((2, 8), (3, 48)):
        sym = symmetry_indices(nd)
        assert sym.shape == (n, 3**nd)
        assert len({tuple(r.tolist()) for r in sym}) == n
        assert all(sorted(r.tolist()) == list(range(3**nd)) for r in sym)


def test_symmetries_keep_the_simple_point_test(rng):
    sym = symmetry_indices(3)
    windows = torch.as_tensor(rng.random((200, 27)) < 0.5)
    windows[:, 13] = True
    offs = neighbour_offsets(3)
    grid = list(itertools.product((-1, 0, 1), repeat=3))
    bit = [grid.index(o) for o in offs]

    def code(w):
        return (w[:, bit].long() << torch.arange(26)).sum(1)

    base = is_simple(code(windows), 3)
    for s in sym:
        assert torch.equal(is_simple(code(windows[:, s]), 3), base)


def test_window_dataset_labels_are_the_deletable_channel(rng):
    x, y = window_dataset([shell(13, 5, 2)], per_class=50, rng=rng)
    assert x.shape[1:] == (3, 27) and x.dtype == torch.uint8
    assert torch.equal(x[:, 2, 13], y)
    assert set(x[:, 1].sum(1).tolist()) == {1}  # the candidate channel: the centre only


def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_weights(tmp_path):
    kw = dict(ndim=3, variant="subfield", seed=0, steps=20, batch=64, samples=2, val_samples=1,
              checkpoint_every=10, data={"size": 32, "per_class": 100})
    a = TrainConfig(out=str(tmp_path / "a.pt"), **kw)
    train(a, log=lambda *_: None)
    b = TrainConfig(out=str(tmp_path / "b.pt"), **kw)

    class Killed(Exception):
        pass

    def kill_at_first_checkpoint(line):
        if line.startswith("step 10/"):
            raise Killed

    with pytest.raises(Killed):
        train(b, log=kill_at_first_checkpoint)
    assert not (tmp_path / "b.pt").exists()
    train(b, log=lambda *_: None)
    sa = torch.load(tmp_path / "a.pt", weights_only=True)["state_dict"]
    sb = torch.load(tmp_path / "b.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert read_card(tmp_path / "b.pt")["variant"] == "subfield"
