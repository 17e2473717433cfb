"""benchmarks/step_errors.py: the counts behind the model card's per-step error split."""
import torch

from ._benchmark import load_benchmark


def _module():
    return load_benchmark("step_errors")


def _t(values):
    return torch.tensor(values, dtype=torch.float32).reshape(1, 1, 1, -1)


def test_count_errors_splits_wrong_deletions_into_critical_and_other_kept_points():
    band = _t([1, 1, 1, 1, 1, 0])
    target = _t([1, 1, 0, 0, 0, 0])      # teacher deletes the first two, keeps three
    critical = _t([0, 0, 1, 1, 0, 0])    # two of the kept points are critical
    delete = _t([1, 0, 1, 0, 1, 1]) > 0  # the last point is outside the band
    c = _module().count_errors(delete, band, target, critical)
    assert c == {"kept": 3.0, "kept_deleted": 2.0, "critical": 2.0, "critical_deleted": 1.0,
                 "deletions": 2.0, "deletions_kept": 1.0}
    r = _module().rates(c)
    assert r["other_deleted"] == 1.0 and r["wrong_deletions_critical"] == 0.5 and r["deletions_kept"] == 0.5


class _KeepAll(torch.nn.Module):
    def forward(self, x):
        return torch.full_like(x[:, :1], -20.0)


def test_step_errors_counts_against_the_chosen_teacher():
    m = _module()
    local = m.step_errors(_KeepAll(), 2, n=1, teacher="local")
    directional = m.step_errors(_KeepAll(), 2, n=1, teacher="directional")
    for c in (local, directional):  # a network that deletes nothing keeps every teacher deletion
        assert c["kept_deleted"] == 0 and c["deletions_kept"] == c["deletions"] > 0
    assert local["deletions"] != directional["deletions"]
