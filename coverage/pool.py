"""Worker processes for a run's per-district steps, started once and only if they pay.

A run's slow part is per district and independent: each district's folder (tables, workbook,
page, map), or each district's audit on its clipped network (:func:`coverage.batch.run_batch`).
:class:`DistrictPool` runs such steps in this process, on local worker processes (a
:class:`dask.distributed.LocalCluster`) or on an existing dask.distributed cluster, with
the same results in every case. Steps can overlap: :meth:`DistrictPool.submit` hands a step
to the workers and returns at once, so this process can make something else meanwhile (the
service areas the district maps need), and a later step can wait district by district for an
earlier one (a district's map after its tables).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from coverage._errors import CoverageWarning, InputDataError
from coverage.config import DEFAULT_CONFIG, Config

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from distributed import Client

__all__ = ["TASK_SHARE", "DistrictPool", "Pending"]

_T = TypeVar("_T")
_J = TypeVar("_J")
_R = TypeVar("_R")

#: Each dask task takes this share of the jobs left per worker: big tasks first (few round
#: trips), ever smaller ones towards the end, so the workers finish at about the same time.
TASK_SHARE = 4


class Pending(Generic[_R]):
    """A step handed to a :class:`DistrictPool`: its results, in job order, once collected.

    Jobs that run in this process run when :meth:`result` is first called (except a first
    or two run at once to time the step); jobs on workers run meanwhile.
    """

    def __init__(
        self,
        collect: Callable[[], list[_R]],
        here: list[_R] | None = None,
        spans: list[tuple[int, int, Any]] | None = None,
        finish: Callable[[], None] | None = None,
    ) -> None:
        self._collect = collect
        self._finish = finish
        self._done: list[_R] | None = None
        self.here: list[_R] = here or []  # results of the first jobs, already run here
        # (first job, end, dask future) of each task sent to the workers
        self.spans: list[tuple[int, int, Any]] = spans or []

    def result(self) -> list[_R]:
        """The results, in the order of the jobs (runs this process's share the first time)."""
        if self._done is None:
            self._done = self._collect()
        return self._done

    def wait(self) -> None:
        """Wait until every job has finished, without bringing results from the workers.

        Raises
        ------
        Exception
            What a job raised (as :meth:`result` does).
        """
        if self._done is None and self._finish is not None:
            self._finish()
        else:
            self.result()

    def results_of(self, first: int, end: int) -> tuple[dict[int, _R], list[tuple[int, int, Any]]]:
        """Results of jobs ``first`` to ``end - 1``: those known here, and the dask tasks.

        Returns
        -------
        tuple
            ``{job index: result}`` of the jobs run here (all of them when the step runs
            here: it is collected first), and ``(first, end, future)`` of each dask task
            holding the others.
        """
        if not self.spans:  # every job runs here
            done = self.result()
            return {k: done[k] for k in range(first, end)}, []
        known = {k: r for k, r in enumerate(self.here) if first <= k < end}
        return known, [(a, b, f) for a, b, f in self.spans if a < end and first < b]


def _chunks(jobs: Sequence[_T], n_workers: int) -> list[tuple[int, Sequence[_T]]]:
    """The jobs in runs, each ``1 / TASK_SHARE`` of the jobs left per worker (at least one)."""
    out, i = [], 0
    while i < len(jobs):
        size = max(1, (len(jobs) - i) // (n_workers * TASK_SHARE))
        out.append((i, jobs[i : i + size]))
        i += size
    return out


def _run_chunk(
    func: Callable[..., _R],
    chunk: Sequence[Any],
    *shared: Any,  # noqa: ANN401
    first: int = 0,
    after: tuple[dict[int, Any], list[tuple[int, int, Any]]] | None = None,
    chain: bool = False,
) -> list[_R]:
    """A run of jobs, one after another (one dask task).

    Dask runs it once the futures in ``after`` are done and passes their results in place.
    """
    if not chain or after is None:
        return [func(job, *shared) for job in chunk]
    prior = dict(after[0])
    for a, _, results in after[1]:
        prior.update(enumerate(results, start=a))
    return [func(job, prior[first + i], *shared) for i, job in enumerate(chunk)]


def _serial_note(left_s: float, workers: int, cfg: Config) -> CoverageWarning:
    """Why a step asked to use local processes runs in this one."""
    en = (
        f"running the districts one after another here, not on {workers} worker processes: "
        f"about {left_s:.0f} s of work is left, under the {cfg.parallel_pays_s:g} s that "
        "starting the processes needs to pay off (parallel_pays_s)"
    )
    zh = (
        f"各区县在本进程中依次计算，未启动 {workers} 个工作进程：剩余约 {left_s:.0f} 秒的计算量，"
        f"低于启动进程所需的 {cfg.parallel_pays_s:g} 秒（parallel_pays_s）"
    )
    return CoverageWarning(en, texts={"zh": zh})


class DistrictPool:
    """Worker processes for the district steps of a run, started once and only if they pay.

    One pool serves every per-district step of a run, so worker processes start once. With
    ``workers=1`` and no scheduler every job runs in this process. With local workers the
    first two jobs of a step run here, the second timed (the first pays one-time costs such as
    imports): if the rest is less than ``config.parallel_pays_s`` seconds of work, it runs
    here too, with a :class:`~coverage.CoverageWarning` saying so;
    otherwise a :class:`dask.distributed.LocalCluster` of single-threaded processes starts
    (or has started, see :meth:`prestart`) and is closed with the pool. With ``scheduler``
    the jobs always go to that cluster.

    Parameters
    ----------
    workers
        Local worker processes (1: none).
    scheduler
        Address of an existing dask.distributed scheduler (``"tcp://host:8786"``) or a
        connected :class:`dask.distributed.Client`; ``workers`` is then ignored and the
        cluster is left running.
    config
        ``parallel_pays_s`` (seconds) and ``verbose`` (progress bars).

    Raises
    ------
    InputDataError
        If ``workers`` is not a whole number >= 1.

    Examples
    --------
    >>> with DistrictPool(workers=1) as pool:
    ...     pool.run(lambda job, k: job * k, [1, 2, 3], (10,), desc="jobs")
    [10, 20, 30]
    """

    def __init__(
        self,
        workers: int = 1,
        scheduler: str | Client | None = None,
        *,
        config: Config | None = None,
    ) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            msg = f"workers must be a whole number >= 1, got {workers!r}"
            raise InputDataError(msg)
        self.workers = workers
        self.scheduler = scheduler
        self.config = config or DEFAULT_CONFIG
        self._client: Any = None
        self._cluster: Any = None
        self._own_client = False
        self._lock = threading.Lock()
        self._starting: Future[Any] | None = None
        self._said = False  # the "runs here" warning, once a run

    @property
    def parallel(self) -> bool:
        """Whether jobs may leave this process."""
        return self.scheduler is not None or self.workers > 1

    def __enter__(self) -> Self:
        """The pool itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the processes this pool started."""
        self.close()

    def close(self) -> None:
        """Close the client and the local cluster this pool started (not a given one)."""
        if self._starting is not None:
            try:
                self._starting.result()
            except Exception:  # noqa: BLE001 (it failed to start: nothing to close)
                self._starting = None
        with self._lock:
            if self._own_client and self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
            self._client = self._cluster = None
            self._own_client = False

    def prestart(self, work_s: float) -> bool:
        """Start the local worker processes now, in the background, if ``work_s`` would pay.

        The processes take seconds to start; started at the beginning of a run, they are
        ready by the time its district steps come. The steps then go to them untimed, so the
        guess should be low: one too high sends a small run to processes that cost more
        than they save.

        Parameters
        ----------
        work_s
            The run's expected per-district work, seconds in this process; the processes
            start if it reaches ``config.parallel_pays_s``.

        Returns
        -------
        bool
            Whether the processes are starting.
        """
        if self.scheduler is not None or self.workers == 1 or self._starting is not None:
            return self._starting is not None
        if self._client is not None or work_s < self.config.parallel_pays_s:
            return False
        executor = ThreadPoolExecutor(1, thread_name_prefix="coverage-pool")
        self._starting = executor.submit(self._start)
        executor.shutdown(wait=False)
        return True

    def run(
        self,
        func: Callable[..., _R],
        jobs: Sequence[_J],
        shared: tuple[Any, ...] = (),
        *,
        desc: str,
        remote: tuple[Any, ...] | None = None,
        on_error: Callable[[_J, BaseException], _R] | None = None,
        progress: bool | None = None,
    ) -> list[_R]:
        """``func(job, *shared)`` for every job, in the order of ``jobs``.

        Parameters
        ----------
        func
            A module-level function (it is pickled to the workers).
        jobs
            One item per district.
        shared
            Arguments every job shares; sent to each worker once.
        desc
            What the jobs are, for progress bars and task names.
        remote
            What the workers get instead of ``shared`` (e.g. a network's flat arrays).
        on_error
            ``on_error(job, exc)`` stands in for the result of each job of a dask task that
            failed outside ``func`` (a worker died for good); without it the error is raised.
        progress
            Show a progress bar (default ``config.verbose``).

        Returns
        -------
        list
            The results, in the order of ``jobs``.
        """
        return self.submit(
            func,
            jobs,
            shared,
            desc=desc,
            remote=remote,
            on_error=on_error,
            progress=progress,
        ).result()

    def submit(
        self,
        func: Callable[..., _R],
        jobs: Sequence[_J],
        shared: tuple[Any, ...] = (),
        *,
        desc: str,
        remote: tuple[Any, ...] | None = None,
        on_error: Callable[[_J, BaseException], _R] | None = None,
        progress: bool | None = None,
        after: Pending[Any] | None = None,
        chain: bool = False,
    ) -> Pending[_R]:
        """Like :meth:`run`, but return at once; the results come from ``.result()``.

        Jobs sent to workers start now; jobs that stay in this process (``workers=1``, or
        too little work to pay) run when ``.result()`` is first called.

        Parameters
        ----------
        func, jobs, shared, desc, remote, on_error, progress
            As for :meth:`run`.
        after
            An earlier step over the same jobs: job ``k`` here starts only after its job
            ``k`` has finished.
        chain
            Call ``func(job, prior, *shared)``, ``prior`` being job ``k``'s result in
            ``after`` (on a worker it usually comes from the same worker, unsent).

        Returns
        -------
        Pending
            The step's results once collected.
        """
        bar = self.config.verbose if progress is None else progress
        if not jobs:
            return Pending(list)
        if chain and after is None:
            msg = "chain=True needs the step it follows: after="
            raise InputDataError(msg)
        here = _Here(func, jobs, shared, desc, bar, after, chain)
        if not self.parallel:
            return Pending(here.run)
        if self.scheduler is None and not self._ready():
            left_s = here.first() * (len(jobs) - len(here.done))
            if left_s < self.config.parallel_pays_s:
                if len(jobs) > 1 and not self._said:  # (two jobs: both ran here)
                    self._said = True
                    warnings.warn(_serial_note(left_s, self.workers, self.config), stacklevel=2)
                return Pending(here.run, here.done)
        return self._dask(
            here,
            shared if remote is None else remote,
            on_error,
        )

    def _ready(self) -> bool:
        """Whether processes are running or starting (then no job is timed)."""
        return self._client is not None or self._starting is not None

    def _start(self) -> Any:  # noqa: ANN401 (a dask Client)
        with self._lock:
            if self._client is not None:
                return self._client
            try:
                import distributed  # noqa: PLC0415
            except ImportError as exc:
                msg = (
                    "running districts on several processes or a cluster needs "
                    "dask.distributed: pip install 'dask[distributed]'"
                )
                raise ImportError(msg) from exc
            dd: Any = distributed  # its API is only partly annotated
            if isinstance(self.scheduler, dd.Client):
                self._client = self.scheduler
            elif self.scheduler is not None:
                self._client = dd.Client(self.scheduler)
                self._own_client = True
            else:
                with _preloaded():
                    self._cluster = dd.LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",
                    )
                self._client = dd.Client(self._cluster)
                self._own_client = True
            return self._client

    def _client_now(self) -> Any:  # noqa: ANN401 (a dask Client)
        if self._starting is not None:
            self._starting.result()  # raises what the start raised
        return self._start()

    def _dask(
        self,
        here: _Here[_J, _R],
        shared: tuple[Any, ...],
        on_error: Callable[[_J, BaseException], _R] | None,
    ) -> Pending[_R]:
        client = self._client_now()
        jobs, done, after = here.jobs, here.done, here.after
        shared_f = [client.scatter(obj, broadcast=True, hash=False) for obj in shared]
        # a few tasks per worker, each a run of jobs: fewer round trips to the scheduler and
        # the client than one task a job, still balanced between the workers
        n_workers = (
            self.workers if self._cluster is not None else len(client.scheduler_info()["workers"])
        )
        skip = len(done)
        chunks = [(skip + i, c) for i, c in _chunks(jobs[skip:], n_workers=max(1, n_workers))]
        tag = uuid.uuid4().hex[:8]
        spans = []
        for i, (first, chunk) in enumerate(chunks):
            end = first + len(chunk)
            fut = client.submit(
                _run_chunk,
                here.func,
                chunk,
                *shared_f,
                first=first,
                after=None if after is None else after.results_of(first, end),
                chain=here.chain,
                key=f"coverage-{here.desc}-{tag}-{i}",
                pure=False,
            )
            spans.append((first, end, fut))

        def collect(fetch: bool = True) -> list[_R]:
            import distributed  # noqa: PLC0415
            from tqdm.auto import tqdm  # noqa: PLC0415

            index = {fut: k for k, (_, _, fut) in enumerate(spans)}
            out: list[list[_R]] = [[] for _ in chunks]
            bar = here.bar or None
            progress = tqdm(total=len(jobs), desc=here.desc, unit="district", disable=not bar)
            progress.update(len(done))
            dd: Any = distributed  # its API is only partly annotated
            for fut in dd.as_completed(list(index)):
                k = index[fut]
                try:
                    if fetch or fut.status != "finished":  # (an error is raised here)
                        out[k] = fut.result()
                except Exception as exc:  # a worker died for good: KilledWorker, etc.
                    if on_error is None:
                        raise
                    out[k] = [on_error(job, exc) for job in chunks[k][1]]
                progress.update(len(chunks[k][1]))
            progress.close()
            return done + [r for part in out for r in part]

        return Pending(collect, done, spans, finish=lambda: _ignore(collect(fetch=False)))


#: What the local workers import before their first job: the modules of the district steps.
PRELOAD = ("distributed", "coverage.reports", "coverage.maps", "folium", "openpyxl")


@contextlib.contextmanager
def _preloaded() -> Iterator[None]:
    """Local workers forked from one process that imported :data:`PRELOAD` once.

    Dask spawns each worker as a new interpreter that imports everything again. Where the
    platform has a fork server, the imports happen once, in it, and each worker is a fork of
    it (a fresh process, not a copy of this one, its threads or its data). Like any
    multiprocessing fork server it then stays, idle, as long as this process, and starts the
    workers of the next pool.
    """
    import multiprocessing  # noqa: PLC0415

    import dask  # noqa: PLC0415
    from distributed import utils  # noqa: PLC0415

    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        dd: Any = utils  # untyped
        dd.get_mp_context().set_forkserver_preload(list(PRELOAD))  # (after dask's own list)
        yield


def _ignore(_: object) -> None:
    """Drop a value."""


@dataclass
class _Here(Generic[_J, _R]):
    """A step's jobs as they run in this process, each after its job in ``after``."""

    func: Callable[..., _R]
    jobs: Sequence[_J]
    shared: tuple[Any, ...]
    desc: str
    bar: bool
    after: Pending[Any] | None
    chain: bool
    done: list[_R] = field(default_factory=list)

    def _call(self, k: int) -> _R:
        if not self.chain or self.after is None:
            return self.func(self.jobs[k], *self.shared)
        prior, _ = self.after.results_of(k, k + 1)
        if k not in prior:  # the earlier step's job ran on a worker
            prior = dict(enumerate(self.after.result()))
        return self.func(self.jobs[k], prior[k], *self.shared)

    def first(self) -> float:
        """Run the first two jobs now; the seconds of the second (the first pays imports)."""
        if self.after is not None and not self.after.spans:
            self.after.result()  # the earlier step stays here: its jobs first
        self.done = [self._call(0)]
        t0 = time.perf_counter()
        if len(self.jobs) > 1:
            self.done.append(self._call(1))
        return time.perf_counter() - t0

    def run(self) -> list[_R]:
        """Run the jobs not run yet, in order."""
        from tqdm.auto import tqdm  # noqa: PLC0415

        if self.after is not None:
            self.after.result()
        rest = range(len(self.done), len(self.jobs))
        steps = tqdm(rest, desc=self.desc, unit="district", disable=not self.bar or None)
        return self.done + [self._call(k) for k in steps]
