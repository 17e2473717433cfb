"""The graph of a chunked skeleton, read block by block, is the graph of the whole skeleton in memory."""
import dask.array as da
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_skelite import blockgraph, skeletonize
from napari_skelite.blockgraph import SkeletonPoints, neighbour_index, skeleton_points
from napari_skelite.graph import branch_table, branches, minimal_skeleton, radius_image, to_networkx
from napari_skelite.io import write_graph
from napari_skelite.synthetic import bezier_tree

from .conftest import noisy_labels


def _same_branches(skel, chunks, spacing=None, mask=None, mask_chunks=None):
    """Assert that the blockwise branches of ``skel`` (in ``chunks``) equal the in-memory ones, row for row."""
    whole = branches(skel, spacing, mask=mask)
    lazy_mask = None if mask is None else da.from_array(mask, chunks=mask_chunks or chunks)
    blocks = branches(da.from_array(skel, chunks=chunks), spacing, mask=lazy_mask)
    pd.testing.assert_frame_equal(blocks.table, whole.table, check_exact=True)
    assert len(blocks.paths) == len(whole.paths)
    for a, b in zip(blocks.paths, whole.paths):
        np.testing.assert_array_equal(a, b)
    return whole


def _labels(seed: int, ndim: int) -> np.ndarray:
    """A random label image: topology-rich blobs with salt noise (specks, ragged borders, touching ids)."""
    return noisy_labels(seed, ndim, 24 if ndim == 2 else 12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]), chunk=st.sampled_from([4, 5, 7, 16]),
       method=st.sampled_from(["skelite", "boolean", "local", "morphological", "classic"]))
def test_the_blockwise_table_equals_the_whole_volume_table_on_random_label_volumes(seed, ndim, chunk, method):
    labels = _labels(seed, ndim)
    skel = skeletonize(labels, method, check_topology=False)
    _same_branches(skel, chunk, (2.0, 1.0, 0.5)[-ndim:], mask=labels, mask_chunks=chunk + 3)


@pytest.mark.parametrize("chunk", [3, 4, 6, 9])
def test_vessel_trees_with_branches_across_many_blocks_give_the_whole_volumes_table(chunk):
    for ndim, shape in ((2, (64, 72)), (3, (24, 28, 30))):
        mask = bezier_tree(shape, n_curves=4, radius=(1.0, 3.0), seed=chunk).astype(np.uint16)
        mask[mask > 0] = 1 + (np.indices(shape)[-1][mask > 0] > shape[-1] // 2)  # two labels that meet
        whole = _same_branches(skeletonize(mask, "skelite"), chunk, mask=mask)
        crossing = (whole.table[[f"image_coord_src_{a}" for a in range(ndim)]].to_numpy() // chunk
                    != whole.table[[f"image_coord_dst_{a}" for a in range(ndim)]].to_numpy() // chunk)
        assert crossing.any()  # branches do run from block to block


def _cross(ndim: int, centre: int, size: int = 17) -> np.ndarray:
    s = np.zeros((size,) * ndim, np.uint8)
    for a in range(ndim):
        line = [centre] * ndim
        line[a] = slice(1, size - 1)
        s[tuple(line)] = 5
    return s


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("centre", [7, 8])
def test_a_junction_on_a_block_corner_joins_its_branches(ndim, centre):
    """Chunks of 4 and 8 put the junction at (8, 8[, 8]) on the corner of 2**ndim blocks, or next to it."""
    for chunk in (4, 8):
        whole = _same_branches(_cross(ndim, centre), chunk)
        assert len(whole.table) == 2 * ndim and set(whole.table["branch_type"]) == {"junction-end"}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]), density=st.sampled_from([0.1, 0.3, 0.5]),
       chunk=st.integers(2, 9))
def test_the_minimal_skeleton_of_the_points_is_the_whole_images_even_from_regions_that_must_grow(
        seed, ndim, density, chunk):
    """Random point clouds are far from minimal; one-point regions without margin must grow, often many times."""
    rng = np.random.default_rng(seed)
    shape = (30, 34) if ndim == 2 else (12, 13, 14)
    skel = ((rng.random(shape) < density) * rng.integers(1, 3, shape)).astype(np.uint8)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blockgraph, "_CELL", 2)
        mp.setattr(blockgraph, "_MARGIN_CELLS", 0)
        points = skeleton_points(da.from_array(skel, chunks=chunk))
    whole = minimal_skeleton(skel)
    np.testing.assert_array_equal(points.coords, np.argwhere(whole))
    np.testing.assert_array_equal(points.labels, whole[whole > 0])
    assert points.gathered == int((skel > 0).sum())


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (2.0, 0.6, 1.7)])
def test_radii_a_first_halo_cannot_tell_are_measured_again_with_a_larger_one(spacing, monkeypatch):
    monkeypatch.setattr(blockgraph, "_RADIUS_HALO", 1)
    mask = bezier_tree((30, 36, 36), n_curves=4, radius=(2.0, 6.0), seed=1).astype(np.uint8) * 3
    skel = skeletonize(mask, "boolean")
    points = skeleton_points(da.from_array(skel, chunks=8), spacing, mask=da.from_array(mask, chunks=6))
    expected = radius_image(mask, spacing)[tuple(points.coords.T)]
    np.testing.assert_array_equal(points.radius, expected)
    assert points.radius.max() > 4 * min(spacing)  # beyond the first halo


