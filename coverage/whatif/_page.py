"""The what-if page: one offline HTML file, and the scenario TOML its button copies."""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coverage._errors import InputDataError
from coverage._files import write_text_atomic
from coverage._licence import OSM_ATTRIBUTION
from coverage._offline import leaflet_css, leaflet_js
from coverage.audit import STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE
from coverage.coords import wgs84_to_gcj02
from coverage.i18n import MODE_ZH, WHATIF_TEXTS
from coverage.maps import HALL_COLOR, PROPOSAL_COLOR, STATUS_COLORS, Basemap, choose_basemap
from coverage.reports import EN_HEADERS, TOTAL_LABEL, ZH_HEADERS, Lang
from coverage.whatif._data import KIND_CODES, WhatIfData, whatif_data

if TYPE_CHECKING:
    import os

    import geopandas as gpd
    from numpy.typing import NDArray

    from coverage.config import Config
    from coverage.network import Network

#: The district table's columns, as ``audit(...).districts`` has them.
DISTRICT_COLUMNS = [
    "district", "communities", "covered", "not_covered", "unreachable", "covered_share",
    "population", "population_covered", "population_covered_share",
    "urban_communities", "urban_covered", "urban_covered_share", "urban_population",
    "urban_population_covered", "urban_population_covered_share",
    "rural_communities", "rural_covered", "rural_covered_share", "rural_population",
    "rural_population_covered", "rural_population_covered_share",
    "median_travel_time_min", "max_travel_time_min",
]  # fmt: skip

_TILES: dict[str, dict[str, Any]] = {
    "osm": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "&copy; OpenStreetMap contributors",
        "max_zoom": 19,
    },
    "amap": {
        "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "attribution": "&copy; 高德地图 AutoNavi (GCJ-02)",
        "max_zoom": 18,
        "subdomains": "1234",
    },
}


def _js_number(x: float) -> str:
    """A number as JavaScript's ``String()`` writes it (``600`` for 600.0)."""
    if float(x).is_integer() and abs(x) < 1e21:  # noqa: PLR2004 (JavaScript's switch to exponents)
        return str(int(x))
    return repr(float(x))


