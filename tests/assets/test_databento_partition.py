"""The Databento ESH4 day through the Dagster layer: the partition comes from the feed registry and
the crossed-book check reports the pre-open cross without failing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from assets import book_checks
from assets.partitions import discover_streams
from tests.conftest import RAW

DAY_DIR = RAW / "databento" / "2023-12-25"
KEY = "databento/ESH4/2023-12-25"


def test_databento_partition_materializes_with_crossed_classification(tmp_path, materialize_check):
    shutil.copytree(DAY_DIR, tmp_path / "raw" / "databento" / "2023-12-25")
    assert [s.partition_key for s in discover_streams(tmp_path / "raw")] == [KEY]

    check, meta = materialize_check(tmp_path, KEY, book_checks.no_crossed_book)
    assert check.passed
    assert (meta["crossed_rows"], meta["crossed_rows_pre_open"], meta["crossed_rows_continuous"], meta["rows_checked"]) == (
        891, 891, 0, 47_022
    )
    assert meta["first_crossed_time"] == "2023-12-25T22:39:55.216798489Z"

    report = json.loads((tmp_path / "reports" / KEY / "report.json").read_text())
    assert (report["events"], report["rows"], report["sequence_skips"], report["integrity_failure_events"]) == (
        68_792, 47_022, 3_667, 0
    )
    assert (report["crossed_rows_pre_open"], report["crossed_rows_continuous"]) == (891, 0)
