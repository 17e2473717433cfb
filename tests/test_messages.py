"""The wording shared by the library, the command line and the widget."""
import pytest

from napari_skelite import messages


@pytest.mark.parametrize(("surface", "fix"), [("library", "pass guard=True"), ("cli", "drop --no-guard"),
                                              ("widget", "tick 'guard'")])
def test_a_method_with_a_topology_switch_is_told_to_turn_it_on(surface, fix):
    assert fix in messages.topology_changed("skelite", (1, 2), surface)


@pytest.mark.parametrize(("surface", "fix"), [("library", "method='boolean'"), ("cli", "--method boolean"),
                                              ("widget", "choose boolean")])
def test_a_method_without_a_switch_is_told_to_use_the_reference_method(surface, fix):
    text = messages.topology_changed("morphological", (3, 0), surface)
    assert fix in text and "β0 error 3" in text


def test_an_unknown_surface_is_refused():
    with pytest.raises(ValueError, match="surface must be one of"):
        messages.topology_fix("skelite", "email")
