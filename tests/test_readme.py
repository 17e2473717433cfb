"""The README's install gives everything its Quickstart uses, and every Quickstart command line works."""
import ast
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_skelite.cli import main

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _quickstart_commands() -> list[list[str]]:
    """The command lines of the README's Quickstart, comments dropped, without the program name."""
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    lines = [line.split(" #", 1)[0].strip() for block in re.findall(r"```bash\n(.*?)```", quickstart, re.S)
             for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("napari-skelite ")]


def _small_inputs(folder: Path) -> None:
    """Small files under the names the Quickstart uses: labels, a neuron, vessels, a photo, a big volume."""
    from napari_skelite.io import write_labels
    from napari_skelite.synthetic import bezier_curves, render_tubes

    tree = np.zeros((28, 36), np.uint8)
    tree[11:17, 3:33] = 1
    tree[3:11, 15:19] = 1
    write_labels(folder / "labels.tif", tree)
    pts, rad = bezier_curves((12, 32, 32), 3, (1.0, 2.0), seed=1)
    vessels = render_tubes((12, 32, 32), pts, rad).astype(np.uint8)
    write_labels(folder / "neuron.tif", vessels, spacing=(2.0, 0.5, 0.5), unit="micrometer")
    write_labels(folder / "vessels.tif", vessels)
    write_labels(folder / "big.tif", vessels)
    photo = (tree * 180 + np.random.default_rng(0).integers(0, 40, tree.shape)).astype(np.uint8)
    import imageio.v3 as iio

    iio.imwrite(folder / "photo.png", photo)


def test_the_quickstart_has_the_seven_command_lines_this_test_runs():
    commands = _quickstart_commands()
    assert len(commands) == 7 and {c[0] for c in commands} == {"skeletonize", "compare"}


@pytest.mark.parametrize("args", _quickstart_commands(), ids=lambda a: " ".join(a))
def test_every_quickstart_command_line_works_on_a_small_file(tmp_path, monkeypatch, capsys, args):
    _small_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(args) == 0, capsys.readouterr().err
    if args[0] == "skeletonize":
        assert (tmp_path / args[2]).stat().st_size > 0 and (tmp_path / f"{args[2]}.json").is_file()


#: import name -> distribution name, for the imports whose names differ
_DISTRIBUTIONS = {"skimage": "scikit-image", "yaml": "pyyaml", "PIL": "pillow", "imageio": "imageio", "ome_zarr": "ome-zarr"}
#: modules that only optional features import, with the extra that provides them
_OPTIONAL = {"nibabel": "nifti", "distributed": "distributed", "napari": "napari", "qtpy": "napari",
             "npe2": "napari"}


def _third_party_imports() -> set[str]:
    """Top-level names of every module the package imports outside its napari plugin."""
    src = ROOT / "src" / "napari_skelite"
    names = set()
    for path in src.rglob("*.py"):
        if "_napari" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "napari_skelite"}


def _requirement_names(requirements) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_every_module_the_library_and_cli_import_is_a_base_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = _requirement_names(project["dependencies"])
    for name in _third_party_imports():
        if name in _OPTIONAL:
            assert name in _requirement_names(project["optional-dependencies"][_OPTIONAL[name]])
        else:
            assert _DISTRIBUTIONS.get(name, name).lower() in base, name
    assert {"pandas", "skan", "networkx"} <= base


def test_no_dependency_is_declared_that_nothing_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _requirement_names(project["dependencies"]) | _requirement_names(project["optional-dependencies"]["napari"])
    assert "magicgui" not in declared


def test_every_path_the_sdist_lists_exists():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]
    assert all((ROOT / p).exists() for p in config["sdist"]["include"])
    assert all((ROOT / p).exists() for p in config["wheel"]["force-include"])


def test_the_wheel_ships_the_weights_a_user_needs_and_no_training_checkpoints_or_logs(tmp_path, monkeypatch):
    import zipfile

    build = pytest.importorskip("hatchling.build")
    monkeypatch.chdir(ROOT)
    names = zipfile.ZipFile(tmp_path / build.build_wheel(str(tmp_path))).namelist()
    shipped = {p.name for p in (ROOT / "weights").glob("skelite_*") if p.suffix in (".pt", ".json")}
    assert shipped <= {Path(n).name for n in names if n.startswith("napari_skelite/weights/")}
    assert not [n for n in names if n.endswith((".ckpt", ".log")) or ("/training/" in n and "weights" in n)]
