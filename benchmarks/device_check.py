"""One prepared check of everything that needs an accelerator (CUDA), in one short run.

    python benchmarks/device_check.py [--device cuda] [--shared ../shared] [--out DIR] [--train-steps 200]

Prints markdown (and writes ``DIR/device_check.md`` when ``--out`` is given):

1. both shipped weights files load with ``weights_only=True`` onto the device;
2. every method gives the same skeleton on the device as on the CPU (DRIVE and VesSAP when
   ``<shared>/data/real`` is present, plus synthetic 2D and 3D trees), and Skelite's sparse path
   equals its dense reference on the device;
3. times per method on the device against the CPU, in this process;
4. a short training run on the device (``napari-skelite train --device``), its seconds per step
   against a few CPU steps of the same command.

Run it with ``--device cpu`` anywhere to check the script itself (every comparison is then
trivially equal). Nothing here is CUDA-only code: the library picks the device per call.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

if not __package__:  # run as ``python benchmarks/NAME.py``: the repository root on the path, for ``benchmarks.*``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.cases import real_cases
from napari_skelite import skeletonize
from napari_skelite.device import synchronize
from napari_skelite.methods.skelite import run as run_skelite
from napari_skelite.networks.weights import default_weights_path, load_network
from napari_skelite.synthetic import bezier_tree

METHODS = (("skelite", {}), ("skelite", {"guard": True}), ("boolean", {}), ("local", {}), ("morphological", {}))


def _cases(shared: Path):
    out = {"synthetic 2D 256^2": bezier_tree((256, 256), n_curves=12, radius=(1.0, 6.0), seed=7),
           "synthetic 3D 64^3": bezier_tree((64, 64, 64), n_curves=6, radius=(1.0, 4.0), seed=7)}
    out.update({name: mask for name, (mask, _) in real_cases(shared).items()})
    return out


def _timed(f, device, repeat=3):
    """Median seconds of ``f()`` over ``repeat`` runs after a warm-up, waiting on ``device`` around each."""
    f()  # warm-up (CUDA kernels, lookup tables)
    ts = []
    for _ in range(repeat):
        synchronize(device)
        t = time.perf_counter()
        res = f()
        synchronize(device)
        ts.append(time.perf_counter() - t)
    return res, float(np.median(ts))


def _train_speed(device: str, steps: int, workdir: Path) -> float:
    """Median seconds per optimiser step of a short 2D training run (data generation not counted)."""
    from napari_skelite.training.loop import TrainConfig, train

    stamps = []

    def progress(it, desc="", **kw):
        for item in it:
            if desc.startswith("train"):
                stamps.append(time.perf_counter())
            yield item

    out = workdir / f"w_{device}.pt"
    cfg = TrainConfig(ndim=2, out=str(out), steps=steps, batch=16, samples=64, val_samples=2, threads=2,
                      device=device, checkpoint_every=steps)
    train(cfg, progress=progress, log=lambda *a: None)
    load_network(out, 2)  # the file trained on the device loads on the CPU
    return float(np.median(np.diff(stamps)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda")
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--out", default=None)
    p.add_argument("--train-steps", type=int, default=200)
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    lines = [f"# Device check: {a.device}", "",
             f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}"
             + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""), ""]
    ok = True

    for nd in (2, 3):
        net = load_network(default_weights_path(nd), nd, device=a.device)
        dev = next(net.parameters()).device
        lines.append(f"- weights {nd}D: loaded with weights_only=True onto {dev}")

    lines += ["", "| case | method | points differing device vs CPU | CPU time (s) | device time (s) | CPU / device |",
              "|---|---|---|---|---|---|"]
    for name, mask in _cases(Path(a.shared)).items():
        for method, kw in METHODS:
            label = method + (" + guard" if kw else "")
            cpu, t_cpu = _timed(lambda: skeletonize(mask, method, device="cpu", **kw), "cpu")
            dev, t_dev = _timed(lambda: skeletonize(mask, method, device=a.device, **kw), a.device)
            diff = int(np.count_nonzero(cpu != dev))
            ok &= diff == 0
            lines.append(f"| {name} | {label} | {diff} | {t_cpu:.4f} | {t_dev:.4f} | {t_cpu / t_dev:.1f}x |")
        variant = "paper" if mask.ndim == 3 else None  # the subfield variant has no dense loop
        sparse = run_skelite(np.pad(mask, 1), device=a.device, variant=variant)[0]
        dense = run_skelite(np.pad(mask, 1), device=a.device, dense=True, variant=variant)[0]
        diff = int(np.count_nonzero(sparse != dense))
        ok &= diff == 0
        lines.append(f"| {name} | skelite sparse vs dense on {a.device} | {diff} | | | |")

    with tempfile.TemporaryDirectory() as tmp:
        s_dev = _train_speed(a.device, a.train_steps, Path(tmp))
        s_cpu = _train_speed("cpu", max(5, a.train_steps // 20), Path(tmp))
    lines += ["", f"- training 2D (batch 16): {s_dev:.3f} s/step on {a.device}, {s_cpu:.3f} s/step on the CPU "
              f"(2 threads): {s_cpu / s_dev:.1f}x", "", f"all skeletons identical: {ok}"]
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).mkdir(parents=True, exist_ok=True)
        (Path(a.out) / "device_check.md").write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
