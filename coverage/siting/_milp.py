"""MILP back-ends: one container, two exact solvers (CBC through an MPS file, HiGHS)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from coverage._errors import (
    CoverageError,
)

if TYPE_CHECKING:
    import scipy.sparse as sp
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)

#: Above this many coverage pairs (community × site within threshold) ``solver="auto"`` skips
#: the exact solver and uses the greedy heuristic (labelled ``method="greedy"``).
GREEDY_ABOVE_PAIRS = 5_000_000

#: CBC runs past its time limit are killed after this many seconds (or a quarter of the
#: limit, if longer); the greedy solution is then the answer.
CBC_GRACE_S = 5.0


@dataclass
class Milp:
    """``minimise c @ x`` s.t. ``row_lo <= A @ x <= row_hi``, ``0 <= x <= ub``."""

    c: FloatArray
    A: sp.csr_matrix
    row_lo: FloatArray
    row_hi: FloatArray
    ub: FloatArray
    integer: BoolArray
    start: FloatArray | None = None


@dataclass
class Outcome:
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


def relative_gap(obj: float, bound: float) -> float:
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


def _write_mps(path: Path, prob: Milp) -> None:
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


def _failed(status: str, seconds: float, method: str, *, infeasible: bool = False) -> Outcome:
    return Outcome(
        x=None,
        objective=math.inf,
        bound=-math.inf,
        status=status,
        optimal=False,
        infeasible=infeasible,
        seconds=seconds,
        method=method,
    )


def _run_cbc(prob: Milp, time_limit_s: float, mip_gap: float) -> Outcome:
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


def _parse_cbc(prob: Milp, lines: list[str], out: str, seconds: float) -> Outcome:
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
    return Outcome(
        x=x,
        objective=objective,
        bound=bound,
        status=status,
        optimal=optimal,
        infeasible=False,
        seconds=seconds,
        method="cbc",
    )


def _run_highs(prob: Milp, time_limit_s: float, mip_gap: float) -> Outcome:
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
    return Outcome(
        x=x,
        objective=objective,
        bound=bound_f,
        status=status,
        optimal=optimal,
        infeasible=False,
        seconds=seconds,
        method="highs",
    )


def solve_milp(
    prob: Milp, solver: str, time_limit_s: float, mip_gap: float, *, start_label: str = "greedy"
) -> Outcome:
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


def _violation(prob: Milp, x: FloatArray) -> float:
    ax = prob.A @ x
    v = np.concatenate([prob.row_lo - ax, ax - prob.row_hi, -x, x - prob.ub])
    v = v[np.isfinite(v)]
    return float(v.max()) if len(v) else 0.0


def resolve_solver(solver: str, pairs: int, model: str) -> str:
    """The back-end for ``solver="auto"``: measured choices (``bench/README.md``).

    Maximal covering: CBC (5-10× faster than HiGHS here); set covering and the capacitated
    model: HiGHS (CBC was slower and stopped at its limit on cases HiGHS proved optimal).
    """
    if solver == "auto":
        if pairs > GREEDY_ABOVE_PAIRS:
            return "greedy"
        return "cbc" if model == "mclp" and cbc_available() else "highs"
    return solver
