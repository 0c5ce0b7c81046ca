"""Build the bundled sample data in ``data/`` from the raw OpenStreetMap files in ``data/raw/``.

Run from the repository root::

    python data/build_samples.py            # writes every derived file
    python data/build_samples.py --check    # also prints a rough 15-minute walking coverage

Every derived file under ``data/hangzhou-central/``, ``data/hangzhou-xihu/`` and
``data/liechtenstein/`` is re-created by this script, deterministically: rows are sorted, ids are
fixed, coordinates are rounded to 7 decimals (about 1 cm), there are no timestamps in the data and
no random numbers (the "pseudo-random" illustrative values come from SHA-256 of a fixed key). The
rules are the named constants below; ``data/README.md`` explains each of them.

All inputs are OpenStreetMap data, (c) OpenStreetMap contributors, ODbL 1.0; so are the outputs.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import logging
import math
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pandas as pd
import pyogrio
import shapely

logger = logging.getLogger("build_samples")


def words(text: str) -> frozenset[str]:
    """A set of OSM tag values written as one space-separated string."""
    return frozenset(text.split())


# --------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------
DATA_DIR = Path(__file__).resolve().parent
RAW_DIR = DATA_DIR / "raw"
CENTRAL_GRAPHML_GZ = RAW_DIR / "hangzhou_central_drive_osrm2024.graphml.gz"
XIHU_PBF = RAW_DIR / "hangzhou_xihu_2015-02.osm.pbf"  # same data as the .osm.bz2, faster to read
LIECHTENSTEIN_PBF = RAW_DIR / "liechtenstein_2015-07.osm.pbf"

OUTPUT_CRS = "EPSG:4326"
COORD_DECIMALS = 7  # output coordinates are snapped to a 1e-7 degree grid (about 1 cm)
HANGZHOU_METRIC_CRS = "EPSG:32650"  # UTM zone 50N: all Hangzhou areas and distances
LIECHTENSTEIN_METRIC_CRS = "EPSG:32632"  # UTM zone 32N
# GeoPackages record a "last_change" time; pin it so that re-runs give identical files.
GPKG_FIXED_TIMESTAMP = "2000-01-01T00:00:00.000Z"

# --------------------------------------------------------------------------------------------
# Residential blocks (GB 50180-2018 居住街坊: a street-bounded block of 1,000-3,000 residents)
# --------------------------------------------------------------------------------------------
BLOCK_MIN_AREA_M2 = 5_000  # 0.5 ha: smaller faces are junction islands and carriageway gaps
BLOCK_MAX_AREA_M2 = 1_500_000  # 150 ha: larger faces are lakes, hills, parks, rail yards
BLOCK_MIN_COMPACTNESS = 0.15  # Polsby-Popper 4*pi*A/P^2 (circle 1, square 0.785); below = sliver
BLOCK_MAX_NONRESIDENTIAL_SHARE = 0.5  # drop a block more than 50% covered by the land uses below
# OSRM "tunnel" edges run under other roads and water: they bound no block at street level.
CENTRAL_BLOCK_EXCLUDED_OSRM_CLASSES = ("tunnel",)
# OSM polygons that are not residential land (only the West Lake extract has land-use polygons).
NONRESIDENTIAL_TAGS: dict[str, frozenset[str]] = {
    "natural": words("water wood scrub wetland heath grassland bare_rock beach"),
    "landuse": words(
        "grass forest cemetery industrial railway meadow farmland allotments reservoir basin"
        " military quarry village_green recreation_ground orchard"
    ),
    "leisure": words(
        "park garden pitch stadium track golf_course nature_reserve common sports_centre"
    ),
    "waterway": words("riverbank dock"),
}
# A multipolygon cut by the extract edge is closed along it; its inside is the faces whose
# perimeter runs more than this share along the relation's own ways.
CLIPPED_RELATION_MIN_OWN_EDGE = 0.5
# Walkable OSM highway lines (as in shared/data/PROVENANCE.md, "walk graph"): the West Lake
# sample's blocks are the faces between these lines.
WALK_EXCLUDED_HIGHWAYS = words("motorway motorway_link trunk_link construction proposed abandoned")
# Of those, the West Lake sample's blocks are bounded only by streets: the lines a car network
# has too (as in hangzhou-central). Footpaths, steps, cycleways and tracks run inside blocks
# (GB 50180's 街坊 is bounded by urban roads); cutting along them would split a housing estate
# into sub-0.5 ha pieces that the size rule then drops. Empty this set to cut along every
# walkable line instead.
BLOCK_EXCLUDED_HIGHWAYS = words(
    "footway path steps pedestrian cycleway bridleway track corridor crossing"
)

# --------------------------------------------------------------------------------------------
# Population (Hangzhou samples)
# --------------------------------------------------------------------------------------------
GROSS_DENSITY_PER_KM2 = 15_000  # ASSUMPTION: residents per km2 of block area (central Hangzhou
#                                 districts run at roughly 10,000-25,000 per km2)
FLOOR_AREA_PER_PERSON_M2 = 35  # ASSUMPTION: residential floor area per resident
DEFAULT_BUILDING_LEVELS = 6  # ASSUMPTION: storeys where building:levels is missing (the 6-storey
#                              walk-up is the common Hangzhou housing type; 2,052 of 2,054 lack it)
# building=* values counted as housing (building=yes is in: 97% of the extract's buildings).
RESIDENTIAL_BUILDING_VALUES = words("yes residential apartments house dormitory terrace detached")
# The building rule is used only where counted footprints cover at least this share of the
# block, i.e. where the buildings look mapped; elsewhere the density rule is used.
MIN_BUILDING_COVERAGE = 0.15
POPULATION_MIN = 100  # clip estimates to [min, max] residents per community
POPULATION_MAX = 10_000
HANGZHOU_HOUSEHOLD_SIZE = 2.5  # residents per household (Hangzhou average, about 2.5)
RULE_BUILDINGS = "buildings"
RULE_DENSITY = "density"
POPULATION_SOURCE = {  # short labels; data/README.md gives the full rules
    RULE_BUILDINGS: f"estimated: building floor area ({FLOOR_AREA_PER_PERSON_M2} m2/person)",
    RULE_DENSITY: f"estimated: block density ({GROSS_DENSITY_PER_KM2:,}/km2)",
}

# --------------------------------------------------------------------------------------------
# Illustrative planning zones ("districts") and sub-zones ("streets") for Hangzhou
# --------------------------------------------------------------------------------------------
CENTRAL_ZONE_COUNT = 5  # k-means (deterministic init, below) on block centroids
CENTRAL_STREETS_PER_ZONE = 6
XIHU_BBOX = (120.1000, 30.2300, 120.1851, 30.2963)  # the extract's bbox (PROVENANCE.md)
XIHU_ZONE_SPLIT_LON = 120.16  # west / east of this meridian (about the east shore of West Lake)
XIHU_STREETS_PER_ZONE = 3
KMEANS_ITERATIONS = 100

# --------------------------------------------------------------------------------------------
# Illustrative halls (Hangzhou)
# --------------------------------------------------------------------------------------------
HALL_GRID_M = 1_500  # one hall per square grid cell of this size (EPSG:32650, origin at 0 m)
HALL_MIN_BLOCKS_PER_CELL = 5  # cells holding fewer block centroids get no hall
# Floor area: the standard for the households whose block centroids lie in the hall's cell
# (30 m2 per 100 households), times a factor in [0.5, 1.5) from SHA-256 of the hall id, rounded
# to 10 m2, at least HALL_MIN_FLOOR_AREA_M2. About half of the halls fall below the standard.
HALL_STANDARD_M2_PER_HOUSEHOLD = 30 / 100
HALL_AREA_FACTOR_RANGE = (0.5, 1.5)
HALL_MIN_FLOOR_AREA_M2 = 100
HALL_KIND_ILLUSTRATIVE = "社区服务中心 (illustrative)"
HALL_SOURCE_ILLUSTRATIVE = (
    f"illustrative: block nearest the centre of a {HALL_GRID_M:,} m grid cell"
    f" with >= {HALL_MIN_BLOCKS_PER_CELL} blocks"
)

# --------------------------------------------------------------------------------------------
# West Lake points of interest written to hangzhou-xihu/pois.gpkg (real OSM objects)
# --------------------------------------------------------------------------------------------
POI_TAGS: dict[str, frozenset[str]] = {
    "amenity": words(
        "hospital clinic doctors dentist pharmacy kindergarten school college university library"
        " marketplace post_office police community_centre social_facility townhall"
    ),
    "shop": words("supermarket convenience greengrocer butcher"),
}

# --------------------------------------------------------------------------------------------
# Liechtenstein (fully real)
# --------------------------------------------------------------------------------------------
# place=* value -> kind. place=locality is a named spot without residents: left out.
LI_PLACE_KIND = {
    "city": "urban",
    "town": "urban",
    "suburb": "urban",
    "neighbourhood": "urban",
    "village": "rural",
    "hamlet": "rural",
}
LI_COUNTRY_ADMIN_LEVEL = "2"
LI_MUNICIPALITY_ADMIN_LEVEL = "8"
# ASSUMPTION: residents per OSM building, for settlements without a population tag. Calibrated
# on this file: the population tags of the 11 municipal main villages sum to 36,838 and
# Liechtenstein holds 8,965 OSM buildings (polygons and nodes): 36,838 / 8,965 = 4.11 -> 4.1.
LI_PERSONS_PER_BUILDING = 4.1
LI_HOUSEHOLD_SIZE = 2.3  # residents per household (Liechtenstein, about 2.3)
LI_HALL_KIND = "town hall"

# --------------------------------------------------------------------------------------------
# --check: rough walking coverage (not used to build anything)
# --------------------------------------------------------------------------------------------
WALK_SPEED_KPH = 4.5
URBAN_THRESHOLD_MIN = 15

COMMUNITY_COLUMNS = [
    "community_id",
    "name",
    "district",
    "street",
    "kind",
    "population",
    "households",
    "population_source",
    "area_m2",
    "geometry",
]
HALL_COLUMNS = ["hall_id", "name", "floor_area_m2", "kind", "illustrative", "source", "geometry"]
DISTRICT_COLUMNS = ["district", "illustrative", "geometry"]
POI_COLUMNS = ["osm_id", "category", "name", "illustrative", "geometry"]


# ============================================================================================
# Small helpers
# ============================================================================================
def stable_uniform(key: str, low: float, high: float) -> float:
    """Return a value in [low, high) fixed by ``key`` (SHA-256; same on every machine)."""
    fraction = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:12], 16) / 16**12
    return low + (high - low) * fraction


def households_from(population: pd.Series | np.ndarray, household_size: float) -> np.ndarray:
    """Households = round(population / household size), at least 1."""
    values = np.asarray(population, dtype=float)
    return np.maximum(1, np.round(values / household_size)).astype("int64")


def clip_population(values: np.ndarray) -> np.ndarray:
    """Round estimates to whole residents and clip them to [POPULATION_MIN, POPULATION_MAX]."""
    return np.clip(np.round(values), POPULATION_MIN, POPULATION_MAX).astype("int64")


def to_output(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326, snap coordinates to 7 decimals and keep ``columns`` in order."""
    out = gdf.to_crs(OUTPUT_CRS)
    out["geometry"] = shapely.set_precision(out.geometry.values, 10.0**-COORD_DECIMALS)
    return gpd.GeoDataFrame(out[columns].reset_index(drop=True), geometry="geometry")


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """Write one layer to a fresh GeoPackage (any old file is removed first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    logger.info("wrote %s (%d rows)", path.relative_to(DATA_DIR), len(gdf))


def reading_order(points: gpd.GeoSeries, band_m: float = 500.0) -> np.ndarray:
    """Order points north to south in ``band_m`` bands, west to east inside a band."""
    x = np.round(points.x.to_numpy(), 1)
    y = np.round(points.y.to_numpy(), 1)
    band = np.floor((y.max() - y) / band_m)
    return np.lexsort((y * -1, x, band))


def clean_road_name(name: object) -> str | None:
    """Keep the Chinese part of an OSRM name ('黄龙路 Huanglong Road' -> '黄龙路')."""
    if not isinstance(name, str) or not name.strip():
        return None
    name = name.strip()
    if re.search(r"[\u4e00-\u9fff]", name):
        return name.split(" ")[0]
    return name


# ============================================================================================
# Reading OpenStreetMap files
# ============================================================================================
@dataclass
class OsmFeatures:
    """Tagged OSM objects of one file, geometries in EPSG:4326."""

    nodes: gpd.GeoDataFrame  # tagged nodes: osm_id, tags
    areas: gpd.GeoDataFrame  # closed ways and multipolygon relations: osm_id, tags
    highways: gpd.GeoDataFrame  # highway=* ways that are not areas: osm_id, tags


def _ring_polygons(rings: list[list[tuple[float, float]]]) -> shapely.Geometry | None:
    """Polygonal parts of closed rings that osmium could not assemble (made valid)."""
    parts = [shapely.Polygon(r) for r in rings if len(r) >= 4 and r[0] == r[-1]]
    if not parts:
        return None
    geom = shapely.make_valid(shapely.union_all([shapely.make_valid(p) for p in parts]))
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in {"Polygon", "MultiPolygon"}]
    return shapely.union_all(polys) if polys else None


def _close_at_extract_edge(
    outer_lines: list[shapely.LineString], bbox: tuple[float, float, float, float]
) -> shapely.Geometry | None:
    """Rebuild a multipolygon whose outer ways were cut by the extract's bounding box.

    Loose ends of the merged outer ways are extended straight to the nearest point of the bbox
    edge; the ways and the bbox edge split the bbox into faces; the faces whose perimeter runs
    mostly (> CLIPPED_RELATION_MIN_OWN_EDGE) along the relation's own ways are its inside.
    """
    box = shapely.box(*bbox)
    merged = shapely.line_merge(shapely.union_all(outer_lines))
    pieces = [box.exterior]
    pieces += [
        shapely.LineString([end, box.exterior.interpolate(box.exterior.project(end))])
        for end in shapely.get_parts(merged.boundary)
    ]
    faces = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.union_all([merged, *pieces])))
    )
    own = shapely.buffer(merged, 1e-6)
    keep = [
        f
        for f in faces
        if shapely.length(shapely.intersection(f.exterior, own))
        > CLIPPED_RELATION_MIN_OWN_EDGE * f.exterior.length
    ]
    return shapely.union_all(keep) if keep else None


class _OsmCollector:
    """Collects what ``read_osm`` needs while pyosmium streams the file."""

    def __init__(
        self, area_keys: tuple[str, ...], extract_bbox: tuple[float, float, float, float] | None
    ) -> None:
        self.area_keys = area_keys
        self.extract_bbox = extract_bbox
        self.wkb = osmium.geom.WKBFactory()
        self.nodes: list[tuple[str, dict[str, str], shapely.Geometry]] = []
        self.areas: list[tuple[str, dict[str, str], shapely.Geometry]] = []
        self.highways: list[tuple[str, dict[str, str], shapely.Geometry]] = []
        self.way_coords: dict[int, list[tuple[float, float]]] = {}
        self.relation_outers: dict[int, list[int]] = {}
        self.skipped: list[str] = []
        self.repaired: list[str] = []

    def node(self, obj: Any) -> None:  # noqa: ANN401 (osmium object)
        if len(obj.tags) and obj.location.valid():
            point = shapely.from_wkb(self.wkb.create_point(obj))
            self.nodes.append((f"node/{obj.id}", dict(obj.tags), point))

    def way(self, obj: Any) -> None:  # noqa: ANN401
        tags = dict(obj.tags)
        self.way_coords[obj.id] = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
        if "highway" in tags and tags.get("area") != "yes":
            try:
                line = shapely.from_wkb(self.wkb.create_linestring(obj))
            except (RuntimeError, osmium.InvalidLocationError):
                self.skipped.append(f"way/{obj.id} (highway cut by the extract)")
            else:
                self.highways.append((f"way/{obj.id}", tags, line))

    def relation(self, obj: Any) -> None:  # noqa: ANN401
        if any(k in obj.tags for k in self.area_keys):
            self.relation_outers[obj.id] = [
                m.ref for m in obj.members if m.type == "w" and m.role in {"outer", ""}
            ]

    def area(self, obj: Any) -> None:  # noqa: ANN401
        tags = dict(obj.tags)
        if not any(k in tags for k in self.area_keys):
            return
        osm_id = f"{'way' if obj.from_way() else 'relation'}/{obj.orig_id()}"
        try:
            geom = shapely.from_wkb(self.wkb.create_multipolygon(obj))
        except RuntimeError:
            geom = self._repair(obj)
            if geom is None:
                self.skipped.append(f"{osm_id} (area cannot be assembled)")
                return
            self.repaired.append(f"{osm_id} {tags}")
        self.areas.append((osm_id, tags, geom))

    def _repair(self, obj: Any) -> shapely.Geometry | None:  # noqa: ANN401
        if obj.from_way():
            return _ring_polygons([self.way_coords.get(obj.orig_id(), [])])
        if self.extract_bbox is None:
            return None
        lines = [
            shapely.LineString(self.way_coords[w])
            for w in self.relation_outers.get(obj.orig_id(), [])
            if len(self.way_coords.get(w, [])) >= 2
        ]
        return _close_at_extract_edge(lines, self.extract_bbox) if lines else None

    def frame(self, rows: list[tuple[str, dict[str, str], shapely.Geometry]]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {"osm_id": [r[0] for r in rows], "tags": [r[1] for r in rows]},
            geometry=[r[2] for r in rows],
            crs=OUTPUT_CRS,
        )


def read_osm(
    path: Path,
    area_keys: tuple[str, ...],
    extract_bbox: tuple[float, float, float, float] | None = None,
) -> OsmFeatures:
    """Read tagged nodes, areas and highway lines from an OSM file with pyosmium.

    Areas come from osmium's multipolygon assembler (``with_areas``), for objects with a key in
    ``area_keys``. A closed way that osmium rejects as an invalid area (self-intersecting ring)
    is rebuilt from its node locations with ``shapely.make_valid``. A multipolygon relation that
    cannot be assembled because the extract cut its ways is closed along ``extract_bbox`` (see
    ``_close_at_extract_edge``); any other failure is left out and logged.
    """
    collector = _OsmCollector(area_keys, extract_bbox)
    for obj in osmium.FileProcessor(str(path)).with_locations().with_areas():
        if isinstance(obj, osmium.osm.Node):
            collector.node(obj)
        elif isinstance(obj, osmium.osm.Way):
            collector.way(obj)
        elif isinstance(obj, osmium.osm.Relation):
            collector.relation(obj)
        elif isinstance(obj, osmium.osm.Area):
            collector.area(obj)
    for item in collector.repaired:
        logger.info("%s: repaired %s", path.name, item)
    for item in collector.skipped:
        logger.debug("%s: skipped %s", path.name, item)
    logger.info(
        "%s: %d tagged nodes, %d areas, %d highway lines (%d objects skipped)",
        path.name,
        len(collector.nodes),
        len(collector.areas),
        len(collector.highways),
        len(collector.skipped),
    )
    return OsmFeatures(
        nodes=collector.frame(collector.nodes),
        areas=collector.frame(collector.areas),
        highways=collector.frame(collector.highways),
    )


def has_tag(tags: pd.Series, table: dict[str, frozenset[str]]) -> np.ndarray:
    """Boolean mask: the tag dict has any key=value pair listed in ``table``."""
    return np.array([any(t.get(k) in v for k, v in table.items()) for t in tags], dtype=bool)


def first_tag(tags: dict[str, str], table: dict[str, frozenset[str]]) -> str | None:
    """The first value of ``tags`` listed in ``table`` (keys in table order)."""
    for key, values in table.items():
        if tags.get(key) in values:
            return tags[key]
    return None


# ============================================================================================
# Blocks, population, names
# ============================================================================================
def polygonize_lines(lines: np.ndarray) -> np.ndarray:
    """Faces enclosed by ``lines`` (metric CRS): node them with a union, then polygonize."""
    noded = shapely.union_all(lines)
    faces: np.ndarray = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return faces


def covered_area(polygons: np.ndarray, mask: shapely.Geometry | None) -> np.ndarray:
    """Area of each polygon covered by ``mask`` (m2, metric CRS); zeros without a mask."""
    covered = np.zeros(len(polygons))
    if mask is None or not len(polygons):
        return covered
    hit = shapely.intersects(polygons, mask)
    covered[hit] = shapely.area(shapely.intersection(polygons[hit], mask))
    return covered


def filter_blocks(
    faces: np.ndarray, nonresidential: shapely.Geometry | None
) -> tuple[np.ndarray, dict[str, int]]:
    """Apply the size, compactness and land-use rules; return kept faces and drop counts."""
    area = shapely.area(faces)
    perimeter = shapely.length(faces)
    compactness = 4 * math.pi * area / np.maximum(perimeter, 1e-9) ** 2
    too_small = area < BLOCK_MIN_AREA_M2
    too_large = area > BLOCK_MAX_AREA_M2
    sliver = ~too_small & ~too_large & (compactness < BLOCK_MIN_COMPACTNESS)
    candidates = ~too_small & ~too_large & ~sliver
    covered = np.zeros(len(faces))
    covered[candidates] = covered_area(faces[candidates], nonresidential)
    nonres = candidates & (covered > BLOCK_MAX_NONRESIDENTIAL_SHARE * area)
    keep = ~(too_small | too_large | sliver | nonres)
    counts = {
        "faces": len(faces),
        "too_small": int(too_small.sum()),
        "too_large": int(too_large.sum()),
        "sliver": int(sliver.sum()),
        "nonresidential": int(nonres.sum()),
        "kept": int(keep.sum()),
    }
    return faces[keep], counts


def residential_buildings(areas: gpd.GeoDataFrame, metric_crs: str) -> gpd.GeoDataFrame:
    """Building polygons counted as housing, with their residents (metric CRS)."""
    is_home = np.array(
        [t.get("building") in RESIDENTIAL_BUILDING_VALUES for t in areas["tags"]], dtype=bool
    )
    bld = areas[is_home].to_crs(metric_crs)
    levels = []
    for tags in bld["tags"]:
        try:
            value = float(tags.get("building:levels", ""))
        except ValueError:
            value = float("nan")
        levels.append(value if value >= 1 else DEFAULT_BUILDING_LEVELS)
    bld = bld.assign(footprint_m2=bld.area, levels=levels)
    bld["residents"] = bld["footprint_m2"] * bld["levels"] / FLOOR_AREA_PER_PERSON_M2
    return bld[["osm_id", "footprint_m2", "levels", "residents", "geometry"]]


def estimate_population(
    blocks: np.ndarray,
    buildings: gpd.GeoDataFrame | None,
    nonresidential: shapely.Geometry | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Residents per block and the rule used (metric CRS).

    Building rule where counted footprints cover >= MIN_BUILDING_COVERAGE of the block
    (residents of each building shared by area of overlap), else the density rule on the
    block's land outside the non-residential polygons (water, woods, parks, ...).
    """
    area = shapely.area(blocks)
    by_density = (area - covered_area(blocks, nonresidential)) / 1e6 * GROSS_DENSITY_PER_KM2
    footprint = np.zeros(len(blocks))
    by_buildings = np.zeros(len(blocks))
    if buildings is not None and len(buildings):
        geoms = buildings.geometry.to_numpy()
        tree = shapely.STRtree(geoms)
        bi, gi = tree.query(blocks, predicate="intersects")
        overlap = shapely.area(shapely.intersection(blocks[bi], geoms[gi]))
        share = overlap / np.maximum(shapely.area(geoms[gi]), 1e-9)
        np.add.at(footprint, bi, overlap)
        np.add.at(by_buildings, bi, share * buildings["residents"].to_numpy()[gi])
    use_buildings = footprint >= MIN_BUILDING_COVERAGE * area
    population = clip_population(np.where(use_buildings, by_buildings, by_density))
    rule = np.where(use_buildings, RULE_BUILDINGS, RULE_DENSITY)
    return population, rule


