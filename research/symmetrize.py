"""Does averaging the network over flips (test-time symmetrisation) cut plain Skelite's errors?

    python research/symmetrize.py --dim 2 [--weights weights/skelite_2d.pt] [--samples 16]

Each variant runs Skelite's dense loop with a per-iteration network
``f_G(x) = mean over g in G of g^-1 f(g x)`` (mean of logits), for G = the identity, the
``2^ndim`` axis flips, and the flips combined with every axis permutation. Printed per variant,
plain and with the topology guard: mean Betti errors, 2x2(x2) share, size against and coverage of
scikit-image's skeleton and the share of images meeting the quality targets on held-out
synthetic data (seed 10000), then the same for the unlike-training cases of
``benchmarks/evaluate.py``.

The teachers are ordered thinnings (raster orders, subfields), so which of two parallel points
goes depends on orientation and the network learned that convention; averaging over orientations
mixes conventions, which is what this measures.
"""
from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import torch

from napari_skelite.networks.network import SkeliteNet


class Symmetrized(torch.nn.Module):
    """``mean_g g^-1 net(g x)`` over axis flips (and, with ``permutations``, axis orders).

    Parameters
    ----------
    net : SkeliteNet
    permutations : bool
        Also average over every order of the spatial axes (8 maps in 2D, 48 in 3D).
    """

    def __init__(self, net: SkeliteNet, permutations: bool = False):
        super().__init__()
        self.net = net
        self.ndim = net.ndim
        axes = tuple(range(2, 2 + net.ndim))
        flips = [c for r in range(net.ndim + 1) for c in itertools.combinations(axes, r)]
        orders = list(itertools.permutations(axes)) if permutations else [axes]
        self.maps = [(o, f) for o in orders for f in flips]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = torch.zeros_like(x[:, :1])
        for order, flips in self.maps:
            perm = (0, 1) + order
            y = x.permute(perm)
            if flips:
                y = y.flip(flips)
            out = self.net(y)
            if flips:
                out = out.flip(flips)
            total = total + out.permute(tuple(int(i) for i in np.argsort(perm)))
        return total / len(self.maps)


def _dense_for_symmetrized():
    """Make Skelite's per-object runner use the dense loop for :class:`Symmetrized` networks.

    The band-sparse path reads the layers of a plain :class:`SkeliteNet`; the dense loop calls
    the module, so a wrapper runs there unchanged.
    """
    import napari_skelite.methods.skelite as method

    run = method.run

    def run_dense(mask, *a, weights=None, **kw):
        if isinstance(weights, Symmetrized):
            kw["dense"] = True
        return run(mask, *a, weights=weights, **kw)

    method.run = run_dense


def main(argv=None) -> None:
    import sys

    from napari_skelite.api import skeletonize
    from napari_skelite.training.data import DataConfig, make_masks
    from napari_skelite.training.evaluate import case_metrics, held_out_kwargs, meets_targets
    from napari_skelite.networks.weights import load_network

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, choices=(2, 3), required=True)
    p.add_argument("--weights", default=None)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    _dense_for_symmetrized()
    sys.path.insert(0, str(Path(__file__).parent))
    from evaluate import cases

    net = load_network(a.weights, a.dim).eval()
    variants = {"plain network": net, "flips": Symmetrized(net), "flips and axis orders": Symmetrized(net, True)}
    masks = make_masks(DataConfig.for_dim(a.dim, **held_out_kwargs(a.dim)), a.samples, 10000)
    named = [(k, m) for k, (m, _) in cases(Path(a.shared)).items() if m.ndim == a.dim]
    classic = [skeletonize(m, "classic") for m in masks]
    named_classic = [skeletonize(m, "classic") for _, m in named]
    keys = ("b0_error", "b1_error", "thinness", "size_vs_classic", "coverage_classic")
    print("| variant | guard | b0 err | b1 err | 2x2 share | size vs classic | coverage | meeting targets | time (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    lines = []
    for name, v in variants.items():
        for guard in (False, True):
            t0 = time.perf_counter()
            rows = [case_metrics(skeletonize(m, "skelite", weights=v, device="cpu", guard=guard), m, c)
                    for m, c in zip(masks, classic)]
            dt = time.perf_counter() - t0
            agg = [float(np.mean([r[k] for r in rows])) for k in keys]
            meet = float(np.mean([meets_targets(r) for r in rows]))
            print(f"| {name} | {'yes' if guard else 'no'} | {agg[0]:.2f} | {agg[1]:.2f} | {agg[2]:.4f} | "
                  f"{agg[3]:.3f} | {agg[4]:.3f} | {meet:.0%} | {dt:.1f} |", flush=True)
            for (cname, m), c in zip(named, named_classic):
                r = case_metrics(skeletonize(m, "skelite", weights=v, device="cpu", guard=guard), m, c)
                lines.append(f"| {cname} | {name} | {'yes' if guard else 'no'} | {r['b0_error']}/{r['b1_error']} | "
                             f"{r['thinness']:.4f} | {r['size_vs_classic']:.3f} | {r['coverage_classic']:.3f} | "
                             f"{'yes' if meets_targets(r) else 'no'} |")
    print("\n| case | variant | guard | b0/b1 err | 2x2 share | size vs classic | coverage | targets |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
