"""The offline map in a real headless browser, with the network blocked.

Needs Debian's chromium (``.ci/run`` installs it) and the playwright package (test extras);
skipped with a reason where either is missing.
"""

from __future__ import annotations

import re
import shutil

import pytest

from coverage.audit import audit
from coverage.maps import coverage_map, save_map

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def offline_map(hangzhou, tmp_path_factory):
    com = hangzhou.communities.copy()
    com.loc[com.index[0], "name"] = EVIL + " 恶意名称"
    result = audit(com, hangzhou.halls, hangzhou.network)
    m = coverage_map(result, districts=hangzhou.districts, basemap="blank", lang="zh")
    path = save_map(m, tmp_path_factory.mktemp("map") / "map.html")
    return path, result


def _open(path, page_fn):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        requests, failed, errors, dialogs = [], [], [], []

        def route(r):
            requests.append(r.request.url)
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                r.abort()  # the network is blocked

        page.route("**/*", route)
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_timeout(500)
        out = page_fn(page)
        browser.close()
    return out, requests, failed, errors, dialogs


def test_offline_map_makes_no_request_and_shows_layers_and_legend(offline_map):
    path, result = offline_map

    def check(page):
        page.screenshot(path=str(path.with_suffix(".png")))
        return {
            "markers": page.evaluate(
                "document.querySelectorAll('path.leaflet-interactive').length"
            ),
            "layers": page.evaluate(
                "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
                ".map(l => l.textContent.trim())"
            ),
            "legend": page.is_visible(".cp-legend"),
            "legend_text": page.inner_text(".cp-legend"),
        }

    info, requests, failed, errors, dialogs = _open(path, check)
    external = [u for u in requests if not u.startswith("file:")]
    assert external == []
    assert failed == []
    assert errors == []
    assert dialogs == []
    n_com, n_halls = len(result.communities), len(result.halls)
    # one circle per community and hall, plus the district outlines
    assert info["markers"] >= n_com + n_halls
    counts = result.communities["status"].value_counts()
    assert f"社区: 已覆盖 ({counts['covered']})" in info["layers"]
    assert f"社区: 未覆盖 ({counts['not covered']})" in info["layers"]
    assert any(label.startswith("社区服务中心") for label in info["layers"])
    assert info["legend"]
    assert "已覆盖" in info["legend_text"]


def test_search_opens_the_popup_and_names_stay_text(offline_map):
    path, _ = offline_map

    def search(page):
        page.fill(".cp-search input", "恶意名称")
        page.click(".cp-search-list li[role=option]")
        page.wait_for_selector(".leaflet-popup-content")
        return page.inner_text(".leaflet-popup-content"), page.evaluate(
            "document.querySelectorAll('.leaflet-popup-content img').length"
        )

    (text, imgs), _, _, errors, dialogs = _open(path, search)
    assert EVIL in text  # shown as text ...
    assert imgs == 0  # ... never as an element
    assert dialogs == []
    assert errors == []


def test_search_lists_full_chinese_names_with_districts_and_keyboard(offline_map):
    path, result = offline_map
    names = result.communities["name"].astype(str)
    expected = sorted(names[names.str.startswith("留石")])
    assert len(expected) >= 3

    def search(page):
        page.click(".cp-search input")
        page.keyboard.type("留石")
        page.wait_for_selector(".cp-search-list li[role=option]")
        page.screenshot(path=str(path.with_name("search.png")))
        rows = page.evaluate(
            "Array.from(document.querySelectorAll('.cp-search-list li[role=option]'))"
            ".map(li => [li.querySelector('.cp-search-name').textContent,"
            " li.querySelector('.cp-search-district').textContent,"
            " li.getBoundingClientRect().width, li.getBoundingClientRect().height])"
        )
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_selector(".leaflet-popup-content")
        return {
            "rows": rows,
            "hidden": page.evaluate("document.querySelector('.cp-search-list').hidden"),
            "left": page.evaluate("document.querySelectorAll('.cp-search-list li').length"),
            "popup": page.inner_text(".leaflet-popup-content"),
            "value": page.input_value(".cp-search input"),
        }

    info, _, _, errors, _ = _open(path, search)
    assert errors == []
    rows = info["rows"]
    assert [r[0] for r in rows] == expected[:12]  # full names, in natural order
    district = dict(zip(names, result.communities["district"].astype(str), strict=True))
    assert all(r[1] == district[r[0]] for r in rows)  # the district beside each
    assert all(r[2] > 200 for r in rows)  # a list, not 30-pixel buttons
    assert all(r[3] < 30 for r in rows)  # one line each, not a character per line
    assert info["hidden"]
    assert info["left"] == 0
    assert info["value"] == expected[1]  # down, down, enter: the second
    assert expected[1] in info["popup"]


def test_inline_notebook_map_draws_with_the_network_off(hangzhou, tmp_path):
    """What Jupyter shows: the map's _repr_html_ inside a page, every web request aborted."""
    result = audit(hangzhou.communities, hangzhou.halls, hangzhou.network)
    district = min(result.communities["district"].unique())
    part = result.district(district)
    m = coverage_map(part, lang="zh")  # default basemap: Amap tiles, unreachable here
    path = tmp_path / "notebook.html"
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        f"<div class='output_html'>{m._repr_html_()}</div></body></html>",
        encoding="utf-8",
    )

    def check(page):
        frame = page.frames[1]
        frame.wait_for_selector("path.leaflet-interactive")
        page.wait_for_timeout(500)
        page.screenshot(path=str(tmp_path / "notebook.png"))
        return {
            "frames": len(page.frames),
            "panes": frame.evaluate("document.querySelectorAll('.leaflet-pane').length"),
            "markers": frame.evaluate(
                "document.querySelectorAll('path.leaflet-interactive').length"
            ),
            "leaflet": frame.evaluate("typeof L !== 'undefined' && L.version"),
            "note": frame.evaluate(
                "(document.querySelector('.cp-tile-note') || {}).textContent || ''"
            ),
        }

    info, requests, _, errors, _ = _open(path, check)
    external = [u for u in requests if not u.startswith(("file:", "data:", "about:"))]
    scripts = [u for u in external if not re.search(r"autonavi\.com/appmaptile", u)]
    assert scripts == []  # no Leaflet, Bootstrap, Font Awesome or jQuery from a CDN
    assert errors == []
    assert info["frames"] == 2
    assert info["leaflet"] == "1.9.3"
    assert info["panes"] >= 5
    assert info["markers"] >= len(part.communities) + 1
    # the map tiles could not load: the map says so and still shows the data
    assert info["note"] == "底图未能加载（离线？）；数据图层照常显示"


def test_inline_notebook_map_with_a_blank_basemap_makes_no_request(grid_net, tmp_path):
    from coverage.testing import grid_communities, grid_halls

    m = coverage_map(audit(grid_communities(), grid_halls(), grid_net), basemap="blank")
    path = tmp_path / "notebook.html"
    path.write_text(f"<html><body>{m._repr_html_()}</body></html>", encoding="utf-8")

    def check(page):
        frame = page.frames[1]
        frame.wait_for_selector("path.leaflet-interactive")
        return frame.evaluate("document.querySelectorAll('path.leaflet-interactive').length")

    markers, requests, failed, errors, _ = _open(path, check)
    assert [u for u in requests if not u.startswith("file:")] == []
    assert failed == errors == []
    assert markers == 5 + 2  # five communities and two halls
