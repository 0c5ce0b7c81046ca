"""The one-page, self-contained HTML summary."""

from __future__ import annotations

import html
import logging
import math
import urllib.parse
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from coverage._errors import InputDataError
from coverage._files import (
    write_text_atomic,
)
from coverage._licence import ROAD_DATA_ATTRIBUTION
from coverage.audit import (
    ALL_DISTRICTS,
    STATUS_COVERED,
    STATUS_NOT_COVERED,
    STATUS_UNREACHABLE,
    AuditResult,
    district_table,
)
from coverage.i18n import coord_check_text, reason_column
from coverage.reports._charts import charts
from coverage.reports._labels import MODE_NAMES, TOTAL_LABEL, ZH_VALUES, Lang, check_lang

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping


logger = logging.getLogger(__name__)


_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "communities": "社区",
        "covered_share": "社区覆盖率",
        "share": "覆盖率",
        "population_covered_share": "人口覆盖率",
        "population_share": "人口覆盖率",
        "unreachable": "不可达社区",
        "halls_below": "用房面积不达标的服务中心",
        "covered_of": "已覆盖 {covered:,} 个，未覆盖 {not_covered:,} 个",
        "population_of": "覆盖 {population_covered:,.0f} 人 / 共 {population:,.0f} 人",
        "unreachable_note": "无法经路网到达任何服务中心",
        "halls_of": "共 {halls} 个服务中心，其中 {known} 个有面积数据",
        "no_area": "共 {halls} 个服务中心，均无面积数据",
        "by_district": "各区县覆盖情况",
        "times": "出行时间分布",
        "worst": "服务最差的 {n} 个社区",
        "maps": "地图",
        "rules": (
            "城市社区 {urban:g} 分钟、农村社区 {rural:g} 分钟服务圈；出行方式 {mode}，"
            "速度 {speed} 千米/小时；用房面积标准 每百户 {area:g} ㎡。"
            "出行时间按路网计算，而非直线距离。"
        ),
        "illustrative": "注意：{n} 个服务中心的位置为示意位置，并非真实地址。",
        "rank": "序号",
        "name": "名称",
        "id": "编号",
        "district": "区县",
        "kind": "类型",
        "population": "人口",
        "minutes": "出行时间(分钟)",
        "threshold": "标准(分钟)",
        "over": "超出(分钟)",
        "nearest": "最近服务中心",
        "status": "状态",
        "reason": "说明",
        "n_communities": "社区数",
        "n_covered": "已覆盖",
        "median": "出行时间中位数(分钟)",
        "all_kinds": "全部社区",
        "urban_group": "城市社区（{t:g} 分钟）",
        "rural_group": "农村社区（{t:g} 分钟）",
        "workbook": "Excel 报表",
        "parent": "← 返回整体汇总",
        "this_map": "地图",
    },
    "en": {
        "communities": "Communities",
        "covered_share": "Communities covered",
        "share": "Covered (%)",
        "population_covered_share": "Population covered",
        "population_share": "Population covered (%)",
        "unreachable": "Unreachable communities",
        "halls_below": "Halls below the floor-area standard",
        "covered_of": "{covered:,} covered, {not_covered:,} not covered",
        "population_of": "{population_covered:,.0f} of {population:,.0f} residents",
        "unreachable_note": "no route to any hall over the network",
        "halls_of": "of {halls} halls, {known} with a floor area",
        "no_area": "{halls} halls, none with a floor area",
        "by_district": "Coverage by district",
        "times": "Travel times",
        "worst": "The {n} worst-served communities",
        "maps": "Maps",
        "rules": (
            "Service circles: urban {urban:g} min, rural {rural:g} min; mode {mode} at "
            "{speed} km/h; floor-area standard {area:g} m² per 100 households. Travel "
            "times are routed over the road network, not straight-line distances."
        ),
        "illustrative": "Note: {n} hall location(s) are illustrative, not real addresses.",
        "rank": "#",
        "name": "Name",
        "id": "ID",
        "district": "District",
        "kind": "Kind",
        "population": "Population",
        "minutes": "Travel time (min)",
        "threshold": "Limit (min)",
        "over": "Over (min)",
        "nearest": "Nearest hall",
        "status": "Status",
        "reason": "Reason",
        "n_communities": "Communities",
        "n_covered": "Covered",
        "median": "Median travel time (min)",
        "all_kinds": "All communities",
        "urban_group": "Urban communities ({t:g} min)",
        "rural_group": "Rural communities ({t:g} min)",
        "workbook": "Excel workbook",
        "parent": "← Back to the whole run's summary",
        "this_map": "Map",
    },
}