def bordering_road_names(
    blocks: np.ndarray, roads: np.ndarray, names: np.ndarray, tolerance_m: float = 1.0
) -> list[str | None]:
    """The named road with the longest stretch along each block's edge (metric CRS)."""
    rims = shapely.buffer(shapely.boundary(blocks), tolerance_m)
    tree = shapely.STRtree(roads)
    bi, ri = tree.query(rims, predicate="intersects")
    named = np.array([isinstance(n, str) for n in names[ri]], dtype=bool)
    bi, ri = bi[named], ri[named]
    length = shapely.length(shapely.intersection(roads[ri], rims[bi]))
    table = pd.DataFrame({"block": bi, "name": names[ri], "length": length})
    per_road = table.groupby(["block", "name"])["length"].sum().reset_index()
    per_road = per_road.sort_values(["block", "length", "name"], ascending=[True, False, True])
    best = per_road.drop_duplicates("block").set_index("block")["name"]
    return [best.get(i) for i in range(len(blocks))]


def block_names(road: list[str | None], numbers: np.ndarray) -> list[str]:
    """'<road>街坊 N' (N counts blocks per road in id order), else '街坊 NNNN' (id number)."""
    counter: dict[str, int] = {}
    out = []
    for road_name, number in zip(road, numbers, strict=True):
        if not isinstance(road_name, str):
            out.append(f"街坊 {number:04d}")
        else:
            counter[road_name] = counter.get(road_name, 0) + 1
            sep = " " if road_name[-1].isascii() else ""  # "Cu Fang Rd 街坊 1"
            out.append(f"{road_name}{sep}街坊 {counter[road_name]}")
    return out


