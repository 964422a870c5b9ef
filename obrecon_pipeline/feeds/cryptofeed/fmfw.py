"""FMFW.io WebSocket API v3 ``orderbook/full`` channel (cryptofeed venue ``FMFW``).

Messages (FMFW / HitBTC API v3, "Full order book"): ``{"ch": "orderbook/full", "snapshot" |
"update": {SYMBOL: {"t": ms, "s": sequence, "a": [[price, size], ...], "b": [...]}}}``; an update
sets each listed level (size ``"0"`` removes it).

Integrity (same docs): ``s`` grows by one per message of a symbol: ``Sequencing(link="first",
sync_offset=1)`` with ``first_id = last_id = s`` (snapshot ``update_id = s``); a missing number is a
located gap, the book invalid until the next snapshot. ``ts_event`` is ``t``. Subscription results
and the ticker / trades channels carry no book data; an ``error`` reply is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

CHANNEL = "orderbook/full"


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        body = rec.body
        if isinstance(body, dict) and body.get("ch") == CHANNEL:
            for kind in ("snapshot", "update"):
                for sym in body.get(kind, {}):
                    found.setdefault(sym)
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in ws.received():
        body = rec.body
        if not isinstance(body, dict):
            book.quarantine(rec, "not an FMFW JSON object")
            continue
        if "error" in body:
            book.quarantine(rec, f"error {body['error']}")
            continue
        if body.get("ch") != CHANNEL:
            continue
        for kind in ("snapshot", "update"):
            part = body.get(kind, {}).get(symbol)
            if part is None:
                continue
            try:
                seq, ts = int(part["s"]), int(part["t"]) * 1_000_000
                bids, asks = part.get("b", []), part.get("a", [])
                if kind == "snapshot":
                    book.snapshot(rec, bids, asks, update_id=seq, ts_event=ts)
                else:
                    book.diff(rec, bids, asks, first_id=seq, last_id=seq, ts_event=ts)
            except (KeyError, TypeError, ValueError) as exc:
                book.quarantine(rec, f"malformed orderbook/full {kind} ({type(exc).__name__}: {exc})")
    return book


register_venue(Venue(names=("FMFW",), symbols=symbols, load=load))
