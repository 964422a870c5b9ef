"""Poloniex spot WebSocket ``book_lv2`` channel (2022 API; cryptofeed venue ``POLONIEX``).

Messages (Poloniex spot API, "Book Level 2"): ``{"channel": "book_lv2", "action": "snapshot" |
"update", "data": [{"symbol", "asks": [[price, size], ...], "bids": [...], "id", "lastId", "ts"}]}``.
The snapshot holds the top 20 levels (the window); updates set levels (size ``"0"`` removes one).

Integrity (same docs): ``lastId`` is the ``id`` of the previous message of the symbol; a mismatch
means a message was lost. A message covers ``(lastId, id]``: ``first_id = lastId + 1``,
``last_id = id`` (snapshot ``update_id = id``) with ``Sequencing(link="first", sync_offset=1)``.
``ts_event`` is ``ts``. Subscription events and other channels carry no book data; an ``error``
event is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, message_of_kind, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

CHANNEL = "book_lv2"


def _parts(body) -> list[dict]:
    if isinstance(body, dict) and body.get("channel") == CHANNEL and isinstance(body.get("data"), list):
        return [p for p in body["data"] if isinstance(p, dict)]
    return []


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "not a Poloniex JSON object"
    return f"error event: {body.get('message')}" if body.get("event") == "error" else None


def symbols(ws: Capture) -> list[str]:
    return first_seen(part.get("symbol") for rec in ws.received() for part in _parts(rec.body))


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1), window=20)
    for rec in triaged(book, ws.received(), _problem):
        action = rec.body.get("action")
        for part in _parts(rec.body):
            if part.get("symbol") != symbol:
                continue
            try:
                last_id, ts = int(part["id"]), int(part["ts"]) * 1_000_000
                bids, asks = part["bids"], part["asks"]
                first_id = int(part["lastId"]) + 1 if action == "update" else None
            except MALFORMED as exc:
                book.quarantine(rec, malformed("book_lv2 message", exc))
                continue
            message_of_kind(book, rec, action, "snapshot", "update", "book_lv2 action", bids, asks,
                            first_id=first_id, last_id=last_id, ts_event=ts)
    return book


register_venue(Venue(names=("POLONIEX",), symbols=symbols, load=load))
