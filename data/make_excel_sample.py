"""Write the "bring your own data" sample: Excel lists with Chinese headers in GCJ-02.

Planners' lists usually come from Amap (GCJ-02) with Chinese headers. This script turns the
bundled West Lake sample (real OSM data, illustrative halls) into such files, so the notebook
``02_bring_your_own_data`` can show the whole path from an Excel sheet to an audit:

- ``samples/西湖社区名单_gcj02.xlsx``: sheet 社区 with 编号, 社区名称, 所属区县, 街道, 类型 (城市),
  常住人口, 户数, 经度, 纬度 (GCJ-02), and a title row above the header as exported lists have;
- ``samples/服务中心_gcj02.xlsx``: sheet 服务中心 with 站点编号, 服务中心名称, 用房面积(㎡),
  经度, 纬度 (GCJ-02), 示意 (illustrative).

Run: ``python data/make_excel_sample.py`` (deterministic).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage.coords import wgs84_to_gcj02

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Write both workbooks."""
    com = gpd.read_file(HERE / "hangzhou-xihu" / "communities.gpkg", layer="communities")
    pts = com.to_crs(32650).geometry.representative_point().to_crs(4326)
    lon, lat = wgs84_to_gcj02(pts.x.to_numpy(), pts.y.to_numpy())
    communities = pd.DataFrame(
        {
            "编号": com["community_id"],
            "社区名称": com["name"],
            "所属区县": com["district"],
            "街道": com["street"],
            "类型": com["kind"].map({"urban": "城市", "rural": "农村"}),
            "常住人口": com["population"],
            "户数": com["households"],
            "经度": lon.round(6),
            "纬度": lat.round(6),
        }
    )
    halls = gpd.read_file(HERE / "hangzhou-xihu" / "halls.gpkg", layer="halls")
    hlon, hlat = wgs84_to_gcj02(halls.geometry.x.to_numpy(), halls.geometry.y.to_numpy())
    hall_table = pd.DataFrame(
        {
            "站点编号": halls["hall_id"],
            "服务中心名称": halls["name"],
            "用房面积(㎡)": halls["floor_area_m2"].round(0),
            "经度": hlon.round(6),
            "纬度": hlat.round(6),
            "示意": halls["illustrative"].map({True: "是", False: "否"}),
        }
    )
    out = HERE / "samples"
    out.mkdir(exist_ok=True)
    with pd.ExcelWriter(out / "西湖社区名单_gcj02.xlsx", engine="openpyxl") as xw:
        communities.to_excel(xw, sheet_name="社区", index=False, startrow=1)
        xw.sheets["社区"]["A1"] = (
            "西湖及老城区社区名单 (示例数据, 坐标: 高德 GCJ-02; 源自 OpenStreetMap, ODbL)"
        )
    with pd.ExcelWriter(out / "服务中心_gcj02.xlsx", engine="openpyxl") as xw:
        hall_table.to_excel(xw, sheet_name="服务中心", index=False)


if __name__ == "__main__":
    main()
