"""The life circle's reports: its workbook, its page, its map, and the folder holding them."""

from __future__ import annotations

import logging
import re
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage._files import atomic_write, inside, write_csv, write_text_atomic
from coverage.lifecircle import ALL, ServiceAudit, gini, lorenz, service_table
from coverage.reports._charts import lorenz_chart
from coverage.reports._excel import Sheets, flatten_geometry, write_sheet
from coverage.reports._folders import areas_around, district_polygon
from coverage.reports._html import PAGE_CSS, esc, link_href, num
from coverage.reports._labels import TOTAL_LABEL, Lang, check_lang, mode_name

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping

    import geopandas as gpd

    from coverage.maps import Basemap
    from coverage.network import Network

logger = logging.getLogger(__name__)


#: The files of a life-circle folder (:func:`write_life_circle`).
LIFE_CIRCLE_FILES = {
    "page": "life_circle.html",
    "workbook": "life_circle.xlsx",
    "map": "life_circle_map.html",
    "communities": "life_circle_communities.csv",
    "districts": "life_circle_districts.csv",
}

_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "社区生活圈评估",
        "rules": (
            "评估标准：{standard}。出行方式 {mode}，速度 {speed} 千米/小时；出行时间按路网计算。"
        ),
        "assumed": "标注“假定值”的服务圈并非直接取自标准条文，而是本工具的解读（见标准文件）。",
        "overview": "各项服务",
        "completeness": "各区县服务完整度",
        "service": "服务",
        "circle": "服务圈",
        "sites": "设施点",
        "required": "应配置社区",
        "within": "圈内社区",
        "share": "社区比例",
        "pop_share": "人口比例",
        "group_share": "{group} 人口比例",
        "urban_share": "城市社区比例",
        "rural_share": "农村社区比例",
        "median": "出行时间中位数(分钟)",
        "gini": "基尼系数",
        "district": "区县",
        "communities": "社区数",
        "complete": "全部达标",
        "half": "半数以上",
        "under": "不足半数",
        "mean": "平均完整度",
        "assumed_mark": "（假定值）",
        "urban": "城市",
        "rural": "农村",
        "minutes": "{v:g} 分钟",
        "metres": "{v:,.0f} 米",
        "none": "—",
        "back": "← 返回汇总",
        "whole": "全部区县的生活圈",
        "workbook": "Excel 报表",
        "map": "生活圈地图",
        "lead_title": "社区生活圈",
        "lead_more": "各项服务、各区县与均衡性详见：",
        "lead_page": "社区生活圈评估",
    },
    "en": {
        "title": "Community life circle audit",
        "rules": "Standard: {standard}. Mode {mode} at {speed} km/h; travel times are routed "
        "over the road network.",
        "assumed": "Circles marked “assumed” are our reading, not a value read from the "
        "standard's table (see the standard's file).",
        "overview": "Services",
        "completeness": "Completeness by district",
        "service": "Service",
        "circle": "Circle",
        "sites": "Sites",
        "required": "Communities required",
        "within": "Within",
        "share": "Communities (%)",
        "pop_share": "Population (%)",
        "group_share": "{group} (%)",
        "urban_share": "Urban (%)",
        "rural_share": "Rural (%)",
        "median": "Median travel time (min)",
        "gini": "Gini",
        "district": "District",
        "communities": "Communities",
        "complete": "Every service",
        "half": "Half or more",
        "under": "Under half",
        "mean": "Mean completeness",
        "assumed_mark": " (assumed)",
        "urban": "urban",
        "rural": "rural",
        "minutes": "{v:g} min",
        "metres": "{v:,.0f} m",
        "none": "–",
        "back": "← Back to the summary",
        "whole": "the whole run's life circle",
        "workbook": "Excel workbook",
        "map": "Life-circle map",
        "lead_title": "Community life circle",
        "lead_more": "Every service, every district and equity: ",
        "lead_page": "the life-circle audit",
    },
}

