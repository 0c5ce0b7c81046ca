"""Map controls of our own: the name search and the legend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Template

from coverage.maps._base import LABELS, Lang, Macro, Symbol, Text, escape, map_state, page

if TYPE_CHECKING:
    import folium


class _SearchControl(Macro):
    """A search box: type part of a community name, pick a match, the map zooms to it.

    The suggestions are a list of their own (not Leaflet's 30-pixel ``.leaflet-bar a``
    buttons): full names with the district beside each, up/down/enter from the keyboard,
    escape or a pick closes it.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map, layers, texts) {
          var Ctl = L.Control.extend({
            options: {position: "topleft"},
            onAdd: function () {
              var div = L.DomUtil.create("div", "cp-search");
              var input = L.DomUtil.create("input", "", div);
              input.type = "search";
              input.placeholder = texts.placeholder;
              input.setAttribute("role", "combobox");
              input.setAttribute("aria-autocomplete", "list");
              input.setAttribute("aria-expanded", "false");
              var list = L.DomUtil.create("ul", "cp-search-list", div);
              list.setAttribute("role", "listbox");
              list.hidden = true;
              L.DomEvent.disableClickPropagation(div);
              L.DomEvent.disableScrollPropagation(div);
              var hits = [], active = -1;
              function close() {
                while (list.firstChild) { list.removeChild(list.firstChild); }
                list.hidden = true; hits = []; active = -1;
                input.setAttribute("aria-expanded", "false");
              }
              function mark(i) {
                active = i;
                Array.prototype.forEach.call(list.children, function (li, j) {
                  li.classList.toggle("cp-active", j === i);
                  li.setAttribute("aria-selected", j === i ? "true" : "false");
                  if (j === i && li.scrollIntoView) { li.scrollIntoView({block: "nearest"}); }
                });
              }
              function pick(hit) {
                close();
                input.value = hit.title;
                if (!map.hasLayer(hit.group)) { map.addLayer(hit.group); }
                map.setView(hit.layer.getLatLng(), Math.max(map.getZoom(), 16));
                hit.layer.fire("click", {latlng: hit.layer.getLatLng()}, true);
              }
              function item(tag, text, cls) {
                var e = document.createElement(tag);
                e.textContent = text; e.className = cls; return e;
              }
              input.addEventListener("input", function () {
                close();
                var q = input.value.trim().toLowerCase();
                if (!q) { return; }
                var first = [], other = [];
                layers.forEach(function (g) {
                  g.eachLayer(function (l) {
                    var p = l.feature.properties, t = String(p.title || "");
                    var k = t.toLowerCase().indexOf(q);
                    if (k < 0 && String(p.community_id || "").toLowerCase() !== q) { return; }
                    (k === 0 ? first : other).push(
                      {title: t, district: p.district || "", group: g, layer: l});
                  });
                });
                function byName(a, b) {
                  return a.title.localeCompare(b.title, undefined, {numeric: true});
                }
                var all = first.sort(byName).concat(other.sort(byName));
                hits = all.slice(0, 12);
                if (!hits.length) {
                  list.appendChild(item("li", texts.none, "cp-search-none"));
                }
                hits.forEach(function (hit, i) {
                  var li = item("li", "", "");
                  li.setAttribute("role", "option");
                  li.appendChild(item("span", hit.title, "cp-search-name"));
                  li.appendChild(item("span", hit.district, "cp-search-district"));
                  li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(hit); });
                  li.addEventListener("mouseover", function () { mark(i); });
                  list.appendChild(li);
                });
                if (all.length > hits.length) {
                  var more = texts.more.replace("{n}", all.length);
                  list.appendChild(item("li", more, "cp-search-none"));
                }
                list.hidden = false;
                input.setAttribute("aria-expanded", "true");
              });
              input.addEventListener("keydown", function (e) {
                if (e.key === "ArrowDown" && hits.length) {
                  e.preventDefault(); mark((active + 1) % hits.length);
                } else if (e.key === "ArrowUp" && hits.length) {
                  e.preventDefault(); mark((active - 1 + hits.length) % hits.length);
                } else if (e.key === "Enter" && hits.length) {
                  e.preventDefault(); pick(hits[Math.max(active, 0)]);
                } else if (e.key === "Escape") {
                  close();
                }
              });
              input.addEventListener("blur", function () { setTimeout(close, 150); });
              return div;
            }
          });
          map.addControl(new Ctl());
        })({{ this._parent.get_name() }}, [{{ this.layers|join(", ") }}], {{ this.texts|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, layers: list[folium.GeoJson], texts: dict[str, str]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "SearchControl"
        self.layers = [layer.get_name() for layer in layers]
        self.texts = texts


_SEARCH_CSS = (
    "<style>.cp-search{background:#fff;padding:4px;border-radius:4px;"
    "box-shadow:0 1px 5px rgba(0,0,0,.4);position:relative}"
    ".cp-search input{width:220px;font-size:14px;padding:3px 4px;box-sizing:border-box}"
    ".cp-search-list{position:absolute;left:0;top:100%;margin:2px 0 0;padding:2px 0;"
    "list-style:none;background:#fff;min-width:220px;max-width:360px;width:max-content;"
    "max-height:320px;overflow-y:auto;border-radius:4px;box-shadow:0 2px 6px rgba(0,0,0,.35);"
    "font:13px sans-serif;z-index:1000}"
    ".cp-search-list li{display:flex;justify-content:space-between;gap:12px;padding:4px 8px;"
    "cursor:pointer;line-height:1.35}"
    ".cp-search-list li.cp-active,.cp-search-list li:hover{background:#e6f0fa}"
    ".cp-search-name{color:#111}"
    ".cp-search-district{color:#777;font-size:12px;white-space:nowrap}"
    ".cp-search-list li.cp-search-none{color:#777;cursor:default;background:none}</style>"
)


def add_search(m: folium.Map, *, lang: Lang = "zh") -> folium.Map:
    """Add a search box over the community layers already on the map.

    Typing part of a name (or a whole community id) lists up to 12 matches, names starting
    with the text first, each with its district; arrow keys and Enter pick one, and the map
    zooms to it and opens its popup.

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
        lab = LABELS[lang]
        texts = {
            "placeholder": lab["search"],
            "none": lab["search_none"],
            "more": lab["search_more"],
        }
        page(m).header.add_child(Text(_SEARCH_CSS), name="cp_search_css")
        _SearchControl(layers, texts).add_to(m)
    return m


def _symbol(kind: Symbol, color: str) -> str:
    """A legend symbol as inline HTML (14 × 14 pixels)."""
    c = escape(color)
    box = "display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:-2px;"
    styles = {
        "dot": f"border-radius:7px;background:{c};border:1px solid #333;",
        "ring": f"border-radius:7px;border:2px dashed {c};box-sizing:border-box;",
        "area": f"background:{c};opacity:.45;border:1px solid {c};box-sizing:border-box;",
        "outline": f"border:2px solid {c};box-sizing:border-box;",
        "line": f"height:0;border-top:2px solid {c};vertical-align:4px;",
        "dash": f"height:0;border-top:2px dashed {c};vertical-align:4px;",
        "note": "",
    }
    return f"<span style='{box}{styles[kind]}'></span>"


def add_legend(
    m: folium.Map, *, lang: Lang = "zh", extra: list[tuple[str, str]] | None = None
) -> folium.Map:
    """Add a legend of what the layers on the map drew, and any extra ``(colour, label)`` rows.

    Each layer function records its rows as it draws (status colours of the communities
    shown, halls and what their circle size means, illustrative locations only where such
    halls are drawn, band shades and the limit each stands for, outlines and lines), so the
    legend shows what is on the map and nothing else.

    Parameters
    ----------
    m
        The map.
    lang
        ``"zh"`` or ``"en"`` labels.
    extra
        Additional ``(css colour, label)`` entries, drawn as dots; a ``""`` colour draws a
        note without a symbol.

    Returns
    -------
    folium.Map
        The map.
    """
    lab = LABELS[lang]
    rows = list(map_state(m).legend)
    rows += [("dot" if c else "note", c, t) for c, t in extra or []]
    html = "".join(
        f"<div class='cp-legend-{kind}'"
        + (" style='margin-left:20px;color:#555;font-size:11px'>" if kind == "note" else ">")
        + f"{_symbol(kind, color) if kind != 'note' else ''}{escape(text)}</div>"
        for kind, color, text in rows
    )
    page(m).html.add_child(
        Text(
            "<div class='cp-legend' style='position:fixed;bottom:30px;left:10px;z-index:9999;"
            "background:rgba(255,255,255,.92);padding:6px 10px;border-radius:4px;"
            "font:12px sans-serif;line-height:1.6;max-width:340px;max-height:60vh;overflow:auto;"
            "box-shadow:0 1px 4px rgba(0,0,0,.3)'>"
            f"<b>{escape(lab['legend'])}</b>{html}</div>"
        ),
        name="cp_legend",
    )
    return m
