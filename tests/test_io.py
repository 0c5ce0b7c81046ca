"""Tests of coverage.io: every format, Chinese headers, encodings, coordinate systems, errors.

Input files are written into ``tmp_path`` by fixtures; nothing is bundled. Expected WGS-84
positions of GCJ-02 / BD-09 inputs come from published vectors (see tests/test_coords.py for
the sources), never from our own conversion code.
"""

from __future__ import annotations

import csv
import logging
import math
import zipfile
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from shapely import LineString, MultiPoint, Point, Polygon

from coverage._errors import CrsError, DuplicateIdError, InputDataError, MissingColumnError
from coverage.config import Config
from coverage.io import COMMUNITY_COLUMNS, HALL_COLUMNS, read_communities, read_halls

if TYPE_CHECKING:
    from pathlib import Path

# Published vectors (googollee/eviltransform python/test.py; hujiulong/gcoord
# test/fixtures/china-cities.json).
SHANGHAI_WGS = (121.5272106, 31.1774276)
SHANGHAI_GCJ = (121.531541859215, 31.17530398364597)
HUZHOU_WGS = (120.0819509, 30.8963939)
HUZHOU_GCJ = (120.0868281, 30.8943522)
HUZHOU_BD = (120.093349, 30.9002941)


def haversine_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(math.radians, (lon1, lat1, lon2, lat2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


HEADER_ZH = [
    "编号",
    "社区名称",
    "所属区县",
    "街道",
    "类型",
    "常住人口",
    "户数",
    "经度",
    "纬度",
    "备注",
]
ROWS_ZH = [
    [
        "K01",
        "湖滨社区",
        "上城区",
        "湖滨街道",
        "社区",
        "5200",
        "2100",
        "120.1618",
        "30.2592",
        "0571",
    ],
    ["K02", "龙井村", "西湖区", "西湖街道", "村", "1830", "", "120.1243", "30.2253", ""],
    [
        "K03",
        "小河社区",
        "拱墅区",
        "小河街道",
        "城市",
        "7415",
        "3010",
        "120.1402",
        "30.3087",
        "新建",
    ],
]


def write_csv(path: Path, header, rows, *, encoding="utf-8-sig", delimiter=",", before=()):
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        for line in before:
            writer.writerow(line)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def zh_csv(tmp_path):
    return write_csv(tmp_path / "communities.csv", HEADER_ZH, ROWS_ZH)


def gdf_points(crs="EPSG:4326"):
    return gpd.GeoDataFrame(
        {
            "id": ["V1", "V2", "V3"],
            "name": ["Vaduz", "Schaan", "Triesen"],
            "kind": ["urban", "urban", "rural"],
            "pop": [5700, 6100, 5200],
        },
        geometry=[Point(9.5209, 47.1410), Point(9.5095, 47.1652), Point(9.5281, 47.1076)],
        crs=crs,
    )


# --- formats -------------------------------------------------------------------------------------


def test_csv_chinese_headers(zh_csv):
    gdf = read_communities(zh_csv)
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf.columns[: len(COMMUNITY_COLUMNS)]) == list(COMMUNITY_COLUMNS)
    assert list(gdf.index) == [0, 1, 2]
    assert len(gdf) == len(ROWS_ZH)  # rows in == rows out
    assert gdf["community_id"].tolist() == ["K01", "K02", "K03"]
    assert gdf["name"].tolist() == ["湖滨社区", "龙井村", "小河社区"]
    assert gdf["district"].tolist() == ["上城区", "西湖区", "拱墅区"]
    assert gdf["kind"].tolist() == ["urban", "rural", "urban"]
    assert gdf["population"].tolist() == [5200, 1830, 7415]
    assert gdf["households"].tolist() == [2100, 732, 3010]  # 1830 / 2.5 = 732
    assert gdf["households_estimated"].tolist() == [False, True, False]
    assert gdf["source_row"].tolist() == [2, 3, 4]
    assert gdf.geometry.iloc[0].equals(Point(120.1618, 30.2592))
    assert gdf["lon"].tolist() == [120.1618, 120.1243, 120.1402]
    # the user's other column is kept; a code with a leading zero stays text
    assert gdf["备注"].tolist() == ["0571", None, "新建"]


def test_csv_gb18030(tmp_path):
    path = write_csv(tmp_path / "gbk.csv", HEADER_ZH, ROWS_ZH, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # really not UTF-8
    gdf = read_communities(path)
    assert gdf["name"].tolist() == ["湖滨社区", "龙井村", "小河社区"]
    assert gdf["street"].tolist() == ["湖滨街道", "西湖街道", "小河街道"]


def test_csv_title_row_blank_rows_and_tabs(tmp_path):
    path = tmp_path / "list.txt"
    write_csv(
        path,
        HEADER_ZH,
        [*ROWS_ZH[:1], [], *ROWS_ZH[1:]],
        delimiter="\t",
        before=[["杭州市社区名单"]],
    )
    gdf = read_communities(path)
    assert len(gdf) == 3
    # title on row 1, header on row 2, a blank row 4
    assert gdf["source_row"].tolist() == [3, 5, 6]


def test_english_headers_case_spaces_units(tmp_path):
    header = [
        "Community ID",
        " NAME ",
        "Type",
        "Population (persons)",
        "HH",
        "Area (㎡)",
        "LNG",
        "Lat",
    ]
    rows = [["a1", "A", "Urban", "1,000", "400", "250000", "120.1", "30.2"]]
    gdf = read_communities(write_csv(tmp_path / "en.csv", header, rows))
    row = gdf.iloc[0]
    assert row["community_id"] == "a1"
    assert row["population"] == 1000
    assert row["households"] == 400
    assert row["area_m2"] == 250000
    assert row["kind"] == "urban"


def test_full_width_brackets_and_compound_headers(tmp_path):
    header = [
        "村（社区）",
        "街道（乡镇）",
        "社区类型",
        "户籍人口（人）",
        "住户数",
        "面积（㎡）",
        "纬度",
        "经度",
    ]
    rows = [["龙井村", "西湖街道", "农村", "１８３０", "700", "12,000", "30.2253", "120.1243"]]
    gdf = read_communities(write_csv(tmp_path / "fullwidth.csv", header, rows))
    row = gdf.iloc[0]
    assert (row["name"], row["street"], row["kind"]) == ("龙井村", "西湖街道", "rural")
    assert (row["population"], row["households"], row["area_m2"]) == (1830, 700, 12000)
    assert (row["lon"], row["lat"]) == (120.1243, 30.2253)


def test_unit_in_header_scales_area_and_population(tmp_path):
    header = ["名称", "类型", "人口(万人)", "面积(公顷)", "x", "y"]
    rows = [["A", "城镇", "1.2", "3", "120.1", "30.2"]]
    gdf = read_communities(write_csv(tmp_path / "units.csv", header, rows))
    assert gdf.loc[0, "population"] == 12000
    assert gdf.loc[0, "area_m2"] == pytest.approx(30000)


def excel_with_merged_header(path: Path) -> Path:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    notes["A1"] = "本表为示例"
    ws = wb.create_sheet("社区")
    ws["A1"] = "杭州市社区名单(2024)"
    ws.merge_cells("A1:H1")
    # two-row header: 位置 merged over 经度/纬度, 编号 and 社区名称 merged vertically
    ws.append(["编号", "社区名称", "类型", "人口", None, "位置", None, "备注"])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("F2:G2")
    ws.append([None, None, None, None, None, "经度", "纬度", None])
    ws.append(["K01", "湖滨社区", "社区", 5200, None, 120.1618, 30.2592, "x"])
    ws.append(["K02", "龙井村", "村", 1830, None, 120.1243, 30.2253, None])
    wb.create_sheet("空表")
    wb.save(path)
    return path


def test_excel_picks_sheet_and_merged_headers(tmp_path, caplog):
    path = excel_with_merged_header(tmp_path / "list.xlsx")
    with caplog.at_level(logging.INFO, logger="coverage.io"):
        gdf = read_communities(path)
    assert "reading sheet '社区'" in caplog.text
    assert gdf["community_id"].tolist() == ["K01", "K02"]
    assert gdf["name"].tolist() == ["湖滨社区", "龙井村"]
    assert gdf["lat"].tolist() == [30.2592, 30.2253]
    assert gdf["source_row"].tolist() == [4, 5]
    assert "备注" in gdf.columns
    # the empty column E (no header, no data) is dropped
    assert not any(c.startswith("unnamed") for c in gdf.columns)
    same = read_communities(path, sheet="社区")
    by_index = read_communities(path, sheet=1)
    assert same["name"].tolist() == by_index["name"].tolist() == gdf["name"].tolist()


def test_excel_error_names_sheet_and_rows(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "A"
    ws = wb.create_sheet("村")
    ws.append(["村名", "人口", "lng", "lat"])
    ws.append(["甲村", -5, 120.1, 30.1])
    ws.append(["乙村", "很多", 120.2, 30.2])
    path = tmp_path / "villages.xlsx"
    wb.save(path)
    with pytest.raises(InputDataError, match=r"villages\.xlsx\[sheet=村\]") as info:
        read_communities(path, sheet="村")
    msg = str(info.value)
    assert "column 'population' (header '人口') has 1 non-numeric value (row 3): '很多'" in msg
    assert "1 negative value (row 2)" in msg
    with pytest.raises(InputDataError, match=r"no sheet 'X' \(sheets: 'A', '村'\)"):
        read_communities(path, sheet="X")


def test_geojson_points(tmp_path):
    path = tmp_path / "villages.geojson"
    gdf_points().to_file(path, driver="GeoJSON", engine="pyogrio")
    gdf = read_communities(path)
    assert gdf["community_id"].tolist() == ["V1", "V2", "V3"]
    assert gdf["population"].tolist() == [5700, 6100, 5200]
    assert gdf["kind"].tolist() == ["urban", "urban", "rural"]
    assert gdf["source_row"].tolist() == [1, 2, 3]
    assert gdf.geometry.iloc[0].equals(Point(9.5209, 47.1410))  # outside China: no shift


def block(x0, y0, size=0.002):
    return Polygon([(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)])


def test_polygons_become_points_with_area(tmp_path, caplog):
    # an L-shaped block whose centroid lies outside it
    ell = Polygon(
        [
            (120.10, 30.20),
            (120.11, 30.20),
            (120.11, 30.201),
            (120.101, 30.201),
            (120.101, 30.21),
            (120.10, 30.21),
        ]
    )
    blocks = gpd.GeoDataFrame(
        {"name": ["L", "square"], "人口": [300, 200], "类型": ["社区", "农村"]},
        geometry=[ell, block(120.2, 30.3)],
        crs="EPSG:4326",
    )
    path = tmp_path / "blocks.json"
    blocks.to_file(path, driver="GeoJSON", engine="pyogrio")
    with caplog.at_level(logging.INFO, logger="coverage.io"):
        gdf = read_communities(path)
    assert "2 polygons replaced by a representative point" in caplog.text
    assert (gdf.geom_type == "Point").all()
    assert ell.contains(gdf.geometry.iloc[0])
    assert not ell.contains(ell.centroid)
    # area of a 0.002-degree square at 30.3°N: 0.002 * 111.32 km * cos(30.3°) by 0.002 * 110.9 km
    expected = (0.002 * 111_320 * math.cos(math.radians(30.3))) * (0.002 * 110_900)
    assert gdf.loc[1, "area_m2"] == pytest.approx(expected, rel=0.01)


def test_geopackage_layers(tmp_path):
    path = tmp_path / "data.gpkg"
    roads = gpd.GeoDataFrame(
        {"highway": ["primary"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=4326
    )
    roads.to_file(path, layer="roads", driver="GPKG", engine="pyogrio")
    gdf_points().to_file(path, layer="villages", driver="GPKG", engine="pyogrio")
    gdf = read_communities(path)  # picks the layer that looks like communities
    assert gdf["community_id"].tolist() == ["V1", "V2", "V3"]
    assert read_communities(path, layer="villages")["name"].tolist() == [
        "Vaduz",
        "Schaan",
        "Triesen",
    ]
    assert len(read_communities(path, layer=1)) == 3
    with pytest.raises(
        InputDataError, match=r"(?s)data\.gpkg\[layer=roads\]: .*LineString \(feature 1\)"
    ):
        read_communities(path, layer="roads", columns={"highway": "population"})
    with pytest.raises(InputDataError, match=r"no layer 'nope' \(layers: 'roads', 'villages'\)"):
        read_communities(path, layer="nope")


def test_shapefile_projected_and_zipped(tmp_path):
    # EPSG:4549 is CGCS2000 / 3-degree Gauss-Kruger CM 120E, common in Zhejiang
    projected = gdf_points().copy()
    projected.geometry = gpd.GeoSeries(
        [Point(120.1618, 30.2592), Point(120.1243, 30.2253), Point(120.1402, 30.3087)], crs=4326
    ).to_crs(4549)
    shp = tmp_path / "shp" / "communities.shp"
    shp.parent.mkdir()
    projected.to_file(shp, engine="pyogrio")
    gdf = read_communities(shp)
    assert gdf.crs.to_epsg() == 4326
    assert haversine_m(gdf.loc[0, "lon"], gdf.loc[0, "lat"], 120.1618, 30.2592) < 0.01
    archive = tmp_path / "communities.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp.parent.iterdir():
            z.write(part, f"inner/{part.name}")
    zipped = read_communities(archive)
    assert zipped["community_id"].tolist() == gdf["community_id"].tolist()
    assert np.allclose(zipped["lon"], gdf["lon"])


def test_gbk_shapefile_without_cpg(tmp_path):
    # ArcGIS-made Chinese shapefiles often hold GBK text and no .cpg file; GDAL then reads
    # the text as Latin-1 mojibake ('Ãû³Æ' for 名称).
    gdf = gpd.GeoDataFrame(
        {"名称": ["湖滨社区"], "类型": ["社区"], "人口": [5200]},
        geometry=[Point(120.1618, 30.2592)],
        crs=4326,
    )
    shp = tmp_path / "gbk.shp"
    gdf.to_file(shp, engine="pyogrio", encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    out = read_communities(shp)
    assert out.loc[0, "name"] == "湖滨社区"
    assert out.loc[0, "population"] == 5200
    # a European shapefile with Latin-1 accents is left alone
    eu = gpd.GeoDataFrame(
        {"name": ["Mühleholz"], "pop": [10], "kind": ["urban"]},
        geometry=[Point(9.5, 47.1)],
        crs=4326,
    )
    latin = tmp_path / "latin.shp"
    eu.to_file(latin, engine="pyogrio", encoding="ISO-8859-1")
    latin.with_suffix(".cpg").unlink()
    assert read_communities(latin).loc[0, "name"] == "Mühleholz"


def test_dataframe_and_geodataframe_in_memory():
    df = pd.DataFrame(
        {
            "名称": ["A", "B"],
            "类型": ["urban", "rural"],
            "人口": [10, 20],
            "lng": [120.1, 120.2],
            "lat": [30.1, 30.2],
        },
        index=["r1", "r2"],
    )
    before = df.copy()
    gdf = read_communities(df)
    pd.testing.assert_frame_equal(df, before)  # the input is not changed
    assert list(gdf.index) == [0, 1]
    assert gdf["source_row"].tolist() == [1, 2]
    web = gdf_points().to_crs(3857)
    out = read_communities(web)
    assert haversine_m(out.loc[0, "lon"], out.loc[0, "lat"], 9.5209, 47.1410) < 0.01


# --- coordinate systems --------------------------------------------------------------------------


def test_gcj02_csv_converted_to_published_wgs(tmp_path):
    header = ["名称", "类型", "人口", "经度", "纬度"]
    rows = [
        ["上海", "城市", "1", *map(str, SHANGHAI_GCJ)],
        ["湖州", "城市", "1", *map(str, HUZHOU_GCJ)],
    ]
    gdf = read_communities(write_csv(tmp_path / "amap.csv", header, rows), coord_system="gcj02")
    # eviltransform's pair carries full precision; gcoord's is rounded and agrees to ~0.7 m
    assert haversine_m(gdf.loc[0, "lon"], gdf.loc[0, "lat"], *SHANGHAI_WGS) < 0.01
    assert haversine_m(gdf.loc[1, "lon"], gdf.loc[1, "lat"], *HUZHOU_WGS) < 1.0
    assert gdf.geometry.iloc[0].x == gdf.loc[0, "lon"]
    assert gdf.loc[0, "lon_gcj02"] == SHANGHAI_GCJ[0]
    assert gdf.loc[0, "lat_gcj02"] == SHANGHAI_GCJ[1]


def test_bd09_halls_and_gcj02_geodataframe():
    df = pd.DataFrame({"站点名称": ["湖州中心"], "lng": [HUZHOU_BD[0]], "lat": [HUZHOU_BD[1]]})
    halls = read_halls(df, coord_system="bd09")
    assert haversine_m(halls.loc[0, "lon"], halls.loc[0, "lat"], *HUZHOU_WGS) < 1.0
    gcj = gpd.GeoDataFrame(
        {"名称": ["湖州"], "类型": ["城市"], "人口": [1]}, geometry=[Point(*HUZHOU_GCJ)], crs=4326
    )
    gdf = read_communities(gcj, coord_system="gcj02")
    assert haversine_m(gdf.geometry.iloc[0].x, gdf.geometry.iloc[0].y, *HUZHOU_WGS) < 1.0


def test_unknown_coord_system():
    with pytest.raises(InputDataError, match="coord_system must be one of"):
        read_communities(pd.DataFrame({"人口": [1], "x": [1], "y": [1]}), coord_system="mars")


# --- defaults: ids, kind, households -------------------------------------------------------------


def test_generated_ids_default_kind_and_households(tmp_path, caplog):
    header = ["社区", "人口", "lon", "lat"]
    rows = [["A", "10", "120.1", "30.1"], ["B", "11", "120.2", "30.2"]]
    path = write_csv(tmp_path / "bare.csv", header, rows)
    with (
        caplog.at_level(logging.INFO, logger="coverage.io"),
        pytest.warns(UserWarning, match=r"bare\.csv: no 'kind' column .*all 2 communities"),
    ):
        gdf = read_communities(path, config=Config(persons_per_household=3.0))
    assert gdf["community_id"].tolist() == ["C0001", "C0002"]
    assert "generated C0001" in caplog.text
    assert gdf["kind"].tolist() == ["urban", "urban"]
    assert gdf["households"].tolist() == [3, 4]  # 10/3 and 11/3, rounded
    assert gdf["households_estimated"].all()
    assert gdf["district"].tolist() == ["(none)", "(none)"]
    assert gdf["street"].tolist() == ["(none)", "(none)"]
    assert gdf["area_m2"].isna().all()


def test_partly_missing_kind_warns_with_count(tmp_path):
    header = ["社区", "类型", "人口", "lon", "lat"]
    rows = [
        ["A", "", "10", "120.1", "30.1"],
        ["B", "农村", "1", "120.2", "30.2"],
        ["C", " ", "1", "120.3", "30.3"],
    ]
    path = write_csv(tmp_path / "kinds.csv", header, rows)
    with pytest.warns(UserWarning, match=r"empty for 2 communities \(rows 2, 4\); taken as urban"):
        gdf = read_communities(path)
    assert gdf["kind"].tolist() == ["urban", "rural", "urban"]


def test_explicit_columns_mapping(tmp_path):
    header = ["村社", "2023年末人口", "东经度", "北纬度"]
    rows = [["A", "10", "120.1", "30.1"]]
    path = write_csv(tmp_path / "odd.csv", header, rows)
    with pytest.raises(MissingColumnError, match="'population'"):
        read_communities(path)
    columns = {"村社": "name", "2023年末人口": "population", "东经度": "lon", "北纬度": "lat"}
    with pytest.warns(UserWarning, match="no 'kind' column"):
        gdf = read_communities(path, columns=columns)
    assert gdf.loc[0, "name"] == "A"
    assert gdf.loc[0, "population"] == 10
    with pytest.raises(InputDataError, match="'popul' is not a column name the loader knows"):
        read_communities(path, columns={"2023年末人口": "popul"})
    with pytest.raises(MissingColumnError, match="there is no header 'Pop'"):
        read_communities(path, columns={"Pop": "population"})


# --- halls -------------------------------------------------------------------------------------


def test_halls_chinese_headers(tmp_path):
    header = ["站点编号", "服务中心名称", "类型", "建筑面积(㎡)", "示意", "经度", "纬度"]
    rows = [
        ["S1", "湖滨街道社区服务中心", "邻里中心", "1,200", "否", "120.1664", "30.2565"],
        ["S2", "龙井村便民服务中心", "", "", "是", "120.1243", "30.2253"],
    ]
    halls = read_halls(write_csv(tmp_path / "halls.csv", header, rows))
    assert list(halls.columns[: len(HALL_COLUMNS)]) == list(HALL_COLUMNS)
    assert halls["hall_id"].tolist() == ["S1", "S2"]
    assert halls.loc[0, "kind"] == "邻里中心"
    assert pd.isna(halls.loc[1, "kind"])
    assert halls.loc[0, "floor_area_m2"] == 1200.0
    assert math.isnan(halls.loc[1, "floor_area_m2"])
    assert halls["illustrative"].tolist() == [False, True]
    assert halls["source_row"].tolist() == [2, 3]


def test_halls_minimal_generated_ids(tmp_path):
    halls = read_halls(
        write_csv(tmp_path / "h.csv", ["lng", "lat"], [["120.1", "30.1"], ["120.2", "30.2"]])
    )
    assert halls["hall_id"].tolist() == ["H001", "H002"]
    assert halls["name"].tolist() == ["H001", "H002"]
    assert not halls["illustrative"].any()


def test_multipoint_hall_warns():
    gdf = gpd.GeoDataFrame(
        {"名称": ["A", "B"]},
        geometry=[MultiPoint([(120.1, 30.1), (120.1002, 30.1002)]), Point(120.2, 30.2)],
        crs=4326,
    )
    with pytest.warns(UserWarning, match=r"1 MultiPoint geometry replaced .*index 0"):
        halls = read_halls(gdf)
    assert (halls.geom_type == "Point").all()


# --- validation errors ---------------------------------------------------------------------------


def test_missing_population_lists_accepted_and_found_and_suggests(tmp_path):
    header = ["编号", "名称", "popluation", "经度", "纬度"]
    path = write_csv(tmp_path / "typo.csv", header, [["1", "A", "5", "120", "30"]])
    with pytest.raises(MissingColumnError) as info:
        read_communities(path)
    msg = str(info.value)
    assert msg.startswith("typo.csv: required column 'population' is missing")
    assert "accepted headers: population, 人口, 常住人口, 户籍人口, pop" in msg
    assert "headers found: '编号', '名称', 'popluation', '经度', '纬度'" in msg
    assert "did you mean 'popluation'?" in msg


def test_missing_lon_lat(tmp_path):
    path = write_csv(tmp_path / "nolonlat.csv", ["名称", "人口"], [["A", "1"]])
    with pytest.raises(MissingColumnError, match=r"2 problems found:\n  - required column 'lon'"):
        read_communities(path)


def test_duplicate_ids(tmp_path):
    rows = [r.copy() for r in ROWS_ZH] + [r.copy() for r in ROWS_ZH[:2]]
    path = write_csv(tmp_path / "dups.csv", HEADER_ZH, rows)
    with pytest.raises(
        DuplicateIdError,
        match=r"dups\.csv: column 'community_id' \(header '编号'\) has 2 duplicated ids: "
        r"'K01', 'K02' \(rows 2, 3, 5, 6\)",
    ):
        read_communities(path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", r"has 1 null value \(row 3; community_id: 'K02'\)"),
        ("-7", r"has 1 negative value \(row 3; community_id: 'K02'\)"),
        ("many", r"has 1 non-numeric value \(row 3; community_id: 'K02'\): 'many'"),
    ],
)
def test_bad_population_values(tmp_path, value, expected):
    rows = [r.copy() for r in ROWS_ZH]
    rows[1][5] = value
    path = write_csv(tmp_path / "bad_pop.csv", HEADER_ZH, rows)
    with pytest.raises(
        InputDataError, match=r"bad_pop\.csv: column 'population' \(header '常住人口'\) " + expected
    ):
        read_communities(path)


def test_bad_households_and_coordinates(tmp_path):
    rows = [r.copy() for r in ROWS_ZH]
    rows[0][6] = "-1"
    rows[1][7] = "东经120度"
    rows[2][8] = "95"
    path = write_csv(tmp_path / "bad.csv", HEADER_ZH, rows)
    with pytest.raises(InputDataError) as info:
        read_communities(path)
    assert type(info.value) is InputDataError
    msg = str(info.value)
    assert msg.startswith("bad.csv: 3 problems found:")
    assert (
        "column 'households' (header '户数') has 1 negative value (row 2; community_id: 'K01')"
        in msg
    )
    assert (
        "column 'lon' (header '经度') has 1 non-numeric value "
        "(row 3; community_id: 'K02'): '东经120度'" in msg
    )
    # a latitude of 95 among valid degrees: a typo, not another coordinate system
    assert (
        "columns 'lon'/'lat' (headers '经度'/'纬度'): 1 latitude outside -90..90 among otherwise "
        "valid degrees (row 4; community_id: 'K03'): lat=95 looks like a typo; correct it in "
        "the file" in msg
    )


def test_swapped_lon_lat(tmp_path):
    rows = [r.copy() for r in ROWS_ZH]
    for r in rows:
        r[7], r[8] = r[8], r[7]
    path = write_csv(tmp_path / "swapped.csv", HEADER_ZH, rows)
    with pytest.raises(
        InputDataError,
        match=r"swapped\.csv: columns 'lon'/'lat' \(headers '经度'/'纬度'\): "
        r"looks like 经度/纬度 \(lon/lat\) are swapped in 3 of 3 rows "
        r"\(rows 2, 3, 4; community_id: 'K01', 'K02', 'K03'\)",
    ):
        read_communities(path)


def test_many_bad_rows_are_summarised(tmp_path):
    rows = [[f"K{i:02d}", "A", "社区", "" if i % 2 else "5", "120.1", "30.1"] for i in range(30)]
    path = write_csv(tmp_path / "many.csv", ["编号", "名称", "类型", "人口", "经度", "纬度"], rows)
    with pytest.raises(InputDataError) as info:
        read_communities(path)
    msg = str(info.value)
    assert "has 15 null values (rows 3, 5, 7, 9, 11, 13, 15, 17, 19, 21 and 5 more;" in msg
    assert (
        "community_id: 'K01', 'K03', 'K05', 'K07', 'K09', 'K11', 'K13', 'K15', 'K17', 'K19' "
        "and 5 more)" in msg
    )


def test_unknown_kind_values(tmp_path):
    rows = [r.copy() for r in ROWS_ZH]
    rows[0][4] = "城中村?"
    rows[2][4] = "mixed"
    path = write_csv(tmp_path / "kinds.csv", HEADER_ZH, rows)
    with pytest.raises(
        InputDataError,
        match=r"kinds\.csv: column 'kind' \(header '类型'\) has 2 unknown values "
        r"'城中村\?', 'mixed' \(rows 2, 4; community_id: 'K01', 'K03'\); use 城市",
    ):
        read_communities(path)


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputDataError, match=r"empty\.csv: the file is empty"):
        read_communities(empty)
    blank = tmp_path / "blank.csv"
    blank.write_text("\n,,\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"blank\.csv: the file is empty"):
        read_communities(blank)
    header_only = write_csv(tmp_path / "header.csv", HEADER_ZH, [])
    with pytest.raises(
        InputDataError, match=r"header\.csv: there is a header \(row 1\) but no data rows"
    ):
        read_communities(header_only)
    geojson = tmp_path / "none.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"none\.geojson: the layer has no features"):
        read_communities(geojson)
    with pytest.raises(InputDataError, match="the frame has no rows"):
        read_halls(pd.DataFrame({"lon": [], "lat": []}))


def test_unreadable_files_are_input_errors(tmp_path):
    with pytest.raises(InputDataError, match=r"nowhere\.csv: file not found"):
        read_communities(tmp_path / "nowhere.csv")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a workbook")
    with pytest.raises(InputDataError, match=r"broken\.xlsx: cannot read the file: "):
        read_communities(broken)
    broken_json = tmp_path / "broken.geojson"
    broken_json.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"broken\.geojson: cannot read the file: "):
        read_communities(broken_json)
    binary = tmp_path / "latin.csv"
    binary.write_bytes(b"\xff\xfe\x00" * 0 + bytes([0x81, 0x30, 0x81]) * 3 + b"\x80\xff")
    with pytest.raises(
        InputDataError, match=r"latin\.csv: cannot decode the file as UTF-8 or GB18030"
    ):
        read_communities(binary)
    with pytest.raises(InputDataError, match="source must be a file path, a DataFrame"):
        read_communities(42)  # type: ignore[arg-type]
    zipped = tmp_path / "nothing.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("readme.txt", "no data")
    with pytest.raises(InputDataError, match=r"nothing\.zip: the zip file holds no \.shp"):
        read_communities(zipped)


def test_geodataframe_without_crs():
    gdf = gdf_points(crs=None)
    with pytest.raises(CrsError, match=r"<GeoDataFrame of communities>: has no CRS; set the one"):
        read_communities(gdf)


def test_bad_geometries_named_by_feature(tmp_path):
    bowtie = Polygon([(120.0, 30.0), (120.01, 30.01), (120.01, 30.0), (120.0, 30.01)])
    gdf = gpd.GeoDataFrame(
        {"名称": list("ABCDE"), "人口": [1, 2, 3, 4, 5]},
        geometry=[
            Point(120.1, 30.1),
            None,
            bowtie,
            LineString([(120, 30), (120.1, 30.1)]),
            Point(),
        ],
        crs=4326,
    )
    path = tmp_path / "geoms.gpkg"
    gdf.to_file(path, driver="GPKG", engine="pyogrio")
    with pytest.raises(InputDataError) as info:
        read_communities(path)
    msg = str(info.value)
    assert msg.startswith("geoms.gpkg: 3 problems found:")
    assert "2 null or empty geometries (features 2, 5)" in msg
    assert "1 geometry of type LineString (feature 4); expected points or polygons" in msg
    assert "1 invalid geometry (feature 3): Self-intersection" in msg


def test_geometry_coordinates_checked_against_crs():
    # metres declared as degrees
    wrong = gpd.GeoDataFrame({"人口": [1]}, geometry=[Point(13_380_000, 3_540_000)], crs=4326)
    with pytest.raises(
        InputDataError,
        match=r"coordinates: 1 point outside .*\(index 0\).*is the CRS right\?; "
        r"this looks like projected",
    ):
        read_communities(wrong)
    swapped = gpd.GeoDataFrame({"人口": [1]}, geometry=[Point(30.25, 120.16)], crs=4326)
    with pytest.raises(InputDataError, match="looks like 经度/纬度 \\(lon/lat\\) are swapped"):
        read_halls(swapped)


def test_bad_illustrative_and_floor_area(tmp_path):
    header = ["名称", "面积", "示意", "lng", "lat"]
    rows = [["A", "abc", "maybe", "120.1", "30.1"]]
    with pytest.raises(InputDataError) as info:
        read_halls(write_csv(tmp_path / "halls_bad.csv", header, rows))
    msg = str(info.value)
    assert "column 'floor_area_m2' (header '面积') has 1 non-numeric value (row 2): 'abc'" in msg
    assert (
        "column 'illustrative' (header '示意') has 1 value that is not true/false "
        "(row 2): 'maybe'" in msg
    )


def test_shapefile_without_prj_is_a_crs_error(tmp_path):
    shp = tmp_path / "noprj.shp"
    gdf_points().to_file(shp, engine="pyogrio")
    shp.with_suffix(".prj").unlink()
    with pytest.raises(CrsError, match=r"noprj\.shp: has no CRS.*\.prj"):
        read_communities(shp)


def test_rows_in_equals_rows_out_and_points_valid(zh_csv):
    gdf = read_communities(zh_csv)
    assert len(gdf) == len(ROWS_ZH)
    assert shapely.is_valid(gdf.geometry.to_numpy()).all()
    assert gdf["community_id"].is_unique
