"""Databento MBO (DBN) path on the real ESH4 day of 2023-12-25: decoding, replay, integrity, bad input."""

from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace

import databento_dbn
import numpy as np
import polars as pl
import pytest

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import Action, Flag
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.feeds.databento import discover, from_files, load
from obrecon_pipeline.feeds.dbn import MBO_DTYPE, read_body, read_dbn
from obrecon_pipeline.integrity.crossed import classify_crossed
from obrecon_pipeline.report import integrity_summary
from obrecon_pipeline.replay import replay
from tests.conftest import RAW

DAY_DIR = RAW / "databento" / "2023-12-25"
ESH4 = DAY_DIR / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
LEVELS = 10


def ns(text: str) -> int:
    return int(np.datetime64(text, "ns").astype(np.int64))


@pytest.fixture(scope="module")
def esh4():
    loaded = load(discover(DAY_DIR, "2023-12-25")[0])
    result = replay(loaded.events, LEVELS, loaded.options)
    report = integrity_summary(result.counters, result.integrity)
    return loaded, result, report, classify_crossed(result.book, loaded.events)


def plain_dbn(tmp_path: Path, mutate=None, name: str = "x.mbo.dbn", head: bytes | None = None) -> Path:
    """The ESH4 file decompressed to a plain ``.dbn``, its records optionally changed by ``mutate``
    (``head``: other metadata)."""
    body = read_body(ESH4)
    (meta_len,) = struct.unpack_from("<I", body, 4)
    head = head or body[: 8 + meta_len]
    records = np.frombuffer(body, MBO_DTYPE, offset=8 + meta_len).copy()
    if mutate is not None:
        records = mutate(records)
    path = tmp_path / name
    path.write_bytes(head + records.tobytes())
    return path


# ------------------------------------------------------------------------------------ discovery


def test_registered_feed_discovers_one_stream_per_instrument():
    feed = get_feed("databento")
    (stream,) = feed.discover(DAY_DIR, "2023-12-25")
    assert (stream.partition_key, stream.symbol, stream.files) == ("databento/ESH4/2023-12-25", "ESH4", (ESH4,))
    assert from_files([ESH4]) == [stream]


def test_metadata_and_records_of_the_dbn_v1_file():
    dbn = read_dbn(ESH4)
    assert dbn.version == 1
    assert dbn.records.shape == (68_792,)
    assert dbn.instrument_symbols() == {17077: "ESH4"}


def test_dbn_v3_metadata_reads_the_same_records(tmp_path):
    v1 = read_dbn(ESH4)
    encoded = v1.metadata.encode()  # databento-dbn writes the current version (3)
    path = tmp_path / "esh4-v3.mbo.dbn"
    path.write_bytes(encoded + v1.records.tobytes())
    v3 = read_dbn(path)
    assert (encoded[:4], v3.version) == (b"DBN\x03", 3)
    assert np.array_equal(v3.records, v1.records) and v3.instrument_symbols() == {17077: "ESH4"}


# ----------------------------------------------------------------------------------- normalize


def test_normalized_events(esh4):
    loaded, *_ = esh4
    ev = loaded.events
    assert loaded.options.emit == "message" and loaded.options.strict_orders
    assert ev.height == 68_792
    counts = dict(ev.group_by("action").len().iter_rows())
    assert counts == {Action.ADD: 29_216, Action.CANCEL: 17_999, Action.MODIFY: 12_233, Action.TRADE: 2_973, Action.FILL: 6_371}
    assert ev.filter((pl.col("flags") & Flag.SNAPSHOT) > 0).height == 8_725
    assert ev.filter((pl.col("flags") & Flag.END_OF_MESSAGE) > 0).height == 47_022
    assert ev.filter((pl.col("flags") & Flag.BAD_BOOK) > 0).height == 0
    assert (ev["price_scale"].unique().to_list(), ev["size_scale"].unique().to_list()) == ([10**9], [1])
    first = ev.row(0, named=True)
    assert (first["src_row"], first["order_id"], first["price"], first["size"], first["update_id"]) == (
        1, 6412777162812, 4_799_000_000_000, 2, 682
    )
    assert (first["ts_event"], first["ts_recv"]) == (ns("2023-12-24T13:00:05.243925307"), ns("2023-12-25T00:00:00"))
    # the opening trade print (aggressor side N: the auction) is kept as a trade
    opening = ev.filter(pl.col("src_row") == 9651).row(0, named=True)
    assert (opening["action"], opening["side"], opening["price"], opening["size"]) == (Action.TRADE, 0, 4_800_250_000_000, 44)


