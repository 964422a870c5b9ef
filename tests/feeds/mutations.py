"""Mutations of real shipped files for the parsers' fuzz tests: bytes flipped, inserted or
deleted, lines duplicated or dropped, the file truncated (hypothesis strategies, derandomized so
every run tries the same examples)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BYTE_KINDS = ("flip", "insert", "delete", "truncate")
LINE_KINDS = ("duplicate_line", "drop_line")

#: fixed examples, no example database, bounded: each parser's fuzz test stays well under a minute
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def mutations(lines: bool = True, near_start: float = 0.0, max_size: int = 3) -> st.SearchStrategy:
    """Lists of ``(kind, where in [0, 1), junk bytes)``; ``near_start``: also aim at the first
    fraction of the file (headers, metadata, first snapshot), where one byte matters most."""
    where = st.floats(0, 1, exclude_max=True)
    if near_start:
        where = st.one_of(st.floats(0, near_start, exclude_max=True), where)
    kinds = BYTE_KINDS + (LINE_KINDS if lines else ())
    one = st.tuples(st.sampled_from(kinds), where, st.binary(min_size=1, max_size=3))
    return st.lists(one, min_size=1, max_size=max_size)


def mutate(data: bytes, how: str, where: float, junk: bytes) -> bytes:
    """``data`` with one mutation at fraction ``where`` (a flip XORs a non-zero byte)."""
    at = int(where * len(data))
    if not data:
        return junk if how == "insert" else data
    if how == "flip":
        return data[:at] + bytes([data[at] ^ (junk[0] or 1)]) + data[at + 1:]
    if how == "insert":
        return data[:at] + junk + data[at:]
    if how == "delete":
        return data[:at] + data[at + len(junk):]
    if how == "truncate":
        return data[:at]
    lines = data.split(b"\n")
    k = int(where * len(lines))
    kept = lines[:k + 1] + lines[k:] if how == "duplicate_line" else lines[:k] + lines[k + 1:]
    return b"\n".join(kept)


def apply_all(data: bytes, changes: list[tuple[str, float, bytes]]) -> bytes:
    for how, where, junk in changes:
        data = mutate(data, how, where, junk)
    return data


def lines_lost(original: bytes, mutated: bytes) -> int:
    """Original lines that are not in the mutated file as they were (a multiset difference): the
    most lines a mutation may have spoiled."""
    from collections import Counter

    return sum((Counter(original.split(b"\n")) - Counter(mutated.split(b"\n"))).values())
