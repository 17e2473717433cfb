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


def _positive(what: str):
    """An argparse type: a positive integer, else an error that says it takes ``what``."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            v = 0
        if v < 1:
            raise argparse.ArgumentTypeError(f"takes a positive {what}; got {text!r}")
        return v
    return parse


_chunk_side = _positive("chunk side (points)")  # --chunks
_worker_count = _positive("number of blocks computed at once")  # --workers


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

    run_demo(Path(a.out), device=a.device, **_given_options(a))


#: the train command's flags (``dest`` names): every other option is in a recipe (``--config``)
_TRAIN_FLAGS = ("dim", "variant", "out", "steps", "seed", "device", "threads")


def _cmd_train(a):
    from .training.config import full_config, make_config, read_recipe, recipe_text

    recipe = read_recipe(a.config) if a.config else {}
    flags = {k: getattr(a, k) for k in _TRAIN_FLAGS if getattr(a, k) is not None}
    if not a.print_config and a.dim is None and "ndim" not in recipe:
        raise ValueError("train needs --dim 2 or 3 (or \"ndim\" in --config).")
    cfg = make_config(recipe, flags)
    if a.print_config:
        print(recipe_text(full_config(cfg)))
        return 0
    if cfg.init is not None and not Path(cfg.init).is_file():  # before the data is made
        raise ValueError(f"init: no weights file {cfg.init!r} (paths are relative to the folder you run in).")

    import torch
    from tqdm import tqdm

    from .training.loop import train

    command = " ".join(["napari-skelite"] + (sys.argv[1:] if "train" in sys.argv else []))
    torch.set_num_threads(cfg.threads)
    card = train(cfg, progress=tqdm, log=tqdm.write, command=command)
    print(f"saved {cfg.out}; validation: {card['validation']}")


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
    _method_flags(d)
    d.set_defaults(func=_cmd_demo)

    t = sub.add_parser(
        "train", help="train Skelite weights on synthetic Bezier data",
        description="Train Skelite weights on synthetic Bezier data. The flags below are the common options; "
                    "every option (losses, data, batch, learning rate, fine-tuning) is set in a JSON recipe given "
                    "to --config, and --print-config prints them all with their values. A run writes a "
                    "checkpoint beside --out: the same command again continues from it.")
    t.add_argument("--config", default=None, metavar="FILE.json",
                   help="training options from a JSON object of option names and values (the keys of "
                        "--print-config; data options inside \"data\"), or a weights card (.json) to train its "
                        "recorded config again; the flags below win")
    t.add_argument("--print-config", action="store_true",
                   help="print every option with the value this command would train with, as JSON, and exit")
    t.add_argument("--dim", type=int, choices=(2, 3), default=None, help="2 or 3 (required, here or in --config)")
    t.add_argument("--variant", default=None,
                   help="paper: the published two-layer band loop (default); subfield: one pass per subfield, "
                        "the network reading the candidate's 3x3(x3) window and its end-point bit")
    t.add_argument("--out", default=None, help="weights file to write (default: weights/skelite_<dim>d.pt)")
    t.add_argument("--steps", type=int, default=None, help="optimiser steps")
    t.add_argument("--seed", type=int, default=None, help="seed of the data and the network")
    t.add_argument("--device", default=None,
                   help="where the network trains: cpu (default, the shipped recipes), cuda or auto")
    t.add_argument("--threads", type=int, default=None, help="torch threads")
    t.set_defaults(func=_cmd_train)
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
