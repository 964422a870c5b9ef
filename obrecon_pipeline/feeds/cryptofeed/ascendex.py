"""AscendEX WebSocket ``depth`` channel with ``depth-snapshot`` requests, spot and futures
(cryptofeed venues ``ASCENDEX``, ``ASCENDEX_FUTURES``).

Messages (AscendEX API, "Channel: Level 2 Order Book Updates" and "Request: depth-snapshot"):
``{"m": "depth" | "depth-snapshot", "symbol", "data": {"ts": ms, "seqnum", "asks": [[price,
size], ...], "bids": [...]}}``; a depth update sets each listed level (size ``"0"`` removes it).

Integrity (same docs): ``seqnum`` grows by one per update of a symbol; the snapshot's ``seqnum`` is
the last update it includes, so updates with ``seqnum`` at or below it are stale.
``Sequencing(link="first", sync_offset=1)`` with ``first_id = last_id = seqnum`` (snapshot
``update_id = seqnum``); updates received before the snapshot are buffered and offered to it. A
missing number is a located gap. ``ts_event`` is ``ts``. ``connected``/``sub``/``ping`` and trades
carry no book data; an ``error`` is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

BOOK = ("depth", "depth-snapshot")
OTHER = ("connected", "sub", "unsub", "ping", "pong", "trades", "bar", "bbo", "summary", "req")


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        if isinstance(rec.body, dict) and rec.body.get("m") in BOOK:
            found.setdefault(rec.body.get("symbol"))
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in ws.received():
        body = rec.body
        kind = body.get("m") if isinstance(body, dict) else None
        if kind in OTHER:
            continue
        if kind not in BOOK:
            book.quarantine(rec, f"message {kind!r}: {body.get('reason', '') if isinstance(body, dict) else ''}")
            continue
        if body.get("symbol") != symbol:
            continue
        try:
            data = body["data"]
            seq, ts = int(data["seqnum"]), int(data["ts"]) * 1_000_000
            if kind == "depth-snapshot":
                book.snapshot(rec, data["bids"], data["asks"], update_id=seq, ts_event=ts)
            else:
                book.diff(rec, data["bids"], data["asks"], first_id=seq, last_id=seq, ts_event=ts)
        except (KeyError, TypeError, ValueError) as exc:
            book.quarantine(rec, f"malformed {kind} message ({type(exc).__name__}: {exc})")
    return book


register_venue(Venue(names=("ASCENDEX", "ASCENDEX_FUTURES"), symbols=symbols, load=load))
