"""LOBSTER (NASDAQ TotalView-ITCH, lobsterdata.com) message and orderbook files.

Message file (no header, 6 columns): ``time`` (seconds after midnight, New York time, up to ns),
``type`` (1 submission, 2 partial cancel, 3 deletion, 4 visible execution, 5 hidden execution,
6 cross trade, 7 trading halt), ``order_id``, ``size`` (shares), ``price`` (USD x 10000),
``direction`` (1 buy, -1 sell; for executions the side of the resting order). Newer files have a
7th column, the market participant id (``null`` or the NASDAQ MPID of an attributed order), kept
as the events' ``participant`` column.

Orderbook file (no header, 4L columns): for each level ``ask_price, ask_size, bid_price, bid_size``,
row k = the book after message k; an empty level is ask price 9999999999 / bid price -9999999999
with size 0. It is LOBSTER's own reconstruction and serves as the reference book.

A level-L file carries only messages that touch the first L levels, so the replay runs with a
visibility window of L (see :mod:`obrecon_pipeline.replay`); the book is seeded from orderbook row 0
(the state after message 0) as LOBSTER's README advises, because the day's earlier orders are not
in the file. Files sold without the orderbook file replay from an empty book when no reference is
asked for (orders resting before the file are then unknown ids, counted by the replayer).

Reading (:class:`LobsterSource`, what :func:`open_stream` returns): both files are parsed block by
block by the Cython parsers of :mod:`obrecon_pipeline.feeds._lobster_csv` straight into NumPy
columns, so memory is set by the chunk size. Rules the parser enforces, each a located
``InputError`` (``FILE, row N: reason``): 6 (or, from the first row on, 7) fields; integers where
integers belong; ``0 <= time < 86400`` s; a known type; an order id in ``[0, 2**64)``; a
non-negative size; on book messages (types 1-4) a price in ``(0, 9999999999)`` (the empty-ask
sentinel and anything above it is not a price); direction 1 or -1. Counted, not refused: times
going backwards (``time_regressions``, the first one located), and times written with more than
nine decimals (``times_rounded_to_ns``: rounded half to even on the decimal digits).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pyarrow as pa

from obrecon_pipeline import buffers
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, conform
from obrecon_pipeline.feeds import Feed, held_in, register
from obrecon_pipeline.feeds._blocks import RawBlocks, line_spans
from obrecon_pipeline.feeds._columns import constant
from obrecon_pipeline.feeds._io import zip_members
from obrecon_pipeline.feeds._lobster_csv import ERROR_CODES, PARTICIPANT_BYTES, MessageParser, OrderbookParser
from obrecon_pipeline.streams import QUARANTINE_SCHEMA, EventChunk, Held, LoadedStream, ReplayOptions, Stream

PRICE_SCALE = 10_000  # LOBSTER prices are dollars x 10000
SIZE_SCALE = 1
EMPTY_ASK = 9_999_999_999
EMPTY_BID = -9_999_999_999
EXCHANGE_TZ = ZoneInfo("America/New_York")

MESSAGE_RE = re.compile(
    r"(?P<ticker>[A-Za-z0-9.^]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_message_(?P<levels>\d+)\.csv(?:\.gz)?$"
)
MESSAGE_COLUMNS = ["time", "type", "order_id", "size", "price", "direction", "participant"]
TYPE_TO_ACTION = {
    1: Action.ADD,
    2: Action.CANCEL,
    3: Action.DELETE,
    4: Action.EXECUTE,
    5: Action.HIDDEN_EXECUTE,
    6: Action.TRADE,
    7: Action.HALT,
}
#: types that change the visible book: their price must be a real price
BOOK_TYPES = (1, 2, 3, 4)
#: rows per chunk buffer at first (address space only: pages are touched as rows arrive); buffers
#: double from there up to the chunk size asked for
FIRST_CAPACITY = 1 << 22

_E = ERROR_CODES
#: the parser's refusal codes -> the reason, from the field's text
REASONS = {
    _E["not_int"]: "{name} {text!r} is not an integer",
    _E["int_range"]: "{name} {text!r} is beyond the 64-bit integer range",
    _E["time"]: "time {text!r} is not seconds after midnight (digits, optionally '.' and decimals)",
    _E["time_beyond_day"]: "time {text} is beyond the day (seconds after midnight must be below 86400)",
    _E["type"]: "unknown message type {text}",
    _E["order_negative"]: "order_id {text} is negative (order ids are unsigned)",
    _E["order_range"]: "order_id {text} is beyond 2**64 - 1",
    _E["size_negative"]: "negative size {text}",
    _E["price_nonpositive"]: "non-positive price {text} on a book message",
    _E["price_sentinel"]: f"price {{text}} on a book message is at or above the empty-ask sentinel {EMPTY_ASK}",
    _E["direction"]: "direction {text} is neither 1 (buy) nor -1 (sell)",
    _E["participant"]: "participant {text!r} is neither null nor a market participant id (1-8 letters/digits)",
}


class MessageFile:
    """Where a LOBSTER message file and its sibling orderbook file are (plain, .gz or in a zip)."""

    def __init__(self, path: str | Path, orderbook: str | Path | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(self.path, None, "file not found")
        self.member: str | None = None
        self.orderbook_path: Path | None = None
        self.orderbook_member: str | None = None
        if self.path.suffix == ".zip":
            members = zip_members(self.path)
            found = [m for m in members if MESSAGE_RE.search(Path(m).name)]
            if len(found) != 1:
                raise InputError(self.path, None, f"expected one LOBSTER message file in the zip, found {len(found)}")
            self.member = found[0]
            name = Path(self.member).name
            if orderbook is None:
                sibling = next((m for m in _orderbook_names(self.member) if m in members), None)
                if sibling is not None:
                    self.orderbook_path, self.orderbook_member = self.path, sibling
        else:
            name = self.path.name
            if orderbook is None:
                self.orderbook_path = next(
                    (p for p in map(self.path.with_name, _orderbook_names(name)) if p.is_file()), None)
        if orderbook is not None:
            self.orderbook_path = Path(orderbook)
        m = MESSAGE_RE.search(name)
        if m is None:
            raise InputError(self.path, None, f"{name!r} is not a LOBSTER message file name (TICKER_YYYY-MM-DD_START_END_message_L.csv)")
        try:
            datetime.strptime(m["date"], "%Y-%m-%d")
        except ValueError:
            raise InputError(self.path, None, f"the date {m['date']!r} in the file name is not a calendar date") from None
        self.ticker = m["ticker"]
        self.date = m["date"]
        self.levels = int(m["levels"])

    @property
    def label(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    @property
    def orderbook_label(self) -> str:
        if self.orderbook_member:
            return f"{self.orderbook_path}:{self.orderbook_member}"
        return str(self.orderbook_path)

    def message_blocks(self, block_size: int | None = None) -> RawBlocks:
        return RawBlocks(self.path, self.member, **_size(block_size))

    def missing_orderbook(self) -> InputError | None:
        """Why the replay cannot seed or re-seed from the orderbook file (None: there is one)."""
        if self.orderbook_path is not None:
            return None
        return InputError(self.path, None, "no sibling orderbook file (…_orderbook_L.csv) found; LOBSTER days start "
                          "with resting orders, so the replay needs it to seed the book (--no-reference replays "
                          "the file from an empty book)")

    def orderbook_blocks(self, block_size: int | None = None) -> RawBlocks:
        if self.orderbook_path is None:
            raise self.missing_orderbook()
        return RawBlocks(self.orderbook_path, self.orderbook_member, **_size(block_size))


def _size(block_size: int | None) -> dict:
    return {} if block_size is None else {"block_size": block_size}


def _orderbook_names(message_name: str) -> list[str]:
    """The sibling orderbook file's possible names: plain or gzipped, whatever the message file is."""
    stem = message_name.replace("_message_", "_orderbook_").removesuffix(".gz")
    return [stem, stem + ".gz"]


