"""A base map: tiles (GCJ-02 aware), title, scale, full screen, attribution, popups; saving."""

from __future__ import annotations

import datetime as dt
import html
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import folium
import numpy as np
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from coverage._errors import InputDataError, OfflineExportError, OfflineMapWarning
from coverage._files import write_text_atomic
from coverage._licence import OSM_ATTRIBUTION
from coverage._offline import inline_assets
from coverage.audit import STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE
from coverage.coords import out_of_china, transform_geometry
from coverage.network import utm_crs

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
        "illustrative": "示意位置（非真实地址）",
        "illustrative_tip": "（示意）",
        "unit_min": "分钟",
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
        "band": "{band} 分钟可达范围",
        "data_problems": "数据问题 (地图孤岛, 未纳入选址)",
        "catchments": "各服务中心服务范围",
        "catchment_of": "服务范围",
        "verdict": "评价",
        "covered_of": "服务社区中达标",
        "hall_size": "圆圈越大，用房面积越大",
        "band_urban": "城市社区标准",
        "band_rural": "农村社区标准",
        "band_overlap": "颜色越深，用时越短",
        "band_dropped": "未画 {band} 分钟范围：本图没有{kind}社区",
        "catchment_legend": "各服务中心服务范围（彩色轮廓，可在图层列表中打开）",
        "district_line": "区县 / 片区边界",
        "assignment_line": "建议服务中心与其服务社区的连线",
        "no_tiles": "底图未能加载（离线？）；数据图层照常显示",
        "fullscreen": "全屏",
        "amap": "高德地图（GCJ-02，图层已相应偏移）",
        "amap-satellite": "高德卫星图（GCJ-02，图层已相应偏移）",
        "osm": "OpenStreetMap",
        "more": "等 {n} 个",
        "search_none": "无匹配",
        "search_more": "共 {n} 个匹配，请多输入几个字",
        "completeness": "服务完整度",
        "completeness_of": "{ok} / {required} 项（{share:.0%}）",
        "missing": "缺少的服务",
        "nothing_missing": "无",
        "no_requirement": "无配置要求",
        "service": "服务",
        "osm_tag": "OSM 标签",
        "sites_of": "{service}（设施点）",
        "service_area": "{service}服务范围（{circle}）",
        "circle_minutes": "{min:g} 分钟",
        "circle_short_m": "路网 {m:,.0f} 米",
        "circle_metres": "路网 {m:,.0f} 米，按 {speed:g} 千米/小时画作 {min:.1f} 分钟",
        "area_note": "服务范围：社区位于其中即在该服务的服务圈内；可在图层列表中打开",
        "no_sites": "{service}：没有设施点，全部社区缺少此项",
        "lc_kinds": "（{kinds}）",
    },
    "en": {
        STATUS_COVERED: "covered",
        STATUS_NOT_COVERED: "not covered",
        STATUS_UNREACHABLE: "unreachable",
        "communities": "Communities",
        "halls": "Community service halls",
        "illustrative": "illustrative location (not a real address)",
        "illustrative_tip": " (illustrative)",
        "unit_min": "min",
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
        "band": "{band}-minute area",
        "data_problems": "Data problems (map-data islands, left out of siting)",
        "catchments": "Catchment of each hall",
        "catchment_of": "Catchment",
        "verdict": "Verdict",
        "covered_of": "Served communities within the limit",
        "hall_size": "larger circle = larger floor area",
        "band_urban": "limit for urban communities",
        "band_rural": "limit for rural communities",
        "band_overlap": "darker = shorter trip",
        "band_dropped": "no {band}-minute area drawn: no {kind} community on this map",
        "catchment_legend": (
            "Catchment of each hall (coloured outlines; switch on in the layer list)"
        ),
        "district_line": "District boundary",
        "assignment_line": "Line from a proposed hall to each community it serves",
        "no_tiles": "Basemap tiles could not load (offline?); the data layers are shown as usual",
        "fullscreen": "Full screen",
        "amap": "Amap (GCJ-02; overlays shifted to match)",
        "amap-satellite": "Amap satellite (GCJ-02; overlays shifted to match)",
        "osm": "OpenStreetMap",
        "more": "({n} in all)",
        "search_none": "no match",
        "search_more": "{n} matches: type more",
        "completeness": "Completeness",
        "completeness_of": "{ok} of {required} services ({share:.0%})",
        "missing": "Missing services",
        "nothing_missing": "none",
        "no_requirement": "no service required",
        "service": "Service",
        "osm_tag": "OSM tag",
        "sites_of": "{service} (sites)",
        "service_area": "{service}: service area ({circle})",
        "circle_minutes": "{min:g} min",
        "circle_short_m": "{m:,.0f} m on the network",
        "circle_metres": "{m:,.0f} m on the network, drawn at {min:.1f} min at {speed:g} km/h",
        "area_note": (
            "Service area: a community inside it is within the service's circle; switch "
            "areas on in the layer list"
        ),
        "no_sites": "{service}: no site, every community misses it",
        "lc_kinds": " ({kinds})",
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
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return f"{value:,.{digits}f}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return str(value)


class Text(Element):
    """Finished HTML or JavaScript, written into the page as it is.

    branca wraps every rendered piece in an ``Element``, which compiles it again as a Jinja
    template: data in it (a community called ``{{ 7*7 }}``) would be evaluated, and lexing
    the GeoJSON of every layer a second time costs about half a second per run.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **_kwargs: Any) -> str:  # noqa: ANN401
        """The text, unchanged."""
        return self.text


class Macro(MacroElement):
    """A MacroElement whose rendered header, HTML and script go into the page as :class:`Text`."""

    def render(self, **kwargs: Any) -> str:  # noqa: ANN401
        """Render the macros of the template once, then the children (nothing is returned)."""
        figure = cast("Figure", self.get_root())
        macros = self._template.module.__dict__
        parts = (("header", figure.header), ("html", figure.html), ("script", figure.script))
        for part, target in parts:
            macro = macros.get(part)
            if macro is not None:
                target.add_child(Text(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)
        return ""


class GeoJson(folium.GeoJson, Macro):
    """folium's GeoJson layer, written into the page without a second template pass."""


class TileLayer(folium.TileLayer, Macro):
    """folium's tile layer, written into the page without a second template pass."""


class LayerControl(folium.LayerControl, Macro):
    """folium's layer list, written into the page without a second template pass."""


class DomPopup(Macro):
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


Basemap = Literal["auto", "osm", "amap", "amap-satellite", "tianditu", "blank"]


#: Tianditu (天地图) vector tiles and Chinese labels; needs a key from lbs.tianditu.gov.cn.
_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)


