"""``obrecon replay`` from the shell's point of view: outputs, report keys, errors, atomic writes;
``obrecon catalog``: its output and exit codes."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from obrecon_pipeline.book_schema import book_schema
from obrecon_pipeline.cli import main
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.report import CONTRACT_KEYS
from tests.conftest import RAW

AAPL10 = "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"


def test_replay_writes_book_and_report(lobster_day, tmp_path):
    out, report = tmp_path / "book.parquet", tmp_path / "report.json"
    rc = main(["replay", "--format", "lobster", str(lobster_day / AAPL10), "--levels", "5",
               "--out", str(out), "--report", str(report)])
    assert rc == 0
    book = pl.read_parquet(out)
    assert dict(book.schema) == book_schema(5)
    assert book.height == 999
    data = json.loads(report.read_text())
    assert set(CONTRACT_KEYS) <= set(data)
    assert (data["events"], data["rows"], data["unknown_cells"], data["gaps"]) == (999, 999, 0, 0)
    assert data["reference"]["cells_matched"] == data["reference"]["cells_compared"] == 999 * 5 * 4


def test_no_reference_writes_nulls_not_guesses(lobster_day, tmp_path):
    out, report = tmp_path / "book.parquet", tmp_path / "report.json"
    assert main(["replay", "--format", "lobster", str(lobster_day / AAPL10), "--out", str(out),
                 "--report", str(report), "--no-reference"]) == 0
    data = json.loads(report.read_text())
    assert data["reseeds"] == 0 and data["unknown_cells"] == 27_114
    assert data["reference"]["cells_matched"] == data["reference"]["cells_compared"]


def test_bad_input_exits_2_with_one_line_and_keeps_previous_output(lobster_day, tmp_path):
    out = tmp_path / "book.parquet"
    assert main(["replay", "--format", "lobster", str(lobster_day / AAPL10), "--out", str(out)]) == 0
    before = out.read_bytes()
    bad = tmp_path / "XYZ_2012-06-21_34200000_57600000_message_1.csv"
    bad.write_text("34200.1,1,5,100,5000000,1\n34200.2,1,6,100,5000000\n")
    (tmp_path / "XYZ_2012-06-21_34200000_57600000_orderbook_1.csv").write_text("5001000,100,5000000,100\n" * 2)
    proc = subprocess.run(
        [sys.executable, "-m", "obrecon_pipeline.cli", "replay", "--format", "lobster", str(bad), "--out", str(out)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"obrecon: error: {bad}, row 2: expected 6 comma-separated fields, found 5"
    assert out.read_bytes() == before  # the failed run left the previous book intact
    assert not list(tmp_path.glob(".book.parquet.*"))  # and no temporary file behind


def test_zip_and_explicit_orderbook_paths(lobster_day, tmp_path):
    shutil.copy(lobster_day / AAPL10, tmp_path / AAPL10)
    orderbook = tmp_path / "elsewhere.csv.gz"
    shutil.copy(lobster_day / AAPL10.replace("message", "orderbook"), orderbook)
    out = tmp_path / "book.parquet"
    assert main(["replay", "--format", "lobster", str(tmp_path / AAPL10), str(orderbook), "--levels", "2", "--out", str(out)]) == 0
    assert pl.read_parquet(out).height == 999


def test_unknown_format_is_rejected(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["replay", "--format", "nope", "x", "--out", str(tmp_path / "b.parquet")])
    assert exc.value.code == 2


def test_tardis_snapshot_reference_lands_in_the_report(tmp_path):
    """A book_snapshot file given with the incremental file is compared by timestamp in report.json
    (the snapshot is the hand-derived one documented in tests/fixtures/tardis/README.md)."""
    fixtures = Path(__file__).resolve().parent / "fixtures" / "tardis"
    report = tmp_path / "report.json"
    assert main(["replay", "--format", "tardis", str(fixtures / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"),
                 str(fixtures / "handwritten" / "tardis_deribit_book_snapshot_25_BTC-PERPETUAL.csv"),
                 "--levels", "25", "--out", str(tmp_path / "book.parquet"), "--report", str(report)]) == 0
    (entry,) = json.loads(report.read_text())["snapshot_reference"]
    assert (entry["compared_rows"], entry["levels_compared"], entry["cells_compared"]) == (1, 25, 100)
    assert entry["cells_matched"] == 100 and entry["first_mismatch_src_row"] is None


# ------------------------------------------------------------------ outputs that cannot be written

def _replay(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "obrecon_pipeline.cli", "replay", *args], capture_output=True, text=True)


@pytest.mark.parametrize("flag,where,reason", [
    ("--out", "dir", "is a directory; one stream is written to one Parquet file"),
    ("--out", "file/book.parquet", "{tmp}/file is a file, not a directory"),
    ("--out", "file/deeper/book.parquet", "{tmp}/file is a file, not a directory"),
    ("--report", "dir", "is a directory; it must name a file"),
    ("--report", "file/report.json", "{tmp}/file is a file, not a directory"),
])
def test_an_output_that_cannot_be_written_is_a_located_error_before_any_work(lobster_day, tmp_path, flag, where, reason):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    paths = {"--out": tmp_path / "book.parquet", "--report": tmp_path / "report.json", flag: tmp_path / where}
    proc = _replay("--format", "lobster", str(lobster_day / AAPL10), "--out", str(paths["--out"]),
                   "--report", str(paths["--report"]))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"obrecon: error: {flag} {paths[flag]}: {reason.format(tmp=tmp_path)}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"]  # nothing written


OKCOIN = RAW / "cryptofeed" / "2023-05-27" / "OKCOIN.ws.1.0.gz"
OKCOIN_STREAMS = ["OKCOIN-USDC-USDT", "OKCOIN-USDT-USD", "OKCOIN-BTC-USD", "OKCOIN-ETH-USD"]


def test_several_streams_are_written_all_or_none(tmp_path):
    """A bad 4th stream of 4 leaves the three before it and the old report.json as they were."""
    capture = tmp_path / OKCOIN.name
    shutil.copy(OKCOIN, capture)
    out, report = tmp_path / "books", tmp_path / "report.json"
    assert main(["replay", "--format", "cryptofeed", str(capture), "--out", str(out), "--report", str(report)]) == 0
    assert list(json.loads(report.read_text())["streams"]) == OKCOIN_STREAMS
    before = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert sorted(before) == sorted(f"{s}.parquet" for s in OKCOIN_STREAMS)
    old_report = report.read_bytes()

    lines = gzip.decompress(capture.read_bytes()).split(b"\n")
    row = next(k for k, line in enumerate(lines, 1) if b'"books","instId":"ETH-USD"},"action":"snapshot"' in line)
    lines[row - 1] = lines[row - 1].replace(b'[["1900.36"', b'[["1900.3x"', 1)
    capture.write_bytes(gzip.compress(b"\n".join(lines)))
    # the bad line belongs to the 4th stream only: the files still hold the same 4 streams
    assert [s.name for s in get_feed("cryptofeed").streams_in([capture])] == OKCOIN_STREAMS
    proc = _replay("--format", "cryptofeed", str(capture), "--out", str(out), "--report", str(report))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"obrecon: error: {capture}, row {row}: price '1900.3x' is not a decimal number"
    assert {p.name: p.read_bytes() for p in sorted(out.iterdir())} == before  # no staging folder left either
    assert report.read_bytes() == old_report


def test_several_streams_never_turn_a_parquet_file_name_into_a_directory(tmp_path):
    out = tmp_path / "book.parquet"
    proc = _replay("--format", "cryptofeed", str(OKCOIN), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"obrecon: error: --out {out}: the files hold 4 streams ({', '.join(OKCOIN_STREAMS)}); pick one with "
        "--symbol, or give --out a directory for one Parquet file per stream")
    assert not out.exists()
    assert main(["replay", "--format", "cryptofeed", str(OKCOIN), "--symbol", "BTC-USD", "--out", str(out)]) == 0
    assert pl.read_parquet(out).height > 0


def test_a_flipped_databento_byte_that_makes_two_streams_is_refused_not_a_directory(tmp_path):
    """A file whose symbology does not map instrument ids (stype_out raw_symbol: metadata byte 59)
    names its streams by instrument id; one flipped instrument_id bit then makes a second stream.
    ``--out book.parquet`` is refused with both names (before: silently a directory); ``--symbol``
    replays the real one."""
    import numpy as np
    from obrecon_pipeline.feeds.dbn import MBO_DTYPE, read_body

    body = bytearray(read_body(RAW / "databento" / "2023-12-25" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"))
    body[59] ^= 1  # stype_out instrument_id -> raw_symbol
    (meta_len,) = struct.unpack_from("<I", body, 4)
    records = np.frombuffer(body, MBO_DTYPE, offset=8 + meta_len).copy()
    records["instrument_id"][30_000] ^= 0x0100  # 17077 -> 17333
    path = tmp_path / "esh4.mbo.dbn"
    path.write_bytes(bytes(body[: 8 + meta_len]) + records.tobytes())
    out, report = tmp_path / "book.parquet", tmp_path / "report.json"
    proc = _replay("--format", "databento", str(path), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"obrecon: error: --out {out}: the files hold 2 streams (17077, 17333); pick one "
                                   "with --symbol, or give --out a directory for one Parquet file per stream")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["esh4.mbo.dbn"]
    assert main(["replay", "--format", "databento", str(path), "--symbol", "17077", "--out", str(out),
                 "--report", str(report)]) == 0
    assert json.loads(report.read_text())["events"] == 68_791


def test_a_message_file_without_its_orderbook_file(lobster_day, tmp_path):
    """Refused when the replay must seed and re-seed from it; with --no-reference replayed from an
    empty book: the 9 deletions of orders resting before the file are counted unknown ids and
    change no level (before: refused; with --reference ignore, 2 negative sizes made every later
    row invalid)."""
    msg = tmp_path / AAPL10.removesuffix(".gz")
    msg.write_bytes(gzip.decompress((lobster_day / AAPL10).read_bytes()))
    out, report = tmp_path / "book.parquet", tmp_path / "report.json"
    proc = _replay("--format", "lobster", str(msg), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"obrecon: error: {msg}: no sibling orderbook file (…_orderbook_L.csv) found; LOBSTER days start with resting "
        "orders, so the replay needs it to seed the book (--no-reference replays the file from an empty book)")
    for flags in (["--no-reference"], ["--reference", "ignore"]):
        assert main(["replay", "--format", "lobster", str(msg), "--out", str(out), "--report", str(report), *flags]) == 0
        data = json.loads(report.read_text())
        assert (data["events"], data["rows"], data["reseeds"], data["reference"]) == (999, 999, 0, None)
        assert (data["unknown_order_ids"], data["integrity_errors"], data["crossed_rows"]) == (9, 0, 0)
        assert pl.read_parquet(out)["book_valid"].all()
def test_catalog_refresh_list_verify(tmp_path, capsys):
    shutil.copytree(RAW / "tardis", tmp_path / "raw" / "tardis")
    root = ["--root", str(tmp_path)]
    assert main(["catalog", "refresh", *root]) == 0
    summary, stale = capsys.readouterr().out.splitlines()
    assert summary.startswith("5 files (5 new, 0 changed, 0 touched, 0 removed; 5 read, 5 hashed); "
                              "1 stream-days (1 new or changed, 0 gone) in ")
    assert summary.endswith(f"catalog {tmp_path / '.obrecon' / 'catalog'}")
    assert stale == "stale tardis/deribit-BTC-PERPETUAL/2020-04-01"
    csv = tmp_path / "raw" / "tardis" / "2020-04-01" / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"
    version = hashlib.sha256(f"{csv.name} {hashlib.sha256(csv.read_bytes()).hexdigest()}\n".encode()).hexdigest()
    assert main(["catalog", "list", *root]) == 0
    assert capsys.readouterr().out == f"tardis/deribit-BTC-PERPETUAL/2020-04-01\t1 files\t{version[:16]}\n"
    assert main(["catalog", "list", "--files", "--day", "2020-04-01", *root]) == 0
    assert [line.split("\t")[::3] for line in capsys.readouterr().out.splitlines()] == [
        ["tardis/2020-04-01/README.md", ""], [f"tardis/2020-04-01/{csv.name}", "deribit-BTC-PERPETUAL"]]
    assert main(["catalog", "verify", *root]) == 0

    before, st = csv.read_bytes(), csv.stat()
    csv.write_bytes(before.replace(b"BTC-PERPETUAL", b"BTC-PERPETUEL", 1))
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns))  # a refresh cannot see this; verify does
    capsys.readouterr()
    assert main(["catalog", "verify", *root]) == 1
    found = hashlib.sha256(csv.read_bytes()).hexdigest()
    assert capsys.readouterr().out == (f"tardis/2020-04-01/{csv.name}: catalogued sha256 "
                                       f"{hashlib.sha256(before).hexdigest()[:16]}, found {found[:16]}\n")
    assert main(["catalog", "verify", "--update", *root]) == 1
    assert main(["catalog", "verify", *root]) == 0


def test_catalog_without_a_landing_zone_exits_2(tmp_path, capsys):
    assert main(["catalog", "list", "--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"obrecon: error: {tmp_path / 'raw'}: no landing zone there\n"
