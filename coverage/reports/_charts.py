"""The summary's charts (and the life circle's Lorenz curves), drawn as inline SVG.

The charts are plain SVG markup inside the page: their text is drawn by the browser with the
page's fonts (the same Chinese font as the rest of the page, on any machine that shows
Chinese), so no font has to be found on the computer that writes the report, no label falls
back to English and nothing is rasterised. Drawing both charts takes about a millisecond.
"""

from __future__ import annotations

import html
import logging
import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from coverage.audit import AuditResult
    from coverage.reports._labels import Lang

logger = logging.getLogger(__name__)


_CHART_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "bar_title": "各区县覆盖率",
        "bar_com": "社区覆盖率",
        "bar_pop": "人口覆盖率",
        "bar_more": "（仅列出最差的 {n} 个区县）",
        "hist_title": "到最近服务中心的出行时间",
        "hist_unreachable": "（另有 {n} 个社区不可达）",
        "xlabel": "出行时间（分钟）",
        "ylabel": "社区数",
        "urban": "城市社区",
        "rural": "农村社区",
        "other": "其他",
        "limit_urban": "城市标准 {t:g} 分钟",
        "limit_rural": "农村标准 {t:g} 分钟",
        "limit_both": "标准 {t:g} 分钟",
        "no_times": "没有可到达服务中心的社区",
    },
    "en": {
        "bar_title": "Coverage by district",
        "bar_com": "communities covered",
        "bar_pop": "population covered",
        "bar_more": " (the {n} worst districts only)",
        "hist_title": "Travel time to the nearest hall",
        "hist_unreachable": " ({n} unreachable not shown)",
        "xlabel": "travel time (minutes)",
        "ylabel": "communities",
        "urban": "urban",
        "rural": "rural",
        "other": "other",
        "limit_urban": "urban limit {t:g} min",
        "limit_rural": "rural limit {t:g} min",
        "limit_both": "limit {t:g} min",
        "no_times": "no community reaches a hall",
    },
}


_MAX_BARS = 40
_WIDTH = 1000  # SVG user units (pixels at 100 %); the page scales the chart to its width
_FONT = 13  # label size, px
_COM, _POP = "#1a9850", "#a6d96a"
_KIND_COLOURS = {"urban": "#4575b4", "rural": "#fdae61", "other": "#999999"}
_LIMIT = "#d73027"


class Charts(NamedTuple):
    """The summary's two charts, as SVG markup for the page."""

    bar: str
    """Coverage by district."""
    hist: str
    """Travel times, stacked by kind, with the limits."""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _text_width(text: str, size: float = _FONT) -> float:
    """Approximate width of a label, px: Chinese characters a full em, others about half."""
    import unicodedata  # noqa: PLC0415

    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.56 * size for ch in text)


def _svg(height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg class=chart role="img" aria-label="{_esc(label)}" viewBox="0 0 {_WIDTH} '
        f'{height:.0f}" width="{_WIDTH}" height="{height:.0f}" font-size="{_FONT}">'
        f"<title>{_esc(label)}</title>{''.join(body)}</svg>"
    )


def _legend(items: list[tuple[str, str, str]], top: float) -> list[str]:
    """A legend in one row under the title: (a dash pattern or "box", colour, label)."""
    out = []
    left = 6.0
    for kind, colour, label in items:
        if kind == "box":
            out.append(
                f'<rect x="{left:.1f}" y="{top - 9}" width="18" height="10" fill="{colour}"/>'
            )
        else:
            out.append(
                f'<line x1="{left:.1f}" x2="{left + 22:.1f}" y1="{top - 4}" y2="{top - 4}" '
                f'stroke="{colour}" stroke-width="2" stroke-dasharray="{kind}"/>'
            )
        out.append(f'<text x="{left + 26:.1f}" y="{top}" font-size="12">{_esc(label)}</text>')
        left += 26 + _text_width(label, 12) + 18
    return out


