"""Siting new halls: shared halls (一站多居) by set covering, maximal covering or capacities.

Hangzhou's plan asks for one hall to serve several neighbouring communities (一站多居) where
that keeps every community inside its service circle (15 minutes urban, 20 minutes rural).
This module proposes where such shared halls should go, from a list of candidate sites, with
the existing halls kept fixed and counted as coverage.

Two doors, as in spopt:

- :func:`propose_halls` for planners: communities, existing halls, candidate sites and a
  network in; it builds the sparse community × candidate travel-time matrix with **one** call
  to :func:`coverage.engine.travel_time_matrix` (bounded at the largest threshold) and the
  existing halls' coverage with one :func:`coverage.engine.nearest_facility` pass, then calls
- :func:`propose_halls_from_cost_matrix` for tests and research: any cost matrix in minutes
  (dense numpy, ``inf``/``nan`` = unreachable; or ``scipy.sparse``, absent = unreachable, an
  explicit ``0`` = same spot), one threshold per community.

Models (each community against its *own* threshold):

``"lscp"``
    Location set covering: the fewest new sites such that every community that some
    candidate can reach in time, and that no existing hall already covers, is covered.
    Communities no candidate reaches in time are listed in ``uncoverable`` with the reason;
    they never make the problem infeasible and are never dropped silently.
``"mclp"``
    Maximal covering: the best ``p`` new sites by newly covered population.
    :func:`coverage_curve` gives the covered share for ``p = 0 … k`` ("how many halls for
    95 %?").
``"capacitated"``
    Every coverable community is assigned to exactly one new site within its threshold,
    without exceeding the site's capacity in households (``floor area / 30 m² × 100``, the
    2024 导则 standard ``config.floor_area_m2_per_100_households``); first the fewest sites,
    then, in a second stage with that number fixed, the least total travel time.

Solvers: exact mixed-integer programmes built straight from the sparse coverage matrix,
after exact reductions (identical communities and sites merged, sites whose communities are a
subset of another site's dropped, and for set covering, communities whose sites include all
of another community's dropped), solved by HiGHS through :func:`scipy.optimize.milp` or by
CBC (the binary that ships with PuLP, or any ``cbc`` on ``PATH``), always with a time limit
and a reported MIP gap. A vectorised greedy heuristic gives the starting solution, and is the
answer (labelled ``method="greedy"``) when the solver finds nothing better in time or for
very large cases. ``solver="auto"`` picks by measurement (``bench/README.md``): CBC for
maximal covering (5-10× faster than HiGHS here), HiGHS for set covering and the capacitated
model; HiGHS alone when CBC is not installed.

Communities covered by an existing hall stay with the existing halls: they are neither
re-covered nor re-assigned by the capacitated model. Shared-hall groups assign every covered
community to its nearest open hall (existing or new) within its threshold; in the capacitated
model the groups are the model's own assignment. :func:`verify_proposal` re-runs the routed
:func:`coverage.audit.audit` with the existing and proposed halls.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from coverage._errors import (
    CoverageError,
    DuplicateIdError,
    InfeasibleAllocationError,
    InputDataError,
    MissingColumnError,
    list_ids,
)
from coverage.config import DEFAULT_CONFIG, Config
from coverage.engine import fragment_segments, nearest_facility, snap, travel_time_matrix

if TYPE_CHECKING:
    from collections.abc import Sequence

    import shapely
    from numpy.typing import ArrayLike, NDArray

    from coverage.audit import AuditResult
    from coverage.network import Network

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)

Model = Literal["lscp", "mclp", "capacitated"]
Solver = Literal["auto", "cbc", "highs", "greedy"]
MODELS: tuple[str, ...] = get_args(Model)
SOLVERS: tuple[str, ...] = get_args(Solver)

#: Above this many coverage pairs (community × site within threshold) ``solver="auto"`` skips
#: the exact solver and uses the greedy heuristic (labelled ``method="greedy"``).
GREEDY_ABOVE_PAIRS = 5_000_000

#: CBC runs past its time limit are killed after this many seconds (or a quarter of the
#: limit, if longer); the greedy solution is then the answer.
CBC_GRACE_S = 5.0

#: Tolerance of "within the threshold", minutes (the audit uses the same).
_EPS_MIN = 1e-9

STATUS_COVERED_BEFORE = "covered by an existing hall"
STATUS_NEWLY_COVERED = "newly covered"
STATUS_NOT_COVERED = "not covered"
STATUS_UNCOVERABLE = "uncoverable"
STATUS_DATA_PROBLEM = "data problem"


# ============================================================================================
# results


@dataclass
class ProposalResult:
    """Result of :func:`propose_halls` / :func:`propose_halls_from_cost_matrix`.

    Attributes
    ----------
    model
        ``"lscp"``, ``"mclp"`` or ``"capacitated"``.
    proposals
        One row per proposed new hall, in ``order`` (the order of newly covered population):
        ``site_id``, ``order`` (1 = most newly covered population), ``new_population_covered``
        and ``new_communities_covered`` (marginal, given the existing halls and the sites
        before it), ``members`` (community ids of its shared-hall group), ``n_members``,
        ``population``, ``households``, ``max_travel_time_min`` (minutes),
        ``floor_area_needed_m2`` (m², households / 100 × the floor-area standard), and for
        the capacitated model ``capacity_households``; geometry in EPSG:4326 (empty for the
        cost-matrix door).
    groups
        Shared-hall groups (一站多居): one row per proposed hall, then per existing hall that
        keeps at least one community: ``hall_id``, ``kind`` (``"proposed"``/``"existing"``),
        ``members``, ``n_members``, ``population``, ``households``, ``max_travel_time_min``,
        ``floor_area_needed_m2``.
    uncoverable
        Communities no candidate reaches within their threshold and no existing hall covers:
        ``community_id``, ``threshold_min``, ``nearest_candidate_min`` (minutes, ``nan`` if
        none is known), ``data_problem`` (on a map-data island, left out of the siting: see
        :attr:`data_problems`), ``reason``.
    communities
        One row per input community, in input order: ``community_id``, ``threshold_min``,
        ``population``, ``households``, ``covered_before``, ``covered_after``, ``status``,
        ``assigned_hall_id``, ``assigned_kind``, ``travel_time_min``.
    scenario
        Before/after: ``halls`` (new halls), ``communities``, ``covered``, ``covered_share``,
        ``population``, ``population_covered``, ``population_covered_share``,
        ``uncoverable``.
    solver
        ``method`` (``"cbc"``, ``"highs"`` or ``"greedy"``: what produced the answer),
        ``status``, ``objective``, ``bound``, ``mip_gap`` (relative), ``optimal``,
        ``seconds`` (solver wall time), ``build_seconds``, ``time_limit_s``, sizes of the
        reduced model, and notes (e.g. why greedy was used).
    config
        The configuration used.
    """

    model: str
    proposals: gpd.GeoDataFrame
    groups: pd.DataFrame
    uncoverable: pd.DataFrame
    communities: pd.DataFrame
    scenario: pd.DataFrame
    solver: dict[str, Any]
    config: Config = field(default_factory=lambda: DEFAULT_CONFIG)

    @property
    def data_problems(self) -> pd.DataFrame:
        """Uncoverable communities that are a map-data problem, not demand.

        Their only road within the snap limit is a fragment cut off from almost all of the
        network (:func:`coverage.engine.fragment_segments`): no hall is proposed for them
        unless ``include_islands=True``; the reason says what to fix.
        """
        return self.uncoverable[self.uncoverable["data_problem"].to_numpy(dtype=bool)]

    @property
    def site_ids(self) -> list[Any]:
        """Identifiers of the proposed sites, in ``order``."""
        return list(self.proposals["site_id"])

    def __repr__(self) -> str:
        """Short text form: model, sites, coverage after, solver."""
        covered = int(self.scenario["covered"].to_numpy()[-1])
        total = int(self.scenario["communities"].to_numpy()[-1])
        s = self.solver
        gap = s.get("mip_gap")
        gap_txt = "n/a" if gap is None or not np.isfinite(gap) else f"{gap:.2%}"
        return (
            f"ProposalResult({self.model}: {len(self.proposals)} new halls, "
            f"{covered}/{total} communities covered, "
            f"{len(self.uncoverable)} uncoverable; {s.get('method')} {s.get('status')!r}, "
            f"gap {gap_txt}, {s.get('seconds', 0.0):.2f} s)"
        )


# ============================================================================================
# MILP layer: one container, two exact back-ends (CBC, HiGHS)


@dataclass
class _Milp:
    """``minimise c @ x`` s.t. ``row_lo <= A @ x <= row_hi``, ``0 <= x <= ub``."""

    c: FloatArray
    A: sp.csr_matrix
    row_lo: FloatArray
    row_hi: FloatArray
    ub: FloatArray
    integer: BoolArray
    start: FloatArray | None = None


@dataclass
class _Outcome:
    x: FloatArray | None
    objective: float
    bound: float
    status: str
    optimal: bool
    infeasible: bool
    seconds: float
    method: str


def _cbc_path() -> str | None:
    """A CBC executable: ``cbc`` on ``PATH``, else the one bundled with PuLP."""
    found = shutil.which("cbc")
    if found:
        return found
    try:
        from pulp.apis import (  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: PLC0415 (optional dependency)
            coin_api,
        )
    except ImportError:
        return None
    path = getattr(coin_api, "pulp_cbc_path", None)
    if isinstance(path, str) and Path(path).is_file() and os.access(path, os.X_OK):
        return path
    return None


def cbc_available() -> bool:
    """Whether a CBC executable is available (PuLP's bundled one, or ``cbc`` on ``PATH``).

    Returns
    -------
    bool
        ``True`` if ``solver="cbc"`` can run.
    """
    return _cbc_path() is not None


def _gap(obj: float, bound: float) -> float:
    if not (np.isfinite(obj) and np.isfinite(bound)):
        return float("nan")
    return float(max(obj - bound, 0.0) / max(abs(obj), 1e-9))


def _row_types(lo: FloatArray, hi: FloatArray) -> tuple[NDArray[np.str_], FloatArray]:
    eq = lo == hi
    ge = ~eq & np.isposinf(hi)
    le = ~eq & np.isneginf(lo)
    if not (eq | ge | le).all():
        msg = "internal: ranged rows are not used by the siting models"
        raise CoverageError(msg)
    kind = np.where(eq, "E", np.where(ge, "G", "L"))
    rhs = np.where(le, hi, lo)
    return kind, rhs


def _write_mps(path: Path, prob: _Milp) -> None:
    """Write the problem as fixed-layout MPS (names of at most 8 characters, in hex)."""
    n_rows, n_cols = prob.A.shape
    if max(n_rows, n_cols) >= 16**7:
        msg = "the model is too large for the CBC interface; use solver='highs' or 'greedy'"
        raise CoverageError(msg)
    kind, rhs = _row_types(prob.row_lo, prob.row_hi)
    A = prob.A.tocsc()
    A.sort_indices()
    # objective entry first in every column, so that every column is declared
    cols = np.concatenate([np.arange(n_cols), np.repeat(np.arange(n_cols), np.diff(A.indptr))])
    rows = np.concatenate([np.full(n_cols, -1), A.indices])
    vals = np.concatenate([prob.c, A.data])
    order = np.argsort(cols, kind="stable")
    col_names = [f"c{j:x}" for j in range(n_cols)]
    row_names = ["obj"] + [f"r{i:x}" for i in range(n_rows)]
    # pre-padded pieces: one string per column, per row and per distinct value
    col_txt = [f"    {name:<8}  " for name in col_names]
    row_txt = [f"{name:<8}  " for name in row_names]
    uniq, which = np.unique(vals[order], return_inverse=True)
    val_txt = [f"{v:.12e}\n" for v in uniq.tolist()]
    body = "".join(
        [
            col_txt[j] + row_txt[i] + val_txt[k]
            for j, i, k in zip(
                cols[order].tolist(), (rows[order] + 1).tolist(), which.tolist(), strict=True
            )
        ]
    )
    nz = np.flatnonzero(rhs != 0)
    rhs_txt = "".join(
        f"    RHS       {row_names[i + 1]:<8}  {v:.12e}\n"
        for i, v in zip(nz.tolist(), rhs[nz].tolist(), strict=True)
    )
    bnd = [f" BV BND       {col_names[j]:<8}\n" for j in np.flatnonzero(prob.integer).tolist()]
    cont = np.flatnonzero(~prob.integer & np.isfinite(prob.ub))
    bnd += [
        f" UP BND       {col_names[j]:<8}  {u:.12e}\n"
        for j, u in zip(cont.tolist(), prob.ub[cont].tolist(), strict=True)
    ]
    head = "NAME          siting\nROWS\n N  obj\n" + "".join(
        f" {k}  {row_names[i + 1]}\n" for i, k in enumerate(kind.tolist())
    )
    path.write_text(
        head + "COLUMNS\n" + body + "RHS\n" + rhs_txt + "BOUNDS\n" + "".join(bnd) + "ENDATA\n",
        encoding="ascii",
    )


def _write_start(path: Path, x: FloatArray) -> None:
    lines = ["Stopped on time - objective value 0\n"]
    lines += [f"{j:>7} c{j:x} {v:>15} {0:>23}\n" for j, v in enumerate(x.tolist())]
    path.write_text("".join(lines), encoding="ascii")


_CBC_VALUE = re.compile(r"^\s*(?:\*\*\s*)?\d+\s+c([0-9a-f]+)\s+(\S+)")


def _failed(status: str, seconds: float, method: str, *, infeasible: bool = False) -> _Outcome:
    return _Outcome(
        x=None,
        objective=math.inf,
        bound=-math.inf,
        status=status,
        optimal=False,
        infeasible=infeasible,
        seconds=seconds,
        method=method,
    )


def _run_cbc(prob: _Milp, time_limit_s: float, mip_gap: float) -> _Outcome:
    path = _cbc_path()
    if path is None:
        msg = (
            "solver='cbc' needs the CBC executable: pip install pulp (it ships CBC) or put "
            "'cbc' on PATH; or use solver='highs'"
        )
        raise CoverageError(msg)
    with tempfile.TemporaryDirectory(prefix="coverage-cbc-") as tmp:
        tmpdir = Path(tmp)
        mps, sol, mst = tmpdir / "model.mps", tmpdir / "model.sol", tmpdir / "start.mst"
        _write_mps(mps, prob)
        limit = f"{max(time_limit_s, 0.1):.3f}"
        args = [path, str(mps), "-sec", limit, "-timeMode", "elapsed", "-ratioGap", repr(mip_gap)]
        if prob.start is not None:
            _write_start(mst, prob.start)
            args += ["-mips", str(mst)]
        args += ["-solve", "-solution", str(sol)]
        t0 = time.perf_counter()
        # CBC checks its limit between steps (the root LP, the MIP start's completion and
        # cut rounds are not interrupted); past a grace period the process is killed.
        hard = time_limit_s + max(CBC_GRACE_S, 0.25 * time_limit_s)
        try:
            run = subprocess.run(  # noqa: S603 (our own arguments, no shell)
                args, capture_output=True, text=True, timeout=hard, check=False
            )
        except subprocess.TimeoutExpired:
            status = f"CBC killed {hard:.1f} s after it started (time limit {time_limit_s:g} s)"
            return _failed(status, time.perf_counter() - t0, "cbc")
        seconds = time.perf_counter() - t0
        if not sol.exists():
            tail = (run.stdout + run.stderr).strip().splitlines()[-3:]
            return _failed(f"CBC failed: {' / '.join(tail)}", seconds, "cbc")
        lines = sol.read_text(encoding="ascii", errors="replace").splitlines()
    return _parse_cbc(prob, lines, run.stdout, seconds)


def _parse_cbc(prob: _Milp, lines: list[str], out: str, seconds: float) -> _Outcome:
    """Read CBC's solution file (values) and its log (status, lower bound)."""
    first = lines[0] if lines else ""
    result = re.search(r"Result - (.+)", out)
    status = result.group(1).strip() if result else first
    infeasible = first.lower().startswith(("infeasible", "integer infeasible")) or (
        "infeasible" in status.lower()
    )
    optimal = first.startswith("Optimal")
    x = np.zeros(prob.A.shape[1])
    found = False
    for line in lines[1:]:
        m = _CBC_VALUE.match(line)
        if m:
            x[int(m.group(1), 16)] = float(m.group(2))
            found = True
    lost = "no feasible solution" in out.lower() or (not optimal and not found and prob.c.any())
    if infeasible or lost:
        return _failed(status, seconds, "cbc", infeasible=infeasible)
    objective = float(prob.c @ x)
    bound = -math.inf
    lb = re.search(r"Lower bound:\s+(\S+)", out)
    if optimal:
        bound = objective
    elif lb:
        with contextlib.suppress(ValueError):
            bound = float(lb.group(1))
    return _Outcome(
        x=x,
        objective=objective,
        bound=bound,
        status=status,
        optimal=optimal,
        infeasible=False,
        seconds=seconds,
        method="cbc",
    )


def _run_highs(prob: _Milp, time_limit_s: float, mip_gap: float) -> _Outcome:
    t0 = time.perf_counter()
    res = milp(
        prob.c,
        integrality=prob.integer.astype(np.uint8),
        bounds=Bounds(np.zeros(len(prob.c)), prob.ub),
        constraints=LinearConstraint(prob.A, prob.row_lo, prob.row_hi),
        options={"time_limit": max(time_limit_s, 0.1), "mip_rel_gap": mip_gap, "disp": False},
    )
    seconds = time.perf_counter() - t0
    status = str(res.message)
    if res.x is None:
        return _failed(status, seconds, "highs", infeasible=res.status == 2)  # noqa: PLR2004
    x = np.asarray(res.x, dtype=float)
    objective = float(prob.c @ x)
    bound = getattr(res, "mip_dual_bound", None)
    bound_f = float(bound) if bound is not None and np.isfinite(bound) else -math.inf
    optimal = res.status == 0
    if optimal and not np.isfinite(bound_f):
        bound_f = objective
    return _Outcome(
        x=x,
        objective=objective,
        bound=bound_f,
        status=status,
        optimal=optimal,
        infeasible=False,
        seconds=seconds,
        method="highs",
    )


def _solve_milp(
    prob: _Milp, solver: str, time_limit_s: float, mip_gap: float, *, start_label: str = "greedy"
) -> _Outcome:
    """Run an exact back-end; keep the starting solution if the solver does not beat it.

    ``method`` then becomes ``start_label`` (what produced the start).
    """
    runner = _run_cbc if solver == "cbc" else _run_highs
    out = runner(prob, time_limit_s, mip_gap)
    if out.x is not None:
        out.x = np.where(prob.integer, np.round(out.x), out.x)
        out.objective = float(prob.c @ out.x)
        bad = _violation(prob, out.x)
        if bad > 1e-6:  # noqa: PLR2004
            logger.warning("%s returned a solution violating a constraint by %g", solver, bad)
            out.x, out.objective, out.optimal = None, math.inf, False
            out.status += " (solution rejected: infeasible)"
    if prob.start is not None and not out.infeasible:
        start_obj = float(prob.c @ prob.start)
        if out.x is None or start_obj < out.objective - 1e-9:
            out.x, out.objective = prob.start.copy(), start_obj
            out.method = start_label
            out.optimal = out.optimal and start_obj <= out.bound + 1e-9
    return out


def _violation(prob: _Milp, x: FloatArray) -> float:
    ax = prob.A @ x
    v = np.concatenate([prob.row_lo - ax, ax - prob.row_hi, -x, x - prob.ub])
    v = v[np.isfinite(v)]
    return float(v.max()) if len(v) else 0.0


def _resolve_solver(solver: str, pairs: int, model: str) -> str:
    """The back-end for ``solver="auto"``: measured choices (``bench/README.md``).

    Maximal covering: CBC (5-10× faster than HiGHS here); set covering and the capacitated
    model: HiGHS (CBC was slower and stopped at its limit on cases HiGHS proved optimal).
    """
    if solver == "auto":
        if pairs > GREEDY_ABOVE_PAIRS:
            return "greedy"
        return "cbc" if model == "mclp" and cbc_available() else "highs"
    return solver


# ============================================================================================
# the problem, in plain arrays


@dataclass
class _Input:
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

    @property
    def covered_before(self) -> BoolArray:
        return np.isnan(self.before_min) | (self.before_min <= self.thr + _EPS_MIN)

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
    within = v <= thr[r] + _EPS_MIN
    return r[within], c[within], v[within], nearest, shape


def _prepare(  # noqa: C901, PLR0912, PLR0915 (validation gathers every problem in one place)
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
) -> _Input:
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
        hh = np.round(pop / config.persons_per_household)
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
    return _Input(ri, cj, tmin, n, m, thr, pop, hh, before, hall, nearest, cids, sids, cap)


# ============================================================================================
# reductions and the greedy heuristic (vectorised on the sparse matrix)


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
class _Reduced:
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


def _reduce(inp: _Input, *, model: str, dominance: bool = True) -> _Reduced:
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
        return _Reduced(sp.csr_matrix((0, 0)), empty, empty, np.zeros(0, np.int64), 0, cols_in)
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
    return _Reduced(Au.tocsr(), wu, cnt, cols.astype(np.int64), len(rows), cols_in)


def _take_rows(A: sp.csr_matrix, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Column indices of the given CSR rows, concatenated, and the row of each."""
    lens = A.indptr[rows + 1] - A.indptr[rows]
    total = int(lens.sum())
    offs = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)
    return A.indices[np.repeat(A.indptr[rows], lens) + offs], np.repeat(rows, lens)


def _greedy_max_cover(
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


def _greedy_set_cover(A: sp.csr_matrix, cnt: FloatArray, w: FloatArray) -> list[int]:
    """Cover every row: most uncovered communities first (ties: most population).

    ``cnt`` is the number of communities each (merged) row stands for. Sites made redundant
    by later ones are dropped at the end.
    """
    if A.shape[0] == 0:
        return []
    scale = 1.0 / (w.sum() + 1.0)
    picks = _greedy_max_cover(A, cnt + w * scale, A.shape[1])
    Acsc = A.tocsc()
    count = np.asarray(Acsc[:, picks].sum(axis=1)).ravel()
    keep = list(picks)
    for j in reversed(picks):
        r = Acsc.indices[Acsc.indptr[j] : Acsc.indptr[j + 1]]
        if (count[r] >= 2).all():  # noqa: PLR2004
            count[r] -= 1
            keep.remove(j)
    return keep


def _marginal_order(inp: _Input, chosen: IntArray) -> tuple[IntArray, FloatArray, IntArray]:
    """Order chosen sites by newly covered population (greedy on the chosen set)."""
    act = inp.active
    keep = act[inp.ri] & np.isin(inp.cj, chosen)
    pos = np.full(inp.m, -1, dtype=np.int64)
    pos[chosen] = np.arange(len(chosen))
    A = sp.csr_matrix(
        (np.ones(int(keep.sum())), (inp.ri[keep], pos[inp.cj[keep]])), shape=(inp.n, len(chosen))
    )
    order = _greedy_max_cover(A, inp.pop + 1e-9, len(chosen))
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


# ============================================================================================
# the three models


def _solver_info(out: _Outcome | None, **extra: Any) -> dict[str, Any]:  # noqa: ANN401
    if out is None:
        info: dict[str, Any] = {
            "method": "greedy",
            "status": "greedy heuristic (no exact solve)",
            "objective": float("nan"),
            "bound": float("nan"),
            "mip_gap": float("nan"),
            "optimal": False,
            "seconds": 0.0,
        }
    else:
        info = {
            "method": out.method,
            "status": out.status,
            "objective": out.objective,
            "bound": out.bound,
            "mip_gap": _gap(out.objective, out.bound),
            "optimal": out.optimal,
            "seconds": out.seconds,
        }
    info.update(extra)
    return info


def _solve_cover(
    inp: _Input,
    model: str,
    p: int,
    solver: str,
    time_limit_s: float,
    mip_gap: float,
    *,
    red: _Reduced | None = None,
    initial: Sequence[int] = (),
) -> tuple[IntArray, dict[str, Any], list[int]]:
    """LSCP or MCLP on the reduced matrix.

    Returns the chosen original site indices, the solver information, and the chosen
    columns of the reduced matrix (a warm start for the next ``p``).
    """
    t0 = time.perf_counter()
    method = _resolve_solver(solver, int(inp.active[inp.ri].sum()), model)
    if red is None:
        red = _reduce(inp, model=model, dominance=method != "greedy")
    A, w = red.A, red.w
    k, mm = A.shape
    sizes = {
        "rows": red.rows_in,
        "rows_merged": k,
        "columns": red.cols_in,
        "columns_merged": mm,
        "pairs": int(A.nnz),
    }
    if model == "lscp":
        start_cols = _greedy_set_cover(A, red.cnt, w)
        start_obj = float(len(start_cols))
    else:
        start_cols = _greedy_max_cover(A, w, p, initial)
        start_obj = float(w[A[:, start_cols].getnnz(axis=1) > 0].sum()) if k else 0.0
    build_s = time.perf_counter() - t0
    logger.debug("%s: %s; greedy start %g (%.2f s)", model, sizes, start_obj, build_s)
    if k == 0 or mm == 0 or (model == "mclp" and p == 0):
        info = _solver_info(None, objective=start_obj, build_seconds=build_s, **sizes)
        info.update(
            method="none", status="nothing to solve", optimal=True, mip_gap=0.0, bound=start_obj
        )
        return red.cols[np.asarray(start_cols, dtype=np.int64)], info, start_cols
    if method == "greedy":
        note = "greedy heuristic (solver='greedy')"
        if solver == "auto":
            pairs = int(inp.active[inp.ri].sum())
            note = f"greedy: {pairs:,} pairs > GREEDY_ABOVE_PAIRS ({GREEDY_ABOVE_PAIRS:,})"
        info = _solver_info(None, objective=start_obj, build_seconds=build_s, note=note, **sizes)
        return red.cols[np.asarray(start_cols, dtype=np.int64)], info, start_cols
    if model == "lscp":
        x0 = np.zeros(mm)
        x0[start_cols] = 1.0
        prob = _Milp(
            c=np.ones(mm),
            A=A,
            row_lo=np.ones(k),
            row_hi=np.full(k, np.inf),
            ub=np.ones(mm),
            integer=np.ones(mm, dtype=bool),
            start=x0,
        )
    else:
        # maximise w @ u  <=>  minimise -w @ u;  u_i - sum_j A_ij y_j <= 0;  sum_j y_j <= p
        C = sp.vstack(
            [
                sp.hstack([-A, sp.identity(k, format="csr")]),
                sp.hstack([sp.csr_matrix(np.ones((1, mm))), sp.csr_matrix((1, k))]),
            ]
        ).tocsr()
        x0 = np.zeros(mm + k)
        x0[start_cols] = 1.0
        x0[mm:] = (A @ x0[:mm]) > 0
        prob = _Milp(
            c=np.concatenate([np.zeros(mm), -w]),
            A=C,
            row_lo=np.full(k + 1, -np.inf),
            row_hi=np.concatenate([np.zeros(k), [float(p)]]),
            ub=np.ones(mm + k),
            integer=np.concatenate([np.ones(mm, bool), np.zeros(k, bool)]),
            start=x0,
        )
    build_s = time.perf_counter() - t0
    out = _solve_milp(prob, method, time_limit_s, mip_gap)
    if out.x is None:  # pragma: no cover - the greedy start is always feasible
        msg = f"internal: no solution for model={model!r} ({out.status})"
        raise CoverageError(msg)
    y = np.flatnonzero(out.x[:mm] > 0.5)  # noqa: PLR2004
    if model == "mclp":
        out.objective, out.bound = -out.objective, -out.bound
        gap = _gap(-out.objective, -out.bound)
    else:
        gap = _gap(out.objective, out.bound)
    info = _solver_info(out, build_seconds=build_s, time_limit_s=time_limit_s, **sizes)
    info["mip_gap"] = gap
    info["greedy_objective"] = start_obj
    return red.cols[y], info, y.tolist()


def _capacity_checks(inp: _Input, cap: FloatArray, config: Config) -> None:
    """Arithmetic before solving: totals, single communities, and isolated clusters."""
    act = inp.active
    keep = act[inp.ri]
    ri, cj = inp.ri[keep], inp.cj[keep]
    per100 = config.floor_area_m2_per_100_households
    reach_sites = np.unique(cj)
    demand = float(inp.hh[act].sum())
    total = float(cap[reach_sites].sum())
    if demand > total + 1e-9:
        msg = (
            f"infeasible: demand {demand:,.0f} households > total capacity {total:,.0f} "
            f"households of the {len(reach_sites)} candidate site(s) within reach "
            f"(floor area {total / 100 * per100:,.0f} m² at {per100:g} m² per 100 households; "
            f"{demand / 100 * per100:,.0f} m² needed)"
        )
        raise InfeasibleAllocationError(msg)
    best = np.zeros(inp.n)
    np.maximum.at(best, ri, cap[cj])
    too_big = np.flatnonzero(act & (inp.hh > best + 1e-9))
    if len(too_big):
        i = too_big[0]
        msg = (
            f"infeasible: {len(too_big)} communit(y/ies) need more than any candidate within "
            f"their threshold can hold ({list_ids(inp.community_ids[too_big])}); e.g. "
            f"{inp.community_ids[i]!r}: {inp.hh[i]:,.0f} households > {best[i]:,.0f} "
            f"(largest reachable site, {best[i] / 100 * per100:,.0f} m²)"
        )
        raise InfeasibleAllocationError(msg)
    # clusters of communities and sites joined by coverage pairs must each fit
    graph = sp.csr_matrix((np.ones(len(ri)), (ri, inp.n + cj)), shape=(inp.n + inp.m,) * 2)
    _, label = connected_components(graph, directed=False)
    com_label = label[: inp.n]
    site_label = label[inp.n :]
    need = np.bincount(com_label[act], weights=inp.hh[act], minlength=label.max() + 1)
    has = np.bincount(site_label[reach_sites], weights=cap[reach_sites], minlength=label.max() + 1)
    short = np.flatnonzero(need > has + 1e-9)
    if len(short):
        lab = short[0]
        members = np.flatnonzero(act & (com_label == lab))
        sites = reach_sites[site_label[reach_sites] == lab]
        msg = (
            f"infeasible: {len(short)} cluster(s) of communities need more than the sites they "
            f"can reach hold; e.g. communities {list_ids(inp.community_ids[members])} need "
            f"{need[lab]:,.0f} households > capacity {has[lab]:,.0f} of sites "
            f"{list_ids(inp.site_ids[sites])}"
        )
        raise InfeasibleAllocationError(msg)


def _greedy_capacitated(
    er: IntArray, ec: IntArray, et: FloatArray, h: FloatArray, cap: FloatArray
) -> tuple[list[int], IntArray]:
    """Open the site that can take the most unassigned households; fill it nearest first.

    Returns the opened sites and, per community, the pair (entry) it is assigned to or -1.
    """
    k, mm = len(h), len(cap)
    A = sp.csr_matrix((np.ones(len(er)), (er, ec)), shape=(k, mm))
    by_col = np.lexsort((et, ec))
    col_start = np.searchsorted(ec[by_col], np.arange(mm + 1))
    assigned = np.full(k, -1, dtype=np.int64)
    usable = np.ones(mm, dtype=bool)
    opened: list[int] = []
    while (assigned < 0).any() and usable.any():
        free = (assigned < 0).astype(float)
        reach = np.asarray(A.T @ (h * free)).ravel()
        count = np.asarray(A.T @ free).ravel()
        score = np.minimum(reach, cap) + 1e-6 * count
        score[~usable | (count == 0)] = -1.0
        j = int(np.argmax(score))
        if score[j] < 0:
            break
        usable[j] = False
        left = cap[j]
        took = False
        for e in by_col[col_start[j] : col_start[j + 1]].tolist():
            i = er[e]
            if assigned[i] < 0 and h[i] <= left + 1e-9:
                assigned[i] = e
                left -= h[i]
                took = True
        if took:
            opened.append(j)
    return opened, assigned


def _solve_capacitated(  # noqa: PLR0915 (model, two stages and fallbacks read as one)
    inp: _Input, solver: str, time_limit_s: float, mip_gap: float, config: Config
) -> tuple[IntArray, IntArray, FloatArray, dict[str, Any]]:
    """Returns chosen sites, and per community the assigned site (-1) and its minutes."""
    t0 = time.perf_counter()
    cap = cast("FloatArray", inp.capacity)
    _capacity_checks(inp, cap, config)
    act = inp.active
    keep = act[inp.ri]
    rows = np.flatnonzero(act)
    local = np.full(inp.n, -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    sites = np.unique(inp.cj[keep])
    spos = np.full(inp.m, -1, dtype=np.int64)
    spos[sites] = np.arange(len(sites))
    er, ec, et = local[inp.ri[keep]], spos[inp.cj[keep]], inp.tmin[keep]
    k, mm, E = len(rows), len(sites), len(er)
    h, capl = inp.hh[rows], cap[sites]
    site_of = np.full(inp.n, -1, dtype=np.int64)
    minutes = np.full(inp.n, np.nan)
    sizes = {"rows": k, "columns": mm, "pairs": E}
    if k == 0:
        info = _solver_info(None, **sizes)
        info.update(method="none", status="trivial", optimal=True, mip_gap=0.0, objective=0.0)
        return np.zeros(0, np.int64), site_of, minutes, info
    g_open, g_assign = _greedy_capacitated(er, ec, et, h, capl)
    g_ok = bool((g_assign >= 0).all())
    method = _resolve_solver(solver, E, "capacitated")
    x0: FloatArray | None = None
    if g_ok:
        x0 = np.zeros(mm + E)
        x0[g_open] = 1.0
        x0[mm + g_assign] = 1.0
    e_idx = np.arange(E)
    assign_rows = sp.csr_matrix((np.ones(E), (er, mm + e_idx)), shape=(k, mm + E))
    cap_rows = sp.csr_matrix(
        (
            np.concatenate([h[er], -capl]),
            (np.concatenate([ec, np.arange(mm)]), np.concatenate([mm + e_idx, np.arange(mm)])),
        ),
        shape=(mm, mm + E),
    )
    link_rows = sp.csr_matrix(
        (
            np.concatenate([np.ones(E), -np.ones(E)]),
            (np.concatenate([e_idx, e_idx]), np.concatenate([mm + e_idx, ec])),
        ),
        shape=(E, mm + E),
    )
    C = sp.vstack([assign_rows, cap_rows, link_rows]).tocsr()
    lo = np.concatenate([np.ones(k), np.full(mm + E, -np.inf)])
    hi = np.concatenate([np.ones(k), np.zeros(mm + E)])
    integer = np.ones(mm + E, dtype=bool)
    build_s = time.perf_counter() - t0
    notes: list[str] = []
    if method == "greedy":
        if not g_ok:
            msg = (
                f"the greedy heuristic left {int((g_assign < 0).sum())} communit(y/ies) "
                "unassigned; the problem may still be feasible: use solver='cbc' or 'highs'"
            )
            raise InfeasibleAllocationError(msg)
        x = cast("FloatArray", x0)
        info = _solver_info(None, objective=float(len(g_open)), build_seconds=build_s, **sizes)
    else:
        prob1 = _Milp(
            np.concatenate([np.ones(mm), np.zeros(E)]), C, lo, hi, np.ones(mm + E), integer, x0
        )
        out1 = _solve_milp(prob1, method, time_limit_s, mip_gap)
        if out1.x is None:
            if out1.infeasible:
                msg = (
                    f"infeasible: the solver ({out1.method}: {out1.status}) proved that the "
                    f"{k} communities ({h.sum():,.0f} households) cannot each be assigned "
                    f"whole to one of the {mm} reachable sites (capacity "
                    f"{capl.sum():,.0f} households) within their thresholds"
                )
            else:
                msg = (
                    f"no assignment found within {time_limit_s:g} s ({out1.status}); the "
                    f"greedy heuristic left {int((g_assign < 0).sum())} communit(y/ies) "
                    "unassigned; raise time_limit_s"
                )
            raise InfeasibleAllocationError(msg)
        x = out1.x
        info = _solver_info(out1, build_seconds=build_s, time_limit_s=time_limit_s, **sizes)
        info["greedy_objective"] = float(len(g_open)) if g_ok else float("nan")
        n_open = round(out1.objective)
        remaining = time_limit_s - out1.seconds
        if remaining >= 1.0:
            C2 = sp.vstack(
                [C, sp.csr_matrix((np.ones(mm), (np.zeros(mm), np.arange(mm))), shape=(1, mm + E))]
            ).tocsr()
            prob2 = _Milp(
                np.concatenate([np.zeros(mm), et]),
                C2,
                np.concatenate([lo, [-np.inf]]),
                np.concatenate([hi, [float(n_open)]]),
                np.ones(mm + E),
                integer,
                x.copy(),
            )
            out2 = _solve_milp(prob2, method, remaining, mip_gap, start_label="stage 1")
            if out2.x is not None:
                x = out2.x
            info["stage2"] = {
                "objective_total_travel_min": out2.objective,
                "bound": out2.bound,
                "mip_gap": _gap(out2.objective, out2.bound),
                "status": out2.status,
                "method": out2.method,
                "seconds": out2.seconds,
                "optimal": out2.optimal,
            }
            info["seconds"] = out1.seconds + out2.seconds
        else:
            notes.append("second stage (least total travel time) skipped: no time left")
    if notes:
        info["note"] = "; ".join(notes)
    z = x[mm:] > 0.5  # noqa: PLR2004
    site_of[rows[er[z]]] = sites[ec[z]]
    minutes[rows[er[z]]] = et[z]
    # a site counts as proposed only if the assignment uses it
    chosen_local = np.unique(ec[z])
    return sites[chosen_local], site_of, minutes, info


# ============================================================================================
# from a solution to the result tables


def _nearest_open(inp: _Input, chosen: IntArray) -> tuple[IntArray, FloatArray]:
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
    inp: _Input,
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
                "members": [_plain(v) for v in cids[members]],
                "n_members": len(members),
                "population": float(pop_sum[g]),
                "households": hh,
                "max_travel_time_min": round(float(mins.max()), 2) if len(mins) else float("nan"),
                "floor_area_needed_m2": round(hh / 100.0 * per100, 1),
            }
        )
    return rows


def _plain(value: object) -> object:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _uncoverable_reason(inp: _Input, i: int) -> str:
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
    inp: _Input,
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


def _finish(
    inp: _Input,
    model: str,
    chosen: IntArray,
    info: dict[str, Any],
    config: Config,
    *,
    assigned_site: IntArray | None = None,
    assigned_min: FloatArray | None = None,
    existing_groups: bool = True,
) -> ProposalResult:
    per100 = config.floor_area_m2_per_100_households
    before = inp.covered_before
    coverable = inp.coverable
    ordered, gain_pop, gain_n = _marginal_order(inp, np.asarray(chosen, dtype=np.int64))
    if assigned_site is None:
        # a site that adds no coverage after the sites before it is redundant: leave it out
        useful = gain_n > 0
        if not useful.all():
            info = {
                **info,
                "note": f"{int((~useful).sum())} selected site(s) adding no coverage left out",
            }
            ordered, gain_pop, gain_n = ordered[useful], gain_pop[useful], gain_n[useful]
        site, new_min = _nearest_open(inp, ordered)
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


def _uncoverable_table(inp: _Input, unc: IntArray) -> pd.DataFrame:
    near = np.round(inp.nearest_min[unc], 2)
    return pd.DataFrame(
        {
            "community_id": inp.community_ids[unc],
            "threshold_min": inp.thr[unc],
            "nearest_candidate_min": np.where(np.isfinite(near), near, np.nan),
            "data_problem": _flags(inp.data_problem, inp.n)[unc],
            "reason": [_uncoverable_reason(inp, int(i)) for i in unc],
        }
    )


def _flags(mask: BoolArray | None, n: int) -> BoolArray:
    """A per-community mask, all False where there is none."""
    return np.zeros(n, dtype=bool) if mask is None else mask


def _scenario(
    inp: _Input, before: BoolArray, after: BoolArray, n_new: int, n_unc: int
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


# ============================================================================================
# the door for research: any cost matrix


def _run(
    inp: _Input,
    model: str,
    p: int | None,
    solver: str,
    time_limit_s: float,
    mip_gap: float,
    config: Config,
    *,
    existing_groups: bool,
) -> ProposalResult:
    if model == "capacitated":
        chosen, site_of, minutes, info = _solve_capacitated(
            inp, solver, time_limit_s, mip_gap, config
        )
        return _finish(
            inp,
            model,
            chosen,
            info,
            config,
            assigned_site=site_of,
            assigned_min=minutes,
            existing_groups=existing_groups,
        )
    chosen, info, _ = _solve_cover(inp, model, int(p or 0), solver, time_limit_s, mip_gap)
    return _finish(inp, model, chosen, info, config, existing_groups=existing_groups)


def propose_halls_from_cost_matrix(
    cost: ArrayLike | sp.spmatrix | sp.sparray,
    demand: ArrayLike,
    thresholds: ArrayLike,
    *,
    existing_cover: ArrayLike | None = None,
    existing_hall: Sequence[Any] | NDArray[Any] | None = None,
    model: Model = "lscp",
    p: int | None = None,
    capacity: ArrayLike | None = None,
    households: ArrayLike | None = None,
    community_ids: Sequence[Any] | NDArray[Any] | None = None,
    site_ids: Sequence[Any] | NDArray[Any] | None = None,
    solver: Solver = "auto",
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    existing_groups: bool = True,
    config: Config | None = None,
) -> ProposalResult:
    """Propose new halls from a communities × candidate-sites cost matrix (minutes).

    Parameters
    ----------
    cost
        Travel times from each community (row) to each candidate site (column), minutes.
        Dense: ``inf`` or ``nan`` = unreachable. ``scipy.sparse``: absent = unreachable,
        a stored ``0`` = at the same spot.
    demand
        Population of each community (persons); the weight of maximal covering.
    thresholds
        Service-circle threshold of each community, minutes (one number applies to all).
    existing_cover
        Coverage by the existing halls, per community: minutes to the nearest existing hall
        (``inf`` = none), or booleans (covered or not, time unknown). Covered communities are
        left out of the models and stay with their existing hall.
    existing_hall
        Identifier of each community's nearest existing hall (for the shared-hall groups).
    model
        ``"lscp"`` (fewest new sites covering every coverable community), ``"mclp"`` (best
        ``p`` sites by newly covered population) or ``"capacitated"``.
    p
        Number of new sites for ``"mclp"``.
    capacity
        Capacity of each candidate site in households (``"capacitated"`` only); one number
        applies to all. :func:`capacity_households` converts floor areas (m²).
    households
        Households of each community; default ``round(demand / config.persons_per_household)``
        as in the audit.
    community_ids, site_ids
        Identifiers of the rows and columns (default: positions).
    solver
        ``"auto"`` (CBC for ``"mclp"`` if available, HiGHS otherwise; greedy above
        ``GREEDY_ABOVE_PAIRS`` coverage pairs), ``"cbc"``, ``"highs"`` or ``"greedy"``.
    time_limit_s
        Wall-clock limit of the exact solver, seconds (the capacitated model's two stages
        share it).
    mip_gap
        Relative optimality gap accepted by the exact solver (0 = prove optimality).
    existing_groups
        Also list the existing halls' groups in ``groups``.
    config
        Floor-area standard (m² per 100 households) and household size.

    Returns
    -------
    ProposalResult
        Proposals, groups, uncoverable communities, per-community status, before/after
        scenario and solver information (status, objective, gap, seconds).

    Raises
    ------
    InputDataError
        If the inputs do not fit together (shapes, negative values, a missing ``p``).
    InfeasibleAllocationError
        If the capacitated model cannot be satisfied; the message gives the numbers.

    Examples
    --------
    Four communities, three candidate sites (minutes); community 3 is rural (20 minutes):

    >>> import numpy as np
    >>> cost = np.array([[ 5, 16, np.inf],
    ...                  [10, 12, 30],
    ...                  [25,  9, 14],
    ...                  [30, 21, 18]])
    >>> r = propose_halls_from_cost_matrix(cost, [100, 200, 300, 400], [15, 15, 15, 20],
    ...                                    site_ids=["S1", "S2", "S3"])
    >>> r.site_ids, r.solver["optimal"]
    (['S3', 'S1'], True)
    >>> r = propose_halls_from_cost_matrix(cost, [100, 200, 300, 400], [15, 15, 15, 20],
    ...                                    model="mclp", p=1, site_ids=["S1", "S2", "S3"])
    >>> r.site_ids, r.solver["objective"]
    (['S3'], 700.0)
    """
    cfg = config or DEFAULT_CONFIG
    inp = _prepare(
        cost,
        demand,
        thresholds,
        existing_cover=existing_cover,
        existing_hall=existing_hall,
        households=households,
        capacity=capacity,
        community_ids=community_ids,
        site_ids=site_ids,
        model=model,
        p=p,
        solver=solver,
        config=cfg,
    )
    return _run(inp, model, p, solver, time_limit_s, mip_gap, cfg, existing_groups=existing_groups)


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


def coverage_curve_from_cost_matrix(
    cost: ArrayLike | sp.spmatrix | sp.sparray,
    demand: ArrayLike,
    thresholds: ArrayLike,
    k: int,
    *,
    existing_cover: ArrayLike | None = None,
    site_ids: Sequence[Any] | NDArray[Any] | None = None,
    solver: Solver = "auto",
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> pd.DataFrame:
    """Population covered with the best ``p`` new sites, for ``p = 0 … k`` (maximal covering).

    Each ``p`` starts from the solution for ``p - 1`` plus the best greedy addition, so the
    curve never goes down, even where a solve stops at its time limit.

    Parameters
    ----------
    cost, demand, thresholds, existing_cover, site_ids
        As in :func:`propose_halls_from_cost_matrix` (minutes, persons).
    k
        Largest number of new sites.
    solver
        ``"auto"``, ``"cbc"``, ``"highs"`` or ``"greedy"``.
    time_limit_s
        Time limit of each solve (each ``p``), seconds.
    mip_gap
        Relative optimality gap accepted (0 = prove optimality).

    Returns
    -------
    pandas.DataFrame
        One row per ``p``: ``p``, ``population_covered``, ``population_covered_share`` (of
        all communities' population, existing coverage included), ``communities_covered``,
        ``communities_covered_share``, ``sites`` (ids), ``method``, ``optimal``, ``mip_gap``,
        ``seconds``.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[5, 16, np.inf], [10, 12, 30], [25, 9, 14], [30, 21, 18]])
    >>> curve = coverage_curve_from_cost_matrix(cost, [100, 200, 300, 400], [15, 15, 15, 20], 3)
    >>> curve["population_covered"].tolist()
    [0.0, 700.0, 1000.0, 1000.0]
    >>> int(curve.loc[curve["population_covered_share"] >= 0.95, "p"].min())
    2
    """
    if isinstance(k, bool) or int(k) != k or k < 0:
        msg = f"k must be a whole number >= 0, got {k!r}"
        raise InputDataError(msg)
    inp = _prepare(
        cost,
        demand,
        thresholds,
        existing_cover=existing_cover,
        existing_hall=None,
        households=None,
        capacity=None,
        community_ids=None,
        site_ids=site_ids,
        model="mclp",
        p=0,
        solver=solver,
        config=DEFAULT_CONFIG,
    )
    return _curve(inp, int(k), solver, time_limit_s, mip_gap)


def _curve(inp: _Input, k: int, solver: str, time_limit_s: float, mip_gap: float) -> pd.DataFrame:
    method = _resolve_solver(solver, int(inp.active[inp.ri].sum()), "mclp")
    red = _reduce(inp, model="mclp", dominance=method != "greedy")
    before = inp.covered_before
    base_pop = float(inp.pop[before].sum())
    total_pop = float(inp.pop.sum())
    reachable = float(red.w.sum())
    rows: list[dict[str, Any]] = []
    prev: list[int] = []
    chosen = np.zeros(0, dtype=np.int64)
    info: dict[str, Any] = {"method": "none", "optimal": True, "mip_gap": 0.0, "seconds": 0.0}
    for p in range(k + 1):
        done = rows and rows[-1]["population_covered"] >= base_pop + reachable - 1e-9
        if p > 0 and not done:
            chosen, info, prev = _solve_cover(
                inp, "mclp", p, solver, time_limit_s, mip_gap, red=red, initial=prev
            )
        site, _ = _nearest_open(inp, chosen)
        cov = before | (site >= 0)
        pop_cov = float(inp.pop[cov].sum())
        rows.append(
            {
                "p": p,
                "population_covered": pop_cov,
                "population_covered_share": pop_cov / total_pop if total_pop else float("nan"),
                "communities_covered": int(cov.sum()),
                "communities_covered_share": float(cov.mean()) if inp.n else float("nan"),
                "sites": [_plain(v) for v in inp.site_ids[chosen]],
                "method": info.get("method"),
                "optimal": bool(info.get("optimal")),
                "mip_gap": info.get("mip_gap"),
                "seconds": float(info.get("seconds", 0.0)) if not done else 0.0,
            }
        )
    return pd.DataFrame(rows)


# ============================================================================================
# the door for planners: frames and a network


def _island_reasons(network: Network, seg: IntArray, cfg: Config) -> list[str]:
    """Why communities on the given segments (on fragments) are left out of the siting."""
    piece = network.component_sizes[network.component[network.seg_u[seg]]]
    return [
        f"data problem: its only road within {cfg.max_snap_m:g} m is a {int(k)}-node piece "
        "cut off from the rest of the network (a map-data island); no hall is proposed for it: "
        "fix the map data, or plan for it with include_islands=True (--include-islands)"
        for k in piece
    ]


def _without_rows(cost: sp.csr_matrix, drop: BoolArray) -> sp.csr_matrix:
    """The same matrix with the entries of the dropped rows removed (explicit zeros kept)."""
    coo = cost.tocoo()
    keep = ~drop[coo.row]
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=cost.shape)


def _require(frame: object, columns: list[str], what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        msg = f"{what}: a GeoDataFrame with a CRS is needed"
        raise InputDataError(msg)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{what}: missing column(s) {', '.join(map(repr, missing))}"
        raise MissingColumnError(msg)
    if len(frame) and not frame.geom_type.isin(["Point"]).all():
        bad = frame.index[~frame.geom_type.isin(["Point"])]
        msg = f"{what}: point geometries are needed (rows {list_ids(bad)} are not points)"
        raise InputDataError(msg)
    return frame


def _unique_ids(ids: pd.Series, what: str) -> None:
    dup = ids[ids.duplicated()]
    if len(dup):
        msg = f"{what}: duplicate identifiers {list_ids(dup.unique())}"
        raise DuplicateIdError(msg)


def candidate_sites(
    network: Network,
    *,
    spacing_m: float | None = None,
    communities: gpd.GeoDataFrame | None = None,
    include: gpd.GeoDataFrame | None = None,
    exclude: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites for new halls: your own sites, thinned network nodes, or communities.

    The sources given are combined (duplicates by ``site_id`` are an error). Existing halls
    are not candidates: pass them to :func:`propose_halls` as ``halls``, where they stay fixed.

    Parameters
    ----------
    network
        The network; its nodes are the generated candidates.
    spacing_m
        Generate one candidate per ``spacing_m`` × ``spacing_m`` cell (metres, in the
        network's metric CRS): the node nearest the centre of each cell that holds nodes.
    communities
        Use the community locations (``community_id``) as candidates, ``site_id = "C:<id>"``.
    include
        Your own sites: a point GeoDataFrame with ``site_id`` (any CRS); an optional
        ``floor_area_m2`` column (m²) gives each site's floor area for the capacitated model.
    exclude
        Polygons (any CRS; a bare shapely geometry is taken as EPSG:4326) where no hall may
        go, e.g. water, parks, rail yards: candidates inside or on them are removed.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``source`` (``"user"``, ``"network node"``, ``"community"``),
        ``floor_area_m2`` (m², ``nan`` where unknown); points in EPSG:4326.

    Raises
    ------
    InputDataError
        If no source is given, or ``spacing_m`` is not positive.
    DuplicateIdError
        If two candidates share a ``site_id``.

    Examples
    --------
    >>> from coverage.testing import grid_graph
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600)
    >>> len(sites), sites["site_id"].iloc[0]
    (9, 'N:6')
    """
    parts: list[gpd.GeoDataFrame] = []
    if include is not None:
        inc = _require(include, ["site_id"], "include").to_crs(4326)
        area = inc["floor_area_m2"] if "floor_area_m2" in inc.columns else np.nan
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": inc["site_id"].to_numpy(),
                    "source": "user",
                    "floor_area_m2": np.asarray(area, dtype=float) if np.ndim(area) else np.nan,
                },
                geometry=inc.geometry.to_numpy(),
                crs=4326,
            )
        )
    if spacing_m is not None:
        if not spacing_m > 0:
            msg = f"spacing_m must be a positive number of metres, got {spacing_m!r}"
            raise InputDataError(msg)
        xy = network.node_xy
        # millimetre rounding keeps nodes of a regular grid off the cell borders
        rel = np.round(xy - xy.min(axis=0), 3)
        cell = np.floor(rel / spacing_m).astype(np.int64)
        centre = xy.min(axis=0) + (cell + 0.5) * spacing_m
        d = np.hypot(*(xy - centre).T)
        order = np.lexsort((np.arange(len(xy)), d, cell[:, 1], cell[:, 0]))
        c = cell[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (c[1:] != c[:-1]).any(axis=1)
        nodes = np.sort(order[first])
        import shapely  # noqa: PLC0415

        pts = gpd.GeoSeries(shapely.points(xy[nodes]), crs=network.crs).to_crs(4326)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": [f"N:{v}" for v in network.node_ids[nodes]],
                    "source": "network node",
                    "floor_area_m2": np.nan,
                },
                geometry=pts.to_numpy(),
                crs=4326,
            )
        )
    if communities is not None:
        com = _require(communities, ["community_id"], "communities").to_crs(4326)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": [f"C:{v}" for v in com["community_id"]],
                    "source": "community",
                    "floor_area_m2": np.nan,
                },
                geometry=com.geometry.to_numpy(),
                crs=4326,
            )
        )
    if not parts:
        msg = "candidate_sites: give include=, spacing_m= or communities= (or several)"
        raise InputDataError(msg)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    _unique_ids(out["site_id"], "candidate sites")
    if exclude is not None:
        if isinstance(exclude, gpd.GeoDataFrame | gpd.GeoSeries):
            if exclude.crs is None:
                msg = "exclude: a CRS is needed"
                raise InputDataError(msg)
            zone = exclude.to_crs(4326).union_all()
        else:
            zone = exclude
        out = out[~out.geometry.intersects(zone)].reset_index(drop=True)
    return out


