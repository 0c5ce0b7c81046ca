"""Self-contained HTML: inline the JavaScript and CSS a folium map links to.

No third-party JavaScript or CSS is copied into this repository. At export time the assets are
read from installed, well-kept packages (``xstatic-leaflet`` for Leaflet 1.9.3 and its images,
``xstatic-jquery``). Assets our maps do not use (Bootstrap, Font Awesome, awesome-markers)
are dropped. Any other external script or stylesheet is an error in offline mode, naming the
address, so a map never silently needs the internet. Map tiles are the exception: they are
images fetched by Leaflet at view time; with ``tiles=None`` the map needs nothing at all.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

from coverage._errors import OfflineExportError

_SCRIPT = re.compile(r'<script\s+src="(?P<url>https?://[^"]+)"\s*>\s*</script>')
_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>https?://[^"]+)"\s*/?>')

#: Assets dropped from offline maps unless the page uses them (checked by a marker string).
_UNUSED = {
    "bootstrap": None,
    "bootstrap-glyphicons": "L.AwesomeMarkers",
    "fontawesome": "L.AwesomeMarkers",
    "awesome-markers": "L.AwesomeMarkers",
    "awesome.rotate": "L.AwesomeMarkers",
}


def _leaflet_dir() -> Path:
    try:
        from xstatic.pkg import leaflet  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - a declared dependency
        msg = "offline maps need the package xstatic-leaflet: pip install xstatic-leaflet"
        raise OfflineExportError(msg) from exc
    return Path(leaflet.BASE_DIR)


def _jquery_dir() -> Path:
    try:
        from xstatic.pkg import jquery  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - a declared dependency
        msg = "offline maps need the package xstatic-jquery: pip install xstatic-jquery"
        raise OfflineExportError(msg) from exc
    return Path(jquery.BASE_DIR)


def _clean_js(text: str) -> str:
    text = re.sub(r"//# sourceMappingURL=\S+", "", text)
    return text.replace("</script", "<\\/script")


@cache
def _leaflet_js() -> str:
    return _clean_js((_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8"))


@cache
def _leaflet_css() -> str:
    base = _leaflet_dir()
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        name = match.group(1)
        data = base64.b64encode((base / "images" / name).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)


def leaflet_js() -> str:
    """Leaflet's JavaScript, ready to put inside a ``<script>`` element."""
    return _leaflet_js()


def leaflet_css() -> str:
    """Leaflet's stylesheet with its images inlined, for a ``<style>`` element."""
    return _leaflet_css()


@cache
def _jquery_js() -> str:
    return _clean_js((_jquery_dir() / "jquery.min.js").read_text(encoding="utf-8"))


def _asset_kind(url: str) -> str | None:
    low = url.lower()
    for key in (
        "bootstrap-glyphicons",
        "awesome-markers",
        "awesome.rotate",
        "fontawesome",
        "bootstrap",
    ):
        if key in low:
            return key
    if re.search(r"/leaflet(@[\d.]+)?/dist/leaflet\.(js|css)$", low):
        return "leaflet"
    if re.search(r"jquery-[\d.]+(\.min)?\.js$", low):
        return "jquery"
    return None


def _droppable(kind: str | None, html: str) -> bool:
    """Whether an asset can be left out: our maps do not use it, nor does this page."""
    if kind is None or kind not in _UNUSED:
        return False
    marker = _UNUSED[kind]
    return marker is None or marker not in html


def inline_assets(html: str) -> str:
    """Replace links to known JavaScript/CSS with inline copies; drop unused ones.

    Parameters
    ----------
    html
        A rendered folium page.

    Returns
    -------
    str
        The page with no external script or stylesheet.

    Raises
    ------
    OfflineExportError
        If the page links to an asset that cannot be embedded (a folium plugin we do not
        package); the message names the address.
    """
    unknown: list[str] = []

    def script(match: re.Match[str]) -> str:
        url = match.group("url")
        kind = _asset_kind(url)
        if kind == "leaflet":
            return f"<script>{_leaflet_js()}</script>"
        if kind == "jquery":
            return f"<script>{_jquery_js()}</script>"
        if _droppable(kind, html):
            return ""
        unknown.append(url)
        return match.group(0)

    def link(match: re.Match[str]) -> str:
        url = match.group("url")
        kind = _asset_kind(url)
        if kind == "leaflet":
            return f"<style>{_leaflet_css()}</style>"
        if _droppable(kind, html):
            return ""
        unknown.append(url)
        return match.group(0)

    out = _LINK.sub(link, _SCRIPT.sub(script, html))
    if unknown:
        msg = (
            "cannot make this map self-contained: it links to "
            + ", ".join(unknown)
            + "; save it with offline=False, or remove the plugin that needs it"
        )
        raise OfflineExportError(msg)
    return out