def _bar_chart(table: pd.DataFrame, labels: list[str], text: dict[str, str]) -> str:
    """Horizontal bars, worst district at the top: share of communities and of population."""
    n = len(table)
    left = min(max((_text_width(x) for x in labels), default=0) + 14, _WIDTH * 0.45)
    top, row, bottom = 48, 36, 30
    plot = _WIDTH - left - 16
    height = top + n * row + bottom
    scale = plot / 1.13  # room for the "100%" labels right of a full bar
    body = [f'<text x="4" y="18" font-size="15">{_esc(text["bar_title"])}</text>']
    axis_y = top + n * row
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * scale
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{axis_y}" stroke="#e3e3e3"/>'
            f'<text x="{x:.1f}" y="{axis_y + 17}" text-anchor="middle">{tick:.0%}</text>'
        )
    com = table["covered_share"].fillna(0.0).to_numpy(float)
    pop = table["population_covered_share"].fillna(0.0).to_numpy(float)
    for i, label in enumerate(labels):
        y = top + i * row + 3
        body.append(f'<text x="{left - 8:.1f}" y="{y + 19}" text-anchor="end">{_esc(label)}</text>')
        for j, (share, colour) in enumerate(((com[i], _COM), (pop[i], _POP))):
            yy = y + j * 15
            w = max(share, 0.0) * scale
            body.append(
                f'<rect x="{left:.1f}" y="{yy}" width="{w:.1f}" height="14" fill="{colour}">'
                f"<title>{_esc(label)}: {share:.1%}</title></rect>"
                f'<text x="{left + w + 4:.1f}" y="{yy + 11}" font-size="11">{share:.0%}</text>'
            )
    body.append(
        f'<line x1="{left:.1f}" x2="{left:.1f}" y1="{top}" y2="{axis_y}" stroke="#333"/>'
        f'<line x1="{left:.1f}" x2="{left + plot:.1f}" y1="{axis_y}" y2="{axis_y}" '
        'stroke="#333"/>'
    )
    legend = [("box", _COM, text["bar_com"]), ("box", _POP, text["bar_pop"])]
    body += _legend(legend, 38)
    return _svg(height, text["bar_title"], body)


def _bin_width(longest: float) -> float:
    for step in (1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0):
        if longest / step <= 40:  # noqa: PLR2004 (at most about 40 bars)
            return step
    return math.ceil(longest / 40 / 60) * 60.0


def _nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2, 5 × 10^k) giving at most about ``ticks`` ticks up to ``top``."""
    raw = max(top, 1.0) / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return float(max(step, 1.0))


def _limits(
    kind: pd.Series, urban_min: float, rural_min: float, text: dict[str, str]
) -> list[tuple[float, str, str]]:
    """(minutes, label, dash) of each kind's limit: the kinds present, both if neither."""
    has_urban, has_rural = bool((kind == "urban").any()), bool((kind == "rural").any())
    if math.isclose(urban_min, rural_min):
        return [(urban_min, text["limit_both"], "6 4")]
    if has_urban != has_rural:
        limits = [(urban_min, text["limit_urban"], "6 4")] if has_urban else []
        return limits + ([(rural_min, text["limit_rural"], "2 3")] if has_rural else [])
    return [(urban_min, text["limit_urban"], "6 4"), (rural_min, text["limit_rural"], "2 3")]


