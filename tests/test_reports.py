"""Reports for meetings: Excel workbook, GeoPackage, one-page HTML summary (and in a browser).

Figures are checked against the audit on the hand-checkable grid (see coverage.testing: A 4,
B 16, C 14, D 12, E 14 minutes; B alone not covered) and on the bundled Liechtenstein sample.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from coverage._errors import CrsError, InputDataError
from coverage.audit import ALL_DISTRICTS, AuditResult, audit, district_table
from coverage.reports import (
    EN_HEADERS,
    ZH_HEADERS,
    display_table,
    html_summary,
    write_district_reports,
    write_excel,
    write_geopackage,
    write_html_summary,
)
from coverage.testing import grid_communities, grid_halls

if TYPE_CHECKING:
    from pathlib import Path

    from coverage.network import Network
    from coverage.samples import Sample

EVIL = "<script>alert(1)</script>"
SVG = re.compile(r"<svg class=chart .*?</svg>", re.DOTALL)


@pytest.fixture(scope="module")
def grid(grid_net: Network) -> AuditResult:
    com = grid_communities()
    com.loc[com.index[1], "name"] = EVIL  # B: the only community not covered
    com.loc[com.index[3], "name"] = "=1+1"  # D: must stay text in Excel, not a formula
    return audit(com, grid_halls(), grid_net)


@pytest.fixture(scope="module")
def li(liechtenstein: Sample) -> AuditResult:
    return audit(liechtenstein.communities, liechtenstein.halls, liechtenstein.network)


def _proposals() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": ["P1"],
            "members": [["B", "C"]],
            "floor_area_needed_m2": [420.0],
        },
        geometry=grid_communities().geometry.iloc[[1]].to_numpy(),
        crs=4326,
    )


def _sheet(wb: Any, name: str) -> pd.DataFrame:
    rows = list(wb[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


# -- Excel -----------------------------------------------------------------------------------


def test_excel_chinese_headers_and_figures_equal_the_audit(
    grid: AuditResult, tmp_path: Path
) -> None:
    path = write_excel(tmp_path / "报告" / "report.xlsx", grid, proposals=_proposals())
    assert path.exists()
    assert not list(path.parent.glob(".*"))  # no temporary file left behind
    # readable by colleagues as any new file is (not mkstemp's owner-only 0o600)
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "社区", "服务中心", "建议选址", "说明"]

    ws = wb["汇总"]
    header = [c.value for c in ws[1]]
    assert header[:9] == [
        "区县", "社区数", "已覆盖", "未覆盖", "不可达", "覆盖率", "人口", "覆盖人口", "人口覆盖率",
    ]  # fmt: skip
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width >= 6
    table = grid.districts
    for i, row in enumerate(table.itertuples(index=False), start=2):
        name = "合计" if row.district == ALL_DISTRICTS else row.district
        assert ws.cell(i, 1).value == name
        assert ws.cell(i, 2).value == row.communities
        assert ws.cell(i, 3).value == row.covered
        share = ws.cell(i, header.index("覆盖率") + 1)
        assert share.data_type == "n"
        assert share.number_format == "0.0%"
        assert share.value == pytest.approx(row.covered_share)
        minutes = ws.cell(i, header.index("出行时间中位数(分钟)") + 1)
        assert minutes.number_format == "0.0"
        assert minutes.value == pytest.approx(row.median_travel_time_min)
    total_row = len(table) + 1
    assert ws.cell(total_row, 1).font.bold
    assert ws.cell(total_row, 6).value == pytest.approx(0.8)  # 4 of 5 covered


def test_excel_communities_halls_proposals_sheets(grid: AuditResult, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_excel(tmp_path / "r.xlsx", grid, proposals=_proposals()))
    com = _sheet(wb, "社区")
    assert len(com) == len(grid.communities)
    for col in ("社区编号", "名称", "出行时间(分钟)", "标准(分钟)", "状态", "说明"):
        assert col in com.columns
    assert com["出行时间(分钟)"].tolist() == [4.0, 16.0, 14.0, 12.0, 14.0]
    assert com["标准(分钟)"].tolist() == [15, 15, 20, 15, 20]
    assert com["状态"].tolist() == ["已覆盖", "未覆盖", "已覆盖", "已覆盖", "已覆盖"]
    assert com["类型"].tolist() == ["城市", "城市", "农村", "城市", "农村"]
    assert com["名称"].tolist()[1] == EVIL  # text as it is: Excel shows no markup
    # geometry → lon/lat in EPSG:4326
    xy = grid.communities.geometry
    np.testing.assert_allclose(com["经度(WGS-84)"], xy.x, atol=1e-7)
    np.testing.assert_allclose(com["纬度(WGS-84)"], xy.y, atol=1e-7)
    ws = wb["社区"]
    at = {c.value: c.column for c in ws[1]}
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(r, at["出行时间(分钟)"])
        assert cell.data_type == "n"
        assert isinstance(cell.value, int | float)  # xlsx stores 4.0 as 4
        assert not isinstance(cell.value, bool)
        assert cell.number_format == "0.0"
        assert ws.cell(r, at["人口"]).data_type == "n"
    # a name that looks like a formula stays text
    d = ws.cell(5, at["名称"])
    assert d.value == "=1+1"
    assert d.data_type == "s"

    halls = _sheet(wb, "服务中心")
    assert halls["服务中心编号"].tolist() == ["H1", "H2"]
    # booleans read as words in the workbook's language: 是/否
    assert grid.halls["floor_area_adequate"].tolist() == [True, True]
    assert halls["用房面积达标"].tolist() == ["是", "是"]
    assert com["已覆盖"].tolist() == ["是", "否", "是", "是", "是"]  # B alone not covered
    proposals = _sheet(wb, "建议选址")
    assert proposals["服务社区"].tolist() == ["B, C"]
    assert proposals["所需用房面积(㎡)"].tolist() == [420.0]
    about: dict[Any, Any] = dict(_sheet(wb, "说明").itertuples(index=False))
    assert about["城市社区标准(分钟)"] == 15
    assert about["农村社区标准(分钟)"] == 20
    assert about["出行方式"] == "步行"  # the mode in words, not `walk`


def test_excel_cells_of_every_kind(grid: AuditResult, tmp_path: Path) -> None:
    """Dates, text with spaces, missing and infinite numbers: typed cells, never 'nan'."""
    import datetime as dt

    com = grid.communities.assign(
        surveyed=pd.to_datetime(["2024-05-01 09:30"] * 5),
        note=["  leading", "trailing  ", "a & b < c", None, "中文"],
        score=[1.5, np.nan, np.inf, 2.0, -3.0],
    )
    result = AuditResult(com, grid.halls, grid.districts, grid.config, grid.network)
    wb = openpyxl.load_workbook(write_excel(tmp_path / "r.xlsx", result, lang="en"))
    ws = wb["Communities"]
    at = {c.value: c.column for c in ws[1]}

    def column(name: str) -> list[Any]:
        return [ws.cell(r, at[name]).value for r in range(2, ws.max_row + 1)]

    naive = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC).replace(tzinfo=None)
    assert column("Surveyed") == [naive] * 5
    assert column("Note") == ["  leading", "trailing  ", "a & b < c", None, "中文"]
    assert column("Score") == [1.5, None, None, 2.0, -3.0]
    summary = {row[0]: row for row in wb["Summary"].iter_rows(values_only=True)}
    share = summary["District"].index("Rural communities covered (%)")
    # West has no rural community: its rural share is an empty cell, not 0 or "nan"
    assert summary["West"][share] is None
    assert summary["East"][share] == 1


def test_excel_english_headers_read_as_words(grid: AuditResult, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_excel(tmp_path / "r.xlsx", grid, lang="en"))
    assert wb.sheetnames == ["Summary", "Communities", "Halls", "About"]
    summary = _sheet(wb, "Summary")
    assert summary.columns.tolist()[:9] == [
        "District", "Communities", "Covered", "Not covered", "Unreachable",
        "Communities covered (%)", "Population", "Population covered", "Population covered (%)",
    ]  # fmt: skip
    assert summary["District"].tolist() == ["East", "West", ALL_DISTRICTS]
    np.testing.assert_allclose(summary["Communities covered (%)"], grid.districts["covered_share"])
    com = _sheet(wb, "Communities")
    for words in ("Community ID", "Travel time (min)", "Limit (min)", "Over the limit (min)",
                  "Distance to a road (m)", "Longitude (WGS-84)", "Reason"):  # fmt: skip
        assert words in com.columns
    # no header is a raw column name; the Chinese reason is left out of an English workbook
    for ws in wb.worksheets:
        assert not [c.value for c in ws[1] if "_" in str(c.value)], ws.title
    assert "Reason (Chinese)" not in com.columns
    assert com["Travel time (min)"].tolist() == [4.0, 16.0, 14.0, 12.0, 14.0]
    assert com["Status"].tolist() == grid.communities["status"].tolist()
    assert com["Covered"].tolist() == ["Yes", "No", "Yes", "Yes", "Yes"]  # B alone not covered
    about: dict[Any, Any] = dict(_sheet(wb, "About").itertuples(index=False))
    assert about["Travel mode"] == "on foot"
    assert about["Urban limit (min)"] == 15


def test_excel_liechtenstein_matches_the_audit(li: AuditResult, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_excel(tmp_path / "li.xlsx", li))
    summary = _sheet(wb, "汇总").set_index("区县")
    table = li.districts.set_index("district").rename(index={ALL_DISTRICTS: "合计"})
    assert summary.index.tolist() == table.index.tolist()
    for zh, en in (("社区数", "communities"), ("已覆盖", "covered"), ("不可达", "unreachable")):
        assert summary[zh].tolist() == table[en].tolist()
    for zh, en in (
        ("覆盖率", "covered_share"),
        ("人口覆盖率", "population_covered_share"),
        ("最长出行时间(分钟)", "max_travel_time_min"),
    ):
        np.testing.assert_allclose(summary[zh].astype(float), table[en], equal_nan=True)
    com = _sheet(wb, "社区")
    assert len(com) == len(li.communities)
    np.testing.assert_allclose(
        com["出行时间(分钟)"].astype(float), li.communities["travel_time_min"], equal_nan=True
    )
    assert com["社区编号"].tolist() == li.communities["community_id"].tolist()
    assert len(_sheet(wb, "服务中心")) == len(li.halls)


def test_every_known_column_has_a_chinese_and_an_english_header(grid: AuditResult) -> None:
    known = set(grid.districts.columns) | set(grid.communities.columns) | set(grid.halls.columns)
    assert sorted(known - set(ZH_HEADERS) - {"geometry"}) == []
    assert sorted(known - set(EN_HEADERS) - {"geometry"}) == []
    assert set(EN_HEADERS) == set(ZH_HEADERS)  # one list of known columns, two languages


def test_excel_refuses_geometries_without_crs(grid: AuditResult, tmp_path: Path) -> None:
    bad = _proposals().set_crs(None, allow_override=True)
    with pytest.raises(CrsError, match="proposals"):
        write_excel(tmp_path / "r.xlsx", grid, proposals=bad)
    assert not list(tmp_path.iterdir())
    with pytest.raises(InputDataError, match="lang"):
        write_excel(tmp_path / "r.xlsx", grid, lang="fr")  # type: ignore[arg-type]


def test_display_table_reads_as_the_workbook(grid: AuditResult) -> None:
    zh = display_table(grid.communities, "zh")
    assert "geometry" not in zh.data.columns
    assert zh.data["已覆盖"].tolist() == ["是", "否", "是", "是", "是"]  # B alone not covered
    assert zh.data["状态"].tolist()[:2] == ["已覆盖", "未覆盖"]
    assert zh.data["说明"].tolist() == grid.communities["reason_zh"].tolist()
    districts = display_table(grid.districts, "zh").to_html()
    assert "合计" in districts
    assert "66.7%" in districts  # West: 2 of 3 covered
    assert "80.0%" in districts  # all: 4 of 5
    en = display_table(grid.districts, "en")
    assert en.data.columns[:2].tolist() == ["District", "Communities"]
    assert grid.districts["covered_share"].iloc[0] == 1.0  # the frame is not changed


# -- GeoPackage ------------------------------------------------------------------------------


def test_geopackage_layers_and_rows(grid: AuditResult, tmp_path: Path) -> None:
    districts = gpd.GeoDataFrame(
        {"district": ["West", "East"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs=32651,
    )
    iso = gpd.GeoDataFrame(
        {"hall_id": ["H1", "H1"], "minutes": [15, 20]},
        geometry=[shapely.Point(0, 0).buffer(1), shapely.MultiPolygon([shapely.box(0, 0, 2, 2)])],
        crs=32651,
    )
    path = write_geopackage(
        tmp_path / "audit.gpkg", grid, districts=districts, isochrones=iso, proposals=_proposals()
    )
    layers = pyogrio.list_layers(path)
    assert layers[:, 0].tolist() == [
        "communities", "halls", "districts", "isochrones", "proposals", "summary",
    ]  # fmt: skip
    com = gpd.read_file(path, layer="communities", engine="pyogrio")
    assert len(com) == len(grid.communities)
    assert com.crs.to_epsg() == 4326
    assert com["community_id"].tolist() == grid.communities["community_id"].tolist()
    assert com["travel_time_min"].tolist() == grid.communities["travel_time_min"].tolist()
    assert com["name"].tolist()[1] == EVIL
    assert com.geometry.geom_equals_exact(
        grid.communities.geometry.reset_index(drop=True), 1e-9
    ).all()
    halls = gpd.read_file(path, layer="halls", engine="pyogrio")
    assert len(halls) == len(grid.halls)
    assert halls["on_network"].tolist() == [True, True]
    d = gpd.read_file(path, layer="districts", engine="pyogrio").set_index("district")
    assert d.crs.to_epsg() == 32651
    assert d.loc["West", "communities"] == 3
    assert d.loc["East", "covered_share"] == 1.0
    assert len(gpd.read_file(path, layer="isochrones", engine="pyogrio")) == 2
    assert len(gpd.read_file(path, layer="proposals", engine="pyogrio")) == 1
    summary = pyogrio.read_dataframe(path, layer="summary")
    assert summary["district"].tolist() == grid.districts["district"].tolist()
    assert [p.name for p in tmp_path.iterdir()] == ["audit.gpkg"]


def test_geopackage_liechtenstein_rows_in_equal_rows_out(
    li: AuditResult, liechtenstein: Sample, tmp_path: Path
) -> None:
    path = write_geopackage(tmp_path / "li.gpkg", li, districts=liechtenstein.districts)
    info = {name: pyogrio.read_info(path, layer=name)["features"] for name in
            pyogrio.list_layers(path)[:, 0]}  # fmt: skip
    assert info == {
        "communities": len(li.communities),
        "halls": len(li.halls),
        "districts": len(liechtenstein.districts),
        "summary": len(li.districts),
    }
    # written again over an existing file: replaced as a whole, not appended to
    write_geopackage(path, li)
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["communities", "halls", "summary"]
    assert pyogrio.read_info(path, layer="communities")["features"] == len(li.communities)


def test_geopackage_refuses_tables_without_geometry(grid: AuditResult, tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="proposals: a GeoDataFrame"):
        write_geopackage(tmp_path / "a.gpkg", grid, proposals=pd.DataFrame({"a": [1]}))
    assert not list(tmp_path.iterdir())


# -- HTML summary ----------------------------------------------------------------------------


def _svgs(text: str) -> list[str]:
    return SVG.findall(text)


def test_html_summary_figures_escaping_and_self_contained(
    grid: AuditResult, tmp_path: Path
) -> None:
    maps = {"全部": "map.html", "示意片区A": "示意片区A/map.html", "<b>x</b>": "a b/map.html"}
    path = write_html_summary(
        tmp_path / "summary.html", grid, title="网格 <i>测试</i> & co", maps=maps
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # escaped, never markup
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<i>" not in text
    assert "网格 &lt;i&gt;测试&lt;/i&gt; &amp; co" in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    # the figures: 5 communities, 4 covered (80.0%), population 3,800 of 5,800 (65.5%)
    h = grid.headline
    cards = text.split("class=cards>")[1].split("</section>")[0]
    assert '<div class="value">5</div>' in cards
    assert f"{h['covered_share']:.1%}" == "80.0%"
    assert '<div class="value">80.0%</div>' in cards
    assert f"{h['population_covered_share']:.1%}" == "65.5%"
    assert '<div class="value">65.5%</div>' in cards
    assert "覆盖 3,800 人 / 共 5,800 人" in cards
    assert f'<div class="value">{h["unreachable"]}</div>' in cards
    # halls below the floor-area standard, as the audit counts them
    below = int((grid.halls["floor_area_adequate"] == False).sum())  # noqa: E712
    assert f'<div class="value">{below}</div><div class="sub">共 2 个服务中心' in cards
    assert "城市社区 15 分钟、农村社区 20 分钟" in text
    assert "步行" in text
    # worst-served first: B (16 min, 1 over the 15-min limit)
    worst = text.split("class=worst")[1]
    assert worst.index("&lt;script&gt;") < worst.index("=1+1") < worst.index("社区A")
    # links to the maps, percent-encoded and relative
    assert 'href="map.html"' in text
    assert 'href="%E7%A4%BA%E6%84%8F%E7%89%87%E5%8C%BAA/map.html"' in text
    assert 'href="a%20b/map.html"' in text
    # self-contained: two inline SVG charts, nothing loaded from anywhere
    assert len(_svgs(text)) == 2
    assert not re.search(r"https?:", text)
    assert not re.search(r"<(script|link|iframe|img)\b", text)
    assert "src=" not in text


def test_html_summary_english(grid: AuditResult) -> None:
    text = html_summary(grid, title="Grid", lang="en")
    assert '<html lang="en">' in text
    assert "Communities covered" in text
    assert "The 5 worst-served communities" in text
    assert "not covered" in text
    assert "已覆盖" not in text


def _table_rows(text: str, table: str) -> list[list[str]]:
    body = text.split(f"<table class={table}>")[1].split("<tbody>")[1]
    body = body.split("</tbody>", maxsplit=1)[0]
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in body.split("</tr>")[:-1]]


def test_html_summary_district_table_urban_and_rural_apart(grid: AuditResult) -> None:
    text = html_summary(grid, title="Grid", lang="en")
    head = text.split("<table class=districts>")[1].split("</thead>")[0]
    assert "All communities" in head
    assert "Urban communities (15 min)" in head
    assert "Rural communities (20 min)" in head
    rows = _table_rows(text, "districts")
    # by hand: West has A (4 min), B (16, over 15), D (12), all urban, 1,000 + 2,000 + 1,500
    # residents; East has C and E, rural, 14 min each (within 20), 500 + 800 residents
    assert rows == [
        ["1", "East", "2", "2", "100.0%", "100.0%", "0", "0", "–", "–",
         "2", "2", "100.0%", "100.0%", "0", "14.0"],
        ["2", "West", "3", "2", "66.7%", "55.6%", "3", "2", "66.7%", "55.6%",
         "0", "0", "–", "–", "0", "12.0"],
        ["", "(all)", "5", "4", "80.0%", "65.5%", "3", "2", "66.7%", "55.6%",
         "2", "2", "100.0%", "100.0%", "0", "14.0"],
    ]  # fmt: skip


def test_html_summary_links_the_workbook_and_the_run(grid: AuditResult) -> None:
    page = html_summary(
        grid.district("West"), title="West", maps={"West": "map.html"}, lang="en",
        workbook="report.xlsx", parent="../summary.html",
    )  # fmt: skip
    nav = page.split("<nav class=links>")[1].split("</nav>")[0]
    assert re.findall(r'href="([^"]*)"', nav) == ["../summary.html", "report.xlsx", "map.html"]
    assert "Back to the whole run" in nav
    # West has urban communities only: no rural columns
    head = page.split("<table class=districts>")[1].split("</thead>")[0]
    assert "Urban communities (15 min)" in head
    assert "Rural" not in head
    # one district: its row only (a total row would repeat it)
    assert [r[:6] for r in _table_rows(page, "districts")] == [
        ["1", "West", "3", "2", "66.7%", "55.6%"]
    ]
    assert "Excel workbook" in nav
    assert page.index("<nav") < page.index("<h1>")
    plain = html_summary(grid, title="Grid", lang="zh")  # nothing to link: no bar
    assert "<nav" not in plain


@pytest.mark.parametrize(
    "target", ["https://example.com/map.html", "/etc/map.html", "//host/map.html", ""]
)
def test_html_summary_refuses_absolute_links(
    grid: AuditResult, tmp_path: Path, target: str
) -> None:
    with pytest.raises(InputDataError, match="relative path"):
        write_html_summary(tmp_path / "s.html", grid, title="t", maps={"x": target})
    assert not list(tmp_path.iterdir())


def test_html_summary_liechtenstein(li: AuditResult, tmp_path: Path) -> None:
    text = write_html_summary(
        tmp_path / "s.html", li, title="Liechtenstein", maps={"all": "map.html"}
    ).read_text(encoding="utf-8")
    h = li.headline
    assert f"{h['covered_share']:.1%}" in text
    assert f"{h['population_covered_share']:.1%}" in text
    for district in li.districts["district"]:
        if district != ALL_DISTRICTS:
            assert f"<td>{district}</td>" in text
    worst = text.split("class=worst")[1]
    assert worst.count("<tr>") == 1 + 10  # header + the 10 worst
    slowest = li.communities.sort_values("shortfall_min", ascending=False).iloc[0]
    assert f"{slowest['travel_time_min']:.1f}" in worst.split("</tr>")[1]
    assert len(_svgs(text)) == 2


def _chinese_grid(grid: AuditResult) -> AuditResult:
    com = grid.communities.assign(
        district=grid.communities["district"].map({"West": "西区", "East": "东区"})
    )
    return AuditResult(com, grid.halls, district_table(com), grid.config, grid.network)


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_charts_are_drawn_in_the_page_language_by_the_browser(grid: AuditResult) -> None:
    """Chart labels are SVG text in the page's fonts: Chinese on any machine, no fallback."""
    bar, hist = _svgs(html_summary(_chinese_grid(grid), title="西区", lang="zh"))
    labels = _texts(bar)
    assert labels[0] == "各区县覆盖率"
    assert {"社区覆盖率", "人口覆盖率", "东区", "西区"} <= set(labels)
    assert labels.index("西区") < labels.index("东区")  # worst first: 西区 (2 of 3) on top
    # bar lengths are the shares: 西区 2/3 and 东区 1 of communities; 2,500 of 4,500 residents
    widths = [float(w) for w in re.findall(r'<rect x="[^"]*" y="[^"]*" width="([^"]*)" '
                                           r'height="14"', bar)]  # fmt: skip
    west_com, west_pop, east_com, east_pop = widths
    assert west_com / east_com == pytest.approx(2 / 3, abs=0.002)
    assert west_pop / east_pop == pytest.approx(2500 / 4500, abs=0.002)
    assert {"67%", "56%", "100%"} <= set(labels)
    # the histogram, by hand: urban A 4, B 16, D 12 min; rural C and E 14 min; bins of
    # 1 minute closed on the right, so 16 min falls in (15, 16]
    tips = re.findall(r"<title>([^<]*)</title></rect>", hist)
    assert sorted(tips) == [
        "农村社区: 2 (13–14)", "城市社区: 1 (11–12)", "城市社区: 1 (15–16)", "城市社区: 1 (3–4)",
    ]  # fmt: skip
    assert {"城市标准 15 分钟", "农村标准 20 分钟", "出行时间（分钟）", "社区数"} <= set(
        _texts(hist)
    )
    english = _svgs(html_summary(grid, title="Grid", lang="en"))
    assert "Coverage by district" in _texts(english[0])
    assert "urban limit 15 min" in _texts(english[1])


