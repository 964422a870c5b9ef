"""The gzip files' Huffman codes: RFC 1951's own example, complete codes, the header's runs."""

from __future__ import annotations

import zlib

import pytest

from obrecon_pipeline.simulate.huffman import (
    CODES, _run_lengths, block_header, canonical_codes, huffman_lengths, reverse,
)


def test_canonical_codes_rfc1951_example():
    # RFC 1951, 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) for A..H
    assert canonical_codes([3, 3, 3, 3, 3, 2, 4, 4]) == [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111]
    assert canonical_codes([2, 0, 1]) == [0b10, 0, 0b0]


def test_huffman_lengths():
    assert huffman_lengths([5, 1, 1, 2, 0], 15) == [1, 3, 3, 2, 0]
    with pytest.raises(ValueError, match="exceeds"):
        huffman_lengths([1, 1, 2, 3, 5, 8, 13], 4)  # Fibonacci weights: a 6-bit code


def test_reverse():
    assert reverse(0b110, 3) == 0b011 and reverse(0b1, 4) == 0b1000 and reverse(0, 0) == 0


def test_codes_are_complete_and_cover_the_text():
    for lengths in (CODES.literal_lengths, CODES.distance_lengths):
        assert sum(2.0 ** -n for n in lengths if n) == 1.0  # zlib refuses incomplete codes
    text = set(b"0123456789,.-\n")
    assert {s for s in range(256) if CODES.literal_lengths[s]} == text
    assert all(CODES.literal_lengths[256:286])  # end of block and every match length
    assert len(CODES.distance_lengths) == 30 and all(CODES.distance_lengths)


def test_run_lengths():
    assert _run_lengths([0] * 140 + [4] * 8 + [0, 0, 5]) == [
        (18, 127, 7), (0, 0, 0), (0, 0, 0), (4, 0, 0), (16, 3, 2), (4, 0, 0), (0, 0, 0), (0, 0, 0), (5, 0, 0)]


def test_header_opens_a_stream_zlib_reads():
    """The header followed by the end-of-block code: an empty, valid deflate stream."""
    bits = block_header(CODES.literal_lengths, CODES.distance_lengths)
    bits.append((CODES.literal_codes[256], CODES.literal_lengths[256]))
    acc = n = 0
    for value, k in bits:
        acc |= value << n
        n += k
    assert zlib.decompress(acc.to_bytes((n + 7) // 8, "little"), -15) == b""
