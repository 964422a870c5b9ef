"""Blockchain.com Exchange WebSocket ``l2`` channel (cryptofeed venue ``BLOCKCHAIN``).

Messages (Blockchain.com Exchange API, "L2 Order Book"): ``{"seqnum", "event": "snapshot" |
"updated", "channel": "l2", "symbol", "bids": [{"px", "qty", "num"}, ...], "asks": [...],
"timestamp": ISO-8601 (updates)}``; ``qty`` is the level's new size (0 removes it). Prices arrive as
JSON numbers, often in exponent form (``1.6E-7``), and are kept as their literal text.

``seqnum`` numbers every message of the connection (all channels): book messages get their id
range from it (:mod:`obrecon_pipeline.feeds.l2.connseq`, ``Sequencing(link="first")``), so a
hole is a located gap and the book is invalid until the next snapshot. ``ts_event`` is an update's
``timestamp`` (the snapshot's receive time). Subscription events and the trades channel carry no
book data; a ``rejected`` event or an unknown channel is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.coinbase import iso_ns
from obrecon_pipeline.feeds.l2.connseq import ConnectionSequence
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

OTHER_CHANNELS = ("trades", "ticker", "prices", "heartbeat", "symbols")


def _levels(raw) -> list[tuple[str, str]]:
    return [(str(level["px"]), str(level["qty"])) for level in raw]


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body["symbol"] for rec in ws.received()
                      if isinstance(rec.body, dict) and rec.body.get("channel") == "l2"
                      and rec.body.get("event") == "snapshot")


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    conn = ConnectionSequence()
    last_book = None
    for rec in ws.received():
        body = rec.body
        if not (isinstance(body, dict) and isinstance(body.get("seqnum"), int)):
            book.quarantine(rec, "message without an integer seqnum")
            continue
        seq = body["seqnum"]
        conn.see(seq)
        channel, event = body.get("channel"), body.get("event")
        if event == "rejected" or (channel != "l2" and channel not in OTHER_CHANNELS):
            book.quarantine(rec, f"event {event!r} on channel {channel!r}: {body.get('text', '')}")
            continue
        if channel != "l2" or body.get("symbol") != symbol or event not in ("snapshot", "updated"):
            continue
        try:
            bids, asks = _levels(body.get("bids", [])), _levels(body.get("asks", []))
            if event == "snapshot":
                book.snapshot(rec, bids, asks, update_id=seq)
            else:
                book.diff(rec, bids, asks, first_id=conn.first_id(seq, last_book), last_id=seq,
                          ts_event=iso_ns(body["timestamp"]))
        except MALFORMED as exc:
            book.quarantine(rec, malformed("l2 message", exc))
            continue
        last_book = seq if last_book is None else max(last_book, seq)
    return book


register_venue(Venue(names=("BLOCKCHAIN",), symbols=symbols, load=load))
