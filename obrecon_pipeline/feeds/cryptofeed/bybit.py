"""Bybit WebSocket v2 ``orderBookL2_25`` topic, USDT and inverse perpetuals (cryptofeed venue ``BYBIT``).

Messages (Bybit API v2, "orderBookL2_25"): ``{"topic": "orderBookL2_25.SYM", "type": "snapshot" |
"delta", "cross_seq", "timestamp_e6": µs, "data": ...}``. A snapshot's ``data`` is the level list
(``data.order_book`` on USDT contracts): ``{"price", "side": "Buy" | "Sell", "size", "id"}``; a
delta's ``data`` holds ``delete``, ``update`` and ``insert`` lists, applied in that order (a delete
removes the level: size ``"0"``). The topic shows the 25 best levels of each side (the window);
levels entering it are sent as inserts.

``cross_seq`` increases but skips numbers shared with other topics, so it cannot reveal a lost
message: ``Sequencing(link="none")``. ``ts_event`` is ``timestamp_e6``. The history files of the
newer ``orderbook.500`` topic are read by ``--format bybit`` (:mod:`obrecon_pipeline.feeds.bybit`).
Trade messages and RPC replies carry no book data; anything else is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, message_of_kind, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

TOPIC = "orderBookL2_25."
OTHER_TOPICS = ("trade", "instrument_info", "klineV2", "insurance", "liquidation")


def _sides(levels, delete: bool = False) -> tuple[list, list]:
    bids, asks = [], []
    for level in levels:
        size = "0" if delete else str(level["size"])
        {"Buy": bids, "Sell": asks}[level["side"]].append((str(level["price"]), size))
    return bids, asks


def _levels(kind, data) -> tuple[list, list]:
    """``(bids, asks)`` of a ``snapshot`` (its level list, ``data.order_book`` on USDT contracts) or
    of a ``delta`` (its deletes as size ``"0"``, updates and inserts, in that order); of any other
    kind none, and :func:`message_of_kind` quarantines the message by its kind."""
    if kind == "snapshot":
        return _sides(data["order_book"] if isinstance(data, dict) else data)
    if kind != "delta":
        return [], []
    parts = [_sides(data.get("delete", []), delete=True), _sides(data.get("update", [])), _sides(data.get("insert", []))]
    return [lv for p in parts for lv in p[0]], [lv for p in parts for lv in p[1]]


def symbols(ws: Capture) -> list[str]:
    topics = (rec.body.get("topic", "") if isinstance(rec.body, dict) else "" for rec in ws.received())
    return first_seen(topic[len(TOPIC):] for topic in topics if topic.startswith(TOPIC))


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "not a Bybit JSON object"
    topic = str(body.get("topic", ""))
    if not topic:
        return f"request failed: {body.get('ret_msg')}" if body.get("success") is False else None
    if topic.split(".")[0] in OTHER_TOPICS or topic.startswith(TOPIC):
        return None
    return f"unknown topic {topic!r}"


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"), window=25)
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if str(body.get("topic", "")) != TOPIC + symbol:
            continue
        try:
            ts, kind = int(body["timestamp_e6"]) * 1000, body["type"]
            bids, asks = _levels(kind, body["data"])
        except MALFORMED as exc:
            book.quarantine(rec, malformed("orderBookL2_25 message", exc))
        else:
            message_of_kind(book, rec, kind, "snapshot", "delta", "orderBookL2_25 type", bids, asks, ts_event=ts)
    return book


register_venue(Venue(names=("BYBIT",), symbols=symbols, load=load))
