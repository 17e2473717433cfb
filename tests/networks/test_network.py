import numpy as np
import pytest
import torch
from scipy import ndimage

from napari_skelite.networks.network import Skelite, SkeliteNet, binarize


@pytest.mark.parametrize("ndim, params", [(2, 37_889), (3, 113_345)])
def test_network_has_the_papers_parameter_count(ndim, params):
    assert sum(p.numel() for p in SkeliteNet(ndim).parameters()) == params


def test_iteration_k_judges_city_block_depths_2k_minus_1_and_2k():
    m = np.zeros((30, 30), np.float32)
    m[3:27, 5:25] = 1
    depth = ndimage.distance_transform_cdt(np.pad(m, 1), "taxicab")[1:-1, 1:-1]
    model = Skelite(2)
    c = torch.as_tensor(m)[None, None]
    s = c
    for k in range(1, 7):
        c, band, s, _ = model.step(c, s)
        expected = (depth >= 2 * k - 1) & (depth <= 2 * k)
        # outside=1: the tensor border is not a boundary, so pad the object first
        assert np.array_equal(band[0, 0].numpy() > 0, expected)


def test_loop_stops_when_the_band_is_empty():
    m = torch.zeros(1, 1, 40, 40)
    m[..., 5:35, 5:35] = 1  # depth up to 15 -> 8 iterations
    torch.manual_seed(0)
    with torch.no_grad():
        assert len(list(Skelite(2).iterate(m))) == 8


def test_skeleton_is_differentiable_end_to_end():
    torch.manual_seed(0)
    model = Skelite(3)
    x = torch.zeros(1, 1, 8, 8, 8)
    x[..., 2:6, 2:6, 2:6] = 1
    x.requires_grad_(True)
    model(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in model.parameters())


def test_binarize_is_hard_forward_and_identity_backward():
    s = torch.tensor([0.2, 0.7], requires_grad=True)
    b = binarize(s)
    b.sum().backward()
    assert b.tolist() == [0.0, 1.0] and s.grad.tolist() == [1.0, 1.0]


def test_network_of_other_dimensionality_is_refused():
    with pytest.raises(ValueError, match="2D network"):
        Skelite(3, SkeliteNet(2))


def test_cross_erosion_is_the_same_with_and_without_autograd():
    from napari_skelite.ops import cross_erode

    torch.manual_seed(0)
    for shape in ((2, 1, 9, 11), (1, 1, 5, 7, 6)):
        x = (torch.rand(shape) > 0.3).float()
        for outside in (0.0, 1.0):
            lean = cross_erode(x, outside)
            graded = cross_erode(x.clone().requires_grad_(True), outside)
            assert torch.equal(lean, graded.detach())


@pytest.mark.parametrize("ndim", [2, 3])
def test_network_gives_the_default_layout_convolutions_values(ndim):
    # the forward pass lays the input out channels last for speed; the values must not change
    torch.manual_seed(0)
    net = SkeliteNet(ndim)
    x = (torch.rand((2, 3) + (9,) * ndim) > 0.5).float()
    conv = torch.nn.functional.conv2d if ndim == 2 else torch.nn.functional.conv3d
    y = x
    for layer in net.body:
        y = conv(y, layer.weight, layer.bias, padding=layer.padding) if hasattr(layer, "weight") else torch.relu(y)
    torch.testing.assert_close(net(x), y, rtol=1e-5, atol=1e-5)
