"""Automation: the landing-zone sensor, the cross-venue sensor and the daily schedule (all start stopped).

``landing_zone_sensor`` (every 60 s, needs the daemon) refreshes the catalog of the landing zone
(:mod:`obrecon_pipeline.catalog`, ``full=False``: a rolling walk that ``stat``-s the day folders, the
recent files and 10,000 more per tick; a read only of what is new or changed) and takes from it the
stream-days in ``<root>/raw/<source>/<day>/`` and their raw data versions (:mod:`assets.landing`).
A stream-day that is new, or whose files changed, is observed (``raw_files`` gets the new version),
registered as a partition (stream and day, kept in order) and gets a run of the reconstruction job. The cursor
holds the versions it has seen; a new cursor starts from the versions the instance has recorded
(``assets.materialize`` records them too), so switching the sensor on after a shell run does not
redo the shell's work.

``cross_venue_sensor`` (every 60 s) runs ``compare_venues`` for a trading day once a book of a
stream named in a configured venue pair (:class:`resources.cross_venue.CrossVenuePairs`) has been
materialized for that day: one run per day and tick however many of its books were rebuilt, keyed
by the newest book materialization it saw, so a day whose book is rebuilt later is compared again.
The cursor is the storage id of the last ``book`` materialization read.

``daily_schedule`` (06:00 UTC) materializes what landed for the previous UTC day: every stream in
any ``<source>/<previous day>/`` folder.
"""

import datetime as dt
import json

import dagster as dg

from assets.landing import observations, observed_versions
from assets.partitions import DAY_DIM, STREAM_DAYS, STREAM_DIM, partition_key, register
from resources import LandingZone
from resources.cross_venue import CrossVenuePairs
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


#: book materializations read per page (a tick reads pages until none is left)
_PAGE = 1000


def cross_venue_sensor_for(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
    def cross_venue_sensor(context: dg.SensorEvaluationContext, cross_venue_pairs: CrossVenuePairs):
        """A ``compare_venues`` run for each trading day that got a new book of a paired stream."""
        paired = {name for pair in cross_venue_pairs.stream_pairs() for name in pair}
        after = int(context.cursor or 0)
        newest: dict[str, int] = {}  # day -> storage id of its newest paired book
        while True:
            page = context.instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("book"), after_storage_id=after), limit=_PAGE, ascending=True)
            for record in page.records:
                after = max(after, record.storage_id)
                if record.partition_key is None:
                    continue
                key = STREAM_DAYS.get_partition_key_from_str(record.partition_key).keys_by_dimension
                if key[STREAM_DIM] in paired:
                    newest[key[DAY_DIM]] = record.storage_id
            if not page.has_more:
                break
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=day, run_key=f"{day}@{storage_id}",
                                        tags={AUTOMATION_TAG: "cross_venue_sensor"})
                          for day, storage_id in sorted(newest.items())],
            cursor=str(after))

    return cross_venue_sensor
