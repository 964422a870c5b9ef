"""Gate.io v4 ``order_book_update`` channels, spot and USDT futures (cryptofeed venues ``GATEIO``,
``GATEIO_FUTURES``).

* diff: ``{"channel": "spot.order_book_update" | "futures.order_book_update", "event": "update",
  "result": {"t": ms, "s": symbol, "U": first id, "u": last id, "b": [...], "a": [...]}}``;
  spot levels are ``[price, size]`` strings, futures levels ``{"p": price, "s": size}``
  (size an integer number of contracts); size 0 removes the level.
* snapshot: the REST ``/spot/order_book?currency_pair=X&with_id=true`` or
  ``/futures/usdt/order_book?contract=X&with_id=true`` response, whose ``id`` is the last update
  id it includes (``limit=100``: the book is known to 100 levels, the window).
* futures ``futures.book_ticker`` (``u`` update id, ``b``/``B`` best bid, ``a``/``A`` best ask) is
  an independent top-of-book reference.

Sync (Gate.io docs, "How to maintain local order book"): with the snapshot's ``id`` as base, drop
diffs with ``u < id + 1``; the first diff applied has ``U <= id + 1 <= u``; afterwards each diff's
``U`` is the previous ``u`` + 1 (``Sequencing(link="first", sync_offset=1)``). ``ts_event`` is
``t``. Subscription acknowledgements and the trades / tickers / candlesticks channels carry no book
data; an ``error`` or an unknown channel is quarantined.
"""

from __future__ import annotations

import re

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, rest_symbol
from obrecon_pipeline.feeds.cryptofeed.capture import Capture, Record
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

BOOK_CHANNELS = ("spot.order_book_update", "futures.order_book_update")
OTHER_CHANNELS = ("trades", "tickers", "candlesticks", "book_ticker", "ping", "pong")
_REST_BOOK = re.compile(r"/order_book\?(?:.*&)?(?:currency_pair|contract)=([^&]+)")


def _levels(raw) -> list[tuple[str, str]]:
    """``[[p, s], ...]`` or ``[{"p": p, "s": s}, ...]`` as decimal-string pairs."""
    out = []
    for level in raw:
        price, size = (level["p"], level["s"]) if isinstance(level, dict) else level
        out.append((str(price), str(size)))
    return out


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "not a Gate.io JSON object"
    channel = body.get("channel", "")
    if body.get("event") == "subscribe" and not body.get("error"):
        return None
    if body.get("error"):
        return f"error {body['error']}"
    if channel in BOOK_CHANNELS or channel.split(".")[-1] in OTHER_CHANNELS:
        return None
    return f"unknown channel {channel!r}"


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body["result"]["s"] for rec in ws.received()
                      if isinstance(rec.body, dict) and rec.body.get("channel") in BOOK_CHANNELS
                      and rec.body.get("event") == "update")


def _rest_snapshot(book: BookMessages, rec: Record, symbol: str) -> None:
    if rest_symbol(rec, _REST_BOOK) != symbol:
        return
    body = rec.body
    if not (isinstance(body, dict) and "id" in body):
        book.quarantine(rec, "order_book response without an id (with_id=true)")
        return
    book.snapshot(rec, _levels(body.get("bids", [])), _levels(body.get("asks", [])), update_id=int(body["id"]))


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1), window=100)
    for rec in ws.merged_with(rest):
        if rec.kind == "rest":
            _rest_snapshot(book, rec, symbol)
            continue
        problem = _problem(rec.body)
        if problem is not None:
            book.quarantine(rec, problem)
            continue
        body = rec.body
        result = body.get("result")
        if body.get("event") != "update" or not isinstance(result, dict) or result.get("s") != symbol:
            continue
        try:
            if body["channel"] in BOOK_CHANNELS:
                book.diff(rec, _levels(result.get("b", [])), _levels(result.get("a", [])),
                          first_id=int(result["U"]), last_id=int(result["u"]), ts_event=int(result["t"]) * 1_000_000)
            elif body["channel"] == "futures.book_ticker":
                book.ticker(rec, int(result["u"]), str(result["b"]), str(result["B"]), str(result["a"]), str(result["A"]))
        except MALFORMED as exc:
            book.quarantine(rec, malformed(f"{body['channel']} update", exc))
    return book


register_venue(Venue(names=("GATEIO", "GATEIO_FUTURES"), symbols=symbols, load=load))