def _midnight_ns(date: str) -> int:
    """UTC epoch ns of local midnight in New York on ``date`` (LOBSTER times count from there)."""
    local = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=EXCHANGE_TZ)
    return int(local.timestamp()) * 1_000_000_000


def _refusal(label: str, row: int, names: list[str], parser, span: bytes) -> InputError:
    """The located error for the row the parser refused (``span``: its bytes)."""
    line = bytes(span).decode("ascii", "replace").rstrip("\r\n")
    fields = line.split(",")
    if parser.error == _E["fields"]:
        return InputError(label, row, f"expected {parser.fields} comma-separated fields, found {len(fields)}")
    text = fields[parser.error_field]
    return InputError(label, row, REASONS[parser.error].format(name=names[parser.error_field], text=text))


class _Reader:
    """One LOBSTER file's rows, parsed from its blocks in batches of at most ``capacity`` rows."""

    def __init__(self, label: str, blocks: RawBlocks, parser, names: list[str]):
        self.label = label
        self.blocks = blocks
        self.parser = parser
        self.names = names
        self._fill = 0
        self.spans = line_spans(blocks, lambda: self.parser.rows_done + self._fill)

    def resume(self, position: int, rows: int) -> None:
        self.blocks.skip(position)
        self.spans = line_spans(self.blocks, lambda: self.parser.rows_done + self._fill)
        self.parser.rows_done = rows

    def state(self) -> dict:
        return {"position": self.spans.position, "rows": int(self.parser.rows_done)}

    def _run(self, parse, capacity: int, grow) -> int:
        """Parse into the current buffers (``parse(buf, start, end, fill, capacity)``), growing
        them with ``grow(new_capacity)`` up to ``capacity``; the rows parsed."""
        self._fill = 0
        cap = min(capacity, FIRST_CAPACITY)
        grow(cap)
        while self._fill < capacity:
            if self._fill == cap:
                cap = min(capacity, 2 * cap)
                grow(cap)
            span = self.spans.span()
            if span is None:
                break
            buf, start, end = span
            pos, self._fill = parse(buf, start, end, self._fill, cap)
            self.spans.advance(pos)
            if self.parser.error:
                row = self.parser.rows_done + self._fill + 1
                raise _refusal(self.label, row, self.names, self.parser,
                               buf[self.parser.error_start:self.parser.error_end])
        self.parser.rows_done += self._fill
        return self._fill

    def remaining_rows(self) -> int:
        """Lines not yet parsed (for the row-count error only: they are not validated)."""
        n = 0
        while (span := self.spans.span()) is not None:
            buf, start, end = span
            n += bytes(buf[start:end]).count(b"\n")
            self.spans.advance(end)
        return n

    def close(self) -> None:
        self.blocks.close()


