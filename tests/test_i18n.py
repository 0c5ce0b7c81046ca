"""Chinese reasons: the audit writes every reason in both languages, and Chinese reports and maps
show the Chinese one."""

from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pytest
from openpyxl import load_workbook

from coverage.audit import audit
from coverage.i18n import REASONS, reason_text
from coverage.maps import coverage_map
from coverage.network import load_network
from coverage.reports import html_summary, write_excel
from coverage.testing import grid_communities, grid_halls, grid_points, line_graph

_ENGLISH = re.compile(
    r"\b(min to|within the|nearest hall|min away|over the|unreachable|road|hall)\b"
)


def _all_kinds_of_reasons(grid_net, hangzhou) -> pd.Series:
    """Reasons of every kind the audit writes, from real audits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = [audit(hangzhou.communities, hangzhou.halls, hangzhou.network).communities]
        far = grid_communities()
        far.loc[0, "geometry"] = grid_points([(0, 1)], offset_m=-640).iloc[0]
        found.append(audit(far, grid_halls(), grid_net).communities)
        found.append(audit(grid_communities(), grid_halls().iloc[:0], grid_net).communities)
        drive = load_network(line_graph(oneway=True), mode="drive")
        upstream = grid_communities().iloc[:1].copy()
        upstream["geometry"] = grid_points([(0, 2)]).to_numpy()  # downstream of the hall
        hall = grid_halls().iloc[:1].copy()
        hall["geometry"] = grid_points([(0, 0)]).to_numpy()
        found.append(audit(upstream, hall, drive).communities)
    return pd.concat([f[["reason", "reason_zh"]] for f in found], ignore_index=True)


def test_every_reason_the_audit_writes_has_a_chinese_wording(grid_net, hangzhou):
    both = _all_kinds_of_reasons(grid_net, hangzhou)
    reasons = both["reason"]
    starts = {
        "covered": r"^\d+\.\d min to ",
        "not covered": r"^nearest hall ",
        "too far from a road": r"^unreachable: \d+ m from",
        "no hall": r"^unreachable: no hall lies",
        "cut-off piece": r"^unreachable: its road network piece",
        "one-way": r"^unreachable: no route .* \(one-way rules\)$",
    }
    for kind, pattern in starts.items():
        assert reasons.str.contains(pattern).any(), f"no {kind} reason was produced"
    for text, zh in both.drop_duplicates().itertuples(index=False):
        assert zh != text, text
        # hall names and ids are kept, every English word of the template is gone
        assert not _ENGLISH.search(re.sub(r"[(（][^)）]*[)）]", "", zh)), (text, zh)
    # one wording per code in each language, the same fields in both
    assert REASONS["en"].keys() == REASONS["zh"].keys()


def test_numbers_and_hall_names_are_kept():
    fields = {"hall": "北山 (2), a <b> hall (H-9)", "minutes": "21.5", "over": "1.5", "limit": 20}
    assert reason_text("over", "en", **fields) == (
        "nearest hall 北山 (2), a <b> hall (H-9) is 21.5 min away, 1.5 min over the 20-min limit"
    )
    assert reason_text("over", "zh", **fields) == (
        "最近的服务中心北山 (2), a <b> hall (H-9)需 21.5 分钟，超出 20 分钟标准 1.5 分钟"
    )
    assert reason_text("one_way", "zh", mode="ebike") == (
        "不可达：按单行规则电动自行车无法到达任何服务中心"
    )


@pytest.fixture(scope="module")
def grid_result(grid_net):
    return audit(grid_communities(), grid_halls(), grid_net)


def test_chinese_excel_html_and_map_show_chinese_reasons(grid_result, tmp_path):
    english = grid_result.communities["reason"].tolist()
    chinese = grid_result.communities["reason_zh"].tolist()
    assert chinese[0] == "4.0 分钟可达西南服务中心 (H1)，在 15 分钟标准内"  # A, by hand
    write_excel(tmp_path / "zh.xlsx", grid_result, lang="zh")
    write_excel(tmp_path / "en.xlsx", grid_result, lang="en")
    for path, expected in ((tmp_path / "zh.xlsx", chinese), (tmp_path / "en.xlsx", english)):
        ws = load_workbook(path).worksheets[1]
        header = [c.value for c in ws[1]]
        col = header.index("说明" if "zh" in path.name else "Reason") + 1
        got = [ws.cell(row=i, column=col).value for i in range(2, ws.max_row + 1)]
        assert got == expected
    assert grid_result.communities["reason"].tolist() == english  # the data stay English
    page = html_summary(grid_result, title="t", lang="zh")
    worst = grid_result.communities.sort_values("shortfall_min", ascending=False)
    assert worst["reason_zh"].iloc[0] in page
    # popups carry the reasons as JSON (non-ASCII text escaped)
    html = coverage_map(grid_result, lang="zh", basemap="blank").get_root().render()
    assert all(json.dumps(c)[1:-1] in html for c in chinese)
    html_en = coverage_map(grid_result, lang="en", basemap="blank").get_root().render()
    assert all(json.dumps(e)[1:-1] in html_en for e in english)
    assert not any(json.dumps(e)[1:-1] in html for e in english)


def test_the_siting_data_problem_reason_has_a_chinese_wording():
    assert reason_text("data_problem", "en", snap=500, nodes=12) == (
        "data problem: its only road within 500 m is a 12-node piece cut off from the rest of "
        "the network (a map-data island); no hall is proposed for it: fix the map data, or "
        "plan for it with include_islands=True (--include-islands)"
    )
    zh = reason_text("data_problem", "zh", snap=500, nodes=12)
    assert zh == (
        "数据问题：500 米内唯一的道路属于与路网其余部分断开的 12 个节点的片段（地图数据孤岛），"
        "不为其建议新服务中心：请修正地图数据，或用 --include-islands 仍为其规划"
    )
