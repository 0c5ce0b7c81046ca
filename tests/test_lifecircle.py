"""The life-circle audit: several services, each with its circle, one pass per service.

Grid facts (coverage.testing): 5 x 5 nodes 300 m apart, walking at 4.5 km/h (75 m a minute,
one edge 4 minutes). Communities A (0, 1) urban, B (2, 2) urban, C (2, 2.5) rural, D (3, 0)
urban, E (0.5, 4) rural.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from coverage._errors import ConfigError, InputDataError
from coverage.audit import CoverageWarning, audit
from coverage.io import read_osm_pois
from coverage.lifecircle import (
    PRESETS,
    ResidentGroup,
    Service,
    Standard,
    audit_services,
    load_standard,
    osm_tags,
    service_sites,
)
from coverage.samples import load_sample, sample_path
from coverage.testing import grid_communities, grid_graph, grid_halls

CLINIC = Service("clinic", "卫生服务站", "clinic", {"urban": 15, "rural": 20}, {}, "test")
MARKET = Service("market", "菜市场", "market", {}, {"urban": 1200}, "test")  # 16 min on foot
TWO = Standard("两项", "two services", "test", (CLINIC, MARKET))


def _sites():
    halls = grid_halls()  # H1 at node (0, 0), H2 at node (4, 4)
    return {"clinic": halls.iloc[[0]], "market": halls.iloc[[1]]}


def test_two_services_by_hand(grid_net):
    r = audit_services(grid_communities(), _sites(), grid_net, standard=TWO).communities
    # clinic at (0, 0): A 1 edge, B 4, C 4.5, D 3, E 4.5; market at (4, 4): A 7, B 4, C 3.5,
    # D 5, E 3.5 edges; 4 minutes an edge
    assert r["clinic_min"].tolist() == [4.0, 16.0, 18.0, 12.0, 18.0]
    assert r["market_min"].tolist() == [28.0, 16.0, 14.0, 20.0, 14.0]
    assert r["clinic_limit_min"].tolist() == [15.0, 15.0, 20.0, 15.0, 20.0]
    assert r["market_limit_min"].tolist()[:2] == [16.0, 16.0]
    assert np.isnan(r["market_limit_min"].iloc[2])  # rural: the market has no circle
    assert r["clinic_ok"].tolist() == [True, False, True, True, True]
    assert r["market_ok"].tolist() == [False, True, False, False, False]
    assert r["services_required"].tolist() == [2, 2, 1, 2, 1]
    assert r["completeness"].tolist() == [0.5, 0.5, 1.0, 0.5, 1.0]
    assert r["missing"].tolist() == [
        "market (2,100 m on the network, circle 1,200 m)",  # set in metres: said in metres
        "clinic (16.0 min, circle 15.0 min)",
        "",
        "market (1,500 m on the network, circle 1,200 m)",
        "",
    ]
    assert r["missing_zh"].iloc[1] == "卫生服务站（16.0 分钟，标准 15.0 分钟）"
    assert r["missing_zh"].iloc[3] == "菜市场（路网距离 1,500 米，标准 1,200 米）"


def test_per_service_summary(grid_net):
    s = audit_services(grid_communities(), _sites(), grid_net, standard=TWO).services
    assert s["service"].tolist() == ["clinic", "market"]
    assert s["communities_required"].tolist() == [5, 3]
    assert s["communities_within"].tolist() == [4, 1]
    assert s["share_within"].tolist() == [0.8, pytest.approx(1 / 3)]


def test_a_service_is_the_audit_of_its_sites():
    """One truth: a service's minutes are the audit's minutes for its sites as halls."""
    sample = load_sample("hangzhou-xihu")
    halls = sample.halls
    sites = {"clinic": halls.iloc[::2], "market": halls.iloc[1::2]}
    r = audit_services(sample.communities, sites, sample.network, standard=TWO).communities
    for key, frame in sites.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            a = audit(sample.communities, frame, sample.network).communities
        np.testing.assert_array_equal(r[f"{key}_min"].to_numpy(), a["travel_time_min"].to_numpy())
    assert r["clinic_min"].notna().sum() > 0.9 * len(r)


def test_the_hangzhou_preset_gives_the_audits_verdicts(grid_net):
    std = load_standard("hangzhou-2017")
    assert [s.key for s in std.services] == ["hall"]
    r = audit_services(grid_communities(), {"hall": grid_halls()}, grid_net, standard=std)
    a = audit(grid_communities(), grid_halls(), grid_net).communities
    assert r.communities["hall_ok"].tolist() == a["covered"].tolist()


def test_presets_load_with_their_sources():
    for name in PRESETS:
        std = load_standard(name)
        assert std.source
        assert all(s.source for s in std.services)
    gb = load_standard("gb50180-2018")
    assert {s.metres["urban"] for s in gb.services} == {300.0, 500.0, 1000.0}
    assert all(s.assumed for s in gb.services)  # the tier distances, not the table's own


def test_bad_standards_name_the_key(tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text(
        'name = "x"\ncolour = "red"\n[services.clinic]\nurban_min = -3\nrural_minutes = 5\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_standard(bad)
    message = str(info.value)
    assert message.startswith(str(bad))
    for part in (
        "unknown key 'colour'",
        "'services.clinic.urban_min' must be a positive",
        "unknown key 'services.clinic.rural_minutes'",
        "'services.clinic.source'",
    ):
        assert part in message


def test_sites_must_match_the_standard(grid_net):
    with pytest.raises(InputDataError, match="no sites for service"):
        audit_services(grid_communities(), {"clinic": grid_halls()}, grid_net, standard=TWO)
    with pytest.raises(InputDataError, match="school are not in the standard"):
        audit_services(
            grid_communities(), {**_sites(), "school": grid_halls()}, grid_net, standard=TWO
        )


def test_two_resident_groups_walk_at_their_own_speed(grid_net):
    com = grid_communities().assign(
        over_60=[100, 200, 300, 400, 500], children=[50, 50, 50, 50, 50]
    )
    groups = {
        "over_60": ResidentGroup("over_60", speed_kph=3.0),  # 1.5 times the minutes of 4.5 km/h
        "children": ResidentGroup("children", speed_kph=3.6),  # 1.25 times
    }
    r = audit_services(com, _sites(), grid_net, standard=TWO, groups=groups)
    c = r.communities
    assert c["clinic_min_over_60"].tolist() == [6.0, 24.0, 27.0, 18.0, 27.0]
    assert c["clinic_ok_over_60"].tolist() == [True, False, False, False, False]
    assert c["clinic_min_children"].tolist() == [5.0, 20.0, 22.5, 15.0, 22.5]
    assert c["clinic_ok_children"].tolist() == [True, False, False, True, False]
    assert c["market_ok_over_60"].tolist() == [False] * 5  # 42, 24, -, 30, - against 16
    s = r.services.set_index("service")
    assert s.loc["clinic", "population_share_within_over_60"] == pytest.approx(100 / 1500)
    assert s.loc["clinic", "population_share_within_children"] == pytest.approx(100 / 250)
    assert s.loc["market", "population_share_within_children"] == 0.0
    # everyone else at 4.5 km/h: the verdicts of the first test
    assert c["clinic_ok"].tolist() == [True, False, True, True, True]


def test_a_group_needs_its_column(grid_net):
    with pytest.raises(InputDataError, match="no column 'over_60'"):
        audit_services(
            grid_communities(),
            _sites(),
            grid_net,
            standard=TWO,
            groups={"old": ResidentGroup("over_60")},
        )


# --- real services from the West Lake extract ---------------------------------------------------

XIHU_PBF = sample_path("hangzhou-xihu", "network")


def test_osm_pois_are_the_samples_points_of_interest():
    """read_osm_pois against data/hangzhou-xihu/pois.gpkg, which data/build_samples.py made
    from the same extract by another route (osmnx features)."""
    import geopandas as gpd

    reference = gpd.read_file(sample_path("hangzhou-xihu", "pois"))
    tags = {
        "amenity": [
            "hospital",
            "clinic",
            "doctors",
            "dentist",
            "pharmacy",
            "kindergarten",
            "school",
            "college",
            "university",
            "library",
            "marketplace",
            "post_office",
            "police",
            "community_centre",
            "social_facility",
            "townhall",
        ],  # (the list of data/build_samples.py's POI_TAGS)
        "shop": ["supermarket", "convenience", "greengrocer", "butcher"],
    }
    pois = read_osm_pois(XIHU_PBF, tags)
    assert sorted(pois["osm_id"]) == sorted(reference["osm_id"])  # the same 136 objects
    both = pois.merge(reference, on="osm_id", suffixes=("", "_ref"))
    assert (both["category"] == both["category_ref"]).all()
    assert (both["name"] == both["name_ref"].fillna("")).all()
    # nodes exactly; a building's point somewhere inside it (each route picks its own)
    metric = gpd.GeoSeries(both.geometry, crs=4326).to_crs(32651)
    ref_metric = gpd.GeoSeries(both["geometry_ref"], crs=4326).to_crs(32651)
    gap = metric.distance(ref_metric).to_numpy()
    nodes = both["osm_id"].str.startswith("node/").to_numpy()
    assert gap[nodes].max() < 1e-6
    assert gap[~nodes].max() < 50


def test_the_life_circle_of_west_lake_from_its_own_osm_services():
    sample = load_sample("hangzhou-xihu")
    gb = load_standard("gb50180-2018")
    pois = read_osm_pois(XIHU_PBF, osm_tags(gb))
    sites = service_sites(pois, gb)
    # by hand from pois.gpkg: 29 supermarkets + 2 greengrocers + 1 butcher + 2 marketplaces;
    # 13 hospitals + 1 clinic; 7 schools; no kindergarten, community centre or social facility
    assert {k: len(v) for k, v in sites.items()} == {
        "middle_school": 7,
        "health_centre": 14,
        "primary_school": 7,
        "market": 34,
        "kindergarten": 0,
        "service_station": 0,
        "elderly_day_care": 0,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        r = audit_services(sample.communities, sites, sample.network, standard=gb)
    c = r.communities
    urban = (c["kind"] == "urban").to_numpy()
    assert (c.loc[urban, "services_required"] == 7).all()
    assert not c["kindergarten_ok"].any()  # no site in the 2015 data: missing everywhere
    assert c.loc[urban, "missing"].str.contains("kindergarten (none reachable)", regex=False).all()
    # the market's minutes are the audit's minutes for the 34 markets as halls
    markets = sites["market"].rename(columns={"osm_id": "hall_id"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        a = audit(sample.communities, markets, sample.network).communities
    np.testing.assert_array_equal(c["market_min"].to_numpy(), a["travel_time_min"].to_numpy())
    assert 0 < c["market_ok"].sum() < len(c)
    assert c.loc[urban, "completeness"].between(0, 4 / 7).all()


def test_districts_coverage_completeness_and_equity_by_hand(grid_net):
    d = audit_services(grid_communities(), _sites(), grid_net, standard=TWO).districts
    d = d.set_index(["district", "service"])
    west = d.loc[("West", "clinic")]  # A, B, D: urban, 1,000 / 2,000 / 1,500 residents
    assert (west["communities_required"], west["communities_within"]) == (3, 2)
    assert west["share_within_urban"] == pytest.approx(2 / 3)
    assert np.isnan(west["share_within_rural"])
    assert west["population_share_within"] == pytest.approx(2500 / 4500)
    assert west["median_min"] == 12.0
    # times 4, 12, 16 min for 1,000, 1,500, 2,000 people: mean 12; sum of w_i w_j |t_i - t_j|
    # over ordered pairs = 2 (1000·1500·8 + 1000·2000·12 + 1500·2000·4) = 96e6;
    # Gini = 96e6 / (2 · 4500² · 12)
    assert west["gini_travel_time"] == pytest.approx(96e6 / (2 * 4500**2 * 12))
    assert d.loc[("East", "clinic"), "gini_travel_time"] == pytest.approx(0.0)  # 18 and 18
    assert d.loc[("East", "market"), "communities_required"] == 0  # no rural market circle
    # completeness 0.5, 0.5, 1, 0.5, 1 (A..E)
    assert d.loc[("West", "clinic"), ["complete", "half_or_more", "under_half"]].tolist() == [
        0,
        3,
        0,
    ]
    assert d.loc[("East", "clinic"), "mean_completeness"] == 1.0
    assert d.loc[("(all)", "market"), "mean_completeness"] == pytest.approx(3.5 / 5)


def test_lorenz_and_gini_of_equal_and_unequal_access():
    from coverage.lifecircle import gini, lorenz

    people, time = lorenz(np.array([5.0, 5.0, 5.0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(people, time)  # equal trips: the diagonal
    assert gini(np.array([5.0, 5.0, 5.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(0.0)
    # one of n people makes every trip: Gini (n - 1) / n
    assert gini(np.array([0.0, 0.0, 0.0, 9.0]), np.ones(4)) == pytest.approx(3 / 4)
    assert np.isnan(gini(np.array([np.inf]), np.ones(1)))  # no one reaches it


# --- per service, the times of an independent networkx computation ------------------------------


def _routing_digraph(net):
    """The network's segments as a networkx DiGraph: an edge per direction that can be
    travelled, weighted by its time (seconds); the faster of parallel segments."""
    import networkx as nx

    G = nx.DiGraph()
    ends = zip(
        net.seg_u.tolist(),
        net.seg_v.tolist(),
        net.seg_fwd_s.tolist(),
        net.seg_bwd_s.tolist(),
        strict=True,
    )
    for u, v, fwd, bwd in ends:
        for a, b, w in ((u, v, fwd), (v, u, bwd)):
            if np.isfinite(w) and (not G.has_edge(a, b) or G[a][b]["w"] > w):
                G.add_edge(a, b, w=w)
    return G


def _networkx_minutes(net, communities, sites) -> np.ndarray:
    """Minutes from each community to its nearest site by networkx, on the routing graph.

    The graph is built from the network's segments (one directed edge per direction that
    can be travelled, weighted by its time); each community and site is a node of its own,
    joined to both ends of its snapped segment at the time along the segment from its
    position plus its off-road walk (the snapping offsets, from coverage.engine.snap), and a
    community and a site on the same segment are joined directly. networkx's multi-source
    Dijkstra from the sites over the reversed graph then gives the trip times; neither
    scipy nor the engine's own graph algebra is used.
    """
    import networkx as nx

    from coverage.engine import snap

    G = _routing_digraph(net)
    homes = snap(net, communities.geometry.representative_point())
    places = snap(net, sites.geometry)

    def along(frac, time_s):
        return 0.0 if frac <= 0 else frac * time_s

    targets = []
    for j in np.flatnonzero(places.ok):
        s, f, a = int(places.seg[j]), float(places.frac[j]), float(places.access_s[j])
        node = ("site", int(j))
        G.add_edge(int(net.seg_u[s]), node, w=along(f, net.seg_fwd_s[s]) + a)
        G.add_edge(int(net.seg_v[s]), node, w=along(1 - f, net.seg_bwd_s[s]) + a)
        targets.append((node, s, f, a))
    starts = []
    for i in range(len(homes)):
        node = ("home", i)
        starts.append(node)
        if not homes.ok[i]:
            continue
        s, f, a = int(homes.seg[i]), float(homes.frac[i]), float(homes.access_s[i])
        G.add_edge(node, int(net.seg_u[s]), w=along(f, net.seg_bwd_s[s]) + a)
        G.add_edge(node, int(net.seg_v[s]), w=along(1 - f, net.seg_fwd_s[s]) + a)
        for t_node, ts, tf, ta in targets:
            if ts == s:  # the same segment: straight along it
                d = tf - f
                w = along(d, net.seg_fwd_s[s]) if d >= 0 else along(-d, net.seg_bwd_s[s])
                G.add_edge(node, t_node, w=w + a + ta)
    if not targets:
        return np.full(len(homes), np.inf)
    dist = nx.multi_source_dijkstra_path_length(
        G.reverse(copy=False), [t[0] for t in targets], weight="w"
    )
    return np.array([dist.get(n, np.inf) for n in starts]) / 60.0


def _check_against_networkx(sample, sites, standard) -> tuple[float, float]:
    """The audit's minutes of every service against networkx's.

    Returns the largest gap in seconds of the unrounded pass (the engine's seconds, which the
    audit rounds to 0.01 min) and of the audit's own rounded minutes.
    """
    from coverage.engine import nearest_facility, snap

    net = sample.network
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        r = audit_services(sample.communities, sites, net, standard=standard)
    c = r.communities
    homes = snap(net, sample.communities.geometry.representative_point())
    worst_raw = worst = 0.0
    for service in r.standard.services:
        ours = c[f"{service.key}_min"].to_numpy(float)  # rounded to 0.01 min in the output
        theirs = _networkx_minutes(net, sample.communities, sites[service.key])
        reached = np.isfinite(theirs)
        assert (np.isfinite(ours) == reached).all(), service.key
        if reached.any():
            raw = nearest_facility(net, homes, snap(net, sites[service.key].geometry)).time_s
            np.testing.assert_array_equal(np.round(raw[reached] / 60, 2), ours[reached])
            raw_gap = np.abs(raw[reached] - theirs[reached] * 60)
            worst_raw = max(worst_raw, float(raw_gap.max()))
            assert raw_gap.max() < 1e-6, service.key
            gap = np.abs(ours[reached] - theirs[reached]) * 60
            worst = max(worst, float(gap.max()))
            assert gap.max() <= 0.005 * 60 + 1e-6, service.key  # the rounding, no more
        limit = c[f"{service.key}_limit_min"].to_numpy(float)
        clear = np.abs(theirs - limit) > 0.01  # verdicts away from the rounding's reach
        ok = c[f"{service.key}_ok"].to_numpy(bool)
        assert (ok[clear] == (theirs[clear] <= limit[clear])).all(), service.key
    return worst_raw, worst


def test_west_lake_services_agree_with_networkx():
    sample = load_sample("hangzhou-xihu")
    gb = load_standard("gb50180-2018")
    sites = service_sites(read_osm_pois(XIHU_PBF, osm_tags(gb)), gb)
    raw, rounded = _check_against_networkx(sample, sites, gb)
    print(  # noqa: T201
        f"West Lake, 4 services with sites x 441 communities: max |diff| {raw:.1e} s, "
        f"{rounded:.3f} s after rounding to 0.01 min"
    )


# --- Liechtenstein's own services ---------------------------------------------------------------

LI_PBF = sample_path("liechtenstein", "network")
LI_TAGS = {
    "amenity": ["school", "kindergarten", "pharmacy", "post_office"],
    "shop": ["supermarket"],
}
LI_STANDARD = """
name = "Liechtenstein test"
source = "a test: the 15/20 minutes of the Hangzhou plan for five services"
[services.school]
osm = ["amenity=school"]
urban_min = 15
rural_min = 20
source = "test"
[services.kindergarten]
osm = ["amenity=kindergarten"]
urban_min = 15
rural_min = 20
source = "test"
[services.pharmacy]
osm = ["amenity=pharmacy"]
urban_min = 15
rural_min = 20
source = "test"
[services.post_office]
osm = ["amenity=post_office"]
urban_min = 15
rural_min = 20
source = "test"
[services.supermarket]
osm = ["shop=supermarket"]
urban_min = 15
rural_min = 20
source = "test"
"""


def _pyosmium_objects(path, tags) -> dict[str, set[str]]:
    """An independent pass over the file (pyosmium's handler and area assembler, not our
    reader): per tag value, the ids of the tagged nodes and of the areas built from closed
    ways; areas from multipolygon relations apart, under "relation"."""
    import osmium

    found: dict[str, set[str]] = {}

    class Handler(osmium.SimpleHandler):
        def node(self, n):
            self._add(n.tags, f"node/{n.id}")

        def area(self, a):
            kind = "way" if a.from_way() else "relation"
            self._add(a.tags, f"{kind}/{a.orig_id()}")

        def _add(self, obj_tags, oid):
            for key, values in tags.items():
                value = obj_tags.get(key)
                if value in values:
                    found.setdefault(value, set()).add(oid)
                    return

    Handler().apply_file(str(path), locations=True)
    return found


def test_liechtenstein_services_from_its_osm_extract(tmp_path):
    pois = read_osm_pois(LI_PBF, LI_TAGS)
    reference = _pyosmium_objects(LI_PBF, LI_TAGS)
    counts = pois["category"].value_counts().to_dict()
    assert set(counts) == {"school", "kindergarten", "pharmacy", "post_office", "supermarket"}
    for category, ids in reference.items():
        plain = {i for i in ids if not i.startswith("relation/")}
        assert set(pois.loc[pois["category"] == category, "osm_id"]) == plain, category
    # the independent pass's counts, written down (nodes + closed ways; no relation carries
    # these tags in this extract): schools 7 + 12, kindergartens 5 + 1, pharmacies 3 + 0,
    # post offices 6 + 2, supermarkets 8 + 3
    assert sum(i.startswith("relation/") for ids in reference.values() for i in ids) == 0
    assert counts == {
        "school": 19,
        "kindergarten": 6,
        "pharmacy": 3,
        "post_office": 8,
        "supermarket": 11,
    }
    standard = tmp_path / "li.toml"
    standard.write_text(LI_STANDARD, encoding="utf-8")
    std = load_standard(standard)
    sites = service_sites(read_osm_pois(LI_PBF, osm_tags(std)), std)
    assert {k: len(v) for k, v in sites.items()} == counts
    sample = load_sample("liechtenstein")
    raw, rounded = _check_against_networkx(sample, sites, std)
    print(  # noqa: T201
        f"Liechtenstein, 5 services x 23 communities: max |diff| {raw:.1e} s, "
        f"{rounded:.3f} s after rounding to 0.01 min"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        r = audit_services(sample.communities, sites, sample.network, standard=std)
    vaduz = r.communities.set_index("name").loc["Vaduz"]
    assert vaduz["services_required"] == 5  # rural: 20 minutes for each
    assert vaduz["pharmacy_ok"]


# --- outputs: per-service table, service areas, map, workbook, page, folder, command line -------


def test_one_service_per_community_by_hand(grid_net):
    r = audit_services(grid_communities(), _sites(), grid_net, standard=TWO)
    from coverage.lifecircle import service_table

    clinic = service_table(r, "clinic")
    assert clinic["community_id"].tolist() == ["A", "B", "C", "D", "E"]
    assert clinic["time_min"].tolist() == [4.0, 16.0, 18.0, 12.0, 18.0]
    assert clinic["distance_m"].tolist() == [300.0, 1200.0, 1350.0, 900.0, 1350.0]  # 75 m/min
    assert clinic["circle_min"].tolist() == [15.0, 15.0, 20.0, 15.0, 20.0]
    assert clinic["circle_m"].isna().all()  # set in minutes
    market = service_table(r, "market")
    assert market["circle_m"].tolist()[:2] == [1200.0, 1200.0]
    assert np.isnan(market["circle_m"].iloc[2])  # rural: no market circle
    assert market["within"].tolist() == [False, True, False, False, False]


def test_service_areas_hold_exactly_the_communities_within(grid_net):
    from coverage.lifecircle import service_areas

    com = grid_communities()
    r = audit_services(com, _sites(), grid_net, standard=TWO)
    areas = service_areas(r, _sites(), grid_net)
    assert areas[["service", "kinds", "band_min"]].values.tolist() == [
        ["clinic", "urban", 15.0],
        ["clinic", "rural", 20.0],
        ["market", "urban", 16.0],  # 1,200 m at 75 m a minute
    ]
    assert areas["circle_m"].fillna(0).tolist() == [0, 0, 1200.0]
    # the drawn edge may cut a cell's corner at 45 degrees: within half a cell (12.5 m), as
    # test_isochrones allows for the audit's areas
    pts = com.geometry.to_crs(grid_net.crs)
    for row in areas.to_crs(grid_net.crs).itertuples():
        held = (com["kind"] == row.kinds).to_numpy()
        ok = r.communities[f"{row.service}_ok"].to_numpy()
        outside_by = pts.distance(row.geometry).to_numpy()
        inside_by = np.where(pts.within(row.geometry), pts.distance(row.geometry.boundary), 0)
        assert (outside_by[held & ok] <= 12.5).all(), row.service
        assert (inside_by[held & ~ok] <= 12.5).all(), row.service
    clinic_15 = areas.to_crs(grid_net.crs).geometry.iloc[0]
    assert pts.iloc[[0, 3]].within(clinic_15).all()  # A (4 min) and D (12 min) well inside
    assert (pts.iloc[[0, 3]].distance(clinic_15.boundary) > 50).all()


def test_the_life_circle_map_names_layers_and_escapes(grid_net, tmp_path):
    from coverage.maps import life_circle_map, save_map

    com = grid_communities()
    com.loc[0, "name"] = "<script>alert(1)</script>"
    sites = _sites()
    r = audit_services(com, sites, grid_net, standard=TWO)
    m = life_circle_map(r, sites, network=grid_net, lang="en", basemap="blank")
    html = m.get_root().render()
    for text in (
        "clinic (1)",  # one layer per service: its sites
        "market (1)",
        "Communities: Completeness (5)",
        "Completeness 100% (every service)",  # C and E
        "Completeness 50% to under 75%",  # A, B and D
        "market: service area (1,200 m on the network)",
        "1,200 m on the network, drawn at 16.0 min at 4.5 km/h",  # the legend says so
        "clinic: service area (15 min) (urban)",
        "market (2,100 m on the network, circle 1,200 m)",  # A's popup: what it misses
    ):
        assert text in html, text
    assert "<script>alert(1)</script>" not in html
    assert "Completeness 0% to under 25%" not in html  # only the steps drawn
    zh = life_circle_map(r, sites, network=grid_net, basemap="blank").get_root().render()
    assert "服务完整度 100%（全部达标）" in zh
    assert "服务完整度 50% 至不足 75%" in zh
    assert "路网 1,200 米，按 4.5 千米/小时画作 16.0 分钟" in zh
    saved = save_map(m, tmp_path / "lc.html").read_text(encoding="utf-8")  # offline
    assert "<script src=" not in saved  # Leaflet inlined, nothing fetched
    assert "clinic (1)" in saved


def test_the_workbook_has_a_sheet_per_service(grid_net, tmp_path):
    import openpyxl

    from coverage.reports import write_life_circle_excel

    com = grid_communities().assign(over_60=[100, 200, 300, 400, 500])
    r = audit_services(
        com,
        _sites(),
        grid_net,
        standard=TWO,
        groups={"over_60": ResidentGroup("over_60", speed_kph=3.0)},
    )
    wb = openpyxl.load_workbook(write_life_circle_excel(tmp_path / "lc.xlsx", r))
    assert wb.sheetnames == ["服务汇总", "卫生服务站", "菜市场", "服务完整度", "各区县", "评估标准"]
    ws = wb["卫生服务站"]
    head = [c.value for c in ws[1]]
    assert head[:5] == ["社区编号", "名称", "区县", "类型", "人口"]
    assert head[5:] == [
        "出行时间(分钟)",
        "路网距离(米)",
        "服务圈(分钟)",
        "服务圈(米)",
        "在服务圈内",
        "出行时间(分钟) · over_60",
        "在服务圈内 · over_60",
    ]
    b = [c.value for c in ws[3]]  # community B: 16 min, 1,200 m, circle 15 min
    assert b[:4] == ["B", "社区B", "West", "城市"]
    assert b[5:] == [16.0, 1200.0, 15.0, None, "否", 24.0, "否"]
    done = wb["服务完整度"]
    assert [c.value for c in done[1]][5:] == [
        "应配置服务项数",
        "服务圈内项数",
        "服务完整度",
        "缺少的服务",
        "缺少的服务（英文）",
    ]
    assert done["H2"].value == 0.5
    assert done["H2"].number_format == "0.0%"
    assert done["I5"].value == "菜市场（路网距离 1,500 米，标准 1,200 米）"  # D
    per = wb["各区县"]
    rows = [[c.value for c in row] for row in per.iter_rows(min_row=2, max_col=2)]
    assert rows == [
        ["East", "卫生服务站"],
        ["East", "菜市场"],
        ["West", "卫生服务站"],
        ["West", "菜市场"],
        ["合计", "卫生服务站"],
        ["合计", "菜市场"],
    ]
    en = openpyxl.load_workbook(write_life_circle_excel(tmp_path / "en.xlsx", r, lang="en"))
    assert en.sheetnames[:3] == ["Services", "clinic", "market"]
    assert en["clinic"]["J1"].value == "Within the circle"


def test_the_page_has_a_section_per_service_with_its_lorenz_curves(grid_net):
    from coverage.reports import life_circle_html, life_circle_section

    com = grid_communities()
    com.loc[com["district"] == "West", "district"] = "West <b>"
    r = audit_services(com, _sites(), grid_net, standard=TWO)
    page = life_circle_html(r, lang="en", links={"map": "life_circle_map.html"})
    assert page.count("<section class=service") == 2
    assert page.count("<svg class=chart") == 2
    assert "Lorenz curve of travel time: clinic" in page
    assert "West &lt;b&gt; (Gini 0.20)" in page  # 96e6 / (2 · 4500² · 12) = 0.198 (by hand above)
    assert "West <b>" not in page
    assert 'href="life_circle_map.html"' in page
    lead = life_circle_section(r, lang="en")
    assert "<td>clinic</td><td>urban 15 min; rural 20 min</td><td class=n>80.0%</td>" in lead
    assert 'href="life_circle.html"' in lead


def _own_files(tmp_path):
    import osmnx as ox
    import pandas as pd

    com = grid_communities()
    frame = pd.DataFrame(
        {
            "编号": com["community_id"],
            "社区名称": com["name"],
            "所属区县": com["district"],
            "类型": com["kind"].map({"urban": "城市", "rural": "农村"}),
            "人口": com["population"],
            "经度": com.geometry.x,
            "纬度": com.geometry.y,
        }
    )
    frame.to_csv(tmp_path / "社区.csv", index=False, encoding="utf-8-sig")
    halls = grid_halls()
    pd.DataFrame(
        {"名称": halls["name"], "经度": halls.geometry.x, "纬度": halls.geometry.y}
    ).to_csv(tmp_path / "halls.csv", index=False)
    sites = pd.DataFrame(
        {
            "名称": ["诊所", "市场"],
            "经度": halls.geometry.x,
            "纬度": halls.geometry.y,
            "service": ["clinic", "market"],
        }
    )
    sites.to_csv(tmp_path / "sites.csv", index=False, encoding="utf-8-sig")
    standard = tmp_path / "two.toml"
    standard.write_text(
        'name = "两项"\nsource = "test"\n'
        '[services.clinic]\nname = "卫生服务站"\nurban_min = 15\nrural_min = 20\nsource = "t"\n'
        '[services.market]\nname = "菜市场"\nurban_m = 1200\nsource = "t"\n',
        encoding="utf-8",
    )
    ox.save_graphml(grid_graph(), tmp_path / "grid.graphml")
    own = [
        "--communities",
        str(tmp_path / "社区.csv"),
        "--halls",
        str(tmp_path / "halls.csv"),
        "--network",
        str(tmp_path / "grid.graphml"),
    ]
    return own, standard, tmp_path / "sites.csv"


def test_the_command_line_writes_the_life_circle(tmp_path, capsys):
    import openpyxl

    from coverage.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main

    own, standard, sites = _own_files(tmp_path)
    args = [
        "audit",
        *own,
        "--services",
        str(standard),
        "--service-sites",
        str(sites),
        "--basemap",
        "blank",
        "--no-progress",
        "--no-isochrones",
    ]
    assert main([*args, "--out", str(tmp_path / "out")]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[5].split() == [
        "服务",
        "设施点",
        "应配置社区",
        "圈内社区",
        "社区比例",
        "人口比例",
    ]
    clinic_line = next(line for line in out.splitlines() if line.startswith("卫生服务站"))
    # all but B: 3,800 of 5,800 residents
    assert clinic_line.split()[1:] == ["1", "5", "4", "80.0%", "65.5%"]
    run = tmp_path / "out" / "社区"
    for name in ("life_circle.html", "life_circle.xlsx", "life_circle_map.html"):
        assert (run / name).is_file(), name
    assert 'href="life_circle.html"' in (run / "summary.html").read_text(encoding="utf-8")
    assert (run / "West" / "life_circle.html").is_file()  # and every district's folder
    west = (run / "West" / "summary.html").read_text(encoding="utf-8")
    assert 'href="life_circle.html"' in west  # the district's page links to its own
    wb = openpyxl.load_workbook(run / "life_circle.xlsx")
    assert wb["卫生服务站"]["F3"].value == 16.0  # B, as by hand
    # bad values: one line naming the flag
    assert main([*args[:-4], "--services", "gb5018", "--out", str(tmp_path / "x")]) == EXIT_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: --services 'gb5018': neither a bundled standard")
    bad = tmp_path / "bad_sites.csv"
    bad.write_text("名称,经度,纬度,service\nX,120.15,30.25,clnic\n", encoding="utf-8")
    code = main(
        [
            *args[:7],
            "--services",
            str(standard),
            "--service-sites",
            str(bad),
            "--out",
            str(tmp_path / "y"),
        ]
    )
    assert code == EXIT_INPUT
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: --service-sites {bad}: service(s) 'clnic' are not in")
    with pytest.raises(SystemExit) as info:
        main(["audit", "--service-sites", str(sites)])
    assert info.value.code == EXIT_USAGE


def test_the_command_line_reads_a_samples_services_from_its_extract(tmp_path, capsys):
    from coverage.cli import EXIT_OK, main

    code = main(
        [
            "audit",
            "--sample",
            "liechtenstein",
            "--services",
            "gb50180-2018",
            "--lang",
            "en",
            "--basemap",
            "blank",
            "--no-progress",
            "--no-isochrones",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == EXIT_OK
    captured = capsys.readouterr()
    lines = {line.split("  ")[0].strip(): line.split() for line in captured.out.splitlines()}
    assert lines["kindergarten"][1] == "6"  # the extract's 6 kindergartens
    assert lines["primary school"][2] == "19"
    assert "no site for community service station, elderly day care" in captured.err
    page = (tmp_path / "liechtenstein" / "life_circle.html").read_text(encoding="utf-8")
    assert page.count("<section class=service") == 7


def test_each_district_folder_gets_its_life_circle(grid_net, tmp_path):
    import openpyxl

    from coverage.reports import write_life_circle

    sites = _sites()
    r = audit_services(grid_communities(), sites, grid_net, standard=TWO)
    west = r.district("West")
    assert west.communities["community_id"].tolist() == ["A", "B", "D"]
    s = west.services.set_index("service")
    assert s.loc["clinic", "communities_within"] == 2  # A and D, as by hand
    assert s.loc["clinic", "population_share_within"] == pytest.approx(2500 / 4500)
    folders = {"West": tmp_path / "West", "East": tmp_path / "East", "(all)": tmp_path}
    write_life_circle(tmp_path, r, sites, network=grid_net, basemap="blank", folders=folders)
    page = (tmp_path / "West" / "life_circle.html").read_text(encoding="utf-8")
    assert 'href="../life_circle.html"' in page
    assert 'href="summary.html"' in page
    wb = openpyxl.load_workbook(tmp_path / "East" / "life_circle.xlsx")
    assert [c.value for c in wb["卫生服务站"]["A"]] == ["社区编号", "C", "E"]
    assert (tmp_path / "East" / "life_circle_map.html").is_file()
