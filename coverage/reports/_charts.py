"""The summary's charts, with a Chinese font found on the machine when there is one."""

from __future__ import annotations

import base64
import functools
import io
import logging
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from coverage._errors import MissingFontWarning
from coverage.i18n import NO_CJK_FONT

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from coverage.audit import (
        AuditResult,
    )
    from coverage.reports._labels import Lang

logger = logging.getLogger(__name__)


#: Font families tried, in order, for Chinese text in the charts.
CJK_FONT_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans SC",
    "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Droid Sans Fallback",
)  # fmt: skip


_CJK_PROBE = "社区覆盖率出行时间分钟区县"


_CJK_FILE_HINTS = ("notosanscjk", "sourcehansans", "wqy", "droidsansfallback", "msyh", "simhei")


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


FontRef = tuple[str, int]  # font file, face index in a collection (.ttc)


@functools.cache
def _charmap(font: FontRef) -> frozenset[int]:
    """Code points a font face has glyphs for."""
    from matplotlib.ft2font import FT2Font  # noqa: PLC0415

    return frozenset(FT2Font(font[0], face_index=font[1]).get_charmap())


def _covers_chinese(font: FontRef) -> bool:
    try:
        cmap = _charmap(font)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in cmap for ch in _CJK_PROBE)


def _find_cjk_family() -> tuple[str, FontRef] | None:
    """The first of :data:`CJK_FONT_FAMILIES` (then any "CJK" family) matplotlib knows."""
    from matplotlib import font_manager  # noqa: PLC0415

    known: dict[str, FontRef] = {}
    for entry in font_manager.fontManager.ttflist:
        known.setdefault(entry.name, (str(entry.fname), int(getattr(entry, "index", 0))))
    others = sorted(n for n in known if "CJK" in n and "Mono" not in n)
    for family in [*CJK_FONT_FAMILIES, *others]:
        if family in known and _covers_chinese(known[family]):
            return family, known[family]
    return None


@functools.cache
def _cjk_font() -> tuple[str, FontRef] | None:
    """``(family, (file, face index))`` of an installed font with Chinese glyphs, or ``None``.

    Looks in matplotlib's font list for Noto Sans CJK and other common Chinese fonts first;
    matplotlib caches that list, which may predate the installation of e.g. fonts-noto-cjk,
    so the system's font folders are searched next and a font found there is registered
    with matplotlib (every face of a ``.ttc`` collection; the simplified-Chinese face is
    preferred).
    """
    from matplotlib import font_manager  # noqa: PLC0415

    found = _find_cjk_family()
    if found is not None:
        return found
    files = [
        f
        for f in font_manager.findSystemFonts()
        if any(h in Path(f).name.lower().replace("-", "") for h in _CJK_FILE_HINTS)
    ]
    # sans before serif, regular before bold
    files.sort(key=lambda f: ("serif" in f.lower(), "bold" in f.lower(), f))
    for font_file in files:
        if _covers_chinese((font_file, 0)):
            font_manager.fontManager.addfont(font_file)
            logger.debug("registered the fonts of %s with matplotlib", font_file)
            found = _find_cjk_family()
            if found is not None:
                return found
    return None


def _base_font() -> FontRef:
    import matplotlib as mpl  # noqa: PLC0415

    return str(Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), 0


def _drawable(text: str, fonts: list[FontRef]) -> bool:
    """Whether every character of ``text`` has a glyph in one of the fonts (no tofu)."""
    cmaps = [_charmap(f) for f in fonts]
    return all(ch.isspace() or any(ord(ch) in c for c in cmaps) for ch in text)


def _png(fig: Figure) -> str:
    """The figure as a base64 PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _bar_chart(table: pd.DataFrame, labels: list[str], text: dict[str, str]) -> Figure:
    """Horizontal bars: share of communities and of population covered, per district."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415

    n = len(table)
    fig = Figure(figsize=(7.6, max(2.4, 0.46 * n + 1.4)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    y = np.arange(n)
    h = 0.4
    com = table["covered_share"].fillna(0.0).to_numpy(float)
    pop = table["population_covered_share"].fillna(0.0).to_numpy(float)
    bars_c = ax.barh(y + h / 2, com, height=h, color="#1a9850", label=text["bar_com"])
    bars_p = ax.barh(y - h / 2, pop, height=h, color="#a6d96a", label=text["bar_pop"])
    for bars, values in ((bars_c, com), (bars_p, pop)):
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], padding=2, fontsize=8)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1.13)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(text["bar_title"], loc="left")
    return fig


def _bin_width(longest: float) -> float:
    for step in (1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0):
        if longest / step <= 40:  # noqa: PLR2004 (at most about 40 bars)
            return step
    return math.ceil(longest / 40 / 60) * 60.0


