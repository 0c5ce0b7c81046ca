"""The README's two set-up commands and CI stay in step; coverage.py is never a dependency."""

from __future__ import annotations

import functools
import operator
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:bash|sh)\n(.*?)```", text, re.DOTALL)
    assert block, "README must open with a code block of set-up commands"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_two_commands_and_ci_runs_the_second():
    cmds = _readme_commands()
    assert len(cmds) == 2
    assert "coverage-planner audit" in cmds[0]
    assert "pytest" in cmds[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert cmds[1] in ci.splitlines()


def test_no_coverage_py_anywhere():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = meta["project"]["dependencies"] + functools.reduce(
        operator.iadd, meta["project"]["optional-dependencies"].values(), []
    )
    names = {re.split(r"[<>=\[; ]", d)[0].lower() for d in deps}
    assert "coverage" not in names
    assert "pytest-cov" not in names
    assert meta["project"]["name"] != "coverage"
    assert "coverage" not in meta["project"]["scripts"]


# --------------------------------------------------------------------------------------------
# the shape of the package: no import cycles, no reaching into another module's privates


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / "coverage").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, name: str) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) of every import in a file, functions included."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }  # imports for type checkers only never run: they cannot make a cycle
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("coverage")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base.startswith("coverage"):
                found.append((base, [a.name for a in node.names]))
    return found


def _owner(module: str, known: dict[str, Path]) -> str:
    """The module itself, or the nearest package above it that is known."""
    while module not in known and "." in module:
        module = module.rpartition(".")[0]
    return module


def test_no_import_cycles_between_modules():
    """Function-level imports count: a cycle hidden in a function is still a cycle (imports
    for type checkers only do not run and do not count)."""
    known = _modules()
    graph = {m: {_owner(i, known) for i, _ in _imports(p, m)} - {m} for m, p in known.items()}
    # a package's __init__ imports its own parts; the parts never import the __init__
    for m in list(graph):
        graph[m] = {d for d in graph[m] if not (d.startswith(m + ".") or m.startswith(d + "."))}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_no_module_takes_another_modules_private_names():
    """``from coverage.x import _y`` is only allowed within one package (x and the importer
    share a package whose private parts they are)."""
    known = _modules()
    offending = []
    sources = {**known, **{f"bench.{p.stem}": p for p in (ROOT / "bench").glob("*.py")}}
    for name, path in sources.items():
        for module, names in _imports(path, name):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                offending.append((name, module, private))
    assert offending == []


def test_the_top_level_exports_resolve_and_stay_light():
    import subprocess
    import sys

    code = (
        "import sys, coverage; heavy = {'folium', 'matplotlib', 'openpyxl'} & set(sys.modules); "
        "assert not heavy, heavy; "
        "missing = [n for n in coverage.__all__ if getattr(coverage, n, None) is None]; "
        "assert not missing, missing; "
        "import coverage.audit, coverage.isochrones; "
        "assert type(coverage.audit).__name__ == 'module'; "
        "assert set(coverage.__all__) <= set(dir(coverage))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)  # noqa: S603