def _toml_value(value: object) -> str:
    """A TOML basic string (or a number), escaped as the page's script escapes it."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return _js_number(float(value))
    out = []
    for ch in str(value):
        code = ord(ch)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[ch])
        elif code < 0x20 or code == 0x7F:  # noqa: PLR2004 (control characters)
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _lonlat7(values: NDArray[np.float64]) -> list[float]:
    return [round(float(v), 7) for v in values]


def scenario_toml(data: WhatIfData, is_open: NDArray[np.bool_], *, lang: Lang = "zh") -> str:
    """The scenario TOML of a selection, exactly as the page's "copy" button writes it.

    Parameters
    ----------
    data
        The page's data (:func:`coverage.whatif.whatif_data`).
    is_open
        One flag per site (``data.mask([...])``).
    lang
        Language of the scenario's name and description.

    Returns
    -------
    str
        ``name``, ``description``, ``coord_system = "wgs84"``, ``[halls] close`` (existing
        halls switched off) and one ``[[halls.add]]`` per candidate switched on (``hall_id``,
        ``name``, ``lon``, ``lat`` in degrees, ``floor_area_m2`` when known).
    """
    words = WHATIF_TEXTS[lang]
    sites = data.sites
    is_open = np.asarray(is_open, dtype=bool)
    existing = sites["existing"].to_numpy(dtype=bool)
    lines = [
        f"name = {_toml_value(words['toml_name'])}",
        f"description = {_toml_value(words['toml_description'].format(computed=data.computed))}",
        'coord_system = "wgs84"',
        "",
        "[halls]",
        "close = ["
        + ", ".join(_toml_value(v) for v in sites["site_id"][existing & ~is_open])
        + "]",
    ]
    lon, lat = _lonlat7(sites["lon"].to_numpy()), _lonlat7(sites["lat"].to_numpy())
    for j in np.flatnonzero(~existing & is_open).tolist():
        lines += [
            "",
            "[[halls.add]]",
            f"hall_id = {_toml_value(sites['site_id'].iloc[j])}",
            f"name = {_toml_value(sites['name'].iloc[j])}",
            f"lon = {_js_number(lon[j])}",
            f"lat = {_js_number(lat[j])}",
        ]
        area = float(sites["floor_area_m2"].iloc[j])
        if not math.isnan(area):
            lines.append(f"floor_area_m2 = {_js_number(area)}")
    return "\n".join(lines) + "\n"


def _plain(value: object) -> Any:  # noqa: ANN401
    """A JSON value: numpy scalars as Python ones, NaN as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _binary(data: WhatIfData) -> tuple[str, int]:
    """The rows, packed little-endian and gzipped, in base64; and the bytes per site index.

    Layout: ``row_ptr`` (uint32, n + 1), ``within`` (uint32, n), minutes × 100 as
    differences along each row (uint32, nnz), site (uint16 or uint32, nnz).
    """
    nnz = len(data.site)
    if nnz >= 2**32:
        msg = f"what-if page: {nnz:,} community-site pairs are too many for one page"
        raise InputDataError(msg)
    centi = data.centi_min.copy()
    starts = data.row_ptr[:-1]
    inner = np.ones(nnz, dtype=bool)
    inner[starts[starts < nnz]] = False
    centi[1:][inner[1:]] = np.diff(data.centi_min)[inner[1:]]
    site_bytes = 2 if len(data.sites) <= 2**16 else 4
    parts = [
        data.row_ptr.astype("<u4").tobytes(),
        data.within.astype("<u4").tobytes(),
        centi.astype("<u4").tobytes(),
        data.site.astype("<u2" if site_bytes == 2 else "<u4").tobytes(),  # noqa: PLR2004
    ]
    packed = gzip.compress(b"".join(parts), compresslevel=6, mtime=0)
    return base64.b64encode(packed).decode("ascii"), site_bytes


