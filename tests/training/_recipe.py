"""Run ``napari-skelite train`` as a user does: the options in a recipe file, a few flags beside it."""
import itertools
import json
from pathlib import Path

from napari_skelite.cli import main

_NUMBER = itertools.count()


def train_cli(folder, *flags: str, **options) -> int:
    """``napari-skelite train --config RECIPE *flags``, the recipe of ``options`` written in ``folder``; the exit status."""
    recipe = Path(folder) / f"recipe-{next(_NUMBER)}.json"
    recipe.write_text(json.dumps(options))
    return main(["train", "--config", str(recipe), *flags])