def test_sequence_skips_are_information_not_failures(esh4):
    loaded, *_ = esh4
    s = loaded.stats
    assert s["sequence_skips"] == 3_667
    assert s["sequence_numbers_skipped"] == 11_855
    assert s["sequence_largest_skip"] == 4_169  # snapshot high-water 787 -> first live record 4957
    assert s["sequence_regressions"] == 0 and s["sequence_regression_list"] == []
    assert (s["snapshot_records"], s["bad_ts_recv_records"], s["venue_maybe_bad_book"]) == (8_725, 8_725, 0)


# -------------------------------------------------------------------------------------- replay


def test_replay_rows_integrity_and_final_book(esh4):
    loaded, result, report, _ = esh4
    c = result.counters
    assert (c["events"], c["rows"], c["integrity_errors"], c["invalid_rows"], c["unknown_order_ids"]) == (
        68_792, 47_022, 0, 0, 0
    )
    assert report["integrity_failure_events"] == 0 and report["integrity_failure_list"] == []
    assert result.book["book_valid"].all()
    last = result.book.row(-1, named=True)
    assert (last["ts_event"], last["seq"], last["update_id"]) == (ns("2023-12-25T23:59:59.446724905"), 68_791, 59_585)
    top5 = [
        (last[f"bid_price_{i}"], last[f"bid_size_{i}"], last[f"ask_price_{i}"], last[f"ask_size_{i}"])
        for i in range(1, 6)
    ]
    assert top5 == [
        (4810.00, 22.0, 4810.25, 28.0),
        (4809.75, 47.0, 4810.50, 40.0),
        (4809.50, 50.0, 4810.75, 41.0),
        (4809.25, 60.0, 4811.00, 60.0),
        (4809.00, 85.0, 4811.25, 65.0),
    ]
    # integer cells: prices stay 1e-9 fixed point until the output table
    assert result.cells[-1, :4].tolist() == [4_810_000_000_000, 22, 4_810_250_000_000, 28]


def test_crossed_rows_are_the_pre_open_only(esh4):
    _, result, report, crossed = esh4
    assert result.counters["crossed_rows"] == 891
    assert (report["crossed_rows_classified"], report["crossed_rows_pre_open"], report["crossed_rows_continuous"]) == (
        891, 891, 0
    )
    assert (report["crossed_episodes"], report["crossed_episodes_pre_open"], report["locked_rows"]) == (1, 1, 0)
    (ep,) = crossed.episodes.to_dicts()
    assert ep == {
        "episode": 0,
        "kind": "pre_open",
        "rows": 891,
        "first_seq": 8_759,
        "last_seq": 9_649,
        "end_seq": 9_713,
        "first_ts": ns("2023-12-25T22:39:55.216798489"),
        "last_ts": ns("2023-12-25T22:59:59.999703903"),
        "trades_while_crossed": 0,
        "trades_at_uncross": 36,
    }
    # every crossed row is located
    assert crossed.rows["seq"].is_between(8_759, 9_649).all() and crossed.rows.height == 891
    # 23:00 UTC open: the next book after the cross is uncrossed, at the opening auction
    after = result.book.filter(pl.col("seq") == 9_713).row(0, named=True)
    assert after["ts_event"] == ns("2023-12-25T23:00:00") and after["bid_price_1"] < after["ask_price_1"]


# ------------------------------------------------------------------------- several instruments


def metadata_listing(symbols: dict[str, int]) -> bytes:
    """The ESH4 file's metadata with symbology mappings for ``symbols`` (raw symbol -> id)."""
    meta = read_dbn(ESH4).metadata
    interval = meta.mappings["ESH4"][0]

    def mapping(raw, iid):
        return SimpleNamespace(raw_symbol=raw, intervals=[SimpleNamespace(**{**interval, "symbol": str(iid)})])

    return databento_dbn.Metadata(
        dataset=meta.dataset, start=meta.start, end=meta.end, stype_in=meta.stype_in, stype_out=meta.stype_out,
        schema=meta.schema, symbols=list(symbols), mappings=[mapping(r, i) for r, i in symbols.items()],
    ).encode()


