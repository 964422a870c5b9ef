"""The DuckDB warehouse through Dagster: two days of the shipped AAPL level-10 cut (2012-06-21 as
shipped; 2012-06-22 the same cut with its first add message after row 10 dropped, made here) are
materialized with their spreads and book checks; the warehouse sensor, evaluated with a real
sensor context, records the check results and builds ``obrecon.duckdb``; the README's two queries
give the figures below; a second tick with the cursor does nothing."""

from __future__ import annotations

import datetime as dt
import json
import warnings

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets import book, book_checks, feed_integrity, fidelity
from assets.definitions import defs
from assets.partitions import partition_key, register
from obrecon_pipeline import warehouse
from resources import LandingZone, resources_for
from tests.assets.conftest import CUT, land_good_and_damaged

GOOD, DAMAGED = "lobster/AAPL-L10/2012-06-21", "lobster/AAPL-L10/2012-06-22"
CHECKS = [book_checks.reference_match, feed_integrity.feed_integrity]

#: README, "DuckDB warehouse": mean quoted spread per stream and day
MEAN_SPREAD = """
SELECT stream, trading_day, count(*) AS book_rows,
       round(avg(spread_1), 6) AS mean_spread, round(avg(spread_bp_1), 4) AS mean_spread_bp
FROM spreads
WHERE book_valid
GROUP BY ALL
ORDER BY ALL
"""
#: README, "DuckDB warehouse": the days whose match against the venue's own book failed
REFERENCE_FAILED = """
SELECT stream, trading_day,
       CAST(metadata->>'match_rate' AS DOUBLE) AS match_rate,
       CAST(metadata->>'first_mismatch_row' AS BIGINT) AS first_mismatch_row,
       metadata->>'first_mismatch_message' AS first_mismatch_message
FROM check_results
WHERE check_name = 'reference_match' AND status = 'failed'
ORDER BY ALL
"""


def _tick(instance, root, cursor=None):
    sensor = defs.get_repository_def().get_sensor_def("warehouse_sensor")
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing_zone": LandingZone(root=str(root))},
                                 repository_def=defs.get_repository_def()) as context:
        return sensor.evaluate_tick(context)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("warehouse")
    victim = land_good_and_damaged(root, GOOD, DAMAGED)
    with dg.instance_for_test() as instance:
        register(instance, [GOOD, DAMAGED])
        for key in (GOOD, DAMAGED):
            # the book with its checks, then the spreads of that committed book in a run of their
            # own (so that a blocking check cannot hold back the spreads this test queries; a later
            # re-run of the book would drop spreads built from the old one)
            for assets, selection in (([book.replay_partition, *CHECKS], None),
                                      ([book.replay_partition, fidelity.spreads], [fidelity.spreads])):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    dg.materialize(assets, partition_key=partition_key(key), instance=instance, selection=selection,
                                   resources=resources_for(root), raise_on_error=False)
        first = _tick(instance, root)
        again = _tick(instance, root, first.cursor)
        yield root, victim, first, again


def _query(root, sql):
    with duckdb.connect(str(warehouse.db_path(root)), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_sensor_builds_the_database_once_per_run(built):
    root, _, first, again = built
    assert first.run_requests == [] and json.loads(first.cursor).keys() <= {"PIPELINE_SUCCESS", "PIPELINE_FAILURE"}
    assert again.skip_message == "no run finished since the last tick" and again.cursor == first.cursor
    assert _query(root, "SELECT table_name FROM information_schema.tables ORDER BY 1") == [
        ("book",), ("check_results",), ("events",), ("reference_book",), ("reports",), ("spreads",)]


def test_mean_spread_per_stream_and_day(built):
    root = built[0]
    rows = _query(root, MEAN_SPREAD)
    assert rows == [("AAPL-L10", dt.date(2012, 6, 21), 999, 0.237497, 4.0558),
                    ("AAPL-L10", dt.date(2012, 6, 22), 998, 0.237134, 4.0496)]
    # the same from the stored Parquet partitions, read with Polars
    for (_, day, n, spread, _bp) in rows:
        table = pl.read_parquet(root / "warehouse" / "spreads" / "AAPL-L10" / f"{day}.parquet").filter("book_valid")
        assert (table.height, round(table["spread_1"].mean(), 6)) == (n, spread)


def test_days_whose_reference_match_failed(built):
    root, victim = built[0], built[1]
    # the first book row without the dropped add (0-based 13) is the first that differs; its
    # message is now the file's line 14
    assert victim == 13
    assert _query(root, REFERENCE_FAILED) == [
        ("AAPL-L10", dt.date(2012, 6, 22), 0.9994238476953908, victim,
         "row 14: add bid 18 @ 585.36 (order 16167159) at 2012-06-22T13:30:00.205573445Z")]
    assert _query(root, "SELECT trading_day, check_name, status, n FROM check_results ORDER BY ALL") == [
        (dt.date(2012, 6, 21), "feed_integrity", "passed", None),
        (dt.date(2012, 6, 21), "reference_match", "passed", None),
        (dt.date(2012, 6, 22), "feed_integrity", "passed", None),
        (dt.date(2012, 6, 22), "reference_match", "failed", None),
    ]


def test_a_failed_run_records_its_checks_as_skipped(small_landing_zone):
    """A truncated raw file fails the replay: the run's planned check never ran, and says so."""
    root = small_landing_zone
    raw = root / "raw" / "lobster" / "2012-06-21" / CUT.format(kind="message")
    raw.write_bytes(raw.read_bytes()[:2000])
    with dg.instance_for_test() as instance:
        register(instance, [GOOD])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = dg.materialize([book.replay_partition, book_checks.reference_match], partition_key=partition_key(GOOD),
                                    instance=instance, resources=resources_for(root), raise_on_error=False)
        assert not result.success
        tick = _tick(instance, root)
    assert json.loads(tick.cursor).keys() == {"PIPELINE_FAILURE"}
    assert _query(root, "SELECT stream, trading_day, stream_day, check_name, status, passed, run_id FROM check_results") == [
        ("AAPL-L10", dt.date(2012, 6, 21), GOOD, "reference_match", "skipped", None, result.run_id)]
    # nothing but the check results was stored: the database has that one view
    assert _query(root, "SELECT table_name FROM information_schema.tables") == [("check_results",)]
