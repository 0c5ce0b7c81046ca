"""A proposal in the planner's words: the title, the terminal summary and the HTML section."""

from __future__ import annotations

import html
import logging
import math
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage.reports._labels import Lang, check_lang, in_language

if TYPE_CHECKING:
    import os

    from coverage.audit import AuditResult
    from coverage.siting import ProposalResult

logger = logging.getLogger(__name__)


_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "共享服务中心选址建议（一站多居）",
        "before": "现状",
        "after": "建议实施后",
        "new_halls": "新建服务中心",
        "communities": "社区数",
        "covered": "已覆盖社区",
        "covered_share": "社区覆盖率",
        "population": "人口",
        "population_covered": "覆盖人口",
        "population_covered_share": "人口覆盖率",
        "uncoverable": "无候选点可覆盖的社区",
        "sizes": "新建服务中心的规模（所需用房面积）",
        "size_band": "面积区间(㎡)",
        "size_line": "{sizes}，按面积区间(㎡)计个数：{bands}",
        "halls": "个数",
        "largest": "最大 {largest:,.0f} ㎡，中位数 {median:,.0f} ㎡",
        "cap": (
            "新建服务中心面积上限 {cap:,.0f} ㎡"
            "（2024 年城市社区嵌入式服务设施建设导则：综合体约 600–800 ㎡）"
        ),
        "no_cap": "（本次规划未限制面积：超过 {cap:,.0f} ㎡ 的有 {above} 个）",
        "over_cap": "其中 {n} 个社区单独需要超过上限的面积，各单独设一处（见“说明”列）",
        "model_capacitated": "容量约束（每处面积不超过上限）",
        "model_lscp": "最少服务中心覆盖全部社区（不限面积）",
        "model_mclp": "给定数量下覆盖人口最多（不限面积）",
        "solver": "求解：{method}，{seconds:.1f} 秒，{quality}",
        "optimal": "已证明最优",
        "gap": "与最优的差距不超过 {gap:.1%}",
        "greedy": "启发式解（未证明最优）",
        "written": "结果已写入 {out}",
        "look_first": "请先打开 {path}",
        "proposed": "建议选址（按优先顺序）",
        "rank": "序号",
        "where": "位置",
        "site": "选址编号",
        "members": "服务社区数",
        "households": "户数",
        "area": "所需用房面积(㎡)",
        "max_min": "最长出行时间(分钟)",
        "new_pop": "新增覆盖人口",
        "note": "说明",
        "with_proposals": "建议实施后的覆盖情况",
        "model_line": "规划模型：{model}。",
        "scenario": "现状与建议实施后对比",
        "nearest_note": (
            "以下按就近原则统计：每个社区计入路网上最近的服务中心（现有或新建），这与上表的"
            "一站多居分组不同。新建服务中心的用房面积按其分组计算；按就近统计，{total} 个新建"
            "服务中心中有 {n} 个所服务的户数超出其分组，实施时需明确各社区的归属。"
        ),
    },
    "en": {
        "title": "Proposed shared halls",
        "before": "before",
        "after": "after",
        "new_halls": "new halls",
        "communities": "communities",
        "covered": "communities covered",
        "covered_share": "share covered",
        "population": "population",
        "population_covered": "population covered",
        "population_covered_share": "population share",
        "uncoverable": "uncoverable",
        "sizes": "Size of the proposed halls (floor area needed)",
        "size_band": "floor area (m²)",
        "size_line": "{sizes}, halls per band of m²: {bands}",
        "halls": "halls",
        "largest": "largest {largest:,.0f} m², median {median:,.0f} m²",
        "cap": (
            "cap on a new hall: {cap:,.0f} m² (2024 embedded-facility guideline: complexes "
            "of about 600-800 m²)"
        ),
        "no_cap": "(no size cap in this plan: {above} above {cap:,.0f} m²)",
        "over_cap": (
            "{n} communit(y/ies) alone need more than the cap: each has a hall of its own "
            "(see the note column)"
        ),
        "model_capacitated": "capacitated (each hall within the size cap)",
        "model_lscp": "fewest halls covering every community (any size)",
        "model_mclp": "most population with a given number of halls (any size)",
        "solver": "solver: {method}, {seconds:.1f} s, {quality}",
        "optimal": "proven optimal",
        "gap": "within {gap:.1%} of the optimum",
        "greedy": "heuristic (not proven optimal)",
        "written": "written to {out}",
        "look_first": "open first: {path}",
        "proposed": "Proposed sites (in order of priority)",
        "rank": "#",
        "where": "where",
        "site": "site",
        "members": "communities",
        "households": "households",
        "area": "floor area needed (m²)",
        "max_min": "longest trip (min)",
        "new_pop": "newly covered population",
        "note": "note",
        "with_proposals": "Coverage with the proposed halls",
        "model_line": "Model: {model}. ",
        "scenario": "Before and after",
        "nearest_note": (
            "Below, every community counts towards its nearest hall over the network (existing "
            "or new), which differs from the shared-hall groups above. A new hall's floor area "
            "is sized for its group; counted by nearest hall, {n} of the {total} new halls "
            "would serve more households than their group: assign communities to halls "
            "explicitly when the plan is carried out."
        ),
    },
}


