"""Maps: layers, legend, attribution and escaping, asserted on the rendered HTML."""

from __future__ import annotations

import json
import re

import pytest

from coverage._errors import InputDataError
from coverage.audit import audit
from coverage.maps import coverage_map, escape, save_map
from coverage.testing import grid_communities, grid_halls

EVIL = "<img src=x onerror=alert(1)>"


def _render(m) -> str:
    return m.get_root().render()


def test_layers_legend_and_attribution(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    html = _render(coverage_map(r, lang="en"))
    assert "Communities: covered (4)" in html
    assert "Communities: not covered (1)" in html
    assert "Community service halls (2)" in html
    assert "cp-legend" in html
    assert "OpenStreetMap contributors" in html
    assert "illustrative location" in html  # the grid halls are marked illustrative


def test_chinese_labels(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    html = _render(coverage_map(r, lang="zh"))
    assert "未覆盖" in html or "\\u672a\\u8986\\u76d6" in html


def test_user_text_cannot_inject_markup(grid_net, tmp_path):
    com = grid_communities()
    com.loc[0, "name"] = EVIL
    com.loc[1, "district"] = EVIL
    halls = grid_halls()
    halls.loc[0, "name"] = EVIL + "`${alert(2)}`"
    r = audit(com, halls, grid_net)
    m = coverage_map(r, lang="en", title=EVIL)
    path = save_map(m, tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    assert "<img" not in html
    assert "onerror=alert(1)>" not in html.replace("&gt;", "")  # never as live markup
    # the name is still there, as data
    assert "onerror=alert(1)" in html
    # popups are built with textContent, not innerHTML
    assert re.search(r"textContent", html)


def test_escape_function():
    assert escape(EVIL) == "&lt;img src=x onerror=alert(1)&gt;"
    assert escape("`${x}`") == "&#96;&#36;{x}&#96;"
    assert escape(None) == ""
    assert escape(float("nan")) == ""


def _coords(html: str) -> list[list[float]]:
    import json
    import re

    return [json.loads(c) for c in re.findall(r'"coordinates": (\[[-0-9., ]+\])', html)]


def test_amap_basemap_shifts_overlays_into_gcj02(grid_net):
    from coverage.coords import wgs84_to_gcj02

    r = audit(grid_communities(), grid_halls(), grid_net)
    osm = _coords(_render(coverage_map(r, basemap="osm")))
    amap = _render(coverage_map(r, basemap="amap"))
    assert "autonavi.com" in amap
    shifted = _coords(amap)
    assert len(osm) == len(shifted) > 0
    lon, lat = wgs84_to_gcj02(osm[0][0], osm[0][1])
    assert shifted[0] == pytest.approx([round(float(lon), 6), round(float(lat), 6)], abs=2e-6)
    # the shift in Hangzhou is hundreds of metres, not a rounding effect
    assert abs(shifted[0][0] - osm[0][0]) * 96_000 > 300


def test_tianditu_needs_a_key_and_blank_has_no_tiles(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    with pytest.raises(InputDataError, match="Tianditu basemap needs a key"):
        coverage_map(r, basemap="tianditu")
    html = _render(coverage_map(r, basemap="tianditu", tianditu_key="abc123"))
    assert "tianditu.gov.cn" in html
    assert "tk=abc123" in html
    assert "tile.openstreetmap.org" not in _render(coverage_map(r, basemap="blank"))


def test_proposals_layer_draws_groups(grid_net):
    import geopandas as gpd

    from coverage.testing import grid_points

    r = audit(grid_communities(), grid_halls(), grid_net)
    sites = gpd.GeoDataFrame({"site_id": ["S1"], "members": [2], "floor_area_needed_m2": [300.0]},
                             geometry=grid_points([(2, 2)]), crs=4326)  # fmt: skip
    assigned = r.communities.assign(site_id=["S1", "S1", None, None, None])
    html = _render(coverage_map(r, proposals=sites, assignments=assigned, lang="en"))
    assert "Proposed shared halls (1)" in html
    assert "Assignments (2)" in html
    assert html.count('"type": "LineString"') == 2


def test_offline_export_inlines_everything_and_refuses_unknown_plugins(grid_net, tmp_path):
    from folium.plugins import MarkerCluster

    from coverage._offline import OfflineExportError

    r = audit(grid_communities(), grid_halls(), grid_net)
    m = coverage_map(r, basemap="blank")
    html = save_map(m, tmp_path / "a.html").read_text(encoding="utf-8")
    assert re.search(r'<script[^>]+src="http', html) is None
    assert re.search(r'<link[^>]+href="http', html) is None
    assert "L.Map" in html or "L.map" in html  # leaflet itself is inside the page
    size_kb = len(html.encode()) / 1024
    assert size_kb < 400  # the grid map: leaflet, jquery and a few features
    MarkerCluster().add_to(m)
    with pytest.raises(OfflineExportError, match=r"markercluster.*offline=False"):
        save_map(m, tmp_path / "b.html")
    assert not (tmp_path / "b.html").exists()
    online = save_map(m, tmp_path / "c.html", offline=False).read_text(encoding="utf-8")
    assert 'src="https://' in online


class _Text(__import__("html.parser").parser.HTMLParser):
    """The text inside the first element with a given class, one string per row div."""

    def __init__(self, cls: str) -> None:
        super().__init__()
        self.cls, self.depth, self.rows = cls, 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag == "div"
            if tag == "div":
                self.rows.append("")
        elif tag == "div" and self.cls in (dict(attrs).get("class") or "").split():
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag == "div":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth > 1:
            self.rows[-1] += data


def _legend(m) -> list[str]:
    parser = _Text("cp-legend")
    parser.feed(_render(m))
    return parser.rows


def _fit(html: str) -> tuple[list[list[float]], dict]:
    import json

    found = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\]),\s*(\{.*?\})\s*\)", html, re.DOTALL)
    assert found, "no fitBounds"
    return json.loads(found.group(1)), json.loads(found.group(2))


def test_district_map_fits_the_halls_that_serve_it(liechtenstein):
    # Balzers' one community is served by a hall in another town (issue 14, item 2)
    result = audit(liechtenstein.communities, liechtenstein.halls, liechtenstein.network)
    for name in ("Balzers", "Triesen"):
        part = result.district(name)
        served = part.halls[part.halls["hall_id"].isin(part.communities["nearest_hall_id"])]
        assert len(served), name
        poly = liechtenstein.districts[liechtenstein.districts["district"] == name]
        (south_west, north_east), options = _fit(
            _render(coverage_map(part, districts=poly, basemap="blank"))
        )
        assert options["maxZoom"] == 16
        for p in [*served.geometry, *part.communities.geometry]:
            assert south_west[0] <= p.y <= north_east[0], name
            assert south_west[1] <= p.x <= north_east[1], name
        # the district outline is in view too
        _w, s, _e, n = poly.to_crs(4326).total_bounds
        assert south_west[0] <= s, name
        assert n <= north_east[0], name


def test_a_single_community_is_not_shown_at_street_sign_scale(grid_net):
    r = audit(grid_communities().iloc[:1], grid_halls(), grid_net)
    _, options = _fit(_render(coverage_map(r, basemap="blank")))
    assert options == {"maxZoom": 16, "padding": [30, 30]}


def test_legend_shows_illustrative_only_for_illustrative_halls(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    zh = _legend(coverage_map(r, basemap="blank"))
    assert "示意位置（非真实地址）" in zh  # the grid halls are marked illustrative
    assert "圆圈越大，用房面积越大" in zh  # they have floor areas
    real = grid_halls().assign(illustrative=False, floor_area_m2=float("nan"))
    rows = _legend(coverage_map(audit(grid_communities(), real, grid_net), basemap="blank"))
    assert not any("示意" in t for t in rows)
    assert not any("用房面积" in t for t in rows)  # no floor area, no size to explain
    assert "社区服务中心" in rows
    # only the statuses on the map: 4 covered, 1 not covered, none unreachable
    assert "社区: 已覆盖" in rows
    assert "社区: 未覆盖" in rows
    assert "社区: 不可达" not in rows


def _bands(grid_net, minutes=(15, 20)):
    from coverage.isochrones import isochrones

    return isochrones(grid_net, grid_halls(), minutes=list(minutes))


def test_a_20_minute_band_only_where_rural_communities_are(grid_net):
    bands = _bands(grid_net)
    com = grid_communities()
    mixed = coverage_map(audit(com, grid_halls(), grid_net), isochrones=bands, basemap="blank")
    rows = _legend(mixed)
    assert "15 分钟可达范围（城市社区标准）" in rows
    assert "20 分钟可达范围（农村社区标准）" in rows
    assert "颜色越深，用时越短" in rows
    assert "20 分钟可达范围" in _render(mixed)
    urban = audit(com.assign(kind="urban"), grid_halls(), grid_net)
    m = coverage_map(urban, isochrones=bands, basemap="blank")
    rows = _legend(m)
    assert "15 分钟可达范围（城市社区标准）" in rows
    assert "未画 20 分钟范围：本图没有农村社区" in rows
    assert "20 分钟可达范围" not in _render(m)
    en = _legend(coverage_map(urban, isochrones=bands, basemap="blank", lang="en"))
    assert "15-minute area (limit for urban communities)" in en
    assert "no 20-minute area drawn: no rural community on this map" in en
    rural = audit(com.assign(kind="rural"), grid_halls(), grid_net)
    rows = _legend(coverage_map(rural, isochrones=bands, basemap="blank"))
    assert "20 分钟可达范围（农村社区标准）" in rows
    assert "未画 15 分钟范围：本图没有城市社区" in rows


def test_data_problems_have_their_own_colour_and_legend_row(grid_net):
    import geopandas as gpd

    from coverage.maps import DATA_PROBLEM_COLOR, PROPOSAL_COLOR
    from coverage.testing import grid_points

    assert DATA_PROBLEM_COLOR != PROPOSAL_COLOR
    r = audit(grid_communities(), grid_halls(), grid_net)
    sites = gpd.GeoDataFrame({"site_id": ["S1"], "members": [["A", "B"]], "population": [6381.0]},
                             geometry=grid_points([(2, 2)]), crs=4326)  # fmt: skip
    problems = r.communities.iloc[[4]].assign(reason="island", reason_zh="孤岛")
    m = coverage_map(r, proposals=sites, data_problems=problems, lang="en", basemap="blank")
    rows = _legend(m)
    assert "Proposed shared halls" in rows
    assert "Data problems (map-data islands, left out of siting)" in rows
    html = _render(m)
    assert f'"color": "{DATA_PROBLEM_COLOR}"' in html
    assert f'"fillColor": "{PROPOSAL_COLOR}"' in html
    # the members list reads as text, not as a Python list
    assert '"members": "2: A, B"' in html
    assert '"population": "6,381"' in html
    assert "['A'" not in html


def _props(html: str, key: str) -> list[str]:
    import json

    return [json.loads(v) for v in re.findall(rf'"{key}": ("(?:[^"\\]|\\.)*")', html)]


def test_one_language_per_map(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    zh = _render(coverage_map(r, basemap="blank", isochrones=_bands(grid_net)))
    tips = _props(zh, "tip")
    assert "社区A: 4.0 分钟" in tips  # A is 4 minutes from H1 on the grid
    assert not any(t.endswith("min") or "illustrative" in t for t in tips)
    assert "西南服务中心（示意）" in tips
    en = _render(coverage_map(r, basemap="blank", lang="en", isochrones=_bands(grid_net)))
    assert "社区A: 4.0 min" in _props(en, "tip")
    assert "西南服务中心 (illustrative)" in _props(en, "tip")
    assert '"20-minute area"' in en
    assert "20 -minute" not in en
    assert "分钟" not in "".join(_legend(coverage_map(r, basemap="blank", lang="en")))


def test_hall_popups_give_a_floor_area_verdict(grid_net):
    halls = grid_halls()
    halls.loc[1, "floor_area_m2"] = 100.0
    r = audit(grid_communities(), halls, grid_net)
    html = _render(coverage_map(r, basemap="blank"))
    verdicts = _props(html, "verdict")
    # H1 serves A, B, D: 400 + 800 + 600 households -> 18 x 30 = 540 m2 <= 600 m2
    assert "达标：用房 600 m²，按每百户 30 m² 需 540 m²" in verdicts
    # H2 serves C, E: 200 + 320 households -> 5.2 x 30 = 156 m2 > 100 m2, 56 m2 short
    assert "不达标：用房 100 m²，按每百户 30 m² 需 156 m²，缺 56 m²" in verdicts
    assert "2 / 3" in _props(html, "covered_of")  # B is over its limit
    en = _render(coverage_map(r, basemap="blank", lang="en"))
    assert any(v.startswith("not met: 100 m²") for v in _props(en, "verdict"))


def test_default_basemap_is_amap_for_chinese_maps_in_china(grid_net, liechtenstein):
    r = audit(grid_communities(), grid_halls(), grid_net)
    zh = _render(coverage_map(r))
    assert "autonavi.com" in zh
    assert "tile.openstreetmap.org" not in zh
    name = json.dumps("高德地图（GCJ-02，图层已相应偏移）")[1:-1]
    assert zh.count(name) >= 2  # named in the layer list and in the attribution
    en = _render(coverage_map(r, lang="en"))
    assert "tile.openstreetmap.org" in en
    assert "autonavi" not in en
    far = audit(liechtenstein.communities, liechtenstein.halls, liechtenstein.network)
    li = _render(coverage_map(far.district("Vaduz")))
    assert "tile.openstreetmap.org" in li
    assert "autonavi" not in li
    # with tiles there is a note for when they cannot load; a blank map needs none
    assert json.dumps("底图未能加载（离线？）；数据图层照常显示")[1:-1] in zh
    assert "cp-tile-note" not in _render(coverage_map(r, basemap="blank"))


def test_metric_crs_is_the_utm_zone_without_a_database_search(hangzhou, liechtenstein):
    from coverage.maps import metric_crs

    for sample in (hangzhou, liechtenstein):
        geo = sample.communities.geometry
        assert metric_crs(geo) == geo.estimate_utm_crs().to_string()
    assert metric_crs(hangzhou.communities.geometry) == "EPSG:32651"  # 120°E-126°E, north


def test_inline_map_embeds_leaflet(grid_net):
    r = audit(grid_communities(), grid_halls(), grid_net)
    inline = coverage_map(r)._repr_html_()
    assert inline.startswith("<div")
    assert "<iframe srcdoc=" in inline
    doc = __import__("html").unescape(inline.split('srcdoc="')[1].split('" style=')[0])
    assert re.search(r"<script[^>]+src=", doc) is None
    assert re.search(r"<link[^>]+href=", doc) is None
    assert "cdn.jsdelivr.net" not in doc
    assert "bootstrap" not in doc.lower()
    assert "L.Map" in doc or "L.map" in doc


def test_inline_map_with_a_plugin_we_cannot_embed_warns_and_links(grid_net):
    from folium.plugins import MarkerCluster

    from coverage import OfflineMapWarning

    m = coverage_map(audit(grid_communities(), grid_halls(), grid_net))
    MarkerCluster().add_to(m)
    with pytest.warns(OfflineMapWarning, match="markercluster"):
        inline = m._repr_html_()
    assert "cdn.jsdelivr.net" in inline


def test_names_are_never_run_as_templates(grid_net):
    # branca compiles each rendered piece again as a Jinja template: data must not reach it
    com = grid_communities()
    com.loc[0, "name"] = "{{ 7*7 }}"
    com.loc[1, "name"] = "{% if true %}x"  # a syntax error if compiled
    halls = grid_halls()
    halls.loc[0, "name"] = "{{ config }}"
    r = audit(com, halls, grid_net)
    html = _render(coverage_map(r, title="{{ 6*7 }}", basemap="blank", lang="en"))
    titles = _props(html, "title")
    assert "{{ 7*7 }}" in titles
    assert "49" not in titles
    assert "{% if true %}x" in titles
    assert "{{ config }}" in titles
    assert "{{ 6*7 }}" in html


def test_every_district_map_draws_its_own_outline(liechtenstein):
    # a district's row is not the first of the frame: its outline was drawn as null
    result = audit(liechtenstein.communities, liechtenstein.halls, liechtenstein.network)
    poly = liechtenstein.districts[liechtenstein.districts["district"] == "Triesen"]
    assert poly.index[0] != 0
    m = coverage_map(result.district("Triesen"), districts=poly, basemap="blank")
    (layer,) = [c for c in m._children.values() if getattr(c, "layer_name", "") == "区县 / 片区"]
    (feature,) = layer.data["features"]
    assert feature["properties"]["label"] == "Triesen"
    assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