def choose_basemap(
    basemap: Basemap, gdf: gpd.GeoDataFrame | gpd.GeoSeries | None, lang: Lang
) -> str:
    """The basemap ``"auto"`` stands for: Amap for Chinese maps of places in China, else OSM.

    Parameters
    ----------
    basemap
        The basemap asked for; anything but ``"auto"`` is returned as it is.
    gdf
        What the map shows (any CRS); ``None`` counts as Hangzhou.
    lang
        The map's language.

    Returns
    -------
    str
        ``"amap"`` when ``lang`` is ``"zh"`` and the centre of ``gdf`` lies in mainland China
        (OSM tiles are slow there), else ``"osm"``.

    Examples
    --------
    >>> choose_basemap("auto", None, "zh"), choose_basemap("auto", None, "en")
    ('amap', 'osm')
    """
    if basemap != "auto":
        return basemap
    if lang != "zh":
        return "osm"
    lon, lat = 120.15, 30.27
    if gdf is not None and len(gdf):
        w, s_, e, n = gdf.geometry.to_crs(4326).total_bounds
        lon, lat = (w + e) / 2, (s_ + n) / 2
    return "osm" if bool(out_of_china(lon, lat)) else "amap"


def _add_basemap(m: folium.Map, basemap: str, tianditu_key: str | None, lang: Lang) -> None:
    """Add the background tiles, their name in the layer list, and a note if they cannot load.

    xyzservices providers are used where they exist; names are in the map's language.
    """
    import xyzservices.providers as xyz  # noqa: PLC0415

    lab = LABELS[lang]
    if basemap == "osm":
        TileLayer("OpenStreetMap", name=lab["osm"]).add_to(m)
    elif basemap in {"amap", "amap-satellite"}:
        tp = xyz.Gaode.Normal if basemap == "amap" else xyz.Gaode.Satellite
        url = tp["url"].replace("http://", "https://")
        attr = tp["html_attribution"].replace("http://", "https://")
        TileLayer(
            url, attr=f"{attr} ({lab[basemap]})", name=lab[basemap], max_zoom=tp.get("max_zoom", 18)
        ).add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key:
            msg = "the Tianditu basemap needs a key: {tianditu_key} (lbs.tianditu.gov.cn)"
            raise InputDataError.naming(msg, tianditu_key="'...'")
        for layer, label in (("vec", "天地图"), ("cva", "天地图注记")):
            TileLayer(
                _TIANDITU.format(layer=layer, key=tianditu_key, s="{s}", x="{x}", y="{y}", z="{z}"),
                attr="&copy; 天地图 Tianditu",
                name=label,
                subdomains="01234567",
                overlay=layer == "cva",
                max_zoom=18,
            ).add_to(m)
    elif basemap != "blank":
        msg = f"unknown basemap {basemap!r}; use auto, osm, amap, amap-satellite, tianditu or blank"
        raise InputDataError(msg)
    if basemap != "blank":
        _TileNote(lab["no_tiles"]).add_to(m)


