"""From a raw table to the canonical columns: header matching, values, ids, repeated rows."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from coverage._errors import CoverageWarning, counted, list_ids
from coverage._validate import (
    ColumnMatch,
    Problems,
    Rows,
    clean_text,
    closest_header,
    did_you_mean,
    is_null,
    match_columns,
    normalise_header,
    parse_bools,
    parse_numbers,
    warn,
)
from coverage.coords import CoordSystem, to_wgs84
from coverage.io._formats import MAX_VALUE, Table
from coverage.io._headers import COMMUNITIES, RURAL, URBAN, Spec
from coverage.io._points import locations

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import geopandas as gpd
    import numpy.typing as npt

    from coverage.config import Config

logger = logging.getLogger(__name__)


def _unit_factor(header: str, canonical: str) -> float:
    """Scale factor given by a unit in the header: 面积(公顷) -> 1e4 m², 人口(万人) -> 1e4."""
    norm = normalise_header(header)
    if canonical in {"area_m2", "floor_area_m2"}:
        if any(u in norm for u in ("km2", "平方公里", "平方千米")):
            return 1e6
        if any(u in norm for u in ("公顷", "hm2", "(ha)")):
            return 1e4
        if "亩" in norm:
            return 10000.0 / 15.0
    if canonical in {"population", "households"} and "万" in norm:
        return 1e4
    return 1.0


@dataclass
class Context:
    table: Table
    spec: Spec
    problems: Problems
    header_of: dict[str, str]
    rows: Rows
    warnings: list[str | CoverageWarning] = field(default_factory=list)
    near_misses: dict[str, tuple[str, str]] = field(default_factory=dict)

    def column(self, canonical: str) -> str:
        header = self.header_of.get(canonical, canonical)
        return f"column '{canonical}'" + (f" (header '{header}')" if header != canonical else "")

    def values(self, canonical: str) -> list[object]:
        return list(self.table.data[self.header_of[canonical]])

    def numbers(self, canonical: str, *, nulls_allowed: bool) -> npt.NDArray[np.float64] | None:
        """Parse a numeric column; report non-numeric, negative and (optionally) null values."""
        if canonical not in self.header_of:
            return None
        raw = self.values(canonical)
        numbers, null, bad = parse_numbers(raw)
        col = self.column(canonical)
        if bad.any():
            shown = list_ids(list(dict.fromkeys(str(raw[i]) for i in np.flatnonzero(bad))), 5)
            self.problems.add(
                "value",
                f"{col} has {counted(int(bad.sum()), 'non-numeric value')} "
                f"({self.rows.describe(bad)}): {shown}",
            )
        if null.any() and not nulls_allowed:
            self.problems.add(
                "value",
                f"{col} has {counted(int(null.sum()), 'null value')} ({self.rows.describe(null)})",
            )
        negative = np.nan_to_num(numbers, nan=0.0) < 0
        if negative.any():
            self.problems.add(
                "value",
                f"{col} has {counted(int(negative.sum()), 'negative value')} "
                f"({self.rows.describe(negative)})",
            )
        factor = _unit_factor(self.header_of[canonical], canonical)
        if factor != 1.0:
            logger.info("%s: %s scaled by %g (unit in the header)", self.table.label, col, factor)
        with np.errstate(over="ignore"):
            numbers = numbers * factor
        limit = MAX_VALUE.get(canonical, np.inf)
        huge = ~bad & (np.nan_to_num(np.abs(numbers), nan=0.0) > limit)
        if huge.any():
            self.problems.add(
                "value",
                f"{col} has {counted(int(huge.sum()), 'value')} too large to be true "
                f"(> {limit:,.0f}) ({self.rows.describe(huge)})",
            )
            numbers = np.where(huge, np.nan, numbers)
        return numbers

    def text(self, canonical: str) -> list[str | None] | None:
        if canonical not in self.header_of:
            return None
        return [clean_text(v) for v in self.values(canonical)]


_ADDRESS = re.compile(r"地址|住址|address|addr")


_SUGGEST_CUTOFF = 0.75


def _missing_message(
    canonical: str, spec: Spec, headers: Sequence[str], used: Sequence[str]
) -> str:
    accepted = list(dict.fromkeys([canonical, *spec.aliases[canonical]]))
    msg = (
        f"required column '{canonical}' is missing; accepted headers: "
        f"{', '.join(accepted)} (any case, spaces and units ignored); "
        f"headers found: {list_ids(headers, 30)}"
    )
    suggestion = did_you_mean(accepted, headers, used)
    if suggestion is not None:
        msg += f"; did you mean {suggestion!r}? (pass columns={{{suggestion!r}: {canonical!r}}})"
    address = next((h for h in headers if _ADDRESS.search(normalise_header(h))), None)
    if canonical == "lon" and address is not None and suggestion is None:
        msg += (
            f"; the table has an address column ({address!r}) but no coordinates: geocode the "
            "addresses first (Amap gives GCJ-02: pass coord_system='gcj02'; Baidu BD-09: 'bd09')"
        )
    return msg


def _near_misses(
    spec: Spec, headers: Sequence[str], match: ColumnMatch, skip: set[str]
) -> dict[str, tuple[str, str]]:
    """Unrecognised headers that look like a spelling of a column the table lacks.

    Returns canonical name -> (header in the file, accepted spelling it resembles).
    """
    used = set(match.header_of.values()) | set(match.ignored)
    found: dict[str, tuple[str, str]] = {}
    for canonical, names in spec.aliases.items():
        if canonical in match.header_of or canonical in skip:
            continue
        accepted = list(dict.fromkeys([canonical, *names]))
        hit = closest_header(accepted, headers, used, cutoff=_SUGGEST_CUTOFF)
        if hit is not None:
            found[canonical] = hit
            used.add(hit[0])
    return found


def _near_miss_warning(label: str, misses: Mapping[str, tuple[str, str]]) -> str:
    looks = ", ".join(
        f"{header!r} looks like {spelling!r} (column '{canonical}')"
        for canonical, (header, spelling) in misses.items()
    )
    mapping = ", ".join(f"{header!r}: {canonical!r}" for canonical, (header, _) in misses.items())
    if len(misses) == 1:
        kept, hold, fix = "header kept as an ordinary column", "it holds", "header"
    else:
        kept, hold, fix = "headers kept as ordinary columns", "they hold", "headers"
    return (
        f"{label}: unrecognised {kept}: {looks}; if that is what {hold}, fix the {fix} or "
        f"pass columns={{{mapping}}}"
    )


def build(
    table: Table,
    spec: Spec,
    coord_system: CoordSystem,
    columns: Mapping[str, str] | None,
    config: Config,
) -> gpd.GeoDataFrame:
    problems = Problems(table.label)
    headers = [str(c) for c in table.data.columns]
    match = match_columns(headers, spec.aliases, columns, problems)
    header_of = dict(match.header_of)
    has_geometry = table.geometry is not None
    if has_geometry:
        # The geometry gives the location; longitude/latitude attributes stay as they are.
        header_of.pop("lon", None)
        header_of.pop("lat", None)
    for header, canonical in match.ignored.items():
        logger.info(
            "%s: header %r also reads as '%s'; using %r, keeping %r as it is",
            table.label,
            header,
            canonical,
            header_of.get(canonical),
            header,
        )
    n = len(table.data)
    rows = Rows(table.row_labels, table.row_noun, None, spec.id_col)
    ctx = Context(table, spec, problems, header_of, rows)

    required = list(spec.required) + ([] if has_geometry else ["lon", "lat"])
    for canonical in (c for c in required if c not in header_of):
        used = list(header_of.values())
        problems.add("missing", _missing_message(canonical, spec, headers, used))
    skip = set(required) | ({"lon", "lat"} if has_geometry else set())
    ctx.near_misses = _near_misses(spec, headers, match, skip)

    ids = _ids(ctx, n)
    out: dict[str, Any] = {spec.id_col: ids}
    if spec is COMMUNITIES:
        out.update(_community_columns(ctx, ids, config))
    else:
        out.update(_hall_columns(ctx, ids))

    lon_in, lat_in, area = locations(ctx, config, want_area=spec is COMMUNITIES)
    problems.raise_if_any()
    _warn_all(ctx, ids, out["name"] if "name" in header_of else None, lon_in, lat_in)

    if spec is COMMUNITIES:
        given = out["area_m2"]
        filled = np.isnan(given) & ~np.isnan(area)
        if filled.any():
            out["area_m2"] = np.where(filled, area, given)
    lon, lat = to_wgs84(lon_in, lat_in, coord_system)
    out["lon"] = np.asarray(lon, dtype=np.float64)
    out["lat"] = np.asarray(lat, dtype=np.float64)
    if coord_system != "wgs84":
        out[f"lon_{coord_system}"] = lon_in
        out[f"lat_{coord_system}"] = lat_in
        logger.info("%s: converted %d points from %s to WGS-84", table.label, n, coord_system)

    return _assemble(out, table, set(header_of.values()))


def _warn_all(
    ctx: Context,
    ids: Sequence[str],
    names: Sequence[str] | None,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
) -> None:
    """Issue the warnings gathered while reading, and the one about repeated rows."""
    if ctx.near_misses:
        ctx.warnings.insert(0, _near_miss_warning(ctx.table.label, ctx.near_misses))
    repeated = _repeated_rows(ctx, ids, names, lon, lat)
    if repeated is not None:
        ctx.warnings.append(repeated)
    for message in ctx.warnings:
        warn(message, CoverageWarning)


def _assemble(out: dict[str, Any], table: Table, used: set[str]) -> gpd.GeoDataFrame:
    """Canonical columns, then the user's other columns, ``source_row`` and the points."""
    import geopandas as gpd  # noqa: PLC0415

    frame = pd.DataFrame(out)
    reserved = set(frame.columns) | {"source_row", "geometry"}
    for header in (str(c) for c in table.data.columns):
        if header not in used:
            name = header if header not in reserved else f"{header}_input"
            frame[name] = _user_column(table.data[header])
    frame["source_row"] = table.source_row
    gdf = gpd.GeoDataFrame(frame, geometry=shapely.points(out["lon"], out["lat"]), crs="EPSG:4326")
    gdf.attrs["source"] = table.label  # for messages of later checks (audit, coverage.checks)
    return gdf


