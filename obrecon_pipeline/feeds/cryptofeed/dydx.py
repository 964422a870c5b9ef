"""dYdX v3 websocket ``v3_orderbook`` channel (cryptofeed venue ``DYDX``).

Messages (dYdX v3 API docs, "WebSocket API / Orderbook", subscribed with ``includeOffsets``):
``{"type": "subscribed", "channel": "v3_orderbook", "id": MARKET, "contents": {"bids": [{"price",
"size", "offset"}, ...], "asks": [...]}}`` is the book when the subscription starts, then
``{"type": "channel_data", "channel": "v3_orderbook", "id": MARKET, "contents": {"offset", "bids":
[[price, size], ...], "asks": [...]}}`` gives the new aggregate size of each level listed (``"0"``
removes it). There is no timestamp, per-book sequence number or checksum: ``ts_event`` is the
receive time and ``Sequencing(link="none")``. (``message_id`` numbers every message of the
connection, all channels together; it is not used: in the shipped capture all ids 0..4732 arrive.)

Per-level offsets
=================
Per the docs, updates can be received out of order: an update to a price level applies only if
its ``offset`` is greater than the offset last applied to that level. The snapshot gives each
level's offset, levels at size ``"0"`` included (their offset still stops an older update from
bringing the level back). Instead of a per-level dict in a Python loop, :func:`fresh_levels` does this for all of
a symbol's level updates at once, in Polars: snapshot levels and diff levels in arrival order, one
group per (book epoch, side, price), ``prev = offset.cum_max().shift(1)`` over the group (the
highest offset the level has seen before), and an update is kept when it is a snapshot level,
``prev`` is null or ``offset > prev`` (strictly, as the rule is stated; no level in the capture
sees the same offset twice). The epoch is the number of snapshots received so far, so a
new snapshot starts the levels' history afresh, as the replayer's ``CLEAR`` starts the book.

:class:`BookMessages` applies every level it is given, so the filter runs before it: :func:`load`
reads the JSON into one level table, filters it and hands on only the kept levels (the snapshot
without its size-0 levels, which only seed offsets). A diff whose every level is stale changes
nothing and is not handed on. The counts go to the stream stats as ``stale_level_updates`` and
``stale_messages`` (:class:`OffsetBook`). ``subscribed``/``channel_data`` of other channels
(``v3_trades``, ...), ``connected`` and ``unsubscribed`` carry no book data; an ``error`` or any
other message type is quarantined.

Other implementations of the rule: cryptofeed ``exchanges/dydx.py`` (``_offsets``, one dict per
market, skipping offsets below the level's) and tardis-dev's ``DydxBookChangeMapper`` (one dict per
side). On the shipped capture, per side or per market gives the same 34 stale updates.
"""

from __future__ import annotations

import polars as pl

from obrecon_pipeline.events import Side
from obrecon_pipeline.streams import LoadedStream, Stream
from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, triaged, type_problem
from obrecon_pipeline.feeds.cryptofeed.capture import Capture, Record
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing
from obrecon_pipeline.feeds.decimals import scaled_integers

CHANNEL = "v3_orderbook"
BOOK_TYPES = ("subscribed", "channel_data")
OTHER_TYPES = ("connected", "unsubscribed")
SIDES = (("bids", Side.BID), ("asks", Side.ASK))

#: one row per level update: message index (arrival order), book epoch (snapshots received so far),
#: snapshot flag, side, price and size as sent, the level's offset and the line it came from
LEVEL_SCHEMA = {"msg": pl.Int64, "epoch": pl.Int64, "snapshot": pl.Boolean, "side": pl.Int8,
                "price": pl.String, "size": pl.String, "offset": pl.Int64, "src_row": pl.Int64}