def proposal_title(lang: Lang = "zh") -> str:
    """The title of a proposal's pages, in words (no model code).

    Parameters
    ----------
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        E.g. ``"共享服务中心选址建议（一站多居）"``.
    """
    check_lang(lang)
    return _TEXT[lang]["title"]


def _band_label(low: float, high: float) -> str:
    if low == 0:
        return f"≤ {high:,.0f}"
    if not math.isfinite(high):
        return f"> {low:,.0f}"
    return f"{low:,.0f}–{high:,.0f}"


def _bands(result: ProposalResult) -> list[tuple[str, int, bool]]:
    """Label, number of halls and "above the cap" of each size band."""
    sizes = result.size_distribution()
    return [
        (_band_label(float(low), float(high)), int(n), bool(above))
        for low, high, n, above in zip(
            sizes["low_m2"].to_numpy(dtype=float),
            sizes["high_m2"].to_numpy(dtype=float),
            sizes["halls"].to_numpy(dtype=np.int64),
            sizes["above_cap"].to_numpy(dtype=bool),
            strict=True,
        )
    ]


def _scenario(result: ProposalResult) -> dict[str, dict[str, float]]:
    """Before and after: ``{"before": {column: value}, "after": {...}}``."""
    frame = result.scenario.set_index("scenario")
    return {str(name): {str(k): float(v) for k, v in row.items()} for name, row in frame.iterrows()}


def size_lines(result: ProposalResult, lang: Lang = "zh") -> list[str]:
    """The size distribution of the proposed halls as lines of text (bands, largest, cap)."""
    t = _TEXT[lang]
    area = result.proposals["floor_area_needed_m2"].to_numpy(dtype=float)
    cap = result.config.max_new_hall_m2
    bands = " · ".join(f"{label}: {n:,}" for label, n, _ in _bands(result) if n)
    lines = [t["size_line"].format(sizes=t["sizes"], bands=bands or "–")]
    if len(area):
        lines.append(t["largest"].format(largest=area.max(), median=float(np.median(area))))
    if result.model == "capacitated":
        lines.append(t["cap"].format(cap=cap))
        n_over = int((result.proposals.get("reason", pd.Series(dtype=str)) != "").sum())
        if n_over:
            lines.append(t["over_cap"].format(n=n_over))
    else:
        above = int((area > cap + 1e-9).sum())
        lines.append(t["no_cap"].format(cap=cap, above=above))
    return lines


def _solver_line(result: ProposalResult, t: dict[str, str]) -> str:
    s = result.solver
    gap = s.get("mip_gap")
    if s.get("optimal"):
        quality = t["optimal"]
    elif gap is not None and np.isfinite(gap):
        quality = t["gap"].format(gap=gap)
    else:
        quality = t["greedy"]
    method = {"highs": "HiGHS", "cbc": "CBC", "greedy": "greedy"}.get(
        str(s.get("method")), str(s.get("method"))
    )
    return t["solver"].format(method=method, seconds=float(s.get("seconds", 0.0)), quality=quality)


def _scenario_rows(result: ProposalResult, t: dict[str, str]) -> list[tuple[str, str, str]]:
    scen = _scenario(result)
    rows = []
    for key, fmt in (
        ("new_halls", "{:,.0f}"),
        ("communities", "{:,.0f}"),
        ("covered", "{:,.0f}"),
        ("covered_share", "{:.1%}"),
        ("population", "{:,.0f}"),
        ("population_covered", "{:,.0f}"),
        ("population_covered_share", "{:.1%}"),
        ("uncoverable", "{:,.0f}"),
    ):
        rows.append((t[key], fmt.format(scen["before"][key]), fmt.format(scen["after"][key])))
    return rows