def _script_json(payload: dict[str, Any]) -> str:
    """JSON safe inside a ``<script>`` element (no ``<``, ``>``, ``&`` or line separators)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


def _payload(data: WhatIfData, lang: Lang, basemap: str) -> dict[str, Any]:
    cfg = data.config
    words = dict(WHATIF_TEXTS[lang])
    std = f"{cfg.floor_area_m2_per_100_households:g}"
    words["halls"] = words["halls"].format(std=std)
    words["toml_description"] = words["toml_description"].format(computed=data.computed)
    com, sites = data.communities, data.sites
    c_lon, c_lat = com["lon"].to_numpy(), com["lat"].to_numpy()
    s_lon, s_lat = sites["lon"].to_numpy(), sites["lat"].to_numpy()
    if basemap in {"amap", "amap-satellite"}:  # the tiles are GCJ-02: shift what is drawn
        c_lon, c_lat = wgs84_to_gcj02(c_lon, c_lat)
        s_lon, s_lat = wgs84_to_gcj02(s_lon, s_lat)
    headers = ZH_HEADERS if lang == "zh" else EN_HEADERS
    b64, site_bytes = _binary(data)
    return {
        "lang": lang,
        "labels": words,
        "headers": {c: headers.get(c, c) for c in [*DISTRICT_COLUMNS, "hall_id", "name", *_HALL]},
        "district_cols": DISTRICT_COLUMNS,
        "districts": data.districts,
        "total_key": "(all)",
        "total_label": TOTAL_LABEL[lang],
        "floor_std": cfg.floor_area_m2_per_100_households,
        "colors": {
            "covered": STATUS_COLORS[STATUS_COVERED],
            "not_covered": STATUS_COLORS[STATUS_NOT_COVERED],
            "unreachable": STATUS_COLORS[STATUS_UNREACHABLE],
            "hall": HALL_COLOR,
            "candidate": PROPOSAL_COLOR,
        },
        "tiles": _TILES.get("amap" if basemap == "amap-satellite" else basemap),
        "attribution": html.escape(OSM_ATTRIBUTION),
        "com": {
            "id": [_plain(v) for v in com["community_id"]],
            "name": com["name"].astype(str).tolist(),
            "d": data.district_code.tolist(),
            "k": [KIND_CODES.get(str(k), 2) for k in com["kind"]],
            "pop": [float(v) for v in com["population"]],
            "hh": [float(v) for v in com["households"]],
            "lon": [round(float(v), 6) for v in c_lon],
            "lat": [round(float(v), 6) for v in c_lat],
        },
        "sites": {
            "id": [_plain(v) for v in sites["site_id"]],
            "name": sites["name"].astype(str).tolist(),
            "existing": sites["existing"].astype(bool).tolist(),
            "on": sites["on_network"].astype(bool).tolist(),
            "area": [_plain(float(v)) for v in sites["floor_area_m2"]],
            "lon": [round(float(v), 6) for v in s_lon],
            "lat": [round(float(v), 6) for v in s_lat],
            "lon84": _lonlat7(sites["lon"].to_numpy()),
            "lat84": _lonlat7(sites["lat"].to_numpy()),
        },
        "nnz": len(data.site),
        "site_bytes": site_bytes,
        "bin": b64,
    }


_HALL = [
    "communities_served", "communities_covered", "population_served", "households_served",
    "floor_area_m2", "required_floor_area_m2", "floor_area_adequate", "floor_area_gap_m2",
]  # fmt: skip


def _inputs_html(data: WhatIfData, lang: Lang) -> str:
    """The "computed from" block: when, the inputs, the network, the standards (all text)."""
    words = WHATIF_TEXTS[lang]
    net, cfg = data.network, data.config
    mode = str(net.get("mode", ""))
    rows = [
        (words["computed"], data.computed),
        (words["sources"], "; ".join(v for v in data.sources.values() if v)),
        (
            words["network"],
            words["network_line"].format(
                source=Path(str(net.get("source", ""))).name,
                nodes=f"{net.get('nodes', 0):,}",
                km=f"{net.get('length_km', 0):,}",
                mode=MODE_ZH.get(mode, mode) if lang == "zh" else mode,
                speed=f"{net.get('speed_kph', 0):g}",
            ),
        ),
        (
            words["thresholds"],
            words["thresholds_line"].format(
                urban=f"{cfg.urban_threshold_min:g}",
                rural=f"{cfg.rural_threshold_min:g}",
                std=f"{cfg.floor_area_m2_per_100_households:g}",
            ),
        ),
        (
            "",
            words["sites_line"].format(
                halls=int(data.sites["existing"].sum()),
                candidates=int((~data.sites["existing"].astype(bool)).sum()),
            ),
        ),
    ]
    if data.tied:
        rows.append(("", words["ties"].format(n=data.tied)))
    body = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in rows)
    return f'<dl class="wi-inputs">{body}</dl>'


def render_page(data: WhatIfData, *, lang: Lang = "zh", basemap: str = "blank") -> str:
    """The page's HTML (see :func:`whatif_map`)."""
    words = WHATIF_TEXTS[lang]
    here = resources.files("coverage.whatif")
    script = (here / "page.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    style = (here / "page.css").read_text(encoding="utf-8")
    colors = (
        (STATUS_COLORS[STATUS_COVERED], STATUS_COVERED),
        (STATUS_COLORS[STATUS_NOT_COVERED], STATUS_NOT_COVERED),
        (STATUS_COLORS[STATUS_UNREACHABLE], STATUS_UNREACHABLE),
    )
    status_words = {
        "zh": {
            STATUS_COVERED: "已覆盖",
            STATUS_NOT_COVERED: "未覆盖",
            STATUS_UNREACHABLE: "不可达",
        },
        "en": {s: s for s in (STATUS_COVERED, STATUS_NOT_COVERED, STATUS_UNREACHABLE)},
    }[lang]
    legend = "".join(
        f'<span style="background:{c}"></span>{html.escape(status_words[s])}' for c, s in colors
    ) + (
        f'<span style="background:{HALL_COLOR}"></span>{html.escape(words["existing"])}'
        f'<span style="background:{PROPOSAL_COLOR}"></span>{html.escape(words["candidate"])}'
    )
    e = html.escape
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{e(words['title'])}</title>"
        f"<style>{leaflet_css()}</style><style>{style}</style></head><body>"
        '<div id="wi"><div id="wi-map"></div><div id="wi-side">'
        f'<h1>{e(words["title"])}</h1><div class="wi-note">{e(words["hint"])}</div>'
        f'<div class="wi-legend wi-note">{legend}</div>'
        '<div id="wi-summary"></div><div id="wi-timing"></div><div id="wi-info" class="wi-note">'
        f"{e(words['click_community'])}</div>"
        f'<p><button id="wi-copy" type="button">{e(words["copy"])}</button>'
        f'<button id="wi-reset" type="button">{e(words["reset"])}</button>'
        '<span id="wi-copied" class="wi-note"></span></p>'
        '<textarea id="wi-toml" readonly></textarea>'
        f"<h2>{e(words['districts'])}</h2>"
        '<div class="wi-scroll"><table class="wi" id="wi-districts"><thead></thead><tbody>'
        "</tbody></table></div>"
        f"<h2>{e(words['halls'].format(std=f'{data.config.floor_area_m2_per_100_households:g}'))}"
        '</h2><div class="wi-scroll"><table class="wi" id="wi-halls"><thead></thead><tbody>'
        "</tbody></table></div>"
        f"<h2>{e(words['inputs'])}</h2>{_inputs_html(data, lang)}"
        f'</div></div><div id="wi-tile-note">{e(words["no_tiles"])}</div>'
        '<script type="application/json" id="wi-data">'
        f"{_script_json(_payload(data, lang, basemap))}</script>"
        f"<script>{leaflet_js()}</script><script>{script}</script></body></html>\n"
    )


