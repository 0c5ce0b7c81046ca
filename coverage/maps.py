"""Folium maps of an audit: communities by status, halls, districts, legend.

Every map function takes ``m=None`` (a new map is made) or an existing :class:`folium.Map`,
adds its layer and returns the map, so notebook users can compose layers.

All user-supplied text (names, ids, reasons) is escaped before it reaches the page: popups and
tooltips carry text, never markup, from the data.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from coverage._errors import InputDataError
from coverage._files import write_text_atomic
from coverage._licence import OSM_ATTRIBUTION
from coverage._offline import inline_assets
from coverage.audit import STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE, AuditResult
from coverage.coords import transform_geometry
from coverage.i18n import coord_check_text, reason_column

Lang = Literal["zh", "en"]

STATUS_COLORS = {
    STATUS_COVERED: "#1a9850",
    STATUS_NOT_COVERED: "#d73027",
    STATUS_UNREACHABLE: "#7f7f7f",
}
HALL_COLOR = "#2c5aa0"

_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        STATUS_COVERED: "已覆盖",
        STATUS_NOT_COVERED: "未覆盖",
        STATUS_UNREACHABLE: "不可达",
        "communities": "社区",
        "halls": "社区服务中心",
        "illustrative": "示意位置 (illustrative)",
        "districts": "区县 / 片区",
        "name": "名称",
        "id": "编号",
        "district": "区县",
        "street": "街道",
        "kind": "类型",
        "urban": "城市",
        "rural": "农村",
        "population": "人口",
        "minutes": "出行时间 (分钟)",
        "threshold": "标准 (分钟)",
        "nearest": "最近服务中心",
        "status": "状态",
        "reason": "说明",
        "floor_area": "用房面积 (m²)",
        "required": "所需面积 (m²)",
        "served": "服务社区数",
        "title": "社区服务中心覆盖评估",
        "search": "搜索社区名称",
        "proposed": "建议新增服务中心 (一站多居)",
        "members": "服务社区",
        "needed": "所需面积 (m²)",
        "assignments": "服务关系",
        "legend": "图例",
        "band": "分钟可达范围",
        "data_problems": "数据问题 (地图孤岛, 未纳入选址)",
        "catchments": "各服务中心服务范围",
        "catchment_of": "服务范围",
    },
    "en": {
        STATUS_COVERED: "covered",
        STATUS_NOT_COVERED: "not covered",
        STATUS_UNREACHABLE: "unreachable",
        "communities": "Communities",
        "halls": "Community service halls",
        "illustrative": "illustrative location",
        "districts": "Districts",
        "name": "Name",
        "id": "ID",
        "district": "District",
        "street": "Street",
        "kind": "Kind",
        "urban": "urban",
        "rural": "rural",
        "population": "Population",
        "minutes": "Travel time (min)",
        "threshold": "Limit (min)",
        "nearest": "Nearest hall",
        "status": "Status",
        "reason": "Reason",
        "floor_area": "Floor area (m²)",
        "required": "Required area (m²)",
        "served": "Communities served",
        "title": "Community service hall coverage audit",
        "search": "Search community name",
        "proposed": "Proposed shared halls",
        "members": "Communities",
        "needed": "Floor area needed (m²)",
        "assignments": "Assignments",
        "legend": "Legend",
        "band": "-minute area",
        "data_problems": "Data problems (map-data islands, left out of siting)",
        "catchments": "Catchment of each hall",
        "catchment_of": "Catchment",
    },
}


def _root(m: folium.Map) -> Figure:
    """The map's HTML page (a branca Figure)."""
    return cast("Figure", m.get_root())


def escape(value: object) -> str:
    """Escape any value for HTML and for JavaScript template literals.

    Parameters
    ----------
    value
        Any value; ``None`` and NaN become an empty string.

    Returns
    -------
    str
        Text safe to place inside HTML elements, attributes and JS back-quoted strings.

    Examples
    --------
    >>> escape("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _fmt(value: object, digits: int = 1) -> str | None:
    """Numbers as short display strings; missing values as ``None`` (shown as a dash)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return f"{value:,.{digits}f}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return str(value)


