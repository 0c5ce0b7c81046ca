"""Write the "bring your own data" sample: Excel lists with Chinese headers in GCJ-02.

Planners' lists usually come from Amap (GCJ-02) with Chinese headers. This script turns the
bundled West Lake sample (real OSM data, illustrative halls) into such files, so the notebook
``02_bring_your_own_data`` can show the whole path from an Excel sheet to an audit:

- ``samples/西湖社区名单_gcj02.xlsx``: sheet 社区 with 编号, 社区名称, 所属区县, 街道, 类型 (城市),
  常住人口, 户数, 经度, 纬度 (GCJ-02), and a title row above the header as exported lists have;
- ``samples/服务中心_gcj02.xlsx``: sheet 服务中心 with 站点编号, 服务中心名称, 用房面积(㎡),
  经度, 纬度 (GCJ-02), 示意 (illustrative).

The points are the ones ``coverage.samples.load_sample("hangzhou-xihu")`` audits: each
community's point is the one :func:`coverage.io.read_communities` puts inside its polygon,
read from ``hangzhou-xihu/communities.gpkg`` by that very function, then shifted into GCJ-02.
Read back with ``coord_system="gcj02"``, both files give the sample's points to within 0.1 mm,
so the notebook and ``coverage-planner audit --sample hangzhou-xihu`` give the same answer.

Coordinates keep 9 decimals (1e-9 degree, about 0.1 mm: the precision of the GCJ-02 inverse),
not the 6 of an Amap export (about 0.1 m): a point can lie almost equally near two roads, and
a 0.1 m shift then moves it onto the other one. In the 2015 walking network as first built,
hall XH-H014 was 20.497 m from the elevated 中河高架 and 20.501 m from the street beneath it;
at 6 decimals it changed road and 23 communities changed status.

Run after ``data/build_samples.py``: ``python data/make_excel_sample.py``. Deterministic:
re-running it rewrites the same bytes (the workbooks' time stamps are fixed).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(HERE.parent))

from coverage.coords import wgs84_to_gcj02  # noqa: E402
from coverage.io import read_communities, read_halls  # noqa: E402

COMMUNITIES_XLSX = "西湖社区名单_gcj02.xlsx"
HALLS_XLSX = "服务中心_gcj02.xlsx"
DECIMALS = 9  # 1e-9 degree (0.1 mm): the precision of the GCJ-02 inverse
_FIXED_DATE = (2024, 1, 1, 0, 0, 0)
_FIXED_ISO = "2024-01-01T00:00:00Z"


def _gcj02(lon: pd.Series, lat: pd.Series) -> tuple[pd.Series, pd.Series]:
    glon, glat = wgs84_to_gcj02(lon.to_numpy(), lat.to_numpy())
    return pd.Series(glon).round(DECIMALS), pd.Series(glat).round(DECIMALS)


def community_table() -> pd.DataFrame:
    """The communities of hangzhou-xihu as a planner's list (GCJ-02, Chinese headers)."""
    com = read_communities(HERE / "hangzhou-xihu" / "communities.gpkg", layer="communities")
    lon, lat = _gcj02(com["lon"], com["lat"])
    return pd.DataFrame(
        {
            "编号": com["community_id"],
            "社区名称": com["name"],
            "所属区县": com["district"],
            "街道": com["street"],
            "类型": com["kind"].map({"urban": "城市", "rural": "农村"}),
            "常住人口": com["population"],
            "户数": com["households"],
            "经度": lon,
            "纬度": lat,
        }
    )


def hall_table() -> pd.DataFrame:
    """The halls of hangzhou-xihu as a planner's list (GCJ-02, Chinese headers)."""
    halls = read_halls(HERE / "hangzhou-xihu" / "halls.gpkg", layer="halls")
    lon, lat = _gcj02(halls["lon"], halls["lat"])
    return pd.DataFrame(
        {
            "站点编号": halls["hall_id"],
            "服务中心名称": halls["name"],
            "用房面积(㎡)": halls["floor_area_m2"].round(0),
            "经度": lon,
            "纬度": lat,
            "示意": halls["illustrative"].map({True: "是", False: "否"}),
        }
    )


def _fix_zip(raw: bytes) -> bytes:
    """Rewrite a workbook (a zip archive) with fixed time stamps, so reruns give equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*",
                    rf"\g<1>{_FIXED_ISO}",
                    data.decode("utf-8"),
                )
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    return out.getvalue()


def _workbook(table: pd.DataFrame, sheet: str, title: str | None) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        table.to_excel(xw, sheet_name=sheet, index=False, startrow=1 if title else 0)
        if title:
            xw.sheets[sheet]["A1"] = title
    return _fix_zip(buf.getvalue())


def main() -> None:
    """Write both workbooks."""
    out = HERE / "samples"
    out.mkdir(exist_ok=True)
    title = "西湖及老城区社区名单 (示例数据, 坐标: 高德 GCJ-02; 源自 OpenStreetMap, ODbL)"
    (out / COMMUNITIES_XLSX).write_bytes(_workbook(community_table(), "社区", title))
    (out / HALLS_XLSX).write_bytes(_workbook(hall_table(), "服务中心", None))


if __name__ == "__main__":
    main()
