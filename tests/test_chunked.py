"""Chunked (dask map_overlap) skeletonization equals the whole-image result."""
import warnings

import dask.array as da
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

from napari_skelite import skeletonize
from napari_skelite.chunked import ChunkSizeWarning, halo_size, max_depth
from napari_skelite.synthetic import bezier_curves, render_tubes

METHODS = ["skelite", "boolean", "local", "morphological", "classic"]


def _tubes(shape, n, radius, seed, labels=1):
    pts, rad = bezier_curves(shape, n, radius, seed=seed)
    mask = render_tubes(shape, pts, rad)
    lab, _ = ndimage.label(mask)
    return (np.where(lab > 0, (lab - 1) % labels + 1, 0)).astype(np.uint16)


@st.composite
def label_images_2d(draw):
    seed = draw(st.integers(0, 10_000))
    return _tubes((56, 56), draw(st.integers(1, 6)), (1.0, draw(st.sampled_from([2.0, 4.0, 6.0]))), seed, labels=3)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=label_images_2d(), chunk=st.sampled_from([8, 14, 20]))
def test_chunked_2d_equals_whole_image_for_every_method(method, labels, chunk):
    whole = skeletonize(labels, method)
    assert np.array_equal(skeletonize(labels, method, chunks=chunk), whole)


@settings(max_examples=4, deadline=None)
@given(labels=label_images_2d())
def test_chunked_skelite_with_guard_equals_whole_image(labels):
    whole = skeletonize(labels, "skelite", guard=True)
    assert np.array_equal(skeletonize(labels, "skelite", guard=True, chunks=12), whole)


@pytest.mark.parametrize("method", ["skelite", "boolean", "classic"])
def test_chunked_3d_equals_whole_volume(method):
    vol = _tubes((112, 40, 40), 6, (1.0, 2.0), seed=3, labels=2)  # long enough to be cut for every halo
    whole = skeletonize(vol, method)
    chunked = skeletonize(da.from_array(vol, chunks=(16, 20, 20)), method).compute()
    assert np.array_equal(chunked, whole)


def test_chunked_skelite_keeps_label_ids():
    labels = _tubes((64, 64), 6, (1.0, 4.0), seed=5, labels=4)
    out = skeletonize(labels, chunks=16)
    assert set(np.unique(out)) == set(np.unique(labels))
    assert out.dtype == labels.dtype


def test_dask_input_gives_a_lazy_dask_result():
    labels = da.from_array(_tubes((40, 40), 3, (1.0, 3.0), seed=1), chunks=20)
    out = skeletonize(labels, "boolean")
    assert isinstance(out, da.Array)
    assert out.shape == labels.shape and out.dtype == labels.dtype


def test_max_depth_matches_the_whole_image_distance_transform_when_the_cap_is_exceeded():
    mask = np.zeros((80, 80), bool)
    mask[5:75, 10:70] = True  # depth 30 > the first cap of 4
    expected = ndimage.distance_transform_cdt(np.pad(mask, 1), "taxicab").max()
    assert max_depth(da.from_array(mask, chunks=16), cap=4) == expected


def test_skelite_halo_covers_its_receptive_field():
    # N iterations read 3N+2 points; depth 9 needs N = 5
    assert halo_size("skelite", 2, 9, guard=False) == 18
    assert halo_size("skelite", 2, None, iterations=2, guard=False) == 8


def test_chunked_progress_counts_chunks_and_raising_cancels():
    labels = _tubes((100, 100), 6, (1.0, 2.0), seed=2)
    seen = []
    skeletonize(labels, "boolean", chunks=24, callback=lambda d, t: seen.append((d, t)))
    assert max(d for d, _ in seen) == seen[0][1] >= 4  # every chunk reported (threads may interleave)

    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    with pytest.raises(Stop):
        skeletonize(labels, "boolean", chunks=24, callback=stop)


def test_chunked_input_refuses_return_steps_with_a_clear_error():
    with pytest.raises(ValueError, match="return_steps"):
        skeletonize(np.ones((8, 8), np.uint8), chunks=4, return_steps=True)


