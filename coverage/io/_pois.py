"""Points of interest (service sites) straight from an OpenStreetMap file, by tag."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely

from coverage._errors import InputDataError
from coverage.network import utm_crs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path


def read_osm_pois(path: str | Path, tags: Mapping[str, Iterable[str]]) -> gpd.GeoDataFrame:
    """The nodes and closed ways of an OSM file that carry one of the given tags.

    Parameters
    ----------
    path
        An ``.osm.pbf`` or ``.osm`` file.
    tags
        Wanted values per key, e.g. ``{"amenity": ["clinic", "hospital"], "shop":
        ["supermarket"]}``; an object matching several is listed once, under the first key
        (in the order given) that matches.

    Returns
    -------
    geopandas.GeoDataFrame
        ``osm_id`` (``node/…`` or ``way/…``), ``key``, ``category`` (the tag's value),
        ``name`` ("" where none); a way's point is its polygon's representative point (inside
        it); EPSG:4326. Sorted by category and id.

    Raises
    ------
    InputDataError
        If the file cannot be read.
    """
    import osmium  # noqa: PLC0415 (C++ reader, only for OSM files)

    wanted = {k: frozenset(v) for k, v in tags.items()}
    rows: list[tuple[str, str, str, str, shapely.Geometry]] = []  # (a node or a way's polygon)
    try:
        objects = osmium.FileProcessor(str(path)).with_locations()
        for obj in objects:
            found = next(((k, obj.tags[k]) for k in wanted if obj.tags.get(k) in wanted[k]), None)
            if found is None:
                continue
            located = _shape(obj, osmium)
            if located is None:
                continue
            oid, shape = located
            rows.append((oid, found[0], found[1], obj.tags.get("name") or "", shape))
    except RuntimeError as exc:
        msg = f"{path}: cannot read points of interest ({' '.join(str(exc).split())})"
        raise InputDataError(msg) from None
    frame = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in rows],
            "key": [r[1] for r in rows],
            "category": [r[2] for r in rows],
            "name": [r[3] for r in rows],
        },
        geometry=[r[4] for r in rows],
        crs=4326,
    )
    if len(frame):  # a way's point: inside its polygon, found in metres (local UTM zone)
        centre = frame.geometry.union_all().centroid
        metric = utm_crs(centre.x, centre.y)
        frame.geometry = frame.geometry.to_crs(metric).representative_point().to_crs(4326)
    kind_id = frame["osm_id"].str.split("/", expand=True) if len(frame) else None
    if kind_id is None:
        return frame
    order = frame.assign(_t=kind_id[0], _i=kind_id[1].astype("int64")).sort_values(
        ["category", "_t", "_i"]
    )
    return order.drop(columns=["_t", "_i"]).reset_index(drop=True)


def _shape(obj: Any, osmium: Any) -> tuple[str, shapely.Geometry] | None:  # noqa: ANN401
    """A node's point or a closed way's polygon, with the object's id; ``None`` otherwise."""
    if isinstance(obj, osmium.osm.Node):
        if not obj.location.valid():
            return None
        return f"node/{obj.id}", shapely.Point(obj.location.lon, obj.location.lat)
    if isinstance(obj, osmium.osm.Way):
        xy = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
        if len(xy) < 3 or not obj.is_closed():  # noqa: PLR2004 (an area needs three points)
            return None
        return f"way/{obj.id}", shapely.Polygon(xy)
    return None