class OffsetBook(BookMessages):
    """:class:`BookMessages` whose stats also count the updates the offset filter dropped."""

    def __init__(self, symbol: str, sequencing: Sequencing):
        super().__init__(symbol, sequencing)
        self.stale_level_updates = 0  #: level updates not newer than their level's last offset
        self.stale_messages = 0  #: diffs whose every level was stale (not handed on)

    def to_loaded(self, stream: Stream) -> LoadedStream:
        loaded = super().to_loaded(stream)
        loaded.stats["stale_level_updates"] = self.stale_level_updates
        loaded.stats["stale_messages"] = self.stale_messages
        return loaded


def _book_body(body) -> bool:
    return isinstance(body, dict) and body.get("type") in BOOK_TYPES and body.get("channel") == CHANNEL


_problem = type_problem(BOOK_TYPES + OTHER_TYPES)


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body.get("id") for rec in ws.received() if _book_body(rec.body))


def _decimal(value) -> str:
    """A price or size as text (JSON strings as sent, JSON integers by their digits)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{value!r} is not a decimal number")


def _levels(body, k: int, epoch: int, line: int) -> list[tuple]:
    """The rows (:data:`LEVEL_SCHEMA`) of message ``k``; a missing or mistyped field raises one of
    :data:`MALFORMED`."""
    contents = body["contents"]
    snapshot = body["type"] == "subscribed"
    rows = []
    for key, side in SIDES:
        for level in contents[key]:
            if snapshot:
                price, size, offset = level["price"], level["size"], level["offset"]
            else:
                (price, size), offset = level, contents["offset"]
            rows.append((k, epoch, snapshot, side, _decimal(price), _decimal(size), int(offset), line))
    return rows


def fresh_levels(levels: pl.DataFrame, path: str) -> pl.DataFrame:
    """``levels`` (:data:`LEVEL_SCHEMA`, arrival order) with Booleans ``keep`` (snapshot levels, and
    updates whose offset exceeds every earlier offset of their (epoch, side, price) level, see the
    module docstring) and ``zero`` (size 0). Prices and sizes are compared as exact scaled integers."""
    ticks, _ = scaled_integers(levels["price"], path=path, rows=levels["src_row"], what="price")
    lots, _ = scaled_integers(levels["size"], path=path, rows=levels["src_row"], what="size")
    prev = pl.col("offset").cum_max().shift(1).over("epoch", "side", "ticks")
    return (
        levels.with_columns(ticks=ticks, zero=lots == 0)
        .with_columns(keep=pl.col("snapshot") | prev.is_null() | (pl.col("offset") > prev))
        .drop("ticks")
    )


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = OffsetBook(symbol, Sequencing(link="none"))
    records: list[Record] = []
    rows: list[tuple] = []
    epoch = 0
    for rec in triaged(book, ws.received(), _problem):
        if not _book_body(rec.body) or rec.body.get("id") != symbol:
            continue
        snapshot = rec.body["type"] == "subscribed"
        try:
            found = _levels(rec.body, len(records), epoch + snapshot, rec.line)
        except MALFORMED as exc:
            book.quarantine(rec, malformed(f"{CHANNEL} message", exc))
            continue
        epoch += snapshot
        records.append(rec)
        rows.extend(found)
    levels = fresh_levels(pl.DataFrame(rows, schema=LEVEL_SCHEMA, orient="row"), str(ws.path))
    book.stale_level_updates = int((~levels["keep"]).sum())
    # size-0 snapshot levels only seed offsets; a message left with no level changes nothing
    handed = levels.filter(pl.col("keep") & ~(pl.col("snapshot") & pl.col("zero")))
    by_msg = handed.partition_by("msg", as_dict=True, include_key=False, maintain_order=True)
    had_levels = set(levels["msg"].unique().to_list())
    for k, rec in enumerate(records):
        snapshot = rec.body["type"] == "subscribed"
        part = by_msg.get((k,))
        if part is None and not snapshot and k in had_levels:
            book.stale_messages += 1
            continue
        sides = {side: [] for _, side in SIDES}
        if part is not None:
            for side, price, size in part.select("side", "price", "size").iter_rows():
                sides[side].append((price, size))
        book.message(rec, snapshot, sides[Side.BID], sides[Side.ASK])
    return book


register_venue(Venue(names=("DYDX",), symbols=symbols, load=load))
