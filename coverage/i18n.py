"""The planner's wording in Chinese and English: reasons, modes, coordinate-system messages.

:func:`coverage.audit.audit` writes each community's reason in both languages (``reason``
and ``reason_zh``) from one code and its parameters (:data:`REASONS`); reports and maps show
the column of their language.
"""

from __future__ import annotations

from typing import Any

#: Travel modes in Chinese.
MODE_ZH: dict[str, str] = {"walk": "步行", "bike": "自行车", "ebike": "电动自行车", "drive": "驾车"}

#: The wording of every reason the planner writes, per language: one home, formatted with
#: :func:`reason_text` from a code and its parameters (never parsed back from a sentence).
REASONS: dict[str, dict[str, str]] = {
    "en": {
        "within": "{minutes} min to {hall}, within the {limit}-min limit",
        "over": "nearest hall {hall} is {minutes} min away, {over} min over the {limit}-min limit",
        "too_far": "unreachable: {dist} m from the nearest road usable by {mode} (limit {snap} m)",
        "no_hall": "unreachable: no hall lies on the road network",
        "cut_off": (
            "unreachable: its road network piece ({nodes} nodes) is not joined to any piece "
            "with a hall"
        ),
        "one_way": "unreachable: no route to any hall by {mode} (one-way rules)",
        "data_problem": (
            "data problem: its only road within {snap} m is a {nodes}-node piece cut off from "
            "the rest of the network (a map-data island); no hall is proposed for it: fix the "
            "map data, or plan for it with include_islands=True (--include-islands)"
        ),
        "over_cap": (
            "needs more than the cap alone: community {community} has {households} households "
            "needing {need} m², more than the {cap} m² cap of a new hall; it gets a hall of "
            "its own"
        ),
    },
    "zh": {
        "within": "{minutes} 分钟可达{hall}，在 {limit} 分钟标准内",
        "over": "最近的服务中心{hall}需 {minutes} 分钟，超出 {limit} 分钟标准 {over} 分钟",
        "too_far": "不可达：距最近可{mode}的道路 {dist} 米（上限 {snap} 米）",
        "no_hall": "不可达：路网上没有服务中心",
        "cut_off": "不可达：所在的路网片段（{nodes} 个节点）与任何有服务中心的路网都不相连",
        "one_way": "不可达：按单行规则{mode}无法到达任何服务中心",
        "data_problem": (
            "数据问题：{snap} 米内唯一的道路属于与路网其余部分断开的 {nodes} 个节点的片段"
            "（地图数据孤岛），不为其建议新服务中心：请修正地图数据，或用 --include-islands "
            "仍为其规划"
        ),
        "over_cap": (
            "单个社区需求已超过上限：社区 {community} 有 {households} 户，需用房 {need} ㎡，"
            "超过新建服务中心 {cap} ㎡ 的上限，单独设一处"
        ),
    },
}


def reason_text(code: str, lang: str = "en", **params: Any) -> str:  # noqa: ANN401
    """One reason in one language, from its code and parameters.

    Parameters
    ----------
    code
        ``"within"``, ``"over"``, ``"too_far"``, ``"no_hall"``, ``"cut_off"``, ``"one_way"``,
        ``"data_problem"`` or ``"over_cap"`` (keys of :data:`REASONS`).
    lang
        ``"en"`` or ``"zh"``.
    **params
        The template's fields (a travel ``mode`` is named in the language).

    Returns
    -------
    str
        The sentence.

    Examples
    --------
    >>> reason_text("too_far", "zh", dist=640, mode="walk", snap=500)
    '不可达：距最近可步行的道路 640 米（上限 500 米）'
    >>> reason_text("within", "en", minutes="12.5", hall="Hall A (H1)", limit=15)
    '12.5 min to Hall A (H1), within the 15-min limit'
    """
    if lang == "zh" and "mode" in params:
        params["mode"] = MODE_ZH.get(str(params["mode"]), params["mode"])
    return REASONS[lang][code].format(**params)


def site_description(road: str, community: str, lang: str) -> str:
    """A proposed site in words: the road it lies by and the community it is near.

    Parameters
    ----------
    road
        Name of the nearest named road ("" if none is near).
    community
        Name of the nearest community ("" if none).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        E.g. ``"文三路旁，近留石社区"`` or ``"by 文三路, near 留石社区"``.

    Examples
    --------
    >>> site_description("文三路", "留石社区", "zh"), site_description("", "留石社区", "en")
    ('文三路旁，近留石社区', 'near 留石社区')
    """
    if lang == "zh":
        parts = [f"{road}旁" if road else "", f"近{community}" if community else ""]
        return "，".join(p for p in parts if p)
    parts = [f"by {road}" if road else "", f"near {community}" if community else ""]
    return ", ".join(p for p in parts if p)


