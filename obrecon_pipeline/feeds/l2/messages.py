"""Book messages of one symbol, as a venue reader hands them over, and their assembly into events.

:class:`BookMessages` collects, in arrival order, each venue message's levels as exact decimal
strings with its ids and checksum — one call per message from a venue module
(:meth:`~BookMessages.snapshot`, :meth:`~BookMessages.diff`), or whole columns at once from a
vectorised file reader (:meth:`~BookMessages.add_tables`). :meth:`BookMessages.sequenced` runs the
Cython sequencer (:mod:`obrecon_pipeline.feeds.l2._sequencer`: snapshot sync, duplicates, bounded
reordering, gaps, resync) and :meth:`BookMessages.events` assembles the normalized event table in
the order the sequencer chose, vectorised in Polars:

* a snapshot message -> ``CLEAR`` (side NONE; or one per side, ``clear="sides"``) then one
  ``SET_LEVEL`` per level, all ``SNAPSHOT``;
* a diff -> one ``SET_LEVEL`` per level (size 0 removes the level);
* a message with no level, and a gap marker -> one no-op ``TRADE`` of size 0, so that every
  message still ends a book row;
* the first event after a gap carries ``BAD_BOOK`` (with ``Resync.SNAPSHOT`` that is the gap
  marker's own row; with ``Resync.CONTINUE`` the first event of the message received after the
  hole);
* the last event of each message carries ``END_OF_MESSAGE``, the message's checksum and update id.

Prices and sizes become scaled integers through :func:`obrecon_pipeline.feeds.decimals.scaled_integers`
with one scale per symbol and column: ``10**d``, ``d`` = the most decimals written for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterator, Protocol

import numpy as np
import polars as pl

from obrecon_pipeline.codes import NULL_ID, Link, MessageStatus, Resync
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, Side, conform
from obrecon_pipeline.feeds.decimals import scaled_integers
from obrecon_pipeline.feeds.l2._sequencer import Sequencer
from obrecon_pipeline.streams import QUARANTINE_SCHEMA, LoadedStream, ReplayOptions, Stream

GAP_SCHEMA = {
    "row": pl.Int64,  #: book row (emit="message") of the gap marker / of the message after the hole
    "file": pl.String,
    "src_row": pl.Int64,  #: line of the first message received after the hole
    "ts_event": pl.Int64,
    "ts_recv": pl.Int64,  #: the local receive time (a history file without one: ``ts_event``)
    "expected": pl.Int64,  #: null: nothing to link to (a diff before the first snapshot)
    "received": pl.Int64,
}
TICKER_SCHEMA = {
    "file": pl.String,
    "src_row": pl.Int64,
    "ts_recv": pl.Int64,
    "update_id": pl.Int64,
    "bid_price": pl.String,
    "bid_size": pl.String,
    "ask_price": pl.String,
    "ask_size": pl.String,
}
#: one row per message (:meth:`BookMessages.add_tables`); ``file`` indexes the reader's file list,
#: ids are null when the venue has none
MESSAGE_SCHEMA = {
    "snapshot": pl.Boolean,
    "ts_event": pl.Int64,
    "ts_recv": pl.Int64,
    "file": pl.Int64,
    "src_row": pl.Int64,
    "first": pl.Int64,
    "last": pl.Int64,
    "prev": pl.Int64,
    "checksum": pl.Int64,
}
#: one row per level, in message order (a message's bids, then its asks, as sent); ``msg`` indexes
#: the messages of the same :meth:`BookMessages.add_tables` call; ``src_row`` is the level's own
#: line where a message spans several (a CSV row per level; null: the message's line)
LEVEL_SCHEMA = {"msg": pl.Int64, "side": pl.Int8, "price_text": pl.String, "size_text": pl.String,
                "src_row": pl.Int64}
#: the level columns a reader that parses decimals itself hands over (:meth:`BookMessages.add_scaled`):
#: ``value = mantissa * 10**-decimals`` exactly (``_m`` / ``_f``, ``decimals`` the digits written
#: after the point); a level's line is its message's
SCALED_LEVEL_COLUMNS = {"side": np.int8, "price_m": np.int64, "price_f": np.int8, "size_m": np.int64,
                        "size_f": np.int8}


#: levels added one by one that are moved into columnar tables at once (see ``BookMessages._flush``)
FLUSH_LEVELS = 1 << 20


class Record(Protocol):
    """Where a venue message came from (a capture line, a history-file line, a CSV row)."""

    path: str  #: the raw file
    line: int  #: 1-based line / record number in it
    ts_ns: int  #: local receive time, ns since the epoch


@dataclass(frozen=True)
class Sequencing:
    """How a venue's update ids chain (see :mod:`obrecon_pipeline.feeds.l2._sequencer`).

    ``link``: ``"none"`` (no ids), ``"first"`` (``first_id == previous last_id + 1``) or ``"prev"``
    (``prev_id == previous last_id``). ``sync_offset``: a snapshot with id ``S`` syncs to the first
    diff with ``first_id <= S + sync_offset <= last_id``. ``pending``: capacity of the buffer that
    holds messages arriving ahead of a missing one (1: no reordering, a break is a gap at once).
    ``resync``: ``"snapshot"`` (diffs that cannot be linked wait for the next snapshot) or
    ``"continue"`` (they are applied from the id received, the book invalid until a snapshot).
    """

    link: str = "none"
    sync_offset: int = 1
    pending: int = 8
    resync: str = "snapshot"

    def __post_init__(self):
        if self.link.upper() not in Link.__members__:
            raise ValueError(f"link must be one of {[m.name.lower() for m in Link]}, got {self.link!r}")
        if self.resync.upper() not in Resync.__members__:
            raise ValueError(f"resync must be one of {[m.name.lower() for m in Resync]}, got {self.resync!r}")


@dataclass
class Sequenced:
    order: np.ndarray  #: int64 items: ``i`` applies message i, ``-(i+1)`` is a gap marker at i
    status: np.ndarray  #: int8 per message (:class:`~obrecon_pipeline.codes.MessageStatus`)
    gaps: pl.DataFrame  #: :data:`GAP_SCHEMA`
    counters: dict[str, int]
    #: the book rows, in order: message index, whether it is a gap marker, whether BAD_BOOK opens it
    slot_msg: np.ndarray
    slot_marker: np.ndarray
    slot_bad: np.ndarray


def _text(value, rec: Record, what: str) -> str:
    """A decimal as text: JSON strings as sent, JSON numbers by their literal (see ``capture``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputError(rec.path, rec.line, f"{what} {value!r} is not a decimal number")


def _id(v, rec: Record, what: str) -> int:
    """An update id as int64 (``NULL_ID`` when absent); one beyond int64 is bad input at its line."""
    if v is None:
        return NULL_ID
    try:
        value = int(v)
    except (TypeError, ValueError):
        raise InputError(rec.path, rec.line, f"{what} {v!r} is not an integer") from None
    if not NULL_ID < value < 2**63:
        raise InputError(rec.path, rec.line, f"{what} {v!r} does not fit a 64-bit update id")
    return value


#: 10**k, k = 0..18 (int64)
_POW10 = 10 ** np.arange(19, dtype=np.int64)


def diff_ends(applied: pl.DataFrame) -> pl.DataFrame:
    """``update_id -> row``: of the applied messages ``applied`` (``row``, ``snapshot``,
    ``update_id``: the last id), the diffs with an id, the last book row of each id."""
    return (applied.filter(~pl.col("snapshot") & pl.col("update_id").is_not_null())
            .group_by("update_id").agg(pl.col("row").max()))


def _fits(mantissa: np.ndarray, decimals: np.ndarray, d: int) -> bool:
    """Whether every ``mantissa * 10**(d - decimals)`` stays below ``10**18`` (what
    :func:`scaled_integers` takes; ``d >= decimals``): checked per number of decimals written
    (the largest mantissa of each), no array of the scaled values made."""
    if not len(decimals):
        return True
    low, high = int(decimals.min()), int(decimals.max())
    if low == d:
        return True
    if d - low > 18:
        return False
    return all(int(np.max(mantissa, where=decimals == f, initial=0)) <= (_POW10[18] - 1) // _POW10[d - f]
               for f in range(low, high + 1))


@dataclass
class _Levels:
    """A symbol's levels in two stores, neither copied into one array: the levels a reader parsed
    (:meth:`BookMessages.add_scaled`, kept as given: ``side``, ``(mantissa, decimals)`` per value,
    scaled to the symbol's ``10**d`` when gathered: ``mantissa * 10**(d - decimals)``) at indices
    ``[0, n_scaled)``, then the text levels (scaled by :func:`scaled_integers`) at
    ``[n_scaled, n_scaled + n_text)``. Message ``i``'s levels are ``[start[i], start[i] + count[i])``
    (a message's levels are all of one store)."""

    count: np.ndarray
    start: np.ndarray
    scaled: dict[str, np.ndarray]  #: :data:`SCALED_LEVEL_COLUMNS`
    text: dict[str, np.ndarray | None]  #: ``side``, ``price``, ``size``, ``src_row`` (None: each on its message's line)
    price_decimals: int
    size_decimals: int

    @property
    def n_scaled(self) -> int:
        return len(self.scaled["side"])

    def at(self, idx: np.ndarray) -> dict[str, np.ndarray | None]:
        """``side``, ``price``, ``size`` (int64 at the symbol's scales) and ``src_row`` (None: the
        level's message's line; -1 where it is) of the levels ``idx``."""
        n = self.n_scaled
        in_text = idx >= n
        if not in_text.any():
            s, t = idx, None
        elif in_text.all():
            s, t = None, idx - n
        else:
            s, t = np.where(in_text, 0, idx), np.where(in_text, idx - n, 0)
        out = {}
        for col, d in (("side", None), ("price", self.price_decimals), ("size", self.size_decimals)):
            values = None
            if s is not None:
                values = self.scaled[col] if d is None else self.scaled[f"{col}_m"]
                values = values[s] if d is None else values[s] * _POW10[d - self.scaled[f"{col}_f"][s]]
            if t is not None:
                text = self.text[col][t]
                values = text if values is None else np.where(in_text, text, values)
            out[col] = values
        rows = self.text["src_row"]
        # none in the text store: every level on its message's line (its rows may be empty, not indexable)
        out["src_row"] = None if rows is None or t is None else np.where(in_text, rows[np.where(in_text, idx - n, 0)], -1)
        return out


def _decimal_text(col: str) -> pl.Expr:
    """A scaled level's value as the decimal text it was written as (``digits[.digits]``)."""
    m, f = pl.col(f"{col}_m").cast(pl.String), pl.col(f"{col}_f").cast(pl.Int64)
    padded = m.str.zfill(f + 1)
    whole = padded.str.slice(0, padded.str.len_chars() - f)
    return pl.when(f == 0).then(m).otherwise(whole + "." + padded.str.slice(padded.str.len_chars() - f))


def _gathered(values: np.ndarray | None, where: np.ndarray) -> np.ndarray:
    """``values`` where ``where`` holds, 0 elsewhere (int64; None: no value at all)."""
    if values is None:
        return np.zeros(len(where), dtype=np.int64)
    return np.where(where, values, 0).astype(np.int64)


@dataclass
class _Assembly:
    """A symbol's messages (:meth:`BookMessages.events`): the columns of the messages as added
    (arrival order, held once: gathered for the rows of a chunk, not copied whole) and their
    levels (:class:`_Levels`)."""

    #: what the events take of each message, and the value of a null
    COLUMNS = {"snapshot": False, "ts_event": 0, "ts_recv": 0, "src_row": 0, "last": NULL_ID, "checksum": 0}

    def __init__(self, msgs: pl.DataFrame, levels: _Levels):
        """From the messages as added (:meth:`BookMessages._merged`) and their levels
        (:meth:`BookMessages._level_stores`)."""
        self.msgs = msgs.select(list(self.COLUMNS))
        self.levels = levels

    def snapshot(self, msg: np.ndarray) -> np.ndarray:
        """Whether the messages ``msg`` are snapshots."""
        return self.msgs["snapshot"].gather(msg).fill_null(False).to_numpy().astype(bool)

    def rows(self, msg: np.ndarray) -> dict[str, np.ndarray]:
        """The columns of the messages ``msg`` (nulls as their :data:`COLUMNS` value) and
        ``has_ts_recv``, ``has_last``, ``has_checksum`` (the value is not null)."""
        part = self.msgs.select(pl.all().gather(msg))
        out = {col: part[col].fill_null(null).to_numpy() for col, null in self.COLUMNS.items()}
        out["snapshot"] = out["snapshot"].astype(bool)
        out.update(has_ts_recv=part["ts_recv"].is_not_null().to_numpy(), has_last=out["last"] != NULL_ID,
                   has_checksum=part["checksum"].is_not_null().to_numpy())
        return out


class BookRows:
    """The book rows of the sequencer's order items, fed in pieces as the sequencer settles them
    (:meth:`add`; the same rows for any cutting of the day). With ``Resync.SNAPSHOT`` every item is
    a row and a gap marker's row carries BAD_BOOK; with ``Resync.CONTINUE`` the gap is flagged on
    the item after the marker, and a marker is a row of its own only as the day's last item (so
    the last item of a piece waits for the next piece, or the day's end). ``gap_rows``: message ->
    book row of its gap (the marker's row; CONTINUE: the row after it)."""

    def __init__(self, sequencing: Sequencing):
        self.resync = Resync[sequencing.resync.upper()]
        self.rows = 0  #: rows made so far
        self.gap_rows: dict[int, int] = {}
        self._held = np.zeros(0, dtype=np.int64)  # CONTINUE: the last item, not yet known to be the day's last
        self._after_marker = False  # CONTINUE: the item before the held one (or the first) was a marker

    def add(self, items: np.ndarray, end: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(msg, marker, bad)`` of the rows made from ``items`` (``end``: the day's last)."""
        if self.resync == Resync.CONTINUE:
            order = np.concatenate([self._held, items]) if len(self._held) else items
            if not end:
                order, self._held = order[:-1], order[-1:].copy()
            else:
                self._held = np.zeros(0, dtype=np.int64)
        else:
            order = items
        marker = order < 0
        msg = np.where(marker, -order - 1, order)
        if self.resync == Resync.CONTINUE:  # the gap is flagged on the message after it, not a row of its own
            bad = np.zeros(len(order), dtype=bool)
            bad[:1] = self._after_marker
            bad[1:] = marker[:-1]
            keep = ~marker
            if end:
                keep[-1:] |= marker[-1:]  # a marker with nothing after it stays a row
                bad[-1:] |= marker[-1:] & keep[-1:]
            if len(order):
                self._after_marker = bool(marker[-1])
        else:
            bad, keep = marker, np.ones(len(order), dtype=bool)
        row_at = self.rows + np.cumsum(keep) - keep  # book row of each position: rows kept before it
        self.gap_rows.update({int(msg[p]): int(row_at[p]) for p in np.flatnonzero(marker)})
        self.rows += int(keep.sum())
        return msg[keep], (marker & keep)[keep], bad[keep]


class BookMessages:
    """One symbol's book messages (what a venue reader produces; the one L2 path's input).

    ``names``: what the feed calls the price and size columns (errors name them so);
    ``clear``: ``"book"`` (one ``CLEAR`` of side NONE per snapshot) or ``"sides"`` (a ``CLEAR`` of
    each side: a venue whose snapshot rows each belong to one side, Tardis).
    """

    def __init__(self, symbol: str, sequencing: Sequencing = Sequencing(), checksum: str | None = None,
                 window: int = 0, clear: str = "book", names: tuple[str, str] = ("price", "size")):
        if clear not in ("book", "sides"):
            raise ValueError(f"clear must be 'book' or 'sides', got {clear!r}")
        self.symbol = symbol
        self.sequencing = sequencing
        self.checksum = checksum
        self.window = window
        self.clear = clear
        self.names = names
        #: counters the reader found before sequencing (rows of other symbols, ...), for report.json
        self.stats: dict[str, object] = {}
        self._files: dict[str, int] = {}
        self._msg: dict[str, list] = {k: [] for k in MESSAGE_SCHEMA}
        self._lv_msg: list[int] = []
        self._lv_side: list[int] = []
        self._lv_price: list[str] = []
        self._lv_size: list[str] = []
        #: (messages, text levels, scaled levels or None) added whole; scaled levels are
        #: ``(levels of each message, SCALED_LEVEL_COLUMNS arrays)``
        self._tables: list[tuple[pl.DataFrame, pl.DataFrame, tuple | None]] = []
        self.tickers: list[tuple] = []
        #: tickers a reader parsed already (:meth:`add_tickers`), frames of :data:`TICKER_SCHEMA`
        self._ticker_frames: list[pl.DataFrame] = []
        self.quarantined: list[tuple[str, int, str]] = []

    # --------------------------------------------------------------------- venue-module API
    def snapshot(self, rec: Record, bids, asks, update_id: int | None = None,
                 checksum: int | None = None, ts_event: int | None = None) -> None:
        """The whole book (``bids``/``asks``: ``(price, size)`` decimal strings)."""
        self._add(rec, True, bids, asks, None, update_id, None, checksum, ts_event)

    def diff(self, rec: Record, bids, asks, first_id: int | None = None, last_id: int | None = None,
             prev_id: int | None = None, checksum: int | None = None, ts_event: int | None = None) -> None:
        """Levels that changed (size ``"0"`` removes a level)."""
        if first_id is None:
            first_id = last_id
        self._add(rec, False, bids, asks, first_id, last_id, prev_id, checksum, ts_event)

    def message(self, rec: Record, snapshot: bool, bids, asks, first_id: int | None = None,
                last_id: int | None = None, checksum: int | None = None, ts_event: int | None = None) -> None:
        """:meth:`snapshot` (``update_id = last_id``) when ``snapshot`` is true, else :meth:`diff`."""
        if snapshot:
            self.snapshot(rec, bids, asks, update_id=last_id, checksum=checksum, ts_event=ts_event)
        else:
            self.diff(rec, bids, asks, first_id=first_id, last_id=last_id, checksum=checksum, ts_event=ts_event)

    def ticker(self, rec: Record, update_id: int | None, bid_price: str, bid_size: str,
               ask_price: str, ask_size: str) -> None:
        """An independent top-of-book reference message (Binance ``bookTicker``)."""
        self.tickers.append((rec.path, rec.line, rec.ts_ns, update_id, bid_price, bid_size, ask_price, ask_size))

    def add_tickers(self, frame: pl.DataFrame) -> None:
        """Many tickers at once from a vectorised reader (:data:`TICKER_SCHEMA`); with those added one
        by one they are in receive-time order, file order on ties."""
        self._ticker_frames.append(frame.select(list(TICKER_SCHEMA)).cast(TICKER_SCHEMA))

    def quarantine(self, rec: Record, reason: str) -> None:
        self.quarantined.append((rec.path, rec.line, reason))

    def add_tables(self, files: list[str], messages: pl.DataFrame, levels: pl.DataFrame) -> None:
        """Many messages at once from a vectorised reader: ``messages`` (:data:`MESSAGE_SCHEMA`, in
        arrival order, ``file`` indexing ``files``) and ``levels`` (:data:`LEVEL_SCHEMA`, ``msg``
        indexing ``messages``). They follow the messages already added."""
        self._flush()
        remap = pl.Series([self._files.setdefault(str(f), len(self._files)) for f in files], dtype=pl.Int64)
        base = self.n_messages
        msgs = messages.select(list(MESSAGE_SCHEMA)).cast(MESSAGE_SCHEMA).with_columns(
            file=remap.gather(pl.Series(messages["file"]).cast(pl.Int64)) if len(remap) else pl.col("file"))
        if "src_row" not in levels.columns:
            levels = levels.with_columns(src_row=pl.lit(None, pl.Int64))
        lv = levels.select(list(LEVEL_SCHEMA)).cast(LEVEL_SCHEMA).with_columns(pl.col("msg") + base)
        self._tables.append((msgs, lv, None))

    def add_scaled(self, files: list[str], messages: pl.DataFrame, counts: np.ndarray,
                   levels: dict[str, np.ndarray]) -> None:
        """Many messages at once whose levels the reader already parsed into exact integers:
        ``messages`` as for :meth:`add_tables`; ``counts`` the number of levels of each message;
        ``levels`` the :data:`SCALED_LEVEL_COLUMNS` arrays of all of them in message order (kept
        as given, not copied). The symbol's scale is chosen over these and every other level alike
        (:meth:`levels`)."""
        self.add_tables(files, messages, pl.DataFrame(schema=LEVEL_SCHEMA))
        msgs, text, _ = self._tables[-1]
        arrays = {k: np.asarray(levels[k], dtype=dt) for k, dt in SCALED_LEVEL_COLUMNS.items()}
        self._tables[-1] = (msgs, text, (np.asarray(counts, dtype=np.int64), arrays))

    def _add(self, rec, snapshot, bids, asks, first, last, prev, checksum, ts_event):
        m = self._msg
        k = len(m["snapshot"])
        ids = (_id(first, rec, "first update id"), _id(last, rec, "update id"), _id(prev, rec, "previous update id"))
        m["snapshot"].append(snapshot)
        m["ts_event"].append(rec.ts_ns if ts_event is None else ts_event)
        m["ts_recv"].append(rec.ts_ns)
        m["file"].append(self._files.setdefault(rec.path, len(self._files)))
        m["src_row"].append(rec.line)
        m["first"].append(ids[0])
        m["last"].append(ids[1])
        m["prev"].append(ids[2])
        m["checksum"].append(checksum)
        for side, levels in ((Side.BID, bids), (Side.ASK, asks)):
            if not isinstance(levels, (list, tuple)):
                raise InputError(rec.path, rec.line, f"book levels {str(levels)[:40]!r} are not a list")
            for level in levels:
                if not isinstance(level, (list, tuple)) or len(level) < 2:
                    raise InputError(rec.path, rec.line, f"book level {str(level)[:40]!r} is not [price, size, ...]")
                self._lv_msg.append(k)
                self._lv_side.append(side)
                self._lv_price.append(_text(level[0], rec, "price"))
                self._lv_size.append(_text(level[1], rec, "size"))
        if len(self._lv_msg) >= FLUSH_LEVELS:
            self._flush()

    def _flush(self) -> None:
        """Move the messages added one by one into columnar tables (bounded Python objects)."""
        m = self._msg
        if not m["snapshot"]:
            return
        base = sum(t[0].height for t in self._tables)
        msgs = pl.DataFrame({k: pl.Series(m[k], dtype=dt) for k, dt in MESSAGE_SCHEMA.items()}).with_columns(
            pl.when(pl.col(c) == NULL_ID).then(None).otherwise(pl.col(c)).alias(c) for c in ("first", "last", "prev"))
        lv = pl.DataFrame({
            "msg": pl.Series(self._lv_msg, dtype=pl.Int64) + base,
            "side": pl.Series(self._lv_side, dtype=pl.Int8),
            "price_text": pl.Series(self._lv_price, dtype=pl.String),
            "size_text": pl.Series(self._lv_size, dtype=pl.String),
        }).with_columns(src_row=pl.lit(None, pl.Int64))
        self._tables.append((msgs, lv, None))
        for column in m.values():
            column.clear()
        for column in (self._lv_msg, self._lv_side, self._lv_price, self._lv_size):
            column.clear()

    # ---------------------------------------------------------------------------- tables
    @property
    def n_messages(self) -> int:
        return len(self._msg["snapshot"]) + sum(t[0].height for t in self._tables)

    def files(self) -> list[str]:
        return list(self._files)

    def snapshot_flags(self) -> np.ndarray:
        """Whether each message is a snapshot, in arrival order."""
        return self._merged()[0]["snapshot"].to_numpy()

    def first_line(self) -> int | None:
        """The line of the first message (None: no message)."""
        rows = self._merged()[0]["src_row"]
        return int(rows[0]) if len(rows) else None

    def _raw(self) -> tuple[pl.DataFrame, pl.DataFrame, tuple[np.ndarray, dict[str, np.ndarray]]]:
        """(messages, text levels, scaled levels) as added: :data:`MESSAGE_SCHEMA` (ids NULL_ID when
        absent), :data:`LEVEL_SCHEMA` and ``(levels of each message, SCALED_LEVEL_COLUMNS arrays)``."""
        msgs, lv, scaled = self._merged()
        return msgs.with_columns(pl.col(c).fill_null(NULL_ID) for c in ("first", "last", "prev")), lv, scaled

    def _merged(self) -> tuple[pl.DataFrame, pl.DataFrame, tuple[np.ndarray, dict[str, np.ndarray]]]:
        """:meth:`_raw` with the absent ids still null: the added tables merged into one, kept (a
        column of it is read without copying the frame)."""
        self._flush()
        if len(self._tables) != 1 or self._tables[0][2] is None:
            tables = self._tables or [(pl.DataFrame(schema=MESSAGE_SCHEMA), pl.DataFrame(schema=LEVEL_SCHEMA), None)]
            parts = [t[2] for t in tables if t[2] is not None]
            counts = np.concatenate([t[2][0] if t[2] is not None else np.zeros(t[0].height, dtype=np.int64)
                                     for t in tables])
            arrays = {k: parts[0][1][k] if len(parts) == 1 else np.concatenate([p[1][k] for p in parts] or
                                                                               [np.zeros(0, dtype=dt)])
                      for k, dt in SCALED_LEVEL_COLUMNS.items()}
            self._tables = [(pl.concat([t[0] for t in tables]), pl.concat([t[1] for t in tables]), (counts, arrays))]
        return self._tables[0]

    def messages(self) -> pl.DataFrame:
        msgs = self._raw()[0]
        return msgs.with_columns(msg=pl.int_range(pl.len(), dtype=pl.Int64)).select(
            "msg", *MESSAGE_SCHEMA
        ).with_columns(
            pl.when(pl.col(c) == NULL_ID).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("first", "last", "prev")
        )

    def levels(self) -> tuple[pl.DataFrame, int, int]:
        """``(table, price_decimals, size_decimals)``; the table has pos, msg, side, src_row, price, size
        (levels in message order, ``pos`` numbering them; see :meth:`_level_arrays`)."""
        lv, price_dec, size_dec = self._level_arrays()
        msgs = self._raw()[0]
        msg = np.repeat(np.arange(msgs.height, dtype=np.int64), np.diff(lv["start"]))
        table = pl.DataFrame({
            "msg": msg, "side": lv["side"],
            "src_row": lv["src_row"] if lv["src_row"] is not None else msgs["src_row"].to_numpy()[msg],
            "price": lv["price"], "size": lv["size"],
        }, schema={"msg": pl.Int64, "side": pl.Int8, "src_row": pl.Int64, "price": pl.Int64, "size": pl.Int64})
        return table.with_row_index("pos"), price_dec, size_dec

    def _level_arrays(self) -> tuple[dict, int, int]:
        """The levels scaled, in message order: ``start`` (message ``i``'s levels are
        ``[start[i], start[i + 1])``), ``side``, ``price``, ``size``, ``src_row`` (None: each
        level's line is its message's), and the price and size decimals (:meth:`_level_stores`
        placed in one array each)."""
        lv = self._level_stores()
        idx = np.repeat(lv.start - np.cumsum(lv.count) + lv.count, lv.count) + np.arange(int(lv.count.sum()))
        out = lv.at(idx.astype(np.int64))
        if out["src_row"] is not None:
            msg_rows = np.repeat(self._raw()[0]["src_row"].to_numpy(), lv.count)
            out["src_row"] = np.where(out["src_row"] < 0, msg_rows, out["src_row"])
        out["start"] = np.concatenate([[0], np.cumsum(lv.count)]).astype(np.int64)
        return out, lv.price_decimals, lv.size_decimals

    def _level_stores(self) -> _Levels:
        """The levels, scaled where gathered (:class:`_Levels`).

        Text levels are scaled per file (:func:`scaled_integers`, errors naming that file and
        line), scaled levels (:meth:`add_scaled`) by ``mantissa * 10**(d - decimals)``; the symbol's
        scale ``10**d`` per column is the most decimals written in any of them. On bad input (a
        text level the text path rejects, a scaled level beyond int64 at the scale) every level
        goes through the text path, so that the error is the one it gives (the first bad value of
        its file, the finest value named as the cause)."""
        msgs, lv, (counts, scaled) = self._merged()
        n_scaled = len(scaled["side"])
        written = {col: int(scaled[f"{col}_f"].max()) if n_scaled else 0 for col in ("price", "size")}
        try:
            text, decimals = self._text_levels(msgs, lv, written)
            fits = all(_fits(scaled[f"{col}_m"], scaled[f"{col}_f"], decimals[col]) for col in ("price", "size"))
        except InputError:
            if not n_scaled:
                raise
            fits = False
        if not fits:
            msg = np.repeat(np.arange(msgs.height, dtype=np.int64), counts)
            as_text = pl.DataFrame({"msg": msg, **{k: scaled[k] for k in SCALED_LEVEL_COLUMNS}}).select(
                "msg", pl.col("side").cast(pl.Int8), price_text=_decimal_text("price"), size_text=_decimal_text("size"),
                src_row=pl.lit(None, pl.Int64))
            self._tables = [(msgs, pl.concat([lv, as_text]).sort("msg", maintain_order=True), None)]
            return self._level_stores()
        text_msg = text["msg"].to_numpy()
        # a message's levels are all text or all scaled: each from its own store
        start = np.cumsum(counts)
        start -= counts
        count = counts
        if text.height:  # the few messages with text levels: their count and start in the text store
            with_text, first, n_text = np.unique(text_msg, return_index=True, return_counts=True)
            count = counts.copy()
            count[with_text] += n_text
            start[with_text] = n_scaled + first
        text_rows = text["src_row"].to_numpy()
        on_own_line = text.height and np.any(text_rows != msgs["src_row"].to_numpy()[text_msg])
        return _Levels(
            count=count, start=start.astype(np.int64, copy=False), scaled=scaled,
            text={"side": text["side"].to_numpy(), "price": text["price"].to_numpy(), "size": text["size"].to_numpy(),
                  "src_row": text_rows if on_own_line else None},
            price_decimals=decimals["price"], size_decimals=decimals["size"])

    def _text_levels(self, msgs: pl.DataFrame, lv: pl.DataFrame, written: dict[str, int]):
        """The text levels scaled (:meth:`levels`), at no fewer decimals than ``written``."""
        owner = msgs.select("file", msg_row="src_row").gather(lv["msg"])  # each level's message: its file and line
        lv = lv.with_row_index("pos").with_columns(owner).with_columns(src_row=pl.coalesce("src_row", "msg_row"))
        files = self.files()
        names = dict(zip(("price", "size"), self.names))
        parts = lv.partition_by("file", as_dict=True, maintain_order=True)
        # each file's values at its own decimals first (errors name that file); the symbol's scale
        # is the largest, and only files written with fewer decimals are parsed again at it
        parsed = {
            col: {f: scaled_integers(part[f"{col}_text"], path=files[f[0]], rows=part["src_row"], what=names[col])
                  for f, part in parts.items()}
            for col in ("price", "size")
        }
        decimals = {col: max([written[col], *(d for _, d in by_file.values())]) for col, by_file in parsed.items()}
        pieces = []
        for f, part in parts.items():
            values = {}
            for col in ("price", "size"):
                v, d = parsed[col][f]
                if d != decimals[col]:
                    v, _ = scaled_integers(part[f"{col}_text"], path=files[f[0]], rows=part["src_row"],
                                           what=names[col], decimals=decimals[col])
                values[col] = v
            negative = (values["size"] < 0).arg_true()
            if negative.len():
                k = int(negative[0])
                raise InputError(files[f[0]], int(part["src_row"][k]),
                                 f"negative {names['size']} {part['size_text'][k]!r}")
            pieces.append(part.select("pos", "msg", "side", "src_row").with_columns(
                price=values["price"], size=values["size"]))
        table = (
            pl.concat(pieces).sort("pos")
            if pieces
            else pl.DataFrame(schema={"pos": pl.UInt32, "msg": pl.Int64, "side": pl.Int8, "src_row": pl.Int64,
                                      "price": pl.Int64, "size": pl.Int64})
        )
        return table, decimals

    # ------------------------------------------------------------------------ sequencing
    def sequencer(self, statuses: int = -1) -> Sequencer:
        """A fresh :class:`~._sequencer.Sequencer` with this book's rules (``statuses``: see there)."""
        seq = self.sequencing
        return Sequencer(int(Link[seq.link.upper()]), seq.sync_offset, seq.pending, int(Resync[seq.resync.upper()]),
                         statuses)

    def id_blocks(self, size: int):
        """The messages' ``(is_snapshot, first, last, prev)`` (int8, int64 with ``NULL_ID``; what the
        sequencer takes), ``size`` messages at a time in arrival order (one block: ``size`` 0)."""
        n = self.n_messages
        step = size if size > 0 else max(n, 1)
        for lo in range(0, n, step):
            part = self._message_frame(slice(lo, min(lo + step, n)))
            yield (np.ascontiguousarray(part["snapshot"].to_numpy(), dtype=np.int8),
                   *(np.ascontiguousarray(part[c].fill_null(NULL_ID).to_numpy(), dtype=np.int64)
                     for c in ("first", "last", "prev")))

    def sequenced(self) -> Sequenced:
        """The whole day sequenced at once (one block)."""
        s = self.sequencer(statuses=self.n_messages)
        items = [s.feed(*ids) for ids in self.id_blocks(0)]
        items.append(s.finish())
        order = np.concatenate(items)
        rows = BookRows(self.sequencing)
        slots = rows.add(order, end=True)
        return Sequenced(order, s.status, self.gap_frame(s.gaps, rows.gap_rows), s.counters(), *slots)

    def gap_frame(self, gaps: list[tuple[int, int, int]], rows: dict[int, int]) -> pl.DataFrame:
        """:data:`GAP_SCHEMA` of the sequencer's ``gaps`` (``rows``: message -> book row of its gap)."""
        files = self.files()
        at = self._message_frame(np.array([i for i, _, _ in gaps], dtype=np.int64)).select(
            "file", "src_row", "ts_event", pl.coalesce("ts_recv", "ts_event")).rows() if gaps else []
        gap_rows = [
            (rows[i], files[f], src_row, ts_event, ts_recv, None if e == NULL_ID else e, r)
            for (i, e, r), (f, src_row, ts_event, ts_recv) in zip(gaps, at)
        ]
        return pl.DataFrame(gap_rows, schema=GAP_SCHEMA, orient="row")

    def _message_frame(self, index: np.ndarray | slice) -> pl.DataFrame:
        """The :data:`MESSAGE_SCHEMA` rows of the messages ``index`` (positions, or a slice), ids
        null when absent."""
        msgs = self._merged()[0]
        if isinstance(index, slice):
            return msgs.slice(index.start, index.stop - index.start)
        return msgs.gather(index)

    # -------------------------------------------------------------------------- assembly
    @cached_property
    def _assembly(self) -> "_Assembly":
        """The messages and their levels (:class:`_Levels`), parsed once."""
        return _Assembly(self._merged()[0], self._level_stores())

    def _assembled(self, msg: np.ndarray, levels: bool = True) -> tuple["_Assembly", np.ndarray]:
        """An :class:`_Assembly` holding the messages ``msg`` and their indices in it (here the
        day's, held whole; ``levels``: whether the level values are needed, or only their counts)."""
        return self._assembly, msg

    def event_counts(self, msg: np.ndarray, marker: np.ndarray) -> np.ndarray:
        """Events of each book row (message ``msg``, a gap marker or not): its levels, plus the
        CLEARs of a snapshot; 1 for a message without a level and for a gap marker."""
        return self._counts(msg, marker)[0]

    def _counts(self, msg: np.ndarray, marker: np.ndarray, a: "_Assembly | None" = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(events, CLEARs, levels)`` of each book row (message ``msg`` of the assembly ``a``,
        by default :meth:`_assembled`'s; a gap marker or not)."""
        if a is None:
            a, msg = self._assembled(msg, levels=False)
        clears = (a.snapshot(msg) & ~marker) * (2 if self.clear == "sides" else 1)
        n_levels = np.where(marker, 0, a.levels.count[msg])
        return np.maximum(clears + n_levels, 1), clears, n_levels

    def events(self, sequenced: Sequenced | None = None, rows: tuple[int, int] | None = None,
               first_arrival: int = 0) -> tuple[pl.DataFrame, Sequenced]:
        """The normalized events in application order (see the module docstring); ``rows``: only
        the events of book rows ``[start, stop)``, numbered from ``first_arrival``.

        Built over whole arrays: book row ``r`` has ``count[r]`` events (``np.repeat``); event
        ``k`` of a row is its ``k``-th CLEAR, else its level ``k - clears`` (the level at
        ``start[msg] + k - clears`` of :class:`_Levels`), else the row's one no-op ``TRADE``."""
        sq = sequenced if sequenced is not None else self.sequenced()
        start, stop = rows if rows is not None else (0, len(sq.slot_msg))
        return self.row_events(sq.slot_msg[start:stop], sq.slot_marker[start:stop], sq.slot_bad[start:stop],
                               first_arrival), sq

    def row_events(self, msg: np.ndarray, marker: np.ndarray, bad: np.ndarray, first_arrival: int = 0) -> pl.DataFrame:
        """The events of the book rows ``(msg, marker, bad)`` (:class:`BookRows`), numbered from
        ``first_arrival`` (see :meth:`events`)."""
        a, msg = self._assembled(msg)
        count, clears, n_levels = self._counts(msg, marker, a)
        row = np.repeat(np.arange(len(msg), dtype=np.int64), count)
        k = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        c = clears[row]
        is_clear = k < c
        is_level = ~is_clear & (k - c < n_levels[row])
        m = msg[row]
        r = {col: values[row] for col, values in a.rows(msg).items()}  # each event's message's columns
        levels = a.levels
        got = {}
        if levels.n_scaled or len(levels.text["side"]):  # else no level at all: nothing to gather
            got = levels.at(np.where(is_level, levels.start[m] + k - c, 0))
        rows = got.get("src_row")
        clear_side = np.array([Side.NONE] if self.clear == "book" else [Side.BID, Side.ASK], dtype=np.int8)
        end = k == count[row] - 1
        live = ~marker[row]
        flags = (end * int(Flag.END_OF_MESSAGE) + (r["snapshot"] & live) * int(Flag.SNAPSHOT)
                 + (bad[row] & (k == 0)) * int(Flag.BAD_BOOK)).astype(np.uint8)
        events = pl.DataFrame({
            "ts_event": r["ts_event"],
            "ts_recv": r["ts_recv"],
            "arrival": np.arange(first_arrival, first_arrival + len(row), dtype=np.int64),
            "src_row": r["src_row"] if rows is None else np.where(is_level & (rows >= 0), rows, r["src_row"]),
            "action": np.where(is_clear, int(Action.CLEAR), np.where(is_level, int(Action.SET_LEVEL),
                                                                     int(Action.TRADE))).astype(np.int8),
            "side": np.where(is_clear, clear_side[np.minimum(k, len(clear_side) - 1)],
                             _gathered(got.get("side"), is_level)).astype(np.int8),
            "price": _gathered(got.get("price"), is_level),
            "size": _gathered(got.get("size"), is_level),
            "order_id": np.zeros(len(row), dtype=np.uint64),
            "update_id": r["last"],
            "flags": flags,
            "checksum": r["checksum"],
            "price_scale": np.full(len(row), 10**levels.price_decimals, dtype=np.int64),
            "size_scale": np.full(len(row), 10**levels.size_decimals, dtype=np.int64),
        }).with_columns(
            ts_recv=pl.when(pl.Series(r["has_ts_recv"])).then("ts_recv"),
            update_id=pl.when(pl.Series(live & r["has_last"])).then("update_id"),
            checksum=pl.when(pl.Series(end & live & r["has_checksum"])).then("checksum"),
        )
        return conform(events)

    # ---------------------------------------------------------------------------- outputs
    def quarantine_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.quarantined, schema=QUARANTINE_SCHEMA, orient="row")

    def tickers_frame(self) -> pl.DataFrame:
        one_by_one = pl.DataFrame(self.tickers, schema=TICKER_SCHEMA, orient="row")
        if not self._ticker_frames:
            return one_by_one
        return pl.concat([*self._ticker_frames, one_by_one]).sort(["ts_recv", "src_row"], maintain_order=True)

    def ticker_rows(self, sequenced: Sequenced | None = None) -> pl.DataFrame:
        """Every ticker (:data:`TICKER_SCHEMA`) with ``row``: the book row (``emit="message"``) of
        the applied diff whose last update id is the ticker's, where the ticker gives the exact top
        of book; null when no applied diff ends at its id (the last such diff when ids repeat)."""
        tickers = self.tickers_frame()
        if not tickers.height:  # nothing to place: no need to sequence
            return tickers.with_columns(row=pl.lit(None, pl.Int64))
        items = (sequenced if sequenced is not None else self.sequenced()).order
        slots = np.flatnonzero(items >= 0)
        applied = pl.DataFrame({"row": slots.astype(np.int64), "msg": items[slots]})
        ends = diff_ends(applied.join(self.messages().select("msg", "snapshot", update_id="last"), on="msg"))
        return tickers.join(ends, on="update_id", how="left", maintain_order="left")

    def ticker_blocks(self) -> Iterator[pl.DataFrame]:
        """:meth:`ticker_rows` in blocks (here one, the whole day; a book that holds its tickers
        on disk reads them a block at a time): their concatenation sorted by ``(ts_recv,
        src_row)`` (stable) is :meth:`ticker_rows`."""
        yield self.ticker_rows()

    def options(self) -> ReplayOptions:
        return ReplayOptions(window=self.window, emit="message", strict_orders=False, checksum=self.checksum)

    def report_stats(self, sq: Sequenced) -> dict:
        """The sequencing and reading counters of ``report.json`` (see :mod:`obrecon_pipeline.feeds.l2`)."""
        status = np.bincount(sq.status[sq.status >= 0].astype(np.int64), minlength=len(MessageStatus) - 1)
        return self.stats_of(sq.counters, status, sq.gaps)

    def stats_of(self, counters: dict[str, int], status: np.ndarray, gaps: pl.DataFrame) -> dict:
        """:meth:`report_stats` from the sequencer's counters, messages per status and gap frame."""
        stats = dict(counters)
        stats["messages"] = self.n_messages
        stats["quarantined"] = len(self.quarantined)
        stats.update({f"messages_{st.label}": int(status[st]) for st in MessageStatus if st >= 0})
        if gaps.height:
            first = gaps.row(0, named=True)
            stats.update({f"first_gap_{k}": v for k, v in first.items() if k != "file"})
        #: every gap located: book row, file, line, times, expected and received id
        stats["gap_list"] = gaps.to_dicts()
        if self.quarantined:
            f, row, reason = self.quarantined[0]
            stats["quarantine_first"] = f"{f}, row {row}: {reason}"
        stats.update(self.stats)
        return stats

    def to_loaded(self, stream: Stream) -> LoadedStream:
        events, sq = self.events()
        return LoadedStream(stream, events, self.options(), quarantine=self.quarantine_frame(),
                            stats=self.report_stats(sq))
