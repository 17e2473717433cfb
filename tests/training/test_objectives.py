"""Training objectives: band BCE, thinness, topology and pruning terms."""
import torch

from napari_skelite.training import objectives


def test_thinness_loss_is_zero_without_full_blocks_and_positive_with_one():
    line = torch.zeros(1, 1, 6, 6)
    line[..., 3, :] = 1
    assert objectives.thinness_loss(line) == 0
    line[..., 2, 1:3] = 1
    assert objectives.thinness_loss(line) > 0


def test_thinness_loss_works_in_3d():
    x = torch.zeros(1, 1, 4, 4, 4)
    x[..., 1:3, 1:3, 1:3] = 1
    assert objectives.thinness_loss(x) > 0


def test_soft_cldice_is_zero_for_a_perfect_prediction():
    m = torch.zeros(1, 1, 8, 8)
    m[..., 2:6, 1:7] = 1
    s = torch.zeros_like(m)
    s[..., 3, 2:6] = 1
    assert abs(float(objectives.soft_cldice(s, m, s, m))) < 1e-5
    z = torch.zeros_like(s)
    assert float(objectives.soft_cldice(z, z, s, m)) > 0.9


def test_band_bce_ignores_pixels_outside_the_band():
    band = torch.zeros(1, 1, 4, 4)
    band[..., 0, :] = 1
    target = band.clone()
    logits = torch.full_like(band, 10.0)
    a = objectives.band_bce(logits, band, target)
    logits[..., 2:, :] = -50  # outside the band: no effect
    assert torch.isclose(a, objectives.band_bce(logits, band, target))


def test_band_bce_weighs_missed_skeleton_points_more():
    band = torch.ones(1, 1, 1, 2)
    target = torch.tensor([[[[1.0, 0.0]]]])  # delete the first, keep the second
    wrong_keep = objectives.band_bce(torch.tensor([[[[-2.0, -2.0]]]]), band, target)
    wrong_delete = objectives.band_bce(torch.tensor([[[[2.0, 2.0]]]]), band, target)
    assert wrong_delete > wrong_keep


def test_distance_loss_penalises_mass_far_from_the_teacher():
    m = torch.ones(1, 1, 3, 3)
    d = torch.tensor([[[[0.0, 1, 2]] * 3]])
    near = torch.zeros_like(m)
    near[..., 0] = 1
    far = torch.zeros_like(m)
    far[..., 2] = 1
    assert objectives.distance_loss(near, d, m) < objectives.distance_loss(far, d, m)


def test_balanced_band_bce_gives_a_rare_skeleton_point_the_weight_of_all_deletions():
    band = torch.ones(1, 1, 1, 10)
    target = torch.ones_like(band)
    target[..., 0] = 0  # one skeleton point among ten band points
    miss_it = torch.full_like(band, 3.0)  # deletes everything
    plain = objectives.band_bce(miss_it, band, target, keep_weight=1.0)
    balanced = objectives.band_bce(miss_it, band, target, keep_weight=1.0, balance=True)
    # per-class means: the one missed point alone now costs as much as a whole class
    bce = torch.nn.functional.softplus(torch.tensor(3.0))
    assert torch.isclose(plain, (bce + 9 * torch.nn.functional.softplus(torch.tensor(-3.0))) / 10)
    assert torch.isclose(balanced, bce + torch.nn.functional.softplus(torch.tensor(-3.0)))


def test_balanced_skeleton_bce_averages_each_class_on_its_own():
    mask = torch.ones(1, 1, 2, 4)
    target = torch.zeros_like(mask)
    target[..., 0, 0] = 1
    s = torch.full_like(mask, 0.5)
    loss = objectives.skeleton_bce(s, target, mask, keep_weight=2.0, balance=True)
    assert torch.isclose(loss, torch.tensor(3 * 0.6931472), atol=1e-5)


def test_critical_points_are_the_kept_band_points_that_hold_a_curve_together():
    state = torch.zeros(1, 1, 5, 7)
    state[..., 2, 1:6] = 1  # a line; the teacher keeps all of it
    band = state.clone()
    crit = objectives.critical_points(state, band, torch.zeros_like(state))[0, 0]
    assert crit[2, 2:5].tolist() == [1, 1, 1]  # inner points: deleting one splits the line
    assert crit[2, 1] == 0 and crit[2, 5] == 0  # end points are simple