# ============================================================================================
# Illustrative zones and halls
# ============================================================================================
def kmeans(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic k-means: farthest-point initialisation, then Lloyd iterations.

    The first centre is the point nearest the mean; each next one is the point farthest from
    the centres chosen so far. Returns (labels, centres).
    """
    k = min(k, len(points))
    first = int(np.argmin(((points - points.mean(axis=0)) ** 2).sum(axis=1)))
    centres = [points[first]]
    dist = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        nxt = int(np.argmax(dist))
        centres.append(points[nxt])
        dist = np.minimum(dist, ((points - points[nxt]) ** 2).sum(axis=1))
    c = np.array(centres, dtype=float)
    labels = np.zeros(len(points), dtype=int)
    for _ in range(KMEANS_ITERATIONS):
        d2 = ((points[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new_labels = d2.argmin(axis=1)
        new_c = np.array(
            [
                points[new_labels == j].mean(axis=0) if (new_labels == j).any() else c[j]
                for j in range(k)
            ]
        )
        if np.array_equal(new_labels, labels) and np.allclose(new_c, c):
            break
        labels, c = new_labels, new_c
    labels = ((points[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    return labels, c


def order_centres(centres: np.ndarray, band_m: float = 3_000.0) -> np.ndarray:
    """Rank of each centre in reading order (north to south in bands, then west to east)."""
    pts = gpd.GeoSeries(shapely.points(centres))
    order = reading_order(pts, band_m=band_m)
    rank = np.empty(len(centres), dtype=int)
    rank[order] = np.arange(len(centres))
    return rank


def voronoi_zones(centres: np.ndarray, extent: shapely.Geometry) -> list[shapely.Geometry]:
    """Voronoi cell of each centre, clipped to ``extent`` (list in centre order)."""
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=extent)
    )
    out = []
    for cx, cy in centres:
        pt = shapely.Point(cx, cy)
        cell = next(c for c in cells if c.covers(pt))
        out.append(shapely.intersection(cell, extent))
    return out


def zone_label(letter: str) -> str:
    """Name of an illustrative planning zone (a stand-in for a district)."""
    return f"示意片区{letter} (illustrative zone {letter})"


def streets_by_kmeans(
    points: np.ndarray, zone_of_point: np.ndarray, zone_letters: list[str], per_zone: int
) -> np.ndarray:
    """Illustrative sub-zones ('示意街道A1', ...): k-means inside each zone."""
    street = np.empty(len(points), dtype=object)
    for zone_index, letter in enumerate(zone_letters):
        members = np.flatnonzero(zone_of_point == zone_index)
        if not len(members):
            continue
        labels, centres = kmeans(points[members], per_zone)
        rank = order_centres(centres, band_m=1_000.0)
        street[members] = [f"示意街道{letter}{rank[j] + 1}" for j in labels]
    return street


def illustrative_halls(communities: gpd.GeoDataFrame, prefix: str) -> gpd.GeoDataFrame:
    """One illustrative hall per grid cell with enough blocks (metric CRS in and out).

    The hall stands at the representative point of the block whose representative point is
    nearest to the cell centre.
    """
    pts = communities.geometry.representative_point()
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    col = np.floor(x / HALL_GRID_M).astype(int)
    row = np.floor(y / HALL_GRID_M).astype(int)
    cells = pd.DataFrame(
        {"col": col, "row": row, "x": x, "y": y, "households": communities["households"]}
    )
    cells["d2"] = (cells.x - (cells.col + 0.5) * HALL_GRID_M) ** 2 + (
        cells.y - (cells.row + 0.5) * HALL_GRID_M
    ) ** 2
    cells["block"] = np.arange(len(cells))
    rows = []
    for (c, r), grp in cells.groupby(["col", "row"], sort=True):
        if len(grp) < HALL_MIN_BLOCKS_PER_CELL:
            continue
        best = grp.sort_values(["d2", "block"]).iloc[0]
        rows.append(
            {"col": c, "row": r, "x": best.x, "y": best.y, "households": grp.households.sum()}
        )
    halls = pd.DataFrame(rows)
    order = reading_order(gpd.GeoSeries(shapely.points(halls.x, halls.y)), band_m=HALL_GRID_M)
    halls = halls.iloc[order].reset_index(drop=True)
    halls["hall_id"] = [f"{prefix}-H{i + 1:03d}" for i in range(len(halls))]
    halls["name"] = [f"示意社区服务中心 {i + 1:03d}" for i in range(len(halls))]
    standard = halls["households"] * HALL_STANDARD_M2_PER_HOUSEHOLD
    factor = [stable_uniform(h, *HALL_AREA_FACTOR_RANGE) for h in halls["hall_id"]]
    halls["floor_area_m2"] = np.maximum(
        HALL_MIN_FLOOR_AREA_M2, np.round(standard * factor / 10) * 10
    ).astype(float)
    halls["kind"] = HALL_KIND_ILLUSTRATIVE
    halls["illustrative"] = True
    halls["source"] = HALL_SOURCE_ILLUSTRATIVE
    return gpd.GeoDataFrame(halls, geometry=shapely.points(halls.x, halls.y), crs=communities.crs)


# ============================================================================================
# Sample 1: hangzhou-central
# ============================================================================================
def load_central_graph() -> nx.MultiDiGraph:
    """Gunzip the central Hangzhou GraphML to a temporary file and load it with osmnx."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hangzhou_central.graphml"
        with gzip.open(CENTRAL_GRAPHML_GZ, "rb") as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        return ox.load_graphml(path)


def undirected_edges(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """One row per undirected street segment: name (cleaned), osrm_class, geometry (4326)."""
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for u, v, data in G.edges(data=True):
        key = (min(u, v), max(u, v), data.get("osrm_geom_id"))
        if key not in seen:
            seen[key] = (
                clean_road_name(data.get("name")),
                data.get("osrm_class"),
                data["geometry"],
            )
    keys = sorted(seen, key=lambda k: (k[0], k[1], str(k[2])))
    return gpd.GeoDataFrame(
        {
            "name": [seen[k][0] for k in keys],
            "osrm_class": [seen[k][1] for k in keys],
        },
        geometry=[seen[k][2] for k in keys],
        crs=OUTPUT_CRS,
    )


def nonresidential_mask(osm: OsmFeatures, metric_crs: str) -> shapely.Geometry | None:
    """Union of the OSM polygons of water, parks, woods, rail and other non-residential land."""
    mask = has_tag(osm.areas["tags"], NONRESIDENTIAL_TAGS)
    if not mask.any():
        return None
    union = shapely.union_all(osm.areas[mask].to_crs(metric_crs).geometry.to_numpy())
    shapely.prepare(union)
    return union


def build_communities_from_blocks(
    blocks: np.ndarray,
    rule_pop: tuple[np.ndarray, np.ndarray],
    road_names: list[str | None],
    prefix: str,
    crs: str,
    *,
    first_number: int = 1,
) -> gpd.GeoDataFrame:
    """Community frame from kept blocks (metric CRS); ids follow reading order."""
    population, rule = rule_pop
    gdf = gpd.GeoDataFrame(
        {"population": population, "rule": rule, "road": road_names},
        geometry=blocks,
        crs=crs,
    )
    gdf = gdf.iloc[reading_order(gdf.geometry.representative_point())].reset_index(drop=True)
    numbers = np.arange(first_number, first_number + len(gdf))
    gdf["community_id"] = [f"{prefix}{n:04d}" for n in numbers]
    gdf["name"] = block_names(list(gdf["road"]), numbers)
    gdf["kind"] = "urban"
    gdf["households"] = households_from(gdf["population"], HANGZHOU_HOUSEHOLD_SIZE)
    gdf["population_source"] = gdf["rule"].map(POPULATION_SOURCE)
    gdf["area_m2"] = np.round(gdf.area, 1)
    return gdf


def assign_zones(communities: gpd.GeoDataFrame, zones: list[shapely.Geometry]) -> np.ndarray:
    """Index of the zone holding the largest part of each community (ties: lowest index).

    Area shares do not depend on the CRS the way a representative point does, so the answer
    is the same in EPSG:4326 and in the metric CRS. A community outside every zone gets the
    nearest one.
    """
    geoms = communities.geometry.to_numpy()
    tree = shapely.STRtree(zones)
    ci, zi = tree.query(geoms, predicate="intersects")
    overlap = shapely.area(shapely.intersection(geoms[ci], np.asarray(zones, dtype=object)[zi]))
    order = np.lexsort((zi, -np.round(overlap, 3), ci))  # per community: largest, then lowest
    ci, zi = ci[order], zi[order]
    first = np.unique(ci, return_index=True)[1]
    zone = np.full(len(geoms), -1)
    zone[ci[first]] = zi[first]
    for i in np.flatnonzero(zone < 0):
        zone[i] = int(np.argmin([z.distance(geoms[i]) for z in zones]))
    return zone


def build_hangzhou_central(xihu: OsmFeatures) -> dict[str, Any]:
    """Blocks, illustrative zones and halls for the central Hangzhou car network."""
    crs = HANGZHOU_METRIC_CRS
    G = load_central_graph()
    edges = undirected_edges(G).to_crs(crs)
    boundary_lines = edges[~edges["osrm_class"].isin(CENTRAL_BLOCK_EXCLUDED_OSRM_CLASSES)]
    faces = polygonize_lines(boundary_lines.geometry.to_numpy())
    nonresidential = nonresidential_mask(xihu, crs)
    blocks, counts = filter_blocks(faces, nonresidential)
    buildings = residential_buildings(xihu.areas, crs)
    pop = estimate_population(blocks, buildings, nonresidential)
    roads = bordering_road_names(
        blocks, edges.geometry.to_numpy(), edges["name"].to_numpy(dtype=object)
    )
    communities = build_communities_from_blocks(blocks, pop, roads, "HZ", crs)

    # Illustrative zones: k-means on block centroids, Voronoi cells clipped to the network hull.
    extent = shapely.convex_hull(shapely.union_all(edges.geometry.to_numpy()))
    centroids = shapely.get_coordinates(communities.geometry.representative_point().to_numpy())
    _, centres = kmeans(centroids, CENTRAL_ZONE_COUNT)
    rank = order_centres(centres)
    centres = centres[np.argsort(rank)]
    letters = [chr(ord("A") + i) for i in range(len(centres))]
    zones = voronoi_zones(centres, extent)
    zone_of = assign_zones(communities, zones)
    communities["district"] = [zone_label(letters[z]) for z in zone_of]
    communities["street"] = streets_by_kmeans(centroids, zone_of, letters, CENTRAL_STREETS_PER_ZONE)
    districts = gpd.GeoDataFrame(
        {"district": [zone_label(s) for s in letters], "illustrative": True},
        geometry=zones,
        crs=crs,
    )
    halls = illustrative_halls(communities, "HZ")
    return {
        "communities": communities,
        "halls": halls,
        "districts": districts,
        "counts": counts,
        "graph": G,
    }


# ============================================================================================
# Sample 2: hangzhou-xihu
# ============================================================================================
def walkable_lines(highways: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Highway lines a pedestrian may use (PROVENANCE.md 'walk graph' rule)."""
    keep = []
    for tags in highways["tags"]:
        ok = (
            tags.get("highway") not in WALK_EXCLUDED_HIGHWAYS
            and tags.get("foot") != "no"
            and tags.get("access") not in {"private", "no"}
        )
        keep.append(ok)
    return highways[np.array(keep, dtype=bool)]


def build_hangzhou_xihu(xihu: OsmFeatures) -> dict[str, Any]:
    """Residential polygons + walkable blocks, two illustrative zones, halls and real POIs."""
    crs = HANGZHOU_METRIC_CRS
    areas = xihu.areas.to_crs(crs)
    is_res = np.array([t.get("landuse") == "residential" for t in areas["tags"]], dtype=bool)
    residential = areas[is_res].sort_values("osm_id").reset_index(drop=True)
    residential_union = shapely.union_all(residential.geometry.to_numpy())

    lines = walkable_lines(xihu.highways).to_crs(crs)
    streets = lines[[t["highway"] not in BLOCK_EXCLUDED_HIGHWAYS for t in lines["tags"]]]
    faces = polygonize_lines(streets.geometry.to_numpy())
    # Land already in a residential polygon belongs to that community, not to a block.
    faces = shapely.get_parts(shapely.difference(faces, residential_union))
    faces = faces[np.isin(shapely.get_type_id(faces), [3])]  # polygons only
    nonresidential = nonresidential_mask(xihu, crs)
    blocks, counts = filter_blocks(faces, nonresidential)
    buildings = residential_buildings(xihu.areas, crs)

    # Residential polygons are kept whatever their size and shape: they are real OSM objects.
    res_geoms = [
        max(shapely.get_parts(g), key=shapely.area) if g.geom_type == "MultiPolygon" else g
        for g in residential.geometry
    ]
    res_pop = estimate_population(np.array(res_geoms), buildings, nonresidential)
    blk_pop = estimate_population(blocks, buildings, nonresidential)
    # Road names: name:zh where the OSM name is not Chinese (e.g. 'Meiling Road N.').
    road_names = np.array(
        [clean_road_name(t.get("name:zh") or t.get("name")) for t in streets["tags"]],
        dtype=object,
    )
    road_lines = streets[[isinstance(n, str) for n in road_names]]
    road_names = road_names[[isinstance(n, str) for n in road_names]]
    blk_roads = bordering_road_names(blocks, road_lines.geometry.to_numpy(), road_names)
    blk = build_communities_from_blocks(
        blocks, blk_pop, blk_roads, "XH", crs, first_number=len(residential) + 1
    )

    res = gpd.GeoDataFrame(
        {"population": res_pop[0], "rule": res_pop[1], "osm_id": residential["osm_id"]},
        geometry=res_geoms,
        crs=crs,
    )
    res["community_id"] = [f"XH{i + 1:04d}" for i in range(len(res))]
    res["name"] = [
        t.get("name") or f"住宅区 ({oid})"
        for t, oid in zip(residential["tags"], res["osm_id"], strict=True)
    ]
    res["kind"] = "urban"
    res["households"] = households_from(res["population"], HANGZHOU_HOUSEHOLD_SIZE)
    res["population_source"] = res["rule"].map(POPULATION_SOURCE)
    res["area_m2"] = np.round(res.area, 1)

    # Residential polygons first (by OSM id), then the blocks in reading order.
    communities = pd.concat(
        [res.drop(columns=["osm_id", "rule"]), blk.drop(columns=["rule", "road"])],
        ignore_index=True,
    )
    communities = gpd.GeoDataFrame(communities, geometry="geometry", crs=crs)
    counts["residential_polygons"] = len(res)

    # Two illustrative zones: the extract's bbox split at a meridian.
    xmin, ymin, xmax, ymax = XIHU_BBOX
    zone_boxes = [
        shapely.box(xmin, ymin, XIHU_ZONE_SPLIT_LON, ymax),
        shapely.box(XIHU_ZONE_SPLIT_LON, ymin, xmax, ymax),
    ]
    zones = list(gpd.GeoSeries(zone_boxes, crs=OUTPUT_CRS).to_crs(crs))
    letters = ["W", "E"]
    zone_names = [
        f"示意片区W (illustrative zone W, west of {XIHU_ZONE_SPLIT_LON}°E)",
        f"示意片区E (illustrative zone E, east of {XIHU_ZONE_SPLIT_LON}°E)",
    ]
    zone_of = assign_zones(communities, zones)
    communities["district"] = [zone_names[z] for z in zone_of]
    centroids = shapely.get_coordinates(communities.geometry.representative_point().to_numpy())
    communities["street"] = streets_by_kmeans(centroids, zone_of, letters, XIHU_STREETS_PER_ZONE)
    districts = gpd.GeoDataFrame(
        {"district": zone_names, "illustrative": True}, geometry=zones, crs=crs
    )
    halls = illustrative_halls(communities, "XH")
    pois = xihu_pois(xihu)
    return {
        "communities": communities,
        "halls": halls,
        "districts": districts,
        "pois": pois,
        "counts": counts,
        "walk_lines": lines,
    }


def xihu_pois(osm: OsmFeatures) -> gpd.GeoDataFrame:
    """Real points of interest (nodes, and polygon centroids) listed in POI_TAGS."""
    frames = []
    for source in (osm.nodes, osm.areas):
        mask = has_tag(source["tags"], POI_TAGS)
        sub = source[mask]
        if sub.empty:
            continue
        geom = sub.geometry
        if source is osm.areas:
            geom = (
                sub.to_crs(HANGZHOU_METRIC_CRS).geometry.representative_point().to_crs(OUTPUT_CRS)
            )
        frames.append(
            gpd.GeoDataFrame(
                {
                    "osm_id": sub["osm_id"].to_numpy(),
                    "category": [first_tag(t, POI_TAGS) for t in sub["tags"]],
                    "name": [t.get("name", "") for t in sub["tags"]],
                    "illustrative": False,
                },
                geometry=geom.to_numpy(),
                crs=OUTPUT_CRS,
            )
        )
    pois = pd.concat(frames, ignore_index=True)
    pois = pois.drop_duplicates("osm_id")  # an object is listed once
    key = pois["osm_id"].str.split("/", expand=True)
    pois = pois.assign(_t=key[0], _i=key[1].astype("int64")).sort_values(["category", "_t", "_i"])
    return gpd.GeoDataFrame(pois.drop(columns=["_t", "_i"]), geometry="geometry", crs=OUTPUT_CRS)


# ============================================================================================
# Sample 3: liechtenstein
# ============================================================================================
def _osm_id_key(osm_ids: pd.Series) -> pd.DataFrame:
    """Sortable (type, number) columns for 'node/123'-style ids."""
    parts = osm_ids.str.split("/", expand=True)
    return pd.DataFrame({"_type": parts[0], "_num": parts[1].astype("int64")}, index=osm_ids.index)


def _is_admin(tags: dict[str, str], level: str) -> bool:
    return tags.get("boundary") == "administrative" and tags.get("admin_level") == level


def li_municipalities(
    areas: gpd.GeoDataFrame,
) -> tuple[shapely.Geometry, gpd.GeoDataFrame]:
    """The country polygon and the 11 municipalities (admin_level 8 relations inside it)."""
    country_mask = [
        _is_admin(t, LI_COUNTRY_ADMIN_LEVEL) and t.get("name") == "Liechtenstein"
        for t in areas["tags"]
    ]
    country = shapely.union_all(areas[country_mask].geometry.to_numpy())
    muni_mask = [
        _is_admin(t, LI_MUNICIPALITY_ADMIN_LEVEL) and bool(t.get("name")) and o.startswith("rel")
        for t, o in zip(areas["tags"], areas["osm_id"], strict=True)
    ]
    munis = areas[muni_mask]
    munis = munis[shapely.within(munis.geometry.representative_point().to_numpy(), country)]
    municipalities = gpd.GeoDataFrame(
        {"district": [t["name"] for t in munis["tags"]], "illustrative": False},
        geometry=munis.geometry.to_numpy(),
        crs=areas.crs,
    )
    return country, municipalities.sort_values("district").reset_index(drop=True)


def _municipality_of(points: np.ndarray, municipalities: gpd.GeoDataFrame) -> np.ndarray:
    """Row of the municipality holding each point, -1 for none."""
    tree = shapely.STRtree(municipalities.geometry.to_numpy())
    pi, mi = tree.query(points, predicate="within")
    out = np.full(len(points), -1)
    out[pi] = mi
    return out


def _tagged_population(tags: dict[str, str]) -> int | None:
    digits = re.sub(r"[^0-9]", "", tags.get("population", ""))
    return int(digits) if digits else None


def li_settlements(
    osm: OsmFeatures, country: shapely.Geometry, municipalities: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Settlement points with kind, municipality and population (tag or building share)."""
    crs = municipalities.crs
    nodes = osm.nodes.to_crs(crs)
    places = nodes[[t.get("place") in LI_PLACE_KIND for t in nodes["tags"]]].copy()
    places = places[shapely.within(places.geometry.to_numpy(), country)]
    places["muni"] = _municipality_of(places.geometry.to_numpy(), municipalities)
    places = places[places["muni"] >= 0].copy()
    places["name"] = [
        t.get("name", o) for t, o in zip(places["tags"], places["osm_id"], strict=True)
    ]
    places["kind"] = [LI_PLACE_KIND[t["place"]] for t in places["tags"]]
    places["district"] = municipalities["district"].to_numpy()[places["muni"]]

    # OSM buildings in the country: polygon centroids and building nodes.
    areas = osm.areas.to_crs(crs)
    bld = np.concatenate(
        [
            areas[["building" in t for t in areas["tags"]]].geometry.centroid.to_numpy(),
            nodes[["building" in t for t in nodes["tags"]]].geometry.to_numpy(),
        ]
    )
    bld = bld[shapely.within(bld, country)]
    bld_muni = _municipality_of(bld, municipalities)
    # Voronoi share: each building goes to the nearest settlement of its own municipality.
    share = np.zeros(len(places), dtype=int)
    pxy = shapely.get_coordinates(places.geometry.to_numpy())
    bxy = shapely.get_coordinates(bld)
    place_muni = places["muni"].to_numpy()
    for m in np.unique(place_muni):
        cand = np.flatnonzero(place_muni == m)
        members = np.flatnonzero(bld_muni == m)
        d2 = ((bxy[members, None, :] - pxy[None, cand, :]) ** 2).sum(axis=2)
        np.add.at(share, cand[d2.argmin(axis=1)], 1)

    tagged = [_tagged_population(t) for t in places["tags"]]
    places["population"] = [
        p or max(1, round(n * LI_PERSONS_PER_BUILDING)) for p, n in zip(tagged, share, strict=True)
    ]
    places["population_source"] = [
        "osm:population tag" if p else f"estimated: nearest buildings x {LI_PERSONS_PER_BUILDING}"
        for p in tagged
    ]
    places["households"] = households_from(places["population"], LI_HOUSEHOLD_SIZE)
    places["street"] = places["district"]  # no level between municipality and settlement
    places["area_m2"] = np.nan  # points: no area
    places = places.join(_osm_id_key(places["osm_id"]))
    places = places.sort_values(["district", "name", "_num"]).reset_index(drop=True)
    places["community_id"] = [f"LI{i + 1:04d}" for i in range(len(places))]
    logger.info(
        "liechtenstein: %d OSM buildings in the country; tagged main villages sum to %d",
        len(bld),
        places.loc[places["name"].isin(municipalities["district"]), "population"].sum(),
    )
    return gpd.GeoDataFrame(places, geometry="geometry", crs=crs)


def li_townhalls(osm: OsmFeatures, country: shapely.Geometry, crs: str) -> gpd.GeoDataFrame:
    """The real amenity=townhall objects (nodes; closed ways at a point inside the polygon)."""
    nodes = osm.nodes.to_crs(crs)
    areas = osm.areas.to_crs(crs)
    hall_nodes = nodes[[t.get("amenity") == "townhall" for t in nodes["tags"]]]
    hall_areas = areas[[t.get("amenity") == "townhall" for t in areas["tags"]]]
    hall_areas = hall_areas.assign(geometry=hall_areas.geometry.representative_point())
    halls = gpd.GeoDataFrame(
        pd.concat([hall_nodes, hall_areas], ignore_index=True), geometry="geometry", crs=crs
    )
    halls = halls[shapely.within(halls.geometry.to_numpy(), country)]
    halls = halls.join(_osm_id_key(halls["osm_id"])).sort_values(["_type", "_num"])
    halls = halls.reset_index(drop=True)
    halls["hall_id"] = [f"LI-H{i + 1:03d}" for i in range(len(halls))]
    halls["name"] = [t.get("name", "") for t in halls["tags"]]
    halls["floor_area_m2"] = np.nan  # not in the data
    halls["kind"] = LI_HALL_KIND
    halls["illustrative"] = False
    halls["source"] = "osm:" + halls["osm_id"] + " amenity=townhall"
    return halls


def build_liechtenstein() -> dict[str, Any]:
    """Real settlements, municipalities and town halls of Liechtenstein."""
    crs = LIECHTENSTEIN_METRIC_CRS
    osm = read_osm(LIECHTENSTEIN_PBF, area_keys=("boundary", "building", "amenity"))
    country, municipalities = li_municipalities(osm.areas.to_crs(crs))
    communities = li_settlements(osm, country, municipalities)
    return {
        "communities": communities,
        "halls": li_townhalls(osm, country, crs),
        "districts": municipalities,
        "counts": {
            "settlements": len(communities),
            "place_values": pd.Series([t["place"] for t in communities["tags"]])
            .value_counts()
            .sort_index()
            .to_dict(),
        },
    }


# ============================================================================================
# Writing and checking
# ============================================================================================
def write_sample(name: str, result: dict[str, Any]) -> None:
    """Write communities/halls/districts (and pois) of one sample in EPSG:4326."""
    folder = DATA_DIR / name
    write_gpkg(
        to_output(result["communities"], COMMUNITY_COLUMNS),
        folder / "communities.gpkg",
        "communities",
    )
    write_gpkg(to_output(result["halls"], HALL_COLUMNS), folder / "halls.gpkg", "halls")
    write_gpkg(
        to_output(result["districts"], DISTRICT_COLUMNS), folder / "districts.gpkg", "districts"
    )
    if "pois" in result:
        write_gpkg(to_output(result["pois"], POI_COLUMNS), folder / "pois.gpkg", "pois")


def rough_walk_coverage(
    G: nx.MultiGraph, communities: gpd.GeoDataFrame, halls: gpd.GeoDataFrame
) -> float:
    """Share of communities within 15 min walk of a hall (nearest-node snapping, lengths)."""
    limit_m = WALK_SPEED_KPH * 1000 / 60 * URBAN_THRESHOLD_MIN
    Gu = nx.Graph()
    for u, v, data in G.edges(data=True):
        w = float(data["length"])
        if not Gu.has_edge(u, v) or Gu[u][v]["length"] > w:
            Gu.add_edge(u, v, length=w)
    ids = np.array(list(G.nodes))
    xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in ids])
    node_pts = gpd.GeoSeries(shapely.points(xy), crs=OUTPUT_CRS).to_crs(HANGZHOU_METRIC_CRS)
    tree = shapely.STRtree(node_pts.to_numpy())
    c_pts = communities.to_crs(HANGZHOU_METRIC_CRS).geometry.representative_point().to_numpy()
    h_pts = halls.to_crs(HANGZHOU_METRIC_CRS).geometry.to_numpy()
    c_idx = tree.nearest(c_pts)
    h_idx = tree.nearest(h_pts)
    dist = nx.multi_source_dijkstra_path_length(
        Gu, {ids[i] for i in h_idx}, cutoff=limit_m, weight="length"
    )
    return float(np.mean([ids[i] in dist for i in c_idx]))


def main() -> None:
    """Build every sample; with --check also print a rough walking coverage."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print rough 15-min coverage")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_FIXED_TIMESTAMP})
    start = time.perf_counter()

    xihu_osm = read_osm(
        XIHU_PBF,
        area_keys=("building", "landuse", "natural", "leisure", "waterway", "amenity", "shop"),
        extract_bbox=XIHU_BBOX,
    )
    central = build_hangzhou_central(xihu_osm)
    write_sample("hangzhou-central", central)
    logger.info("hangzhou-central blocks: %s", central["counts"])

    xihu = build_hangzhou_xihu(xihu_osm)
    write_sample("hangzhou-xihu", xihu)
    logger.info("hangzhou-xihu blocks: %s", xihu["counts"])

    li = build_liechtenstein()
    write_sample("liechtenstein", li)
    logger.info("liechtenstein: %s", li["counts"])

    if args.check:
        cov = rough_walk_coverage(central["graph"], central["communities"], central["halls"])
        logger.info("hangzhou-central: rough 15-min walking coverage %.1f%%", 100 * cov)
        walk = ox.graph_from_xml(RAW_DIR / "hangzhou_xihu_2015-02.osm.bz2", bidirectional=True)
        cov = rough_walk_coverage(walk, xihu["communities"], xihu["halls"])
        logger.info("hangzhou-xihu: rough 15-min walking coverage %.1f%%", 100 * cov)
    logger.info("done in %.1f s", time.perf_counter() - start)


if __name__ == "__main__":
    main()
