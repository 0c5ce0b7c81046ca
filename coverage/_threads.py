"""Thread counts for the OpenMP code the planner calls (pykdtree's nearest-piece queries).

pykdtree runs every query on all cores through OpenMP. For a small query the threads cost
more than they save, and when another process holds a core they wait for it: on two cores
with one busy, ``audit()`` of the West Lake sample took 1.6× as long as on one thread
(``bench/README.md``, "Threads"). So a query of fewer than :data:`SMALL_QUERY` points runs on
one thread; larger ones (the service-area grid) keep OpenMP's own count, where the work
per thread outweighs the waiting.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

#: Queries with fewer points than this run on one OpenMP thread.
SMALL_QUERY = 100_000


@functools.cache
def _openmp() -> Any:  # noqa: ANN401 (threadpoolctl's controller; untyped)
    """The loaded OpenMP runtimes, as threadpoolctl controls them (``None`` without it)."""
    try:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415
    except ImportError:  # pragma: no cover (a dependency; kept optional for odd installs)
        return None
    return ThreadpoolController().select(user_api="openmp")


def query_threads(n_points: int) -> contextlib.AbstractContextManager[Any]:
    """A context in which a k-d tree query of ``n_points`` points uses the right thread count.

    Parameters
    ----------
    n_points
        Number of query points.

    Returns
    -------
    contextlib.AbstractContextManager
        One OpenMP thread for a query of fewer than :data:`SMALL_QUERY` points (the count
        is restored on leaving); for larger queries, nothing changes.

    Examples
    --------
    >>> with query_threads(10):
    ...     pass
    """
    openmp = _openmp()
    if openmp is None or n_points >= SMALL_QUERY or not openmp.lib_controllers:
        return contextlib.nullcontext()
    limited: contextlib.AbstractContextManager[Any] = openmp.limit(limits=1)
    return limited