def reason_column(frame: Any, lang: str) -> str:  # noqa: ANN401 (any frame with columns)
    """The column of a frame that holds the reasons in ``lang``: ``reason_zh`` or ``reason``.

    Parameters
    ----------
    frame
        A table with a ``reason`` column (and ``reason_zh`` where Chinese was written).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The column name (``reason`` when there is no Chinese column).
    """
    return "reason_zh" if lang == "zh" and "reason_zh" in frame.columns else "reason"


# --------------------------------------------------------------------------------------------
# The coordinate-system check (coverage.checks), in the run's language
# --------------------------------------------------------------------------------------------

#: Coordinate systems as planners know them, per language.
COORD_SYSTEM_NAMES: dict[str, dict[str, str]] = {
    "zh": {
        "wgs84": "WGS-84（GPS、OpenStreetMap）",
        "gcj02": "GCJ-02（高德、腾讯）",
        "bd09": "BD-09（百度）",
    },
    "en": {
        "wgs84": "WGS-84 (GPS, OpenStreetMap)",
        "gcj02": "GCJ-02 (Amap, Tencent)",
        "bd09": "BD-09 (Baidu)",
    },
}


_SHORT = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def _files(labels: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(labels)


def coord_stop_line(fits: dict[str, list[str]], declared: str, lang: str) -> str:
    """The one line with which the command line stops when points fit another system.

    Parameters
    ----------
    fits
        System the points fit (``"gcj02"``, ``"bd09"`` or ``"wgs84"``) → the files that fit it.
    declared
        The system the files were read in (the default, ``"wgs84"``, when the line is shown).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        One line naming the files and the ``--coord-system`` option to give.

    Examples
    --------
    >>> coord_stop_line({"gcj02": ["社区.xlsx"]}, "wgs84", "en")  # doctest: +NORMALIZE_WHITESPACE
    'error: 社区.xlsx: the points fit the roads far better read as GCJ-02 (Amap, Tencent) than
    as WGS-84 (GPS, OpenStreetMap): run again with --coord-system gcj02 (or give
    --coord-system wgs84 if you are sure)'
    """
    names = COORD_SYSTEM_NAMES[lang]
    if len(fits) == 1:
        ((system, labels),) = fits.items()
        if lang == "zh":
            return (
                f"错误：{_files(labels, lang)} 的坐标按{names[system]}读取时与道路吻合得多，"
                f"按{names[declared]}读取则像随机散落的点：请加上 --coord-system {system} 重新"
                f"运行（如确为 {_SHORT[declared]}，请写明 --coord-system {declared}）"
            )
        return (
            f"error: {_files(labels, lang)}: the points fit the roads far better read as "
            f"{names[system]} than as {names[declared]}: run again with --coord-system {system} "
            f"(or give --coord-system {declared} if you are sure)"
        )
    if lang == "zh":
        parts = "；".join(f"{_files(v, lang)} 按{names[k]}" for k, v in fits.items())
        options = "、".join(f"--coord-system {k}" for k in fits)
        return (
            f"错误：这些文件的坐标按其他坐标系读取时与道路吻合得多：{parts}。"
            f"--coord-system 对所有文件一并生效：请先把文件转换到同一坐标系（{options}）"
        )
    parts = "; ".join(f"{_files(v, lang)} as {names[k]}" for k, v in fits.items())
    options = ", ".join(f"--coord-system {k}" for k in fits)
    return (
        f"error: the points fit the roads far better read in other systems: {parts}; "
        f"--coord-system applies to every file: convert the files to one system first ({options})"
    )


def coord_doubt_line(labels: list[str], declared: str, fits: str, lang: str) -> str:
    """The one line the command line shows when it goes on with a doubted, explicit choice.

    Parameters
    ----------
    labels
        The files in doubt.
    declared
        The system given with ``--coord-system``.
    fits
        The system the points fit far better.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        One line.

    Examples
    --------
    >>> coord_doubt_line(["社区.xlsx"], "wgs84", "gcj02", "zh")  # doctest: +NORMALIZE_WHITESPACE
    '注意：社区.xlsx 的坐标按GCJ-02（高德、腾讯）读取时与道路吻合得多，但已按您指定的
    --coord-system wgs84 计算；报告中注明了这一疑问'
    """
    names = COORD_SYSTEM_NAMES[lang]
    if lang == "zh":
        return (
            f"注意：{_files(labels, lang)} 的坐标按{names[fits]}读取时与道路吻合得多，"
            f"但已按您指定的 --coord-system {declared} 计算；报告中注明了这一疑问"
        )
    return (
        f"warning: {_files(labels, lang)}: the points fit the roads far better read as "
        f"{names[fits]}, but are used as {names[declared]} as you asked "
        f"(--coord-system {declared}); the reports note the doubt"
    )


def coord_check_text(label: str, declared: str, fits: str | None, points: int, lang: str) -> str:
    """The outcome of a coordinate check in a sentence, for reports.

    Parameters
    ----------
    label
        The file(s) checked.
    declared
        The system the points were read in.
    fits
        The system they fit clearly best, or ``None`` (cannot tell).
    points
        Points the check rests on.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The doubt, the confirmation, or "cannot tell", naming the file(s).

    Examples
    --------
    >>> coord_check_text("服务中心.xlsx", "wgs84", "bd09", 80, "en")
    ... # doctest: +NORMALIZE_WHITESPACE
    'Coordinate system in doubt: 服务中心.xlsx was used as WGS-84 (GPS, OpenStreetMap), but its
    points fit the roads far better read as BD-09 (Baidu) (80 points checked). If they are
    BD-09 (Baidu) coordinates, the coverage results differ markedly.'
    """
    names = COORD_SYSTEM_NAMES[lang]
    if fits is None:
        if lang == "zh":
            return (
                f"{label}：无法判断坐标系（可用的点太少，或各种读法都不明显），"
                f"按{names[declared]}计算"
            )
        return (
            f"{label}: cannot tell the coordinate system (too few usable points, or no reading "
            f"stands out); used as {names[declared]}"
        )
    if fits == declared:
        if lang == "zh":
            return f"{label}：坐标与道路吻合，符合{names[declared]}（核查 {points} 个点）"
        return f"{label}: the points fit the roads as {names[declared]} ({points} points checked)"
    if lang == "zh":
        return (
            f"坐标系存疑：{label} 按{names[declared]}计算，但这些点按{names[fits]}读取时与道路"
            f"吻合得多（核查 {points} 个点）。如确为{names[fits]}坐标，覆盖结果会明显不同。"
        )
    return (
        f"Coordinate system in doubt: {label} was used as {names[declared]}, but its points fit "
        f"the roads far better read as {names[fits]} ({points} points checked). If they are "
        f"{names[fits]} coordinates, the coverage results differ markedly."
    )


#: The command line's own lines, per language (one home; formatted by :func:`cli_line`).
CLI_LINES: dict[str, dict[str, str]] = {
    "en": {
        "warning": "warning: {text}",
        "open_first": "open first: {path}",
        "folder": "all files: {path}",
        "table_head": "district|communities|covered|share|pop. share",
        "services_head": "service|sites|communities|within|share|pop. share",
        "no_sites": "no site for {services}: every community that needs them misses them",
        "buffer_gone": (
            "--buffer-m no longer changes anything: every run routes on the whole network "
            "(coverage.batch.run_batch still clips district by district)"
        ),
    },
    "zh": {
        "warning": "注意：{text}",
        "open_first": "请先打开：{path}",
        "folder": "全部文件：{path}",
        "table_head": "片区|社区数|达标|达标比例|人口达标比例",
        "services_head": "服务|设施点|应配置社区|圈内社区|社区比例|人口比例",
        "no_sites": "{services}没有设施点：需要这些服务的社区均计为缺少",
        "buffer_gone": (
            "--buffer-m 已不起作用：每次运行都在整个路网上计算"
            "（按区县裁剪路网请用 coverage.batch.run_batch）"
        ),
    },
}


def cli_line(key: str, lang: str, **params: Any) -> str:  # noqa: ANN401
    """One line of the command line's own wording, in ``lang`` (``"zh"`` or ``"en"``).

    Parameters
    ----------
    key
        A key of :data:`CLI_LINES`.
    lang
        ``"zh"`` or ``"en"`` (anything else: English).
    **params
        Values for the line's ``{placeholders}``.

    Returns
    -------
    str
        The line.

    Examples
    --------
    >>> cli_line("open_first", "zh", path="maps/run/summary.html")
    '请先打开：maps/run/summary.html'
    """
    return CLI_LINES.get(lang, CLI_LINES["en"])[key].format(**params)


#: A hall's floor-area verdict against the standard (m² per 100 households served), per
#: language: ``met``, ``short`` (with the gap) or ``unknown`` (no floor area given).
HALL_VERDICTS: dict[str, dict[str, str]] = {
    "zh": {
        "met": "达标：用房 {area} m²，按每百户 {per} m² 需 {need} m²",
        "short": "不达标：用房 {area} m²，按每百户 {per} m² 需 {need} m²，缺 {gap} m²",
        "unknown": "无法判断：用房面积未知（按每百户 {per} m² 需 {need} m²）",
    },
    "en": {
        "met": "met: {area} m² of floor area, {need} m² needed at {per} m² per 100 households",
        "short": (
            "not met: {area} m² of floor area, {need} m² needed at {per} m² per 100 households, "
            "{gap} m² short"
        ),
        "unknown": (
            "cannot tell: floor area unknown ({need} m² needed at {per} m² per 100 households)"
        ),
    },
}


def hall_verdict(
    adequate: bool | None,
    *,
    area_m2: float | None,
    need_m2: float,
    gap_m2: float | None,
    per_100_households: float,
    lang: str = "zh",
) -> str:
    """A hall's floor-area verdict (达标 / 不达标) in one sentence.

    Parameters
    ----------
    adequate
        The audit's ``floor_area_adequate``: ``None`` where the floor area is unknown.
    area_m2, need_m2, gap_m2
        Floor area, required floor area and the missing part, m².
    per_100_households
        The standard, m² per 100 households served.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The sentence.

    Examples
    --------
    >>> hall_verdict(False, area_m2=650, need_m2=1424.4, gap_m2=774.4, per_100_households=30)
    '不达标：用房 650 m²，按每百户 30 m² 需 1,424 m²，缺 774 m²'
    """
    key = "unknown" if adequate is None else ("met" if adequate else "short")
    return HALL_VERDICTS[lang][key].format(
        area=f"{area_m2:,.0f}" if area_m2 is not None else "–",
        need=f"{need_m2:,.0f}",
        gap=f"{gap_m2:,.0f}" if gap_m2 is not None else "–",
        per=f"{per_100_households:g}",
    )


#: How a life-circle audit names a service outside its circle (:mod:`coverage.lifecircle`).
LIFE_CIRCLE: dict[str, dict[str, str]] = {
    "en": {
        "late": "{service} ({minutes:.1f} min, circle {limit:.1f} min)",
        "far": "{service} ({metres:,.0f} m on the network, circle {limit:,.0f} m)",
        "unreachable": "{service} (none reachable)",
        "sep": "; ",
    },
    "zh": {
        "late": "{service}（{minutes:.1f} 分钟，标准 {limit:.1f} 分钟）",
        "far": "{service}（路网距离 {metres:,.0f} 米，标准 {limit:,.0f} 米）",
        "unreachable": "{service}（无可达设施）",
        "sep": "；",
    },
}


#: The what-if page's own words, per language ({…} are filled in by the page).
WHATIF_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "社区服务中心选址推演",
        "hint": "点击地图上的服务中心（蓝）或候选点（橙）即可开启/关闭；各项数字立即更新。",
        "summary": (
            "开启 {open} 处（关停现有 {closed} 处，新增 {added} 处）：社区覆盖 {covered}/"
            "{communities}（{share}），人口覆盖率 {pshare}"
        ),
        "timing": "上次更新用时 {ms} 毫秒",
        "districts": "各区县覆盖情况",
        "halls": "开启的服务中心负荷（每 100 户 {std} ㎡）",
        "copy": "复制此方案 (TOML)",
        "reset": "恢复现状",
        "copied": "已复制到剪贴板；也可从下框复制。",
        "copy_failed": "无法写入剪贴板，请从下框手动复制。",
        "inputs": "计算依据",
        "computed": "计算时间",
        "sources": "输入数据",
        "network": "路网",
        "network_line": "{source}：{nodes} 个节点，{km} 公里，{mode}，{speed} 公里/小时",
        "thresholds": "标准",
        "thresholds_line": "城市社区 {urban} 分钟，农村社区 {rural} 分钟；用房 {std} ㎡/百户",
        "sites_line": "现有服务中心 {halls} 处，候选点 {candidates} 处",
        "existing": "现有服务中心",
        "candidate": "候选点",
        "off_network": "离路网过远，不参与计算",
        "yes": "是",
        "no": "否",
        "no_tiles": "底图未能加载（离线？）；数据图层照常显示",
        "broken": "页面数据无法读取：",
        "toml_name": "会议推演方案",
        "toml_description": "由推演地图复制（{computed} 计算）",
        "ties": "注：{n} 处社区到两个点的时间完全相同，按列表顺序取前者。",
        "click_community": "点击社区可查看其最近的开启服务中心。",
        "status_covered": "已覆盖",
        "status_not_covered": "未覆盖",
        "status_unreachable": "不可达",
        "nearest": "最近：",
        "minutes": "分钟",
    },
    "en": {
        "title": "What-if: community service hall sites",
        "hint": (
            "Click a hall (blue) or a candidate site (orange) on the map to switch it on or "
            "off; the figures update at once."
        ),
        "summary": (
            "{open} sites open ({closed} existing closed, {added} added): communities covered "
            "{covered}/{communities} ({share}), population covered {pshare}"
        ),
        "timing": "last update took {ms} ms",
        "districts": "Coverage by district",
        "halls": "Loads of the open halls ({std} m² per 100 households)",
        "copy": "Copy this scenario (TOML)",
        "reset": "Back to today",
        "copied": "Copied to the clipboard; also shown below.",
        "copy_failed": "The clipboard refused; copy the text below.",
        "inputs": "Computed from",
        "computed": "Computed",
        "sources": "Inputs",
        "network": "Network",
        "network_line": "{source}: {nodes} nodes, {km} km, {mode} at {speed} km/h",
        "thresholds": "Standards",
        "thresholds_line": "urban {urban} min, rural {rural} min; floor area {std} m² per 100 hh",
        "sites_line": "{halls} existing halls, {candidates} candidate sites",
        "existing": "existing hall",
        "candidate": "candidate site",
        "off_network": "too far from any road, left out",
        "yes": "Yes",
        "no": "No",
        "no_tiles": "Basemap tiles could not load (offline?); the data layers are shown as usual",
        "broken": "The page's data cannot be read:",
        "toml_name": "Meeting scenario",
        "toml_description": "Copied from the what-if map (computed {computed})",
        "ties": "Note: {n} communities are exactly as far from two sites; the first listed wins.",
        "click_community": "Click a community to see its nearest open hall.",
        "status_covered": "covered",
        "status_not_covered": "not covered",
        "status_unreachable": "unreachable",
        "nearest": "nearest:",
        "minutes": "min",
    },
}


