"""The method registry: one record per method, read by every part of the package."""
import numpy as np
import pytest

from napari_skelite import available_methods, methods, skeletonize
from napari_skelite.chunked import halo_size
from napari_skelite.cli import build_parser
from napari_skelite.compare import compare_methods


def _blob():
    m = np.zeros((30, 34), np.uint8)
    m[5:25, 4:30] = 3
    m[12:18, 10:20] = 0
    return m


def test_the_built_in_methods_are_registered_in_order():
    assert methods.names()[:5] == ["skelite", "boolean", "local", "morphological", "classic"]


def test_a_registered_method_runs_through_skeletonize_with_its_options(toy_method):
    m = _blob()
    once = skeletonize(m, "toyerode")
    twice = skeletonize(m, "toyerode", times=2)
    assert "toyerode" in available_methods()
    assert (twice > 0).sum() < (once > 0).sum() < (m > 0).sum()
    assert set(np.unique(once)) == {0, 3}


def test_a_registered_method_is_a_cli_choice(toy_method):
    args = build_parser().parse_args(["skeletonize", "in.npy", "out.npy", "--method", "toyerode"])
    assert args.method == "toyerode"


def test_a_registered_method_gets_a_row_in_the_comparison_table_with_its_option(toy_method):
    rows = compare_methods(_blob(), ["toyerode", "boolean"])
    assert [r["method"] for r in rows] == ["toyerode", "boolean"] and "error" not in rows[0]
    twice = compare_methods(_blob(), ["toyerode"], times=2)
    assert twice[0]["pixels"] == (skeletonize(_blob(), "toyerode", times=2) > 0).sum() < rows[0]["pixels"]


def test_a_registered_method_gets_its_own_chunked_halo_and_chunked_equals_whole(toy_method):
    assert halo_size("toyerode", 2, None, times=3) == 4
    m = _blob()
    assert np.array_equal(skeletonize(m, "toyerode", times=2, chunks=8), skeletonize(m, "toyerode", times=2))


def test_an_option_the_method_does_not_take_is_a_clear_error():
    with pytest.raises(TypeError, match="takes no option 'guard'"):
        skeletonize(_blob(), "boolean", guard=True)


def test_an_unknown_method_lists_the_known_ones():
    with pytest.raises(ValueError, match="choose one of skelite, boolean"):
        methods.get("nope")


def test_every_record_says_whether_it_keeps_the_topology():
    kept = {r.name: r.keeps_topology(r.resolve({}), 2) for r in methods.methods()}
    assert kept == {"skelite": True, "boolean": True, "local": True, "morphological": False, "classic": False}


def test_a_plain_skelite_network_keeps_the_topology_only_where_the_whole_window_table_was_checked():
    record = methods.get("skelite")
    assert not record.keeps_topology(record.resolve({"guard": False}), 2)  # the paper network: not verified
    assert record.keeps_topology(record.resolve({"guard": False, "variant": "subfield"}), 2)
    assert record.keeps_topology(record.resolve({"guard": False}), 3)



def test_an_option_value_outside_its_choices_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="'paper', 'subfield'"):
        skeletonize(_blob(), "skelite", variant="papr")


def test_an_integer_option_refuses_a_float(toy_method):
    with pytest.raises(TypeError, match="must be an integer"):
        skeletonize(_blob(), "toyerode", times=1.5)


def test_a_records_options_are_typed_and_give_their_defaults():
    record = methods.get("skelite")
    assert record.options["guard"] is True and record.param("guard").type is bool
    assert record.param("variant").choices == ("paper", "subfield")
    assert all(p.help for p in record.params)


def test_a_registered_methods_option_is_a_cli_flag_with_its_help_and_reaches_the_method(toy_method, tmp_path, capsys):
    from napari_skelite.cli import main

    with pytest.raises(SystemExit):
        main(["skeletonize", "--help"])
    assert "toyerode: toy: how many cross erosions (default: 1)" in " ".join(capsys.readouterr().out.split())
    np.save(tmp_path / "in.npy", _blob())
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "out.npy"), "--method", "toyerode",
                 "--times", "2", "--no-record"]) == 0
    assert np.array_equal(np.load(tmp_path / "out.npy"), skeletonize(_blob(), "toyerode", times=2))


def test_a_registered_differentiable_method_is_a_cldice_skeletonizer_with_its_options(toy_method):
    import torch

    from napari_skelite.losses import ClDiceLoss

    x = torch.zeros(1, 1, 9, 9)
    x[..., 2:7, 2:7] = 1
    once, twice = ClDiceLoss("toyerode").skeleton(x), ClDiceLoss("toyerode", times=2).skeleton(x)
    assert (float(once.sum()), float(twice.sum())) == (9.0, 1.0)
    with pytest.raises(TypeError, match="takes no option 'weights'"):
        ClDiceLoss("toyerode", weights="w.pt")
