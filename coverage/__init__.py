"""Service-coverage planning for community service halls (社区服务中心).

Network travel times from every community to its nearest hall, audited against the
15-minute (urban) and 20-minute (rural) service circles of Hangzhou's community-governance
plan, with maps, tables and proposals for shared halls (一站多居).

The import name is ``coverage`` (fixed by the project layout); the distribution and the
console command are ``coverage-planner``, because coverage.py owns the name ``coverage``.
"""

from __future__ import annotations

import importlib.metadata as _metadata

from coverage._errors import (
    ConfigError,
    CoordinateSystemWarning,
    CoverageError,
    CoverageWarning,
    CrsError,
    DuplicateIdError,
    InfeasibleAllocationError,
    InputDataError,
    MissingColumnError,
    NetworkError,
    OfflineExportError,
)
from coverage.config import DEFAULT_CONFIG, Config
from coverage.io import read_communities, read_halls
from coverage.network import Network, download_network, load_network
from coverage.samples import load_sample

__all__ = [
    "DEFAULT_CONFIG",
    "Config",
    "ConfigError",
    "CoordinateSystemWarning",
    "CoverageError",
    "CoverageWarning",
    "CrsError",
    "DuplicateIdError",
    "InfeasibleAllocationError",
    "InputDataError",
    "MissingColumnError",
    "Network",
    "NetworkError",
    "OfflineExportError",
    "download_network",
    "load_network",
    "load_sample",
    "read_communities",
    "read_halls",
]

try:  # the installed distribution's version (pyproject.toml is its one home)
    __version__ = _metadata.version("coverage-planner")
except _metadata.PackageNotFoundError:  # pragma: no cover (run from a copy, not installed)
    __version__ = "0.0.0+unknown"

# The other verbs live in modules named after them (a function called ``audit`` here would
# hide the module ``coverage.audit``): coverage.audit.audit, coverage.maps.coverage_map,
# coverage.isochrones.isochrones, coverage.siting.propose_halls, coverage.batch.run_batch.
