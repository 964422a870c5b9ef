"""``raw_files``: the landing zone as an observable source asset, one data version per partition.

The data version of a stream-day is the content hash of its raw files
(the catalog of the landing zone, :meth:`resources.LandingZone.catalog`). Observing it (the landing-zone sensor on every tick,
or "Observe sources" in the UI) records that version; the assets built from it record the version
they read, so a changed file shows its partition stale ("upstream data has changed") until it is
re-materialized.
"""

import dagster as dg

from assets.partitions import STREAM_DAYS, partition_key
from resources import LandingZone

#: Dagster's tag for an observation's data version (what an observe function's DataVersion becomes)
DATA_VERSION_TAG = "dagster/data_version"


def observations(versions: dict[str, str]) -> list[dg.AssetObservation]:
    """One ``raw_files`` observation per stream-day id, carrying its data version."""
    return [
        dg.AssetObservation(asset_key="raw_files", partition=partition_key(stream_day),
                            tags={DATA_VERSION_TAG: version}, metadata={"stream_day": stream_day})
        for stream_day, version in versions.items()
    ]


@dg.observable_source_asset(
    partitions_def=STREAM_DAYS,
    group_name="reconstruction",
    description="The raw files of each stream-day as landed in <root>/raw/<source>/<day>/; data version = content hash",
)
def raw_files(context, landing_zone: LandingZone) -> dg.DataVersionsByPartition:
    registered = set(STREAM_DAYS.get_partition_keys(dynamic_partitions_store=context.instance))
    catalog = landing_zone.catalog()
    catalog.refresh()
    versions = catalog.versions()
    return dg.DataVersionsByPartition(
        {str(partition_key(s)): v for s, v in versions.items() if partition_key(s) in registered}
    )


def observed_versions(instance: dg.DagsterInstance) -> dict[str, str]:
    """Stream-day id -> the latest data version recorded for its ``raw_files`` partition."""
    latest: dict[str, str] = {}
    cursor = None
    while True:
        page = instance.fetch_observations(dg.AssetKey("raw_files"), limit=1000, cursor=cursor, ascending=True)
        for record in page.records:
            observation = record.asset_observation
            version, stream_day = observation.tags.get(DATA_VERSION_TAG), observation.metadata.get("stream_day")
            if version and stream_day:
                latest[stream_day.value] = version
        if not page.has_more:
            return latest
        cursor = page.cursor
