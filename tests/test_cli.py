"""Command line, end to end: real sample, user files, errors as one line with exit codes."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import openpyxl
import osmnx as ox
import pandas as pd
import pytest

import coverage
from coverage import InputDataError
from coverage.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, _fit, _flag, _print_table, main
from coverage.coords import wgs84_to_bd09
from coverage.samples import data_dir, load_sample, sample_path
from coverage.testing import grid_communities, grid_graph, grid_halls, grid_points


def test_audit_liechtenstein_writes_every_district(tmp_path, capsys):
    code = main(
        [
            "audit",
            "--sample",
            "liechtenstein",
            "--out",
            str(tmp_path),
            "--no-progress",
            "--lang",
            "en",
        ]
    )
    assert code == EXIT_OK
    run = tmp_path / "liechtenstein"
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    table = pd.read_csv(run / "summary.csv", encoding="utf-8-sig")
    communities = pd.read_csv(run / "communities.csv", encoding="utf-8-sig")
    assert (run / "communities.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    districts = [d for d in table["district"] if d != "(all)"]
    assert summary["districts"][-1]["communities"] == len(communities)
    for d in districts:
        folder = run / d
        assert (folder / "map.html").stat().st_size > 10_000
        part = pd.read_csv(folder / "communities.csv", encoding="utf-8-sig")
        assert set(part["district"]) == {d}
    # every community is written exactly once across the district folders
    per_district = sum(
        len(pd.read_csv(run / d / "communities.csv", encoding="utf-8-sig")) for d in districts
    )
    assert per_district == len(communities)
    assert set(communities["status"]) <= {"covered", "not covered", "unreachable"}
    out = capsys.readouterr().out.splitlines()
    # the run ends by saying what to open first, and where everything is
    assert out[-2:] == [f"open first: {run / 'summary.html'}", f"all files: {run}"]


def _user_files(tmp_path):
    com = grid_communities()
    com["经度"] = com.geometry.x
    com["纬度"] = com.geometry.y
    frame = pd.DataFrame(com.drop(columns="geometry")).rename(
        columns={
            "community_id": "编号",
            "name": "社区名称",
            "district": "所属区县",
            "street": "街道",
            "kind": "类型",
            "population": "人口",
            "households": "户数",
        }
    )
    frame["类型"] = frame["类型"].map({"urban": "城市", "rural": "农村"})
    frame.to_csv(tmp_path / "社区.csv", index=False, encoding="utf-8-sig")
    halls = grid_halls()
    pd.DataFrame(
        {
            "hall_id": halls["hall_id"],
            "name": halls["name"],
            "lon": halls.geometry.x,
            "lat": halls.geometry.y,
        }
    ).to_csv(tmp_path / "halls.csv", index=False)
    ox.save_graphml(grid_graph(), tmp_path / "grid.graphml")
    return tmp_path / "社区.csv", tmp_path / "halls.csv", tmp_path / "grid.graphml"


def test_audit_user_files_with_chinese_headers(tmp_path):
    com, halls, net = _user_files(tmp_path)
    out = tmp_path / "out"
    code = main(
        [
            "audit",
            "--communities",
            str(com),
            "--halls",
            str(halls),
            "--network",
            str(net),
            "--out",
            str(out),
            "--no-progress",
            "--district",
            "West",
        ]
    )
    assert code == EXIT_OK
    west = pd.read_csv(out / "社区" / "West" / "communities.csv", encoding="utf-8-sig")
    assert west.set_index("community_id")["travel_time_min"].to_dict() == {
        "A": 4.0,
        "B": 16.0,
        "D": 12.0,
    }
    assert not (out / "社区" / "East").exists()


def test_bad_input_is_one_line_with_exit_code(tmp_path, capsys):
    com, halls, net = _user_files(tmp_path)
    frame = pd.read_csv(com, encoding="utf-8-sig")
    frame.loc[2, "人口"] = -5
    frame.to_csv(com, index=False, encoding="utf-8-sig")
    code = main(
        [
            "audit",
            "--communities",
            str(com),
            "--halls",
            str(halls),
            "--network",
            str(net),
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert "社区.csv" in err


def test_unknown_district_and_missing_parts(tmp_path, capsys):
    com, halls, net = _user_files(tmp_path)
    assert (
        main(
            [
                "audit",
                "--communities",
                str(com),
                "--halls",
                str(halls),
                "--network",
                str(net),
                "--district",
                "Nowhere",
                "--out",
                str(tmp_path),
                "--no-progress",
            ]
        )
        == EXIT_INPUT
    )
    assert "unknown district 'Nowhere'; known: 'East', 'West'" in capsys.readouterr().err
    assert main(["audit", "--communities", str(com), "--out", str(tmp_path)]) == EXIT_INPUT
    assert "--halls, --network" in capsys.readouterr().err


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--mode", "boat"])
    assert exc.value.code == 2


def test_config_file_is_used(tmp_path):
    com, halls, net = _user_files(tmp_path)
    cfg = tmp_path / "rules.toml"
    cfg.write_text("urban_threshold_min = 16\n", encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(
            [
                "audit",
                "--communities",
                str(com),
                "--halls",
                str(halls),
                "--network",
                str(net),
                "--config",
                str(cfg),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == EXIT_OK
    )
    table = pd.read_csv(out / "社区" / "summary.csv", encoding="utf-8-sig").set_index("district")
    assert table.loc["(all)", "covered"] == 5  # B at 16 min is now inside its circle


def test_district_names_cannot_escape_the_output_folder(tmp_path):
    com, halls, net = _user_files(tmp_path)
    frame = pd.read_csv(com, encoding="utf-8-sig")
    frame["所属区县"] = ["../../etc", "../../etc", "西湖区/北山", "..", "西湖区/北山"]
    frame.to_csv(com, index=False, encoding="utf-8-sig")
    out = tmp_path / "out"
    assert (
        main(
            [
                "audit",
                "--communities",
                str(com),
                "--halls",
                str(halls),
                "--network",
                str(net),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == EXIT_OK
    )
    written = sorted(p.relative_to(out).parts[1] for p in out.glob("*/*") if p.is_dir())
    assert written == ["etc", "unnamed", "西湖区_北山"]
    assert not (tmp_path / "etc").exists()
    for folder in written:
        summary = json.loads((out / "社区" / folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["folder"] == folder


def test_basemap_options(tmp_path, capsys):
    com, halls, net = _user_files(tmp_path)
    base = ["audit", "--communities", str(com), "--halls", str(halls), "--network", str(net),
            "--no-progress"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "a"), "--basemap", "blank"]) == EXIT_OK
    html = (tmp_path / "a" / "社区" / "map.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" not in html
    assert 'src="http' not in html  # self-contained by default
    with pytest.raises(SystemExit) as exc:  # a usage error, found before any file is read
        main([*base, "--out", str(tmp_path / "b"), "--basemap", "tianditu"])
    assert exc.value.code == EXIT_USAGE
    assert "--basemap tianditu needs --tianditu-key KEY" in capsys.readouterr().err


def test_propose_closes_the_gap_and_is_verified_by_routing(tmp_path, capsys):
    com, halls, net = _user_files(tmp_path)
    out = tmp_path / "out"
    code = main([
        "propose", "--communities", str(com), "--halls", str(halls), "--network", str(net),
        "--out", str(out), "--no-progress", "--spacing-m", "300", "--basemap", "blank",
    ])  # fmt: skip
    assert code == EXIT_OK
    folder = out / "社区" / "proposals"
    # meeting-ready: a summary page and a workbook; the terminal speaks in words and numbers
    printed = capsys.readouterr().out
    assert "社区覆盖率            80.0%      100.0%" in printed
    assert f"请先打开 {folder / 'summary.html'}" in printed
    assert "lscp" not in printed
    assert "capacitated" not in printed
    page = (folder / "summary.html").read_text(encoding="utf-8")
    assert "共享服务中心选址建议（一站多居）" in page
    assert (folder / "report.xlsx").exists()
    scenario = pd.read_csv(folder / "scenario.csv", encoding="utf-8-sig").set_index("scenario")
    # B is the only community outside its circle (16 min > 15): one new hall covers it
    assert scenario.loc["before", "covered"] == 4
    assert scenario.loc["after", "covered"] == 5
    proposals = pd.read_csv(folder / "proposals.csv", encoding="utf-8-sig")
    assert len(proposals) == 1
    after = pd.read_csv(folder / "communities_after.csv", encoding="utf-8-sig")
    assert (after["status"] == "covered").all()  # routed, not modelled
    assert json.loads((folder / "solver.json").read_text(encoding="utf-8"))["optimal"]
    assert (folder / "map.html").exists()
    # the what-if page: the two halls and the proposed site, data inline (no address at all)
    whatif = (folder / "whatif.html").read_text(encoding="utf-8")
    site = json.dumps(str(proposals["site_id"].iloc[0]), ensure_ascii=False)
    assert f'"id":["H1","H2",{site}]' in whatif
    assert 'src="http' not in whatif
    # per district: a new hall is listed where the members of its group live
    groups = pd.read_csv(folder / "groups.csv", encoding="utf-8-sig").set_index("hall_id")
    members = set(groups.loc[proposals["site_id"].iloc[0], "members"].split(";"))
    assert "B" in members  # the hall exists for B, the one community outside its circle
    district = {"A": "West", "B": "West", "C": "East", "D": "West", "E": "East"}
    for name in ("West", "East"):
        listed = pd.read_csv(folder / name / "proposals.csv", encoding="utf-8-sig")
        serves_here = any(district[c] == name for c in members)
        assert len(listed) == int(serves_here), name
        assert (folder / name / "map.html").exists()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("default::coverage.CoverageWarning")
def test_two_workers_write_what_one_process_writes(tmp_path, capsys):
    pytest.importorskip("distributed")
    rules = tmp_path / "rules.toml"
    rules.write_text("parallel_pays_s = 0\n")  # start the processes however small the work
    base = ["audit", "--sample", "hangzhou-xihu", "--no-progress", "--basemap", "blank",
            "--config", str(rules), "--lang", "en"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "one")]) == EXIT_OK
    capsys.readouterr()
    two = [*base, "--out", str(tmp_path / "two"), "--workers", "2", "--buffer-m", "3000"]
    assert main(two) == EXIT_OK
    err = capsys.readouterr().err
    assert "warning: --buffer-m no longer changes anything" in err  # an old script still runs
    assert "one after another here" not in err  # the processes did start
    one, other = tmp_path / "one" / "hangzhou-xihu", tmp_path / "two" / "hangzhou-xihu"
    folders = sorted(p.name for p in one.iterdir() if p.is_dir())
    assert len(folders) == 2, folders  # the sample's two planning zones
    assert sorted(p.name for p in other.iterdir() if p.is_dir()) == folders
    for name in ["", *folders]:
        for file in ("communities.csv", "halls.csv", "summary.json"):
            assert (other / name / file).read_bytes() == (one / name / file).read_bytes(), (
                name,
                file,
            )
        ours, theirs = ((d / name / "map.html").read_text(encoding="utf-8") for d in (one, other))
        for layer in ('"coordinates": ', '"status": ', '"hall_id": '):  # the same features
            assert ours.count(layer) == theirs.count(layer) > 0, (name, layer)
        books = [pd.read_excel(d / name / "report.xlsx", sheet_name=None) for d in (one, other)]
        assert books[0].keys() == books[1].keys()
        for sheet in books[0]:
            pd.testing.assert_frame_equal(books[0][sheet], books[1][sheet])


@pytest.mark.filterwarnings("default::coverage.CoverageWarning")
def test_small_batch_on_workers_runs_here_and_says_why(tmp_path, capsys):
    base = ["audit", "--sample", "liechtenstein", "--no-progress", "--no-isochrones",
            "--basemap", "blank", "--out", str(tmp_path)]  # fmt: skip
    assert main([*base, "--workers", "2", "--lang", "en"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "running the districts one after another here, not on 2 worker processes" in err
    assert main([*base, "--workers", "2", "--lang", "zh"]) == EXIT_OK
    assert "各区县在本进程中依次计算，未启动 2 个工作进程" in capsys.readouterr().err


def test_isochrones_command_writes_nested_bands_and_catchments(tmp_path):
    import geopandas as gpd

    com, halls, net = _user_files(tmp_path)
    out = tmp_path / "out"
    args = ["isochrones", "--communities", str(com), "--halls", str(halls), "--network", str(net),
            "--out", str(out), "--no-progress", "--minutes", "4", "8"]  # fmt: skip
    assert main(args) == EXIT_OK
    iso = gpd.read_file(out / "社区" / "isochrones.gpkg", layer="isochrones")
    assert iso["band_min"].tolist() == [4, 8]  # one area per band (--per all)
    assert iso["halls"].tolist() == [2, 2]
    small, big = iso.geometry
    assert small.difference(big).area < 1e-12
    catch_out = tmp_path / "catch"
    catch_args = [*args[:-6], "--out", str(catch_out), "--no-progress", "--minutes", "4", "8",
                  "--per", "hall", "--format", "geojson"]  # fmt: skip
    assert main(catch_args) == EXIT_OK
    import pyogrio

    catch_file = catch_out / "社区" / "catchments.geojson"  # named after what it holds
    assert pyogrio.list_layers(catch_file)[:, 0].tolist() == ["catchments"]
    catch = gpd.read_file(catch_file)
    assert catch[["hall_id", "band_min"]].to_numpy().tolist() == [
        ["H1", 4], ["H1", 8], ["H2", 4], ["H2", 8]
    ]  # fmt: skip
    # the catchments of a band share out its area (less the corners where three cells meet)
    for band, whole in zip((4, 8), iso["area_m2"], strict=True):
        parts = catch[catch["band_min"] == band]["area_m2"].sum()
        assert 0.99 * whole <= parts <= whole


def test_killed_run_resumes_without_redoing_finished_districts(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    args = [sys.executable, "-m", "coverage.cli", "audit", "--sample", "liechtenstein", "--out",
            str(out), "--no-progress", "--basemap", "blank", "--no-isochrones"]  # fmt: skip
    run = out / "liechtenstein"
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 240
        while len(list(run.glob("*/summary.json"))) < 3:
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done = {p.parent.name for p in run.glob("*/summary.json")}
    assert 3 <= len(done) < 11
    assert not (run / "summary.json").exists()  # the run-level files were never reached
    before = {p: p.stat().st_mtime_ns for d in done for p in (run / d).iterdir()}
    assert main([*args[3:], "--resume"]) == EXIT_OK
    # finished districts were kept as they were; the others were written
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert len(list(run.glob("*/summary.json"))) == 11
    assert list(run.rglob("*.tmp")) == []
    total = pd.read_csv(run / "communities.csv", encoding="utf-8-sig")
    parts = sum(len(pd.read_csv(f, encoding="utf-8-sig")) for f in run.glob("*/communities.csv"))
    assert parts == len(total) == 23


def test_propose_lists_map_data_islands_and_draws_them(tmp_path):
    out = tmp_path / "out"
    args = ["propose", "--out", str(out), "--no-progress", "--basemap", "blank", "--model", "lscp"]
    assert main(args) == EXIT_OK
    folder = out / "hangzhou-central" / "proposals"
    problems = pd.read_csv(folder / "data_problems.csv", encoding="utf-8-sig")
    assert problems["community_id"].tolist() == ["HZ2158"]
    assert problems["reason"].iloc[0].startswith("data problem: its only road within 500 m")
    groups = pd.read_csv(folder / "groups.csv", encoding="utf-8-sig")
    assert not groups["members"].str.contains("HZ2158").any()
    layer = json.dumps("数据问题 (地图孤岛, 未纳入选址) (1)")  # as the layer control holds it
    html = (folder / "map.html").read_text(encoding="utf-8")
    assert layer in html
    assert json.dumps("数据问题：500 米内唯一的道路")[1:-1] in html  # the reason, in Chinese
    district = problems["district"].iloc[0]
    (sub,) = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(district[:5])]
    assert (
        sub.name == "示意片区A_illustrative_zone_A"
    )  # 示意片区A (illustrative zone A), shell-safe
    assert layer in (sub / "map.html").read_text(encoding="utf-8")


# --- the coordinate system (issue 12, item 3) -----------------------------------------------------

XIHU_FILES = [
    "--communities",
    str(data_dir() / "samples" / "西湖社区名单_gcj02.xlsx"),
    "--halls",
    str(data_dir() / "samples" / "服务中心_gcj02.xlsx"),
    "--network",
    str(sample_path("hangzhou-xihu", "network")),
    "--no-progress",
    "--no-isochrones",
    "--basemap",
    "blank",
]

STOP_LINE = {
    "zh": "错误：西湖社区名单_gcj02.xlsx 的坐标按GCJ-02（高德、腾讯）读取时与道路吻合得多，"
    "按WGS-84（GPS、OpenStreetMap）读取则像随机散落的点：请加上 --coord-system gcj02 重新运行"
    "（如确为 WGS-84，请写明 --coord-system wgs84）",
    "en": "error: 西湖社区名单_gcj02.xlsx: the points fit the roads far better read as GCJ-02 "
    "(Amap, Tencent) than as WGS-84 (GPS, OpenStreetMap): run again with --coord-system gcj02 "
    "(or give --coord-system wgs84 if you are sure)",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_amap_lists_without_coord_system_stop_with_one_line(tmp_path, capsys, lang):
    out = tmp_path / "out"
    code = main(["audit", *XIHU_FILES, "--out", str(out), "--lang", lang])
    captured = capsys.readouterr()
    assert code == EXIT_INPUT
    assert captured.err == STOP_LINE[lang] + "\n"  # one line, no Python warning text
    assert captured.out == ""
    assert not out.exists()


def test_baidu_points_name_their_option(tmp_path, capsys):
    xihu = load_sample("hangzhou-xihu")
    g = xihu.communities.geometry.to_crs(4326)
    lon, lat = wgs84_to_bd09(g.x.to_numpy(), g.y.to_numpy())
    frame = pd.DataFrame(xihu.communities.drop(columns="geometry")).assign(lon=lon, lat=lat)
    frame.to_csv(tmp_path / "baidu.csv", index=False, encoding="utf-8-sig")
    args = ["audit", *XIHU_FILES, "--out", str(tmp_path / "out"), "--lang", "en"]
    args[2] = str(tmp_path / "baidu.csv")
    assert main(args) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: baidu.csv: the points fit the roads far better read as BD-09")
    assert "run again with --coord-system bd09" in err


def test_explicit_coord_system_goes_on_and_the_reports_note_the_doubt(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["audit", *XIHU_FILES, "--out", str(out), "--lang", "zh", "--coord-system", "wgs84"]
    )
    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert captured.err == (
        "注意：西湖社区名单_gcj02.xlsx 的坐标按GCJ-02（高德、腾讯）读取时与道路吻合得多，"
        "但已按您指定的 --coord-system wgs84 计算；报告中注明了这一疑问\n"
    )
    run = out / "西湖社区名单_gcj02"
    doubt = (
        "坐标系存疑：西湖社区名单_gcj02.xlsx 按WGS-84（GPS、OpenStreetMap）计算，但这些点按"
        "GCJ-02（高德、腾讯）读取时与道路吻合得多（核查 80 个点）。"
    )
    district = next(p for p in run.iterdir() if p.is_dir())
    for folder in (run, district):
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        checks = {c["points"]: c for c in summary["coordinate_check"]}
        assert checks["西湖社区名单_gcj02.xlsx"]["verdict"] == "doubt"
        assert checks["西湖社区名单_gcj02.xlsx"]["fits"] == "gcj02"
        assert checks["服务中心_gcj02.xlsx"]["verdict"] == "cannot tell"
        html = (folder / "summary.html").read_text(encoding="utf-8")
        assert f"<p class=doubt>{doubt}" in html
        page = (folder / "map.html").read_text(encoding="utf-8")  # on the map too
        assert "class='cp-doubt'" in page
        assert doubt in page
        about = openpyxl.load_workbook(folder / "report.xlsx")["说明"]
        rows = [(r[0], r[1]) for r in about.iter_rows(values_only=True)]
        assert any(k == "坐标系核查" and str(v).startswith(doubt) for k, v in rows), rows
    whole = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert whole["districts"][-1]["covered"] == 325  # 73.7 %: the audit as asked (59.4 % as GCJ-02)


def test_an_infeasible_plan_has_its_own_exit_code(tmp_path, capsys):
    from coverage.cli import EXIT_NO_SOLUTION

    com, halls, net = _user_files(tmp_path)
    # only H2 (4, 4) stays: A (400 households), B (800) and D (600) are outside their circle;
    # the one candidate, at B (2, 2), reaches all three but holds 300 m² / 30 × 100 = 1,000
    pd.read_csv(halls).iloc[[1]].to_csv(halls, index=False)
    site = grid_points([(2, 2)])
    cand = tmp_path / "sites.csv"
    pd.DataFrame(
        {"hall_id": ["S1"], "lon": site.x, "lat": site.y, "floor_area_m2": [300.0]}
    ).to_csv(cand, index=False)
    code = main([
        "propose", "--communities", str(com), "--halls", str(halls), "--network", str(net),
        "--out", str(tmp_path / "out"), "--no-progress", "--candidates", str(cand),
        "--basemap", "blank",
    ])  # fmt: skip
    assert code == EXIT_NO_SOLUTION
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert "demand 1,800 households > total capacity 1,000" in err  # the numbers that do not add up


@pytest.mark.parametrize(
    ("error", "code"),
    [("InputDataError", 3), ("NetworkError", 3), ("OfflineExportError", 4),
     ("InfeasibleAllocationError", 6), ("CoverageError", 1)],
)  # fmt: skip
def test_each_error_class_maps_to_its_exit_code(error, code):
    import coverage
    from coverage.cli import _exit_code

    assert _exit_code(getattr(coverage, error)("x")) == code


# --- what a planner sees (issue 14, items 7-11) ---------------------------------------------


def _commands():
    from coverage.cli import _parser

    parser = _parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, sub.choices


def test_version_is_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"coverage-planner {metadata.version('coverage-planner')}\n"


def test_every_option_of_every_command_has_help_stating_its_default():
    from coverage.cli import _HelpFormatter

    parser, commands = _commands()
    shown = 0
    for name, command in {"": parser, **commands}.items():
        formatter = _HelpFormatter(name)
        for action in command._actions:
            if action.help == argparse.SUPPRESS or isinstance(
                action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
            ):
                continue
            text = formatter._get_help_string(action) % {"default": action.default}
            assert text.strip(), f"{name} {action.option_strings}: no help"
            assert "default" in text, f"{name} {action.option_strings}: no default in {text!r}"
            if action.default not in {None, False}:  # a stated value is the real one
                assert str(action.default) in text, (name, action.option_strings, text)
            shown += 1
    assert shown > 50  # audit, isochrones and propose each have about 20 options


def test_unit_flags_are_named_alike_and_old_spellings_still_work():
    parser, commands = _commands()
    unit_flags = {"--cell-m", "--spacing-m", "--max-hall-m2", "--time-limit-s"}
    listed = {o for c in commands.values() for a in c._actions for o in a.option_strings
              if a.help != argparse.SUPPRESS}  # fmt: skip
    assert unit_flags <= listed
    old_names = {"--buffer", "--cell", "--spacing", "--max-floor-area", "--max-floor-area-m2"}
    assert not (old_names | {"--time-limit"}) & listed
    old = parser.parse_args(
        ["propose", "--spacing", "300", "--time-limit", "5", "--max-floor-area", "700"]
    )
    assert (old.spacing_m, old.time_limit_s, old.max_hall_m2) == (300, 5, 700)
    assert parser.parse_args(["propose", "--max-floor-area-m2", "650"]).max_hall_m2 == 650
    old = parser.parse_args(["audit", "--buffer", "100", "--cell", "10"])
    assert (old.buffer_m, old.cell_m) == (100, 10)
    new = parser.parse_args(["propose"])  # defaults under the new names
    assert (new.spacing_m, new.time_limit_s, new.max_hall_m2) == (400, 60, None)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["isochrones", "--basemap", "blank"], "unrecognized arguments: --basemap blank"),
        (["propose", "--model", "mclp"], "--model mclp needs --p, the number of new halls"),
        (["propose", "--p", "3"], "--p is only used by --model mclp (got --model capacitated)"),
        (["audit", "--basemap", "tianditu"], "--basemap tianditu needs --tianditu-key KEY"),
        (["audit", "--buffer-m", "-1"], "argument --buffer-m: must be >= 0, got -1"),
        (["audit", "--workers", "0"], "argument --workers: must be >= 1, got 0"),
        (["propose", "--spacing-m", "0"], "argument --spacing-m: must be > 0, got 0"),
    ],
)
def test_usage_errors_name_the_flags_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err
    assert not re.search(r"\w=", err.splitlines()[-1])  # no Python keyword (p=, tianditu_key=)


def test_a_cap_smaller_than_any_community_gives_each_its_own_hall_and_says_so(tmp_path):
    com, halls, net = _user_files(tmp_path)
    code = main(["propose", "--communities", str(com), "--halls", str(halls), "--network",
                 str(net), "--max-hall-m2", "1", "--out", str(tmp_path / "out"),
                 "--no-progress", "--basemap", "blank", "--lang", "en"])  # fmt: skip
    assert code == EXIT_OK
    proposals = pd.read_csv(next((tmp_path / "out").rglob("proposals.csv")))
    assert len(proposals) > 0
    assert proposals["reason"].str.contains("needs more than the cap alone").all()


def test_errors_keep_the_parameters_they_name_through_pickling():
    # (dask sends a worker's error back pickled)
    error = InputDataError.naming("{model}: give {max_floor_area_m2} {x}", model="'capacitated'",
                                  max_floor_area_m2="700")  # fmt: skip
    assert str(error) == "model='capacitated': give max_floor_area_m2=700 {x}"
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert back.spelled(_flag) == "--model capacitated: give --max-hall-m2 700 {x}"
    assert InputDataError("plain {x}").spelled(_flag) == "plain {x}"


def test_piped_run_has_no_carriage_returns_and_no_dask_chatter(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(coverage.__file__).parents[1])}
    rules = tmp_path / "rules.toml"
    rules.write_text("parallel_pays_s = 0\n")  # start the processes however small the work
    run = subprocess.run(  # noqa: S603 (our own command)
        [sys.executable, "-m", "coverage.cli", "audit", "--sample", "liechtenstein", "--workers",
         "2", "--no-isochrones", "--basemap", "blank", "--lang", "en", "--out", str(tmp_path),
         "--config", str(rules)],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert run.returncode == EXIT_OK, run.stderr
    assert "\r" not in run.stderr  # no progress bar into a log
    assert "INFO" not in run.stderr  # dask's scheduler and worker lines stay quiet
    assert run.stderr.splitlines() == ["• loading sample liechtenstein …",
                                       "• routing 23 communities to 3 halls (walk) …"]  # fmt: skip
    assert run.stdout.splitlines()[-1] == f"all files: {tmp_path / 'liechtenstein'}"


def test_progress_bars_on_a_terminal(tmp_path, capsys, monkeypatch):
    com, halls, net = _user_files(tmp_path)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    argv = ["audit", "--communities", str(com), "--halls", str(halls), "--network", str(net),
            "--out", str(tmp_path / "out"), "--no-isochrones", "--basemap", "blank"]  # fmt: skip
    assert main(argv) == EXIT_OK
    err = capsys.readouterr().err
    assert "district tables: 100%" in err
    assert "district maps: 100%" in err


@pytest.mark.filterwarnings("default")
@pytest.mark.parametrize(
    ("lang", "start"),
    [
        ("zh", "注意：社区.csv：没有“类型”列 (kind)，5 个社区全部按城市社区（15 分钟标准）评估。"),
        ("en", "warning: 社区.csv: no 'kind' column (类型); all 5 communities are taken as urban"),
    ],
)
def test_a_warning_is_one_plain_line_in_the_runs_language(tmp_path, capsys, lang, start):
    com, halls, net = _user_files(tmp_path)
    frame = pd.read_csv(com, encoding="utf-8-sig").drop(columns="类型")
    frame.to_csv(com, index=False, encoding="utf-8-sig")
    argv = ["audit", "--communities", str(com), "--halls", str(halls), "--network", str(net),
            "--out", str(tmp_path / "out"), "--no-isochrones", "--basemap", "blank",
            "--no-progress", "--lang", lang]  # fmt: skip
    assert main(argv) == EXIT_OK
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(start)
    assert "UserWarning" not in line
    assert ".py:" not in line


def test_terminal_table_aligns_chinese_names_by_display_width(capsys):
    table = pd.DataFrame({
        "district": ["示意片区A (illustrative zone A)", "Vaduz", "(all)"],
        "communities": [449, 12, 461], "covered": [228, 12, 240],
        "covered_share": [0.508, 1.0, 0.5206], "population_covered_share": [0.459, 1.0, 0.47],
    })  # fmt: skip
    _print_table(table, "en")
    assert capsys.readouterr().out.splitlines() == [
        "district                         communities  covered   share  pop. share",
        "示意片区A (illustrative zone A)          449      228   50.8%       45.9%",
        "Vaduz                                     12       12  100.0%      100.0%",
        "(all)                                    461      240   52.1%       47.0%",
    ]


def test_terminal_table_in_chinese(capsys):
    table = pd.DataFrame({
        "district": ["Vaduz", "(all)"], "communities": [12, 12], "covered": [6, 6],
        "covered_share": [0.5, 0.5], "population_covered_share": [0.25, 0.25],
    })  # fmt: skip
    _print_table(table, "zh")
    assert capsys.readouterr().out.splitlines() == [
        # name column 5 wide (片区 and 合计 take 4), numbers right-aligned under their heads
        "片区 " + "  社区数" + "  达标" + "  达标比例" + "  人口达标比例",
        "Vaduz" + "      12" + "     6" + "     50.0%" + "         25.0%",
        "合计 " + "      12" + "     6" + "     50.0%" + "         25.0%",
    ]


def test_long_names_are_shortened_between_words():
    assert _fit("示意片区A (illustrative zone A)", 20) == "示意片区A…"
    assert _fit("示意片区A (illustrative zone A)", 27) == "示意片区A (illustrative…"
    assert _fit("留下街道社区服务中心很长的名字", 10) == "留下街道…"  # 4 × 2 columns + …
    assert _fit("Vaduz", 5) == "Vaduz"


def test_district_by_its_beginning_before_the_network_is_read(tmp_path, capsys):
    com, halls, net = _user_files(tmp_path)
    base = ["audit", "--communities", str(com), "--halls", str(halls), "--network", str(net),
            "--out", str(tmp_path / "out"), "--no-isochrones", "--basemap", "blank"]  # fmt: skip
    assert main([*base, "--district", "ea"]) == EXIT_OK  # East, ignoring case
    assert sorted(p.name for p in (tmp_path / "out" / "社区").iterdir() if p.is_dir()) == ["East"]
    capsys.readouterr()
    net.unlink()  # a wrong name is reported before the network is needed
    assert main([*base, "--district", "North"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err == "error: unknown district 'North'; known: 'East', 'West'\n"


def test_ambiguous_district_lists_the_candidates_before_routing(tmp_path, capsys):
    argv = ["audit", "--sample", "liechtenstein", "--district", "tries", "--out", str(tmp_path)]
    assert main(argv) == EXIT_INPUT
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "error: district 'tries' is ambiguous: 'Triesen', 'Triesenberg'"
    assert not any(line.startswith("• routing") for line in err)
    assert main([*argv[:-3], "Triesen", "--out", str(tmp_path), "--no-isochrones",
                 "--basemap", "blank"]) == EXIT_OK  # fmt: skip
    folders = sorted(p.name for p in (tmp_path / "liechtenstein").iterdir() if p.is_dir())
    assert folders == ["Triesen"]  # the exact name wins over the longer Triesenberg


def test_title_sets_the_map_and_report_title(tmp_path):
    com, halls, net = _user_files(tmp_path)
    base = ["audit", "--communities", str(com), "--halls", str(halls), "--network", str(net),
            "--no-isochrones", "--basemap", "blank", "--no-progress"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "a"), "--title", "拱墅区 2026 年评估"]) == EXIT_OK
    run = tmp_path / "a" / "社区"
    for page in (run / "summary.html", run / "map.html", run / "West" / "summary.html"):
        assert "拱墅区 2026 年评估" in page.read_text(encoding="utf-8"), page
    assert main([*base, "--out", str(tmp_path / "b")]) == EXIT_OK
    html = (tmp_path / "b" / "社区" / "summary.html").read_text(encoding="utf-8")
    assert "<title>社区" in html
    assert "社区.csv" not in html  # the default title is the file's name without its suffix


def test_propose_caps_a_new_hall_by_default_and_says_so():
    from coverage.cli import _parser

    parser = _parser()
    args = parser.parse_args(["propose"])
    assert args.model == "capacitated"
    assert args.max_hall_m2 is None  # falls back to Config.max_new_hall_m2
    assert parser.parse_args(["propose", "--max-floor-area", "600"]).max_hall_m2 == 600
    sub = parser._subparsers._group_actions[0].choices["propose"]
    (cap,) = [a for a in sub._actions if a.dest == "max_hall_m2" and a.help != "==SUPPRESS=="]
    assert "800" in cap.help
