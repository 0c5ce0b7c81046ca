"""Batches of district jobs: clipping, the buffer's effect, dask workers, failures."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from coverage import batch
from coverage._errors import InputDataError, MissingColumnError, NetworkError
from coverage.audit import ALL_DISTRICTS, audit
from coverage.batch import BatchResult, audit_district, clip_network, run_batch
from coverage.config import Config
from coverage.testing import GRID_CRS, grid_communities, grid_halls, grid_xy

METRIC = "EPSG:32651"  # the UTM zone of central Hangzhou


def _box(r0, c0, r1, c1):
    """A grid-aligned box (grid positions) as an EPSG:4326 polygon."""
    box = shapely.box(*grid_xy(r0, c0), *grid_xy(r1, c1))
    return gpd.GeoSeries([box], crs=GRID_CRS).to_crs(4326).iloc[0]


@pytest.fixture(scope="module")
def grid_zones():
    return gpd.GeoDataFrame(
        {"district": ["West", "East"]},
        geometry=[_box(-0.5, -0.5, 4.5, 2.25), _box(-0.5, 2.25, 4.5, 4.5)],
        crs=4326,
    )


@pytest.fixture(scope="module")
def whole(hangzhou):
    """The whole-network audit of the hangzhou-central sample."""
    return audit(hangzhou.communities, hangzhou.halls, hangzhou.network)


@pytest.fixture(scope="module")
def batch_3000(hangzhou) -> BatchResult:
    return run_batch(
        hangzhou.communities, hangzhou.halls, hangzhou.network, hangzhou.districts, buffer_m=3000
    )


def _minutes(frame: pd.DataFrame) -> np.ndarray:
    """Travel times, minutes; unreachable as +inf."""
    return frame["travel_time_min"].astype(float).fillna(np.inf).to_numpy()


# --- clipping -------------------------------------------------------------------------------


def test_clip_keeps_edges_with_one_end_inside(grid_net):
    west = _box(-0.5, -0.5, 4.5, 1.5)  # columns 0 and 1
    sub = clip_network(grid_net, west, 0)
    # columns 0-1 are inside; edges from column 1 to column 2 are kept with their end node
    assert sub.n_nodes == 15
    cols = sorted({int(n) % 5 for n in sub.node_ids.tolist()})
    assert cols == [0, 1, 2]
    assert sub.mode == grid_net.mode
    assert sub.crs == grid_net.crs
    assert sub.speed_kph == grid_net.speed_kph
    # vertical edges in column 2 have no end inside: dropped
    assert len(sub.seg_u) == 4 * 2 + 5 * 2  # edges along columns 0-1, across columns 0-1-2


def test_clip_from_table_matches_clip_from_network(hangzhou):
    poly = hangzhou.districts.geometry.iloc[0]
    a = clip_network(hangzhou.network, poly, 1000)
    b = clip_network(hangzhou.network.table, poly, 1000, config=batch.clip_config(
        hangzhou.network, None))  # fmt: skip
    assert a.crs == b.crs == hangzhou.network.crs
    np.testing.assert_array_equal(a.node_ids, b.node_ids)
    np.testing.assert_array_equal(a.seg_u, b.seg_u)
    assert (a.csr != b.csr).nnz == 0
    assert 0 < a.n_nodes < hangzhou.network.n_nodes


@pytest.mark.parametrize(
    ("polygon", "match"),
    [
        (shapely.Polygon(), "empty or not a polygon"),
        (shapely.Point(120.1, 30.3), "empty or not a polygon"),
        (shapely.box(226_000, 3_350_000, 227_000, 3_351_000), "not degrees"),
        ("not a geometry", "must be a shapely geometry"),
    ],
)
def test_clip_rejects_bad_polygons(grid_net, polygon, match):
    with pytest.raises(InputDataError, match=match):
        clip_network(grid_net, polygon, 100)


def test_clip_far_away_polygon_has_no_roads(grid_net):
    far = shapely.box(100.0, 20.0, 100.01, 20.01)
    with pytest.raises(NetworkError, match="no road of the network lies within 0 m"):
        clip_network(grid_net, far, 0)


def test_audit_district_uses_halls_of_neighbours(grid_net):
    com, halls = grid_communities(), grid_halls()
    east = _box(-0.5, 2.25, 4.5, 4.5)
    near = audit_district("East", east, com, halls, grid_net, buffer_m=500)
    assert near.halls["hall_id"].tolist() == ["H2"]  # H1 (x = 0 m) is 675 m west of East
    far = audit_district("East", east, com, halls, grid_net, buffer_m=1000)
    assert far.halls["hall_id"].tolist() == ["H1", "H2"]
    assert far.communities["community_id"].tolist() == ["C", "E"]
    with pytest.raises(InputDataError, match="no community in district 'North'"):
        audit_district("North", east, com, halls, grid_net)


def test_grid_batch_equals_whole_audit(grid_net, grid_zones):
    whole_grid = audit(grid_communities(), grid_halls(), grid_net)
    b = run_batch(grid_communities(), grid_halls(), grid_net, grid_zones, buffer_m=2000)
    assert b.ok
    assert_geodataframe_equal(b.communities, whole_grid.communities)
    assert_geodataframe_equal(b.halls, whole_grid.halls)
    pd.testing.assert_frame_equal(b.districts, whole_grid.districts)
    assert set(b.results) == {"East", "West"}
    assert b.seconds["(all)"] > 0


# --- (a) the buffer's effect ------------------------------------------------------------------


def test_no_buffer_worsens_communities_near_district_edges(hangzhou, whole):
    b = run_batch(
        hangzhou.communities, hangzhou.halls, hangzhou.network, hangzhou.districts, buffer_m=0
    )
    before, after = _minutes(whole.communities), _minutes(b.communities)
    worse = after > before + 1e-6
    # measured: 218 of 2,280 communities get a worse time, 75 lose their coverage; 5 get a
    # better one (their nearest road was cut off and they snap to another road with a quicker
    # route). None becomes unreachable: a community whose nearest road the clip cut into a
    # small piece snaps to a connected road of its district (engine.fragment_segments)
    assert worse.sum() >= 100
    assert not (np.isinf(after) & np.isfinite(before)).any()
    assert (whole.communities["covered"] & ~b.communities["covered"]).sum() >= 20
    # the worse ones lie near their district's edge
    polys = hangzhou.districts.set_index("district").to_crs(METRIC).geometry
    pts = hangzhou.communities.to_crs(METRIC)
    edge_m = np.array(
        [polys[d].boundary.distance(p) for d, p in zip(pts["district"], pts.geometry, strict=True)]
    )
    assert np.median(edge_m[worse]) < 500
    assert np.median(edge_m[~worse]) > 1000
    deep = edge_m > 2000  # well inside: nothing changes
    assert deep.sum() > 500
    np.testing.assert_allclose(after[deep], before[deep], atol=1e-6)


def test_buffer_3000_gives_the_whole_network_times(whole, batch_3000):
    np.testing.assert_allclose(
        _minutes(batch_3000.communities), _minutes(whole.communities), rtol=0, atol=1e-6
    )
    # and every other column too: statuses, nearest halls, reasons, hall table
    assert_geodataframe_equal(batch_3000.communities, whole.communities)
    assert_geodataframe_equal(batch_3000.halls, whole.halls)
    pd.testing.assert_frame_equal(batch_3000.districts, whole.districts)


# --- (d) every community exactly once ------------------------------------------------------------


def test_every_community_exactly_once_in_input_order(hangzhou, batch_3000):
    out = batch_3000.communities
    assert out.index.equals(hangzhou.communities.index)
    assert out["community_id"].tolist() == hangzhou.communities["community_id"].tolist()
    assert out["community_id"].is_unique
    assert batch_3000.not_audited.empty
    assert "_batch_row" not in out.columns
    assert "_batch_row" not in batch_3000.halls.columns
    per = sum(len(r.communities) for r in batch_3000.results.values())
    assert per == len(hangzhou.communities)
    table = batch_3000.districts.set_index("district")
    assert table.loc[ALL_DISTRICTS, "communities"] == len(hangzhou.communities)


def test_shuffled_index_is_kept(grid_net, grid_zones):
    com = grid_communities().iloc[[4, 0, 3, 1, 2]]
    com.index = [7, 7, 3, 9, 1]  # duplicated labels: order comes from positions
    b = run_batch(com, grid_halls(), grid_net, grid_zones, buffer_m=2000)
    assert list(b.communities.index) == [7, 7, 3, 9, 1]
    assert b.communities["community_id"].tolist() == ["E", "A", "D", "B", "C"]


# --- (c) failures -------------------------------------------------------------------------------


def test_failed_district_is_reported_and_the_others_complete(hangzhou, monkeypatch):
    names = sorted(hangzhou.districts["district"])
    bad = names[1]
    real = batch.audit

    def flaky(com, hal, net, *, config=None):
        if (com["district"] == bad).all():
            msg = "boom"
            raise RuntimeError(msg)
        return real(com, hal, net, config=config)

    monkeypatch.setattr(batch, "audit", flaky)
    chosen = names[:3]
    b = run_batch(
        hangzhou.communities, hangzhou.halls, hangzhou.network, hangzhou.districts,
        names=chosen, buffer_m=500,
    )  # fmt: skip
    assert not b.ok
    assert [(f.district, f.error, f.stage) for f in b.failures] == [
        (bad, "RuntimeError: boom", "audit")
    ]
    assert "flaky" in b.failures[0].traceback
    assert sorted(b.results) == [names[0], names[2]]
    assert set(b.communities["district"]) == {names[0], names[2]}
    assert set(b.districts["district"]) == {names[0], names[2], ALL_DISTRICTS}
    # every community of the chosen districts exactly once, audited or not
    com = hangzhou.communities
    wanted = com[com["district"].isin(chosen)]
    assert (b.not_audited["district"] == bad).all()
    both = pd.concat([b.communities["community_id"], b.not_audited["community_id"]])
    assert sorted(both) == sorted(wanted["community_id"])
    assert both.is_unique
    assert b.communities["community_id"].tolist() == [
        c for c in wanted["community_id"] if c in set(b.communities["community_id"])
    ]


def test_broken_polygon_fails_only_its_district(grid_net, grid_zones):
    zones = grid_zones.copy()
    zones.loc[zones["district"] == "East", "geometry"] = shapely.Polygon()
    b = run_batch(grid_communities(), grid_halls(), grid_net, zones, buffer_m=2000)
    assert [f.district for f in b.failures] == ["East"]
    assert "empty or not a polygon" in b.failures[0].error
    assert b.communities["community_id"].tolist() == ["A", "B", "D"]
    assert b.not_audited["community_id"].tolist() == ["C", "E"]


def test_write_files_and_a_failing_writer(grid_net, grid_zones, tmp_path):
    b = run_batch(
        grid_communities(), grid_halls(), grid_net, grid_zones, buffer_m=2000, out_dir=tmp_path
    )
    assert b.ok
    for d in ("East", "West"):
        assert {p.name for p in (tmp_path / d).iterdir()} == {
            "communities.csv", "halls.csv", "summary.json",
        }  # fmt: skip

    def writer(district, result, folder):
        if district == "West":
            msg = "disk full"
            raise OSError(msg)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "n.txt").write_text(str(len(result.communities)))

    b = run_batch(grid_communities(), grid_halls(), grid_net, grid_zones, buffer_m=2000,
                  out_dir=tmp_path / "own", write=writer)  # fmt: skip
    assert [(f.district, f.stage, f.error) for f in b.failures] == [
        ("West", "write", "OSError: disk full")
    ]
    assert len(b.communities) == 5  # the audit result is kept
    assert (tmp_path / "own" / "East" / "n.txt").read_text() == "2"


# --- input checks ---------------------------------------------------------------------------------


def test_input_errors_are_raised_up_front(grid_net, grid_zones):
    com, halls = grid_communities(), grid_halls()
    with pytest.raises(InputDataError, match="unknown district 'North'; known: 'East', 'West'"):
        run_batch(com, halls, grid_net, grid_zones, names=["West", "North"])
    with pytest.raises(InputDataError, match="no polygon for district"):
        run_batch(com, halls, grid_net, grid_zones[grid_zones["district"] == "West"])
    with pytest.raises(MissingColumnError, match="'district'"):
        run_batch(com.drop(columns="district"), halls, grid_net, grid_zones)
    with pytest.raises(MissingColumnError, match="'district'"):
        run_batch(com, halls, grid_net, grid_zones.rename(columns={"district": "name"}))
    with pytest.raises(InputDataError, match="workers"):
        run_batch(com, halls, grid_net, grid_zones, workers=0)
    with pytest.raises(InputDataError, match="needs out_dir"):
        run_batch(com, halls, grid_net, grid_zones, write=batch.write_district)
    with pytest.raises(InputDataError, match="buffer_m"):
        run_batch(com, halls, grid_net, grid_zones, buffer_m=-1)


def test_one_district_by_name(grid_net, grid_zones):
    b = run_batch(grid_communities(), grid_halls(), grid_net, grid_zones, names=["East"])
    assert b.communities["community_id"].tolist() == ["C", "E"]
    assert list(b.results) == ["East"]
    # by its beginning, ignoring case (a single name as a string)
    assert list(run_batch(grid_communities(), grid_halls(), grid_net, grid_zones,
                          names="we").results) == ["West"]  # fmt: skip


# --- (b) dask ------------------------------------------------------------------------------


def _children() -> set[int]:
    """Child processes, except multiprocessing's resource tracker and fork server (they live as
    long as we do; the fork server is idle between pools and starts the next pool's workers)."""
    psutil = pytest.importorskip("psutil")
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            line = " ".join(p.cmdline())
            if "resource_tracker" not in line and "forkserver" not in line:
                out.add(p.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def _assert_no_new_children(before: set[int]) -> None:
    deadline = time.monotonic() + 10
    while (new := _children() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not new, f"worker processes left behind: {new}"


def test_local_cluster_gives_the_serial_result(hangzhou, batch_3000):
    pytest.importorskip("distributed")
    before = _children()
    par = run_batch(
        hangzhou.communities, hangzhou.halls, hangzhou.network, hangzhou.districts,
        buffer_m=3000, workers=2, config=Config(parallel_pays_s=0),  # processes, however small
    )  # fmt: skip
    _assert_no_new_children(before)
    assert par.ok
    for attr in ("communities", "halls", "districts"):  # every value exactly, not approximately
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(par, attr)), pd.DataFrame(getattr(batch_3000, attr)),
            check_exact=True,
        )  # fmt: skip
    assert_geodataframe_equal(par.communities, batch_3000.communities)
    assert_geodataframe_equal(par.halls, batch_3000.halls)
    pd.testing.assert_frame_equal(par.districts, batch_3000.districts)
    for name, r in batch_3000.results.items():
        assert_geodataframe_equal(par.results[name].communities, r.communities)
        assert par.results[name].network == r.network


