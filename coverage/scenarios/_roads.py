"""Road edits: an edited copy of a network's edge table (the network is never changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from coverage._errors import list_ids
from coverage.engine import snap_xy
from coverage.network import MODE_BIT, OSM_SUFFIXES, EdgeTable, read_osm_way, sorted_coords
from coverage.scenarios._frames import geo_frame, to_lonlat, to_metric
from coverage.scenarios._model import AddRoad, Barrier, CloseRoad, Point, Scenario, SetSpeed

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from coverage.config import Config
    from coverage.network import Network

#: A link's end this close to a segment's end node joins that node (no split), metres.
_AT_NODE_M = 0.5

#: The mode bits of a new link: every mode may use it (the routing view takes its own).
_ALL_MODES = np.uint8(MODE_BIT["walk"] | MODE_BIT["bike"] | MODE_BIT["drive"])


@dataclass
class _NewEdges:
    """Edges on their way into the edited table: parts of split edges and new links."""

    u: list[int] = field(default_factory=list)
    v: list[int] = field(default_factory=list)
    xy: list[NDArray[np.float64]] = field(default_factory=list)
    length_m: list[float] = field(default_factory=list)
    src: list[int] = field(default_factory=list)  # the edge a part comes from (-1: a link)
    speed: list[float] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    oneway: list[bool] = field(default_factory=list)

    def append(
        self,
        u: int,
        v: int,
        xy: NDArray[np.float64],
        length_m: float,
        src: int,
        speed: float,
        name: str,
        *,
        oneway: bool,
    ) -> None:
        """Add one edge (lon/lat ``xy``, degrees; ``length_m`` metres, NaN: measure it)."""
        self.u.append(u)
        self.v.append(v)
        self.xy.append(xy)
        self.length_m.append(length_m)
        self.src.append(src)
        self.speed.append(speed)
        self.name.append(name)
        self.oneway.append(oneway)


class RoadEditor:
    """The edited edge table of a network: roads closed, barriers, new links, speeds.

    Works on a copy of the table's arrays (the network keeps its own). ``table`` is the
    edited table, ``speed`` the speed of each of its edges where an edit sets it (km/h, NaN
    elsewhere), ``drawn`` the edited roads for maps.
    """

    def __init__(
        self,
        network: Network,
        cfg: Config,
        scenario: Scenario,
        labels: list[str],
        problems: list[str],
    ) -> None:
        self.net = network
        self.cfg = cfg
        self.problems = problems
        t = network.table
        if len(t.geom_index) > 1 and bool(np.any(np.diff(t.geom_index) < 0)):
            t = sorted_coords(t)
        self.t = t
        self.starts = np.concatenate(
            [[0], np.cumsum(np.bincount(t.geom_index, minlength=len(t.u)))]
        )
        self.usable = (t.modes & MODE_BIT[network.mode]) > 0
        self.drop = np.zeros(len(t.u), dtype=bool)
        self.edge_speed = np.full(len(t.u), np.nan)
        drawn: list[dict[str, Any]] = []
        links: list[tuple[str, AddRoad, NDArray[np.float64]]] = []
        for label, edit in zip(labels, scenario.edits, strict=True):
            if isinstance(edit, CloseRoad):
                self._close(label, edit, scenario, drawn)
            elif isinstance(edit, Barrier):
                self._barrier(label, edit, scenario, drawn)
            elif isinstance(edit, SetSpeed):
                self._speed(label, edit, drawn)
            elif isinstance(edit, AddRoad):
                links.append((label, edit, to_lonlat(scenario, edit.line)))
        self.table, self.speed = self._rebuild(links, drawn)
        self.drawn = geo_frame(drawn, ["edit", "change", "name"])

    # -- which edges

    def _lines(self) -> tuple[NDArray[np.object_], shapely.STRtree]:
        """Every edge's line in the network's metric CRS and a tree over them (kept)."""

        def build() -> tuple[NDArray[np.object_], shapely.STRtree]:
            xy = to_metric(self.net, self.t.geom_coords)
            lines = np.asarray(shapely.linestrings(xy, indices=self.t.geom_index), dtype=object)
            return lines, shapely.STRtree(lines)

        return self.net.memo(__name__, "edge_lines", build)

    def _crossing(self, geom_m: shapely.Geometry) -> NDArray[np.int64]:
        """Edges usable by the mode whose line meets ``geom_m`` (metric)."""
        _, tree = self._lines()
        hit = tree.query(geom_m, predicate="intersects")
        edges: NDArray[np.int64] = np.unique(np.asarray(hit, dtype=np.int64))
        return edges[self.usable[edges]]

    def _way(self, label: str, way_id: int) -> NDArray[np.int64] | None:
        """Edges usable by the mode that run along an OSM way of the network's own file.

        An edge runs along the way where at least 10 m of it, or 90 % of a shorter one, lies
        within 1 m of the way's line (a road that only crosses it has about 2 m there).
        """
        source = Path(self.t.meta.get("source", self.net.source))
        if not source.name.lower().endswith(OSM_SUFFIXES) or not source.is_file():
            self.problems.append(
                f"{label}: osm_way_id needs a network read from an OSM file (this one: "
                f"{source.name}); close the road with line = [[lon, lat], [lon, lat]] drawn "
                "across it"
            )
            return None
        lonlat = read_osm_way(source, way_id)
        if lonlat is None or len(lonlat) < 2:  # noqa: PLR2004 (a line needs two points)
            self.problems.append(f"{label}: no way {way_id} in {source.name}")
            return None
        near = shapely.LineString(self._metric(lonlat)).buffer(1.0)
        lines, tree = self._lines()
        cand = np.unique(np.asarray(tree.query(near, predicate="intersects"), dtype=np.int64))
        inside = shapely.length(shapely.intersection(lines[cand], near))
        along = (inside >= 10.0) | (inside >= 0.9 * shapely.length(lines[cand]))  # noqa: PLR2004
        hit: NDArray[np.int64] = cand[along & self.usable[cand]]
        if not len(hit):
            self.problems.append(
                f"{label}: way {way_id} of {source.name} carries no road usable by {self.net.mode}"
            )
            return None
        return hit

    def _metric(self, lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
        return to_metric(self.net, lonlat)

    def _close(self, label: str, edit: CloseRoad, scenario: Scenario, drawn: list[Any]) -> None:
        if edit.osm_way_id is not None:
            hit = self._way(label, edit.osm_way_id)
            if hit is None:
                return
            self.drop[hit] = True
            drawn.extend(
                {"edit": label, "change": "closed", "name": "", "geometry": line}
                for line in self._lonlat_lines(hit)
            )
            return
        ll = to_lonlat(scenario, edit.line or ())
        hit = self._crossing(shapely.LineString(self._metric(ll)))
        if not len(hit):
            self.problems.append(f"{label}: the line crosses no road usable by {self.net.mode}")
            return
        self.drop[hit] = True
        drawn.extend(
            {"edit": label, "change": "closed", "name": "", "geometry": line}
            for line in self._lonlat_lines(hit)
        )

    def _barrier(self, label: str, edit: Barrier, scenario: Scenario, drawn: list[Any]) -> None:
        if isinstance(edit.polygon, shapely.Geometry):
            poly_ll = edit.polygon
            if scenario.coord_system != "wgs84":
                poly_ll = shapely.transform(poly_ll, lambda xy: to_lonlat(scenario, xy.tolist()))
        else:
            poly_ll = shapely.Polygon(to_lonlat(scenario, edit.polygon))
        if not poly_ll.is_valid:
            poly_ll = shapely.make_valid(poly_ll)
        poly_m = shapely.transform(poly_ll, self._metric)
        hit = self._crossing(poly_m.boundary)
        if not len(hit):
            self.problems.append(
                f"{label}: the polygon's boundary crosses no road usable by {self.net.mode}"
            )
            return
        self.drop[hit] = True
        drawn.append({"edit": label, "change": "barrier", "name": edit.name, "geometry": poly_ll})
        drawn.extend(
            {"edit": label, "change": "closed", "name": edit.name, "geometry": line}
            for line in self._lonlat_lines(hit)
        )

    def _speed(self, label: str, edit: SetSpeed, drawn: list[Any]) -> None:
        hit = np.zeros(len(self.t.u), dtype=bool)
        classes = self.t.highway
        if edit.highway and classes is None:
            self.problems.append(
                f"{label}: highway {list_ids(edit.highway)} matches no road: this network keeps "
                "no highway classes (its source gives none); pick the roads by street name "
                "(street = [...])"
            )
            return
        picks = [("highway", v, classes) for v in edit.highway]
        picks += [("street", v, self.t.name) for v in edit.street]
        for key, value, values in picks:
            match = self.usable & (values == value)
            if not match.any():
                self.problems.append(
                    f"{label}: {key} {value!r} matches no road usable by {self.net.mode}"
                )
            hit |= match
        if hit.any():
            self.edge_speed[hit] = edit.speed_kph
            text = f"{edit.speed_kph:g} km/h"
            drawn.extend(
                {"edit": label, "change": "speed", "name": text, "geometry": line}
                for line in self._lonlat_lines(np.flatnonzero(hit))
            )

    def _lonlat_lines(self, edges: NDArray[np.int64]) -> list[shapely.LineString]:
        """The edges' lines in degrees (one per road: a two-way road's twin left out)."""
        t = self.t
        pair = np.minimum(t.u[edges], t.v[edges]) * len(t.node_ids) + np.maximum(
            t.u[edges], t.v[edges]
        )
        _, first = np.unique(pair, return_index=True)
        return [
            shapely.LineString(t.geom_coords[self.starts[e] : self.starts[e + 1]])
            for e in edges[np.sort(first)].tolist()
        ]

    # -- the new table

    def _cut_points(
        self, links: list[tuple[str, AddRoad, NDArray[np.float64]]]
    ) -> list[tuple[int, float] | None]:
        """Where each link end meets the network: (segment, fraction), checked."""
        ends = np.array([ll[i] for _, _, ll in links for i in (0, -1)]).reshape(-1, 2)
        if not len(ends):
            return []
        got = snap_xy(self.net, self._metric(ends), config=self.cfg)
        out: list[tuple[int, float] | None] = []
        for k in range(len(ends)):
            label = links[k // 2][0]
            which = "start" if k % 2 == 0 else "end"
            if not got.dist_m[k] <= self.cfg.max_snap_m:
                self.problems.append(
                    f"{label}: its {which} lies {got.dist_m[k]:,.0f} m from every road usable "
                    f"by {self.net.mode} (limit {self.cfg.max_snap_m:g} m)"
                )
                out.append(None)
                continue
            seg = int(got.seg[k])
            if self.drop[self.net.seg_edge[seg]]:
                self.problems.append(f"{label}: its {which} meets a road the scenario closes")
                out.append(None)
                continue
            out.append((seg, float(got.frac[k])))
        return out

    def _attach(
        self, links: list[tuple[str, AddRoad, NDArray[np.float64]]]
    ) -> tuple[list[Point], dict[int, list[tuple[float, int]]], list[int]]:
        """Where the links meet the network.

        Returns the new nodes (cut points, lon/lat), the cuts of each split edge (distance
        along it from its ``u``, metres, or from its ``v`` when negative; the new node, as
        ``n_nodes + k``) and the node each link end attaches to.
        """
        t, net = self.t, self.net
        new_ll: list[Point] = []
        split: dict[int, list[tuple[float, int]]] = {}
        attach: list[int] = []
        for cut in self._cut_points(links):
            if cut is None:
                attach.append(-1)
                continue
            seg, frac = cut
            xy = net.seg_xy[net.seg_xy_start[seg] : net.seg_xy_start[seg + 1]]
            length = float(np.hypot(*np.diff(xy, axis=0).T).sum())
            along = frac * length
            if along <= _AT_NODE_M:
                attach.append(int(net.seg_u[seg]))
            elif length - along <= _AT_NODE_M:
                attach.append(int(net.seg_v[seg]))
            else:
                node = len(t.node_ids) + len(new_ll)  # (renumbered in the table)
                e = int(net.seg_edge[seg])
                new_ll.append(self._point_along(e, along))
                attach.append(node)
                split.setdefault(e, []).append((along, node))
                for twin in self._twins(e):
                    split.setdefault(twin, []).append((-along, node))
        return new_ll, split, attach

    def _rebuild(
        self, links: list[tuple[str, AddRoad, NDArray[np.float64]]], drawn: list[Any]
    ) -> tuple[EdgeTable, NDArray[np.float64]]:
        """The edited table (kept edges, the parts of split ones, the links) and its speeds."""
        t = self.t
        new_ll, split, attach = self._attach(links)
        if self.problems:
            return t, self.edge_speed
        keep_e = ~self.drop
        keep_e[list(split)] = False
        kept = np.flatnonzero(keep_e)
        add = _NewEdges()
        for e, marks in split.items():
            coords = t.geom_coords[self.starts[e] : self.starts[e + 1]]
            total = self._metric_length(coords)
            ds = sorted((d if d >= 0 else total + d, node) for d, node in marks)
            prev_d, prev_node = 0.0, int(t.u[e])
            for d, node in [*ds, (total, int(t.v[e]))]:
                share = (d - prev_d) / total if total > 0 else 0.0
                add.append(
                    prev_node,
                    node,
                    _sub_line(coords, self._metric(coords), prev_d, d),
                    float(t.length_m[e]) * share,
                    e,
                    float(self.edge_speed[e]),
                    str(t.name[e]),
                    oneway=bool(t.oneway[e]),
                )
                prev_d, prev_node = d, node
        node_ll = np.vstack([np.column_stack([t.lon, t.lat]), np.array(new_ll).reshape(-1, 2)])
        for j, (label, edit, ll) in enumerate(links):
            a, b = attach[2 * j], attach[2 * j + 1]
            course = np.vstack([node_ll[a], ll, node_ll[b]])
            course = course[np.r_[True, np.any(np.diff(course, axis=0) != 0, axis=1)]]
            length = self._metric_length(course)
            speed = np.nan if edit.speed_kph is None else edit.speed_kph
            for u, v, xy in ((a, b, course), (b, a, course[::-1]))[: 2 if edit.two_way else 1]:
                add.append(u, v, xy, length, -1, speed, edit.name, oneway=not edit.two_way)
            line = shapely.LineString(course)
            drawn.append({"edit": label, "change": "added", "name": edit.name, "geometry": line})
        return self._assemble(kept, add, new_ll), np.r_[self.edge_speed[kept], add.speed]

    def _assemble(self, kept: NDArray[np.int64], add: _NewEdges, new_ll: list[Point]) -> EdgeTable:
        """The kept edges then the new ones; the new nodes inserted before the loop nodes."""
        t = self.t
        n_old = len(t.node_ids)
        first_loop = int(t.meta.get("loop_nodes_from", n_old))
        k_new = len(new_ll)

        def renum(idx: NDArray[np.int64]) -> NDArray[np.int64]:
            """Node indices after inserting the new nodes before the loop-road nodes."""
            out = np.where(idx >= first_loop, idx + k_new, idx)
            return np.where(idx >= n_old, idx - n_old + first_loop, out)

        counts_kept = np.diff(self.starts)[kept]
        pos = np.repeat(self.starts[kept] - np.r_[0, np.cumsum(counts_kept)[:-1]], counts_kept)
        pos = pos + np.arange(int(counts_kept.sum()))
        coords = np.vstack([t.geom_coords[pos], *add.xy])
        counts = np.r_[counts_kept, [len(x) for x in add.xy]].astype(np.int64)
        src = np.asarray(add.src, dtype=np.int64)
        part = src >= 0
        srcp = np.where(part, src, 0)
        name_code, vocab = EdgeTable.encode_names(np.r_[t.name[kept], np.asarray(add.name, str)])
        ids = t.node_ids
        if k_new:
            if ids.dtype.kind in "iu":
                low = min(int(ids.min()), 0)
                extra = np.arange(low - 1, low - 1 - k_new, -1, dtype=ids.dtype)
            else:
                extra = np.asarray([f"scenario~{i}" for i in range(k_new)])
            ids = np.concatenate([ids[:first_loop], extra, ids[first_loop:]])
        meta = dict(t.meta)
        if "loop_nodes_from" in meta:
            meta["loop_nodes_from"] = str(first_loop + k_new)
        link_twoway = np.ones(len(src), dtype=bool)
        classes = t.highway
        kw: dict[str, Any] = {}
        if classes is not None:
            hw_code, hw_vocab = EdgeTable.encode_names(
                np.r_[classes[kept], np.where(part, classes[srcp], "")]
            )
            kw = {"highway_code": hw_code, "highway_vocab": hw_vocab}
        return EdgeTable(
            node_ids=ids,
            lon=np.insert(t.lon, first_loop, [p[0] for p in new_ll]).astype(float),
            lat=np.insert(t.lat, first_loop, [p[1] for p in new_ll]).astype(float),
            u=renum(np.r_[t.u[kept], np.asarray(add.u, dtype=np.int64)]),
            v=renum(np.r_[t.v[kept], np.asarray(add.v, dtype=np.int64)]),
            length_m=np.r_[t.length_m[kept], np.asarray(add.length_m, dtype=float)],
            geom_coords=coords,
            geom_index=np.repeat(np.arange(len(counts), dtype=np.int64), counts),
            modes=np.r_[t.modes[kept], np.where(part, t.modes[srcp], _ALL_MODES)].astype(np.uint8),
            bike_twoway=np.r_[
                t.bike_twoway[kept], np.where(part, t.bike_twoway[srcp], link_twoway)
            ],
            speed_kph=np.r_[t.speed_kph[kept], np.where(part, t.speed_kph[srcp], np.nan)],
            name_code=name_code,
            name_vocab=vocab,
            oneway=np.r_[t.oneway[kept], np.asarray(add.oneway, dtype=bool)],
            meta=meta,
            **kw,
        )

    def _twins(self, e: int) -> list[int]:
        """The reverse edges of ``e`` that routing pairs with it (same nodes, same length)."""
        t = self.t
        rev = np.flatnonzero((t.u == t.v[e]) & (t.v == t.u[e]))
        if not len(rev):
            return []
        a, b = t.length_m[e], t.length_m[rev]
        same = np.abs(a - b) <= np.maximum(1.0, 0.02 * a) if np.isfinite(a) else np.isnan(b)
        return [int(x) for x in rev[same][:1]]

    def _metric_length(self, lonlat: NDArray[np.float64]) -> float:
        xy = self._metric(lonlat)
        return float(np.hypot(*np.diff(xy, axis=0).T).sum())

    def _point_along(self, e: int, along: float) -> tuple[float, float]:
        coords = self.t.geom_coords[self.starts[e] : self.starts[e + 1]]
        part = _sub_line(coords, self._metric(coords), along, along)
        return float(part[0, 0]), float(part[0, 1])


def _sub_line(
    ll: NDArray[np.float64], xy: NDArray[np.float64], d0: float, d1: float
) -> NDArray[np.float64]:
    """The part of a line (degrees ``ll``, metric ``xy``) between two distances along it.

    Distances are measured on the metric line, metres; cut points are interpolated alike in
    degrees (the pieces are short: the difference is far below a millimetre).
    """
    step = np.hypot(*np.diff(xy, axis=0).T)
    cum = np.r_[0.0, np.cumsum(step)]

    def at(d: float) -> tuple[int, NDArray[np.float64]]:
        i = int(np.clip(np.searchsorted(cum, d, side="right") - 1, 0, len(step) - 1))
        f = (d - cum[i]) / step[i] if step[i] > 0 else 0.0
        return i, ll[i] + min(max(f, 0.0), 1.0) * (ll[i + 1] - ll[i])

    i0, p0 = at(d0)
    i1, p1 = at(d1)
    return np.vstack([p0, ll[i0 + 1 : i1 + 1], p1])
