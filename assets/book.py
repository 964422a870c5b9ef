"""Reconstruction assets: normalized events, the reference book, the reconstructed book, the report.

One multi-asset replays a partition's raw files through the same chunked
:func:`obrecon_pipeline.pipeline.run_stream` as ``obrecon replay``: the feed is parsed chunk by
chunk, the stateful replayer applies each chunk, and every block of rows becomes a Parquet row group
of ``events`` (the normalized event table), ``reference_book`` (the venue's own book where the feed
has one, else an empty table) and ``book``, written straight into the partition's staging directory
and moved into the run's set (:mod:`resources.warehouse`): no table of the day is ever held in
memory whole, and a replay killed mid-day resumes from its last checkpoint. ``report`` is the run's
``report.json``, an asset of its own that the integrity checks read.

Progress (events done, events/s, ETA) is logged every few seconds (:class:`assets.progress.StepProgress`).

The outputs depend on ``raw_files`` (:mod:`assets.landing`), so each materialization records the
content hash of the raw files it was built from; a re-landed file shows the partition stale. A
partition whose stream did not land that day yields no output (its downstream steps and checks
are skipped), so a backfill over a date range does what landed and nothing else.
"""

import dagster as dg

from assets.landing import raw_files
from assets.partitions import STREAM_DAYS, stream_day_id, stream_for_key
from assets.progress import StepProgress
from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.pipeline import OutputPaths, RunOptions, run_stream
from resources import LandingZone

#: bump when the reconstruction's output changes for the same input (Dagster marks the stored
#: partitions stale: "code version changed")
CODE_VERSION = "2"


class BookConfig(dg.Config):
    levels: int = 10  #: levels per side in the reconstructed book
    use_reference: bool = True  #: take levels the feed cannot show from the reference book
    chunk_events: int = RunOptions.chunk_events  #: events replayed per chunk (bounds memory)
    checkpoint_every: int = RunOptions.checkpoint_every  #: events between checkpoints (0: none)


def _out(description: str) -> dg.AssetOut:
    return dg.AssetOut(description=description, group_name="reconstruction", is_required=False,
                       code_version=CODE_VERSION)


def run_alive(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether run ``run_id`` may still be writing (not finished in the instance)."""
    run = instance.get_run_by_id(run_id)
    return run is not None and not run.is_finished


@dg.multi_asset(
    outs={
        "events": _out("Normalized events (obrecon_pipeline.events)"),
        "reference_book": _out("The venue's own book, where the feed has one"),
        "book": _out("Reconstructed top-N book after every event"),
        "report": _out("The run's report.json: counters of the parser, the replayer and the reference match"),
    },
    deps=[raw_files],
    partitions_def=STREAM_DAYS,
    compute_kind="cython",
)
def replay_partition(context: dg.AssetExecutionContext, config: BookConfig, landing_zone: LandingZone):
    raw = landing_zone.landed(context.partition_key)
    stream_day = stream_day_id(context.partition_key, raw)
    stream = stream_for_key(raw, stream_day) if stream_day else None
    if stream is None:
        context.log.info(f"{context.partition_key}: nothing landed in {raw} for this stream and day; skipped")
        return
    store = landing_zone.store(context.partition_key)
    store.recover(lambda run_id: run_id == context.run_id or run_alive(context.instance, run_id))
    options = RunOptions(levels=config.levels, use_reference=config.use_reference,
                         chunk_events=config.chunk_events, checkpoint_every=config.checkpoint_every)
    with store.replay_staging() as staging:  # another run replaying this partition: wait for it
        paths = OutputPaths(staging / "book.parquet", staging / "events.parquet", staging / "reference_book.parquet")
        try:
            report = run_stream(stream.source, stream, paths, options, progress=StepProgress(context.log.info))
        except ObreconError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        report["files"] = [landing_zone.landed_name(f) for f in report["files"]]
        match = report["reference"]
        yield dg.Output(paths.events, "events", metadata={"quarantined": report["quarantined"]})
        yield dg.Output(paths.reference, "reference_book", metadata={"has_reference": match is not None})
        yield dg.Output(
            paths.book,
            "book",
            metadata={
                "stream_day": stream_day,
                "events_per_s": dg.MetadataValue.float(float(report["events_per_s"])),
                "end_to_end_s": dg.MetadataValue.float(float(report["end_to_end_s"])),
                "reseeds": report["reseeds"],
                "unknown_cells": report["unknown_cells"],
                "crossed_rows": report["crossed_rows"],
                "match_rate": dg.MetadataValue.float(match["match_rate"]) if match else dg.MetadataValue.text("no reference"),
                "resumed_from_event": report.get("resumed_from_event", 0),
            },
        )
        yield dg.Output(report, "report", metadata={"report_path": dg.MetadataValue.path(str(landing_zone.report_path(stream_day)))})