def _thresholds(com: gpd.GeoDataFrame, cfg: Config) -> FloatArray:
    kind = com["kind"].astype(str).to_numpy()
    return np.where(kind == "rural", cfg.rural_threshold_min, cfg.urban_threshold_min).astype(float)


def _households(com: gpd.GeoDataFrame, cfg: Config) -> FloatArray:
    pop = com["population"].to_numpy(dtype=float)
    if "households" not in com.columns:
        return cast("FloatArray", np.round(pop / cfg.persons_per_household))
    hh = pd.to_numeric(com["households"], errors="coerce").to_numpy(dtype=float)
    out: FloatArray = np.where(np.isnan(hh), np.round(pop / cfg.persons_per_household), hh)
    return out


@dataclass
class _Routed:
    inp: _Input
    timings: dict[str, float]


def _route(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    network: Network,
    cfg: Config,
    *,
    model: str,
    p: int | None,
    solver: str,
    max_floor_area_m2: float | None,
    include_islands: bool = False,
) -> _Routed:
    com = _require(communities, ["community_id", "kind", "population"], "communities")
    cand = _require(candidates, ["site_id"], "candidates")
    _unique_ids(com["community_id"], "communities")
    _unique_ids(cand["site_id"], "candidates")
    t0 = time.perf_counter()
    thr = _thresholds(com, cfg)
    c_snap = snap(network, com.geometry, config=cfg)
    s_snap = snap(network, cand.geometry, config=cfg)
    t1 = time.perf_counter()
    limit_s = float(thr.max()) * 60.0 if len(thr) else 0.0
    cost_s = travel_time_matrix(network, c_snap, s_snap, limit_s=limit_s)
    t2 = time.perf_counter()
    cost = sp.csr_matrix((cost_s.data / 60.0, cost_s.indices, cost_s.indptr), shape=cost_s.shape)
    island = np.zeros(len(com), dtype=bool)
    if not include_islands:  # map-data islands are a data problem, not demand
        island = c_snap.ok & fragment_segments(network)[np.maximum(c_snap.seg, 0)]
        if island.any():
            cost = _without_rows(cost, island)
    before = np.full(len(com), np.inf)
    hall_of = np.full(len(com), None, dtype=object)
    if halls is not None and len(halls):
        hal = _require(halls, ["hall_id"], "halls")
        near = nearest_facility(network, c_snap, snap(network, hal.geometry, config=cfg))
        before = near.time_s / 60.0
        ids = np.array([*hal["hall_id"].tolist(), None], dtype=object)
        hall_of = ids[near.facility]
    nearest_cand = nearest_facility(network, c_snap, s_snap)
    t3 = time.perf_counter()
    capacity = None
    if model == "capacitated":
        area = (
            pd.to_numeric(cand["floor_area_m2"], errors="coerce").to_numpy(dtype=float)
            if "floor_area_m2" in cand.columns
            else np.full(len(cand), np.nan)
        )
        if max_floor_area_m2 is not None:
            area = np.where(np.isnan(area), float(max_floor_area_m2), area)
        if np.isnan(area).any():
            bad = cand["site_id"][np.isnan(area)]
            msg = (
                f"model='capacitated': {len(bad)} candidate site(s) have no floor area "
                f"({list_ids(bad)}); give a floor_area_m2 column or max_floor_area_m2="
            )
            raise InputDataError(msg)
        capacity = capacity_households(area, config=cfg)
    inp = _prepare(
        cost,
        com["population"].to_numpy(dtype=float),
        thr,
        existing_cover=before,
        existing_hall=hall_of,
        households=_households(com, cfg),
        capacity=capacity,
        community_ids=com["community_id"].to_numpy(dtype=object),
        site_ids=cand["site_id"].to_numpy(dtype=object),
        model=model,
        p=p,
        solver=solver,
        config=cfg,
    )
    inp.nearest_min = nearest_cand.time_s / 60.0
    reasons = np.full(len(com), "", dtype=object)
    off = ~c_snap.ok
    reasons[off] = [
        f"farther than {cfg.max_snap_m:g} m from every road usable by {network.mode} "
        f"({d:.0f} m): no site can reach it"
        for d in c_snap.dist_m[off]
    ]
    no_route = c_snap.ok & ~np.isfinite(inp.nearest_min)
    reasons[no_route] = "no route to any candidate site (separate piece of the road network)"
    if island.any():
        reasons[island] = _island_reasons(network, c_snap.seg[island], cfg)
        inp.data_problem = island
    inp.reasons = reasons
    timings = {"snap_seconds": t1 - t0, "matrix_seconds": t2 - t1, "nearest_seconds": t3 - t2}
    return _Routed(inp, timings)


