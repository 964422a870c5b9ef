"""The shipped streams the replayer tests run on, each as ``(events, levels, options, replay kwargs)``,
and the comparison of two replays.

Cases: LOBSTER (every shipped file, seeded and re-seeded from its orderbook file), cryptofeed
captures (Kraken with checksums, OKX with checksums, a Binance spot symbol synced from REST),
fault-injected copies of them built as in ``tests/feeds/cryptofeed/test_cryptofeed_faults.py`` (a
dropped Binance diff resynced by a later REST snapshot; a corrupted Kraken size failing checksums
until a resubscription snapshot; a lost OKX update failing checksums to the end) and the Databento
ESH4 day (strict L3, messages batched to F_LAST, a pre-open crossed episode).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "feeds" / "cryptofeed"))

from cfhelpers import KRAKEN, OKX, binance_files, diff_rows, lines, run, stream, write_capture  # noqa: E402
from test_cryptofeed_faults import DEEP, binance_depth, body, book_levels, decimals, symbol_lines, ts_text  # noqa: E402

from obrecon_pipeline.events import Flag, scales  # noqa: E402
from obrecon_pipeline.feeds.cryptofeed import load  # noqa: E402
from obrecon_pipeline.feeds.databento import discover as databento_discover, load as databento_load  # noqa: E402
from obrecon_pipeline.feeds.lobster import load_files  # noqa: E402
from obrecon_pipeline.replay import Replayer  # noqa: E402
from obrecon_pipeline.streams import ReplayOptions, Stream  # noqa: E402
from tests.conftest import RAW

ROOT = Path(__file__).resolve().parents[2]
LOBSTER_DAY = RAW / "lobster" / "2012-06-21"
DATABENTO_DAY = RAW / "databento" / "2023-12-25"
#: LOBSTER files and their level counts
LOBSTER_FILES = {
    "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip": 10,
    "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip": 5,
    "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip": 1,
    "LOBSTER_SampleFile_AAPL_2012-06-21_1.zip": 1,
    "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz": 10,
}


@dataclass
class Case:
    events: pl.DataFrame
    levels: int
    options: ReplayOptions
    kwargs: dict = field(default_factory=dict)  #: reference / seed / reseed for replay()
    stream: Stream | None = None  #: the stream the events were read from (L2 cases)


def lobster(name: str, reseed: bool = True) -> Case:
    loaded = load_files(LOBSTER_DAY / name)
    return Case(loaded.events, LOBSTER_FILES[name], loaded.options,
                {"reference": loaded.reference, "seed": loaded.seed, "reseed": reseed})


def cryptofeed(files: list[Path], symbol: str, levels: int = 10) -> Case:
    loaded = load(stream(files, symbol))
    return Case(loaded.events, levels, loaded.options, stream=loaded.stream)


def databento() -> Case:
    loaded = databento_load(databento_discover(DATABENTO_DAY, "2023-12-25")[0])
    return Case(loaded.events, 10, loaded.options)


# ------------------------------------------------------------------------------ faulty captures
def binance_gap_and_resync(tmp: Path) -> Case:
    """NKNUSDT with diff 60 dropped and a REST snapshot of the clean book after diff 80."""
    ws_path, rest_path, ws, depth = binance_depth("BINANCE", "NKNUSDT")
    bm0, sq0, clean, res0 = run([ws_path, rest_path], "NKNUSDT", levels=DEEP)
    x = body(ws[depth[80]])["data"]["u"]
    r = diff_rows(bm0, sq0).filter(pl.col("update_id") == x)["row"][0]
    bids, asks = book_levels(res0.cells[r], *decimals(clean), fixed=True)
    ts = Decimal(ts_text(ws[depth[80]])) + Decimal("0.0000001")
    rest = lines(rest_path) + [
        f"https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000 -> {ts}: "
        + json.dumps({"lastUpdateId": x, "bids": bids, "asks": asks}, separators=(",", ":")) + "\n"
    ]
    files = [write_capture(tmp, ws_path, ws[: depth[60]] + ws[depth[60] + 1:]), write_capture(tmp, rest_path, rest)]
    return cryptofeed(files, "NKNUSDT")


def kraken_checksum_failures_and_resync(tmp: Path) -> Case:
    """XMR/USD with a best-bid size corrupted at message 30 and a resubscription snapshot of the
    clean book after message 60."""
    ws = lines(KRAKEN)
    xmr = symbol_lines(ws, '"book-1000","XMR/USD"]')
    bm0, sq0, clean, res0 = run([KRAKEN], "XMR/USD", levels=DEEP)
    k, j = 30, 60
    price, size = body(ws[xmr[k]])[1]["b"][0][:2]
    bad = size[:-1] + str((int(size[-1]) + 1) % 10)
    corrupted = ws[xmr[k]].replace(f'["{price}","{size}"', f'["{price}","{bad}"')
    assert corrupted != ws[xmr[k]]
    bids, asks = book_levels(res0.cells[j], *decimals(clean), fixed=True)
    snap = json.dumps([992, {"as": [a + ["1618678140.000000"] for a in asks],
                             "bs": [b + ["1618678140.000000"] for b in bids]}, "book-1000", "XMR/USD"],
                      separators=(",", ":"))
    out = (ws[: xmr[k]] + [corrupted] + ws[xmr[k] + 1: xmr[j] + 1] + [f"{ts_text(ws[xmr[j]])}: {snap}\n"]
           + ws[xmr[j] + 1:])
    return cryptofeed([write_capture(tmp, KRAKEN, out)], "XMR/USD")


def okx_lost_update(tmp: Path) -> Case:
    """BTC-USDT with update 40 lost: every later checksum fails."""
    ws = lines(OKX)
    updates = [i for i, t in enumerate(ws) if '"instId":"BTC-USDT"},"action":"update"' in t]
    return cryptofeed([write_capture(tmp, OKX, ws[: updates[40]] + ws[updates[40] + 1:])], "BTC-USDT", levels=25)


def binance_nknusdt() -> Case:
    return cryptofeed(binance_files("BINANCE"), "NKNUSDT")


def replayer_for(case) -> Replayer:
    """A replayer set up as ``replay()`` sets one up for the case (seeded when it seeds)."""
    ref = case.kwargs.get("reference")
    price_scale, size_scale = scales(case.events)
    r = Replayer(case.levels, case.options, reference_depth=0 if ref is None else ref.shape[1] // 4,
                 reseed=case.kwargs.get("reseed", True), price_scale=price_scale, size_scale=size_scale,
                 max_failures=case.events.height, max_episodes=case.events.height)
    if case.kwargs.get("seed"):
        r.seed(ref[0])
    return r


# ------------------------------------------------------------------------------------- comparing
def without_wall_time(counters: dict) -> dict:
    return {k: v for k, v in counters.items() if k not in ("replay_wall_s", "events_per_s")}


def assert_same_replay(a, b) -> None:
    """Two ReplayResults are the same replay: cells, rows, book table, counters, failures."""
    assert np.array_equal(a.cells, b.cells)
    assert np.array_equal(a.row_event, b.row_event)
    assert a.book.equals(b.book)
    assert without_wall_time(a.counters) == without_wall_time(b.counters)
    assert a.integrity.equals(b.integrity)


def phemex_files() -> list[Path]:
    day = RAW / "cryptofeed" / "2021-07-03"
    return [day / "PHEMEX.ws.1.0.gz", day / "PHEMEX.0.gz"]


def snapshot_starts(flags: np.ndarray) -> np.ndarray:
    """Indices of the first event of each snapshot message."""
    message_start = np.r_[True, (flags[:-1] & Flag.END_OF_MESSAGE) != 0]
    return np.flatnonzero(message_start & ((flags & Flag.SNAPSHOT) != 0))
