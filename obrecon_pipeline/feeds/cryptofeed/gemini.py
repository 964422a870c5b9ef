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
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, malformed, split_sides, symbols_where, triaged, type_problem
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

OTHER_TYPES = ("trade", "heartbeat", "candles_1m_updates", "auction_result", "auction_indicative")


_problem = type_problem(("l2_updates", *OTHER_TYPES))


symbols = symbols_where("symbol", type=("l2_updates",))


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    seen_book = False
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if body["type"] != "l2_updates" or body.get("symbol") != symbol:
            continue
        try:
            sides = split_sides(body["changes"])
        except MALFORMED as exc:
            book.quarantine(rec, malformed("l2_updates", exc))
            continue
        book.message(rec, not seen_book, *sides)
        seen_book = True
    return book


register_venue(Venue(names=("GEMINI",), symbols=symbols, load=load))
