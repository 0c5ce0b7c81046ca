"""Chinese wording of the plain-language reasons, for reports and maps in Chinese.

:func:`coverage.audit.audit` writes each community's ``reason`` in English (the data stay
one language, whatever the report's). Reports and maps drawn with ``lang="zh"`` show the
reason in Chinese through :func:`reason_zh`, which recognises every reason the audit writes
and leaves any other text as it is.
"""

from __future__ import annotations

import re
from typing import Any

#: Travel modes in Chinese.
MODE_ZH: dict[str, str] = {"walk": "步行", "bike": "自行车", "ebike": "电动自行车", "drive": "驾车"}

_NUM = r"(?P<{}>-?\d+(?:\.\d+)?)"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            rf"^{_NUM.format('m')} min to (?P<hall>.*), within the {_NUM.format('t')}-min limit$"
        ),
        "{m} 分钟可达{hall}，在 {t} 分钟标准内",
    ),
    (
        re.compile(
            rf"^nearest hall (?P<hall>.*) is {_NUM.format('m')} min away, "
            rf"{_NUM.format('d')} min over the {_NUM.format('t')}-min limit$"
        ),
        "最近的服务中心{hall}需 {m} 分钟，超出 {t} 分钟标准 {d} 分钟",
    ),
    (
        re.compile(
            rf"^unreachable: {_NUM.format('d')} m from the nearest road usable by "
            rf"(?P<mode>\w+) \(limit {_NUM.format('lim')} m\)$"
        ),
        "不可达：距最近可{mode}的道路 {d} 米（上限 {lim} 米）",
    ),
    (re.compile(r"^unreachable: no hall lies on the road network$"), "不可达：路网上没有服务中心"),
    (
        re.compile(
            r"^unreachable: its road network piece \((?P<n>\d+) nodes\) is not joined to any "
            r"piece with a hall$"
        ),
        "不可达：所在的路网片段（{n} 个节点）与任何有服务中心的路网都不相连",
    ),
    (
        re.compile(r"^unreachable: no route to any hall by (?P<mode>\w+) \(one-way rules\)$"),
        "不可达：按单行规则{mode}无法到达任何服务中心",
    ),
    (
        re.compile(
            rf"^data problem: its only road within {_NUM.format('lim')} m is a (?P<n>\d+)-node "
            r"piece cut off from the rest of the network \(a map-data island\); no hall is "
            r"proposed for it: fix the map data, or plan for it with include_islands=True "
            r"\(--include-islands\)$"
        ),
        (
            "数据问题：{lim} 米内唯一的道路属于与路网其余部分断开的 {n} 个节点的片段"
            "（地图数据孤岛），不为其建议新服务中心：请修正地图数据，或用 --include-islands "
            "仍为其规划"
        ),
    ),
]


def reason_zh(reason: Any) -> Any:  # noqa: ANN401 (any cell value; text is translated)
    """The Chinese wording of one of the audit's reasons.

    Parameters
    ----------
    reason
        A ``reason`` value from :func:`coverage.audit.audit` (English). Anything that is not
        one of the audit's reasons (other text, ``None``, numbers) is returned unchanged.

    Returns
    -------
    str or object
        The reason in Chinese; hall names and ids are kept as they are.

    Examples
    --------
    >>> reason_zh("12.5 min to Hall A (H1), within the 15-min limit")
    '12.5 分钟可达Hall A (H1)，在 15 分钟标准内'
    >>> reason_zh("nearest hall 北山, 中心 (H2) is 18.0 min away, 3.0 min over the 15-min limit")
    '最近的服务中心北山, 中心 (H2)需 18.0 分钟，超出 15 分钟标准 3.0 分钟'
    >>> reason_zh("unreachable: 640 m from the nearest road usable by walk (limit 500 m)")
    '不可达：距最近可步行的道路 640 米（上限 500 米）'
    >>> reason_zh("a note of the planner's own")
    "a note of the planner's own"
    """
    if not isinstance(reason, str):
        return reason
    for pattern, template in _PATTERNS:
        found = pattern.match(reason)
        if found:
            parts = found.groupdict()
            if "mode" in parts:
                parts["mode"] = MODE_ZH.get(parts["mode"], parts["mode"])
            return template.format(**parts)
    return reason


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
