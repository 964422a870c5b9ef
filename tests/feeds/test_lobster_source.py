"""LOBSTER read in chunks (``Feed.open``): chunks equal the whole day, resume, blocks, and bad input
that must be located or counted (issue 11), on the shipped files mutated in ``tmp_path``."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.events import EVENT_SCHEMA
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.feeds._blocks import LineSpans, MappedSpans, RawBlocks, line_spans
from obrecon_pipeline.feeds.lobster import LobsterSource, MessageFile, load_files, open_stream
from obrecon_pipeline.streams import Stream
from tests.conftest import LOBSTER_DAY

AAPL10 = "AAPL_2012-06-21_34200000_57600000_{}_10.csv"
GOOG1 = "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip"
MIDNIGHT = 1_340_251_200_000_000_000  # 2012-06-21 00:00 New York (EDT) in UTC epoch ns


@pytest.fixture(scope="module")
def aapl():
    """The AAPL level-10 cut whole (999 events): the answer every chunked read must give."""
    return load_files(LOBSTER_DAY / (AAPL10.format("message") + ".gz"))


def rows(lobster_day: Path, kind: str) -> list[bytes]:
    """The shipped AAPL file's lines, each ending in a newline (the shipped files end without one)."""
    text = gzip.decompress((lobster_day / (AAPL10.format(kind) + ".gz")).read_bytes())
    return [line + b"\n" for line in text.splitlines()]


def write_day(tmp_path: Path, messages: list[bytes], book: list[bytes] | None, gz=(False, False)) -> Path:
    """The AAPL pair written into ``tmp_path`` (each file plain or gzipped); the message file."""
    out = None
    for kind, lines, zipped in (("message", messages, gz[0]), ("orderbook", book, gz[1])):
        if lines is None:
            continue
        path = tmp_path / (AAPL10.format(kind) + (".gz" if zipped else ""))
        data = b"".join(lines)
        path.write_bytes(gzip.compress(data) if zipped else data)
        out = path if kind == "message" else out
    return out


def source(path: Path, reference=True, **kw) -> LobsterSource:
    mf = MessageFile(path)
    return LobsterSource(Stream("lobster", "AAPL-L10", mf.date, (path,)), mf, reference, **kw)


def joined(src: LobsterSource, max_events: int) -> tuple[pl.DataFrame, np.ndarray | None, list[int]]:
    chunks = list(src.chunks(max_events))
    refs = [c.reference for c in chunks]
    ref = None if refs[0] is None else np.concatenate(refs)
    return pl.concat([c.events for c in chunks]), ref, [c.events.height for c in chunks]


def located(path, call) -> InputError:
    with pytest.raises(InputError) as err:
        call()
    assert err.value.path == str(path)
    return err.value


# ------------------------------------------------------------------------------ chunks and state


