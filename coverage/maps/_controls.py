"""Map controls of our own: the name search and the legend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from branca.element import Element, MacroElement
from jinja2 import Template

from coverage.audit import STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE
from coverage.maps._base import HALL_COLOR, LABELS, STATUS_COLORS, Lang, escape, map_state, page

if TYPE_CHECKING:
    import folium


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
    layers = map_state(m).search_layers
    if layers:
        _SearchControl(layers, LABELS[lang]["search"]).add_to(m)
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
    lab = LABELS[lang]
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
    page(m).html.add_child(
        Element(
            "<div class='cp-legend' style='position:fixed;bottom:30px;left:10px;z-index:9999;"
            "background:rgba(255,255,255,.92);padding:6px 10px;border-radius:4px;"
            "font:12px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)'>"
            f"<b>{escape(lab['legend'])}</b>{rows}</div>"
        )
    )
    return m
