"""The shipped hftbacktest captures, Binance's sync procedure read off their raw lines (independently of
the feed), and a damaged copy; shared by the feed and asset tests."""

import gzip
import json
from pathlib import Path

from tests.conftest import RAW

DAY = RAW / "hftbacktest" / "2024-08-08"
SPOT, USDM = DAY / "spot_btcusdt_20240808.gz", DAY / "usdm_btcusdt_20240808.gz"


def raw_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return fh.read().splitlines(keepends=True)


def documented_sync(path: Path, futures: bool) -> dict:
    """Binance's procedure on the raw lines: the snapshot's lastUpdateId, the diffs dropped before
    the sync point, the applied diffs' ``u`` and the bookTicker ``u`` values that end one of them."""
    bodies = [json.loads(line.split(" ", 1)[1]) for line in raw_lines(path)]
    last_id = next(b["lastUpdateId"] for b in bodies if "lastUpdateId" in b)
    diffs = [b["data"] for b in bodies if b.get("stream", "").startswith("btcusdt@depth")]
    target = last_id if futures else last_id + 1
    start = next(i for i, d in enumerate(diffs) if d["U"] <= target <= d["u"])
    applied = diffs[start:]
    for prev, d in zip(applied, applied[1:]):
        assert (d["pu"] == prev["u"]) if futures else (d["U"] == prev["u"] + 1)
    ends = {d["u"] for d in applied}
    tickers = [b["data"]["u"] for b in bodies if b.get("stream") == "btcusdt@bookTicker"]
    return {"last_id": last_id, "dropped": start, "applied": len(applied), "tickers": len(tickers),
            "matching": sum(u in ends for u in tickers)}


def wrong_best_bid_capture(tmp_path: Path) -> tuple[Path, int, int, str]:
    """A copy of the spot capture in ``tmp_path`` in which the first diff that a bookTicker checks
    and that sets that ticker's best bid no longer does: ``(file, ticker line, update id, best bid)``."""
    lines = raw_lines(SPOT)
    bodies = [json.loads(line.split(" ", 1)[1]) for line in lines]
    ticker_at = {b["data"]["u"]: i for i, b in enumerate(bodies) if b.get("stream") == "btcusdt@bookTicker"}
    last_id = documented_sync(SPOT, futures=False)["last_id"]
    i = next(k for k, b in enumerate(bodies) if b.get("stream") == "btcusdt@depth@100ms"
             and b["data"]["u"] in ticker_at and b["data"]["u"] > last_id
             and any(lv[0] == bodies[ticker_at[b["data"]["u"]]]["data"]["b"] for lv in b["data"]["b"]))
    diff = bodies[i]["data"]
    best_bid = bodies[ticker_at[diff["u"]]]["data"]["b"]
    diff["b"] = [lv for lv in diff["b"] if lv[0] != best_bid]
    lines[i] = f"{lines[i].split(' ', 1)[0]} {json.dumps(bodies[i], separators=(',', ':'))}\n"
    faulty = tmp_path / SPOT.name
    faulty.write_bytes(gzip.compress("".join(lines).encode()))
    return faulty, ticker_at[diff["u"]] + 1, diff["u"], best_bid
