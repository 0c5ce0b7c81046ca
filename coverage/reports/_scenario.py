"""A scenario run's folder: baseline, each scenario and the difference; one side-by-side page."""

from __future__ import annotations

import html
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage._files import inside, safe_name, write_csv, write_text_atomic
from coverage.audit import ALL_DISTRICTS, AuditResult
from coverage.i18n import SCENARIO_WORDS
from coverage.maps import difference_map, save_map
from coverage.reports._excel import write_workbook
from coverage.reports._html import PAGE_CSS
from coverage.reports._labels import (
    SHEET_NAMES,
    TOTAL_LABEL,
    ZH_VALUES,
    Lang,
    check_lang,
    header,
    in_language,
)
from coverage.scenarios import compare_many

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    import geopandas as gpd

    from coverage.maps import Basemap
    from coverage.scenarios import Comparison, ScenarioRun

logger = logging.getLogger(__name__)

#: The district figures shown on the pages (before, after, change).
PAGE_FIGURES = (
    "covered",
    "covered_share",
    "population_covered",
    "population_covered_share",
    "urban_covered",
    "rural_covered",
)

_SHEETS = {
    "zh": {
        "districts": "区县变化",
        "before": "社区（现状）",
        "after": "社区（情景）",
        "delta": "社区变化",
        "halls": "服务中心变化",
        "side": "各情景对比",
    },
    "en": {
        "districts": "Districts",
        "before": "Communities before",
        "after": "Communities after",
        "delta": "Communities change",
        "halls": "Halls change",
        "side": "Scenarios",
    },
}


def _cell(column: str, value: object) -> str:
    """A table cell: shares as percentages, counts and people with separators."""
    if value is None or value is pd.NA:
        return "<td>–</td>"
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return f"<td>{html.escape(str(value))}</td>"
    x = float(value)
    for side in ("_before", "_after"):
        column = column.removesuffix(side)
    if not math.isfinite(x):
        return "<td class='n'>–</td>"
    text = (
        f"{x:+.1%}"
        if column.endswith("share_delta")
        else f"{x:.1%}"
        if column.endswith("share")
        else f"{x:+,.0f}"
        if column.endswith("_delta")
        else f"{x:,.2f}"
        if column.endswith("_min")
        else f"{x:,.0f}"
    )
    cls = "n"
    if column.endswith("_delta"):
        cls += " good" if x > 0 else " bad" if x < 0 else ""
    return f"<td class='{cls}'>{html.escape(text)}</td>"


def _table(frame: pd.DataFrame, lang: Lang, *, total_rows: set[int] | None = None) -> str:
    """A plain HTML table with the workbook's headers and values in ``lang``."""
    values = ZH_VALUES if lang == "zh" else {}
    head = "".join(f"<th>{html.escape(header(str(c), lang))}</th>" for c in frame.columns)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            mapped = values.get(str(col), {}).get(str(value)) if isinstance(value, str) else None
            cells.append(_cell(str(col), mapped if mapped is not None else value))
        cls = " class='total'" if total_rows and i in total_rows else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<div class='wide'><table><tr>{head}</tr>{''.join(body)}</table></div>"


def _districts_shown(comparison: Comparison, lang: Lang) -> pd.DataFrame:
    """The district table of a page: each figure before, after and its change."""
    d = comparison.districts
    cols = ["district"]
    for fig in PAGE_FIGURES:
        cols += [f"{fig}_before", f"{fig}_after", f"{fig}_delta"]
    cols += ["gained", "lost"]
    out = d[cols].copy()
    out["district"] = out["district"].replace({ALL_DISTRICTS: TOTAL_LABEL[lang]})
    return out


