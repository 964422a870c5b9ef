"""OKX, API v5 ``books`` channel (400 levels; cryptofeed venue ``OKX``).

Messages ``{"arg": {"channel": "books", "instId": ...}, "action": "snapshot"|"update",
"data": [{"asks": [[px, sz, liquidated, orders], ...], "bids": [...], "ts": ms, "checksum": n}]}``;
size ``"0"`` removes a level. ``checksum`` is the signed CRC32 of the top 25 levels, bid and ask
interleaved (verified by the replayer, algorithm ``"okx"``). This capture generation has no
``seqId``, so ``Sequencing(link="none")``: integrity comes from the checksum on every message.
``ts_event`` is the message's ``ts``. Event messages (``subscribe``, ``error``) and the
``tickers``/``trades`` channels carry no book data; any other channel is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import first_seen
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

BOOK_CHANNELS = ("books",)
OTHER_CHANNELS = ("tickers", "trades", "candle1m", "funding-rate", "open-interest", "liquidation-orders")


def _channel(body) -> tuple[str | None, str | None]:
    if isinstance(body, dict) and isinstance(body.get("arg"), dict):
        return body["arg"].get("channel"), body["arg"].get("instId")
    return None, None


def symbols(ws: Capture) -> list[str]:
    return first_seen(_channel(rec.body)[1] for rec in ws.received()
                      if _channel(rec.body)[0] in BOOK_CHANNELS and "data" in rec.body)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"), checksum="okx")
    for rec in ws.received():
        body = rec.body
        channel, inst = _channel(body)
        if isinstance(body, dict) and "event" in body:
            continue  # subscribe acknowledgements, errors: no book data
        if channel is None:
            book.quarantine(rec, "not an OKX channel message")
            continue
        if channel not in BOOK_CHANNELS:
            if channel not in OTHER_CHANNELS:
                book.quarantine(rec, f"unknown channel {channel!r}")
            continue
        if inst != symbol:
            continue
        action = body.get("action")
        data = body.get("data")
        if action not in ("snapshot", "update") or not isinstance(data, list):
            book.quarantine(rec, f"books message with action {action!r} and no data list")
            continue
        for d in data:
            if not isinstance(d, dict) or not str(d.get("ts", "")).isdigit() or not isinstance(d.get("checksum", 0), int):
                book.quarantine(rec, "books data item without an integer ts and checksum")
                continue
            ts = int(d["ts"]) * 1_000_000
            checksum = d.get("checksum")
            if action == "snapshot":
                book.snapshot(rec, d.get("bids", []), d.get("asks", []), checksum=checksum, ts_event=ts)
            else:
                book.diff(rec, d.get("bids", []), d.get("asks", []), checksum=checksum, ts_event=ts)
    return book


register_venue(Venue(names=("OKX",), symbols=symbols, load=load))
