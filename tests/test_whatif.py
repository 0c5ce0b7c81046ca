"""The what-if map: its rows on the hand grid, its figures against audit(), the page in chromium.

The browser test needs Debian's chromium and playwright (as tests/test_browser.py); every
request that is not a file is aborted and counted.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tomllib
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage.audit import audit
from coverage.engine import nearest_facility, snap_many
from coverage.siting import candidate_sites
from coverage.testing import grid_communities, grid_halls, grid_points
from coverage.whatif import proposal_candidates, scenario_toml, whatif_data, whatif_map

EVIL = "<img src=x onerror=alert(1)>"
HALL_COLUMNS = [
    "hall_id", "communities_served", "communities_covered", "population_served",
    "households_served", "floor_area_m2", "required_floor_area_m2", "floor_area_gap_m2",
]  # fmt: skip


def _grid_candidates() -> gpd.GeoDataFrame:
    """P1 at node (2, 2) (community B's spot), P2 at node (4, 0) (north-west corner)."""
    return gpd.GeoDataFrame(
        {"site_id": ["P1", "P2"], "name": ["候选 1", EVIL], "floor_area_m2": [300.0, np.nan]},
        geometry=grid_points([(2, 2), (4, 0)]),
        crs=4326,
    )


def _audit(communities, data, is_open, network):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the coordinate check of a tiny grid)
        return audit(communities, data.halls(is_open), network)


def test_rows_on_the_grid_are_every_site_by_time(grid_net):
    data = whatif_data(grid_communities(), grid_halls(), grid_net, _grid_candidates())
    rows = [
        [
            (data.sites["site_id"][s], round(t / 60, 6))
            for s, t in zip(
                data.site[data.row_ptr[i] : data.row_ptr[i + 1]],
                data.time_s[data.row_ptr[i] : data.row_ptr[i + 1]],
                strict=True,
            )
        ]
        for i in range(5)
    ]
    # by hand: 4 minutes per 300 m edge, Manhattan paths on the grid
    # (row, col) positions: A (0, 1), B (2, 2), C (2, 2.5), D (3, 0), E (0.5, 4);
    # H1 (0, 0), H2 (4, 4), P1 (2, 2), P2 (4, 0); equal times in site order H1, H2, P1, P2
    assert rows == [
        [("H1", 4.0), ("P1", 12.0), ("P2", 20.0), ("H2", 28.0)],
        [("P1", 0.0), ("H1", 16.0), ("H2", 16.0), ("P2", 16.0)],
        [("P1", 2.0), ("H2", 14.0), ("H1", 18.0), ("P2", 18.0)],
        [("P2", 4.0), ("H1", 12.0), ("P1", 12.0), ("H2", 20.0)],
        [("H2", 14.0), ("P1", 14.0), ("H1", 18.0), ("P2", 30.0)],
    ]
    # within the circle (urban 15, rural 20 minutes)
    assert data.within.tolist() == [2, 1, 4, 3, 3]
    assert data.centi_min[: data.row_ptr[1]].tolist() == [400, 1200, 2000, 2800]


def test_figures_on_the_grid_by_hand(grid_net):
    data = whatif_data(grid_communities(), grid_halls(), grid_net, _grid_candidates())
    districts, halls = data.figures(data.mask(["H2"]))
    # H2 alone: A 28, B 16, D 20 min (West, urban, 15 min: none covered); C, E 14 (rural)
    assert districts["covered"].tolist() == [2, 0, 2]
    assert districts["median_travel_time_min"].tolist() == [14.0, 20.0, 16.0]
    assert districts["max_travel_time_min"].tolist() == [14.0, 28.0, 28.0]
    # every household (400+800+200+600+320 = 2,320) at 30 m² per 100: 696 m², 200 m² built
    assert halls["households_served"].tolist() == [2320.0]
    assert halls["required_floor_area_m2"].tolist() == [696.0]
    assert halls["floor_area_gap_m2"].tolist() == [496.0]
    _, halls = data.figures(data.mask(["H1", "P1"]))
    # P1 takes B (0 min), C (2) and E (14; H1 18); H1 keeps A and D (12; P1 12 too: a tie)
    assert halls["communities_served"].tolist() == [2, 3]
    assert halls["households_served"].tolist() == [1000.0, 1320.0]


