"""The DuckDB warehouse core (:mod:`obrecon_pipeline.warehouse`) on the shipped AAPL level-10 cut
(999 messages) replayed by ``run_stream`` into the warehouse layout: a view per table with the
stream and day from the path, a partition stored later seen without a rebuild, a new table only
after one, the reports view, and check results merged per partition."""

from __future__ import annotations

import datetime as dt
import shutil
import duckdb
import polars as pl
import pytest

from obrecon_pipeline import atomic, warehouse
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.pipeline import OutputPaths, run_stream
from tests.conftest import LOBSTER_DAY


@pytest.fixture
def root(tmp_path):
    """A data root whose warehouse holds the AAPL-L10 book of 2012-06-21, and its report."""
    (stream,) = [s for s in get_feed("lobster").discover(LOBSTER_DAY, "2012-06-21") if s.name == "AAPL-L10"]
    book = warehouse.partition_path(tmp_path, "book", "AAPL-L10", "2012-06-21")
    book.parent.mkdir(parents=True)
    report = run_stream("lobster", stream, OutputPaths(book))
    atomic.write_json(report, tmp_path / "reports" / stream.partition_key / "report.json")
    return tmp_path


def _query(root, sql):
    with duckdb.connect(str(warehouse.db_path(root)), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_views_over_every_partition_without_a_rebuild(root):
    assert list(warehouse.build(root)) == ["book", "reports"]
    assert _query(root, "SELECT stream, trading_day, count(*), min(seq), max(seq) FROM book GROUP BY ALL") == [
        ("AAPL-L10", dt.date(2012, 6, 21), 999, 0, 998)]
    # a day stored after the build is in the next query; its book has fewer levels: nulls
    later = warehouse.partition_path(root, "book", "AAPL-L10", "2012-06-22")
    later.parent.mkdir(parents=True, exist_ok=True)
    pl.read_parquet(warehouse.partition_path(root, "book", "AAPL-L10", "2012-06-21")).drop(
        "bid_price_10", "bid_size_10", "ask_price_10", "ask_size_10").head(5).write_parquet(later)
    assert _query(root, "SELECT trading_day, count(*), count(bid_price_10) FROM book GROUP BY ALL ORDER BY ALL") == [
        (dt.date(2012, 6, 21), 999, 999), (dt.date(2012, 6, 22), 5, 0)]
    # a file not named by a day does not break the view: its trading_day is null
    shutil.copy(later, later.with_name("copy.parquet"))
    assert _query(root, "SELECT trading_day, count(*) FROM book GROUP BY ALL ORDER BY ALL") == [
        (dt.date(2012, 6, 21), 999), (dt.date(2012, 6, 22), 5), (None, 5)]
    later.with_name("copy.parquet").unlink()
    # a new table needs a rebuild (a view is made only over a directory with a partition)
    spreads = warehouse.partition_path(root, "spreads", "AAPL-L10", "2012-06-21")
    spreads.parent.mkdir(parents=True)
    pl.DataFrame({"spread_1": [0.01, 0.03]}).write_parquet(spreads)
    (root / "warehouse" / "empty_table").mkdir()
    with pytest.raises(duckdb.CatalogException):
        _query(root, "SELECT * FROM spreads")
    assert list(warehouse.build(root)) == ["book", "spreads", "reports"]
    assert _query(root, "SELECT stream, avg(spread_1) FROM spreads GROUP BY ALL") == [("AAPL-L10", 0.02)]


def test_reports_view_has_every_report_key(root):
    warehouse.build(root)
    assert _query(root, "SELECT source, stream, trading_day, stream_day, events, rows, reference.match_rate, "
                        "snapshot_drift.snapshots_compared FROM reports") == [
        ("lobster", "AAPL-L10", dt.date(2012, 6, 21), "lobster/AAPL-L10/2012-06-21", 999, 999, 1.0, 0)]


def _results(*rows):
    base = {"stream_day": "lobster/AAPL-L10/2012-06-21", "asset": "book", "severity": "ERROR", "run_id": "r"}
    return pl.DataFrame([base | r for r in rows], schema=warehouse.CHECK_RESULT_SCHEMA)


def test_check_results_are_merged_per_partition(root):
    first = _results({"check_name": "reference_match", "status": "failed", "passed": False},
                     {"check_name": "feed_integrity", "status": "passed", "passed": True})
    path = warehouse.write_check_results(root, "AAPL-L10", "2012-06-21", first)
    assert path == root / "warehouse" / "check_results" / "AAPL-L10" / "2012-06-21.parquet"
    # a later run that evaluated only reference_match replaces that row and keeps the other
    warehouse.write_check_results(root, "AAPL-L10", "2012-06-21", _results(
        {"check_name": "reference_match", "status": "passed", "passed": True, "run_id": "r2"}))
    warehouse.build(root)
    assert _query(root, "SELECT stream, check_name, status, run_id FROM check_results ORDER BY check_name") == [
        ("AAPL-L10", "feed_integrity", "passed", "r"), ("AAPL-L10", "reference_match", "passed", "r2")]


def test_a_failed_build_keeps_the_previous_database(root):
    warehouse.build(root)
    before = warehouse.db_path(root).read_bytes()
    corrupt = warehouse.partition_path(root, "spreads", "AAPL-L10", "2012-06-21")
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"not parquet")
    with pytest.raises(duckdb.InvalidInputException, match="2012-06-21.parquet"):
        warehouse.build(root)
    assert warehouse.db_path(root).read_bytes() == before
    assert sorted(p.name for p in (root / "warehouse").iterdir()) == ["book", warehouse.DB_NAME, "spreads"]