def _ids(ctx: Context, n: int) -> list[str]:
    spec = ctx.spec
    ids_or_none = ctx.text(spec.id_col)
    if ids_or_none is None:
        width = max(spec.id_width, len(str(n)))
        logger.info(
            "%s: no '%s' column; generated %s%0*d...",
            ctx.table.label,
            spec.id_col,
            spec.id_prefix,
            width,
            1,
        )
        return [f"{spec.id_prefix}{i + 1:0{width}d}" for i in range(n)]
    ctx.rows.ids = ids_or_none
    col = ctx.column(spec.id_col)
    null = np.array([v is None for v in ids_or_none])
    if null.any():
        ctx.problems.add(
            "value",
            f"{col} has {counted(int(null.sum()), 'empty value')} ({ctx.rows.describe(null)})",
        )
    counts = Counter(v for v in ids_or_none if v is not None)
    duplicated = sorted(v for v, c in counts.items() if c > 1)
    if duplicated:
        where = np.array([v in set(duplicated) for v in ids_or_none])
        plain = Rows(ctx.rows.labels, ctx.rows.noun)
        copies = _exact_copies(ctx.table, where)
        note = ""
        if copies.any():
            k = int(copies.sum())
            is_are, it = ("is an exact copy", "it") if k == 1 else ("are exact copies", "them")
            note = f"; {plain.describe(copies)} {is_are} of an earlier {ctx.rows.noun}: delete {it}"
        ctx.problems.add(
            "duplicate",
            f"{col} has {counted(len(duplicated), 'duplicated id')}: {list_ids(duplicated)} "
            f"({plain.describe(where)}){note}",
        )
    return [v if v is not None else "" for v in ids_or_none]


