"""The columns the loaders know, and the header spellings (Chinese and English) they accept."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING

import pandas as pd

from coverage._validate import (
    normalise_header,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


logger = logging.getLogger(__name__)


Source = str | PathLike[str] | pd.DataFrame


"""A path to a CSV, Excel, GeoJSON, GeoPackage or Shapefile (``.shp`` or ``.zip``) file, or a
DataFrame / GeoDataFrame in memory."""


_LON_ALIASES = ("lon", "经度", "lng", "long", "longitude", "x", "东经", "经度(e)")


_LAT_ALIASES = ("lat", "纬度", "latitude", "y", "北纬", "纬度(n)")


COMMUNITY_ALIASES: dict[str, tuple[str, ...]] = {
    "community_id": ("id", "社区编码", "编码", "编号", "code", "社区代码", "社区编号", "村社编码"),
    "name": (
        "社区名称",
        "名称",
        "社区",
        "村名",
        "村(社区)",
        "社区(村)",
        "村社区",
        "村社名称",
        "村(社区)名称",
        "community",
        "community_name",
    ),
    "district": (
        "所属区县",
        "区县",
        "区",
        "县",
        "county",
        "所属区",
        "区(县)",
        "区(县、市)",
        "县(市、区)",
        "区县(市)",
    ),
    "street": (
        "街道",
        "乡镇",
        "街道(乡镇)",
        "乡镇(街道)",
        "街镇",
        "镇街",
        "subdistrict",
        "town",
        "所属街道",
        "所属乡镇",
        "所属街道(乡镇)",
    ),
    "kind": ("类型", "社区类型", "type", "城乡类型", "城乡属性"),
    "population": (
        "人口",
        "常住人口",
        "户籍人口",
        "pop",
        "residents",
        "人口数",
        "总人口",
        "居民人数",
    ),
    "households": ("户数", "住户数", "hh", "总户数", "居民户数"),
    "lon": _LON_ALIASES,
    "lat": _LAT_ALIASES,
    "area_m2": ("面积", "占地面积", "area", "辖区面积", "用地面积"),
}


"""Accepted headers of each canonical community column (besides the canonical name itself),
the preferred spelling first. Matching ignores case, spaces, brackets and units."""


HALL_ALIASES: dict[str, tuple[str, ...]] = {
    "hall_id": ("id", "编码", "编号", "站点编号", "code", "站点编码", "中心编号", "设施编号"),
    "name": (
        "名称",
        "服务中心名称",
        "站点名称",
        "name",
        "中心名称",
        "站点",
        "服务中心",
        "设施名称",
    ),
    "floor_area_m2": (
        "面积",
        "建筑面积",
        "用房面积",
        "使用面积",
        "floor_area",
        "area",
        "服务用房面积",
        "配套用房面积",
    ),
    "kind": ("类型", "type", "站点类型", "设施类型"),
    "illustrative": ("示意", "是否示意", "示意点位"),
    "lon": _LON_ALIASES,
    "lat": _LAT_ALIASES,
}


"""Accepted headers of each canonical hall column (besides the canonical name itself)."""


COMMUNITY_COLUMNS: tuple[str, ...] = (
    "community_id",
    "name",
    "district",
    "street",
    "kind",
    "population",
    "households",
    "households_estimated",
    "area_m2",
    "lon",
    "lat",
)


"""Canonical columns of :func:`read_communities`, in output order (then ``lon_<system>`` /
``lat_<system>`` when converted, the user's columns, ``source_row`` and ``geometry``)."""


HALL_COLUMNS: tuple[str, ...] = (
    "hall_id",
    "name",
    "kind",
    "floor_area_m2",
    "illustrative",
    "lon",
    "lat",
)


"""Canonical columns of :func:`read_halls`, in output order."""


URBAN = frozenset(
    normalise_header(v)
    for v in (
        "urban",
        "城市",
        "城镇",
        "社区",
        "城区",
        "居委会",
        "城市社区",
        "居民委员会",
        "撤村建居",
    )
)


RURAL = frozenset(
    normalise_header(v)
    for v in ("rural", "农村", "乡村", "村", "村委会", "农村社区", "行政村", "村民委员会")
)


@dataclass(frozen=True)
class Spec:
    what: str
    id_col: str
    id_prefix: str
    id_width: int
    aliases: Mapping[str, Sequence[str]]
    required: tuple[str, ...]


COMMUNITIES = Spec("communities", "community_id", "C", 4, COMMUNITY_ALIASES, ("population",))


HALLS = Spec("halls", "hall_id", "H", 3, HALL_ALIASES, ())