@pytest.mark.parametrize("with_mask", [False, True])
def test_an_empty_chunked_skeleton_gives_an_empty_table_with_the_same_columns(with_mask):
    skel = np.zeros((10, 12, 9), np.uint16)
    mask = np.ones_like(skel) if with_mask else None
    whole = branch_table(skel, mask=mask)
    blocks = branch_table(da.from_array(skel, chunks=4), mask=None if mask is None else da.from_array(mask))
    assert len(blocks) == 0 and list(blocks.columns) == list(whole.columns)


def test_a_zarr_skeleton_and_mask_give_the_tables_of_their_arrays(tmp_path):
    import zarr

    mask = bezier_tree((20, 24, 28), n_curves=3, radius=(1.0, 2.5), seed=4).astype(np.uint8)
    skel = skeletonize(mask, "boolean")
    zs = zarr.create_array(tmp_path / "s.zarr", shape=skel.shape, chunks=(8, 8, 8), dtype=skel.dtype)
    zs[...] = skel
    zm = zarr.create_array(tmp_path / "m.zarr", shape=mask.shape, chunks=(5, 7, 9), dtype=mask.dtype)
    zm[...] = mask
    pd.testing.assert_frame_equal(branch_table(zs, (2.0, 0.5, 0.5), mask=zm),
                                  branch_table(skel, (2.0, 0.5, 0.5), mask=mask), check_exact=True)


def test_every_graph_file_of_a_chunked_skeleton_is_the_whole_skeletons_file(tmp_path):
    labels = _labels(7, 3)
    skel = skeletonize(labels, "skelite", check_topology=False)
    for suffix in (".csv", ".graphml", ".swc"):
        whole = write_graph(tmp_path / f"whole{suffix}", skel, spacing=(2.0, 1.0, 0.5), mask=labels)
        blocks = write_graph(tmp_path / f"blocks{suffix}", da.from_array(skel, chunks=5), spacing=(2.0, 1.0, 0.5),
                             mask=da.from_array(labels, chunks=6))
        assert blocks.read_text() == whole.read_text()


def test_the_networkx_graph_of_a_chunked_skeleton_is_the_whole_skeletons():
    labels = _labels(11, 2)
    skel = skeletonize(labels, "classic", check_topology=False)
    whole = to_networkx(skel, mask=labels)
    blocks = to_networkx(da.from_array(skel, chunks=6), mask=da.from_array(labels, chunks=6))
    assert list(blocks.nodes(data=True)) == list(whole.nodes(data=True))
    # repr: a cycle's tortuosity is NaN, which equals nothing
    assert repr(list(blocks.edges(keys=True, data=True))) == repr(list(whole.edges(keys=True, data=True)))
    assert any(d["branch_type"] == "cycle" for _, _, d in whole.edges(data=True))


def test_points_read_once_serve_several_outputs_and_keep_their_spacing_and_radii(tmp_path):
    labels = _labels(3, 2)
    skel = skeletonize(labels, "boolean")
    points = skeleton_points(da.from_array(skel, chunks=5), (2.0, 1.0), mask=da.from_array(labels, chunks=5))
    assert isinstance(points, SkeletonPoints)
    pd.testing.assert_frame_equal(branch_table(points), branch_table(skel, (2.0, 1.0), mask=labels))
    assert branch_table(points, (2.0, 1.0)).shape == branch_table(points).shape
    assert to_networkx(points).number_of_edges() > 0
    assert write_graph(tmp_path / "g.csv", points).stat().st_size > 0
    with pytest.raises(ValueError, match="spacing"):
        branch_table(points, (1.0, 1.0))
    with pytest.raises(ValueError, match="mask"):
        branch_table(points, mask=labels)


