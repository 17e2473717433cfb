"""Synthetic data: box and lazy renderings agree with the whole rendering."""
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
