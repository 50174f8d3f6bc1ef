"""No dltoolkit module takes part in an import cycle.

Every ``import`` / ``from ... import`` of a dltoolkit module is an edge of the
module graph, whether it sits at the top of a module or inside a function (a
function-local import hides a cycle from Python, which runs it late, but not
from this test); the graph must be acyclic. Data modules are never imported
inside a function: each data package imports its parts at the top. Only the
source is parsed (``ast``); nothing is imported.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "dltoolkit"


def module_paths(root: Path) -> dict[str, Path]:
    """``{dotted name: path}`` of every module of the package in ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


class _ImportVisitor(ast.NodeVisitor):
    """Collects ``(imported module or from-module, names, level, line, local)``."""

    def __init__(self):
        self.found = []
        self.depth = 0  # function nesting

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node):
        for alias in node.names:
            self.found.append((alias.name, (), 0, node.lineno, self.depth > 0))

    def visit_ImportFrom(self, node):
        names = tuple(alias.name for alias in node.names)
        self.found.append(
            (node.module or "", names, node.level, node.lineno, self.depth > 0)
        )


def _resolve(name: str, modules) -> str | None:
    """The module ``name`` refers to (its longest prefix that is a module)."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in modules else None


def import_graph(root: Path) -> dict[str, dict[str, list[tuple[int, bool]]]]:
    """``{module: {imported module: [(line, inside a function), ...]}}``.

    Only imports of the package's own modules count.

    ``from pkg import name`` is an edge to ``pkg.name`` when that is a module,
    else to ``pkg``; relative imports are resolved.
    """
    paths = module_paths(root)
    graph = {}
    for name, path in paths.items():
        visitor = _ImportVisitor()
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        edges = {}
        for module, names, level, line, local in visitor.found:
            if level:
                package = (
                    name if path.name == "__init__.py" else name.rpartition(".")[0]
                )
                for _ in range(level - 1):
                    package = package.rpartition(".")[0]
                module = f"{package}.{module}" if module else package
            if names:
                targets = [
                    f"{module}.{n}" if f"{module}.{n}" in paths else module
                    for n in names
                ]
            else:
                targets = [module]
            for target in filter(None, (_resolve(t, paths) for t in targets)):
                where = edges.setdefault(target, []) if target != name else []
                if (line, local) not in where:
                    where.append((line, local))
        graph[name] = edges
    return graph


def find_cycles(graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _describe(graph, component) -> str:
    members = set(component)
    edges = [
        f"  {a} -> {b} (line {line}{', in a function' if local else ''})"
        for a in component
        for b, where in sorted(graph[a].items())
        if b in members
        for line, local in where
    ]
    return "\n".join(edges)


def test_graph_sees_the_package():
    graph = import_graph(ROOT)
    assert "dltoolkit.data.translation.loaders" in graph
    assert "dltoolkit.data.translation.files" in graph["dltoolkit.data.translation"]
    assert "dltoolkit.errors" in graph["dltoolkit.data.translation.files"]


def test_no_module_is_in_an_import_cycle():
    graph = import_graph(ROOT)
    cycles = find_cycles(graph)
    assert not cycles, "Import cycles (move shared code to a module both import):\n" + (
        "\n".join(_describe(graph, c) for c in cycles)
    )


def test_no_function_local_import_of_a_data_module():
    found = [
        f"{module} line {line}: {target}"
        for module, edges in import_graph(ROOT).items()
        for target, where in edges.items()
        for line, local in where
        if local
        and (target == "dltoolkit.data" or target.startswith("dltoolkit.data."))
    ]
    assert not found, "Import these at the top of the module:\n" + "\n".join(found)


def test_a_cycle_through_a_function_local_import_is_found(tmp_path):
    package = tmp_path / "dltoolkit"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "__init__.py").write_text("")
    (package / "data" / "a.py").write_text("from dltoolkit.data.b import f\n")
    (package / "data" / "b.py").write_text(
        "def f():\n    from . import a\n    return a\n"
    )
    graph = import_graph(package)
    assert graph["dltoolkit.data.b"] == {"dltoolkit.data.a": [(2, True)]}
    assert find_cycles(graph) == [["dltoolkit.data.a", "dltoolkit.data.b"]]