def test_the_callback_counts_the_blocks_read_and_raising_in_it_stops_the_reading():
    skel = skeletonize(_labels(5, 2), "boolean")
    seen = []
    skeleton_points(da.from_array(skel, chunks=8), callback=lambda done, total: seen.append((done, total)))
    blocks = int(np.prod(da.from_array(skel, chunks=8).numblocks))
    assert seen[0] == (0, blocks) and seen[-1] == (blocks, blocks)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    class Stop(Exception):
        pass

    def stop(done, total):
        if done == 2:
            raise Stop()

    with pytest.raises(Stop):
        branch_table(da.from_array(skel, chunks=8), callback=stop)


def test_bad_values_in_a_chunked_skeleton_raise_when_its_block_is_read():
    skel = np.zeros((8, 8), np.float32)
    skel[5, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        branch_table(da.from_array(skel, chunks=4))


def test_a_mask_of_another_shape_than_a_chunked_skeleton_is_refused_before_any_block_is_read():
    skel = da.zeros((8, 8), np.uint8, chunks=4)
    with pytest.raises(ValueError, match="shape"):
        branch_table(skel, mask=da.zeros((8, 9), np.uint8, chunks=4))
    for numpy_mask in (np.zeros((8, 9), np.uint8), np.zeros((8,), np.uint8)):  # numpy: the same clear message
        with pytest.raises(ValueError, match="must have the skeleton's shape"):
            branch_table(skel, mask=numpy_mask)
    with pytest.raises(ValueError, match="2D or 3D"):
        branch_table(da.zeros((2, 8, 8, 8), np.uint8, chunks=4))


def test_ids_of_two_to_the_63_and_more_stay_as_they_are_in_a_chunked_skeletons_table():
    s = np.zeros((9, 12), np.uint64)
    s[2, 1:6] = 2**64 - 1
    s[6, 3:10] = 2**63
    pd.testing.assert_frame_equal(branch_table(da.from_array(s, chunks=3)), branch_table(s), check_exact=True)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]))
def test_neighbour_index_finds_exactly_the_neighbours_a_dense_image_has(seed, ndim):
    rng = np.random.default_rng(seed)
    image = rng.random((9,) * ndim) < 0.3
    points = np.argwhere(image)
    rng.shuffle(points)
    steps = np.array(list(np.ndindex((3,) * ndim))) - 1
    nb = neighbour_index(points, steps)
    for k, step in enumerate(steps):
        q = points + step
        inside = np.all((q >= 0) & (q < 9), axis=1)
        expected = np.zeros(len(points), bool)
        expected[inside] = image[tuple(q[inside].T)]
        assert np.array_equal(nb[:, k] >= 0, expected)
        np.testing.assert_array_equal(points[nb[expected, k]], q[expected])


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), ndim=st.sampled_from([2, 3]), anisotropic=st.booleans())
def test_the_pixel_graph_built_from_points_is_the_one_skan_builds_from_the_image(seed, ndim, anisotropic):
    from skan import Skeleton

    rng = np.random.default_rng(seed)
    image = np.pad(rng.random((8,) * ndim) < 0.35, 1)
    sp = rng.uniform(0.3, 3.0, ndim) if anisotropic else np.ones(ndim)
    points = np.argwhere(image)
    steps, lengths = blockgraph._skan_steps(ndim, sp)
    nb = neighbour_index(points, steps)
    line = (nb >= 0).any(1)
    if not line.any():
        return
    image[tuple(points[~line].T)] = False
    renumber = np.cumsum(line) - 1
    nb = np.where(nb[line] >= 0, renumber[np.maximum(nb[line], 0)], -1)
    got = blockgraph._skan_skeleton(points[line], nb, lengths, None, sp)
    ref = Skeleton(image, spacing=sp)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(got.graph, name), getattr(ref.graph, name))
    np.testing.assert_array_equal(got.coordinates, ref.coordinates)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(got.paths, name), getattr(ref.paths, name))


def test_a_boolean_skeleton_and_mask_give_the_whole_volumes_table():
    mask = bezier_tree((30, 40, 40), n_curves=3, radius=(1.0, 3.0), seed=2)
    skel = skeletonize(mask, "boolean") > 0
    _same_branches(skel, 7, (2.0, 1.0, 1.0), mask=mask, mask_chunks=9)


def test_the_blocks_are_read_on_a_distributed_cluster_when_a_client_is_active():
    distributed = pytest.importorskip("distributed")
    labels = _labels(9, 2)
    skel = skeletonize(labels, "boolean")
    whole = branch_table(skel, mask=labels)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            blocks = branch_table(da.from_array(skel, chunks=6), mask=da.from_array(labels, chunks=6),
                                  callback=lambda done, total: None)
    pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
