import importlib.util
from pathlib import Path


def test_cldice_segmentation_example_runs_a_few_steps():
    path = Path(__file__).resolve().parents[1] / "examples" / "cldice_segmentation.py"
    spec = importlib.util.spec_from_file_location("cldice_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.main(["--steps", "3", "--train", "4", "--test", "2"])
    assert [r[0].split()[0] for r in rows] == ["Dice", "Dice"] and all(0 <= r[1] <= 1 for r in rows)
