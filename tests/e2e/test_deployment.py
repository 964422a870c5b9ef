"""The deployment end to end (issue 12's "Done when"): the landing-zone sensor registers the landed
stream-days and runs them; a backfill over a date range of one stream is launched through GraphQL;
every materialization and every check's status is read back through GraphQL (the damaged day's
blocking ``reference_match`` fails its run and keeps its fidelity assets from being computed); the runs are rows of
the PostgreSQL run storage; and every step ran in a Celery worker's pool process, not in the
daemon or a run worker."""

from __future__ import annotations

import json

from tests.e2e.conftest import DAMAGED_DAY, LANDED, finished
from tests.e2e.services import descendants, wait_for

ASSETS = ["events", "reference_book", "book", "report", "spreads", "order_flow_imbalance", "returns", "microstructure",
          "market_impact", "impact_regression", "fidelity_report"]
CHECKS = {"book": ["feed_integrity", "no_crossed_book", "reference_match", "quarantine_rate"],
          "fidelity_report": ["spread_correlation", "depth_correlation", "l1_spread_error_bp", "ks_returns",
                              "garch_match", "hill_match", "ljung_box_match", "volatility_clustering", "tail_index",
                              "garch_persistence", "vwap_prediction"]}
#: 999 messages are too few for these statistics: not judged (skipped), on every copy
NOT_JUDGED = {"ks_returns", "garch_match", "hill_match", "ljung_box_match", "volatility_clustering", "tail_index",
              "garch_persistence"}
#: one deleted add message: the book no longer matches LOBSTER's; the check is blocking (issue 13),
#: so the run fails and nothing downstream of book is computed for that day
DAMAGED_FAILS = {"reference_match"}
DOWNSTREAM = ASSETS[4:]  # after the replay multi-asset (events, reference_book, book, report)
LANDED_KEYS = [f"{s}-L10|{d}" for s, days in LANDED.items() for d in days]

PARTITION_KEYS = """{ assetNodeOrError(assetKey: {path: ["book"]}) { ... on AssetNode {
  partitionKeysByDimension { name partitionKeys } } } }"""
BACKFILL = """mutation($keys: [String!]!, $assets: [AssetKeyInput!]!) { launchPartitionBackfill(backfillParams:
  {partitionNames: $keys, assetSelection: $assets}) { __typename ... on LaunchBackfillSuccess { backfillId }
  ... on PythonError { message } } }"""