def whatif_map(
    path: str | os.PathLike[str],
    communities: gpd.GeoDataFrame | WhatIfData,
    halls: gpd.GeoDataFrame | None = None,
    network: Network | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    *,
    config: Config | None = None,
    lang: Lang = "zh",
    basemap: Basemap = "auto",
) -> Path:
    """Write the what-if map: one offline HTML page to try sites on, in a meeting.

    Clicking an existing hall or a candidate site switches it on or off; the communities'
    colours, the open halls' loads and the district table (the audit's columns) update at
    once, with no routing in the browser. "Copy this scenario" gives the TOML of the
    selection (``[halls] close`` and ``[[halls.add]]``) for a proper re-audit.

    Parameters
    ----------
    path
        Output ``.html`` file, written atomically.
    communities
        Communities as for :func:`coverage.audit.audit`, or data already computed by
        :func:`coverage.whatif.whatif_data` (then ``halls``, ``network``, ``candidates`` and
        ``config`` are not needed).
    halls
        Existing halls (``hall_id``; optional ``name``, ``floor_area_m2`` m²), any CRS.
    network
        Network with its routing view.
    candidates
        Candidate sites (``site_id``), e.g. the proposals of
        :func:`coverage.siting.propose_halls`; any CRS.
    config
        Thresholds (minutes), floor-area standard (m² per 100 households).
    lang
        ``"zh"`` (default) or ``"en"``.
    basemap
        ``"auto"`` (Amap for Chinese maps in China, else OSM), ``"osm"``, ``"amap"`` or
        ``"blank"``. Tiles are fetched by the viewer's browser; offline the page still works
        on a blank background.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if isinstance(communities, WhatIfData):
        data = communities
    else:
        if halls is None or network is None:
            msg = "whatif_map: halls and network are needed with a communities frame"
            raise InputDataError(msg)
        data = whatif_data(communities, halls, network, candidates, config=config)
    chosen = choose_basemap(basemap, data.sites if len(data.sites) else None, lang)
    if chosen not in {"osm", "amap", "amap-satellite", "blank"}:
        msg = f"whatif_map: basemap {basemap!r} is not offered here; use auto, osm, amap or blank"
        raise InputDataError(msg)
    return write_text_atomic(Path(path), render_page(data, lang=lang, basemap=chosen))
