"""Coinbase Pro (Exchange) WebSocket ``level2`` channel (cryptofeed venue ``COINBASE``).

Messages (Coinbase Exchange docs, "Level2 channel"): ``{"type": "snapshot", "product_id",
"bids": [[price, size], ...], "asks": [...]}`` once per product, then ``{"type": "l2update",
"product_id", "changes": [[side, price, size], ...], "time": ISO-8601}`` with ``side`` ``"buy"``
(bid) or ``"sell"`` (ask) and ``size`` the level's new aggregate (``"0"`` removes it).

The channel has no sequence numbers and no checksum (``Sequencing(link="none")``): diffs apply in
arrival order after the snapshot. ``ts_event`` is the update's ``time`` (the snapshot has none:
its receive time). ``subscriptions``, ``ticker``, ``match``, ``last_match`` and ``heartbeat``
messages carry no level-2 data; an ``error`` or any other type is quarantined.
"""

from __future__ import annotations

import numpy as np

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, malformed, split_sides, symbols_where, triaged, type_problem
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

BOOK_TYPES = ("snapshot", "l2update")
OTHER_TYPES = ("subscriptions", "ticker", "match", "last_match", "heartbeat", "received", "open", "done", "change")


def iso_ns(text: str) -> int:
    """``"2021-04-17T16:43:37.075687Z"`` -> ns since the epoch (exact; ``ValueError`` if not ISO)."""
    return int(np.datetime64(text.removesuffix("Z"), "ns").astype(np.int64))


_problem = type_problem(BOOK_TYPES + OTHER_TYPES)


symbols = symbols_where("product_id", type=("snapshot",))


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if body["type"] not in BOOK_TYPES or body.get("product_id") != symbol:
            continue
        if body["type"] == "snapshot":
            book.snapshot(rec, body.get("bids", []), body.get("asks", []))
            continue
        try:
            ts, sides = iso_ns(body["time"]), split_sides(body["changes"])
        except MALFORMED as exc:
            book.quarantine(rec, malformed("l2update", exc))
            continue
        book.diff(rec, *sides, ts_event=ts)
    return book


register_venue(Venue(names=("COINBASE",), symbols=symbols, load=load))
