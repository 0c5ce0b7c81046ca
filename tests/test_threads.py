"""Thread counts of the k-d tree queries: one thread for small queries, OpenMP's own above."""

from __future__ import annotations

import pytest

import coverage.engine  # noqa: F401 (loads pykdtree's OpenMP runtime)
from coverage._threads import SMALL_QUERY, _openmp, query_threads


def test_small_queries_run_on_one_thread_and_large_ones_keep_the_count():
    openmp = _openmp()
    if openmp is None or not openmp.lib_controllers:
        pytest.skip("no OpenMP runtime loaded")

    def threads():
        return {lib["num_threads"] for lib in openmp.info()}

    with openmp.limit(limits=2):
        assert threads() == {2}
        with query_threads(441):  # the West Lake sample's communities
            assert threads() == {1}
        assert threads() == {2}  # restored
        with query_threads(SMALL_QUERY):  # e.g. a service-area grid
            assert threads() == {2}
