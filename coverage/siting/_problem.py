"""A siting problem in plain arrays: validation, exact reductions and greedy heuristics."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp

from coverage._errors import (
    DuplicateIdError,
    InputDataError,
    list_ids,
)
from coverage.config import DEFAULT_CONFIG, Config
from coverage.siting._common import EPS_MIN, MODELS, SOLVERS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)


@dataclass
class Input:
    """A siting problem after validation, in plain arrays (minutes, households)."""

    ri: IntArray  # coverage pairs: community, site, minutes (entries within threshold only)
    cj: IntArray
    tmin: FloatArray
    n: int
    m: int
    thr: FloatArray
    pop: FloatArray
    hh: FloatArray
    before_min: (
        FloatArray  # minutes to the nearest existing hall (inf: none; nan: covered, time unknown)
    )
    before_hall: NDArray[np.object_]
    nearest_min: FloatArray  # nearest candidate at any time, minutes (inf: none known)
    community_ids: NDArray[np.object_]
    site_ids: NDArray[np.object_]
    capacity: FloatArray | None
    reasons: NDArray[np.object_] | None = None  # per community, overrides the generic reason
    data_problem: BoolArray | None = None  # on a map-data island: left out of the siting
    reasons_zh: NDArray[np.object_] | None = None  # the same in Chinese, where there is one

    @property
    def covered_before(self) -> BoolArray:
        return np.isnan(self.before_min) | (self.before_min <= self.thr + EPS_MIN)

    @property
    def coverable(self) -> BoolArray:
        return np.bincount(self.ri, minlength=self.n) > 0

    @property
    def active(self) -> BoolArray:
        return self.coverable & ~self.covered_before


def _as_1d(values: ArrayLike, n: int, name: str, problems: list[str]) -> FloatArray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        problems.append(f"{name}: expected {n} values (one per community), got shape {arr.shape}")
        return np.zeros(n)
    return arr


def _pairs_from_cost(
    cost: ArrayLike | sp.spmatrix | sp.sparray, thr: FloatArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, tuple[int, int]]:
    """Coverage pairs (within each row's threshold) and each row's nearest entry, minutes."""
    if sp.issparse(cost):
        coo = sp.coo_matrix(cost)  # keeps explicit zeros ("same spot")
        shape = cast("tuple[int, int]", coo.shape)
        r = coo.row.astype(np.int64)
        c = coo.col.astype(np.int64)
        v = coo.data.astype(float)
    else:
        dense = np.asarray(cost, dtype=float)
        if dense.ndim != 2:  # noqa: PLR2004
            msg = (
                f"cost: a 2-D matrix (communities × candidates) is needed, got shape {dense.shape}"
            )
            raise InputDataError(msg)
        shape = cast("tuple[int, int]", dense.shape)
        r, c = np.nonzero(np.isfinite(dense))
        r, c = r.astype(np.int64), c.astype(np.int64)
        v = dense[r, c]
    ok = np.isfinite(v)
    r, c, v = r[ok], c[ok], v[ok]
    if (v < 0).any():
        bad = np.unique(r[v < 0])
        msg = f"cost: negative travel times in {len(bad)} row(s) (rows {list_ids(bad)})"
        raise InputDataError(msg)
    if len(r) > 1 and (np.diff(r) < 0).any():
        order = np.argsort(r, kind="stable")
        r, c, v = r[order], c[order], v[order]
    nearest = np.full(shape[0], np.inf)
    if len(r):
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        nearest[r[starts]] = np.minimum.reduceat(v, starts)
    if len(thr) != shape[0]:
        return r[:0], c[:0], v[:0], nearest, shape
    within = v <= thr[r] + EPS_MIN
    return r[within], c[within], v[within], nearest, shape


def prepare(  # noqa: C901, PLR0912, PLR0915 (validation gathers every problem in one place)
    cost: ArrayLike | sp.spmatrix | sp.sparray,
    demand: ArrayLike,
    thresholds: ArrayLike,
    *,
    existing_cover: ArrayLike | None,
    existing_hall: Sequence[Any] | NDArray[Any] | None,
    households: ArrayLike | None,
    capacity: ArrayLike | None,
    community_ids: Sequence[Any] | NDArray[Any] | None,
    site_ids: Sequence[Any] | NDArray[Any] | None,
    model: str,
    p: int | None,
    solver: str,
    config: Config,
) -> Input:
    problems: list[str] = []
    if model not in MODELS:
        problems.append(f"model must be one of {', '.join(map(repr, MODELS))}, got {model!r}")
    if solver not in SOLVERS:
        problems.append(f"solver must be one of {', '.join(map(repr, SOLVERS))}, got {solver!r}")
    if model == "mclp" and (p is None or isinstance(p, bool) or int(p) != p or p < 0):
        problems.append(f"model='mclp' needs p, a whole number of new halls >= 0, got {p!r}")
    if model != "mclp" and p is not None:
        problems.append(f"p is only used by model='mclp' (got p={p!r} with model={model!r})")
    shape = np.shape(cost) if not sp.issparse(cost) else cast("Any", cost).shape
    if len(shape) != 2:  # noqa: PLR2004
        msg = f"cost: a 2-D matrix (communities × candidates) is needed, got shape {shape}"
        raise InputDataError(msg)
    n = int(shape[0])
    thr = _as_1d(thresholds, n, "thresholds", problems)
    if n and not (np.isfinite(thr) & (thr > 0)).all():
        problems.append("thresholds: every threshold must be a positive number of minutes")
    pop = _as_1d(demand, n, "demand", problems)
    if n and not (np.isfinite(pop) & (pop >= 0)).all():
        bad = np.flatnonzero(~(np.isfinite(pop) & (pop >= 0)))
        problems.append(f"demand: {len(bad)} negative or missing value(s) (rows {list_ids(bad)})")
    if problems:
        raise InputDataError("; ".join(problems))
    ri, cj, tmin, nearest, (n, m) = _pairs_from_cost(cost, thr)
    if households is None:
        hh = config.households_from(pop)
    else:
        hh = _as_1d(households, n, "households", problems)
        if not (np.isfinite(hh) & (hh >= 0)).all():
            problems.append("households: every value must be a number >= 0")
    if existing_cover is None:
        before = np.full(n, np.inf)
    else:
        raw = np.asarray(existing_cover)
        if raw.dtype == bool:
            before = np.where(raw, np.nan, np.inf) if raw.shape == (n,) else np.full(n, np.inf)
            if raw.shape != (n,):
                problems.append(f"existing_cover: expected {n} values, got shape {raw.shape}")
        else:
            before = _as_1d(raw, n, "existing_cover", problems)
            before = np.where(np.isnan(before), np.inf, before)
    hall = np.full(n, None, dtype=object)
    if existing_hall is not None:
        hall = np.asarray(existing_hall, dtype=object)
        if hall.shape != (n,):
            problems.append(f"existing_hall: expected {n} values, got shape {hall.shape}")
    cids = (
        np.arange(n).astype(object)
        if community_ids is None
        else np.asarray(community_ids, dtype=object)
    )
    sids = np.arange(m).astype(object) if site_ids is None else np.asarray(site_ids, dtype=object)
    for name, ids, size in (("community_ids", cids, n), ("site_ids", sids, m)):
        if ids.shape != (size,):
            problems.append(f"{name}: expected {size} values, got shape {ids.shape}")
        elif pd.Series(ids).duplicated().any():
            dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()
            msg = f"{name}: duplicate identifiers {list_ids(dup)}"
            raise DuplicateIdError(msg)
    cap: FloatArray | None = None
    if model == "capacitated":
        if capacity is None:
            problems.append("model='capacitated' needs capacity (households per candidate site)")
        else:
            cap = np.asarray(capacity, dtype=float)
            if cap.ndim == 0:
                cap = np.full(m, float(cap))
            if cap.shape != (m,) or not (np.isfinite(cap) & (cap >= 0)).all():
                problems.append(
                    f"capacity: {m} numbers >= 0 (households per candidate site) are needed"
                )
    if problems:
        raise InputDataError("; ".join(problems))
    return Input(ri, cj, tmin, n, m, thr, pop, hh, before, hall, nearest, cids, sids, cap)


def _identical_rows(A: sp.csr_matrix) -> tuple[IntArray, IntArray]:
    """Group identical rows of a 0/1 CSR matrix (exact: hashes, then verified).

    Returns the group of each row and the first row of each group.
    """
    A = A.copy()
    A.sort_indices()
    n = A.shape[0]
    nnz = np.diff(A.indptr)
    keys = (
        np.random.default_rng(20_240_601)
        .integers(1, np.iinfo(np.int64).max, size=(2, A.shape[1]), dtype=np.int64)
        .astype(np.uint64)
    )
    hashes = np.zeros((n, 3), dtype=np.uint64)
    hashes[:, 2] = nnz.astype(np.uint64)
    nonempty = nnz > 0
    if A.nnz:
        for k in range(2):
            summed = np.add.reduceat(keys[k][A.indices], A.indptr[:-1][nonempty])
            hashes[nonempty, k] = summed
    _, first, group = np.unique(hashes, axis=0, return_index=True, return_inverse=True)
    group = group.reshape(-1).astype(np.int64)
    rep = first[group]
    # verify: every row equals its group's first row (a hash collision gets its own group)
    check = np.flatnonzero(rep != np.arange(n))
    if len(check):
        lens = nnz[check]
        offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        a = A.indices[np.repeat(A.indptr[check], lens) + offs]
        b = A.indices[np.repeat(A.indptr[rep[check]], lens) + offs]
        differ = np.zeros(len(check), dtype=bool)
        np.logical_or.at(differ, np.repeat(np.arange(len(check)), lens), a != b)
        if differ.any():  # pragma: no cover - 128-bit hash collision
            bad = check[differ]
            group[bad] = group.max() + 1 + np.arange(len(bad))
            first = np.concatenate([first, bad])
    return group, first.astype(np.int64)


@dataclass
class Reduced:
    """A covering problem on merged rows and columns."""

    A: sp.csr_matrix  # 0/1, rows = merged communities, cols = distinct useful sites
    w: FloatArray  # population of each merged row
    cnt: FloatArray  # communities in each merged row
    cols: IntArray  # original site index of each column
    rows_in: int
    cols_in: int


def _contained(A: sp.csr_matrix, work_per_chunk: float = 2e7) -> tuple[IntArray, IntArray]:
    """Pairs ``(i, b)`` of rows with ``set(i) ⊆ set(b)``, ``b`` "larger" (size, then index).

    Computed as ``A @ A.T`` in chunks of rows (the overlap counts), so memory stays bounded.
    """
    A = sp.csr_matrix(A, dtype=np.float64)
    nnz = np.diff(A.indptr)
    At = A.T.tocsr()
    work = np.asarray(A @ np.diff(At.indptr).astype(float)).ravel()
    bounds = np.searchsorted(np.cumsum(work), np.arange(work_per_chunk, work.sum(), work_per_chunk))
    edges = np.unique(np.concatenate([[0], bounds, [A.shape[0]]]))
    found_i: list[IntArray] = []
    found_b: list[IntArray] = []
    for s, e in itertools.pairwise(edges.tolist()):
        P = (A[s:e] @ At).tocoo()
        i = P.row.astype(np.int64) + s
        b = P.col.astype(np.int64)
        hit = (P.data == nnz[i]) & (i != b) & ((nnz[b] > nnz[i]) | ((nnz[b] == nnz[i]) & (b > i)))
        found_i.append(i[hit])
        found_b.append(b[hit])
    if not found_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found_i), np.concatenate(found_b)


def reduce_problem(inp: Input, *, model: str, dominance: bool = True) -> Reduced:
    """Merge identical communities and sites, then drop dominated ones (exact reductions).

    - identical rows (communities reached by the same sites) are merged, populations summed;
    - a site whose communities are a subset of another site's is dropped (both models: the
      other site is never worse), identical sites keep one;
    - set covering only: a community whose sites include all the sites of another community
      is dropped (covering the other covers it too).

    The dominance reductions (skipped with ``dominance=False``, e.g. for the greedy
    heuristic on very large cases) are repeated until nothing changes (at most 5 rounds).
    """
    act = inp.active
    keep = act[inp.ri]
    ri, cj = inp.ri[keep], inp.cj[keep]
    rows = np.flatnonzero(act)
    local = np.full(inp.n, -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    w = inp.pop[rows]
    A = sp.csr_matrix((np.ones(len(ri)), (local[ri], cj)), shape=(len(rows), inp.m))
    cols_in = int((np.bincount(cj, minlength=inp.m) > 0).sum())
    if len(rows) == 0:
        empty = np.zeros(0)
        return Reduced(sp.csr_matrix((0, 0)), empty, empty, np.zeros(0, np.int64), 0, cols_in)
    group, first = _identical_rows(A)
    wu = np.bincount(group, weights=w, minlength=len(first)).astype(float)
    cnt = np.bincount(group, minlength=len(first)).astype(float)
    Au = A[first]
    if model == "mclp":
        pos = wu > 0
        Au, wu, cnt = Au[pos], wu[pos], cnt[pos]
    cols = np.flatnonzero(Au.getnnz(axis=0) > 0)
    Au = Au[:, cols].tocsr()
    for _ in range(5 if dominance else 0):
        changed = False
        if model == "lscp":
            _, b = _contained(Au)
            drop = np.zeros(Au.shape[0], dtype=bool)
            drop[b] = True
            if drop.any():
                Au, wu, cnt, changed = Au[~drop], wu[~drop], cnt[~drop], True
        i, _ = _contained(Au.T.tocsr())
        drop = np.zeros(Au.shape[1], dtype=bool)
        drop[i] = True
        drop |= Au.getnnz(axis=0) == 0
        if drop.any():
            Au, cols, changed = Au[:, ~drop].tocsr(), cols[~drop], True
            # rows that differed only in dropped sites are now identical: merge them again
            group, first = _identical_rows(Au)
            if len(first) < Au.shape[0]:
                wu = np.bincount(group, weights=wu, minlength=len(first)).astype(float)
                cnt = np.bincount(group, weights=cnt, minlength=len(first)).astype(float)
                Au = Au[first].tocsr()
        if not changed or model != "lscp":
            break  # without row removals, one round of site dominance is final
    return Reduced(Au.tocsr(), wu, cnt, cols.astype(np.int64), len(rows), cols_in)


def _take_rows(A: sp.csr_matrix, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Column indices of the given CSR rows, concatenated, and the row of each."""
    lens = A.indptr[rows + 1] - A.indptr[rows]
    total = int(lens.sum())
    offs = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)
    return A.indices[np.repeat(A.indptr[rows], lens) + offs], np.repeat(rows, lens)