def _histogram(
    communities: pd.DataFrame, urban_min: float, rural_min: float, text: dict[str, str]
) -> str:
    """Travel times stacked by kind, with the urban and rural limits as vertical lines."""
    minutes = pd.to_numeric(communities["travel_time_min"], errors="coerce")
    kind = communities["kind"].astype(str)
    n_unreachable = int(minutes.isna().sum())
    title = text["hist_title"]
    if n_unreachable:
        title += text["hist_unreachable"].format(n=n_unreachable)
    groups = [
        (minutes[kind == "urban"].dropna(), text["urban"], _KIND_COLOURS["urban"]),
        (minutes[kind == "rural"].dropna(), text["rural"], _KIND_COLOURS["rural"]),
        (minutes[~kind.isin(["urban", "rural"])].dropna(), text["other"], _KIND_COLOURS["other"]),
    ]
    groups = [g for g in groups if len(g[0])]
    limits = _limits(kind, urban_min, rural_min, text)
    longest = max([float(g[0].max()) for g in groups] + [t for t, _, _ in limits])
    step = _bin_width(longest)
    edges = np.arange(0.0, longest + 1.5 * step, step)  # one empty bin beyond the last limit
    # bins closed on the right, (a, b]: a community at exactly 15.0 min is covered and is
    # drawn left of the 15-min line
    counts = [
        np.histogram(np.maximum(g[0].to_numpy(float) - 1e-9, 0.0), bins=edges)[0] for g in groups
    ]
    left, right, top, bottom = 56, 16, 52, 44
    height = 330
    plot_w, plot_h = _WIDTH - left - right, height - top - bottom
    x_max = float(edges[-1])
    stack_top = float(np.sum(counts, axis=0).max()) if counts else 0.0
    y_step = _nice_step(stack_top)
    y_max = max(math.ceil(stack_top / y_step) * y_step, y_step)

    def x(v: float) -> float:
        return left + v / x_max * plot_w

    def y(v: float) -> float:
        return top + plot_h - v / y_max * plot_h

    body = [f'<text x="4" y="18" font-size="15">{_esc(title)}</text>']
    for k in range(int(y_max / y_step) + 1):
        v = k * y_step
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#e3e3e3"/><text x="{left - 6}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{v:g}</text>'
        )
    x_step = step * max(1, math.ceil((len(edges) - 1) / 10))
    body.extend(
        f'<text x="{x(float(v)):.1f}" y="{top + plot_h + 17}" '
        f'text-anchor="middle">{float(v):g}</text>'
        for v in np.arange(0.0, x_max + 1e-9, x_step)
    )
    base = np.zeros(len(edges) - 1)
    for (_, label, colour), count in zip(groups, counts, strict=True):
        body.extend(
            f'<rect x="{x(float(edges[b])):.1f}" y="{y(float(base[b] + c)):.1f}" '
            f'width="{x(float(edges[b + 1])) - x(float(edges[b])):.1f}" '
            f'height="{y(float(base[b])) - y(float(base[b] + c)):.1f}" fill="{colour}" '
            f'stroke="#fff" stroke-width="0.5"><title>{_esc(label)}: {int(c)} '
            f"({edges[b]:g}–{edges[b + 1]:g})</title></rect>"
            for b, c in enumerate(count)
            if c
        )
        base = base + count
    if not groups:
        body.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle">'
            f"{_esc(text['no_times'])}</text>"
        )
    for t, _, dash in limits:
        body.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="{_LIMIT}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
    body.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#333"/>'
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">'
        f"{_esc(text['xlabel'])}</text>"
        f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" '
        f'text-anchor="middle">{_esc(text["ylabel"])}</text>'
    )
    legend = [("box", colour, label) for _, label, colour in groups]
    legend += [(dash, _LIMIT, label.format(t=t)) for t, label, dash in limits]
    body += _legend(legend, 38)
    return _svg(height, title, body)


def charts(result: AuditResult, districts: pd.DataFrame, lang: Lang) -> Charts:
    """The two charts of the summary page, as inline SVG in ``lang``.

    The bar chart shows the districts worst first (at most :data:`_MAX_BARS`, the title says
    so when more exist), by their names; the histogram the travel times of the reachable
    communities by kind (minutes), with the urban and rural limits of the kinds present.
    """
    text = _CHART_TEXT[lang]
    order = districts.sort_values(
        ["covered_share", "population_covered_share", "district"],
        ascending=[True, True, True],
        kind="stable",
        na_position="first",
    )
    bar_text = dict(text)
    if len(order) > _MAX_BARS:
        order = order.head(_MAX_BARS)
        bar_text["bar_title"] += text["bar_more"].format(n=_MAX_BARS)
    labels = [str(d) for d in order["district"]]
    cfg = result.config
    return Charts(
        _bar_chart(order, labels, bar_text),
        _histogram(result.communities, cfg.urban_threshold_min, cfg.rural_threshold_min, text),
    )


_LORENZ_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "出行时间的洛伦兹曲线：{service}",
        "x": "居民累计比例（出行时间由短到长）",
        "y": "人·分钟累计比例",
        "equal": "完全均等（对角线）",
        "curve": "{name}（基尼系数 {gini}）",
        "none": "没有可到达此项服务的居民",
        "how": "曲线越靠近对角线，出行时间在居民间分布越均衡",
    },
    "en": {
        "title": "Lorenz curve of travel time: {service}",
        "x": "share of residents (shortest trips first)",
        "y": "share of person-minutes",
        "equal": "equal access (the diagonal)",
        "curve": "{name} (Gini {gini})",
        "none": "no resident reaches this service",
        "how": "the closer a curve to the diagonal, the more evenly travel time is shared",
    },
}

