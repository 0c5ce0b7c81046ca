"""Shared fixtures: the hand-checkable grid and the bundled real networks (loaded once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage.network import Network, load_network
from coverage.samples import Sample, load_sample, sample_path
from coverage.testing import grid_graph

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def grid_net() -> Network:
    return load_network(grid_graph(), mode="walk")


@pytest.fixture(scope="session")
def hangzhou_net() -> Network:
    return load_network(sample_path("hangzhou-central", "network"), mode="walk")


@pytest.fixture(scope="session")
def hangzhou() -> Sample:
    return load_sample("hangzhou-central")


@pytest.fixture(scope="session")
def liechtenstein() -> Sample:
    return load_sample("liechtenstein")
