"""Every notebook runs top to bottom, offline, on the bundled data (nbclient), and leads to the
deliverables: notebook 04 writes the same report folder as ``coverage-planner audit``."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(v for v in out.get("data", {}).values() if isinstance(v, str))
    return "\n".join(parts)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "clear outputs"
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")  # noqa: T201
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    # everything a notebook writes goes under output/, which git ignores
    assert {p.name for p in tmp_path.iterdir()} <= {"output"}
    text = _outputs_text(nb)
    # tables as the reports show them: Chinese headers, shares as percentages
    if "display_table(" in "".join(c.source for c in nb.cells):
        assert "<th" in text
        assert "%" in text
    if path.stem.startswith("04_"):
        _check_report_folder(tmp_path, text)


def _check_report_folder(tmp_path: Path, text: str) -> None:
    """Notebook 04 writes the same report folder as ``coverage-planner audit``."""
    run = tmp_path / "output" / "hangzhou-central"
    for name in ("summary.html", "report.xlsx", "map.html", "report.gpkg", "summary.json"):
        assert (run / name).stat().st_size > 1000, name
    districts = sorted(p for p in run.iterdir() if p.is_dir())
    assert len(districts) == 5  # the sample's five illustrative zones
    for folder in districts:
        assert {"summary.html", "report.xlsx", "map.html"} <= {p.name for p in folder.iterdir()}
        page = (folder / "summary.html").read_text(encoding="utf-8")
        assert 'href="../summary.html"' in page
    assert "覆盖率" in text  # the workbook's Chinese header, in the notebook's table
    assert str(run.relative_to(tmp_path) / "summary.html") in text  # where to look first


def test_notebook_output_is_ignored_by_git() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(  # noqa: S603 (fixed arguments)
        [git, "check-ignore", "-q", "notebooks/output/summary.html"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


def test_readme_lists_every_notebook() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Notebooks", 1)[1].split("\n## ", 1)[0]
    for path in NOTEBOOKS:
        assert f"`{path.stem}`" in section, path.stem


def test_sample_and_network_repr_is_one_line(grid_net, liechtenstein) -> None:
    # the 5 × 5 grid: 25 nodes, 2 × 5 × 4 = 40 edges of 300 m, 12 km in all
    assert repr(grid_net) == (
        "Network('graph': walk at 4.5 km/h, 25 nodes, 40 segments, 12.0 km, 1 component(s))"
    )
    text = repr(liechtenstein)
    assert "\n" not in text
    assert len(text) < 250
    assert text.startswith("Sample('liechtenstein': ")
    assert f"{len(liechtenstein.communities)} communities" in text
    assert repr(liechtenstein.network) in text