class _Messages(_Reader):
    def __init__(self, mf: MessageFile, block_size: int | None = None):
        action_of_type = [0] * 8
        for t, action in TYPE_TO_ACTION.items():
            action_of_type[t] = int(action)
        parser = MessageParser(_midnight_ns(mf.date), action_of_type, BOOK_TYPES, EMPTY_ASK)
        super().__init__(mf.label, mf.message_blocks(block_size), parser, MESSAGE_COLUMNS)
        # a chunk's columns are reused once its consumers let go (three chunks may be alive at once:
        # parsed ahead, queued, replayed), so the pool keeps that many of every column
        self._columns = buffers.Recycler(keep=3 * (len(_MESSAGE_DTYPES) + 1))

    def read(self, capacity: int) -> dict[str, np.ndarray]:
        """The next (at most) ``capacity`` rows as columns; fewer only at the end of the file."""
        cols: dict[str, np.ndarray] = {}

        def grow(cap: int) -> None:
            for name, dtype in _MESSAGE_DTYPES.items():
                cols[name] = _grown(cols.get(name), (cap,), dtype, self._fill, self._columns.take)

        def parse(buf, start, end, fill, cap):
            # participant ids are kept only in 7-field files (the first row says which)
            if self.parser.fields == 0:
                self.parser.detect_fields(buf, start, end)
            rows = cap if self.parser.fields == 7 else 0
            cols["participant"] = _grown(cols.get("participant"), (rows, PARTICIPANT_BYTES), np.uint8, fill,
                                         self._columns.take)
            return self.parser.parse(buf, start, end, cols["ts_event"], cols["action"], cols["side"],
                                     cols["price"], cols["size"], cols["order_id"], cols["participant"],
                                     cols["participant_len"], fill, cap)

        n = self._run(parse, capacity, grow)
        return {name: a[:n] for name, a in cols.items()}