def _histogram(
    communities: pd.DataFrame, urban_min: float, rural_min: float, text: dict[str, str]
) -> Figure:
    """Travel times stacked by kind, with the urban and rural limits as vertical lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    fig = Figure(figsize=(7.6, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    minutes = pd.to_numeric(communities["travel_time_min"], errors="coerce")
    kind = communities["kind"].astype(str)
    n_unreachable = int(minutes.isna().sum())
    title = text["hist_title"]
    if n_unreachable:
        title += text["hist_unreachable"].format(n=n_unreachable)
    ax.set_title(title, loc="left")
    groups = [
        (minutes[kind == "urban"].dropna(), text["urban"], "#4575b4"),
        (minutes[kind == "rural"].dropna(), text["rural"], "#fdae61"),
        (minutes[~kind.isin(["urban", "rural"])].dropna(), text["other"], "#999999"),
    ]
    groups = [g for g in groups if len(g[0])]
    # the limit of each kind present (both when there are neither or both)
    has_urban, has_rural = (kind == "urban").any(), (kind == "rural").any()
    if math.isclose(urban_min, rural_min):
        limits = [(urban_min, text["limit_both"], "--")]
    elif has_urban != has_rural:
        limits = [(urban_min, text["limit_urban"], "--")] if has_urban else []
        limits += [(rural_min, text["limit_rural"], ":")] if has_rural else []
    else:
        limits = [(urban_min, text["limit_urban"], "--"), (rural_min, text["limit_rural"], ":")]
    longest = max([float(g[0].max()) for g in groups] + [t for t, _, _ in limits])
    step = _bin_width(longest)
    edges = np.arange(0.0, longest + 1.5 * step, step)  # one empty bin beyond the last limit
    if groups:
        ax.hist(
            # bins closed on the right, (a, b]: a community at exactly 15.0 min is covered and
            # is drawn left of the 15-min line
            [np.maximum(g[0].to_numpy(float) - 1e-9, 0.0) for g in groups],
            bins=edges.tolist(),
            stacked=True,
            color=[g[2] for g in groups],
            label=[g[1] for g in groups],
            edgecolor="white",
            linewidth=0.5,
        )
    else:
        ax.text(0.5, 0.5, text["no_times"], transform=ax.transAxes, ha="center", va="center")
    for t, label, style in limits:
        ax.axvline(t, color="#d73027", linestyle=style, linewidth=1.8, label=label.format(t=t))
    ax.set_xlim(0, edges[-1])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(text["xlabel"])
    ax.set_ylabel(text["ylabel"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, framealpha=0.9)
    return fig


class Charts(NamedTuple):
    """The summary's two charts and how their labels were drawn."""

    bar: str
    """Coverage by district, a base64 PNG."""
    hist: str
    """Travel times, a base64 PNG."""
    numbered: bool
    """District names the fonts cannot draw are shown as their number (``#1``, ``#2``...)."""
    no_cjk_font: bool
    """No font with Chinese glyphs is installed, and the charts needed one (Chinese labels
    or names): they fall back to English and numbers (:data:`coverage.i18n.NO_CJK_FONT`)."""


def charts(result: AuditResult, districts: pd.DataFrame, lang: Lang) -> Charts:
    """The two charts as base64 PNGs, and whether a font was missing.

    Chinese labels are used only when a font with Chinese glyphs is installed; otherwise the
    labels are English, and district names that the available fonts cannot draw are shown
    as their number in the HTML table (``#1``, ``#2``, ...), so no empty boxes appear. When
    a Chinese page or Chinese names needed such a font, a :class:`MissingFontWarning` (one
    line, in ``lang``) says so and how to install one.
    """
    try:
        import matplotlib as mpl  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - matplotlib is a test dependency
        msg = "the HTML summary's charts need matplotlib: pip install matplotlib"
        raise ImportError(msg) from exc

    cjk = _cjk_font()
    fonts = [_base_font()] if cjk is None else [cjk[1], _base_font()]
    chart_lang: Lang = lang if cjk is not None else "en"
    text = _CHART_TEXT[chart_lang]
    names = [str(d) for d in districts["district"]]
    numbered = not all(_drawable(n, fonts) for n in names)
    labels = [f"#{i}" for i in range(1, len(names) + 1)] if numbered else names
    # worst district at the top: barh draws the first row at the bottom
    order = districts.assign(_label=labels).sort_values(
        ["covered_share", "population_covered_share", "_label"],
        ascending=[True, True, True],
        kind="stable",
        na_position="first",
    )
    bar_text = dict(text)
    if len(order) > _MAX_BARS:
        order = order.head(_MAX_BARS)
        bar_text["bar_title"] += text["bar_more"].format(n=_MAX_BARS)
    order = order.iloc[::-1]
    families = ([cjk[0]] if cjk else []) + ["DejaVu Sans"]
    cfg = result.config
    with (
        mpl.rc_context(
            {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}
        ),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        bar = _png(_bar_chart(order, order["_label"].tolist(), bar_text))
        hist = _png(
            _histogram(result.communities, cfg.urban_threshold_min, cfg.rural_threshold_min, text)
        )
    for w in caught:  # e.g. a glyph missing despite the checks above: log, do not leak
        logger.warning("chart: %s", w.message)
    missing = cjk is None and (lang == "zh" or numbered)
    if missing:
        warnings.warn(NO_CJK_FONT[lang], MissingFontWarning, stacklevel=3)
    return Charts(bar, hist, numbered, missing)
