"""merlib's module graph: no import cycle, no private name imported from another module.

Every ``.py`` file under ``workflow_scripts/merlib/`` is a module (a package is its
``__init__``); its edges are the ``merlib`` modules it imports, relative
(``from . import x``, ``from .x import y``, ``from ..x import y``) or absolute
(``import merlib.x``, ``from merlib.x import y``), at top level or inside a function.
The implicit import of a module's parent package is not an edge: Python runs a package's
``__init__`` before any of its modules, which is how ``merlib.features`` registers its
backends without a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

MERLIB = Path(__file__).resolve().parents[2] / "workflow_scripts" / "merlib"


def module_name(path: Path) -> str:
    parts = path.relative_to(MERLIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(MERLIB.rglob("*.py"))}


def imports(
    name: str, path: Path, known: set[str], fallbacks: bool = True
) -> list[tuple[str, str]]:
    """``(module, imported name or '')`` for every merlib import of module ``name``.

    ``from pkg import x`` where ``pkg.x`` is a module counts as an import of ``pkg.x``;
    otherwise of ``pkg`` (a package: its ``__init__``), with ``x`` the imported name.
    ``fallbacks=False`` leaves out imports inside an ``except`` block (a bench's fallback
    to an older commit's layout).
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, str]] = []
    tree = ast.parse(path.read_text(), str(path))
    handled = set()
    if not fallbacks:
        handled = {
            id(n) for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) for n in ast.walk(h)
        }
    for node in ast.walk(tree):
        if id(node) in handled:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.split(".")[0] == "merlib"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "merlib":
                target = node.module
            else:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub, "") if sub in known else (target, alias.name))
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets = {target for target, _ in imports(name, path, known)}
        unknown = targets - known
        assert not unknown, f"{name} imports {sorted(unknown)}: no such module under merlib/"
        edges[name] = targets - {name}
    return edges


def cycles(edges: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_sees_a_cycle_and_a_dag():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset("abc")}
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == set()


def test_graph_resolves_relative_and_package_imports():
    edges = graph()
    # features/__init__ imports its backend modules; they import base, never the package.
    assert "merlib.features.opensmile_encoder" in edges["merlib.features"]
    assert edges["merlib.features.opensmile_encoder"] == {"merlib.features.base"}
    assert "merlib.errors" in edges["merlib.features.extraction"]
    assert not any("merlib.features" in targets for targets in edges.values())


def test_merlib_has_no_import_cycle():
    found = sorted(sorted(c) for c in cycles(graph()))
    assert found == [], f"import cycles in merlib: {found}"


def test_no_private_name_is_imported_from_another_module():
    mods = modules()
    known = set(mods)
    private = {
        f"{name} imports {alias} from {target}"
        for name, path in mods.items()
        for target, alias in imports(name, path, known)
        if alias.startswith("_") and not alias.startswith("__")
    }
    assert private == set(), f"private names imported across modules: {sorted(private)}"


# A guide, not a rule: a module may be long when it is one concept, and says so.
MAX_LINES = 700
LONG_BY_DESIGN: set[str] = set()


def test_library_modules_stay_short_unless_their_docstring_says_why():
    too_long = {}
    for name, path in modules().items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            too_long[name] = n
    assert set(too_long) <= LONG_BY_DESIGN, f"modules over {MAX_LINES} lines: {too_long}"
    for name in LONG_BY_DESIGN:
        doc = ast.get_docstring(ast.parse(modules()[name].read_text(encoding="utf-8")))
        assert doc and "one concept" in doc, f"{name}: its docstring must say why it is long"


REPO = MERLIB.parents[1]


def defined_names(path: Path) -> set[str]:
    """Names a module binds at top level (also inside top-level ``if``/``try``)."""
    names: set[str] = set()

    def visit(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.If):
                visit(node.body), visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body), visit(node.orelse), visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return names


def importers() -> dict[str, Path]:
    """Every Python file that imports from merlib: the library, the rule scripts, bench/
    and tests/, by a name for the report (``script:...`` for files outside merlib)."""
    files = dict(modules())
    for path in sorted(
        [*REPO.glob("workflow_scripts/*.py"), *REPO.glob("bench/*.py"), *REPO.glob("tests/**/*.py")]
    ):
        files[f"script:{path.relative_to(REPO)}"] = path
    return files


def test_every_name_imported_from_merlib_is_defined_there():
    """A name moved to another module (``probe_video`` to ``merlib.av.probe``) leaves no
    caller importing it from its old place: ruff does not resolve names across modules,
    and a rule script fails only when its job runs."""
    mods = modules()
    known = set(mods)
    missing = set()
    for name, path in importers().items():
        for target, alias in imports(name, path, known, fallbacks=False):
            if target in mods and alias and alias != "*":
                if alias not in defined_names(mods[target]):
                    missing.add(f"{name} imports {alias} from {target}")
    assert missing == set(), f"names not defined where they are imported from: {sorted(missing)}"


def test_the_name_check_sees_a_moved_name(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from merlib.collect.sources import probe_video\n")
    targets = imports("script", script, set(modules()))
    assert targets == [("merlib.collect.sources", "probe_video")]
    assert "probe_video" not in defined_names(modules()["merlib.collect.sources"])
    assert "probe_video" in defined_names(modules()["merlib.av.probe"])