def test_existing_cluster_by_address_reports_failures(grid_net, grid_zones, tmp_path):
    distributed = pytest.importorskip("distributed")
    zones = grid_zones.copy()
    zones.loc[zones["district"] == "East", "geometry"] = shapely.Point(120, 30)
    before = _children()
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    try:
        b = run_batch(grid_communities(), grid_halls(), grid_net, zones, buffer_m=2000,
                      scheduler=cluster.scheduler_address, out_dir=tmp_path)  # fmt: skip
        assert cluster.status.name == "running"  # an existing cluster is left running
    finally:
        cluster.close()
    _assert_no_new_children(before)
    assert [(f.district, f.stage) for f in b.failures] == [("East", "audit")]
    assert "InputDataError" in b.failures[0].error
    assert b.communities["community_id"].tolist() == ["A", "B", "D"]
    assert (tmp_path / "West" / "summary.json").exists()  # written on the worker
    assert not (tmp_path / "East").exists()


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two single-threaded worker processes started with dask's own
    commands on 127.0.0.1 (as a planner's IT would start them on several machines)."""
    import os
    import shutil
    import socket
    import subprocess
    import sys

    distributed = pytest.importorskip("distributed")
    dask = shutil.which("dask") or str(__import__("pathlib").Path(sys.executable).parent / "dask")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "error"}
    log = (tmp_path / "dask.log").open("w")
    procs = [
        subprocess.Popen(  # noqa: S603 (our own command line)
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                ":0",
            ],
            stdout=log,
            stderr=log,
            env=env,
        )
    ]
    procs += [
        subprocess.Popen(  # noqa: S603
            [dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"],
            stdout=log,
            stderr=log,
            env=env,
        )
        for i in range(2)
    ]
    try:
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):  # workers first, then the scheduler
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=15)
        log.close()


