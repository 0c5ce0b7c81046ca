"""Shared names of the siting package: models, solvers, statuses, the time tolerance."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

logger = logging.getLogger(__name__)

Model = Literal["lscp", "mclp", "capacitated"]
Solver = Literal["auto", "cbc", "highs", "greedy"]
MODELS: tuple[str, ...] = get_args(Model)
SOLVERS: tuple[str, ...] = get_args(Solver)

#: Tolerance of "within the threshold", minutes (the audit uses the same).
EPS_MIN = 1e-9

STATUS_COVERED_BEFORE = "covered by an existing hall"
STATUS_NEWLY_COVERED = "newly covered"
STATUS_NOT_COVERED = "not covered"
STATUS_UNCOVERABLE = "uncoverable"
STATUS_DATA_PROBLEM = "data problem"
