"""Phemex WebSocket ``orderbook.subscribe`` (cryptofeed venue ``PHEMEX``), spot and contracts.

Messages (Phemex API, "Subscribe OrderBook"): ``{"book": {"asks": [[priceEp, qty], ...], "bids":
[...]}, "depth", "sequence", "symbol", "timestamp": ns, "type": "snapshot" | "incremental"}``;
qty 0 removes a level. Prices and quantities are scaled integers (Phemex's ``Ep``/``Ev``
convention): a contract's ``priceEp`` is ``price * 10**priceScale`` and its qty a whole number of
contracts; a spot pair's ``priceEp`` and base quantity are scaled by the ``valueScale`` of the
quote and base currencies. The scales come from the REST product list the capture fetched
(``/exchange/public/cfg/v2/products`` in ``PHEMEX.0``) and the integers are written back as exact
decimal text (no float).

Phemex's ``sequence`` increases but is not consecutive per symbol, so it cannot reveal a lost
message: ``Sequencing(link="none")``. ``ts_event`` is ``timestamp``. RPC replies and trades carry no
book data; a reply with an ``error`` is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

PRODUCTS = "/cfg/v2/products"


def scales(rest: list[Capture]) -> dict[str, tuple[int, int]]:
    """``symbol -> (price decimals, quantity decimals)`` from the captured product list."""
    out: dict[str, tuple[int, int]] = {}
    for cap in rest:
        for rec in cap.records:
            if rec.kind != "rest" or PRODUCTS not in (rec.url or "") or not isinstance(rec.body, dict):
                continue
            data = rec.body["data"]
            currency = {c["currency"]: int(c["valueScale"]) for c in data["currencies"]}
            for p in data["products"]:
                if p["type"] == "Spot":
                    out[p["symbol"]] = (currency[p["quoteCurrency"]], currency[p["baseCurrency"]])
                else:
                    out[p["symbol"]] = (int(p["priceScale"]), 0)
    return out


def _text(value: int, decimals: int) -> str:
    """The exact decimal text of ``value * 10**-decimals``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    if decimals == 0:
        return str(value)
    sign, value = ("-", -value) if value < 0 else ("", value)
    whole, frac = divmod(value, 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}"


def _levels(raw, price_dec: int, qty_dec: int) -> list[tuple[str, str]]:
    return [(_text(price, price_dec), _text(qty, qty_dec)) for price, qty in raw]


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body.get("symbol") for rec in ws.received()
                      if isinstance(rec.body, dict) and "book" in rec.body)


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "not a Phemex JSON object"
    return f"error {body['error']}" if body.get("error") else None


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    known = scales(rest)
    if symbol not in known:
        raise InputError(ws.path, None, f"no Phemex product definition for {symbol!r} in the REST captures "
                                        f"({', '.join(str(c.path) for c in rest) or 'none given'})")
    price_dec, qty_dec = known[symbol]
    book = BookMessages(symbol, Sequencing(link="none"))
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if "book" not in body or body.get("symbol") != symbol:
            continue
        try:
            bids = _levels(body["book"]["bids"], price_dec, qty_dec)
            asks = _levels(body["book"]["asks"], price_dec, qty_dec)
            ts, kind = int(body["timestamp"]), body["type"]
        except MALFORMED as exc:
            book.quarantine(rec, malformed("book message", exc))
            continue
        if kind in ("snapshot", "incremental"):
            book.message(rec, kind == "snapshot", bids, asks, ts_event=ts)
        else:
            book.quarantine(rec, f"book type {kind!r}")
    return book


register_venue(Venue(names=("PHEMEX",), symbols=symbols, load=load))