def test_bad_values_in_a_dask_array_raise_when_computed():
    arr = np.zeros((16, 16), np.float32)
    arr[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        skeletonize(da.from_array(arr, chunks=8), "boolean", iterations=2).compute()


def test_dask_array_with_wrong_ndim_is_refused_before_any_work():
    with pytest.raises(ValueError, match="2D or 3D"):
        skeletonize(da.zeros((2, 4, 4, 4), chunks=2))


def test_chunked_work_runs_on_a_distributed_local_cluster():
    distributed = pytest.importorskip("distributed")
    labels = _tubes((48, 48), 4, (1.0, 3.0), seed=4, labels=2)
    whole = skeletonize(labels, "skelite")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            out = skeletonize(da.from_array(labels, chunks=16), "skelite", client=client)
    assert isinstance(out, np.ndarray)
    assert np.array_equal(out, whole)


def _flat_rod():
    """A 2 x 2 x 60 rod: scikit-image's 3D thinning erases it, so the whole-image run keeps one point."""
    v = np.zeros((6, 6, 64), np.uint8)
    v[2:4, 2:4, 2:62] = 7
    return v


@pytest.mark.parametrize("chunk", [8, 16, 24, 32])
def test_chunked_classic_keeps_a_flat_object_that_no_chunk_holds_whole(chunk):
    whole = skeletonize(_flat_rod(), "classic")
    assert np.unique(whole).tolist() == [0, 7]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChunkSizeWarning)
        assert np.array_equal(skeletonize(_flat_rod(), "classic", chunks=chunk), whole)


def test_a_lazy_classic_skeleton_keeps_a_flat_object_that_no_chunk_holds_whole():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChunkSizeWarning)
        lazy = skeletonize(da.from_array(_flat_rod(), chunks=8), "classic")
    assert np.array_equal(lazy.compute(), skeletonize(_flat_rod(), "classic"))


def test_the_cli_with_chunks_keeps_a_flat_object(tmp_path):
    from napari_skelite.cli import main

    np.save(tmp_path / "rod.npy", _flat_rod())
    assert main(["skeletonize", str(tmp_path / "rod.npy"), str(tmp_path / "s.npy"), "--method", "classic",
                 "--chunks", "8"]) == 0
    assert np.unique(np.load(tmp_path / "s.npy")).tolist() == [0, 7]


def test_chunks_smaller_than_the_halo_are_enlarged_with_a_warning_that_says_so():
    with pytest.warns(ChunkSizeWarning, match="halo"):
        skeletonize(_flat_rod(), "classic", chunks=8)


@pytest.mark.parametrize("chunks", [0, -5, 2.5, (8, 8), True])
def test_a_chunk_size_that_is_not_a_positive_integer_per_axis_is_refused(chunks):
    with pytest.raises(ValueError, match="chunks"):
        skeletonize(_flat_rod(), "boolean", chunks=chunks)


@pytest.mark.parametrize("shape", [(0, 5), (4, 0, 3)])
def test_a_zero_size_input_in_chunks_gives_an_empty_skeleton(shape):
    out = skeletonize(np.zeros(shape, np.uint16), "boolean", chunks=4)
    assert out.shape == shape and out.dtype == np.uint16


def test_a_zero_size_dask_input_gives_an_empty_skeleton():
    out = skeletonize(da.zeros((0, 6), dtype=np.uint8, chunks=3), "boolean")
    assert np.asarray(out).shape == (0, 6)


def _position_sensitive(block):
    """Running sums along both axes: any shift or other padding of the extended block changes the result."""
    return np.cumsum(np.cumsum(block.astype(np.int64), 0), 1)


@pytest.mark.parametrize("chunks", [None, ((10, 10, 10, 6), (12, 12, 14, 6))])
def test_map_padded_equals_map_overlap_with_zero_boundary(chunks):
    from napari_skelite.chunked import map_padded

    image = np.random.default_rng(2).integers(0, 5, (36, 44)).astype(np.uint8)
    arr = da.from_array(image, chunks=(9, 11))
    blocks = arr if chunks is None else arr.rechunk(chunks)
    expected = blocks.map_overlap(_position_sensitive, depth=(4, 6), boundary=0, trim=True, dtype=np.int64)
    got = map_padded(arr, _position_sensitive, (4, 6), chunks=chunks, dtype=np.int64)
    assert got.chunks == expected.chunks
    np.testing.assert_array_equal(got.compute(), expected.compute())


def test_no_input_chunk_is_held_between_blocks():
    from dask.callbacks import Callback

    from napari_skelite.chunked import map_padded

    class Held(Callback):
        most = 0

        def _posttask(self, key, result, dsk, state, worker_id):
            bases = {id(v if v.base is None else v.base): v.nbytes if v.base is None else v.base.nbytes
                     for v in state["cache"].values() if isinstance(v, np.ndarray)}
            Held.most = max(Held.most, sum(bases.values()))

    image = np.ones((48, 48, 48), np.uint8)  # 216 chunks of 8^3 (512 bytes), 110,592 bytes in all
    arr = da.from_array(image, chunks=8)
    with Held():
        one_point = tuple((1,) * len(c) for c in arr.chunks)
        total = map_padded(arr, lambda b: b, (4, 4, 4), dtype=np.uint8,
                           then=lambda b: np.full((1, 1, 1), b.sum(), np.int64), out_chunks=one_point)
        assert int(total.sum().compute(num_workers=2)) == image.size
    assert Held.most < 20 * 8**3  # one-point results and the blocks in flight; map_overlap held ~100 chunks