def greedy_max_cover(
    A: sp.csr_matrix, w: FloatArray, p: int, initial: Sequence[int] = ()
) -> list[int]:
    """Up to ``p`` columns, each time the one adding the most uncovered weight.

    Columns in ``initial`` are taken first (as they are) and count towards ``p``.
    """
    A = sp.csr_matrix(A)
    Acsc = A.tocsc()
    m = A.shape[1]
    uncovered = np.ones(A.shape[0], dtype=bool)
    picks: list[int] = [int(j) for j in initial]
    for j in picks:
        uncovered[Acsc.indices[Acsc.indptr[j] : Acsc.indptr[j + 1]]] = False
    gain = np.asarray(A.T @ (w * uncovered), dtype=float)
    gain[picks] = 0.0
    while len(picks) < p:
        j = int(np.argmax(gain)) if len(gain) else -1
        if j < 0 or gain[j] <= 0:
            break
        picks.append(j)
        r = Acsc.indices[Acsc.indptr[j] : Acsc.indptr[j + 1]]
        r = r[uncovered[r]]
        uncovered[r] = False
        cols, owner = _take_rows(A, r.astype(np.int64))
        gain -= np.bincount(cols, weights=w[owner], minlength=m)
        gain[j] = 0.0
    return picks


def greedy_set_cover(A: sp.csr_matrix, cnt: FloatArray, w: FloatArray) -> list[int]:
    """Cover every row: most uncovered communities first (ties: most population).

    ``cnt`` is the number of communities each (merged) row stands for. Sites made redundant
    by later ones are dropped at the end.
    """
    if A.shape[0] == 0:
        return []
    scale = 1.0 / (w.sum() + 1.0)
    picks = greedy_max_cover(A, cnt + w * scale, A.shape[1])
    Acsc = A.tocsc()
    count = np.asarray(Acsc[:, picks].sum(axis=1)).ravel()
    keep = list(picks)
    for j in reversed(picks):
        r = Acsc.indices[Acsc.indptr[j] : Acsc.indptr[j + 1]]
        if (count[r] >= 2).all():  # noqa: PLR2004
            count[r] -= 1
            keep.remove(j)
    return keep