@pytest.mark.parametrize("max_events", [1, 7, 4096])
def test_chunks_equal_the_whole_day(lobster_day, aapl, max_events):
    src = get_feed("lobster").open(Stream("lobster", "AAPL-L10", "2012-06-21", (lobster_day / (AAPL10.format("message") + ".gz"),)), True)
    assert np.array_equal(src.seed, aapl.reference[0]) and src.reference_depth == 10
    events, ref, sizes = joined(src, max_events)
    assert sizes == [max_events] * (999 // max_events) + ([999 % max_events] if 999 % max_events else [])
    assert events.equals(aapl.events) and np.array_equal(ref, aapl.reference)
    assert dict(events.schema) == EVENT_SCHEMA and events["participant"].null_count() == 999
    assert src.stats() == {"time_regressions": 0, "first_time_regression": None, "times_rounded_to_ns": 0}


@pytest.mark.parametrize("block_size", [7, 64, 1000])
def test_rows_split_across_blocks(lobster_day, aapl, tmp_path, block_size):
    path = write_day(tmp_path, rows(lobster_day, "message"), rows(lobster_day, "orderbook"), gz=(True, False))
    events, ref, _ = joined(source(path, block_size=block_size), 100)
    assert events.equals(aapl.events) and np.array_equal(ref, aapl.reference)


def spans_of(spans, step: int) -> tuple[list[bytes], list[int]]:
    """Every span's bytes, taken ``step`` bytes at a time (at most up to the span's end, as a
    parser stopping at its capacity would), and the position after each."""
    parts, positions = [], []
    while (span := spans.span()) is not None:
        buf, start, end = span
        stop = min(start + step, end)
        parts.append(bytes(buf[start:stop]))
        spans.advance(stop)
        positions.append(spans.position)
    return parts, positions


@pytest.mark.parametrize("window", [7, 64, 1 << 20])
@pytest.mark.parametrize("final_newline", [True, False])
def test_mapped_file_gives_the_spans_read_blocks_give(lobster_day, tmp_path, window, final_newline):
    data = gzip.decompress((lobster_day / (AAPL10.format("orderbook") + ".gz")).read_bytes()).rstrip(b"\n")
    data += b"\n" if final_newline else b""  # (the shipped file ends without one)
    path = tmp_path / AAPL10.format("orderbook")
    path.write_bytes(data)
    mapped = line_spans(RawBlocks(path, block_size=window), lambda: 0)
    assert isinstance(mapped, MappedSpans)
    got, at = spans_of(mapped, 1000)
    want, _ = spans_of(LineSpans(RawBlocks(path, block_size=window), lambda: 0), 1000)
    assert b"".join(got) == b"".join(want) == data + (b"" if final_newline else b"\n")
    assert at[-1] == len(data)  # (the blocks count the newline added to a last line without one)
    resumed = RawBlocks(path, block_size=window)
    resumed.skip(at[len(at) // 2])
    rest, _ = spans_of(line_spans(resumed, lambda: 0), 1000)
    assert b"".join(rest) == (data + (b"" if final_newline else b"\n"))[at[len(at) // 2]:]


def test_an_empty_or_compressed_file_is_read_in_blocks(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    gz = tmp_path / "rows.csv.gz"
    gz.write_bytes(gzip.compress(b"1,2\n3,4\n"))
    assert isinstance(line_spans(RawBlocks(empty), lambda: 0), LineSpans)
    spans = line_spans(RawBlocks(gz), lambda: 0)
    assert isinstance(spans, LineSpans) and spans_of(spans, 100)[0] == [b"1,2\n3,4\n"]


@pytest.mark.parametrize("kind", ["plain", "gzip", "zip"])
def test_resume_yields_the_rest_exactly(lobster_day, tmp_path, kind):
    if kind == "zip":
        path = tmp_path / GOOG1
        shutil.copy(lobster_day / GOOG1, path)
    else:
        path = write_day(tmp_path, rows(lobster_day, "message"), rows(lobster_day, "orderbook"),
                         gz=(kind == "gzip", kind == "gzip"))
    full = source(path)
    whole, ref, _ = joined(full, 300)
    first = source(path)
    it = first.chunks(300)
    next(it), next(it)
    state = first.state()
    again = source(path)
    again.resume(state)
    rest, rest_ref, _ = joined(again, 300)
    assert rest.equals(whole.slice(600)) and np.array_equal(rest_ref, ref[600:])
    assert rest["arrival"][0] == 600 and again.stats() == full.stats()


def test_no_reference_never_reads_the_orderbook_beyond_row_0(lobster_day, aapl, tmp_path):
    book = rows(lobster_day, "orderbook")
    book[5] = b"not,a,book,row\n"
    path = write_day(tmp_path, rows(lobster_day, "message"), book)
    src = source(path, reference=False)
    events, ref, _ = joined(src, 100)
    assert ref is None and src.reference_depth == 0 and np.array_equal(src.seed, aapl.reference[0])
    assert events.equals(aapl.events)
    err = located(path.with_name(AAPL10.format("orderbook")), lambda: joined(source(path), 100))
    assert (err.row, err.reason) == (6, "expected 40 comma-separated fields, found 4")


def test_row_count_mismatch_is_located_in_either_direction(lobster_day, tmp_path):
    msgs, book = rows(lobster_day, "message"), rows(lobster_day, "orderbook")
    path = write_day(tmp_path, msgs, book[:990])
    err = located(path.with_name(AAPL10.format("orderbook")), lambda: joined(source(path), 100))
    assert (err.row, err.reason) == (991, "orderbook file has 990 rows but the message file has 999")
    path = write_day(tmp_path, msgs, book + book[:3])
    err = located(path.with_name(AAPL10.format("orderbook")), lambda: joined(source(path), 100))
    assert (err.row, err.reason) == (1000, "orderbook file has 1002 rows but the message file has 999")


# --------------------------------------------------------------------------- issue 11: bad input


def mutated(lobster_day: Path, tmp_path: Path, row: int, text: bytes) -> Path:
    """The AAPL pair with message ``row`` (1-based) replaced by ``text``."""
    msgs = rows(lobster_day, "message")
    msgs[row - 1] = text + b"\n"
    return write_day(tmp_path, msgs, rows(lobster_day, "orderbook"))


@pytest.mark.parametrize(
    "text,reason",
    [
        (b"34714.0,1,-5,100,5850000,1", "order_id -5 is negative (order ids are unsigned)"),
        (b"34714.0,1,18446744073709551616,100,5850000,1", "order_id 18446744073709551616 is beyond 2**64 - 1"),
        (b"90000.5,1,5,100,5850000,1", "time 90000.5 is beyond the day (seconds after midnight must be below 86400)"),
        (b"99999999999999,1,5,100,5850000,1", "time 99999999999999 is beyond the day (seconds after midnight must be below 86400)"),
        (b"34714.0,1,5,100,9223372036854775807,1",
         "price 9223372036854775807 on a book message is at or above the empty-ask sentinel 9999999999"),
        (b"34714.0,3,5,100,9999999999,-1", "price 9999999999 on a book message is at or above the empty-ask sentinel 9999999999"),
        (b"34714.0,1,5,100,9223372036854775808,1", "price '9223372036854775808' is beyond the 64-bit integer range"),
        (b"34714.0,1,5,100,5850000,1,null", "expected 6 comma-separated fields, found 7"),
    ],
)
def test_bad_values_are_located(lobster_day, tmp_path, text, reason):
    path = mutated(lobster_day, tmp_path, 500, text)
    err = located(path, lambda: load_files(path))
    assert (err.row, err.reason) == (500, reason)


def test_order_id_up_to_2_64_is_accepted(lobster_day, aapl, tmp_path):
    path = mutated(lobster_day, tmp_path, 500, b"34714.0,1,9223372036854775808,100,5850000,1")
    events = load_files(path).events
    assert events["order_id"][499] == 2**63
    path = mutated(lobster_day, tmp_path, 500, b"34714.0,1,18446744073709551615,100,5850000,1")
    assert load_files(path).events["order_id"][499] == 2**64 - 1


def test_a_file_name_whose_date_is_not_a_date(tmp_path, lobster_day):
    path = tmp_path / AAPL10.format("message").replace("2012-06-21", "2012-13-45")
    path.write_bytes(b"".join(rows(lobster_day, "message")))
    err = located(path, lambda: load_files(path))
    assert (err.row, err.reason) == (None, "the date '2012-13-45' in the file name is not a calendar date")


def test_time_going_backwards_is_counted_and_located(lobster_day, aapl, tmp_path):
    msgs = rows(lobster_day, "message")
    times = [line.split(b",")[0] for line in msgs]
    msgs[499] = b"34200.5" + msgs[499][len(times[499]):]
    msgs[700] = b"34200.25" + msgs[700][len(times[700]):]
    loaded = load_files(write_day(tmp_path, msgs, rows(lobster_day, "orderbook")))
    ts = aapl.events["ts_event"]
    assert loaded.stats["time_regressions"] == 2  # rows 500 and 701 (the rows after them go forward)
    assert loaded.stats["first_time_regression"] == {
        "src_row": 500, "previous_ts_event": ts[498], "ts_event": MIDNIGHT + 34_200_500_000_000}


def test_times_beyond_nine_decimals_are_rounded_half_even_and_counted(lobster_day, tmp_path):
    msgs = rows(lobster_day, "message")
    noisy = [b"43002.632812672004", b"43002.6328126725", b"43002.6328126735", b"43002.63281267250001",
             b"43002.6328126720000"]
    for k, t in enumerate(noisy):
        msgs[k] = t + msgs[k][msgs[k].index(b","):]
    loaded = load_files(write_day(tmp_path, msgs, rows(lobster_day, "orderbook")))
    assert (loaded.events["ts_event"][:5] - MIDNIGHT - 43_002_000_000_000).to_list() == [
        632_812_672, 632_812_672, 632_812_674, 632_812_673, 632_812_672]
    assert loaded.stats["times_rounded_to_ns"] == 4  # the last one only had zeros beyond the ninth


def test_multi_member_gzip_is_read_whole(lobster_day, aapl, tmp_path):
    msgs = rows(lobster_day, "message")
    path = tmp_path / (AAPL10.format("message") + ".gz")
    path.write_bytes(gzip.compress(b"".join(msgs[:400])) + gzip.compress(b"".join(msgs[400:])))
    (tmp_path / AAPL10.format("orderbook")).write_bytes(b"".join(rows(lobster_day, "orderbook")))
    loaded = load_files(path)
    assert loaded.events.equals(aapl.events) and np.array_equal(loaded.reference, aapl.reference)


@pytest.mark.parametrize("gz", [(True, False), (False, True)])
def test_one_file_compressed_and_one_not_are_found(lobster_day, aapl, tmp_path, gz):
    path = write_day(tmp_path, rows(lobster_day, "message"), rows(lobster_day, "orderbook"), gz=gz)
    loaded = load_files(path)
    assert loaded.events.equals(aapl.events) and np.array_equal(loaded.reference, aapl.reference)


def test_participant_column_of_newer_files(lobster_day, aapl, tmp_path):
    msgs = [line.rstrip(b"\n") + (b",MSCO\n" if k % 100 == 0 else b",null\n") for k, line in enumerate(rows(lobster_day, "message"))]
    loaded = load_files(write_day(tmp_path, msgs, rows(lobster_day, "orderbook")))
    participant = loaded.events["participant"]
    assert participant.null_count() == 989 and participant.drop_nulls().to_list() == ["MSCO"] * 10
    assert participant[0] == participant[100] == "MSCO"
    assert loaded.events.drop("participant").equals(aapl.events.drop("participant"))
    msgs[3] = msgs[3].replace(b",null", b",MS-CO")
    path = write_day(tmp_path, msgs, rows(lobster_day, "orderbook"))
    err = located(path, lambda: load_files(path))
    assert (err.row, err.reason) == (4, "participant 'MS-CO' is neither null nor a market participant id (1-8 letters/digits)")
    msgs[3] = b"34200.5,1,5,100,5850000,1\n"
    err = located(path, lambda: load_files(write_day(tmp_path, msgs, rows(lobster_day, "orderbook"))))
    assert (err.row, err.reason) == (4, "expected 7 comma-separated fields, found 6")


def test_without_orderbook_file_replays_from_an_empty_book(lobster_day, aapl, tmp_path):
    """Files sold without the orderbook file: no seed and no reference, whatever is asked; the
    reason is kept for a caller that must re-seed (``run_stream`` raises it then)."""
    path = write_day(tmp_path, rows(lobster_day, "message"), None)
    stream = Stream("lobster", "AAPL-L10", "2012-06-21", (path,))
    for reference in (False, True):
        src = open_stream(stream, reference=reference)
        assert src.seed is None and src.reference_depth == 0
        assert src.options.strict_orders is False and src.options.unseen_orders_in_book is False
        assert src.reference_missing.reason.startswith("no sibling orderbook file")
        events, ref, _ = joined(src, 4096)
        assert ref is None and events.equals(aapl.events)
    assert open_stream(Stream("lobster", "AAPL-L10", "2012-06-21", (lobster_day / (AAPL10.format("message") + ".gz"),)),
                       reference=False).reference_missing is None
    err = located(path, lambda: load_files(path))
    assert err.reason.startswith("no sibling orderbook file")


def test_zip_member_streamed(lobster_day, tmp_path):
    path = tmp_path / GOOG1
    shutil.copy(lobster_day / GOOG1, path)
    events, ref, sizes = joined(source(path), 20_000)
    assert sizes == [20_000, 20_000, 9_482] and ref.shape == (49_482, 4)
    assert events["src_row"][-1] == 49_482
