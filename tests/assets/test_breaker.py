"""The circuit breaker (issue 13): the AAPL level-10 LOBSTER cut landed as AAPL-L10 on a good day and,
with one add message (and its orderbook row) deleted, on a damaged day; both days launched
together on one instance (one Dagster run per partition, as a backfill does). The damaged day's
blocking ``reference_match`` fails and its fidelity and feature assets are not materialized; the
good day's are. Forcing the damaged day materializes them and each says so in its metadata."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.breaker import BLOCKING_CHECKS, FORCED, force_downstream_job
from assets.partitions import partition_key, register
from tests.assets.conftest import DAMAGED_DAY as DAMAGED
from tests.assets.conftest import GOOD_DAY as GOOD
from tests.assets.conftest import land_good_and_damaged, materialize_all

DOWNSTREAM = ["spreads", "order_flow_imbalance", "returns", "microstructure", "market_impact", "impact_regression",
              "fidelity_report", "features"]


def _materialized(instance, asset: str, key: str) -> bool:
    return bool(instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[str(partition_key(key))]), limit=1).records)


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    root = tmp_path_factory.mktemp("breaker")
    victim = land_good_and_damaged(root)
    instance = dg.DagsterInstance.ephemeral()
    register(instance, [GOOD, DAMAGED])
    return root, instance, victim, {key: materialize_all(root, instance, key) for key in (DAMAGED, GOOD)}


def test_damaged_day_is_blocked_and_the_good_day_flows(launched):
    _, instance, victim, results = launched
    damaged, good = results[DAMAGED], results[GOOD]
    assert good.success and not damaged.success
    checks = {e.check_name: e for e in damaged.get_asset_check_evaluations()}
    assert {n for n, e in checks.items() if not e.passed} == {"reference_match"}
    match = checks["reference_match"]
    assert (match.severity, match.blocking) == (dg.AssetCheckSeverity.ERROR, True)
    md = {k: v.value for k, v in match.metadata.items()}
    assert md["value"] == md["match_rate"] < md["threshold"] == 1.0
    # the deleted add was message 13 (0-based); the book parts from LOBSTER's at that row, level 7
    assert (victim, md["first_mismatch_row"]) == (13, 13)
    assert md["first_bad_row"] == ("book row 13 (bid_price_7) after raw row 14: add bid 18 @ 585.36 (order 16167159) "
                                   "at 2012-06-26T13:30:00.205573445Z")
    # the evaluation and the run's log say which check blocked what
    assert md["blocked_assets"] == sorted(DOWNSTREAM)
    failure = next(e for e in damaged.all_events if e.is_step_failure)
    assert "1 blocking asset check failed with ERROR severity:\nbook: reference_match" in failure.event_specific_data.error.message
    logs = [e.user_message for e in instance.all_logs(damaged.run_id) if not e.is_dagster_event]
    assert any(m.startswith("reference_match failed on AAPL-L10|2012-06-26") and m.endswith(", ".join(sorted(DOWNSTREAM)))
               for m in logs)
    # every blocking check ran on both days; only the damaged day's reference match failed
    assert {e.check_name for e in good.get_asset_check_evaluations()} >= set(BLOCKING_CHECKS)
    assert all(e.passed for e in good.get_asset_check_evaluations() if e.check_name in BLOCKING_CHECKS)
    for asset in ("events", "reference_book", "book"):
        assert _materialized(instance, asset, DAMAGED) and _materialized(instance, asset, GOOD)
    for asset in DOWNSTREAM:
        assert not _materialized(instance, asset, DAMAGED), asset
        assert _materialized(instance, asset, GOOD), asset
    # no fidelity check was evaluated on the damaged day
    assert all(e.asset_key == dg.AssetKey("book") for e in damaged.get_asset_check_evaluations())


def test_forcing_the_damaged_day_materializes_downstream_and_says_so(launched):
    root, instance, _, results = launched
    forced = materialize_all(root, instance, DAMAGED, force_downstream_job.selection)
    again_good = materialize_all(root, instance, GOOD, force_downstream_job.selection)
    assert forced.success
    done = {e.materialization.asset_key.to_user_string(): e.materialization
            for e in forced.get_asset_materialization_events()}
    assert sorted(done) == sorted(DOWNSTREAM)
    expected = [{"check": "reference_match", "run_id": results[DAMAGED].run_id}]
    for asset, m in done.items():
        assert m.metadata[FORCED].value == expected, asset
    # the book's checks did not run again; the good day forced the same way carries no such key
    assert all(e.asset_key != dg.AssetKey("book") for e in forced.get_asset_check_evaluations())
    assert all(FORCED not in e.materialization.metadata for e in again_good.get_asset_materialization_events())
