"""Bit.com WebSocket ``depth`` channel, spot and derivatives (cryptofeed venue ``BIT.COM``).

Messages (Bit.com API, "depth"): ``{"channel": "depth", "timestamp": ms, "data": {"type":
"snapshot" | "update", "pair" (spot) or "instrument_id" (derivatives), "sequence",
"prev_sequence" (updates), "bids": [[price, size], ...], "asks": [...] (snapshots),
"changes": [[side, price, size], ...] (updates)}}`` with ``side`` ``"buy"``/``"sell"`` and size
zero removing the level.

Integrity (same docs): an update's ``prev_sequence`` is the previous message's ``sequence``; it
covers ``(prev_sequence, sequence]``: ``first_id = prev_sequence + 1``, ``last_id = sequence``
(snapshot ``update_id = sequence``), ``Sequencing(link="first", sync_offset=1)``. A new snapshot
resets the book. ``ts_event`` is ``timestamp``. Subscription replies and the ticker / trade channels
carry no book data; anything else is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, split_sides, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

OTHER_CHANNELS = ("subscription", "ticker", "trade", "index_price", "mark_price")


def _symbol(data) -> str | None:
    return data.get("pair") or data.get("instrument_id") if isinstance(data, dict) else None


def _problem(body) -> str | None:
    channel = body.get("channel") if isinstance(body, dict) else None
    return None if channel == "depth" or channel in OTHER_CHANNELS else f"unknown channel {channel!r}"


def symbols(ws: Capture) -> list[str]:
    return first_seen(_symbol(rec.body.get("data")) for rec in ws.received()
                      if isinstance(rec.body, dict) and rec.body.get("channel") == "depth")


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in triaged(book, ws.received(), _problem):
        data = rec.body.get("data")
        if rec.body["channel"] != "depth" or _symbol(data) != symbol:
            continue
        try:
            seq, ts = int(data["sequence"]), int(rec.body["timestamp"]) * 1_000_000
            if data["type"] == "snapshot":
                book.snapshot(rec, data["bids"], data["asks"], update_id=seq, ts_event=ts)
            elif data["type"] == "update":
                book.diff(rec, *split_sides(data["changes"]), first_id=int(data["prev_sequence"]) + 1, last_id=seq,
                          ts_event=ts)
            else:
                book.quarantine(rec, f"depth type {data['type']!r}")
        except MALFORMED as exc:
            book.quarantine(rec, malformed("depth message", exc))
    return book


register_venue(Venue(names=("BIT.COM",), symbols=symbols, load=load))
