"""Batches of the command line's ``skeletonize``: many inputs, one output folder, one line per failure.

Inputs are files, folders (their label images and ``.zarr`` stores, sorted)
and globs. Each input gets ``DIR/<its name><suffix>`` and its record; an input
that fails gets one line on stderr and the batch goes on; a summary ends it,
and the exit status is 1 if any input failed.
"""
from __future__ import annotations

import glob
import sys
from pathlib import Path

__all__ = ["expand_inputs", "output_name", "run_batch"]

_GLOB = set("*?[")


def _is_input(path: Path) -> bool:
    from .io import SUFFIXES
    from .zarr_io import is_zarr_path

    return is_zarr_path(path) or (path.is_file() and path.name.lower().endswith(SUFFIXES))


def expand_inputs(items) -> list[Path]:
    """Every input that ``items`` names, in order: files as given, folders' label images (sorted), globs' matches.

    A ``.zarr`` folder is one input, never a folder of inputs. A name that
    matches nothing is kept, so that it fails with its own line.
    """
    from .zarr_io import is_zarr_path

    out: list[Path] = []
    for item in map(str, items):
        path = Path(item)
        if path.is_dir() and not is_zarr_path(path):
            out += sorted(p for p in path.iterdir() if not p.name.startswith(".") and _is_input(p))
        elif not path.exists() and _GLOB & set(item):
            out += [Path(p) for p in sorted(glob.glob(item))] or [path]
        else:
            out.append(path)
    return out


def _stem(path: Path) -> str:
    """``path``'s name without its label-image suffix (``a.nii.gz`` -> ``a``)."""
    from .io import GRAPH_SUFFIXES, SUFFIXES

    name = path.name
    for suffix in sorted(SUFFIXES + GRAPH_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def output_name(source: Path, out_dir: Path, suffix: str | None) -> Path:
    """``out_dir/<source's name><suffix>``; without ``suffix``, the input's own (``.tif`` for an unknown one)."""
    if suffix is None:
        own = source.name[len(_stem(source)):]
        suffix = own or ".tif"
    return Path(out_dir) / (_stem(source) + _dotted(suffix))


def _dotted(suffix: str) -> str:
    return suffix if suffix.startswith(".") else "." + suffix



def run_batch(a, skeletonize_file) -> int:
    """Skeletonize every input of ``a.paths`` into ``a.out_dir`` with ``skeletonize_file(a, source, output)``.

    Returns
    -------
    int
        0 if every input was written, 1 if any failed (each said in one line
        on stderr, with the summary).
    """
    from ._cli_common import one_line
    from .io import check_output
    from .progress import Bar, progress_enabled

    out_dir = Path(a.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"--out-dir {out_dir} is a file; give a folder (it is created if missing).")
    sources = expand_inputs(a.paths)
    if not sources:
        raise ValueError("no input given; pass files, folders or globs before --out-dir.")
    check_output(out_dir / ("probe" + _dotted(a.out_suffix or ".tif")), overwrite=True)  # a bad suffix or folder: stop now
    seen: dict[Path, Path] = {}
    failed: list[Path] = []
    with Bar("files", "file", enabled=progress_enabled(a.quiet)) as bar:
        bar(0, len(sources))
        for k, source in enumerate(sources, 1):
            output = output_name(source, out_dir, a.out_suffix)
            try:
                if output in seen:
                    raise ValueError(f"its output {output} is also {seen[output]}'s; rename one of them.")
                seen[output] = source
                skeletonize_file(a, str(source), str(output), quiet=a.quiet)
            except (Exception, MemoryError) as e:
                failed.append(source)
                bar.write(f"napari-skelite: error: {source}: {one_line(e)}")
            bar(k, len(sources))
    done = len(sources) - len(failed)
    summary = f"napari-skelite: skeletonized {done} of {len(sources)} inputs into {out_dir}"
    if failed:
        summary += f"; {len(failed)} failed: {', '.join(map(str, failed))}"
    print(summary, file=sys.stderr)
    return 1 if failed else 0
