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
from coverage.testing import grid_communities, grid_halls

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
        audit_services(grid_communities(), {**_sites(), "school": grid_halls()}, grid_net,
                       standard=TWO)  # fmt: skip


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
        audit_services(grid_communities(), _sites(), grid_net, standard=TWO,
                       groups={"old": ResidentGroup("over_60")})  # fmt: skip


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
        "middle_school": 7, "health_centre": 14, "primary_school": 7, "market": 34,
        "kindergarten": 0, "service_station": 0, "elderly_day_care": 0,
    }  # fmt: skip
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

    G = nx.DiGraph()
    for u, v, fwd, bwd in zip(
        net.seg_u.tolist(), net.seg_v.tolist(), net.seg_fwd_s.tolist(), net.seg_bwd_s.tolist(),
        strict=True,
    ):  # fmt: skip
        for a, b, w in ((u, v, fwd), (v, u, bwd)):
            if np.isfinite(w) and (not G.has_edge(a, b) or G[a][b]["w"] > w):
                G.add_edge(a, b, w=w)
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
    print(f"West Lake, 4 services with sites x 441 communities: max |diff| {raw:.1e} s, "  # noqa: T201
          f"{rounded:.3f} s after rounding to 0.01 min")  # fmt: skip


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
    assert counts == {"school": 19, "kindergarten": 6, "pharmacy": 3, "post_office": 8,
                      "supermarket": 11}  # fmt: skip
    standard = tmp_path / "li.toml"
    standard.write_text(LI_STANDARD, encoding="utf-8")
    std = load_standard(standard)
    sites = service_sites(read_osm_pois(LI_PBF, osm_tags(std)), std)
    assert {k: len(v) for k, v in sites.items()} == counts
    sample = load_sample("liechtenstein")
    raw, rounded = _check_against_networkx(sample, sites, std)
    print(f"Liechtenstein, 5 services x 23 communities: max |diff| {raw:.1e} s, "  # noqa: T201
          f"{rounded:.3f} s after rounding to 0.01 min")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        r = audit_services(sample.communities, sites, sample.network, standard=std)
    vaduz = r.communities.set_index("name").loc["Vaduz"]
    assert vaduz["services_required"] == 5  # rural: 20 minutes for each
    assert vaduz["pharmacy_ok"]
