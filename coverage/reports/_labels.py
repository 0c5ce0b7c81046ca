"""Languages of the reports: Chinese headers, sheet names, values and reasons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from coverage._errors import InputDataError
from coverage.audit import (
    ALL_DISTRICTS,
    STATUS_COVERED,
    STATUS_NOT_COVERED,
    STATUS_UNREACHABLE,
)
from coverage.i18n import MODE_ZH, SCENARIO_WORDS

if TYPE_CHECKING:
    import pandas as pd


logger = logging.getLogger(__name__)


Lang = Literal["zh", "en"]


#: Chinese headers of the audit's columns; columns not listed keep their own name.
ZH_HEADERS: dict[str, str] = {
    # district table
    "district": "区县",
    "communities": "社区数",
    "covered": "已覆盖",
    "not_covered": "未覆盖",
    "unreachable": "不可达",
    "covered_share": "覆盖率",
    "population": "人口",
    "population_covered": "覆盖人口",
    "population_covered_share": "人口覆盖率",
    "urban_communities": "城市社区数",
    "urban_covered": "城市社区已覆盖",
    "urban_covered_share": "城市社区覆盖率",
    "urban_population": "城市社区人口",
    "urban_population_covered": "城市社区覆盖人口",
    "urban_population_covered_share": "城市社区人口覆盖率",
    "rural_communities": "农村社区数",
    "rural_covered": "农村社区已覆盖",
    "rural_covered_share": "农村社区覆盖率",
    "rural_population": "农村社区人口",
    "rural_population_covered": "农村社区覆盖人口",
    "rural_population_covered_share": "农村社区人口覆盖率",
    "median_travel_time_min": "出行时间中位数(分钟)",
    "max_travel_time_min": "最长出行时间(分钟)",
    # communities
    "community_id": "社区编号",
    "name": "名称",
    "street": "街道(乡镇)",
    "kind": "类型",
    "households": "户数",
    "households_estimated": "户数为估算",
    "nearest_hall_id": "最近服务中心编号",
    "nearest_hall_name": "最近服务中心",
    "travel_time_min": "出行时间(分钟)",
    "threshold_min": "标准(分钟)",
    "shortfall_min": "超出时间(分钟)",
    "status": "状态",
    "reason": "说明",
    "reason_zh": "说明（中文）",
    "snap_dist_m": "距道路(米)",
    "area_m2": "面积(㎡)",
    "population_source": "人口来源",
    "source": "来源",
    "source_row": "源文件行号",
    "lon": "经度(WGS-84)",
    "lat": "纬度(WGS-84)",
    "lon_gcj02": "经度(GCJ-02)",
    "lat_gcj02": "纬度(GCJ-02)",
    "lon_bd09": "经度(BD-09)",
    "lat_bd09": "纬度(BD-09)",
    # halls
    "hall_id": "服务中心编号",
    "floor_area_m2": "用房面积(㎡)",
    "illustrative": "示意位置",
    "on_network": "位于路网",
    "communities_served": "服务社区数",
    "communities_covered": "服务且覆盖社区数",
    "population_served": "服务人口",
    "households_served": "服务户数",
    "required_floor_area_m2": "所需用房面积(㎡)",
    "floor_area_adequate": "用房面积达标",
    "floor_area_gap_m2": "用房面积缺口(㎡)",
    # proposals
    "site_id": "选址编号",
    "order": "优先顺序",
    "new_population_covered": "新增覆盖人口",
    "new_communities_covered": "新增覆盖社区数",
    "members": "服务社区",
    "n_members": "服务社区数",
    "capacity_households": "容量(户)",
    "floor_area_needed_m2": "所需用房面积(㎡)",
    "description": "位置",
    "road_name": "最近道路",
    "road_m": "距道路(米)",
    "near_community": "最近社区",
    "near_community_m": "距最近社区(米)",
    # proposal sheets: before/after, hall sizes
    "scenario": "情景",
    "new_halls": "新建服务中心数",
    "low_m2": "面积下限(㎡，不含)",
    "high_m2": "面积上限(㎡，含)",
    "halls": "个数",
    "above_cap": "超过面积上限",
    "uncoverable": "无候选点可覆盖的社区",
    # coverage curves
    "p": "新增数量",
    "optimal": "最优解",
    # the life circle: one service per community, completeness, per district, the standard
    "time_min": "出行时间(分钟)",
    "distance_m": "路网距离(米)",
    "circle_min": "服务圈(分钟)",
    "circle_m": "服务圈(米)",
    "within": "在服务圈内",
    "services_required": "应配置服务项数",
    "services_ok": "服务圈内项数",
    "completeness": "服务完整度",
    "missing_zh": "缺少的服务",
    "missing": "缺少的服务（英文）",
    "service": "服务",
    "name_en": "英文名称",
    "complete": "全部达标社区数",
    "half_or_more": "半数以上达标社区数",
    "under_half": "不足半数达标社区数",
    "mean_completeness": "平均完整度",
    "communities_required": "应配置社区数",
    "communities_within": "服务圈内社区数",
    "share_within": "服务圈内社区比例",
    "share_within_urban": "城市社区服务圈内比例",
    "share_within_rural": "农村社区服务圈内比例",
    "population_share_within": "服务圈内人口比例",
    "median_min": "出行时间中位数(分钟)",
    "gini_travel_time": "出行时间基尼系数",
    "sites": "设施点数",
    "assumed": "假定值",
    "circle_urban": "城市社区服务圈",
    "circle_rural": "农村社区服务圈",
    "osm": "OSM 标签",
    # scenarios: compared with the baseline
    "change": "变化",
    "delta_min": "出行时间变化(分钟)",
    "gained": "新增覆盖社区数",
    "lost": "失去覆盖社区数",
    "faster": "更快社区数",
    "slower": "更慢社区数",
    "edit": "变动",
}


#: English headers of the audit's columns, read as words with their units; columns not
#: listed are spelled out from their names (:func:`header`).
EN_HEADERS: dict[str, str] = {
    # district table
    "district": "District",
    "communities": "Communities",
    "covered": "Covered",
    "not_covered": "Not covered",
    "unreachable": "Unreachable",
    "covered_share": "Communities covered (%)",
    "population": "Population",
    "population_covered": "Population covered",
    "population_covered_share": "Population covered (%)",
    "urban_communities": "Urban communities",
    "urban_covered": "Urban communities covered",
    "urban_covered_share": "Urban communities covered (%)",
    "urban_population": "Urban population",
    "urban_population_covered": "Urban population covered",
    "urban_population_covered_share": "Urban population covered (%)",
    "rural_communities": "Rural communities",
    "rural_covered": "Rural communities covered",
    "rural_covered_share": "Rural communities covered (%)",
    "rural_population": "Rural population",
    "rural_population_covered": "Rural population covered",
    "rural_population_covered_share": "Rural population covered (%)",
    "median_travel_time_min": "Median travel time (min)",
    "max_travel_time_min": "Longest travel time (min)",
    # communities
    "community_id": "Community ID",
    "name": "Name",
    "street": "Street (sub-district)",
    "kind": "Kind",
    "households": "Households",
    "households_estimated": "Households estimated",
    "nearest_hall_id": "Nearest hall ID",
    "nearest_hall_name": "Nearest hall",
    "travel_time_min": "Travel time (min)",
    "threshold_min": "Limit (min)",
    "shortfall_min": "Over the limit (min)",
    "status": "Status",
    "reason": "Reason",
    "reason_zh": "Reason (Chinese)",
    "snap_dist_m": "Distance to a road (m)",
    "area_m2": "Area (m²)",
    "population_source": "Population source",
    "source": "Source",
    "source_row": "Row in the source file",
    "lon": "Longitude (WGS-84)",
    "lat": "Latitude (WGS-84)",
    "lon_gcj02": "Longitude (GCJ-02)",
    "lat_gcj02": "Latitude (GCJ-02)",
    "lon_bd09": "Longitude (BD-09)",
    "lat_bd09": "Latitude (BD-09)",
    # halls
    "hall_id": "Hall ID",
    "floor_area_m2": "Floor area (m²)",
    "illustrative": "Illustrative location",
    "on_network": "On the road network",
    "communities_served": "Communities served",
    "communities_covered": "Communities served and covered",
    "population_served": "Population served",
    "households_served": "Households served",
    "required_floor_area_m2": "Floor area required (m²)",
    "floor_area_adequate": "Floor area adequate",
    "floor_area_gap_m2": "Floor area shortfall (m²)",
    # proposals
    "site_id": "Site ID",
    "order": "Order",
    "new_population_covered": "New population covered",
    "new_communities_covered": "New communities covered",
    "members": "Communities served",
    "n_members": "Number of communities served",
    "capacity_households": "Capacity (households)",
    "floor_area_needed_m2": "Floor area needed (m²)",
    "description": "Location",
    "road_name": "Nearest road",
    "road_m": "Distance to the road (m)",
    "near_community": "Nearest community",
    "near_community_m": "Distance to the nearest community (m)",
    # proposal sheets: before/after, hall sizes
    "scenario": "Scenario",
    "new_halls": "New halls",
    "low_m2": "Floor area above (m²)",
    "high_m2": "Floor area up to (m²)",
    "halls": "Halls",
    "above_cap": "Above the size cap",
    "uncoverable": "Communities no candidate site can cover",
    # coverage curves
    "p": "New halls (p)",
    "optimal": "Optimal",
    # the life circle
    "time_min": "Travel time (min)",
    "distance_m": "Network distance (m)",
    "circle_min": "Circle (min)",
    "circle_m": "Circle (m)",
    "within": "Within the circle",
    "services_required": "Services required",
    "services_ok": "Services within their circles",
    "completeness": "Completeness (%)",
    "missing": "Missing services",
    "missing_zh": "Missing services (Chinese)",
    "service": "Service",
    "name_en": "Name (English)",
    "complete": "Communities with every service",
    "half_or_more": "Communities with half or more",
    "under_half": "Communities with under half",
    "mean_completeness": "Mean completeness (%)",
    "communities_required": "Communities required",
    "communities_within": "Communities within",
    "share_within": "Communities within (%)",
    "share_within_urban": "Urban communities within (%)",
    "share_within_rural": "Rural communities within (%)",
    "population_share_within": "Population within (%)",
    "median_min": "Median travel time (min)",
    "gini_travel_time": "Gini of travel time",
    "sites": "Sites",
    "assumed": "Assumed value",
    "circle_urban": "Urban circle",
    "circle_rural": "Rural circle",
    "osm": "OSM tags",
    # scenarios: compared with the baseline
    "change": "Change",
    "delta_min": "Change in travel time (min)",
    "gained": "Communities gained",
    "lost": "Communities lost",
    "faster": "Communities faster",
    "slower": "Communities slower",
    "edit": "Edit",
}


#: Units spelled out in English headers of columns not listed in :data:`EN_HEADERS`.
_EN_UNITS = {"_min": " (min)", "_m2": " (m²)", "_m": " (m)", "_kph": " (km/h)", "_share": " (%)"}


ZH_VALUES: dict[str, dict[str, str]] = {
    "status": {
        STATUS_COVERED: "已覆盖",
        STATUS_NOT_COVERED: "未覆盖",
        STATUS_UNREACHABLE: "不可达",
        "in use": "在用",
    },
    "kind": {"urban": "城市", "rural": "农村"},
    "scenario": {"before": "现状", "after": "建议实施后"},
    "change": {
        k: SCENARIO_WORDS["zh"][k]
        for k in (
            "gained",
            "lost",
            "faster",
            "slower",
            "unchanged",
            "kept",
            "closed",
            "added",
            "moved",
        )
    },
}
for _side in ("before", "after"):  # a scenario's columns before and after its edits
    ZH_VALUES[f"status_{_side}"] = ZH_VALUES["status"]
    ZH_VALUES[f"kind_{_side}"] = ZH_VALUES["kind"]


#: Sheet names per language (summary, communities, halls, proposals, about).
SHEET_NAMES: dict[str, dict[str, str]] = {
    "zh": {
        "summary": "汇总",
        "communities": "社区",
        "halls": "服务中心",
        "proposals": "建议选址",
        "about": "说明",
    },
    "en": {
        "summary": "Summary",
        "communities": "Communities",
        "halls": "Halls",
        "proposals": "Proposals",
        "about": "About",
    },
}


#: Label of the district table's total row in the workbook and the HTML summary.
TOTAL_LABEL: dict[str, str] = {"zh": "合计", "en": ALL_DISTRICTS}


#: Columns of the life circle that a resident group's name follows (``within_over_60``).
GROUP_COLUMNS = ("time_min", "within", "population_share_within")


def _group_column(column: str) -> tuple[str, str] | None:
    """``("time_min", "over_60")`` for ``time_min_over_60``; ``None`` for other columns."""
    for base in GROUP_COLUMNS:
        if column.startswith(base + "_") and column not in ZH_HEADERS:
            return base, column[len(base) + 1 :]
    return None


def number_format(column: str) -> str | None:  # noqa: PLR0911 (one format per kind of column)
    """Excel number format of a numeric column, from its name (units are in the names).

    A scenario's ``*_before``, ``*_after`` and ``*_delta`` columns take their figure's format.
    """
    for side in ("_before", "_after", "_delta"):
        column = column.removesuffix(side)
    group = _group_column(column)
    if group is not None:
        column = group[0]
    if column.endswith(("_share", "completeness")) or "share_within" in column:
        return "0.0%"
    if column == "gini_travel_time":
        return "0.000"
    if column.endswith("_min"):
        return "0.0"
    if column in ("lon", "lat") or column.startswith(("lon_", "lat_")):
        return "0.0000000"
    if column.endswith("_m2"):
        return "#,##0.0"
    if column.endswith("_m") or "population" in column or "households" in column:
        return "#,##0"
    return None


def check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        msg = f"lang must be 'zh' or 'en', not {lang!r}"
        raise InputDataError(msg)


def header(column: str, lang: Lang) -> str:
    """The header of a column in ``lang``: Chinese, or English words with the unit.

    >>> header("travel_time_min", "en"), header("walk_time_min", "en"), header("kind", "zh")
    ('Travel time (min)', 'Walk time (min)', '类型')
    >>> header("within_over_60", "zh")  # a resident group's column
    '在服务圈内 · over_60'
    >>> header("travel_time_min_after", "en"), header("covered_delta", "zh")
    ('Travel time (min) (scenario)', '已覆盖（变化）')
    """
    for side in ("_before", "_after", "_delta"):  # a scenario's columns (coverage.scenarios)
        if column.endswith(side) and len(column) > len(side) and column not in ZH_HEADERS:
            word = SCENARIO_WORDS[lang][side[1:]]
            base = header(column[: -len(side)], lang)
            return f"{base}（{word}）" if lang == "zh" else f"{base} ({word})"
    group = _group_column(column)
    if group is not None:
        return f"{header(group[0], lang)} · {group[1]}"
    if lang == "zh":
        return ZH_HEADERS.get(column, column)
    if column in EN_HEADERS:
        return EN_HEADERS[column]
    words = column
    unit = ""
    for suffix, text in _EN_UNITS.items():
        if words.endswith(suffix) and len(words) > len(suffix):
            words, unit = words[: -len(suffix)], text
            break
    words = words.replace("_", " ").strip()
    return (words[:1].upper() + words[1:] + unit) if words else column


#: Yes and no in a table, per language.
YES_NO: dict[str, tuple[str, str]] = {"zh": ("是", "否"), "en": ("Yes", "No")}


def in_language(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """A table with one ``reason`` column, in ``lang`` (the other language's column dropped)."""
    if "reason_zh" not in frame.columns:
        return frame
    out = frame.copy()
    if lang == "zh":
        out["reason"] = out["reason_zh"]
    return out.drop(columns="reason_zh")


#: The travel mode in words, per language (步行, "on foot").
MODE_NAMES: dict[str, dict[str, str]] = {
    "zh": MODE_ZH,
    "en": {"walk": "on foot", "bike": "by bicycle", "ebike": "by e-bike", "drive": "by car"},
}


def mode_name(mode: object, lang: Lang) -> str:
    """A travel mode in words: ``"walk"`` → 步行 or "on foot" (unknown modes as they are)."""
    return MODE_NAMES[lang].get(str(mode), str(mode))
