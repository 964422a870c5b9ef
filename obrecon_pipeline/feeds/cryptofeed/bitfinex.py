"""Bitfinex WebSocket v2 ``book`` channel, precision ``P0`` (cryptofeed venue ``BITFINEX``).

Channel messages are arrays ``[chanId, payload, seq]`` (Bitfinex docs, "Books" and
"Configuration / SEQ_ALL"):

* snapshot: ``payload = [[price, count, amount], ...]``; update: ``payload = [price, count, amount]``;
* ``amount > 0`` is a bid, ``< 0`` an ask, of aggregate size ``|amount|``; ``count == 0`` removes the
  level (``amount`` is then ``1`` for a bid, ``-1`` for an ask);
* ``"hb"`` payloads are heartbeats; ``chanId`` is bound to a channel and symbol by the
  ``{"event": "subscribed", ...}`` message (which may be logged after the channel's first heartbeats).

With ``conf`` flag 65536 (SEQ_ALL) every channel message carries ``seq``, one counter for the
whole connection (all channels): book messages get their id range from it
(:mod:`obrecon_pipeline.feeds.l2.connseq`, ``Sequencing(link="first")``), so a hole in the
connection sequence is a located gap and the book is invalid until the next snapshot.

Book messages have no venue timestamp: ``ts_event`` is the receive time. Prices and amounts arrive
as JSON numbers; the capture reader keeps them as their literal text (no float). ``len`` is the
window (levels entering it are sent as updates).
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import first_seen
from obrecon_pipeline.feeds.cryptofeed.capture import Capture, Record
from obrecon_pipeline.feeds.l2.connseq import ConnectionSequence
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

EVENTS = ("info", "conf", "subscribed", "unsubscribed", "pong")


def _channels(ws: Capture) -> dict[int, dict]:
    """``chanId -> subscribed event`` over the whole capture."""
    return {
        rec.body["chanId"]: rec.body
        for rec in ws.received()
        if isinstance(rec.body, dict) and rec.body.get("event") == "subscribed" and "chanId" in rec.body
    }


def symbols(ws: Capture) -> list[str]:
    return first_seen(sub["symbol"] for sub in _channels(ws).values() if sub.get("channel") == "book")


def _text(value) -> str:
    """A JSON number as its literal decimal text (ints arrive as int, floats as their string)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r} is not a number")
    return str(value)


def _level(entry) -> tuple[bool, str, str]:
    """``(is_bid, price, size)`` of a ``[price, count, amount]`` entry."""
    if not (isinstance(entry, list) and len(entry) == 3):
        raise ValueError(f"book entry {entry!r} is not [price, count, amount]")
    price, count, amount = (_text(v) for v in entry)
    is_bid = not amount.startswith("-")
    size = "0" if count == "0" else amount.lstrip("-")
    return is_bid, price, size


def _sides(entries) -> tuple[list, list]:
    bids, asks = [], []
    for entry in entries:
        is_bid, price, size = _level(entry)
        (bids if is_bid else asks).append((price, size))
    return bids, asks


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    channels = _channels(ws)
    mine = {cid for cid, sub in channels.items() if sub.get("channel") == "book" and sub.get("symbol") == symbol}
    window = max((int(channels[cid].get("len", 0)) for cid in mine), default=0)
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1), window=window)
    conn = ConnectionSequence()
    last_book = None  # connection number of this symbol's previous book message
    for rec in ws.received():
        body = rec.body
        if isinstance(body, dict):
            if body.get("event") not in EVENTS:
                book.quarantine(rec, f"event {body.get('event')!r}: {body.get('msg', body)}")
            continue
        if not (isinstance(body, list) and len(body) >= 3 and isinstance(body[0], int) and isinstance(body[-1], int)):
            book.quarantine(rec, "not a [chanId, payload, seq] channel message")
            continue
        seq = body[-1]
        conn.see(seq)
        if body[0] not in channels:
            book.quarantine(rec, f"channel id {body[0]} was never subscribed")
            continue
        if body[0] not in mine or body[1] == "hb":
            continue
        _apply(book, rec, body[1], seq, conn.first_id(seq, last_book))
        last_book = seq if last_book is None else max(last_book, seq)
    return book


def _apply(book: BookMessages, rec: Record, payload, seq: int, first_id: int) -> None:
    try:
        if isinstance(payload, list) and all(isinstance(e, list) for e in payload):  # [] = empty book
            bids, asks = _sides(payload)
            book.snapshot(rec, bids, asks, update_id=seq)
        elif isinstance(payload, list) and len(payload) == 3:
            bids, asks = _sides([payload])
            book.diff(rec, bids, asks, first_id=first_id, last_id=seq)
        else:
            book.quarantine(rec, f"book payload {str(payload)[:60]!r} is neither a snapshot nor an update")
    except ValueError as exc:
        book.quarantine(rec, str(exc))


register_venue(Venue(names=("BITFINEX",), symbols=symbols, load=load))
