"""``obrecon replay --format cryptofeed WS_FILE [REST_FILE ...] [--symbol SYM]``."""

import json

import polars as pl

from cfhelpers import KRAKEN, binance_files, lines, write_capture
from obrecon_pipeline.cli import main


def test_without_symbol_out_is_a_directory_with_one_parquet_and_report_entry_per_stream(tmp_path, capsys):
    out, report = tmp_path / "books", tmp_path / "report.json"
    assert main(["replay", "--format", "cryptofeed", *map(str, binance_files("BINANCE_FUTURES")),
                 "--out", str(out), "--report", str(report)]) == 0
    names = ["BINANCE_FUTURES-SUSHIUSDT", "BINANCE_FUTURES-AKROUSDT", "BINANCE_FUTURES-KEEPUSDT",
             "BINANCE_FUTURES-CTKUSDT"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.parquet" for n in names)
    streams = json.loads(report.read_text())["streams"]
    assert list(streams) == names
    sushi = streams["BINANCE_FUTURES-SUSHIUSDT"]
    assert (sushi["rows"], sushi["stale"], sushi["gaps"], sushi["duplicates"], sushi["reordered"]) == (253, 3, 0, 0, 0)
    assert sushi["stream"] == "cryptofeed/BINANCE_FUTURES-SUSHIUSDT/2021-07-22"
    book = pl.read_parquet(out / "BINANCE_FUTURES-SUSHIUSDT.parquet")
    assert book.height == 253 and book["book_valid"].all()


def test_symbol_selects_one_stream_and_out_is_its_parquet(tmp_path):
    out, report = tmp_path / "xmr.parquet", tmp_path / "report.json"
    assert main(["replay", "--format", "cryptofeed", str(KRAKEN), "--symbol", "XMR/USD", "--levels", "10",
                 "--out", str(out), "--report", str(report)]) == 0
    r = json.loads(report.read_text())
    assert (r["rows"], r["checksum_ok"], r["checksum_failed"], r["resyncs"]) == (847, 846, 0, 0)
    assert pl.read_parquet(out).height == 847


def test_bad_input_exits_2_naming_file_line_and_reason(tmp_path, capsys):
    ws_path, rest_path = binance_files("BINANCE")
    ws = lines(ws_path)
    i = next(k for k, t in enumerate(ws) if '"nknusdt@depth@100ms"' in t)
    ws[i] = ws[i].replace('"0.35130000"', '"0.35x30000"')
    faulty = write_capture(tmp_path, ws_path, ws)
    assert main(["replay", "--format", "cryptofeed", str(faulty), str(rest_path), "--symbol", "NKNUSDT",
                 "--out", str(tmp_path / "b.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"obrecon: error: {faulty.resolve()}, row {i + 1}: price '0.35x30000' is not a decimal number"
    assert not (tmp_path / "b.parquet").exists()