_MESSAGE_DTYPES = {"ts_event": np.int64, "action": np.int8, "side": np.int8, "price": np.int64,
                   "size": np.int64, "order_id": np.uint64, "participant_len": np.uint8}


class _Orderbook(_Reader):
    def __init__(self, mf: MessageFile, block_size: int | None = None):
        names = [f"{f}_{i}" for i in range(1, mf.levels + 1) for f in ("ask_price", "ask_size", "bid_price", "bid_size")]
        super().__init__(mf.orderbook_label, mf.orderbook_blocks(block_size),
                         OrderbookParser(mf.levels, EMPTY_ASK, EMPTY_BID), names)
        self.width = 4 * mf.levels
        self._cells = buffers.Recycler()  # a chunk's cells are reused once its consumers let go

    def read(self, capacity: int) -> np.ndarray:
        box: list[np.ndarray | None] = [None]

        def grow(cap: int) -> None:
            box[0] = _grown(box[0], (cap, self.width), np.int64, self._fill, self._cells.take)

        def parse(buf, start, end, fill, cap):
            return self.parser.parse(buf, start, end, box[0], fill, cap)

        n = self._run(parse, capacity, grow)
        return box[0][:n]


def _grown(old: np.ndarray | None, shape: tuple[int, ...], dtype, keep: int, take=buffers.empty) -> np.ndarray:
    """A buffer of ``shape`` (from ``take(shape, dtype)``) holding ``old``'s first ``keep`` rows."""
    if old is not None and old.shape == shape:
        return old
    new = take(shape, dtype)
    if old is not None and keep:
        new[:keep] = old[:keep]
    return new


def _participant(part: np.ndarray, lengths: np.ndarray) -> pl.Series:
    """Fixed-width participant bytes + lengths (0 = null) -> a String column."""
    n = lengths.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = part[np.arange(PARTICIPANT_BYTES) < lengths[:, None]]
    valid = np.packbits(lengths > 0, bitorder="little")
    array = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data.tobytes()), pa.py_buffer(valid))
    return pl.Series("participant", array)


