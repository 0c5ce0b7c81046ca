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
from coverage.cli import EXIT_INPUT, main
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
        "misspelt",
        "empty",
        "header_only",
        "gbk",
        "gb18030",
        "several_sheets",
        "merged_header",
        "swapped",
        "far_from_network",
        "gcj02",
        "duplicate_ids",
        "null_population",
        "negative_population",
        "nonnumeric_population",
        "kind_variants",
        "kind_suburban",
        "invalid_polygon",
        "empty_geometries",
        "no_prj",
        "mixed_crs",
        "polygons",
        "multipoint",
        "halls_off_network",
        "network_truncated.osm.pbf",
        "network_csv_named.graphml",
        "network_empty.osm",
    ):
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
        if re.search(
            r"\bvalues?\b|geometr(y|ies)|duplicated|points? (outside|at)|typo|repeat",
            case.fragment,
        ):
            assert re.search(r"\b(rows?|features?) \d", case.fragment), case.file


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
        r"values 'suburban', '郊区' \(index 1, 3; community_id: 'B', 'D'\)",
    ):
        read_communities(frame)


# --- typos, repeated rows, broken network files (issue 12, items 6 and 7) ------------------------


def test_longitude_typo_is_called_a_typo_exactly():
    with pytest.raises(InputDataError) as info:
        read_communities(BAD / "communities_lon_typo.csv")
    assert str(info.value) == (
        "communities_lon_typo.csv: columns 'lon'/'lat' (headers '经度'/'纬度'): 1 longitude "
        "outside -180..180 among otherwise valid degrees (row 4; community_id: 'C'): "
        "lon=1120.1601071 looks like a typo; correct it in the file"
    )


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (
            (1120.17,),
            (),
            (
                "1 longitude outside -180..180 among otherwise valid degrees (row 2; "
                "community_id: 'K1'): lon=1120.17 looks like a typo; correct it in the file"
            ),
        ),
        (
            (1120.17, 1200.5, 1201.1),
            (),
            (
                "3 longitudes outside -180..180 among otherwise valid "
                "degrees (rows 2, 3, 4; community_id: 'K1', 'K2', 'K3'): lon=1120.17, lon=1200.5, "
                "lon=1201.1 look like typos; correct them in the file"
            ),
        ),
        (
            (),
            (302.5,),
            (
                "1 latitude outside -90..90 among otherwise valid degrees (row 2; "
                "community_id: 'K1'): lat=302.5 looks like a typo"
            ),
        ),
    ],
)
def test_typos_are_counted_in_the_right_number(lon, lat, expected, tmp_path):
    n = 8
    path = tmp_path / "typos.csv"
    pd.DataFrame(
        {
            "编号": [f"K{i + 1}" for i in range(n)],
            "人口": [100] * n,
            "经度": [*lon, *[120.15 + 0.001 * i for i in range(n - len(lon))]],
            "纬度": [*lat, *[30.25 + 0.001 * i for i in range(n - len(lat))]],
        }
    ).to_csv(path, index=False)
    with pytest.raises(InputDataError) as info:
        read_communities(path)
    assert str(info.value).startswith(
        "typos.csv: columns 'lon'/'lat' (headers '经度'/'纬度'): " + expected
    )


def test_projected_rows_are_not_called_typos():
    with pytest.raises(InputDataError) as info:
        read_communities(BAD / "communities_mixed_crs.csv")
    assert "typo" not in str(info.value)
    assert "2 points outside lon -180..180 / lat -90..90" in str(info.value)


def test_repeated_rows_warn_once_naming_rows_and_ids():
    with pytest.warns(CoverageWarning) as record:
        communities = read_communities(BAD / "communities_duplicate_rows.csv")
    assert len(record) == 1
    assert str(record[0].message) == (
        "communities_duplicate_rows.csv: 2 rows repeat the name and coordinates of an earlier "
        "row and are counted again in the communities' totals: rows 2 and 7 ('社区A'; "
        "community_id 'A', 'F'), rows 4 and 8 ('村C'; community_id 'C', 'G'); delete the "
        "repeats if they are copies"
    )
    assert "\n" not in str(record[0].message)
    assert len(communities) == 7  # kept: two communities may share a name and a point


def test_one_repeated_row_without_ids_and_halls(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_text(
        "社区名称,人口,经度,纬度\n湖滨社区,100,120.16,30.25\n龙井村,50,120.12,30.22\n"
        "湖滨社区,100,120.16,30.25\n",
        encoding="utf-8",
    )
    with pytest.warns(CoverageWarning) as record:
        read_communities(path)
    assert [str(w.message) for w in record if "repeat" in str(w.message)] == [
        (
            "名单.csv: 1 row repeats the name and coordinates of an earlier row and is counted "
            "again in the communities' totals: rows 2 and 4 ('湖滨社区'; community_id 'C0001', "
            "'C0003'); delete the repeat if it is a copy"
        )
    ]
    halls = tmp_path / "halls.csv"
    halls.write_text("名称,经度,纬度\nH,120.16,30.25\nH,120.16,30.25\n", encoding="utf-8")
    with pytest.warns(CoverageWarning, match=r"^halls\.csv: 1 row repeats .* halls' totals: "):
        read_halls(halls)


def test_same_name_elsewhere_or_same_point_other_name_is_fine(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(
        "社区名称,类型,人口,经度,纬度\n湖滨社区,社区,100,120.16,30.25\n"
        "湖滨社区,社区,100,120.17,30.25\n龙井村,村,100,120.16,30.25\n",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_communities(path)) == 3


def test_identical_rows_with_one_id_stay_an_error():
    with pytest.raises(DuplicateIdError, match=r"row 4 is an exact copy of an earlier row"):
        read_halls(BAD / "halls_duplicate_ids.csv")


NETWORK_CASES = [c for c in CASES if c.use == "network"]


def _grid_files(tmp_path: Path) -> tuple[Path, Path]:
    communities = grid_communities()
    halls = grid_halls()
    com = tmp_path / "communities.csv"
    hall = tmp_path / "halls.csv"
    pd.DataFrame(
        {
            "编号": communities["community_id"],
            "人口": communities["population"],
            "类型": communities["kind"].map({"urban": "城市", "rural": "农村"}),
            "经度": communities.geometry.x,
            "纬度": communities.geometry.y,
        }
    ).to_csv(com, index=False)
    pd.DataFrame(
        {"编号": halls["hall_id"], "经度": halls.geometry.x, "纬度": halls.geometry.y}
    ).to_csv(hall, index=False)
    return com, hall


@pytest.mark.parametrize("case", NETWORK_CASES, ids=[c.file for c in NETWORK_CASES])
def test_bad_network_file_exits_3_with_one_line(case, tmp_path, capsys):
    com, hall = _grid_files(tmp_path)
    code = main(
        [
            "audit",
            "--communities",
            str(com),
            "--halls",
            str(hall),
            "--network",
            str(BAD / case.file),
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == EXIT_INPUT, err
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {BAD / case.file}: "), err
    assert re.search(pattern(case.fragment), err), err
    assert "internal error" not in err
