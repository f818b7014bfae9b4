"""The layers: every module's imports (read with ``ast``, those inside functions included) form no cycle
and never reach a higher layer; only the store imports the SQL libraries.

Bottom to top; a module may import its own layer or a lower one, never a higher one::

    L0  notifications.i18n, states.*
    L1  notifications.*  (message, channels, wiring, render, documents, timeline, visible)
    L2  workflow.errors, workflow.clock, workflow.settings, workflow.records
    L3  workflow.rules.*          pure: no I/O, no store
    L4  workflow.store.*          the only modules importing sqlalchemy / sqlmodel / sqlite3 / psycopg / alembic
    L5  workflow.context
    L6  workflow.services.*
    L7  workflow.formats.*
    L8  workflow.api, workflow (the package), workflow.demo
    L9  commands.*, web.*
    L10 cli
    L11 tools.*                   maintenance (the catalog): reads the whole CLI
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOPS = ("cli.py", "commands", "web", "workflow", "states", "notifications", "tools")
SQL = {"sqlalchemy", "sqlmodel", "sqlite3", "psycopg", "alembic"}

# (module or package prefix, layer): the longest prefix that names a module decides.
LAYERS = (
    ("notifications.i18n", 0), ("states", 0),
    ("notifications", 1),
    ("workflow.errors", 2), ("workflow.clock", 2), ("workflow.settings", 2), ("workflow.records", 2),
    ("workflow.rules", 3),
    ("workflow.store", 4),
    ("workflow.context", 5),
    ("workflow.services", 6),
    ("workflow.formats", 7),
    ("workflow.api", 8), ("workflow.demo", 8), ("workflow", 8),
    ("commands", 9), ("web", 9),
    ("cli", 10),
    ("tools", 11),
)
# The modules of the package ``workflow`` itself that no row above places: none may be left out.
PLACED_ALONE = {"workflow"}

# What the layers forbid and the tree still does, being removed now: "importer -> imported" (an
# upward import, a cycle's edge, or "module -> sqlalchemy" outside the store). Empty it as they go:
# test_pending_is_still_true fails for an entry that no longer holds.
PENDING: set[str] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for top in TOPS:
        path = ROOT / top
        files = [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
        for f in files:
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if "templates" in parts or "locale" in parts:
                continue
            found[".".join(parts)] = f
    return found


MODULES = _modules()


def layer(module: str) -> int:
    for prefix, level in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return level
    raise AssertionError(f"{module} is in no layer: place it in LAYERS")


def _imports(module: str, path: Path) -> tuple[set[str], set[str]]:
    """(project modules, SQL libraries) that ``module`` imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    ours, sql = set(), set()

    def note(name: str) -> None:
        if name.split(".")[0] in SQL:
            sql.add(name.split(".")[0])
        while name and name not in MODULES:  # "a.b.name" -> the module "a.b"
            name = name.rpartition(".")[0]
        if name and name != module:
            ours.add(name)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                note(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                note(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return ours, sql


GRAPH: dict[str, set[str]] = {}
SQL_USERS: dict[str, set[str]] = {}
for _name, _path in MODULES.items():
    GRAPH[_name], SQL_USERS[_name] = _imports(_name, _path)


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
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
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def violations() -> set[str]:
    """Every edge the layers forbid, as "importer -> imported"."""
    out = set()
    for src, targets in GRAPH.items():
        for dst in targets:
            if layer(src) < layer(dst):
                out.add(f"{src} -> {dst}")
    for component in _cycles():
        members = set(component)
        out |= {f"{src} -> {dst}" for src in component for dst in GRAPH[src] if dst in members}
    for src, libraries in SQL_USERS.items():
        if libraries and not (src == "workflow.store" or src.startswith("workflow.store.")):
            out |= {f"{src} -> {lib}" for lib in libraries}
    return out


def test_every_module_has_a_layer():
    unplaced = [m for m in MODULES if m.startswith("workflow") and m not in PLACED_ALONE
                and not any(m == p or m.startswith(p + ".") for p, _ in LAYERS if p != "workflow")]
    assert unplaced == [], "place these modules in a layer (LAYERS)"
    for m in MODULES:
        layer(m)


def test_no_cycle_and_no_upward_import():
    new = sorted(violations() - PENDING)
    assert new == [], "imports the layers forbid (a cycle, an upward import, or SQL outside workflow/store/):\n  " + \
        "\n  ".join(f"{edge}  (L{layer(edge.split(' -> ')[0])} -> {_where(edge.split(' -> ')[1])})" for edge in new)


def _where(target: str) -> str:
    return target if target in SQL else f"L{layer(target)}"


def test_pending_is_still_true():
    """An entry of PENDING that the tree no longer does is removed from PENDING, so it stays removed."""
    assert sorted(PENDING - violations()) == [], "fixed: remove these from PENDING in tests/test_layers.py"


@pytest.mark.parametrize("edge", ["workflow.store.engine -> commands.text", "states.machine -> workflow.api",
                                  "notifications.render -> workflow.errors"])
def test_an_upward_import_is_named(edge, monkeypatch):
    """The check itself: an import from a lower layer to a higher one is reported by its edge."""
    src, dst = edge.split(" -> ")
    monkeypatch.setitem(GRAPH, src, GRAPH[src] | {dst})
    assert edge in violations()


def test_a_cycle_is_named(monkeypatch):
    monkeypatch.setitem(GRAPH, "commands.text", GRAPH["commands.text"] | {"commands.output"})
    assert "commands.text -> commands.output" in violations()  # commands.output imports commands.text
