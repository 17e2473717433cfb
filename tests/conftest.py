import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory):
    """Seeded, untrained Skelite weights files for 2D and 3D (tests only)."""
    import torch

    from napari_skelite.networks.network import SkeliteNet
    from napari_skelite.networks.weights import save_network

    d = tmp_path_factory.mktemp("weights")
    paths = {}
    for nd in (2, 3):
        torch.manual_seed(nd)
        paths[nd] = d / f"random_{nd}d.pt"
        save_network(SkeliteNet(nd), paths[nd], {"note": "random test weights"})
    return paths


def noisy_labels(seed: int, ndim: int, size: int) -> np.ndarray:
    """A random label image of side ``size``: topology-rich blobs with 5% salt noise (specks, ragged borders, touching ids)."""
    from napari_skelite.synthetic import topology_shape

    rng = np.random.default_rng(seed)
    labels = topology_shape(seed, ndim=ndim, size=size)
    salt = rng.random(labels.shape) < 0.05
    labels[salt] = rng.integers(0, 4, int(salt.sum()))
    return labels


def ring(shape=(15, 15), r_out=6, r_in=3):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    c = (shape[0] // 2, shape[1] // 2)
    d = np.hypot(yy - c[0], xx - c[1])
    return (d <= r_out) & (d > r_in)


def shell(n=13, r_out=5, r_in=2):
    zz, yy, xx = np.mgrid[:n, :n, :n]
    d = np.sqrt((zz - n // 2) ** 2 + (yy - n // 2) ** 2 + (xx - n // 2) ** 2)
    return (d <= r_out) & (d > r_in)


@pytest.fixture
def toy_method():
    """A toy method registered for one test (``tests/methods/_toy.py``), removed after it."""
    from napari_skelite import methods

    from .methods._toy import TOY

    methods.register(TOY)
    yield TOY
    methods.unregister(TOY.name)
