"""Gemini market data v2 ``l2`` subscription (cryptofeed venue ``GEMINI``).

Messages (Gemini docs, "Market Data Version 2"): ``{"type": "l2_updates", "symbol", "changes":
[[side, price, size], ...]}`` with ``side`` ``"buy"``/``"sell"`` and ``size`` the level's new
aggregate (``"0"`` removes it). The **first** ``l2_updates`` of a symbol after subscribing lists
the whole book: it is the snapshot; the following ones are diffs. ``trade`` and ``heartbeat``
messages carry no book data; anything else is quarantined.

v2 has no sequence numbers and no checksum (``Sequencing(link="none")``); ``ts_event`` is the
receive time (``l2_updates`` carry no timestamp).
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

OTHER_TYPES = ("trade", "heartbeat", "candles_1m_updates", "auction_result", "auction_indicative")
SIDES = {"buy": 0, "sell": 1}


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        if isinstance(rec.body, dict) and rec.body.get("type") == "l2_updates":
            found.setdefault(rec.body.get("symbol"))
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    seen_book = False
    for rec in ws.received():
        body = rec.body
        kind = body.get("type") if isinstance(body, dict) else None
        if kind in OTHER_TYPES:
            continue
        if kind != "l2_updates":
            book.quarantine(rec, f"message type {kind!r}")
            continue
        if body.get("symbol") != symbol:
            continue
        try:
            sides: tuple[list, list] = ([], [])
            for side, price, size in body["changes"]:
                sides[SIDES[side]].append((price, size))
        except (KeyError, TypeError, ValueError) as exc:
            book.quarantine(rec, f"malformed l2_updates ({type(exc).__name__}: {exc})")
            continue
        if seen_book:
            book.diff(rec, *sides)
        else:
            book.snapshot(rec, *sides)
            seen_book = True
    return book


register_venue(Venue(names=("GEMINI",), symbols=symbols, load=load))