def test_cli_on_a_scheduler_started_by_dask_equals_serial_and_a_killed_worker_loses_nothing(
    dask_cluster, tmp_path
):
    from coverage.cli import main

    base = ["audit", "--sample", "liechtenstein", "--no-isochrones", "--basemap", "blank",
            "--no-progress", "--lang", "en"]  # fmt: skip
    assert (
        main([*base, "--out", str(tmp_path / "serial"), "--workers", "1"]) == 0
    )  # in this process
    assert main([*base, "--out", str(tmp_path / "dask"), "--scheduler", dask_cluster]) == 0
    serial = pd.read_csv(tmp_path / "serial" / "liechtenstein" / "communities.csv")
    on_dask = pd.read_csv(tmp_path / "dask" / "liechtenstein" / "communities.csv")
    pd.testing.assert_frame_equal(on_dask, serial, check_exact=True)
    # the district folders were written on the workers, from the same combined result
    folders = sorted(
        p.name for p in (tmp_path / "serial" / "liechtenstein").iterdir() if p.is_dir()
    )
    assert len(folders) == 11, folders  # Liechtenstein's 11 municipalities
    for name in folders:
        ours, theirs = (
            tmp_path / "serial" / "liechtenstein" / name,
            tmp_path / "dask" / "liechtenstein" / name,
        )
        for file in ("communities.csv", "halls.csv", "summary.json"):
            assert (theirs / file).read_bytes() == (ours / file).read_bytes(), (name, file)
        assert (theirs / "map.html").stat().st_size > 10_000
        assert (theirs / "report.xlsx").exists()

    # a worker dies in the middle of a district's job: the scheduler gives the job to the
    # other worker (the nanny restarts the dead one), and no district is lost
    from coverage.samples import load_sample

    sample = load_sample("liechtenstein")
    killed = tmp_path / "killed"

    def write(district, result, folder):
        import os

        from coverage.batch import write_district

        if district == "Vaduz" and not killed.exists():
            killed.touch()
            os._exit(1)  # the worker process dies, mid-job
        write_district(district, result, folder)

    b = run_batch(sample.communities, sample.halls, sample.network, sample.districts,
                  scheduler=dask_cluster, out_dir=tmp_path / "kill", write=write)  # fmt: skip
    assert killed.exists()
    assert b.ok, b.failures
    assert sorted(b.results) == sorted(sample.communities["district"].unique())
    assert (tmp_path / "kill" / "Vaduz" / "summary.json").exists()
    here = run_batch(sample.communities, sample.halls, sample.network, sample.districts)
    pd.testing.assert_frame_equal(
        b.communities.drop(columns="geometry"), here.communities.drop(columns="geometry")
    )

    # the command's own district steps (DistrictPool, as write_district_reports uses it): a
    # worker dies in the middle of a step chained to an earlier one; the scheduler reruns
    # what it held, and every job's result comes back, in order
    from coverage.pool import DistrictPool

    died = tmp_path / "died"

    def first(job):
        return job * 10

    def second(job, prior):
        import os

        if job == 5 and not died.exists():
            died.touch()
            os._exit(1)  # the worker process dies, mid-step
        return prior + job

    with DistrictPool(scheduler=dask_cluster) as pool:
        tens = pool.submit(first, list(range(20)), desc="first")
        sums = pool.submit(second, list(range(20)), desc="second", after=tens, chain=True)
        assert sums.result() == [11 * k for k in range(20)]
    assert died.exists()