#: Colours of the Lorenz curves: the whole run first (dark), then the districts.
LORENZ_COLORS = ("#222222", "#1f78b4", "#e6550d", "#31a354", "#756bb1", "#d6616b", "#8c6d31")


def lorenz_chart(
    service: str,
    curves: list[tuple[str, NDArray[np.float64], NDArray[np.float64], float]],
    lang: Lang,
) -> str:
    """The Lorenz curves of one service's travel time, as inline SVG.

    Parameters
    ----------
    service
        The service's name (escaped here).
    curves
        ``(label, population shares, person-minute shares, Gini)`` per curve, the whole run
        first (see :func:`coverage.lifecircle.lorenz`); at most
        ``len(LORENZ_COLORS)`` are drawn.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        An ``<svg class=chart>`` element: the square plot left, the legend with each
        curve's Gini right.
    """
    text = _LORENZ_TEXT[lang]
    title = text["title"].format(service=service)
    size, left, top = 330.0, 64.0, 44.0
    height = top + size + 56

    def x(v: float) -> float:
        return left + v * size

    def y(v: float) -> float:
        return top + size - v * size

    body = [f'<text x="4" y="18" font-size="15">{_esc(title)}</text>']
    body.extend(
        f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{top + size}" '
        f'stroke="#eee"/><line x1="{left}" x2="{left + size}" y1="{y(tick):.1f}" '
        f'y2="{y(tick):.1f}" stroke="#eee"/>'
        f'<text x="{x(tick):.1f}" y="{top + size + 17}" text-anchor="middle">{tick:.0%}</text>'
        f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.0%}</text>'
        for tick in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    body.append(
        f'<line x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(1):.1f}" y2="{y(1):.1f}" stroke="#999" '
        'stroke-dasharray="4 4"/>'
        f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="#333"/>'
        f'<text x="{left + size / 2}" y="{top + size + 38}" text-anchor="middle">'
        f"{_esc(text['x'])}</text>"
        f'<text transform="translate(16 {top + size / 2}) rotate(-90)" text-anchor="middle">'
        f"{_esc(text['y'])}</text>"
    )
    legend_x = left + size + 40
    legend = [
        (
            f'<line x1="{legend_x}" x2="{legend_x + 26}" y1="{top + 6}" y2="{top + 6}" '
            f'stroke="#999" stroke-dasharray="4 4"/><text x="{legend_x + 32}" y="{top + 10}">'
            f"{_esc(text['equal'])}</text>"
        )
    ]
    drawn = 0
    for i, (label, people, time, gini) in enumerate(curves[: len(LORENZ_COLORS)]):
        if len(people) < 2:  # noqa: PLR2004 (no one reaches the service)
            continue
        colour = LORENZ_COLORS[i]
        points = " ".join(
            f"{x(float(p)):.1f},{y(float(t)):.1f}" for p, t in zip(people, time, strict=True)
        )
        width = 2.5 if i == 0 else 1.5
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="{width}"><title>{_esc(label)}</title></polyline>'
        )
        shown = "–" if gini != gini else f"{gini:.2f}"  # noqa: PLR0124 (NaN)
        row_y = top + 30 + drawn * 24
        legend.append(
            f'<line x1="{legend_x}" x2="{legend_x + 26}" y1="{row_y - 4}" y2="{row_y - 4}" '
            f'stroke="{colour}" stroke-width="{width}"/><text x="{legend_x + 32}" y="{row_y}">'
            f"{_esc(text['curve'].format(name=label, gini=shown))}</text>"
        )
        drawn += 1
    if not drawn:
        body.append(
            f'<text x="{left + size / 2}" y="{top + size / 2}" text-anchor="middle">'
            f"{_esc(text['none'])}</text>"
        )
    legend.append(
        f'<text x="{legend_x}" y="{top + 30 + drawn * 24 + 10}" font-size="12" fill="#555">'
        f"{_esc(text['how'])}</text>"
    )
    return _svg(height, title, body + legend)