_WORST = 10


def esc(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return html.escape(str(value), quote=True)


def num(value: object, fmt: str = "{:,.1f}") -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return fmt.format(x) if math.isfinite(x) else "–"


def link_href(target: str | PurePath) -> str:
    """A relative link, percent-encoded and escaped; absolute URLs and paths are refused."""
    text = target.as_posix() if isinstance(target, PurePath) else str(target).replace("\\", "/")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme or parts.netloc or text.startswith("/") or not parts.path:
        msg = f"maps: {text!r} is not a relative path to a map file (e.g. 'map.html')"
        raise InputDataError(msg)
    href = urllib.parse.quote(parts.path, safe="/")
    if parts.fragment:
        href += "#" + urllib.parse.quote(parts.fragment, safe="")
    return html.escape(href, quote=True)


def _worst(communities: pd.DataFrame, n: int = _WORST) -> pd.DataFrame:
    """The ``n`` worst-served communities: unreachable first, then by minutes over the limit."""
    minutes = pd.to_numeric(communities["travel_time_min"], errors="coerce")
    margin = (minutes - pd.to_numeric(communities["threshold_min"], errors="coerce")).fillna(np.inf)
    pop = pd.to_numeric(communities["population"], errors="coerce").fillna(0)
    order = pd.DataFrame({"margin": margin.to_numpy(), "pop": pop.to_numpy()})
    idx = order.sort_values(["margin", "pop"], ascending=False, kind="stable").index[:n]
    return communities.iloc[idx]


PAGE_CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",
"WenQuanYi Micro Hei",system-ui,sans-serif;margin:0;background:#f4f6f9;color:#222;}
main{max-width:1100px;margin:0 auto;padding:24px 28px 40px;background:#fff;}
h1{font-size:1.6em;margin:0 0 4px;}h2{font-size:1.2em;margin:28px 0 10px;
border-bottom:2px solid #2c5aa0;padding-bottom:4px;}
.rules{color:#555;font-size:.9em;margin:4px 0 0;}
.note{background:#fff4e5;border-left:4px solid #f0a030;padding:6px 10px;font-size:.9em;}
.doubt{background:#fdecea;border-left:4px solid #d73027;padding:6px 10px;font-weight:600;}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;
margin-top:18px;}
.card{border:1px solid #d8dee8;border-radius:8px;padding:12px 14px;background:#fafbfd;}
.card .label{font-size:.85em;color:#555;}.card .value{font-size:1.9em;font-weight:700;
margin:2px 0;}.card .sub{font-size:.8em;color:#666;}
.card.bad .value{color:#d73027;}.card.good .value{color:#1a9850;}
.charts{display:grid;grid-template-columns:1fr;gap:14px;}
.charts svg{max-width:100%;height:auto;border:1px solid #e3e7ee;border-radius:6px;
font-family:inherit;}
table{border-collapse:collapse;width:100%;font-size:.85em;}table.districts{font-size:.8em;}
th,td{border:1px solid #d8dee8;padding:4px 6px;text-align:left;vertical-align:top;}
th{background:#dde4ee;}th.group{text-align:center;}
table.districts td:nth-child(4n+3),table.districts th.group{border-left:2px solid #9fb0c8;}
.wide{overflow-x:auto;}.wide th{min-width:4.5em;}
nav.links{font-size:.9em;margin-bottom:10px;}nav.links a{color:#2c5aa0;}
tr:nth-child(even) td{background:#f7f9fc;}
td{white-space:nowrap;}td.r{white-space:normal;min-width:18em;}
td.n{text-align:right;}tr.total td{font-weight:700;}
.s-covered{color:#1a9850;}.s-not{color:#d73027;font-weight:600;}.s-unreach{color:#555;
font-weight:600;}
ul.maps{padding-left:20px;}ul.maps li{margin:3px 0;}
footer{margin-top:30px;color:#777;font-size:.8em;}
@media print{body{background:#fff;}main{padding:0;}h2{break-after:avoid;}
.charts svg{break-inside:avoid;}}
"""


def _with_total(result: AuditResult) -> pd.DataFrame:
    """The district table with its total row (a district's part of a result has none)."""
    if (result.districts["district"] == ALL_DISTRICTS).any():
        return result.districts
    return district_table(result.communities)


def _cards(result: AuditResult, table: pd.DataFrame, t: dict[str, str]) -> str:
    row = table[table["district"] == ALL_DISTRICTS].iloc[0]
    h = {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    halls = result.halls
    adequate = halls["floor_area_adequate"] if "floor_area_adequate" in halls else pd.Series()
    known = int(adequate.notna().sum())
    below = int((adequate == False).sum())  # noqa: E712 (NA is not False)
    halls_sub = (
        t["halls_of"].format(halls=len(halls), known=known)
        if known
        else t["no_area"].format(halls=len(halls))
    )
    cards = [
        ("", t["communities"], f"{h['communities']:,}", ""),
        (
            "good" if h["covered_share"] >= 1 else "",
            t["covered_share"],
            num(h["covered_share"], "{:.1%}"),
            t["covered_of"].format(**h),
        ),
        (
            "",
            t["population_covered_share"],
            num(h["population_covered_share"], "{:.1%}"),
            t["population_of"].format(**h),
        ),
        (
            "bad" if h["unreachable"] else "",
            t["unreachable"],
            f"{h['unreachable']:,}",
            t["unreachable_note"],
        ),
        ("bad" if below else "", t["halls_below"], f"{below:,}" if known else "–", halls_sub),
    ]
    return "".join(
        f'<div class="card {cls}"><div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div><div class="sub">{esc(sub)}</div></div>'
        for cls, label, value, sub in cards
    )


#: The district table's column groups: all communities, urban, rural (as in the workbook);
#: a kind the run has no community of is left out.
_GROUPS = ("", "urban_", "rural_")


def _groups(table: pd.DataFrame) -> list[str]:
    """The column groups the table shows: all, and urban and rural where the run has any."""
    total = table[table["district"] == ALL_DISTRICTS].iloc[0]
    return ["", *(g for g in _GROUPS[1:] if total.get(f"{g}communities", 0))]


def _district_head(t: dict[str, str], groups: list[str], urban_min: float, rural_min: float) -> str:
    """Two header rows: district, then communities, covered and shares per group."""
    names = {
        "": t["all_kinds"],
        "urban_": t["urban_group"].format(t=urban_min),
        "rural_": t["rural_group"].format(t=rural_min),
    }
    top = (
        f"<th rowspan=2>#</th><th rowspan=2>{esc(t['district'])}</th>"
        + "".join(f"<th colspan=4 class=group>{esc(names[g])}</th>" for g in groups)
        + f"<th rowspan=2>{esc(t['unreachable'])}</th><th rowspan=2>{esc(t['median'])}</th>"
    )
    sub = "".join(
        f"<th>{esc(t[k])}</th>"
        for _ in groups
        for k in ("n_communities", "n_covered", "share", "population_share")
    )
    return f"<tr>{top}</tr><tr>{sub}</tr>"


def _district_rows(table: pd.DataFrame, groups: list[str], lang: Lang) -> str:
    rows = []
    for i, r in enumerate(table.to_dict(orient="records"), start=1):
        total = r["district"] == ALL_DISTRICTS
        name = TOTAL_LABEL[lang] if total else r["district"]
        cells = "".join(
            f"<td class=n>{num(r.get(f'{g}communities'), '{:,.0f}')}</td>"
            f"<td class=n>{num(r.get(f'{g}covered'), '{:,.0f}')}</td>"
            f"<td class=n>{num(r.get(f'{g}covered_share'), '{:.1%}')}</td>"
            f"<td class=n>{num(r.get(f'{g}population_covered_share'), '{:.1%}')}</td>"
            for g in groups
        )
        rows.append(
            f'<tr{" class=total" if total else ""}><td class="n">{"" if total else i}</td>'
            f"<td>{esc(name)}</td>{cells}"
            f"<td class=n>{num(r['unreachable'], '{:,.0f}')}</td>"
            f"<td class=n>{num(r['median_travel_time_min'])}</td></tr>"
        )
    return "".join(rows)


_STATUS_CLASS = {
    STATUS_COVERED: "s-covered",
    STATUS_NOT_COVERED: "s-not",
    STATUS_UNREACHABLE: "s-unreach",
}


def _worst_rows(worst: pd.DataFrame, lang: Lang) -> str:
    values = ZH_VALUES if lang == "zh" else {}
    rows = []
    for i, (_, r) in enumerate(worst.iterrows(), start=1):
        status = str(r["status"])
        kind = str(r["kind"])
        rows.append(
            f"<tr><td class=n>{i}</td><td>{esc(r.get('name'))}</td>"
            f"<td>{esc(r['community_id'])}</td><td>{esc(r.get('district'))}</td>"
            f"<td>{esc(values.get('kind', {}).get(kind, kind))}</td>"
            f"<td class=n>{num(r['population'], '{:,.0f}')}</td>"
            f"<td class=n>{num(r['travel_time_min'])}</td>"
            f"<td class=n>{num(r['threshold_min'], '{:g}')}</td>"
            f"<td class=n>{num(r['shortfall_min'])}</td>"
            f"<td>{esc(r.get('nearest_hall_name'))}</td>"
            f'<td class="{_STATUS_CLASS.get(status, "")}">'
            f"{esc(values.get('status', {}).get(status, status))}</td>"
            f"<td class=r>{esc(r.get(reason_column(worst, lang)))}"
            "</td></tr>"
        )
    return "".join(rows)


def html_summary(
    result: AuditResult,
    *,
    title: str,
    maps: Mapping[str, str | PurePath] | None = None,
    lang: Lang = "zh",
    workbook: str | PurePath | None = None,
    parent: str | PurePath | None = None,
    lead: str = "",
    section: str = "",
) -> str:
    """The one-page HTML summary of an audit, as text (see :func:`write_html_summary`).

    Parameters
    ----------
    result
        An audit result.
    title
        Page title (escaped).
    maps
        Link text → relative path of a map file (e.g. ``{"全部": "map.html"}``).
    lang
        ``"zh"`` or ``"en"``.
    workbook
        Relative path of the Excel workbook of the same figures, linked at the top.
    parent
        Relative path of the whole run's summary (on a district's page), linked at the top.
    lead
        HTML (already escaped) shown before the key figures, e.g. a proposal's section.
    section
        HTML (already escaped) shown after the worst-served communities, before the maps,
        e.g. the life circle's section.

    Returns
    -------
    str
        A complete HTML document with no external resources.

    Examples
    --------
    >>> from coverage.audit import audit
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> page = html_summary(result, title="网格", maps={"全部": "map.html"})
    >>> '<div class="value">80.0%</div>' in page, 'href="map.html"' in page
    (True, True)
    """
    check_lang(lang)
    t = _TEXT[lang]
    cfg = result.config
    table = _with_total(result)
    per_district = table[table["district"] != ALL_DISTRICTS]
    links = "".join(
        f'<li><a href="{link_href(target)}">{esc(label)}</a></li>'
        for label, target in (maps or {}).items()
    )
    drawn = charts(result, per_district, lang)
    n_illus = (
        int(result.halls["illustrative"].fillna(value=False).astype(bool).sum())
        if "illustrative" in result.halls
        else 0
    )
    mode = result.network.get("mode", cfg.mode)
    rules = t["rules"].format(
        urban=cfg.urban_threshold_min,
        rural=cfg.rural_threshold_min,
        mode=MODE_NAMES[lang].get(str(mode), str(mode)),
        speed=num(result.network.get("speed_kph"), "{:g}"),
        area=cfg.floor_area_m2_per_100_households,
    )
    worst = _worst(result.communities)
    source = result.network.get("source")
    foot = ROAD_DATA_ATTRIBUTION
    if source:
        foot = f"{PurePath(str(source)).name} · {foot}"
    groups = _groups(table)
    rows = per_district if len(per_district) == 1 else table  # one district: no total row
    district_head = _district_head(t, groups, cfg.urban_threshold_min, cfg.rural_threshold_min)
    nav = [(t["parent"], parent), (t["workbook"], workbook)]
    if maps:
        nav.append((t["this_map"], next(iter(maps.values()))))
    nav_links = " · ".join(
        f'<a href="{link_href(target)}">{esc(label)}</a>' for label, target in nav if target
    )
    worst_head = "".join(
        f"<th>{esc(t[k])}</th>"
        for k in (
            "rank",
            "name",
            "id",
            "district",
            "kind",
            "population",
            "minutes",
            "threshold",
            "over",
            "nearest",
            "status",
            "reason",
        )
    )
    doubts = "".join(
        f"<p class=doubt>{esc(coord_check_text(c.label, c.declared, c.fits, c.points, lang))}</p>"
        for c in result.coordinate_checks
        if c.doubt
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{PAGE_CSS}</style></head><body><main>",
        f"<nav class=links>{nav_links}</nav>" if nav_links else "",
        f"<h1>{esc(title)}</h1><p class=rules>{esc(rules)}</p>",
        f"<p class=note>{esc(t['illustrative'].format(n=n_illus))}</p>" if n_illus else "",
        doubts,
        lead,
        f"<section class=cards>{_cards(result, table, t)}</section>",
        f"<h2>{esc(t['by_district'])}</h2><div class=charts>",
        drawn.bar,
        f"<div class=wide><table class=districts><thead>{district_head}</thead>",
        f"<tbody>{_district_rows(rows, groups, lang)}</tbody></table></div>",
        f"</div><h2>{esc(t['times'])}</h2><div class=charts>",
        f"{drawn.hist}</div>",
        f"<h2>{esc(t['worst'].format(n=len(worst)))}</h2>",
        f"<table class=worst><thead><tr>{worst_head}</tr></thead>",
        f"<tbody>{_worst_rows(worst, lang)}</tbody></table>",
        section,
        f"<h2>{esc(t['maps'])}</h2><ul class=maps>{links}</ul>" if links else "",
        f"<footer>{esc(foot)}</footer></main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def write_html_summary(
    path: str | os.PathLike[str],
    result: AuditResult,
    *,
    title: str,
    maps: Mapping[str, str | PurePath] | None = None,
    lang: Lang = "zh",
    workbook: str | PurePath | None = None,
    parent: str | PurePath | None = None,
    lead: str = "",
    section: str = "",
) -> Path:
    """Write a one-page HTML summary of an audit for meetings, atomically.

    The page holds the key figures (communities, share of communities and of population
    covered, unreachable communities, halls below the floor-area standard), a bar chart of
    coverage by district with the district table (all, urban and rural communities apart),
    a histogram of travel times (minutes) with
    the urban and rural limits marked, the 10 worst-served communities, and links to the
    maps. The charts are inline SVG, their text drawn by the browser in the page's fonts (so
    Chinese labels need no font on the computer that writes the page); the page loads nothing
    from elsewhere. All names are escaped.

    Parameters
    ----------
    path
        Destination ``.html`` file; its folder is created if needed.
    result
        An audit result (or one district's part of it).
    title
        Page title (plain text; escaped).
    maps
        Link text → path of a map file relative to ``path``'s folder, e.g.
        ``{"全部": "map.html", "示意片区A": "示意片区A/map.html"}``.
    lang
        ``"zh"`` or ``"en"`` page text.
    workbook
        Path of the Excel workbook relative to ``path``'s folder (e.g. ``"report.xlsx"``),
        linked at the top of the page.
    parent
        Path of the whole run's summary relative to ``path``'s folder (e.g.
        ``"../summary.html"`` on a district's page), linked at the top of the page.
    lead
        HTML (already escaped) shown before the key figures, e.g. a proposal's section.
    section
        HTML (already escaped) shown after the worst-served communities, before the maps.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputDataError
        If a map link is an absolute path or URL.

    Examples
    --------
    >>> import tempfile
    >>> from coverage.audit import audit
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> result = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     page = write_html_summary(Path(d) / "summary.html", result, title="Grid <test>",
    ...                               maps={"all": "map.html"}, lang="en")
    ...     text = page.read_text(encoding="utf-8")
    >>> "<h1>Grid &lt;test&gt;</h1>" in text, text.count("<svg class=chart")
    (True, 2)
    """
    text = html_summary(
        result,
        title=title,
        maps=maps,
        lang=lang,
        workbook=workbook,
        parent=parent,
        lead=lead,
        section=section,
    )
    return write_text_atomic(Path(path), text)
