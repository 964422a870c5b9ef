"""Automation: the landing-zone sensor and the daily schedule (both start stopped).

``landing_zone_sensor`` (every 60 s, needs the daemon) refreshes the catalog of the landing zone
(:mod:`obrecon_pipeline.catalog`, ``full=False``: a rolling walk that ``stat``-s the day folders, the
recent files and 10,000 more per tick; a read only of what is new or changed) and takes from it the
stream-days in ``<root>/raw/<source>/<day>/`` and their raw data versions (:mod:`assets.landing`).
A stream-day that is new, or whose files changed, is observed (``raw_files`` gets the new version),
registered as a partition (stream and day, kept in order) and gets a run of the reconstruction job. The cursor
holds the versions it has seen; a new cursor starts from the versions the instance has recorded
(``assets.materialize`` records them too), so switching the sensor on after a shell run does not
redo the shell's work.

``daily_schedule`` (06:00 UTC) materializes what landed for the previous UTC day: every stream in
any ``<source>/<previous day>/`` folder.
"""

import datetime as dt
import json

import dagster as dg

from assets.landing import observations, observed_versions
from assets.partitions import partition_key, register
from resources import LandingZone
from resources.deployment import AUTOMATION_TAG


def _run_request(stream_day: str, version: str, trigger: str) -> dg.RunRequest:
    return dg.RunRequest(partition_key=partition_key(stream_day), run_key=f"{stream_day}@{version[:16]}",
                         tags={AUTOMATION_TAG: trigger})


def landing_zone_sensor_for(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
    def landing_zone_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZone):
        catalog = landing_zone.catalog()
        refreshed = catalog.refresh(full=False)
        if refreshed:
            context.log.info(f"catalog: {len(refreshed.new)} new, {len(refreshed.changed)} changed, "
                             f"{len(refreshed.removed)} removed files; {len(catalog.read)} read")
        versions = catalog.versions()
        seen = json.loads(context.cursor) if context.cursor else observed_versions(context.instance)
        changed = {sd: v for sd, v in versions.items() if seen.get(sd) != v}
        if not changed:
            return dg.SensorResult(skip_reason=f"nothing new or changed in {landing_zone.raw}",
                                   cursor=json.dumps(versions, sort_keys=True))
        for sd in changed:
            context.log.info(f"{sd}: {'changed' if sd in seen else 'new'} (raw data version {changed[sd][:12]})")
        register(context.instance, list(changed))
        return dg.SensorResult(
            run_requests=[_run_request(sd, v, "landing_zone_sensor") for sd, v in changed.items()],
            asset_events=observations(changed),
            cursor=json.dumps(versions, sort_keys=True),
        )

    return landing_zone_sensor


def daily_schedule_for(job) -> dg.ScheduleDefinition:
    @dg.schedule(job=job, cron_schedule="0 6 * * *", execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.STOPPED)
    def daily_schedule(context: dg.ScheduleEvaluationContext, landing_zone: LandingZone):
        day = (context.scheduled_execution_time.astimezone(dt.timezone.utc) - dt.timedelta(days=1)).date().isoformat()
        catalog = landing_zone.catalog()
        catalog.refresh(day=day)
        versions = catalog.versions(day=day)
        if not versions:
            return dg.SkipReason(f"nothing landed for {day} in {landing_zone.raw}")
        register(context.instance, list(versions))
        for event in observations(versions):
            context.instance.report_runless_asset_event(event)
        return [_run_request(sd, v, "daily_schedule") for sd, v in versions.items()]

    return daily_schedule
