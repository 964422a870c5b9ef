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
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

CHANNEL = "book_lv2"


def _parts(body) -> list[dict]:
    if isinstance(body, dict) and body.get("channel") == CHANNEL and isinstance(body.get("data"), list):
        return [p for p in body["data"] if isinstance(p, dict)]
    return []


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        for part in _parts(rec.body):
            found.setdefault(part.get("symbol"))
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1), window=20)
    for rec in ws.received():
        body = rec.body
        if not isinstance(body, dict):
            book.quarantine(rec, "not a Poloniex JSON object")
            continue
        if body.get("event") == "error":
            book.quarantine(rec, f"error event: {body.get('message')}")
            continue
        for part in _parts(body):
            if part.get("symbol") != symbol:
                continue
            try:
                last_id, ts = int(part["id"]), int(part["ts"]) * 1_000_000
                bids, asks = part["bids"], part["asks"]
                if body.get("action") == "snapshot":
                    book.snapshot(rec, bids, asks, update_id=last_id, ts_event=ts)
                elif body.get("action") == "update":
                    book.diff(rec, bids, asks, first_id=int(part["lastId"]) + 1, last_id=last_id, ts_event=ts)
                else:
                    book.quarantine(rec, f"book_lv2 action {body.get('action')!r}")
            except (KeyError, TypeError, ValueError) as exc:
                book.quarantine(rec, f"malformed book_lv2 message ({type(exc).__name__}: {exc})")
    return book


register_venue(Venue(names=("POLONIEX",), symbols=symbols, load=load))