def add_second(records):
    other = records.copy()
    other["instrument_id"] = 4242
    both = np.empty(2 * len(records), dtype=records.dtype)
    both[0::2], both[1::2] = records, other  # interleaved, as a multi-instrument file is
    return both


def test_two_instruments_in_one_file_are_separate_streams(tmp_path, esh4):
    loaded, result, *_ = esh4
    path = plain_dbn(tmp_path, add_second, head=metadata_listing({"ESH4": 17077, "ESM4": 4242}))
    streams = discover(tmp_path, "2023-12-25")
    assert [(s.name, s.files) for s in streams] == [("ESH4", (path,)), ("ESM4", (path,))]
    for stream in streams:
        one = load(stream)
        assert one.events.drop("src_row").equals(loaded.events.drop("src_row"))
        assert one.stats["unlisted_instrument_records"] == 0 and one.quarantine.height == 0
        first = 1 if stream.name == "ESH4" else 2
        assert one.events["src_row"].to_list()[:3] == [first, first + 2, first + 4]
    other = replay(load(streams[1]).events, LEVELS, loaded.options)
    assert np.array_equal(other.cells, result.cells)


def test_an_instrument_the_symbology_does_not_list_is_quarantined_not_a_stream(tmp_path, esh4):
    loaded, *_ = esh4

    def flip(records):
        records["instrument_id"][30_000] ^= 0x0100  # one flipped bit: 17077 -> 17333
        return records

    path = plain_dbn(tmp_path, flip)
    (stream,) = discover(tmp_path, "2023-12-25")
    assert stream.name == "ESH4"
    one = load(stream)
    assert one.events.height == 68_791 and one.stats["unlisted_instrument_records"] == 1
    assert one.quarantine.rows() == [(str(path), 30_001, "instrument_id 17333 is not in the file's symbology mappings")]
    assert one.stats["quarantine_first"] == f"{path}, row 30001: instrument_id 17333 is not in the file's symbology mappings"
    assert one.events["src_row"][30_000] == 30_002  # rows keep their place in the file


# --------------------------------------------------------------------------- integrity failures


@pytest.mark.parametrize("how", ["behind", "ahead"])
def test_one_out_of_place_sequence_number_is_located_and_the_book_stays_valid(tmp_path, esh4, how):
    """One number written too low, or too high (before: every later record was a regression), is
    one located regression; the number it replaced is one more number skipped; the book is the
    same and valid throughout."""
    shipped, whole, *_ = esh4
    sequence = read_dbn(ESH4).records["sequence"].astype(np.int64)
    wrong = sequence[19_990] - 1 if how == "behind" else sequence[20_000] + 10**9

    def misplace(records):
        records["sequence"][20_000] = wrong
        return records

    loaded = load(from_files([plain_dbn(tmp_path, misplace)])[0])
    clean = shipped.stats
    assert loaded.stats["sequence_regressions"] == 1
    assert loaded.stats["sequence_skips"] == clean["sequence_skips"] + 1
    assert loaded.stats["sequence_numbers_skipped"] == clean["sequence_numbers_skipped"] + 1
    (where,) = loaded.stats["sequence_regression_list"]
    row = loaded.events.row(20_000, named=True)
    assert where == {
        "arrival": 20_000, "src_row": 20_001, "ts_event": row["ts_event"],
        "update_id": int(wrong), "high_water": int(sequence[:20_000].max()),
    }
    assert not row["flags"] & Flag.BAD_BOOK
    result = replay(loaded.events, LEVELS, loaded.options)
    report = integrity_summary(result.counters, result.integrity)
    assert report["integrity_failure_events"] == 0 and result.book["book_valid"].all()
    assert np.array_equal(result.cells, whole.cells)  # the out-of-place number changes no book


