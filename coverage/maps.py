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
from pathlib import Path
from typing import Any, Literal, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from coverage.audit import STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE, AuditResult
from coverage.samples import OSM_ATTRIBUTION

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
        "legend": "图例",
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
        "legend": "Legend",
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


def new_map(
    gdf: gpd.GeoDataFrame | None = None,
    *,
    title: str | None = None,
    tiles: str | None = "OpenStreetMap",
    lang: Lang = "zh",
) -> folium.Map:
    """A base map fitted to a frame, with scale bar, full-screen button, title and attribution.

    Parameters
    ----------
    gdf
        Frame whose bounds the map fits (any CRS); ``None`` shows Hangzhou.
    title
        Title shown at the top with today's date.
    tiles
        A folium tile name, or ``None`` for a blank background.
    lang
        ``"zh"`` or ``"en"`` labels.

    Returns
    -------
    folium.Map
        The map.
    """
    m = folium.Map(location=[30.27, 120.15], zoom_start=12, tiles=tiles)
    _MetricScale().add_to(m)
    if gdf is not None and len(gdf):
        w, s, e, n = gdf.to_crs(4326).total_bounds
        m.fit_bounds([[s, w], [n, e]])
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


def _points_geojson(gdf: gpd.GeoDataFrame, props: dict[str, list[Any]]) -> dict[str, Any]:
    pts = gdf.geometry.to_crs(4326)
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
        props["note"] = [_fmt(v) for v in part["reason"]]
        props["tip"] = [
            f"{_fmt(n) or ''}: {_fmt(t) or '–'} min"
            for n, t in zip(part["name"], part["travel_time_min"], strict=True)
        ]
        color = STATUS_COLORS[status]
        layer = folium.GeoJson(
            _points_geojson(part, props),
            name=f"{lab['communities']}: {lab[status]} ({len(part)})",
            marker=folium.CircleMarker(
                radius=radius, fill=True, fill_opacity=0.85, weight=1, color="#333333"
            ),
            style_function=lambda _f, c=color: {"fillColor": c},
        )
        layer.add_to(m)
        _DomPopup(layer, rows).add_to(m)
    return m


_ROW_LABEL = {
    "community_id": "id", "hall_id": "id", "district": "district", "street": "street",
    "kind": "kind", "population": "population", "travel_time_min": "minutes",
    "threshold_min": "threshold", "nearest_hall_name": "nearest", "floor_area_m2": "floor_area",
    "communities_served": "served", "required_floor_area_m2": "required",
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
        _points_geojson(halls, props),
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
    gdf = districts.to_crs(4326)
    frame = gpd.GeoDataFrame(
        {"label": [escape(v) for v in gdf[name_column]]}, geometry=gdf.geometry.simplify(0.0001)
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
    tiles: str | None = "OpenStreetMap",
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
    tiles
        Folium tile name or ``None`` for a blank background.

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
    m = m or new_map(result.communities, title=title, tiles=tiles, lang=lang)
    if districts is not None and len(districts):
        add_districts(districts, m=m, lang=lang)
    add_communities(result, m=m, lang=lang)
    add_halls(result, m=m, lang=lang)
    add_legend(m, lang=lang)
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
        network connection (map tiles aside: a map made with ``tiles=None`` needs nothing).
        With ``False`` the page links to the usual CDN addresses.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    coverage._offline.OfflineExportError
        If ``offline`` and the map uses a plugin whose assets cannot be embedded.
    """
    from coverage._offline import inline_assets  # noqa: PLC0415
    from coverage.reports import write_text_atomic  # noqa: PLC0415

    html_text = m.get_root().render()
    if offline:
        html_text = inline_assets(html_text)
    return write_text_atomic(Path(path), html_text)
