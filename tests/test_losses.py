import pytest
import torch

from napari_skelite.losses import ClDiceLoss


def _tube():
    t = torch.zeros(1, 1, 12, 12, dtype=torch.float64)
    t[..., 4:8, 1:11] = 1
    return t


@pytest.mark.parametrize("name", ["morphological", "boolean"])
def test_cldice_loss_is_zero_for_a_perfect_prediction(name):
    t = _tube()
    assert float(ClDiceLoss(name)(t, t)) < 1e-5


@pytest.mark.parametrize("name", ["morphological", "boolean"])
def test_cldice_loss_penalises_a_broken_prediction(name):
    t = _tube()
    p = t.clone()
    p[..., :, 6] = 0
    assert float(ClDiceLoss(name)(p, t)) > 0.02


def test_gradcheck_of_the_morphological_cldice_loss():
    torch.manual_seed(0)
    p = (torch.rand(1, 1, 6, 6, dtype=torch.float64) * 0.8 + 0.1).requires_grad_(True)
    t = (torch.rand(1, 1, 6, 6) > 0.5).double()
    assert torch.autograd.gradcheck(lambda x: ClDiceLoss("morphological", iterations=2)(x, t), (p,), eps=1e-6, atol=1e-4)


def test_gradcheck_of_the_boolean_cldice_loss_away_from_the_threshold():
    torch.manual_seed(1)
    r = torch.rand(1, 1, 6, 6, dtype=torch.float64)
    p = torch.where(r > 0.5, 0.6 + 0.3 * r, 0.1 + 0.3 * r).requires_grad_(True)  # no value near 0.5
    t = (torch.rand(1, 1, 6, 6) > 0.5).double()
    assert torch.autograd.gradcheck(lambda x: ClDiceLoss("boolean")(x, t), (p,), eps=1e-6, atol=1e-4)


def test_skelite_cldice_loss_passes_gradients_to_the_prediction(random_weights):
    t = _tube().float()
    p = (t * 0.8 + 0.1).requires_grad_(True)
    loss = ClDiceLoss("skelite", weights=random_weights[2])(p, t)
    loss.backward()
    assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_unknown_skeletonizer_is_refused():
    with pytest.raises(ValueError, match="morphological"):
        ClDiceLoss("zhang")
