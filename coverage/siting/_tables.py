"""From a solution to the result tables: groups, statuses, uncoverable communities, scenario."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.i18n import reason_text
from coverage.siting._common import (
    STATUS_COVERED_BEFORE,
    STATUS_DATA_PROBLEM,
    STATUS_NEWLY_COVERED,
    STATUS_NOT_COVERED,
    STATUS_UNCOVERABLE,
)
from coverage.siting._problem import Input, marginal_order
from coverage.siting._result import ProposalResult

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from coverage.config import Config
    from coverage.siting._models import OwnHalls

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)


def nearest_open(inp: Input, chosen: IntArray) -> tuple[IntArray, FloatArray]:
    """Nearest chosen site within threshold per community (-1 if none), and its minutes."""
    sel = np.isin(inp.cj, chosen)
    r, c, t = inp.ri[sel], inp.cj[sel], inp.tmin[sel]
    order = np.lexsort((c, t, r))
    r, c, t = r[order], c[order], t[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = r[1:] != r[:-1]
    site = np.full(inp.n, -1, dtype=np.int64)
    minutes = np.full(inp.n, np.inf)
    site[r[first]] = c[first]
    minutes[r[first]] = t[first]
    return site, minutes


def _group_rows(
    ids: NDArray[np.object_],
    key: NDArray[np.object_],
    inp: Input,
    minutes: FloatArray,
    per100: float,
) -> list[dict[str, Any]]:
    code = pd.Index(pd.Series(ids, dtype=object)).get_indexer(pd.Series(key, dtype=object))
    members_all = np.flatnonzero(code >= 0)
    order = np.lexsort((minutes[members_all], code[members_all]))
    members_all = members_all[order]
    bounds = np.searchsorted(code[members_all], np.arange(len(ids) + 1))
    hh_sum = np.bincount(code[members_all], weights=inp.hh[members_all], minlength=len(ids))
    pop_sum = np.bincount(code[members_all], weights=inp.pop[members_all], minlength=len(ids))
    cids = inp.community_ids
    rows = []
    for g, hall in enumerate(ids):
        members = members_all[bounds[g] : bounds[g + 1]]
        mins = minutes[members]
        mins = mins[np.isfinite(mins)]
        hh = float(hh_sum[g])
        rows.append(
            {
                "hall_id": hall,
                "members": [plain_value(v) for v in cids[members]],
                "n_members": len(members),
                "population": float(pop_sum[g]),
                "households": hh,
                "max_travel_time_min": round(float(mins.max()), 2) if len(mins) else float("nan"),
                "floor_area_needed_m2": round(hh / 100.0 * per100, 1),
            }
        )
    return rows


def plain_value(value: object) -> object:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _uncoverable_reason(inp: Input, i: int, *, zh: bool = False) -> str:
    """Why a community is uncoverable (in Chinese where the reason has a Chinese wording)."""
    if zh and inp.reasons_zh is not None and inp.reasons_zh[i]:
        return str(inp.reasons_zh[i])
    if inp.reasons is not None and inp.reasons[i]:
        return str(inp.reasons[i])
    thr = inp.thr[i]
    near = inp.nearest_min[i]
    if np.isfinite(near):
        text = f"no candidate site within {thr:g} min; nearest candidate {near:.1f} min"
    else:
        text = f"no candidate site within {thr:g} min (none in the cost matrix)"
    hall = inp.before_min[i]
    if np.isfinite(hall):
        text += f"; nearest existing hall {hall:.1f} min"
    return text


def _community_table(
    inp: Input,
    before: BoolArray,
    after: BoolArray,
    status: NDArray[np.str_],
    hall_key: NDArray[np.object_],
    minutes: FloatArray,
    to_new: BoolArray,
    to_existing: BoolArray,
    nothing: NDArray[np.object_],
) -> pd.DataFrame:
    kind = np.where(to_new, "proposed", np.where(to_existing, "existing", nothing))
    return pd.DataFrame(
        {
            "community_id": inp.community_ids,
            "threshold_min": inp.thr,
            "population": inp.pop,
            "households": inp.hh,
            "covered_before": before,
            "covered_after": after,
            "status": status,
            "assigned_hall_id": hall_key,
            "assigned_kind": kind,
            "travel_time_min": np.round(minutes.astype(float), 2),
        }
    )


def finish_result(
    inp: Input,
    model: str,
    chosen: IntArray,
    info: dict[str, Any],
    config: Config,
    *,
    assigned_site: IntArray | None = None,
    assigned_min: FloatArray | None = None,
    own_halls: OwnHalls | None = None,
    existing_groups: bool = True,
) -> ProposalResult:
    per100 = config.floor_area_m2_per_100_households
    before = inp.covered_before
    coverable = inp.coverable
    ordered, gain_pop, gain_n = marginal_order(inp, np.asarray(chosen, dtype=np.int64))
    if assigned_site is None:
        # a site that adds no coverage after the sites before it is redundant: leave it out
        useful = gain_n > 0
        if not useful.all():
            info = {
                **info,
                "note": f"{int((~useful).sum())} selected site(s) adding no coverage left out",
            }
            ordered, gain_pop, gain_n = ordered[useful], gain_pop[useful], gain_n[useful]
        site, new_min = nearest_open(inp, ordered)
        # the nearest open hall within the threshold: an existing hall wins ties (and when
        # its time is unknown)
        existing_wins = before & ~(new_min < np.nan_to_num(inp.before_min, nan=-np.inf))
        site = np.where(existing_wins, -1, site)
    else:
        site = np.where(before, -1, assigned_site)
        new_min = np.where(before, np.inf, cast("FloatArray", assigned_min))
    to_new = site >= 0
    to_existing = before & ~to_new
    after = before | to_new
    status = np.where(
        before,
        STATUS_COVERED_BEFORE,
        np.where(
            to_new,
            STATUS_NEWLY_COVERED,
            np.where(
                coverable,
                STATUS_NOT_COVERED,
                np.where(_flags(inp.data_problem, inp.n), STATUS_DATA_PROBLEM, STATUS_UNCOVERABLE),
            ),
        ),
    )
    sid = np.array([*inp.site_ids.tolist(), None], dtype=object)
    nothing = np.full(inp.n, None, dtype=object)
    hall_key = np.where(to_new, sid[site], np.where(to_existing, inp.before_hall, nothing))
    minutes = np.where(to_new, new_min, np.where(to_existing, inp.before_min, np.nan))
    communities = _community_table(
        inp, before, after, status, hall_key, minutes, to_new, to_existing, nothing
    )
    new_key = np.where(to_new, sid[site], nothing)

    prop_rows = _group_rows(inp.site_ids[ordered], new_key, inp, minutes, per100)
    for k, row in enumerate(prop_rows):
        row["kind"] = "proposed"
        row["order"] = k + 1
        row["new_population_covered"] = float(gain_pop[k])
        row["new_communities_covered"] = int(gain_n[k])
    ex_rows: list[dict[str, Any]] = []
    if existing_groups:
        ex_key = np.where(to_existing, inp.before_hall, nothing)
        ex_ids = pd.unique(pd.Series(ex_key[to_existing & pd.notna(ex_key)]))
        ex_rows = _group_rows(np.asarray(ex_ids, dtype=object), ex_key, inp, minutes, per100)
        for row in ex_rows:
            row["kind"] = "existing"
    group_cols = [
        "hall_id",
        "kind",
        "members",
        "n_members",
        "population",
        "households",
        "max_travel_time_min",
        "floor_area_needed_m2",
    ]
    groups = pd.DataFrame(prop_rows + ex_rows, columns=group_cols)
    prop = pd.DataFrame(
        prop_rows,
        columns=[*group_cols, "order", "new_population_covered", "new_communities_covered"],
    )
    prop = prop.rename(columns={"hall_id": "site_id"}).drop(columns="kind")
    lead = ["site_id", "order", "new_population_covered", "new_communities_covered"]
    prop = prop[lead + [c for c in prop.columns if c not in lead]]
    if model == "capacitated" and inp.capacity is not None:
        prop["capacity_households"] = inp.capacity[ordered]
    prop["reason"], prop["reason_zh"] = _size_reasons(inp, ordered, own_halls, per100)
    proposals = gpd.GeoDataFrame(
        prop, geometry=gpd.GeoSeries([None] * len(prop), index=prop.index, crs=4326)
    )
    uncoverable = _uncoverable_table(inp, np.flatnonzero(~before & ~coverable))
    scenario = _scenario(inp, before, after, len(ordered), len(uncoverable))
    info = dict(info)
    info["new_halls"] = len(ordered)
    return ProposalResult(
        model, proposals, groups, uncoverable, communities, scenario, info, config
    )


def _size_reasons(
    inp: Input, ordered: IntArray, own_halls: OwnHalls | None, per100: float
) -> tuple[list[str], list[str]]:
    """Per proposed site, in English and Chinese: why it is larger than its capacity."""
    founder = own_halls.founder if own_halls is not None else {}
    capacity = inp.capacity if inp.capacity is not None else np.full(inp.m, np.nan)
    texts: dict[str, list[str]] = {"en": [], "zh": []}
    for j in ordered.tolist():
        for lang, out in texts.items():
            i = founder.get(j)
            if i is None:
                out.append("")
                continue
            out.append(
                reason_text(
                    "over_cap",
                    lang,
                    community=plain_value(inp.community_ids[i]),
                    households=f"{inp.hh[i]:,.0f}",
                    need=f"{inp.hh[i] / 100 * per100:,.0f}",
                    cap=f"{capacity[j] / 100 * per100:,.0f}",
                )
            )
    return texts["en"], texts["zh"]


def _uncoverable_table(inp: Input, unc: IntArray) -> pd.DataFrame:
    near = np.round(inp.nearest_min[unc], 2)
    return pd.DataFrame(
        {
            "community_id": inp.community_ids[unc],
            "threshold_min": inp.thr[unc],
            "nearest_candidate_min": np.where(np.isfinite(near), near, np.nan),
            "data_problem": _flags(inp.data_problem, inp.n)[unc],
            "reason": [_uncoverable_reason(inp, int(i)) for i in unc],
            "reason_zh": [_uncoverable_reason(inp, int(i), zh=True) for i in unc],
        }
    )


def _flags(mask: BoolArray | None, n: int) -> BoolArray:
    """A per-community mask, all False where there is none."""
    return np.zeros(n, dtype=bool) if mask is None else mask


def _scenario(
    inp: Input, before: BoolArray, after: BoolArray, n_new: int, n_unc: int
) -> pd.DataFrame:
    total_pop = float(inp.pop.sum())
    rows = []
    for name, cov, halls in (("before", before, 0), ("after", after, n_new)):
        pop_cov = float(inp.pop[cov].sum())
        rows.append(
            {
                "scenario": name,
                "new_halls": halls,
                "communities": inp.n,
                "covered": int(cov.sum()),
                "covered_share": float(cov.sum() / inp.n) if inp.n else float("nan"),
                "population": total_pop,
                "population_covered": pop_cov,
                "population_covered_share": pop_cov / total_pop if total_pop else float("nan"),
                "uncoverable": n_unc,
            }
        )
    return pd.DataFrame(rows)
