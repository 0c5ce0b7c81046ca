"""Hall and community edits: the edited frames (the inputs are never changed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from coverage._errors import InputDataError, list_ids
from coverage._validate import match_names
from coverage.coords import to_wgs84
from coverage.scenarios._model import AddHall, CloseHalls, MoveHall, Point, Scenario, SetCommunities

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from coverage.network import Network


def to_metric(network: Network, lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points given as lon/lat (EPSG:4326, degrees) in the network's metric CRS, metres."""
    to_m = network.memo(
        __name__,
        "to_metric",
        lambda: pyproj.Transformer.from_crs(4326, network.crs, always_xy=True),
    )
    x, y = to_m.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def to_lonlat(scenario: Scenario, points: Sequence[Point]) -> NDArray[np.float64]:
    """The scenario's points in WGS-84 lon/lat, degrees, shape ``(n, 2)``."""
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    if scenario.coord_system == "wgs84" or not len(xy):
        return xy
    lon, lat = to_wgs84(xy[:, 0], xy[:, 1], scenario.coord_system)
    return np.column_stack([lon, lat])


def _set_column(frame: pd.DataFrame, col: str, rows: NDArray[np.bool_], value: object) -> None:
    """``frame[col][rows] = value`` without changing the column's type where it fits."""
    if col not in frame.columns:
        frame[col] = np.full(len(frame), np.nan)
    values = frame[col].to_numpy(copy=True)
    if isinstance(value, float) and values.dtype.kind in "iu" and not float(value).is_integer():
        values = values.astype(float)
    elif isinstance(value, float) and values.dtype.kind in "iu":
        value = int(value)
    elif isinstance(value, str) and values.dtype.kind not in "OUT":
        values = values.astype(object)
    values[rows] = value
    frame[col] = pd.Series(values, index=frame.index).astype(
        frame[col].dtype if isinstance(value, str) else values.dtype
    )


def edit_communities(
    communities: gpd.GeoDataFrame, scenario: Scenario, labels: list[str], problems: list[str]
) -> gpd.GeoDataFrame:
    """The communities after ``[[communities.set]]`` edits (a copy; the input untouched)."""
    sets = [
        (lab, e)
        for lab, e in zip(labels, scenario.edits, strict=True)
        if isinstance(e, SetCommunities)
    ]
    if not sets:
        return communities
    out = communities.copy()
    ids = out["community_id"].astype(str).to_numpy()
    for label, edit in sets:
        area = "district" if edit.district is not None else "street"
        wanted = edit.district if edit.district is not None else edit.street
        if wanted is not None:
            names = out[area].astype(str).to_numpy() if area in out.columns else np.array([])
            try:
                name = match_names([wanted], sorted(set(names.tolist())), what=area)[0]
            except InputDataError as exc:
                problems.append(f"{label}: {exc}")
                continue
            rows = names == name
        else:
            unknown = [c for c in edit.community_id if c not in set(ids)]
            if unknown:
                problems.append(
                    f"{label}: no community with community_id {list_ids(unknown)} in the baseline"
                )
                continue
            rows = np.isin(ids, list(edit.community_id))
        for col in ("kind", "population", "households"):
            value = getattr(edit, col)
            if value is not None:
                _set_column(out, col, rows, value)
    return out


class _HallEdits:
    """The hall edits gathered: which baseline halls stay, where some move, which are new."""

    def __init__(self, halls: gpd.GeoDataFrame, scenario: Scenario, problems: list[str]) -> None:
        self.scenario = scenario
        self.problems = problems
        self.ids = halls["hall_id"].astype(str).to_numpy()
        self.known = set(self.ids.tolist())
        self.names = halls["name"].astype(str).to_numpy() if "name" in halls.columns else self.ids
        self.where_ll = halls.geometry.to_crs(4326)
        self.keep = np.ones(len(halls), dtype=bool)
        self.moved_to: dict[int, Point] = {}
        self.added: list[tuple[AddHall, Point]] = []
        self.changes: list[dict[str, Any]] = []
        self.placed: list[tuple[str, Point]] = []

    def _change(self, hall_id: str, name: str, change: str, label: str, at: object) -> None:
        self.changes.append(
            {"hall_id": hall_id, "name": name, "change": change, "edit": label, "geometry": at}
        )

    def close(self, label: str, edit: CloseHalls) -> None:
        unknown = [h for h in edit.hall_ids if h not in self.known]
        if unknown:
            self.problems.append(
                f"{label}: no hall with hall_id {list_ids(unknown)} in the baseline"
            )
        for i in np.flatnonzero(np.isin(self.ids, list(edit.hall_ids))).tolist():
            self.keep[i] = False
            self._change(self.ids[i], self.names[i], "closed", label, self.where_ll.iloc[i])

    def move(self, label: str, edit: MoveHall) -> None:
        if edit.hall_id not in self.known:
            self.problems.append(f"{label}: no hall with hall_id {edit.hall_id!r} in the baseline")
            return
        ((lon, lat),) = to_lonlat(self.scenario, [(edit.lon, edit.lat)]).tolist()
        i = int(np.flatnonzero(self.ids == edit.hall_id)[0])
        self.moved_to[i] = (lon, lat)
        self.placed.append((label, (lon, lat)))
        self._change(edit.hall_id, self.names[i], "moved", label, shapely.Point(lon, lat))

    def add(self, label: str, edit: AddHall) -> None:
        if edit.hall_id in self.known or edit.hall_id in {a.hall_id for a, _ in self.added}:
            where = "in the baseline" if edit.hall_id in self.known else "among the new halls"
            self.problems.append(f"{label}: hall_id {edit.hall_id!r} already exists {where}")
            return
        ((lon, lat),) = to_lonlat(self.scenario, [(edit.lon, edit.lat)]).tolist()
        self.added.append((edit, (lon, lat)))
        self.placed.append((label, (lon, lat)))
        self._change(
            edit.hall_id, edit.name or edit.hall_id, "added", label, shapely.Point(lon, lat)
        )


