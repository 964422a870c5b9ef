"""The circuit breaker: integrity checks that stop a broken partition from flowing downstream.

The integrity checks on ``book`` named in :data:`BLOCKING_CHECKS` are declared ``blocking=True``
and fail with severity ERROR (:func:`breaker_result`): reference match below its threshold, a
crossed book in continuous trading, a sequence gap without a resync or a failed venue checksum,
and a quarantine rate above its threshold. When one fails, Dagster fails that check's step
("blocking asset check failed with ERROR severity: book: reference_match") and skips, in the same
run, every step downstream of ``book`` for that partition: the fidelity tables, ``fidelity_report``
and its checks, ``features``. The failed evaluation says which assets it held back
(``blocked_assets``) and the check logs it at ERROR level, so the run's log shows which check
blocked what. The statistical (fidelity) checks stay WARN and non-blocking.

A run holds exactly one partition (a partitioned check's evaluation belongs to the run's
partition), so a backfill of a broken and a good day is two runs: the broken one fails with its
downstream steps skipped, the good one materializes everything.

Forcing: the ``force_downstream`` job (:data:`force_downstream_job`) materializes the assets
downstream of ``book`` from the stored ``book``, ``events`` and ``reference_book`` without running
``book``'s checks. Every downstream asset looks up, for its partition, the latest evaluation of each
blocking check (:func:`forced_metadata`); if any failed, its materialization carries
``forced_despite_failed_checks`` (the failed checks with the run that evaluated them) and the step
logs a warning. Selecting those assets by hand in the UI does the same.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from assets import cross_venue
from assets.partitions import STREAM_DAYS
from resources.warehouse import WarehouseIOManager

BOOK = dg.AssetKey("book")
#: the blocking integrity checks, all on ``book`` (:mod:`assets.book_checks`, :mod:`assets.feed_integrity`)
BLOCKING_CHECKS = ("no_crossed_book", "reference_match", "feed_integrity", "quarantine_rate")
#: what every blocking check puts in its metadata, the keys an alert reads (:mod:`assets.alerts`)
VALUE, THRESHOLD, FIRST_BAD_ROW, BLOCKED = "value", "threshold", "first_bad_row", "blocked_assets"
FORCED = "forced_despite_failed_checks"

force_downstream_job = dg.define_asset_job(
    "force_downstream",
    # the per-day cross-venue comparison is partitioned by day alone: it has its own job
    selection=dg.AssetSelection.assets(BOOK).downstream(include_self=False) - dg.AssetSelection.groups(cross_venue.GROUP),
    description="Materialize the assets downstream of book from the stored book, past failed blocking "
    "checks (the results carry forced_despite_failed_checks)",
)


def blocking_check(description: str, *inputs: str):
    """The decorator of a check in :data:`BLOCKING_CHECKS`: on ``book``, per stream-day, blocking,
    reading the partition's ``report`` asset and the assets named in ``inputs``."""
    return dg.asset_check(asset="book", partitions_def=STREAM_DAYS, blocking=True, description=description,
                          additional_ins={name: dg.AssetIn(name) for name in ("report", *inputs)})


def held_back(context: dg.AssetCheckExecutionContext) -> list[str]:
    """The assets of this run downstream of ``book``: what a failed blocking check skips."""
    layer = context.job_def.asset_layer
    downstream = dg.AssetSelection.assets(BOOK).downstream(include_self=False).resolve(layer.asset_graph)
    return sorted(k.to_user_string() for k in downstream & set(layer.selected_asset_keys))


def breaker_result(
    context: dg.AssetCheckExecutionContext,
    io_manager: WarehouseIOManager,
    name: str,
    passed: bool,
    metadata: dict,
    value,
    threshold,
    first_bad_row: str | None,
) -> dg.AssetCheckResult:
    """A blocking check's result: severity ERROR, the uniform ``value``, ``threshold`` and
    ``first_bad_row`` beside the check's own metadata, and on failure the assets it holds back
    (what the run made so far is committed as the partition's set: the rest will not come)."""
    metadata = {**metadata, VALUE: value, THRESHOLD: threshold}
    if first_bad_row is not None:
        metadata[FIRST_BAD_ROW] = first_bad_row
    if not passed:
        blocked = held_back(context)
        metadata[BLOCKED] = dg.MetadataValue.json(blocked)
        context.log.error(
            f"{name} failed on {context.partition_key} (value {value}, threshold {threshold}): "
            f"blocks {', '.join(blocked) or 'nothing downstream in this run'}"
        )
        io_manager.commit_stored(context)
    return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


def failed_blocking_checks(instance: dg.DagsterInstance, partition: str) -> list[dict]:
    """The blocking checks whose latest evaluation on ``partition`` failed, with the run."""
    keys = [dg.AssetCheckKey(BOOK, name) for name in BLOCKING_CHECKS]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        keys, partition_filter=PartitionKeyFilter(key=partition)
    )
    return [
        {"check": key.name, "run_id": record.run_id}
        for key, record in sorted(latest.items(), key=lambda kv: BLOCKING_CHECKS.index(kv[0].name))
        if record.status == AssetCheckExecutionRecordStatus.FAILED
        and record.event.dagster_event.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR
    ]


def forced_metadata(context: dg.AssetExecutionContext) -> dict:
    """``{forced_despite_failed_checks: [...]}`` when a blocking check of this partition's book
    failed (the asset was forced past the breaker), else nothing."""
    failed = failed_blocking_checks(context.instance, str(context.partition_key))
    if not failed:
        return {}
    context.log.warning(
        f"forced past failed blocking checks on {context.partition_key}: {', '.join(f['check'] for f in failed)}"
    )
    return {FORCED: dg.MetadataValue.json(failed)}