def _row_keys(table: Table, skip: str | None = None) -> list[str]:
    """One key per input row: equal keys mean equal cells (and equal geometry).

    ``skip`` names a column left out of the comparison (the id column).
    """
    data = table.data.drop(columns=[skip]) if skip in table.data.columns else table.data
    cells = [
        tuple(None if is_null(v) else v for v in row)
        for row in data.itertuples(index=False, name=None)
    ]
    if table.geometry is not None:
        wkb = shapely.to_wkb(np.asarray(table.geometry.to_numpy(), dtype=object))
        return [repr((c, g)) for c, g in zip(cells, wkb, strict=True)]
    return [repr(c) for c in cells]


def _exact_copies(table: Table, among: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Rows (within ``among``) whose every cell repeats an earlier row of ``among``."""
    keys = _row_keys(table)
    seen: set[str] = set()
    copies = np.zeros(len(keys), dtype=bool)
    for i in np.flatnonzero(among):
        copies[i] = keys[i] in seen
        seen.add(keys[i])
    return copies


def _repeated_rows(
    ctx: Context,
    ids: Sequence[str],
    names: Sequence[str] | None,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
) -> str | None:
    """A warning naming rows that repeat an earlier row's name and coordinates, or None.

    Such rows are accepted (two communities may share a name and a point) but are counted
    again in every total, so the planner is told which they are. Without a name column, rows
    must repeat every cell but the id. Rows sharing an id are an error
    (:class:`~coverage._errors.DuplicateIdError`) instead.
    """
    keys = (
        _row_keys(ctx.table, ctx.header_of.get(ctx.spec.id_col)) if names is None else list(names)
    )
    groups: dict[tuple[str, float, float], list[int]] = {}
    for i, (key, x, y) in enumerate(zip(keys, lon, lat, strict=True)):
        if np.isfinite(x) and np.isfinite(y):
            groups.setdefault((key, float(x), float(y)), []).append(i)
    repeated = [rows for rows in groups.values() if len(rows) > 1]
    if not repeated:
        return None
    labels, noun = ctx.table.row_labels, ctx.rows.noun
    nouns = noun if noun == "index" else noun + "s"

    def describe(rows: list[int]) -> str:
        where = [str(labels[i]) for i in rows]
        listed = f"{', '.join(where[:-1])} and {where[-1]}"
        name = f"{names[rows[0]]!r}; " if names is not None else ""
        return f"{nouns} {listed} ({name}{ctx.spec.id_col} {list_ids([ids[i] for i in rows])})"

    extra = sum(len(rows) - 1 for rows in repeated)
    shown = ", ".join(describe(rows) for rows in repeated[:10])
    if len(repeated) > 10:  # noqa: PLR2004
        shown += f" and {len(repeated) - 10} more groups"
    same = "name and coordinates" if names is not None else "values"
    verb, be, advice = (
        ("repeats", "is", "the repeat if it is a copy")
        if extra == 1
        else ("repeat", "are", "the repeats if they are copies")
    )
    return (
        f"{ctx.table.label}: {counted(extra, noun, nouns)} {verb} the {same} of an earlier "
        f"{noun} and {be} counted again in the {ctx.spec.what}' totals: {shown}; "
        f"delete {advice}"
    )


def _community_columns(ctx: Context, ids: list[str], config: Config) -> dict[str, Any]:
    label = ctx.table.label
    n = len(ids)
    out: dict[str, Any] = {}
    names = ctx.text("name")
    if names is None:
        logger.info("%s: no 'name' column; using community_id as the name", label)
        names = list(ids)
    out["name"] = [v if v is not None else i for v, i in zip(names, ids, strict=True)]
    for canonical in ("district", "street"):
        values = ctx.text(canonical)
        out[canonical] = ["(none)" if v is None else v for v in (values or [None] * n)]
    out["kind"] = _kinds(ctx, n)

    population = ctx.numbers("population", nulls_allowed=False)
    households = ctx.numbers("households", nulls_allowed=True)
    out["population"] = _maybe_int(population if population is not None else np.full(n, np.nan))
    pph = config.persons_per_household
    if population is None:
        estimated = np.ones(n, dtype=bool)
        hh = np.full(n, np.nan)
    else:
        estimated = np.ones(n, dtype=bool) if households is None else np.isnan(households)
        hh = households if households is not None else np.full(n, np.nan)
        hh = np.where(estimated, config.households_from(population), hh)
        if estimated.any():
            logger.info(
                "%s: households estimated for %d communities as population / %g",
                label,
                int(estimated.sum()),
                pph,
            )
    out["households"] = _maybe_int(hh)
    out["households_estimated"] = estimated
    area = ctx.numbers("area_m2", nulls_allowed=True)
    out["area_m2"] = area if area is not None else np.full(n, np.nan)
    return out


def _kinds(ctx: Context, n: int) -> list[str]:
    raw = ctx.values("kind") if "kind" in ctx.header_of else [None] * n
    kinds: list[str] = []
    unknown: list[int] = []
    missing = 0
    for i, value in enumerate(raw):
        if is_null(value):
            kinds.append("urban")
            missing += 1
            continue
        norm = normalise_header(value)
        if norm in URBAN:
            kinds.append("urban")
        elif norm in RURAL:
            kinds.append("rural")
        else:
            kinds.append("urban")
            unknown.append(i)
    if unknown:
        values = list(dict.fromkeys(str(raw[i]) for i in unknown))
        ctx.problems.add(
            "value",
            f"{ctx.column('kind')} has {counted(len(unknown), 'unknown value')} "
            f"{list_ids(values, 5)} "
            f"({ctx.rows.describe(np.array(unknown))}); use 城市/城镇/社区/urban for urban "
            "and 农村/乡村/村/rural for rural communities",
        )
    if missing == n and "kind" not in ctx.header_of:
        hint = "Add a column with 城市/农村 (urban/rural)."
        hint_zh = "请加一列“类型”，填 城市 或 农村。"
        miss = ctx.near_misses.pop("kind", None)
        if miss is not None:
            hint = (
                f"Header {miss[0]!r} looks like {miss[1]!r}: if it holds the kind, fix the "
                f"header or pass columns={{{miss[0]!r}: 'kind'}}."
            )
            hint_zh = f"表头“{miss[0]}”像是“{miss[1]}”：如该列就是类型，请把表头改为“类型”。"
        zh = (
            f"{ctx.table.label}：没有“类型”列 (kind)，{n} 个社区全部按城市社区"
            f"（15 分钟标准）评估。{hint_zh}"
        )
        ctx.warnings.append(
            CoverageWarning(
                f"{ctx.table.label}: no 'kind' column (类型); all {n} communities are taken "
                f"as urban (15-minute threshold). {hint}",
                texts={"zh": zh},
            )
        )
    elif missing:
        ctx.warnings.append(
            f"{ctx.table.label}: {ctx.column('kind')} is empty for {missing} communities "
            f"({ctx.rows.describe(np.array([is_null(v) for v in raw]))}); taken as urban"
        )
    return kinds


def _hall_columns(ctx: Context, ids: list[str]) -> dict[str, Any]:
    n = len(ids)
    out: dict[str, Any] = {}
    names = ctx.text("name")
    out["name"] = [v if v is not None else i for v, i in zip(names or [None] * n, ids, strict=True)]
    out["kind"] = ctx.text("kind") or [None] * n
    area = ctx.numbers("floor_area_m2", nulls_allowed=True)
    if area is None:
        logger.info(
            "%s: no floor-area column (建筑面积); floor-area adequacy cannot be checked",
            ctx.table.label,
        )
    out["floor_area_m2"] = area if area is not None else np.full(n, np.nan)
    illustrative = np.zeros(n, dtype=bool)
    if "illustrative" in ctx.header_of:
        raw = ctx.values("illustrative")
        flags, _, bad = parse_bools(raw)
        if bad.any():
            shown = list_ids(list(dict.fromkeys(str(raw[i]) for i in np.flatnonzero(bad))), 5)
            ctx.problems.add(
                "value",
                f"{ctx.column('illustrative')} has "
                f"{counted(int(bad.sum()), 'value that is', 'values that are')} not "
                f"true/false ({ctx.rows.describe(bad)}): {shown}",
            )
        illustrative = flags
    out["illustrative"] = illustrative
    return out


def _maybe_int(values: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    """Integers when every value is a whole number (population, households), else floats."""
    finite = np.isfinite(values)
    if finite.all() and np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53):
        return values.astype(np.int64)
    return values


def _user_column(series: pd.Series[Any]) -> pd.Series[Any]:
    """Keep a user's column; strings that are all numbers become numbers (not "0571...")."""
    values = [None if is_null(v) else v for v in series]
    texts = [v for v in values if isinstance(v, str)]
    if not texts:
        return (
            pd.Series(values, dtype=object)
            if series.dtype == object
            else series.reset_index(drop=True)
        )
    if any(re.match(r"^\s*[+-]?0\d", t) for t in texts):
        return pd.Series(values, dtype=object)
    converted = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    if int(converted.notna().sum()) == sum(v is not None for v in values):
        return converted
    return pd.Series(values, dtype=object)