BACKFILL_STATUS = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill {
  status runs { runId status } } } }"""
MATERIALIZATIONS = """query($path: [String!]!, $keys: [String!]!) { assetOrError(assetKey: {path: $path}) {
  ... on Asset { assetMaterializations(partitions: $keys) { partition runId } } } }"""
CHECK = """query($path: [String!]!, $name: String!, $partition: String!) { assetCheckExecutions(assetKey: {path: $path},
  checkName: $name, partition: $partition, limit: 1) { status runId evaluation { severity
  metadataEntries { label ... on FloatMetadataEntry { floatValue } ... on IntMetadataEntry { intValue } } } } }"""


def test_sensor_then_backfill_on_celery_with_postgres(deployment):
    d = deployment
    sensor = d.sensor_runs
    assert sorted(next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition") for r in sensor) == sorted(LANDED_KEYS)
    damaged = f"AAPL-L10|{DAMAGED_DAY}"
    status_of = {next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition"): r["status"] for r in sensor}
    assert status_of == {k: "FAILURE" if k == damaged else "SUCCESS" for k in LANDED_KEYS}
    dims = {d_["name"]: d_["partitionKeys"] for d_ in
            d.graphql(PARTITION_KEYS)["assetNodeOrError"]["partitionKeysByDimension"]}
    assert dims == {"stream": ["AAPL-L10", "MSFT-L10"],
                    "trading_day": ["2012-06-25", "2012-06-26", "2012-06-27"]}

    # a backfill over a date range of one stream, through GraphQL
    start, end = "2012-06-25", DAMAGED_DAY
    keys = [f"AAPL-L10|{day}" for day in dims["trading_day"] if start <= day <= end]
    launched = d.graphql(BACKFILL, {"keys": keys, "assets": [{"path": [a]} for a in ASSETS]})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    def backfill_done():
        b = d.graphql(BACKFILL_STATUS, {"id": launched["backfillId"]})["partitionBackfillOrError"]
        return b if b["status"] not in ("REQUESTED", "CANCELING", "FAILING") and finished(b["runs"]) else None

    backfill = wait_for("the backfill", backfill_done, 900, every_s=2)
    assert backfill["status"] == "COMPLETED_FAILED"  # the damaged day's run failed on its blocking check
    backfill_runs = {r["runId"] for r in backfill["runs"]}
    assert len(backfill_runs) == len(keys) and sorted(r["status"] for r in backfill["runs"]) == ["FAILURE"] + ["SUCCESS"] * (len(keys) - 1)

    # every asset of every landed stream-day is materialized, but nothing downstream of the damaged
    # day's book; the backfill's days by the backfill
    for asset in ASSETS:
        found = d.graphql(MATERIALIZATIONS, {"path": [asset], "keys": LANDED_KEYS})["assetOrError"]["assetMaterializations"]
        expected_keys = set(LANDED_KEYS) - ({damaged} if asset in DOWNSTREAM else set())
        assert {m["partition"] for m in found} == expected_keys, asset
        latest = {}
        for m in found:  # newest first
            latest.setdefault(m["partition"], m["runId"])
        assert {latest[k] for k in keys if k in expected_keys} <= backfill_runs, asset

    # every check's status on every landed stream-day
    statuses = {}
    for asset, names in CHECKS.items():
        for name in names:
            for key in LANDED_KEYS:
                (execution,) = d.graphql(CHECK, {"path": [asset], "name": name, "partition": key})["assetCheckExecutions"]
                statuses[(name, key)] = execution["status"]
                if (name, key) == ("reference_match", f"AAPL-L10|{DAMAGED_DAY}"):
                    metadata = {e["label"]: e.get("floatValue", e.get("intValue")) for e in execution["evaluation"]["metadataEntries"]}
                    assert execution["evaluation"]["severity"] == "ERROR"
                    assert metadata["threshold"] == 1.0 and metadata["match_rate"] < 1.0
                    assert metadata["first_mismatch_row"] >= d.victim - 1
    expected = {(name, key): "SKIPPED" if name in NOT_JUDGED else "SUCCEEDED" for (name, key) in statuses}
    # planned in the damaged day's run, never executed (blocked), the run failed
    expected.update({(n, damaged): "EXECUTION_FAILED" for n in CHECKS["fidelity_report"]})
    expected.update({(n, damaged): "FAILED" for n in DAMAGED_FAILS})
    assert statuses == expected

    # the runs live in PostgreSQL
    all_runs = d.graphql("""{ runsOrError { ... on Runs { results { runId status } } } }""")["runsOrError"]["results"]
    in_pg = dict(d.postgres.query("select run_id, status from runs"))
    assert in_pg == {r["runId"]: r["status"] for r in all_runs}
    assert set(in_pg) >= backfill_runs | {r["runId"] for r in sensor}

    # every step of every run started in a pool process of one of the two Celery workers
    pool = {name: descendants(proc.pid) for name, proc in d.workers.items()}
    rows = d.postgres.query("select run_id, event from event_logs where dagster_event_type = 'STEP_START'")
    step_pids = {}
    for run_id, event in rows:
        step_pids.setdefault(run_id, set()).add(json.loads(event)["dagster_event"]["pid"])
    assert set(step_pids) == set(in_pg)
    used = {name: {p for pids in step_pids.values() for p in pids} & pids for name, pids in pool.items()}
    assert set().union(*step_pids.values()) == set().union(*used.values())
    assert all(used.values()), used  # both workers took steps
    for name in d.workers:
        assert d.procs.log(name).count("succeeded in") >= 1
    assert "Task execute_plan[" not in d.procs.log("daemon")
