"""One stream end to end: parse, replay, compare with the reference, write, report.

:func:`run_stream` is the path of any size that ``obrecon replay`` and the Dagster assets both take:
the feed's :class:`~obrecon_pipeline.streams.StreamSource` yields the day in chunks (parsed in a
thread of its own, one chunk ahead), the stateful :class:`~obrecon_pipeline.replay.Replayer`
applies each chunk and compares its rows with the venue's reference rows as it writes them, and
each block of rows becomes a Parquet row group (:mod:`obrecon_pipeline.outputs`). Memory is set by
the chunk size, not by the day. Every ``checkpoint_every`` events the replayer's state, the
source's position and the writers' positions are saved beside the output; a run killed at any
moment and started again with the same inputs and options resumes from the last checkpoint and
writes the same tables, cell for cell, as a run that was never stopped.

:func:`replay_stream` replays a stream held whole in memory (small files, tests, notebooks).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import polars as pl

from obrecon_pipeline.errors import ObreconError, ReplayError
from obrecon_pipeline.events import scales
from obrecon_pipeline.feeds import Feed, get_feed
from obrecon_pipeline.integrity.reference import Match
from obrecon_pipeline.integrity.snapshots import compare_all, compare_written
from obrecon_pipeline.integrity.tickers import compare_tickers_in, compare_tickers_written
from obrecon_pipeline.outputs import OutputPaths, StreamOutputs
from obrecon_pipeline.replay import Replayer, ReplayResult, replay
from obrecon_pipeline.replay.table import to_frame
from obrecon_pipeline.report import build_report
from obrecon_pipeline.storage import checkpoint
from obrecon_pipeline.streams import EventChunk, LoadedStream, Stream, StreamSource, WholeStreamSource

#: ``progress(events_done, events_expected_or_None, elapsed_s)``
Progress = Callable[[int, "int | None", float], None]


@dataclass(frozen=True)
class RunOptions:
    """How :func:`run_stream` replays a stream."""

    levels: int = 10  #: levels per side in the book
    #: take the levels a bounded feed cannot show from the reference book (LOBSTER re-seeding)
    use_reference: bool = True
    #: measure the match against the reference book (read chunk by chunk; False: the reference is
    #: not read beyond the seed row)
    compare: bool = True
    chunk_events: int = 1 << 16  #: events per chunk (a venue message is never split); 65,536 cost less CPU and half the RSS of 262,144 on a 10 M-event LOBSTER day
    checkpoint_every: int = 4_000_000  #: events between checkpoints (0: none)
    compression: str = "lz4"  #: Parquet compression of the written tables


@dataclass
class StreamRun:
    loaded: LoadedStream
    result: ReplayResult
    match: Match | None
    report: dict


def open_source(feed: Feed, stream: Stream, reference: bool) -> StreamSource:
    """The feed's chunked source, or its whole-day loader behind the same interface."""
    if feed.open is not None:
        return feed.open(stream, reference)
    return WholeStreamSource(feed.load(stream), reference)


