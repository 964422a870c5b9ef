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

Huobi spot serialises prices and sizes as JSON floats, so a size can arrive as float noise
(``0.575610404535042``) beside ``1500.0``, and no single 64-bit scale holds both. When the capture
has the venue's symbol list (REST ``/v1/common/symbols`` in ``HUOBI.0``), every price and size is
rounded half-even to the symbol's published ``price-precision`` / ``amount-precision`` with exact
decimal arithmetic: that is the value the venue trades; each value changed by it is counted
(``values_rounded_to_venue_precision`` in report.json). Without the list, values stay as sent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from obrecon_pipeline.streams import LoadedStream, Stream
from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

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


SYMBOLS_URL = "/v1/common/symbols"


def venue_precision(rest: list[Capture], symbol: str) -> tuple[int, int] | None:
    """``(price-precision, amount-precision)`` of ``symbol`` from a symbol-list REST response."""
    for cap in rest:
        for rec in cap.records:
            if rec.kind != "rest" or not str(rec.url).endswith(SYMBOLS_URL) or not isinstance(rec.body, dict):
                continue
            for entry in rec.body.get("data") or []:
                if isinstance(entry, dict) and entry.get("symbol") == symbol:
                    return int(entry["price-precision"]), int(entry["amount-precision"])
    return None


class RoundedBook(BookMessages):
    """:class:`BookMessages` that rounds levels to the venue's precision and counts the changes."""

    def __init__(self, symbol: str, precision: tuple[int, int]):
        super().__init__(symbol, Sequencing(link="none"), window=WINDOW)
        self.quanta = tuple(Decimal(1).scaleb(-p) for p in precision)
        self.rounded = 0  #: prices and sizes whose value the rounding changed

    def _round(self, text: str, quantum: Decimal) -> str:
        value = Decimal(text)
        out = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
        self.rounded += out != value
        return f"{out:f}"

    def at_precision(self, levels) -> list[tuple[str, str]]:
        price_q, size_q = self.quanta
        return [(self._round(p, price_q), self._round(q, size_q)) for p, q in levels]

    def to_loaded(self, stream: Stream) -> LoadedStream:
        loaded = super().to_loaded(stream)
        loaded.stats["values_rounded_to_venue_precision"] = self.rounded
        return loaded


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    precision = venue_precision(rest, symbol)
    book = RoundedBook(symbol, precision) if precision else BookMessages(symbol, Sequencing(link="none"), window=WINDOW)
    for rec in triaged(book, ws.received(), _problem):
        if _symbol(rec.body) != symbol:
            continue
        try:
            tick = rec.body["tick"]
            update_id = int(tick["mrid"] if "mrid" in tick else tick["version"])
            bids, asks = tick["bids"], tick["asks"]
            if precision:
                bids, asks = book.at_precision(bids), book.at_precision(asks)
            book.snapshot(rec, bids, asks, update_id=update_id, ts_event=int(tick["ts"]) * 1_000_000)
        except (*MALFORMED, InvalidOperation) as exc:
            book.quarantine(rec, malformed("depth.step0 message", exc))
    return book


register_venue(Venue(names=("HUOBI", "HUOBI_SWAP"), symbols=symbols, load=load))