class _TileNote(Macro):
    """A note on the map when background tiles fail to load (offline): the data still show."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map, text) {
          var shown = false;
          function note() {
            if (shown) { return; }
            shown = true;
            var div = L.DomUtil.create("div", "cp-tile-note", map.getContainer());
            div.textContent = text;
            div.style.cssText = "position:absolute;bottom:24px;left:50%;z-index:800;" +
              "transform:translateX(-50%);background:rgba(255,255,255,.9);padding:2px 8px;" +
              "border-radius:3px;font:12px sans-serif;color:#555;pointer-events:none";
          }
          map.eachLayer(function (l) {
            if (l instanceof L.TileLayer) { l.on("tileerror", note); }
          });
        })({{ this._parent.get_name() }}, {{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.text = text


#: How a legend row draws its symbol: a filled dot, a dashed ring, a shaded area, an outline,
#: a line, a dashed line, or no symbol (a note).
Symbol = Literal["dot", "ring", "area", "outline", "line", "dash", "note"]


@dataclass
class _MapState:
    """What this module knows about a map it made: kept beside the map, not on it."""

    coord_system: str = "wgs84"  # overlays are shifted into GCJ-02 on Amap tiles
    search_layers: list[folium.GeoJson] = field(default_factory=list)  # searched by name
    #: legend rows of what the layers drew: (symbol, css colour, text), in drawing order
    legend: list[tuple[Symbol, str, str]] = field(default_factory=list)


_STATES: weakref.WeakKeyDictionary[folium.Map, _MapState] = weakref.WeakKeyDictionary()


def map_state(m: folium.Map) -> _MapState:
    """The state of a map (a new one for a map this module has not seen)."""
    state = _STATES.get(m)
    if state is None:
        state = _STATES[m] = _MapState()
    return state


def add_legend_row(m: folium.Map, symbol: Symbol, color: str, text: str) -> None:
    """Record a legend row for what a layer drew (shown by :func:`add_legend`; once each)."""
    rows = map_state(m).legend
    if (symbol, color, text) not in rows:
        rows.append((symbol, color, text))


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


def metric_crs(geometry: gpd.GeoSeries) -> str:
    """A metric CRS for geometries: their own if projected, else the UTM zone of their centre.

    A formula on the centre of the bounds, not a search of the CRS database
    (``estimate_utm_crs`` takes tens of milliseconds per call).

    Parameters
    ----------
    geometry
        Geometries in any CRS.

    Returns
    -------
    str
        A CRS with metres as unit, e.g. ``"EPSG:32651"`` in Hangzhou.
    """
    if geometry.crs is not None and geometry.crs.is_projected:
        return str(geometry.crs.to_string())
    w, s_, e, n = geometry.total_bounds
    return utm_crs((w + e) / 2, (s_ + n) / 2)


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


class _Map(folium.Map):
    """A folium map that shows itself in Jupyter as a self-contained page.

    ``_repr_html_`` embeds the page with Leaflet inlined (:func:`coverage._offline.inline_assets`,
    as :func:`save_map` writes it), so an inline notebook map needs no CDN: it draws offline
    and behind networks where the CDNs are slow. Map tiles are fetched as usual.
    """

    def _repr_html_(self, **kwargs: Any) -> str:  # noqa: ANN401
        figure = page(self)
        try:
            text = inline_assets(figure.render(**kwargs))
        except OfflineExportError as exc:  # a plugin we cannot embed: folium's own page
            warnings.warn(
                f"{exc}; this inline map links to the web", OfflineMapWarning, stacklevel=2
            )
            return str(super()._repr_html_(**kwargs))
        return (
            '<div style="width:100%;"><div style="position:relative;width:100%;height:0;'
            'padding-bottom:60%;"><iframe srcdoc="'
            + html.escape(text, quote=True)
            + '" style="position:absolute;width:100%;height:100%;left:0;top:0;'
            'border:none !important;" allowfullscreen></iframe></div></div>'
        )


def new_map(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    title: str | None = None,
    basemap: Basemap = "auto",
    tianditu_key: str | None = None,
    lang: Lang = "zh",
    max_zoom: int = 16,
) -> folium.Map:
    """A base map fitted to a frame, with scale bar, full-screen button, title and attribution.

    The map shows itself in Jupyter with Leaflet embedded (no CDN), as :func:`save_map`
    writes it.

    Parameters
    ----------
    gdf
        Geometries whose bounds the map fits (any CRS); ``None`` shows Hangzhou.
    title
        Title shown at the top with today's date.
    basemap
        ``"auto"`` (default: Amap for Chinese maps of places in mainland China, where
        OpenStreetMap tiles are slow, OpenStreetMap elsewhere; see :func:`choose_basemap`),
        ``"osm"`` (OpenStreetMap), ``"amap"`` / ``"amap-satellite"`` (高德; GCJ-02 tiles: every
        overlay added by this module is shifted into GCJ-02 so it lines up), ``"tianditu"``
        (天地图; needs ``tianditu_key``) or ``"blank"`` (no tiles: the map needs no network at
        all). The layer list and the attribution name the basemap.
    tianditu_key
        Tianditu API key.
    lang
        ``"zh"`` or ``"en"`` labels.
    max_zoom
        Closest zoom level of the first view (a single community is not shown at street-sign
        scale).

    Returns
    -------
    folium.Map
        The map.
    """
    m = _Map(location=[30.27, 120.15], zoom_start=12, tiles=None)
    chosen = choose_basemap(basemap, gdf, lang)
    map_state(m).coord_system = "gcj02" if chosen.startswith("amap") else "wgs84"
    _add_basemap(m, chosen, tianditu_key, lang)
    if gdf is not None and len(gdf):
        w, s_, e, n = to_display(m, gdf.geometry).total_bounds
        m.fit_bounds([[s_, w], [n, e]], max_zoom=max_zoom, padding=(30, 30))
    _MetricScale().add_to(m)
    _FullscreenControl(LABELS[lang]["fullscreen"]).add_to(m)
    page(m).header.add_child(Text(_POPUP_CSS))
    _add_attribution(m, OSM_ATTRIBUTION)
    text = title or LABELS[lang]["title"]
    stamp = dt.datetime.now(dt.UTC).astimezone().date().isoformat()
    page(m).html.add_child(
        Text(
            "<div class='cp-title' style='position:fixed;top:10px;left:60px;z-index:9999;"
            "background:rgba(255,255,255,.9);padding:4px 10px;border-radius:4px;"
            "font:bold 15px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)'>"
            f"{escape(text)} <span style='font-weight:normal;font-size:12px'>{stamp}</span></div>"
        )
    )
    return m


class _MetricScale(Macro):
    """A metric scale bar (Leaflet's own control, without the imperial bar)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({imperial: false, position: "bottomright"})
          .addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]


class _FullscreenControl(Macro):
    """A full-screen button (our own few lines; no plugin asset to fetch)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
          var Ctl = L.Control.extend({
            options: {position: "topleft"},
            onAdd: function () {
              var a = L.DomUtil.create("a", "leaflet-bar cp-fullscreen");
              a.href = "#"; a.title = {{ this.text|tojson }};
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

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.text = text


class _Attribution(Macro):
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
    "community_id": "id",
    "hall_id": "id",
    "district": "district",
    "street": "street",
    "kind": "kind",
    "population": "population",
    "travel_time_min": "minutes",
    "threshold_min": "threshold",
    "nearest_hall_name": "nearest",
    "floor_area_m2": "floor_area",
    "communities_served": "served",
    "required_floor_area_m2": "required",
    "site_id": "id",
    "members": "members",
    "floor_area_needed_m2": "needed",
}


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
