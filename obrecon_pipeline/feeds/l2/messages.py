"""Book messages of one symbol, as a venue module reads them, and their assembly into events.

:class:`BookMessages` collects, in arrival order, each venue message's levels as exact decimal
strings with its ids and checksum. :meth:`BookMessages.sequenced` runs the Cython sequencer
(:mod:`obrecon_pipeline.feeds.l2._sequencer`: snapshot sync, duplicates, bounded reordering, gaps)
and :meth:`BookMessages.events` assembles the normalized event table in the order the sequencer
chose, vectorised in Polars:

* a snapshot message -> ``CLEAR`` (side NONE) then one ``SET_LEVEL`` per level, all ``SNAPSHOT``;
* a diff -> one ``SET_LEVEL`` per level (size 0 removes the level);
* a message with no level, and a gap marker -> one no-op ``TRADE`` of size 0 (markers flagged
  ``BAD_BOOK``), so that every message still ends a book row;
* the last event of each message carries ``END_OF_MESSAGE``, the message's checksum and update id.

Prices and sizes become scaled integers through :func:`obrecon_pipeline.feeds.decimals.scaled_integers`
with one scale per symbol and column: ``10**d``, ``d`` = the most decimals written for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl

from obrecon_pipeline.codes import NULL_ID, Link, MessageStatus
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag, Side, conform, l2_event_columns
from obrecon_pipeline.feeds.decimals import scaled_integers
from obrecon_pipeline.feeds.l2._sequencer import sequence
from obrecon_pipeline.streams import LoadedStream, ReplayOptions, Stream

QUARANTINE_SCHEMA = {"file": pl.String, "row": pl.Int64, "reason": pl.String}
GAP_SCHEMA = {
    "row": pl.Int64,  #: book row of the gap marker (emit="message")
    "file": pl.String,
    "src_row": pl.Int64,  #: line of the first message received after the hole
    "ts_recv": pl.Int64,
    "expected": pl.Int64,
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


class Record(Protocol):
    """Where a venue message came from (a capture line, a history-file line, a CSV row)."""

    path: str  #: the raw file
    line: int  #: 1-based line / record number in it
    ts_ns: int  #: local receive time, ns since the epoch


@dataclass(frozen=True)
class Sequencing:
    """How a venue's update ids chain (see :mod:`obrecon_pipeline.replay._sequencer`).

    ``link``: ``"none"`` (no ids), ``"first"`` (``first_id == previous last_id + 1``) or ``"prev"``
    (``prev_id == previous last_id``). ``sync_offset``: a snapshot with id ``S`` syncs to the first
    diff with ``first_id <= S + sync_offset <= last_id``. ``pending``: capacity of the buffer that
    holds messages arriving ahead of a missing one.
    """

    link: str = "none"
    sync_offset: int = 1
    pending: int = 8

    def __post_init__(self):
        if self.link.upper() not in Link.__members__:
            raise ValueError(f"link must be one of {[m.name.lower() for m in Link]}, got {self.link!r}")


@dataclass
class Sequenced:
    order: np.ndarray  #: int64 items: ``i`` applies message i, ``-(i+1)`` is a gap marker at i
    status: np.ndarray  #: int8 per message (:class:`~obrecon_pipeline.codes.MessageStatus`)
    gaps: pl.DataFrame  #: :data:`GAP_SCHEMA`
    counters: dict[str, int]


def _text(value, rec: Record, what: str) -> str:
    """A decimal as text: JSON strings as sent, JSON numbers by their literal (see ``capture``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputError(rec.path, rec.line, f"{what} {value!r} is not a decimal number")


def _id(v) -> int:
    return NULL_ID if v is None else int(v)


class BookMessages:
    """One symbol's book messages from a capture (the venue-module interface's output)."""

    def __init__(self, symbol: str, sequencing: Sequencing = Sequencing(), checksum: str | None = None,
                 window: int = 0):
        self.symbol = symbol
        self.sequencing = sequencing
        self.checksum = checksum
        self.window = window
        self._files: dict[str, int] = {}
        self._msg: dict[str, list] = {k: [] for k in (
            "snapshot", "ts_event", "ts_recv", "file", "src_row", "first", "last", "prev", "checksum")}
        self._lv_msg: list[int] = []
        self._lv_side: list[int] = []
        self._lv_price: list[str] = []
        self._lv_size: list[str] = []
        self.tickers: list[tuple] = []
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

    def quarantine(self, rec: Record, reason: str) -> None:
        self.quarantined.append((rec.path, rec.line, reason))

    def _add(self, rec, snapshot, bids, asks, first, last, prev, checksum, ts_event):
        m = self._msg
        k = len(m["snapshot"])
        m["snapshot"].append(snapshot)
        m["ts_event"].append(rec.ts_ns if ts_event is None else ts_event)
        m["ts_recv"].append(rec.ts_ns)
        m["file"].append(self._files.setdefault(rec.path, len(self._files)))
        m["src_row"].append(rec.line)
        m["first"].append(_id(first))
        m["last"].append(_id(last))
        m["prev"].append(_id(prev))
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

    # ---------------------------------------------------------------------------- tables
    @property
    def n_messages(self) -> int:
        return len(self._msg["snapshot"])

    def files(self) -> list[str]:
        return list(self._files)

    def messages(self) -> pl.DataFrame:
        m = self._msg
        return pl.DataFrame(
            {
                "msg": np.arange(self.n_messages, dtype=np.int64),
                "snapshot": pl.Series(m["snapshot"], dtype=pl.Boolean),
                "ts_event": pl.Series(m["ts_event"], dtype=pl.Int64),
                "ts_recv": pl.Series(m["ts_recv"], dtype=pl.Int64),
                "file": pl.Series(m["file"], dtype=pl.Int64),
                "src_row": pl.Series(m["src_row"], dtype=pl.Int64),
                "first": pl.Series(m["first"], dtype=pl.Int64),
                "last": pl.Series(m["last"], dtype=pl.Int64),
                "prev": pl.Series(m["prev"], dtype=pl.Int64),
                "checksum": pl.Series(m["checksum"], dtype=pl.Int64),
            }
        ).with_columns(
            pl.when(pl.col(c) == NULL_ID).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("first", "last", "prev")
        )

    def levels(self) -> tuple[pl.DataFrame, int, int]:
        """``(table, price_decimals, size_decimals)``; the table has msg, pos, side, price, size."""
        msgs = self.messages()
        lv = pl.DataFrame(
            {
                "msg": pl.Series(self._lv_msg, dtype=pl.Int64),
                "side": pl.Series(self._lv_side, dtype=pl.Int8),
                "price_text": pl.Series(self._lv_price, dtype=pl.String),
                "size_text": pl.Series(self._lv_size, dtype=pl.String),
            }
        ).with_row_index("pos").join(msgs.select("msg", "file", "src_row"), on="msg", how="left")
        files = self.files()
        parts = lv.partition_by("file", as_dict=True, maintain_order=True)
        # each file's values at its own decimals first (errors name that file); the symbol's scale
        # is the largest, and only files written with fewer decimals are parsed again at it
        parsed = {
            col: {f: scaled_integers(part[f"{col}_text"], path=files[f[0]], rows=part["src_row"], what=col)
                  for f, part in parts.items()}
            for col in ("price", "size")
        }
        decimals = {col: max((d for _, d in by_file.values()), default=0) for col, by_file in parsed.items()}
        pieces = []
        for f, part in parts.items():
            values = {}
            for col in ("price", "size"):
                v, d = parsed[col][f]
                if d != decimals[col]:
                    v, _ = scaled_integers(part[f"{col}_text"], path=files[f[0]], rows=part["src_row"], what=col,
                                           decimals=decimals[col])
                values[col] = v
            pieces.append(part.select("pos", "msg", "side").with_columns(price=values["price"], size=values["size"]))
        table = (
            pl.concat(pieces).sort("pos")
            if pieces
            else pl.DataFrame(schema={"pos": pl.UInt32, "msg": pl.Int64, "side": pl.Int8, "price": pl.Int64,
                                      "size": pl.Int64})
        )
        return table, decimals["price"], decimals["size"]

    def sequenced(self) -> Sequenced:
        msgs = self.messages()
        raw = {c: np.ascontiguousarray(msgs[c].fill_null(NULL_ID).to_numpy(), dtype=np.int64)
               for c in ("first", "last", "prev")}
        seq = self.sequencing
        order, status, gaps, counters = sequence(
            np.ascontiguousarray(msgs["snapshot"].to_numpy(), dtype=np.int8),
            raw["first"], raw["last"], raw["prev"], int(Link[seq.link.upper()]), seq.sync_offset, seq.pending,
        )
        markers = np.flatnonzero(order < 0)  # book row of each gap marker (emit="message")
        rows = dict(zip((-order[markers] - 1).tolist(), markers.tolist()))
        files = self.files()
        gap_rows = [
            (rows[i], files[int(msgs["file"][i])], int(msgs["src_row"][i]), int(msgs["ts_recv"][i]), e, r)
            for i, e, r in gaps
        ]
        return Sequenced(order, status, pl.DataFrame(gap_rows, schema=GAP_SCHEMA, orient="row"), counters)

    def events(self, sequenced: Sequenced | None = None) -> tuple[pl.DataFrame, Sequenced]:
        """The normalized events in application order (see the module docstring)."""
        sq = sequenced if sequenced is not None else self.sequenced()
        msgs = self.messages()
        levels, price_dec, size_dec = self.levels()
        order = pl.DataFrame({"item": sq.order}).with_row_index("slot").with_columns(
            marker=pl.col("item") < 0,
            msg=pl.when(pl.col("item") < 0).then(-pl.col("item") - 1).otherwise(pl.col("item")),
        )
        applied = order.filter(~pl.col("marker")).select("slot", "msg")
        lv_rows = applied.join(levels, on="msg", how="inner").select(
            "slot", "msg", sub=pl.col("pos").cast(pl.Int64), action=pl.lit(int(Action.SET_LEVEL), pl.Int8),
            side="side", price="price", size="size",
        )
        snaps = msgs.filter("snapshot").select("msg")
        clear_rows = applied.join(snaps, on="msg", how="inner").select(
            "slot", "msg", sub=pl.lit(-1, pl.Int64), action=pl.lit(int(Action.CLEAR), pl.Int8),
            side=pl.lit(int(Side.NONE), pl.Int8), price=pl.lit(0, pl.Int64), size=pl.lit(0, pl.Int64),
        )
        with_rows = pl.concat([lv_rows.select("slot"), clear_rows.select("slot")]).unique()
        noop_rows = order.join(with_rows, on="slot", how="anti").select(
            "slot", "msg", sub=pl.lit(0, pl.Int64), action=pl.lit(int(Action.TRADE), pl.Int8),
            side=pl.lit(int(Side.NONE), pl.Int8), price=pl.lit(0, pl.Int64), size=pl.lit(0, pl.Int64),
        )
        ev = (
            pl.concat([clear_rows, lv_rows, noop_rows])
            .sort("slot", "sub")
            .join(order.select("slot", "marker"), on="slot", how="left")
            .join(msgs, on="msg", how="left")
            .with_columns(end=pl.col("slot") != pl.col("slot").shift(-1, fill_value=-1))
        )
        flags = (
            pl.when(pl.col("end")).then(int(Flag.END_OF_MESSAGE)).otherwise(0)
            + pl.when(pl.col("snapshot") & ~pl.col("marker")).then(int(Flag.SNAPSHOT)).otherwise(0)
            + pl.when(pl.col("marker")).then(int(Flag.BAD_BOOK)).otherwise(0)
        )
        events = ev.select(
            *l2_event_columns(price_dec, size_dec),
            ts_event="ts_event",
            ts_recv="ts_recv",
            update_id=pl.when(pl.col("marker")).then(None).otherwise(pl.col("last")),
            flags=flags.cast(pl.UInt8),
            checksum=pl.when(pl.col("end") & ~pl.col("marker")).then(pl.col("checksum")).otherwise(None),
        )
        return conform(events), sq

    def quarantine_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.quarantined, schema=QUARANTINE_SCHEMA, orient="row")

    def tickers_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.tickers, schema=TICKER_SCHEMA, orient="row")

    def ticker_rows(self, sequenced: Sequenced | None = None) -> pl.DataFrame:
        """Every ticker (:data:`TICKER_SCHEMA`) with ``row``: the book row (``emit="message"``) of
        the applied diff whose last update id is the ticker's, where the ticker gives the exact top
        of book; null when no applied diff ends at its id (the last such diff when ids repeat)."""
        items = (sequenced if sequenced is not None else self.sequenced()).order
        slots = np.flatnonzero(items >= 0)
        applied = pl.DataFrame({"row": slots.astype(np.int64), "msg": items[slots]})
        ends = (
            applied.join(self.messages().select("msg", "snapshot", update_id="last"), on="msg")
            .filter(~pl.col("snapshot") & pl.col("update_id").is_not_null())
            .group_by("update_id").agg(pl.col("row").max())
        )
        return self.tickers_frame().join(ends, on="update_id", how="left", maintain_order="left")

    def to_loaded(self, stream: Stream) -> LoadedStream:
        events, sq = self.events()
        status = np.bincount(sq.status[sq.status >= 0].astype(np.int64), minlength=len(MessageStatus) - 1)
        stats = dict(sq.counters)
        stats["messages"] = self.n_messages
        stats["quarantined"] = len(self.quarantined)
        stats.update({f"messages_{st.label}": int(status[st]) for st in MessageStatus if st >= 0})
        if sq.gaps.height:
            first = sq.gaps.row(0, named=True)
            stats.update({f"first_gap_{k}": v for k, v in first.items() if k != "file"})
        #: every gap located: book row, file, line, receive time, expected and received id
        stats["gap_list"] = sq.gaps.to_dicts()
        if self.quarantined:
            f, row, reason = self.quarantined[0]
            stats["quarantine_first"] = f"{f}, row {row}: {reason}"
        return LoadedStream(
            stream,
            events,
            ReplayOptions(window=self.window, emit="message", strict_orders=False, checksum=self.checksum),
            quarantine=self.quarantine_frame(),
            stats=stats,
        )
