"""Headless demo: every method on built-in synthetic vessel trees, a table and a figure."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .api import available_methods
from .compare import format_table, results_table, run_methods
from .methods import methods as method_records
from .metrics import label_betti
from .synthetic import bezier_tree

__all__ = ["run_demo", "sample_2d", "sample_3d"]


def sample_2d() -> np.ndarray:
    """A 256x256 synthetic vessel tree (uint8 labels: three trees with ids 1-3)."""
    out = np.zeros((256, 256), np.uint8)
    for i, seed in enumerate((11, 12, 13)):
        out[bezier_tree((256, 256), 4, (1.0, 6.0), seed=seed) & (out == 0)] = i + 1
    return out


def sample_3d() -> np.ndarray:
    """A 64^3 synthetic 3D vessel tree (uint8 labels, one id)."""
    return bezier_tree((64, 64, 64), 6, (1.0, 4.0), seed=7).astype(np.uint8)


def _switches(options: dict) -> dict:
    """``{method: (its topology switch, whether it is on with options)}`` of the methods that have one."""
    return {r.name: (r.topology_switch, bool(r.resolve(r.select(options))[r.topology_switch]))
            for r in method_records() if r.topology_switch is not None}


def _figure(path: Path, cases: dict, switches: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = available_methods()
    fig, axes = plt.subplots(len(cases), len(methods) + 1, figsize=(3 * (len(methods) + 1), 3 * len(cases)))
    for r, (name, (mask, skels)) in enumerate(cases.items()):
        proj = lambda a: a.max(0) if a.ndim == 3 else a  # noqa: E731
        axes[r, 0].imshow(proj(mask > 0), cmap="gray")
        axes[r, 0].set_title(f"{name}: input")
        for c, m in enumerate(methods, start=1):
            ax = axes[r, c]
            ax.imshow(proj(mask > 0), cmap="gray_r", alpha=0.2)  # the object in light grey on white
            if m in skels:
                # one saturated colour per label id (tab10, repeating after 10), legible on light grey
                ids = proj(skels[m]).astype(np.int64)
                colour = np.ma.masked_equal(np.where(ids > 0, (ids - 1) % 10 + 1, 0), 0)
                ax.imshow(colour, cmap="tab10", vmin=0.5, vmax=10.5, interpolation="nearest")
                switch, on = switches.get(m, (None, False))
                ax.set_title(f"{m} + {switch}" if on else m)
            else:
                ax.set_title(f"{m}: unavailable", fontsize=8)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_demo(out: Path, *, device="auto", **options) -> dict:
    """Run all methods on the 2D and 3D samples; print tables; write ``out/demo.png``.

    ``options`` are method options (each method takes those it has); a method
    with a topology switch (Skelite's guard) runs with it at its default, on,
    unless ``options`` turns it off.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    switches = _switches(options)
    how = "; ".join(f"{m} {'with' if on else 'without'} {switch}" for m, (switch, on) in switches.items())
    cases = {}
    tables = {}
    for name, mask in (("2D tree", sample_2d()), ("3D tree", sample_3d())):
        results = run_methods(mask, device=device, **options)
        rows = results_table(results, mask)
        tables[name] = rows
        b0, b1 = label_betti(mask)
        print(f"\n== {name} {mask.shape}, input b0 = {b0}, b1 = {b1} ({how}; time_s: a warm call) ==")
        print(format_table(rows))
        cases[name] = (mask, {m: skel for m, (skel, _, _) in results.items() if skel is not None})
    _figure(out / "demo.png", cases, switches)
    print(f"\nfigure written to {out / 'demo.png'}")
    return tables
