"""Command line of napari-skelite.

Commands:
  skeletonize   skeletonize a label image file (or a batch into --out-dir); the output's extension picks its format
  compare       print the metrics table of several methods on one or more files
  demo          run every method on built-in synthetic data; a table and a PNG figure
  train         train Skelite weights on synthetic Bezier data
  calibrate     choose the deletion threshold of trained weights on held-out synthetic data
  build-table   recompute the full 3D simple-point table (about 10 s; the package ships one)

Run ``napari-skelite COMMAND --help`` for a command's options and defaults.
"""
from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

from . import methods
from ._cli_common import finish, one_line, report_warnings, write_result
from .synthetic import RADIUS_DISTS

__all__ = ["main"]


def _given_options(a) -> dict:
    """Every method option given on the command line (flags made by :func:`_method_flags`)."""
    names = methods.options_by_name()
    return {k: v for k, v in vars(a).items() if k in names and v is not None}


def _method_options(a, method: str) -> dict:
    """The options of ``method`` given on the command line (the others take the method's defaults)."""
    return methods.get(method).select(_given_options(a))


def _threshold_value(value: str | None):
    """``--threshold``'s value: ``"otsu"``, a finite number, or None; anything else is refused before any work."""
    if value is None or value == "otsu":
        return value
    try:
        t = float(value)
    except ValueError:
        raise ValueError(f"--threshold takes a number or 'otsu'; got {value!r}.") from None
    if not math.isfinite(t):
        raise ValueError(f"--threshold takes a finite number or 'otsu'; got {value!r}.")
    return t


def _threshold(image, value):
    """``image > value``; ``value`` is a number or ``otsu``. A threshold that keeps no point is refused."""
    import numpy as np

    from ._validate import otsu_threshold

    t = otsu_threshold(image) if value == "otsu" else value
    fg = np.asarray(image) > t
    if fg.size and not fg.any():
        top = np.asarray(image).max()
        raise ValueError(f"--threshold {t:g} keeps no point: the image's values are at most {top:g}. "
                         "Choose a lower threshold, or 'otsu'.")
    print(f"napari-skelite: foreground = points above {t:g} ({fg.mean():.1%} of the image)", file=sys.stderr)
    return fg


def _prune_length(text: str) -> float:
    """``--prune``'s value: a length >= 0 (NaN and negative ones are refused by the parser)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a length >= 0; got {text!r}") from None
    if math.isnan(v) or v < 0:
        raise argparse.ArgumentTypeError(f"takes a length >= 0; got {text!r}")
    return v


def _chunk_side(text: str) -> int:
    """``--chunks``'s value: a positive integer."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"takes a positive chunk side (points); got {text!r}")
    return v