#: Sheet names of the life circle's workbook (besides one sheet per service).
LIFE_CIRCLE_SHEETS: dict[str, dict[str, str]] = {
    "zh": {
        "services": "服务汇总",
        "completeness": "服务完整度",
        "districts": "各区县",
        "standard": "评估标准",
    },
    "en": {
        "services": "Services",
        "completeness": "Completeness",
        "districts": "Districts",
        "standard": "Standard",
    },
}


def _service_name(result: ServiceAudit, key: str, lang: Lang) -> str:
    service = result.service(key)
    return service.name if lang == "zh" else service.name_en


def _circles(result: ServiceAudit, key: str, lang: Lang) -> dict[str, str]:
    """A service's circle per community kind, in words (e.g. ``{"urban": "1,000 米"}``)."""
    t = _TEXT[lang]
    service = result.service(key)
    out = {}
    for kind in ("urban", "rural"):
        if kind in service.minutes:
            out[kind] = t["minutes"].format(v=service.minutes[kind])
        elif kind in service.metres:
            out[kind] = t["metres"].format(v=service.metres[kind])
    return out


def _sheet_title(text: str, used: set[str]) -> str:
    r"""A valid, unique Excel sheet name (31 characters, none of ``[]:*?/\\``)."""
    title = re.sub(r"[\[\]:*?/\\]", "_", text).strip("'") or "sheet"
    title = title[:31]
    base, n = title, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


def life_circle_tables(result: ServiceAudit, lang: Lang = "zh") -> dict[str, pd.DataFrame]:
    """The life circle's tables by sheet name, as the workbook holds them.

    Parameters
    ----------
    result
        What :func:`coverage.lifecircle.audit_services` found.
    lang
        ``"zh"`` or ``"en"``: the sheet names and the services' names.

    Returns
    -------
    dict of str to pandas.DataFrame
        The services' summary; one sheet per service (:func:`coverage.lifecircle.
        service_table`); completeness per community (with the missing services in both
        languages); per district and service; the standard with each value's source.
    """
    check_lang(lang)
    names = LIFE_CIRCLE_SHEETS[lang]
    used: set[str] = {n.lower() for n in names.values()}
    services = result.services.copy()
    services.insert(1, "service_name", services["name" if lang == "zh" else "name_en"])
    services = services.drop(columns=["name", "name_en"]).rename(columns={"service_name": "name"})
    tables: dict[str, pd.DataFrame] = {names["services"]: services}
    for service in result.standard.services:
        title = _sheet_title(_service_name(result, service.key, lang), used)
        tables[title] = service_table(result, service.key)
    com = result.communities
    keep = [c for c in ("community_id", "name", "district", "kind", "population") if c in com]
    missing = ["missing_zh", "missing"] if lang == "zh" else ["missing", "missing_zh"]
    tables[names["completeness"]] = pd.DataFrame(
        com[[*keep, "services_required", "services_ok", "completeness", *missing]]
    ).reset_index(drop=True)
    districts = result.districts.copy()
    districts["service"] = [_service_name(result, k, lang) for k in districts["service"]]
    districts["district"] = districts["district"].replace({ALL: TOTAL_LABEL[lang]})
    first = ["district", "service"]
    tables[names["districts"]] = districts[first + [c for c in districts if c not in first]]
    rows = []
    for s in result.standard.services:
        circles = _circles(result, s.key, lang)
        rows.append(
            {
                "service": s.key,
                "name": s.name,
                "name_en": s.name_en,
                "circle_urban": circles.get("urban"),
                "circle_rural": circles.get("rural"),
                "source": s.source,
                "assumed": s.assumed,
                "osm": ", ".join(s.osm),
            }
        )
    tables[names["standard"]] = pd.DataFrame(rows)
    return tables


