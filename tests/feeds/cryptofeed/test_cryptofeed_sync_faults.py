"""Binance captures mutated the ways an outside probe found passing silently or crashing (issue 11):
each gives a located error with exit 2, or a counter with its exact value.

The clean NKNUSDT capture (2021-10-12): 150 diffs applied after the REST snapshot
(lastUpdateId 499869752), the first diff (u = 499869752) stale, 150 book rows.
"""

import json
import re

from cfhelpers import binance_files, lines, run, write_capture
from obrecon_pipeline.cli import main
from obrecon_pipeline.feeds.cryptofeed import from_files


def nkn_depth(ws):
    return [i for i, t in enumerate(ws) if '"nknusdt@depth@100ms"' in t]


def replay_cli(capsys, tmp_path, files, *extra):
    out, report = tmp_path / "book.parquet", tmp_path / "report.json"
    rc = main(["replay", "--format", "cryptofeed", *map(str, files), "--symbol", "NKNUSDT", "--out", str(out),
               "--report", str(report), *extra])
    err = capsys.readouterr().err.strip()
    return rc, err, (json.loads(report.read_text()) if rc == 0 else None), out


def test_clean_capture_counts(capsys, tmp_path):
    rc, err, report, _ = replay_cli(capsys, tmp_path, binance_files("BINANCE"))
    assert rc == 0 and (report["rows"], report["stale"], report["reordered"], report["gaps"]) == (150, 1, 0, 0)


def test_update_id_beyond_int64_is_a_located_error(capsys, tmp_path):
    ws_path, rest_path = binance_files("BINANCE")
    ws = lines(ws_path)
    i = nkn_depth(ws)[2]
    u = re.search(r'"u":(\d+)', ws[i]).group(1)
    for literal, shown in (("1e20", "'1e20'"), ("100000000000000000000", "100000000000000000000")):
        ws_i = ws[:i] + [ws[i].replace(f'"u":{u}', f'"u":{literal}')] + ws[i + 1:]
        faulty = write_capture(tmp_path, ws_path, ws_i)
        rc, err, _, out = replay_cli(capsys, tmp_path, [faulty, rest_path])
        assert rc == 2 and not out.exists()
        assert err == f"obrecon: error: {faulty}, row {i + 1}: depthUpdate update id u {shown} is not a 64-bit integer"


def test_two_swapped_updates_are_reordered_not_stale(capsys, tmp_path):
    """The bodies of diffs 10 and 11 swapped (each line keeps its receive time, so the arrival order
    really changes): one diff applied late, counted ``reordered``; the book is the clean one."""
    ws_path, rest_path = binance_files("BINANCE")
    ws = lines(ws_path)
    for a in (1, 10, 148):  # right after the sync, mid-stream, at the end
        i, j = nkn_depth(ws)[a], nkn_depth(ws)[a + 1]
        (ti, bi), (tj, bj) = ws[i].split(": ", 1), ws[j].split(": ", 1)
        swapped = list(ws)
        swapped[i], swapped[j] = f"{ti}: {bj}", f"{tj}: {bi}"
        bm, sq, loaded, res = run([write_capture(tmp_path, ws_path, swapped), rest_path], "NKNUSDT")
        s = loaded.stats
        assert (s["reordered"], s["stale"], s["gaps"], s["duplicates"], res.counters["rows"]) == (1, 1, 0, 0, 150), a
        assert res.book["book_valid"].all()


def test_capture_without_rest_snapshot_is_an_error_not_an_empty_book(capsys, tmp_path):
    ws_path, _ = binance_files("BINANCE")
    ws = lines(ws_path)
    plain = write_capture(tmp_path, ws_path, ws)
    rc, err, _, out = replay_cli(capsys, tmp_path, [plain])
    first = nkn_depth(ws)[0] + 1
    assert rc == 2 and not out.exists()
    assert err == (f"obrecon: error: {plain}, row {first}: no book snapshot (websocket or REST) for 'NKNUSDT': none "
                   "of its 150 book messages can be applied; nor for BLZETH, LRCBTC, RUNEEUR")


def test_one_stray_line_for_another_symbol_is_counted_not_a_stream(capsys, tmp_path):
    ws_path, rest_path = binance_files("BINANCE")
    ws = lines(ws_path)
    i = nkn_depth(ws)[5]
    stray = ws[i].replace('"s":"NKNUSDT"', '"s":"XYZUSDT"').replace("nknusdt@depth", "xyzusdt@depth")
    faulty = write_capture(tmp_path, ws_path, ws[: i + 1] + [stray] + ws[i + 1:])
    assert [s.symbol for s in from_files([faulty, rest_path])] == ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"]
    rc, err, report, _ = replay_cli(capsys, tmp_path, [faulty, rest_path])
    assert rc == 0 and report["rows"] == 150
    assert report["symbols_without_snapshot"] == {"XYZUSDT": 1}


def test_a_size_with_30_decimals_blames_its_own_row(capsys, tmp_path):
    ws_path, rest_path = binance_files("BINANCE")
    ws = lines(ws_path)
    i = nkn_depth(ws)[7]
    price, size = re.search(r'\["([0-9.]+)","([0-9.]+)"\]', ws[i]).groups()
    fine = size + "0" * (30 - len(size.split(".")[1]) - 1) + "1"
    faulty = write_capture(tmp_path, ws_path, ws[:i] + [ws[i].replace(f'["{price}","{size}"]', f'["{price}","{fine}"]', 1)]
                           + ws[i + 1:])
    rc, err, _, _ = replay_cli(capsys, tmp_path, [faulty, rest_path])
    first = nkn_depth(ws)[0] + 1  # the first size of the stream no longer fits at 10^30
    first_size = re.search(r'"b":\[\["[0-9.]+","([0-9.]+)"', ws[first - 1]).group(1)
    assert rc == 2
    assert err == (f"obrecon: error: {faulty}, row {i + 1}: size {fine!r} has 30 decimals: at scale 10^30 size "
                   f"{first_size!r} (row {first}) does not fit a 64-bit integer")
