"""Fault injection on the real captures: each fault detected, located and counted, and every valid
row after a resync equal to the clean replay.

Faults: a dropped diff (Binance spot and futures rules), duplicated diffs, swapped neighbours, a
corrupted size (Kraken checksum). The resyncs use a snapshot taken from the clean replay at a later
update id and inserted where a venue would deliver it (a REST ``/depth`` response for Binance, a
re-subscription snapshot for Kraken), so the book after it is known exactly.
"""

import json
from decimal import Decimal

import numpy as np
import polars as pl

from cfhelpers import KRAKEN, OKX, binance_files, diff_rows, lines, run, write_capture
from obrecon_pipeline.book_schema import level_names
from obrecon_pipeline.codes import NULL_CELL as NULL
from obrecon_pipeline.feeds.cryptofeed.capture import seconds_to_ns

DEEP = 2000  # levels: the whole book of these symbols (for building resync snapshots)


def body(line: str) -> dict | list:
    return json.loads(line.partition(": ")[2])


def ts_text(line: str) -> str:
    return line.partition(": ")[0]


def symbol_lines(all_lines: list[str], marker: str) -> list[int]:
    return [i for i, text in enumerate(all_lines) if marker in text]


def binance_depth(venue: str, symbol: str) -> tuple:
    """A Binance capture: ``(ws path, REST path, ws lines, 0-based indices of symbol's depth lines)``."""
    ws_path, rest_path = binance_files(venue)
    ws = lines(ws_path)
    return ws_path, rest_path, ws, symbol_lines(ws, f'"{symbol.lower()}@depth@100ms"')


def book_levels(cells_row: np.ndarray, price_dec: int, size_dec: int, fixed: bool):
    """(bids, asks) as decimal strings from one full-depth row of replayer cells."""

    def text(v: int, d: int) -> str:
        q = Decimal(int(v)).scaleb(-d)
        return f"{q:.{d}f}" if fixed else format(q.normalize(), "f")

    sides = []
    for k in (0, 2):
        px, sz = cells_row[k::4], cells_row[k + 1 :: 4]
        keep = px != NULL
        assert not keep[-1], "DEEP too small for the whole book"
        sides.append([[text(p, price_dec), text(s, size_dec)] for p, s in zip(px[keep], sz[keep])])
    return sides


