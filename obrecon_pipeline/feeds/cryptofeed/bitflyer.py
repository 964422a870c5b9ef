"""bitFlyer Lightning JSON-RPC ``lightning_board_snapshot_<code>`` and ``lightning_board_<code>``
(cryptofeed venue ``BITFLYER``).

Notifications (bitFlyer Lightning Realtime API): ``{"method": "channelMessage", "params":
{"channel", "message": {"mid_price", "bids": [{"price", "size"}, ...], "asks": [...]}}}``. The
``board_snapshot`` channel sends the whole book (the snapshot; bitFlyer re-sends it periodically,
each one a resync); the ``board`` channel sends changed levels (size 0 removes one). Prices and
sizes arrive as JSON numbers and are kept as their literal text.

bitFlyer sends no sequence numbers or checksums, so diffs apply in arrival order
(``Sequencing(link="none")``); ``ts_event`` is the receive time. Each message's ``mid_price`` is
bitFlyer's own mid of its book: :func:`mid_prices` returns it per message as an independent check.
The ticker and executions channels carry no book data; an RPC ``error`` is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import first_seen, malformed
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

SNAPSHOT = "lightning_board_snapshot_"
BOARD = "lightning_board_"


def _channel(body) -> str:
    if isinstance(body, dict) and body.get("method") == "channelMessage":
        return str((body.get("params") or {}).get("channel", ""))
    return ""


def _symbol(channel: str) -> str | None:
    if channel.startswith(SNAPSHOT):
        return channel[len(SNAPSHOT):]
    if channel.startswith(BOARD):
        return channel[len(BOARD):]
    return None


def _levels(raw) -> list[tuple[str, str]]:
    return [(str(level["price"]), str(level["size"])) for level in raw]


def symbols(ws: Capture) -> list[str]:
    books = (_symbol(_channel(rec.body)) for rec in ws.received())
    return first_seen(sym for sym in books if sym is not None)


def _messages(ws: Capture, symbol: str):
    """``(record, is_snapshot, message)`` of the symbol's board notifications, in arrival order."""
    for rec in ws.received():
        channel = _channel(rec.body)
        if _symbol(channel) == symbol:
            yield rec, channel.startswith(SNAPSHOT), rec.body["params"]["message"]


def mid_prices(ws: Capture, symbol: str) -> list[tuple[int, str]]:
    """``(line, mid_price text)`` of every board notification of ``symbol``."""
    return [(rec.line, str(msg["mid_price"])) for rec, _, msg in _messages(ws, symbol) if "mid_price" in msg]


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    for rec in ws.received():
        body = rec.body
        if isinstance(body, dict) and "error" in body:
            book.quarantine(rec, f"RPC error {body['error']}")
    for rec, is_snapshot, msg in _messages(ws, symbol):
        try:
            bids, asks = _levels(msg["bids"]), _levels(msg["asks"])
        except (KeyError, TypeError) as exc:
            book.quarantine(rec, malformed("board message", exc))
            continue
        book.message(rec, is_snapshot, bids, asks)
    return book


register_venue(Venue(names=("BITFLYER",), symbols=symbols, load=load))
