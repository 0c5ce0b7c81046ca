"""Maps: layers, legend, attribution and escaping, asserted on the rendered HTML."""

from __future__ import annotations

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
