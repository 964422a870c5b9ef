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
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, object_problem, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

CHANNEL = "orderbook/full"


def symbols(ws: Capture) -> list[str]:
    return first_seen(sym for rec in ws.received() if isinstance(rec.body, dict) and rec.body.get("ch") == CHANNEL
                      for kind in ("snapshot", "update") for sym in rec.body.get(kind, {}))


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in triaged(book, ws.received(), lambda body: object_problem(body, "an FMFW JSON object")):
        if rec.body.get("ch") != CHANNEL:
            continue
        for kind in ("snapshot", "update"):
            part = rec.body.get(kind, {}).get(symbol)
            if part is None:
                continue
            try:
                seq = int(part["s"])
                book.message(rec, kind == "snapshot", part.get("b", []), part.get("a", []), first_id=seq, last_id=seq,
                             ts_event=int(part["t"]) * 1_000_000)
            except MALFORMED as exc:
                book.quarantine(rec, malformed(f"orderbook/full {kind}", exc))
    return book


register_venue(Venue(names=("FMFW",), symbols=symbols, load=load))
