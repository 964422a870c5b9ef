"""The Huffman codes of the simulator's gzip files, and the deflate block header that sends them.

The text is digits, ``,``, ``.``, ``-`` and newlines, so one dynamic-Huffman block (RFC 1951,
3.2.7) with codes made for it (a digit in 4 bits instead of the fixed code's 8) carries a whole
file. The codes are Huffman codes (3.2.2, canonical) of designed symbol weights, the same for every
file: no statistics are gathered, so the bytes depend only on the text.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

END_OF_BLOCK = 256
LENGTH_SYMBOLS = range(257, 286)  #: match lengths 3..258
DISTANCE_CODES = 30
#: the order in which the code-length code's lengths are sent (RFC 1951, 3.2.7)
CODE_LENGTH_ORDER = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)


def _literal_weights() -> list[int]:
    w = [0] * 286
    for c in b"0123456789":
        w[c] = 100
    w[ord(",")] = 110
    w[ord(".")] = w[ord("\n")] = 12
    w[ord("-")] = 4
    w[END_OF_BLOCK] = 1
    for s in LENGTH_SYMBOLS:  # short copies (message fields) and 258-byte runs (orderbook rows)
        w[s] = 8 if s < 269 else 3
    w[285] = 12
    return w


def _distance_weights() -> list[int]:
    # copies reach back one row: ~20-60 bytes in the message file (codes 9-11), one orderbook row
    # (~50 bytes a level) in the other (codes 12-19)
    return [12 if 9 <= c <= 19 else 1 for c in range(DISTANCE_CODES)]


def huffman_lengths(weights: list[int], limit: int) -> list[int]:
    """Code length of every symbol (0 for weight 0), ties broken by symbol number."""
    heap = [(w, s, (s,)) for s, w in enumerate(weights) if w > 0]
    heapq.heapify(heap)
    lengths = [0] * len(weights)
    while len(heap) > 1:
        w1, k1, a = heapq.heappop(heap)
        w2, k2, b = heapq.heappop(heap)
        for s in a + b:
            lengths[s] += 1
        heapq.heappush(heap, (w1 + w2, min(k1, k2), a + b))
    if max(lengths) > limit:
        raise ValueError(f"a code of {max(lengths)} bits exceeds deflate's {limit}")
    return lengths


def canonical_codes(lengths: list[int]) -> list[int]:
    """RFC 1951, 3.2.2: codes of each length are consecutive, in symbol order."""
    count = [0] * (max(lengths) + 2)
    for n in lengths:
        count[n] += 1
    count[0] = 0
    code, first = 0, [0] * len(count)
    for n in range(1, len(count)):
        code = (code + count[n - 1]) << 1
        first[n] = code
    out = []
    for n in lengths:
        out.append(first[n] if n else 0)
        if n:
            first[n] += 1
    return out


def reverse(code: int, n: int) -> int:
    """A Huffman code as deflate packs it: first bit lowest."""
    return int(f"{code:0{n}b}"[::-1], 2) if n else 0


def _run_lengths(seq: list[int]) -> list[tuple[int, int, int]]:
    """The code lengths as code-length symbols: (symbol, extra value, extra bits)."""
    out, i = [], 0
    while i < len(seq):
        n = 1
        while i + n < len(seq) and seq[i + n] == seq[i]:
            n += 1
        v, left = seq[i], n
        if v == 0:
            while left >= 11:
                k = min(left, 138)
                out.append((18, k - 11, 7))
                left -= k
            if left >= 3:
                out.append((17, left - 3, 3))
                left = 0
        else:
            out.append((v, 0, 0))
            left -= 1
            while left >= 3:
                k = min(left, 6)
                out.append((16, k - 3, 2))
                left -= k
        out += [(v, 0, 0)] * left
        i += n
    return out


def block_header(literal_lengths: list[int], distance_lengths: list[int]) -> list[tuple[int, int]]:
    """The bits that open the stream's one block: (value, bits), in order."""
    rle = _run_lengths(literal_lengths + distance_lengths)
    cl_weights = [0] * 19
    for sym, _, _ in rle:
        cl_weights[sym] += 1
    cl_lengths = huffman_lengths(cl_weights, 7)
    cl_codes = canonical_codes(cl_lengths)
    hclen = max(4, max(k for k, s in enumerate(CODE_LENGTH_ORDER) if cl_lengths[s]) + 1)
    bits = [(1, 1), (2, 2)]  # BFINAL, BTYPE = 10: dynamic Huffman codes
    bits += [(len(literal_lengths) - 257, 5), (len(distance_lengths) - 1, 5), (hclen - 4, 4)]
    bits += [(cl_lengths[CODE_LENGTH_ORDER[k]], 3) for k in range(hclen)]
    for sym, extra, n in rle:
        bits.append((reverse(cl_codes[sym], cl_lengths[sym]), cl_lengths[sym]))
        if n:
            bits.append((extra, n))
    return bits


@dataclass(frozen=True)
class DeflateCodes:
    literal_lengths: list[int]  #: symbols 0..285
    literal_codes: list[int]  #: bit-reversed
    distance_lengths: list[int]  #: codes 0..29
    distance_codes: list[int]  #: bit-reversed
    header: list[tuple[int, int]]


def deflate_codes() -> DeflateCodes:
    lit = huffman_lengths(_literal_weights(), 15)
    dist = huffman_lengths(_distance_weights(), 15)
    return DeflateCodes(
        literal_lengths=lit,
        literal_codes=[reverse(c, n) for c, n in zip(canonical_codes(lit), lit)],
        distance_lengths=dist,
        distance_codes=[reverse(c, n) for c, n in zip(canonical_codes(dist), dist)],
        header=block_header(lit, dist),
    )


CODES = deflate_codes()
