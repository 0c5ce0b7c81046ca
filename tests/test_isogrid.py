"""The grid tracer of the service areas: valid, nested polygons from marked cells."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from coverage import _isogrid
from coverage._errors import InputDataError
from coverage.testing import GRID_CRS


def test_grid_drawing_matches_the_cells():
    """Random fields: valid polygons, nested bands, every marked cell's centre inside."""
    rng = np.random.default_rng(3)
    cell = 10.0
    for trial in range(30):
        n_groups, n_bands = 3, 2
        size = int(rng.integers(3, 25))
        count = int(rng.integers(1, size * size))
        group = rng.integers(0, n_groups, count)
        row = rng.integers(-size, size, count) + 1000 * trial
        col = rng.integers(-size, size, count) - 70 * trial
        band = rng.integers(0, n_bands, count)
        marks = _isogrid.Marks.empty()
        marks.add(group, row, col, band)
        geoms, area = _isogrid.draw(marks, n_groups, n_bands, cell, None, workers=2)
        assert all(g.is_valid for g in geoms), trial
        np.testing.assert_allclose(shapely.area(geoms), area, rtol=1e-9, atol=1e-6)
        for g in range(n_groups):
            inner, outer = geoms[g * n_bands], geoms[g * n_bands + 1]
            assert shapely.difference(inner, outer).area <= 1e-9, trial
            for k in range(n_bands):
                m = (group == g) & (band <= k)
                cx, cy = (col[m] + 0.5) * cell, (row[m] + 0.5) * cell
                assert shapely.contains_xy(geoms[g * n_bands + k], cx, cy).all(), (trial, g, k)
                # cells far from every marked cell stay outside (filled corners are adjacent)
                taken = set(zip(row[m].tolist(), col[m].tolist(), strict=True))
                r_all, c_all = np.meshgrid(
                    np.arange(-size - 3, size + 3) + 1000 * trial,
                    np.arange(-size - 3, size + 3) - 70 * trial,
                    indexing="ij",
                )
                far = np.array(
                    [
                        not any((r + dr, c + dc) in taken for dr in (-1, 0, 1) for dc in (-1, 0, 1))
                        for r, c in zip(r_all.ravel().tolist(), c_all.ravel().tolist(), strict=True)
                    ]
                )
                fx = (c_all.ravel()[far] + 0.5) * cell
                fy = (r_all.ravel()[far] + 0.5) * cell
                assert not shapely.contains_xy(geoms[g * n_bands + k], fx, fy).any()


def test_grid_holes_go_to_the_right_shell():
    """One group: a square ring with an island in its hole, and a second square ring."""

    def square_ring(r0, c0, size):
        return [
            (r0 + i, c0 + j)
            for i in range(size)
            for j in range(size)
            if i in (0, size - 1) or j in (0, size - 1)
        ]

    cells = [*square_ring(0, 0, 7), (3, 3), *square_ring(0, 20, 5)]
    row, col = (np.array(x) for x in zip(*cells, strict=True))
    marks = _isogrid.Marks.empty()
    zeros = np.zeros(len(cells), dtype=np.int64)
    marks.add(zeros, row, col, zeros)
    (geom,), area = _isogrid.draw(marks, 1, 1, 1.0, None)
    assert geom.is_valid
    assert geom.geom_type == "MultiPolygon"
    parts = sorted(shapely.get_parts(geom), key=lambda p: -p.area)
    assert [len(p.interiors) for p in parts] == [1, 1, 0]  # ring, ring, island
    inside = shapely.contains_xy(geom, col + 0.5, row + 0.5)
    assert inside.all()
    assert not shapely.contains_xy(geom, [2.5, 4.5, 22.5], [2.5, 4.5, 2.5]).any()  # the holes
    assert area[0] == pytest.approx(geom.area)


def test_grid_refuses_a_tile_too_large_to_draw(monkeypatch):
    marks = _isogrid.Marks.empty()
    zeros = np.zeros(2, dtype=np.int64)
    marks.add(zeros, np.array([0, 3000]), np.array([0, 3000]), zeros)
    monkeypatch.setattr(_isogrid, "MAX_TILE_CELLS", 1_000_000)
    with pytest.raises(InputDataError, match=r"span about 30 km.*larger cell_m"):
        _isogrid.draw(marks, 1, 1, 10.0, None)


def test_grid_lonlat_interpolation_is_within_a_millimetre():
    rng = np.random.default_rng(11)
    x = rng.uniform(200_000, 230_000, 5_000)
    y = rng.uniform(3_330_000, 3_360_000, 5_000)
    lattice = _isogrid.Lattice.covering((x.min(), x.max()), (y.min(), y.max()), GRID_CRS)
    lon, lat = lattice.lonlat(x, y)
    back_x, back_y = pyproj.Transformer.from_crs(4326, GRID_CRS, always_xy=True).transform(lon, lat)
    assert np.hypot(back_x - x, back_y - y).max() < 1e-3
