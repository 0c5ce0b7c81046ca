"""Tests of coverage.samples and the bundled data: one region, one set of points, one answer.

``data/samples/`` holds the hangzhou-xihu communities and halls as Amap-style Excel lists in
GCJ-02 (notebook 02). Read back with ``coord_system="gcj02"`` they must be the sample itself:
same ids, same points, same audit.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coverage.audit import audit
from coverage.io import read_communities, read_halls
from coverage.samples import Sample, data_dir, load_sample

SAMPLES = data_dir() / "samples"
COMMUNITIES_XLSX = SAMPLES / "西湖社区名单_gcj02.xlsx"
HALLS_XLSX = SAMPLES / "服务中心_gcj02.xlsx"


@pytest.fixture(scope="module")
def xihu() -> Sample:
    return load_sample("hangzhou-xihu")


@pytest.fixture(scope="module")
def excel_lists() -> tuple[Any, Any]:
    return (
        read_communities(COMMUNITIES_XLSX, coord_system="gcj02"),
        read_halls(HALLS_XLSX, coord_system="gcj02"),
    )


def _distance_m(a: Any, b: Any) -> np.ndarray:
    metric = a.estimate_utm_crs()
    return a.to_crs(metric).geometry.distance(b.to_crs(metric).geometry, align=False).to_numpy()


def test_excel_lists_carry_the_sample_points(xihu, excel_lists):
    communities, halls = excel_lists
    for ours, sample, key in (
        (communities, xihu.communities, "community_id"),
        (halls, xihu.halls, "hall_id"),
    ):
        assert ours[key].tolist() == sample[key].tolist()
        # 9 decimals of GCJ-02 and the exact inverse: well under a millimetre (the brief: < 1 m)
        assert _distance_m(ours, sample).max() < 0.001, key
    for column in ("name", "district", "street", "kind", "population", "households"):
        assert communities[column].tolist() == xihu.communities[column].tolist(), column
    for column in ("name", "floor_area_m2", "illustrative"):
        assert halls[column].tolist() == xihu.halls[column].tolist(), column


def test_excel_lists_audit_like_the_sample(xihu, excel_lists):
    communities, halls = excel_lists
    by_sample = audit(xihu.communities, xihu.halls, xihu.network).communities
    by_excel = audit(communities, halls, xihu.network).communities
    assert by_excel["status"].tolist() == by_sample["status"].tolist()
    assert by_excel["nearest_hall_id"].tolist() == by_sample["nearest_hall_id"].tolist()
    assert np.allclose(
        by_excel["travel_time_min"], by_sample["travel_time_min"], atol=1e-3, equal_nan=True
    )
    assert (by_excel["status"] == "covered").sum() == (by_sample["status"] == "covered").sum()


def test_excel_lists_are_what_the_script_writes():
    """The bundled workbooks are current: rebuilt from today's sample, their cells are equal."""
    script = data_dir() / "make_excel_sample.py"
    spec = importlib.util.spec_from_file_location("make_excel_sample", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_excel_sample", module)
    spec.loader.exec_module(module)
    bundled = pd.read_excel(COMMUNITIES_XLSX, header=1, dtype=object)
    pd.testing.assert_frame_equal(bundled, module.community_table().astype(object))
    bundled = pd.read_excel(HALLS_XLSX, dtype=object)
    pd.testing.assert_frame_equal(bundled, module.hall_table().astype(object))
