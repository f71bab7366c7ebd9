"""The package layout DESIGN.md describes: no import loops, heavy libraries imported in one place each, small modules.

Imports are read from the source (every `import` and `from ... import`, at the top of a module or inside a
function), so a loop that only closes at run time, inside a function, is caught too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "tipqa"
MAX_LINES = 520


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["tipqa", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imports_of(name: str) -> dict[str, set[str]]:
    """{imported module: names imported from it} for every tipqa module NAME imports; any other module by its
    top-level name (numpy, torch, ...)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rsplit(".", 1)[0]
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(_known(alias.name), set())
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                child = f"{source}.{alias.name}"
                target = child if child in MODULES else source
                found.setdefault(_known(target), set()).add(alias.name)
    return found


def _known(module: str) -> str:
    """The module itself when it is tipqa's, else its top-level package."""
    if module.startswith("tipqa"):
        while module not in MODULES:
            module = module.rsplit(".", 1)[0]
        return module
    return module.split(".")[0]


def _graph() -> dict[str, set[str]]:
    return {name: {m for m in imports_of(name) if m in MODULES and m != name} for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a loop of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_loops():
    assert cycles(_graph()) == [], "modules that import each other in a loop (a shared record belongs below both)"


@pytest.mark.parametrize("library, allowed", [
    ("torch", {"tipqa.encoders.sbert"}),
    ("sentence_transformers", {"tipqa.encoders.sbert"}),
    ("gradio", {"tipqa.web.app", "tipqa.web.speakers"}),
    ("pypdf", {"tipqa.ingest.reports.rich"}),
    ("docx", {"tipqa.ingest.reports.rich"}),
    ("faiss", {"tipqa.store.files", "tipqa.store.generation", "tipqa.store.ann"}),
    ("click", {"tipqa.cli"}),
    ("psycopg", {"tipqa.store.postgres", "tipqa.store.pg_generation", "tipqa.store.pg_write", "tipqa.store.pg_schema"}),
    ("pgvector", {"tipqa.store.postgres", "tipqa.store.pg_generation", "tipqa.store.pg_write"}),
])
def test_heavy_libraries_stay_in_their_module(library, allowed):
    users = {name for name in MODULES if library in imports_of(name)}
    assert users <= allowed, f"{library} imported outside {sorted(allowed)}: {sorted(users - allowed)}"


def test_the_core_needs_no_front_end():
    """Ingestion, the store, answering and speakers never import the assistant, the CLI or the web app."""
    front = {"tipqa.assistant", "tipqa.indexer", "tipqa.cli", "tipqa.evaluate"} | {m for m in MODULES if m.startswith("tipqa.web")}
    for name in MODULES:
        stage = name.split(".")[1] if name.count(".") else ""
        if stage in ("ingest", "store", "answering", "speakers", "language", "encoders"):
            assert not (set(imports_of(name)) & front), f"{name} imports a front end"


def test_modules_stay_small():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by what they do): {long}"


def test_every_stage_says_what_it_takes_and_gives():
    for name, path in MODULES.items():
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 4, f"{name} has no opening line saying what it is"
