"""One stream end to end: parse, replay, compare with the reference, report.

The CLI and the Dagster assets both call :func:`replay_stream`, so a book built from the shell is
the book the pipeline builds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from obrecon_pipeline.events import scales
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.integrity.reference import Match, match_reference
from obrecon_pipeline.integrity.snapshots import compare_all
from obrecon_pipeline.replay import ReplayResult, replay
from obrecon_pipeline.replay.table import to_frame
from obrecon_pipeline.report import build_report
from obrecon_pipeline.streams import LoadedStream


@dataclass
class StreamRun:
    loaded: LoadedStream
    result: ReplayResult
    match: Match | None
    report: dict


def replay_stream(fmt: str, loaded: LoadedStream, levels: int, use_reference: bool = True) -> StreamRun:
    """Replay a loaded stream; ``use_reference=False`` never copies a cell from the reference
    (levels the feed cannot show are written as null) but still measures the match against it."""
    result = replay(
        loaded.events,
        levels,
        loaded.options,
        reference=loaded.reference,
        reseed=use_reference,
        seed=loaded.seed,
    )
    match = None
    if loaded.reference is not None:
        match = match_reference(result.cells, result.row_event, loaded.reference)
    report = build_report(fmt, loaded, result, levels, match)
    snapshots = get_feed(fmt).reference_snapshots
    if snapshots is not None and len(loaded.stream.files) > 1:
        price_scale, size_scale = scales(loaded.events)
        report["snapshot_reference"] = compare_all(
            result.book["ts_event"].to_numpy(), result.cells, price_scale, size_scale, snapshots(loaded.stream))
    return StreamRun(loaded, result, match, report)


def reference_frame(loaded: LoadedStream) -> pl.DataFrame | None:
    """The stream's reference book in the public book schema (None when the feed has none)."""
    if loaded.reference is None:
        return None
    events = loaded.events
    price_scale, size_scale = scales(events)
    return to_frame(
        events["ts_event"].to_numpy(),
        events["arrival"].to_numpy(),
        events["update_id"],
        np.ones(events.height, dtype=bool),
        loaded.reference,
        price_scale,
        size_scale,
    )
