"""Training options: recipes, --print-config, and the shipped weights' recipes giving their recorded configurations."""
import json
import re
import shlex
from dataclasses import asdict
from pathlib import Path

import pytest

from napari_skelite.cli import main
from napari_skelite.training.config import full_config, make_config, read_recipe

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "weights" / "training" / "recipes"


def _card(name: str) -> dict:
    return json.loads((ROOT / "weights" / name).read_text())


def _command_options(command: str) -> dict:
    """The options of a recorded ``napari-skelite train --flag VALUE...`` line, each flag's name as a recipe key."""
    options, key = {}, None
    for word in shlex.split(command)[2:]:
        if word.startswith("--"):
            key = word[2:].replace("-", "_")
            options[key] = []
        else:
            try:
                options[key].append(json.loads(word))
            except json.JSONDecodeError:
                options[key].append(word)
    return {k: v[0] if len(v) == 1 else (v or True) for k, v in options.items()}


#: recipe: (the card, the command it records, options the recipe sets otherwise than the record, which
#: leave the weights as they are or were defaults then)
SHIPPED = {
    "skelite_2d_stage1": ("skelite_2d.json", lambda card: card["init"]["command"], {}),
    "skelite_2d_stage2": ("skelite_2d.json", lambda card: card["command"], {}),
    "skelite_2d_subfield": ("skelite_2d_subfield.json", lambda card: card["command"], {}),
    "skelite_3d_subfield": ("skelite_3d.json", lambda card: card["command"], {}),
    # trained when the default teacher was the directional one; written to another file than the command's,
    # without the training machine's cache folder
    "skelite_3d_paper": ("skelite_3d_paper.json", lambda card: card["command_in_repo"],
                         {"teacher": "directional", "out": "skelite_3d_paper.pt", "cache": None}),
}


@pytest.mark.parametrize("recipe", sorted(SHIPPED))
def test_each_shipped_recipe_gives_the_configuration_of_its_recorded_command(recipe):
    card_name, command, changed = SHIPPED[recipe]
    card = _card(card_name)
    mine = full_config(make_config(read_recipe(RECIPES / f"{recipe}.json")))
    assert mine == full_config(make_config(_command_options(command(card)), changed))
    if recipe == "skelite_2d_stage1":
        return  # recorded as a command only, in the card of the stage that started from it
    recorded = card["config"]
    assert {k: v for k, v in mine.items() if k in recorded and k not in changed and k != "data"} == \
        {k: v for k, v in recorded.items() if k not in changed and k != "data"}
    assert {k: mine["data"][k] for k in recorded["data"]} == recorded["data"]
    if "data_config" in card:
        assert {k: mine["data"][k] for k in card["data_config"] if k != "ndim"} == \
            {k: v for k, v in card["data_config"].items() if k != "ndim"}


def test_every_recipe_under_weights_training_is_checked():
    assert sorted(p.stem for p in RECIPES.glob("*.json")) == sorted(SHIPPED)


def test_a_weights_card_is_a_recipe_of_its_recorded_configuration():
    card = _card("skelite_3d.json")
    assert asdict(make_config(read_recipe(ROOT / "weights" / "skelite_3d.json"))) == card["config"]


def test_the_printed_configuration_read_back_gives_itself(tmp_path, capsys):
    assert main(["train", "--print-config", "--dim", "3", "--steps", "7"]) == 0
    printed = capsys.readouterr().out
    conf = json.loads(printed)
    assert (conf["ndim"], conf["steps"], conf["data"]["crop"]) == (3, 7, 32)
    (tmp_path / "all.json").write_text(printed)
    assert main(["train", "--config", str(tmp_path / "all.json"), "--print-config"]) == 0
    assert capsys.readouterr().out == printed


def test_the_flags_win_over_the_recipe(tmp_path, capsys):
    (tmp_path / "r.json").write_text(json.dumps({"ndim": 2, "seed": 3, "steps": 9, "data": {"crop": 32}}))
    assert main(["train", "--config", str(tmp_path / "r.json"), "--seed", "0", "--print-config"]) == 0
    conf = json.loads(capsys.readouterr().out)
    assert (conf["seed"], conf["steps"], conf["data"]["crop"]) == (0, 9, 32)


def test_the_train_command_lists_a_few_flags_and_names_the_recipe(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--config" in out and "--print-config" in out
    flags = set(re.findall(r"^  (--[a-z-]+)", out, re.MULTILINE))
    assert flags == {"--config", "--print-config", "--dim", "--variant", "--out", "--steps", "--seed", "--device",
                     "--threads"}


@pytest.mark.parametrize(("options", "message"), [
    ({"ndim": 2, "data": {"per_class": 10}}, "per_class: not a data option of the paper variant"),
    ({"ndim": 2, "variant": "subfield", "crop": 32}, "crop: not a data option of the subfield variant"),
    ({"ndim": 2, "data": {"crops": 32}}, "unknown data option 'crops'"),
    ({"ndim": 2, "variant": "dense"}, "variant must be one of 'paper', 'subfield'"),
])
def test_options_the_variant_does_not_read_are_refused(tmp_path, capsys, options, message):
    (tmp_path / "r.json").write_text(json.dumps(options))
    assert main(["train", "--config", str(tmp_path / "r.json"), "--print-config"]) == 2
    assert message in capsys.readouterr().err
