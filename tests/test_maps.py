"""Maps: layers, legend, attribution and escaping, asserted on the rendered HTML."""

from __future__ import annotations

import re

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
