import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from napari_skelite.topology import Grid, simple_point_lut
from napari_skelite.topology.border import BorderPoints
from napari_skelite.topology.thinning import thin


def _shape(seed, ndim):
    rng = np.random.default_rng(seed)
    size = (18, 18) if ndim == 2 else (9, 10, 11)
    return ndimage.binary_closing(rng.random(size) < 0.55, iterations=1) | ndimage.binary_dilation(
        rng.random(size) < 0.02, iterations=3)


def _whole_image_border(flat, grid):
    fg = torch.nonzero(flat).squeeze(1)
    return fg[(~flat[fg[:, None] + grid.face_offsets[None, :]]).any(1)]


@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]))
@settings(max_examples=40, deadline=None)
def test_border_points_equal_the_border_of_the_whole_image_after_random_deletions(seed, ndim):
    mask = torch.as_tensor(_shape(seed, ndim))
    grid = Grid(tuple(mask.shape), "cpu")
    flat = torch.nn.functional.pad(mask, (1, 1) * ndim).reshape(-1).clone()
    pool = BorderPoints(grid, flat, None)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(6):
        border = pool.border()
        assert torch.equal(border, _whole_image_border(flat, grid))
        if not border.numel():
            break
        dele = border[torch.rand(len(border), generator=gen) < 0.4]
        flat[dele] = False
        pool.deleted(dele)


def _reference_thin(mask):
    """Subfield thinning that recomputes every set from the whole image at every pass."""
    ndim = mask.ndim
    grid = Grid(tuple(mask.shape), "cpu")
    flat = torch.nn.functional.pad(mask, (1, 1) * ndim).reshape(-1).clone()
    lut = simple_point_lut(ndim)
    parity = grid.parity
    while True:
        changed = False
        fg = torch.nonzero(flat).squeeze(1)
        end = torch.zeros_like(flat)
        end[fg[flat[fg[:, None] + grid.offsets[None, :]].sum(1) <= 1]] = True
        for sub in range(grid.n_subfields):
            cand = _whole_image_border(flat, grid)
            cand = cand[(parity[cand] == sub) & ~end[cand]]
            dele = cand[lut(grid.codes(flat, cand))]
            if dele.numel():
                flat[dele] = False
                changed = True
        if not changed:
            return flat.reshape(grid.shape)[(slice(1, -1),) * ndim]


@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]))
@settings(max_examples=40, deadline=None)
def test_thinning_that_follows_the_border_equals_thinning_that_rescans_the_image(seed, ndim):
    mask = torch.as_tensor(_shape(seed, ndim))
    assert torch.equal(thin(mask), _reference_thin(mask))


def test_a_thick_object_is_thinned_to_the_same_skeleton_as_by_rescanning():
    yy, xx = np.mgrid[:61, :61] - 30
    mask = torch.as_tensor(yy**2 + xx**2 <= 28**2)
    assert torch.equal(thin(mask), _reference_thin(mask))