def proposal_text(
    result: ProposalResult, out_dir: str | os.PathLike[str] | None = None, *, lang: Lang = "zh"
) -> str:
    """The terminal summary of a proposal: before/after, hall sizes, solver, where to look.

    Parameters
    ----------
    result
        The proposal (:func:`coverage.siting.propose_halls`).
    out_dir
        The folder written by :func:`write_proposal_reports` (named at the end), or ``None``.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Lines of text; shares as percentages, counts with thousands separators.
    """
    check_lang(lang)
    t = _TEXT[lang]
    rows = _scenario_rows(result, t)
    width = max(_width(r[0]) for r in rows)
    before = max(_width(t["before"]), *(len(r[1]) for r in rows)) + 2
    after = max(_width(t["after"]), *(len(r[2]) for r in rows)) + 2
    lines = [
        " " * width + _pad(t["before"], before, right=True) + _pad(t["after"], after, right=True)
    ]
    lines += [_pad(a, width) + f"{b:>{before}}{c:>{after}}" for a, b, c in rows]
    lines += size_lines(result, lang)
    lines.append(_solver_line(result, t))
    if out_dir is not None:
        lines.append(t["written"].format(out=out_dir))
        lines.append(t["look_first"].format(path=PurePath(out_dir, "summary.html")))
    return "\n".join(lines)


def _width(text: str) -> int:
    import unicodedata  # noqa: PLC0415

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """Text padded to a display width (Chinese characters take two cells)."""
    space = " " * (width - _width(text))
    return space + text if right else text + space


def proposal_table(result: ProposalResult, lang: Lang = "zh") -> pd.DataFrame:
    """The proposed halls for a workbook: where each lies in words first, then the numbers.

    Parameters
    ----------
    result
        The proposal.
    lang
        ``"zh"`` or ``"en"``: which language's ``description`` and ``reason`` are kept.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        ``order``, ``description``, ``site_id``, the group's numbers, ``reason``; the
        geometry (if any) kept for ``lon``/``lat``.
    """
    check_lang(lang)
    prop = result.proposals.copy()
    if "description" in prop.columns and lang == "zh":
        prop["description"] = prop["description_zh"]
    prop = in_language(prop.drop(columns=["description_zh"], errors="ignore"), lang)
    prop["members"] = prop["members"].map(lambda m: ";".join(map(str, m)))
    first = [
        "order",
        "description",
        "site_id",
        "road_name",
        "near_community",
        "n_members",
        "population",
        "households",
        "floor_area_needed_m2",
        "capacity_households",
        "max_travel_time_min",
        "new_population_covered",
        "new_communities_covered",
        "reason",
        "members",
    ]
    lead = [c for c in first if c in prop.columns]
    return prop[lead + [c for c in prop.columns if c not in lead]]


