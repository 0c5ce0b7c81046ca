"""DistrictPool: steps that overlap, chain job by job, and start processes only if they pay."""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

import pytest

from coverage import CoverageWarning
from coverage._errors import InputDataError
from coverage.config import Config
from coverage.pool import DistrictPool

if TYPE_CHECKING:
    from pathlib import Path


def _write(job: int, folder: Path) -> int:
    """Step one: a file per job; returns the job's square."""
    (folder / f"{job}.txt").write_text(str(os.getpid()))
    return job * job


def _read(job: int, prior: int, folder: Path) -> tuple[int, int, bool]:
    """Step two: the job, step one's result for it, and whether its file was there first."""
    return job, prior, (folder / f"{job}.txt").exists()


def test_a_pool_of_one_runs_its_steps_here_in_order_when_asked(tmp_path):
    with DistrictPool() as pool:
        first = pool.submit(_write, range(5), (tmp_path,), desc="write")
        assert not list(tmp_path.iterdir())  # nothing runs before its results are asked for
        second = pool.submit(_read, range(5), (tmp_path,), desc="read", after=first, chain=True)
        assert second.result() == [(k, k * k, True) for k in range(5)]
        assert first.result() == [0, 1, 4, 9, 16]


def test_chaining_needs_the_step_it_follows():
    with DistrictPool() as pool, pytest.raises(InputDataError, match="after="):
        pool.submit(_read, [1], desc="read", chain=True)


def test_too_little_work_stays_here_and_says_so_once(tmp_path):
    cfg = Config(parallel_pays_s=1e9)  # never pays
    with DistrictPool(2, config=cfg) as pool:
        assert pool.prestart(1e6) is False  # not even a big guess starts them
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            first = pool.submit(_write, range(4), (tmp_path,), desc="write")
            second = pool.submit(_read, range(4), (tmp_path,), desc="read", after=first, chain=True)
        assert second.result() == [(k, k * k, True) for k in range(4)]
        assert pool._client is None  # no process started
    notes = [w for w in seen if issubclass(w.category, CoverageWarning)]
    assert len(notes) == 1, [str(w.message) for w in notes]
    assert "not on 2 worker processes" in str(notes[0].message)


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_prestarted_processes_chain_each_job_after_its_earlier_step(tmp_path):
    pytest.importorskip("distributed")
    n = 40
    with DistrictPool(2, config=Config(parallel_pays_s=5)) as pool:
        assert pool.prestart(1.0) is False  # a small run: no processes
        assert pool.prestart(10.0) is True  # they start in the background
        first = pool.submit(_write, range(n), (tmp_path,), desc="write")
        second = pool.submit(_read, range(n), (tmp_path,), desc="read", after=first, chain=True)
        assert first.spans  # both steps went to the workers
        assert second.spans
        assert second.result() == [(k, k * k, True) for k in range(n)]
        assert first.result() == [k * k for k in range(n)]
        pids = {(tmp_path / f"{k}.txt").read_text() for k in range(n)}
    assert str(os.getpid()) not in pids  # written on the workers
    assert len(pids) == 2  # by both of them


def test_tasks_cover_every_job_once_in_order_and_shrink_towards_the_end():
    from coverage.pool import _chunks

    jobs = list(range(702))
    chunks = _chunks(jobs, n_workers=2)
    assert [j for _, c in chunks for j in c] == jobs
    assert [first for first, _ in chunks] == [sum(len(c) for _, c in chunks[:k]) for k in
                                               range(len(chunks))]  # fmt: skip
    sizes = [len(c) for _, c in chunks]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] == 702 // 8  # a quarter of each worker's share first
    assert sizes[-1] == 1  # the workers finish on single jobs
    assert _chunks([], n_workers=2) == []


def test_two_jobs_both_timed_here_still_say_the_processes_were_not_started(tmp_path):
    with DistrictPool(2) as pool, pytest.warns(CoverageWarning, match="not on 2 worker"):
        assert pool.submit(_write, [1, 2], (tmp_path,), desc="write").result() == [1, 4]