def edit_halls(
    halls: gpd.GeoDataFrame, scenario: Scenario, labels: list[str], problems: list[str]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[tuple[str, Point]]]:
    """The halls after closing, moving and adding; the changes; the new places to check.

    Returns the edited halls (the input itself when no edit touches them), one row per
    changed hall (``hall_id``, ``name``, ``change``, ``edit``; EPSG:4326) and the label and
    lon/lat of each new or moved hall.
    """
    state = _HallEdits(halls, scenario, problems)
    touched = False
    for label, edit in zip(labels, scenario.edits, strict=True):
        if isinstance(edit, CloseHalls):
            state.close(label, edit)
        elif isinstance(edit, MoveHall):
            state.move(label, edit)
        elif isinstance(edit, AddHall):
            state.add(label, edit)
        else:
            continue
        touched = True
    changes = geo_frame(state.changes, ["hall_id", "name", "change", "edit"])
    if not touched:
        return halls, changes, []
    problems.extend(
        f"hall {state.ids[i]!r} is both closed and moved"
        for i in state.moved_to
        if not state.keep[i]
    )
    return _hall_frame(halls, state.keep, state.moved_to, state.added), changes, state.placed


def geo_frame(rows: list[dict[str, Any]], columns: list[str]) -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4326) of rows with a ``geometry`` each."""
    if not rows:
        return gpd.GeoDataFrame(
            {c: pd.Series([], dtype=object) for c in columns}, geometry=gpd.GeoSeries([], crs=4326)
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)[[*columns, "geometry"]]


def empty_roads() -> gpd.GeoDataFrame:
    return geo_frame([], ["edit", "change", "name"])


def _new_index(index: pd.Index, hall_ids: list[str]) -> pd.Index:
    """Index labels of new halls: the next integers after an integer index, else their ids."""
    if pd.api.types.is_integer_dtype(index.dtype):
        start = int(index.max()) + 1 if len(index) else 0
        return pd.Index(range(start, start + len(hall_ids)))
    return pd.Index(hall_ids)


def _hall_frame(
    halls: gpd.GeoDataFrame,
    keep: NDArray[np.bool_],
    moved_to: dict[int, Point],
    added: list[tuple[AddHall, Point]],
) -> gpd.GeoDataFrame:
    """The halls kept (moved ones in their new place), then the new ones.

    New rows get the baseline's columns: ``False`` in boolean columns (``illustrative``),
    missing values elsewhere; a ``name`` or ``floor_area_m2`` column is added if a new hall
    has one and the baseline has not (old halls named by their id, areas unknown).
    """
    geom_name = halls.geometry.name
    out = halls.copy()
    if moved_to:
        at = list(moved_to)
        pts = gpd.GeoSeries([shapely.Point(*moved_to[i]) for i in at], crs=4326)
        geometry = out.geometry.copy()
        geometry.iloc[at] = pts.to_crs(halls.crs).to_numpy()
        out[geom_name] = geometry
    out = out.iloc[np.flatnonzero(keep)]
    if not added:
        return out
    if "name" not in out.columns:
        out["name"] = out["hall_id"].astype(str)
    if "floor_area_m2" not in out.columns:
        out["floor_area_m2"] = np.nan
    n_new = len(added)
    index = _new_index(halls.index, [a.hall_id for a, _ in added])
    cols: dict[str, Any] = {}
    for col in out.columns:
        if col == geom_name:
            continue
        if out[col].dtype == bool:
            cols[col] = np.zeros(n_new, dtype=bool)
        elif pd.api.types.is_numeric_dtype(out[col].dtype):
            cols[col] = np.full(n_new, np.nan)
        else:
            cols[col] = pd.Series([None] * n_new, index=index, dtype=out[col].dtype)
    cols["hall_id"] = pd.Series([a.hall_id for a, _ in added], index=index).astype(
        out["hall_id"].dtype
    )
    cols["name"] = pd.Series([a.name or a.hall_id for a, _ in added], index=index).astype(
        out["name"].dtype
    )
    cols["floor_area_m2"] = [
        np.nan if a.floor_area_m2 is None else a.floor_area_m2 for a, _ in added
    ]
    pts = gpd.GeoSeries([shapely.Point(*p) for _, p in added], crs=4326, index=index)
    new = gpd.GeoDataFrame(cols, index=index, geometry=pts.to_crs(halls.crs))
    if geom_name != "geometry":
        new = new.rename_geometry(geom_name)
    both = pd.concat([out, new[out.columns]])
    both.attrs = dict(halls.attrs)
    return both
