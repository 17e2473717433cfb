"""Verify the subfield networks: the whole window table, held-out volumes, VesSAP, the soft loop.

    python benchmarks/subfield_check.py [--shared ../shared] [--table] [--volumes N] [--weights-3d PATH]

- ``--table``: every window a candidate can have (2D: 249, 3D: 66,060,315 with
  both end-bit states that occur) against the simple-point table: wrong
  deletions (a possible topology error each) and wrong keeps (about 3 minutes
  for the 3D network on one core).
- held-out volumes (other seeds, more curves and larger radii than training,
  and every shape kind of ``make_shapes`` from another seed) and VesSAP: the
  plain network (``guard=False``) against Boolean thinning: Betti errors,
  points in full 2x2x2 blocks, size, and its decision on every window it met in
  the loop checked against the table.
- ``ClDiceLoss("skelite")`` on VesSAP: Betti numbers of the binarised soft
  skeleton, gradient, value on a random prediction.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from napari_skelite.losses import ClDiceLoss
from napari_skelite.metrics import betti_errors, betti_numbers
from napari_skelite.networks.guard import full_blocks
from napari_skelite.networks.subfield import subfield_iterate, window_table_errors
from napari_skelite.networks.weights import default_weights_path, load_network
from napari_skelite.topology.simple import simple_point_lut
from napari_skelite.topology.thinning import thin
from napari_skelite.training.data import DataConfig, make_masks, make_shapes
from napari_skelite.training.evaluate import held_out_kwargs

if not __package__:  # run as ``python benchmarks/NAME.py``: the repository root on the path, for ``benchmarks.*``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.cases import real_cases


class _Audit:
    """Wraps a network's decisions, counting the windows it met and its wrong deletions."""

    def __init__(self, net):
        self.net, self.ndim = net, net.ndim
        self.table = simple_point_lut(net.ndim, "cpu")
        self.windows = self.wrong = 0

    def decide(self, codes, end):
        d = self.net.decide(codes, end)
        ok = self.table(codes).bool() & ~end
        self.windows += len(codes)
        self.wrong += int((d & ~ok).sum())
        return d


def _volume_row(name, net, mask):
    audit = _Audit(net)
    t = torch.as_tensor(mask).bool()
    t0 = time.perf_counter()
    sk = t
    for sk in subfield_iterate(audit, t):
        pass
    secs = time.perf_counter() - t0
    sk = sk.numpy()
    ref = thin(t).numpy()
    e0, e1 = betti_errors(sk, mask)
    blocks = int(full_blocks(torch.as_tensor(sk)).sum())
    ref_blocks = int(full_blocks(torch.as_tensor(ref)).sum())
    size = sk.sum() / max(1, ref.sum())
    print(f"| {name} | {'/'.join(map(str, betti_numbers(mask)))} | {e0} | {e1} | {blocks} ({ref_blocks}) | {size:.3f} | "
          f"{audit.windows} | {audit.wrong} | {secs:.2f} |")
    return e0, e1, blocks, size, audit.windows, audit.wrong, ref_blocks


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--table", action="store_true", help="check the whole window table (3D: a few minutes)")
    p.add_argument("--volumes", type=int, default=30, help="held-out synthetic volumes of each generator")
    p.add_argument("--weights-3d", default=None)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    nets = {2: load_network(default_weights_path(2, "subfield"), 2),
            3: load_network(a.weights_3d or default_weights_path(3, "subfield"), 3)}
    if a.table:
        for nd, net in nets.items():
            t0 = time.perf_counter()
            r = window_table_errors(net)
            print(f"{nd}D window table: {r['windows']} windows, {r['false_delete']} wrong deletions, "
                  f"{r['false_keep']} wrong keeps of {r['deletable']} deletable, threshold {r['threshold']:.4f} "
                  f"({time.perf_counter() - t0:.0f} s)")
    net = nets[3]
    print("\n| volume | b0/b1/b2 | b0 err | b1 err | points in full 2x2x2 blocks (Boolean's) | size vs Boolean "
          "| windows judged | "
          "wrong deletions | time (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    tubes = make_masks(DataConfig.for_dim(3, **held_out_kwargs(3)), a.volumes, 31_337)
    for i, m in enumerate(tubes):
        rows.append(_volume_row(f"held-out tubes #{i}", net, m))
    for i, m in enumerate(make_shapes(3, a.volumes, 31_337)):
        rows.append(_volume_row(f"held-out shapes #{i}", net, m))
    real = real_cases(Path(a.shared))
    for name, (m, _ref) in real.items():
        if m.ndim == 3:
            rows.append(_volume_row(name, net, m))
    r = np.array(rows, dtype=float)
    print(f"\n{len(rows)} volumes: Betti errors {int(r[:, 0].sum())}/{int(r[:, 1].sum())}, points in full blocks "
          f"{int(r[:, 2].sum())} (Boolean's skeletons: {int(r[:, 6].sum())}), "
          f"size vs Boolean max {r[:, 3].max():.3f} mean {r[:, 3].mean():.3f}, "
          f"{int(r[:, 4].sum())} windows judged, {int(r[:, 5].sum())} wrong deletions")
    vessap = [m for name, (m, _) in real.items() if m.ndim == 3]
    if vessap:
        m = vessap[0]
        loss = ClDiceLoss("skelite")
        x = torch.as_tensor(m, dtype=torch.float32)[None, None]
        sk = loss.skeleton(x)[0, 0].detach().numpy() > 0.5
        e0, e1 = betti_errors(sk, m)
        g = torch.rand_like(x, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
        value = loss(g, x)
        value.backward()
        value = value.item()
        print(f"ClDiceLoss('skelite') on VesSAP: binarised skeleton Betti errors {e0}/{e1}; random prediction: "
              f"loss {value:.4f}, gradient sum |g| {float(g.grad.abs().sum()):.4g}")


if __name__ == "__main__":
    main()