#: How the scenario outputs (:mod:`coverage.scenarios`: difference map, workbook, summary
#: page, terminal) name changes and edits, per language.
SCENARIO_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "gained": "新增覆盖",
        "lost": "失去覆盖",
        "faster": "更快",
        "slower": "更慢",
        "unchanged": "不变",
        "kept": "保留",
        "closed": "关停",
        "added": "新建",
        "moved": "迁址",
        "moved_from": "原址",
        "road_added": "新增道路",
        "road_closed": "封闭道路",
        "road_barrier": "阻隔区域",
        "road_speed": "调整速度的道路",
        "baseline": "现状",
        "before": "现状",
        "after": "情景",
        "delta": "变化",
        "title": "情景对比：{name}",
        "communities": "社区",
        "halls": "服务中心",
        "roads": "道路变动",
        "minutes": "出行时间（分钟）",
        "status": "状态",
        "change": "变化",
        "edit": "变动",
        "headline": (
            "已覆盖社区 {before:,} → {after:,}（新增 {gained:,}，失去 {lost:,}）；"
            "覆盖人口 {pop_before:,.0f} → {pop_after:,.0f}"
        ),
        "by_district": "各区县变化",
        "hall_changes": "服务中心变化",
        "side_by_side": "各情景对比",
        "files": "文件",
        "map": "差异地图",
        "workbook": "Excel 表",
        "summary": "情景汇总",
    },
    "en": {
        "gained": "gained",
        "lost": "lost",
        "faster": "faster",
        "slower": "slower",
        "unchanged": "unchanged",
        "kept": "kept",
        "closed": "closed",
        "added": "added",
        "moved": "moved",
        "moved_from": "old place",
        "road_added": "new road",
        "road_closed": "closed road",
        "road_barrier": "barrier",
        "road_speed": "road with a new speed",
        "baseline": "baseline",
        "before": "before",
        "after": "scenario",
        "delta": "change",
        "title": "Scenario: {name}",
        "communities": "communities",
        "halls": "halls",
        "roads": "road edits",
        "minutes": "travel time (min)",
        "status": "status",
        "change": "change",
        "edit": "edit",
        "headline": (
            "communities covered {before:,} → {after:,} ({gained:,} gained, {lost:,} lost); "
            "population covered {pop_before:,.0f} → {pop_after:,.0f}"
        ),
        "by_district": "Change by district",
        "hall_changes": "Halls changed",
        "side_by_side": "Scenarios side by side",
        "files": "Files",
        "map": "difference map",
        "workbook": "Excel workbook",
        "summary": "Scenarios",
    },
}
