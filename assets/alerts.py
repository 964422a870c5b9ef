"""The alert sensor: one alert per failed ERROR asset-check evaluation, to every configured sink.

``alert_sensor`` (every 30 s, needs the daemon; starts stopped: switch it on in the UI under
Automation, or ``dagster sensor start alert_sensor``) walks the event log's asset-check evaluations
in storage order from its cursor. Each evaluation that failed with severity ERROR becomes one alert
(:func:`alert_for`): the partition, the check, value vs threshold, the first bad row and a link to
the run in the UI; a failed *blocking* check also names the assets it held back for that partition
(``kind = partition_blocked``), so one alert says both that the check failed and what it blocked.
Passing evaluations and WARN failures send nothing. Sinks are :class:`resources.alerts.AlertSinks`.

The cursor (stored by Dagster with the sensor, so it survives a restart of the daemon) holds the
storage id of the last evaluation read (the cross-run event index: one sequence on PostgreSQL and
on SQLite alike) and, per sink, the alerts not yet delivered. An alert is
queued once for every configured sink when its evaluation is read, and leaves a sink's queue only
when that sink accepted it: a restart never sends an alert twice, and a sink that is down is
retried on every tick, in order, while the others carry on. A failed delivery is logged at
WARNING with the error; the sensor never raises for it. After ``max_attempts`` failed attempts an
alert is dropped from that sink's queue and logged at ERROR. A fresh cursor starts at the beginning of the
event log (every failed ERROR evaluation already stored is alerted once).
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg

from assets.breaker import BLOCKED, FIRST_BAD_ROW, THRESHOLD, VALUE
from assets.partitions import DAY_DIM, STREAM_DIM
from resources.alerts import AlertSinks

#: evaluations read per tick (the rest on the next tick)
BATCH = 500


def _plain(value):
    """A metadata value as JSON: its ``.value`` (floats, ints, text, JSON lists)."""
    value = getattr(value, "value", value)
    return value if isinstance(value, (str, int, float, bool, list, dict)) or value is None else str(value)


def alert_for(storage_id: int, entry: dg.EventLogEntry, sinks: AlertSinks) -> dict | None:
    """The alert for one ``ASSET_CHECK_EVALUATION`` event; None unless it failed with ERROR."""
    evaluation = entry.dagster_event.asset_check_evaluation_data
    if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
        return None
    md = {k: _plain(v) for k, v in evaluation.metadata.items()}
    # a stream-day key is "<stream>|<trading_day>" (assets.partitions: dimensions in name order)
    parts = (evaluation.partition or "").split("|")
    dims = dict(zip((STREAM_DIM, DAY_DIM), parts)) if len(parts) == 2 else {}
    blocked = (md.get(BLOCKED) or []) if evaluation.blocking else []
    return {
        "id": storage_id,
        "kind": "partition_blocked" if blocked else "check_failed",
        "asset": evaluation.asset_key.to_user_string(),
        "check": evaluation.check_name,
        "partition": evaluation.partition,
        "stream": dims.get(STREAM_DIM),
        "trading_day": dims.get(DAY_DIM),
        "severity": evaluation.severity.value,
        "value": md.get(VALUE),
        "threshold": md.get(THRESHOLD),
        "first_bad_row": md.get(FIRST_BAD_ROW),
        "blocked_assets": blocked,
        "run_id": entry.run_id,
        "run_url": sinks.run_url(entry.run_id),
        "evaluated_at": dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc).isoformat(),
    }


def _deliver(context, sinks: AlertSinks, name: str, queue: list[dict]) -> list[dict]:
    """Send ``queue`` (in order) through sink ``name``; what is still pending. A failure stops the
    sink for this tick (the rest wait behind it), unless it was the alert's last attempt (dropped)."""
    for i, item in enumerate(queue):
        alert = item["alert"]
        try:
            sinks.send(name, alert)
        except Exception as exc:  # any failure of a sink is logged and retried, never raised
            item["attempts"] += 1
            if item["attempts"] < sinks.max_attempts:
                context.log.warning(f"alert {alert['id']} via {name}: attempt {item['attempts']} failed, will retry: {exc!r}")
                return queue[i:]
            context.log.error(f"alert {alert['id']} via {name}: dropped after {item['attempts']} attempts: {exc!r}")
            continue
        context.log.info(f"alert {alert['id']} via {name}: sent ({alert['check']} on {alert['partition']})")
    return []


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED,
           description="One alert per failed ERROR asset check (webhook, e-mail); see assets.alerts")
def alert_sensor(context: dg.SensorEvaluationContext, alert_sinks: AlertSinks):
    state = json.loads(context.cursor) if context.cursor else {"after": -1, "pending": {}}
    # check evaluations are mirrored into the cross-run index (SQLite too), ids in storage order
    records = context.instance.event_log_storage.get_logs_for_all_runs_by_log_id(
        after_cursor=state["after"], dagster_event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=BATCH)
    alerts = [a for a in (alert_for(i, e, alert_sinks) for i, e in sorted(records.items())) if a is not None]
    if records:
        state["after"] = max(records)
    names = alert_sinks.names()
    if alerts and not names:
        context.log.warning(f"{len(alerts)} alert(s) and no sink configured (resources.alerts): not sent")
    pending = {name: state["pending"].get(name, []) + [{"alert": a, "attempts": 0} for a in alerts] for name in names}
    state["pending"] = {name: _deliver(context, alert_sinks, name, queue) for name, queue in pending.items()}
    waiting = {name: len(q) for name, q in state["pending"].items() if q}
    summary = (f"{len(records)} evaluation(s) read, {len(alerts)} new alert(s); "
               + (f"pending: {waiting}" if waiting else "nothing pending"))
    return dg.SensorResult(skip_reason=summary, cursor=json.dumps(state, sort_keys=True))
