"""Reconstruction assets: normalized events, the reference book, the reconstructed book.

One multi-asset parses a partition's raw files and replays them once, through the same
:func:`obrecon_pipeline.pipeline.replay_stream` as ``obrecon replay``, and stores three tables:
``events`` (the normalized event table), ``reference_book`` (the venue's own book where the feed has
one, else an empty table in the book schema) and ``book``. The run's ``report.json`` is written
beside the warehouse and attached to the ``book`` materialization.
"""


import dagster as dg
import polars as pl

from assets.partitions import STREAM_DAYS, stream_for_key
from obrecon_pipeline import atomic
from obrecon_pipeline.book_schema import book_schema
from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.pipeline import reference_frame, replay_stream
from resources import LandingZone


class BookConfig(dg.Config):
    levels: int = 10  #: levels per side in the reconstructed book
    use_reference: bool = True  #: take levels the feed cannot show from the reference book


@dg.multi_asset(
    outs={
        "events": dg.AssetOut(description="Normalized events (obrecon_pipeline.events)", group_name="reconstruction"),
        "reference_book": dg.AssetOut(description="The venue's own book, where the feed has one", group_name="reconstruction"),
        "book": dg.AssetOut(description="Reconstructed top-N book after every event", group_name="reconstruction"),
    },
    partitions_def=STREAM_DAYS,
    compute_kind="cython",
)
def replay_partition(context: dg.AssetExecutionContext, config: BookConfig, landing_zone: LandingZone):
    stream = stream_for_key(landing_zone.raw, context.partition_key)
    try:
        loaded = get_feed(stream.source).load(stream)
        run = replay_stream(stream.source, loaded, config.levels, use_reference=config.use_reference)
    except ObreconError as exc:
        raise dg.Failure(description=str(exc)) from None
    report = run.report
    atomic.write_json(report, landing_zone.report_path(context.partition_key))
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
            "rows": report["rows"],
            "events_per_s": dg.MetadataValue.float(float(report["events_per_s"])),
            "reseeds": report["reseeds"],
            "unknown_cells": report["unknown_cells"],
            "crossed_rows": report["crossed_rows"],
            "match_rate": dg.MetadataValue.float(match["match_rate"]) if match else dg.MetadataValue.text("no reference"),
            "report": dg.MetadataValue.json(report),
            "report_path": dg.MetadataValue.path(str(landing_zone.report_path(context.partition_key))),
        },
    )