def test_figures_equal_the_audit_for_every_set_of_sites(grid_net):
    com = grid_communities()
    data = whatif_data(com, grid_halls(), grid_net, _grid_candidates())
    ids = data.sites["site_id"].tolist()
    for k in range(len(ids) + 1):
        for chosen in itertools.combinations(ids, k):
            is_open = data.mask(chosen)
            districts, halls = data.figures(is_open)
            result = _audit(com, data, is_open, grid_net)
            pd.testing.assert_frame_equal(districts, result.districts)
            expected = pd.DataFrame(result.halls)[HALL_COLUMNS].reset_index(drop=True)
            pd.testing.assert_frame_equal(halls[HALL_COLUMNS], expected, check_dtype=False)


def test_matrix_times_equal_the_nearest_pass(hangzhou):
    """travel_time_matrix's time to a row's first hall is nearest_facility's, to the bit."""
    net = hangzhou.network
    c_snap, h_snap = snap_many(net, [hangzhou.communities.geometry, hangzhou.halls.geometry])
    nearest = nearest_facility(net, c_snap, h_snap)
    data = whatif_data(hangzhou.communities, hangzhou.halls, net)
    entry, site = data.nearest(data.mask())
    got = entry >= 0
    assert np.array_equal(got, np.isfinite(nearest.time_s))
    assert np.array_equal(data.time_s[entry[got]], nearest.time_s[got])  # exact, not close
    assert np.array_equal(site[got], nearest.facility[got])
    assert data.tied == 0


def test_scenario_toml_names_the_switched_sites(grid_net):
    data = whatif_data(grid_communities(), grid_halls(), grid_net, _grid_candidates())
    text = scenario_toml(data, data.mask(["H2", "P1", "P2"]))
    parsed = tomllib.loads(text)
    assert parsed["coord_system"] == "wgs84"
    assert parsed["halls"]["close"] == ["H1"]
    added = parsed["halls"]["add"]
    assert [a["hall_id"] for a in added] == ["P1", "P2"]
    assert added[0]["floor_area_m2"] == 300  # P2's area is unknown: no key
    assert "floor_area_m2" not in added[1]
    assert added[1]["name"] == EVIL
    p1 = data.sites.set_index("site_id").loc["P1"]
    assert (added[0]["lon"], added[0]["lat"]) == (round(p1["lon"], 7), round(p1["lat"], 7))


def test_page_holds_names_as_data_never_markup(grid_net, tmp_path):
    com = grid_communities()
    com.loc[0, "name"] = EVIL
    data = whatif_data(com, grid_halls(), grid_net, _grid_candidates())
    path = whatif_map(tmp_path / "w.html", data, basemap="blank")
    page = path.read_text(encoding="utf-8")
    assert "<img" not in page  # only as \\u003cimg inside the JSON
    assert '"\\u003cimg src=x onerror=alert(1)\\u003e"' in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    again = whatif_map(tmp_path / "again.html", data, basemap="blank")
    assert again.read_text(encoding="utf-8") == page  # the same data give the same page


def test_proposal_candidates_take_the_needed_floor_area():
    proposals = gpd.GeoDataFrame(
        {
            "site_id": ["N:1", "N:2"],
            "floor_area_needed_m2": [450.0, 900.0],
            "floor_area_m2": [np.nan, 600.0],
            "description_zh": ["古翠路旁", "学院路旁"],
        },
        geometry=grid_points([(0, 0), (1, 1)]),
        crs=4326,
    )
    more = gpd.GeoDataFrame(
        {"site_id": ["N:2", "U:1"]}, geometry=grid_points([(1, 1), (2, 2)]), crs=4326
    )
    out = proposal_candidates(proposals, more)
    assert out["site_id"].tolist() == ["N:1", "N:2", "U:1"]
    assert out["name"].tolist() == ["古翠路旁", "学院路旁", "U:1"]
    assert out["floor_area_m2"].tolist()[:2] == [450.0, 600.0]


# ---- the page in a real browser -------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def hangzhou_page(hangzhou, tmp_path_factory):
    net = hangzhou.network
    com = hangzhou.communities.copy()
    com.loc[com.index[0], "name"] = EVIL + " 恶意名称"
    cand = candidate_sites(net, spacing_m=300).iloc[:500].copy()
    cand["name"] = [f"候选点 {i + 1}" for i in range(len(cand))]
    cand.loc[cand.index[1], "name"] = EVIL
    data = whatif_data(com, hangzhou.halls, net, cand)
    path = whatif_map(tmp_path_factory.mktemp("whatif") / "whatif.html", data, basemap="blank")
    return path, data, com


def _cells(page, table):
    return page.evaluate(
        f"""Array.from(document.querySelectorAll('#{table} tbody tr')).map(tr =>
        Array.from(tr.querySelectorAll('td')).map(td =>
          [td.getAttribute('data-col'), td.getAttribute('data-v'), td.textContent]))"""
    )


