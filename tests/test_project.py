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
