"""Write the bad-input corpus of ``tests/data/bad/`` and its README, deterministically.

Run from the project root::

    .venv/bin/python tests/data/bad/make_bad.py

Every file is small (< 50 KB). Tables where a network is needed are built on the
hand-checkable grid of :mod:`coverage.testing` (communities A-E, halls H1/H2, 300 m blocks
south-east of central Hangzhou); the GCJ-02 case uses the bundled ``hangzhou-central`` sample.
:data:`CASES` is the single list of cases: the README table is generated from it, and
``tests/test_bad_inputs.py`` is parametrized over it. Re-running the script rewrites the same
bytes (Excel and zip time stamps are fixed, the shapefile's DBF date too).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import re
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parents[2]) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(HERE.parents[2]))

_FIXED_DATE = (2024, 1, 1, 0, 0, 0)
_FIXED_ISO = "2024-01-01T00:00:00Z"


@dataclass(frozen=True)
class Case:
    """One bad input and the answer it must get.

    Attributes
    ----------
    file
        File name inside ``tests/data/bad/``.
    wrong
        What is wrong with it, in plain words.
    expected
        Name of the error or warning class, or ``"none"`` when the file must be read correctly.
    fragment
        Exact fragment of the message (``""`` for ``"none"``).
    use
        How the test feeds it in: ``communities`` / ``halls`` (the loaders), ``network``
        (:func:`coverage.network.load_network`), ``audit-communities`` / ``audit-halls`` (read,
        then :func:`coverage.audit.audit` on the grid), ``gcj02-check``
        (:func:`coverage.checks.check_coord_system` on the hangzhou-central network, its
        message raised as a ``CoordinateSystemWarning`` the way ``audit()`` does).
    check
        For files that must be read correctly: column -> expected values.
    """

    file: str
    wrong: str
    expected: str
    fragment: str
    use: str = "communities"
    check: dict[str, list[Any]] = field(default_factory=dict)


# --- base data ------------------------------------------------------------------------------------

HEADER = ["编号", "社区名称", "所属区县", "街道", "类型", "常住人口", "户数", "经度", "纬度"]


def _grid_rows() -> list[list[Any]]:
    """The five grid communities (coverage.testing.grid_communities) as spreadsheet rows."""
    from coverage.testing import grid_communities

    gdf = grid_communities()
    kinds = {"urban": "社区", "rural": "村"}
    return [
        [
            row.community_id,
            row.name,
            {"West": "西区", "East": "东区"}[row.district],
            row.street,
            kinds[row.kind],
            int(row.population),
            int(row.households),
            round(row.geometry.x, 7),
            round(row.geometry.y, 7),
        ]
        for row in gdf.itertuples()
    ]


def _grid_hall_rows() -> list[list[Any]]:
    from coverage.testing import grid_halls

    return [
        [r.hall_id, r.name, r.floor_area_m2, "是", round(r.geometry.x, 7), round(r.geometry.y, 7)]
        for r in grid_halls().itertuples()
    ]


HALL_HEADER = ["站点编号", "服务中心名称", "建筑面积(㎡)", "示意", "经度", "纬度"]


def _csv_bytes(
    header: list[Any],
    rows: list[list[Any]],
    *,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    before: list[list[Any]] | None = None,
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for line in before or []:
        writer.writerow(line)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def _fix_zip(raw: bytes) -> bytes:
    """Rewrite a zip archive (xlsx, zipped shapefile) with fixed time stamps."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*", rf"\g<1>{_FIXED_ISO}", text
                )
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    return out.getvalue()