def test_deleted_points_are_never_critical():
    state = torch.ones(1, 1, 4, 4)
    band = state.clone()
    assert objectives.critical_points(state, band, band).sum() == 0
    assert objectives.hole_points(state, band, band).sum() == 0


def test_hole_points_are_kept_points_with_every_face_neighbour_staying():
    state = torch.zeros(1, 1, 5, 5)
    state[..., 1:4, 1:4] = 1
    band = state.clone()
    target = torch.zeros_like(state)
    target[..., 1, 1] = 1  # the teacher deletes a corner; the centre's face neighbours all stay
    holes = objectives.hole_points(state, band, target)[0, 0]
    assert holes[2, 2] == 1 and holes.sum() == 1


def test_band_bce_weighs_a_point_by_one_plus_its_extra_weight():
    band = torch.ones(1, 1, 1, 2)
    target = torch.zeros_like(band)
    critical = torch.tensor([[[[1.0, 0.0]]]])
    logits = torch.tensor([[[[1.0, 1.0]]]])  # both wrongly leaning to deletion
    plain = objectives.band_bce(logits, band, target)
    weighted = objectives.band_bce(logits, band, target, extra=3.0 * critical)
    assert torch.isclose(weighted, plain * (1 + 3 + 1) / 2)


def test_refused_deletions_are_the_student_deletions_that_would_cut_a_line():
    before = torch.zeros(1, 1, 5, 9)
    before[..., 2, 1:8] = 1
    after = before.clone()
    after[..., 2, 4] = 0.1  # cuts the line in two
    after[..., 2, 7] = 0.2  # removes an end point
    refused = objectives.refused_deletions(before, after)[0, 0]
    assert refused[2, 4] == 1 and refused[2, 7] == 1 and refused.sum() == 2


def test_refused_deletions_leave_safe_deletions_alone():
    before = torch.zeros(1, 1, 5, 9)
    before[..., 1:3, 1:8] = 1  # two rows thick
    after = before.clone()
    after[..., 1, 3] = 0.0  # a simple point of the top row
    assert objectives.refused_deletions(before, after).sum() == 0


def test_guard_loss_pulls_a_refused_point_towards_being_kept():
    s = torch.tensor([[[[0.2, 0.9]]]], requires_grad=True)
    refused = torch.tensor([[[[1.0, 0.0]]]])
    loss = objectives.guard_loss(s, refused, torch.ones_like(refused))
    loss.backward()
    assert loss > 0 and s.grad[0, 0, 0, 0] < 0 and s.grad[0, 0, 0, 1] == 0


def test_stray_points_are_deletions_that_no_kept_point_touches():
    state = torch.zeros(1, 1, 5, 9)
    state[..., 2, 1:8] = 1
    band = state.clone()
    target = torch.zeros_like(state)
    target[..., 2, 5:8] = 1  # the teacher deletes the last three points of the line
    stray = objectives.stray_points(state, band, target)[0, 0]
    # (2, 5) touches the kept (2, 4); (2, 6) and (2, 7) would be left alone if kept
    assert stray[2].tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 0]


def test_stray_loss_pushes_out_isolated_points_the_teacher_does_not_have():
    s = torch.zeros(1, 1, 7, 7)
    s[..., 1, 1:5] = 0.9      # a short curve, also in the teacher skeleton
    s[..., 5, 5] = 0.8        # a stray point
    s.requires_grad_(True)
    teacher = torch.zeros_like(s)
    teacher[..., 1, 1:5] = 1
    loss = objectives.stray_loss(s, teacher, torch.ones_like(s))
    loss.backward()
    assert loss > 0 and s.grad[0, 0, 5, 5] > 0 and s.grad[0, 0, 1].abs().sum() == 0
    teacher[..., 5, 5] = 1  # a one-point component of the teacher is not stray
    assert objectives.stray_loss(s, teacher, torch.ones_like(s)) == 0


def test_refused_deletions_leave_out_isolated_points():
    before = torch.zeros(1, 1, 5, 5)
    before[..., 2, 2] = 1
    after = torch.zeros_like(before)  # deleting an isolated point is not simple, but not refused
    assert objectives.refused_deletions(before, after).sum() == 0