def levels_equal(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    cols = level_names(10)
    return a.select(cols).equals(b.select(cols))


def decimals(loaded) -> tuple[int, int]:
    ev = loaded.events
    return len(str(ev["price_scale"][0])) - 1, len(str(ev["size_scale"][0])) - 1


# --------------------------------------------------------------------------------------- Binance
def test_spot_dropped_diff_is_a_located_gap_and_a_later_snapshot_resyncs(tmp_path):
    ws_path, rest_path, ws, depth = binance_depth("BINANCE", "NKNUSDT")
    drop, after = depth[60], depth[61]
    dropped, following = body(ws[drop])["data"], body(ws[after])["data"]

    bm0, sq0, clean, res0 = run([ws_path, rest_path], "NKNUSDT", levels=DEEP)
    clean_rows = diff_rows(bm0, sq0)
    book0 = res0.book.select(["update_id", "book_valid", *level_names(10)])
    # resync snapshot: the clean book after the diff 20 messages past the hole
    resync_line = depth[80]
    x = body(ws[resync_line])["data"]["u"]
    r = clean_rows.filter(pl.col("update_id") == x)["row"][0]
    bids, asks = book_levels(res0.cells[r], *decimals(clean), fixed=True)
    ts = Decimal(ts_text(ws[resync_line])) + Decimal("0.0000001")
    rest = lines(rest_path) + [
        f"https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000 -> {ts}: "
        + json.dumps({"lastUpdateId": x, "bids": bids, "asks": asks}, separators=(",", ":"))
        + "\n"
    ]
    faulty_ws = write_capture(tmp_path, ws_path, ws[:drop] + ws[drop + 1 :])
    faulty_rest = write_capture(tmp_path, rest_path, rest)

    bm, sq, loaded, res = run([faulty_ws, faulty_rest], "NKNUSDT", levels=10)
    # counted
    assert loaded.stats["gaps"] == 1 and res.counters["resyncs"] == 1
    assert loaded.stats["duplicates"] == loaded.stats["reordered"] == 0
    # located: expected U of the lost diff, received U of the next one, at that line and time
    gap = sq.gaps.row(0, named=True)
    assert (gap["expected"], gap["received"]) == (dropped["U"], following["U"]) == (499869931, 499869939)
    assert gap["src_row"] == after  # 1-based line in the faulty file (one line removed before it)
    assert gap["ts_recv"] == seconds_to_ns(ts_text(ws[after]))
    marker = clean_rows.filter(pl.col("update_id") == dropped["u"])["row"][0]
    assert gap["row"] == marker == 60
    assert loaded.stats["first_gap_row"] == marker
    book = res.book.select(["update_id", "book_valid", *level_names(10)])
    # rows before the hole are the clean rows; the gap row is invalid
    assert book.slice(0, marker).equals(book0.slice(0, marker))
    assert not book["book_valid"][marker]
    # diffs between the hole and the snapshot are never applied; the snapshot row is valid again
    # and every row from there equals the clean replay at the same update id
    after_resync = book.slice(marker + 1)
    assert after_resync["update_id"][0] == x and after_resync["book_valid"].all()
    assert after_resync.height == book0.height - r
    assert levels_equal(after_resync, book0.slice(r))
    assert loaded.stats["stale"] == 1 + (80 - 61 + 1)  # the first sync's one, then diffs 61..80


def test_futures_dropped_diff_breaks_pu_continuity(tmp_path):
    ws_path, rest_path, ws, depth = binance_depth("BINANCE_FUTURES", "SUSHIUSDT")
    drop, after = depth[100], depth[101]
    dropped, following = body(ws[drop])["data"], body(ws[after])["data"]
    bm0, sq0, clean, res0 = run([ws_path, rest_path], "SUSHIUSDT")
    marker = diff_rows(bm0, sq0).filter(pl.col("update_id") == dropped["u"])["row"][0]

    faulty_ws = write_capture(tmp_path, ws_path, ws[:drop] + ws[drop + 1 :])
    bm, sq, loaded, res = run([faulty_ws, rest_path], "SUSHIUSDT")
    gap = sq.gaps.row(0, named=True)
    # futures: the next diff's pu must equal the last applied u (= the lost diff's pu)
    assert (gap["expected"], gap["received"]) == (dropped["pu"], following["pu"])
    assert following["pu"] == dropped["u"]
    assert (gap["row"], gap["src_row"]) == (marker, after)
    assert loaded.stats["gaps"] == 1
    # no later snapshot in the capture: the remaining diffs wait for one and are counted
    remaining = len(depth) - 101
    assert loaded.stats["unsynced"] == remaining
    assert res.book.height == marker + 1 and not res.book["book_valid"][marker]
    assert levels_equal(res.book.slice(0, marker), res0.book.slice(0, marker))
    assert res0.book["book_valid"].all()


def test_duplicated_diffs_are_dropped_counted_and_change_nothing(tmp_path):
    ws_path, rest_path, ws, depth = binance_depth("BINANCE", "NKNUSDT")
    # re-send diffs 10 and 20 right away and diff 30 three lines later (each with its own time)
    out = []
    for i, text in enumerate(ws):
        out.append(text)
        if i in (depth[10], depth[20]):
            out.append(text)
        if i == depth[30] + 3:
            out.append(ts_text(text) + ": " + ws[depth[30]].partition(": ")[2])
    faulty_ws = write_capture(tmp_path, ws_path, out)
    _, _, _, res0 = run([ws_path, rest_path], "NKNUSDT")
    bm, sq, loaded, res = run([faulty_ws, rest_path], "NKNUSDT")
    assert loaded.stats["duplicates"] == 3
    assert loaded.stats["gaps"] == loaded.stats["reordered"] == 0
    assert loaded.stats["messages_duplicate"] == 3
    dup_rows = bm.messages().filter(pl.Series(sq.status == 3))["src_row"].to_list()
    assert dup_rows == [depth[10] + 2, depth[20] + 3, depth[30] + 3 + 3 + 1]  # 1-based, after inserts
    assert res.book.equals(res0.book)


def test_swapped_neighbours_are_held_then_applied_in_order(tmp_path):
    ws_path, rest_path, ws, depth = binance_depth("BINANCE", "NKNUSDT")
    a, b = depth[40], depth[41]
    out = list(ws)
    # the messages arrive in the other order; each line keeps its receive time
    out[a] = ts_text(ws[a]) + ": " + ws[b].partition(": ")[2]
    out[b] = ts_text(ws[b]) + ": " + ws[a].partition(": ")[2]
    faulty_ws = write_capture(tmp_path, ws_path, out)
    _, _, _, res0 = run([ws_path, rest_path], "NKNUSDT")
    bm, sq, loaded, res = run([faulty_ws, rest_path], "NKNUSDT")
    assert loaded.stats["reordered"] == 1
    assert loaded.stats["gaps"] == loaded.stats["duplicates"] == 0
    held = bm.messages().filter(pl.Series(sq.status == 1))
    assert held["src_row"].to_list() == [a + 1] and held["first"][0] == body(ws[b])["data"]["U"]
    assert res.book.equals(res0.book)


# ---------------------------------------------------------------------------------------- Kraken
def test_kraken_corrupted_size_fails_checksums_until_a_snapshot(tmp_path):
    ws = lines(KRAKEN)
    xmr = symbol_lines(ws, '"book-1000","XMR/USD"]')
    bm0, sq0, clean, res0 = run([KRAKEN], "XMR/USD", levels=DEEP)
    top_bid = res0.book["bid_price_1"]
    # the first update after message 20 that sets a non-zero size at the best bid
    k = next(
        m for m in range(20, len(xmr))
        if (lv := body(ws[xmr[m]])[1].get("b"))
        and len(lv) == 1 and float(lv[0][1]) > 0 and float(lv[0][0]) == top_bid[m]
    )
    msg = body(ws[xmr[k]])
    price, size = msg[1]["b"][0][:2]
    bad_size = size[:-1] + str((int(size[-1]) + 1) % 10)
    corrupted = ws[xmr[k]].replace(f'["{price}","{size}"', f'["{price}","{bad_size}"')
    assert corrupted != ws[xmr[k]]
    j = k + 30  # resubscription snapshot: the clean book after message j
    bids, asks = book_levels(res0.cells[j], *decimals(clean), fixed=True)
    snap = json.dumps([992, {"as": [a + ["1618678140.000000"] for a in asks],
                             "bs": [b + ["1618678140.000000"] for b in bids]}, "book-1000", "XMR/USD"],
                      separators=(",", ":"))
    out = ws[: xmr[k]] + [corrupted] + ws[xmr[k] + 1 : xmr[j] + 1] + [f"{ts_text(ws[xmr[j]])}: {snap}\n"] + ws[
        xmr[j] + 1 :]
    faulty = write_capture(tmp_path, KRAKEN, out)
    bm, sq, loaded, res = run([faulty], "XMR/USD")
    c = res.counters
    # detected and located at the corrupted message
    first = c["first_checksum_failure"]
    assert first["src_row"] == xmr[k] + 1 and first["checksum"] == int(msg[2]["c"] if len(msg) > 4 else msg[1]["c"])
    assert (k, c["checksum_failed"], c["checksum_ok"]) == (30, 28, 818)
    assert c["checksum_ok"] + c["checksum_failed"] == 846 and c["resyncs"] == 1
    valid = res.book["book_valid"].to_numpy()
    assert valid[:k].all() and not valid[k : j + 1].any() and valid[j + 1 :].all()
    # rows: the clean ones before the fault; the snapshot row (j + 1) equals clean row j; after it
    # faulty row i + 1 equals clean row i
    clean10 = res0.book.select(level_names(10))
    assert levels_equal(res.book.slice(0, k), clean10.slice(0, k))
    assert levels_equal(res.book.slice(j + 1), clean10.slice(j))


def test_a_bid_at_the_best_ask_is_a_located_locked_book(tmp_path):
    ws_path, rest_path, ws, depth = binance_depth("BINANCE", "NKNUSDT")
    bm0, sq0, clean, res0 = run([ws_path, rest_path], "NKNUSDT")
    i = depth[50]
    row = diff_rows(bm0, sq0).filter(pl.col("update_id") == body(ws[i])["data"]["u"])["row"][0]
    best_ask = Decimal(str(res0.book["ask_price_1"][row]))
    msg = body(ws[i])
    msg["data"]["b"].append([f"{best_ask:.8f}", "1.00000000"])
    out = list(ws)
    out[i] = ts_text(ws[i]) + ": " + json.dumps(msg, separators=(",", ":")) + "\n"
    faulty = write_capture(tmp_path, ws_path, out)
    bm, sq, loaded, res = run([faulty, rest_path], "NKNUSDT")
    c = res.counters
    assert res0.counters["crossed_rows"] == res0.counters["locked_rows"] == 0
    assert c["first_crossed"]["src_row"] == i + 1 and c["first_crossed"]["ts_event"] == msg["data"]["E"] * 1_000_000
    locked = res.book["bid_price_1"] >= res.book["ask_price_1"]
    assert int(locked.arg_max()) == row
    assert (c["locked_rows"], c["crossed_rows"]) == (int(locked.sum()), 0)
    assert c["locked_rows"] == 4 and row == 50


def test_okx_lost_update_is_caught_by_the_next_checksum(tmp_path):
    ws = lines(OKX)
    updates = [i for i, t in enumerate(ws) if '"instId":"BTC-USDT"},"action":"update"' in t]
    lost = updates[40]
    faulty = write_capture(tmp_path, OKX, ws[:lost] + ws[lost + 1 :])
    _, _, _, res0 = run([OKX], "BTC-USDT", levels=25)
    bm, sq, loaded, res = run([faulty], "BTC-USDT", levels=25)
    c = res.counters
    first = c["first_checksum_failure"]
    # OKX sends no sequence ids in this capture: the checksum of the next update reveals the loss
    assert first["src_row"] == updates[41]  # 1-based line in the faulty file (one line removed)
    assert first["checksum"] == body(ws[updates[41]])["data"][0]["checksum"]
    assert c["checksum_ok"] + c["checksum_failed"] == 97 and (c["checksum_ok"], c["checksum_failed"]) == (41, 56)
    valid = res.book["book_valid"].to_numpy()
    assert valid[:41].all() and not valid[41:].any()  # no later snapshot: invalid to the end
    assert levels_equal(res.book.slice(0, 41), res0.book.slice(0, 41))


def delayed(ws: list[str], src: int, dst: int) -> list[str]:
    """The message at line ``src`` arrives at line ``dst`` instead; every line keeps its time."""
    bodies = [t.partition(": ")[2] for t in ws]
    moved = bodies.pop(src)
    bodies.insert(dst, moved)
    return [ts_text(t) + ": " + b if ": " in t else t for t, b in zip(ws, bodies)]


def test_a_message_late_by_three_is_held_within_the_buffer(tmp_path):
    ws_path, rest_path, ws, depth = binance_depth("BINANCE", "NKNUSDT")
    assert all(": " in ws[i] for i in range(depth[40], depth[43] + 1))
    faulty = write_capture(tmp_path, ws_path, delayed(ws, depth[40], depth[43]))
    _, _, _, res0 = run([ws_path, rest_path], "NKNUSDT")
    bm, sq, loaded, res = run([faulty, rest_path], "NKNUSDT")
    assert (loaded.stats["reordered"], loaded.stats["gaps"], loaded.stats["duplicates"]) == (3, 0, 0)
    assert res.book.equals(res0.book)


def test_a_message_later_than_the_buffer_is_a_gap(tmp_path):
    ws_path, rest_path, ws, depth = binance_depth("BINANCE", "NKNUSDT")
    late = body(ws[depth[40]])["data"]
    faulty = write_capture(tmp_path, ws_path, delayed(ws, depth[40], depth[50]))
    bm, sq, loaded, res = run([faulty, rest_path], "NKNUSDT")
    # 8 messages (the pending capacity) arrive past the hole before it is declared a gap
    assert loaded.stats["gaps"] == 1 and loaded.stats["reordered"] == 0
    gap = sq.gaps.row(0, named=True)
    assert (gap["expected"], gap["received"]) == (late["U"], body(ws[depth[41]])["data"]["U"])
    # the first message after the hole: diff 41, one line earlier than in the clean file (1-based)
    assert gap["row"] == 40 and gap["src_row"] == depth[41]
    assert res.book.height == 41 and not res.book["book_valid"][40]
    assert loaded.stats["unsynced"] == 150 - 40  # diffs 40..149 (the late one too) wait for a snapshot
