"""The code location loads, and a LOBSTER partition materializes with its checks through Dagster."""

from __future__ import annotations

import shutil

import dagster as dg
import polars as pl
import pytest

from assets import book, book_checks
from assets.partitions import discover_streams, partition_key, register
from assets.definitions import defs
from resources import resources_for

KEY = "lobster/AAPL-L10/2012-06-21"


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)  # what `dagster dev` and the daemon do: names must not clash
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"events", "reference_book", "book"} <= keys
    assert defs.resolve_job_def("reconstruct") is not None
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(sensors) == {"landing_zone_sensor", "cross_venue_sensor", "alert_sensor", "warehouse_sensor"}
    # what launches runs or sends mail starts stopped; the warehouse sensor only records finished runs
    assert {n: s.default_status for n, s in sensors.items()} == {
        "landing_zone_sensor": dg.DefaultSensorStatus.STOPPED, "cross_venue_sensor": dg.DefaultSensorStatus.STOPPED,
        "alert_sensor": dg.DefaultSensorStatus.STOPPED,
        "warehouse_sensor": dg.DefaultSensorStatus.RUNNING}
    # the breaker's way past a failed blocking check: everything downstream of book, not book
    forced = {k.to_user_string() for k in defs.resolve_job_def("force_downstream").asset_layer.selected_asset_keys}
    assert forced == keys - {"raw_files", "events", "reference_book", "book", "report", "cross_venue"}
    assert {k.name for k in repo.asset_graph.asset_check_keys if repo.asset_graph.get(k).blocking} == {
        "no_crossed_book", "reference_match", "feed_integrity", "quarantine_rate"}
    assert [s.name for s in repo.schedule_defs] == ["daily_schedule"]
    assert repo.asset_graph.get(dg.AssetKey("raw_files")).is_observable
    # every materializable asset carries a code version (data versions and staleness need it)
    assert {k.to_user_string(): repo.asset_graph.get(k).code_version is not None
            for k in repo.asset_graph.materializable_asset_keys} == dict.fromkeys(keys - {"raw_files"}, True)


def test_partitions_are_the_streams_that_exist(lobster_day, tmp_path):
    shutil.copytree(lobster_day, tmp_path / "lobster" / lobster_day.name)  # not the live landing zone
    keys = [s.partition_key for s in discover_streams(tmp_path)]
    assert keys == [
        "lobster/AAPL-L1/2012-06-21", "lobster/AAPL-L10/2012-06-21", "lobster/GOOG-L1/2012-06-21",
        "lobster/GOOG-L10/2012-06-21", "lobster/GOOG-L5/2012-06-21",
    ]


def _materialize(root, instance):
    return dg.materialize(
        [book.replay_partition, book_checks.no_crossed_book, book_checks.reference_match],
        partition_key=partition_key(KEY),
        instance=instance,
        resources=resources_for(root),
        raise_on_error=False,
    )


def test_materialize_partition_runs_checks_and_writes_atomically(small_landing_zone):
    instance = dg.DagsterInstance.ephemeral()
    register(instance, [KEY])
    result = _materialize(small_landing_zone, instance)
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["no_crossed_book"].passed
    match = checks["reference_match"]
    assert match.passed
    assert match.metadata["cells_compared"].value == match.metadata["cells_matched"].value == 999 * 40
    stored = small_landing_zone / "warehouse" / "book" / "AAPL-L10" / "2012-06-21.parquet"
    assert pl.read_parquet(stored).height == 999
    assert (small_landing_zone / "reports" / KEY / "report.json").is_file()

    # a failed re-materialization (the raw file is now corrupt) leaves the stored book as it was
    before = stored.read_bytes()
    raw = small_landing_zone / "raw" / "lobster" / "2012-06-21" / "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"
    raw.write_bytes(raw.read_bytes()[:2000])
    failed = _materialize(small_landing_zone, instance)
    assert not failed.success
    failure = next(e for e in failed.all_events if e.is_step_failure)
    assert "truncated gzip stream" in failure.event_specific_data.error.message
    assert stored.read_bytes() == before


def test_reference_match_check_fails_and_points_at_the_damage(small_landing_zone):
    """Drop one message from the raw file: the replay drifts and the check names the first bad row."""
    import gzip

    raw = small_landing_zone / "raw" / "lobster" / "2012-06-21"
    msg = raw / "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"
    ob = raw / "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv.gz"
    lines = gzip.decompress(msg.read_bytes()).split(b"\n")
    books = gzip.decompress(ob.read_bytes()).split(b"\n")
    victim = next(i for i in range(10, len(lines)) if lines[i].split(b",")[1] == b"1")  # an add
    msg.write_bytes(gzip.compress(b"\n".join(lines[:victim] + lines[victim + 1:])))
    ob.write_bytes(gzip.compress(b"\n".join(books[:victim] + books[victim + 1:])))

    instance = dg.DagsterInstance.ephemeral()
    register(instance, [KEY])
    result = _materialize(small_landing_zone, instance)
    # the check is blocking (assets.breaker): its failure fails the run
    assert [e.event_specific_data.error.cls_name for e in result.all_events if e.is_step_failure] == [
        "DagsterAssetCheckFailedError"]
    match = next(e for e in result.get_asset_check_evaluations() if e.check_name == "reference_match")
    assert not match.passed
    md = match.metadata
    assert md["match_rate"].value < 1.0
    assert md["first_mismatch_row"].value >= victim - 1
    assert md["first_mismatch_message"].value.startswith(f"row {md['first_mismatch_row'].value + 1}:")
    assert "reconstructed" in md["first_mismatch_level"].value
