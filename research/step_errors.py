"""Per-step (teacher-forced) errors of Skelite weights, split by whether the point is critical.

    python research/step_errors.py --dim 3 weights/skelite_3d.pt runs/other/skelite_3d.pt

Each held-out crop (``make_sample`` with seeds 10**9 + i, as the training command's per-step
report) is cut into its per-iteration examples, the teacher's state fed as ``S``. A kept point is
*critical* when it is not simple in the teacher's next state (deleting it alone would split a
curve, cut a loop or punch a hole; ``training.objectives.critical_points``). Printed per file: the
share of kept points the network deletes, for critical and other kept points, the share of its
wrong deletions that are critical, and the share of the teacher's deletions it keeps.

``--teacher`` picks the teacher the errors are counted against (default ``local``, the teacher of
the current recipe). Weights trained on the other teacher (``--teacher directional``: the paper
variant's 3D file, ``weights/skelite_3d_paper.pt``) must be measured against that one: against the local teacher they are charged
for every point where the two teachers' skeletons differ.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from napari_skelite.training.data import TEACHERS, DataConfig, make_sample
from napari_skelite.training.loop import teacher_forcing_batch
from napari_skelite.training.objectives import critical_points
from napari_skelite.networks.weights import load_network


def count_errors(delete, band, target, critical) -> dict:
    """Counts of one batch of per-step decisions.

    Parameters
    ----------
    delete : (K, 1, *spatial) bool tensor, the network's deletions (probability > 0.5)
    band, target, critical : (K, 1, *spatial) float tensors, binary: the band, the teacher's
        deletions and the critical kept points

    Returns
    -------
    dict of point counts: ``kept``, ``kept_deleted``, ``critical``, ``critical_deleted``,
    ``deletions``, ``deletions_kept``
    """
    d = delete.to(band.dtype)
    kept = band * (1 - target)
    return {"kept": float(kept.sum()), "kept_deleted": float((kept * d).sum()),
            "critical": float(critical.sum()), "critical_deleted": float((critical * d).sum()),
            "deletions": float(target.sum()), "deletions_kept": float((target * (1 - d)).sum())}


def rates(c: dict) -> dict:
    """Shares from summed ``count_errors`` counts."""
    other = c["kept"] - c["critical"]
    return {"kept_deleted": c["kept_deleted"] / max(c["kept"], 1),
            "critical_share": c["critical"] / max(c["kept"], 1),
            "critical_deleted": c["critical_deleted"] / max(c["critical"], 1),
            "other_deleted": (c["kept_deleted"] - c["critical_deleted"]) / max(other, 1),
            "wrong_deletions_critical": c["critical_deleted"] / max(c["kept_deleted"], 1),
            "deletions_kept": c["deletions_kept"] / max(c["deletions"], 1)}


def step_errors(net, ndim: int, n: int = 48, batch: int = 8, teacher: str = "local") -> dict:
    """Summed counts of ``net`` on ``n`` held-out crops (whole images for the directional teacher)."""
    cfg = DataConfig.for_dim(ndim, teacher=teacher)
    pairs = [make_sample(cfg, 10**9 + i) for i in range(n)]
    as_t = lambda a: torch.from_numpy(np.stack(a)[:, None].astype(np.float32))  # noqa: E731
    total: dict = {}
    with torch.no_grad():
        for b in range(0, n, batch):
            chunk = pairs[b:b + batch]
            x, band, target = teacher_forcing_batch(as_t([p[0] for p in chunk]), as_t([p[1] for p in chunk]),
                                                    cfg.outside)
            crit = critical_points(x[:, 2:3], band, target)
            c = count_errors(torch.sigmoid(net(x)) > 0.5, band, target, crit)
            total = {k: total.get(k, 0.0) + v for k, v in c.items()}
    return total


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, choices=(2, 3), required=True)
    p.add_argument("--samples", type=int, default=48)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--teacher", choices=TEACHERS, default="local",
                   help="teacher to count errors against (the one the weights were trained on)")
    p.add_argument("weights", nargs="+")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    print(f"teacher: {a.teacher}")
    print("| weights | kept points deleted | critical share of kept | critical deleted | other kept deleted "
          "| wrong deletions that are critical | teacher's deletions kept |")
    print("|---|---|---|---|---|---|---|")
    for w in a.weights:
        r = rates(step_errors(load_network(w, a.dim).eval(), a.dim, a.samples, teacher=a.teacher))
        print(f"| {w} | {r['kept_deleted']:.2%} | {r['critical_share']:.0%} | {r['critical_deleted']:.2%} | "
              f"{r['other_deleted']:.2%} | {r['wrong_deletions_critical']:.0%} | {r['deletions_kept']:.2%} |", flush=True)


if __name__ == "__main__":
    main()
