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
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

OTHER_TYPES = ("subscriptions", "ticker", "match", "last_match", "heartbeat", "received", "open", "done", "change")
SIDES = {"buy": 0, "sell": 1}


def iso_ns(text: str) -> int:
    """``"2021-04-17T16:43:37.075687Z"`` -> ns since the epoch (exact; ``ValueError`` if not ISO)."""
    return int(np.datetime64(text.removesuffix("Z"), "ns").astype(np.int64))


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        if isinstance(rec.body, dict) and rec.body.get("type") == "snapshot":
            found.setdefault(rec.body.get("product_id"))
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    for rec in ws.received():
        body = rec.body
        kind = body.get("type") if isinstance(body, dict) else None
        if kind in OTHER_TYPES:
            continue
        if kind not in ("snapshot", "l2update"):
            book.quarantine(rec, f"message type {kind!r}" + (f": {body.get('message')}" if kind == "error" else ""))
            continue
        if body.get("product_id") != symbol:
            continue
        if kind == "snapshot":
            book.snapshot(rec, body.get("bids", []), body.get("asks", []))
            continue
        try:
            ts = iso_ns(body["time"])
            sides: tuple[list, list] = ([], [])
            for side, price, size in body["changes"]:
                sides[SIDES[side]].append((price, size))
        except (KeyError, TypeError, ValueError) as exc:
            book.quarantine(rec, f"malformed l2update ({type(exc).__name__}: {exc})")
            continue
        book.diff(rec, sides[0], sides[1], ts_event=ts)
    return book


register_venue(Venue(names=("COINBASE",), symbols=symbols, load=load))
