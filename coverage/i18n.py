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
