"""The deployment with its data root in a bucket (``OBRECON_DATA_DIR=s3://…`` on a real S3 API server
on 127.0.0.1): the two Celery workers and the daemon each work in a working copy of their own and
share nothing but the bucket and the instance, yet the sensor's runs commit every landed
stream-day there whole, steps of one run on both workers."""

from __future__ import annotations

import json

import fsspec
import polars as pl

from tests.e2e.conftest import DAMAGED_DAY
from tests.e2e.services import descendants
from tests.e2e.test_deployment import LANDED_KEYS

#: what a run of the sensor commits for a good day (the blocking check of a damaged day holds back
#: everything built on its book)
REPLAY = {"events.parquet", "reference_book.parquet", "book.parquet", "report.json"}
DOWNSTREAM = {f"{t}.parquet" for t in ("spreads", "order_flow_imbalance", "returns", "microstructure",
                                        "market_impact", "impact_regression", "fidelity_report", "features")}


def test_sensor_runs_on_two_celery_workers_commit_each_day_whole_in_the_bucket(bucket_deployment):
    d = bucket_deployment
    damaged = f"AAPL-L10|{DAMAGED_DAY}"
    status_of = {next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition"): r["status"] for r in d.sensor_runs}
    assert status_of == {k: "FAILURE" if k == damaged else "SUCCESS" for k in LANDED_KEYS}
    run_of = {next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition"): r["runId"] for r in d.sensor_runs}

    fs, key = fsspec.core.url_to_fs(d.root)
    fs.invalidate_cache()
    for partition in LANDED_KEYS:
        stream, day = partition.split("|")
        pointer = json.loads(fs.cat_file(f"{key}/warehouse/current/{stream}/{day}.json"))
        manifest = json.loads(fs.cat_file(f"{key}/warehouse/runs/{stream}/{day}/{pointer['run_id']}/MANIFEST.json"))
        assert pointer["run_id"] == run_of[partition]
        expected = REPLAY if partition == damaged else REPLAY | DOWNSTREAM
        messages = 998 if partition == damaged else 999  # the damaged copy lost one message
        assert set(manifest["tables"]) == expected, partition
        assert {e["run_id"] for e in manifest["tables"].values()} == {run_of[partition]}
        with fs.open(f"{key}/warehouse/book/{stream}/{day}.parquet", "rb") as fh:
            assert pl.read_parquet(fh).height == messages  # one row after every message
        report = json.loads(fs.cat_file(f"{key}/reports/lobster/{stream}/{day}/report.json"))
        assert report["events"] == messages and all(f.startswith(f"{d.root}/raw/lobster/{day}/") for f in report["files"])

    # every step ran in a Celery worker's pool, and some run had steps on both workers: what one
    # wrote the other read from the bucket (their working copies are separate directories)
    pool = {name: descendants(proc.pid) for name, proc in d.workers.items()}
    rows = d.postgres.query("select run_id, event from event_logs where dagster_event_type = 'STEP_START'")
    workers_of: dict[str, set[str]] = {}
    for run_id, event in rows:
        pid = json.loads(event)["dagster_event"]["pid"]
        (name,) = [n for n, pids in pool.items() if pid in pids]
        workers_of.setdefault(run_id, set()).add(name)
    assert set(workers_of) == set(run_of.values())
    assert any(len(names) == 2 for names in workers_of.values()), workers_of
    work = {name: sorted(p.name for p in (d.home.parent / "work" / name / "warehouse" / "runs").rglob("*.parquet"))
            for name in d.workers}
    assert all(work.values()), work