def _xlsx(sheets: list[tuple[str, list[list[Any]], list[str]]]) -> bytes:
    """A workbook with (title, rows, merged ranges) per sheet."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, merged in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for rng in merged:
            ws.merge_cells(rng)
    stamp = dt.datetime(2024, 1, 1)  # noqa: DTZ001
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buf = io.BytesIO()
    wb.save(buf)
    return _fix_zip(buf.getvalue())


def _feature(geometry: dict[str, Any] | None, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _geojson(features: list[dict[str, Any]]) -> bytes:
    text = json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1
    )
    return (text + "\n").encode("utf-8")


def _grid_features() -> list[dict[str, Any]]:
    return [
        _feature(
            {"type": "Point", "coordinates": [r[7], r[8]]},
            {"编号": r[0], "名称": r[1], "类型": r[4], "人口": r[5]},
        )
        for r in _grid_rows()
    ]


def _osm_xml(n: int = 4, *, roads: bool = True) -> bytes:
    """The grid network as OSM XML (residential ways along every row and column)."""
    from coverage.testing import grid_graph

    G = grid_graph(n)
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='make_bad'>"]
    lines += [
        f"  <node id='{k + 1}' version='1' lat='{d['y']:.7f}' lon='{d['x']:.7f}'/>"
        for k, d in G.nodes(data=True)
    ]
    way = 1
    for i in range(n):
        for refs, name in (
            ([i * n + j + 1 for j in range(n)], f"row {i}"),
            ([j * n + i + 1 for j in range(n)], f"col {i}"),
        ):
            lines.append(f"  <way id='{way}' version='1'>")
            lines += [f"    <nd ref='{r}'/>" for r in refs]
            tag = "highway' v='residential" if roads else "building' v='yes"
            lines += [f"    <tag k='{tag}'/>", f"    <tag k='name' v='{name}'/>", "  </way>"]
            way += 1
    lines.append("</osm>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _osm_pbf(tmp: Path) -> bytes:
    """The grid network as an .osm.pbf file (written by pyosmium from the XML)."""
    import osmium

    xml = tmp / "grid.osm"
    xml.write_bytes(_osm_xml(8))
    pbf = tmp / "grid.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            if isinstance(obj, osmium.osm.Node):
                writer.add_node(obj)
            elif isinstance(obj, osmium.osm.Way):
                writer.add_way(obj)
    return pbf.read_bytes()


def _graphml() -> bytes:
    import osmnx as ox

    from coverage.testing import grid_graph

    buf = io.BytesIO()
    G = grid_graph(4)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.graphml"
        ox.save_graphml(G, path)
        buf.write(path.read_bytes())
    return buf.getvalue()


def _corrupt(data: bytes, at: float = 0.25) -> bytes:
    """Flip 16 bytes at a fraction of the data: the header stays valid, the body does not."""
    out = bytearray(data)
    start = int(len(out) * at)
    for k in range(start, start + 16):
        out[k] ^= 0xFF
    return bytes(out)


def _shapefile_zip_without_prj() -> bytes:
    import tempfile

    import geopandas as gpd
    import shapely

    rows = _grid_rows()
    gdf = gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "kind": ["urban", "urban", "rural", "urban", "rural"],
            "pop": [r[5] for r in rows],
        },
        geometry=shapely.points([r[7] for r in rows], [r[8] for r in rows]),
        crs=4326,
    )
    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "communities.shp"
        gdf.to_file(shp, engine="pyogrio")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for suffix in (".shp", ".shx", ".dbf", ".cpg"):
                data = bytearray(shp.with_suffix(suffix).read_bytes())
                if suffix == ".dbf":
                    data[1:4] = bytes([124, 1, 1])  # last-update date 2024-01-01
                info = zipfile.ZipInfo(f"communities{suffix}", date_time=_FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, bytes(data))
    return out.getvalue()


def _fgb_without_crs() -> bytes:
    import tempfile

    import geopandas as gpd
    import shapely

    rows = _grid_rows()
    gdf = gpd.GeoDataFrame(
        {"名称": [r[1] for r in rows], "人口": [r[5] for r in rows]},
        geometry=shapely.points([r[7] for r in rows], [r[8] for r in rows]),
        crs=None,
    )
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "'crs' was not provided": that is the point
        path = Path(tmp) / "x.fgb"
        gdf.to_file(path, driver="FlatGeobuf", engine="pyogrio", SPATIAL_INDEX="NO")
        return path.read_bytes()


def _gcj02_communities() -> bytes:
    """Every fourth hangzhou-central community, shifted into GCJ-02 and written as plain lon/lat."""
    import geopandas as gpd

    from coverage.coords import wgs84_to_gcj02
    from coverage.samples import sample_path

    gdf = gpd.read_file(
        sample_path("hangzhou-central", "communities"), layer="communities", engine="pyogrio"
    )
    gdf = gdf.iloc[::4]
    pts = gdf.geometry.to_crs(4326).representative_point()
    lon, lat = wgs84_to_gcj02(pts.x.to_numpy(), pts.y.to_numpy())
    rows = [
        [cid, kind, int(pop), f"{x:.6f}", f"{y:.6f}"]
        for cid, kind, pop, x, y in zip(
            gdf["community_id"], gdf["kind"], gdf["population"], lon, lat, strict=True
        )
    ]
    return _csv_bytes(["id", "kind", "population", "lng", "lat"], rows, encoding="utf-8")


# --- the cases ------------------------------------------------------------------------------------


def _files(tmp: Path) -> dict[str, bytes]:  # noqa: PLR0915  (one list of small recipes)
    rows = _grid_rows()
    hrows = _grid_hall_rows()
    f: dict[str, bytes] = {}

    def variant(edit: dict[tuple[int, int], Any]) -> list[list[Any]]:
        out = [list(r) for r in rows]
        for (i, j), value in edit.items():
            out[i][j] = value
        return out

    # headers
    f["communities_misspelt_name_zh.csv"] = _csv_bytes(
        ["编号", "社区名陈", "类型", "常住人口", "经度", "纬度"],
        [[r[0], r[1], r[4], r[5], r[7], r[8]] for r in rows],
    )
    f["communities_misspelt_population_en.csv"] = _csv_bytes(
        ["id", "name", "type", "popluation", "lng", "lat"],
        [[r[0], f"Community {r[0]}", "urban", r[5], r[7], r[8]] for r in rows],
    )
    f["communities_misspelt_kind_zh.csv"] = _csv_bytes(
        ["编号", "社区名称", "类形", "常住人口", "经度", "纬度"],
        [[r[0], r[1], r[4], r[5], r[7], r[8]] for r in rows],
    )
    f["communities_missing_population.csv"] = _csv_bytes(
        ["编号", "社区名称", "类型", "户数", "经度", "纬度"],
        [[r[0], r[1], r[4], r[6], r[7], r[8]] for r in rows],
    )
    f["communities_missing_lonlat.csv"] = _csv_bytes(
        ["编号", "社区名称", "类型", "常住人口", "地址"],
        [[r[0], r[1], r[4], r[5], "杭州市"] for r in rows],
    )
    # empty files
    f["communities_empty.csv"] = b""
    f["communities_blank_lines.csv"] = b"\r\n,,,\r\n  \r\n"
    f["communities_header_only.csv"] = _csv_bytes(HEADER, [])
    f["communities_header_only.xlsx"] = _xlsx([("社区", [HEADER], [])])
    # encodings: read correctly
    f["communities_gbk.csv"] = _csv_bytes(HEADER, rows, encoding="gbk")
    gb = variant({(0, 1): "𠈌社区", (2, 1): "䶮村"})  # four-byte GB18030, outside GBK
    f["communities_gb18030.csv"] = _csv_bytes(HEADER, gb, encoding="gb18030")
    f["communities_utf16.txt"] = _csv_bytes(HEADER, rows, encoding="utf-16", delimiter="\t")
    # Excel
    f["communities_several_sheets.xlsx"] = _xlsx(
        [
            ("说明", [["本表为测试数据"], ["人口为常住人口"]], []),
            ("汇总", [["区县", "社区数"], ["西区", 3], ["东区", 2]], []),
            ("社区名单", [HEADER, *variant({(1, 5): None, (3, 5): "—"})], []),
        ]
    )
    merged_header = [
        ["测试社区名单(2024)", None, None, None, None, None, None, None, None],
        ["编号", "社区名称", "所属区县", "街道", "类型", "常住人口", "户数", "位置", None],
        [None, None, None, None, None, None, None, "经度", "纬度"],
    ]
    merged = ["A1:I1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3", "F2:F3", "G2:G3", "H2:I2"]
    f["communities_merged_header.xlsx"] = _xlsx([("社区", [*merged_header, *rows], merged)])
    f["communities_merged_header_bad.xlsx"] = _xlsx(
        [("社区", [*merged_header, *variant({(2, 5): "约3000"})], merged)]
    )
    f["communities_excel_errors.xlsx"] = _xlsx(
        [("社区", [HEADER, *variant({(0, 5): "#DIV/0!", (1, 5): "#VALUE!", (2, 5): "#N/A"})], [])]
    )
    f["communities_csv_named_xlsx.xlsx"] = _csv_bytes(HEADER, rows)
    # coordinates
    f["communities_swapped_lonlat.csv"] = _csv_bytes(HEADER, [[*r[:7], r[8], r[7]] for r in rows])
    f["communities_swapped_some_rows.csv"] = _csv_bytes(
        HEADER, [[*r[:7], r[8], r[7]] if i in {1, 3} else r for i, r in enumerate(rows)]
    )
    f["communities_null_island.csv"] = _csv_bytes(HEADER, variant({(4, 7): 0, (4, 8): 0}))
    f["communities_far_from_network.csv"] = _csv_bytes(
        HEADER, variant({(3, 7): rows[3][7] + 1.0, (4, 8): rows[4][8] + 0.5})
    )
    f["communities_gcj02_declared_wgs84.csv"] = _gcj02_communities()
    # CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549) metres in two rows
    import pyproj

    to_gk = pyproj.Transformer.from_crs(4326, 4549, always_xy=True)
    mixed = [list(r) for r in rows]
    for i in (2, 4):
        x, y = to_gk.transform(rows[i][7], rows[i][8])
        mixed[i][7], mixed[i][8] = round(x, 2), round(y, 2)
    f["communities_mixed_crs.csv"] = _csv_bytes(HEADER, mixed)
    # typos among valid degrees: a "1" typed twice; a decimal point one place off
    f["communities_lon_typo.csv"] = _csv_bytes(HEADER, variant({(2, 7): 1120.1601071}))
    f["communities_coordinate_typos.csv"] = _csv_bytes(
        HEADER, variant({(1, 7): 1201.585497, (4, 8): 302.52346})
    )
    f["communities_metres_as_degrees.geojson"] = _geojson(
        [
            _feature(
                {
                    "type": "Point",
                    "coordinates": [round(c, 2) for c in to_gk.transform(r[7], r[8])],
                },
                {"名称": r[1], "人口": r[5], "类型": r[4]},
            )
            for r in rows
        ]
    )
    f["communities_no_prj.zip"] = _shapefile_zip_without_prj()
    f["communities_no_crs.fgb"] = _fgb_without_crs()
    # ids and values
    f["communities_duplicate_ids.csv"] = _csv_bytes(HEADER, variant({(2, 0): "A", (4, 0): "B"}))
    # rows F and G repeat A and C under new ids (a list pasted twice, then renumbered)
    f["communities_duplicate_rows.csv"] = _csv_bytes(
        HEADER, [*rows, ["F", *rows[0][1:]], ["G", *rows[2][1:]]]
    )
    f["communities_null_population.csv"] = _csv_bytes(HEADER, variant({(1, 5): "", (3, 5): "NULL"}))
    f["communities_negative_population.csv"] = _csv_bytes(HEADER, variant({(2, 5): -500}))
    f["communities_nonnumeric_population.csv"] = _csv_bytes(
        HEADER, variant({(0, 5): "约3000", (1, 5): "abc", (4, 5): "三千"})
    )
    f["communities_huge_population.csv"] = _csv_bytes(HEADER, variant({(0, 5): "1e400"}))
    kinds = ["城市", "城镇", "社区", "农村", "乡村", "村", "Urban", "RURAL", "城区", "行政村"]
    f["communities_kind_variants.csv"] = _csv_bytes(
        HEADER,
        [
            [f"K{i}", f"社区{i}", "西区", "w1", k, 100, 40, rows[0][7], rows[0][8]]
            for i, k in enumerate(kinds)
        ],
    )
    f["communities_kind_suburban.csv"] = _csv_bytes(
        HEADER, variant({(1, 4): "suburban", (3, 4): "郊区"})
    )
    # geometries
    x0, y0 = rows[0][7], rows[0][8]
    d = 0.001
    features = _grid_features()
    features[1]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x0 + d, y0 + d], [x0 + d, y0], [x0, y0 + d], [x0, y0]]],
    }
    f["communities_invalid_polygon.geojson"] = _geojson(features)
    features = _grid_features()
    features[1]["geometry"] = None
    features[3]["geometry"] = {"type": "Point", "coordinates": []}
    f["communities_empty_geometries.geojson"] = _geojson(features)
    features = _grid_features()
    features[2]["geometry"] = {"type": "LineString", "coordinates": [[x0, y0], [x0 + d, y0]]}
    f["communities_linestring.geojson"] = _geojson(features)
    f["communities_polygons.geojson"] = _geojson(
        [
            _feature(
                {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [r[7], r[8]],
                            [r[7] + d, r[8]],
                            [r[7] + d, r[8] + d],
                            [r[7], r[8] + d],
                            [r[7], r[8]],
                        ]
                    ],
                },
                {"编号": r[0], "类型": r[4], "人口": r[5]},
            )
            for r in rows
        ]
    )
    # halls
    hall_features = [
        _feature(
            {"type": "MultiPoint", "coordinates": [[r[4], r[5]], [r[4] + 0.0002, r[5]]]}
            if i == 1
            else {"type": "Point", "coordinates": [r[4], r[5]]},
            {"编号": r[0], "名称": r[1]},
        )
        for i, r in enumerate(hrows)
    ]
    f["halls_multipoint.geojson"] = _geojson(hall_features)
    f["halls_duplicate_ids.csv"] = _csv_bytes(HALL_HEADER, [hrows[0], hrows[1], hrows[0]])
    f["halls_misspelt_lonlat.csv"] = _csv_bytes(
        ["站点编号", "服务中心名称", "经渡", "纬渡"], [[r[0], r[1], r[4], r[5]] for r in hrows]
    )
    f["halls_bad_values.csv"] = _csv_bytes(
        HALL_HEADER,
        [[*hrows[0][:2], "abc", "maybe", *hrows[0][4:]], [*hrows[1][:2], -50, "否", *hrows[1][4:]]],
    )
    # 1.5 km east of the grid (off the network) and 60 km south (a typo in the latitude)
    f["halls_off_network.csv"] = _csv_bytes(
        HALL_HEADER,
        [*hrows, ["H3", "东外服务中心", 300, "否", round(hrows[1][4] + 0.0155, 7), hrows[1][5]]],
    )
    f["halls_far_outside.csv"] = _csv_bytes(
        HALL_HEADER,
        [*hrows, ["H3", "远方服务中心", 300, "否", hrows[1][4], round(hrows[1][5] - 0.54, 7)]],
    )
    # networks
    pbf = _osm_pbf(tmp)
    f["network_truncated.osm.pbf"] = pbf[: len(pbf) // 2]
    f["network_csv_named.graphml"] = _csv_bytes(HEADER, rows, encoding="utf-8")
    f["network_empty.osm"] = b""
    f["network_no_roads.osm"] = _osm_xml(3, roads=False)
    f["network_ways_without_nodes.osm"] = re.sub(rb"  <node [^\n]*\n", b"", _osm_xml(3))
    graphml = _graphml()
    f["network_truncated.graphml"] = graphml[: len(graphml) // 2]
    osm_bz2 = bz2.compress(_osm_xml(6), compresslevel=9)
    f["network_truncated.osm.bz2"] = osm_bz2[: len(osm_bz2) // 2]
    f["network_corrupt.osm.bz2"] = _corrupt(osm_bz2)
    graphml_gz = gzip.compress(graphml, compresslevel=9, mtime=0)
    f["network_corrupt.graphml.gz"] = _corrupt(graphml_gz)
    f["network_truncated.graphml.gz"] = graphml_gz[: len(graphml_gz) // 2]
    f["network_not_gzip.graphml.gz"] = graphml
    f["network_corrupt.osm.gz"] = _corrupt(gzip.compress(_osm_xml(6), compresslevel=9, mtime=0))
    f["network_empty.osm.pbf"] = b""
    f["network_corrupt.osm.pbf"] = _corrupt(pbf, at=0.5)
    f["network_not_gpkg.gpkg"] = _csv_bytes(HEADER, rows, encoding="utf-8")
    f["network_empty.gpkg"] = b""
    f["network_points.geojson"] = _geojson(_grid_features())
    return f


CASES: list[Case] = [
    # --- headers ---
    Case("communities_misspelt_name_zh.csv", "name header misspelt 社区名陈 (for 社区名称)",
         "CoverageWarning",
         "communities_misspelt_name_zh.csv: unrecognised header kept as an ordinary column: "
         "'社区名陈' looks like '社区名称' (column 'name'); if that is what it holds, fix the "
         "header or pass columns={'社区名陈': 'name'}"),
    Case("communities_misspelt_population_en.csv", "population header misspelt 'popluation'",
         "MissingColumnError",
         "communities_misspelt_population_en.csv: required column 'population' is missing; … "
         "did you mean 'popluation'? (pass columns={'popluation': 'population'})"),
    Case("communities_misspelt_kind_zh.csv", "kind header misspelt 类形 (for 类型)",
         "CoverageWarning",
         "communities_misspelt_kind_zh.csv: no 'kind' column (类型); all 5 communities are taken "
         "as urban (15-minute threshold). Header '类形' looks like '类型': if it holds the kind, "
         "fix the header or pass columns={'类形': 'kind'}."),
    Case("communities_missing_population.csv", "no population column at all",
         "MissingColumnError",
         "communities_missing_population.csv: required column 'population' is missing; accepted "
         "headers: population, 人口, 常住人口"),
    Case("communities_missing_lonlat.csv", "no longitude/latitude columns (an address only)",
         "MissingColumnError",
         "communities_missing_lonlat.csv: 2 problems found:\n  - required column 'lon' is "
         "missing; … the table has an address column ('地址') but no coordinates: geocode the "
         "addresses first"),
    # --- empty ---
    Case("communities_empty.csv", "0 bytes", "InputDataError",
         "communities_empty.csv: the file is empty"),
    Case("communities_blank_lines.csv", "only blank lines and commas", "InputDataError",
         "communities_blank_lines.csv: the file is empty"),
    Case("communities_header_only.csv", "a header row and no data", "InputDataError",
         "communities_header_only.csv: there is a header (row 1) but no data rows"),
    Case("communities_header_only.xlsx", "a header row and no data (Excel)", "InputDataError",
         "communities_header_only.xlsx: there is a header (row 1) but no data rows"),
    # --- encodings ---
    Case("communities_gbk.csv", "GBK-encoded CSV (Excel's default 'CSV' on Chinese Windows)",
         "none", "", check={"name": ["社区A", "社区B", "村C", "社区D", "村E"]}),
    Case("communities_gb18030.csv", "GB18030 with characters outside GBK (𠈌, 䶮)", "none", "",
         check={"name": ["𠈌社区", "社区B", "䶮村", "社区D", "村E"]}),
    Case("communities_utf16.txt", "UTF-16 tab-separated ('Unicode text' from Excel)", "none", "",
         check={"community_id": ["A", "B", "C", "D", "E"]}),
    # --- Excel ---
    Case("communities_several_sheets.xlsx",
         "three sheets (notes, summary, list); the list has null population", "InputDataError",
         "communities_several_sheets.xlsx[sheet=社区名单]: column 'population' (header '常住人口') "
         "has 2 null values (rows 3, 5; community_id: 'B', 'D')"),
    Case("communities_merged_header.xlsx",
         "title row merged across, two-row header with 位置 merged over 经度/纬度", "none", "",
         check={"source_row": [4, 5, 6, 7, 8], "kind": ["urban", "urban", "rural", "urban",
                                                          "rural"]}),
    Case("communities_merged_header_bad.xlsx", "merged header; population '约3000' on row 6",
         "InputDataError",
         "communities_merged_header_bad.xlsx: column 'population' (header '常住人口') has 1 "
         "non-numeric value (row 6; community_id: 'C'): '约3000'"),
    Case("communities_excel_errors.xlsx", "formula errors #DIV/0!, #VALUE!, #N/A as population",
         "InputDataError",
         "communities_excel_errors.xlsx: 2 problems found:\n  - "
         "column 'population' (header '常住人口') has 2 non-numeric values (rows 2, 3; "
         "community_id: 'A', 'B'): '#DIV/0!', '#VALUE!'\n  - column 'population' (header "
         "'常住人口') has 1 null value (row 4; community_id: 'C')"),
    Case("communities_csv_named_xlsx.xlsx", "a CSV file saved with an .xlsx name",
         "InputDataError",
         "communities_csv_named_xlsx.xlsx: cannot read the file: this is a text file, not an "
         "Excel workbook (a CSV saved with an Excel name?); rename it to .csv"),
    # --- coordinates ---
    Case("communities_swapped_lonlat.csv", "经度/纬度 swapped in every row", "InputDataError",
         "communities_swapped_lonlat.csv: columns 'lon'/'lat' (headers '经度'/'纬度'): looks like "
         "经度/纬度 (lon/lat) are swapped in 5 of 5 rows (rows 2, 3, 4, 5, 6; community_id: 'A', "
         "'B', 'C', 'D', 'E')"),
    Case("communities_swapped_some_rows.csv", "经度/纬度 swapped in two rows", "InputDataError",
         "communities_swapped_some_rows.csv: columns 'lon'/'lat' (headers '经度'/'纬度'): looks "
         "like 经度/纬度 (lon/lat) are swapped in 2 of 5 rows (rows 3, 5; community_id: 'B', "
         "'D')"),
    Case("communities_null_island.csv", "lon = lat = 0 (a placeholder for 'unknown')",
         "InputDataError",
         "communities_null_island.csv: columns 'lon'/'lat' (headers '经度'/'纬度'): 1 point at "
         "lon=0, lat=0 (row 6; community_id: 'E'); 0/0 is a placeholder for unknown "
         "coordinates"),
    Case("communities_far_from_network.csv",
         "two points 100 km / 55 km away from the grid network (typos)", "InputDataError",
         "communities_far_from_network.csv: 2 points lie more than 20 km from every road of "
         "the network (rows 5, 6; community_id: 'D', 'E')", use="audit-communities"),
    Case("communities_gcj02_declared_wgs84.csv",
         "hangzhou-central communities in GCJ-02 (Amap), read as WGS-84", "CoverageWarning",
         "communities_gcj02_declared_wgs84.csv: declared WGS-84, but the points fit the roads "
         'far better read as GCJ-02 (Amap/Tencent): read them with coord_system="gcj02"',
         use="gcj02-check"),
    Case("communities_mixed_crs.csv", "two rows in CGCS2000 Gauss-Kruger metres (EPSG:4549)",
         "InputDataError",
         "communities_mixed_crs.csv: columns 'lon'/'lat' (headers '经度'/'纬度'): 2 points "
         "outside lon -180..180 / lat -90..90 (rows 4, 6; community_id: 'C', 'E'), e.g. "
         "lon=515408, lat=3.34854e+06; these look like projected coordinates in metres"),
    Case("communities_lon_typo.csv", "longitude 1120.1601071 typed for 120.1601071 in one row",
         "InputDataError",
         "communities_lon_typo.csv: columns 'lon'/'lat' (headers '经度'/'纬度'): 1 longitude "
         "outside -180..180 among otherwise valid degrees (row 4; community_id: 'C'): "
         "lon=1120.1601071 looks like a typo; correct it in the file"),
    Case("communities_coordinate_typos.csv",
         "a longitude and a latitude with the decimal point one place off (two rows)",
         "InputDataError",
         "communities_coordinate_typos.csv: columns 'lon'/'lat' (headers '经度'/'纬度'): 2 "
         "coordinates outside lon -180..180 / lat -90..90 among otherwise valid degrees (rows "
         "3, 6; community_id: 'B', 'E'): lon=1201.585497, lat=302.52346 look like typos; "
         "correct them in the file"),
    Case("communities_metres_as_degrees.geojson",
         "GeoJSON (EPSG:4326 by definition) holding EPSG:4549 metres", "InputDataError",
         "communities_metres_as_degrees.geojson: coordinates: 5 points outside lon -180..180 / "
         "lat -90..90 (features 1, 2, 3, 4, 5)"),
    Case("communities_no_prj.zip", "zipped shapefile without its .prj (no CRS)", "CrsError",
         "communities_no_prj.zip: has no CRS; set the one the coordinates are in"),
    Case("communities_no_crs.fgb", "FlatGeobuf written without a CRS", "CrsError",
         "communities_no_crs.fgb: has no CRS; set the one the coordinates are in"),
    # --- ids and values ---
    Case("communities_duplicate_ids.csv", "ids A and B used twice", "DuplicateIdError",
         "communities_duplicate_ids.csv: column 'community_id' (header '编号') has 2 duplicated "
         "ids: 'A', 'B' (rows 2, 3, 4, 6)"),
    Case("communities_duplicate_rows.csv",
         "rows F and G repeat the names and coordinates of A and C under new ids",
         "CoverageWarning",
         "communities_duplicate_rows.csv: 2 rows repeat the name and coordinates of an earlier "
         "row and are counted again in the communities' totals: rows 2 and 7 ('社区A'; "
         "community_id 'A', 'F'), rows 4 and 8 ('村C'; community_id 'C', 'G'); delete the "
         "repeats if they are copies"),
    Case("communities_null_population.csv", "population empty and 'NULL'", "InputDataError",
         "communities_null_population.csv: column 'population' (header '常住人口') has 2 null "
         "values (rows 3, 5; community_id: 'B', 'D')"),
    Case("communities_negative_population.csv", "population -500", "InputDataError",
         "communities_negative_population.csv: column 'population' (header '常住人口') has 1 "
         "negative value (row 4; community_id: 'C')"),
    Case("communities_nonnumeric_population.csv", "population '约3000', 'abc', '三千'",
         "InputDataError",
         "communities_nonnumeric_population.csv: column 'population' (header '常住人口') has 3 "
         "non-numeric values (rows 2, 3, 6; community_id: 'A', 'B', 'E'): '约3000', 'abc', "
         "'三千'"),
    Case("communities_huge_population.csv", "population 1e400 (overflows to infinity)",
         "InputDataError",
         "communities_huge_population.csv: column 'population' (header '常住人口') has 1 "
         "non-numeric value (row 2; community_id: 'A'): '1e400'"),
    Case("communities_kind_variants.csv",
         "类型 spelt 城市/城镇/社区/农村/乡村/村/Urban/RURAL/城区/行政村", "none", "",
         check={"kind": ["urban", "urban", "urban", "rural", "rural", "rural", "urban", "rural",
                         "urban", "rural"]}),
    Case("communities_kind_suburban.csv", "类型 'suburban' and '郊区' (neither urban nor rural)",
         "InputDataError",
         "communities_kind_suburban.csv: column 'kind' (header '类型') has 2 unknown values "
         "'suburban', '郊区' (rows 3, 5; community_id: 'B', 'D'); use 城市/城镇/社区/urban for "
         "urban and 农村/乡村/村/rural for rural communities"),
    # --- geometries ---
    Case("communities_invalid_polygon.geojson", "a self-intersecting (bow-tie) polygon",
         "InputDataError",
         "communities_invalid_polygon.geojson: 1 invalid geometry (feature 2; community_id: "
         "'B'): Self-intersection"),
    Case("communities_empty_geometries.geojson", "a null and an empty geometry",
         "InputDataError",
         "communities_empty_geometries.geojson: 2 null or empty geometries (features 2, 4; "
         "community_id: 'B', 'D')"),
    Case("communities_linestring.geojson", "a LineString among the points", "InputDataError",
         "communities_linestring.geojson: 1 geometry of type LineString (feature 3; "
         "community_id: 'C'); expected points or polygons"),
    Case("communities_polygons.geojson", "polygons instead of points (accepted: a point inside "
         "each, area kept)", "none", "", check={"community_id": ["A", "B", "C", "D", "E"]}),
    Case("halls_multipoint.geojson", "a MultiPoint hall", "CoverageWarning",
         "halls_multipoint.geojson: 1 MultiPoint geometry replaced by one representative point "
         "(feature 2; hall_id: 'H2')", use="halls"),
    # --- halls ---
    Case("halls_duplicate_ids.csv", "hall H1 listed twice (an exact copy)", "DuplicateIdError",
         "halls_duplicate_ids.csv: column 'hall_id' (header '站点编号') has 1 duplicated id: "
         "'H1' (rows 2, 4); row 4 is an exact copy of an earlier row: delete it", use="halls"),
    Case("halls_misspelt_lonlat.csv", "经渡/纬渡 for 经度/纬度", "MissingColumnError",
         "halls_misspelt_lonlat.csv: 2 problems found:\n  - required column 'lon' is missing; "
         "… did you mean '经渡'? (pass columns={'经渡': 'lon'})\n  - required column 'lat' is "
         "missing; … did you mean '纬渡'? (pass columns={'纬渡': 'lat'})", use="halls"),
    Case("halls_bad_values.csv", "floor area 'abc' and -50; 示意 'maybe'", "InputDataError",
         "halls_bad_values.csv: 3 problems found:\n  - column 'floor_area_m2' (header "
         "'建筑面积(㎡)') has 1 non-numeric value (row 2; hall_id: 'H1'): 'abc'\n  - column "
         "'floor_area_m2' (header '建筑面积(㎡)') has 1 negative value (row 3; hall_id: "
         "'H2')\n  - column 'illustrative' (header '示意') has 1 value that is not "
         "true/false (row 2; hall_id: 'H1'): 'maybe'", use="halls"),
    Case("halls_off_network.csv", "hall H3 1.5 km east of the grid network", "CoverageWarning",
         "halls_off_network.csv: 1 hall lies farther than 500 m from every road usable by walk "
         "and are left out of routing: 'H3' (1,492 m; row 4)", use="audit-halls"),
    Case("halls_far_outside.csv", "hall H3 60 km south (latitude typo)", "InputDataError",
         "halls_far_outside.csv: 1 point lies more than 20 km from every road of the network "
         "(row 4; hall_id: 'H3')",
         use="audit-halls"),
    # --- networks ---
    Case("network_truncated.osm.pbf", "an .osm.pbf cut in half", "NetworkError",
         "network_truncated.osm.pbf: cannot read this network file: its PBF data is damaged or "
         "cut short (RuntimeError: PBF error: unexpected EOF)", use="network"),
    Case("network_csv_named.graphml", "a CSV file named .graphml", "NetworkError",
         "network_csv_named.graphml: cannot read this network file (ParseError: syntax error: "
         "line 1, column 0)", use="network"),
    Case("network_empty.osm", "an empty .osm (0 bytes)", "NetworkError",
         "network_empty.osm: cannot read this network file: the file is empty (0 bytes)",
         use="network"),
    Case("network_no_roads.osm", "valid OSM XML with buildings only", "NetworkError",
         "network_no_roads.osm: no highway ways found (is this an OSM road network?)",
         use="network"),
    Case("network_ways_without_nodes.osm", "OSM XML whose highway ways lost their nodes",
         "NetworkError",
         "network_ways_without_nodes.osm: none of its 6 highway ways has two of its nodes in the "
         "file (an extract without its nodes?)", use="network"),
    Case("network_truncated.graphml", "a GraphML cut in half", "NetworkError",
         "network_truncated.graphml: cannot read this network file (ParseError: no element "
         "found", use="network"),
    Case("network_truncated.osm.bz2", "an .osm.bz2 cut in half", "NetworkError",
         "network_truncated.osm.bz2: cannot read this network file: its bzip2 data is corrupt or "
         "cut short (EOFError: Compressed file ended before the end-of-stream marker was "
         "reached)", use="network"),
    Case("network_corrupt.osm.bz2", "an .osm.bz2 with 16 bytes of its body flipped",
         "NetworkError",
         "network_corrupt.osm.bz2: cannot read this network file: its bzip2 data is corrupt or "
         "cut short (", use="network"),
    Case("network_corrupt.graphml.gz",
         "a .graphml.gz whose gzip header is valid and body corrupt", "NetworkError",
         "network_corrupt.graphml.gz: cannot read this network file: its gzip data is corrupt or "
         "cut short (zlib.error: Error -3 while decompressing data", use="network"),
    Case("network_truncated.graphml.gz", "a .graphml.gz cut in half", "NetworkError",
         "network_truncated.graphml.gz: cannot read this network file: its gzip data is corrupt "
         "or cut short (EOFError: Compressed file ended before the end-of-stream marker was "
         "reached)", use="network"),
    Case("network_not_gzip.graphml.gz", "a plain GraphML named .graphml.gz", "NetworkError",
         "network_not_gzip.graphml.gz: cannot read this network file: it is not gzip-compressed; "
         "remove '.gz' from its name", use="network"),
    Case("network_corrupt.osm.gz", "an .osm.gz whose gzip header is valid and body corrupt",
         "NetworkError",
         "network_corrupt.osm.gz: cannot read this network file: its gzip data is corrupt or cut "
         "short (zlib.error: Error -3 while decompressing data", use="network"),
    Case("network_empty.osm.pbf", "an empty .osm.pbf (0 bytes)", "NetworkError",
         "network_empty.osm.pbf: cannot read this network file: the file is empty (0 bytes)",
         use="network"),
    Case("network_corrupt.osm.pbf", "an .osm.pbf with 16 bytes of a data block flipped",
         "NetworkError",
         "network_corrupt.osm.pbf: cannot read this network file: its PBF data is damaged or cut "
         "short (", use="network"),
    Case("network_not_gpkg.gpkg", "a CSV file named .gpkg (road centre lines expected)",
         "NetworkError",
         "network_not_gpkg.gpkg: cannot read this network file: it is not a GeoPackage (GDAL "
         "does not recognise its format)", use="network"),
    Case("network_empty.gpkg", "an empty .gpkg (0 bytes)", "NetworkError",
         "network_empty.gpkg: cannot read this network file: the file is empty (0 bytes)",
         use="network"),
    Case("network_points.geojson", "a 'road centre-line' file holding points", "NetworkError",
         "network_points.geojson: no line geometries (road centre lines) found", use="network"),
]  # fmt: skip


def _code(text: str) -> str:
    """Markdown code span for a table cell (pipes escaped)."""
    if not text:
        return ""
    escaped = text.replace("|", "\\|").replace("\n", "\\n")
    return f"`{escaped}`"


def _fragment_cell(case: Case) -> str:
    if case.fragment:
        return _code(case.fragment)
    return "reads: " + "; ".join(
        f"{column} = {', '.join(map(str, values))}" for column, values in case.check.items()
    )


def readme() -> str:
    """The README of the corpus, with the table generated from :data:`CASES`."""
    head = [
        "# Bad-input corpus",
        "",
        "Small, deliberately broken inputs and the exact answer each must get. Generated by",
        "`make_bad.py` (run `.venv/bin/python tests/data/bad/make_bad.py` from the project root;",
        "it rewrites the same bytes), tested by `tests/test_bad_inputs.py`. Tables that need a",
        "network are built on the hand-checkable grid of `coverage.testing` (communities A-E,",
        "halls H1/H2); the GCJ-02 case uses the bundled `hangzhou-central` sample.",
        "",
        "How a file is fed in (column *use*): `communities` / `halls`: `coverage.io.read_*`;",
        "`network`: `coverage.network.load_network`; `audit-communities` / `audit-halls`: read,",
        "then `coverage.audit.audit` on the grid network with the grid's other table;",
        "`gcj02-check`: `coverage.checks.check_coord_system` on the hangzhou-central walking",
        "network, whose message `audit()` raises as a `CoordinateSystemWarning`",
        "(a `CoverageWarning`).",
        "Expected class *none* means: read correctly, no warning, with the values shown.",
        "In fragments, `\\n` stands for a line break and ` … ` for any text.",
        "",
        "| file | what is wrong | expected error class | expected message fragment | use |",
        "|---|---|---|---|---|",
    ]
    body = [
        f"| `{c.file}` | {c.wrong} | {c.expected} | {_fragment_cell(c)} | {c.use} |" for c in CASES
    ]
    return "\n".join(head + body) + "\n"


def main(out: Path = HERE) -> list[Path]:
    """Write every corpus file and the README into ``out``; return the paths written."""
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        files = _files(Path(tmp))
    missing = {c.file for c in CASES} ^ set(files)
    if missing:
        msg = f"cases and files differ: {sorted(missing)}"
        raise RuntimeError(msg)
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    (out / "README.md").write_text(readme(), encoding="utf-8")
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"{p.stat().st_size:>7} {p.name}")  # noqa: T201