def marginal_order(inp: Input, chosen: IntArray) -> tuple[IntArray, FloatArray, IntArray]:
    """Order chosen sites by newly covered population (greedy on the chosen set)."""
    act = inp.active
    keep = act[inp.ri] & np.isin(inp.cj, chosen)
    pos = np.full(inp.m, -1, dtype=np.int64)
    pos[chosen] = np.arange(len(chosen))
    A = sp.csr_matrix(
        (np.ones(int(keep.sum())), (inp.ri[keep], pos[inp.cj[keep]])), shape=(inp.n, len(chosen))
    )
    order = greedy_max_cover(A, inp.pop + 1e-9, len(chosen))
    rest = [k for k in range(len(chosen)) if k not in set(order)]
    order = order + rest
    Acsc = A.tocsc()
    uncovered = np.ones(inp.n, dtype=bool)
    gain_pop = np.zeros(len(order))
    gain_n = np.zeros(len(order), dtype=np.int64)
    for k, j in enumerate(order):
        r = Acsc.indices[Acsc.indptr[j] : Acsc.indptr[j + 1]]
        r = r[uncovered[r]]
        uncovered[r] = False
        gain_pop[k] = inp.pop[r].sum()
        gain_n[k] = len(r)
    return chosen[np.asarray(order, dtype=np.int64)], gain_pop, gain_n


def capacity_households(floor_area_m2: ArrayLike, *, config: Config | None = None) -> FloatArray:
    """Households a hall of a given floor area can serve under the floor-area standard.

    Parameters
    ----------
    floor_area_m2
        Floor area of each site, m².
    config
        ``floor_area_m2_per_100_households`` (导则 2024: 30 m² per 100 households).

    Returns
    -------
    numpy.ndarray
        Whole households, ``floor(floor_area_m2 / standard × 100)``.

    Examples
    --------
    >>> capacity_households([600, 250]).tolist()
    [2000.0, 833.0]
    """
    cfg = config or DEFAULT_CONFIG
    area = np.asarray(floor_area_m2, dtype=float)
    return np.asarray(np.floor(area / cfg.floor_area_m2_per_100_households * 100 + 1e-9), float)
