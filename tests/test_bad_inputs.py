"""Every file of the bad-input corpus gets its documented answer, and nothing else.

The corpus lives in ``tests/data/bad/``; ``make_bad.py`` there writes it and holds the list of
cases (:data:`CASES`), from which its README table is generated too. Each case names the
error or warning class and a fragment of the message (file, column, rows); files that must be
read correctly name values to check. No case may end in anything but the project's own errors
(:class:`~coverage._errors.CoverageError` subclasses) or its documented warnings.

The coordinate-system check of :mod:`coverage.checks` has its own tests in ``test_checks.py``;
here it only answers its corpus case.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from coverage._errors import (
    CoverageError,
    CrsError,
    DuplicateIdError,
    InputDataError,
    MissingColumnError,
    NetworkError,
)
from coverage.audit import CoordinateSystemWarning, CoverageWarning, audit
from coverage.checks import check_coord_system
from coverage.io import read_communities, read_halls
from coverage.network import load_network
from coverage.testing import grid_communities, grid_halls

if TYPE_CHECKING:
    from coverage.network import Network

BAD = Path(__file__).resolve().parent / "data" / "bad"


def _load_make_bad() -> Any:
    spec = importlib.util.spec_from_file_location("make_bad", BAD / "make_bad.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_bad", module)  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


make_bad = _load_make_bad()
CASES = make_bad.CASES

CLASSES: dict[str, type[BaseException | Warning]] = {
    "InputDataError": InputDataError,
    "MissingColumnError": MissingColumnError,
    "CrsError": CrsError,
    "DuplicateIdError": DuplicateIdError,
    "NetworkError": NetworkError,
    "UserWarning": UserWarning,
    "CoverageWarning": CoverageWarning,
}


def pattern(fragment: str) -> str:
    """The fragment as a regex: literal text, `` … `` standing for any text."""
    return "(?s)" + ".*".join(re.escape(part) for part in fragment.split(" … "))


# --- the corpus itself --------------------------------------------------------------------------


def test_corpus_files_readme_and_cases_agree():
    on_disk = {p.name for p in BAD.iterdir() if p.is_file()} - {"README.md", "make_bad.py"}
    assert on_disk == {c.file for c in CASES}
    assert len(CASES) >= 30
    assert len({c.file for c in CASES}) == len(CASES)
    for path in BAD.iterdir():
        assert path.stat().st_size < 50_000, path.name
    # the README table is generated from the cases: rerun make_bad.py after changing them
    assert (BAD / "README.md").read_text(encoding="utf-8") == make_bad.readme()
    for case in CASES:
        assert case.expected == "none" or case.expected in CLASSES, case.file
        assert bool(case.fragment) != (case.expected == "none"), case.file
        assert bool(case.check) == (case.expected == "none"), case.file


def test_corpus_covers_the_issue():
    files = " ".join(c.file for c in CASES)
    for topic in (
        "misspelt", "empty", "header_only", "gbk", "gb18030", "several_sheets", "merged_header",
        "swapped", "far_from_network", "gcj02", "duplicate_ids", "null_population",
        "negative_population", "nonnumeric_population", "kind_variants", "kind_suburban",
        "invalid_polygon", "empty_geometries", "no_prj", "mixed_crs", "polygons", "multipoint",
        "halls_off_network", "network_truncated.osm.pbf", "network_csv_named.graphml",
        "network_empty.osm",
    ):  # fmt: skip
        assert topic in files, topic


# --- every case ----------------------------------------------------------------------------------


def _run(case: Any, request: pytest.FixtureRequest) -> Any:
    path = BAD / case.file
    if case.use == "communities":
        return read_communities(path)
    if case.use == "halls":
        return read_halls(path)
    if case.use == "network":
        return load_network(path)
    grid_net: Network = request.getfixturevalue("grid_net")
    if case.use == "audit-communities":
        return audit(read_communities(path), grid_halls(), grid_net)
    if case.use == "audit-halls":
        return audit(grid_communities(), read_halls(path), grid_net)
    if case.use == "gcj02-check":
        # what audit() is to do with the detector's message
        hangzhou_net: Network = request.getfixturevalue("hangzhou_net")
        communities = read_communities(path)
        message = check_coord_system(communities.geometry, hangzhou_net).message()
        if message is not None:
            warnings.warn(message, CoordinateSystemWarning, stacklevel=1)
        return communities
    msg = f"unknown use {case.use!r}"
    raise AssertionError(msg)


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_bad_input_gets_its_answer(case, request):
    expected = CLASSES.get(case.expected)
    if expected is None:
        result = _run(case, request)
        for column, values in case.check.items():
            assert result[column].tolist() == values
        assert (result.geom_type == "Point").all()
        assert result.crs.to_epsg() == 4326
    elif issubclass(expected, Warning):
        with pytest.warns(expected, match=pattern(case.fragment)) as record:
            _run(case, request)
        assert all(issubclass(w.category, UserWarning) for w in record)
    else:
        with pytest.raises(expected, match=pattern(case.fragment)) as info:
            _run(case, request)
        assert type(info.value) is expected
        assert isinstance(info.value, CoverageError)
        assert isinstance(info.value, ValueError)


def test_fragments_name_file_and_rows():
    """Loader messages name the file and the rows (or features, or ids) they are about."""
    for case in CASES:
        if case.expected == "none" or case.use.startswith("audit"):
            continue
        assert case.file in case.fragment, case.file
        if case.use == "network":
            continue
        if re.search(r"value\(s\)|geometries|duplicated|points (outside|at)", case.fragment):
            assert re.search(r"\((rows?|features?) \d", case.fragment), case.file


def test_polygons_keep_their_area():
    gdf = read_communities(BAD / "communities_polygons.geojson")
    # 0.001° squares at 30.25°N: about 96 m × 111 m
    assert np.allclose(gdf["area_m2"], 96.2 * 110.9, rtol=0.02)


def test_same_answers_in_memory():
    """A frame in memory gets the same problems, its rows named by index."""
    frame = pd.read_csv(BAD / "communities_kind_suburban.csv", encoding="utf-8-sig", dtype=str)
    with pytest.raises(
        InputDataError,
        match=r"^<DataFrame of communities>: column 'kind' \(header '类型'\) has 2 unknown "
        r"value\(s\) 'suburban', '郊区' \(index 1, 3; community_id: 'B', 'D'\)",
    ):
        read_communities(frame)
