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
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, malformed, symbols_where, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

BOOK = ("depth", "depth-snapshot")
OTHER = ("connected", "sub", "unsub", "ping", "pong", "trades", "bar", "bbo", "summary", "req")


def _problem(body) -> str | None:
    kind = body.get("m") if isinstance(body, dict) else None
    if kind in BOOK or kind in OTHER:
        return None
    return f"message {kind!r}: {body.get('reason', '') if isinstance(body, dict) else ''}"


symbols = symbols_where("symbol", m=BOOK)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if body["m"] not in BOOK or body.get("symbol") != symbol:
            continue
        try:
            data = body["data"]
            seq = int(data["seqnum"])
            book.message(rec, body["m"] == "depth-snapshot", data["bids"], data["asks"], first_id=seq, last_id=seq,
                         ts_event=int(data["ts"]) * 1_000_000)
        except MALFORMED as exc:
            book.quarantine(rec, malformed(f"{body['m']} message", exc))
    return book


register_venue(Venue(names=("ASCENDEX", "ASCENDEX_FUTURES"), symbols=symbols, load=load))
