"""Lists import cycles among the project's own modules; exits 1 if any.

Every import counts, at the top of a module or inside a function: an import
moved into a function hides a cycle from Python, not from the reader. One
exception, by design: a Celery ``tasks`` module imports the services it
wraps inside the task bodies, so that the services can import their tasks
at the top (STYLE.md). Tests and migrations are left out. Run:
``python .ci/import_cycles.py``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agreements", "api", "reports", "slaportal")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).parts
            if "tests" in rel or "migrations" in rel:
                continue
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    targets = set()
    tree = ast.parse(path.read_text(), str(path))
    nodes = (
        [
            n
            for stmt in tree.body
            for n in ast.walk(stmt)
            if not isinstance(stmt, ast.FunctionDef)
        ]
        if name.endswith(".tasks")
        else ast.walk(tree)
    )
    for node in nodes:
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            stem = ".".join([*base, *([node.module] if node.module else [])])
            candidates = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
        else:
            continue
        for candidate in candidates:
            # The deepest project module the name points at.
            parts = candidate.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts:
                targets.add(".".join(parts))
    targets.discard(name)
    return targets


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
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

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    modules = project_modules()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    # A package's __init__ importing its own submodules is how a package
    # re-exports; the submodules importing the package's names back is not a
    # cycle of meaning, so edges into a package's own __init__ from inside it
    # are left out.
    for name in graph:
        graph[name] = {
            target
            for target in graph[name]
            if not (
                name.startswith(target + ".")
                and (modules[target].name == "__init__.py")
            )
        }
    found = cycles(graph)
    for component in found:
        print("import cycle:", " <-> ".join(component))
    print(
        f"{len(modules)} modules, {sum(map(len, graph.values()))} imports, "
        f"{len(found)} import cycles"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
