"""The package's modules import each other without a cycle, counting imports inside functions too (a lazy
import hides a cycle from the interpreter, not from a reader)."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "netscore_fast"
NAME = "netscore_fast"


def _modules() -> Dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (a package is its __init__.py)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    out[f"{NAME}._core"] = PACKAGE / "_core.pyi"   # the compiled core: a leaf (its stub imports nothing of ours)
    return out


def _imports(module: str, path: Path, known: Set[str]) -> Set[str]:
    """Modules of the package that `module` imports anywhere in its file (top level, functions, classes)."""
    is_package = path.name == "__init__.py"
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from X import name`: the submodule X.name when there is one, else X itself
            targets = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:   # `import a.b.c` of a non-module name: its module
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def _graph() -> Dict[str, Set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(m, p, known) for m, p in modules.items()}


def _cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One import cycle as [a, b, ..., a], or [] when the graph is acyclic."""
    state: Dict[str, int] = {}   # 1: on the current path, 2: done
    path: List[str] = []

    def visit(m: str) -> List[str]:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        state[m] = 2
        path.pop()
        return []

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return []


def test_the_graph_sees_the_package():
    graph = _graph()
    assert {"netscore_fast", "netscore_fast.profile", "netscore_fast.bulk", "netscore_fast.cli",
            "netscore_fast.cli.profile", "netscore_fast.zoo"} <= set(graph)
    assert "netscore_fast._sources" in graph["netscore_fast.profile"]
    assert "netscore_fast.bulk" in graph["netscore_fast.cli.profile"]      # an import inside a function
    assert "netscore_fast.zoo" in graph["netscore_fast.plots"]             # likewise


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_module_imports_are_acyclic():
    cycle = _cycle(_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_cli_uses_the_public_api_only():
    """cli/ imports no private name of another module (names starting with _, _core aside)."""
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                private = [a.name for a in node.names
                           if a.name.startswith("_") and not a.name.endswith("__")]   # __version__ is public
                assert not private, f"{path.name} imports {private} from {node.module}"
