"""Huobi ``market.<symbol>.depth.step0`` (cryptofeed venues ``HUOBI`` spot and ``HUOBI_SWAP``
coin- and USDT-margined swaps).

Huobi sends binary frames of gzip-compressed JSON (decoded by :mod:`.capture`). Messages (Huobi
API, spot "Market Depth" and swap "Subscribe Market Depth Data"): ``{"ch":
"market.<symbol>.depth.step0", "ts": ms, "tick": {"bids": [[price, size], ...], "asks": [...],
"ts": ms, "version"}}``; swap ticks also carry ``mrid``, ``id`` and ``ch``. ``step0`` is the
unmerged book to 150 levels a side, and every push is that whole book, not a change (the swaps'
incremental book is the separate ``depth.size_<n>.high_freq`` channel; the captures agree: every
push lists the full book, 1 to 150 levels a side). Each message is therefore a snapshot of the
150-level window (``CLEAR`` + levels).

A full book per message needs no chaining (``Sequencing(link="none")``). ``ts_event`` is the
tick's ``ts`` (the time the depth was generated); ``update_id`` is the spot tick's ``version`` and,
on the swaps, whose ``version`` is only the second of the push, the latest match id ``mrid``.
Pings (``{"ping": ms}``), subscription replies and ``trade.detail`` carry no book data; an error
reply and any other channel are quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

PREFIX, DEPTH, TRADES = "market.", ".depth.step0", ".trade.detail"
WINDOW = 150  #: levels a side of the step0 book


def _symbol(body) -> str | None:
    ch = body.get("ch") if isinstance(body, dict) else None
    if isinstance(ch, str) and ch.startswith(PREFIX) and ch.endswith(DEPTH):
        return ch[len(PREFIX):-len(DEPTH)]
    return None


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "not a Huobi JSON object"
    if body.get("status") == "error":
        return f"error {body.get('err-code')!r}: {body.get('err-msg')}"
    if "ping" in body or body.get("status") == "ok":
        return None
    ch = str(body.get("ch", ""))
    if ch.startswith(PREFIX) and ch.endswith((DEPTH, TRADES)):
        return None
    return f"unknown channel {ch!r}" if ch else f"message without a channel (keys {sorted(body)})"


def symbols(ws: Capture) -> list[str]:
    return first_seen(s for s in (_symbol(rec.body) for rec in ws.received()) if s is not None)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"), window=WINDOW)
    for rec in triaged(book, ws.received(), _problem):
        if _symbol(rec.body) != symbol:
            continue
        try:
            tick = rec.body["tick"]
            update_id = int(tick["mrid"] if "mrid" in tick else tick["version"])
            book.snapshot(rec, tick["bids"], tick["asks"], update_id=update_id, ts_event=int(tick["ts"]) * 1_000_000)
        except MALFORMED as exc:
            book.quarantine(rec, malformed("depth.step0 message", exc))
    return book


register_venue(Venue(names=("HUOBI", "HUOBI_SWAP"), symbols=symbols, load=load))
