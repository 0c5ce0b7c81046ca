"""A base map: tiles (GCJ-02 aware), title, scale, full screen, attribution, popups; saving."""

from __future__ import annotations

import datetime as dt
import html
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import folium
import numpy as np
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from coverage._errors import InputDataError
from coverage._files import write_text_atomic
from coverage._licence import OSM_ATTRIBUTION
from coverage._offline import inline_assets
from coverage.audit import STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE
from coverage.coords import transform_geometry

if TYPE_CHECKING:
    import geopandas as gpd


Lang = Literal["zh", "en"]


STATUS_COLORS = {
    STATUS_COVERED: "#1a9850",
    STATUS_NOT_COVERED: "#d73027",
    STATUS_UNREACHABLE: "#7f7f7f",
}


HALL_COLOR = "#2c5aa0"


LABELS: dict[str, dict[str, str]] = {
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


def page(m: folium.Map) -> Figure:
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


def fmt(value: object, digits: int = 1) -> str | None:
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


class DomPopup(MacroElement):
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
            msg = "the Tianditu basemap needs a key: {tianditu_key} (lbs.tianditu.gov.cn)"
            raise InputDataError.naming(msg, tianditu_key="'...'")
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


def map_state(m: folium.Map) -> _MapState:
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
    return map_state(m).coord_system


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
    map_state(m).coord_system = "gcj02" if basemap.startswith("amap") else "wgs84"
    _add_basemap(m, basemap, tianditu_key)
    if gdf is not None and len(gdf):
        w, s_, e, n = to_display(m, gdf.geometry).total_bounds
        m.fit_bounds([[s_, w], [n, e]])
    _MetricScale().add_to(m)
    _FullscreenControl().add_to(m)
    page(m).header.add_child(Element(_POPUP_CSS))
    _add_attribution(m, OSM_ATTRIBUTION)
    text = title or LABELS[lang]["title"]
    stamp = dt.datetime.now(dt.UTC).astimezone().date().isoformat()
    page(m).html.add_child(
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


def points_geojson(
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


ROW_LABEL = {
    "community_id": "id", "hall_id": "id", "district": "district", "street": "street",
    "kind": "kind", "population": "population", "travel_time_min": "minutes",
    "threshold_min": "threshold", "nearest_hall_name": "nearest", "floor_area_m2": "floor_area",
    "communities_served": "served", "required_floor_area_m2": "required",
    "site_id": "id", "members": "members", "floor_area_needed_m2": "needed",
}  # fmt: skip


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
