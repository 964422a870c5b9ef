"""The DuckDB warehouse, kept current after every run (:mod:`obrecon_pipeline.warehouse` is the core).

``warehouse_sensor`` (every 30 s, on by default) follows the event log's run-finished records
(success and failure, a cursor over each): for every run that finished since its last tick it
writes the run's asset-check results into the partition's ``check_results`` table
(:func:`check_results`: one row per evaluated check, and a ``skipped`` row for a check that was
planned but not judged) and then rebuilds ``<root>/warehouse/obrecon.duckdb``. A restarted sensor
continues from its cursor; a first start goes through the instance's history, 100 runs a tick.
``obrecon-materialize`` does the same for its own runs when it finishes.

``python -m assets.warehouse`` rebuilds the database from the shell (``OBRECON_DATA_DIR``,
``DAGSTER_HOME``), recording the check results of every run the instance holds.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import dagster as dg
import polars as pl

from assets.partitions import DAY_DIM, STREAM_DAYS, STREAM_DIM, stream_day_id
from obrecon_pipeline import warehouse
from resources import LandingZone

#: run-finished event types the sensor follows
FINISHED = (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE)
PARTITION_TAG = "dagster/partition"
RUNS_PER_TICK = 100


def _plain(value):
    """A metadata value as JSON (floats that are not finite as strings)."""
    value = getattr(value, "value", value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check_results(instance: dg.DagsterInstance, run_id: str) -> dict[str, pl.DataFrame]:
    """Partition key (``GOOG-L10|2012-06-21``) -> the run's check results in
    :data:`~obrecon_pipeline.warehouse.CHECK_RESULT_SCHEMA` (``stream_day`` still the partition
    key; :func:`record_run` puts the stream-day id in)."""
    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.ASSET_CHECK_EVALUATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED},
    ).records
    run = instance.get_run_by_id(run_id)
    run_partition = run.tags.get(PARTITION_TAG) if run else None
    rows: dict[tuple, dict] = {}
    for record in records:
        entry = record.event_log_entry
        data = entry.dagster_event.event_specific_data
        key = (data.asset_key.to_user_string(), data.check_name)
        if entry.dagster_event.event_type is dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
            if run_partition:
                rows.setdefault(key, {"stream_day": run_partition, "asset": key[0], "check_name": key[1],
                                      "status": "skipped", "run_id": run_id})
            continue
        metadata = {k: _plain(v) for k, v in data.metadata.items()}
        n = metadata.get("n")
        rows[key] = {
            "stream_day": data.partition or run_partition,
            "asset": key[0],
            "check_name": key[1],
            "status": "passed" if data.passed else "failed",
            "passed": data.passed,
            "severity": data.severity.value,
            "value": _float(metadata.get("value")),
            "threshold": None if metadata.get("threshold") is None else str(metadata["threshold"]),
            "n": int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) else None,
            "description": data.description,
            "metadata": json.dumps(metadata, default=str, sort_keys=True),
            "run_id": run_id,
            "evaluated_at": dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc),
        }
    by_partition: dict[str, list[dict]] = {}
    for row in rows.values():
        if row["stream_day"]:
            by_partition.setdefault(row["stream_day"], []).append(row)
    return {p: pl.DataFrame(r, schema=warehouse.CHECK_RESULT_SCHEMA) for p, r in by_partition.items()}


def record_run(instance: dg.DagsterInstance, run_id: str, root: Path) -> list[Path]:
    """Write the run's check results into each of its partitions' ``check_results`` table."""
    written = []
    for key, frame in check_results(instance, run_id).items():
        dims = STREAM_DAYS.get_partition_key_from_str(key).keys_by_dimension
        stream_day = stream_day_id(key, root / "raw") or key
        frame = frame.with_columns(pl.lit(stream_day).alias("stream_day"))
        written.append(warehouse.write_check_results(root, dims[STREAM_DIM], dims[DAY_DIM], frame))
    return written


def _root(landing_zone: LandingZone) -> Path:
    return landing_zone.local_root  # raises for an object-store root


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def warehouse_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZone):
    """After every finished run: its check results into ``check_results``, then the DuckDB views."""
    try:
        root = _root(landing_zone)
    except ValueError as exc:
        return dg.SkipReason(f"no DuckDB warehouse: {exc}")
    cursors = json.loads(context.cursor) if context.cursor else {}
    runs: list[str] = []
    for event_type in FINISHED:
        result = context.instance.fetch_run_status_changes(
            event_type, limit=RUNS_PER_TICK, cursor=cursors.get(event_type.value), ascending=True)
        runs += [r.event_log_entry.run_id for r in result.records]
        if result.records:
            cursors[event_type.value] = result.cursor
    if not runs:
        return dg.SkipReason("no run finished since the last tick")
    partitions = sum(len(record_run(context.instance, run_id, root)) for run_id in runs)
    views = warehouse.build(root)
    context.log.info(f"{len(runs)} finished runs, check results of {partitions} partitions recorded; "
                     f"{warehouse.db_path(root)}: {len(views)} views ({', '.join(views)})")
    return dg.SensorResult(cursor=json.dumps(cursors, sort_keys=True))


def rebuild(instance: dg.DagsterInstance, root: Path, run_ids: list[str] | None = None) -> dict[str, str]:
    """Record the check results of ``run_ids`` (default: every run of the instance, oldest first)
    and rebuild the database; its views."""
    if run_ids is None:
        run_ids = [r.run_id for r in reversed(instance.get_runs())]
    for run_id in run_ids:
        record_run(instance, run_id, root)
    return warehouse.build(root)


def main() -> None:
    import os

    from resources import data_root, work_dir

    root = work_dir(data_root())
    os.environ.setdefault("DAGSTER_HOME", str(root / ".dagster"))
    views = rebuild(dg.DagsterInstance.get(), root)
    print(f"{warehouse.db_path(root)}: {len(views)} views ({', '.join(views)})")


if __name__ == "__main__":
    main()
