"""LOBSTER (NASDAQ TotalView-ITCH, lobsterdata.com) message and orderbook files.

Message file (no header, 6 columns): ``time`` (seconds after midnight, New York time, up to ns),
``type`` (1 submission, 2 partial cancel, 3 deletion, 4 visible execution, 5 hidden execution,
6 cross trade, 7 trading halt), ``order_id``, ``size`` (shares), ``price`` (USD x 10000),
``direction`` (1 buy, -1 sell; for executions the side of the resting order).

Orderbook file (no header, 4L columns): for each level ``ask_price, ask_size, bid_price, bid_size``,
row k = the book after message k; an empty level is ask price 9999999999 / bid price -9999999999
with size 0. It is LOBSTER's own reconstruction and serves as the reference book.

A level-L file carries only messages that touch the first L levels, so the replay runs with a
visibility window of L (see :mod:`obrecon_pipeline.replay`); the book is seeded from orderbook row 0
(the state after message 0) as LOBSTER's README advises, because the day's earlier orders are not
in the file.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from obrecon_pipeline import buffers
from obrecon_pipeline.codes import NULL_CELL
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, conform
from obrecon_pipeline.feeds import Feed, register
from obrecon_pipeline.feeds._io import read_bytes, read_int_csv, zip_members
from obrecon_pipeline.streams import LoadedStream, ReplayOptions, Stream

PRICE_SCALE = 10_000  # LOBSTER prices are dollars x 10000
SIZE_SCALE = 1
EMPTY_ASK = 9_999_999_999
EMPTY_BID = -9_999_999_999
EXCHANGE_TZ = ZoneInfo("America/New_York")

MESSAGE_RE = re.compile(
    r"(?P<ticker>[A-Za-z0-9.^]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_message_(?P<levels>\d+)\.csv(?:\.gz)?$"
)
MESSAGE_COLUMNS = ["time", "type", "order_id", "size", "price", "direction"]
TYPE_TO_ACTION = {
    1: Action.ADD,
    2: Action.CANCEL,
    3: Action.DELETE,
    4: Action.EXECUTE,
    5: Action.HIDDEN_EXECUTE,
    6: Action.TRADE,
    7: Action.HALT,
}
TIME_RE = r"^\d+(\.\d{1,9})?$"


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
            ob = self.member.replace("_message_", "_orderbook_")
            if orderbook is None and ob in members:
                self.orderbook_path, self.orderbook_member = self.path, ob
        else:
            name = self.path.name
            sibling = self.path.with_name(name.replace("_message_", "_orderbook_"))
            if orderbook is None and sibling.is_file():
                self.orderbook_path = sibling
        if orderbook is not None:
            self.orderbook_path = Path(orderbook)
        m = MESSAGE_RE.search(name)
        if m is None:
            raise InputError(self.path, None, f"{name!r} is not a LOBSTER message file name (TICKER_YYYY-MM-DD_START_END_message_L.csv)")
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


def _midnight_ns(date: str) -> int:
    """UTC epoch ns of local midnight in New York on ``date`` (LOBSTER times count from there)."""
    local = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=EXCHANGE_TZ)
    return int(local.timestamp()) * 1_000_000_000


def parse_messages(mf: MessageFile) -> pl.DataFrame:
    """The message file as normalized events (one per row, every event a complete message)."""
    label = Path(mf.label)
    raw = read_int_csv(label, read_bytes(mf.path, mf.member), MESSAGE_COLUMNS, text_columns=("time",))
    checks = [
        (~raw["time"].str.contains(TIME_RE), "time {!r} is not seconds after midnight with up to 9 decimals", "time"),
        (~raw["type"].is_in(list(TYPE_TO_ACTION)), "unknown message type {!r}", "type"),
        (~raw["direction"].is_in([1, -1]), "direction {!r} is neither 1 (buy) nor -1 (sell)", "direction"),
        (raw["size"] < 0, "negative size {!r}", "size"),
        (raw["type"].is_in([1, 2, 3, 4]) & (raw["price"] <= 0), "non-positive price {!r} on a book message", "price"),
    ]
    for bad, reason, column in checks:
        rows = bad.arg_true()
        if rows.len():
            row = int(rows[0])
            raise InputError(label, row + 1, reason.format(raw[column][row]))
    sec = raw["time"].str.split(".")
    frac = sec.list.get(1, null_on_oob=True).fill_null("").str.pad_end(9, "0")
    base = _midnight_ns(mf.date)
    action_map = {k: int(v) for k, v in TYPE_TO_ACTION.items()}
    events = pl.DataFrame(
        {
            "ts_event": base + sec.list.get(0).cast(pl.Int64) * 1_000_000_000 + frac.cast(pl.Int64),
            "arrival": np.arange(raw.height, dtype=np.int64),
            "src_row": np.arange(1, raw.height + 1, dtype=np.int64),
            "action": raw["type"].replace_strict(action_map, return_dtype=pl.Int8),
            "side": raw["direction"].cast(pl.Int8),
            "price": raw["price"],
            "size": raw["size"],
            "order_id": raw["order_id"].cast(pl.UInt64),
            "flags": pl.Series([int(Flag.END_OF_MESSAGE)] * raw.height, dtype=pl.UInt8),
            "price_scale": pl.Series([PRICE_SCALE] * raw.height, dtype=pl.Int64),
            "size_scale": pl.Series([SIZE_SCALE] * raw.height, dtype=pl.Int64),
        }
    )
    return conform(events)


def parse_orderbook(mf: MessageFile) -> np.ndarray:
    """The orderbook file as ``int64[n, 4L]`` in the replayer's cell layout (empty -> NULL_CELL)."""
    if mf.orderbook_path is None:
        raise InputError(mf.path, None, "no sibling orderbook file (…_orderbook_L.csv) found; LOBSTER "
                         "days start with resting orders, so the replay needs it to seed the book")
    label = Path(mf.orderbook_label)
    names = [f"{f}_{i}" for i in range(1, mf.levels + 1) for f in ("ask_price", "ask_size", "bid_price", "bid_size")]
    table = read_int_csv(label, read_bytes(mf.orderbook_path, mf.orderbook_member), names)
    raw = table.to_numpy().astype(np.int64, copy=False).reshape(table.height, mf.levels, 4)
    cells = buffers.empty(raw.shape, np.int64)  # read sparsely by re-seeds: huge pages spare the TLB
    ask_empty = raw[:, :, 0] == EMPTY_ASK
    bid_empty = raw[:, :, 2] == EMPTY_BID
    cells[:, :, 0] = np.where(bid_empty, NULL_CELL, raw[:, :, 2])
    cells[:, :, 1] = np.where(bid_empty, NULL_CELL, raw[:, :, 3])
    cells[:, :, 2] = np.where(ask_empty, NULL_CELL, raw[:, :, 0])
    cells[:, :, 3] = np.where(ask_empty, NULL_CELL, raw[:, :, 1])
    return cells.reshape(table.height, 4 * mf.levels)


