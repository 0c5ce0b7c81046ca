"""The offline map in a real headless browser, with the network blocked.

Needs Debian's chromium (``.ci/run`` installs it) and the playwright package (test extras);
skipped with a reason where either is missing.
"""

from __future__ import annotations

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
        page.click(".cp-search-list a")
        page.wait_for_selector(".leaflet-popup-content")
        return page.inner_text(".leaflet-popup-content"), page.evaluate(
            "document.querySelectorAll('.leaflet-popup-content img').length"
        )

    (text, imgs), _, _, errors, dialogs = _open(path, search)
    assert EVIL in text  # shown as text ...
    assert imgs == 0  # ... never as an element
    assert dialogs == []
    assert errors == []
