"""``--format databento``: Databento market-by-order (MBO) files, ``.dbn`` or ``.dbn.zst``.

Record -> normalized event (https://databento.com/docs/schemas-and-data-formats/mbo):

======== ================ ==================================================================
action   event            book effect (in the replayer's order map)
======== ================ ==================================================================
``A``    ``ADD``          new order (order_id, side, price, size)
``C``    ``CANCEL``       ``size`` is the quantity cancelled ("fully or partially cancels an
                          order"); the order map removes the order when nothing is left
``M``    ``MODIFY``       the order's new price and size; the level aggregate moves with it (a
                          price change or size increase loses queue priority, which the top-N
                          level aggregates do not show)
``R``    ``CLEAR``        the instrument's whole book (side NONE)
``T``    ``TRADE``        aggressor's trade print (side = aggressor): never applied to the book
``F``    ``FILL``         fill of a resting order (side = resting order): never applied; the
                          order's reduction arrives as its own ``C`` or ``M`` record
``N``    ``HALT``         "no action" record that can still carry flags: no book change
======== ================ ==================================================================

Flags: ``F_LAST`` -> ``END_OF_MESSAGE`` (the book is only examined after it), ``F_SNAPSHOT``
(0x20) -> ``SNAPSHOT``, ``F_MAYBE_BAD_BOOK`` (an unrecoverable gap in the channel) ->
``BAD_BOOK``. ``F_BAD_TS_RECV`` only says ``ts_recv`` is inaccurate (every snapshot record has
it): it is counted, not a book failure. A live record whose ``sequence`` goes backwards is counted
and located (``sequence_regressions``, ``sequence_regression_list``; see
:mod:`obrecon_pipeline.feeds.channel_sequence`) but not flagged: the book stays valid while the
replayer finds its state consistent.

Prices stay in DBN's 1e-9 fixed point (``price_scale = 10**9``), sizes are contracts
(``size_scale = 1``); ``sequence`` -> ``update_id``. Each ``instrument_id`` with records in a file is
its own stream, named by the raw symbol from the file's symbology mappings. When the mappings list
any instrument, a record of an instrument they do not list (a corrupt ``instrument_id``) is no
stream: it is quarantined (file, record number, reason) and counted
(``unlisted_instrument_records``) in every stream of that file.

:class:`DatabentoSource` (``Feed.open``) decodes the files block by block (:class:`~obrecon_pipeline.feeds.dbn.DbnReader`)
and yields chunks that end after an ``F_LAST`` record (a venue event is never split); its state
is the file and record number after the last chunk plus the running counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import databento_dbn
import numpy as np
import polars as pl

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, Side, conform
from obrecon_pipeline.feeds import Feed, held_in, register
from obrecon_pipeline.feeds._columns import constant
from obrecon_pipeline.feeds._dbn import normalize_records
from obrecon_pipeline.feeds.channel_sequence import SequenceTracker
from obrecon_pipeline.feeds.dbn import BLOCK_RECORDS, MBO_DTYPE, DbnReader
from obrecon_pipeline.streams import QUARANTINE_SCHEMA, EventChunk, Held, LoadedStream, ReplayOptions, Stream

SOURCE = "databento"
PRICE_SCALE = databento_dbn.FIXED_PRICE_SCALE  # 1e9 units per 1.0
SIZE_SCALE = 1
SUFFIXES = (".dbn", ".dbn.zst")
UNDEF_TIMESTAMP = np.uint64(databento_dbn.UNDEF_TIMESTAMP)


def _lookup(pairs: dict[bytes, int], dtype: type) -> np.ndarray:
    table = np.zeros(256, dtype=dtype)
    for char, code in pairs.items():
        table[char[0]] = code
    return table


_ACTION = _lookup(
    {
        b"A": Action.ADD,
        b"C": Action.CANCEL,
        b"M": Action.MODIFY,
        b"R": Action.CLEAR,
        b"T": Action.TRADE,
        b"F": Action.FILL,
        b"N": Action.HALT,
    },
    np.int8,
)
_SIDE = _lookup({b"B": Side.BID, b"A": Side.ASK, b"N": Side.NONE}, np.int8)


def _flag_table() -> np.ndarray:
    """Raw DBN flag byte -> :class:`Flag` bits."""
    raw = np.arange(256)
    out = np.where(raw & databento_dbn.F_LAST, int(Flag.END_OF_MESSAGE), 0)
    out |= np.where(raw & databento_dbn.F_SNAPSHOT, int(Flag.SNAPSHOT), 0)
    out |= np.where(raw & databento_dbn.F_MAYBE_BAD_BOOK, int(Flag.BAD_BOOK), 0)
    return out.astype(np.uint8)


_FLAGS = _flag_table()
_OFFSETS = {name: MBO_DTYPE.fields[name][1] for name in
            ("ts_event", "order_id", "price", "size", "flags", "action", "side", "ts_recv", "sequence")}
_COLUMNS = {"ts_event": np.int64, "ts_recv": np.int64, "action": np.int8, "side": np.int8, "price": np.int64,
            "size": np.int64, "order_id": np.uint64, "update_id": np.int64, "flags": np.uint8}


def normalize(records: np.ndarray, src_rows: np.ndarray, first_arrival: int = 0) -> tuple[pl.DataFrame, dict]:
    """One instrument's MBO records (contiguous structured array, file order) -> the normalized
    event table (one Cython pass, :func:`obrecon_pipeline.feeds._dbn.normalize_records`), and the
    records' flag counts (``snapshot_records``, ``bad_ts_recv_records``, ``venue_maybe_bad_book``).

    ``src_rows`` are the records' 1-based positions in their file; ``first_arrival`` the stream
    position of the first record. An ``UNDEF_TIMESTAMP`` becomes null.
    """
    n = records.shape[0]
    cols = {name: np.empty(n, dtype) for name, dtype in _COLUMNS.items()}
    undef_event, undef_recv, *counts = normalize_records(
        np.ascontiguousarray(records).view(np.uint8).reshape(n, MBO_DTYPE.itemsize), _OFFSETS, _ACTION, _SIDE,
        _FLAGS, int(Action.CLEAR), int(Action.HALT), int(UNDEF_TIMESTAMP), databento_dbn.F_SNAPSHOT,
        databento_dbn.F_BAD_TS_RECV, databento_dbn.F_MAYBE_BAD_BOOK, *cols.values())
    frame = {name: pl.Series(name, values) for name, values in cols.items()}
    for name, undefined in (("ts_event", undef_event), ("ts_recv", undef_recv)):
        if undefined:
            frame[name] = frame[name].set(pl.Series(cols[name] == UNDEF_TIMESTAMP.astype(np.int64)), None)
    frame |= {
        "arrival": pl.Series("arrival", np.arange(first_arrival, first_arrival + n, dtype=np.int64)),
        "src_row": pl.Series("src_row", src_rows.astype(np.int64, copy=False)),
        "price_scale": pl.Series("price_scale", constant(PRICE_SCALE, n, np.int64)),
        "size_scale": pl.Series("size_scale", constant(SIZE_SCALE, n, np.int64)),
    }
    return conform(pl.DataFrame(frame)), dict(zip(("snapshot_records", "bad_ts_recv_records", "venue_maybe_bad_book"), counts))


def _is_dbn(path: Path) -> bool:
    return path.is_file() and path.name.endswith(SUFFIXES)


def _instrument_spans(path: Path) -> dict[int, list[int]]:
    """instrument_id -> ``[records, first ts_event, last ts_event]`` over the records of a file
    (one pass over its blocks; times ns since the epoch, the smallest and largest seen)."""
    spans: dict[int, list[int]] = {}
    with DbnReader(path) as reader:
        while (block := reader.read()).shape[0]:
            ids = block["instrument_id"]
            for i in np.unique(ids).tolist():
                ts = block["ts_event"][ids == i]
                span = spans.setdefault(i, [0, int(ts.min()), int(ts.max())])
                span[0] += len(ts)
                span[1], span[2] = min(span[1], int(ts.min())), max(span[2], int(ts.max()))
    return spans


def _instrument_ids(path: Path) -> np.ndarray:
    """The instrument ids with records in a file (one pass over its blocks)."""
    return np.array(sorted(_instrument_spans(path)), dtype=np.uint32)


def _stream_names(listed: dict[int, str], ids: np.ndarray) -> dict[int, str]:
    """instrument_id -> stream name for every instrument that is a stream: those with records,
    and, when the symbology lists any, listed."""
    names = {int(i): listed.get(int(i), str(int(i))) for i in ids if not listed or int(i) in listed}
    taken = list(names.values())
    # one raw symbol can map to two instrument ids over a multi-day file (a roll): keep both apart
    return {i: (name if taken.count(name) == 1 else f"{name}-{i}") for i, name in names.items()}


def _file_streams(path: Path) -> tuple[str | None, list[Held]]:
    """The UTC date a file's metadata starts at (None: undecodable) and the instruments it holds.

    The whole file is read (each instrument's records and first/last ``ts_event`` are counted on
    the way): a stream is an instrument with records (the symbology may list more),
    and a file that cannot be decoded still becomes a stream (named after the file) so that its
    :class:`InputError` surfaces when the stream is loaded, not silently here.
    """
    try:
        with DbnReader(path) as reader:
            metadata, listed = reader.metadata, reader.instrument_symbols()
        spans = _instrument_spans(path)
    except InputError:
        return None, [Held(path.name.split(".")[0])]
    start = str(np.datetime64(metadata.start, "ns").astype("datetime64[D]"))
    names = _stream_names(listed, np.array(sorted(spans), dtype=np.uint32))
    if spans and not names:  # records, none of a listed instrument: a stream that fails on load, says why
        return start, [Held(path.name.split(".")[0])]
    return start, [Held(name, name, first_ns=spans[i][1], last_ns=spans[i][2], rows=spans[i][0]) for i, name in names.items()]


def _grouped(held: list[tuple[Path, str, list[Held]]]) -> list[Stream]:
    """One stream per (instrument, day) over ``(path, day, holdings)`` (a stream's files in the
    order given)."""
    by_name: dict[tuple[str, str], list[Path]] = {}
    for path, stream_day, streams in held:
        for h in streams:
            by_name.setdefault((h.name, stream_day), []).append(path)
    return [
        Stream(SOURCE, name, stream_day, tuple(files), symbol=name)
        for (name, stream_day), files in sorted(by_name.items())
    ]


def holds(path: Path, day: str) -> list[Held]:
    """The instruments of a ``.dbn``/``.dbn.zst`` file (see :func:`_file_streams`)."""
    return _file_streams(path)[1] if _is_dbn(path) else []


def assemble(day: str, holdings: dict[Path, list[Held]]) -> list[Stream]:
    return _grouped([(path, day, held) for path, held in holdings.items()])


def discover(day_dir: Path, day: str) -> list[Stream]:
    """Streams in a landing-zone day folder: one per instrument of its ``.dbn``/``.dbn.zst`` files."""
    folder = Path(day_dir)
    if not folder.is_dir():
        return []
    return assemble(day, held_in(folder, day, holds))


def from_files(paths: list[Path]) -> list[Stream]:
    """Streams in DBN files named on the command line (day: the UTC date the metadata starts at)."""
    held = []
    for path in map(Path, paths):
        start, streams = _file_streams(path)
        held.append((path, start or "unknown", streams))
    return _grouped(held)


#: quarantined records kept with their location (all are counted)
QUARANTINE_MAX = 1000
_COUNTERS = ("records", "snapshot_records", "bad_ts_recv_records", "venue_maybe_bad_book", "unlisted_instrument_records")


class DatabentoSource:
    """One instrument's records over its files, in chunks that end after an ``F_LAST`` record
    (:class:`~obrecon_pipeline.streams.StreamSource`; no aligned reference book, no seed).

    A chunk never spans two files; it holds at most ``max_events`` events unless one venue event
    alone is longer (then the chunk is that event). Blocks are read ahead only as far as the next
    cut needs, so memory is a few blocks plus the chunk.
    """

    reference_depth = 0
    seed = None

    def __init__(self, stream: Stream, reference: bool = True):
        self.stream = stream
        self.options = ReplayOptions(emit="message", strict_orders=True)
        self._file = 0  # index in stream.files of the file being read
        self._record = 0  # records of that file consumed (yielded or accounted)
        self._arrival = 0
        self._counts = dict.fromkeys(_COUNTERS, 0)
        self._quarantined: list[tuple[str, int, str]] = []
        self._sequence = SequenceTracker()

    def _instrument(self, reader: DbnReader) -> tuple[int, dict[int, str]]:
        """The stream's instrument id in this file, and the file's listed instruments."""
        listed = reader.instrument_symbols()
        candidates = [i for i, name in listed.items() if name == self.stream.name or f"{name}-{i}" == self.stream.name]
        if len(candidates) > 1:  # one symbol, two ids: the stream is the one id with records
            names = _stream_names(listed, _instrument_ids(reader.path))
            candidates = [i for i, name in names.items() if name == self.stream.name]
        if not candidates and not listed and self.stream.name.isdigit():
            candidates = [int(self.stream.name)]
        if len(candidates) != 1:
            ids = _instrument_ids(reader.path)  # a file that cannot be decoded says so first
            if listed and ids.size and not np.isin(ids, np.fromiter(listed, np.uint32)).any():
                raise InputError(reader.path, None, f"no instrument with records ({', '.join(map(str, ids[:5]))}) is "
                                 f"in the file's symbology mappings ({', '.join(map(str, sorted(listed)[:5]))})")
            raise InputError(reader.path, None, f"no records of instrument {self.stream.name!r} in the file")
        return candidates[0], listed

    def chunks(self, max_events: int) -> Iterator[EventChunk]:
        if max_events < 1:
            raise ValueError(f"max_events must be >= 1, got {max_events}")
        while self._file < len(self.stream.files):
            with DbnReader(self.stream.files[self._file]) as reader:
                instrument, listed = self._instrument(reader)
                if self._record:
                    reader.skip(self._record)
                yield from self._file_chunks(reader, instrument, listed, max_events)
            self._file += 1
            self._record = 0

    def _file_chunks(self, reader: DbnReader, instrument: int, listed: dict, max_events: int) -> Iterator[EventChunk]:
        cuts = _Cuts(reader, instrument, max(BLOCK_RECORDS, max_events))
        while (part := cuts.next(max_events)) is not None:
            first_row = self._record + 1
            self._record += part.shape[0]
            mine = part["instrument_id"] == instrument
            if mine.all():  # a one-instrument file: the part is the stream's, no copy
                records = part
            else:
                if listed:
                    self._quarantine(reader.path, part, mine, first_row, listed)
                if not mine.any():
                    continue
                records = part[mine]
            events, counts = normalize(records, np.flatnonzero(mine) + first_row, self._arrival)
            self._arrival += records.shape[0]
            self._account(records.shape[0], counts, events)
            yield EventChunk(events, None)

    def _quarantine(self, path: Path, part: np.ndarray, mine: np.ndarray, first_row: int, listed: dict) -> None:
        unlisted = np.flatnonzero(~mine & ~np.isin(part["instrument_id"], np.fromiter(listed, np.uint32)))
        self._counts["unlisted_instrument_records"] += int(unlisted.size)
        for k in unlisted[: QUARANTINE_MAX - len(self._quarantined)]:
            iid = int(part["instrument_id"][k])
            self._quarantined.append((str(path), int(first_row + k),
                                      f"instrument_id {iid} is not in the file's symbology mappings"))

    def _account(self, n: int, counts: dict, events: pl.DataFrame) -> None:
        self._counts["records"] += n
        for name, count in counts.items():
            self._counts[name] += int(count)
        self._sequence.update(events)

    def stats(self) -> dict:
        sequence = self._sequence.report()
        stats = {**self._counts, **sequence.as_report(), "sequence_regression_list": sequence.regression_rows.to_dicts()}
        if self._quarantined:
            f, row, reason = self._quarantined[0]
            stats["quarantine_first"] = f"{f}, row {row}: {reason}"
        return stats

    def quarantine(self) -> pl.DataFrame:
        return pl.DataFrame(self._quarantined, schema=QUARANTINE_SCHEMA, orient="row")

    def state(self) -> dict:
        return {"file": self._file, "record": self._record, "arrival": self._arrival, "counts": dict(self._counts),
                "quarantined": [list(q) for q in self._quarantined], "sequence": self._sequence.state()}

    def resume(self, state: dict) -> None:
        self._file, self._record, self._arrival = state["file"], state["record"], state["arrival"]
        self._counts = dict(state["counts"])
        self._quarantined = [tuple(q) for q in state["quarantined"]]
        self._sequence.resume(state["sequence"])


class _Cuts:
    """A file's records (all instruments) in consecutive parts, each ending after the last
    ``F_LAST`` record of ``instrument`` within the part's first ``max_events`` records of it, or
    after its first ``F_LAST`` when one event alone is longer; at the end of the file, the rest.
    Blocks are read ahead only as far as the next cut needs."""

    def __init__(self, reader: DbnReader, instrument: int, block_records: int):
        self.reader = reader
        self.instrument = instrument
        self.block_records = block_records
        self._buf = bytearray()  # reused: the records not yet in a part, then the next block
        self.pending = np.empty(0, MBO_DTYPE)
        self.at = 0  # first record of pending not yet in a part
        self.eof = False
        self._index()

    def _index(self) -> None:
        self.mine = np.flatnonzero(self.pending["instrument_id"] == self.instrument)  # positions in pending
        self.last = self.mine[(self.pending["flags"][self.mine] & databento_dbn.F_LAST) != 0]

    def _refill(self) -> None:
        """Move the records not yet in a part to the buffer's front and read a block after them
        (parts handed out earlier are views of the buffer: the caller is done with them)."""
        size = MBO_DTYPE.itemsize
        keep = self.pending.shape[0] - self.at
        if len(self._buf) < (keep + self.block_records) * size:  # room for a remainder, once
            grown = bytearray((keep + 2 * self.block_records) * size)
            grown[: keep * size] = self._buf[self.at * size: (self.at + keep) * size]
            self._buf = grown
        elif keep:
            self._buf[: keep * size] = self._buf[self.at * size: (self.at + keep) * size]
        view = memoryview(self._buf)
        got = self.reader.read_into(view[keep * size: (keep + self.block_records) * size])
        self.eof = got == 0
        self.pending = np.frombuffer(self._buf, dtype=MBO_DTYPE, count=keep + got)
        self.at = 0
        self._index()

    def next(self, max_events: int) -> np.ndarray | None:
        while True:
            cut = self._cut(max_events)
            if cut is not None:
                break
            self._refill()
        if cut == self.at:
            return None
        part, self.at = self.pending[self.at:cut], cut
        return part

    def _cut(self, max_events: int) -> int | None:
        n = self.pending.shape[0]
        first = np.searchsorted(self.mine, self.at)
        available = self.mine.size - first
        if available < max_events or (available == max_events and self.eof):
            return n if self.eof else None
        limit = self.mine[first + max_events - 1]  # the max_events-th record of the instrument
        lo = np.searchsorted(self.last, self.at)
        k = np.searchsorted(self.last, limit, side="right")
        if k > lo:
            return int(self.last[k - 1]) + 1
        if lo < self.last.size:
            return int(self.last[lo]) + 1
        return n if self.eof else None


def open_stream(stream: Stream, reference: bool = True) -> DatabentoSource:
    """``Feed.open``: the stream in chunks (Databento has no aligned reference book)."""
    return DatabentoSource(stream, reference)


def load(stream: Stream) -> LoadedStream:
    """Parse a stream whole (its chunks, joined); ``stats`` carries the sequence analysis, the
    record-flag counts and the quarantine count."""
    source = DatabentoSource(stream)
    frames = [chunk.events for chunk in source.chunks(1 << 20)]
    events = pl.concat(frames, rechunk=True) if frames else conform(_EMPTY)
    return LoadedStream(
        stream=stream,
        events=events,
        options=source.options,
        stats=source.stats(),
        quarantine=source.quarantine(),
    )


_EMPTY = pl.DataFrame(schema={name: dtype for name, dtype in (("ts_event", pl.Int64), ("arrival", pl.Int64),
                                                               ("src_row", pl.Int64), ("action", pl.Int8),
                                                               ("side", pl.Int8), ("price", pl.Int64),
                                                               ("size", pl.Int64), ("order_id", pl.UInt64),
                                                               ("flags", pl.UInt8), ("price_scale", pl.Int64),
                                                               ("size_scale", pl.Int64))})


FEED = register(Feed(SOURCE, discover, load, from_files, open=open_stream, holds=holds, assemble=assemble))