class LobsterSource:
    """A LOBSTER stream opened for replay (:class:`~obrecon_pipeline.streams.StreamSource`).

    ``seed`` is orderbook row 0, read without reading further. With ``reference=True`` each chunk
    carries the orderbook rows of its messages; with ``reference=False`` the orderbook file is
    never read beyond row 0. A day without an orderbook file has no seed and no reference
    (``reference_missing`` says why, for a caller that must re-seed): it replays from an empty
    book, where an order id first seen in a cancel/execute/delete rested before the file and is in
    no level (counted as ``unknown_order_ids``, no level changed). The state is, per file, the
    decompressed byte offset of the next row and the rows before it (plain files seek there;
    ``.gz`` and zip members are inflated again from the start and the bytes before it dropped),
    plus the parser's running counters.
    """

    def __init__(self, stream: Stream, mf: MessageFile, reference: bool, block_size: int | None = None):
        self.stream = stream
        self.mf = mf
        self.reference_missing = mf.missing_orderbook()
        seeded = self.reference_missing is None
        self.options = ReplayOptions(window=mf.levels, emit="event", strict_orders=False, unseen_orders_in_book=seeded)
        self._reference = reference and seeded
        self._block_size = block_size
        self.seed = self._seed_row() if seeded else None
        self.reference_depth = mf.levels if self._reference else 0
        self._messages: _Messages | None = None
        self._orderbook: _Orderbook | None = None
        self._resume: dict | None = None
        self._done = False

    def _seed_row(self) -> np.ndarray:
        book = _Orderbook(self.mf, block_size=1 << 16)
        try:
            row = book.read(1)
        finally:
            book.close()
        if row.shape[0] == 0:
            raise InputError(self.mf.orderbook_label, None, "file is empty")
        return row[0].copy()

    def _open(self) -> None:
        self._messages = _Messages(self.mf, self._block_size)
        if self._reference:
            self._orderbook = _Orderbook(self.mf, self._block_size)
        if self._resume is not None:
            m = self._resume["messages"]
            self._messages.resume(m["position"], m["rows"])
            self._messages.parser.set_state(self._resume["parser"])
            if self._orderbook is not None:
                o = self._resume["orderbook"]
                self._orderbook.resume(o["position"], o["rows"])

    def chunks(self, max_events: int) -> Iterator[EventChunk]:
        if max_events < 1:
            raise ValueError(f"max_events must be >= 1, got {max_events}")
        if self._messages is None:
            self._open()
        messages, orderbook = self._messages, self._orderbook
        while not self._done:
            cols = messages.read(max_events)
            n = cols["ts_event"].shape[0]
            if n == 0 and messages.parser.rows_done == 0:
                raise InputError(self.mf.label, None, "file is empty")
            reference = None
            if orderbook is not None:
                reference = orderbook.read(n)
                if reference.shape[0] < n:
                    self._row_count_error(orderbook.parser.rows_done,
                                          messages.parser.rows_done + messages.remaining_rows())
            if n < max_events:  # the message file is read
                self._done = True
                if orderbook is not None and orderbook.spans.span() is not None:
                    self._row_count_error(orderbook.parser.rows_done + orderbook.remaining_rows(),
                                          messages.parser.rows_done)
                messages.close()
                if orderbook is not None:
                    orderbook.close()
            if n:
                yield EventChunk(self._events(cols), reference)

    def _row_count_error(self, book_rows: int, message_rows: int) -> None:
        raise InputError(
            self.mf.orderbook_label, min(book_rows, message_rows) + 1,
            f"orderbook file has {book_rows} rows but the message file has {message_rows}",
        )

    def _events(self, cols: dict[str, np.ndarray]) -> pl.DataFrame:
        n = cols["ts_event"].shape[0]
        first = self._messages.parser.rows_done - n  # arrival of the chunk's first event
        frame = {
            "ts_event": cols["ts_event"],
            "arrival": np.arange(first, first + n, dtype=np.int64),
            "src_row": np.arange(first + 1, first + n + 1, dtype=np.int64),
            "action": cols["action"],
            "side": cols["side"],
            "price": cols["price"],
            "size": cols["size"],
            "order_id": cols["order_id"],
            "flags": constant(Flag.END_OF_MESSAGE, n, np.uint8),
            "price_scale": constant(PRICE_SCALE, n, np.int64),
            "size_scale": constant(SIZE_SCALE, n, np.int64),
        }
        if self._messages.parser.fields == 7:
            frame["participant"] = _participant(cols["participant"], cols["participant_len"])
        return conform(pl.DataFrame(frame))

    def stats(self) -> dict:
        p = self._messages.parser if self._messages is not None else None
        if p is None:
            return {"time_regressions": 0, "first_time_regression": None, "times_rounded_to_ns": 0}
        first = None
        if p.time_regressions:
            midnight = p.midnight_ns
            first = {"src_row": int(p.first_regression_row),
                     "previous_ts_event": midnight + int(p.first_regression_prev),
                     "ts_event": midnight + int(p.first_regression_time)}
        return {"time_regressions": int(p.time_regressions), "first_time_regression": first,
                "times_rounded_to_ns": int(p.times_rounded)}

    def quarantine(self) -> pl.DataFrame:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)

    def state(self) -> dict:
        if self._messages is None:
            return self._resume or {}
        return {
            "messages": self._messages.state(),
            "orderbook": None if self._orderbook is None else self._orderbook.state(),
            "parser": self._messages.parser.get_state(),
        }

    def resume(self, state: dict) -> None:
        if self._messages is not None:
            raise ValueError("resume() must come before chunks()")
        if state:
            self._resume = state


def open_stream(stream: Stream, reference: bool = True) -> LobsterSource:
    """A stream's files opened for chunked replay (``Feed.open``)."""
    mf = MessageFile(stream.files[0], stream.files[1] if len(stream.files) > 1 else None)
    return LobsterSource(stream, mf, reference)


