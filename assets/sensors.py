"""The landing-zone sensor: new raw files become partitions and get materialized.

Every evaluation lists the streams in ``<root>/raw/<source>/<day>/``; keys not yet registered are
added to the ``stream_days`` partitions and a run of the reconstruction job is requested for each.
It starts stopped: switching it on in the UI (Automation) queues a run for every stream-day not yet
registered: every shipped stream-day on a new instance.
"""


import dagster as dg

from assets.partitions import STREAM_DAYS, discover_streams
from resources import LandingZone


def landing_zone_sensor_for(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
    def landing_zone_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZone):
        known = set(context.instance.get_dynamic_partitions(STREAM_DAYS.name))
        new = [s.partition_key for s in discover_streams(landing_zone.raw) if s.partition_key not in known]
        if not new:
            return dg.SkipReason(f"no new streams in {landing_zone.raw}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=key, run_key=key) for key in new],
            dynamic_partitions_requests=[STREAM_DAYS.build_add_request(new)],
        )

    return landing_zone_sensor
