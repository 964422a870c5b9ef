"""Data versions end to end in-process: a materialized partition is fresh; a re-landed raw file,
once observed, makes it stale with ``raw_files`` named as the cause; re-materializing makes it fresh.
Fidelity statistics with too few observations are recorded as skipped (not judged), not failed."""

from __future__ import annotations

import gzip

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver

from assets.definitions import ASSETS, CHECKS, STREAM_DAY_ASSETS
from assets.landing import observations
from assets.partitions import partition_key, register
from resources import LandingZone, resources_for

KEY = "lobster/AAPL-L10/2012-06-21"
NOT_JUDGED = {"ks_returns", "garch_match", "hill_match", "ljung_box_match", "volatility_clustering", "tail_index",
              "garch_persistence"}


def _observe(instance, root) -> None:
    catalog = LandingZone(root=str(root)).catalog()
    catalog.refresh()
    for event in observations(catalog.versions()):
        instance.report_runless_asset_event(event)


def _materialize(instance, root):
    return dg.materialize([*ASSETS, *CHECKS], partition_key=partition_key(KEY), instance=instance,
                          resources=resources_for(root), selection=STREAM_DAY_ASSETS - dg.AssetSelection.assets("raw_files"))


def _status(instance, asset: str):
    resolver = get_stale_status_resolver(instance, ASSETS)
    key = dg.AssetKey(asset)
    return resolver.get_status(key, partition_key(KEY)), resolver.get_stale_root_causes(key, partition_key(KEY))


def test_changed_raw_file_makes_the_partition_stale_until_rematerialized(small_landing_zone):
    with dg.instance_for_test() as instance:
        register(instance, [KEY])
        _observe(instance, small_landing_zone)
        assert _materialize(instance, small_landing_zone).success
        assert _status(instance, "book") == (StaleStatus.FRESH, [])
        assert _status(instance, "spreads")[0] == StaleStatus.FRESH

        msg = small_landing_zone / "raw" / "lobster" / "2012-06-21" / "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"
        msg.write_bytes(gzip.compress(gzip.decompress(msg.read_bytes()), compresslevel=1, mtime=0))
        _observe(instance, small_landing_zone)
        status, causes = _status(instance, "book")
        assert status == StaleStatus.STALE
        assert [(c.key.asset_key.to_user_string(), c.reason) for c in causes] == [("raw_files", "has a new data version")]

        assert _materialize(instance, small_landing_zone).success
        assert _status(instance, "book") == (StaleStatus.FRESH, [])


def test_too_few_observations_is_skipped_not_failed(small_landing_zone):
    with dg.instance_for_test() as instance:
        register(instance, [KEY])
        result = _materialize(instance, small_landing_zone)
        assert result.success
        evaluated = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert evaluated == {"feed_integrity": True, "no_crossed_book": True, "reference_match": True, "quarantine_rate": True,
                             "spread_correlation": True, "depth_correlation": True, "l1_spread_error_bp": True,
                             "vwap_prediction": True}
        logs = [e.user_message for e in instance.all_logs(result.run_id) if not e.is_dagster_event]
        assert "hill_match: too few observations: n = 39 < 200 required: not judged (no verdict on noise); skipped" in logs
        # planned, no evaluation, run succeeded: what Dagster resolves to SKIPPED (the UI's
        # "Skipped"; read back through GraphQL in tests/e2e)
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        for name in NOT_JUDGED:
            (record,) = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(dg.AssetKey("fidelity_report"), name), limit=1)
            assert (record.status, record.run_id, record.event.dagster_event.event_type_value) == (
                AssetCheckExecutionRecordStatus.PLANNED, result.run_id, "ASSET_CHECK_EVALUATION_PLANNED"), name