def _page(title: str, body: str, lang: Lang) -> str:
    extra = ".good{color:#1a9850;}.bad{color:#d73027;}"
    return (
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
        "<meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>{html.escape(title)}</title><style>{PAGE_CSS}{extra}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


def headline_text(comparison: Comparison, lang: Lang) -> str:
    """One line: communities covered before → after, gained and lost, population covered.

    Parameters
    ----------
    comparison
        A scenario compared with the baseline.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The line.
    """
    h = comparison.headline
    return SCENARIO_WORDS[lang]["headline"].format(
        before=int(h["covered_before"]),
        after=int(h["covered_after"]),
        gained=int(h["gained"]),
        lost=int(h["lost"]),
        pop_before=float(h["population_covered_before"]),
        pop_after=float(h["population_covered_after"]),
    )


def scenario_page(
    comparison: Comparison,
    lang: Lang,
    *,
    title: str,
    description: str = "",
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The summary page of a scenario (or a district's part): headline, changes, links.

    Parameters
    ----------
    comparison
        The scenario beside the baseline.
    lang
        ``"zh"`` or ``"en"``.
    title
        The page title (plain text).
    description
        The scenario's description.
    links
        ``(text, relative path)`` of the files and pages beside the page.

    Returns
    -------
    str
        A self-contained HTML page (names from the data escaped).
    """
    words = SCENARIO_WORDS[lang]
    c = comparison
    table = _districts_shown(c, lang)
    total = set(np.flatnonzero(c.districts["district"].eq(ALL_DISTRICTS).to_numpy()).tolist())
    halls = c.halls[c.halls["change"] != "kept"]
    hall_cols = [
        "hall_id",
        "name",
        "change",
        "floor_area_m2",
        "households_served_before",
        "households_served_after",
        "required_floor_area_m2_before",
        "required_floor_area_m2_after",
    ]
    load = c.halls[(c.halls["change"] == "kept") & (c.halls["households_served_delta"] != 0)]
    nav = " · ".join(
        f"<a href='{html.escape(path, quote=True)}'>{html.escape(text)}</a>" for text, path in links
    )
    body = [
        f"<p class='rules'>{html.escape(description)}</p>" if description else "",
        f"<nav class='links'>{nav}</nav>" if nav else "",
        f"<p class='note'>{html.escape(headline_text(c, lang))}</p>",
        f"<h2>{html.escape(words['by_district'])}</h2>",
        _table(table, lang, total_rows=total),
        f"<h2>{html.escape(words['hall_changes'])}</h2>",
        _table(pd.DataFrame(pd.concat([halls, load])[hall_cols]), lang),
    ]
    return _page(title, "".join(body), lang)


def _write_folder(
    folder: Path,
    c: Comparison,
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    title: str,
    description: str,
    roads: gpd.GeoDataFrame,
    baseline_halls: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None,
    lang: Lang,
    map_options: dict[str, Any],
    offline: bool,
    links: list[tuple[str, str]],
) -> None:
    """One folder: CSVs before/after/delta, the workbook, the difference map, the page."""
    sheets = _SHEETS[lang]
    write_csv(folder / "communities_before.csv", before)
    write_csv(folder / "communities_after.csv", after)
    write_csv(folder / "communities_delta.csv", c.communities)
    write_csv(folder / "districts_delta.csv", c.districts)
    write_csv(folder / "halls_delta.csv", c.halls)
    total = set(np.flatnonzero(c.districts["district"].eq(ALL_DISTRICTS).to_numpy()).tolist())
    summary = c.districts.assign(
        district=c.districts["district"].replace({ALL_DISTRICTS: TOTAL_LABEL[lang]})
    )
    write_workbook(
        folder / "report.xlsx",
        [
            (sheets["districts"], summary, total),
            (sheets["before"], before, set()),
            (sheets["after"], after, set()),
            (sheets["delta"], c.communities, set()),
            (sheets["halls"], c.halls, set()),
        ],
        lang=lang,
    )
    m = difference_map(
        c,
        roads=roads,
        baseline_halls=baseline_halls,
        districts=districts,
        lang=lang,
        title=title,
        **map_options,
    )
    save_map(m, folder / "map.html", offline=offline)
    words = SCENARIO_WORDS[lang]
    own = [(words["map"], "map.html"), (words["workbook"], "report.xlsx"), *links]
    page = scenario_page(c, lang, title=title, description=description, links=own)
    write_text_atomic(folder / "summary.html", page)


def _flat_columns(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The side-by-side table with one header row: ``figure [scenario]``."""
    words = SCENARIO_WORDS[lang]
    out = table.copy()
    pairs = [(str(c[0]), str(c[1])) for c in table.columns]
    out.columns = [
        f"{header(fig, lang)} [{words['baseline'] if sc == 'baseline' else sc}]"
        for sc, fig in pairs
    ]
    out.index = [TOTAL_LABEL[lang] if d == ALL_DISTRICTS else d for d in out.index]
    return out.reset_index(names=header("district", lang))


def write_scenario_reports(
    out_dir: str | os.PathLike[str],
    baseline: AuditResult,
    runs: Sequence[ScenarioRun],
    *,
    districts: gpd.GeoDataFrame | None = None,
    lang: Lang = "zh",
    basemap: Basemap = "auto",
    tianditu_key: str | None = None,
    offline: bool = True,
    toml_texts: Sequence[str | None] = (),
    per_district: bool = True,
) -> Path:
    """Write a scenario run's folder: the baseline, each scenario and the difference.

    ``out_dir`` receives ``summary.html`` (the scenarios side by side per district, with a
    link to each scenario's page), ``scenarios.csv`` and ``scenarios.xlsx`` (the same table)
    and ``baseline/`` (``communities.csv``, ``halls.csv``, ``districts.csv``). Each scenario's
    folder (named by :func:`safe_name`) receives ``communities_before.csv``,
    ``communities_after.csv``, ``communities_delta.csv``, ``districts_delta.csv``,
    ``halls_delta.csv``, ``report.xlsx`` (before, after and change sheets), ``map.html`` (the
    difference map), ``summary.html``, if given ``scenario.toml``, and (``per_district``) one
    folder per district with the same files for its communities. Every file is
    written atomically, none outside ``out_dir``.

    Parameters
    ----------
    out_dir
        The run's folder; created if needed.
    baseline
        The baseline's audit.
    runs
        The scenarios' runs (:func:`coverage.scenarios.run_scenarios`).
    districts
        District polygons for the maps (``district`` column), any CRS.
    lang
        ``"zh"`` or ``"en"``: headers, values, map legend and pages.
    basemap, tianditu_key
        Map tiles (see :func:`coverage.maps.new_map`).
    offline
        Embed Leaflet in the maps (no CDN).
    toml_texts
        Each scenario's TOML text, copied beside its results (same order as ``runs``).
    per_district
        Also write each district's part into a folder of its own inside each scenario's
        (the same files, as the audit's district folders).

    Returns
    -------
    pathlib.Path
        The top ``summary.html``.
    """
    check_lang(lang)
    root = Path(out_dir)
    words, sheets = SCENARIO_WORDS[lang], _SHEETS[lang]
    map_options: dict[str, Any] = {"basemap": basemap, "tianditu_key": tianditu_key}
    base_dir = inside(root, root / "baseline")
    write_csv(base_dir / "communities.csv", in_language(baseline.communities, lang))
    write_csv(base_dir / "halls.csv", baseline.halls)
    write_csv(base_dir / "districts.csv", baseline.districts)
    links: list[tuple[str, str]] = []
    used: set[str] = {"baseline"}
    texts = list(toml_texts) + [None] * (len(runs) - len(toml_texts))
    for run, text in zip(runs, texts, strict=True):
        name = safe_name(run.scenario.name)
        while name in used:
            name += "_"
        used.add(name)
        folder = inside(root, root / name)
        c = run.comparison
        before = in_language(baseline.communities, lang)
        after = in_language(run.result.communities, lang)
        if text is not None:
            write_text_atomic(folder / "scenario.toml", text)
        title = words["title"].format(name=run.scenario.name)
        common: dict[str, Any] = {
            "roads": run.edited.roads,
            "baseline_halls": baseline.halls,
            "districts": districts,
            "lang": lang,
            "map_options": map_options,
            "offline": offline,
        }
        names = sorted(c.communities["district"].astype(str).unique())
        parts: list[tuple[str, str]] = []
        taken: set[str] = set()
        for district in names if per_district else []:
            sub = safe_name(district)
            while sub in taken:
                sub += "_"
            taken.add(sub)
            rows = (c.communities["district"].astype(str) == district).to_numpy()
            _write_folder(
                inside(folder, folder / sub),
                c.district(district),
                before[rows],
                after[rows],
                title=f"{title} · {district}",
                description=run.scenario.description,
                links=[(words["summary"], "../summary.html")],
                **common,
            )
            parts.append((district, f"{sub}/summary.html"))
        _write_folder(
            folder,
            c,
            before,
            after,
            title=title,
            description=run.scenario.description,
            links=[(words["summary"], "../summary.html"), *parts],
            **common,
        )
        links.append((run.scenario.name, f"{name}/summary.html"))
    table = compare_many(baseline, {r.scenario.name: r.result for r in runs})
    flat = _flat_columns(table, lang)
    write_csv(root / "scenarios.csv", flat)
    write_workbook(
        root / "scenarios.xlsx",
        [
            (sheets["side"], flat, {len(flat) - 1}),
            (
                SHEET_NAMES[lang]["summary"],
                baseline.districts.assign(
                    district=baseline.districts["district"].replace(
                        {ALL_DISTRICTS: TOTAL_LABEL[lang]}
                    )
                ),
                {len(baseline.districts) - 1},
            ),
        ],
        lang=lang,
    )
    nav = "".join(
        f"<li><a href='{html.escape(path, quote=True)}'>{html.escape(text)}</a></li>"
        for text, path in links
    )
    heads = "".join(
        f"<li>{html.escape(r.scenario.name)}: {html.escape(headline_text(r.comparison, lang))}</li>"
        for r in runs
    )
    body = (
        f"<ul class='maps'>{heads}</ul><h2>{html.escape(words['side_by_side'])}</h2>"
        + _side_table(table, lang)
        + f"<h2>{html.escape(words['files'])}</h2><ul class='maps'>{nav}"
        "<li><a href='scenarios.xlsx'>scenarios.xlsx</a></li>"
        "<li><a href='scenarios.csv'>scenarios.csv</a></li></ul>"
    )
    page = root / "summary.html"
    write_text_atomic(page, _page(words["summary"], body, lang))
    return page


def _side_table(table: pd.DataFrame, lang: Lang) -> str:
    """The side-by-side table (columns ``(scenario, figure)``) as HTML, scenarios grouped."""
    words = SCENARIO_WORDS[lang]
    pairs = [(str(c[0]), str(c[1])) for c in table.columns]
    groups: list[tuple[str, int]] = []
    for sc, _ in pairs:
        if groups and groups[-1][0] == sc:
            groups[-1] = (sc, groups[-1][1] + 1)
        else:
            groups.append((sc, 1))
    top = "".join(
        f"<th class='group' colspan='{n}'>"
        f"{html.escape(words['baseline'] if sc == 'baseline' else str(sc))}</th>"
        for sc, n in groups
    )
    head = "".join(f"<th>{html.escape(header(fig, lang))}</th>" for _, fig in pairs)
    district = html.escape(header("district", lang))
    rows = []
    for name, row in zip(table.index, table.itertuples(index=False), strict=True):
        label = TOTAL_LABEL[lang] if name == ALL_DISTRICTS else str(name)
        cells = "".join(_cell(fig, v) for (_, fig), v in zip(pairs, row, strict=True))
        cls = " class='total'" if name == ALL_DISTRICTS else ""
        rows.append(f"<tr{cls}><td>{html.escape(label)}</td>{cells}</tr>")
    return (
        f"<div class='wide'><table class='districts'><tr><th rowspan='2'>{district}</th>{top}"
        f"</tr><tr>{head}</tr>{''.join(rows)}</table></div>"
    )