def _whole(source: LobsterSource, chunk: int = 1 << 20) -> tuple[pl.DataFrame, np.ndarray | None]:
    """Every chunk of ``source``, joined: the events and (with the reference) the orderbook cells."""
    frames, refs = [], []
    for c in source.chunks(chunk):
        frames.append(c.events)
        refs.append(c.reference)
    events = pl.concat(frames, rechunk=True)
    if not source.reference_depth:
        return events, None
    reference = buffers.empty((events.height, 4 * source.reference_depth), np.int64)
    at = 0
    while refs:
        part = refs.pop(0)
        reference[at:at + part.shape[0]] = part
        at += part.shape[0]
    return events, reference


def parse_messages(mf: MessageFile) -> pl.DataFrame:
    """The message file as normalized events (one per row, every event a complete message)."""
    source = LobsterSource(Stream("lobster", mf.ticker, mf.date, (mf.path,)), mf, reference=False)
    return _whole(source)[0]


def parse_orderbook(mf: MessageFile) -> np.ndarray:
    """The orderbook file as ``int64[n, 4L]`` in the replayer's cell layout (empty -> NULL_CELL)."""
    book = _Orderbook(mf)
    parts = []
    try:
        while (part := book.read(1 << 20)).shape[0]:
            parts.append(part)
    finally:
        book.close()
    return np.concatenate(parts) if parts else np.empty((0, 4 * mf.levels), np.int64)


def load_files(message: str | Path, orderbook: str | Path | None = None, stream: Stream | None = None) -> LoadedStream:
    """Parse a message file and its orderbook file into a :class:`LoadedStream` (the chunks of
    :class:`LobsterSource`, joined)."""
    mf = MessageFile(message, orderbook)
    if stream is None:
        stream = Stream("lobster", f"{mf.ticker}-L{mf.levels}", mf.date, (mf.path,))
    source = LobsterSource(stream, mf, reference=True)
    if source.reference_missing is not None:
        raise source.reference_missing
    events, reference = _whole(source)
    return LoadedStream(
        stream=stream,
        events=events,
        options=source.options,
        reference=reference,
        seed=True,
        stats=source.stats(),
    )


def holds(path: Path, day: str) -> list[Held]:
    """The streams (``<TICKER>-L<levels>``) of ``day`` in one file of ``raw/lobster/<day>/``: the
    message files a zip lists in its central directory (nothing else is read), or the file itself
    when its name is a message file's; a broken zip holds none (it is reported when its partition
    is materialized)."""
    if path.suffix == ".zip":
        try:
            names = [Path(m).name for m in zip_members(path)]
        except InputError:
            return []
    elif MESSAGE_RE.search(path.name):
        names = [path.name]
    else:
        return []
    found = (MESSAGE_RE.search(n) for n in names)
    return [Held(f"{m['ticker']}-L{m['levels']}") for m in found if m is not None and m["date"] == day]


def assemble(day: str, holdings: dict[Path, list[Held]]) -> list[Stream]:
    """One stream per name, in its first file (by path)."""
    streams: dict[str, Stream] = {}
    for path, held in holdings.items():
        for h in held:
            streams.setdefault(h.name, Stream("lobster", h.name, day, (path,)))
    return list(streams.values())


def discover(source_dir: Path, day: str) -> list[Stream]:
    """Streams in ``raw/lobster/<day>/``: LOBSTER zips and bare (or gzipped) message files."""
    return assemble(day, held_in(source_dir, day, holds))


def load(stream: Stream) -> LoadedStream:
    """A stream's files: the message file (or zip) first, optionally its orderbook file second."""
    return load_files(stream.files[0], stream.files[1] if len(stream.files) > 1 else None, stream=stream)


def from_files(paths: list[Path]) -> list[Stream]:
    """``MESSAGE_FILE [ORDERBOOK_FILE]`` from the command line as one stream."""
    if not 1 <= len(paths) <= 2:
        raise InputError(paths[0] if paths else "-", None, "lobster takes MESSAGE_FILE [ORDERBOOK_FILE]")
    mf = MessageFile(paths[0], paths[1] if len(paths) == 2 else None)
    return [Stream("lobster", f"{mf.ticker}-L{mf.levels}", mf.date, tuple(paths))]


FEED = register(Feed("lobster", discover, load, from_files, open=open_stream, holds=holds, assemble=assemble))