def load_files(message: str | Path, orderbook: str | Path | None = None, stream: Stream | None = None) -> LoadedStream:
    """Parse a message file and its orderbook file into a :class:`LoadedStream`."""
    mf = MessageFile(message, orderbook)
    events = parse_messages(mf)
    reference = parse_orderbook(mf)
    if reference.shape[0] != events.height:
        raise InputError(
            mf.orderbook_label, min(reference.shape[0], events.height) + 1,
            f"orderbook file has {reference.shape[0]} rows but the message file has {events.height}",
        )
    if stream is None:
        stream = Stream("lobster", f"{mf.ticker}-L{mf.levels}", mf.date, (mf.path,))
    return LoadedStream(
        stream=stream,
        events=events,
        options=ReplayOptions(window=mf.levels, emit="event", strict_orders=False),
        reference=reference,
        seed=True,
    )


def discover(source_dir: Path, day: str) -> list[Stream]:
    """Streams in ``raw/lobster/<day>/``: LOBSTER zips and bare (or gzipped) message files."""
    streams: dict[str, Stream] = {}
    for path in sorted(Path(source_dir).iterdir()):
        if path.suffix == ".zip":
            try:
                names = [Path(m).name for m in zip_members(path)]
            except InputError:
                continue  # a broken zip is reported when its partition is materialized
            found = [MESSAGE_RE.search(n) for n in names]
        elif MESSAGE_RE.search(path.name):
            found = [MESSAGE_RE.search(path.name)]
        else:
            continue
        for m in found:
            if m is not None and m["date"] == day:
                name = f"{m['ticker']}-L{m['levels']}"
                streams.setdefault(name, Stream("lobster", name, day, (path,)))
    return list(streams.values())


def load(stream: Stream) -> LoadedStream:
    """A stream's files: the message file (or zip) first, optionally its orderbook file second."""
    return load_files(stream.files[0], stream.files[1] if len(stream.files) > 1 else None, stream=stream)


def from_files(paths: list[Path]) -> list[Stream]:
    """``MESSAGE_FILE [ORDERBOOK_FILE]`` from the command line as one stream."""
    if not 1 <= len(paths) <= 2:
        raise InputError(paths[0] if paths else "-", None, "lobster takes MESSAGE_FILE [ORDERBOOK_FILE]")
    mf = MessageFile(paths[0], paths[1] if len(paths) == 2 else None)
    return [Stream("lobster", f"{mf.ticker}-L{mf.levels}", mf.date, tuple(paths))]


FEED = register(Feed("lobster", discover, load, from_files))
