"""Synthetic data: box and lazy renderings agree with the whole rendering; radius distributions."""
import numpy as np


def test_a_box_rendering_equals_that_part_of_the_whole_rendering():
    from napari_skelite.synthetic import bezier_curves, render_tubes, render_tubes_box

    pts, rad = bezier_curves((40, 50, 60), 5, (1.0, 4.0), seed=3)
    whole = render_tubes((40, 50, 60), pts, rad)
    box = render_tubes_box(pts, rad, (10, 5, 20), (16, 30, 25))
    np.testing.assert_array_equal(box, whole[10:26, 5:35, 20:45])


def test_the_lazy_tree_equals_the_whole_rendering_of_the_same_curves():
    from napari_skelite.synthetic import bezier_curves, lazy_bezier_tree, render_tubes

    lazy = lazy_bezier_tree((48, 40, 36), chunks=16, n_curves=4, radius=(1.0, 3.0), seed=2)
    pts, rad = bezier_curves((48, 40, 36), 4, (1.0, 3.0), seed=2)
    np.testing.assert_array_equal(lazy.compute(), render_tubes((48, 40, 36), pts, rad))


def _start_radii(dist, seed):
    from napari_skelite.synthetic import bezier_curves

    # no branching and no taper: every curve keeps the radius it starts with
    _pts, rad = bezier_curves((64, 64), 200, (0.5, 8.0), branching=0.0, taper=False, radius_dist=dist, seed=seed)
    return np.unique(rad)


def test_log_uniform_radii_are_as_often_below_the_geometric_mean_as_above():
    r = _start_radii("log-uniform", 0)
    assert r.min() >= 0.5 and r.max() <= 8.0
    assert 0.4 < np.mean(r < 2.0) < 0.6          # 2 = sqrt(0.5 * 8)
    assert np.mean(_start_radii("uniform", 0) < 2.0) < 0.3  # uniform: (2 - 0.5) / 7.5 = 20%


def test_mixed_radii_fall_between_uniform_and_log_uniform_below_the_geometric_mean():
    r = _start_radii("mixed", 0)
    assert r.min() >= 0.5 and r.max() <= 8.0
    assert 0.25 < np.mean(r < 2.0) < 0.45        # half of 20% plus half of 50% = 35%


def test_an_unknown_radius_distribution_is_a_clear_error():
    import pytest

    from napari_skelite.synthetic import bezier_curves
    from napari_skelite.training.data import DataConfig

    with pytest.raises(ValueError, match="radius_dist must be one of"):
        bezier_curves((32, 32), 2, (1.0, 2.0), radius_dist="normal")
    with pytest.raises(ValueError, match="radius_dist must be one of"):
        DataConfig.for_dim(2, radius_dist="normal")


def test_the_default_radius_distribution_keeps_the_cache_keys_of_earlier_data():
    from napari_skelite.training.data import DataConfig, _cache_text

    assert "radius_dist" not in _cache_text(DataConfig.for_dim(2), 4, 0)
    assert "radius_dist='log-uniform'" in _cache_text(DataConfig.for_dim(2, radius_dist="log-uniform"), 4, 0)
