"""Map layers: the audit's (communities, halls, areas...) and the life circle's.

Communities, halls, districts, service areas, proposals, data problems, doubts; the life
circle's completeness, service sites and service areas.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from coverage.audit import STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE, AuditResult
from coverage.config import DEFAULT_CONFIG, Config
from coverage.i18n import coord_check_text, hall_verdict, reason_column
from coverage.maps._base import (
    HALL_COLOR,
    LABELS,
    ROW_LABEL,
    STATUS_COLORS,
    DomPopup,
    GeoJson,
    Lang,
    Text,
    add_legend_row,
    escape,
    fmt,
    map_state,
    metric_crs,
    new_map,
    page,
    points_geojson,
    to_display,
)

if TYPE_CHECKING:
    from coverage.lifecircle import ServiceAudit


def point_layer(
    m: folium.Map,
    points: gpd.GeoDataFrame,
    props: dict[str, list[Any]],
    rows: list[tuple[str, str]],
    *,
    name: str,
    marker: folium.CircleMarker,
    style: dict[str, Any] | Any,  # noqa: ANN401 (a style dict, or folium's style function)
) -> folium.GeoJson:
    """One point layer with popups and tooltips, added to ``m``.

    ``props`` holds ``title``, ``tip``, ``note`` and the keys of ``rows``; missing ones are
    ``None``.
    """
    n = len(points)
    for key in ("title", "tip", "note", *(k for k, _ in rows)):
        props.setdefault(key, [None] * n)
    style_function = style if callable(style) else (lambda _f, s=style: s)
    layer = GeoJson(
        points_geojson(m, points, props), name=name, marker=marker, style_function=style_function
    )
    layer.add_to(m)
    DomPopup(layer, rows).add_to(m)
    return layer


def add_communities(
    result: AuditResult | gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    radius: float = 5.0,
) -> folium.Map:
    """Add communities coloured by status, with popups and tooltips, one layer per status.

    Parameters
    ----------
    result
        An audit result, or its ``communities`` frame.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    radius
        Marker radius, pixels.

    Returns
    -------
    folium.Map
        The map.
    """
    com = result.communities if isinstance(result, AuditResult) else result
    m = m or new_map(com, lang=lang)
    lab = LABELS[lang]
    keys = [
        "community_id",
        "district",
        "street",
        "kind",
        "population",
        "travel_time_min",
        "threshold_min",
        "nearest_hall_name",
    ]
    rows = [(k, lab[ROW_LABEL[k]]) for k in keys] + [("status", lab["status"])]
    for status in (STATUS_UNREACHABLE, STATUS_NOT_COVERED, STATUS_COVERED):
        part = com[com["status"] == status]
        if part.empty:
            continue
        props: dict[str, list[Any]] = {k: [fmt(v) for v in part[k]] for k in keys if k in part}
        props["kind"] = [lab.get(str(v), str(v)) for v in part["kind"]]
        props["status"] = [lab[status]] * len(part)
        props["title"] = [fmt(v) for v in part["name"]]
        props["note"] = [fmt(v) for v in part[reason_column(part, lang)]]
        unit = lab["unit_min"]
        minutes = [fmt(t) for t in part["travel_time_min"]]
        props["tip"] = [
            f"{fmt(n) or ''}: {f'{t} {unit}' if t else lab[status]}"
            for n, t in zip(part["name"], minutes, strict=True)
        ]
        color = STATUS_COLORS[status]
        layer = point_layer(
            m,
            part,
            props,
            rows,
            name=f"{lab['communities']}: {lab[status]} ({len(part)})",
            marker=folium.CircleMarker(
                radius=radius, fill=True, fill_opacity=0.85, weight=1, color="#333333"
            ),
            style={"fillColor": color},
        )
        map_state(m).search_layers.append(layer)
    for status in (STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE):
        if (com["status"] == status).any():
            add_legend_row(m, "dot", STATUS_COLORS[status], f"{lab['communities']}: {lab[status]}")
    return m


def add_halls(
    result: AuditResult | gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    name: str | None = None,
    color: str = HALL_COLOR,
) -> folium.Map:
    """Add halls, sized by floor area where known; illustrative locations are marked.

    Parameters
    ----------
    result
        An audit result, or a halls frame (``hall_id``, ``name``, optional
        ``floor_area_m2`` in m², ``illustrative``).
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    name
        Layer name.
    color
        Marker colour.

    Returns
    -------
    folium.Map
        The map.
    """
    halls = result.halls if isinstance(result, AuditResult) else result
    config = result.config if isinstance(result, AuditResult) else DEFAULT_CONFIG
    m = m or new_map(halls, lang=lang)
    lab = LABELS[lang]
    area = pd.to_numeric(
        halls.get("floor_area_m2", pd.Series(np.nan, index=halls.index)), errors="coerce"
    )
    radius = np.where(area.notna(), np.clip(np.sqrt(area.fillna(0)) / 2.5, 5, 16), 7)
    illus = halls.get("illustrative", pd.Series(data=False, index=halls.index))
    illus = illus.fillna(value=False)
    illus = illus.astype(bool).to_numpy()
    keys = ["hall_id", "district", "floor_area_m2", "communities_served", "required_floor_area_m2"]
    keys = [k for k in keys if k in halls.columns]
    props: dict[str, list[Any]] = {k: [fmt(v) for v in halls[k]] for k in keys}
    rows = [(k, lab[ROW_LABEL[k]]) for k in keys]
    if {"communities_served", "communities_covered"} <= set(halls.columns):
        props["covered_of"] = [
            f"{c:,} / {s:,}"
            for c, s in zip(halls["communities_covered"], halls["communities_served"], strict=True)
        ]
        rows.append(("covered_of", lab["covered_of"]))
    if "required_floor_area_m2" in halls.columns and "floor_area_adequate" in halls.columns:
        props["verdict"] = [
            hall_verdict(
                None if pd.isna(ok) else bool(ok),
                area_m2=None if pd.isna(a) else float(a),
                need_m2=float(need),
                gap_m2=None if pd.isna(gap) else float(gap),
                per_100_households=config.floor_area_m2_per_100_households,
                lang=lang,
            )
            for ok, a, need, gap in zip(
                halls["floor_area_adequate"],
                area,
                halls["required_floor_area_m2"],
                halls.get("floor_area_gap_m2", pd.Series(np.nan, index=halls.index)),
                strict=True,
            )
        ]
        rows.append(("verdict", lab["verdict"]))
    props["title"] = [fmt(v) for v in halls["name"]]
    props["note"] = [lab["illustrative"] if i else None for i in illus]
    props["tip"] = [
        f"{fmt(n) or ''}{lab['illustrative_tip'] if i else ''}"
        for n, i in zip(halls["name"], illus, strict=True)
    ]
    props["r"] = radius.tolist()
    props["ill"] = illus.tolist()
    point_layer(
        m,
        halls,
        props,
        rows,
        name=escape(name) if name else f"{lab['halls']} ({len(halls)})",
        marker=folium.CircleMarker(radius=7, fill=True, fill_opacity=0.9, color="#ffffff"),
        style=lambda f: {
            "fillColor": color,
            "radius": f["properties"]["r"],
            "weight": 2,
            "dashArray": "3 3" if f["properties"]["ill"] else None,
            "color": "#000000",
        },
    )
    add_legend_row(m, "dot", color, escape(name) if name else lab["halls"])
    if area.notna().any():
        add_legend_row(m, "note", color, lab["hall_size"])
    if illus.any():
        add_legend_row(m, "ring", "#000000", lab["illustrative"])
    return m


def add_districts(
    districts: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    name_column: str = "district",
) -> folium.Map:
    """Add district boundaries (outlines with names as tooltips).

    Parameters
    ----------
    districts
        District polygons, any CRS.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    name_column
        Column holding the district name.

    Returns
    -------
    folium.Map
        The map.
    """
    m = m or new_map(districts, lang=lang)
    frame = gpd.GeoDataFrame(
        {"label": [escape(v) for v in districts[name_column]]},
        geometry=to_display(m, districts.geometry).simplify(0.0001).to_numpy(),
        crs=4326,
    )
    GeoJson(
        json.loads(frame.to_json()),
        name=LABELS[lang]["districts"],
        style_function=lambda _f: {
            "color": "#555555",
            "weight": 2,
            "fill": False,
            "dashArray": "6 4",
        },
        tooltip=folium.GeoJsonTooltip(["label"], labels=False, localize=False),
    ).add_to(m)
    add_legend_row(m, "dash", "#555555", LABELS[lang]["district_line"])
    return m


BAND_COLORS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")


def add_isochrones(
    isochrones: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    simplify_m: float = 4.0,
    config: Config | None = None,
) -> folium.Map:
    """Add service-area bands (one layer per band, the widest drawn first, lightest colour).

    A band's area is where a community would be covered within the band, by the audit's
    rule (:func:`coverage.isochrones.isochrones`). The legend names each band's colour and
    the community kind whose limit it is.

    Parameters
    ----------
    isochrones
        Output of :func:`coverage.isochrones.isochrones` (``band_min`` column, polygons);
        the polygons of each band are merged.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    simplify_m
        Simplification tolerance, metres (keeps exported maps small; keep it under half the
        grid cell, so the drawn edge stays within a cell of the computed one).
    config
        The thresholds that name the bands in the legend (urban, rural); the default
        configuration if ``None``.

    Returns
    -------
    folium.Map
        The map.
    """
    m = m or new_map(isochrones, lang=lang)
    cfg = config or DEFAULT_CONFIG
    lab = LABELS[lang]
    bands = sorted(isochrones["band_min"].unique(), reverse=True)
    crs = metric_crs(isochrones.geometry)
    for i, band in enumerate(bands):
        part = isochrones[isochrones["band_min"] == band]
        metric = part.geometry.to_crs(crs)
        geom = gpd.GeoSeries([metric.union_all().simplify(simplify_m)], crs=crs)
        color = BAND_COLORS[min(len(bands) - 1 - i, len(BAND_COLORS) - 1)]
        label = lab["band"].format(band=f"{band:g}")
        frame = gpd.GeoDataFrame({"label": [label]}, geometry=to_display(m, geom))
        GeoJson(
            json.loads(frame.to_json()),
            name=label,
            style_function=lambda _f, c=color: {
                "color": c,
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.18,
            },
            tooltip=folium.GeoJsonTooltip(["label"], labels=False, localize=False),
        ).add_to(m)
        limits = (("band_urban", cfg.urban_threshold_min), ("band_rural", cfg.rural_threshold_min))
        kinds = [lab[key] for key, limit in limits if limit == band]
        if kinds:
            label += f"（{'，'.join(kinds)}）" if lang == "zh" else f" ({', '.join(kinds)})"
        add_legend_row(m, "area", color, label)
    if len(bands) > 1:
        add_legend_row(m, "note", "", lab["band_overlap"])
    return m


CATCHMENT_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


def add_catchments(
    catchments: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    simplify_m: float = 4.0,
    show: bool = False,
) -> folium.Map:
    """Add each hall's catchment (the area it is the nearest hall of) as one layer of outlines.

    Parameters
    ----------
    catchments
        Output of :func:`coverage.isochrones.isochrones` with ``per="hall"`` (``hall_id``,
        optional ``name``, ``band_min``); the widest band of each hall is drawn.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    simplify_m
        Simplification tolerance, metres.
    show
        Show the layer when the map opens (it can always be switched on in the layer list).

    Returns
    -------
    folium.Map
        The map.
    """
    m = m or new_map(catchments, lang=lang)
    widest = catchments[catchments["band_min"] == catchments["band_min"].max()]
    widest = widest[~widest.geometry.is_empty].reset_index(drop=True)
    if len(widest) == 0:
        return m
    metric = widest.geometry.to_crs(metric_crs(widest.geometry))
    names = widest["name"] if "name" in widest.columns else widest["hall_id"]
    lab = LABELS[lang]
    band = float(widest["band_min"].iloc[0])
    unit = "分钟" if lang == "zh" else "min"
    frame = gpd.GeoDataFrame(
        {
            "label": [
                f"{lab['catchment_of']}: {escape(n)} ({escape(h)}), ≤ {band:g} {unit}"
                for n, h in zip(names, widest["hall_id"], strict=True)
            ],
            "color": [CATCHMENT_COLORS[i % len(CATCHMENT_COLORS)] for i in range(len(widest))],
        },
        geometry=to_display(m, gpd.GeoSeries(metric.simplify(simplify_m), crs=metric.crs)),
    )
    GeoJson(
        json.loads(frame.to_json()),
        name=lab["catchments"],
        show=show,
        style_function=lambda f: {
            "color": f["properties"]["color"],
            "weight": 1.5,
            "fillColor": f["properties"]["color"],
            "fillOpacity": 0.08,
        },
        tooltip=folium.GeoJsonTooltip(["label"], labels=False, localize=False),
    ).add_to(m)
    add_legend_row(m, "outline", CATCHMENT_COLORS[0], lab["catchment_legend"])
    return m


PROPOSAL_COLOR = "#ff7f00"


def add_proposals(
    proposals: gpd.GeoDataFrame,
    assignments: gpd.GeoDataFrame | None = None,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    site_column: str = "site_id",
) -> folium.Map:
    """Add proposed (shared) halls, with a line to each community they would serve.

    Parameters
    ----------
    proposals
        Proposed sites: ``site_id`` (or ``site_column``), optional ``name``, ``members``
        (count), ``population``, ``floor_area_needed_m2`` (m²); points, any CRS.
    assignments
        Communities (points, any CRS) with a ``site_column`` naming the proposed site each
        is assigned to (others are ignored); draws the 一站多居 groups as lines.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    site_column
        Column holding the site identifier in both frames.

    Returns
    -------
    folium.Map
        The map.
    """
    m = m or new_map(proposals, lang=lang)
    lab = LABELS[lang]
    if assignments is not None and len(assignments) and len(proposals):
        sites = to_display(m, proposals.set_index(site_column).geometry)
        chosen = assignments[assignments[site_column].isin(sites.index)]
        homes = to_display(m, chosen.geometry)
        ends = sites.loc[chosen[site_column]].to_numpy()
        lines = [
            {
                "type": "Feature",
                "properties": {},
                "geometry": shapely.geometry.mapping(shapely.LineString([(a.x, a.y), (b.x, b.y)])),
            }
            for a, b in zip(homes, ends, strict=True)
        ]
        GeoJson(
            {"type": "FeatureCollection", "features": lines},
            name=f"{lab['assignments']} ({len(lines)})",
            style_function=lambda _f: {"color": PROPOSAL_COLOR, "weight": 1.5, "opacity": 0.7},
        ).add_to(m)
        add_legend_row(m, "line", PROPOSAL_COLOR, lab["assignment_line"])
    keys = [
        k
        for k in (site_column, "members", "population", "floor_area_needed_m2")
        if k in proposals.columns
    ]
    props: dict[str, list[Any]] = {k: [fmt(v) for v in proposals[k]] for k in keys}
    if "population" in proposals.columns:  # people are whole
        props["population"] = [fmt(v, 0) for v in proposals["population"]]
    if "members" in proposals.columns:
        props["members"] = [_members(v, lang) for v in proposals["members"]]
    names = proposals["name"] if "name" in proposals.columns else proposals[site_column]
    props["title"] = [fmt(v) for v in names]
    props["tip"] = props["title"]
    point_layer(
        m,
        proposals,
        props,
        [(k, lab.get(ROW_LABEL.get(k, k), k)) for k in keys],
        name=f"{lab['proposed']} ({len(proposals)})",
        marker=folium.CircleMarker(radius=9, fill=True, fill_opacity=0.95, color="#000000"),
        style={"fillColor": PROPOSAL_COLOR, "weight": 2},
    )
    add_legend_row(m, "dot", PROPOSAL_COLOR, lab["proposed"])
    return m


def _members(value: object, lang: Lang, limit: int = 8) -> str | None:
    """A list of community ids as one line (the first ``limit``, then how many more)."""
    if not isinstance(value, list | tuple | np.ndarray):
        return fmt(value)
    items = [str(v) for v in value]
    sep = "、" if lang == "zh" else ", "
    text = sep.join(items[:limit])
    if len(items) > limit:
        text += " " + LABELS[lang]["more"].format(n=len(items))
    return f"{len(items)}: {text}"


def add_doubts(result: AuditResult, *, m: folium.Map, lang: Lang = "zh") -> folium.Map:
    """Say on the map what the audit doubts about its input (e.g. the coordinate system).

    A red note under the title, in the map's language, for every coordinate check of
    ``result.coordinate_checks`` that doubts the declared system: the same sentence as in
    ``summary.html`` and the Excel 说明 sheet.

    Parameters
    ----------
    result
        The audit result.
    m
        The map.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    folium.Map
        The map.
    """
    lines = [
        coord_check_text(c.label, c.declared, c.fits, c.points, lang)
        for c in result.coordinate_checks
        if c.doubt
    ]
    if lines:
        page(m).html.add_child(
            Text(
                "<div class='cp-doubt' style='position:fixed;top:48px;left:60px;right:240px;"
                "z-index:9999;background:#fde0dd;color:#a50f15;padding:4px 10px;"
                "border:1px solid #a50f15;border-radius:4px;font:13px sans-serif'>"
                + "<br>".join(escape(line) for line in lines)
                + "</div>"
            )
        )
    return m


#: Communities on map-data islands: purple dashed rings (not the proposals' orange).
DATA_PROBLEM_COLOR = "#984ea3"


def add_data_problems(
    communities: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
) -> folium.Map:
    """Add communities that are a map-data problem (e.g. on a road fragment), with the reason.

    Parameters
    ----------
    communities
        Points (any CRS) with ``community_id``, optional ``name``, and ``reason`` (English;
        shown in Chinese with ``lang="zh"``), e.g. the communities of
        :attr:`coverage.siting.ProposalResult.data_problems`.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.

    Returns
    -------
    folium.Map
        The map.
    """
    m = m or new_map(communities, lang=lang)
    if len(communities) == 0:
        return m
    lab = LABELS[lang]
    names = communities["name"] if "name" in communities.columns else communities["community_id"]
    props: dict[str, list[Any]] = {
        "community_id": [fmt(v) for v in communities["community_id"]],
        "reason": [fmt(v) for v in communities[reason_column(communities, lang)]],
        "title": [fmt(v) for v in names],
    }
    props["tip"] = props["title"]
    point_layer(
        m,
        communities,
        props,
        [("community_id", lab["id"]), ("reason", lab["reason"])],
        name=f"{lab['data_problems']} ({len(communities)})",
        marker=folium.CircleMarker(radius=8, fill=False, weight=3, dash_array="3 3"),
        style={"color": DATA_PROBLEM_COLOR, "weight": 3},
    )
    add_legend_row(m, "ring", DATA_PROBLEM_COLOR, lab["data_problems"])
    return m


#: Colours of the services' sites and areas, in the standard's order (then repeated).
SERVICE_COLORS = (
    "#1f78b4",
    "#6a3d9a",
    "#b15928",
    "#e7298a",
    "#17becf",
    "#8c6d31",
    "#393b79",
    "#ff7f00",
    "#7f7f7f",
    "#bcbd22",
)

#: The completeness scale: (lowest share of the step, colour), from complete down; a
#: community that needs no service is grey.
COMPLETENESS_STEPS = (
    (1.0, "#1a9850"),
    (0.75, "#91cf60"),
    (0.5, "#fee08b"),
    (0.25, "#fc8d59"),
    (0.0, "#d73027"),
)
NO_REQUIREMENT_COLOR = "#bdbdbd"


def completeness_step(share: float) -> int:
    """The step of :data:`COMPLETENESS_STEPS` a completeness share falls in (-1: NaN).

    >>> completeness_step(1.0), completeness_step(0.8), completeness_step(0.1)
    (0, 1, 4)
    """
    if share != share:  # NaN  # noqa: PLR0124
        return -1
    return next(i for i, (low, _) in enumerate(COMPLETENESS_STEPS) if share >= low - 1e-12)


def _step_label(i: int, lang: Lang) -> str:
    low = COMPLETENESS_STEPS[i][0]
    if i == 0:
        return "100%（全部达标）" if lang == "zh" else "100% (every service)"
    high = COMPLETENESS_STEPS[i - 1][0]
    return f"{low:.0%} 至不足 {high:.0%}" if lang == "zh" else f"{low:.0%} to under {high:.0%}"


def add_completeness(
    result: ServiceAudit,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    radius: float = 5.0,
) -> folium.Map:
    """Add the communities coloured by completeness (share of their services within circle).

    A stepped scale (:data:`COMPLETENESS_STEPS`: 100 %, 75 %, 50 %, 25 %, under 25 %; grey
    where the community's kind needs no service), one layer; the popup names the missing
    services with their minutes or metres, in ``lang``.

    Parameters
    ----------
    result
        What :func:`coverage.lifecircle.audit_services` found.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    radius
        Marker radius, pixels.

    Returns
    -------
    folium.Map
        The map.
    """
    com = result.communities
    m = m or new_map(com, lang=lang)
    lab = LABELS[lang]
    keys = [k for k in ("community_id", "district", "kind", "population") if k in com]
    props: dict[str, list[Any]] = {k: [fmt(v) for v in com[k]] for k in keys}
    props["kind"] = [lab.get(str(v), str(v)) for v in com["kind"]]
    share = com["completeness"].to_numpy(float)
    steps = [completeness_step(float(v)) for v in share]
    props["completeness"] = [
        lab["no_requirement"]
        if s < 0
        else lab["completeness_of"].format(ok=int(ok), required=int(req), share=v)
        for s, ok, req, v in zip(
            steps, com["services_ok"], com["services_required"], share, strict=True
        )
    ]
    missing = com["missing_zh" if lang == "zh" else "missing"].fillna("").astype(str)
    props["missing"] = [
        (text or lab["nothing_missing"]) if s >= 0 else None
        for text, s in zip(missing, steps, strict=True)
    ]
    names = com["name"] if "name" in com.columns else com["community_id"]
    props["title"] = [fmt(v) for v in names]
    props["tip"] = [
        f"{fmt(n) or ''}: {lab['no_requirement'] if s < 0 else f'{v:.0%}'}"
        for n, s, v in zip(names, steps, share, strict=True)
    ]
    props["c"] = [NO_REQUIREMENT_COLOR if s < 0 else COMPLETENESS_STEPS[s][1] for s in steps]
    rows = [(k, lab[ROW_LABEL[k]]) for k in keys]
    rows += [("completeness", lab["completeness"]), ("missing", lab["missing"])]
    layer = point_layer(
        m,
        com,
        props,
        rows,
        name=f"{lab['communities']}: {lab['completeness']} ({len(com)})",
        marker=folium.CircleMarker(
            radius=radius, fill=True, fill_opacity=0.9, weight=1, color="#333333"
        ),
        style=lambda f: {"fillColor": f["properties"]["c"]},
    )
    map_state(m).search_layers.append(layer)
    present = set(steps)
    for i, (_, color) in enumerate(COMPLETENESS_STEPS):
        if i in present:
            label = f"{lab['completeness']} {_step_label(i, lang)}"
            add_legend_row(m, "dot", color, label)
    if -1 in present:
        add_legend_row(m, "dot", NO_REQUIREMENT_COLOR, lab["no_requirement"])
    return m


def add_service_sites(
    sites: gpd.GeoDataFrame,
    *,
    service: str,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    color: str = SERVICE_COLORS[0],
    show: bool = True,
) -> folium.Map:
    """Add one service's sites as a layer of its own (a colour per service).

    Parameters
    ----------
    sites
        Points, any CRS; ``name`` and an id (``osm_id``, ``hall_id`` or ``site_id``) where
        present, ``key``/``category`` (the OSM tag) for sites read from OSM.
    service
        The service's name, shown in the layer list, the legend and the popups (escaped).
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    color
        Marker colour.
    show
        Show the layer when the map opens.

    Returns
    -------
    folium.Map
        The map.
    """
    m = m or new_map(sites, lang=lang)
    lab = LABELS[lang]
    n = len(sites)
    if n == 0:
        add_legend_row(m, "note", "", lab["no_sites"].format(service=service))
        return m
    id_col = next((c for c in ("osm_id", "hall_id", "site_id") if c in sites.columns), None)
    props: dict[str, list[Any]] = {"service": [service] * n}
    rows = [("service", lab["service"])]
    if id_col is not None:
        props["id"] = [fmt(v) for v in sites[id_col]]
        rows.insert(0, ("id", lab["id"]))
    if {"key", "category"} <= set(sites.columns):
        props["tag"] = [f"{k}={v}" for k, v in zip(sites["key"], sites["category"], strict=True)]
        rows.append(("tag", lab["osm_tag"]))
    names = (
        sites["name"].fillna("").astype(str)
        if "name" in sites.columns
        else pd.Series([""] * n, index=sites.index)
    )
    props["title"] = [name or service for name in names]
    props["tip"] = [f"{service}: {name}" if name else service for name in names]
    layer = GeoJson(
        points_geojson(m, sites, props),
        name=f"{escape(service)} ({n})",
        show=show,
        marker=folium.CircleMarker(radius=6, fill=True, fill_opacity=0.95, weight=2),
        style_function=lambda _f, c=color: {"fillColor": c, "color": "#ffffff"},
    )
    layer.add_to(m)
    DomPopup(layer, rows).add_to(m)
    add_legend_row(m, "dot", color, lab["sites_of"].format(service=service))
    return m


def add_service_area(
    areas: gpd.GeoDataFrame,
    *,
    service: str,
    speed_kph: float,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    color: str = SERVICE_COLORS[0],
    show: bool = False,
    simplify_m: float = 4.0,
) -> folium.Map:
    """Add one service's service area(s), a layer per circle (off until switched on).

    Parameters
    ----------
    areas
        This service's rows of :func:`coverage.lifecircle.service_areas` (``band_min``,
        ``circle_m``, ``kinds``).
    service
        The service's name (escaped).
    speed_kph
        The network's speed, km/h: a circle set in metres is drawn at the minutes those
        metres take at it, and the legend says so.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    color
        Outline and fill colour.
    show
        Show the layer when the map opens.
    simplify_m
        Simplification tolerance, metres.

    Returns
    -------
    folium.Map
        The map.
    """
    m = m or new_map(areas, lang=lang)
    lab = LABELS[lang]
    sep = "，" if lang == "zh" else ", "
    for band, metres, kinds, shape in zip(
        areas["band_min"], areas["circle_m"], areas["kinds"], areas.geometry, strict=True
    ):
        if shape is None or shape.is_empty:
            continue
        if metres == metres:  # a circle in metres  # noqa: PLR0124
            circle = lab["circle_metres"].format(m=metres, min=band, speed=speed_kph)
        else:
            circle = lab["circle_minutes"].format(min=band)
        short = (
            lab["circle_short_m"].format(m=metres)
            if metres == metres  # noqa: PLR0124 (NaN: a circle in minutes)
            else lab["circle_minutes"].format(min=band)
        )
        name = lab["service_area"].format(service=service, circle=short)
        label = lab["service_area"].format(service=service, circle=circle)
        label += lab["lc_kinds"].format(kinds=sep.join(lab[k] for k in str(kinds).split()))
        geo = gpd.GeoSeries([shape], crs=4326)
        crs = metric_crs(geo)
        drawn = to_display(m, geo.to_crs(crs).simplify(simplify_m))
        frame = gpd.GeoDataFrame({"label": [escape(label)]}, geometry=drawn)
        GeoJson(
            json.loads(frame.to_json()),
            name=escape(name),
            show=show,
            style_function=lambda _f, c=color: {
                "color": c,
                "weight": 1.5,
                "fillColor": c,
                "fillOpacity": 0.15,
            },
            tooltip=folium.GeoJsonTooltip(["label"], labels=False, localize=False),
        ).add_to(m)
        add_legend_row(m, "area", color, label)
    return m