def write_life_circle_excel(
    path: str | os.PathLike[str], result: ServiceAudit, *, lang: Lang = "zh"
) -> Path:
    """Write the life circle as an Excel workbook, atomically.

    Sheets: the services (communities and population within each circle, per resident
    group too), one per service (per community: minutes, network metres, circle, within;
    per group), completeness (per community, the missing services in Chinese and English),
    per district and service (urban and rural apart, median minutes, Gini), and the
    standard with its sources. Headers in ``lang`` (:mod:`coverage.reports._labels`),
    shares as percentages, yes/no in the workbook's language.

    Parameters
    ----------
    path
        Destination ``.xlsx`` file; its folder is created if needed.
    result
        What :func:`coverage.lifecircle.audit_services` found.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    sheets = Sheets()
    total = TOTAL_LABEL[lang]
    for title, frame in life_circle_tables(result, lang).items():
        bold: set[int] = set()
        if "district" in frame.columns and "service" in frame.columns:
            bold = set(np.flatnonzero((frame["district"] == total).to_numpy()).tolist())
        write_sheet(sheets, title, flatten_geometry(frame, title), lang, bold_rows=bold)
    return atomic_write(Path(path), sheets.save, suffix=".xlsx")


def _curves(
    result: ServiceAudit, key: str, lang: Lang
) -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    """Lorenz curves of one service: the whole run, then each district (population-weighted)."""
    com = result.communities
    minutes = com[f"{key}_min"].to_numpy(float)
    need = com[f"{key}_limit_min"].notna().to_numpy()
    people = com["population"].to_numpy(float) if "population" in com.columns else np.ones(len(com))
    curves = []
    districts = sorted(com["district"].astype(str).unique()) if "district" in com.columns else []
    groups = [(TOTAL_LABEL[lang], need)]
    if len(districts) > 1:
        names = com["district"].astype(str).to_numpy()
        groups += [(d, need & (names == d)) for d in districts]
    for label, mask in groups:
        p, t = lorenz(minutes[mask], people[mask])
        curves.append((label, p, t, gini(minutes[mask], people[mask])))
    return curves


def _table(head: list[str], rows: list[list[str]], total_rows: set[int] | None = None) -> str:
    total_rows = total_rows or set()
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(
        f"<tr{' class=total' if i in total_rows else ''}>{''.join(r)}</tr>"
        for i, r in enumerate(rows)
    )
    return (
        f"<div class=wide><table class=lc><thead><tr>{th}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _district_table(
    head: list[str],
    frame: pd.DataFrame,
    lang: Lang,
    cells: Callable[[dict[Any, Any]], list[str]],
) -> str:
    """A table with a row per district (its name, then ``cells(row)``), the total row bold."""
    rows, totals = [], set()
    for i, r in enumerate(frame.to_dict(orient="records")):
        total = r["district"] == ALL
        if total:
            totals.add(i)
        name = f"<td>{esc(TOTAL_LABEL[lang] if total else r['district'])}</td>"
        rows.append([name, *cells(r)])
    return _table(head, rows, totals)


def _pct(value: object) -> str:
    return f"<td class=n>{num(value, '{:.1%}')}</td>"


def _overview(result: ServiceAudit, lang: Lang) -> str:
    t = _TEXT[lang]
    groups = list(result.groups)
    head = [
        t["service"],
        t["circle"],
        t["sites"],
        t["required"],
        t["within"],
        t["share"],
        t["pop_share"],
        *(t["group_share"].format(group=g) for g in groups),
        t["median"],
        t["gini"],
    ]
    every = result.districts[result.districts["district"] == ALL].set_index("service")
    rows = []
    for r in result.services.to_dict(orient="records"):
        key = str(r["service"])
        circles = _circles(result, key, lang)
        circle = ("；" if lang == "zh" else "; ").join(f"{t[k]} {v}" for k, v in circles.items())
        if r["assumed"]:
            circle += t["assumed_mark"]
        d: dict[Any, object] = every.loc[key].to_dict() if key in every.index else {}
        rows.append(
            [
                f"<td><a href='#s-{esc(key)}'>{esc(_service_name(result, key, lang))}</a></td>",
                f"<td>{esc(circle)}</td>",
                f"<td class=n>{num(r['sites'], '{:,.0f}')}</td>",
                f"<td class=n>{num(r['communities_required'], '{:,.0f}')}</td>",
                f"<td class=n>{num(r['communities_within'], '{:,.0f}')}</td>",
                _pct(r["share_within"]),
                _pct(r["population_share_within"]),
                *(_pct(r.get(f"population_share_within_{g}")) for g in groups),
                f"<td class=n>{num(d.get('median_min'))}</td>",
                f"<td class=n>{num(d.get('gini_travel_time'), '{:.2f}')}</td>",
            ]
        )
    return _table(head, rows)


def _completeness(result: ServiceAudit, lang: Lang) -> str:
    t = _TEXT[lang]
    first = result.districts.drop_duplicates("district")
    head = [t["district"], t["complete"], t["half"], t["under"], t["mean"]]
    return _district_table(
        head,
        first,
        lang,
        lambda r: [
            f"<td class=n>{num(r['complete'], '{:,.0f}')}</td>",
            f"<td class=n>{num(r['half_or_more'], '{:,.0f}')}</td>",
            f"<td class=n>{num(r['under_half'], '{:,.0f}')}</td>",
            _pct(r["mean_completeness"]),
        ],
    )


def _service_section(result: ServiceAudit, key: str, lang: Lang) -> str:
    t = _TEXT[lang]
    name = _service_name(result, key, lang)
    part = result.districts[result.districts["service"] == key]
    head = [
        t["district"],
        t["required"],
        t["within"],
        t["share"],
        t["urban_share"],
        t["rural_share"],
        t["pop_share"],
        t["median"],
        t["gini"],
    ]
    table = _district_table(
        head,
        part,
        lang,
        lambda r: [
            f"<td class=n>{num(r['communities_required'], '{:,.0f}')}</td>",
            f"<td class=n>{num(r['communities_within'], '{:,.0f}')}</td>",
            _pct(r["share_within"]),
            _pct(r["share_within_urban"]),
            _pct(r["share_within_rural"]),
            _pct(r["population_share_within"]),
            f"<td class=n>{num(r['median_min'])}</td>",
            f"<td class=n>{num(r['gini_travel_time'], '{:.2f}')}</td>",
        ],
    )
    chart = lorenz_chart(name, _curves(result, key, lang), lang)
    return (
        f"<section class=service id='s-{esc(key)}'><h2>{esc(name)}</h2>"
        f"{table}<div class=charts>{chart}</div></section>"
    )


def life_circle_html(
    result: ServiceAudit,
    *,
    title: str | None = None,
    lang: Lang = "zh",
    links: Mapping[str, str | PurePath] | None = None,
) -> str:
    """The life circle's page, as text: the services, completeness, a section per service.

    Each service's section holds its coverage per district (communities and population
    within the circle, urban and rural apart, median minutes, the Gini of travel time) and
    the Lorenz curves of travel time (the whole run and each district), inline SVG.

    Parameters
    ----------
    result
        What :func:`coverage.lifecircle.audit_services` found.
    title
        Page title (escaped); default "社区生活圈评估" / "Community life circle audit".
    lang
        ``"zh"`` or ``"en"``.
    links
        Link text → relative path, shown at the top (the run's summary, the workbook, the
        map).

    Returns
    -------
    str
        A complete HTML document with no external resources.

    Examples
    --------
    >>> from coverage.lifecircle import audit_services
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> r = audit_services(grid_communities(), {"hall": grid_halls()},
    ...                    load_network(grid_graph()), standard="hangzhou-2017")
    >>> page = life_circle_html(r, lang="en")
    >>> page.count("<section class=service"), "Lorenz curve of travel time" in page
    (1, True)
    """
    check_lang(lang)
    t = _TEXT[lang]
    std = result.standard
    title = title or t["title"]
    nav = " · ".join(
        f'<a href="{link_href(target)}">{esc(label)}</a>' for label, target in (links or {}).items()
    )
    speed = result.network.get("speed_kph")
    rules = t["rules"].format(
        standard=std.name if lang == "zh" else std.name_en,
        mode=mode_name(result.network.get("mode", result.config.mode), lang),
        speed=num(speed, "{:g}"),
    )
    notes = [rules]
    if std.source:
        notes.append(std.source)
    if any(s.assumed for s in std.services):
        notes.append(t["assumed"])
    sections = "".join(_service_section(result, s.key, lang) for s in std.services)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{PAGE_CSS}</style></head><body><main>",
        f"<nav class=links>{nav}</nav>" if nav else "",
        f"<h1>{esc(title)}</h1>",
        "".join(f"<p class=rules>{esc(n)}</p>" for n in notes),
        f"<h2>{esc(t['overview'])}</h2>{_overview(result, lang)}",
        f"<h2>{esc(t['completeness'])}</h2>{_completeness(result, lang)}",
        sections,
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def life_circle_section(
    result: ServiceAudit, *, lang: Lang = "zh", page: str | PurePath = LIFE_CIRCLE_FILES["page"]
) -> str:
    """A short life-circle section for the run's ``summary.html`` (HTML), linking to its page.

    Parameters
    ----------
    result
        What :func:`coverage.lifecircle.audit_services` found.
    lang
        ``"zh"`` or ``"en"``.
    page
        Relative path of the life circle's page.

    Returns
    -------
    str
        A heading, per service its circle and the share of communities and of population
        within it, and the link (for ``section`` of :func:`write_html_summary`).
    """
    t = _TEXT[lang]
    std = result.standard
    head = [t["service"], t["circle"], t["share"], t["pop_share"]]
    rows = []
    for r in result.services.to_dict(orient="records"):
        key = str(r["service"])
        circles = _circles(result, key, lang)
        circle = ("；" if lang == "zh" else "; ").join(f"{t[k]} {v}" for k, v in circles.items())
        rows.append(
            [
                f"<td>{esc(_service_name(result, key, lang))}</td>",
                f"<td>{esc(circle)}</td>",
                _pct(r["share_within"]),
                _pct(r["population_share_within"]),
            ]
        )
    name = std.name if lang == "zh" else std.name_en
    return (
        f"<h2>{esc(t['lead_title'])}</h2><p class=rules>{esc(name)}</p>{_table(head, rows)}"
        f'<p>{esc(t["lead_more"])}<a href="{link_href(page)}">{esc(t["lead_page"])}</a></p>'
    )


def write_life_circle(
    folder: str | os.PathLike[str],
    result: ServiceAudit,
    sites: Mapping[str, gpd.GeoDataFrame],
    *,
    network: Network | None = None,
    areas: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    lang: Lang = "zh",
    basemap: Basemap = "auto",
    tianditu_key: str | None = None,
    offline: bool = True,
    parent: str | PurePath | None = "summary.html",
    folders: Mapping[str, Path] | None = None,
) -> dict[str, Path]:
    """Write the life circle's files into a run's folder, each atomically.

    ``life_circle.html`` (the page: services, completeness per district, a section per
    service with its Lorenz curves), ``life_circle.xlsx`` (:func:`write_life_circle_excel`),
    ``life_circle_map.html`` (:func:`coverage.maps.life_circle_map`; the service areas are
    drawn when ``network`` or ``areas`` is given), ``life_circle_communities.csv`` and
    ``life_circle_districts.csv``; with ``folders``, the same files for each district in its
    folder (its communities; its map shows the areas around it).

    Parameters
    ----------
    folder
        The run's folder; created if needed.
    result
        What :func:`coverage.lifecircle.audit_services` found.
    sites
        The sites of each service, as passed to the audit.
    network, areas
        The audit's network (to draw the service areas) or the areas themselves
        (:func:`coverage.lifecircle.service_areas`).
    districts
        Optional district polygons (``district`` column), any CRS.
    title
        Title of the page and the map (district pages add the district's name).
    lang, basemap, tianditu_key, offline
        As for :func:`write_district_reports`.
    parent
        Relative path of the run's summary, linked at the top of the page (``None``: no link).
    folders
        District name → its folder (as :func:`write_district_reports` returns them; the
        ``"(all)"`` entry is skipped): each district folder gets its own files, their page
        linking to the district's ``summary.html`` and the run's life circle.

    Returns
    -------
    dict of str to pathlib.Path
        ``"page"``, ``"workbook"``, ``"map"``, ``"communities"``, ``"districts"`` → the paths
        of the run's files.

    Examples
    --------
    >>> import tempfile
    >>> from coverage.lifecircle import audit_services
    >>> from coverage.network import load_network
    >>> from coverage.testing import grid_communities, grid_graph, grid_halls
    >>> net = load_network(grid_graph())
    >>> sites = {"hall": grid_halls()}
    >>> r = audit_services(grid_communities(), sites, net, standard="hangzhou-2017")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = write_life_circle(d, r, sites, network=net, basemap="blank")
    ...     names = sorted(p.name for p in Path(d).iterdir())
    >>> names  # doctest: +NORMALIZE_WHITESPACE
    ['life_circle.html', 'life_circle.xlsx', 'life_circle_communities.csv',
     'life_circle_districts.csv', 'life_circle_map.html']
    """
    from coverage.lifecircle import service_areas  # noqa: PLC0415 (grids only when asked)

    check_lang(lang)
    root = Path(folder)
    if areas is None and network is not None:
        areas = service_areas(result, sites, network)
    options = {"lang": lang, "basemap": basemap, "tianditu_key": tianditu_key, "offline": offline}
    paths = _write_files(root, result, sites, areas, districts, title, parent, None, options)
    for name, dfolder in (folders or {}).items():
        if name == ALL or Path(dfolder) == root:
            continue
        part = result.district(name)
        if len(part.communities) == 0:
            continue
        polygon = district_polygon(districts, name)
        near = areas_around(areas, part.communities, polygon)
        page_title = f"{title or _TEXT[lang]['title']}: {name}"
        _write_files(
            inside(root, Path(dfolder)),
            part,
            sites,
            near,
            polygon,
            page_title,
            "summary.html",
            "../" + LIFE_CIRCLE_FILES["page"],
            options,
        )
    return paths


def _write_files(
    root: Path,
    result: ServiceAudit,
    sites: Mapping[str, gpd.GeoDataFrame],
    areas: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    title: str | None,
    parent: str | PurePath | None,
    whole: str | None,
    options: dict[str, Any],
) -> dict[str, Path]:
    """The life circle's files of one folder (the run's, or a district's)."""
    from coverage.maps import life_circle_map, save_map  # noqa: PLC0415 (folium on use)

    root.mkdir(parents=True, exist_ok=True)
    lang = options["lang"]
    paths = {k: root / v for k, v in LIFE_CIRCLE_FILES.items()}
    t = _TEXT[lang]
    m = life_circle_map(
        result,
        sites,
        areas=areas,
        districts=districts,
        lang=lang,
        title=title,
        basemap=options["basemap"],
        tianditu_key=options["tianditu_key"],
    )
    save_map(m, paths["map"], offline=options["offline"])
    write_life_circle_excel(paths["workbook"], result, lang=lang)
    write_csv(paths["communities"], result.communities)
    write_csv(paths["districts"], result.districts)
    links: dict[str, str | PurePath] = {}
    if parent is not None:
        links[t["back"]] = parent
    if whole is not None:
        links[t["whole"]] = whole
    links[t["workbook"]] = LIFE_CIRCLE_FILES["workbook"]
    links[t["map"]] = LIFE_CIRCLE_FILES["map"]
    page = life_circle_html(result, title=title, lang=lang, links=links)
    write_text_atomic(paths["page"], page)
    logger.debug("life circle written to %s", root)
    return paths
