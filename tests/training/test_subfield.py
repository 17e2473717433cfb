"""Training the subfield variant: data, symmetries, a resumable run."""
import pytest
import torch

from napari_skelite.networks.subfield import permute_codes, symmetry_permutations
from napari_skelite.networks.weights import read_card
from napari_skelite.topology import is_simple
from napari_skelite.training.data import SHAPES, make_shapes
from napari_skelite.training.loop import TrainConfig, train
from napari_skelite.training.subfield import table_windows, window_dataset

from ..conftest import shell


def test_the_cube_has_48_distinct_symmetries_and_the_square_8():
    for nd, n, bits in ((2, 8, 8), (3, 48, 26)):
        sym = symmetry_permutations(nd)
        assert sym.shape == (n, bits)
        assert len({tuple(r.tolist()) for r in sym}) == n
        assert all(sorted(r.tolist()) == list(range(bits)) for r in sym)


def test_symmetries_keep_the_simple_point_test(rng):
    codes = torch.as_tensor(rng.integers(0, 1 << 26, 300))
    base = is_simple(codes, 3)
    for s in symmetry_permutations(3):
        assert torch.equal(is_simple(permute_codes(codes, s.expand(len(codes), -1)), 3), base)


def test_window_dataset_labels_are_the_teachers_decisions(rng):
    codes, end, delete = window_dataset([shell(13, 5, 2)], per_class=50, rng=rng)
    assert codes.dtype == torch.long and len(codes) == len(end) == len(delete) <= 100
    assert torch.equal(delete, is_simple(codes, 3) & ~end)


def test_table_windows_are_border_windows_with_the_teachers_labels(rng):
    codes, end, delete = table_windows(3, 2000, rng)
    faces = sum(1 << i for i in (4, 10, 12, 13, 15, 21))
    assert ((codes & faces) != faces).all()
    assert torch.equal(delete, is_simple(codes, 3) & ~end)
    assert end.any() and not delete[end].any()


def test_make_shapes_gives_every_kind_with_a_background_border():
    masks = make_shapes(3, len(SHAPES), 0, size=20)
    assert all(m.shape == (20, 20, 20) and m.dtype == bool for m in masks)
    assert all(m.any() for m in masks)
    assert not any(m[0].any() or m[-1].any() for m in masks)


def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_weights(tmp_path):
    kw = dict(ndim=2, variant="subfield", seed=0, steps=20, batch=64, samples=5, val_samples=2,
              checkpoint_every=10, data={"per_class": 100, "width": 8})
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
    card = read_card(tmp_path / "b.pt")
    assert card["variant"] == "subfield" and card["window_table"]["false_delete"] == 0