def _esc(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return html.escape(str(value), quote=True)


def _nearest_note(after: AuditResult, t: dict[str, str]) -> str:
    """What the audit below counts, and how many proposed halls it overfills."""
    halls = after.halls
    proposed = (
        halls["kind"].astype(str) == "proposed"
        if "kind" in halls
        else halls["hall_id"] != halls["hall_id"]
    )
    short = halls.get("floor_area_adequate", pd.Series(dtype=object)) == False  # noqa: E712
    return t["nearest_note"].format(n=int((proposed & short).sum()), total=int(proposed.sum()))


def _proposal_row(row: dict[Any, Any], keys: list[str]) -> str:
    """One proposed site as a table row, the cells named by ``keys``."""
    cells = {
        "rank": f"<td class=n>{row['order']}</td>",
        "where": f"<td>{_esc(row.get('description'))}</td>",
        "site": f"<td>{_esc(row['site_id'])}</td>",
        "members": f"<td class=n>{row['n_members']:,}</td>",
        "population": f"<td class=n>{row['population']:,.0f}</td>",
        "households": f"<td class=n>{row['households']:,.0f}</td>",
        "area": f"<td class=n>{row['floor_area_needed_m2']:,.0f}</td>",
        "max_min": f"<td class=n>{row['max_travel_time_min']:.1f}</td>",
        "new_pop": f"<td class=n>{row['new_population_covered']:,.0f}</td>",
        "note": f"<td class=r>{_esc(row.get('reason') or '')}</td>",
    }
    return "<tr>" + "".join(cells[k] for k in keys) + "</tr>"


def proposal_section_html(
    result: ProposalResult, lang: Lang = "zh", *, after: AuditResult | None = None
) -> str:
    """The proposal's part of its summary page (HTML, escaped): figures, sizes, sites.

    Parameters
    ----------
    result
        The proposal.
    lang
        ``"zh"`` or ``"en"``.
    after
        The audit with the proposed halls open (:func:`coverage.siting.verify_proposal`):
        the section then says how many proposed halls the nearest-hall count overfills.

    Returns
    -------
    str
        HTML using the summary page's classes (``cards``, ``card``, ``rules``, tables).
    """
    check_lang(lang)
    t = _TEXT[lang]
    scenario = _scenario(result)
    was, now = scenario["before"], scenario["after"]
    model = t.get(f"model_{result.model}", result.model)
    cards = [
        ("good", t["new_halls"], f"{len(result.proposals):,}", model),
        (
            "",
            t["covered_share"],
            f"{was['covered_share']:.1%} → {now['covered_share']:.1%}",
            f"{was['covered']:,.0f} → {now['covered']:,.0f}",
        ),
        (
            "",
            t["population_covered_share"],
            f"{was['population_covered_share']:.1%} → {now['population_covered_share']:.1%}",
            f"{was['population_covered']:,.0f} → {now['population_covered']:,.0f}",
        ),
        (
            "bad" if len(result.uncoverable) else "",
            t["uncoverable"],
            f"{len(result.uncoverable):,}",
            "",
        ),
    ]
    card_html = "".join(
        f'<div class="card {c}"><div class="label">{_esc(label)}</div>'
        f'<div class="value">{_esc(v)}</div><div class="sub">{_esc(sub)}</div></div>'
        for c, label, v, sub in cards
    )
    scen_rows = "".join(
        f"<tr><td>{_esc(a)}</td><td class=n>{_esc(b)}</td><td class=n>{_esc(c)}</td></tr>"
        for a, b, c in _scenario_rows(result, t)
    )
    bands = _bands(result)
    top = max([1, *(n for _, n, _ in bands)])
    size_rows = "".join(
        f"<tr><td>{_esc(label)}</td><td class=n>{n:,}</td>"
        f'<td><div style="background:{"#d73027" if above else "#2c5aa0"};height:12px;'
        f'width:{240 * n / top:.0f}px"></div></td></tr>'
        for label, n, above in bands
    )
    size_notes = "".join(f"<p class=rules>{_esc(x)}</p>" for x in size_lines(result, lang)[1:])
    table = proposal_table(result, lang)
    keys = ["rank", "where", "site", "members", "population", "households", "area", "max_min"]
    if result.model != "capacitated":  # coverage gained (the capacitated groups say it all)
        keys.append("new_pop")
    keys.append("note")
    prop_rows = "".join(_proposal_row(r, keys) for r in table.to_dict(orient="records"))
    prop_head = "".join(f"<th>{_esc(t[k])}</th>" for k in keys)
    return "\n".join(
        [
            (
                f"<p class=rules>{_esc(t['model_line'].format(model=model))}"
                f"{_esc(_solver_line(result, t))}</p>"
            ),
            f"<section class=cards>{card_html}</section>",
            f"<h2>{_esc(t['scenario'])}</h2>",
            (
                '<table class=scenario style="width:auto"><thead><tr><th></th>'
                f"<th>{_esc(t['before'])}</th><th>{_esc(t['after'])}</th></tr></thead>"
                f"<tbody>{scen_rows}</tbody></table>"
            ),
            f"<h2>{_esc(t['sizes'])}</h2>",
            (
                '<table class=sizes style="width:auto"><thead><tr>'
                f"<th>{_esc(t['size_band'])}</th><th>{_esc(t['halls'])}</th><th></th></tr>"
                f"</thead><tbody>{size_rows}</tbody></table>"
            ),
            size_notes,
            f"<h2>{_esc(t['proposed'])}</h2>",
            (
                f"<table class=proposals><thead><tr>{prop_head}</tr></thead>"
                f"<tbody>{prop_rows}</tbody></table>"
            ),
            f"<h2>{_esc(t['with_proposals'])}</h2>",
            f"<p class=note>{_esc(_nearest_note(after, t))}</p>" if after is not None else "",
        ]
    )
