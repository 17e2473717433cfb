"""benchmarks/symmetrize.py: the flip-averaged network behind the model card's symmetrisation probe."""
import pytest
import torch

from napari_skelite.model import SkeliteNet

from ._benchmark import load_benchmark


def _net(ndim):
    torch.manual_seed(0)
    return SkeliteNet(ndim).eval()


@pytest.mark.parametrize("ndim", [2, 3])
def test_symmetrized_network_commutes_with_every_flip_and_axis_order(ndim):
    sym = load_benchmark("symmetrize").Symmetrized(_net(ndim), permutations=True)
    x = (torch.rand((1, 3) + (6,) * ndim, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    with torch.no_grad():
        out = sym(x)
        for order, flips in sym.maps:
            g = lambda t: t.permute((0, 1) + order).flip(flips) if flips else t.permute((0, 1) + order)  # noqa: E731
            torch.testing.assert_close(sym(g(x)), g(out), rtol=1e-5, atol=1e-5)


def test_symmetrized_network_over_the_identity_alone_is_the_network():
    mod = load_benchmark("symmetrize")
    net = _net(2)
    sym = mod.Symmetrized(net)
    sym.maps = sym.maps[:1]
    assert sym.maps == [((2, 3), ())]
    x = torch.rand(2, 3, 9, 9, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(sym(x), net(x))


def test_flip_average_differs_from_the_plain_network_on_an_asymmetric_input():
    net = _net(2)
    sym = load_benchmark("symmetrize").Symmetrized(net)
    x = torch.zeros(1, 3, 9, 9)
    x[0, :, 2:5, 1:8] = 1
    x[0, :, 5, 6] = 1
    with torch.no_grad():
        assert not torch.allclose(sym(x), net(x))