def test_cancel_of_an_unknown_order_is_located(tmp_path):
    dbn = read_dbn(ESH4)
    live_add = 8_729  # 0-based: the add of order 6412777264952 at 22:08:26, cancelled by the next record

    def drop_add(records):
        return np.delete(records, live_add)

    loaded = load(from_files([plain_dbn(tmp_path, drop_add)])[0])
    result = replay(loaded.events, LEVELS, loaded.options)
    report = integrity_summary(result.counters, result.integrity)
    (failure,) = report["integrity_failure_list"]
    cancel = dbn.records[live_add + 1]
    assert (failure["kind"], failure["src_row"], failure["update_id"], failure["ts_event"]) == (
        "unknown_order_id", live_add + 1, int(cancel["sequence"]), int(cancel["ts_event"])
    )
    assert report["integrity_unknown_order_id"] == 1 and result.counters["integrity_errors"] >= 1
    assert not result.book.filter(pl.col("seq") >= live_add)["book_valid"].any()


def test_venue_maybe_bad_book_flag_is_a_failure(tmp_path):
    def flag(records):
        records["flags"][30_000] |= databento_dbn.F_MAYBE_BAD_BOOK
        return records

    loaded = load(from_files([plain_dbn(tmp_path, flag)])[0])
    assert loaded.stats["venue_maybe_bad_book"] == 1
    result = replay(loaded.events, LEVELS, loaded.options)
    report = integrity_summary(result.counters, result.integrity)
    assert [(f["kind"], f["src_row"]) for f in report["integrity_failure_list"]] == [("venue_bad_book", 30_001)]


# ---------------------------------------------------------------------------------- bad input


def test_truncated_zst_is_an_input_error(tmp_path):
    path = tmp_path / "cut.mbo.dbn.zst"
    path.write_bytes(ESH4.read_bytes()[:500_000])
    with pytest.raises(InputError) as err:
        read_dbn(path)
    assert err.value.path == str(path) and err.value.row is None
    assert err.value.reason == "cannot decompress zstd stream: Truncated compressed stream"


def test_wrong_magic_is_an_input_error(tmp_path):
    path = tmp_path / "fake.dbn"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(InputError, match=r"fake\.dbn: not a DBN file: starts with b'PK\\x03\\x04', expected b'DBN'"):
        read_dbn(path)


def test_truncated_record_names_the_record(tmp_path):
    path = plain_dbn(tmp_path)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(InputError) as err:
        read_dbn(path)
    assert (err.value.row, err.value.reason) == (68_792, "truncated record: 36 of 56 bytes at the end of the file")


def test_unknown_action_names_the_record(tmp_path):
    def corrupt(records):
        records["action"][5] = b"X"
        return records

    with pytest.raises(InputError) as err:
        read_dbn(plain_dbn(tmp_path, corrupt))
    assert (err.value.row, err.value.reason) == (6, "unknown action b'X'")


def test_a_broken_file_still_becomes_a_stream_that_fails_on_load(tmp_path):
    (tmp_path / "broken.mbo.dbn.zst").write_bytes(ESH4.read_bytes()[:1000])
    (stream,) = discover(tmp_path, "2023-12-25")
    assert stream.name == "broken"
    with pytest.raises(InputError, match="broken.mbo.dbn.zst: cannot decompress zstd stream"):
        load(stream)


def _head(flip_at: int, bits: int) -> bytes:
    """The ESH4 file's preamble + metadata with one byte flipped (offsets in the decompressed file)."""
    body = read_body(ESH4)
    (meta_len,) = struct.unpack_from("<I", body, 4)
    head = bytearray(body[: 8 + meta_len])
    head[flip_at] ^= bits
    return bytes(head)


@pytest.mark.parametrize("flip_at,bits,reason", [
    (33, 0x80, "metadata start 10926834436854775808 is not a time (ns since the epoch, below 2**63)"),
    (154, 0x01, "symbology mapping 'ESH4\\x01' is not a printable symbol"),
    (184, 0x01, "no instrument with records (17077) is in the file's symbology mappings (7077)"),
])
def test_one_flipped_metadata_byte_is_a_located_error(tmp_path, flip_at, bits, reason):
    """Bytes the DBN decoder accepts but that cannot be right: an overflowing start time (a
    traceback before), a symbol with a control character, a mapping to an id no record has."""
    path = plain_dbn(tmp_path, head=_head(flip_at, bits))
    with pytest.raises(InputError) as err:
        for stream in from_files([path]):
            list(get_feed("databento").open(stream, True).chunks(1 << 16))
    assert (err.value.path, err.value.row, err.value.reason) == (str(path), None, reason)