class _DomPopup(MacroElement):
    """Popups and tooltips built in the browser from feature properties with ``textContent``.

    Data never becomes markup: whatever a name holds is shown as text. The labels are sent
    once per layer instead of once per feature, which keeps exported maps small.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
          var rows = {{ this.rows|tojson }};
          function el(tag, text, cls) {
            var e = document.createElement(tag);
            e.textContent = (text === null || text === undefined) ? "\u2013" : String(text);
            if (cls) { e.className = cls; }
            return e;
          }
          {{ this.layer }}.bindPopup(function (layer) {
            var p = layer.feature.properties, div = document.createElement("div");
            div.appendChild(el("b", p.title));
            var t = document.createElement("table");
            t.className = "cp-pop";
            rows.forEach(function (kv) {
              var tr = document.createElement("tr");
              tr.appendChild(el("th", kv[1]));
              tr.appendChild(el("td", p[kv[0]]));
              t.appendChild(tr);
            });
            div.appendChild(t);
            if (p.note) { div.appendChild(el("div", p.note, "cp-note")); }
            return div;
          }, {maxWidth: 320});
          {{ this.layer }}.bindTooltip(function (layer) {
            return el("span", layer.feature.properties.tip);
          });
        })();
        {% endmacro %}"""
    )

    def __init__(self, layer: folium.GeoJson, rows: list[tuple[str, str]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "DomPopup"
        self.layer = layer.get_name()
        self.rows = [list(r) for r in rows]


_POPUP_CSS = (
    "<style>table.cp-pop{font-size:12px;border-collapse:collapse}"
    "table.cp-pop th{text-align:left;padding-right:6px;font-weight:600;white-space:nowrap}"
    ".cp-note{max-width:280px;font-size:11px;margin-top:4px;color:#333}</style>"
)


Basemap = Literal["osm", "amap", "amap-satellite", "tianditu", "blank"]

#: Tianditu (天地图) vector tiles and Chinese labels; needs a key from lbs.tianditu.gov.cn.
_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)


def _add_basemap(m: folium.Map, basemap: Basemap, tianditu_key: str | None) -> None:
    """Add the background tiles (xyzservices providers where they exist)."""
    import xyzservices.providers as xyz  # noqa: PLC0415

    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
    elif basemap in {"amap", "amap-satellite"}:
        tp = xyz.Gaode.Normal if basemap == "amap" else xyz.Gaode.Satellite
        url = tp["url"].replace("http://", "https://")
        folium.TileLayer(url, attr=tp["html_attribution"], name=tp["name"],
                         max_zoom=tp.get("max_zoom", 18)).add_to(m)  # fmt: skip
    elif basemap == "tianditu":
        if not tianditu_key:
            msg = "the Tianditu basemap needs a key: tianditu_key='...' (lbs.tianditu.gov.cn)"
            raise InputDataError(msg)
        for layer, label in (("vec", "天地图"), ("cva", "天地图注记")):
            folium.TileLayer(
                _TIANDITU.format(layer=layer, key=tianditu_key, s="{s}", x="{x}", y="{y}", z="{z}"),
                attr="&copy; 天地图 Tianditu", name=label, subdomains="01234567",
                overlay=layer == "cva", max_zoom=18,
            ).add_to(m)  # fmt: skip
    elif basemap != "blank":
        msg = f"unknown basemap {basemap!r}; use osm, amap, amap-satellite, tianditu or blank"
        raise InputDataError(msg)


@dataclass
class _MapState:
    """What this module knows about a map it made: kept beside the map, not on it."""

    coord_system: str = "wgs84"  # overlays are shifted into GCJ-02 on Amap tiles
    search_layers: list[folium.GeoJson] = field(default_factory=list)  # searched by name


_STATES: weakref.WeakKeyDictionary[folium.Map, _MapState] = weakref.WeakKeyDictionary()


def _state(m: folium.Map) -> _MapState:
    """The state of a map (a new one for a map this module has not seen)."""
    state = _STATES.get(m)
    if state is None:
        state = _STATES[m] = _MapState()
    return state


def display_crs(m: folium.Map) -> str:
    """Coordinate system overlays must be drawn in on this map: ``"gcj02"`` on Amap tiles.

    Parameters
    ----------
    m
        A map made by :func:`new_map`.

    Returns
    -------
    str
        ``"gcj02"`` or ``"wgs84"``.
    """
    return _state(m).coord_system


def to_display(m: folium.Map, geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Geometries in EPSG:4326, shifted into GCJ-02 when the map shows Amap tiles.

    Parameters
    ----------
    m
        The map.
    geometry
        Geometries in any CRS.

    Returns
    -------
    geopandas.GeoSeries
        Geometries ready to draw on ``m``.
    """
    geo = geometry.to_crs(4326)
    if display_crs(m) == "gcj02":
        geo = transform_geometry(geo, "wgs84", "gcj02")
    return geo


def new_map(
    gdf: gpd.GeoDataFrame | None = None,
    *,
    title: str | None = None,
    basemap: Basemap = "osm",
    tianditu_key: str | None = None,
    lang: Lang = "zh",
) -> folium.Map:
    """A base map fitted to a frame, with scale bar, full-screen button, title and attribution.

    Parameters
    ----------
    gdf
        Frame whose bounds the map fits (any CRS); ``None`` shows Hangzhou.
    title
        Title shown at the top with today's date.
    basemap
        ``"osm"`` (OpenStreetMap, default), ``"amap"`` / ``"amap-satellite"`` (高德; GCJ-02
        tiles: every overlay added by this module is shifted into GCJ-02 so it lines up),
        ``"tianditu"`` (天地图; needs ``tianditu_key``) or ``"blank"`` (no tiles: the map needs
        no network at all).
    tianditu_key
        Tianditu API key.
    lang
        ``"zh"`` or ``"en"`` labels.

    Returns
    -------
    folium.Map
        The map.
    """
    m = folium.Map(location=[30.27, 120.15], zoom_start=12, tiles=None)
    _state(m).coord_system = "gcj02" if basemap.startswith("amap") else "wgs84"
    _add_basemap(m, basemap, tianditu_key)
    if gdf is not None and len(gdf):
        w, s_, e, n = to_display(m, gdf.geometry).total_bounds
        m.fit_bounds([[s_, w], [n, e]])
    _MetricScale().add_to(m)
    _FullscreenControl().add_to(m)
    _root(m).header.add_child(Element(_POPUP_CSS))
    _add_attribution(m, OSM_ATTRIBUTION)
    text = title or _LABELS[lang]["title"]
    stamp = dt.datetime.now(dt.UTC).astimezone().date().isoformat()
    _root(m).html.add_child(
        Element(
            "<div class='cp-title' style='position:fixed;top:10px;left:60px;z-index:9999;"
            "background:rgba(255,255,255,.9);padding:4px 10px;border-radius:4px;"
            "font:bold 15px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)'>"
            f"{escape(text)} <span style='font-weight:normal;font-size:12px'>{stamp}</span></div>"
        )
    )
    return m


class _MetricScale(MacroElement):
    """A metric scale bar (Leaflet's own control, without the imperial bar)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({imperial: false, position: "bottomright"})
          .addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]


class _FullscreenControl(MacroElement):
    """A full-screen button (our own few lines; no plugin asset to fetch)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
          var Ctl = L.Control.extend({
            options: {position: "topleft"},
            onAdd: function () {
              var a = L.DomUtil.create("a", "leaflet-bar cp-fullscreen");
              a.href = "#"; a.title = "Full screen / 全屏";
              a.innerHTML = '<svg width="16" height="16" viewBox="0 0 16 16" style="margin:7px">' +
                '<path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5" fill="none" ' +
                'stroke="#333" stroke-width="2"/></svg>';
              a.style.cssText = "display:block;width:30px;height:30px;line-height:30px;" +
                "text-align:center;background:#fff;font-size:18px;color:#333;text-decoration:none";
              L.DomEvent.on(a, "click", function (e) {
                L.DomEvent.preventDefault(e);
                var el = map.getContainer();
                if (!document.fullscreenElement) {
                  if (el.requestFullscreen) { el.requestFullscreen(); }
                } else if (document.exitFullscreen) { document.exitFullscreen(); }
              });
              return a;
            }
          });
          map.addControl(new Ctl());
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]


class _Attribution(MacroElement):
    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.text = escape(text)


def _add_attribution(m: folium.Map, text: str) -> None:
    _Attribution(text).add_to(m)


def _points_geojson(
    m: folium.Map, gdf: gpd.GeoDataFrame, props: dict[str, list[Any]]
) -> dict[str, Any]:
    pts = to_display(m, gdf.geometry)
    feats = []
    for i, p in enumerate(pts):
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(p.x, 6), round(p.y, 6)]},
                "properties": {k: v[i] for k, v in props.items()},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


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
    lab = _LABELS[lang]
    keys = ["community_id", "district", "street", "kind", "population", "travel_time_min",
            "threshold_min", "nearest_hall_name"]  # fmt: skip
    rows = [(k, lab[_ROW_LABEL[k]]) for k in keys] + [("status", lab["status"])]
    for status in (STATUS_UNREACHABLE, STATUS_NOT_COVERED, STATUS_COVERED):
        part = com[com["status"] == status]
        if part.empty:
            continue
        props: dict[str, list[Any]] = {
            k: [_fmt(v) for v in part[k]] if k in part.columns else [None] * len(part) for k in keys
        }
        props["kind"] = [lab.get(str(v), str(v)) for v in part["kind"]]
        props["status"] = [lab[status]] * len(part)
        props["title"] = [_fmt(v) for v in part["name"]]
        props["note"] = [_fmt(v) for v in part[reason_column(part, lang)]]
        props["tip"] = [
            f"{_fmt(n) or ''}: {_fmt(t) or '–'} min"
            for n, t in zip(part["name"], part["travel_time_min"], strict=True)
        ]
        color = STATUS_COLORS[status]
        layer = folium.GeoJson(
            _points_geojson(m, part, props),
            name=f"{lab['communities']}: {lab[status]} ({len(part)})",
            marker=folium.CircleMarker(
                radius=radius, fill=True, fill_opacity=0.85, weight=1, color="#333333"
            ),
            style_function=lambda _f, c=color: {"fillColor": c},
        )
        layer.add_to(m)
        _DomPopup(layer, rows).add_to(m)
        _state(m).search_layers.append(layer)
    return m


_ROW_LABEL = {
    "community_id": "id", "hall_id": "id", "district": "district", "street": "street",
    "kind": "kind", "population": "population", "travel_time_min": "minutes",
    "threshold_min": "threshold", "nearest_hall_name": "nearest", "floor_area_m2": "floor_area",
    "communities_served": "served", "required_floor_area_m2": "required",
    "site_id": "id", "members": "members", "floor_area_needed_m2": "needed",
}  # fmt: skip


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
    m = m or new_map(halls, lang=lang)
    lab = _LABELS[lang]
    area = pd.to_numeric(halls.get("floor_area_m2", pd.Series(np.nan, index=halls.index)),
                         errors="coerce")  # fmt: skip
    radius = np.where(area.notna(), np.clip(np.sqrt(area.fillna(0)) / 2.5, 5, 16), 7)
    illus = halls.get("illustrative", pd.Series(data=False, index=halls.index))
    illus = illus.fillna(value=False)
    illus = illus.astype(bool).to_numpy()
    keys = ["hall_id", "district", "floor_area_m2", "communities_served", "required_floor_area_m2"]
    keys = [k for k in keys if k in halls.columns]
    props: dict[str, list[Any]] = {k: [_fmt(v) for v in halls[k]] for k in keys}
    props["title"] = [_fmt(v) for v in halls["name"]]
    props["note"] = [lab["illustrative"] if i else None for i in illus]
    props["tip"] = [
        f"{_fmt(n) or ''}{' (示意)' if i else ''}"
        for n, i in zip(halls["name"], illus, strict=True)
    ]
    props["r"] = radius.tolist()
    props["ill"] = illus.tolist()
    layer = folium.GeoJson(
        _points_geojson(m, halls, props),
        name=escape(name) if name else f"{lab['halls']} ({len(halls)})",
        marker=folium.CircleMarker(radius=7, fill=True, fill_opacity=0.9, color="#ffffff"),
        style_function=lambda f: {
            "fillColor": color,
            "radius": f["properties"]["r"],
            "weight": 2,
            "dashArray": "3 3" if f["properties"]["ill"] else None,
            "color": "#000000",
        },
    )
    layer.add_to(m)
    _DomPopup(layer, [(k, lab[_ROW_LABEL[k]]) for k in keys]).add_to(m)
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
        geometry=to_display(m, districts.geometry).simplify(0.0001),
    )
    folium.GeoJson(
        json.loads(frame.to_json()),
        name=_LABELS[lang]["districts"],
        style_function=lambda _f: {
            "color": "#555555",
            "weight": 2,
            "fill": False,
            "dashArray": "6 4",
        },
        tooltip=folium.GeoJsonTooltip(["label"], labels=False, localize=False),
    ).add_to(m)
    return m


BAND_COLORS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")


def add_isochrones(
    isochrones: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    simplify_m: float = 4.0,
) -> folium.Map:
    """Add service-area bands (one layer per band, the widest drawn first, lightest colour).

    A band's area is where a community would be covered within the band, by the audit's
    rule (:func:`coverage.isochrones.isochrones`).

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

    Returns
    -------
    folium.Map
        The map.
    """
    m = m or new_map(isochrones, lang=lang)
    bands = sorted(isochrones["band_min"].unique(), reverse=True)
    word = _LABELS[lang]["band"]
    for i, band in enumerate(bands):
        part = isochrones[isochrones["band_min"] == band]
        metric = part.geometry.to_crs(part.geometry.estimate_utm_crs())
        geom = gpd.GeoSeries(metric.union_all().simplify(simplify_m), crs=metric.crs)
        color = BAND_COLORS[min(len(bands) - 1 - i, len(BAND_COLORS) - 1)]
        label = f"{band:g} {word}" if lang == "zh" else f"{band:g}{word}"
        frame = gpd.GeoDataFrame({"label": [label]}, geometry=to_display(m, geom))
        folium.GeoJson(
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
    metric = widest.geometry.to_crs(widest.geometry.estimate_utm_crs())
    names = widest["name"] if "name" in widest.columns else widest["hall_id"]
    lab = _LABELS[lang]
    band = float(widest["band_min"].iloc[0])
    unit = "分钟" if lang == "zh" else "min"
    frame = gpd.GeoDataFrame(
        {
            "label": [f"{lab['catchment_of']}: {escape(n)} ({escape(h)}), ≤ {band:g} {unit}"
                      for n, h in zip(names, widest["hall_id"], strict=True)],
            "color": [CATCHMENT_COLORS[i % len(CATCHMENT_COLORS)] for i in range(len(widest))],
        },
        geometry=to_display(m, gpd.GeoSeries(metric.simplify(simplify_m), crs=metric.crs)),
    )  # fmt: skip
    folium.GeoJson(
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
    return m


class _SearchControl(MacroElement):
    """A search box: type part of a community name, pick a match, the map zooms to it."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map, layers) {
          var Ctl = L.Control.extend({
            options: {position: "topleft"},
            onAdd: function () {
              var div = L.DomUtil.create("div", "leaflet-bar cp-search");
              div.style.cssText = "background:#fff;padding:4px";
              var input = L.DomUtil.create("input", "", div);
              input.type = "search";
              input.placeholder = {{ this.placeholder|tojson }};
              input.style.width = "180px";
              var list = L.DomUtil.create("div", "cp-search-list", div);
              L.DomEvent.disableClickPropagation(div);
              L.DomEvent.disableScrollPropagation(div);
              input.addEventListener("input", function () {
                while (list.firstChild) { list.removeChild(list.firstChild); }
                var q = input.value.trim().toLowerCase(), n = 0;
                if (!q) { return; }
                layers.forEach(function (g) {
                  g.eachLayer(function (l) {
                    var t = String(l.feature.properties.title || "");
                    if (n < 10 && t.toLowerCase().indexOf(q) >= 0) {
                      n++;
                      var a = document.createElement("a");
                      a.href = "#";
                      a.textContent = t;
                      a.style.cssText = "display:block;padding:2px 4px";
                      a.addEventListener("click", function (e) {
                        e.preventDefault();
                        if (!map.hasLayer(g)) { map.addLayer(g); }
                        map.setView(l.getLatLng(), Math.max(map.getZoom(), 16));
                        l.fire("click", {latlng: l.getLatLng()}, true);
                      });
                      list.appendChild(a);
                    }
                  });
                });
              });
              return div;
            }
          });
          map.addControl(new Ctl());
        })({{ this._parent.get_name() }}, [{{ this.layers|join(", ") }}]);
        {% endmacro %}"""
    )

    def __init__(self, layers: list[folium.GeoJson], placeholder: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "SearchControl"
        self.layers = [layer.get_name() for layer in layers]
        self.placeholder = placeholder


def add_search(m: folium.Map, *, lang: Lang = "zh") -> folium.Map:
    """Add a search box over the community layers already on the map.

    Parameters
    ----------
    m
        A map with community layers (see :func:`add_communities`).
    lang
        ``"zh"`` or ``"en"`` labels.

    Returns
    -------
    folium.Map
        The map.
    """
    layers = _state(m).search_layers
    if layers:
        _SearchControl(layers, _LABELS[lang]["search"]).add_to(m)
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
    lab = _LABELS[lang]
    if assignments is not None and len(assignments) and len(proposals):
        sites = to_display(m, proposals.set_index(site_column).geometry)
        chosen = assignments[assignments[site_column].isin(sites.index)]
        homes = to_display(m, chosen.geometry)
        ends = sites.loc[chosen[site_column]].to_numpy()
        lines = [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(
                shapely.LineString([(a.x, a.y), (b.x, b.y)]))}
            for a, b in zip(homes, ends, strict=True)
        ]  # fmt: skip
        folium.GeoJson(
            {"type": "FeatureCollection", "features": lines},
            name=f"{lab['assignments']} ({len(lines)})",
            style_function=lambda _f: {"color": PROPOSAL_COLOR, "weight": 1.5, "opacity": 0.7},
        ).add_to(m)
    keys = [k for k in (site_column, "members", "population", "floor_area_needed_m2")
            if k in proposals.columns]  # fmt: skip
    props: dict[str, list[Any]] = {k: [_fmt(v) for v in proposals[k]] for k in keys}
    names = proposals["name"] if "name" in proposals.columns else proposals[site_column]
    props["title"] = [_fmt(v) for v in names]
    props["tip"] = props["title"]
    props["note"] = [None] * len(proposals)
    layer = folium.GeoJson(
        _points_geojson(m, proposals, props),
        name=f"{lab['proposed']} ({len(proposals)})",
        marker=folium.CircleMarker(radius=9, fill=True, fill_opacity=0.95, color="#000000"),
        style_function=lambda _f: {"fillColor": PROPOSAL_COLOR, "weight": 2},
    )
    layer.add_to(m)
    rows = [(k, lab.get(_ROW_LABEL.get(k, k), k)) for k in keys]
    _DomPopup(layer, rows).add_to(m)
    return m


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
        _root(m).html.add_child(
            Element(
                "<div class='cp-doubt' style='position:fixed;top:48px;left:60px;right:240px;"
                "z-index:9999;background:#fde0dd;color:#a50f15;padding:4px 10px;"
                "border:1px solid #a50f15;border-radius:4px;font:13px sans-serif'>"
                + "<br>".join(escape(line) for line in lines)
                + "</div>"
            )
        )
    return m


DATA_PROBLEM_COLOR = "#ff7f00"


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
    lab = _LABELS[lang]
    reasons = communities[reason_column(communities, lang)]
    names = communities["name"] if "name" in communities.columns else communities["community_id"]
    props: dict[str, list[Any]] = {
        "community_id": [_fmt(v) for v in communities["community_id"]],
        "reason": [_fmt(v) for v in reasons],
        "title": [_fmt(v) for v in names],
    }
    props["tip"] = props["title"]
    props["note"] = [None] * len(communities)
    layer = folium.GeoJson(
        _points_geojson(m, communities, props),
        name=f"{lab['data_problems']} ({len(communities)})",
        marker=folium.CircleMarker(radius=8, fill=False, weight=3, dash_array="3 3"),
        style_function=lambda _f: {"color": DATA_PROBLEM_COLOR, "weight": 3},
    )
    layer.add_to(m)
    _DomPopup(layer, [("community_id", lab["id"]), ("reason", lab["reason"])]).add_to(m)
    return m


def add_legend(
    m: folium.Map, *, lang: Lang = "zh", extra: list[tuple[str, str]] | None = None
) -> folium.Map:
    """Add a legend box (status colours, halls, and any extra ``(colour, label)`` rows).

    Parameters
    ----------
    m
        The map.
    lang
        ``"zh"`` or ``"en"`` labels.
    extra
        Additional ``(css colour, label)`` entries.

    Returns
    -------
    folium.Map
        The map.
    """
    lab = _LABELS[lang]
    entries = [
        (STATUS_COLORS[s], lab[s]) for s in (STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE)
    ]
    entries.append((HALL_COLOR, lab["halls"]))
    entries += extra or []
    rows = "".join(
        f"<div><span style='display:inline-block;width:12px;height:12px;border-radius:6px;"
        f"background:{escape(c)};margin-right:6px;border:1px solid #333'></span>{escape(t)}</div>"
        for c, t in entries
    )
    rows += f"<div style='margin-top:4px'>- - - {escape(lab['illustrative'])}</div>"
    _root(m).html.add_child(
        Element(
            "<div class='cp-legend' style='position:fixed;bottom:30px;left:10px;z-index:9999;"
            "background:rgba(255,255,255,.92);padding:6px 10px;border-radius:4px;"
            "font:12px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)'>"
            f"<b>{escape(lab['legend'])}</b>{rows}</div>"
        )
    )
    return m


def coverage_map(
    result: AuditResult,
    *,
    districts: gpd.GeoDataFrame | None = None,
    m: folium.Map | None = None,
    lang: Lang = "zh",
    title: str | None = None,
    basemap: Basemap = "osm",
    tianditu_key: str | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    assignments: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    data_problems: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The full audit map: districts, communities by status, halls, legend, layer control.

    Parameters
    ----------
    result
        The audit result.
    districts
        Optional district polygons (``district`` column), any CRS.
    m
        Map to add to; a new one if ``None``.
    lang
        ``"zh"`` or ``"en"`` labels.
    title
        Map title.
    basemap
        ``"osm"``, ``"amap"``, ``"amap-satellite"``, ``"tianditu"`` or ``"blank"`` (see
        :func:`new_map`).
    tianditu_key
        Tianditu API key (for ``basemap="tianditu"``).
    proposals, assignments
        Optional proposed halls and the communities assigned to them
        (see :func:`add_proposals`).
    isochrones
        Optional service-area bands (see :func:`add_isochrones`).
    catchments
        Optional catchments of the halls (see :func:`add_catchments`), a layer that is off
        until switched on.
    data_problems
        Optional communities that are a map-data problem (see :func:`add_data_problems`).

    Returns
    -------
    folium.Map
        The map.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> from coverage.audit import audit
    >>> r = audit(grid_communities(), grid_halls(), load_network(grid_graph()))
    >>> m = coverage_map(r, lang="en")
    >>> "not covered (1)" in m.get_root().render()
    True
    """
    m = m or new_map(
        result.communities, title=title, basemap=basemap, tianditu_key=tianditu_key, lang=lang
    )
    if isochrones is not None and len(isochrones):
        add_isochrones(isochrones, m=m, lang=lang)
    if catchments is not None and len(catchments):
        add_catchments(catchments, m=m, lang=lang)
    if districts is not None and len(districts):
        add_districts(districts, m=m, lang=lang)
    add_communities(result, m=m, lang=lang)
    add_halls(result, m=m, lang=lang)
    add_doubts(result, m=m, lang=lang)
    extra = []
    if proposals is not None:
        add_proposals(proposals, assignments, m=m, lang=lang)
        extra.append((PROPOSAL_COLOR, _LABELS[lang]["proposed"]))
    if data_problems is not None and len(data_problems):
        add_data_problems(data_problems, m=m, lang=lang)
        extra.append((DATA_PROBLEM_COLOR, _LABELS[lang]["data_problems"]))
    add_search(m, lang=lang)
    add_legend(m, lang=lang, extra=extra)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True) -> Path:
    """Write a map to one HTML file, atomically (a temporary file, then a rename).

    Parameters
    ----------
    m
        The map.
    path
        Output ``.html`` path.
    offline
        Inline Leaflet and every other script and stylesheet, so the file opens with no
        network connection (map tiles aside: a map with ``basemap="blank"`` needs nothing).
        With ``False`` the page links to the usual CDN addresses.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    OfflineExportError
        If ``offline`` and the map uses a plugin whose assets cannot be embedded.
    """
    html_text = m.get_root().render()
    if offline:
        html_text = inline_assets(html_text)
    return write_text_atomic(Path(path), html_text)