def test_chart_of_many_districts_shows_the_worst_40(grid: AuditResult) -> None:
    many = grid.communities.assign(district=[f"区{i}" for i in range(len(grid.communities))])
    table = district_table(many)
    rows = pd.concat([table[table["district"] != ALL_DISTRICTS]] * 10, ignore_index=True)
    rows["district"] = [f"区{i:02d}" for i in range(len(rows))]
    from coverage.reports._charts import charts

    bar = charts(grid, rows, "zh").bar
    assert "仅列出最差的 40 个区县" in _texts(bar)[0]
    assert bar.count('height="14"') == 2 * 40


# -- a run folder ----------------------------------------------------------------------------


def test_write_district_reports_liechtenstein(
    li: AuditResult, liechtenstein: Sample, tmp_path: Path
) -> None:
    folders = write_district_reports(
        tmp_path / "run", li, districts=liechtenstein.districts, title="Liechtenstein",
        lang="en", basemap="blank", run="li",
    )  # fmt: skip
    names = [d for d in li.districts["district"] if d != ALL_DISTRICTS]
    assert sorted(folders) == sorted([*names, ALL_DISTRICTS])
    root = folders[ALL_DISTRICTS]
    for f in ("map.html", "summary.html", "report.xlsx", "report.gpkg", "summary.json"):
        assert (root / f).stat().st_size > 1000
    total = 0
    for d in names:
        wb = openpyxl.load_workbook(folders[d] / "report.xlsx", read_only=True)
        rows = list(wb["Communities"].iter_rows(values_only=True))
        total += len(rows) - 1
        wb.close()
        page = (folders[d] / "summary.html").read_text(encoding="utf-8")
        assert 'href="map.html"' in page
        assert (folders[d] / "map.html").exists()
        # each district page leads back to the whole run and to its own workbook
        assert 'href="../summary.html"' in page
        assert 'href="report.xlsx"' in page
    assert total == len(li.communities)
    top = (root / "summary.html").read_text(encoding="utf-8")
    for d in names:
        assert f'href="{d}/map.html"' in top
    assert 'href="report.xlsx"' in top
    assert "../summary.html" not in top
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]


