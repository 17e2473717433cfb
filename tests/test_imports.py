import subprocess
import sys


def test_importing_the_package_loads_no_torch_qt_or_napari():
    code = "import sys, napari_skelite; print(sorted(m for m in ('torch','qtpy','napari','PyQt6') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_engine_modules_do_not_import_qt_or_napari():
    code = (
        "import sys, napari_skelite.api, napari_skelite.metrics, napari_skelite.methods.skelite, "
        "napari_skelite.methods.boolean, napari_skelite.training.loop;"
        "print(sorted(m for m in ('qtpy','napari','PyQt6','magicgui') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def _import_graph():
    """``{module: {internal modules it imports}}`` of napari_skelite, imports inside functions included."""
    import ast
    from pathlib import Path

    import napari_skelite

    root = Path(napari_skelite.__file__).parent
    mods = {}
    for path in root.rglob("*.py"):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_pkg else parts)
        mods[name] = (path, is_pkg)
    graph = {}
    for name, (path, is_pkg) in mods.items():
        package = name if is_pkg else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in mods and t != name}
        graph[name] = deps
    return graph


def _cycle(graph):
    state = {}

    def visit(n, stack):
        state[n] = 1
        for d in sorted(graph[n]):
            # a submodule naming its own package (``from . import x``, ``from ._y import z``) runs
            # nothing new: the package's __init__ is already importing it
            if n.startswith(d + "."):
                continue
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d] if d in stack else [n, d]
            if d not in state:
                found = visit(d, stack + [d])
                if found:
                    return found
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n, [n])
            if found:
                return found
    return None


def test_the_package_has_no_import_circles():
    assert _cycle(_import_graph()) is None


def test_the_circle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_circle_finder_follows_a_package_into_its_submodules():
    assert _cycle({"e": {"p"}, "p": {"p.m"}, "p.m": {"e"}}) == ["e", "p", "p.m", "e"]