def propose_halls(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    network: Network,
    *,
    model: Model = "lscp",
    p: int | None = None,
    config: Config | None = None,
    time_limit_s: float = 60.0,
    max_floor_area_m2: float | None = None,
    solver: Solver = "auto",
    mip_gap: float = 0.0,
    existing_groups: bool = True,
    include_islands: bool = False,
) -> ProposalResult:
    """Propose new shared halls (一站多居) from candidate sites, over the road network.

    Parameters
    ----------
    communities
        ``community_id``, ``kind`` (``"urban"``/``"rural"``: 15/20-minute thresholds from
        ``config``), ``population``; optional ``households``; points, any CRS.
    halls
        Existing halls (``hall_id``; points, any CRS), kept fixed and counted as coverage;
        ``None`` or empty for none.
    candidates
        Candidate sites from :func:`candidate_sites` (``site_id``; optional
        ``floor_area_m2``, m²).
    network
        Network with its routing view; its mode and speed decide the travel times.
    model
        ``"lscp"``, ``"mclp"`` or ``"capacitated"`` (see the module notes).
    p
        Number of new halls for ``"mclp"``.
    config
        Thresholds (minutes), snap limit (metres), floor-area standard, household size.
    time_limit_s
        Wall-clock limit of the exact solver, seconds.
    max_floor_area_m2
        Floor area (m²) of candidates without their own ``floor_area_m2`` (capacitated).
    solver
        ``"auto"``, ``"cbc"``, ``"highs"`` or ``"greedy"``.
    mip_gap
        Relative optimality gap accepted (0 = prove optimality).
    existing_groups
        Also list the existing halls' groups.
    include_islands
        Plan for communities on map-data islands too (their only road within the snap limit
        is a fragment cut off from almost all of the network,
        :func:`coverage.engine.fragment_segments`). By default they are left out of the
        siting with status ``"data problem"`` (:attr:`ProposalResult.data_problems`): a hall
        built for a gap in the map serves nobody.

    Returns
    -------
    ProposalResult
        ``proposals`` carry the candidates' geometry (EPSG:4326); ``solver`` also holds the
        snapping, matrix and nearest-hall times (seconds).

    Raises
    ------
    MissingColumnError, DuplicateIdError, InputDataError
        For unusable inputs.
    InfeasibleAllocationError
        If the capacitated model cannot be satisfied; the message gives the numbers.

    Examples
    --------
    On the 5 × 5 test grid (300 m edges, 4 minutes each), B at (2, 2) is 16 minutes from
    both halls; one new hall covers it:

    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600)
    >>> r = propose_halls(grid_communities(), grid_halls(), sites, net)
    >>> len(r.proposals), r.communities["status"].tolist()[1]
    (1, 'newly covered')
    >>> r.scenario[["scenario", "covered"]].to_dict("list")
    {'scenario': ['before', 'after'], 'covered': [4, 5]}
    """
    cfg = network.routing_config(config)
    routed = _route(
        communities,
        halls,
        candidates,
        network,
        cfg,
        model=model,
        p=p,
        solver=solver,
        max_floor_area_m2=max_floor_area_m2,
        include_islands=include_islands,
    )
    result = _run(
        routed.inp, model, p, solver, time_limit_s, mip_gap, cfg, existing_groups=existing_groups
    )
    result.solver.update(routed.timings)
    cand = candidates.to_crs(4326).set_index(candidates["site_id"].to_numpy())
    geom = cand.geometry.reindex(result.proposals["site_id"].to_numpy()).to_numpy()
    result.proposals = result.proposals.set_geometry(
        gpd.GeoSeries(geom, index=result.proposals.index, crs=4326)
    )
    extra = [c for c in ("source", "floor_area_m2") if c in cand.columns]
    for col in extra:
        result.proposals[col] = cand[col].reindex(result.proposals["site_id"].to_numpy()).to_numpy()
    return result


