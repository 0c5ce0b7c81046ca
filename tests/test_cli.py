"""Command line, end to end: real sample, user files, errors as one line with exit codes."""

from __future__ import annotations

import json

import openpyxl
import osmnx as ox
import pandas as pd
import pytest

from coverage.cli import EXIT_INPUT, EXIT_OK, main
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
    assert "written to" in capsys.readouterr().out


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
    assert "unknown district(s) 'Nowhere'; known: East, West" in capsys.readouterr().err
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
    assert main([*base, "--out", str(tmp_path / "b"), "--basemap", "tianditu"]) == EXIT_INPUT
    assert "needs a key" in capsys.readouterr().err


def test_propose_closes_the_gap_and_is_verified_by_routing(tmp_path, capsys):
    com, halls, net = _user_files(tmp_path)
    out = tmp_path / "out"
    code = main([
        "propose", "--communities", str(com), "--halls", str(halls), "--network", str(net),
        "--out", str(out), "--no-progress", "--spacing", "300", "--basemap", "blank",
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
def test_batch_on_two_workers_matches_serial(tmp_path):
    pytest.importorskip("distributed")
    base = ["audit", "--sample", "hangzhou-xihu", "--no-progress", "--basemap", "blank"]
    assert main([*base, "--out", str(tmp_path / "serial")]) == EXIT_OK
    assert (
        main([*base, "--out", str(tmp_path / "batch"), "--workers", "2", "--buffer-m", "3000"])
        == EXIT_OK
    )
    a = pd.read_csv(tmp_path / "serial" / "hangzhou-xihu" / "communities.csv", encoding="utf-8-sig")
    b = pd.read_csv(tmp_path / "batch" / "hangzhou-xihu" / "communities.csv", encoding="utf-8-sig")
    assert a["community_id"].tolist() == b["community_id"].tolist()
    # with a 3 km buffer every district job sees every route a resident would take
    pd.testing.assert_series_equal(a["travel_time_min"], b["travel_time_min"])
    assert (a["status"] == b["status"]).all()


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
    (sub,) = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(district[:6])]
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


def test_propose_caps_a_new_hall_by_default_and_says_so():
    from coverage.cli import _parser

    parser = _parser()
    args = parser.parse_args(["propose"])
    assert args.model == "capacitated"
    assert args.max_hall_m2 is None  # falls back to Config.max_new_hall_m2
    assert parser.parse_args(["propose", "--max-floor-area", "600"]).max_hall_m2 == 600
    sub = parser._subparsers._group_actions[0].choices["propose"]
    (cap,) = [a for a in sub._actions if a.dest == "max_hall_m2"]
    assert "800" in cap.help
