"""LOBSTER text from binary rows: times, signs, widths, the orderbook's row-to-row reuse, and the
deflate streams the writers produce alongside (inflated by zlib)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from obrecon_pipeline.simulate._csv import BookText, MessageText

EMPTY_ASK, EMPTY_BID = 9_999_999_999, -9_999_999_999


def message_text(rows: list[list[int]]) -> str:
    block = np.array(rows, dtype=np.int64)
    return bytes(MessageText(len(rows)).format(block, len(rows))).decode()


def formatted(writer, blocks: list[np.ndarray]) -> tuple[bytes, bytes]:
    """(text, inflated deflate stream) of ``blocks`` written one after the other."""
    text, packed = [], []
    for block in blocks:
        text.append(bytes(writer.format(np.ascontiguousarray(block), len(block))))
        packed.append(bytes(writer.packed))
    packed.append(writer.finish())
    return b"".join(text), zlib.decompress(b"".join(packed), -15)


def test_message_rows():
    rows = [
        [34_200_004_241_176, 1, 7, 100, 5_794_000, 1],  # 9 decimals
        [34_200_500_000_000, 3, 123_456_789_012, 1, 10_000, -1],  # trailing zeros dropped, as LOBSTER does
        [34_201_000_000_000, 5, 0, 5_000, 9_999_999_999, -1],  # a whole second: no decimals
        [57_599_000_000_001, 2, 2**63 - 1, 99, 1, 1],
    ]
    assert message_text(rows) == (
        "34200.004241176,1,7,100,5794000,1\n"
        "34200.5,3,123456789012,1,10000,-1\n"
        "34201,5,0,5000,9999999999,-1\n"
        "57599.000000001,2,9223372036854775807,99,1,1\n"
    )


def test_message_deflate():
    rng = np.random.default_rng(1)
    n = 3_000
    rows = np.empty((n, 6), dtype=np.int64)
    rows[:, 0] = 34_200 * 10**9 + np.sort(rng.integers(0, 23_400 * 10**9, n))
    rows[::3, 0] = rows[1::3, 0][: len(rows[::3])]  # repeated time stamps
    rows[:, 1] = rng.integers(1, 6, n)
    rows[:, 2] = rng.integers(0, 10**6, n)
    rows[:, 3] = rng.choice([1, 100, 200], n)
    rows[:, 4] = rng.choice([995_700, 995_800], n)
    rows[:, 5] = rng.choice([1, -1], n)
    rows[100:200] = rows[99]  # a run of identical rows: copies longer than 258 bytes, across rows
    text, inflated = formatted(MessageText(n, gzip=True), np.array_split(rows, 4))
    assert inflated == text == message_text(rows.tolist()).encode()


def test_plain_writers_have_no_stream():
    with pytest.raises(ValueError, match="not a gzip writer"):
        MessageText(10).finish()


def book_text(rows: list[list[int]], levels: int, chunks: int = 1) -> str:
    """The rows formatted in ``chunks`` calls (the text of a row reuses the previous row's)."""
    fmt = BookText(levels, len(rows))
    out = []
    for part in np.array_split(np.array(rows, dtype=np.int64), chunks):
        out.append(bytes(fmt.format(np.ascontiguousarray(part), len(part))).decode())
    return "".join(out)


def plain(rows: list[list[int]]) -> str:
    return "".join(",".join(map(str, r)) + "\n" for r in rows)


def test_book_rows_with_shifting_levels():
    a = [5_000_100, 300, 5_000_000, 200, 5_000_200, 100, 4_999_900, 700, EMPTY_ASK, 0, EMPTY_BID, 0]
    rows = [
        a,
        a,  # unchanged
        a[:4] + [5_000_200, 150] + a[6:],  # one size
        # a new best bid shifts the bid side down one level
        [5_000_100, 300, 5_000_050, 10, 5_000_200, 150, 5_000_000, 200, EMPTY_ASK, 0, 4_999_900, 700],
        # ... and its removal shifts it back up
        [5_000_100, 300, 5_000_000, 200, 5_000_200, 150, 4_999_900, 700, EMPTY_ASK, 0, EMPTY_BID, 0],
        # the best ask leaves: the ask side moves up two slots' worth
        [5_000_200, 150, 5_000_000, 200, EMPTY_ASK, 0, 4_999_900, 700, EMPTY_ASK, 0, EMPTY_BID, 0],
    ]
    expected = plain(rows)
    assert expected.splitlines()[3] == "5000100,300,5000050,10,5000200,150,5000000,200,9999999999,0,4999900,700"
    assert book_text(rows, 3) == expected
    assert book_text(rows, 3, chunks=3) == expected
    text, inflated = formatted(BookText(3, len(rows), gzip=True), np.array_split(np.array(rows), 2))
    assert inflated == text == expected.encode()


def test_book_rows_random():
    """Few distinct values, so that pairs recur at every level and offset."""
    rng = np.random.default_rng(5)
    rows = np.empty((400, 16), dtype=np.int64)
    rows[:, 0::2] = rng.integers(0, 3, size=(400, 8)) + 5_000_000
    rows[:, 1::2] = rng.integers(0, 3, size=(400, 8)) * 100
    rows[::7, 0] = EMPTY_BID
    assert book_text(rows.tolist(), 4, chunks=5) == plain(rows.tolist())
    text, inflated = formatted(BookText(4, 400, gzip=True), np.array_split(rows, 5))
    assert inflated == text == plain(rows.tolist()).encode()


def test_book_deflate_beyond_the_window():
    """Rows longer than deflate's 32 KiB window: the row before is out of reach, so literals."""
    levels = 1_500
    rng = np.random.default_rng(2)
    rows = rng.integers(1, 10**9, size=(4, 4 * levels))
    rows[2] = rows[1]
    text, inflated = formatted(BookText(levels, 4, gzip=True), [rows[:3], rows[3:]])
    assert len(text) > 4 * 32_768
    assert inflated == text == plain(rows.tolist()).encode()