# -- in a real browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_summary_in_headless_chromium(li: AuditResult, tmp_path: Path) -> None:  # noqa: PLR0915 (one browser session, every check)
    playwright = pytest.importorskip("playwright.sync_api")
    com = li.communities.copy()
    worst = com["shortfall_min"].idxmax()
    com.loc[worst, "name"] = EVIL
    result = AuditResult(com, li.halls, li.districts, li.config, li.network)
    path = write_html_summary(
        tmp_path / "summary.html", result, title="列支敦士登 Liechtenstein",
        maps={"全部": "map.html"},
    )  # fmt: skip
    shot = tmp_path / "summary.png"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        failed: list[str] = []
        errors: list[str] = []
        dialogs: list[str] = []

        def route(r: Any) -> None:
            requests.append(r.request.url)
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                r.abort()  # the network is blocked

        page.route("**/*", route)
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))

        def dialog(d: Any) -> None:
            dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(shot), full_page=True)
        charts = page.evaluate(
            "Array.from(document.querySelectorAll('svg.chart')).map(s => {"
            " const b = s.getBoundingClientRect(); return [b.width, b.height]; })"
        )
        # the charts' Chinese text is drawn in the page's font, with real width
        label = page.evaluate(
            "(() => { const t = Array.from(document.querySelectorAll('svg.chart text'))"
            ".find(e => e.textContent === '社区覆盖率');"
            " return [t.getBBox().width, getComputedStyle(t).fontFamily]; })()"
        )
        cards = page.inner_text(".cards")
        worst_first = page.inner_text("table.worst tbody tr:first-child")
        scripts = page.evaluate("document.scripts.length")
        browser.close()
    assert shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")  # noqa: T201
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert failed == []
    assert errors == []
    assert dialogs == []
    assert scripts == 0
    assert len(charts) == 2
    assert all(w > 300 and h > 150 for w, h in charts)  # both charts laid out
    assert label[0] > 40  # five Chinese characters at 12 px, not empty boxes of zero width
    assert "Noto Sans CJK SC" in label[1]
    h = li.headline
    assert f"{h['covered_share']:.1%}" in cards
    assert str(h["communities"]) in cards
    assert EVIL in worst_first  # the worst-served community, its name shown as text


def test_a_district_map_shows_the_area_of_the_hall_that_serves_it(
    li: AuditResult, liechtenstein: Sample, tmp_path: Path
) -> None:
    """Balzers' one community is served by a hall about 4 km north, outside Balzers: the map
    draws that hall's 20-minute area (the first view shows the hall too)."""
    from coverage.isochrones import travel_time_surface

    surface = travel_time_surface(
        liechtenstein.network, liechtenstein.halls, communities=liechtenstein.communities
    )
    bands = surface.polygons([15, 20])
    folders = write_district_reports(
        tmp_path / "run", li.subset(["Balzers"]), districts=liechtenstein.districts,
        lang="en", basemap="blank", run="li", isochrones=bands,
    )  # fmt: skip
    page = (folders["Balzers"] / "map.html").read_text(encoding="utf-8")
    assert "20-minute area" in page
    hall = li.subset(["Balzers"]).halls
    assert len(hall) == 1
    assert not hall.geometry.iloc[0].within(
        liechtenstein.districts.set_index("district").geometry["Balzers"]
    )
