"""Kraken Futures WebSocket v1 ``book`` feed (cryptofeed venue ``KRAKEN_FUTURES``).

Messages (Kraken Futures API, "Book"): ``{"feed": "book_snapshot", "product_id", "seq",
"timestamp": ms, "bids": [{"price", "qty"}, ...], "asks": [...]}`` then one level per message,
``{"feed": "book", "product_id", "side": "buy" | "sell", "seq", "price", "qty", "timestamp"}``
(``qty`` the level's new size, 0 removes it). Prices and sizes arrive as JSON numbers and are kept
as their literal text.

Integrity (same docs): ``seq`` grows by one per message of a product; a missing number is a lost
update. ``Sequencing(link="first", sync_offset=1)`` with ``first_id = last_id = seq`` and the
snapshot's ``update_id = seq``: a lost message is a located gap, the book is invalid until the next
snapshot. ``ts_event`` is ``timestamp``. ``info``/``subscribed`` events and the trade and ticker
feeds carry no book data; an ``error`` or ``alert`` event is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, object_problem, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

CONTROL_EVENTS = ("info", "subscribed", "unsubscribed", "heartbeat")
BOOK_FEEDS = ("book_snapshot", "book")


def _levels(raw) -> list[tuple[str, str]]:
    return [(str(level["price"]), str(level["qty"])) for level in raw]


def _problem(body) -> str | None:
    if isinstance(body, dict) and "event" in body and body["event"] not in CONTROL_EVENTS:
        return f"event {body['event']!r}: {body.get('message')}"
    return object_problem(body, "a Kraken Futures JSON object", error=None)


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body["product_id"] for rec in ws.received()
                      if isinstance(rec.body, dict) and rec.body.get("feed") in BOOK_FEEDS and "product_id" in rec.body)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if "event" in body or body.get("feed") not in BOOK_FEEDS or body.get("product_id") != symbol:
            continue
        try:
            seq, ts = int(body["seq"]), int(body["timestamp"]) * 1_000_000
            if body["feed"] == "book_snapshot":
                book.snapshot(rec, _levels(body["bids"]), _levels(body["asks"]), update_id=seq, ts_event=ts)
            else:
                level = [(str(body["price"]), str(body["qty"]))]
                side = {"buy": (level, []), "sell": ([], level)}[body["side"]]
                book.diff(rec, *side, first_id=seq, last_id=seq, ts_event=ts)
        except MALFORMED as exc:
            book.quarantine(rec, malformed(f"{body['feed']} message", exc))
    return book


register_venue(Venue(names=("KRAKEN_FUTURES",), symbols=symbols, load=load))