def _worker_count(text: str) -> int:
    """``--workers``'s value: a positive integer."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"takes a positive number of blocks computed at once; got {text!r}")
    return v


def _cmd_skeletonize(a) -> int:
    """One input and its output (``IN OUT``), or a batch of inputs into ``--out-dir``."""
    if a.out_dir is not None:
        from .batch import run_batch

        return run_batch(a, _skeletonize_file)
    if len(a.paths) != 2:
        raise ValueError(f"skeletonize takes INPUT OUTPUT (got {len(a.paths)} paths); for several inputs (files, "
                         "folders, globs) add --out-dir DIR.")
    _skeletonize_file(a, a.paths[0], a.paths[1], quiet=a.quiet)
    return 0


def _skeletonize_file(a, source, output, *, quiet: bool = False) -> str:
    """Skeletonize the file ``source`` into ``output`` as the options ``a`` say; returns the line printed."""
    from .io import is_graph_file
    from .zarr_io import is_zarr_path

    # everything that can be refused is refused before the input is read or any work starts
    graph_out = is_graph_file(output)  # an unknown extension is refused before any work
    if a.prune is not None and (math.isnan(a.prune) or a.prune < 0):
        raise ValueError(f"--prune takes a length >= 0; got {a.prune:g}.")
    threshold = _threshold_value(a.threshold)
    if a.level is not None and not is_zarr_path(source):
        raise ValueError(f"--level chooses a resolution level of an OME-Zarr image; {source} is not one.")
    lazy = is_zarr_path(source) or is_zarr_path(output) or a.scheduler
    if a.workers is not None and not (lazy or a.chunks):
        raise ValueError("--workers sets how many blocks are computed at once: it needs a chunked run (--chunks N, "
                         "or a .zarr input or output).")
    with _blocks_at_once(a.workers):
        if lazy:
            from .volume_run import skeletonize_lazy

            msg = skeletonize_lazy(a, source, output, threshold=threshold, graph_out=graph_out, quiet=quiet,
                                   options=_method_options(a, a.method), threshold_fn=_threshold)
        else:
            msg = _skeletonize_in_memory(a, source, output, threshold=threshold, graph_out=graph_out, quiet=quiet)
    print(msg)
    return msg


@contextmanager
def _blocks_at_once(workers: int | None):
    """Dask's local threads at most ``workers`` (None: dask's default, one per core) inside the block."""
    if workers is None:
        yield
        return
    import dask

    with dask.config.set(num_workers=workers):
        yield


def _skeletonize_in_memory(a, source, output, *, threshold, graph_out: bool, quiet: bool) -> str:
    import numpy as np

    from .api import IntensityImageWarning, TopologyChangedWarning, skeletonize
    from .chunked import ChunkSizeWarning
    from .io import (
        check_label_output,
        check_output,
        read_labels,
        read_spacing,
    )
    from .progress import Bar, progress_enabled

    check_output(output, overwrite=a.overwrite, record=not a.no_record, flag="--overwrite")
    mask = read_labels(source)
    spacing, unit = read_spacing(source, mask.ndim)  # a TIFF's voxel size goes on to a TIFF output
    if threshold is not None:
        mask = _threshold(mask, threshold)
    if not graph_out and mask.dtype.kind in "biuf" and mask.size:
        check_label_output(output, mask.ndim, np.max(mask))
    options = _method_options(a, a.method)
    unit_name = "block" if a.chunks else "point"
    if a.chunks:
        from ._memory import map_large_allocations

        map_large_allocations()  # freed blocks go back to the system (see napari_skelite._memory)
    with warnings.catch_warnings(record=True) as caught, \
            Bar(f"{Path(source).name}: {a.method}", unit_name, enabled=progress_enabled(quiet), leave=False) as bar:
        warnings.simplefilter("always", TopologyChangedWarning)
        warnings.simplefilter("always", IntensityImageWarning)
        warnings.simplefilter("always", ChunkSizeWarning)
        skel = skeletonize(mask, a.method, a.iterations, a.device, chunks=a.chunks, callback=bar, **options)
    report_warnings(caught, a, options, source)
    out, n = write_result(a, output, skel, mask, spacing, unit, graph_out)
    return finish(a, source, out, options, shape=mask.shape, spacing=spacing, points=n)


def _cmd_compare(a) -> int:
    """One file: its table (errors stop it). Several: one table with a file column; a failed file is one line."""
    from .compare import format_table

    if len(a.inputs) == 1:
        print(format_table(_compare_rows(a, a.inputs[0])))
        return 0
    rows, failed = [], []
    for source in a.inputs:
        try:
            rows += [{"file": Path(source).name, **r} for r in _compare_rows(a, source)]
        except (ValueError, TypeError, MemoryError, OSError) as e:
            failed.append(source)
            print(f"napari-skelite: error: {source}: {one_line(e)}", file=sys.stderr)
    if rows:
        print(format_table(rows))
    if failed:
        print(f"napari-skelite: compared {len(a.inputs) - len(failed)} of {len(a.inputs)} files; "
              f"{len(failed)} failed: {', '.join(map(str, failed))}", file=sys.stderr)
    return 1 if failed else 0


def _compare_rows(a, source) -> list[dict]:
    """The metrics rows of ``source``, after printing its shape and Betti numbers."""
    from .compare import compare_methods
    from .io import read_labels
    from .metrics import label_betti

    mask = read_labels(source)
    rows = compare_methods(mask, a.methods, device=a.device, **_given_options(a))
    b0, b1 = label_betti(mask)
    print(f"{source}: shape {mask.shape}, input Betti numbers b0 = {b0}, b1 = {b1} (summed over labels); "
          "time_s: a warm call")
    return rows


def _cmd_demo(a):
    from .demo import run_demo

    run_demo(Path(a.out), device=a.device, guard=not a.no_guard)


def _apply_train_config(a) -> None:
    """Fill the training options not given on the command line from ``--config`` (a JSON object)."""
    import json

    if not a.config:
        return
    try:
        conf = json.loads(Path(a.config).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"--config {a.config}: {e}") from None
    if not isinstance(conf, dict):
        raise ValueError(f"--config {a.config} must hold a JSON object of option names and values.")
    defaults = {k: v for k, v in a.train_defaults.items() if k not in ("config", "func", "train_defaults")}
    aliases = {"n_curves": "curves", "ndim": "dim"}
    for key, value in conf.items():
        dest = aliases.get(key, key)
        if dest not in defaults:
            raise ValueError(f"--config {a.config}: unknown option {key!r}; known: {', '.join(sorted(defaults))}.")
        if getattr(a, dest) == defaults[dest]:  # the command line wins
            setattr(a, dest, value)


def _cmd_train(a):
    import torch
    from tqdm import tqdm

    from .training.loop import TrainConfig, train

    _apply_train_config(a)
    if a.dim is None:
        raise ValueError("train needs --dim 2 or 3 (or \"dim\" in --config).")

    out = a.out or f"weights/skelite_{a.dim}d.pt"
    data = {"crop": a.crop} if a.crop else {}
    if a.size:
        data["size"] = a.size
    if a.teacher != "local":
        data["teacher"] = a.teacher
    if a.radius:
        data["radius"] = tuple(a.radius)
    if a.radius_dist:
        data["radius_dist"] = a.radius_dist
    if a.curves:
        data["n_curves"] = tuple(a.curves)
    if a.downscale is not None:
        data["downscale"] = a.downscale
    if a.per_class is not None:
        data["per_class"] = a.per_class
    if a.width is not None:
        data["width"] = a.width
    cfg = TrainConfig(variant=a.variant, ndim=a.dim, out=out, seed=a.seed, steps=a.steps, batch=a.batch, samples=a.samples,
                      val_samples=a.val_samples, threads=a.threads, cache=a.cache,
                      checkpoint_every=a.checkpoint_every, data=data, keep_weight=a.keep_weight,
                      unrolled_fraction=a.unrolled_fraction, balance=a.balance, init=a.init, lr=a.lr,
                      thin_weight=a.thin_weight, topo_weight=a.topo_weight,
                      hole_weight=a.hole_weight, guard_weight=a.guard_weight,
                      stray_weight=a.stray_weight, device=a.device,
                      window_rates=a.window_rates, unrolled_batch=a.unrolled_batch)
    command = " ".join(["napari-skelite"] + (sys.argv[1:] if "train" in sys.argv else []))
    torch.set_num_threads(a.threads)
    card = train(cfg, progress=tqdm, log=tqdm.write, command=command)
    print(f"saved {out}; validation: {card['validation']}")


def _cmd_calibrate(a):
    from .training.calibrate import calibrate

    offsets = tuple(float(v) for v in a.offsets.split(","))
    out = a.out or a.weights
    command = " ".join(["napari-skelite"] + sys.argv[1:]) if "calibrate" in sys.argv else None
    card = calibrate(a.weights, out, a.dim, seed=a.seed, n=a.samples, offsets=offsets, command=command)
    print(f"saved {out}: offset {card['calibration']['offset']}; validation: {card['validation']}")


def _cmd_build_table(a):
    from tqdm import tqdm

    from .topology import build_full_table

    print(f"wrote {build_full_table(a.out, progress=tqdm)}")


def _method_flags(parser) -> None:
    """One flag per option of the registered methods, made from their :class:`~napari_skelite.methods.Option`
    records (an option several methods take appears once; a switch that is on by default is ``--no-NAME``)."""
    quiet = "%(default).0s"  # the flags' own default is None (not given): the help says the method's
    for name, (p, who) in methods.options_by_name().items():
        flag, whose = name.replace("_", "-"), ", ".join(who)
        if p.type is bool and p.default:
            parser.add_argument(f"--no-{flag}", dest=name, action="store_false", default=None,
                                help=f"{whose}: turn off {p.help}{quiet}")
        elif p.type is bool:
            parser.add_argument(f"--{flag}", dest=name, action="store_true", default=None,
                                help=f"{whose}: {p.help}{quiet}")
        else:
            default = "" if p.default is None else f" (default: {p.default})"
            parser.add_argument(f"--{flag}", dest=name, type=p.type if p.type in (int, float) else str,
                                choices=p.choices, default=None, metavar=name.upper() if p.choices is None else None,
                                help=f"{whose}: {p.help}{default}{quiet}")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = argparse.ArgumentParser(prog="napari-skelite", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = methods.names()
    method_help = "; ".join(f"{r.name}: {r.description}" for r in methods.methods())

    s = sub.add_parser("skeletonize", help="skeletonize label image files (tif, npy, png, nii.gz, zarr)",
                       formatter_class=fmt, usage="%(prog)s INPUT OUTPUT [options]  |  %(prog)s INPUT... --out-dir DIR "
                       "[options]")
    s.add_argument("paths", nargs="+", metavar="PATH",
                   help="INPUT OUTPUT: a label image (.tif/.tiff, .npy, .png, .nii(.gz), or an OME-Zarr/Zarr folder "
                   ".zarr) and where to write its skeleton: a label image (.tif, .npy, .png, .nii.gz, .zarr: "
                   "OME-Zarr written block by block), a neuron tree (.swc), a vessel graph (.graphml) or the "
                   "branch table (.csv). With --out-dir: every PATH is an input, a folder (its label images) or "
                   "a glob")
    s.add_argument("--out-dir", default=None, metavar="DIR",
                   help="batch: skeletonize every input into DIR (one output and record each, a summary at the end; "
                   "exit status 1 if any input failed)")
    s.add_argument("--out-suffix", default=None, metavar="SUFFIX",
                   help="batch: the outputs' format, e.g. .tif, .zarr or .csv (default: each input's own)")
    s.add_argument("--level", type=int, default=None,
                   help="OME-Zarr input: the resolution level to skeletonize (default 0, the full resolution)")
    s.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the chunks on the dask distributed cluster at ADDRESS (e.g. tcp://host:8786); "
                   "default: $DASK_SCHEDULER_ADDRESS if set, else here")
    s.add_argument("--quiet", action="store_true", help="no progress bar (none is drawn when stderr is not a terminal)")
    s.add_argument("--method", choices=names, default=methods.DEFAULT, help=method_help)
    s.add_argument("--iterations", type=int, default=None, help="at most this many iterations (default: until done)")
    s.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    _method_flags(s)
    s.add_argument("--chunks", type=_chunk_side, default=None,
                   help="process in chunks of this side (same result, bounded working memory)")
    s.add_argument("--workers", type=_worker_count, default=None, metavar="N",
                   help="chunked runs here: compute at most N blocks at once (default: one per CPU core); the peak "
                   "memory grows with N (see docs/big-volumes.md)")
    s.add_argument("--prune", type=_prune_length, default=None, metavar="LENGTH",
                   help="remove end branches shorter than LENGTH (physical units of the input's voxel size) "
                   "and each label's stray pieces shorter than LENGTH")
    s.add_argument("--threshold", default=None, metavar="VALUE",
                   help="an intensity image: skeletonize the points above VALUE, or 'otsu' for Otsu's threshold")
    s.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    s.add_argument("--no-record", action="store_true",
                   help="do not write OUTPUT.json (method, options, weights checksum: how the skeleton was made)")
    s.set_defaults(func=_cmd_skeletonize)

    c = sub.add_parser("compare", help="print the metrics table of several methods on one or more files",
                       formatter_class=fmt)
    c.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="label image files (several: one table with a file column; exit status 1 if any failed)")
    c.add_argument("--methods", nargs="+", choices=names, default=None, help="default: every method")
    c.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    _method_flags(c)
    c.set_defaults(func=_cmd_compare)

    d = sub.add_parser("demo", help="run every method on built-in synthetic data; a table and a PNG figure",
                       formatter_class=fmt)
    d.add_argument("--out", default="skelite-demo", help="output folder (default: ./skelite-demo)")
    d.add_argument("--device", default="auto")
    d.add_argument("--no-guard", action="store_true", help="show the plain Skelite network, without the topology guard")
    d.set_defaults(func=_cmd_demo)

    t = sub.add_parser("train", help="train Skelite weights on synthetic Bezier data", formatter_class=fmt)
    t.add_argument("--config", default=None, metavar="FILE.json",
                   help="training options from a JSON file (keys: the option names below with underscores, e.g. "
                        "thin_weight, n_curves); options given on the command line win")
    gd = t.add_argument_group("synthetic data")
    gs = t.add_argument_group("subfield variant")
    gp = t.add_argument_group("paper variant")
    t.add_argument("--dim", type=int, choices=(2, 3), default=None, help="2 or 3 (required, here or in --config)")
    t.add_argument("--variant", choices=("paper", "subfield"), default="paper",
                   help="paper: the published two-layer band loop (default); subfield: one pass per subfield, "
                        "the network reading the candidate's 3x3(x3) window and its end-point bit")
    gs.add_argument("--per-class", type=int, default=None,
                   help="subfield variant: training windows per class and image (default 2000)")
    gs.add_argument("--width", type=int, default=None,
                   help="subfield variant: hidden width (default 32 in 2D, 256 in 3D)")
    t.add_argument("--out", default=None)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--steps", type=int, default=1500)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--samples", type=int, default=2000)
    t.add_argument("--val-samples", type=int, default=32)
    gd.add_argument("--crop", type=int, default=None)
    gd.add_argument("--size", type=int, default=None)
    t.add_argument("--threads", type=int, default=1)
    gd.add_argument("--radius", type=float, nargs=2, default=None, metavar=("MIN", "MAX"),
                   help="tube radii of the generated data in px (default 1 8 in 2D, 1 5 in 3D)")
    gd.add_argument("--radius-dist", choices=RADIUS_DISTS, default=None,
                   help="how tube radii are drawn in that range (default uniform; log-uniform: as many thin tubes "
                        "as thick; mixed: either, per curve)")
    gd.add_argument("--curves", type=int, nargs=2, default=None, metavar=("MIN", "MAX"),
                   help="number of curves per generated image (default 3 10 in 2D, 2 6 in 3D)")
    gd.add_argument("--downscale", type=float, default=None,
                   help="probability of a 2x down-scaling of a generated image (default 0.15)")
    gd.add_argument("--cache", default=None, help="folder to cache generated teacher targets")
    t.add_argument("--checkpoint-every", type=int, default=100)
    t.add_argument("--keep-weight", type=float, default=2.0, help="BCE weight of skeleton points vs deletions")
    gp.add_argument("--thin-weight", type=float, default=2.0, help="weight of the 2x2(x2) thinness loss")
    gp.add_argument("--topo-weight", type=float, default=0.0,
                   help="extra BCE weight of kept points whose deletion alone would change the topology")
    gp.add_argument("--hole-weight", type=float, default=0.0,
                   help="extra BCE weight of kept points whose deletion would punch a one-point hole")
    gp.add_argument("--guard-weight", type=float, default=0.0,
                   help="unrolled phase: weight of keeping the deletions the topology guard would refuse")
    gp.add_argument("--stray-weight", type=float, default=0.0,
                   help="extra weight of deleting points that would be left isolated (one-point components)")
    gp.add_argument("--balance", action="store_true",
                   help="average skeleton points and deletions as separate classes in the BCE")
    gp.add_argument("--init", default=None, help="start from this weights file (fine-tuning)")
    t.add_argument("--lr", type=float, default=1e-3, help="initial learning rate (x0.2 at 60%% and 85%%)")
    gp.add_argument("--teacher", choices=("local", "directional"), default="local",
                   help="paper variant: local: window-local thinning of each crop (learnable by the 7x7 network); "
                        "directional: Boolean thinning of the whole image (paper variant)")
    gp.add_argument("--unrolled-fraction", type=float, default=0.3, help="share of steps trained unrolled")
    gp.add_argument("--unrolled-batch", type=int, default=None,
                   help="crops per unrolled step (default: --batch)")
    gp.add_argument("--window-rates", type=float, nargs=2, default=None, metavar=("NEAR", "FAR"),
                   help="teacher forcing on the 7x7(x7) windows of sampled band points instead of whole crops: "
                        "every kept point, deletions within 2 px of one at rate NEAR, the others at rate FAR "
                        "(each weighted 1/rate; no teacher-forcing thinness term). Default: whole crops")
    t.add_argument("--device", default="cpu",
                   help="where the network trains: cpu (default, the shipped recipe), cuda or auto")
    t.set_defaults(func=_cmd_train)
    t.set_defaults(train_defaults={act.dest: act.default for act in t._actions if act.dest != "help"})
    k = sub.add_parser("calibrate", help="choose the deletion threshold of trained weights on held-out synthetic data",
                       formatter_class=fmt)
    k.add_argument("--dim", type=int, choices=(2, 3), required=True)
    k.add_argument("--weights", required=True, help="weights file to calibrate")
    k.add_argument("--out", default=None, help="where to write the calibrated weights (default: in place)")
    k.add_argument("--seed", type=int, default=20_000, help="seed of the calibration images (not the validation seed)")
    k.add_argument("--samples", type=int, default=16, help="number of calibration images")
    k.add_argument("--offsets", default="0,0.25,0.5,0.75,1,1.5,2", help="comma-separated logit offsets to try")
    k.set_defaults(func=_cmd_calibrate)
    b = sub.add_parser("build-table", help="recompute the full 3D simple-point table (about 10 s; the package ships one)",
                       formatter_class=fmt)
    b.add_argument("--out", default=None, help="default: ~/.cache/napari-skelite/simple26.bits (read before the shipped table); "
                        "a name ending in .xz is written compressed")
    b.set_defaults(func=_cmd_build_table)
    return p


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM, so that a write in progress removes its temporary file."""


def _terminate(signum, frame):
    raise Terminated()


def main(argv=None) -> int:
    """Run a command; returns the exit status (2: an error, 130: interrupted, 143: terminated)."""
    args = build_parser().parse_args(argv)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        status = args.func(args)
    except (ValueError, TypeError, MemoryError, OSError) as e:  # OSError: missing, existing, unwritable files
        print(f"napari-skelite: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("napari-skelite: interrupted (no partial file is left)", file=sys.stderr)
        return 130
    except Terminated:
        print("napari-skelite: terminated (no partial file is left)", file=sys.stderr)
        return 143
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
