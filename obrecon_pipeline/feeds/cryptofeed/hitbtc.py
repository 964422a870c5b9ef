"""HitBTC / Bequant WebSocket API v2 ``subscribeOrderbook`` (cryptofeed venues ``HITBTC``, ``BEQUANT``).

Notifications (HitBTC API v2, "Subscribe to orderbook"): ``{"method": "snapshotOrderbook" |
"updateOrderbook", "params": {"ask": [{"price", "size"}, ...], "bid": [...], "sequence",
"timestamp": ISO-8601, "symbol"}}``; an update sets each listed level (size ``"0"`` removes it).
Bequant runs the same API.

Integrity (same docs): ``sequence`` grows by exactly one per notification of a symbol, and a new
``snapshotOrderbook`` resets the book. Each notification is its own id:
``Sequencing(link="first", sync_offset=1)`` with ``first_id = last_id = sequence`` and the
snapshot's ``update_id = sequence``; a missing number is a located gap, the book invalid until the
next snapshot. ``ts_event`` is ``timestamp``. Ticker / trades / candles notifications and RPC
replies carry no book data; an ``error`` reply is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, object_problem, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.coinbase import iso_ns
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

BOOK_METHODS = ("snapshotOrderbook", "updateOrderbook")


def _levels(raw) -> list[tuple[str, str]]:
    return [(level["price"], level["size"]) for level in raw]


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body["params"]["symbol"] for rec in ws.received()
                      if isinstance(rec.body, dict) and rec.body.get("method") in BOOK_METHODS)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in triaged(book, ws.received(), lambda body: object_problem(body, "a JSON-RPC object", "RPC error {}")):
        body = rec.body
        if body.get("method") not in BOOK_METHODS:
            continue
        params = body.get("params") or {}
        if params.get("symbol") != symbol:
            continue
        try:
            bids, asks = _levels(params["bid"]), _levels(params["ask"])
            seq, ts = int(params["sequence"]), iso_ns(params["timestamp"])
        except MALFORMED as exc:
            book.quarantine(rec, malformed(body["method"], exc))
            continue
        book.message(rec, body["method"] == "snapshotOrderbook", bids, asks, first_id=seq, last_id=seq, ts_event=ts)
    return book


register_venue(Venue(names=("HITBTC", "BEQUANT"), symbols=symbols, load=load))
