"""Reconstruction assets: normalized events, the reference book, the reconstructed book.

One multi-asset parses a partition's raw files and replays them once, through the same
:func:`obrecon_pipeline.pipeline.replay_stream` as ``obrecon replay``, and stores three tables:
``events`` (the normalized event table), ``reference_book`` (the venue's own book where the feed has
one, else an empty table in the book schema) and ``book``. The run's ``report.json`` is written
beside the warehouse and attached to the ``book`` materialization.

The three depend on ``raw_files`` (:mod:`assets.landing`), so each materialization records the
content hash of the raw files it was built from; a re-landed file shows the partition stale. A
partition whose stream did not land that day yields no output (its downstream steps and checks
are skipped), so a backfill over a date range does what landed and nothing else.
"""


import time

import dagster as dg
import polars as pl

from assets.landing import raw_files
from assets.partitions import STREAM_DAYS, stream_day_id, stream_for_key
from assets.progress import StepProgress
from obrecon_pipeline.book_schema import book_schema
from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.pipeline import reference_frame, replay_stream
from resources import LandingZone

#: bump when the reconstruction's output changes for the same input (Dagster marks the stored
#: partitions stale: "code version changed")
CODE_VERSION = "1"


class BookConfig(dg.Config):
    levels: int = 10  #: levels per side in the reconstructed book
    use_reference: bool = True  #: take levels the feed cannot show from the reference book


def _out(description: str) -> dg.AssetOut:
    return dg.AssetOut(description=description, group_name="reconstruction", is_required=False,
                       code_version=CODE_VERSION)


@dg.multi_asset(
    outs={
        "events": _out("Normalized events (obrecon_pipeline.events)"),
        "reference_book": _out("The venue's own book, where the feed has one"),
        "book": _out("Reconstructed top-N book after every event"),
    },
    deps=[raw_files],
    partitions_def=STREAM_DAYS,
    compute_kind="cython",
)
def replay_partition(context: dg.AssetExecutionContext, config: BookConfig, landing_zone: LandingZone):
    stream_day = stream_day_id(context.partition_key, landing_zone.raw)
    stream = stream_for_key(landing_zone.raw, stream_day) if stream_day else None
    if stream is None:
        context.log.info(f"{context.partition_key}: nothing landed in {landing_zone.raw} for this stream and day; skipped")
        return
    # until the chunked replay reports per chunk, progress is logged after parsing and after replay
    progress, t0 = StepProgress(context.log.info), time.perf_counter()
    try:
        loaded = get_feed(stream.source).load(stream)
        progress(0, loaded.events.height, time.perf_counter() - t0)
        run = replay_stream(stream.source, loaded, config.levels, use_reference=config.use_reference)
        progress(loaded.events.height, loaded.events.height, time.perf_counter() - t0)
    except ObreconError as exc:
        raise dg.Failure(description=str(exc)) from None
    report = run.report
    landing_zone.write_report(stream_day, report)
    reference = reference_frame(loaded)
    if reference is None:
        reference = pl.DataFrame(schema=book_schema(config.levels))
    yield dg.Output(loaded.events, "events", metadata={"rows": loaded.events.height, "quarantined": report["quarantined"]})
    yield dg.Output(reference, "reference_book", metadata={"rows": reference.height, "has_reference": loaded.reference is not None})
    match = report["reference"]
    yield dg.Output(
        run.result.book,
        "book",
        metadata={
            "stream_day": stream_day,
            "rows": report["rows"],
            "events_per_s": dg.MetadataValue.float(float(report["events_per_s"])),
            "reseeds": report["reseeds"],
            "unknown_cells": report["unknown_cells"],
            "crossed_rows": report["crossed_rows"],
            "match_rate": dg.MetadataValue.float(match["match_rate"]) if match else dg.MetadataValue.text("no reference"),
            "report": dg.MetadataValue.json(report),
            "report_path": dg.MetadataValue.path(str(landing_zone.report_path(stream_day))),
        },
    )
