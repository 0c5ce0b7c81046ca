"""Polygons of grid cells, traced in numpy: the drawing step of the service areas.

Used by :meth:`coverage.isochrones.TravelTimeSurface.polygons`. Input: marked cells, each with
a group (the whole area, a hall, a district) and the first band that holds it; output: one
polygon per group and band, in EPSG:4326, with its area.

1. Each group gets a small tile of the grid holding the first band of each of its cells, so
   a band's cells include the previous band's: the polygons nest exactly, in any
   coordinates.
2. Where two cells of a band touch only at a corner, one more cell is marked, so every
   boundary is a set of simple, disjoint rings; the rings run through the mid-points of the
   cell edges (corners cut at 45 degrees, as marching squares draws them) and are traced by
   graph routines of :mod:`scipy.sparse.csgraph` (connected components, depth-first order).
3. Rings become polygons with holes in shapely's vectorised constructors; coordinates go to
   EPSG:4326 through a 100 m lattice of exact :mod:`pyproj` transforms, interpolated
   bilinearly (under 1 mm from the exact transform). Areas come from the grid exactly.

Every marked cell's centre lies inside its polygon; a point of a marked cell lies outside it
only in a corner cut off at 45 degrees (within half a cell of the polygon).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, depth_first_order

from coverage._errors import InputDataError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]
    GeomArray = NDArray[np.object_]

#: Grid cells per batch of tiles (a uint8 field and an int32 vertex table per cell).
BATCH_CELLS = 4_000_000
#: Largest tile of one group (about 1.2 GB of working memory), cells.
MAX_TILE_CELLS = 200_000_000
#: Unreached cell in a band field.
_NONE = np.uint8(255)
#: Spacing of the lattice of exact transforms that EPSG:4326 coordinates are interpolated
#: from, metres.
_LATTICE_M = 100.0


@dataclass
class Marks:
    """Reached grid cells: ``(group, row, col, band)`` records (one cell may repeat).

    Stored as 32-bit integers (and 8-bit bands): millions of records are common.
    """

    group: list[NDArray[np.int32]]
    row: list[NDArray[np.int32]]
    col: list[NDArray[np.int32]]
    band: list[NDArray[np.int8]]

    @classmethod
    def empty(cls) -> Marks:
        """No records."""
        return cls([], [], [], [])

    def add(self, group: IntArray, row: IntArray, col: IntArray, band: IntArray) -> None:
        """Add records (band index per record; records with no band reached are dropped)."""
        keep = band >= 0
        self.group.append(group[keep].astype(np.int32))
        self.row.append(row[keep].astype(np.int32))
        self.col.append(col[keep].astype(np.int32))
        self.band.append(band[keep].astype(np.int8))

    def arrays(
        self,
    ) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.int8]]:
        """All records as four arrays."""
        if not self.group:
            e = np.empty(0, dtype=np.int32)
            return e, e, e, np.empty(0, dtype=np.int8)
        return (
            np.concatenate(self.group),
            np.concatenate(self.row),
            np.concatenate(self.col),
            np.concatenate(self.band),
        )


@dataclass(frozen=True)
class Rings:
    """Traced boundary rings, vertices in half-cell units of the global grid.

    ``ptr`` bounds the rings' vertices; ``key`` is ``group * n_bands + band`` of each ring;
    ``area2`` is each ring's signed area in half-cell units squared (positive: a shell,
    counter-clockwise; negative: a hole).
    """

    key: IntArray
    ptr: IntArray
    x2: IntArray
    y2: IntArray
    area2: FloatArray


def draw(
    marks: Marks,
    n_groups: int,
    n_bands: int,
    cell: float,
    crs: Any,  # noqa: ANN401 (a pyproj CRS input)
    workers: int = 1,
) -> tuple[GeomArray, FloatArray]:
    """Polygons and areas (m²) of every group and band, ``group * n_bands + band``.

    Fields, corner fixes, ring tracing and polygons, batch by batch (batches of
    groups run in ``workers`` threads; numpy and shapely release the GIL). ``crs`` is the
    grid's metric CRS; the polygons are in EPSG:4326 (``crs=None``: metric coordinates).
    """
    if n_bands >= _NONE:
        msg = f"isochrones: at most {int(_NONE) - 1} bands can be drawn on a grid, got {n_bands}"
        raise InputDataError(msg)
    n_keys = n_groups * n_bands
    geoms = np.array([shapely.Polygon()] * n_keys, dtype=object)
    area = np.zeros(n_keys)
    group, row, col, band = marks.arrays()
    pad = 1  # an empty row and column around each tile
    if len(group) == 0:
        return geoms, area
    # records sorted by group (a stable sort of small integers is a radix sort), then the
    # extent of each group's cells
    order = np.argsort(group.astype(np.uint16) if n_groups < 2**16 else group, kind="stable")
    group, row, col, band = group[order], row[order], col[order], band[order]
    bounds = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(group, minlength=n_groups), out=bounds[1:])
    has = bounds[1:] > bounds[:-1]
    first = bounds[:-1][has]
    rmin = np.zeros(n_groups, dtype=np.int64)
    cmin = np.zeros(n_groups, dtype=np.int64)
    rmax = np.full(n_groups, -1, dtype=np.int64)
    cmax = np.full(n_groups, -1, dtype=np.int64)
    rmin[has] = np.minimum.reduceat(row, first)
    rmax[has] = np.maximum.reduceat(row, first)
    cmin[has] = np.minimum.reduceat(col, first)
    cmax[has] = np.maximum.reduceat(col, first)
    height = np.where(has, rmax - rmin + 1 + 2 * pad, 0)
    width = np.where(has, cmax - cmin + 1 + 2 * pad, 0)
    largest = int((height * width).max())
    if largest > MAX_TILE_CELLS:
        side = math.sqrt(largest) * cell / 1000
        msg = (
            f"isochrones: one polygon would span about {side:,.0f} km on a {cell:g} m grid "
            f"({largest:,} cells, more than {MAX_TILE_CELLS:,}); use a larger cell_m or "
            "per='district' instead of per='all'"
        )
        raise InputDataError(msg)

    lattice = None
    if crs is not None:  # one lattice of exact transforms for every batch
        x = (float(cmin[has].min() - pad) * cell, float(cmax[has].max() + pad + 1) * cell)
        y = (float(rmin[has].min() - pad) * cell, float(rmax[has].max() + pad + 1) * cell)
        lattice = Lattice.covering(x, y, crs)

    def run(lo: int, hi: int) -> None:
        if int(height[lo:hi].max()) == 0:
            return  # no group of the batch reaches anything
        take = slice(bounds[lo], bounds[hi])
        rings = _draw_batch(
            group[take] - lo,
            row[take],
            col[take],
            band[take],
            rmin[lo:hi] - pad,
            cmin[lo:hi] - pad,
            int(height[lo:hi].max()),
            int(width[lo:hi].max()),
            n_bands,
        )
        part = slice(lo * n_bands, hi * n_bands)
        geoms[part], area[part] = polygons(rings, (hi - lo) * n_bands, cell, lattice)

    batches = _batches(height, width)
    if workers <= 1 or len(batches) == 1:
        for lo, hi in batches:
            run(lo, hi)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(run, lo, hi) for lo, hi in batches]:
                future.result()
    return geoms, area


def _batches(height: IntArray, width: IntArray) -> list[tuple[int, int]]:
    """Consecutive groups whose common tile keeps a batch under ``BATCH_CELLS`` cells."""
    out = []
    lo = 0
    h = w = 0
    for g in range(len(height)):
        nh, nw = max(h, int(height[g])), max(w, int(width[g]))
        if g > lo and (g - lo + 1) * (nh + 1) * (nw + 1) > BATCH_CELLS:
            out.append((lo, g))
            lo, nh, nw = g, int(height[g]), int(width[g])
        h, w = nh, nw
    if lo < len(height):
        out.append((lo, len(height)))
    return out


def _draw_batch(
    group: NDArray[np.int32],
    row: NDArray[np.int32],
    col: NDArray[np.int32],
    band: NDArray[np.int8],
    r0: IntArray,
    c0: IntArray,
    height: int,
    width: int,
    n_bands: int,
) -> Rings:
    """Rings of a batch of groups (keys ``group * n_bands + band``, groups from 0)."""
    n = len(r0)
    field = np.full((n, height, width), _NONE, dtype=np.uint8)
    ti = row - r0[group]
    tj = col - c0[group]
    for k in range(n_bands - 1, -1, -1):  # later writes win: the earliest band is kept
        m = band == k
        field[group[m], ti[m], tj[m]] = k
    _fix_corners(field)
    masks = [field <= k for k in range(n_bands)]
    parts = []
    table = np.empty(n * (height + 1) * (width + 1), dtype=np.int32)
    for k in range(n_bands):
        rings = _trace(masks[k], field, k, n_bands, table)
        tile = np.repeat(rings.key, np.diff(rings.ptr))  # tile of every vertex
        parts.append(
            Rings(
                key=rings.key * n_bands + k,
                ptr=rings.ptr,
                x2=rings.x2 + 2 * c0[tile],
                y2=rings.y2 + 2 * r0[tile],
                area2=rings.area2,
            )
        )
    return _concat_rings(parts)


def _fix_corners(field: NDArray[np.uint8]) -> None:
    """Add a cell wherever two cells of a band touch only at a corner (all bands at once).

    In a window of 2 x 2 cells with ``a``, ``b`` below and ``c``, ``d`` above, band ``k``
    has ``a`` and ``d`` but neither ``b`` nor ``c`` when ``max(a, d) <= k < min(b, c)``
    (the field holds each cell's first band); ``b`` then joins band ``max(a, d)``, which
    fixes every such band and keeps the bands nested. The mirror case fills ``a``. Repeated
    until no corner-only contact is left (a new cell can make a new contact).
    """
    w = field.shape[2]
    flat = field.reshape(-1)
    while True:
        # windows indexed by their lower-left cell; the last row and column of a tile are
        # empty padding, so windows that wrap around never qualify
        a = flat[: -(w + 1)]
        b = flat[1:-w]
        c = flat[w:-1]
        d = flat[w + 1 :]
        lo_diag = np.maximum(a, d)
        diag = np.flatnonzero(lo_diag < np.minimum(b, c))  # fill b
        lo_anti = np.maximum(b, c)
        anti = np.flatnonzero(lo_anti < np.minimum(a, d))  # fill a
        if len(diag) == 0 and len(anti) == 0:
            return
        flat[diag + 1] = np.minimum(flat[diag + 1], lo_diag[diag])
        flat[anti] = np.minimum(flat[anti], lo_anti[anti])


def _trace(
    mask: BoolArray, field: NDArray[np.uint8], k: int, n_bands: int, table: NDArray[np.int32]
) -> Rings:
    """Boundary rings of band ``k`` in every tile of a batch (tile-local half-cell units).

    ``key`` is the tile index; vertices are the mid-points of the boundary's cell edges, in
    order (shells counter-clockwise, holes clockwise). Vertices on a straight run are
    dropped unless the same cell edge is also on the boundary of the band before or after:
    a vertex of one band that lies on another band's boundary is then a vertex of both, so
    the bands stay nested in any coordinates. ``table`` is scratch space, one entry per
    lattice vertex. The masks must be empty along the tile borders and free of corner-only
    contacts (:func:`_fix_corners`).
    """
    _, h, w = mask.shape
    flat = mask.reshape(-1)
    ff = field.reshape(-1)
    # boundaries between rows i and i + 1 (lattice row i + 1, columns j .. j + 1); cell
    # (g, i, j) is flat index (g * h + i) * w + j, and the tiles' padding rows keep pairs
    # of cells from different tiles empty
    f1 = np.flatnonzero(flat[:-w] != flat[w:])
    up = flat[f1 + w]  # inside above: eastwards, else westwards
    gi1, j1 = np.divmod(f1, w)
    g1, i1 = np.divmod(gi1, h)
    # boundaries between columns j and j + 1 (lattice column j + 1, rows i .. i + 1)
    f2 = np.flatnonzero(flat[:-1] != flat[1:])
    right = flat[f2 + 1]  # inside to the right: southwards, else northwards
    gi2, j2 = np.divmod(f2, w)
    g2, i2 = np.divmod(gi2, h)
    n_edges = len(f1) + len(f2)
    if n_edges == 0:
        e = np.empty(0, dtype=np.int64)
        return Rings(e, np.zeros(1, dtype=np.int64), e, e, np.empty(0))
    g = np.concatenate([g1, g2])
    tx = np.concatenate([np.where(up, j1, j1 + 1), j2 + 1])
    ty = np.concatenate([i1 + 1, np.where(right, i2 + 1, i2)])
    hx = np.concatenate([np.where(up, j1 + 1, j1), j2 + 1])
    hy = np.concatenate([i1 + 1, np.where(right, i2, i2 + 1)])
    inside = np.concatenate([np.where(up, f1 + w, f1), np.where(right, f2 + 1, f2)])
    outside = np.concatenate([np.where(up, f1, f1 + w), np.where(right, f2, f2 + 1)])
    shared = np.zeros(n_edges, dtype=bool)
    if k + 1 < n_bands:
        shared |= ff[outside] > k + 1
    if k > 0:
        shared |= ff[inside] < k
    per_tile = (h + 1) * (w + 1)
    table[g * per_tile + ty * (w + 1) + tx] = np.arange(n_edges)  # one edge out per vertex
    order, start = _cycles(table[g * per_tile + hy * (w + 1) + hx].astype(np.int64))
    x2 = (tx + hx)[order]
    y2 = (ty + hy)[order]
    ptr = np.r_[start, n_edges]
    area2 = _ring_area2(x2, y2, ptr)
    # drop the vertices in the middle of straight runs
    prev = np.arange(-1, n_edges - 1)
    prev[start] = ptr[1:] - 1
    nxt = np.arange(1, n_edges + 1)
    nxt[ptr[1:] - 1] = start
    straight = (x2 - x2[prev] == x2[nxt] - x2) & (y2 - y2[prev] == y2[nxt] - y2)
    keep = ~straight | shared[order]
    counts = np.add.reduceat(keep.astype(np.int64), start)
    return Rings(
        key=g[order][start],
        ptr=np.r_[0, np.cumsum(counts)],
        x2=x2[keep],
        y2=y2[keep],
        area2=area2,
    )


def _cycles(nxt: IntArray) -> tuple[IntArray, IntArray]:
    """The cycles of a permutation one after the other, and where each cycle starts.

    Each cycle starts at its smallest element. The cycles are found as connected
    components; then the last element of each cycle is pointed at the next cycle's start,
    which makes one path through everything, and a depth-first search walks it (in C).
    """
    n = len(nxt)
    every = np.arange(n)
    ones = np.ones(n)
    _, label = connected_components(
        sp.csr_matrix((ones, nxt, np.arange(n + 1)), shape=(n, n)),
        directed=True,
        connection="weak",
    )
    start = np.full(int(label.max()) + 1, n, dtype=np.int64)
    np.minimum.at(start, label, every)
    inv = np.empty(n, dtype=np.int64)
    inv[nxt] = every
    path = nxt.astype(np.int64).copy()
    path[inv[start[:-1]]] = start[1:]  # each cycle's last element leads to the next start
    end = inv[start[-1]]
    indptr = np.r_[0, np.cumsum(every != end)]
    indices = path[every != end]
    graph = sp.csr_matrix((ones[: n - 1], indices, indptr), shape=(n, n))
    order = depth_first_order(graph, int(start[0]), directed=True, return_predecessors=False)
    is_start = np.zeros(n, dtype=bool)
    is_start[start] = True
    order = order.astype(np.int64)
    return order, np.flatnonzero(is_start[order])


def _ring_area2(x2: IntArray, y2: IntArray, ptr: IntArray) -> FloatArray:
    """Signed area of each ring (shoelace), in the vertices' units squared."""
    n = len(x2)
    if n == 0:
        return np.empty(0)
    nxt = np.arange(1, n + 1)
    nxt[ptr[1:] - 1] = ptr[:-1]
    cross = x2.astype(np.float64) * y2[nxt] - x2[nxt].astype(np.float64) * y2
    return np.add.reduceat(cross, ptr[:-1]) / 2.0


def _concat_rings(parts: list[Rings]) -> Rings:
    parts = [p for p in parts if len(p.key)]
    if not parts:
        e = np.empty(0, dtype=np.int64)
        return Rings(e, np.zeros(1, dtype=np.int64), e, e, np.empty(0))
    sizes = np.cumsum([0] + [int(p.ptr[-1]) for p in parts[:-1]])
    return Rings(
        key=np.concatenate([p.key for p in parts]),
        ptr=np.concatenate([[0]] + [p.ptr[1:] + s for p, s in zip(parts, sizes, strict=True)]),
        x2=np.concatenate([p.x2 for p in parts]),
        y2=np.concatenate([p.y2 for p in parts]),
        area2=np.concatenate([p.area2 for p in parts]),
    )


def polygons(
    rings: Rings,
    n_keys: int,
    cell: float,
    lattice: Lattice | None,
) -> tuple[GeomArray, FloatArray]:
    """Polygons in EPSG:4326 and their areas (m²), one per key (empty where no rings).

    ``lattice`` turns the grid's metric coordinates into EPSG:4326 (``None`` keeps them).
    Holes go to the smallest shell of their key that contains them.
    """
    out = np.array([shapely.Polygon()] * n_keys, dtype=object)
    area = np.zeros(n_keys)
    if len(rings.key) == 0:
        return out, area
    half = cell / 2.0
    np.add.at(area, rings.key, rings.area2 * half * half)
    shell = rings.area2 > 0
    owner = _owners(rings, shell)
    # rings sorted by key, then by owning shell, the shell first
    order = np.lexsort((~shell, owner, rings.key))
    counts = np.diff(rings.ptr)
    vert = _gather_rings(rings.ptr, order)
    x = np.asarray(rings.x2[vert] * half, dtype=np.float64)
    y = np.asarray(rings.y2[vert] * half, dtype=np.float64)
    if lattice is not None:
        x, y = lattice.lonlat(x, y)
    ring_of_vert = np.repeat(np.arange(len(order)), counts[order])
    lr = shapely.linearrings(np.column_stack([x, y]), indices=ring_of_vert)
    sorted_owner = owner[order]
    poly_index = np.r_[0, np.cumsum(sorted_owner[1:] != sorted_owner[:-1])]
    polys = shapely.polygons(lr, indices=poly_index)
    poly_key = rings.key[order][np.r_[True, sorted_owner[1:] != sorted_owner[:-1]]]
    single = np.bincount(poly_key, minlength=n_keys) == 1
    one = single[poly_key]
    out[poly_key[one]] = polys[one]
    if (~one).any():
        keys, index = np.unique(poly_key[~one], return_inverse=True)
        out[keys] = shapely.multipolygons(polys[~one], indices=index)
    return out, area


def _gather_rings(ptr: IntArray, order: IntArray) -> IntArray:
    """Vertex indices of the rings in ``order``, ring after ring."""
    counts = np.diff(ptr)[order]
    starts = ptr[:-1][order]
    base = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return np.asarray(np.arange(int(counts.sum()), dtype=np.int64) + base, dtype=np.int64)


def _owners(rings: Rings, shell: BoolArray) -> IntArray:
    """Shell ring owning each ring (a shell owns itself)."""
    n = len(rings.key)
    owner = np.arange(n)
    shells = np.flatnonzero(shell)
    holes = np.flatnonzero(~shell)
    if len(holes) == 0:
        return owner
    count = np.bincount(rings.key[shells], minlength=int(rings.key.max()) + 1)
    first_shell = np.full(len(count), -1)
    first_shell[rings.key[shells][::-1]] = shells[::-1]
    simple = count[rings.key[holes]] == 1
    owner[holes[simple]] = first_shell[rings.key[holes[simple]]]
    hard = holes[~simple]
    if len(hard):
        # keys with several shells: the smallest shell of the key that holds a vertex of the
        # hole (rings never touch, so a vertex is strictly inside or outside)
        cand = shells[count[rings.key[shells]] > 1]
        vert = _gather_rings(rings.ptr, cand)
        xy = np.column_stack([rings.x2[vert], rings.y2[vert]]).astype(np.float64)
        size = np.diff(rings.ptr)[cand]
        polys = shapely.polygons(
            shapely.linearrings(xy, indices=np.repeat(np.arange(len(cand)), size))
        )
        at = rings.ptr[hard]
        points = shapely.points(rings.x2[at].astype(np.float64), rings.y2[at].astype(np.float64))
        pi, si = shapely.STRtree(polys).query(points, predicate="within")
        same = rings.key[hard[pi]] == rings.key[cand[si]]
        pi, si = pi[same], si[same]
        order = np.lexsort((rings.area2[cand[si]], pi))
        pi, si = pi[order], si[order]
        first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.empty(0, dtype=bool)
        owner[hard[pi[first]]] = cand[si[first]]
    return owner


@dataclass(frozen=True)
class Lattice:
    """Exact EPSG:4326 coordinates on a lattice of metric points, for bilinear lookups."""

    x0: int  # lattice index of the first column (x / _LATTICE_M)
    y0: int
    lon: FloatArray  # (rows, columns)
    lat: FloatArray

    @classmethod
    def covering(
        cls,
        x: tuple[float, float],
        y: tuple[float, float],
        crs: Any,  # noqa: ANN401 (a pyproj CRS input)
    ) -> Lattice:
        """A lattice over ``x[0]..x[1]`` and ``y[0]..y[1]`` (metres, in ``crs``)."""
        x0, y0 = math.floor(x[0] / _LATTICE_M), math.floor(y[0] / _LATTICE_M)
        nx = math.floor(x[1] / _LATTICE_M) - x0 + 2
        ny = math.floor(y[1] / _LATTICE_M) - y0 + 2
        gx, gy = np.meshgrid((x0 + np.arange(nx)) * _LATTICE_M, (y0 + np.arange(ny)) * _LATTICE_M)
        to = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
        lon, lat = (np.asarray(a).reshape(ny, nx) for a in to.transform(gx.ravel(), gy.ravel()))
        return cls(x0, y0, lon, lat)

    def lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Longitude and latitude of metric points inside the lattice (bilinear)."""
        ny, nx = self.lon.shape
        fx = x / _LATTICE_M - self.x0
        fy = y / _LATTICE_M - self.y0
        ix = np.clip(fx.astype(np.int64), 0, nx - 2)
        iy = np.clip(fy.astype(np.int64), 0, ny - 2)
        tx, ty = fx - ix, fy - iy
        at = iy * nx + ix

        def interp(v: FloatArray) -> FloatArray:
            flat = v.reshape(-1)
            v00, v01 = flat[at], flat[at + 1]
            v10, v11 = flat[at + nx], flat[at + nx + 1]
            low = v00 + (v01 - v00) * tx
            return np.asarray(low + (v10 + (v11 - v10) * tx - low) * ty)

        return interp(self.lon), interp(self.lat)