def _same(text, want):
    """A cell's exact figure (``String()`` of a double) against the audit's value."""
    got = np.nan if text == "NaN" else float(text)
    return (np.isnan(got) and pd.isna(want)) or got == want


def _check_against_audit(districts_cells, hall_cells, result):
    """Every figure of the district table and every hall load, as the cells hold them."""
    expected = result.districts
    assert len(districts_cells) == len(expected)
    for row, (_, want) in zip(districts_cells, expected.iterrows(), strict=True):
        assert [c for c, _, _ in row] == list(expected.columns)
        for col, value, text in row:
            if col == "district":
                assert text == (want[col] if want[col] != "(all)" else "合计")
            else:
                assert _same(value, want[col]), (want["district"], col, value, want[col])
    want_halls = pd.DataFrame(result.halls).reset_index(drop=True)
    assert [r[0][1] for r in hall_cells] == [str(h) for h in want_halls["hall_id"]]
    for row, (_, want) in zip(hall_cells, want_halls.iterrows(), strict=True):
        got = {c: v for c, v, _ in row}
        for col in HALL_COLUMNS[1:]:
            assert _same(got[col], want[col]), (want["hall_id"], col, got[col], want[col])
        adequate = want["floor_area_adequate"]
        assert got["floor_area_adequate"] == (
            "null" if pd.isna(adequate) else str(adequate).lower()
        )


def test_page_in_chromium_equals_the_audit(hangzhou_page, hangzhou):  # noqa: PLR0915
    playwright = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    path, data, com = hangzhou_page
    ids = data.sites["site_id"].tolist()
    existing = data.sites["existing"].to_numpy()
    halls = [i for i, e in zip(ids, existing, strict=True) if e]
    cands = [i for i, e in zip(ids, existing, strict=True) if not e]
    to_close = halls[:4] + halls[30:33]
    to_open = [cands[1], *cands[10:14], cands[200], cands[499]]
    requests, errors, dialogs = [], [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        def route(r):
            requests.append(r.request.url)
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        # two real clicks on the map: a hall off, then on again
        x, y = page.evaluate(f"window.whatif.point({json.dumps(halls[5])})")
        page.mouse.click(x, y)
        after_click = page.evaluate("window.whatif.open()")
        page.mouse.click(x, y)
        back = page.evaluate("window.whatif.open()")
        # a second set first (some halls back on, some candidates off again), then the set
        # whose scenario is copied
        again = to_close[:3] + to_open[:2]
        ms = [page.evaluate(f"window.whatif.toggle({json.dumps(s)})") for s in to_close + to_open]
        ms += [page.evaluate(f"window.whatif.toggle({json.dumps(s)})") for s in again]
        states = [
            (
                page.evaluate("window.whatif.open()"),
                _cells(page, "wi-districts"),
                _cells(page, "wi-halls"),
            )
        ]
        ms += [page.evaluate(f"window.whatif.toggle({json.dumps(s)})") for s in again]
        shown_open = page.evaluate("window.whatif.open()")
        states.append((shown_open, _cells(page, "wi-districts"), _cells(page, "wi-halls")))
        page.click("#wi-copy")
        copied = page.input_value("#wi-toml")
        info = page.evaluate("window.whatif.inspect(0)")
        info_text = page.inner_text("#wi-info")
        hall_names = page.evaluate(
            "Array.from(document.querySelectorAll('#wi-halls td[data-col=name]'))"
            ".map(td => td.textContent)"
        )
        imgs = page.evaluate("document.querySelectorAll('img').length")
        browser.close()

    assert [u for u in requests if not u.startswith("file:")] == []
    assert errors == []
    assert dialogs == []
    assert halls[5] not in after_click
    assert set(back) == set(halls)
    is_open = data.mask(shown_open)
    assert set(shown_open) == (set(halls) - set(to_close)) | set(to_open)
    for opened, districts_cells, hall_cells in states:
        result = _audit(com, data, data.mask(opened), hangzhou.network)
        _check_against_audit(districts_cells, hall_cells, result)
    assert set(states[0][0]) == (set(halls) - set(to_close[3:])) | set(to_open[2:])

    # the copied scenario names exactly the switched sites, and is what Python writes
    parsed = tomllib.loads(copied)
    assert parsed["halls"]["close"] == to_close
    assert [a["hall_id"] for a in parsed["halls"]["add"]] == to_open
    assert copied == scenario_toml(data, is_open)

    # hostile names are text
    assert EVIL in info
    assert EVIL in info_text
    assert EVIL in hall_names
    assert imgs == 0
    # the budget: 100 ms from a click to updated figures
    assert np.median(ms) < 100