def coverage_curve(
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    network: Network,
    k: int,
    *,
    config: Config | None = None,
    solver: Solver = "auto",
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> pd.DataFrame:
    """Population covered with the best ``p`` new halls, ``p = 0 … k`` ("how many for 95 %?").

    Parameters
    ----------
    communities, halls, candidates, network, config
        As in :func:`propose_halls`.
    k
        Largest number of new halls.
    solver
        ``"auto"``, ``"cbc"``, ``"highs"`` or ``"greedy"``.
    time_limit_s
        Time limit of each solve, seconds.
    mip_gap
        Relative optimality gap accepted (0 = prove optimality).

    Returns
    -------
    pandas.DataFrame
        As :func:`coverage_curve_from_cost_matrix`: one row per ``p``, shares of the whole
        population with existing halls counted.

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600)
    >>> curve = coverage_curve(grid_communities(), grid_halls(), sites, net, 2)
    >>> curve["population_covered_share"].round(3).tolist()
    [0.655, 1.0, 1.0]
    """
    if isinstance(k, bool) or int(k) != k or k < 0:
        msg = f"k must be a whole number >= 0, got {k!r}"
        raise InputDataError(msg)
    cfg = network.routing_config(config)
    routed = _route(
        communities,
        halls,
        candidates,
        network,
        cfg,
        model="mclp",
        p=0,
        solver=solver,
        max_floor_area_m2=None,
    )
    return _curve(routed.inp, int(k), solver, time_limit_s, mip_gap)


def verify_proposal(
    result: ProposalResult,
    communities: gpd.GeoDataFrame,
    halls: gpd.GeoDataFrame | None,
    network: Network,
    *,
    config: Config | None = None,
) -> AuditResult:
    """Re-run the routed audit with the existing halls plus the proposed ones.

    Parameters
    ----------
    result
        A result of :func:`propose_halls` (its proposals need geometries).
    communities, halls, network
        The inputs given to :func:`propose_halls`.
    config
        Defaults to the configuration of ``result``.

    Returns
    -------
    coverage.audit.AuditResult
        The audit; proposed halls have ``hall_id`` = ``site_id``, ``kind="proposed"`` and
        ``floor_area_m2`` = the floor area they need (m²).

    Raises
    ------
    InputDataError
        If the proposals have no geometry (a result of the cost-matrix door).

    Examples
    --------
    >>> from coverage.testing import grid_graph, grid_communities, grid_halls
    >>> from coverage.network import load_network
    >>> net = load_network(grid_graph())
    >>> sites = candidate_sites(net, spacing_m=600)
    >>> r = propose_halls(grid_communities(), grid_halls(), sites, net)
    >>> audit = verify_proposal(r, grid_communities(), grid_halls(), net)
    >>> bool(audit.communities["covered"].all())
    True
    """
    from coverage.audit import audit  # noqa: PLC0415 (audit imports the engine too)

    cfg = config or result.config
    prop = result.proposals
    if len(prop) and prop.geometry.isna().any():
        msg = "verify_proposal: the proposals have no geometry (use propose_halls())"
        raise InputDataError(msg)
    new = gpd.GeoDataFrame(
        {
            "hall_id": prop["site_id"].to_numpy(),
            "name": [f"proposed {s}" for s in prop["site_id"]],
            "kind": "proposed",
            "floor_area_m2": prop["floor_area_needed_m2"].to_numpy(dtype=float),
        },
        geometry=prop.geometry.to_numpy(),
        crs=4326,
    )
    parts = [new]
    if halls is not None and len(halls):
        old = halls.to_crs(4326).copy()
        parts.insert(0, old)
    all_halls = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    return audit(communities, all_halls, network, config=cfg)
