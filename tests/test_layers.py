"""The Python reads as the data flow: packages in layers, imports running one way, no import loops.

Each layer may import the layers before it in ``LAYERS``, never one after it, and no module may
import one that imports it back, directly or through others. Imports inside functions count
too (they are how loops used to hide). Read from the source with ``ast``: nothing is imported.

Adding a package: put it in ``LAYERS`` where it belongs in the data flow (and in pyproject.toml's
``packages``); a module no layer names fails ``test_every_module_has_a_layer``.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. A module belongs to the longest prefix that names it; modules on the same
# line are one layer (they may import each other, and what is below).
LAYERS: list[tuple[str, ...]] = [
    ("warehouse",),                           # settings and the database: connections, roles, dq and raw bookkeeping
    ("extract",),                             # feeds and loading
    ("extract.returns",),                     # the statutory returns, mapped into the nightly feeds
    ("synthetic", "extract.docs", "extract.declared"),  # tooling: the generator; the files generated from the declarations
    ("expectations",),                        # gates and evidence: GX suites, dbt results, the quality report
    ("publication",),                         # one build at a time, and its publication
    ("pipeline",),                            # the steps the DAGs' tasks call
    ("orchestration",),                       # Airflow glue: sensors, alerts, what the DAG files share
    ("safeguarding",),                        # the command line
    ("dags", "bench"),                        # entry points: nothing imports them
]
PACKAGES = sorted({prefix.split(".")[0] for layer in LAYERS for prefix in layer})


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the repository's own packages: dotted name -> file."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> dict[str, int]:
    """The repository modules ``name`` imports (anywhere in the file), each with its first line."""
    is_package = path.name == "__init__.py"

    def known_module(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from package import module` imports that module; `from module import name`, the module.
            targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                       for alias in node.names]
        for target in targets:
            resolved = known_module(target)
            if resolved and resolved != name:
                found.setdefault(resolved, node.lineno)
    return found


def graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def layer_of(module: str) -> int | None:
    best, rank = -1, None
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    return rank


def upward_imports(edges: dict[str, dict[str, int]]) -> list[str]:
    """Imports of a module in a later layer than the importer's."""
    found = []
    for source, targets in sorted(edges.items()):
        for target, line in sorted(targets.items()):
            source_layer, target_layer = layer_of(source), layer_of(target)
            if source_layer is not None and target_layer is not None and target_layer > source_layer:
                found.append(f"{source} (line {line}) imports {target}: "
                             f"layer {LAYERS[source_layer][0]!r} is below {LAYERS[target_layer][0]!r}")
    return found


def loops(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """One loop through each group of modules that import each other, directly or through others
    (Tarjan's strongly connected components of more than one module); ``tangles`` has the groups."""
    return [_one_loop(group, edges) for group in tangles(edges)]


def tangles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # recursive: the graph is a few hundred modules deep at most
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups)


def _one_loop(group: list[str], edges: dict[str, dict[str, int]]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = group[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges.get(node, {})):
                if target == start:
                    return paths[node] + [start]
                if target in group and target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    return group


def between_layers(edges: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The import graph of the layers (named by their first package): extract -> warehouse, ..."""
    by_layer: dict[str, dict[str, int]] = {}
    for source, targets in edges.items():
        source_layer = layer_of(source)
        if source_layer is None:
            continue
        for target in targets:
            target_layer = layer_of(target)
            if target_layer is not None and target_layer != source_layer:
                by_layer.setdefault(LAYERS[source_layer][0], {})[LAYERS[target_layer][0]] = 0
    return by_layer


def _described(edges: dict[str, dict[str, int]]) -> list[str]:
    """Each loop, and every module tangled in it."""
    return [f"{' -> '.join(_one_loop(group, edges))} (all that import each other: {', '.join(group)})"
            for group in tangles(edges)]


def test_every_module_has_a_layer():
    unplaced = [m for m in modules() if layer_of(m) is None]
    assert not unplaced, f"modules in no layer (add their package to LAYERS): {unplaced}"


def test_the_layers_are_the_packages_pyproject_installs():
    installed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    layered = [prefix for layer in LAYERS for prefix in layer if prefix not in ("dags", "bench", "extract.docs", "extract.declared")]
    assert installed == layered, "pyproject.toml's packages, in the order of LAYERS"


def test_no_module_imports_one_that_imports_it_back():
    found = _described(graph())
    assert not found, "import loops:\n" + "\n".join(found)


def test_imports_run_down_the_layers_only():
    edges = graph()
    found = upward_imports(edges) + _described(between_layers(edges))
    assert not found, "imports against the layer order:\n" + "\n".join(found)


def test_the_checks_see_a_loop_and_an_upward_import(tmp_path):
    """The checks themselves, on a small made-up tree: a loop through a lazy import, and a
    lower layer importing a higher one."""
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "warehouse" / "__init__.py").write_text("")
    (tmp_path / "warehouse" / "a.py").write_text("from . import b\n")
    (tmp_path / "warehouse" / "b.py").write_text("def f():\n    from warehouse.c import x\n")
    (tmp_path / "warehouse" / "c.py").write_text("import warehouse.a\nfrom pipeline import nightly\n")
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "__init__.py").write_text("")
    (tmp_path / "pipeline" / "nightly.py").write_text("import json\n")
    (tmp_path / "pipeline" / "retention.py").write_text("from warehouse import a\n")
    edges = graph(tmp_path)
    assert loops(edges) == [["warehouse.a", "warehouse.b", "warehouse.c", "warehouse.a"]]
    assert upward_imports(edges) == [
        "warehouse.c (line 2) imports pipeline.nightly: layer 'warehouse' is below 'pipeline'"]
    assert loops(between_layers(edges)) == [["pipeline", "warehouse", "pipeline"]]
