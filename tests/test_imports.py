"""The package's import structure: every module imports alone, and no two modules import
each other (directly or round a longer loop).

A cycle works until someone imports the modules in the other order; then a name is missing
from a half-initialised module. The graph below holds every module-level import, those under
`if TYPE_CHECKING:` included (a cycle there is still a layering knot). Imports inside
functions are left out: they run after every module has finished loading, which is what
makes them the tool for reaching upwards lazily (a reader from the format registry).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "logscope"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def module_level_imports(name: str, path: Path) -> set[str]:
    """The logscope modules `name` imports when it loads (or when a type checker reads it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _module_level(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run at import: the body, and the bodies of its if/try blocks."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If):
            out += _module_level(node.body) + _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                out += _module_level(block)
        else:
            out.append(node)
    return out


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_graph_sees_imports_of_every_kind() -> None:
    """The walker itself: plain, from-, relative and TYPE_CHECKING imports all count, a
    function-level import does not, and a planted loop is found."""
    graph = {name: module_level_imports(name, path) for name, path in MODULES.items()}
    assert "logscope.ingest.base" in graph["logscope.ingest.jsonl"]
    assert "logscope.model" in graph["logscope.ingest.base"]
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_logscope_modules() -> None:
    graph = {name: module_level_imports(name, path) for name, path in MODULES.items()}

    assert import_cycles(graph) == []


_ALONE = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "logscope" or m.startswith("logscope.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
"""


def test_each_module_imports_alone() -> None:
    """Each module imported first, before anything else of the package (one fresh
    interpreter; logscope's modules are forgotten before each import, third-party ones are
    kept, which is what makes 88 imports take seconds): a module that only works after some
    other module was loaded fails here."""
    names = sorted(set(MODULES) - {"logscope.__main__"})  # __main__ runs the CLI
    proc = subprocess.run(
        [sys.executable, "-c", _ALONE, *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == ""