def _identity(fmt: str, stream: Stream, options: RunOptions, paths: OutputPaths) -> str:
    """What a checkpoint is valid for: the inputs as they are on disk, the options, the outputs."""
    files = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in stream.files]
    text = json.dumps([fmt, stream.partition_key, stream.symbol, files, asdict(options),
                       [str(p) for p in asdict(paths).values()]], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def checkpoint_path(book: Path) -> Path:
    """Where the checkpoint of a run writing ``book`` lives (beside it)."""
    return book.with_name(f".{book.name}.checkpoint")


def _prefetched(source: StreamSource, max_events: int) -> Iterator[tuple[EventChunk, dict]]:
    """The source's chunks, each with the source state right after it, parsed one chunk ahead in
    a thread (the readers release the GIL while they parse and inflate)."""
    box: queue.Queue = queue.Queue(maxsize=1)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for chunk in source.chunks(max_events):
                item = (chunk, source.state())
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(exc)

    worker = threading.Thread(target=produce, name="obrecon-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


@dataclass
class _Progress:
    report: Progress | None
    every_s: float = 2.0
    start: float = field(default_factory=time.perf_counter)
    last: float = 0.0

    def __call__(self, done: int, expected: int | None, final: bool = False) -> None:
        now = time.perf_counter()
        if self.report is not None and (final or now - self.last >= self.every_s):
            self.last = now
            self.report(done, expected, now - self.start)


def run_stream(fmt: str, stream: Stream, paths: OutputPaths, options: RunOptions = RunOptions(),
               progress: Progress | None = None) -> dict:
    """Replay ``stream`` into the tables of ``paths``; its report (see :mod:`obrecon_pipeline.report`).

    The tables appear at their paths only when the whole stream has been replayed (a failed run
    leaves the previous files); bad input raises :class:`~obrecon_pipeline.errors.InputError` and
    leaves nothing behind. An interrupted run leaves its temporary files and its checkpoint (when it
    had reached one), which the next run with the same inputs, options and paths resumes from.
    """
    if options.levels < 1:
        raise ObreconError("--levels must be at least 1")
    feed = get_feed(fmt)
    with_reference = options.use_reference or options.compare
    source = open_source(feed, stream, with_reference)
    missing = getattr(source, "reference_missing", None)
    if options.use_reference and missing is not None:
        raise missing  # re-seeding needs the reference; --no-reference / ignore replay without it
    ckpt = checkpoint_path(paths.book)
    identity = _identity(fmt, stream, options, paths)
    saved = checkpoint.load(ckpt) if options.checkpoint_every else None
    replayer = None
    if saved is not None and saved[0].get("identity") == identity and "replayer" in saved[1]:
        try:
            replayer = Replayer.from_state(saved[1]["replayer"])
        except ReplayError:  # a state another version of the replayer wrote: of no use, start over
            saved = None
    t0 = time.perf_counter()
    if saved is not None and saved[0].get("identity") == identity:
        header, blobs = saved
        source.resume(header["source"])
        outputs = StreamOutputs(paths, options.levels, source.reference_depth, compression=options.compression,
                                resume=header["outputs"])
        done, scale, resumed_at = header["events"], tuple(header["scale"]), header["events"]
    else:
        ckpt.unlink(missing_ok=True)  # a checkpoint of other inputs or options is of no use
        replayer = None
        outputs = StreamOutputs(paths, options.levels, source.reference_depth, compression=options.compression)
        done, scale, resumed_at = 0, (0, 0), None
    expected = getattr(source, "expected_events", None)
    tick = _Progress(progress)
    core_s = 0.0
    since_checkpoint = 0
    try:
        for chunk, position in _prefetched(source, options.chunk_events):
            if chunk.events.height == 0:
                continue
            chunk_scale = scales(chunk.events)
            if replayer is None:
                replayer = Replayer(options.levels, source.options,
                                    reference_depth=source.reference_depth if with_reference else 0,
                                    reseed=options.use_reference, price_scale=chunk_scale[0],
                                    size_scale=chunk_scale[1])
                if source.seed is not None:
                    replayer.seed(source.seed)
                scale = chunk_scale
            elif chunk_scale != scale:
                if chunk_scale[0] % scale[0] or chunk_scale[1] % scale[1]:
                    raise ObreconError(f"{stream.partition_key}: the scale fell from {scale} to {chunk_scale}")
                replayer.rescale(chunk_scale[0] // scale[0], chunk_scale[1] // scale[1])
                scale = chunk_scale
            c0 = time.perf_counter()
            block = replayer.apply(chunk.events, chunk.reference if with_reference else None)
            core_s += time.perf_counter() - c0
            outputs.write(chunk, block, *scale)
            done += chunk.events.height
            since_checkpoint += chunk.events.height
            tick(done, expected)
            if options.checkpoint_every and since_checkpoint >= options.checkpoint_every:
                since_checkpoint = 0
                checkpoint.save(ckpt, {"identity": identity, "source": position, "outputs": outputs.state(),
                                       "events": done, "scale": list(scale)},
                                {"replayer": replayer.state()})
        if replayer is None:  # a stream without a single event: an empty book
            replayer = Replayer(options.levels, source.options)
        counters = replayer.counters()
        counters["replay_wall_s"] = core_s
        counters["events_per_s"] = done / core_s if core_s > 0 else 0.0
        report = build_report(fmt, stream, source.stats(), source.quarantine().height, counters,
                              replayer.integrity_failures(), options.levels)
        written = outputs.commit()
        snapshots = feed.reference_snapshots
        if snapshots is not None and len(stream.files) > 1:
            report["snapshot_reference"] = compare_written(written["book"], *scale, snapshots(stream))
        if feed.reference_tickers is not None and done:
            report["ticker_reference"] = compare_tickers_written(written["book"], *scale, feed.reference_tickers(stream))
        report["end_to_end_s"] = time.perf_counter() - t0
        if resumed_at is not None:
            report["resumed_from_event"] = resumed_at
    except ObreconError:  # bad input: nothing to resume, nothing left behind
        outputs.abort()
        ckpt.unlink(missing_ok=True)
        raise
    except BaseException:  # interrupted: keep what the last checkpoint needs to resume
        if not ckpt.exists():
            outputs.abort()
        raise
    tick(done, expected, final=True)
    ckpt.unlink(missing_ok=True)
    return report


def replay_stream(fmt: str, loaded: LoadedStream, levels: int, use_reference: bool = True) -> StreamRun:
    """Replay a stream held whole in memory; ``use_reference=False`` never copies a cell from the
    reference (levels the feed cannot show are written as null) but still measures the match."""
    result = replay(
        loaded.events,
        levels,
        loaded.options,
        reference=loaded.reference,
        reseed=use_reference,
        seed=loaded.seed,
    )
    quarantined = 0 if loaded.quarantine is None else loaded.quarantine.height
    report = build_report(fmt, loaded.stream, loaded.stats, quarantined, result.counters, result.integrity, levels)
    reference = result.counters["reference"]
    match = None if reference is None else Match(**{k: v for k, v in reference.items() if k != "match_rate"})
    feed = get_feed(fmt)
    if feed.reference_snapshots is not None and len(loaded.stream.files) > 1:
        price_scale, size_scale = scales(loaded.events)
        report["snapshot_reference"] = compare_all(
            result.book["ts_event"].to_numpy(), result.cells, price_scale, size_scale,
            feed.reference_snapshots(loaded.stream))
    if feed.reference_tickers is not None and loaded.events.height:
        report["ticker_reference"] = compare_tickers_in(result.cells, *scales(loaded.events),
                                                        feed.reference_tickers(loaded.stream))
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
